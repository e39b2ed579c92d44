//! On the real judiciary PFD concerns: the largest groups of near-identical
//! concerns (printed for docs/similarity.md). Needs ../shared/data: fails
//! loudly when CI=true and it is missing, otherwise says it did not run.

use concord_similar::{Doc, Index, Viewer};

#[test]
fn largest_groups_of_near_identical_pfd_concerns() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/pfd/judiciary-reports.csv"
    );
    let Ok(bytes) = std::fs::read(path) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but {path} is missing: the real-data tests must run in CI");
        }
        println!("NOT RUN: {path} is missing");
        return;
    };
    let mut rdr = csv::Reader::from_reader(&bytes[..]);
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let (r, c) = (col("ref"), col("concerns"));
    let mut rows: Vec<(String, String)> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.unwrap();
        rows.push((format!("{}#{i}", &rec[r]), rec[c].to_string()));
    }
    let mut ix = Index::new();
    for (id, text) in &rows {
        ix.upsert(&Doc {
            id,
            text,
            ..Default::default()
        });
    }
    let groups = ix.duplicate_groups(&Viewer::All, true);
    println!(
        "{} rows, {} indexed, {} groups",
        rows.len(),
        ix.len(),
        groups.len()
    );
    for g in groups.iter().take(10) {
        println!(
            "GROUP {} score {:.2}: {}",
            g.ids.len(),
            g.score,
            g.ids.join(" ")
        );
        for id in g.ids.iter().take(3) {
            let t = &rows.iter().find(|(i, _)| i == id).unwrap().1;
            let t: String = t.split_whitespace().collect::<Vec<_>>().join(" ");
            println!("   {id}: {}", t.chars().take(260).collect::<String>());
        }
    }
    assert!(
        ix.len() > 400,
        "the concerns with words beyond the boilerplate are indexed"
    );
}
