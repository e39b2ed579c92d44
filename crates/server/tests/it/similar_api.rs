//! POST /api/v1/similar over a real server and a real SQLite database.

use std::sync::Arc;

use concord_app::{Principal, Services};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

async fn spawn() -> (
    String,
    Arc<Services>,
    tempfile::TempDir,
    oneshot::Sender<()>,
) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let services = Arc::new(Services::open(&url).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(concord_server::serve(listener, services.clone(), async {
        let _ = stopped.await;
    }));
    (base, services, dir, stop)
}

async fn post(base: &str, body: Value) -> (StatusCode, Value) {
    let r = Client::new()
        .post(format!("{base}/api/v1/similar"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

#[tokio::test]
async fn similar_answers_anonymous_callers_without_others_drafts() {
    let (base, svc, _dir, _stop) = spawn().await;
    let op = svc.as_principal(Principal::Operator { label: "t".into() });
    op.create_draft(concord_app::NewRecord::from_json(json!({"issuer": "NICE", "status": "published", "published": "2024-01-10",
        "title": "Sepsis", "override_gate": "test data",
        "text": "Hospitals should screen adults for sepsis at emergency department triage and give antibiotics within one hour."})).unwrap())
        .await
        .unwrap();
    op.create_draft(concord_app::NewRecord::from_json(json!({"issuer": "HSSIB", "title": "Sepsis draft",
        "text": "Emergency departments should screen every adult for sepsis at triage and start antibiotics within one hour."})).unwrap())
        .await
        .unwrap();
    let (s, v) = post(&base, json!({"text": "Screen adults in A&E for sepsis at triage; antibiotics within 60 minutes."})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // This build has no `embeddings` feature: the caller is told so.
    assert_eq!(v["method"], "lexical", "{v}");
    let m = v["matches"].as_array().unwrap();
    assert_eq!(
        m.len(),
        1,
        "the HSSIB draft is not shown to anonymous callers: {v}"
    );
    assert_eq!(m[0]["id"], "NICE-2024-0001");
    assert_eq!(m[0]["relation"], "duplicate");
    assert!(m[0]["score"].as_f64().unwrap() > 0.3);
    assert!(m[0]["reason"].as_str().unwrap().contains("antibiotic"));
}

#[tokio::test]
async fn similar_refuses_bad_text_clearly() {
    let (base, _svc, _dir, _stop) = spawn().await;
    for (text, words) in [
        ("", "empty"),
        ("2024 15 60", "no words"),
        (
            "患者は一時間以内に抗生物質を投与されるべきである",
            "Latin alphabet",
        ),
    ] {
        let (s, v) = post(&base, json!({ "text": text })).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}: {v}");
        assert_eq!(v["error"]["code"], "invalid");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(words),
            "{v}"
        );
    }
    let (s, v) = post(&base, json!({ "txt": "x" })).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // A 1 MB text is read, not refused, and nothing panics.
    let big = "Screen adults for sepsis at triage. ".repeat(28_000);
    let (s, v) = post(&base, json!({ "text": big })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}
