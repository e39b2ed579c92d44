//! The oversight dashboard through the real server over a small register
//! worked out by hand: `GET /api/v1/dashboard`, `/api/v1/dashboard.csv` and
//! the `/dashboard` page; figures follow a new import (outbox catch-up);
//! drafts never count; bad parameters are refused by name; user text is
//! escaped in the page and guarded in the CSV.

use crate::common;

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use concord_app::ImportOptions;
use concord_domain::lifecycle::{Acceptance, Implementation};
use concord_domain::{
    Addressee, AddresseeStatus, Cost, Lifecycle, OrgCode, OrgKind, OrgLevel, Organisation,
    ProviderKind, RecKind, Recommendation, RecommendationData, RecommendationId, Response,
};
use serde_json::Value;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn rec(id: &str, published: &str, addressees: Vec<Addressee>) -> Recommendation {
    let id = RecommendationId::parse(id).unwrap();
    let at = Utc.with_ymd_and_hms(2024, 1, 1, 9, 0, 0).unwrap();
    Recommendation {
        provenance: Default::default(),
        data: RecommendationData {
            local_ref: None,
            kind: RecKind::Recommendation,
            issuer: id.issuer.clone(),
            source: None,
            title: format!("Recommendation {id}"),
            text: "Do the thing that reduces the risk.".into(),
            published: Some(d(published)),
            status: Lifecycle::Published,
            level: None,
            addressees,
            themes: vec![],
            settings: vec![],
            evidence: None,
            patient_impact: None,
            cost: None,
            equality: None,
            risk: None,
            response_deadline: None,
            links: vec![],
        },
        id,
        version: 1,
        created_at: at,
        updated_at: at,
        import_key: None,
    }
}

fn to(name: &str, org: Option<&str>) -> Addressee {
    Addressee {
        name: name.into(),
        org: org.map(|o| OrgCode::parse(o).unwrap()),
        ..Default::default()
    }
}

fn answered(mut a: Addressee, on: &str) -> Addressee {
    a.responses.push(Response {
        received: Some(d(on)),
        text: Some("We will.".into()),
        acceptance: Some(Acceptance::Accepted),
        ..Default::default()
    });
    a.acceptance = Some(Acceptance::Accepted);
    a.implementation = Some(Implementation::InProgress);
    a.status = AddresseeStatus::ResponseReceived;
    a
}

fn cost(one_off: f64, recurring: Option<f64>) -> Option<Cost> {
    Some(Cost {
        one_off: Some(one_off),
        recurring,
        currency: "GBP".into(),
        confidence: None,
        cost_effectiveness: None,
    })
}

/// As of 2024-06-01 (PFD answers due 56 days after publication):
/// - PFD-2024-0001, 2024-01-10 (due 2024-03-06), theme sepsis, £1,000:
///   Northmoor Hospitals (RXX, acute) answered 2024-02-09 (30 days),
///   implemented; "<script>alert(1)</script> Ambulance Service" unanswered:
///   87 days overdue.
/// - PFD-2023-0002, 2023-11-01 (due 2023-12-27), themes sepsis and falls,
///   setting care home, £500 + £200 a year: "=cmd Care Home" (care home by
///   name) unanswered, 157 days overdue.
/// - HSSIB-2024-0001, 2024-03-01: NHSE answered 2024-04-30 (60 days).
/// - HSSIB-2024-0002: a draft addressed to Northmoor: never counted.
fn register() -> Vec<Recommendation> {
    let mut r1 = rec(
        "PFD-2024-0001",
        "2024-01-10",
        vec![
            {
                let mut a = answered(to("Northmoor Hospitals", Some("RXX")), "2024-02-09");
                a.implementation = Some(Implementation::Implemented);
                a
            },
            to("<script>alert(1)</script> Ambulance Service", None),
        ],
    );
    r1.data.themes = vec!["sepsis".into()];
    r1.data.cost = cost(1000.0, None);
    let mut r2 = rec(
        "PFD-2023-0002",
        "2023-11-01",
        vec![to("=cmd Care Home", None)],
    );
    r2.data.themes = vec!["sepsis".into(), "falls".into()];
    r2.data.settings = vec!["care home".into()];
    r2.data.cost = cost(500.0, Some(200.0));
    let r3 = rec(
        "HSSIB-2024-0001",
        "2024-03-01",
        vec![answered(to("NHS England", Some("NHSE")), "2024-04-30")],
    );
    let mut r4 = rec(
        "HSSIB-2024-0002",
        "2024-03-02",
        vec![to("Northmoor Hospitals", Some("RXX"))],
    );
    r4.data.status = Lifecycle::Draft;
    r4.data.published = None;
    vec![r1, r2, r3, r4]
}

