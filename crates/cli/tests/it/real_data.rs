//! The real coroners' reports in ../shared/data, on both backends: every
//! distinct report survives import and export, the overdue answers agree
//! with the file (see overdue.rs), a second source fills the reports in
//! either order, and the toolkit's replies join them.

use crate::common;

use std::collections::BTreeSet;

use common::*;

fn report_urls(csv_path: &std::path::Path) -> BTreeSet<String> {
    // The report_url column is the 7th; read with a real CSV parser since
    // fields span lines. Normalised the way the register keys them.
    let text = std::fs::read_to_string(csv_path).unwrap();
    let mut urls = BTreeSet::new();
    let mut field = String::new();
    let mut row: Vec<String> = Vec::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut first = true;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                // The file's one blank row has no address: it is no report.
                if !first && !row[6].trim().is_empty() {
                    urls.insert(row[6].trim().trim_end_matches('/').to_string());
                }
                first = false;
                row.clear();
            }
            (_, '\r') if !quoted => {}
            (_, c) => field.push(c),
        }
    }
    urls
}

/// The register exported to `name` in its folder, as JSON records.
fn export_json(db: &Db, name: &str) -> Vec<serde_json::Value> {
    let path = db.dir.path().join(name);
    ok(db, &["export", "--out", path.to_str().unwrap()]);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The texts of exported records, by report address.
fn texts_by_report(all: &[serde_json::Value]) -> std::collections::BTreeMap<String, String> {
    all.iter()
        .map(|r| {
            (
                r["import_key"].as_str().unwrap_or_default().to_string(),
                r["text"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Every check on the judiciary file and the toolkit's files, which are
/// slow to import unoptimised: each backend imports the judiciary file once
/// for all of them (and once more after the road-traffic file, for the
/// other order), and the two backends run side by side.
#[test]
fn judiciary_reports_survive_and_a_second_source_fills_them_in_either_order() {
    let Some(data) = shared_data() else { return };
    let csv = data.join("pfd/judiciary-reports.csv");
    let expected = report_urls(&csv);
    assert_eq!(
        expected.len(),
        4973,
        "distinct report URLs in the file (4,974 rows, one blank)"
    );
    std::thread::scope(|s| {
        let running: Vec<_> = backends()
            .into_iter()
            .map(|db| {
                let (data, expected) = (&data, &expected);
                s.spawn(move || {
                    let forward = judiciary_then_road(&db, data, expected);
                    road_then_judiciary(&fresh_like(&db), data, &forward);
                })
            })
            .collect();
        for backend in running {
            if let Err(panic) = backend.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// The judiciary file into an empty register: every distinct report
/// survives import and export, the overdue answers agree with the file,
/// then the road-traffic file fills the reports in, and last the toolkit's
/// replies join them. Returns the texts by report before the replies.
fn judiciary_then_road(
    db: &Db,
    data: &std::path::Path,
    expected: &BTreeSet<String>,
) -> std::collections::BTreeMap<String, String> {
    let judiciary = data.join("pfd/judiciary-reports.csv");
    let road = data.join("pfd/toolkit-road-traffic.csv");
    let (j, r) = (judiciary.to_str().unwrap(), road.to_str().unwrap());
    let out = ok(db, &["import", j]);
    assert!(
        out.contains("imported 4973, enriched 0, skipped 1, rejected 0 (1 blank row(s) skipped)"),
        "{}: {out}",
        db.name
    );
    crate::overdue::real_pfd_reports_overdue_as_of_the_last_report_date(db, &judiciary);
    let again = ok(db, &["import", j]);
    assert!(
        again.contains("imported 0, enriched 0, skipped 4974"),
        "{}: {again}",
        db.name
    );
    let all = export_json(db, "all.json");
    assert_eq!(all.len(), 4973, "{}", db.name);
    let found: BTreeSet<String> = all
        .iter()
        .map(|r| {
            r["source"]["url"]
                .as_str()
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string()
        })
        .collect();
    let missing: Vec<_> = expected.difference(&found).take(5).collect();
    assert!(
        missing.is_empty(),
        "{}: reports missing after export: {missing:?}",
        db.name
    );
    let ids: BTreeSet<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 4973, "ids are distinct");
    // A report's answer is due 56 days after it.
    let with_date = all
        .iter()
        .find(|r| r["published"].is_string() && r["response_deadline"].is_string())
        .unwrap();
    let p = chrono::NaiveDate::parse_from_str(with_date["published"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap();
    let d = chrono::NaiveDate::parse_from_str(
        with_date["response_deadline"].as_str().unwrap(),
        "%Y-%m-%d",
    )
    .unwrap();
    assert_eq!((d - p).num_days(), 56);

    // The second source.
    let out = ok(db, &["import", "--partial", r]);
    assert!(
        out.contains("imported 97, enriched 442, skipped 0, rejected 0"),
        "{}: {out}",
        db.name
    );
    // Nothing twice: both files again add nothing.
    let again = ok(db, &["import", "--partial", r]);
    assert!(
        again.contains("imported 0, enriched 0, skipped 539"),
        "{}: {again}",
        db.name
    );
    let again = ok(db, &["import", j]);
    assert!(
        again.contains("imported 0, enriched 0, skipped 4974"),
        "{}: {again}",
        db.name
    );
    let all = export_json(db, "forward.json");
    let forward = texts_by_report(&all);
    assert_eq!(
        forward.len(),
        4973 + 97,
        "{}: no report lost or doubled",
        db.name
    );
    let placeholder = "(No concerns text was published with this report.)";
    let road_keys: Vec<String> = all
        .iter()
        .filter(|r| {
            r["provenance"]["parts"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|o| o["part"] == "text" && o["from"] == "pfd_toolkit")
            }) && r["provenance"]["parts"].as_array().is_some_and(|p| {
                p.iter()
                    .any(|o| o["part"] == "reference" && o["from"] == "pfd_judiciary")
            })
        })
        .map(|r| r["import_key"].as_str().unwrap().to_string())
        .collect();
    assert!(
        road_keys.len() >= 393,
        "{}: judiciary reports given the toolkit's text: {}",
        db.name,
        road_keys.len()
    );
    assert!(road_keys.iter().all(|k| forward[k] != placeholder));
    // Addressees linked to an organisation: every name that names a body
    // (the placeholder for unpublished addressees and bare posts aside).
    let named: Vec<&serde_json::Value> = all
        .iter()
        .flat_map(|r| r["addressees"].as_array().unwrap().iter())
        .filter(|a| a["name"] != "(addressee not published)")
        .collect();
    let linked = named.iter().filter(|a| a["org"].is_string()).count();
    assert!(
        linked * 100 >= named.len() * 95,
        "{}: {linked} of {} named addressee entries linked",
        db.name,
        named.len()
    );
    // The toolkit's sample of reports and their replies join them: three
    // of its reports came with the road-traffic file, and every reply finds
    // its report.
    let reports = data.join("pfd/toolkit-reports-sample.csv");
    let replies = data.join("pfd/toolkit-responses-sample.csv");
    let (reports, replies) = (reports.to_str().unwrap(), replies.to_str().unwrap());
    let out = ok(db, &["import", "--partial", reports, replies]);
    assert!(
        out.contains(
            "imported 25, enriched 0, skipped 3, rejected 0; responses attached 48, already present 0"
        ),
        "{}: {out}",
        db.name
    );
    let again = ok(db, &["import", reports, replies]);
    assert!(
        again.contains(
            "imported 0, enriched 0, skipped 28, rejected 0; responses attached 0, already present 48"
        ),
        "{}: {again}",
        db.name
    );
    forward
}

/// The other order, into an empty register: the same reports with the
/// same texts.
fn road_then_judiciary(
    db: &Db,
    data: &std::path::Path,
    forward: &std::collections::BTreeMap<String, String>,
) {
    let judiciary = data.join("pfd/judiciary-reports.csv");
    let road = data.join("pfd/toolkit-road-traffic.csv");
    ok(db, &["import", "--partial", road.to_str().unwrap()]);
    let out = ok(db, &["import", judiciary.to_str().unwrap()]);
    assert!(
        out.contains("imported 4531, enriched 442, skipped 1, rejected 0"),
        "{}: {out}",
        db.name
    );
    let reverse = texts_by_report(&export_json(db, "reverse.json"));
    assert_eq!(reverse.len(), forward.len(), "{}", db.name);
    let differ: Vec<&String> = forward
        .iter()
        .filter(|(k, t)| reverse.get(*k) != Some(t))
        .map(|(k, _)| k)
        .take(5)
        .collect();
    assert!(
        differ.is_empty(),
        "{}: texts differ by order: {differ:?}",
        db.name
    );
}
