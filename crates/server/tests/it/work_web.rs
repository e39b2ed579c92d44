//! The signed-in work pages against a real server and database: an author
//! drafts with the criteria and similar recommendations shown, saves,
//! edits, publishes through the gate; the addressee answers and reports
//! progress; the issuer assesses. Bad input comes back on the form, named
//! by field, with nothing stored; a stale edit is refused, not merged.

use crate::common;

use common::*;
use concord_app::NewUser;
use concord_domain::account::{Membership, Role, RoleSet};
use concord_domain::{OrgCode, RecommendationId};
use reqwest::StatusCode;
use serde_json::json;

use crate::browser;
use browser::{Browser, csrf_field};

const PASSWORD: &str = "plum tractor velvet 42";

async fn person(app: &TestApp, email: &str, org: &str, roles: &[Role]) -> Browser {
    app.services
        .as_principal(operator())
        .add_user(NewUser {
            email: email.into(),
            name: format!("Person {email}"),
            password: PASSWORD.into(),
            memberships: vec![Membership {
                org: OrgCode::parse(org).unwrap(),
                roles: RoleSet::from_roles(roles.iter().copied()),
            }],
        })
        .await
        .unwrap();
    Browser::sign_in(app, email, PASSWORD).await
}

/// The error summary's messages, in order.
fn summary(html: &str) -> Vec<String> {
    html.split("<li><a href=\"#")
        .skip(1)
        .map(|s| {
            let (anchor, rest) = s.split_once("\">").unwrap();
            format!("{anchor}: {}", rest.split("</a>").next().unwrap())
        })
        .collect()
}

async fn count(app: &TestApp) -> u64 {
    app.services.as_principal(operator()).count().await.unwrap()
}

const TEXT: &str = "NHS England should require every emergency department to screen adults \
                    for sepsis within one hour of arrival by 31 March 2027.";

