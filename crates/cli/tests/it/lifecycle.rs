//! The lifecycle moves through the real binary on SQLite and PostgreSQL:
//! a journey acted out as each organisation (`--as`), refusals that exit 1
//! with a reason and store nothing, and an export that carries every
//! lifecycle field into an empty database unchanged.

use crate::common;

use serde_json::{Value, json};

use common::*;

fn export(db: &Db, name: &str) -> Vec<u8> {
    let path = db.dir.path().join(name);
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

fn fails(db: &Db, args: &[&str]) -> String {
    let out = concord(db, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{} {args:?}: expected exit 1, stdout {}",
        db.name,
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

fn show(db: &Db, id: &str) -> Value {
    serde_json::from_str(&ok(db, &["show", id, "--json"])).unwrap()
}

const ID: &str = "HSSIB-2024-0001";

fn seed(db: &Db) {
    let file = db.dir.path().join("records.json");
    let recs = json!([{
        "id": ID, "kind": "recommendation", "issuer": "HSSIB", "status": "published",
        "title": "Sepsis screening at triage", "published": "2024-01-04",
        "text": "NHS England should require sepsis screening at triage within 15 minutes.",
        "addressees": [
            {"name": "NHS England", "org": "NHSE"},
            {"name": "Northmoor Hospitals NHS Trust", "org": null}
        ],
        "version": 1, "created_at": "2024-01-04T09:00:00Z", "updated_at": "2024-01-04T09:00:00Z"
    }]);
    std::fs::write(&file, serde_json::to_vec(&recs).unwrap()).unwrap();
    ok(db, &["import", file.to_str().unwrap()]);
}

#[test]
fn the_lifecycle_through_the_binary_on_every_backend() {
    for db in backends() {
        seed(&db);
        // The deadline came from HSSIB's rules (90 days).
        assert_eq!(
            show(&db, ID)["response_deadline"],
            "2024-04-03",
            "{}",
            db.name
        );

        let e = fails(
            &db,
            &[
                "respond",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "CQC",
                "--acceptance",
                "accepted",
                "--text",
                "x",
            ],
        );
        assert!(e.contains("only the addressee"), "{e}");
        // The refusal is in the audit trail, as one over HTTP would be.
        let backup = db.dir.path().join("after-refusal.jsonl");
        ok(&db, &["backup", backup.to_str().unwrap()]);
        let refused: Vec<String> = std::fs::read_to_string(&backup)
            .unwrap()
            .lines()
            .filter(|l| l.contains("concord respond") && l.contains("cli:as:CQC"))
            .map(String::from)
            .collect();
        assert_eq!(refused.len(), 1, "{}: {refused:?}", db.name);
        assert!(refused[0].contains(ID), "{}", refused[0]);
        let e = fails(
            &db,
            &[
                "respond",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NHSE",
                "--acceptance",
                "perhaps",
                "--text",
                "x",
            ],
        );
        assert!(
            e.contains("--acceptance") && e.contains("partly_accepted"),
            "{e}"
        );
        let e = fails(
            &db,
            &[
                "respond",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NHSE",
                "--acceptance",
                "accepted",
                "--text",
                "x",
                "--received",
                "2023-12-31",
            ],
        );
        assert!(e.contains("field received"), "{e}");
        let e = fails(
            &db,
            &[
                "respond",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NOSUCH",
                "--acceptance",
                "accepted",
                "--text",
                "x",
            ],
        );
        assert!(e.contains("NOSUCH"), "{e}");
        assert_eq!(
            show(&db, ID)["version"],
            1,
            "{}: refusals store nothing",
            db.name
        );

        let out = ok(&db, &["escalate", ID, "--addressee", "1", "--as", "HSSIB"]);
        assert!(out.contains("escalated: reminder"), "{out}");
        let out = ok(
            &db,
            &[
                "respond",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NHSE",
                "--acceptance",
                "partly_accepted",
                "--text",
                "Screening within 30 minutes, not 15.",
                "--received",
                "2024-04-10",
            ],
        );
        assert!(
            out.contains("response_received") && out.contains("acceptance partly_accepted"),
            "{out}"
        );
        let e = fails(
            &db,
            &[
                "respond",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NHSE",
                "--acceptance",
                "accepted",
                "--text",
                "again",
            ],
        );
        assert!(e.contains("already answered on 2024-04-10"), "{e}");
        ok(
            &db,
            &[
                "action",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NHSE",
                "--title",
                "Revise the triage standard",
                "--due",
                "2025-01-31",
                "--evidence",
                "https://example.org/standard",
            ],
        );
        ok(
            &db,
            &[
                "update",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NHSE",
                "--implementation",
                "in_progress",
                "--action",
                "1",
            ],
        );
        let e = fails(
            &db,
            &[
                "assess",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "NHSE",
                "--verdict",
                "fully_satisfactory",
            ],
        );
        assert!(e.contains("own response"), "{e}");
        ok(
            &db,
            &[
                "assess",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "HSSIB",
                "--verdict",
                "satisfactory_in_part",
                "--comment",
                "30 minutes is too long.",
            ],
        );
        ok(
            &db,
            &[
                "reassess",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "HSSIB",
                "--on",
                "2099-06-01",
            ],
        );
        // The trust, with no organisation code, is answered for by the operator.
        ok(
            &db,
            &[
                "dormant",
                ID,
                "--addressee",
                "Northmoor",
                "--note",
                "Trust merged.",
            ],
        );
        let e = fails(
            &db,
            &[
                "close",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "HSSIB",
                "--reason",
                "implemented",
            ],
        );
        assert!(e.contains("field note"), "{e}");
        let out = ok(
            &db,
            &[
                "close",
                ID,
                "--addressee",
                "NHSE",
                "--as",
                "HSSIB",
                "--reason",
                "not_implemented",
            ],
        );
        assert!(out.contains("closed not_implemented"), "{out}");

        let rec = show(&db, ID);
        let a = &rec["addressees"][0];
        assert_eq!(a["acceptance"], "partly_accepted");
        assert_eq!(a["implementation"], "not_started");
        assert_eq!(a["actions"][0]["progress"], "in_progress");
        assert_eq!(a["assessment"]["verdict"], "satisfactory_in_part");
        assert_eq!(a["escalations"][0]["step"], "reminder");
        assert_eq!(a["closure"]["reason"], "not_implemented");
        assert_eq!(a["reassess_on"], "2099-06-01");
        assert_eq!(rec["addressees"][1]["status"], "dormant");
        assert_eq!(rec["status"], "published", "the dormant part is not closed");

        let text = ok(&db, &["show", ID]);
        assert!(text.contains("assessed satisfactory_in_part"), "{text}");

        // Everything survives export -> import into an empty database -> export.
        let first = export(&db, "first.json");
        let other = sqlite();
        let file = other.dir.path().join("in.json");
        std::fs::write(&file, &first).unwrap();
        ok(&other, &["import", file.to_str().unwrap()]);
        let second = export(&other, "second.json");
        let (a, b): (Value, Value) = (
            serde_json::from_slice(&first).unwrap(),
            serde_json::from_slice(&second).unwrap(),
        );
        assert_eq!(a, b, "{}: export round trip", db.name);
    }
}
