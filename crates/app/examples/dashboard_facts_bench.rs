//! The fact table alone at COUNT generated records (no database): build
//! time from records, then the latency of the whole dashboard, unfiltered
//! and filtered. Usage: dashboard_facts_bench [COUNT] [RUNS]

use std::time::Instant;

use chrono::NaiveDate;
use concord_domain::dashboard::{DashboardQuery, FactTable, RecFacts};
use concord_domain::lifecycle::RulesBook;
use concord_ingest::{GenOptions, Vocabulary, generate_with};

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(1_000_000);
    let runs: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(20);
    let rules = RulesBook::builtin();
    let vocab = Vocabulary::built_in();
    let mut table = FactTable::new();
    table.set_organisations(&concord_domain::seed_organisations());
    let t = Instant::now();
    for rec in generate_with(
        count,
        42,
        &vocab,
        GenOptions {
            addressees: Some(3),
        },
    ) {
        table.upsert(&RecFacts::of(&rec.id.to_string(), &rec.data, &rules));
    }
    println!(
        "generated and added {} recommendations ({} items) in {:.1} s; table ~{} MiB",
        table.len(),
        table.items(),
        t.elapsed().as_secs_f64(),
        table.approx_bytes() >> 20
    );
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 31).unwrap();
    let cases: Vec<(&str, DashboardQuery)> = vec![
        ("everything", DashboardQuery::new(as_of)),
        (
            "issuer=PFD",
            DashboardQuery {
                issuer: Some("PFD".into()),
                ..DashboardQuery::new(as_of)
            },
        ),
        (
            "theme=sepsis",
            DashboardQuery {
                theme: Some("sepsis".into()),
                ..DashboardQuery::new(as_of)
            },
        ),
        (
            "year=2020",
            DashboardQuery {
                year: Some(2020),
                ..DashboardQuery::new(as_of)
            },
        ),
    ];
    println!("| query | p50 ms | p99 ms | open | overdue |");
    println!("|---|---:|---:|---:|---:|");
    for (name, q) in cases {
        let mut lat = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let t = Instant::now();
            last = Some(table.figures(&q));
            lat.push(t.elapsed().as_secs_f64() * 1e3);
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        let p = |x: f64| lat[((x * lat.len() as f64).ceil() as usize).clamp(1, lat.len()) - 1];
        let d = last.unwrap();
        println!(
            "| {name} | {:.1} | {:.1} | {} | {} |",
            p(0.5),
            p(0.99),
            d.totals.open,
            d.totals.overdue
        );
    }
}
