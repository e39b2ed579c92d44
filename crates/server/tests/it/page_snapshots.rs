//! One rendered page of each public area, with the demo data on a fixed day,
//! as insta snapshots (`snapshots/it__page_snapshots__*.snap`): a change to
//! a template or its view model shows as a diff to review, and is accepted
//! by `INSTA_UPDATE=always` (or `cargo insta review`).

use std::sync::Arc;

use chrono::TimeZone;
use concord_app::{FixedClock, Services};

use crate::common::{TestApp, load_demo, operator, serve};

/// The demo data on 1 June 2025 at noon, its similarity index (and, with
/// `search`, its search index) built before the first request.
async fn demo_on_a_fixed_day(search: bool) -> TestApp {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let noon = chrono::Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap();
    let services = Arc::new(
        Services::open_with_clock(&url, Arc::new(FixedClock::new(noon)))
            .await
            .expect("open the database"),
    );
    load_demo(&services, &dir, search).await;
    services
        .as_principal(operator())
        .similar_rebuild()
        .await
        .expect("the similarity index");
    serve(services, dir).await
}

/// What changes from one request to the next: the sign-in form's CSRF value.
fn steady(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("value=\"concord_") {
        let from = at + "value=\"".len();
        out.push_str(&rest[..from]);
        out.push_str("[a new secret]");
        rest = &rest[from..];
        rest = &rest[rest.find('"').unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn each_public_page_renders_as_reviewed() {
    // The home page lists the newest records from the database: the search
    // index orders records of the same day as its segments fall, which
    // differs from one build of the index to the next.
    let app = demo_on_a_fixed_day(false).await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    insta::assert_snapshot!("home", res.text().await.unwrap());

    let app = demo_on_a_fixed_day(true).await;
    for (name, path, status) in [
        ("recommendation", "/recommendations/HSSIB-2019-0001", 200),
        ("search", "/search?q=sepsis+screening", 200),
        ("dashboard", "/dashboard", 200),
        ("organisations", "/organisations", 200),
        ("organisation", "/organisations/NMTH", 200),
        ("priorities", "/organisations/WILLCH/priorities", 200),
        ("workstreams", "/workstreams", 200),
        ("workstream", "/workstreams/WS-HSSIB-2025-001", 200),
        ("sign_in", "/sign-in", 200),
        ("not_found", "/no/such/page", 404),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), status, "{path}");
        let body = res.text().await.unwrap();
        insta::assert_snapshot!(name, steady(&body));
    }
}
