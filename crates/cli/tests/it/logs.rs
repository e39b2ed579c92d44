//! Logs: plain lines by default, one JSON object per line for a collector
//! with CONCORD_LOG_FORMAT=json, and a clear refusal of any other format.

use std::process::Command;

use crate::common::{bin, sqlite};

#[test]
fn json_logs_are_one_object_per_line_and_a_bad_format_is_refused() {
    let db = sqlite();
    let run = |format: &str| {
        Command::new(bin())
            .args(["export", "--format", "json"])
            .env("CONCORD_DB", &db.url)
            .env("CONCORD_LOG", "sqlx=debug")
            .env("CONCORD_LOG_FORMAT", format)
            .current_dir(db.dir.path())
            .output()
            .expect("the concord binary runs")
    };

    let out = run("json");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "no log lines at sqlx=debug");
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert_eq!(v["level"], "DEBUG", "{l}");
        assert!(v["target"].as_str().unwrap().starts_with("sqlx"), "{l}");
    }

    let out = run("text");
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.lines().any(|l| l.contains("DEBUG")), "{stderr}");
    assert!(!stderr.trim_start().starts_with('{'), "{stderr}");

    let out = run("xml");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("CONCORD_LOG_FORMAT=\"xml\"") && stderr.contains("json or text"),
        "{stderr}"
    );
}
