//! Endorsements over HTTP and on the pages: a body stands behind another's
//! published recommendation instead of repeating it; the rules, the bad
//! input, the history, the record's page.

use crate::common;

use common::*;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser;
use browser::Browser;

async fn seed(app: &TestApp, status: &str) -> String {
    app.services
        .as_principal(operator())
        .create_draft(concord_app::NewRecord::from_json(json!({
            "issuer": "HSSIB", "status": status, "published": "2025-02-01",
            "title": "Sepsis screening at triage",
            "text": "NHS England should require sepsis screening within one hour of arrival by 31 March 2027.",
            "addressees": [{"name": "NHS England", "org": "NHSE"}],
            "override_gate": "test data"
        })).unwrap())
        .await
        .unwrap()
        .id
        .to_string()
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut rb = app.client.request(method, app.url(path)).json(&body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    let res = rb.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn message(v: &Value) -> String {
    v["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endorsing_through_the_api() {
    let app = spawn_app().await;
    let id = seed(&app, "published").await;
    let path = format!("/api/v1/recommendations/{id}/endorsements");
    let nice = app.token("NICE").await;
    let cqc = app.token("CQC").await;
    let hssib = app.token("HSSIB").await;

    let (s, v) = call(&app, Method::GET, &path, None, json!(null)).await;
    assert_eq!((s, v), (StatusCode::OK, json!([])));

    let (s, v) = call(
        &app,
        Method::POST,
        &path,
        Some(&nice),
        json!({"note": " We stand behind it. "}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["org"], "NICE");
    assert_eq!(v["note"], "We stand behind it.");
    assert_eq!(v["recommendation"], id.as_str());
    assert!(v["by"].as_str().unwrap().starts_with("token:"), "{v}");
    let (s, _) = call(&app, Method::POST, &path, Some(&cqc), json!({})).await;
    assert_eq!(s, StatusCode::CREATED);

    // Refused, each with its reason, nothing stored.
    let (s, v) = call(&app, Method::POST, &path, Some(&nice), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(message(&v).contains("already endorses"), "{v}");
    let (s, v) = call(&app, Method::POST, &path, Some(&hssib), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(message(&v).contains("HSSIB issued"), "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        &path,
        Some(&nice),
        json!({"note": "x".repeat(10_001)}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the note is read first: {v}"
    );
    let cqc2 = app.token("NHSE").await;
    let (s, v) = call(
        &app,
        Method::POST,
        &path,
        Some(&cqc2),
        json!({"note": "x".repeat(10_001)}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(message(&v).starts_with("field note:"), "{v}");
    let (s, v) = call(
        &app,
        Method::POST,
        &path,
        Some(&cqc2),
        json!({"notes": "typo"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, _) = call(&app, Method::POST, &path, None, json!({})).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let draft = seed(&app, "draft").await;
    let (s, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/recommendations/{draft}/endorsements"),
        Some(&nice),
        json!({}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another body's draft does not exist for it"
    );
    let (s, _) = call(
        &app,
        Method::POST,
        "/api/v1/recommendations/NOT-AN-ID/endorsements",
        Some(&nice),
        json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let (_, v) = call(&app, Method::GET, &path, None, json!(null)).await;
    let orgs: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["org"].as_str().unwrap())
        .collect();
    assert_eq!(orgs, ["NICE", "CQC"]);

    // Withdrawn by its own body only.
    let (s, _) = call(&app, Method::DELETE, &path, Some(&nice), json!(null)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = call(&app, Method::DELETE, &path, Some(&nice), json!(null)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(message(&v).contains("does not endorse"), "{v}");
    let (_, v) = call(&app, Method::GET, &path, None, json!(null)).await;
    assert_eq!(v.as_array().unwrap().len(), 1);

    // The history records both.
    let (_, h) = call(
        &app,
        Method::GET,
        &format!("/api/v1/recommendations/{id}/history"),
        None,
        json!(null),
    )
    .await;
    let actions: Vec<&str> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "endorse", "endorse", "withdraw_endorsement"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endorsing_from_the_record_page() {
    let app = spawn_app().await;
    let id = seed(&app, "published").await;
    for (email, org, roles) in [
        (
            "approver@nice.example.org",
            "NICE",
            vec![concord_domain::account::Role::Approver],
        ),
        (
            "author@nice.example.org",
            "NICE",
            vec![concord_domain::account::Role::Author],
        ),
        (
            "approver@hssib.example.org",
            "HSSIB",
            vec![concord_domain::account::Role::Approver],
        ),
    ] {
        app.services
            .as_principal(operator())
            .add_user(concord_app::NewUser {
                email: email.into(),
                name: "Someone".into(),
                password: "plum tractor velvet 42".into(),
                memberships: vec![concord_domain::account::Membership {
                    org: concord_domain::OrgCode::parse(org).unwrap(),
                    roles: concord_domain::account::RoleSet::from_roles(roles),
                }],
            })
            .await
            .unwrap();
    }
    let page = format!("/recommendations/{id}");
    // Only another body's approver is offered the form.
    let mut issuer =
        Browser::sign_in(&app, "approver@hssib.example.org", "plum tractor velvet 42").await;
    let (_, html) = issuer.get(&app, &page).await;
    assert!(!html.contains("Endorse for"), "not its own");
    let mut author =
        Browser::sign_in(&app, "author@nice.example.org", "plum tractor velvet 42").await;
    let (_, html) = author.get(&app, &page).await;
    assert!(
        !html.contains("Endorse for"),
        "an author does not speak for the body"
    );
    let csrf = author.csrf(&app).await;
    let res = author
        .post_form(
            &app,
            &format!("{page}/endorse"),
            &[("action", "endorse".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let mut b = Browser::sign_in(&app, "approver@nice.example.org", "plum tractor velvet 42").await;
    let (_, html) = b.get(&app, &page).await;
    assert!(html.contains("Endorse for NICE"), "{html}");
    let csrf = b.csrf(&app).await;
    let res = b
        .post_form(
            &app,
            &format!("{page}/endorse"),
            &[("action", "endorse".into()), ("note", "<b>Yes</b>".into())],
            None,
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "no CSRF secret, nothing done"
    );
    let res = b
        .post_form(
            &app,
            &format!("{page}/endorse"),
            &[("action", "endorse".into()), ("note", "<b>Yes</b>".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, public) = Browser::new().get(&app, &page).await;
    assert!(public.contains("<h2>Endorsed by</h2>"), "{public}");
    assert!(public.contains("href=\"/organisations/NICE\">NICE</a>"));
    assert!(
        public.contains("&#60;b&#62;Yes&#60;/b&#62;") && !public.contains("<b>Yes"),
        "escaped"
    );
    let (_, html) = b.get(&app, &page).await;
    assert!(
        html.contains("Withdraw NICE&#39;s endorsement")
            || html.contains("Withdraw NICE's endorsement"),
        "{html}"
    );
    let res = b
        .post_form(
            &app,
            &format!("{page}/endorse"),
            &[("action", "withdraw".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, public) = Browser::new().get(&app, &page).await;
    assert!(!public.contains("Endorsed by"));
    let (_, history) = Browser::new().get(&app, &format!("{page}/history")).await;
    assert!(history.contains("endorsement by NICE"), "{history}");
}