async fn import(app: &TestApp, name: &str, recs: &[Recommendation]) {
    let path = app.dir.path().join(name);
    std::fs::write(&path, serde_json::to_vec(recs).unwrap()).unwrap();
    let report = app
        .services
        .as_principal(operator())
        .operator()
        .unwrap()
        .import(&[path], &ImportOptions::default(), &|_| {})
        .await
        .expect("import");
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

async fn app_with_register() -> TestApp {
    let app = spawn_app().await;
    app.services
        .as_principal(operator())
        .operator()
        .unwrap()
        .add_organisation(&Organisation {
            status: Default::default(),
            code: OrgCode::parse("RXX").unwrap(),
            name: "Northmoor Hospitals NHS Trust".into(),
            kind: OrgKind::Provider,
            level: OrgLevel::Provider,
            provider_kind: Some(ProviderKind::AcuteTrust),
            region: None,
            aliases: vec![],
        })
        .await
        .unwrap();
    import(&app, "register.json", &register()).await;
    app
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String) {
    let res = app.client.get(app.url(path)).send().await.expect("request");
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ct, res.text().await.unwrap())
}

async fn json(app: &TestApp, path: &str) -> (u16, Value) {
    let (status, _, body) = get(app, path).await;
    (status, serde_json::from_str(&body).expect("JSON body"))
}

fn counts(v: &Value) -> [u64; 6] {
    [
        "recommendations",
        "items",
        "open",
        "overdue",
        "answered",
        "implemented",
    ]
    .map(|k| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}")))
}

