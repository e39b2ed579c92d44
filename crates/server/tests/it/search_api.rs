//! `GET /api/v1/search` end to end: a real server on a free port, a real
//! SQLite database and search index in a temporary folder, the demo data,
//! the server's own indexer following the outbox.

use crate::common;

use std::time::Duration;

use common::*;

use reqwest::StatusCode;
use serde_json::{Value, json};

impl TestApp {
    async fn get_with(&self, path_and_query: &str, token: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.client.get(format!("{}{}", self.base, path_and_query));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let body = res.json().await.expect("a JSON body");
        (status, body)
    }

    async fn search(&self, query: &str) -> Value {
        let (status, body) = self
            .get_with(&format!("/api/v1/search?{query}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {body}");
        body
    }
}

fn ids(v: &Value) -> Vec<String> {
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

fn q(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn search_returns_ranked_hits_snippets_and_facets() {
    let app = demo_app().await;
    let v = app.search("q=sepsis+antibiotics&per_page=5").await;
    assert!(v["total"].as_u64().unwrap() >= 2, "{v}");
    let hits = v["hits"].as_array().unwrap();
    assert!(hits.len() <= 5);
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    for h in hits {
        assert!(h["title"].as_str().is_some() && h["id"].as_str().is_some());
    }
    assert!(
        hits[0]["snippet"].as_str().unwrap().contains("<mark>"),
        "{v}"
    );
    for dim in [
        "issuer",
        "addressee",
        "kind",
        "theme",
        "setting",
        "status",
        "year",
    ] {
        assert!(v["facets"][dim].is_object(), "facet {dim}: {v}");
    }
    let by_issuer: u64 = v["facets"]["issuer"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_issuer, v["total"].as_u64().unwrap());

    // Filters narrow; newest sorts by date.
    let nice = app.search("q=sepsis&issuer=NICE").await;
    assert!(
        ids(&nice).iter().all(|id| id.starts_with("NICE-")),
        "{nice}"
    );
    let newest = app.search("q=sepsis&sort=newest&per_page=50").await;
    let years: Vec<&str> = ids(&newest)
        .iter()
        .map(|i| &i[i.find('-').unwrap() + 1..][..4])
        .map(|s| &*s.to_string().leak())
        .collect();
    assert!(years.windows(2).all(|w| w[0] >= w[1]), "{years:?}");
    // Paging: page 2 follows page 1.
    let p1 = ids(&app.search("q=patients&per_page=3&page=1").await);
    let p2 = ids(&app.search("q=patients&per_page=3&page=2").await);
    assert_eq!(p1.len(), 3);
    assert!(p1.iter().all(|i| !p2.contains(i)));
}

#[tokio::test]
async fn drafts_are_searchable_only_by_their_issuer() {
    let app = demo_app().await;
    let query = format!("q={}", q("covert administration of medicines"));
    let anon = app.search(&query).await;
    assert!(
        !ids(&anon).iter().any(|i| i.starts_with("CQC-2026")),
        "{anon}"
    );
    let cqc = app.token("CQC").await;
    let (_, mine) = app
        .get_with(&format!("/api/v1/search?{query}"), Some(&cqc))
        .await;
    assert!(
        ids(&mine).iter().any(|i| i.starts_with("CQC-2026")),
        "{mine}"
    );
    let nice = app.token("NICE").await;
    let (_, other) = app
        .get_with(&format!("/api/v1/search?{query}"), Some(&nice))
        .await;
    assert!(
        !ids(&other).iter().any(|i| i.starts_with("CQC-2026")),
        "{other}"
    );
    let (_, drafts) = app.get_with("/api/v1/search?status=draft", None).await;
    assert_eq!(drafts["total"], 0, "{drafts}");
}

#[tokio::test]
async fn a_write_through_the_api_is_found_once_the_indexer_has_run() {
    let app = demo_app().await;
    let token = app.token("HSSIB").await;
    let res = app
        .client
        .post(format!("{}/api/v1/recommendations", app.base))
        .bearer_auth(&token)
        .json(&json!({"title": "Quokka enclosure hygiene", "text": "Zoo clinics should disinfect quokka enclosures weekly."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // The indexer is nudged by the write; wait for it (bounded, not timed).
    let mut found = 0;
    for _ in 0..600 {
        let (_, v) = app.get_with("/api/v1/search?q=quokka", Some(&token)).await;
        found = v["total"].as_u64().unwrap();
        if found == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(found, 1);
    // Anonymous callers still do not see the draft.
    assert_eq!(app.search("q=quokka").await["total"], 0);
}

#[tokio::test]
async fn bad_queries_get_clear_answers_never_a_500() {
    let app = demo_app().await;
    // Odd but valid text: 200 with a sensible answer.
    let empty = app.search("q=").await;
    assert!(
        empty["total"].as_u64().unwrap() > 100,
        "empty query browses everything"
    );
    assert!(empty["notes"][0].as_str().unwrap().contains("no words"));
    let none = app.search("").await;
    assert_eq!(none["total"], empty["total"]);
    let unbalanced = app.search(&format!("q={}", q("\"sepsis screening"))).await;
    assert!(unbalanced["total"].as_u64().unwrap() >= 1);
    assert!(unbalanced["notes"][0].as_str().unwrap().contains("quote"));
    let stop = app.search("q=the+of+and").await;
    assert_eq!(stop["total"], 0);
    assert!(stop["notes"][0].as_str().unwrap().contains("too common"));
    let control = app
        .search(&format!("q={}", q("sepsis\u{0}\u{1}\u{1b}[0m\u{7f}")))
        .await;
    assert!(control["total"].as_u64().unwrap() >= 1);
    let sql = app
        .search(&format!(
            "q={}",
            q("x' OR '1'='1'; DROP TABLE recommendations; --")
        ))
        .await;
    assert!(sql["total"].is_u64());
    assert!(
        app.search("q=sepsis").await["total"].as_u64().unwrap() >= 1,
        "still there"
    );
    let unknown_theme = app.search("q=sepsis&theme=no-such-theme").await;
    assert_eq!(unknown_theme["total"], 0);

    // Invalid requests: 400 with our error JSON, naming the problem.
    let cases = [
        (format!("q={}", "a".repeat(10_000)), "limit is 1000"),
        (
            "q=x&issuer=NOSUCH".to_string(),
            "NOSUCH is not a registered organisation",
        ),
        ("q=x&issuer=bad!".to_string(), "parameter issuer"),
        ("q=x&status=maybe".to_string(), "parameter status"),
        ("q=x&kind=memo".to_string(), "parameter kind"),
        ("q=x&from=2024-13-01".to_string(), "parameter from"),
        ("q=x&from=2024-05-01&to=2024-01-01".to_string(), "after to"),
        ("q=x&sort=oldest".to_string(), "parameter sort"),
        ("q=x&per_page=0".to_string(), "parameter per_page"),
        ("q=x&page=600&per_page=500".to_string(), "10000"),
        ("q=x&colour=red".to_string(), "unknown query parameter"),
        ("q=a&q=b".to_string(), "more than once"),
    ];
    for (query, expect) in cases {
        let (status, body) = app.get_with(&format!("/api/v1/search?{query}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_input", "{query}: {body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(expect), "{query}: {msg}");
    }
}
