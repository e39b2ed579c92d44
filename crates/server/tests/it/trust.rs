//! Issue #14's findings, each reproduced against the real server and
//! database: nobody speaks for another body, and no anonymous caller can
//! fill the disk, hold the connections or take over the password checks.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use concord_app::{AppError, NewUser};
use concord_domain::OrgCode;
use concord_domain::account::{Membership, RoleSet};
use concord_domain::lifecycle::Move;
use concord_domain::{RecommendationId, account::Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

async fn token(app: &TestApp, org: &str, roles: &[Role]) -> String {
    app.services
        .as_principal(operator())
        .create_token_with_roles(
            &code(org),
            "trust test",
            RoleSet::from_roles(roles.iter().copied()),
        )
        .await
        .unwrap()
        .secret
}

async fn published(app: &TestApp) -> String {
    app.services
        .as_principal(operator())
        .create_draft(
            concord_app::NewRecord::from_json(json!({
                "issuer": "HSSIB", "status": "published", "published": "2025-01-04",
                "title": "Sepsis screening",
                "text": "NHS England should require sepsis screening at triage by 31 March 2026.",
                "addressees": [{"name": "NHS England", "org": "NHSE"}],
                "override_gate": "test data"
            }))
            .unwrap(),
        )
        .await
        .unwrap()
        .id
        .to_string()
}

/// Finding 1: an issuer creating a record cannot publish another body's
/// answer, nor a link another body confirmed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_record_says_nothing_for_its_addressees() {
    let app = spawn_app().await;
    let hssib = token(&app, "HSSIB", &[Role::Author, Role::Approver]).await;
    let before = app.fingerprint().await;
    let forged = [
        json!({"name": "NHS England", "org": "NHSE", "status": "closed",
               "acceptance": "accepted"}),
        json!({"name": "NHS England", "org": "NHSE", "status": "response_received"}),
        json!({"name": "NHS England", "org": "NHSE",
               "responses": [{"received": "2025-02-01", "text": "We accept and have done it.",
                              "acceptance": "accepted"}]}),
    ];
    for addressee in forged {
        let res = app
            .client
            .post(app.url("/api/v1/recommendations"))
            .bearer_auth(&hssib)
            .json(&json!({
                "status": "published", "published": "2025-01-10", "title": "Falls",
                "text": "NHS England should publish falls guidance by 31 March 2026.",
                "addressees": [addressee], "override_gate": null
            }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{addressee}: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("addressees[0]"),
            "{body}"
        );
    }
    assert_eq!(app.fingerprint().await, before, "nothing was stored");

    // A link the body claims another organisation confirmed is stored as
    // the caller's suggestion.
    let other = published(&app).await;
    let res = app
        .client
        .post(app.url("/api/v1/recommendations"))
        .bearer_auth(&hssib)
        .json(&json!({
            "status": "draft", "title": "Falls",
            "text": "NHS England should publish falls guidance by 31 March 2026.",
            "addressees": [{"name": "NHS England", "org": "NHSE"}],
            "links": [{"kind": "supports", "target": other, "state": "confirmed",
                       "asserted_by": "NHSE", "asserted_at": "2025-01-01T00:00:00Z"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let rec: Value = res.json().await.unwrap();
    let link = &rec["links"][0];
    assert_eq!(link["state"], "suggested", "{rec}");
    assert!(
        link["asserted_by"].as_str().unwrap().starts_with("HSSIB"),
        "{link}"
    );
    // The same through an edit of the list.
    let id = rec["id"].as_str().unwrap();
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/recommendations/{id}")))
        .bearer_auth(&hssib)
        .json(
            &json!({"version": 1, "links": [{"kind": "duplicates", "target": other,
            "state": "confirmed", "asserted_by": "CQC", "asserted_at": null}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let rec: Value = res.json().await.unwrap();
    assert_eq!(rec["links"][0]["state"], "suggested", "{rec}");
    assert_ne!(rec["links"][0]["asserted_by"], "CQC");
}

/// Finding 5: an issuer cannot hand one body's answer to another by editing
/// the addressee's organisation (to none, then to a third body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_stays_with_the_body_that_gave_it() {
    let app = spawn_app().await;
    let id = published(&app).await;
    let rid = RecommendationId::parse(&id).unwrap();
    let mv: Move = serde_json::from_value(
        json!({"move": "respond", "acceptance": "accepted", "text": "We accept."}),
    )
    .unwrap();
    app.services
        .as_principal(operator())
        .apply_move(&rid, "NHSE", &mv)
        .await
        .unwrap();
    let hssib = token(&app, "HSSIB", &[Role::Author]).await;
    let before = app.fingerprint().await;
    for org in [Value::Null, json!("CQC")] {
        let res = app
            .client
            .patch(app.url(&format!("/api/v1/recommendations/{id}")))
            .bearer_auth(&hssib)
            .json(&json!({"version": 2,
                "addressees": [{"name": "NHS England", "org": org}]}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{org}: {body}");
        // To none: the organisation cannot change; to a third body: the
        // answered addressee cannot be dropped. Either way, refused.
        let m = body["error"]["message"].as_str().unwrap();
        assert!(
            m.contains("addressees[0].org") || m.contains("cannot be removed"),
            "{body}"
        );
    }
    assert_eq!(app.fingerprint().await, before);
    // Renaming it is still the issuer's to do.
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/recommendations/{id}")))
        .bearer_auth(&hssib)
        .json(&json!({"version": 2,
            "addressees": [{"name": "NHS England (national)", "org": "NHSE"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Finding 7: the public history starts at publication and names no token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_history_starts_at_publication() {
    let app = spawn_app().await;
    let hssib = token(&app, "HSSIB", &[Role::Author, Role::Approver]).await;
    let res = app
        .client
        .post(app.url("/api/v1/recommendations"))
        .bearer_auth(&hssib)
        .json(&json!({"status": "draft", "title": "Falls",
            "text": "A first wording nobody outside should read.",
            "addressees": [{"name": "NHS England", "org": "NHSE"}]}))
        .send()
        .await
        .unwrap();
    let rec: Value = res.json().await.unwrap();
    let id = rec["id"].as_str().unwrap().to_string();
    for (version, body) in [
        (
            1,
            json!({"text": "NHS England should publish falls guidance by 31 March 2026."}),
        ),
        (
            2,
            json!({"status": "published", "published": "2025-03-01", "override_gate": null}),
        ),
    ] {
        let mut b = body;
        b["version"] = json!(version);
        let res = app
            .client
            .patch(app.url(&format!("/api/v1/recommendations/{id}")))
            .bearer_auth(&hssib)
            .json(&b)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{}",
            res.text().await.unwrap()
        );
    }
    let history = |auth: Option<String>| {
        let rb = app
            .client
            .get(app.url(&format!("/api/v1/recommendations/{id}/history")));
        let rb = match auth {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        async move { rb.send().await.unwrap().text().await.unwrap() }
    };
    let public = history(None).await;
    assert!(!public.contains("nobody outside"), "{public}");
    assert!(!public.contains("trust test"), "a token's label: {public}");
    assert!(public.contains("API token"), "{public}");
    // The issuer still reads its drafting.
    let own = history(Some(hssib)).await;
    assert!(own.contains("nobody outside"), "{own}");
}

/// Finding 8: one request checks a bounded number of drafts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_takes_a_bounded_number_of_drafts() {
    let app = spawn_app().await;
    let draft = json!({"text": "Trusts should audit hand hygiene monthly."});
    let many = |n: usize| Value::Array(vec![draft.clone(); n]);
    let res = app
        .client
        .post(app.url("/api/v1/check"))
        .json(&many(concord_app::MAX_CHECK_DRAFTS))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app
        .client
        .post(app.url("/api/v1/check"))
        .json(&many(concord_app::MAX_CHECK_DRAFTS + 1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at most 50"),
        "{body}"
    );
}

/// Finding 3: refusals of callers nobody can name cost a bounded number of
/// short rows, and the trail still says how many there were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_refusals_cannot_fill_the_disk() {
    let app = spawn_app().await;
    let before = app.audit_rows().await;
    let long = "x".repeat(20_000);
    let path = format!("/api/v1/recommendations/HSSIB-2025-0001/addressees/{long}/respond");
    let requests = 600;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..requests {
        let (client, url) = (app.client.clone(), app.url(&path));
        tasks.spawn(async move {
            client
                .post(url)
                .bearer_auth(format!("not-a-token-{i}"))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status()
        });
        if tasks.len() >= 16 {
            assert_eq!(
                tasks.join_next().await.unwrap().unwrap(),
                StatusCode::UNAUTHORIZED
            );
        }
    }
    while let Some(s) = tasks.join_next().await {
        assert_eq!(s.unwrap(), StatusCode::UNAUTHORIZED);
    }
    let after = app.audit_rows().await;
    let new: Vec<&String> = after.iter().filter(|r| !before.contains(r)).collect();
    // The burst (300) and what refilled while the requests ran.
    assert!(
        new.len() >= 300 && new.len() < requests,
        "{} rows for {requests} refusals",
        new.len()
    );
    let bytes: usize = new.iter().map(|r| r.len()).sum();
    assert!(
        new.iter().all(|r| r.len() < 2_000),
        "a row keeps the long path"
    );
    assert!(bytes < 600_000, "{bytes} bytes of audit rows");
    // Once the budget has refilled, the next row says how many were left out.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let res = app
        .client
        .get(app.url("/api/v1/recommendations"))
        .bearer_auth("still-not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let last = app.audit_rows().await;
    assert!(
        last.iter()
            .any(|r| r.contains("earlier refusals of anonymous callers")),
        "the count of unwritten refusals is recorded"
    );
    // A named caller's refusals are all written.
    let respondent = token(&app, "HSSIB", &[Role::Respondent]).await;
    let n = app.audit_rows().await.len();
    for _ in 0..5 {
        let res = app
            .client
            .post(app.url("/api/v1/recommendations"))
            .bearer_auth(&respondent)
            .json(&json!({"title": "x", "text": "y"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(app.audit_rows().await.len(), n + 5);
}

/// Finding 4: idle connections from one address cannot hold the server;
/// another client is still answered, and idle ones are closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_hold_the_server() {
    // One address over its share; then many connections filling every
    // place (the longest idle makes room for a newcomer).
    for (max_open, max_per_address) in [(1000, 50), (100, 1000)] {
        idle_connections_against(max_open, max_per_address).await;
    }
}

async fn idle_connections_against(max_open: usize, max_per_address: usize) {
    let (services, dir) = open_services().await;
    let options = concord_server::ServerOptions {
        connections: concord_server::connections::ConnectionLimits {
            max_open,
            max_per_address,
            header_read: Duration::from_secs(1),
        },
        ..Default::default()
    };
    let app = serve_with(services, dir, options).await;
    let addr: std::net::SocketAddr = app.base.trim_start_matches("http://").parse().unwrap();
    // 300 connections from another loopback address, sending nothing.
    let mut idle = Vec::new();
    for _ in 0..300 {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
        idle.push(socket.connect(addr).await.unwrap());
    }
    // Another client is served meanwhile.
    for _ in 0..5 {
        let res = app.client.get(app.url("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    // Past the cap, connections are closed at once; the rest once idle
    // past the header timeout. Every one ends (never held for ever).
    let mut waits = tokio::task::JoinSet::new();
    for mut c in idle {
        waits.spawn(async move {
            let mut buf = [0u8; 64];
            let ended = tokio::time::timeout(Duration::from_secs(60), c.read(&mut buf)).await;
            matches!(ended, Ok(Ok(0)) | Ok(Err(_)))
        });
    }
    let mut closed = 0;
    while let Some(ended) = waits.join_next().await {
        closed += usize::from(ended.unwrap());
    }
    assert_eq!(
        closed, 300,
        "every idle connection was closed by the server"
    );
    // A new connection is answered. (Not the shared client's: the server
    // may have closed its pooled connection to make room, and a reused
    // dead connection fails on the client's side, not the server's.)
    let fresh = reqwest::Client::new();
    let res = fresh.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

/// Finding 9: wrong passwords sent all at once are checked no more often
/// than the limit allows; one password sprayed over many accounts from one
/// address is throttled too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_throttling_holds_under_concurrency_and_spraying() {
    let (services, _dir) = open_services().await;
    person_on(&services, "ann@hssib.example.org").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..150 {
        let svc = services.clone();
        tasks.spawn(async move {
            svc.sign_in("ann@hssib.example.org", &format!("wrong {i}"), "10.0.0.9")
                .await
                .map(|_| ())
        });
    }
    let (mut checked, mut throttled) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r.unwrap() {
            Err(AppError::Unauthenticated(_)) => checked += 1,
            Err(AppError::TooManyRequests(_)) => throttled += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(checked, 5, "{checked} checked, {throttled} throttled");
    assert_eq!(throttled, 145);

    // One password over 100 accounts from one address.
    let mut checked = 0;
    for i in 0..100 {
        match services
            .sign_in(
                &format!("person{i}@example.org"),
                "Summer2026!",
                "10.0.0.10",
            )
            .await
        {
            Err(AppError::Unauthenticated(_)) => checked += 1,
            Err(AppError::TooManyRequests(m)) => assert!(m.contains("network"), "{m}"),
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
    assert_eq!(checked, 30, "throttled after the limit per address");
    // Another address is not locked out by it.
    assert!(
        services
            .sign_in(
                "ann@hssib.example.org",
                "plum tractor velvet 42",
                "10.0.0.11"
            )
            .await
            .is_ok()
    );
}

async fn person_on(services: &Arc<concord_app::Services>, email: &str) {
    services
        .as_principal(operator())
        .add_user(NewUser {
            email: email.into(),
            name: "Ann Lee".into(),
            password: "plum tractor velvet 42".into(),
            memberships: vec![Membership {
                org: code("HSSIB"),
                roles: RoleSet::from_roles([Role::Author]),
            }],
        })
        .await
        .unwrap();
}

/// Behind a trusted proxy, sign-in throttling counts the client the proxy
/// names; from anywhere else, a forwarded header is ignored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_trusted_proxy_names_the_client() {
    for trusted in [false, true] {
        let (services, dir) = open_services().await;
        person_on(&services, "ann@hssib.example.org").await;
        let options = concord_server::ServerOptions {
            trusted_proxy: trusted.then(|| "127.0.0.1".parse().unwrap()),
            ..Default::default()
        };
        let app = serve_with(services, dir, options).await;
        // Five wrong passwords, each claiming a different client.
        for i in 0..5 {
            let mut b = browser::Browser::new();
            let res = b
                .try_sign_in_from(
                    &app,
                    "ann@hssib.example.org",
                    "wrong",
                    &format!("192.0.2.{i}"),
                )
                .await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let mut b = browser::Browser::new();
        let res = b
            .try_sign_in_from(&app, "ann@hssib.example.org", "wrong", "192.0.2.200")
            .await;
        // Trusted: each claimed client is its own; untrusted: all five came
        // from this one peer, so the sixth is throttled.
        let expected = if trusted {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(res.status(), expected, "trusted proxy: {trusted}");
    }
}

use crate::browser;

/// Accounts: an API token stops working a year after it is made, and the
/// refusal says so; a token made before tokens expired keeps working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_expire_after_a_year() {
    let start: chrono::DateTime<chrono::Utc> = "2026-12-06T10:00:00Z".parse().unwrap();
    let clock = Arc::new(concord_app::FixedClock::new(start));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let services = Arc::new(
        concord_app::Services::open_with_clock(&url, clock.clone())
            .await
            .unwrap(),
    );
    let made = services
        .as_principal(operator())
        .create_token_with_roles(
            &code("HSSIB"),
            "case system",
            RoleSet::from_roles([Role::Author]),
        )
        .await
        .unwrap();
    assert_eq!(
        made.record.expires_at,
        Some(start + chrono::Duration::days(concord_app::TOKEN_LIFETIME_DAYS))
    );
    let app = serve(services.clone(), dir).await;
    let ask = |secret: String| {
        let rb = app
            .client
            .post(app.url("/api/v1/recommendations"))
            .bearer_auth(secret)
            .json(&json!({"title": "Falls", "text": "NHS England should publish falls guidance."}));
        async move { rb.send().await.unwrap() }
    };
    assert_eq!(ask(made.secret.clone()).await.status(), StatusCode::CREATED);
    clock.set(start + chrono::Duration::days(364));
    assert_eq!(ask(made.secret.clone()).await.status(), StatusCode::CREATED);
    clock.set(start + chrono::Duration::days(366));
    let res = ask(made.secret.clone()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired on 2027-12-06"),
        "{body}"
    );
}

/// Accounts: a person changes their own password; the current one is asked
/// first, the new one follows the rules, and every other session ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_change_their_own_password() {
    let (services, dir) = open_services().await;
    person_on(&services, "ann@hssib.example.org").await;
    let app = serve(services, dir).await;
    let old = "plum tractor velvet 42";
    let mut here = browser::Browser::sign_in(&app, "ann@hssib.example.org", old).await;
    let mut elsewhere = browser::Browser::sign_in(&app, "ann@hssib.example.org", old).await;
    let csrf = here.csrf(&app).await;
    let change =
        |current: &str, new: &str| vec![("current", current.to_string()), ("new", new.to_string())];
    let res = here
        .post_form(
            &app,
            "/account/password",
            &change("wrong guess here", "a brand new passphrase"),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("is not your current password"), "{html}");
    let res = here
        .post_form(
            &app,
            "/account/password",
            &change(old, "short"),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("too short"));
    // Without the form's secret: refused, nothing changed.
    let res = here
        .post_form(
            &app,
            "/account/password",
            &change(old, "a brand new passphrase"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = here
        .post_form(
            &app,
            "/account/password",
            &change(old, "a brand new passphrase"),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (s, html) = here.get(&app, "/account?password=changed").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("Your password has been changed"), "{html}");
    // The other session has ended; the old password no longer works.
    let (_, html) = elsewhere.get(&app, "/account").await;
    assert!(
        !html.contains("Change your password"),
        "still signed in elsewhere"
    );
    let res = browser::Browser::new()
        .try_sign_in(&app, "ann@hssib.example.org", old)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    browser::Browser::sign_in(&app, "ann@hssib.example.org", "a brand new passphrase").await;
}

/// Accounts: an administrator cannot make someone act for its organisation
/// without their consent: adding an existing account invites it, and the
/// person accepts or declines on their account page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_of_another_organisation_needs_consent() {
    let (services, dir) = open_services().await;
    let add = |email: &str, org: &str, roles: RoleSet| NewUser {
        email: email.into(),
        name: format!("Person {email}"),
        password: "plum tractor velvet 42".into(),
        memberships: vec![Membership {
            org: code(org),
            roles,
        }],
    };
    for u in [
        add(
            "admin@hssib.example.org",
            "HSSIB",
            RoleSet::from_roles([Role::Administrator]),
        ),
        add(
            "bob@nhse.example.org",
            "NHSE",
            RoleSet::from_roles([Role::Respondent]),
        ),
        add(
            "cat@nhse.example.org",
            "NHSE",
            RoleSet::from_roles([Role::Respondent]),
        ),
    ] {
        services.as_principal(operator()).add_user(u).await.unwrap();
    }
    let app = serve(services.clone(), dir).await;
    let password = "plum tractor velvet 42";
    let mut admin = browser::Browser::sign_in(&app, "admin@hssib.example.org", password).await;
    let csrf = admin.csrf(&app).await;
    for email in ["bob@nhse.example.org", "cat@nhse.example.org"] {
        let res = admin
            .post_form(
                &app,
                "/admin/members",
                &[("email", email.into()), ("role", "author".into())],
                Some(&csrf),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/admin?invited=1");
    }
    let (_, html) = admin.get(&app, "/admin?invited=1").await;
    assert!(html.contains("Invitation sent"), "{html}");
    // Not members yet: the administrator does not see them.
    assert!(!html.contains("bob@nhse.example.org"), "{html}");
    let members = |email: &'static str| {
        let svc = services.clone();
        async move {
            let users = svc
                .as_principal(operator())
                .users(Some(&code("HSSIB")))
                .await
                .unwrap();
            users.iter().any(|(u, _)| u.email.to_string() == email)
        }
    };
    assert!(!members("bob@nhse.example.org").await);

    // Bob accepts; Cat declines.
    for (email, answer, member) in [
        ("bob@nhse.example.org", "accept", true),
        ("cat@nhse.example.org", "decline", false),
    ] {
        let mut b = browser::Browser::sign_in(&app, email, password).await;
        let (_, html) = b.get(&app, "/account").await;
        assert!(html.contains("HSSIB invites you"), "{html}");
        let csrf = b.csrf(&app).await;
        let res = b
            .post_form(
                &app,
                "/account/invitations/HSSIB",
                &[("answer", answer.into())],
                Some(&csrf),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(members(email).await, member, "{email} {answer}");
        let (_, html) = b.get(&app, "/account").await;
        assert!(
            !html.contains("HSSIB invites you"),
            "the invitation is answered"
        );
        // Answering again: there is nothing to answer.
        let res = b
            .post_form(
                &app,
                "/account/invitations/HSSIB",
                &[("answer", "accept".into())],
                Some(&csrf),
            )
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert!(!members("cat@nhse.example.org").await);
}

/// Finding 2: asking for the corpus-wide lists never starts the work; the
/// background sweep does it once per change, however many ask.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_for_the_heavy_lists_does_not_redo_them() {
    let (services, dir) = open_services().await;
    let text = "Hospitals should screen adults for sepsis at emergency department triage and give antibiotics within one hour of arrival.";
    for title in ["Sepsis screening", "Sepsis at triage"] {
        services
            .as_principal(operator())
            .create_draft(
                concord_app::NewRecord::from_json(json!({
                    "issuer": "HSSIB", "status": "published", "published": "2025-01-04",
                    "title": title, "text": text,
                    "addressees": [{"name": "NHS England", "org": "NHSE"}],
                    "override_gate": "test data"
                }))
                .unwrap(),
            )
            .await
            .unwrap();
    }
    let app = serve(services.clone(), dir).await;
    let groups = |app: &TestApp| {
        let rb = app.client.get(app.url("/api/v1/duplicates"));
        async move {
            let res = rb.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()["groups"]
                .as_array()
                .unwrap()
                .len()
        }
    };
    assert_eq!(groups(&app).await, 1);
    let swept = services.corpus_sweeps();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (client, url) = (
            app.client.clone(),
            app.url(if i % 2 == 0 {
                "/api/v1/duplicates"
            } else {
                "/api/v1/contradictions"
            }),
        );
        tasks.spawn(async move { client.get(url).send().await.unwrap().status() });
    }
    while let Some(s) = tasks.join_next().await {
        assert_eq!(s.unwrap(), StatusCode::OK);
    }
    assert_eq!(
        services.corpus_sweeps(),
        swept,
        "24 requests, no change: no new sweep"
    );
    // A change: the next caller gets a sweep that includes it.
    services
        .as_principal(operator())
        .create_draft(concord_app::NewRecord::from_json(json!({
            "issuer": "NHSE", "status": "published", "published": "2025-02-04",
            "title": "Falls", "text": "Wards should assess older inpatients for falls risk on admission and review sedative medicines after any fall.",
            "addressees": [{"name": "Care Quality Commission", "org": "CQC"}],
            "override_gate": "test data"
        })).unwrap())
        .await
        .unwrap();
    assert_eq!(groups(&app).await, 1);
    assert!(services.corpus_sweeps() > swept);
}

/// Low: links in the publicly cached Atom feeds start with the public
/// address the server was given, whatever Host a request named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_links_follow_the_public_address_not_the_host_header() {
    let (services, dir) = open_services().await;
    let options = concord_server::ServerOptions {
        public_url: Some("https://concord.example.nhs.uk".into()),
        ..Default::default()
    };
    let app = serve_with(services, dir, options).await;
    published(&app).await;
    let feed = app
        .client
        .get(app.url("/feeds/recommendations.atom"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!feed.contains("evil.example"), "{feed}");
    assert!(
        feed.contains("href=\"https://concord.example.nhs.uk/recommendations/HSSIB-2025-0001\""),
        "{feed}"
    );
}

/// Accounts: an administrator resets a member's password with a one-time
/// link (never learning the password); the link works once and ends every
/// session; a person who also acts for another body is the operator's to
/// reset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_resets_a_password_with_a_one_time_link() {
    let (services, dir) = open_services().await;
    let add = |email: &str, ms: Vec<Membership>| NewUser {
        email: email.into(),
        name: format!("Person {email}"),
        password: "plum tractor velvet 42".into(),
        memberships: ms,
    };
    let m = |org: &str, r: Role| Membership {
        org: code(org),
        roles: RoleSet::from_roles([r]),
    };
    let mut ids = std::collections::HashMap::new();
    for (email, ms) in [
        (
            "admin@hssib.example.org",
            vec![m("HSSIB", Role::Administrator)],
        ),
        ("dan@hssib.example.org", vec![m("HSSIB", Role::Author)]),
        (
            "eve@hssib.example.org",
            vec![m("HSSIB", Role::Author), m("NHSE", Role::Respondent)],
        ),
        ("fay@nhse.example.org", vec![m("NHSE", Role::Respondent)]),
    ] {
        let u = services
            .as_principal(operator())
            .add_user(add(email, ms))
            .await
            .unwrap();
        ids.insert(email, u.id);
    }
    let app = serve(services.clone(), dir).await;
    let old = "plum tractor velvet 42";
    let mut admin = browser::Browser::sign_in(&app, "admin@hssib.example.org", old).await;
    let mut dan_elsewhere = browser::Browser::sign_in(&app, "dan@hssib.example.org", old).await;
    let csrf = admin.csrf(&app).await;
    let reset = |id: i64| format!("/admin/users/{id}/password-reset");

    // Someone who also acts for NHSE, and someone not in HSSIB: refused,
    // and no link is made.
    let before = app.fingerprint().await;
    let res = admin
        .post_form(&app, &reset(ids["eve@hssib.example.org"]), &[], Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("only an operator"));
    let res = admin
        .post_form(&app, &reset(ids["fay@nhse.example.org"]), &[], Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Without the form's secret: refused.
    let res = admin
        .post_form(&app, &reset(ids["dan@hssib.example.org"]), &[], None)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.fingerprint().await,
        before,
        "a refusal changed something"
    );
    let (_, page) = admin.get(&app, "/admin").await;
    assert!(page.contains("only an operator can reset"), "{page}");

    // Dan's link, shown once on the admin page.
    let res = admin
        .post_form(&app, &reset(ids["dan@hssib.example.org"]), &[], Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let html = res.text().await.unwrap();
    let at = html.find("/reset-password/").expect("the link is shown");
    let secret: String = html[at + "/reset-password/".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    assert!(secret.len() >= 32, "{secret}");
    let link = format!("/reset-password/{secret}");
    let (_, again) = admin.get(&app, "/admin").await;
    assert!(!again.contains(&secret), "the link is shown only once");

    // Anyone with the link sees whose it is and sets the password.
    let mut dan = browser::Browser::new();
    let (s, html) = dan.get(&app, &link).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("dan@hssib.example.org"), "{html}");
    let set = |new: &str| vec![("reset", secret.clone()), ("new", new.to_string())];
    let res = dan
        .post_form(&app, "/reset-password", &set("short"), None)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("too short"));
    let res = dan
        .post_form(
            &app,
            "/reset-password",
            &set("a brand new passphrase"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your password has been set")
    );
    // Once only; a made-up link is no link.
    let res = dan
        .post_form(
            &app,
            "/reset-password",
            &set("another new passphrase"),
            None,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(dan.get(&app, &link).await.0, StatusCode::NOT_FOUND);
    let made_up = format!("/reset-password/{}", "A".repeat(43));
    assert_eq!(dan.get(&app, &made_up).await.0, StatusCode::NOT_FOUND);

    // Dan's other session ended; the old password no longer works.
    let (_, html) = dan_elsewhere.get(&app, "/account").await;
    assert!(!html.contains("Change your password"), "still signed in");
    let res = browser::Browser::new()
        .try_sign_in(&app, "dan@hssib.example.org", old)
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    browser::Browser::sign_in(&app, "dan@hssib.example.org", "a brand new passphrase").await;

    // The operator may reset Eve; the trail says who made each link.
    let op = services.as_principal(operator());
    op.reset_password(ids["eve@hssib.example.org"])
        .await
        .unwrap();
    let trail = app.audit_rows().await;
    let made = trail
        .iter()
        .filter(|r| r.contains("issue_password_reset"))
        .count();
    assert_eq!(made, 2, "{trail:?}");
    assert!(trail.iter().any(|r| r.contains("reset_password")));
}
