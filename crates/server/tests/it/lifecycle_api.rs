//! The lifecycle over HTTP — POST /api/v1/recommendations/{id}/addressees/{a}/{move} —
//! against a real server and a real SQLite database: a whole journey, every
//! move × every kind of caller, and bad input that stores nothing.

use crate::common;

use common::*;

use concord_domain::RecommendationId;
use concord_domain::lifecycle::Move;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

impl TestApp {
    /// A published HSSIB recommendation to NHS England and the CQC,
    /// long overdue (published 2024-01-04, 90 days to answer).
    async fn published(&self) -> String {
        let rec = self
            .services
            .as_principal(operator())
            .create_draft(concord_app::NewRecord::from_json(json!({
                "issuer": "HSSIB", "status": "published", "published": "2024-01-04",
                "title": "Sepsis screening at triage",
                "text": "NHS England should require sepsis screening at triage within 15 minutes of arrival.",
                "addressees": [
                    {"name": "NHS England", "org": "NHSE"},
                    {"name": "Care Quality Commission", "org": "CQC"}
                ],
                "override_gate": "test data"
            })).unwrap())
            .await
            .unwrap();
        rec.id.to_string()
    }

    /// Moves made directly through the services, as the operator, to put a
    /// record in a given state before a test.
    async fn prepare(&self, id: &str, moves: &[Value]) {
        let id = RecommendationId::parse(id).unwrap();
        for m in moves {
            let mv: Move = serde_json::from_value(m.clone()).unwrap();
            self.services
                .as_principal(operator())
                .apply_move(&id, "NHSE", &mv)
                .await
                .unwrap();
        }
    }

