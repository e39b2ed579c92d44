//! Oversight through the real binary, on SQLite and PostgreSQL:
//! `concord contradictions`, `concord related`, `concord duplicates` and
//! `concord link decide` (confirm or dismiss an engine pair; a dismissal is
//! remembered and the pair never comes back).

use crate::common;

use serde_json::{Value, json};

use common::*;

fn rec(id: &str, text: &str) -> Value {
    json!({"id": id, "kind": "recommendation", "issuer": id.split('-').next().unwrap(),
        "title": format!("{id} title"), "text": text, "status": "published",
        "published": "2024-03-01", "version": 1,
        "created_at": "2024-03-01T09:00:00Z", "updated_at": "2024-03-01T09:00:00Z"})
}

const CT1: &str = "NICE-2024-0001";
const CT8: &str = "CQC-2024-0001";
const SEP_A: &str = "HSSIB-2024-0001";
const SEP_B: &str = "NHSE-2024-0001";
const OTHER: &str = "MHRA-2024-0001";

fn corpus() -> Value {
    json!([
        rec(
            CT1,
            "Adults who take anticoagulant medicines and have a head injury after a fall should have a CT head scan within 1 hour of arrival at the emergency department."
        ),
        rec(
            CT8,
            "Adults on anticoagulant medicines who have a head injury after a fall should not have a CT head scan until 8 hours after arrival at the emergency department."
        ),
        rec(
            SEP_A,
            "Emergency departments should screen every adult for sepsis at triage and give intravenous antibiotics within one hour of recognising suspected sepsis, with a senior clinical review and lactate measurement."
        ),
        rec(
            SEP_B,
            "Every adult arriving at an emergency department should be screened for sepsis at triage, and intravenous antibiotics should be given within one hour of recognising suspected sepsis, with lactate measurement and a senior clinical review."
        ),
        rec(
            OTHER,
            "Manufacturers of infusion pumps should publish the software version of each device model and notify hospitals of every update to the drug library."
        ),
    ])
}

fn json_of(db: &Db, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).expect("JSON on stdout")
}

fn has_pair(v: &Value, a: &str, b: &str) -> Option<String> {
    let mut want = [a, b];
    want.sort();
    v["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ids"] == json!(want))
        .map(|p| p["state"].as_str().unwrap().to_string())
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

fn fails(db: &Db, args: &[&str], needle: &str) {
    let out = concord(db, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?} on {}: {err}", db.name);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn contradictions_related_and_decisions_on_both_backends() {
    for db in backends() {
        let file = db.dir.path().join("corpus.json");
        std::fs::write(&file, corpus().to_string()).unwrap();
        ok(&db, &["import", "--format", "json", file.to_str().unwrap()]);

        // Every suspected contradiction, with score and reason.
        let c = json_of(&db, &["contradictions", "--json"]);
        assert_eq!(has_pair(&c, CT1, CT8).as_deref(), Some("suggested"), "{c}");
        let p = &c["pairs"][0];
        assert!(p["score"].as_f64().unwrap() > 0.5, "{p}");
        assert!(p["reason"].as_str().unwrap().contains("hour"), "{p}");
        let text = ok(&db, &["contradictions"]);
        assert!(text.contains(CT1) && text.contains("suggested"), "{text}");

        // Also said by / contradicted by.
        let r = json_of(&db, &["related", SEP_A, "--json"]);
        assert_eq!(ids(&r["also_said_by"]), vec![SEP_B.to_string()], "{r}");
        assert_eq!(r["also_said_by"][0]["issuer"], "NHSE");
        let r = json_of(&db, &["related", CT8, "--json"]);
        assert_eq!(ids(&r["contradicted_by"]), vec![CT1.to_string()], "{r}");
        let text = ok(&db, &["related", CT8]);
        assert!(text.contains("contradicted by:"), "{text}");

        // Bad input: one line, exit 1, nothing stored.
        fails(&db, &["related", "NICE-2099-0001"], "NICE-2099-0001");
        fails(
            &db,
            &["link", "decide", CT1, OTHER, "confirmed"],
            "no suggested pair",
        );
        fails(
            &db,
            &["link", "decide", CT1, "CQC-2099-0001", "confirmed"],
            "CQC-2099-0001",
        );
        fails(
            &db,
            &["link", "decide", "NICE-2099-0001", CT8, "confirmed"],
            "NICE-2099-0001",
        );
        fails(&db, &["link", "decide", CT1, CT8, "maybe"], "STATE");
        assert_eq!(
            has_pair(&json_of(&db, &["contradictions", "--json"]), CT1, CT8).as_deref(),
            Some("suggested")
        );

        // Confirm: marked confirmed in the list and seen from the other side.
        let out = ok(&db, &["link", "decide", CT1, CT8, "confirmed"]);
        assert!(
            out.contains(&format!("{CT1} contradicts {CT8} confirmed")),
            "{out}"
        );
        let c = json_of(&db, &["contradictions", "--json"]);
        assert_eq!(has_pair(&c, CT1, CT8).as_deref(), Some("confirmed"), "{c}");

        // Dismiss the engine's duplicate pair: gone from the groups and the
        // record, from either side, and it stays gone (a new process).
        let g = json_of(&db, &["duplicates", "--json"]);
        assert!(g["groups"].to_string().contains(SEP_B), "{g}");
        let out = ok(&db, &["link", "decide", SEP_B, SEP_A, "dismissed"]);
        assert!(
            out.contains(&format!("{SEP_B} duplicates {SEP_A} dismissed")),
            "{out}"
        );
        let g = json_of(&db, &["duplicates", "--json"]);
        assert!(!g["groups"].to_string().contains(SEP_B), "{g}");
        for (a, b) in [(SEP_A, SEP_B), (SEP_B, SEP_A)] {
            let r = json_of(&db, &["related", a, "--json"]);
            assert!(!r.to_string().contains(b), "{r}");
        }
        // Dismissing the contradiction from the other record wins over the
        // confirmation.
        ok(&db, &["link", "decide", CT8, CT1, "dismissed"]);
        let c = json_of(&db, &["contradictions", "--json"]);
        assert_eq!(has_pair(&c, CT1, CT8), None, "{c}");
    }
}
