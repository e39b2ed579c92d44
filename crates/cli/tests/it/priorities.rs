//! Provider priority lists through the real binary, on SQLite and
//! PostgreSQL, over the demo data: the JSON of CONTRACT.md, best first,
//! duplicates counted once, every place explained; profiles set only by the
//! organisation itself; bad input refused with a reason.

use crate::common;

use std::collections::HashSet;

use serde_json::Value;

use common::*;

fn fails(db: &Db, args: &[&str]) -> String {
    let out = concord(db, args);
    assert_eq!(out.status.code(), Some(1), "{} {args:?}", db.name);
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn list(db: &Db, org: &str) -> Value {
    serde_json::from_str(&ok(
        db,
        &["priorities", "--org", org, "--json", "--limit", "200"],
    ))
    .unwrap()
}

#[test]
fn priority_lists_on_every_backend() {
    for db in backends() {
        ok(&db, &["demo", "--load"]);
        for org in ["NMTH", "GREYMH", "AMBNH"] {
            let l = list(&db, org);
            assert_eq!(l["org"], org);
            let items = l["items"].as_array().unwrap();
            assert!(
                items.len() >= 5,
                "{}: {org} has {} items",
                db.name,
                items.len()
            );
            // The provider's own overdue answers first, then best first.
            let places: Vec<(bool, f64)> = items
                .iter()
                .map(|i| {
                    (
                        i.get("overdue_since").is_some(),
                        i["score"].as_f64().unwrap(),
                    )
                })
                .collect();
            assert!(
                places
                    .windows(2)
                    .all(|w| (w[0].0 && !w[1].0) || (w[0].0 == w[1].0 && w[0].1 >= w[1].1)),
                "own overdue first, then best first: {places:?}"
            );
            let scores: Vec<f64> = places.iter().map(|p| p.1).collect();
            assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
            // Every recommendation appears once, in one item.
            let mut seen = HashSet::new();
            for it in items {
                for id in it["ids"].as_array().unwrap() {
                    assert!(seen.insert(id.as_str().unwrap().to_string()), "{id} twice");
                }
                let why = it["why"].as_array().unwrap();
                assert!(!why.is_empty());
                let first = why[0].as_str().unwrap();
                assert!(
                    first == "addressed to you directly"
                        || first.starts_with("addressed to another")
                        || first.starts_with("about your kind of care"),
                    "{first}"
                );
            }
            // A group of duplicates lists every body behind it.
            let groups: Vec<&Value> = items
                .iter()
                .filter(|i| i["ids"].as_array().unwrap().len() > 1)
                .collect();
            assert!(!groups.is_empty(), "{org}: the demo data has duplicates");
            for g in groups {
                assert!(!g["issuers"].as_array().unwrap().is_empty());
            }
        }
        // The acute trust's list holds what is addressed to it directly, near the top.
        let l = list(&db, "NMTH");
        let direct = l["items"]
            .as_array()
            .unwrap()
            .iter()
            .position(|i| i["reach"] == "direct")
            .expect("a directly addressed item");
        assert!(direct < 10, "first direct item at {direct}");

        // The action plan.
        let csv = ok(
            &db,
            &[
                "priorities",
                "--org",
                "NMTH",
                "--format",
                "csv",
                "--limit",
                "5",
            ],
        );
        let mut lines = csv.lines();
        assert!(lines.next().unwrap().starts_with("rank,score,ids,title"));
        assert_eq!(lines.count(), 5);

        let xlsx = db.dir.path().join("plan.xlsx");
        ok(
            &db,
            &[
                "priorities",
                "--org",
                "NMTH",
                "--format",
                "xlsx",
                "--out",
                xlsx.to_str().unwrap(),
            ],
        );
        let bytes = std::fs::read(&xlsx).unwrap();
        assert!(bytes.starts_with(b"PK"), "an XLSX file is a zip");
        let e = fails(&db, &["priorities", "--org", "NMTH", "--format", "xlsx"]);
        assert!(e.contains("--out"), "{e}");

        // Profiles: only the organisation itself; the list follows the profile.
        let e = fails(
            &db,
            &[
                "profile",
                "set",
                "NMTH",
                "--kind",
                "care_home",
                "--as",
                "HVH",
            ],
        );
        assert!(e.contains("only the organisation itself"), "{e}");
        let e = fails(&db, &["profile", "set", "NMTH", "--kind", "spaceship"]);
        assert!(e.contains("--kind") && e.contains("acute_trust"), "{e}");
        let e = fails(&db, &["profile", "set", "NOSUCH", "--kind", "care_home"]);
        assert!(e.contains("NOSUCH"), "{e}");
        let e = fails(&db, &["priorities", "--org", "NHSE"]);
        assert!(e.contains("no provider profile"), "{e}");
        let e = fails(&db, &["priorities", "--org", "not a code"]);
        assert!(e.contains("--org"), "{e}");
        ok(
            &db,
            &[
                "profile",
                "set",
                "NMTH",
                "--kind",
                "acute_trust",
                "--setting",
                "Maternity unit",
                "--as",
                "NMTH",
            ],
        );
        let shown = ok(&db, &["profile", "show", "NMTH", "--json"]);
        let shown: Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(shown["stored"], true);
        assert_eq!(
            shown["profile"]["settings"],
            serde_json::json!(["maternity unit"])
        );
        let l = list(&db, "NMTH");
        assert!(l["profile_stored"].as_bool().unwrap());
        assert!(
            l["items"].as_array().unwrap().iter().all(|i| {
                let w = i["why"][0].as_str().unwrap();
                !w.contains("setting: emergency department")
            }),
            "settings now come from the profile"
        );
    }
}