fn draft(extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut f = vec![
        ("title", "Sepsis screening at the front door".to_string()),
        ("text", TEXT.to_string()),
        ("addressees", "NHSE\nA body nobody registered".to_string()),
        ("themes", "sepsis, deterioration".to_string()),
        ("cost_one_off", "£250,000".to_string()),
        ("evidence_kind", "investigation".to_string()),
        ("evidence_references", "HSSIB report I2024/001".to_string()),
    ];
    for (k, v) in extra {
        f.retain(|(n, _)| n != k);
        f.push((k, v.to_string()));
    }
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_check_save_edit_publish_answer_and_assess_on_sqlite() {
    draft_check_save_edit_publish_answer_and_assess(spawn_app().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn draft_check_save_edit_publish_answer_and_assess_on_postgres() {
    if let Some(app) = spawn_app_on_postgres().await {
        draft_check_save_edit_publish_answer_and_assess(app).await;
    }
}

async fn draft_check_save_edit_publish_answer_and_assess(app: TestApp) {
    // Something already said, for the similar recommendations.
    let existing = app
        .services
        .as_principal(operator())
        .create_draft(concord_app::NewRecord::from_json(json!({
            "issuer": "NICE", "status": "published", "published": "2024-05-01",
            "title": "Sepsis screening within an hour",
            "text": "NHS England should require emergency departments to screen adults for sepsis within one hour of arrival.",
            "addressees": [{"name": "NHS England", "org": "NHSE"}],
            "override_gate": "test data"
        })).unwrap())
        .await
        .unwrap()
        .id
        .to_string();
    let mut author = person(
        &app,
        "lead@hssib.example.org",
        "HSSIB",
        &[Role::Author, Role::Approver, Role::Assessor],
    )
    .await;
    let mut nhse = person(
        &app,
        "answers@nhse.example.org",
        "NHSE",
        &[Role::Respondent],
    )
    .await;

    // The header says who is signed in; the menu leads to the work.
    let (s, html) = author.get(&app, "/work").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Person lead@hssib.example.org (HSSIB)"),
        "{html}"
    );
    assert!(html.contains("href=\"/work\""));
    assert!(html.contains("Draft a recommendation"));
    assert!(html.contains("There are no drafts."));
    let csrf = author.csrf(&app).await;

    // The empty form, then a form with mistakes: each named on its field,
    // what was typed kept, nothing stored.
    let (s, html) = author.get(&app, "/recommendations/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("hx-post=\"/recommendations/feedback\""));
    let before = count(&app).await;
    let res = author
        .post_form(
            &app,
            "/recommendations/new",
            &draft(&[
                ("title", ""),
                ("cost_one_off", "lots"),
                ("equality_groups", "older people"),
                ("action", "save"),
            ]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert_eq!(
        summary(&html),
        [
            "title: Title: Enter a title",
            "cost_one_off: One-off cost, in pounds: &#34;lots&#34; is not an amount in pounds (for example 250000)",
            "equality_direction: Effect on health inequalities: Say whether it reduces or widens them, leaves them as they are, or that it is unknown",
        ]
    );
    assert!(html.contains("nhsuk-input--error"));
    assert!(html.contains(">NHSE\nA body nobody registered</textarea>"));
    assert_eq!(count(&app).await, before);

    // A service refusal lands on its field too: a date that is not one.
    let res = author
        .post_form(
            &app,
            "/recommendations/new",
            &draft(&[("response_deadline", "2027-02-30"), ("action", "save")]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        summary(&html)[0].starts_with("response_deadline: Answers due by: "),
        "{:?}",
        summary(&html)
    );
    assert_eq!(count(&app).await, before);

    // As the author types (htmx) and with the button (no JavaScript): the
    // criteria and what is already said.
    let res = author
        .post_form(&app, "/recommendations/feedback", &draft(&[]), Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let fragment = res.text().await.unwrap();
    assert!(!fragment.contains("<html"), "a fragment, not a page");
    assert!(fragment.contains("Quality criteria"));
    assert!(
        fragment.contains("<strong>Time bound</strong>"),
        "{fragment}"
    );
    assert!(fragment.contains(&format!("href=\"/recommendations/{existing}\"")));
    assert!(fragment.contains(">duplicate<"), "{fragment}");
    assert!(fragment.contains("hx-swap-oob=\"true\""));
    // The gate's "yes" never hides failing criteria (issue #18): green
    // only when none fails.
    // This draft says nothing of patient impact or equality.
    let fails = fragment.matches(">fail</strong>").count();
    assert!(fails > 0, "{fragment}");
    assert!(
        fragment.contains(&format!("Can be published, but fails {fails} criteri")),
        "{fails}: {fragment}"
    );
    assert!(
        !fragment.contains("nhsuk-tag--green\">Can be published<"),
        "{fragment}"
    );
    let res = author
        .post_form(
            &app,
            "/recommendations/new",
            &draft(&[("action", "check")]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("<strong>Time bound</strong>"));
    assert!(html.contains(&existing));
    assert_eq!(count(&app).await, before, "checking stores nothing");
    // Without the session's secret, nothing is checked.
    let res = author
        .post_form(&app, "/recommendations/feedback", &draft(&[]), None)
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // Saved as a draft: back on its edit page, seen only by HSSIB.
    let res = author
        .post_form(
            &app,
            "/recommendations/new",
            &draft(&[("action", "save")]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let id = location
        .strip_prefix("/recommendations/")
        .and_then(|l| l.strip_suffix("/edit?saved=1"))
        .unwrap()
        .to_string();
    let stored = app
        .services
        .as_principal(operator())
        .recommendation(&RecommendationId::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(stored.data.status.as_str(), "draft");
    assert_eq!(stored.data.addressees.len(), 2);
    assert_eq!(
        stored.data.addressees[0].org.as_ref().map(|o| o.as_str()),
        Some("NHSE"),
        "a registered organisation's code is recognised"
    );
    assert_eq!(stored.data.addressees[1].org, None);
    assert_eq!(stored.data.cost.as_ref().unwrap().one_off, Some(250000.0));
    let (s, html) = author.get(&app, &location).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains(&format!("Draft {id} saved")));
    assert!(html.contains("name=\"version\" value=\"1\""));
    let (s, _) = Browser::new()
        .get(&app, &format!("/recommendations/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "a draft is not public");
    let (s, html) = author.get(&app, &format!("/recommendations/{id}")).await;
    assert_eq!(s, StatusCode::OK, "its issuer sees it");
    assert!(html.contains(&format!("href=\"/recommendations/{id}/edit\"")));
    let (_, html) = author.get(&app, "/work").await;
    assert!(html.contains(&format!("href=\"/recommendations/{id}/edit\"")));

    // Two people edit version 1: the second is refused, not merged.
    let edit = format!("/recommendations/{id}/edit");
    let res = author
        .post_form(
            &app,
            &edit,
            &draft(&[
                ("title", "Sepsis screening (revised)"),
                ("version", "1"),
                ("action", "save"),
            ]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = author
        .post_form(
            &app,
            &edit,
            &draft(&[("title", "Stale"), ("version", "1"), ("action", "save")]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Someone changed this draft")
    );
    let now = app
        .services
        .as_principal(operator())
        .recommendation(&RecommendationId::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(now.data.title, "Sepsis screening (revised)");
    assert_eq!(now.version, 2);

    // Published through the gate, by way of a check of what will be
    // public (issue #18, 2): now public, and waiting for NHS England.
    let res = author
        .post_form(
            &app,
            &edit,
            &draft(&[("version", "2"), ("action", "publish")]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let check = format!("/recommendations/{id}/publish");
    assert_eq!(res.headers()["location"], check);
    let (s, html) = author.get(&app, &check).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("Check the recommendation before you publish it"),
        "{html}"
    );
    assert!(html.contains("Answers due by"), "{html}");
    // The saved draft is not offered as similar to itself.
    assert!(
        !html.contains(&format!("href=\"/recommendations/{id}\"")),
        "{html}"
    );
    assert!(!html.contains(&format!("{id} (")), "{html}");
    let (s, _) = Browser::new()
        .get(&app, &format!("/recommendations/{id}"))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "still a draft until confirmed");
    // Publishing what was checked, and not a later version.
    let res = author
        .post_form(&app, &check, &[("version", "2".into())], Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "the save moved it on");
    let res = author
        .post_form(&app, &check, &[("version", "3".into())], Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        format!("/recommendations/{id}?published=1")
    );
    let (_, done) = author
        .get(&app, &format!("/recommendations/{id}?published=1"))
        .await;
    assert!(
        done.contains(
            "Recommendation {id} published"
                .replace("{id}", &id)
                .as_str()
        ),
        "{done}"
    );
    let (s, public) = Browser::new()
        .get(&app, &format!("/recommendations/{id}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!public.contains("can do</h2>"), "no actions for visitors");
    assert!(public.contains("href=\"/sign-in\""));

    // The addressee: in its queue, with the form; mistakes named by field.
    let (_, html) = nhse.get(&app, "/work").await;
    assert!(html.contains("Waiting for your answer"), "{html}");
    let respond = format!("/recommendations/{id}/addressees/1/respond");
    assert!(html.contains(&respond), "{html}");
    let (s, html) = nhse.get(&app, &respond).await;
    assert_eq!(s, StatusCode::OK);
    // Issue #18, 3: the position is radios with none chosen, so that a
    // careless submit records nothing rather than the kindest answer.
    assert!(
        html.contains("type=\"radio\" value=\"accepted_in_principle\">"),
        "{html}"
    );
    assert!(html.contains(">Accepted in principle</label>"), "{html}");
    assert!(!html.contains(" checked"), "{html}");
    let ncsrf = csrf_field(&html).unwrap();
    // Saved by the Publish button, then published from the check page.
    let version_before = now.version + 2;
    for (fields, status, first) in [
        (
            vec![("acceptance", "not_accepted"), ("text", "We cannot.")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "reasons: Reasons: ",
        ),
        (
            vec![("acceptance", "maybe"), ("text", "Perhaps.")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "acceptance: Do you accept the recommendation?: Choose one of the options",
        ),
        (
            vec![("text", "Perhaps.")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "acceptance: Do you accept the recommendation?: Select whether you accept the recommendation",
        ),
        (
            vec![("acceptance", "accepted"), ("text", "")],
            StatusCode::UNPROCESSABLE_ENTITY,
            "text: Your answer: Enter your answer",
        ),
        (
            vec![
                ("acceptance", "accepted"),
                ("text", "Yes."),
                ("received", "31/03/2027"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "received: Date of the answer: &#34;31/03/2027&#34; is not a date",
        ),
    ] {
        let fields: Vec<(&str, String)> = fields
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        let res = nhse.post_form(&app, &respond, &fields, Some(&ncsrf)).await;
        assert_eq!(res.status(), status, "{fields:?}");
        let html = res.text().await.unwrap();
        assert!(
            summary(&html)[0].starts_with(first),
            "{fields:?}: {:?}",
            summary(&html)
        );
    }
    let unchanged = app
        .services
        .as_principal(operator())
        .recommendation(&RecommendationId::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(
        unchanged.version, version_before,
        "refused answers change nothing"
    );
    // A valid answer is shown to be checked first (issue #18, 2); going
    // back keeps what was typed; nothing is sent until "Send the answer".
    let answer = |confirm: Option<&str>| {
        let mut f = vec![
            ("acceptance", "accepted".to_string()),
            ("text", "We will screen every adult from April.".to_string()),
        ];
        if let Some(c) = confirm {
            f.push(("confirm", c.to_string()));
        }
        f
    };
    let res = nhse
        .post_form(&app, &respond, &answer(None), Some(&ncsrf))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let check = res.text().await.unwrap();
    assert!(
        check.contains("Check your answer before you send it"),
        "{check}"
    );
    assert!(
        check.contains("We will screen every adult from April."),
        "{check}"
    );
    let res = nhse
        .post_form(&app, &respond, &answer(Some("change")), Some(&ncsrf))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let back = res.text().await.unwrap();
    assert!(
        back.contains(">We will screen every adult from April.</textarea>"),
        "{back}"
    );
    assert!(back.contains("value=\"accepted\" checked"), "{back}");
    let still = app
        .services
        .as_principal(operator())
        .recommendation(&RecommendationId::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(still.version, version_before, "checking sends nothing");
    let res = nhse
        .post_form(&app, &respond, &answer(Some("yes")), Some(&ncsrf))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()["location"],
        format!("/recommendations/{id}?answered=1")
    );
    let (_, sent) = nhse
        .get(&app, &format!("/recommendations/{id}?answered=1"))
        .await;
    assert!(sent.contains("Your answer was sent"), "{sent}");
    // A second answer is refused with the reason (the domain's rule).
    let res = nhse
        .post_form(
            &app,
            &respond,
            &[
                ("acceptance", "accepted".into()),
                ("text", "Again.".into()),
                ("confirm", "yes".into()),
            ],
            Some(&ncsrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("already answered"));
    // Progress, then the issuer may not be the one who answers.
    let res = nhse
        .post_form(
            &app,
            &format!("/recommendations/{id}/addressees/1/update"),
            &[
                ("implementation", "in_progress".into()),
                ("note", "Piloted in three trusts.".into()),
            ],
            Some(&ncsrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (s, _) = nhse
        .get(&app, &format!("/recommendations/{id}/addressees/1/assess"))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The issuer assesses from its queue, the answer quoted above the
    // verdict, which starts unchosen (issue #18, 3).
    let (_, html) = author.get(&app, "/work/to-assess").await;
    let assess = format!("/recommendations/{id}/addressees/1/assess");
    assert!(html.contains(&assess), "{html}");
    let (_, form) = author.get(&app, &assess).await;
    assert!(form.contains("The answer you are assessing"), "{form}");
    assert!(!form.contains(" checked"), "{form}");
    let res = author
        .post_form(
            &app,
            &assess,
            &[("comment", "No verdict given.".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        summary(&res.text().await.unwrap())[0].ends_with("Select your assessment of the answer"),
        "no verdict"
    );
    let res = author
        .post_form(
            &app,
            &assess,
            &[("verdict", "satisfactory_intent".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(summary(&res.text().await.unwrap())[0].starts_with("comment: Why: "));
    let res = author
        .post_form(
            &app,
            &assess,
            &[
                ("verdict", "satisfactory_intent".into()),
                ("comment", "A credible plan; not done yet.".into()),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, public) = Browser::new()
        .get(&app, &format!("/recommendations/{id}"))
        .await;
    for shown in [
        "We will screen every adult from April.",
        "Piloted in three trusts.",
        "A credible plan; not done yet.",
    ] {
        assert!(public.contains(shown), "{shown} on the public page");
    }
    let (_, html) = author.get(&app, "/work/to-assess").await;
    assert!(!html.contains(&assess), "assessed: out of the queue");
    // The history: each change, by whom, what it touched. The issuer's
    // people see it all; anyone else from publication on (issue #14: what a
    // draft said before it was published is the issuer's).
    let history_rows = |html: &str| -> Vec<(String, String)> {
        html.split("<tr class=\"nhsuk-table__row\">")
            .skip(2)
            .map(|r| {
                let cells: Vec<String> = r
                    .split("<td class=\"nhsuk-table__cell\">")
                    .skip(1)
                    .map(|c| c.split("</td>").next().unwrap().to_string())
                    .collect();
                (cells[1].clone(), r.to_string())
            })
            .collect()
    };
    let (s, html) = author
        .get(&app, &format!("/recommendations/{id}/history"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let rows = history_rows(&html);
    let changes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    // create; the edit; the save of the Publish button; publishing from
    // the check page; the answer, progress and assessment.
    assert_eq!(
        changes,
        [
            "create", "update", "update", "update", "respond", "update", "assess"
        ],
        "{html}"
    );
    assert!(rows[0].1.contains(">created<"));
    assert!(rows[3].1.contains("status"), "{}", rows[3].1);
    assert!(rows[4].1.contains("NHSE (person 2)"), "{}", rows[4].1);
    let (s, html) = Browser::new()
        .get(&app, &format!("/recommendations/{id}/history"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let rows = history_rows(&html);
    let changes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(changes, ["update", "respond", "update", "assess"], "{html}");
    assert!(rows[0].1.contains(">published<"), "{}", rows[0].1);
    assert!(rows[1].1.contains("NHSE (person 2)"), "{}", rows[1].1);
    assert!(!html.contains("@"), "no email address is published");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_pages_are_private_and_escape_what_people_type() {
    let app = spawn_app().await;
    let mut author = person(&app, "a@hssib.example.org", "HSSIB", &[Role::Author]).await;
    let csrf = author.csrf(&app).await;
    let res = author
        .post_form(
            &app,
            "/recommendations/new",
            &draft(&[("title", "<script>alert(1)</script>"), ("action", "save")]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = author
        .client
        .get(app.url("/work"))
        .header("cookie", author.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "escaped");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{html}"
    );
    // A public page seen while signed in is not for shared caches.
    let res = author
        .client
        .get(app.url("/search?q=sepsis"))
        .header("cookie", author.cookie_header())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "private, no-cache");
    assert!(res.text().await.unwrap().contains("Sign out"));
    // An author without the approver role cannot publish.
    let res = author
        .post_form(
            &app,
            "/recommendations/new",
            &draft(&[("action", "publish")]),
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Signed out: the work pages lead to sign-in.
    for path in ["/work", "/recommendations/new", "/work/drafts"] {
        let (s, _) = Browser::new().get(&app, path).await;
        assert_eq!(s, StatusCode::SEE_OTHER, "{path}");
    }
    let (s, _) = author.get(&app, "/work/nothing-like-this").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = author
        .get(
            &app,
            "/recommendations/HSSIB-2020-9999/addressees/1/respond",
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = author
        .get(&app, "/recommendations/not-an-id/addressees/1/dance")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Issue #18, 1: a recommendation published from the drafting page is
/// published that day, its answers fall due by the issuer's rule, it is
/// listed as recently published, and it is overdue on the dashboard once
/// the day passes. A record made straight into published through the API
/// without a date is dated the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_from_the_page_dates_it_and_its_answers_fall_due() {
    let start: chrono::DateTime<chrono::Utc> = "2026-03-02T10:00:00Z".parse().unwrap();
    let clock = std::sync::Arc::new(concord_app::FixedClock::new(start));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let services = std::sync::Arc::new(
        concord_app::Services::open_with_clock(&url, clock.clone())
            .await
            .unwrap(),
    );
    let app = serve(services.clone(), dir).await;
    let mut author = person(
        &app,
        "lead@hssib.example.org",
        "HSSIB",
        &[Role::Author, Role::Approver],
    )
    .await;
    let csrf = author.csrf(&app).await;
    let one_addressee = || draft(&[("addressees", "NHSE")]);
    let mut fields = one_addressee();
    fields.push(("action", "save".into()));
    let res = author
        .post_form(&app, "/recommendations/new", &fields, Some(&csrf))
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let id = res.headers()["location"]
        .to_str()
        .unwrap()
        .strip_prefix("/recommendations/")
        .and_then(|l| l.strip_suffix("/edit?saved=1"))
        .unwrap()
        .to_string();
    let mut fields = one_addressee();
    fields.push(("version", "1".into()));
    fields.push(("action", "publish".into()));
    let res = author
        .post_form(
            &app,
            &format!("/recommendations/{id}/edit"),
            &fields,
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = author
        .post_form(
            &app,
            &format!("/recommendations/{id}/publish"),
            &[("version", "2".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let rec = services
        .as_principal(operator())
        .recommendation(&RecommendationId::parse(&id).unwrap())
        .await
        .unwrap();
    assert_eq!(rec.data.published.unwrap().to_string(), "2026-03-02");
    let due = rec.data.response_deadline.expect("a due date");
    assert!(due > rec.data.published.unwrap(), "{due}");
    let (_, home) = Browser::new().get(&app, "/").await;
    assert!(home.contains(&format!("/recommendations/{id}")), "{home}");
    let (_, page) = Browser::new()
        .get(&app, &format!("/recommendations/{id}"))
        .await;
    assert!(page.contains("<time datetime=\"2026-03-02\">"), "{page}");

    let overdue = |app: &TestApp| {
        let rb = app.client.get(app.url("/api/v1/dashboard?issuer=HSSIB"));
        async move {
            let v: serde_json::Value = rb.send().await.unwrap().json().await.unwrap();
            v["totals"]["overdue"].as_u64().unwrap()
        }
    };
    assert_eq!(overdue(&app).await, 0);
    clock.set(due.and_hms_opt(12, 0, 0).unwrap().and_utc() + chrono::Duration::days(1));
    assert_eq!(overdue(&app).await, 1);
    let (_, page) = Browser::new()
        .get(&app, &format!("/recommendations/{id}"))
        .await;
    assert!(page.contains("overdue by 1 day<"), "{page}");

    // Straight into published through the API, no date given: today.
    let made = services
        .as_principal(operator())
        .create_draft(concord_app::NewRecord::from_json(json!({
            "issuer": "HSSIB", "status": "published",
            "title": "Falls in care homes",
            "text": "NHS England should publish falls guidance for care homes by 31 March 2027.",
            "addressees": [{"name": "NHS England", "org": "NHSE"}],
            "override_gate": "test data"
        })).unwrap())
        .await
        .unwrap();
    assert_eq!(made.data.published, Some(services.clock().today()));
    assert!(made.data.response_deadline.is_some());

    // NHS England's queue: the overdue answer first, tagged, though the
    // other recommendation is newer (issue #18, 5).
    let mut nhse = person(
        &app,
        "answers@nhse.example.org",
        "NHSE",
        &[Role::Respondent],
    )
    .await;
    let (_, queue) = nhse.get(&app, "/work/to-answer").await;
    let first = queue
        .find(&format!("/recommendations/{id}\""))
        .expect("listed");
    let second = queue
        .find(&format!("/recommendations/{}\"", made.id))
        .expect("listed");
    assert!(first < second, "the overdue one first: {queue}");
    assert!(queue.contains("Overdue by 1 day<"), "{queue}");
    assert_eq!(queue.matches("Overdue by").count(), 1, "{queue}");
}
