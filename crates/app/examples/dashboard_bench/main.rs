//! The dashboard benchmark (run by `benches/dashboard.sh`): for one
//! database, the fact table's build time and memory and the latency of every
//! figure from it, beside the same figures computed by SQL GROUP BY queries
//! on the tables (`sql.rs`); and whether the two agree.
//!
//! Usage: dashboard_bench DB_URL [RUNS]

mod sql;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use concord_app::{DashboardRequest, Principal, Services};
use concord_domain::dashboard::{Dashboard, DashboardQuery};
use concord_domain::lifecycle::RulesBook;

fn rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0)
        / 1024
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

fn cases() -> Vec<(&'static str, DashboardRequest)> {
    let as_of = NaiveDate::from_ymd_opt(2026, 3, 31);
    let base = DashboardRequest {
        as_of,
        ..Default::default()
    };
    vec![
        ("everything", base.clone()),
        (
            "issuer=PFD",
            DashboardRequest {
                issuer: Some("PFD".into()),
                ..base.clone()
            },
        ),
        (
            "theme=sepsis",
            DashboardRequest {
                theme: Some("sepsis".into()),
                ..base.clone()
            },
        ),
        (
            "year=2020",
            DashboardRequest {
                year: Some(2020),
                ..base.clone()
            },
        ),
    ]
}

fn query_of(r: &DashboardRequest) -> DashboardQuery {
    DashboardQuery {
        issuer: r.issuer.clone(),
        theme: r.theme.clone(),
        setting: r.setting.clone(),
        year: r.year,
        as_of: r.as_of.unwrap_or_default(),
        addressee_limit: Some(50),
    }
}

/// What both ways must agree on (labels aside: SQL keys are lower-cased).
fn agree(a: &Dashboard, b: &Dashboard) -> Vec<String> {
    let mut out = Vec::new();
    if a.totals != b.totals {
        out.push(format!("totals {:?} vs {:?}", a.totals, b.totals));
    }
    let norm = |rows: &[concord_domain::dashboard::Row]| {
        let mut v: Vec<(String, _)> = rows
            .iter()
            .map(|r| (r.key.to_lowercase(), r.counts))
            .collect();
        v.sort_by(|x, y| x.0.cmp(&y.0));
        v
    };
    for (name, x, y) in [
        ("by_issuer", &a.by_issuer, &b.by_issuer),
        ("by_theme", &a.by_theme, &b.by_theme),
        ("by_setting", &a.by_setting, &b.by_setting),
        ("by_year", &a.by_year, &b.by_year),
    ] {
        if norm(x) != norm(y) {
            out.push(format!("{name} differs"));
        }
    }
    if a.addressees_total != b.addressees_total {
        out.push(format!(
            "addressees_total {} vs {}",
            a.addressees_total, b.addressees_total
        ));
    }
    let days = |d: &Dashboard| {
        d.oldest_overdue
            .iter()
            .map(|o| o.days_overdue)
            .collect::<Vec<_>>()
    };
    if days(a) != days(b) {
        out.push(format!(
            "oldest_overdue days {:?} vs {:?}",
            days(a),
            days(b)
        ));
    }
    if a.response_times != b.response_times {
        out.push("response_times differ".into());
    }
    let land = |d: &Dashboard| {
        d.by_provider_kind
            .iter()
            .map(|l| {
                (
                    l.kind.clone(),
                    l.open_recommendations,
                    l.open_items,
                    l.costed,
                    l.one_off_gbp.round() as i64,
                    l.recurring_gbp.round() as i64,
                )
            })
            .collect::<Vec<_>>()
    };
    if land(a) != land(b) {
        out.push(format!("by_provider_kind {:?} vs {:?}", land(a), land(b)));
    }
    out
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("usage: dashboard_bench DB_URL [RUNS]");
    let runs: usize = args.next().map(|s| s.parse().unwrap()).unwrap_or(20);
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let services = Services::open(&url).await?;
    let auth = services.as_principal(Principal::Anonymous);
    let rss0 = rss_mib();
    let t = Instant::now();
    let stats = auth.dashboard_stats().await?;
    let build = t.elapsed();
    let rss1 = rss_mib();
    println!(
        "## {backend}: fact table\n\nbuilt in {:.1} s from {} recommendations, {} items; about {} MiB by count of its structures; process RSS {} MiB before, {} MiB after\n",
        build.as_secs_f64(),
        stats.recommendations,
        stats.items,
        stats.approx_bytes >> 20,
        rss0,
        rss1
    );
    let by_sql = sql::SqlDashboard::open(&url).await?;
    let rules = RulesBook::builtin();
    println!("| query | facts p50 ms | facts p99 ms | SQL figure | SQL ms (median of 3) |");
    println!("|---|---:|---:|---|---:|");
    for (name, req) in cases() {
        let mut lat = Vec::with_capacity(runs);
        let mut facts = None;
        for _ in 0..runs {
            let t = Instant::now();
            let d = auth.dashboard(&req).await?;
            lat.push(ms(t.elapsed()));
            facts = Some(d);
        }
        let facts = facts.expect("at least one run");
        let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
        let mut sql_runs = Vec::new();
        let mut sql = None;
        for _ in 0..3 {
            let t = Instant::now();
            let (d, timings) = by_sql.dashboard_by_sql(&query_of(&req), &rules).await?;
            sql_runs.push((t.elapsed(), timings));
            sql = Some(d);
        }
        let sql = sql.expect("three runs");
        let figures: Vec<&'static str> = sql_runs[0].1.iter().map(|x| x.0).collect();
        for (i, fig) in figures.iter().enumerate() {
            let mut v: Vec<f64> = sql_runs.iter().map(|r| ms(r.1[i].1)).collect();
            let med = pct(&mut v, 0.5);
            if i == 0 {
                println!("| {name} | {p50:.1} | {p99:.1} | {fig} | {med:.0} |");
            } else {
                println!("| | | | {fig} | {med:.0} |");
            }
        }
        let mut total: Vec<f64> = sql_runs.iter().map(|r| ms(r.0)).collect();
        println!(
            "| | | | **all figures** | **{:.0}** |",
            pct(&mut total, 0.5)
        );
        let diffs = agree(&facts, &sql);
        if diffs.is_empty() {
            eprintln!("{backend} {name}: facts and SQL agree on every figure");
        } else {
            eprintln!("{backend} {name}: DIFFER: {}", diffs.join("; "));
        }
    }
    println!();
    Ok(())
}
