//! Deadline rules per installation over HTTP (`/api/v1/rules`), against a
//! real server and a real SQLite database.

use crate::common;

use common::*;

use reqwest::StatusCode;
use serde_json::{Value, json};

impl TestApp {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

fn rule_of<'a>(all: &'a Value, issuer: &str) -> &'a Value {
    all["issuers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["issuer"] == issuer)
        .unwrap_or_else(|| panic!("{issuer} in {all}"))
}

#[tokio::test]
async fn rules_are_read_by_anyone_and_changed_only_by_the_issuer() {
    use reqwest::Method;
    let app = spawn_app().await;
    let (s, all) = app.call(Method::GET, "/api/v1/rules", None, None).await;
    assert_eq!(s, StatusCode::OK, "{all}");
    let pfd = rule_of(&all, "PFD");
    assert_eq!(pfd["origin"], "built_in");
    assert_eq!(pfd["rules"]["days_to_respond"], 56);
    assert!(all["default"]["days_to_respond"].as_u64().unwrap() > 0);

    let new_rule = json!({"days_to_respond": 42,
        "ladder": [{"step": "reminder", "days_after_due": 7},
                   {"step": "second_letter", "days_after_due": 21}],
        "source": "local policy"});

    // Anonymous: 401; another organisation: 403; nothing changes.
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/rules/PFD",
            None,
            Some(new_rule.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let cqc = app.token("CQC").await;
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/rules/PFD",
            Some(&cqc),
            Some(new_rule.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (s, b) = app
        .call(Method::DELETE, "/api/v1/rules/PFD", Some(&cqc), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let (_, one) = app.call(Method::GET, "/api/v1/rules/PFD", None, None).await;
    assert_eq!(one["origin"], "built_in", "{one}");

    // Bad bodies are refused naming the field; nothing changes.
    let pfd_token = app.token("PFD").await;
    for (body, field) in [
        (json!({"days_to_respond": 0}), "days_to_respond"),
        (json!({"days_to_respond": 5000}), "days_to_respond"),
        (json!({"days_to_respond": "soon"}), "days_to_respond"),
        (json!({}), "days_to_respond"),
        (json!({"days_to_respond": 30, "colour": "red"}), "colour"),
        (
            json!({"days_to_respond": 30, "ladder": [
                {"step": "second_letter", "days_after_due": 28},
                {"step": "reminder", "days_after_due": 14}]}),
            "ladder",
        ),
        (
            json!({"days_to_respond": 30, "ladder": [
                {"step": "telegram", "days_after_due": 14}]}),
            "ladder",
        ),
    ] {
        let (s, b) = app
            .call(
                Method::PUT,
                "/api/v1/rules/PFD",
                Some(&pfd_token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {b}");
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let (_, one) = app.call(Method::GET, "/api/v1/rules/PFD", None, None).await;
    assert_eq!(one["origin"], "built_in", "{one}");

    // Unknown or malformed issuers.
    let (s, b) = app
        .call(Method::GET, "/api/v1/rules/NOPE", None, None)
        .await;
    assert!(s.is_client_error() && s != StatusCode::OK, "{b}");
    let (s, b) = app
        .call(Method::GET, "/api/v1/rules/not%20a%20code", None, None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");

    // The issuer itself sets its rule, then resets it.
    let (s, b) = app
        .call(
            Method::PUT,
            "/api/v1/rules/PFD",
            Some(&pfd_token),
            Some(new_rule),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["origin"], "installation");
    assert_eq!(b["rules"]["days_to_respond"], 42);
    assert_eq!(b["rules"]["ladder"][1]["step"], "second_letter");
    assert_eq!(b["built_in"]["days_to_respond"], 56);
    let (_, all) = app.call(Method::GET, "/api/v1/rules", None, None).await;
    assert_eq!(rule_of(&all, "PFD")["rules"]["days_to_respond"], 42);

    let (s, b) = app
        .call(Method::DELETE, "/api/v1/rules/PFD", Some(&pfd_token), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["origin"], "built_in");
    assert_eq!(b["rules"]["days_to_respond"], 56);
}
