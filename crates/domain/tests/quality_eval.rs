//! The evaluation set: hand-written drafts (`quality_eval.json`, generated
//! by `gen_eval.py` beside it) with the verdict a reviewer gives on each
//! criterion. The default criteria must agree with the reviewer on at least
//! [`FLOOR`] of the drafts, criterion by criterion. Run with
//! `--nocapture` to see the table and every disagreement.

use chrono::NaiveDate;
use concord_domain::quality::{Context, Draft, Outcome, Ruleset, SimilarHit, evaluate};
use concord_domain::{OrganisationDirectory, seed_organisations};
use serde_json::Value;

const FLOOR: f64 = 0.90;

#[test]
fn default_criteria_agree_with_the_evaluation_set() {
    let items: Vec<Value> =
        serde_json::from_str(include_str!("quality_eval.json")).expect("evaluation set is JSON");
    assert!(items.len() >= 40, "{} drafts", items.len());
    let seeds = seed_organisations();
    let dir = OrganisationDirectory::new(&seeds);
    let kinds = |code: &str| {
        seeds
            .iter()
            .find(|o| o.code.as_str() == code)
            .map(|o| o.kind)
    };
    let rules = Ruleset::default_set();
    let today = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
    let names: Vec<String> = rules.criteria.iter().map(|c| c.name.clone()).collect();
    let mut agree = vec![0usize; names.len()];
    let mut disagreements = Vec::new();
    for item in &items {
        let name = item["name"].as_str().unwrap();
        let draft = Draft::from_json(&item["draft"], "").unwrap_or_else(|e| panic!("{name}: {e}"));
        let similar: Option<Vec<SimilarHit>> = item
            .get("similar")
            .map(|s| serde_json::from_value(s.clone()).unwrap());
        let ctx = Context {
            draft: &draft,
            directory: &dir,
            org_kind: &kinds,
            today,
            similar: similar.as_deref(),
        };
        let report = evaluate(&rules, &ctx, 0);
        for (i, c) in names.iter().enumerate() {
            let expected: Outcome = item["expect"]
                .get(c)
                .and_then(Value::as_str)
                .unwrap_or("pass")
                .parse()
                .unwrap();
            let got = report.checks[i].result;
            if got == expected {
                agree[i] += 1;
            } else {
                disagreements.push(format!(
                    "{name:45} {c:16} expected {expected}, got {got}: {}",
                    report.checks[i].message
                ));
            }
        }
    }
    println!("criterion        agreement (n = {})", items.len());
    let mut below = Vec::new();
    for (i, c) in names.iter().enumerate() {
        let share = agree[i] as f64 / items.len() as f64;
        println!("{c:16} {:5.1}%", 100.0 * share);
        if share < FLOOR {
            below.push(c.clone());
        }
    }
    for d in &disagreements {
        println!("  {d}");
    }
    assert!(below.is_empty(), "below the {FLOOR} floor: {below:?}");
}
