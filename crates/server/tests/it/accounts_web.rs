//! Signing in, sessions and the account pages against a real server and a
//! real database, and the attacks issue #7 names: session fixation, CSRF,
//! a token of one organisation on another's record, stored XSS through a
//! recommendation's text and an organisation's name, a huge form post,
//! brute force.

use crate::common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::*;
use concord_app::{FixedClock, NewUser, Services};
use concord_domain::account::{Membership, Role, RoleSet};
use concord_domain::{OrgCode, OrgKind, OrgLevel, Organisation};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser;
use browser::{Browser, csrf_field};

const PASSWORD: &str = "plum tractor velvet 42";

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

async fn add_user(app: &TestApp, email: &str, name: &str, org: &str, roles: RoleSet) -> i64 {
    app.services
        .as_principal(operator())
        .add_user(NewUser {
            email: email.into(),
            name: name.into(),
            password: PASSWORD.into(),
            memberships: vec![Membership {
                org: code(org),
                roles,
            }],
        })
        .await
        .unwrap()
        .id
}

fn set_cookies(res: &reqwest::Response) -> Vec<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

async fn count_tokens(app: &TestApp) -> usize {
    app.services
        .as_principal(operator())
        .tokens(None)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn sign_in_account_switch_and_sign_out() {
    let app = spawn_app().await;
    let id = add_user(
        &app,
        "Ann.Lee@HSSIB.org.uk",
        "Ann Lee",
        "HSSIB",
        RoleSet::from_roles([Role::Author, Role::Administrator]),
    )
    .await;
    app.services
        .as_principal(operator())
        .set_roles(id, &code("NHSE"), RoleSet::from_roles([Role::Respondent]))
        .await
        .unwrap();

    let mut b = Browser::new();
    let res = b.client.get(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let cookie = set_cookies(&res).join("\n");
    assert!(
        cookie.contains("concord_sign_in=") && cookie.contains("HttpOnly"),
        "{cookie}"
    );

    // Wrong password and unknown email: one message, 401.
    let wrong = b
        .try_sign_in(&app, "ann.lee@hssib.org.uk", "wrong wrong wrong")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.text().await.unwrap();
    let unknown = b.try_sign_in(&app, "nobody@hssib.org.uk", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown = unknown.text().await.unwrap();
    for page in [&wrong, &unknown] {
        assert!(
            page.contains("The email address or password is wrong."),
            "{page}"
        );
    }
    // The email typed is kept in the form, escaped.
    assert!(wrong.contains("value=\"ann.lee@hssib.org.uk\""));

    // The right password, any case of the email: a session cookie.
    let res = b.try_sign_in(&app, "ANN.LEE@hssib.org.uk", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Someone with work to do lands on it (issue #18).
    assert_eq!(res.headers()["location"], "/work");
    let cookie = set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with("concord_session="))
        .expect("a session cookie");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] {
        assert!(cookie.contains(part), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    let (s, html) = b.get(&app, "/account").await;
    assert_eq!(s, StatusCode::OK);
    for text in [
        "Ann Lee",
        "ann.lee@hssib.org.uk",
        "HSSIB",
        "author, administrator",
        "NHSE",
        "respondent",
        "/admin",
    ] {
        assert!(html.contains(text), "{text} in {html}");
    }
    // The session acts for HSSIB: the API sees the same principal a token
    // would (a draft of HSSIB's is visible, with the CSRF header for writes).
    let csrf = csrf_field(&html).unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/recommendations"))
        .header("cookie", b.cookie_header())
        .header("x-csrf-token", &csrf)
        .json(&json!({"issuer": "HSSIB", "status": "draft", "title": "t", "text": "Trusts should audit."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft: Value = res.json().await.unwrap();

    // Switch to NHSE: the draft of HSSIB is no longer visible.
    let res = b
        .post_form(
            &app,
            "/account/organisation",
            &[("org", "NHSE".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = b.get(&app, "/account").await;
    assert!(html.contains("NHSE (acting for now)"), "{html}");
    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/recommendations/{}",
            draft["id"].as_str().unwrap()
        )))
        .header("cookie", b.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Not a member of CQC: refused.
    let res = b
        .post_form(
            &app,
            "/account/organisation",
            &[("org", "CQC".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Sign out: the cookie is removed and the session no longer works.
    let old = b.cookie_header();
    let res = b.post_form(&app, "/sign-out", &[], Some(&csrf)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(
        set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("concord_session=;") && c.contains("Max-Age=0"))
    );
    let res = b
        .client
        .get(app.url("/account"))
        .header("cookie", old)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/sign-in");
}

#[tokio::test]
async fn cookies_are_secure_behind_https() {
    let app = spawn_app().await;
    add_user(&app, "ann@hssib.org.uk", "Ann", "HSSIB", RoleSet::all()).await;
    let mut b = Browser::new();
    let (_, html) = b.get(&app, "/sign-in").await;
    let csrf = csrf_field(&html).unwrap();
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("email", "ann@hssib.org.uk")
        .append_pair("password", PASSWORD)
        .append_pair("csrf", &csrf)
        .finish();
    let res = b
        .client
        .post(app.url("/sign-in"))
        .header("cookie", b.cookie_header())
        .header("x-forwarded-proto", "https")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let c = set_cookies(&res).join("\n");
    assert!(
        c.contains("concord_session=") && c.contains("; Secure"),
        "{c}"
    );
}

#[tokio::test]
async fn a_new_session_at_every_sign_in_no_fixation() {
    let app = spawn_app().await;
    add_user(&app, "ann@hssib.org.uk", "Ann", "HSSIB", RoleSet::all()).await;
    // An attacker plants a session id of their choosing before sign-in.
    let mut b = Browser::new();
    b.cookies
        .insert("concord_session".into(), "concord_planted".into());
    let res = b.try_sign_in(&app, "ann@hssib.org.uk", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let first = b.cookies["concord_session"].clone();
    assert_ne!(first, "concord_planted");
    let planted = Browser {
        cookies: [("concord_session".to_string(), "concord_planted".to_string())].into(),
        ..Browser::new()
    };
    let res = planted
        .client
        .get(app.url("/account"))
        .header("cookie", planted.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the planted id is not a session"
    );

    // Signing in again from a signed-in browser: a new id, the old one ends.
    let res = b.try_sign_in(&app, "ann@hssib.org.uk", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let second = b.cookies["concord_session"].clone();
    assert_ne!(first, second);
    let res = b
        .client
        .get(app.url("/account"))
        .header("cookie", format!("concord_session={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the old session ended");
    let (s, _) = b.get(&app, "/account").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn csrf_missing_or_wrong_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    add_user(&app, "admin@hssib.org.uk", "Admin", "HSSIB", RoleSet::all()).await;
    let mut b = Browser::sign_in(&app, "admin@hssib.org.uk", PASSWORD).await;
    let csrf = b.csrf(&app).await;
    let tokens = count_tokens(&app).await;
    let fields = [("label", "ci".to_string()), ("role", "author".to_string())];
    for bad in [
        None,
        Some("concord_wrong"),
        Some(""),
        Some(&csrf[..csrf.len() - 1]),
    ] {
        let res = b.post_form(&app, "/admin/tokens", &fields, bad).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{bad:?}");
        let html = res.text().await.unwrap();
        assert!(html.contains("did not come from Concord"), "{html}");
        assert_eq!(count_tokens(&app).await, tokens, "{bad:?} changed nothing");
    }
    let refused = app
        .services
        .as_principal(operator())
        .refusals("/admin/tokens")
        .await
        .unwrap();
    assert_eq!(refused.len(), 4);
    assert!(refused[0].actor.starts_with("user:"), "{:?}", refused[0]);
    // Another session's token does not do either.
    add_user(&app, "other@hssib.org.uk", "Other", "HSSIB", RoleSet::all()).await;
    let mut other = Browser::sign_in(&app, "other@hssib.org.uk", PASSWORD).await;
    let theirs = other.csrf(&app).await;
    let res = b
        .post_form(&app, "/admin/tokens", &fields, Some(&theirs))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // With the right one the form works (the secret is shown once).
    let res = b
        .post_form(&app, "/admin/tokens", &fields, Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("concord_") && html.contains("not shown again"),
        "{html}"
    );
    assert_eq!(count_tokens(&app).await, tokens + 1);

    // The API with the session cookie but without the header: refused.
    let rec = app
        .services
        .as_principal(operator())
        .create_draft(concord_app::NewRecord::from_json(json!({"issuer": "HSSIB", "status": "draft", "title": "t", "text": "Trusts should audit."})).unwrap())
        .await
        .unwrap();
    let path = format!("/api/v1/recommendations/{}", rec.id);
    let res = app
        .client
        .patch(app.url(&path))
        .header("cookie", b.cookie_header())
        .json(&json!({"version": 1, "title": "changed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf");
    let now = app
        .services
        .as_principal(operator())
        .recommendation(&rec.id)
        .await
        .unwrap();
    assert_eq!((now.version, now.data.title.as_str()), (1, "t"));

    // The sign-in form without its own cookie (posted from another site).
    let mut stranger = Browser::new();
    let res = stranger
        .post_form(
            &app,
            "/sign-in",
            &[
                ("email", "admin@hssib.org.uk".into()),
                ("password", PASSWORD.into()),
            ],
            Some("concord_guess"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!stranger.cookies.contains_key("concord_session"));
}

#[tokio::test]
async fn a_token_of_one_organisation_on_anothers_record_is_refused() {
    let app = spawn_app().await;
    let rec = app
        .services
        .as_principal(operator())
        .create_draft(
            concord_app::NewRecord::from_json(
                json!({"issuer": "HSSIB", "status": "published", "published": "2024-01-04",
            "title": "Sepsis", "text": "NHS England should screen for sepsis by 31 March 2026.",
            "addressees": [{"name": "NHS England", "org": "NHSE"}], "override_gate": "test"}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let cqc = app.token("CQC").await;
    let path = format!("/api/v1/recommendations/{}", rec.id);
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&cqc)
        .json(&json!({"version": 1, "title": "Hijacked"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CQC cannot change"),
        "{body}"
    );
    let now = app
        .services
        .as_principal(operator())
        .recommendation(&rec.id)
        .await
        .unwrap();
    assert_eq!(now.version, 1);
    let refused = app
        .services
        .as_principal(operator())
        .refusals(&path)
        .await
        .unwrap();
    assert_eq!(refused.len(), 1);
    assert!(refused[0].actor.starts_with("token:"), "{:?}", refused[0]);
    let why = refused[0].after.as_ref().unwrap();
    assert_eq!(why["what"], format!("PATCH {path}"));
    assert!(
        why["reason"]
            .as_str()
            .unwrap()
            .contains("CQC cannot change"),
        "{why}"
    );
}

#[tokio::test]
async fn stored_xss_is_escaped_on_every_page() {
    // The organisation's page lists through the search index.
    let (services, dir) = open_services().await;
    services
        .attach_search(&dir.path().join("t.index"))
        .expect("open the index");
    let app = serve(services, dir).await;
    let evil_org = "<img src=x onerror=alert(1)>";
    let evil_text = "<script>alert('text')</script> NHS England should act by 31 March 2026.";
    app.services
        .as_principal(operator())
        .operator()
        .unwrap()
        .add_organisation(&Organisation {
            status: Default::default(),
            code: code("EVIL"),
            name: evil_org.into(),
            kind: OrgKind::Regulator,
            level: OrgLevel::National,
            provider_kind: None,
            region: None,
            aliases: vec![],
        })
        .await
        .unwrap();
    let rec = app
        .services
        .as_principal(operator())
        .create_draft(
            concord_app::NewRecord::from_json(
                json!({"issuer": "EVIL", "status": "published", "published": "2024-01-04",
            "title": "<script>alert('title')</script>", "text": evil_text,
            "addressees": [{"name": "<b onmouseover=alert(2)>NHS England</b>", "org": "NHSE"}],
            "override_gate": "test"}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    add_user(
        &app,
        "admin@evil.org.uk",
        "<script>alert('name')</script>",
        "EVIL",
        RoleSet::all(),
    )
    .await;
    let mut b = Browser::sign_in(&app, "admin@evil.org.uk", PASSWORD).await;
    let mut pages = Vec::new();
    for path in [
        format!("/recommendations/{}", rec.id),
        "/organisations/EVIL".to_string(),
        "/".to_string(),
    ] {
        let (s, html) = b.get(&app, &path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        pages.push((path, html));
    }
    for path in ["/account", "/admin"] {
        let (s, html) = b.get(&app, path).await;
        assert_eq!(s, StatusCode::OK, "{path}");
        pages.push((path.to_string(), html));
    }
    for (path, html) in &pages {
        for raw in ["<script>alert", "<img src=x", "<b onmouseover"] {
            assert!(!html.contains(raw), "{raw} unescaped on {path}");
        }
    }
    // Shown as text: `<` escaped as `&#60;` (askama: every page is a
    // template).
    let shown = |html: &str, inner: &str| html.contains(&format!("&#60;{inner}"));
    assert!(
        shown(&pages[0].1, "script"),
        "the text on the record's page"
    );
    assert!(
        shown(&pages[1].1, "img src=x onerror=alert(1)"),
        "the name on its page"
    );
    assert!(shown(&pages[4].1, "script"), "the user's name on /admin");
}

#[tokio::test]
async fn a_huge_form_post_is_413_and_changes_nothing() {
    let app = spawn_app().await;
    add_user(&app, "admin@hssib.org.uk", "Admin", "HSSIB", RoleSet::all()).await;
    let mut b = Browser::sign_in(&app, "admin@hssib.org.uk", PASSWORD).await;
    let csrf = b.csrf(&app).await;
    let tokens = count_tokens(&app).await;
    let huge = "x".repeat(200_000);
    let res = b
        .post_form(
            &app,
            "/admin/tokens",
            &[("label", huge.clone()), ("role", "author".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(count_tokens(&app).await, tokens);
    let res = Browser::new()
        .post_form(
            &app,
            "/sign-in",
            &[("email", huge.clone()), ("password", huge)],
            Some("x"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // No stack trace or internals on any of these pages.
    let text = res.text().await.unwrap();
    assert!(
        !text.contains("panicked") && !text.contains("src/"),
        "{text}"
    );
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[tokio::test]
async fn brute_force_is_throttled_per_email_and_client() {
    let clock = Arc::new(FixedClock::new(t("2026-11-27T10:00:00Z")));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let services = Arc::new(
        Services::open_with_clock(&url, clock.clone())
            .await
            .unwrap(),
    );
    let app = serve(services, dir).await;
    add_user(&app, "ann@hssib.org.uk", "Ann", "HSSIB", RoleSet::all()).await;
    let mut b = Browser::new();
    for i in 0..5 {
        let res = b
            .try_sign_in(&app, "ann@hssib.org.uk", &format!("guess number {i}"))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // The sixth, even with the right password: 429, no session.
    let res = b.try_sign_in(&app, "ANN@hssib.org.uk", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let text = res.text().await.unwrap();
    assert!(text.contains("Too many wrong passwords"), "{text}");
    assert!(!b.cookies.contains_key("concord_session"));
    let refused = app
        .services
        .as_principal(operator())
        .refusals("/sign-in")
        .await
        .unwrap();
    assert!(refused.iter().any(|e| {
        e.after.as_ref().unwrap()["reason"]
            .as_str()
            .unwrap()
            .contains("Too many")
    }));
    // Another email from the same client is not blocked.
    add_user(&app, "bob@hssib.org.uk", "Bob", "HSSIB", RoleSet::all()).await;
    assert_eq!(
        b.try_sign_in(&app, "bob@hssib.org.uk", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Fifteen minutes after the failures, Ann may try again.
    clock.set(t("2026-11-27T10:15:01Z"));
    let res = b.try_sign_in(&app, "ann@hssib.org.uk", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // And sessions end: idle for over two hours, the cookie no longer works.
    clock.set(t("2026-11-27T10:15:01Z") + Duration::hours(2) + Duration::seconds(1));
    let (s, _) = b.get(&app, "/account").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_session_ends() {
    let app = spawn_app().await;
    let id = add_user(&app, "ann@hssib.org.uk", "Ann", "HSSIB", RoleSet::all()).await;
    let mut b = Browser::sign_in(&app, "ann@hssib.org.uk", PASSWORD).await;
    app.services
        .as_principal(operator())
        .set_user_disabled(id, true)
        .await
        .unwrap();
    let (s, _) = b.get(&app, "/account").await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let res = b.try_sign_in(&app, "ann@hssib.org.uk", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("The email address or password is wrong.")
    );
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/sign-in", "/", "/api/v1/organisations"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.contains_key("referrer-policy"));
    }
}

/// Signing in lands on "Your work" for someone with queues there, and on
/// their account for someone with none (issue #18).
#[tokio::test]
async fn sign_in_lands_where_the_work_is() {
    let app = spawn_app().await;
    add_user(
        &app,
        "resp@nhse.example.org",
        "Res Pondent",
        "NHSE",
        RoleSet::from_roles([Role::Respondent]),
    )
    .await;
    app.services
        .as_principal(operator())
        .add_user(NewUser {
            email: "new@example.org".into(),
            name: "New Person".into(),
            password: PASSWORD.into(),
            memberships: vec![],
        })
        .await
        .unwrap();
    for (email, landing) in [
        ("resp@nhse.example.org", "/work"),
        ("new@example.org", "/account"),
    ] {
        let res = Browser::new().try_sign_in(&app, email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email}");
        assert_eq!(res.headers()["location"], landing, "{email}");
    }
}

/// An administrator's form says what is wrong in words, not in the API's
/// `field role: ...` (issue #18, 12), and adds nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_a_role_is_refused_in_words() {
    let app = spawn_app().await;
    add_user(
        &app,
        "admin@hssib.org.uk",
        "Ada Admin",
        "HSSIB",
        RoleSet::from_roles([Role::Administrator]),
    )
    .await;
    let mut b = Browser::sign_in(&app, "admin@hssib.org.uk", PASSWORD).await;
    let csrf = b.csrf(&app).await;
    let res = b
        .post_form(
            &app,
            "/admin/users",
            &[
                ("email", "new.person@hssib.org.uk".into()),
                ("name", "New Person".into()),
                ("password", "a first password for them".into()),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("Give at least one role"), "{html}");
    assert!(!html.contains("field role"), "{html}");
    let (_, admin) = b.get(&app, "/admin").await;
    assert!(!admin.contains("new.person@hssib.org.uk"), "{admin}");
}
