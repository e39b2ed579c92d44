//! Killing an import with SIGKILL leaves the register as it was before.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

fn count(db: &Db) -> u64 {
    let v: serde_json::Value =
        serde_json::from_str(&ok(db, &["list", "--json", "--limit", "1"])).unwrap();
    v["total"].as_u64().unwrap()
}

#[test]
fn sigkill_mid_import_leaves_the_database_unchanged() {
    for db in backends() {
        // Something already in the register (dated 2000, so that none of
        // its ids is one the generated corpus uses).
        let existing = db.dir.path().join("existing.csv");
        std::fs::write(
            &existing,
            "issuer,title,text,published\nHSSIB,Handover,Hand over safely.,2000-01-10\nCQC,Staffing,Staff wards safely.,2000-02-11\n",
        )
        .unwrap();
        ok(&db, &["import", existing.to_str().unwrap()]);
        let before_count = count(&db);
        assert_eq!(before_count, 2);
        let file = db.dir.path().join("big.jsonl");
        ok(
            &db,
            &[
                "gen",
                "--count",
                "9000",
                "--seed",
                "11",
                "--out",
                file.to_str().unwrap(),
            ],
        );
        let mut child = Command::new(bin())
            .args(["import", "--format", "json", file.to_str().unwrap()])
            .env("CONCORD_DB", &db.url)
            .env("CONCORD_PROGRESS", "plain")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Progress lines come from inside the import transaction: once
        // 3,000 records are in (three batches written, a third of the file),
        // the import is well under way.
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let mut seen = Vec::new();
        for line in stderr.lines() {
            let line = line.unwrap();
            seen.push(line.clone());
            if line == "importing 3000" {
                break;
            }
        }
        assert_eq!(
            seen.last().map(String::as_str),
            Some("importing 3000"),
            "{}: {seen:?}",
            db.name
        );
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let status = child.wait().unwrap();
        assert!(
            status.code().is_none(),
            "{}: the import was not killed ({status})",
            db.name
        );
        assert_eq!(
            count(&db),
            before_count,
            "{}: the killed import left records behind",
            db.name
        );
        // The database is usable: no lock or half-written state is left, and
        // the next import (a smaller corpus, to keep the suite quick) goes in.
        let small = db.dir.path().join("small.jsonl");
        ok(
            &db,
            &[
                "gen",
                "--count",
                "2000",
                "--seed",
                "11",
                "--out",
                small.to_str().unwrap(),
            ],
        );
        let out = ok(
            &db,
            &["import", "--format", "json", small.to_str().unwrap()],
        );
        assert!(
            out.contains("imported 2000, enriched 0, skipped 0, rejected 0"),
            "{out}"
        );
        assert_eq!(count(&db), before_count + 2000);
    }
}

/// An import is written a thousand records at a time: a refusal deep in a
/// large file still names its file and row, and takes the batches already
/// written back with it.
#[test]
fn a_refusal_deep_in_a_large_import_names_its_row_and_writes_nothing() {
    for db in backends() {
        let existing = db.dir.path().join("existing.csv");
        std::fs::write(
            &existing,
            "issuer,title,text,published\nHSSIB,Handover,Hand over safely.,2000-01-10\n",
        )
        .unwrap();
        ok(&db, &["import", existing.to_str().unwrap()]);
        let stored: serde_json::Value =
            serde_json::from_str(&ok(&db, &["list", "--json", "--limit", "1"])).unwrap();
        let taken = stored["items"][0]["id"].as_str().unwrap().to_string();
        let generated = db.dir.path().join("gen.jsonl");
        ok(
            &db,
            &[
                "gen",
                "--count",
                "2500",
                "--seed",
                "5",
                "--out",
                generated.to_str().unwrap(),
            ],
        );
        // Row 2,100 claims the stored record's id with other content.
        let lines: Vec<String> = std::fs::read_to_string(&generated)
            .unwrap()
            .lines()
            .enumerate()
            .map(|(i, l)| {
                if i + 1 == 2100 {
                    let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v["id"] = serde_json::Value::String(taken.clone());
                    v["issuer"] = serde_json::Value::String("HSSIB".into());
                    v.to_string()
                } else {
                    l.to_string()
                }
            })
            .collect();
        let file = db.dir.path().join("big.jsonl");
        std::fs::write(&file, lines.join("\n") + "\n").unwrap();
        let out = concord(&db, &["import", "--format", "json", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", db.name);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("big.jsonl: row 2100:")
                && err.contains(&taken)
                && err.contains("nothing was imported"),
            "{}: {err}",
            db.name
        );
        assert_eq!(
            count(&db),
            1,
            "{}: the first two batches were kept",
            db.name
        );
    }
}