fn row<'a>(rows: &'a Value, key: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .unwrap_or_else(|| panic!("no row {key} in {rows}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_match_the_register_worked_by_hand() {
    let app = app_with_register().await;
    let (status, body) = json(&app, "/api/v1/dashboard?as_of=2024-06-01").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["as_of"], "2024-06-01");
    // 3 recommendations (not the draft), 4 items; open 4; overdue 2;
    // answered 2; implemented 1.
    assert_eq!(counts(&body["totals"]), [3, 4, 4, 2, 2, 1]);
    assert_eq!(counts(row(&body["by_issuer"], "PFD")), [2, 3, 3, 2, 1, 1]);
    assert_eq!(counts(row(&body["by_issuer"], "HSSIB")), [1, 1, 1, 0, 1, 0]);
    assert_eq!(counts(row(&body["by_theme"], "sepsis")), [2, 3, 3, 2, 1, 1]);
    assert_eq!(
        counts(row(&body["by_setting"], "care home")),
        [1, 1, 1, 1, 0, 0]
    );
    assert_eq!(counts(row(&body["by_year"], "2023")), [1, 1, 1, 1, 0, 0]);
    let rxx = row(&body["by_addressee"], "RXX");
    assert_eq!(rxx["label"], "Northmoor Hospitals NHS Trust");
    assert_eq!(counts(rxx), [1, 1, 1, 0, 1, 1], "the draft does not count");
    // Response times: 30 and 60 days.
    let all = &body["response_times"][0];
    assert_eq!(
        (all["key"].as_str(), all["answers"].as_u64()),
        (Some("all"), Some(2))
    );
    assert_eq!(
        (all["median_days"].as_u64(), all["p90_days"].as_u64()),
        (Some(30), Some(60))
    );
    // Oldest overdue first.
    let oldest: Vec<(String, i64)> = body["oldest_overdue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_string(),
                o["days_overdue"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        oldest,
        vec![
            ("PFD-2023-0002".to_string(), 157),
            ("PFD-2024-0001".to_string(), 87)
        ]
    );
    assert_eq!(body["oldest_overdue"][0]["due"], "2023-12-27");
    // Landing: r1 on acute (registered) and ambulance (by name); r2 on
    // care homes (by name); r3 on a national body. Cost once per kind.
    let kind = |k: &str| {
        body["by_provider_kind"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == k)
            .unwrap_or_else(|| panic!("no {k}"))
            .clone()
    };
    assert_eq!(kind("acute_trust")["open_recommendations"], 1);
    assert_eq!(kind("acute_trust")["one_off_gbp"], 1000.0);
    assert_eq!(kind("ambulance_service")["one_off_gbp"], 1000.0);
    assert_eq!(kind("care_home")["recurring_gbp"], 200.0);
    assert_eq!(kind("national_body")["costed"], 0);
    // HSSIB-2024-0001 is open with no cost estimate; the draft never counts.
    assert_eq!(body["uncosted_total"], 1);
    assert_eq!(body["uncosted"][0]["id"], "HSSIB-2024-0001");
    assert_eq!(body["uncosted"][0]["lands_on"][0], "National bodies");

    // The same figures for a caller with a token, and through the service.
    let token = app.token("NHSE").await;
    let res = app
        .client
        .get(app.url("/api/v1/dashboard?as_of=2024-06-01"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), body);

    // Filters.
    let (_, f) = json(
        &app,
        "/api/v1/dashboard?as_of=2024-06-01&issuer=pfd&year=2024",
    )
    .await;
    assert_eq!(counts(&f["totals"]), [1, 2, 2, 1, 1, 1]);
    let (_, f) = json(
        &app,
        "/api/v1/dashboard?as_of=2024-06-01&theme=FALLS&setting=",
    )
    .await;
    assert_eq!(counts(&f["totals"]), [1, 1, 1, 1, 0, 0]);
    let (_, f) = json(
        &app,
        "/api/v1/dashboard?as_of=2024-06-01&theme=nothing-like-it",
    )
    .await;
    assert_eq!(counts(&f["totals"]), [0; 6]);

    // A new import: the figures catch up from the outbox.
    let more = rec(
        "PFD-2024-0003",
        "2024-02-01",
        vec![to("Eastwold Surgery", None)],
    );
    import(&app, "more.json", &[more]).await;
    let (_, after) = json(&app, "/api/v1/dashboard?as_of=2024-06-01").await;
    assert_eq!(counts(&after["totals"]), [4, 5, 5, 3, 2, 1]);
    assert!(
        after["by_provider_kind"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "gp_practice")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_tables_parse_and_guard_their_cells() {
    let app = app_with_register().await;
    let (status, ct, body) = get(&app, "/api/v1/dashboard.csv?table=issuer&as_of=2024-06-01").await;
    assert_eq!(status, 200, "{body}");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let lines: Vec<&str> = body.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "key,label,recommendations,items,open,overdue,answered,implemented"
    );
    assert!(lines.contains(&"PFD,PFD,2,3,3,2,1,1"), "{body}");
    assert_eq!(lines.last(), Some(&""), "ends with a line break");

    // Every table parses: the same number of cells on every line.
    for t in [
        "issuer",
        "addressee",
        "theme",
        "setting",
        "year",
        "response_times",
        "oldest_overdue",
        "provider_kind",
    ] {
        let (status, _, body) = get(
            &app,
            &format!("/api/v1/dashboard.csv?table={t}&as_of=2024-06-01"),
        )
        .await;
        assert_eq!(status, 200, "{t}: {body}");
        let rows = parse_csv(&body);
        assert!(rows.len() >= 2, "{t}: {body}");
        assert!(
            rows.iter().all(|r| r.len() == rows[0].len()),
            "{t}: {rows:?}"
        );
    }
    // A name that a spreadsheet would run is written with an apostrophe.
    let (_, _, body) = get(
        &app,
        "/api/v1/dashboard.csv?table=oldest_overdue&as_of=2024-06-01",
    )
    .await;
    let rows = parse_csv(&body);
    assert_eq!(rows[1][2], "'=cmd Care Home");
    assert_eq!(rows[2][2], "<script>alert(1)</script> Ambulance Service");
}

/// A small RFC 4180 reader for the test (quoted cells, doubled quotes).
fn parse_csv(s: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    assert!(
        !quoted && cell.is_empty() && row.is_empty(),
        "unterminated CSV"
    );
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_draws_labelled_charts_and_escapes_user_text() {
    let app = app_with_register().await;
    let (status, ct, html) = get(&app, "/dashboard?as_of=2024-06-01").await;
    assert!(html.contains("Open recommendations with no cost estimate"));
    assert!(html.contains("1 open recommendation carries no cost estimate"));
    assert_eq!(status, 200, "{html}");
    assert!(ct.starts_with("text/html"), "{ct}");
    // User text is escaped everywhere, never markup.
    assert!(only_our_scripts(&html), "unescaped script in the page");
    // (askama writes markup's characters as numeric references)
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62; Ambulance Service"));
    // Charts: SVG with a title, a legend naming the patterns, the hatch
    // pattern, labels and values beside the bars.
    assert!(html.matches("<svg ").count() >= 5, "charts");
    assert_eq!(
        html.matches("<svg ").count(),
        html.matches("</svg>").count()
    );
    assert!(html.contains("<pattern id=\"hatch-issuer\""));
    assert!(html.contains("fill=\"url(#hatch-issuer)\""));
    assert!(
        html.contains(">3 open</text>"),
        "values written on the bars"
    );
    assert!(html.contains(">2 overdue</text>"));
    assert!(html.contains("<title id=\"chart-issuer\">"));
    assert!(html.contains(">PFD</text>"), "row labels");
    // A table under each chart, and the CSV links (with the filters).
    assert!(html.matches("<table").count() >= 7);
    assert_eq!(
        html.matches("<table").count(),
        html.matches("</table>").count()
    );
    assert!(html.contains("href=\"/api/v1/dashboard.csv?table=issuer&#38;as_of=2024-06-01\""));
    // No inline script or style (the CSP forbids them).
    assert!(!html.contains(" style=") && !html.contains("<style"));
    assert!(!html.contains(" on") || !html.contains(" onclick="));
    // Bad parameters: a page that says which.
    let (status, _, html) = get(&app, "/dashboard?year=soon").await;
    assert_eq!(status, 400);
    assert!(html.contains("parameter year"), "{html}");
    let (status, _, html) = get(&app, "/dashboard?issuer=%3Cscript%3E").await;
    assert_eq!(status, 400);
    assert!(only_our_scripts(&html), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_refused_by_name() {
    let app = spawn_app().await;
    for (query, word) in [
        ("issuer=NOBODY", "issuer"),
        ("issuer=not%20a%20code", "issuer"),
        ("year=twenty", "year"),
        ("year=99999", "year"),
        ("as_of=2024-13-01", "as_of"),
        ("as_of=yesterday", "as_of"),
        ("colour=red", "unknown query parameter"),
        ("year=2024&year=2025", "more than once"),
        ("theme=", ""),
    ] {
        let (status, body) = json(&app, &format!("/api/v1/dashboard?{query}")).await;
        if word.is_empty() {
            assert_eq!(status, 200, "{query}: {body}");
            continue;
        }
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_input", "{query}: {body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(word), "{query}: {msg}");
    }
    let long = "x".repeat(300);
    let (status, _) = json(&app, &format!("/api/v1/dashboard?theme={long}")).await;
    assert_eq!(status, 400);
    let (status, body) = json(&app, "/api/v1/dashboard.csv").await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("table"));
    let (status, _) = json(&app, "/api/v1/dashboard.csv?table=everything").await;
    assert_eq!(status, 400);
    // An empty register: every figure zero, nothing overdue.
    let (status, body) = json(&app, "/api/v1/dashboard").await;
    assert_eq!(status, 200);
    assert_eq!(counts(&body["totals"]), [0; 6]);
    assert_eq!(body["response_times"][0]["median_days"], Value::Null);
}

/// Issue #18, 8: the page's filters offer the register's values; a value
/// that names nothing (a misspelled theme, an issuer's full name) is said,
/// with what was typed kept and the whole register's figures beneath,
/// never zeros passed off as figures; filters can be cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_filters_offer_what_there_is_and_say_what_is_wrong() {
    let app = app_with_register().await;
    let (status, _, html) = get(&app, "/dashboard?as_of=2024-06-01").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<select class=\"nhsuk-select\" id=\"filter-issuer\" name=\"issuer\">"),
        "{html}"
    );
    assert!(html.contains("<option value=\"PFD\""), "{html}");
    assert!(!html.contains("Clear the filters"), "nothing to clear");
    // Why its total differs from the home page's (issue #18).
    assert!(
        html.contains("including those since closed, withdrawn or superseded"),
        "{html}"
    );
    // A contents list leads to each section of the long page (issue #18, 9).
    for id in [
        "totals",
        "issuer",
        "response_times",
        "oldest_overdue",
        "uncosted",
    ] {
        assert!(
            html.contains(&format!(
                "class=\"nhsuk-contents-list__link\" href=\"#{id}\""
            )),
            "{id}"
        );
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // The oldest overdue answers by title as well as id (issue #18, 9).
    let body: serde_json::Value = app
        .client
        .get(app.url("/api/v1/dashboard?as_of=2024-06-01"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let first = body["oldest_overdue"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rec: serde_json::Value = app
        .client
        .get(app.url(&format!("/api/v1/recommendations/{first}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let title = rec["title"].as_str().unwrap();
    let words: String = title
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let row = html
        .split("id=\"oldest_overdue\"")
        .nth(1)
        .and_then(|t| t.split(&format!("{first}</a>")).nth(1))
        .expect("the oldest overdue row");
    let cell = row.split("</td>").next().unwrap();
    assert!(cell.trim_start().starts_with(&words), "{title}: {cell}");
    let (status, _, narrowed) = get(&app, "/dashboard?as_of=2024-06-01&issuer=PFD").await;
    assert_eq!(status, 200);
    assert!(
        narrowed.contains("<option value=\"PFD\" selected>"),
        "{narrowed}"
    );
    assert!(
        narrowed.contains("href=\"/dashboard\">Clear the filters</a>"),
        "{narrowed}"
    );
    for (query, says) in [
        ("theme=sepssis", "There is no theme called"),
        ("issuer=Prevention%20of%20Future%20Deaths", "issuer"),
    ] {
        let (status, _, page) = get(&app, &format!("/dashboard?as_of=2024-06-01&{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(page.contains("There is a problem"), "{query}: {page}");
        assert!(page.contains(says), "{query}: {page}");
        assert!(
            page.contains("The figures below are for the whole register."),
            "{page}"
        );
        // The whole register's totals, the same as unfiltered.
        let totals = |h: &str| {
            let at = h.find("<caption>Totals</caption>").unwrap();
            h[at..at + 400].to_string()
        };
        assert_eq!(totals(&page), totals(&html), "{query}");
    }
}
