//! `concord rules` on every backend: the rules in force, an installation's
//! own rule for an issuer (stored, audited, shown), what it changes (records
//! published afterwards; the ladder at once) and what it leaves alone
//! (deadlines already set), bad input refused with nothing stored, reset.

use crate::common;

use common::*;
use serde_json::Value;

fn stderr_of(db: &Db, args: &[&str]) -> (Option<i32>, String) {
    let out = concord(db, args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rule(db: &Db, issuer: &str) -> Value {
    let v: Value = serde_json::from_str(&ok(db, &["rules", "show", "--json"])).unwrap();
    v["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["issuer"] == issuer)
        .cloned()
        .unwrap_or(Value::Null)
}

fn import(db: &Db, name: &str, row: &str) {
    let file = db.dir.path().join(name);
    std::fs::write(
        &file,
        format!("issuer,title,text,published,addressees\n{row}\n"),
    )
    .unwrap();
    ok(db, &["import", file.to_str().unwrap()]);
}

/// (id, due, next escalation step, from) of each late HSSIB answer, by id.
fn overdue(db: &Db) -> Vec<(String, String, String, String)> {
    let v: Value = serde_json::from_str(&ok(
        db,
        &[
            "overdue",
            "--issuer",
            "HSSIB",
            "--as-of",
            "2024-06-01",
            "--json",
        ],
    ))
    .unwrap();
    let mut items: Vec<_> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["due"].as_str().unwrap().to_string(),
                i["next_escalation"]["step"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
                i["next_escalation"]["from"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    items.sort();
    items
}

#[test]
fn an_installations_rule_applies_from_publication_and_its_ladder_at_once() {
    for db in backends() {
        let n = db.name;
        let pfd = rule(&db, "PFD");
        assert_eq!(pfd["origin"], "built_in", "{n}: {pfd}");
        assert_eq!(pfd["rules"]["days_to_respond"], 56, "{n}");
        assert_eq!(rule(&db, "HSSIB")["rules"]["days_to_respond"], 90, "{n}");

        import(
            &db,
            "a.csv",
            "HSSIB,Handover,Hand over safely at every change of shift.,2024-01-10,NHS England",
        );
        // Published under the built-in rule: 90 days.
        assert_eq!(
            overdue(&db),
            vec![(
                "HSSIB-2024-0001".to_string(),
                "2024-04-09".to_string(),
                "reminder".to_string(),
                "2024-04-10".to_string()
            )],
            "{n}"
        );

        let out = ok(
            &db,
            &[
                "rules",
                "set",
                "HSSIB",
                "--days",
                "30",
                "--ladder",
                "reminder:7,second_letter:14",
                "--source",
                "Board decision, November 2026",
            ],
        );
        assert!(
            out.contains("30 days") && out.contains("this installation"),
            "{n}: {out}"
        );
        let hssib = rule(&db, "HSSIB");
        assert_eq!(hssib["origin"], "installation", "{n}: {hssib}");
        assert_eq!(hssib["rules"]["days_to_respond"], 30, "{n}");
        assert_eq!(hssib["rules"]["ladder"].as_array().unwrap().len(), 2, "{n}");
        assert_eq!(hssib["built_in"]["days_to_respond"], 90, "{n}");

        // Published after the change: 30 days (1 February + 30 = 2 March in
        // a leap year). The earlier record keeps its 90 days; both climb
        // the new ladder (reminder 7 days after the due date).
        import(
            &db,
            "b.csv",
            "HSSIB,Discharge,Send a discharge summary within a day.,2024-02-01,NHS England",
        );
        assert_eq!(
            overdue(&db),
            vec![
                (
                    "HSSIB-2024-0001".to_string(),
                    "2024-04-09".to_string(),
                    "reminder".to_string(),
                    "2024-04-16".to_string()
                ),
                (
                    "HSSIB-2024-0002".to_string(),
                    "2024-03-02".to_string(),
                    "reminder".to_string(),
                    "2024-03-09".to_string()
                ),
            ],
            "{n}"
        );

        // Bad input: one line naming the field, exit 1, nothing stored.
        for (args, words) in [
            (vec!["--days", "0"], "days_to_respond"),
            (vec!["--days", "5000"], "days_to_respond"),
            (vec!["--days", "-3"], "days_to_respond"),
            (
                vec!["--days", "30", "--ladder", "second_letter:7,reminder:14"],
                "ladder[1].step",
            ),
            (
                vec!["--days", "30", "--ladder", "reminder:14,second_letter:7"],
                "ladder[1].days_after_due",
            ),
            (
                vec!["--days", "30", "--ladder", "reminder:7,telegram:14"],
                "ladder[1].step",
            ),
            (vec!["--days", "30", "--ladder", "reminder"], "ladder[0]"),
        ] {
            let mut all = vec!["rules", "set", "HSSIB"];
            all.extend(args.iter().copied());
            let (code, err) = stderr_of(&db, &all);
            assert_eq!(code, Some(1), "{n}: {all:?}: {err}");
            assert!(err.contains(words), "{n}: {all:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{n}: {err}");
        }
        let (code, err) = stderr_of(&db, &["rules", "set", "NOPE", "--days", "30"]);
        assert_eq!(code, Some(1), "{n}: {err}");
        assert!(
            err.contains("issuer: NOPE is not a registered organisation"),
            "{n}: {err}"
        );
        assert_eq!(rule(&db, "HSSIB"), hssib, "{n}: a refusal changed the rule");
        assert_eq!(rule(&db, "NOPE"), Value::Null, "{n}");

        // A registered issuer without a built-in rule gets one of its own.
        ok(&db, &["rules", "set", "CQC", "--days", "45"]);
        let cqc = rule(&db, "CQC");
        assert_eq!(cqc["rules"]["days_to_respond"], 45, "{n}: {cqc}");
        // Without --ladder it keeps the ladder in force (the default's).
        assert_eq!(cqc["rules"]["ladder"].as_array().unwrap().len(), 3, "{n}");

        // Reset: the built-in rule again; the deadlines already set stay.
        let out = ok(&db, &["rules", "reset", "HSSIB"]);
        assert!(
            out.contains("90 days") && out.contains("built-in"),
            "{n}: {out}"
        );
        assert_eq!(rule(&db, "HSSIB")["origin"], "built_in", "{n}");
        ok(&db, &["rules", "reset", "CQC"]);
        assert_eq!(rule(&db, "CQC"), Value::Null, "{n}");
        let after = overdue(&db);
        assert_eq!(after[1].1, "2024-03-02", "{n}: {after:?}");
        assert_eq!(after[1].3, "2024-03-03", "{n}: back to the built-in ladder");

        // Every change is in the backup (the database is the truth).
        let backup = db.dir.path().join("b.jsonl");
        ok(&db, &["backup", backup.to_str().unwrap()]);
        let text = std::fs::read_to_string(&backup).unwrap();
        assert!(text.contains("set_response_rules"), "{n}: the audit trail");
        assert!(text.contains("reset_response_rules"), "{n}");
    }
}
