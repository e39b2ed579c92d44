//! Overlap detection on a set of workstreams we wrote
//! (`tests/fixtures/workstream_overlaps.json`): over the built-in demo
//! register, every pair a safety lead would want joined up is found (both
//! ways) with a reason, and no pair that only shares a setting, a theme or
//! a body is; workstream-to-recommendation overlaps likewise.

use std::collections::HashMap;

use concord_app::{Overlap, Principal, Services};
use serde_json::Value;

const FIXTURE: &str = include_str!("../fixtures/workstream_overlaps.json");

fn operator() -> Principal {
    Principal::Operator {
        label: "test".into(),
    }
}

fn pairs(v: &Value, key: &str) -> Vec<(String, String)> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_string(),
                p[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn describe(list: &[Overlap]) -> String {
    list.iter()
        .map(|o| format!("  {:.3} {} {} ({})", o.score, o.id, o.title, o.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn overlaps_found_and_not_found() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let svc = Services::open(&url).await.unwrap();
        let auth = svc.as_principal(operator());
        auth.operator().unwrap().load_demo().await.unwrap();
        let fixture: Value = serde_json::from_str(FIXTURE).unwrap();
        let items = fixture["workstreams"].as_array().unwrap();
        assert!(items.len() >= 15, "{} workstreams", items.len());
        let mut ids: HashMap<String, String> = HashMap::new();
        let mut bodies = Vec::new();
        let mut keys = Vec::new();
        for w in items {
            let mut w = w.clone();
            let key = w
                .as_object_mut()
                .unwrap()
                .remove("key")
                .unwrap()
                .as_str()
                .unwrap()
                .to_string();
            keys.push(key);
            bodies.push(concord_app::NewWorkstream::from_json(w).unwrap());
        }
        let done = auth.register_workstreams(&bodies).await.unwrap();
        for (k, r) in keys.iter().zip(&done) {
            ids.insert(k.clone(), r.workstream.workstream.id.clone());
        }
        let mut overlaps: HashMap<String, Vec<Overlap>> = HashMap::new();
        for k in &keys {
            overlaps.insert(
                k.clone(),
                auth.overlaps_of(&concord_app::parse_workstream_id(&ids[k]).unwrap(), 50)
                    .await
                    .unwrap(),
            );
        }
        let has = |a: &str, id: &str| overlaps[a].iter().any(|o| o.id == id);
        let mut failures = Vec::new();
        for (a, b) in pairs(&fixture, "must_find") {
            for (x, y) in [(&a, &b), (&b, &a)] {
                match overlaps[x.as_str()]
                    .iter()
                    .find(|o| o.id == ids[y.as_str()])
                {
                    Some(o) => assert!(!o.reason.is_empty(), "{x} -> {y}: no reason"),
                    None => failures.push(format!(
                        "{x} should overlap {y}; it found:\n{}",
                        describe(&overlaps[x.as_str()])
                    )),
                }
            }
        }
        for (a, b) in pairs(&fixture, "must_not_find") {
            for (x, y) in [(&a, &b), (&b, &a)] {
                if has(x, &ids[y.as_str()]) {
                    failures.push(format!(
                        "{x} should not overlap {y}; it found:\n{}",
                        describe(&overlaps[x.as_str()])
                    ));
                }
            }
        }
        for (a, rec) in pairs(&fixture, "must_find_recommendations") {
            if !has(&a, &rec) {
                failures.push(format!(
                    "{a} should overlap {rec}; it found:\n{}",
                    describe(&overlaps[a.as_str()])
                ));
            }
        }
        for (a, rec) in pairs(&fixture, "must_not_find_recommendations") {
            if has(&a, &rec) {
                failures.push(format!(
                    "{a} should not overlap {rec}; it found:\n{}",
                    describe(&overlaps[a.as_str()])
                ));
            }
        }
        // The reasons name what decided them.
        let sepsis = &overlaps["sepsis_ed"];
        let o = sepsis
            .iter()
            .find(|o| o.id == ids["sepsis_triage"])
            .expect("found above");
        assert!(o.reason.contains("words in common"), "{}", o.reason);
        assert!(o.shared.themes.contains(&"sepsis".to_string()), "{o:?}");
        let ld = overlaps["ld_flag_cqc"]
            .iter()
            .find(|o| o.id == ids["ld_flag_digital"])
            .expect("found above");
        assert_eq!(ld.shared.recommendations, vec!["CQC-2023-0002"]);
        assert!(
            ld.reason.contains("both answer: CQC-2023-0002"),
            "{}",
            ld.reason
        );
        // Best first.
        for list in overlaps.values() {
            assert!(list.windows(2).all(|w| w[0].score >= w[1].score));
        }
        if std::env::var("SHOW_OVERLAPS").is_ok() {
            for k in &keys {
                eprintln!("{k} ({}):\n{}", ids[k], describe(&overlaps[k]));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
        svc.as_principal(operator());
    });
}
