//! A provider's priorities and profile over HTTP, against a real server
//! and a real SQLite database holding the demo data.

use crate::common;

use crate::browser;

use common::*;

use reqwest::StatusCode;
use serde_json::{Value, json};

async fn status_code(res: reqwest::Response) -> (StatusCode, Value) {
    let s = res.status();
    (s, res.json().await.unwrap())
}

#[tokio::test]
async fn priorities_and_profiles_over_http() {
    let app = spawn_app().await;
    app.services
        .as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .unwrap();

    let (s, body) = status_code(
        app.client
            .get(app.url("/api/v1/organisations/AMBNH/priorities?limit=10"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["org"], "AMBNH");
    assert_eq!(body["profile"]["kind"], "care_home");
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty() && items.len() <= 10);
    assert!(items[0]["ids"].as_array().is_some() && items[0]["why"].as_array().is_some());

    let csv = app
        .client
        .get(app.url("/api/v1/organisations/AMBNH/priorities?format=csv&limit=3"))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert_eq!(csv.text().await.unwrap().lines().count(), 4);

    let x = app
        .client
        .get(app.url("/api/v1/organisations/AMBNH/priorities?format=xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), StatusCode::OK);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));

    for (q, word) in [
        ("limit=0", "limit"),
        ("format=pdf", "format"),
        ("sort=x", "sort"),
    ] {
        let (s, b) = status_code(
            app.client
                .get(app.url(&format!("/api/v1/organisations/AMBNH/priorities?{q}")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {b}");
        assert!(
            b["error"]["message"].as_str().unwrap().contains(word),
            "{b}"
        );
    }
    let (s, _) = status_code(
        app.client
            .get(app.url("/api/v1/organisations/NOSUCH/priorities"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, b) = status_code(
        app.client
            .get(app.url("/api/v1/organisations/NHSE/priorities"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");

    // Setting a profile: the organisation itself only.
    let body = json!({"kind": "care_home", "settings": ["Care home"], "region": "North"});
    let put = |token: Option<String>, b: Value| {
        let mut r = app
            .client
            .put(app.url("/api/v1/organisations/AMBNH/profile"))
            .json(&b);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let (s, _) = status_code(put(None, body.clone()).await.unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let other = app.token("HEATHL").await;
    let (s, b) = status_code(put(Some(other), body.clone()).await.unwrap()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    let own = app.token("AMBNH").await;
    let (s, b) = status_code(
        put(Some(own.clone()), json!({"kind": "spaceship"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("care_home")
    );
    let (s, b) = status_code(put(Some(own), body).await.unwrap()).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(b["profile"]["settings"], json!(["care home"]));
    let (s, b) = status_code(
        app.client
            .get(app.url("/api/v1/organisations/AMBNH/profile"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(b["stored"], true);
    assert_eq!(b["profile"]["region"], "North");
}

/// The provider's own overdue answers come first, on the page and in the
/// API alike, and the page goes on over further pages (issue #18, 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_overdue_answers_first_and_the_list_in_pages() {
    use browser::Browser;

    let app = spawn_app().await;
    app.services
        .as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .unwrap();
    let (s, body) = status_code(
        app.client
            .get(app.url("/api/v1/organisations/NMTH/priorities?limit=500"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let items = body["items"].as_array().unwrap();
    let owed: Vec<bool> = items
        .iter()
        .map(|i| i.get("overdue_since").is_some())
        .collect();
    let first_owed = owed.iter().filter(|o| **o).count();
    assert!(
        first_owed > 0,
        "the demo has answers Northmoor owes: {body}"
    );
    assert!(owed[..first_owed].iter().all(|o| *o), "{owed:?}");
    assert!(owed[first_owed..].iter().all(|o| !*o), "{owed:?}");
    let ranked = body["ranked"].as_u64().unwrap() as usize;
    assert_eq!(ranked, items.len());
    assert!(ranked > 50, "the demo's list runs past one page: {ranked}");
    let pages = ranked.div_ceil(50);

    let page = "/organisations/NMTH/priorities";
    let (s, html) = Browser::new().get(&app, page).await;
    assert_eq!(s, StatusCode::OK);
    let first_id = items[0]["ids"][0].as_str().unwrap();
    let first = html
        .find("class=\"concord-priorities\"")
        .and_then(|at| html[at..].find("/recommendations/").map(|i| at + i))
        .expect("a first item");
    assert!(
        html[first..].starts_with(&format!("/recommendations/{first_id}\"")),
        "the page's first item is the API's first"
    );
    assert!(
        html.contains("Overdue</strong> Your answer was due <time"),
        "{html}"
    );
    assert!(html.contains("This page shows items 1 to 50."), "{html}");
    assert!(html.contains(&format!("Page 2 of {pages}")), "{html}");
    assert!(html.contains("priorities?page=2"), "{html}");
    assert!(!html.contains("Previous"), "{html}");

    let (s, html) = Browser::new().get(&app, &format!("{page}?page=2")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("start=\"51\""), "{html}");
    assert!(html.contains(&format!("Page 1 of {pages}")), "{html}");
    let id_51 = items[50]["ids"][0].as_str().unwrap();
    assert!(
        html.contains(&format!("/recommendations/{id_51}\"")),
        "{html}"
    );

    // Not a number: the first page; past the end: the last.
    let (s, html) = Browser::new()
        .get(&app, &format!("{page}?page=x%3Cy"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("start=\"1\""), "{html}");
    let (s, html) = Browser::new()
        .get(&app, &format!("{page}?page=99999"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains(&format!("start=\"{}\"", (pages - 1) * 50 + 1)),
        "{html}"
    );
}

/// An organisation that is no known kind of provider and has not said what
/// it is gets a page that says so, not a command to run (issue #18, 6);
/// its own respondent says what it is there, and the list follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_of_no_known_kind_is_asked_what_it_is() {
    use browser::Browser;
    use concord_domain::account::{Membership, Role, RoleSet};

    let app = spawn_app().await;
    let svc = app.services.as_principal(operator());
    svc.operator().unwrap().load_demo().await.unwrap();
    svc.add_user(concord_app::NewUser {
        email: "lead@nmicb.example.org".into(),
        name: "Someone".into(),
        password: "plum tractor velvet 42".into(),
        memberships: vec![Membership {
            org: concord_domain::OrgCode::parse("NMICB").unwrap(),
            roles: RoleSet::from_roles([Role::Respondent]),
        }],
    })
    .await
    .unwrap();
    let page = "/organisations/NMICB/priorities";
    let (s, html) = Browser::new().get(&app, page).await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(
        html.contains("has not said what kind of provider it is"),
        "{html}"
    );
    assert!(!html.contains("concord profile set"), "{html}");
    assert!(!html.contains("name=\"kind\""), "no form for visitors");

    let mut b = Browser::sign_in(&app, "lead@nmicb.example.org", "plum tractor velvet 42").await;
    let (_, html) = b.get(&app, page).await;
    assert!(html.contains("Choose the kind of provider"), "{html}");
    let csrf = b.csrf(&app).await;
    // Sent without a kind: said against the field, nothing stored.
    let res = b
        .post_form(
            &app,
            "/organisations/NMICB/profile",
            &[
                ("kind", "".into()),
                ("settings", "".into()),
                ("region", "".into()),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("Kind of provider: Choose one of the options"),
        "{html}"
    );
    assert!(
        html.contains("has not said what kind of provider it is"),
        "{html}"
    );
    let res = b
        .post_form(
            &app,
            "/organisations/NMICB/profile",
            &[
                ("kind", "community_trust".into()),
                ("settings", "".into()),
                ("region", "".into()),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (s, html) = b.get(&app, page).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("How this list is ordered"), "{html}");
    assert!(!html.contains("has not said what kind"), "{html}");
}

/// The priority list as a page: public, each item with why, the downloads
/// linked; the provider's own respondents (only) say what it is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_priority_page_and_the_profile_form() {
    use browser::Browser;
    use concord_domain::account::{Membership, Role, RoleSet};

    let app = spawn_app().await;
    let svc = app.services.as_principal(operator());
    svc.operator().unwrap().load_demo().await.unwrap();
    for (email, org, role) in [
        ("lead@ambnh.example.org", "AMBNH", Role::Respondent),
        ("author@ambnh.example.org", "AMBNH", Role::Author),
        ("lead@nmth.example.org", "NMTH", Role::Respondent),
    ] {
        svc.add_user(concord_app::NewUser {
            email: email.into(),
            name: "Someone".into(),
            password: "plum tractor velvet 42".into(),
            memberships: vec![Membership {
                org: concord_domain::OrgCode::parse(org).unwrap(),
                roles: RoleSet::from_roles([role]),
            }],
        })
        .await
        .unwrap();
    }
    let page = "/organisations/AMBNH/priorities";
    let (s, html) = Browser::new().get(&app, page).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("<h1>Priorities for"), "{html}");
    // The day as a date, not escaped markup (issue #18).
    assert!(html.contains("As of <time datetime=\""), "{html}");
    // The score explained on the page, its parts in words (issue #18, 7).
    assert!(html.contains("How this list is ordered"), "{html}");
    assert!(html.contains("%: how directly it reaches you"), "{html}");
    assert!(
        html.contains("<a href=\"#how-ordered\">Score</a>"),
        "{html}"
    );
    assert!(html.contains("as care home"), "{html}");
    assert!(html.contains("priorities?format=csv"));
    assert!(html.contains("class=\"concord-priorities\""));
    assert!(!html.contains("name=\"kind\""), "no form for visitors");
    let (s, _) = Browser::new()
        .get(&app, "/organisations/NOPE/priorities")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Another provider's respondent and the provider's author see no form
    // and are refused if they post one.
    for email in ["lead@nmth.example.org", "author@ambnh.example.org"] {
        let mut b = Browser::sign_in(&app, email, "plum tractor velvet 42").await;
        let (_, html) = b.get(&app, page).await;
        assert!(!html.contains("name=\"kind\""), "{email}");
        let csrf = b.csrf(&app).await;
        let res = b
            .post_form(
                &app,
                "/organisations/AMBNH/profile",
                &[("kind", "hospice".into())],
                Some(&csrf),
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{email}");
    }
    let mut b = Browser::sign_in(&app, "lead@ambnh.example.org", "plum tractor velvet 42").await;
    let (_, html) = b.get(&app, page).await;
    assert!(html.contains("name=\"kind\""));
    let csrf = b.csrf(&app).await;
    let res = b
        .post_form(
            &app,
            "/organisations/AMBNH/profile",
            &[("kind", "nursery".into())],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Kind of provider: Choose one of the options")
    );
    let res = b
        .post_form(
            &app,
            "/organisations/AMBNH/profile",
            &[
                ("kind", "hospice".into()),
                ("settings", "palliative care, community".into()),
                ("region", "North".into()),
            ],
            Some(&csrf),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, html) = Browser::new().get(&app, page).await;
    assert!(
        html.contains("as hospice (palliative care, community)"),
        "{html}"
    );
}

/// An endorsement lifts what it endorses on a provider's list, and says so.
#[tokio::test]
async fn endorsements_count_on_the_priority_list() {
    let app = spawn_app().await;
    app.services
        .as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .unwrap();
    let get = || async {
        let (s, body) = status_code(
            app.client
                .get(app.url("/api/v1/organisations/AMBNH/priorities?limit=50"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        body
    };
    let before = get().await;
    // The last item: the furthest from the top, the most room to rise.
    let item = before["items"].as_array().unwrap().last().unwrap().clone();
    let id = item["ids"][0].as_str().unwrap().to_string();
    let endorser = ["RCN", "RCEM", "NMC"]
        .into_iter()
        .find(|o| !item["issuers"].as_array().unwrap().iter().any(|i| i == o))
        .unwrap();
    app.services
        .as_principal(concord_app::Principal::acting_for(
            concord_domain::OrgCode::parse(endorser).unwrap(),
            "test",
        ))
        .endorse(&concord_domain::RecommendationId::parse(&id).unwrap(), None)
        .await
        .unwrap();
    let after = get().await;
    let moved = after["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["ids"][0] == id.as_str())
        .expect("still listed");
    assert_eq!(moved["endorsed_by"], json!([endorser]), "{moved}");
    assert!(
        moved["score"].as_f64() > item["score"].as_f64(),
        "{moved} vs {item}"
    );
    assert!(
        moved["why"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w == &json!(format!("endorsed by {endorser}"))),
        "{moved}"
    );
    assert!(
        before["items"][0].get("endorsed_by").is_none(),
        "absent when none"
    );
}
