//! The default quality criteria over the real coroners' Prevention of Future
//! Deaths reports (`../shared/data/pfd/judiciary-reports.csv`): the share of
//! reports failing each criterion, and 20 verdicts to read. The figures are
//! written up in docs/quality-criteria.md. Run with `--nocapture` to see them.

use std::path::{Path, PathBuf};

/// ../shared/data, or None with a plain message (a failure in CI).
fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.join("pfd/judiciary-reports.csv").is_file() {
        return Some(p);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "CI=true but ../shared/data is missing: the real-data tests must run in CI"
    );
    eprintln!("the PFD quality test did not run: ../shared/data not found");
    None
}

use concord_domain::quality::{Context, Draft, Outcome, Ruleset, evaluate};
use concord_domain::{OrganisationDirectory, seed_organisations};

#[test]
fn default_criteria_over_the_pfd_concerns() {
    let Some(data) = shared_data() else {
        return;
    };
    let path = data.join("pfd/judiciary-reports.csv");
    let bytes = std::fs::read(&path).unwrap();
    let seeds = seed_organisations();
    let dir = OrganisationDirectory::new(&seeds);
    let today = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let parsed = concord_ingest::parse(
        Path::new(&path),
        &bytes,
        concord_ingest::Format::PfdJudiciary,
        &dir,
        today,
    )
    .unwrap();
    let kinds = |code: &str| {
        seeds
            .iter()
            .find(|o| o.code.as_str() == code)
            .map(|o| o.kind)
    };
    let rules = Ruleset::default_set();
    let n_crit = rules.criteria.len();
    let mut fails = vec![0usize; n_crit];
    let mut warns = vec![0usize; n_crit];
    let mut scores = Vec::new();
    let mut samples = Vec::new();
    let records: Vec<_> = parsed
        .records
        .iter()
        // The importer writes a placeholder where no concerns were published.
        .filter(|r| {
            let t = r.new.data.text.trim();
            !t.is_empty() && !t.starts_with("(No concerns text")
        })
        .collect();
    let n = records.len();
    assert!(n > 100, "{n} reports");
    let step = n / 20;
    for (i, r) in records.iter().enumerate() {
        let d = &r.new.data;
        let draft = Draft::from_data(d);
        // Judged as on the day it was written, so that the statutory 56-day
        // deadline is not "in the past".
        let ctx = Context {
            draft: &draft,
            directory: &dir,
            org_kind: &kinds,
            today: d.published.unwrap_or(today),
            similar: None,
        };
        let rep = evaluate(&rules, &ctx, i);
        for (j, c) in rep.checks.iter().enumerate() {
            match c.result {
                Outcome::Fail => fails[j] += 1,
                Outcome::Warn => warns[j] += 1,
                Outcome::Pass => {}
            }
        }
        scores.push(rep.score as f64);
        if step > 0 && i % step == 0 && samples.len() < 20 {
            samples.push((
                r.new.data.local_ref.clone().unwrap_or_default(),
                d.text.clone(),
                rep,
            ));
        }
    }
    println!(
        "{n} PFD reports with concerns; mean score {:.1}",
        scores.iter().sum::<f64>() / n as f64
    );
    println!("| criterion | fail | warn | pass |\n|---|---|---|---|");
    for (j, c) in rules.criteria.iter().enumerate() {
        let pct = |k: usize| 100.0 * k as f64 / n as f64;
        println!(
            "| {} | {:.1}% | {:.1}% | {:.1}% |",
            c.name,
            pct(fails[j]),
            pct(warns[j]),
            pct(n - fails[j] - warns[j])
        );
    }
    for (reference, text, rep) in &samples {
        let snippet: String = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(700)
            .collect();
        println!("\n### {reference} (score {})\n{snippet}", rep.score);
        for c in &rep.checks {
            println!("  {:5} {:16} {}", c.result.as_str(), c.criterion, c.message);
        }
    }
    // Sanity: coroners' concerns carry a statutory deadline but are not
    // costed; the criteria must see both.
    let idx = |name: &str| rules.criteria.iter().position(|c| c.name == name).unwrap();
    assert!(
        fails[idx("time_bound")] * 10 < n,
        "time_bound fails on most PFD reports"
    );
    assert!(
        fails[idx("cost")] * 2 > n,
        "cost passes on most PFD reports"
    );
}
