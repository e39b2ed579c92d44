//! The form with which a signed-in body registers a workstream (issue #8),
//! against a real server and database: it stores through the same service
//! as the API, refuses without the session's CSRF token, without a session
//! or without the author role (storing nothing), re-shows the form with the
//! error by its field, escapes what was typed, and lands on the page that
//! lists what overlaps the new work.

use crate::common;

use common::*;
use concord_app::NewUser;
use concord_domain::OrgCode;
use concord_domain::account::{Membership, Role, RoleSet};
use reqwest::StatusCode;

use crate::browser;
use browser::{Browser, csrf_field};

const PASSWORD: &str = "plum tractor velvet 42";

async fn add_user(app: &TestApp, email: &str, org: &str, roles: RoleSet) {
    app.services
        .as_principal(operator())
        .add_user(NewUser {
            email: email.into(),
            name: "Someone".into(),
            password: PASSWORD.into(),
            memberships: vec![Membership {
                org: OrgCode::parse(org).unwrap(),
                roles,
            }],
        })
        .await
        .unwrap();
}

async fn count(app: &TestApp) -> usize {
    app.services
        .as_principal(operator())
        .visible_workstreams()
        .await
        .unwrap()
        .len()
}

fn fields(title: &str, start: &str, end: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", title.to_string()),
        (
            "aim",
            "Find why deteriorating patients with sepsis are escalated late on wards.".into(),
        ),
        ("partners", "CQC, NICE".into()),
        ("themes", "sepsis, deterioration".into()),
        ("settings", "acute hospital".into()),
        ("status", "active".into()),
        ("start", start.to_string()),
        ("expected_end", end.to_string()),
        ("contact", "sepsis@hssib.org.uk".into()),
        ("public", "yes".into()),
    ]
}

/// Signs in as an author of HSSIB and reads the form's CSRF field.
async fn author(app: &TestApp) -> (Browser, String) {
    add_user(app, "author@hssib.org.uk", "HSSIB", RoleSet::all()).await;
    let mut b = Browser::sign_in(app, "author@hssib.org.uk", PASSWORD).await;
    let (s, html) = b.get(app, "/workstreams/new").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("<label class=\"nhsuk-label\" for=\"expected_end\">Expected end</label>")
    );
    assert!(
        html.contains("HSSIB"),
        "the lead is the user's organisation"
    );
    (
        b.clone(),
        csrf_field(&html).expect("the form has a csrf field"),
    )
}

#[tokio::test]
async fn a_registered_workstream_redirects_to_its_page_with_its_overlaps() {
    let app = spawn_app().await;
    // Work already registered that the new work overlaps.
    let existing = app
        .services
        .as_principal(operator())
        .register_workstream(
            &concord_app::NewWorkstream::from_json(serde_json::json!({
                "lead": "CQC",
                "title": "Sepsis escalation on acute wards",
                "aim": "Why deteriorating patients with sepsis are escalated late.",
                "themes": ["sepsis", "deterioration"],
            }))
            .unwrap(),
        )
        .await
        .unwrap()
        .workstream
        .workstream
        .id;
    let (mut b, csrf) = author(&app).await;
    // The list offers the form to a signed-in person, not to a visitor.
    let (_, list) = b.get(&app, "/workstreams").await;
    assert!(list.contains("href=\"/workstreams/new\""), "{list}");
    let (_, anon) = Browser::new().get(&app, "/workstreams").await;
    assert!(!anon.contains("href=\"/workstreams/new\""));

    let before = count(&app).await;
    let res = b
        .post_form(
            &app,
            "/workstreams/new",
            &fields("Late escalation of sepsis", "2026-01-05", "2026-12-31"),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with("/workstreams/WS-HSSIB-"), "{to}");
    assert_eq!(count(&app).await, before + 1);
    let id = to.trim_start_matches("/workstreams/");
    let stored = app
        .services
        .as_principal(operator())
        .workstream(&concord_app::parse_workstream_id(id).unwrap())
        .await
        .unwrap()
        .workstream;
    assert_eq!(stored.title, "Late escalation of sepsis");
    assert_eq!(stored.lead.as_str(), "HSSIB");
    let partners: Vec<String> = stored.partners.iter().map(|p| p.to_string()).collect();
    assert_eq!(partners, ["CQC", "NICE"]);
    assert_eq!(stored.themes, ["sepsis", "deterioration"]);
    assert_eq!(stored.contact.as_deref(), Some("sepsis@hssib.org.uk"));
    assert!(stored.public);

    let (s, page) = b.get(&app, &to).await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("Overlapping work"));
    assert!(
        page.contains(&format!("href=\"/workstreams/{existing}\"")),
        "the overlapping workstream is listed: {page}"
    );
    assert!(page.contains("words in common"), "with its reason");
}

