//! The register's listing, side by side in one run: a page answered from
//! the search index (`SearchIndex::list`, then the page's records read from
//! the database by id, as the services do it) against the database's own
//! listing (`Store::list`: a count and a sorted page), for the same filters
//! over the same database. Checks that both give the same total and ids.
//!
//! cargo run --release -p concord-search --example listing_bench -- \
//!     --db sqlite://DIR/concord.db --index DIR/concord.index [--rounds 5] [--per-page 50] [--index-only]

use std::path::PathBuf;
use std::time::Instant;

use chrono::NaiveDate;
use concord_domain::{Lifecycle, OrgCode, RecKind};
use concord_search::{DraftVisibility, RecommendationFilter, SearchIndex};
use concord_store::Page;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn filters() -> Vec<(&'static str, RecommendationFilter)> {
    let public = |f: RecommendationFilter| RecommendationFilter {
        drafts: DraftVisibility::None,
        ..f
    };
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
    vec![
        ("none", public(Default::default())),
        (
            "issuer=HSSIB",
            public(RecommendationFilter {
                issuer: OrgCode::parse("HSSIB").ok(),
                ..Default::default()
            }),
        ),
        (
            "theme=sepsis",
            public(RecommendationFilter {
                theme: Some("sepsis".into()),
                ..Default::default()
            }),
        ),
        (
            "addressee=NHSE",
            public(RecommendationFilter {
                addressee: Some("NHSE".into()),
                ..Default::default()
            }),
        ),
        (
            "addressee=trust (name part)",
            public(RecommendationFilter {
                addressee: Some("trust".into()),
                ..Default::default()
            }),
        ),
        (
            "status=published from=2024-01-01",
            public(RecommendationFilter {
                status: Some(Lifecycle::Published),
                from: d("2024-01-01"),
                ..Default::default()
            }),
        ),
        (
            "kind=concern setting=acute",
            public(RecommendationFilter {
                kind: Some(RecKind::Concern),
                setting: Some("acute".into()),
                ..Default::default()
            }),
        ),
    ]
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let db = arg("--db").expect("--db URL");
    let index_dir = PathBuf::from(arg("--index").expect("--index DIR"));
    let rounds: usize = arg("--rounds").and_then(|v| v.parse().ok()).unwrap_or(5);
    // --index-only: the index's side alone, the database's listing not run
    // (it takes seconds a page, and its reads would sit between the index's).
    let index_only = std::env::args().any(|a| a == "--index-only");
    let per_page: u64 = arg("--per-page").and_then(|v| v.parse().ok()).unwrap_or(50);
    let store = concord_store::open(&db).await.expect("open the database");
    let index = SearchIndex::open(&index_dir).expect("open the index");
    let caught = index.catch_up(store.as_ref()).await.expect("catch up");
    let end = store.outbox_end().await.unwrap();
    eprintln!(
        "{} documents; outbox at {end}; caught up {} rows",
        index.doc_count(),
        caught.rows
    );
    println!(
        "| filter | page | total | index p50 / max (ms) | of which the records read by id, p50 | database p50 / max (ms) | same ids |"
    );
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (name, f) in filters() {
        for page_no in [1u64, 20] {
            let page = Page {
                offset: (page_no - 1) * per_page,
                limit: per_page,
            };
            let (mut ix_ms, mut read_ms, mut db_ms) = (Vec::new(), Vec::new(), Vec::new());
            let mut same = true;
            let mut total = 0;
            for _ in 0..rounds {
                let t = Instant::now();
                let listed = index
                    .list(&f, page.offset, page.limit, end)
                    .unwrap()
                    .expect("caught up, within the window");
                let r = Instant::now();
                let items = store.get_many(&listed.ids).await.unwrap();
                read_ms.push(r.elapsed().as_secs_f64() * 1e3);
                ix_ms.push(t.elapsed().as_secs_f64() * 1e3);
                total = listed.total;
                if index_only {
                    continue;
                }
                let t = Instant::now();
                let db_page = store.list(&f, page).await.unwrap();
                db_ms.push(t.elapsed().as_secs_f64() * 1e3);
                same &= listed.total == db_page.total
                    && items
                        .iter()
                        .map(|r| &r.id)
                        .eq(db_page.items.iter().map(|r| &r.id));
            }
            let ix_max = ix_ms.iter().cloned().fold(0.0, f64::max);
            let (database, same) = if index_only {
                ("not run".to_string(), "not compared")
            } else {
                let db_max = db_ms.iter().cloned().fold(0.0, f64::max);
                let db = format!("{:.0} / {db_max:.0}", pct(&mut db_ms, 0.5));
                (db, if same { "yes" } else { "**no**" })
            };
            println!(
                "| {name} | {page_no} | {total} | {:.1} / {:.1} | {:.1} | {database} | {same} |",
                pct(&mut ix_ms, 0.5),
                ix_max,
                pct(&mut read_ms, 0.5),
            );
        }
    }
}
