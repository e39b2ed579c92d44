//! `GET /api/v1/overdue` against the real server over the demo register:
//! the same answer as the service (and so as `concord overdue --json`), and
//! bad parameters refused by name.

use crate::common;

use chrono::NaiveDate;
use common::*;
use concord_app::Principal;
use serde_json::Value;

async fn get(app: &TestApp, query: &str) -> (u16, Value) {
    let res = app
        .client
        .get(app.url(&format!("/api/v1/overdue{query}")))
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    (status, res.json().await.expect("JSON body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overdue_answers_as_the_service_does() {
    let app = spawn_app().await;
    app.services
        .as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .expect("demo loads");
    let as_of = NaiveDate::from_ymd_opt(2024, 4, 7).unwrap();

    let (status, body) = get(&app, "?as_of=2024-04-07").await;
    assert_eq!(status, 200, "{body}");
    let expected = app
        .services
        .as_principal(Principal::Anonymous)
        .overdue(Some(as_of), None, None)
        .await
        .unwrap();
    assert_eq!(body, serde_json::to_value(&expected).unwrap());
    assert_eq!(body["as_of"], "2024-04-07");
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty(), "the demo register has late answers");
    // Most days overdue first.
    let days: Vec<i64> = items
        .iter()
        .map(|i| i["days_overdue"].as_i64().unwrap())
        .collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]), "{days:?}");
    for i in items {
        let due = NaiveDate::parse_from_str(i["due"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert_eq!(
            (as_of - due).num_days(),
            i["days_overdue"].as_i64().unwrap()
        );
    }

    // Filters: by issuer, and by addressee code.
    let (status, body) = get(&app, "?as_of=2024-04-07&issuer=hssib&addressee=NHSE").await;
    assert_eq!(status, 200, "{body}");
    let filtered = body["items"].as_array().unwrap();
    assert!(!filtered.is_empty());
    assert!(filtered.len() < items.len());
    for i in filtered {
        assert_eq!(i["issuer"], "HSSIB");
        assert_eq!(i["org"], "NHSE");
    }

    // Without as_of: today in England (the demo's late answers are still late).
    let (status, body) = get(&app, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["as_of"],
        app.services.clock().today().to_string().as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_refused_by_name() {
    let app = spawn_app().await;
    for (query, says) in [
        (
            "?as_of=07/04/2024",
            "parameter as_of: \"07/04/2024\" is not a date",
        ),
        ("?as_of=2024-02-30", "parameter as_of:"),
        (
            "?issuer=no-such!",
            "parameter issuer: \"no-such!\" is not an organisation code",
        ),
        (
            "?issuer=ZZZ",
            "parameter issuer: ZZZ is not a registered organisation",
        ),
        ("?asof=2024-04-07", "unknown query parameter \"asof\""),
        (
            "?as_of=2024-04-07&as_of=2024-04-08",
            "parameter as_of: is given more than once",
        ),
    ] {
        let (status, body) = get(&app, query).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "bad_input", "{query}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(says), "{query}: {msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_records_get_the_issuers_deadline_on_create_and_edit() {
    let app = spawn_app().await;
    let ops = app.services.as_principal(operator());
    let rec = ops
        .create_draft(concord_app::NewRecord::from_json(serde_json::json!({
            "issuer": "HSSIB", "title": "Sepsis screening in emergency departments",
            "text": "NHS England should require every emergency department to screen adults for sepsis within one hour of arrival, by March 2025.",
            "status": "published", "published": "2024-01-01",
            "addressees": [{"name": "NHS England", "org": "NHSE", "status": "awaiting_response", "due": null}],
            "override_gate": "test"
        })).unwrap())
        .await
        .expect("created");
    // HSSIB: 90 days.
    assert_eq!(
        rec.data.response_deadline.map(|d| d.to_string()).as_deref(),
        Some("2024-03-31")
    );
    // Clearing it by an edit puts the issuer's period back; a draft keeps none.
    let edited = ops
        .edit(
            &rec.id,
            concord_app::RecordEdit::from_json(serde_json::json!({"version": rec.version, "response_deadline": null, "override_gate": "test"})).unwrap(),
        )
        .await
        .expect("edited");
    assert_eq!(
        edited
            .data
            .response_deadline
            .map(|d| d.to_string())
            .as_deref(),
        Some("2024-03-31")
    );
    let draft = ops
        .create_draft(
            concord_app::NewRecord::from_json(serde_json::json!({
                "issuer": "HSSIB", "title": "A draft", "text": "Trusts should do better by 2025.",
                "published": "2024-01-01"
            }))
            .unwrap(),
        )
        .await
        .expect("draft");
    assert_eq!(draft.data.response_deadline, None);
}
