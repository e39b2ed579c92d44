//! Relevance on the real coroners' reports: the queries in
//! `relevance.toml`, written in a user's words, each with the reports that
//! must appear in the top 10. Prints recall@10 and MRR and holds them above
//! a floor.
//!
//! Needs ../shared/data (the PFD judiciary CSV): fails in CI without it,
//! says plainly that it did not run elsewhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::Utc;
use concord_domain::{Actor, OrganisationDirectory, seed_organisations};
use concord_search::{DraftVisibility, RecommendationFilter, SearchIndex, SearchRequest, Sort};
use serde::Deserialize;

/// The floors: measured values are printed by the test; the floors sit a
/// little below them so that a change that makes search worse fails.
const RECALL_FLOOR: f64 = 0.80;
const MRR_FLOOR: f64 = 0.65;

#[derive(Deserialize)]
struct Set {
    query: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    q: String,
    expect: Vec<String>,
}

fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.join("pfd/judiciary-reports.csv").is_file() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but ../shared/data is missing ({}): the relevance test must run in CI",
            p.display()
        );
    }
    eprintln!(
        "relevance test did not run: ../shared/data not found at {}",
        p.display()
    );
    None
}

/// A report's address reduced to its last path segment, lower-cased.
fn slug(url: &str) -> String {
    url.trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_lowercase()
}

#[tokio::test]
async fn relevance_on_real_pfd_reports() {
    let Some(data) = shared_data() else { return };
    let csv = data.join("pfd/judiciary-reports.csv");
    let dir = tempfile::tempdir().unwrap();
    let store = concord_store::open(&format!("sqlite://{}/r.db", dir.path().display()))
        .await
        .unwrap();
    let actor = Actor::system("relevance");
    let orgs = seed_organisations();
    for o in &orgs {
        store.add_organisation(&actor, o).await.unwrap();
    }
    let bytes = std::fs::read(&csv).unwrap();
    let parsed = concord_ingest::parse(
        &csv,
        &bytes,
        concord_ingest::Format::PfdJudiciary,
        &OrganisationDirectory::new(&orgs),
        Utc::now().date_naive(),
    )
    .expect("the PFD file reads");
    let records: Vec<_> = parsed.records.into_iter().map(|r| r.new).collect();
    store
        .import(
            &actor,
            &parsed.organisations,
            records,
            vec![],
            Utc::now(),
            &|_| {},
        )
        .await
        .expect("import");
    let index = SearchIndex::open(&dir.path().join("r.index")).unwrap();
    index.catch_up(store.as_ref()).await.unwrap();

    let mut slug_of: HashMap<String, String> = HashMap::new();
    store
        .scan(5_000, &mut |batch| {
            for r in batch {
                if let Some(k) = &r.import_key {
                    slug_of.insert(r.id.to_string(), slug(k));
                }
            }
            Ok(())
        })
        .await
        .unwrap();

    let set: Set = toml::from_str(include_str!("../relevance.toml")).expect("relevance.toml reads");
    assert!(set.query.len() >= 40, "at least 40 queries");
    let (mut found, mut wanted, mut rr_sum) = (0usize, 0usize, 0.0f64);
    let mut misses = Vec::new();
    for case in &set.query {
        let res = index
            .search(&SearchRequest {
                query: case.q.clone(),
                filter: RecommendationFilter {
                    drafts: DraftVisibility::None,
                    ..Default::default()
                },
                offset: 0,
                limit: 10,
                sort: Sort::Relevance,
            })
            .unwrap();
        let got: Vec<String> = res
            .hits
            .iter()
            .map(|h| slug_of.get(&h.id).cloned().unwrap_or_default())
            .collect();
        let expect: Vec<String> = case.expect.iter().map(|u| slug(u)).collect();
        wanted += expect.len();
        let hit_here = expect.iter().filter(|e| got.contains(e)).count();
        found += hit_here;
        let first = got.iter().position(|g| expect.contains(g));
        rr_sum += first.map(|p| 1.0 / (p as f64 + 1.0)).unwrap_or(0.0);
        if hit_here < expect.len() {
            misses.push(format!(
                "  {:?}: found {hit_here}/{} (first at {:?})",
                case.q,
                expect.len(),
                first.map(|p| p + 1)
            ));
        }
    }
    let recall = found as f64 / wanted as f64;
    let mrr = rr_sum / set.query.len() as f64;
    println!(
        "relevance: {} queries, recall@10 = {recall:.3} ({found}/{wanted}), MRR = {mrr:.3}",
        set.query.len()
    );
    for m in &misses {
        println!("{m}");
    }
    assert!(
        recall >= RECALL_FLOOR,
        "recall@10 {recall:.3} is below {RECALL_FLOOR}"
    );
    assert!(mrr >= MRR_FLOOR, "MRR {mrr:.3} is below {MRR_FLOOR}");
}
