//! `concord search` and `concord reindex` through the real binary, on SQLite
//! and PostgreSQL; the same results from the CLI and the API; an import
//! while the server runs (the server's indexer picks it up, no lock error).

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::*;
use serde_json::Value;

fn json(db: &Db, args: &[&str]) -> Value {
    serde_json::from_str(&ok(db, args)).expect("search --json prints JSON")
}

fn ids(v: &Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &Db) -> Server {
    let mut child = Command::new(bin())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("CONCORD_DB", &db.url)
        .current_dir(db.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("first line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("listening line")
        .to_string();
    Server { child, base }
}

fn http_get(url: &str) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let res = reqwest::get(url).await.expect("request");
        let status = res.status().as_u16();
        (status, res.json().await.expect("JSON"))
    })
}

#[test]
fn search_on_every_backend_and_the_same_answer_from_the_api() {
    for db in backends() {
        ok(&db, &["demo", "--load"]);
        let cli = json(
            &db,
            &["search", "sepsis antibiotics", "--json", "--limit", "10"],
        );
        assert!(cli["total"].as_u64().unwrap() >= 2, "{}: {cli}", db.name);
        assert!(
            cli["hits"][0]["snippet"]
                .as_str()
                .unwrap()
                .contains("<mark>")
        );
        assert!(cli["facets"]["issuer"].is_object() && cli["facets"]["year"].is_object());
        let text = ok(&db, &["search", "sepsis antibiotics", "--limit", "3"]);
        assert!(
            text.contains("**sepsis**") || text.contains("**Sepsis**"),
            "{text}"
        );
        assert!(text.contains("of "), "{text}");

        // Filters.
        let f = json(&db, &["search", "sepsis", "--json", "--issuer", "NICE"]);
        assert!(ids(&f).iter().all(|i| i.starts_with("NICE-")), "{f}");
        let f = json(
            &db,
            &[
                "search",
                "",
                "--json",
                "--from",
                "2024-01-01",
                "--to",
                "2024-12-31",
                "--limit",
                "100",
            ],
        );
        assert!(f["total"].as_u64().unwrap() > 0);
        assert_eq!(
            f["facets"]["year"]
                .as_object()
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["2024"]
        );

        // The operator at the command line also finds drafts.
        let d = json(&db, &["search", "", "--json", "--status", "draft"]);
        assert!(d["total"].as_u64().unwrap() >= 1);

        // The API gives the same hits for the same query (anonymous: no drafts either way here).
        let server = serve(&db);
        let (status, api) = http_get(&format!(
            "{}/api/v1/search?q=sepsis+antibiotics&per_page=10",
            server.base
        ));
        assert_eq!(status, 200);
        assert_eq!(ids(&api), ids(&cli), "{}", db.name);
        assert_eq!(api["total"], cli["total"]);
        assert_eq!(api["facets"], cli["facets"]);
        drop(server);

        let out = ok(&db, &["reindex"]);
        assert!(out.starts_with("indexed "), "{out}");
        assert_eq!(
            json(
                &db,
                &["search", "sepsis antibiotics", "--json", "--limit", "10"]
            )["hits"],
            cli["hits"]
        );
    }
}

#[test]
fn an_import_while_the_server_runs_is_indexed_by_the_server() {
    let db = sqlite();
    let server = serve(&db);
    let corpus = db.dir.path().join("gen.json");
    ok(
        &db,
        &[
            "gen",
            "--count",
            "200",
            "--seed",
            "3",
            "--format",
            "json",
            "--out",
            corpus.to_str().unwrap(),
        ],
    );
    let out = concord(&db, &["import", corpus.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("running Concord server"), "{stderr}");
    // reindex cannot take the writer from the server: a clear refusal.
    let r = concord(&db, &["reindex"]);
    assert_eq!(r.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&r.stderr).contains("another Concord process"));
    // The server's indexer follows the outbox; a CLI search alongside it
    // reads the same index (without the writer). Wait for it, bounded.
    let listed = json(&db, &["list", "--json", "--limit", "1"])["total"]
        .as_u64()
        .unwrap();
    assert_eq!(listed, 200);
    let mut seen = 0;
    for _ in 0..600 {
        seen = json(&db, &["search", "", "--json"])["total"]
            .as_u64()
            .unwrap();
        if seen == listed {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(seen, listed);
    let drafts = json(
        &db,
        &["list", "--json", "--status", "draft", "--limit", "1"],
    )["total"]
        .as_u64()
        .unwrap();
    // The server's own reader picks up the indexer's commit a moment after
    // a fresh CLI reader does: wait for it too, bounded.
    let mut api_total = 0;
    for _ in 0..600 {
        let (status, api) = http_get(&format!("{}/api/v1/search?q=", server.base));
        assert_eq!(status, 200);
        api_total = api["total"].as_u64().unwrap();
        if api_total == listed - drafts {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(api_total, listed - drafts, "anonymous: no drafts");
    drop(server);
    // With the server gone, the CLI takes the writer and keeps the index itself.
    let out = ok(&db, &["reindex"]);
    assert_eq!(out.trim_end().split(' ').nth(1), Some("200"), "{out}");
}

#[test]
fn bad_queries_get_clear_answers() {
    let db = sqlite();
    ok(&db, &["demo", "--load"]);
    // Odd but valid text: exit 0 with a sensible answer.
    let v = json(&db, &["search", "", "--json"]);
    assert!(v["total"].as_u64().unwrap() > 100);
    let v = json(&db, &["search", "\"sepsis screening", "--json"]);
    assert!(v["total"].as_u64().unwrap() >= 1);
    assert!(v["notes"][0].as_str().unwrap().contains("quote"));
    let v = json(&db, &["search", "the of and", "--json"]);
    assert_eq!(v["total"], 0);
    assert!(v["notes"][0].as_str().unwrap().contains("too common"));
    let v = json(&db, &["search", "sepsis\u{1}\u{1b}[31m\u{7f}", "--json"]);
    assert!(v["total"].as_u64().unwrap() >= 1);
    let v = json(
        &db,
        &[
            "search",
            "x' OR '1'='1'; DROP TABLE recommendations; --",
            "--json",
        ],
    );
    assert!(v["total"].is_u64());
    assert!(
        json(&db, &["search", "sepsis", "--json"])["total"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let v = json(
        &db,
        &["search", "sepsis", "--json", "--theme", "no such theme"],
    );
    assert_eq!(v["total"], 0);

    // Invalid: exit 1 and one line naming the problem.
    let long = "a".repeat(10_000);
    let cases: [(&[&str], &str); 8] = [
        (&["search", &long], "limit is 1000"),
        (
            &["search", "x", "--issuer", "NOSUCH"],
            "NOSUCH is not a registered organisation",
        ),
        (&["search", "x", "--issuer", "bad!"], "--issuer"),
        (&["search", "x", "--status", "maybe"], "--status"),
        (&["search", "x", "--from", "yesterday"], "--from"),
        (&["search", "x", "--sort", "oldest"], "--sort"),
        (&["search", "x", "--limit", "0"], "--limit"),
        (&["search", "x", "--page", "2000", "--limit", "10"], "10000"),
    ];
    for (args, expect) in cases {
        let out = concord(&db, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{:?}: {stderr}", &args[..2]);
        assert!(stderr.contains(expect), "{:?}: {stderr}", &args[..2]);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