#[tokio::test]
async fn missing_or_wrong_csrf_is_403_and_stores_nothing() {
    let app = spawn_app().await;
    let (mut b, csrf) = author(&app).await;
    let before = count(&app).await;
    for bad in [None, Some("concord_wrong"), Some(&csrf[..csrf.len() - 1])] {
        let res = b
            .post_form(
                &app,
                "/workstreams/new",
                &fields("Sepsis", "2026-01-05", "2026-12-31"),
                bad,
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{bad:?}");
        assert_eq!(count(&app).await, before, "{bad:?} stored nothing");
    }
}

#[tokio::test]
async fn a_visitor_or_a_person_without_the_author_role_is_refused() {
    let app = spawn_app().await;
    let before = count(&app).await;
    let mut visitor = Browser::new();
    let (s, html) = visitor.get(&app, "/workstreams/new").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Sign in to register work") && html.contains("href=\"/sign-in\""));
    let res = visitor
        .post_form(
            &app,
            "/workstreams/new",
            &fields("Sepsis", "2026-01-05", "2026-12-31"),
            Some("anything"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(count(&app).await, before);

    let mut respondent = RoleSet::EMPTY;
    respondent.insert(Role::Respondent);
    add_user(&app, "answers@hssib.org.uk", "HSSIB", respondent).await;
    let mut b = Browser::sign_in(&app, "answers@hssib.org.uk", PASSWORD).await;
    let (s, html) = b.get(&app, "/workstreams/new").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(html.contains("author role"), "{html}");
    let csrf = b.csrf(&app).await;
    let res = b
        .post_form(
            &app,
            "/workstreams/new",
            &fields("Sepsis", "2026-01-05", "2026-12-31"),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app).await, before);
}

#[tokio::test]
async fn an_end_before_the_start_reshows_the_form_with_the_error_by_the_field() {
    let app = spawn_app().await;
    let (mut b, csrf) = author(&app).await;
    let before = count(&app).await;
    let res = b
        .post_form(
            &app,
            "/workstreams/new",
            &fields("Sepsis on wards", "2026-06-01", "2026-01-01"),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("nhsuk-error-summary"), "{html}");
    assert!(html.contains("href=\"#expected_end\""), "{html}");
    assert!(html.contains("id=\"expected_end-error\""), "{html}");
    // What was typed is kept.
    assert!(html.contains("value=\"Sepsis on wards\""));
    assert!(html.contains("value=\"2026-01-01\""));
    assert!(html.contains("value=\"CQC, NICE\""));
    assert_eq!(count(&app).await, before);
    // An empty title is named by its field too.
    let res = b
        .post_form(&app, "/workstreams/new", &fields("  ", "", ""), Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"title-error\""), "{html}");
    assert_eq!(count(&app).await, before);
}

/// The title's markup as text (askama writes `&#60;`; every page is a
/// template now).
fn escaped(html: &str) -> bool {
    html.contains("&#60;script&#62;alert(1)")
}

#[tokio::test]
async fn markup_in_the_title_is_escaped() {
    let app = spawn_app().await;
    let (mut b, csrf) = author(&app).await;
    let evil = "<script>alert(1)</script> sepsis";
    // Refused (bad end date): the form shows it escaped.
    let res = b
        .post_form(
            &app,
            "/workstreams/new",
            &fields(evil, "2026-06-01", "2026-01-01"),
            Some(&csrf),
        )
        .await;
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(escaped(&html), "{html}");
    // Stored: its page shows it escaped.
    let res = b
        .post_form(
            &app,
            "/workstreams/new",
            &fields(evil, "2026-01-01", "2026-06-01"),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_string();
    for path in [to.as_str(), "/workstreams"] {
        let (_, html) = b.get(&app, path).await;
        assert!(!html.contains("<script>alert(1)"), "{path}: {html}");
        assert!(escaped(&html), "{path}");
    }
}
