//! `concord check` and `concord criteria`, end to end, on every backend.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn write(db: &Db, name: &str, text: &str) -> String {
    let p = db.dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn fails(db: &Db, args: &[&str]) -> String {
    let out = concord(db, args);
    assert_eq!(out.status.code(), Some(1), "concord {args:?} should exit 1");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

const DRAFTS: &str = r#"[
  {"text": "All relevant organisations should consider raising awareness of sepsis."},
  {"issuer": "HSSIB", "addressees": ["NHS England"],
   "text": "NHS England should require every acute trust to audit sepsis screening by 31 March 2026."}
]"#;

#[test]
fn check_reports_each_draft_as_json_and_as_a_table() {
    for db in backends() {
        let f = write(&db, "drafts.json", DRAFTS);
        let out: Value = serde_json::from_str(&ok(&db, &["check", &f, "--json"])).unwrap();
        let reports = out.as_array().unwrap();
        assert_eq!(reports.len(), 2, "{}", db.name);
        assert_eq!(reports[0]["index"], 0);
        let time = reports[0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["criterion"] == "time_bound")
            .unwrap();
        assert_eq!(time["result"], "fail");
        assert!(
            time["message"]
                .as_str()
                .unwrap()
                .starts_with("No deadline or review date")
        );
        assert!(time["suggestion"].is_string());
        let table = ok(&db, &["check", &f]);
        assert!(table.contains("draft 0: score "), "{table}");
        assert!(table.contains("warn  addressee"), "{table}");
        assert!(
            table.contains("'consider' alone is not an action: say what should be done"),
            "{table}"
        );
        // Standard input.
        let mut child = Command::new(bin())
            .args(["check", "-", "--json"])
            .env("CONCORD_DB", &db.url)
            .current_dir(db.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(br#"{"text": "Publish the guidance by 1 May 2026."}"#)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 1);
    }
}

#[test]
fn a_ruleset_file_or_an_issuer_setting_replaces_the_default() {
    for db in backends() {
        let drafts = write(&db, "drafts.json", DRAFTS);
        let set = write(
            &db,
            "ours.json",
            r#"{"name": "ours", "gate": {"no_fail": ["Deadline"]},
                "criteria": [{"name": "Deadline", "check": "time_bound", "weight": 2},
                             {"name": "Verb", "check": "action"}]}"#,
        );
        let out: Value =
            serde_json::from_str(&ok(&db, &["check", &drafts, "--json", "--ruleset", &set]))
                .unwrap();
        let names: Vec<&str> = out[0]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["criterion"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Deadline", "Verb"]);
        assert_eq!(out[0]["score"], 0);
        assert_eq!(out[1]["score"], 100);
        // Stored for HSSIB: its drafts use it, others keep the default.
        let said = ok(&db, &["criteria", "set", "--org", "HSSIB", &set]);
        assert!(
            said.contains("HSSIB now uses the criteria set \"ours\""),
            "{said}"
        );
        let out: Value = serde_json::from_str(&ok(&db, &["check", &drafts, "--json"])).unwrap();
        assert_eq!(out[0]["checks"].as_array().unwrap().len(), 13);
        assert_eq!(out[1]["checks"].as_array().unwrap().len(), 2);
        let shown = ok(&db, &["criteria", "show", "--org", "HSSIB"]);
        assert!(shown.contains("its own criteria set \"ours\""), "{shown}");
        assert!(shown.contains("must not fail: Deadline"), "{shown}");
        ok(&db, &["criteria", "clear", "--org", "HSSIB"]);
        let shown = ok(&db, &["criteria", "show", "--org", "HSSIB"]);
        assert!(shown.contains("Concord's default criteria set"), "{shown}");
    }
}

#[test]
fn bad_input_is_refused_naming_the_file_and_field() {
    for db in backends() {
        let no_text = write(
            &db,
            "no-text.json",
            r#"[{"text": "ok"}, {"title": "no text"}]"#,
        );
        let err = fails(&db, &["check", &no_text]);
        assert!(
            err.contains("no-text.json: field [1].text: is missing or empty"),
            "{err}"
        );
        let not_json = write(&db, "notes.json", "Dear colleagues, please see below.");
        let err = fails(&db, &["check", &not_json]);
        assert!(err.contains("notes.json: is not JSON"), "{err}");
        let wrong_type = write(&db, "wrong.json", r#"{"text": "x", "addressees": 3}"#);
        let err = fails(&db, &["check", &wrong_type]);
        assert!(
            err.contains("field addressees: expected an array of addressees, found a number"),
            "{err}"
        );
        let good = write(&db, "good.json", r#"{"text": "x"}"#);
        let unknown = write(
            &db,
            "unknown.json",
            r#"{"criteria": [{"check": "smartness"}]}"#,
        );
        let err = fails(&db, &["check", &good, "--ruleset", &unknown]);
        assert!(
            err.contains(
                "unknown.json: field criteria[0].check: \"smartness\" is not a known check"
            ),
            "{err}"
        );
        let wrong = write(
            &db,
            "weight.json",
            r#"{"criteria": [{"check": "cost", "weight": "high"}]}"#,
        );
        let err = fails(&db, &["check", &good, "--ruleset", &wrong]);
        assert!(
            err.contains(
                "weight.json: field criteria[0].weight: expected a number, found a string"
            ),
            "{err}"
        );
        // A bad set is never stored.
        let err = fails(&db, &["criteria", "set", "--org", "HSSIB", &wrong]);
        assert!(err.contains("field criteria[0].weight"), "{err}");
        let shown = ok(&db, &["criteria", "show", "--org", "HSSIB"]);
        assert!(shown.contains("default"), "{shown}");
        let err = fails(&db, &["criteria", "show", "--org", "NOBODY"]);
        assert!(err.contains("NOBODY"), "{err}");
    }
}

/// With the register loaded, cross_reference asks the similarity engine: a
/// draft that repeats an existing recommendation without linking it warns,
/// naming the id (and the one it contradicts: the demo's NHSE-2023-0001 lets
/// crews go at 45 minutes); the same draft linking both passes.
#[test]
fn cross_reference_names_the_existing_recommendation_a_draft_repeats() {
    let db = sqlite();
    ok(&db, &["demo", "--load"]);
    let text = "NHS England should set a national standard that clinical responsibility for every \
                patient arriving by ambulance passes to the emergency department within 15 minutes \
                of arrival, with immediate assessment by a registered emergency department clinician, \
                and should publish each trust's monthly performance against it.";
    let drafts = serde_json::json!([
        {"issuer": "CQC", "title": "Ambulance handover standard", "text": text},
        {"issuer": "CQC", "title": "Ambulance handover standard", "text": text,
         "links": [{"kind": "supports", "target": "HSSIB-2024-0001", "state": "confirmed",
                    "asserted_by": "CQC", "asserted_at": null},
                   {"kind": "related", "target": "NHSE-2023-0001", "state": "confirmed",
                    "asserted_by": "CQC", "asserted_at": null}]},
    ]);
    let file = db.dir.path().join("drafts.json");
    std::fs::write(&file, serde_json::to_vec(&drafts).unwrap()).unwrap();
    let out: serde_json::Value =
        serde_json::from_str(&ok(&db, &["check", "--json", file.to_str().unwrap()])).unwrap();
    let verdict = |i: usize| {
        out[i]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["criterion"] == "cross_reference")
            .cloned()
            .unwrap()
    };
    let unlinked = verdict(0);
    assert_eq!(unlinked["result"], "warn", "{unlinked}");
    assert!(
        unlinked["message"]
            .as_str()
            .unwrap()
            .contains("HSSIB-2024-0001"),
        "{unlinked}"
    );
    let linked = verdict(1);
    assert_eq!(linked["result"], "pass", "{linked}");
}
