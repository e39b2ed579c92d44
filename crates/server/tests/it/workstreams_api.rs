//! The register of ongoing work through the real server: register, read,
//! list with search and facets, edit with versions, preview overlaps, the
//! pages; and every refusal (401, 403, 409, 422) stores nothing.

use crate::common;

use common::spawn_app;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn sepsis() -> Value {
    json!({
        "title": "Sepsis recognition in crowded emergency departments",
        "aim": "Why patients with suspected sepsis wait over an hour for antibiotics when triage is delayed in crowded emergency departments.",
        "partners": ["NHSE", "NICE"],
        "themes": ["sepsis", "emergency care"],
        "settings": ["emergency department"],
        "status": "active",
        "start": "2025-01-06",
        "expected_end": "2025-12-19",
        "contact": "sepsis@example.org"
    })
}

async fn count(app: &common::TestApp, token: Option<&str>) -> u64 {
    let mut req = app.client.get(app.url("/api/v1/workstreams"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let v: Value = req.send().await.unwrap().json().await.unwrap();
    v["total"].as_u64().unwrap()
}

async fn error_of(resp: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(resp.status(), status);
    let v: Value = resp.json().await.unwrap();
    v["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn register_read_list_edit_and_refusals() {
    let app = spawn_app().await;
    let hssib = app.token("HSSIB").await;
    let cqc = app.token("CQC").await;
    let nice = app.token("NICE").await;

    // Anonymous write: 401, nothing stored.
    let r = app
        .client
        .post(app.url("/api/v1/workstreams"))
        .json(&sepsis())
        .send()
        .await
        .unwrap();
    error_of(r, StatusCode::UNAUTHORIZED).await;

    // Ending before it starts; a partner that is not a code; an unknown
    // status; a recommendation id that is not one: 422 naming each field.
    let mut bad = sepsis();
    bad["expected_end"] = json!("2024-12-01");
    bad["partners"] = json!(["NHSE", "NHS England!"]);
    bad["status"] = json!("ongoing");
    bad["recommendations"] = json!(["sepsis"]);
    let r = app
        .client
        .post(app.url("/api/v1/workstreams"))
        .bearer_auth(&hssib)
        .json(&bad)
        .send()
        .await
        .unwrap();
    let msg = error_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    for f in [
        "field expected_end: 2025-12-19",
        "field partners[1]",
        "field status",
        "field recommendations[0]",
    ] {
        assert!(
            msg.contains(f.split(':').next().unwrap()),
            "{f} not in {msg}"
        );
    }
    assert!(msg.contains("cannot end before it starts"), "{msg}");
    // A partner code that is well formed but not registered.
    let mut bad = sepsis();
    bad["partners"] = json!(["ZZTOP"]);
    let r = app
        .client
        .post(app.url("/api/v1/workstreams"))
        .bearer_auth(&hssib)
        .json(&bad)
        .send()
        .await
        .unwrap();
    let msg = error_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        msg.contains("partners[0]: ZZTOP is not a registered organisation"),
        "{msg}"
    );
    // Registering work led by another body: 403.
    let mut other = sepsis();
    other["lead"] = json!("CQC");
    let r = app
        .client
        .post(app.url("/api/v1/workstreams"))
        .bearer_auth(&hssib)
        .json(&other)
        .send()
        .await
        .unwrap();
    error_of(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        count(&app, Some(&hssib)).await,
        0,
        "refusals stored nothing"
    );

    // Register: 201, id WS-HSSIB-YYYY-001, version 1.
    let r = app
        .client
        .post(app.url("/api/v1/workstreams"))
        .bearer_auth(&hssib)
        .json(&sepsis())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["etag"], "\"1\"");
    let created: Value = r.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("WS-HSSIB-") && id.ends_with("-001"), "{id}");
    assert_eq!(created["lead"], "HSSIB");
    assert_eq!(created["version"], 1);
    assert!(created["overlaps"].as_array().unwrap().is_empty());

    // A second, overlapping one by NICE, not public: the answer names the
    // first with a reason.
    let mut nice_ws = json!({
        "title": "Sepsis screening at emergency department triage",
        "aim": "Update guidance on sepsis screening at triage and antibiotics within one hour for patients at high risk in emergency departments.",
        "themes": ["sepsis"],
        "settings": ["emergency department"],
        "status": "planned",
        "public": false
    });
    let r = app
        .client
        .post(app.url("/api/v1/workstreams"))
        .bearer_auth(&nice)
        .json(&nice_ws)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let second: Value = r.json().await.unwrap();
    let nice_id = second["id"].as_str().unwrap().to_string();
    let o = &second["overlaps"][0];
    assert_eq!(o["id"], id.as_str(), "{second}");
    assert_eq!(o["kind"], "workstream");
    assert!(
        o["reason"]
            .as_str()
            .unwrap()
            .contains("shared themes: sepsis"),
        "{o}"
    );
    assert!(o["score"].as_f64().unwrap() > 0.2);

    // Not public: anonymous and CQC do not see it; NICE and HSSIB? HSSIB
    // is not a partner, so no.
    for (who, sees) in [
        (None, false),
        (Some(&cqc), false),
        (Some(&nice), true),
        (Some(&hssib), false),
    ] {
        let mut req = app
            .client
            .get(app.url(&format!("/api/v1/workstreams/{nice_id}")));
        if let Some(t) = who {
            req = req.bearer_auth(t);
        }
        let st = req.send().await.unwrap().status();
        assert_eq!(st == StatusCode::OK, sees, "{who:?}: {st}");
    }
    assert_eq!(count(&app, None).await, 1);
    assert_eq!(count(&app, Some(&nice)).await, 2);

    // Preview overlaps (anyone, nothing stored).
    nice_ws["lead"] = json!("NICE");
    let r = app
        .client
        .post(app.url("/api/v1/workstreams/overlaps"))
        .json(&nice_ws)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["matches"][0]["id"], id.as_str(), "{v}");
    assert_eq!(count(&app, Some(&nice)).await, 2);

    // List with a search and facets.
    let v: Value = app
        .client
        .get(app.url("/api/v1/workstreams?q=antibiotics&setting=emergency+department"))
        .bearer_auth(&nice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 2, "{v}");
    assert_eq!(v["facets"]["lead"]["HSSIB"], 1);
    assert_eq!(v["facets"]["status"]["planned"], 1);
    assert_eq!(v["facets"]["theme"]["sepsis"], 2);
    assert!(
        v["items"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>antibiotics</mark>")
    );
    let r = app
        .client
        .get(app.url("/api/v1/workstreams?colour=red"))
        .send()
        .await
        .unwrap();
    error_of(r, StatusCode::BAD_REQUEST).await;
    let r = app
        .client
        .get(app.url("/api/v1/workstreams?status=ongoing"))
        .send()
        .await
        .unwrap();
    error_of(r, StatusCode::BAD_REQUEST).await;

    // Edit: another organisation 403, anonymous 401, stale version 409,
    // ending before it starts 422; none changes anything.
    let url = app.url(&format!("/api/v1/workstreams/{id}"));
    let edit = json!({"version": 1, "status": "completed"});
    let r = app.client.patch(&url).json(&edit).send().await.unwrap();
    error_of(r, StatusCode::UNAUTHORIZED).await;
    let r = app
        .client
        .patch(&url)
        .bearer_auth(&cqc)
        .json(&edit)
        .send()
        .await
        .unwrap();
    let msg = error_of(r, StatusCode::FORBIDDEN).await;
    assert!(msg.contains("led by HSSIB"), "{msg}");
    let r = app
        .client
        .patch(&url)
        .bearer_auth(&hssib)
        .json(&json!({"version": 1, "expected_end": "2024-01-01"}))
        .send()
        .await
        .unwrap();
    error_of(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    let r = app
        .client
        .patch(&url)
        .bearer_auth(&hssib)
        .json(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2\"");
    let r = app
        .client
        .patch(&url)
        .bearer_auth(&hssib)
        .json(&json!({"version": 1, "status": "stopped"}))
        .send()
        .await
        .unwrap();
    let msg = error_of(r, StatusCode::CONFLICT).await;
    assert!(msg.contains("version"), "{msg}");
    let now: Value = app
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(now["status"], "completed");
    assert_eq!(now["version"], 2);

    // Audited.
    let history = app
        .services
        .as_principal(common::operator())
        .workstream_history(&concord_app::parse_workstream_id(&id).unwrap())
        .await
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "update"]);

    // Pages: the list with its search box and facet links, the workstream's
    // page; the private one is not found.
    let page = app
        .client
        .get(app.url("/workstreams?q=sepsis"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"q\" value=\"sepsis\""), "{html}");
    assert!(html.contains(&format!("href=\"/workstreams/{id}\"")));
    assert!(
        html.contains("/workstreams?q=sepsis&#38;theme=sepsis"),
        "{html}"
    );
    assert!(!html.contains(&nice_id));
    assert!(common::only_our_scripts(&html));
    let page = app
        .client
        .get(app.url(&format!("/workstreams/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Sepsis recognition in crowded emergency departments"));
    let st = app
        .client
        .get(app.url(&format!("/workstreams/{nice_id}")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, StatusCode::NOT_FOUND);
    let st = app
        .client
        .get(app.url("/workstreams/nonsense"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn escaping_on_the_pages() {
    let app = spawn_app().await;
    let hssib = app.token("HSSIB").await;
    let r = app
        .client
        .post(app.url("/api/v1/workstreams"))
        .bearer_auth(&hssib)
        .json(&json!({"title": "<script>alert(1)</script> & more", "aim": "\"quoted\" <b>bold</b>", "themes": ["<i>x</i>"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let id = v["id"].as_str().unwrap();
    for path in ["/workstreams".to_string(), format!("/workstreams/{id}")] {
        let html = app
            .client
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<b>bold"), "{path}");
        // (askama writes markup's characters as numeric references)
        assert!(html.contains("&#60;script&#62;"), "{path}");
    }
}
