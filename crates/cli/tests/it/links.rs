//! Links through the real binary, on SQLite and PostgreSQL: ids mentioned in
//! imported texts become suggested links; `concord link` confirms, dismisses
//! and asserts; exports round-trip; similarity answers on both backends.

use crate::common;

use serde_json::{Value, json};

use common::*;

fn export(db: &Db) -> Vec<u8> {
    let path = db.dir.path().join("export.json");
    ok(
        db,
        &[
            "export",
            "--format",
            "json",
            "--out",
            path.to_str().unwrap(),
        ],
    );
    std::fs::read(&path).expect("export written")
}

fn record<'a>(all: &'a Value, id: &str) -> &'a Value {
    all.as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} not exported"))
}

/// (target, kind, state) of each link, in order.
fn links(rec: &Value) -> Vec<(String, String, String)> {
    rec["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["target"].as_str().unwrap().into(),
                l["kind"].as_str().unwrap().into(),
                l["state"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn l(target: &str, kind: &str, state: &str) -> (String, String, String) {
    (target.into(), kind.into(), state.into())
}

fn rec(id: &str, published: &str, title: &str, text: &str) -> Value {
    json!({"id": id, "kind": "recommendation", "issuer": id.split('-').next().unwrap(),
        "title": title, "text": text, "status": "published", "published": published,
        "addressees": [{"name": "NHS England", "org": "NHSE", "status": "awaiting_response"}],
        "themes": ["sepsis"], "settings": ["acute"], "version": 1,
        "created_at": format!("{published}T09:00:00Z"), "updated_at": format!("{published}T09:00:00Z")})
}

fn corpus() -> Value {
    json!([
        rec(
            "NICE-2024-0001",
            "2024-01-10",
            "Sepsis screening at triage",
            "Hospitals should screen every adult for sepsis at emergency department triage and give antibiotics within one hour of recognition."
        ),
        rec(
            "HSSIB-2024-0001",
            "2024-03-01",
            "Auditing sepsis screening",
            "This builds on NICE-2024-0001. Trusts should audit sepsis screening at emergency department triage every quarter. See PFD report 2024-0079 and NTSB A-19-001."
        ),
        rec(
            "CQC-2024-0001",
            "2024-06-01",
            "Inspecting sepsis audits",
            "This supersedes HSSIB-2024-0001: inspectors should check that trusts audit sepsis screening every month."
        ),
        rec(
            "NHSE-2024-0001",
            "2024-02-01",
            "Sepsis screening in A&E",
            "Emergency departments should screen all adults for sepsis at triage and start antibiotics within 60 minutes of recognition."
        ),
    ])
}

fn stderr_of(db: &Db, args: &[&str]) -> (Option<i32>, String) {
    let out = concord(db, args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn mentions_become_suggested_links_and_people_decide_on_every_backend() {
    for db in backends() {
        let file = db.dir.path().join("records.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&corpus()).unwrap()).unwrap();
        let f = file.to_str().unwrap();
        let out = ok(&db, &["import", "--format", "json", f]);
        assert!(
            out.contains("imported 4, enriched 0, skipped 0, rejected 0"),
            "{}: {out}",
            db.name
        );

        let first = export(&db);
        let all: Value = serde_json::from_slice(&first).unwrap();
        assert_eq!(
            links(record(&all, "HSSIB-2024-0001")),
            vec![
                l("NICE-2024-0001", "builds_on", "suggested"),
                l("PFD-2024-0079", "related", "suggested"),
                l("A-19-001", "related", "suggested"),
            ],
            "{}",
            db.name
        );
        assert_eq!(
            links(record(&all, "CQC-2024-0001")),
            vec![l("HSSIB-2024-0001", "supersedes", "suggested")]
        );
        assert!(links(record(&all, "NICE-2024-0001")).is_empty());
        for r in all.as_array().unwrap() {
            for link in r["links"].as_array().unwrap() {
                assert!(link["asserted_by"].is_null(), "{}: {link}", db.name);
            }
        }

        // Re-importing adds nothing and changes nothing.
        let out = ok(&db, &["import", "--format", "json", f]);
        assert!(
            out.contains("imported 0, enriched 0, skipped 4, rejected 0"),
            "{}: {out}",
            db.name
        );
        assert_eq!(export(&db), first, "{}", db.name);

        // Similarity on this backend: the paraphrase is found as a duplicate.
        let sim: Value =
            serde_json::from_str(&ok(&db, &["similar", "--id", "NICE-2024-0001", "--json"]))
                .unwrap();
        // The default build has no `embeddings` feature, and says so.
        assert_eq!(sim["method"], "lexical", "{}: {sim}", db.name);
        assert_eq!(
            sim["matches"][0]["id"], "NHSE-2024-0001",
            "{}: {sim}",
            db.name
        );
        assert_eq!(sim["matches"][0]["relation"], "duplicate", "{sim}");

        // People decide.
        let out = ok(
            &db,
            &["link", "dismiss", "HSSIB-2024-0001", "NICE-2024-0001"],
        );
        assert!(
            out.contains("HSSIB-2024-0001 builds_on NICE-2024-0001 dismissed"),
            "{out}"
        );
        ok(
            &db,
            &["link", "confirm", "CQC-2024-0001", "HSSIB-2024-0001"],
        );
        ok(
            &db,
            &[
                "link",
                "add",
                "NHSE-2024-0001",
                "NICE-2024-0001",
                "--kind",
                "duplicates",
            ],
        );
        let all: Value = serde_json::from_slice(&export(&db)).unwrap();
        assert_eq!(
            links(record(&all, "HSSIB-2024-0001"))[0],
            l("NICE-2024-0001", "builds_on", "dismissed")
        );
        assert_eq!(
            links(record(&all, "CQC-2024-0001")),
            vec![l("HSSIB-2024-0001", "supersedes", "confirmed")]
        );
        let nhse = record(&all, "NHSE-2024-0001");
        assert_eq!(
            links(nhse),
            vec![l("NICE-2024-0001", "duplicates", "confirmed")]
        );
        assert!(
            nhse["links"][0]["asserted_by"]
                .as_str()
                .unwrap()
                .starts_with("cli:")
        );

        // A dismissed link stays dismissed after similar --id (it is left out).
        let sim: Value =
            serde_json::from_str(&ok(&db, &["similar", "--id", "HSSIB-2024-0001", "--json"]))
                .unwrap();
        assert!(
            sim["matches"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["id"] != "NICE-2024-0001"),
            "{sim}"
        );

        // Export -> import into an empty database -> export: identical,
        // decisions and all.
        let before = export(&db);
        let copy_file = db.dir.path().join("copy.json");
        std::fs::write(&copy_file, &before).unwrap();
        let fresh = if db.name == "sqlite" {
            sqlite()
        } else {
            postgres().expect("server")
        };
        let out = ok(
            &fresh,
            &["import", "--format", "json", copy_file.to_str().unwrap()],
        );
        assert!(
            out.contains("imported 4, enriched 0, skipped 0, rejected 0"),
            "{out}"
        );
        assert_eq!(export(&fresh), before, "{}", db.name);
        let out = ok(
            &fresh,
            &["import", "--format", "json", copy_file.to_str().unwrap()],
        );
        assert!(
            out.contains("imported 0, enriched 0, skipped 4"),
            "{}: {out}",
            db.name
        );
        assert_eq!(export(&fresh), before, "{}", db.name);
    }
}

#[test]
fn link_refusals_are_one_line_with_exit_status_1() {
    for db in backends() {
        let file = db.dir.path().join("records.json");
        std::fs::write(&file, serde_json::to_vec(&corpus()).unwrap()).unwrap();
        ok(&db, &["import", "--format", "json", file.to_str().unwrap()]);
        let before = export(&db);
        for (args, words) in [
            (
                vec!["link", "confirm", "HSSIB-2024-0001", "CQC-2020-0001"],
                "no link to CQC-2020-0001",
            ),
            (
                vec!["link", "confirm", "HSSIB-2024-0099", "NICE-2024-0001"],
                "HSSIB-2024-0099",
            ),
            (vec!["link", "dismiss", "not-an-id", "NICE-2024-0001"], "ID"),
            (
                vec![
                    "link",
                    "add",
                    "HSSIB-2024-0001",
                    "NICE-2024-0001",
                    "--kind",
                    "maybe",
                ],
                "--kind",
            ),
            (
                vec!["link", "add", "HSSIB-2024-0001", "NICE-2023-0042"],
                "NICE-2023-0042",
            ),
            (vec!["link", "add", "HSSIB-2024-0001", "nonsense"], "target"),
            (
                vec!["link", "add", "HSSIB-2024-0001", "HSSIB-2024-0001"],
                "itself",
            ),
        ] {
            let (code, err) = stderr_of(&db, &args);
            assert_eq!(code, Some(1), "{}: {args:?}: {err}", db.name);
            assert!(err.contains(words), "{args:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
            assert!(!err.contains("panicked"), "{err}");
        }
        let (code, _) = stderr_of(&db, &["link", "frob", "HSSIB-2024-0001", "X"]);
        assert_eq!(code, Some(2));
        assert_eq!(export(&db), before, "{}: refusals changed nothing", db.name);
    }
}

#[test]
fn similar_and_duplicates_answer_alike_on_every_backend() {
    let mut answers: Vec<(String, Vec<String>)> = Vec::new();
    for db in backends() {
        let file = db.dir.path().join("records.json");
        std::fs::write(&file, serde_json::to_vec(&corpus()).unwrap()).unwrap();
        ok(&db, &["import", "--format", "json", file.to_str().unwrap()]);
        let draft = db.dir.path().join("draft.txt");
        std::fs::write(
            &draft,
            "Screen adults in A&E for sepsis at triage; antibiotics within the hour.",
        )
        .unwrap();
        let by_text = ok(
            &db,
            &[
                "similar",
                "--text",
                "Screen adults in A&E for sepsis at triage; antibiotics within the hour.",
                "--json",
            ],
        );
        let by_file = ok(
            &db,
            &["similar", "--file", draft.to_str().unwrap(), "--json"],
        );
        assert_eq!(by_text, by_file, "{}", db.name);
        let v: Value = serde_json::from_str(&by_text).unwrap();
        let top: Vec<&str> = v["matches"]
            .as_array()
            .unwrap()
            .iter()
            .take(2)
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert!(
            top.contains(&"NICE-2024-0001") && top.contains(&"NHSE-2024-0001"),
            "{}: {v}",
            db.name
        );
        let dups = ok(&db, &["duplicates", "--json"]);
        let d: Value = serde_json::from_str(&dups).unwrap();
        assert_eq!(
            d["groups"][0]["ids"],
            json!(["NHSE-2024-0001", "NICE-2024-0001"]),
            "{}: {d}",
            db.name
        );
        // Bad drafts: one line, exit 1, no panic.
        for text in [
            "",
            "2024 15 60",
            "患者は一時間以内に抗生物質を投与されるべきである",
        ] {
            let (code, err) = stderr_of(&db, &["similar", "--text", text]);
            assert_eq!(code, Some(1), "{}: {text:?}: {err}", db.name);
            assert_eq!(err.trim().lines().count(), 1, "{err}");
        }
        answers.push((db.name.to_string(), vec![by_text, dups]));
    }
    // The same answers, score for score, on every backend.
    for w in answers.windows(2) {
        assert_eq!(w[0].1, w[1].1, "{} vs {}", w[0].0, w[1].0);
    }
}

#[test]
fn endorsements_through_the_binary_on_every_backend() {
    for db in backends() {
        let file = db.dir.path().join("records.json");
        std::fs::write(&file, serde_json::to_vec_pretty(&corpus()).unwrap()).unwrap();
        ok(&db, &["import", "--format", "json", file.to_str().unwrap()]);
        let id = "NICE-2024-0001";
        assert_eq!(
            ok(&db, &["endorse", id]).trim(),
            format!("no body endorses {id}")
        );
        let out = ok(
            &db,
            &[
                "endorse",
                id,
                "--as",
                "CQC",
                "--note",
                "We stand behind it.",
            ],
        );
        assert_eq!(out.trim(), format!("{id} endorsed by CQC"), "{}", db.name);
        // Refused, exit 1, one line: again, its own, an unknown body.
        let (code, err) = stderr_of(&db, &["endorse", id, "--as", "CQC"]);
        assert_eq!(code, Some(1));
        assert!(err.contains("already endorses"), "{err}");
        let (code, err) = stderr_of(&db, &["endorse", id, "--as", "NICE"]);
        assert_eq!(code, Some(1));
        assert!(err.contains("NICE issued"), "{err}");
        let (code, err) = stderr_of(&db, &["endorse", id, "--as", "NOBODY"]);
        assert_eq!(code, Some(1));
        assert!(err.contains("NOBODY"), "{err}");
        let listed: Value = serde_json::from_str(&ok(&db, &["endorse", id, "--json"])).unwrap();
        assert_eq!(listed[0]["org"], "CQC", "{}", db.name);
        assert_eq!(listed[0]["note"], "We stand behind it.");
        assert_eq!(listed.as_array().unwrap().len(), 1);
        let out = ok(&db, &["endorse", id, "--as", "CQC", "--withdraw"]);
        assert_eq!(out.trim(), format!("CQC no longer endorses {id}"));
        let (code, err) = stderr_of(&db, &["endorse", id, "--as", "CQC", "--withdraw"]);
        assert_eq!(code, Some(1));
        assert!(err.contains("does not endorse"), "{err}");
    }
}
