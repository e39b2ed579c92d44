//! Links over HTTP: POST /api/v1/recommendations/{id}/links and
//! PATCH /api/v1/recommendations/{id}/links/{target}, against a real server
//! and a real SQLite database.

use crate::common;

use common::*;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

impl TestApp {
    async fn seed_text(&self, issuer: &str, date: &str, text: &str) -> String {
        let rec = self
            .services
            .as_principal(operator())
            .create_draft(
                concord_app::NewRecord::from_json(
                    json!({"issuer": issuer, "status": "published", "published": date,
                "title": format!("{issuer} recommendation"), "text": text,
                "override_gate": "test data"}),
                )
                .unwrap(),
            )
            .await
            .unwrap();
        rec.id.to_string()
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    async fn get_json(&self, path: &str) -> Value {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    }
}

/// The record's links as (target, kind, state).
fn links(rec: &Value) -> Vec<(String, String, String)> {
    rec["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["target"].as_str().unwrap().to_string(),
                l["kind"].as_str().unwrap().to_string(),
                l["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn link<'a>(rec: &'a Value, target: &str) -> &'a Value {
    rec["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["target"] == target)
        .unwrap_or_else(|| panic!("no link to {target}: {rec}"))
}

async fn ok(res: Response) -> Value {
    let status = res.status();
    let etag = res
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string());
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        etag.as_deref(),
        Some(format!("\"{}\"", body["version"]).as_str())
    );
    body
}

async fn refused(res: Response, status: StatusCode, code: &str) -> String {
    let got = res.status();
    let body: Value = res.json().await.expect("an error answers JSON");
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_string()
}

const NICE_TEXT: &str = "Hospitals should screen adults for sepsis at emergency department triage and give antibiotics within one hour.";

#[tokio::test]
async fn suggested_links_are_confirmed_dismissed_and_asserted_by_the_issuer() {
    let app = spawn_app().await;
    let nice = app.seed_text("NICE", "2024-01-10", NICE_TEXT).await;
    assert_eq!(nice, "NICE-2024-0001");
    let hssib = app
        .seed_text(
            "HSSIB",
            "2024-03-01",
            "This builds on NICE-2024-0001. Trusts should audit sepsis screening at triage every quarter.",
        )
        .await;
    let path = format!("/api/v1/recommendations/{hssib}");
    let token = app.token("HSSIB").await;

    // The mention became a suggestion, shown in the recommendation's JSON.
    let rec = app.get_json(&path).await;
    assert_eq!(
        links(&rec),
        vec![(nice.clone(), "builds_on".into(), "suggested".into())]
    );
    assert!(link(&rec, &nice)["asserted_by"].is_null());

    // Dismissed by the issuer: kept, marked, with who decided.
    let rec = ok(app
        .send(
            Method::PATCH,
            &format!("{path}/links/{nice}"),
            Some(&token),
            &json!({"state": "dismissed"}),
        )
        .await)
    .await;
    assert_eq!(link(&rec, &nice)["state"], "dismissed");
    assert!(
        link(&rec, &nice)["asserted_by"]
            .as_str()
            .unwrap()
            .contains("HSSIB"),
        "{rec}"
    );

    // An edit whose text still mentions it does not suggest it again; a new
    // mention (a coroner's report number) is suggested.
    let edit = json!({"version": rec["version"],
        "text": "This builds on NICE-2024-0001 and answers PFD report 2024-0079. Trusts should audit sepsis screening at triage every month."});
    let res = app.send(Method::PATCH, &path, Some(&token), &edit).await;
    assert_eq!(res.status(), StatusCode::OK);
    let rec = app.get_json(&path).await;
    assert_eq!(
        links(&rec),
        vec![
            (nice.clone(), "builds_on".into(), "dismissed".into()),
            ("PFD-2024-0079".into(), "related".into(), "suggested".into()),
        ]
    );

    // Confirmed after all; then asserted as "supports": one link, new kind.
    let rec = ok(app
        .send(
            Method::PATCH,
            &format!("{path}/links/{nice}"),
            Some(&token),
            &json!({"state": "confirmed"}),
        )
        .await)
    .await;
    assert_eq!(link(&rec, &nice)["state"], "confirmed");
    let rec = ok(app
        .send(
            Method::POST,
            &format!("{path}/links"),
            Some(&token),
            &json!({"kind": "supports", "target": "nice-2024-0001"}),
        )
        .await)
    .await;
    assert_eq!(
        links(&rec),
        vec![
            (nice.clone(), "supports".into(), "confirmed".into()),
            ("PFD-2024-0079".into(), "related".into(), "suggested".into()),
        ]
    );
    assert!(link(&rec, &nice)["asserted_at"].is_string());

    // An external reference is taken as written; a PFD number is the PFD id.
    let rec = ok(app
        .send(
            Method::POST,
            &format!("{path}/links"),
            Some(&token),
            &json!({"kind": "related", "target": "A-19-001"}),
        )
        .await)
    .await;
    assert_eq!(link(&rec, "A-19-001")["state"], "confirmed", "{rec}");
    let rec = ok(app
        .send(
            Method::PATCH,
            &format!("{path}/links/2024-0079"),
            Some(&token),
            &json!({"state": "dismissed"}),
        )
        .await)
    .await;
    assert_eq!(link(&rec, "PFD-2024-0079")["state"], "dismissed");

    // Every change is in the audit trail.
    let trail = app.get_json(&format!("{path}/history")).await;
    assert!(trail["items"].as_array().unwrap().len() >= 7, "{trail}");

    // The other record is untouched.
    assert_eq!(
        app.get_json(&format!("/api/v1/recommendations/{nice}"))
            .await["links"],
        json!([])
    );
}

#[tokio::test]
async fn link_changes_are_refused_clearly() {
    let app = spawn_app().await;
    let nice = app.seed_text("NICE", "2024-01-10", NICE_TEXT).await;
    let hssib = app
        .seed_text(
            "HSSIB",
            "2024-03-01",
            "This supports NICE-2024-0001. Trusts should audit sepsis screening at triage.",
        )
        .await;
    let token = app.token("HSSIB").await;
    let cqc = app.token("CQC").await;
    let base = format!("/api/v1/recommendations/{hssib}/links");
    let one = format!("{base}/{nice}");
    let assert_body = json!({"kind": "supports", "target": nice});
    let confirm = json!({"state": "confirmed"});

    // Anonymous: 401, whatever the body.
    for (m, p, b) in [
        (Method::POST, &base, &assert_body),
        (Method::PATCH, &one, &confirm),
        (
            Method::POST,
            &base,
            &json!({"kind": "maybe", "target": "x"}),
        ),
        (Method::PATCH, &one, &json!({"state": "maybe"})),
    ] {
        refused(
            app.send(m, p, None, b).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    }
    // Another organisation: 403, even with a bad field.
    refused(
        app.send(Method::POST, &base, Some(&cqc), &assert_body)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    refused(
        app.send(Method::PATCH, &one, Some(&cqc), &json!({"state": "maybe"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Unknown record, unknown target, no such link: 404.
    let m = refused(
        app.send(
            Method::POST,
            "/api/v1/recommendations/HSSIB-2024-0099/links",
            Some(&token),
            &assert_body,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(m.contains("HSSIB-2024-0099"), "{m}");
    let m = refused(
        app.send(
            Method::POST,
            &base,
            Some(&token),
            &json!({"kind": "supports", "target": "NICE-2023-0042"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(m.contains("NICE-2023-0042"), "{m}");
    let m = refused(
        app.send(
            Method::PATCH,
            &format!("{base}/CQC-2020-0001"),
            Some(&token),
            &confirm,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(m.contains("no link to CQC-2020-0001"), "{m}");
    // A malformed id in the path: 400.
    refused(
        app.send(
            Method::POST,
            "/api/v1/recommendations/not-an-id/links",
            Some(&token),
            &assert_body,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "bad_input",
    )
    .await;
    // Bad kind, state or target: 422 naming the field.
    for (m, p, b, field) in [
        (
            Method::POST,
            &base,
            json!({"kind": "maybe", "target": nice}),
            "field kind",
        ),
        (
            Method::POST,
            &base,
            json!({"kind": "supports", "target": "not a reference"}),
            "field target",
        ),
        (
            Method::POST,
            &base,
            json!({"kind": "supports", "target": hssib}),
            "field target",
        ),
        (
            Method::POST,
            &base,
            json!({"kind": "supports", "target": ""}),
            "field target",
        ),
        (
            Method::PATCH,
            &one,
            json!({"state": "suggested"}),
            "field state",
        ),
        (
            Method::PATCH,
            &one,
            json!({"state": "maybe"}),
            "field state",
        ),
        (
            Method::PATCH,
            &format!("{base}/nonsense"),
            confirm.clone(),
            "field target",
        ),
    ] {
        let msg = refused(
            app.send(m, p, Some(&token), &b).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
        assert!(msg.contains(field), "{b}: {msg}");
    }
    // Missing or extra fields, wrong types: 422; not JSON: 400.
    for b in [
        json!({"kind": "supports"}),
        json!({"state": 3}),
        json!({"kind": "supports", "target": nice, "extra": 1}),
    ] {
        let p = if b.get("state").is_some() {
            &one
        } else {
            &base
        };
        let m = if b.get("state").is_some() {
            Method::PATCH
        } else {
            Method::POST
        };
        refused(
            app.send(m, p, Some(&token), &b).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
        )
        .await;
    }
    let res = app
        .client
        .post(format!("{}{base}", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    refused(res, StatusCode::BAD_REQUEST, "bad_json").await;

    // Nothing changed through all of that.
    let rec = app
        .get_json(&format!("/api/v1/recommendations/{hssib}"))
        .await;
    assert_eq!(rec["version"], 1, "{rec}");
    assert_eq!(
        links(&rec),
        vec![(nice, "supports".into(), "suggested".into())]
    );
}