    async fn mv(
        &self,
        id: &str,
        addressee: &str,
        name: &str,
        token: Option<&str>,
        body: Value,
    ) -> Response {
        let mut req = self
            .client
            .post(self.url(&format!(
                "/api/v1/recommendations/{id}/addressees/{addressee}/{name}"
            )))
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    async fn version(&self, id: &str) -> i64 {
        let r: Value = self
            .client
            .get(self.url(&format!("/api/v1/recommendations/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["version"].as_i64().unwrap()
    }
}

async fn ok(res: Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn refused(res: Response, status: StatusCode, code: &str) -> String {
    let got = res.status();
    let body: Value = res.json().await.expect("an error answers JSON");
    assert_eq!(got, status, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    body["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_recommendation_from_response_to_verified_closure() {
    let app = spawn_app().await;
    let id = app.published().await;
    let nhse = app.token("NHSE").await;
    let hssib = app.token("HSSIB").await;

    // The response: acceptance kept apart from implementation.
    let rec = ok(app
        .mv(
            &id,
            "NHSE",
            "respond",
            Some(&nhse),
            json!({
                "acceptance": "accepted_in_principle", "received": "2024-03-20",
                "text": "We will write screening into the 2025 standard contract."
            }),
        )
        .await)
    .await;
    let a = &rec["addressees"][0];
    assert_eq!(a["status"], "response_received");
    assert_eq!(a["acceptance"], "accepted_in_principle");
    assert_eq!(a["implementation"], "not_started");
    assert_eq!(a["responses"][0]["respondent"], "NHSE");

    // Action plan and progress.
    ok(app
        .mv(
            &id,
            "1",
            "add_action",
            Some(&nhse),
            json!({
                "title": "Contract clause", "owner": "Director of commissioning",
                "due": "2025-04-01", "evidence": ["https://example.org/contract"]
            }),
        )
        .await)
    .await;
    ok(app
        .mv(
            &id,
            "NHS England",
            "update",
            Some(&nhse),
            json!({"implementation": "implemented", "action": 1}),
        )
        .await)
    .await;
    let rec = ok(app
        .mv(
            &id,
            "nhse",
            "update",
            Some(&nhse),
            json!({"implementation": "implemented", "note": "In the contract from April."}),
        )
        .await)
    .await;
    assert_eq!(rec["addressees"][0]["implementation"], "implemented");
    assert_eq!(
        rec["addressees"][0]["actions"][0]["progress"],
        "implemented"
    );

    // The issuer's judgement, closure and verification.
    ok(app
        .mv(
            &id,
            "NHSE",
            "assess",
            Some(&hssib),
            json!({"verdict": "fully_satisfactory"}),
        )
        .await)
    .await;
    ok(app
        .mv(
            &id,
            "NHSE",
            "close",
            Some(&hssib),
            json!({"reason": "implemented"}),
        )
        .await)
    .await;
    let rec = ok(app.mv(&id, "NHSE", "verify", Some(&hssib), json!({})).await).await;
    assert_eq!(rec["addressees"][0]["implementation"], "verified");
    assert_eq!(rec["status"], "published", "the CQC's part is still open");

    // The CQC never answered: escalate, then close; the recommendation closes.
    ok(app
        .mv(&id, "CQC", "escalate", Some(&hssib), json!({}))
        .await)
    .await;
    let rec = ok(app
        .mv(
            &id,
            "CQC",
            "close",
            Some(&hssib),
            json!({"reason": "no_longer_applicable", "note": "Superseded by the new framework."}),
        )
        .await)
    .await;
    assert_eq!(rec["status"], "closed");

    // The history names each move.
    let hist: Value = app
        .client
        .get(app.url(&format!("/api/v1/recommendations/{id}/history")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = hist["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "create",
            "respond",
            "add_action",
            "update",
            "update",
            "assess",
            "close",
            "verify",
            "escalate",
            "close"
        ]
    );

    // The page tells the story.
    let page = app
        .client
        .get(app.url(&format!("/recommendations/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "accepted in principle",
        "Contract clause",
        "Director of commissioning",
        "fully satisfactory",
        "Implementation verified by the issuer",
        "no longer applicable",
        "reminder",
    ] {
        assert!(page.contains(needle), "page lacks {needle:?}");
    }
}

#[tokio::test]
async fn late_answers_show_as_overdue_on_the_page() {
    let app = spawn_app().await;
    let id = app.published().await;
    let page = app
        .client
        .get(app.url(&format!("/recommendations/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("overdue by"), "{page}");
    // Statuses and lateness as tags (issue #18).
    assert!(page.contains("nhsuk-tag--red\">overdue by"), "{page}");
    assert!(
        page.contains("3 April 2024"),
        "due date from HSSIB's 90 days"
    );
}

/// Every move × every kind of caller. For each move the record is first put
/// in a state where the move is allowed; the callers who may not make it are
/// refused (and nothing is stored), then the one who may succeeds.
#[tokio::test]
async fn who_may_make_each_move() {
    let app = spawn_app().await;
    let nhse = app.token("NHSE").await; // the addressee
    let hssib = app.token("HSSIB").await; // the issuer
    let nice = app.token("NICE").await; // neither
    let responded = json!({"move": "respond", "acceptance": "accepted", "text": "Yes."});
    let implemented = json!({"move": "update", "implementation": "implemented"});
    let closed = json!({"move": "close", "reason": "implemented"});
    let cases: Vec<(&str, Value, Vec<Value>, bool)> = vec![
        // (move, body, setup, the addressee's own move?)
        (
            "respond",
            json!({"acceptance": "accepted", "text": "Yes."}),
            vec![],
            true,
        ),
        (
            "add_action",
            json!({"title": "Audit"}),
            vec![responded.clone()],
            true,
        ),
        (
            "update",
            json!({"implementation": "in_progress"}),
            vec![responded.clone()],
            true,
        ),
        (
            "assess",
            json!({"verdict": "fully_satisfactory"}),
            vec![responded.clone()],
            false,
        ),
        (
            "close",
            json!({"reason": "not_implemented"}),
            vec![responded.clone()],
            false,
        ),
        ("dormant", json!({}), vec![], false),
        ("reopen", json!({}), vec![json!({"move": "dormant"})], false),
        ("reassess", json!({"on": "2099-01-01"}), vec![], false),
        (
            "verify",
            json!({}),
            vec![responded.clone(), implemented.clone(), closed.clone()],
            false,
        ),
        ("escalate", json!({}), vec![], false),
    ];
    for (name, body, setup, addressees_move) in cases {
        let id = app.published().await;
        app.prepare(&id, &setup).await;
        let before = app.version(&id).await;
        refused(
            app.mv(&id, "NHSE", name, None, body.clone()).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        refused(
            app.mv(&id, "NHSE", name, Some(&nice), body.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let (wrong, right) = if addressees_move {
            (&hssib, &nhse)
        } else {
            (&nhse, &hssib)
        };
        let msg = refused(
            app.mv(&id, "NHSE", name, Some(wrong), body.clone()).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        assert!(
            msg.contains("only") || msg.contains("its own response"),
            "{name}: {msg}"
        );
        assert_eq!(
            app.version(&id).await,
            before,
            "{name}: a refusal stores nothing"
        );
        let rec = ok(app.mv(&id, "NHSE", name, Some(right), body).await).await;
        assert_eq!(rec["version"].as_i64().unwrap(), before + 1, "{name}");
    }
}

#[tokio::test]
async fn bad_moves_are_refused_clearly_and_store_nothing() {
    let app = spawn_app().await;
    let id = app.published().await;
    let nhse = app.token("NHSE").await;
    let before = app.version(&id).await;

    let m = refused(
        app.mv(
            &id,
            "NHSE",
            "respond",
            Some(&nhse),
            json!({"acceptance": "maybe", "text": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert!(m.contains("accepted_in_principle"), "{m}");
    let m = refused(
        app.mv(
            &id,
            "NHSE",
            "respond",
            Some(&nhse),
            json!({"acceptance": "not_accepted", "text": "No."}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert!(m.contains("field reasons"), "{m}");
    let m = refused(
        app.mv(
            &id,
            "NHSE",
            "respond",
            Some(&nhse),
            json!({"acceptance": "accepted", "text": "x", "received": "2023-12-01"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert!(m.contains("field received") && m.contains("before"), "{m}");
    let m = refused(
        app.mv(
            &id,
            "NHSE",
            "respond",
            Some(&nhse),
            json!({"acceptance": "accepted", "text": "x", "bogus": 1}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert!(m.contains("bogus"), "{m}");
    let m = refused(
        app.mv(
            &id,
            "NHSE",
            "respond",
            Some(&nhse),
            json!({"move": "close", "acceptance": "accepted", "text": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert!(m.contains("does not match the path"), "{m}");
    let m = refused(
        app.mv(&id, "NHSE", "approve", Some(&nhse), json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert!(m.contains("respond, add_action"), "{m}");
    let m = refused(
        app.mv(
            &id,
            "NICE",
            "respond",
            Some(&nhse),
            json!({"acceptance": "accepted", "text": "x"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert!(
        m.contains("not an addressee") && m.contains("1 NHS England (NHSE)"),
        "{m}"
    );
    refused(
        app.mv(
            "HSSIB-2024-0999",
            "NHSE",
            "respond",
            Some(&nhse),
            json!({"acceptance": "accepted", "text": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    refused(
        app.mv("nonsense", "NHSE", "respond", Some(&nhse), json!({}))
            .await,
        StatusCode::BAD_REQUEST,
        "bad_input",
    )
    .await;
    assert_eq!(app.version(&id).await, before);

    // A duplicate submission: the second is refused, the first kept.
    let body = json!({"acceptance": "accepted", "text": "We will."});
    ok(app
        .mv(&id, "NHSE", "respond", Some(&nhse), body.clone())
        .await)
    .await;
    let m = refused(
        app.mv(&id, "NHSE", "respond", Some(&nhse), body).await,
        StatusCode::CONFLICT,
        "refused",
    )
    .await;
    assert!(m.contains("already answered"), "{m}");
    assert_eq!(app.version(&id).await, before + 1);

    // An edit by the issuer cannot rewrite the response.
    let hssib = app.token("HSSIB").await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/recommendations/{id}")))
        .bearer_auth(&hssib)
        .json(&json!({"version": before + 1, "addressees": [
            {"name": "NHS England", "org": "NHSE", "status": "closed"},
            {"name": "Care Quality Commission", "org": "CQC"}
        ]}))
        .send()
        .await
        .unwrap();
    let m = refused(res, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(m.contains("lifecycle moves"), "{m}");
}
