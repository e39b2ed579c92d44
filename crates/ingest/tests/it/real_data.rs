//! Reads the real PFD files in place from `../shared/data` (beside the
//! workspace; never copied into the repository).
//!
//! When the folder is missing the tests say so and pass, except on CI
//! (`CI=true`), where they fail: CI is given the data and must use it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use concord_domain::{
    IdRequest, OrgCode, OrganisationDirectory, Recommendation, RecommendationId, seed_organisations,
};
use concord_ingest::{Format, Parsed, Vocabulary, generate, parse};

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "real-data tests cannot run: {} not found, and CI must run them",
            dir.display()
        );
    }
    println!("real-data tests did not run: ../shared/data not found");
    None
}

fn dir() -> OrganisationDirectory {
    OrganisationDirectory::new(&seed_organisations())
}

fn read(path: &Path, format: Format) -> (Parsed, std::time::Duration) {
    let bytes = std::fs::read(path).unwrap();
    let t = Instant::now();
    let parsed = parse(
        path,
        &bytes,
        format,
        &dir(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
    )
    .unwrap();
    (parsed, t.elapsed())
}

/// Settles ids as the store does: a preferred id if free, else the next
/// number from the floor; an allocation from the floor.
fn settle(parsed: &Parsed) -> Vec<Recommendation> {
    let mut taken: HashSet<RecommendationId> = HashSet::new();
    let mut next: HashMap<(OrgCode, u16), u32> = HashMap::new();
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut alloc = |issuer: &OrgCode, year: u16, floor: u32, taken: &mut HashSet<_>| {
        let n = next.entry((issuer.clone(), year)).or_insert(floor);
        loop {
            let id = RecommendationId::new(issuer.clone(), year, (*n).max(floor)).unwrap();
            *n = id.seq + 1;
            if taken.insert(id.clone()) {
                return id;
            }
        }
    };
    parsed
        .records
        .iter()
        .map(|r| {
            let id = match &r.new.id {
                IdRequest::Exact(id) => {
                    assert!(taken.insert(id.clone()));
                    id.clone()
                }
                IdRequest::Preferred { id, fallback_floor } => {
                    if taken.insert(id.clone()) {
                        id.clone()
                    } else {
                        alloc(&id.issuer, id.year, *fallback_floor, &mut taken)
                    }
                }
                IdRequest::Allocate {
                    issuer,
                    year,
                    floor,
                } => alloc(issuer, *year, *floor, &mut taken),
            };
            r.new.clone().into_recommendation(id, now).unwrap()
        })
        .collect()
}

fn exact_ids(parsed: Parsed) -> Vec<Recommendation> {
    settle(&parsed)
}

#[test]
fn judiciary_reports_all_survive() {
    let Some(data) = data_dir() else { return };
    let path = data.join("pfd/judiciary-reports.csv");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(
        concord_ingest::detect(&path, &bytes[..4096]).unwrap(),
        Format::PfdJudiciary
    );
    let (parsed, took) = read(&path, Format::PfdJudiciary);
    println!(
        "parsed {} in {took:?}: {} records, {} rejected",
        path.display(),
        parsed.records.len(),
        parsed.rejected.len()
    );

    // Every row of the file, with Python-free bookkeeping via the csv crate.
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let header = rdr.headers().unwrap().clone();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let c_url = col("report_url");
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4974);

    // Every row with anything in it is a record: even the judiciary's
    // category pages (no reference, date or PDF) are kept, to be put right
    // by hand. Only the one row with every column empty is not.
    let is_blank = |r: &csv::StringRecord| r.iter().all(|c| c.trim().is_empty());
    let reports = rows.iter().filter(|r| !is_blank(r)).count();
    assert_eq!(reports, 4973);
    assert_eq!(parsed.records.len(), reports);
    assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
    assert_eq!(parsed.blank_rows, vec![4974]);
    let is_report = |r: &csv::StringRecord| !is_blank(r);

    // Every report_url of a report is there, under its own import key.
    let keys: HashSet<&str> = parsed
        .records
        .iter()
        .map(|r| r.new.import_key.as_deref().unwrap())
        .collect();
    assert_eq!(keys.len(), parsed.records.len(), "import keys are distinct");
    for r in rows.iter().filter(|r| is_report(r)) {
        let url = r[c_url].trim_end_matches('/').to_ascii_lowercase();
        assert!(
            keys.iter()
                .any(|k| k.to_ascii_lowercase() == format!("pfd:{url}")),
            "{url}"
        );
    }

    let preferred = parsed
        .records
        .iter()
        .filter(|r| matches!(r.new.id, IdRequest::Preferred { .. }))
        .count();
    let allocated = parsed
        .records
        .iter()
        .filter(|r| matches!(r.new.id, IdRequest::Allocate { .. }))
        .count();
    println!(
        "ids: {preferred} preferred (judiciary ref), {allocated} allocated from the fallback floor"
    );
    assert_eq!(preferred + allocated, parsed.records.len());

    // Settled as the store would, no two reports share an id.
    let recs = settle(&parsed);
    let ids: HashSet<_> = recs.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), recs.len());
    let fallback = recs
        .iter()
        .filter(|r| r.id.seq >= concord_domain::PFD_FALLBACK_FLOOR)
        .count();
    println!(
        "after settling: {} with the judiciary number, {fallback} at or above {}",
        recs.len() - fallback,
        concord_domain::PFD_FALLBACK_FLOOR
    );

    for r in recs.iter().step_by(500) {
        println!("{}  {}", r.id, r.data.title);
    }

    // Shape checks.
    let with_replies = recs
        .iter()
        .filter(|r| r.data.addressees.iter().any(|a| !a.responses.is_empty()))
        .count();
    assert!(with_replies > 2900, "{with_replies}");
    let replies: usize = recs
        .iter()
        .flat_map(|r| &r.data.addressees)
        .map(|a| a.responses.len())
        .sum();
    println!("{with_replies} reports with replies, {replies} replies attached");
    assert!(
        recs.iter()
            .all(|r| r.data.kind == concord_domain::RecKind::Concern)
    );
    assert!(recs.iter().all(|r| !r.data.title.trim().is_empty()));
    let resolved = recs
        .iter()
        .flat_map(|r| &r.data.addressees)
        .filter(|a| a.org.is_some())
        .count();
    println!("{resolved} addressees recognised as seeded organisations");

    // The register's own formats carry these records exactly.
    let mut json = Vec::new();
    concord_ingest::write_json(&recs, &mut json).unwrap();
    let back = exact_ids(
        parse(
            Path::new("x.json"),
            &json,
            Format::Json,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(back, recs);
    let mut csv_out = Vec::new();
    concord_ingest::write_csv(&recs, &mut csv_out).unwrap();
    let parsed_csv = parse(
        Path::new("x.csv"),
        &csv_out,
        Format::Csv,
        &dir(),
        chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
    )
    .unwrap();
    assert!(parsed_csv.rejected.is_empty(), "{:?}", parsed_csv.rejected);
    let back = exact_ids(parsed_csv);
    assert_eq!(back, recs);
    let mut again = Vec::new();
    concord_ingest::write_csv(&back, &mut again).unwrap();
    assert_eq!(again, csv_out);
    let mut xlsx = Vec::new();
    concord_ingest::write_xlsx(&recs, &mut xlsx).unwrap();
    let back = exact_ids(
        parse(
            Path::new("x.xlsx"),
            &xlsx,
            Format::Xlsx,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap(),
    );
    assert_eq!(back, recs);
}

#[test]
fn toolkit_reports_and_responses() {
    let Some(data) = data_dir() else { return };
    let rpath = data.join("pfd/toolkit-reports-sample.csv");
    let bytes = std::fs::read(&rpath).unwrap();
    assert_eq!(
        concord_ingest::detect(&rpath, &bytes).unwrap(),
        Format::PfdToolkit
    );
    let (reports, _) = read(&rpath, Format::PfdToolkit);
    assert!(reports.rejected.is_empty(), "{:?}", reports.rejected);
    assert_eq!(reports.records.len(), 28);
    let keys: HashSet<&str> = reports
        .records
        .iter()
        .map(|r| r.new.import_key.as_deref().unwrap())
        .collect();
    assert_eq!(keys.len(), 28);
    for r in &reports.records {
        assert!(matches!(r.new.id, IdRequest::Preferred { .. }));
        // Personal details of the deceased stay out of title and text.
        let ev = r.new.data.evidence.as_ref().unwrap();
        assert!(
            ev.references
                .iter()
                .any(|x| x.starts_with("Investigation and inquest: "))
        );
        for x in &ev.references {
            let body = x.split_once(": ").unwrap().1;
            assert!(!r.new.data.text.contains(body));
        }
    }

    let spath = data.join("pfd/toolkit-responses-sample.csv");
    let bytes = std::fs::read(&spath).unwrap();
    assert_eq!(
        concord_ingest::detect(&spath, &bytes).unwrap(),
        Format::PfdToolkitResponses
    );
    let (responses, _) = read(&spath, Format::PfdToolkitResponses);
    assert!(responses.rejected.is_empty(), "{:?}", responses.rejected);
    assert_eq!(responses.responses.len(), 48);
    for a in &responses.responses {
        assert!(keys.contains(a.parent_key.as_str()), "{}", a.parent_key);
        assert!(a.response.text.as_deref().is_some_and(|t| t.len() > 100));
    }
    let recognised = responses
        .responses
        .iter()
        .filter(|a| a.respondent_org.is_some())
        .count();
    println!("toolkit: 28 reports, 48 replies, {recognised} respondents recognised");
}

#[test]
fn vocabulary_from_the_judiciary_file() {
    let Some(data) = data_dir() else { return };
    let t = Instant::now();
    let vocab = Vocabulary::from_pfd_csv(&data.join("pfd/judiciary-reports.csv")).unwrap();
    println!("vocabulary built in {:?}", t.elapsed());
    let t = Instant::now();
    let recs: Vec<Recommendation> = generate(10_000, 42, &vocab).collect();
    println!("generated 10,000 in {:?}", t.elapsed());
    for r in &recs {
        r.data.clone().validate().unwrap();
    }
    let pfd_themes = recs
        .iter()
        .filter(|r| r.data.themes.iter().any(|t| t.contains("related deaths")))
        .count();
    assert!(pfd_themes > 1000, "{pfd_themes}");
}
