//! `concord workstream add|list|show|overlaps` through the real binary, on
//! SQLite and PostgreSQL: the demo's workstreams, registering a file (one
//! bad workstream stores none), another organisation refused, search and
//! facets, overlaps with reasons, and the same answers on both backends.

use crate::common;

use common::{backends, concord, ok};
use serde_json::{Value, json};

fn write(db: &common::Db, name: &str, v: &Value) -> String {
    let p = db.dir.path().join(name);
    std::fs::write(&p, serde_json::to_string_pretty(v).unwrap()).unwrap();
    p.display().to_string()
}

fn fail(db: &common::Db, args: &[&str]) -> String {
    let out = concord(db, args);
    assert_eq!(out.status.code(), Some(1), "{args:?} on {}", db.name);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn workstreams_through_the_binary() {
    let mut answers = Vec::new();
    for db in backends() {
        ok(&db, &["demo", "--load"]);
        // The demo has six workstreams; one is not public (operators see it).
        let list: Value =
            serde_json::from_str(&ok(&db, &["workstream", "list", "--json"])).unwrap();
        assert_eq!(list["total"], 6, "{} {list}", db.name);
        assert_eq!(list["facets"]["lead"]["NHSE"], 2);

        // A file with one bad workstream stores nothing.
        let good = json!({
            "title": "Time to antibiotics for sepsis in emergency departments",
            "aim": "Why patients with suspected sepsis wait over an hour for antibiotics after triage in crowded emergency departments.",
            "lead": "NICE",
            "partners": ["NHSE"],
            "themes": ["sepsis", "emergency care"],
            "settings": ["emergency department"],
            "status": "planned",
            "start": "2025-05-01",
            "expected_end": "2026-04-30"
        });
        let mut ends_early = good.clone();
        ends_early["title"] = json!("Another");
        ends_early["expected_end"] = json!("2025-01-01");
        let file = write(&db, "bad.json", &json!([good.clone(), ends_early]));
        let err = fail(&db, &["workstream", "add", &file]);
        assert!(err.contains("workstream 2 of 2"), "{err}");
        assert!(err.contains("expected_end"), "{err}");
        let mut not_code = good.clone();
        not_code["partners"] = json!(["NHS England"]);
        let file = write(&db, "bad2.json", &not_code);
        let err = fail(&db, &["workstream", "add", &file]);
        assert!(err.contains("partners[0]"), "{err}");
        // Acting as CQC, registering NICE's work: refused.
        let file = write(&db, "good.json", &good);
        let err = fail(&db, &["workstream", "add", &file, "--as", "CQC"]);
        assert!(
            err.contains("CQC cannot register work led by NICE"),
            "{err}"
        );
        let list: Value =
            serde_json::from_str(&ok(&db, &["workstream", "list", "--json"])).unwrap();
        assert_eq!(list["total"], 6, "nothing stored on {}", db.name);

        // Preview, then register: the demo's HSSIB sepsis work overlaps it.
        let preview: Value =
            serde_json::from_str(&ok(&db, &["workstream", "overlaps", &file, "--json"])).unwrap();
        let first = &preview["matches"][0];
        assert_eq!(first["id"], "WS-HSSIB-2025-001", "{preview}");
        assert!(
            first["reason"].as_str().unwrap().contains("sepsis"),
            "{first}"
        );
        let added: Value = serde_json::from_str(&ok(
            &db,
            &["workstream", "add", &file, "--as", "NICE", "--json"],
        ))
        .unwrap();
        let id = added[0]["id"].as_str().unwrap().to_string();
        assert!(id.starts_with("WS-NICE-"), "{id}");
        assert_eq!(added[0]["overlaps"][0]["id"], "WS-HSSIB-2025-001");
        let text = ok(&db, &["workstream", "show", &id]);
        assert!(text.contains("lead: NICE"), "{text}");
        assert!(text.contains("WS-HSSIB-2025-001"), "{text}");
        let shown: Value =
            serde_json::from_str(&ok(&db, &["workstream", "show", &id, "--json"])).unwrap();
        assert_eq!(shown["version"], 1);

        // Search with filters.
        let found: Value = serde_json::from_str(&ok(
            &db,
            &[
                "workstream",
                "list",
                "antibiotics",
                "--setting",
                "emergency department",
                "--json",
            ],
        ))
        .unwrap();
        assert_eq!(found["total"], 2, "{found}");
        let text = ok(&db, &["workstream", "list", "fetal monitoring"]);
        assert!(text.starts_with("1 workstream\n"), "{text}");
        assert!(text.contains("WS-MNSI-2025-001"), "{text}");
        fail(&db, &["workstream", "list", "--status", "ongoing"]);
        fail(&db, &["workstream", "show", "WS-NICE-2025-999"]);
        fail(&db, &["workstream", "show", "nonsense"]);

        // Same answers on both backends (ids, scores, reasons).
        let mut found = found;
        for item in found["items"].as_array_mut().unwrap() {
            for k in ["created_at", "updated_at"] {
                item.as_object_mut().unwrap().remove(k);
            }
        }
        answers.push((found, preview));
    }
    if answers.len() == 2 {
        assert_eq!(answers[0], answers[1], "SQLite and PostgreSQL differ");
    }
}
