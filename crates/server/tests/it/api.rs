//! The HTTP layer end to end: a real server on a free port, a real SQLite
//! database in a temporary folder, requests over the loopback.

use crate::common;

use common::*;

use concord_domain::OrgCode;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

impl TestApp {
    /// Stores a record directly through the services, as an operator.
    async fn seed(&self, body: Value) -> Value {
        let rec = self
            .services
            .as_principal(operator())
            .create_draft(concord_app::NewRecord::from_json(body).unwrap())
            .await
            .expect("seed a record");
        serde_json::to_value(rec).unwrap()
    }

    async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    async fn get_as(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut req = self.client.request(method, self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request")
    }

    async fn list(&self, query: &str) -> Value {
        let res = self.get(&format!("/api/v1/recommendations?{query}")).await;
        assert_eq!(res.status(), StatusCode::OK, "{query}");
        res.json().await.unwrap()
    }

    async fn list_ids(&self, query: &str) -> Vec<String> {
        ids(&self.list(query).await)
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

/// A published record with everything the filters look at.
fn published(issuer: &str, title: &str, date: &str) -> Value {
    json!({
        "issuer": issuer,
        "title": title,
        "text": format!("{title}: the text of the recommendation."),
        "status": "published",
        "published": date,
        "addressees": [{"name": "NHS England", "org": "NHSE", "status": "awaiting_response"}],
        "themes": ["sepsis"],
        "settings": ["acute"],
    })
}

/// Checks an error response's status, its JSON shape and code; returns its message.
async fn expect_error(res: Response, status: StatusCode, code: &str) -> String {
    assert_eq!(res.status(), status, "status");
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        ct.starts_with("application/json"),
        "error content type {ct:?}"
    );
    let body: Value = res.json().await.expect("error body is JSON");
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"]
        .as_str()
        .expect("error.message is a string")
        .to_string();
    assert!(!message.is_empty(), "{body}");
    message
}

fn assert_security_headers(res: &Response) {
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff", "{}", res.url());
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(!csp.contains("script-src 'unsafe-inline'"), "{csp}");
    assert!(h.contains_key("referrer-policy"), "{}", res.url());
}

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_security_headers(&res);
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn readyz_lists_each_derived_index_and_answers_503_until_caught_up() {
    let (services, dir) = common::open_services().await;
    // Not served yet: the similarity index has never been built.
    let r = services.readiness().await.unwrap();
    assert!(!r.ready && !r.similarity_built, "{r:?}");
    let app = common::serve(services, dir).await;
    // The server builds it at start; until then /readyz says 503 and why.
    let mut ready = None;
    for _ in 0..1200 {
        let res = app.get("/readyz").await;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap();
        if status == StatusCode::OK {
            ready = Some(body);
            break;
        }
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["ready"], false, "{body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let body = ready.expect("/readyz never answered 200");
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["similarity_built"], true, "{body}");
    // No weights in this process: lexical only, and nothing to wait for.
    assert_eq!(body["vectors"]["method"], "lexical", "{body}");
    assert_eq!(body["vectors_lag"], 0, "{body}");
    assert!(body["outbox_seq"].as_i64().is_some(), "{body}");
}

#[tokio::test]
async fn list_pages_newest_first() {
    let app = spawn_app().await;
    for (i, date) in [
        "2024-01-10",
        "2024-03-10",
        "2024-02-10",
        "2024-05-10",
        "2024-04-10",
    ]
    .iter()
    .enumerate()
    {
        app.seed(published("HSSIB", &format!("Record {i}"), date))
            .await;
    }
    let first = app.list("per_page=2").await;
    assert_eq!(
        (
            first["total"].as_u64(),
            first["page"].as_u64(),
            first["per_page"].as_u64()
        ),
        (Some(5), Some(1), Some(2))
    );
    let dates = |p: &Value| -> Vec<String> {
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["published"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(dates(&first), ["2024-05-10", "2024-04-10"]);
    let third = app.list("per_page=2&page=3").await;
    assert_eq!(dates(&third), ["2024-01-10"]);
    assert_eq!(third["total"], 5);
    let beyond = app.list("per_page=2&page=4").await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["total"], 5);
    let default = app.list("").await;
    assert_eq!(
        (default["page"].as_u64(), default["per_page"].as_u64()),
        (Some(1), Some(50))
    );
    assert_eq!(ids(&default).len(), 5);
}

#[tokio::test]
async fn list_filters_each_narrow_the_result() {
    let app = spawn_app().await;
    let base = app.seed(published("HSSIB", "Base", "2024-06-01")).await;
    let mut other_issuer = published("CQC", "Other issuer", "2024-06-02");
    other_issuer["addressees"] =
        json!([{"name": "Royal College of Nursing", "status": "awaiting_response"}]);
    other_issuer["themes"] = json!(["falls"]);
    other_issuer["settings"] = json!(["care home"]);
    other_issuer["kind"] = json!("safety_observation");
    let other = app.seed(other_issuer).await;
    let mut closed = published("HSSIB", "Closed", "2023-01-15");
    closed["status"] = json!("closed");
    let closed = app.seed(closed).await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let (base, other, closed) = (id(&base), id(&other), id(&closed));

    assert_eq!(app.list_ids("issuer=CQC").await, [other.as_str()]);
    assert_eq!(
        app.list_ids("issuer=hssib").await,
        [base.as_str(), closed.as_str()]
    );
    assert_eq!(
        app.list_ids("addressee=NHSE").await,
        [base.as_str(), closed.as_str()]
    );
    assert_eq!(
        app.list_ids("addressee=royal%20college").await,
        [other.as_str()]
    );
    assert_eq!(app.list_ids("theme=Falls").await, [other.as_str()]);
    assert_eq!(app.list_ids("setting=care%20home").await, [other.as_str()]);
    assert_eq!(app.list_ids("status=closed").await, [closed.as_str()]);
    assert_eq!(
        app.list_ids("kind=safety_observation").await,
        [other.as_str()]
    );
    assert_eq!(app.list_ids("from=2024-06-02").await, [other.as_str()]);
    assert_eq!(app.list_ids("to=2023-12-31").await, [closed.as_str()]);
    assert_eq!(
        app.list_ids("from=2024-01-01&to=2024-06-01&issuer=HSSIB")
            .await,
        [base.as_str()]
    );
    assert_eq!(app.list("issuer=PHSO").await["total"], 0);
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, names) in [
        ("status=maybe", "status"),
        ("kind=poem", "kind"),
        ("from=2024-13-01", "from"),
        ("to=31/12/2024", "to"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("per_page=100000", "per_page"),
        ("per_page=-5", "per_page"),
        ("issuer=not%20a%20code", "issuer"),
        ("colour=blue", "colour"),
        ("page=1&page=2", "page"),
    ] {
        let res = app.get(&format!("/api/v1/recommendations?{query}")).await;
        let message = expect_error(res, StatusCode::BAD_REQUEST, "bad_input").await;
        assert!(message.contains(names), "{query}: {message}");
    }
}

#[tokio::test]
async fn get_one_with_etag_and_the_errors_around_it() {
    let app = spawn_app().await;
    let rec = app
        .seed(published("HSSIB", "Sepsis screening", "2024-09-16"))
        .await;
    let id = rec["id"].as_str().unwrap();
    let res = app.get(&format!("/api/v1/recommendations/{id}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"1\"");
    assert_security_headers(&res);
    assert_eq!(res.headers()["vary"], "authorization, cookie");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], id);
    assert_eq!(body["issuer"], "HSSIB");
    assert_eq!(body["title"], "Sepsis screening");
    assert_eq!(body["published"], "2024-09-16");
    assert_eq!(body["status"], "published");
    assert_eq!(body["kind"], "recommendation");
    assert_eq!(
        body["addressees"][0],
        json!({"name": "NHS England", "org": "NHSE", "status": "awaiting_response", "due": null, "responses": []})
    );
    assert_eq!(body["themes"], json!(["sepsis"]));
    assert_eq!(body["links"], json!([]));

    let unchanged = app
        .client
        .get(app.url(&format!("/api/v1/recommendations/{id}")))
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);

    let missing = app.get("/api/v1/recommendations/HSSIB-2024-0999").await;
    let message = expect_error(missing, StatusCode::NOT_FOUND, "not_found").await;
    assert!(message.contains("HSSIB-2024-0999"), "{message}");
    let bad = app.get("/api/v1/recommendations/not-an-id").await;
    let message = expect_error(bad, StatusCode::BAD_REQUEST, "bad_input").await;
    assert!(message.contains("not-an-id"), "{message}");
}

#[tokio::test]
async fn create_needs_a_token_of_the_issuer_and_a_valid_body() {
    let app = spawn_app().await;
    let hssib = app.token("HSSIB").await;
    let body = json!({"title": "Check oxygen cylinders", "text": "Trusts should check oxygen cylinders daily."});

    let res = app
        .send_json(Method::POST, "/api/v1/recommendations", Some(&hssib), &body)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["etag"], "\"1\"");
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["issuer"], "HSSIB");
    assert_eq!(created["status"], "draft");
    assert_eq!(
        location,
        format!(
            "/api/v1/recommendations/{}",
            created["id"].as_str().unwrap()
        )
    );
    let fetched = app.get_as(&location, &hssib).await;
    assert_eq!(fetched.status(), StatusCode::OK);

    let anonymous = app
        .send_json(Method::POST, "/api/v1/recommendations", None, &body)
        .await;
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let mut as_cqc = body.clone();
    as_cqc["issuer"] = json!("CQC");
    let other = app
        .send_json(
            Method::POST,
            "/api/v1/recommendations",
            Some(&hssib),
            &as_cqc,
        )
        .await;
    expect_error(other, StatusCode::FORBIDDEN, "forbidden").await;

    let empty_title = json!({"title": "  ", "text": "Some text."});
    let invalid = app
        .send_json(
            Method::POST,
            "/api/v1/recommendations",
            Some(&hssib),
            &empty_title,
        )
        .await;
    let message = expect_error(invalid, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(message.contains("title"), "{message}");

    let bad_status = json!({"title": "T", "text": "X", "status": "pending"});
    let invalid = app
        .send_json(
            Method::POST,
            "/api/v1/recommendations",
            Some(&hssib),
            &bad_status,
        )
        .await;
    let message = expect_error(invalid, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(message.contains("pending"), "{message}");

    // Each problem names its field in `fields`, as the message says it.
    let two_wrong = json!({"title": " ", "text": " "});
    let res = app
        .send_json(
            Method::POST,
            "/api/v1/recommendations",
            Some(&hssib),
            &two_wrong,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = res.json().await.unwrap();
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no fields in {body}"))
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"title") && fields.contains(&"text"),
        "{body}"
    );
    for f in body["error"]["fields"].as_array().unwrap() {
        let said = format!(
            "field {}: {}",
            f["field"].as_str().unwrap(),
            f["message"].as_str().unwrap()
        );
        assert!(
            body["error"]["message"].as_str().unwrap().contains(&said),
            "{body}"
        );
    }
}

#[tokio::test]
async fn tokens_that_cannot_be_used_are_401() {
    let app = spawn_app().await;
    let res = app
        .get_as("/api/v1/recommendations", "concord_not_a_real_token")
        .await;
    let message = expect_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    assert!(message.contains("token"), "{message}");
    let res = app
        .client
        .get(app.url("/api/v1/recommendations"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    expect_error(res, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    let good = app.token("HSSIB").await;
    assert_eq!(
        app.get_as("/api/v1/recommendations", &good).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn patch_edits_then_refuses_a_stale_version() {
    let app = spawn_app().await;
    let hssib = app.token("HSSIB").await;
    let rec = app
        .seed(published("HSSIB", "Original title", "2024-02-01"))
        .await;
    let path = format!("/api/v1/recommendations/{}", rec["id"].as_str().unwrap());

    let res = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&hssib),
            &json!({"version": 1, "title": "Better title"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let edited: Value = res.json().await.unwrap();
    assert_eq!(
        (edited["title"].as_str(), edited["version"].as_i64()),
        (Some("Better title"), Some(2))
    );

    let stale = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&hssib),
            &json!({"version": 1, "title": "Lost edit"}),
        )
        .await;
    expect_error(stale, StatusCode::CONFLICT, "version_conflict").await;
    let stored: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(stored["title"], "Better title");

    // The version may come as If-Match instead.
    let res = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&hssib)
        .header("if-match", "\"2\"")
        .json(&json!({"themes": ["oxygen"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let stale = app
        .client
        .patch(app.url(&path))
        .bearer_auth(&hssib)
        .header("if-match", "\"2\"")
        .json(&json!({"themes": ["lost"]}))
        .send()
        .await
        .unwrap();
    expect_error(stale, StatusCode::CONFLICT, "version_conflict").await;

    let no_version = app
        .send_json(Method::PATCH, &path, Some(&hssib), &json!({"title": "x"}))
        .await;
    let message = expect_error(no_version, StatusCode::UNPROCESSABLE_ENTITY, "invalid").await;
    assert!(message.contains("version"), "{message}");

    let cqc = app.token("CQC").await;
    let foreign = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&cqc),
            &json!({"version": 3, "title": "x"}),
        )
        .await;
    expect_error(foreign, StatusCode::FORBIDDEN, "forbidden").await;
    let anonymous = app
        .send_json(
            Method::PATCH,
            &path,
            None,
            &json!({"version": 3, "title": "x"}),
        )
        .await;
    expect_error(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;

    let history: Value = app
        .get(&format!("{path}/history"))
        .await
        .json()
        .await
        .unwrap();
    let events = history["items"].as_array().unwrap();
    assert!(events.len() >= 3, "{history}");
    assert_eq!(history["id"], rec["id"]);
    assert!(
        events
            .iter()
            .all(|e| e["at"].is_string() && e["action"].is_string()),
        "{history}"
    );
}

#[tokio::test]
async fn drafts_are_seen_only_by_their_issuer() {
    let app = spawn_app().await;
    let hssib = app.token("HSSIB").await;
    let cqc = app.token("CQC").await;
    app.seed(published("HSSIB", "Public one", "2024-01-01"))
        .await;
    let res = app
        .send_json(
            Method::POST,
            "/api/v1/recommendations",
            Some(&hssib),
            &json!({"title": "Secret draft", "text": "Not yet."}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft: Value = res.json().await.unwrap();
    let path = format!("/api/v1/recommendations/{}", draft["id"].as_str().unwrap());

    expect_error(app.get(&path).await, StatusCode::NOT_FOUND, "not_found").await;
    expect_error(
        app.get_as(&path, &cqc).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        app.get(&format!("{path}/history")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    assert_eq!(app.get_as(&path, &hssib).await.status(), StatusCode::OK);

    let titles = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(titles(app.list("").await), ["Public one"]);
    assert_eq!(app.list("status=draft").await["total"], 0);
    let as_cqc: Value = app
        .get_as("/api/v1/recommendations", &cqc)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(as_cqc), ["Public one"]);
    let as_issuer: Value = app
        .get_as("/api/v1/recommendations?status=draft", &hssib)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(as_issuer), ["Secret draft"]);
    let page = app
        .get(&format!(
            "/recommendations/{}",
            draft["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bodies_too_large_malformed_or_not_json_are_refused_in_json() {
    let app = spawn_app().await;
    let hssib = app.token("HSSIB").await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.client
            .post(app.url("/api/v1/recommendations"))
            .bearer_auth(&hssib)
            .header("content-type", content_type)
            .body(body)
            .send()
    };

    let mut huge = br#"{"title": "big", "text": ""#.to_vec();
    huge.extend(std::iter::repeat_n(b'x', 3 * 1024 * 1024));
    huge.extend(br#""}"#);
    let res = post(huge, "application/json")
        .await
        .expect("a 413 answer, not a dropped connection");
    expect_error(res, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;

    let res = post(b"{\"title\": ".to_vec(), "application/json")
        .await
        .unwrap();
    let message = expect_error(res, StatusCode::BAD_REQUEST, "bad_json").await;
    assert!(message.contains("line 1"), "{message}");

    let res = post(b"title=x".to_vec(), "application/x-www-form-urlencoded")
        .await
        .unwrap();
    expect_error(
        res,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;

    let res = post(b"[1, 2]".to_vec(), "application/json").await.unwrap();
    expect_error(res, StatusCode::BAD_REQUEST, "bad_input").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_under_api_answer_json() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/nothing-here").await;
    assert_security_headers(&res);
    let message = expect_error(res, StatusCode::NOT_FOUND, "not_found").await;
    assert!(message.contains("/api/v1/nothing-here"), "{message}");
    expect_error(app.get("/api").await, StatusCode::NOT_FOUND, "not_found").await;
    let res = app
        .client
        .delete(app.url("/api/v1/recommendations"))
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;

    let page = app.get("/no/such/page").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn organisations_are_listed_and_found_by_code() {
    let app = spawn_app().await;
    let list: Value = app.get("/api/v1/organisations").await.json().await.unwrap();
    let codes: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"HSSIB") && codes.contains(&"NHSE"),
        "{codes:?}"
    );
    let one = app.get("/api/v1/organisations/hssib").await;
    assert_eq!(one.status(), StatusCode::OK);
    let one: Value = one.json().await.unwrap();
    assert_eq!(one["code"], "HSSIB");
    assert_eq!(one["name"], "Health Services Safety Investigations Body");
    expect_error(
        app.get("/api/v1/organisations/NOPE").await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_error(
        app.get("/api/v1/organisations/no-such!").await,
        StatusCode::BAD_REQUEST,
        "bad_input",
    )
    .await;
}

#[tokio::test]
async fn pages_show_the_register_and_escape_what_it_holds() {
    let app = spawn_app().await;
    let mut evil = published("HSSIB", "<script>alert(1)</script>", "2024-07-01");
    evil["text"] = json!("Line one & <b>bold</b>\n\nSecond paragraph");
    evil["themes"] = json!(["<img src=x onerror=alert(2)>"]);
    evil["source"] = json!({"title": "Report \"quoted\"", "url": "javascript:alert(3)"});
    let evil = app.seed(evil).await;
    let plain = app
        .seed(published("CQC", "Plain title", "2024-01-01"))
        .await;
    let id = evil["id"].as_str().unwrap();

    let home = app.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert_security_headers(&home);
    let html = home.text().await.unwrap();
    assert!(
        !html.contains("<script>alert(1)"),
        "home page holds raw markup"
    );
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(html.contains(&format!("href=\"/recommendations/{id}\"")));
    assert!(html.contains(&format!(
        "href=\"/recommendations/{}\"",
        plain["id"].as_str().unwrap()
    )));
    assert!(
        html.contains("<strong>2</strong> published recommendations"),
        "{html}"
    );
    assert!(html.contains("href=\"/api/docs/\""));

    let page = app.get(&format!("/recommendations/{id}")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        !html.contains("<script>alert(1)")
            && !html.contains("<img src=x")
            && !html.contains("<b>bold"),
        "{html}"
    );
    assert!(html.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(html.contains("Line one &#38; &#60;b&#62;bold&#60;/b&#62;"));
    assert!(!html.contains("href=\"javascript:"), "{html}");
    assert!(html.contains("NHS England"));
    assert!(html.contains("awaiting response"));

    // Every stylesheet the page names is served, as CSS, cached for long
    // (its address carries the assets' version).
    let sheets: Vec<&str> = html
        .split("<link rel=\"stylesheet\" href=\"")
        .skip(1)
        .map(|rest| &rest[..rest.find('"').unwrap()])
        .collect();
    assert_eq!(sheets.len(), 2, "{html}");
    for sheet in sheets {
        assert!(sheet.starts_with("/assets/"), "{sheet}");
        let css = app.get(sheet).await;
        assert_eq!(css.status(), StatusCode::OK, "{sheet}");
        assert!(
            css.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        assert!(
            css.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    }
    let css = app.get("/assets/site.css").await;
    assert_eq!(css.status(), StatusCode::OK);

    let missing = app.get("/recommendations/HSSIB-2024-0999").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let bad = app.get("/recommendations/%3Cscript%3E").await;
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
    assert!(!bad.text().await.unwrap().contains("<script>"));
}

#[tokio::test]
async fn swagger_ui_is_served_with_its_own_policy() {
    let app = spawn_app().await;
    let redirected = app.get("/api/docs").await;
    assert_eq!(redirected.status(), StatusCode::OK);
    assert_eq!(redirected.url().path(), "/api/docs/");
    let index = app.get("/api/docs/").await;
    assert_eq!(index.status(), StatusCode::OK);
    assert_security_headers(&index);
    let csp = index.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src 'self' data:"), "{csp}");
    assert!(index.text().await.unwrap().contains("swagger-ui-bundle.js"));
    let init = app
        .get("/api/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(init.contains("/api/v1/openapi.json"), "{init}");
    assert_eq!(
        app.get("/api/docs/swagger-ui-bundle.js").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn openapi_document_matches_the_snapshot() {
    let app = spawn_app().await;
    let res = app.get("/api/v1/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    for path in [
        "/api/v1/recommendations",
        "/api/v1/recommendations/{id}",
        "/api/v1/recommendations/{id}/history",
        "/api/v1/recommendations/{id}/links",
        "/api/v1/recommendations/{id}/links/{target}",
        "/api/v1/organisations",
        "/api/v1/organisations/{code}",
        "/api/v1/check",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert_eq!(
        doc,
        serde_json::to_value(concord_server::openapi()).unwrap()
    );
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test]
async fn check_answers_one_report_per_draft_for_anyone() {
    let app = spawn_app().await;
    let drafts = json!([
        {"text": "All relevant organisations should consider raising awareness of sepsis."},
        {"issuer": "HSSIB", "text": "NHS England should require every acute trust to audit sepsis screening by 31 March 2026.",
         "addressees": ["NHS England"]}
    ]);
    let res = app
        .send_json(Method::POST, "/api/v1/check", None, &drafts)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let reports = body.as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["index"], 0);
    assert_eq!(reports[1]["index"], 1);
    let result = |r: &Value, c: &str| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["criterion"] == c)
            .unwrap()["result"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(result(&reports[0], "time_bound"), "fail");
    assert_eq!(result(&reports[0], "action"), "fail");
    assert_eq!(result(&reports[1], "time_bound"), "pass");
    assert_eq!(result(&reports[1], "addressee"), "pass");
    assert!(reports[1]["score"].as_u64().unwrap() > reports[0]["score"].as_u64().unwrap());
    assert_eq!(reports[0]["checks"].as_array().unwrap().len(), 13);
    // One object is one draft.
    let res = app
        .send_json(
            Method::POST,
            "/api/v1/check",
            None,
            &json!({"text": "Publish it by 1 May 2026."}),
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn check_refuses_bad_drafts_naming_the_field() {
    let app = spawn_app().await;
    let msg = expect_error(
        app.send_json(
            Method::POST,
            "/api/v1/check",
            None,
            &json!({"title": "no text"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert!(msg.contains("field text: is missing or empty"), "{msg}");
    let msg = expect_error(
        app.send_json(
            Method::POST,
            "/api/v1/check",
            None,
            &json!([{"text": "ok"}, {"text": "x", "response_deadline": 20260101}]),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid",
    )
    .await;
    assert_eq!(
        msg,
        "field [1].response_deadline: expected a string, found a number"
    );
    let res = app
        .client
        .post(app.url("/api/v1/check"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_error(res, StatusCode::BAD_REQUEST, "bad_json").await;
}

#[tokio::test]
async fn the_publishing_gate_refuses_then_an_operator_overrides_with_an_audited_reason() {
    let app = spawn_app().await;
    let hssib = OrgCode::parse("HSSIB").unwrap();
    let ops = app.services.as_principal(operator());
    ops.set_criteria(
        &hssib,
        Some(
            r#"{"name": "hssib-strict", "gate": {"min_score": 40, "no_fail": ["time_bound"]},
                 "criteria": [{"check": "time_bound"}, {"check": "action"}]}"#,
        ),
    )
    .await
    .unwrap();
    let token = app.token("HSSIB").await;
    let weak = json!({"title": "Sepsis", "text": "All relevant organisations should consider sepsis.",
                      "status": "published", "published": "2025-01-10"});
    // Creating straight into published is refused, listing what fails.
    let msg = expect_error(
        app.send_json(Method::POST, "/api/v1/recommendations", Some(&token), &weak)
            .await,
        StatusCode::CONFLICT,
        "refused",
    )
    .await;
    assert!(msg.contains("cannot publish"), "{msg}");
    assert!(msg.contains("time_bound fails: No deadline"), "{msg}");
    assert!(msg.contains("score 25 is below the minimum of 40"), "{msg}");
    // A draft may be saved; publishing it by PATCH is refused too.
    let mut draft = weak.clone();
    draft["status"] = json!("draft");
    let res = app
        .send_json(
            Method::POST,
            "/api/v1/recommendations",
            Some(&token),
            &draft,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let rec: Value = res.json().await.unwrap();
    let id = rec["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/recommendations/{id}");
    let publish = json!({"version": 1, "status": "published", "published": "2025-01-10"});
    expect_error(
        app.send_json(Method::PATCH, &path, Some(&token), &publish)
            .await,
        StatusCode::CONFLICT,
        "refused",
    )
    .await;
    // An organisation cannot override the gate.
    let mut forced = publish.clone();
    forced["override_gate"] = json!("board decision");
    expect_error(
        app.send_json(Method::PATCH, &path, Some(&token), &forced)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Fixing the draft opens the gate.
    let fixed = json!({"version": 1, "status": "published", "published": "2025-01-10",
                       "text": "NHS England should publish sepsis guidance by 31 March 2026."});
    let res = app
        .send_json(Method::PATCH, &path, Some(&token), &fixed)
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );
    // An operator may override, with the reason in the audit trail.
    let rec = ops
        .create_draft(
            concord_app::NewRecord::from_json(
                json!({"issuer": "HSSIB", "title": "Forced", "text": "Consider sepsis.",
                             "status": "published", "published": "2025-01-10",
                             "override_gate": "ministerial direction"}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
    let history = ops.history(&rec.id).await.unwrap();
    assert!(
        history[0]
            .actor
            .contains("override_gate: ministerial direction"),
        "{}",
        history[0].actor
    );
    assert!(
        history[0].actor.contains("time_bound fails"),
        "{}",
        history[0].actor
    );
}

/// Pages, JSON and assets are gzip-compressed for a client that asks, and
/// sent as they are to one that does not.
#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = spawn_app().await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    let plain = page.text().await.unwrap();
    assert!(plain.contains("<!DOCTYPE html>"));
    let css = {
        let end = plain.find("nhsuk-frontend.min.css").unwrap() + "nhsuk-frontend.min.css".len();
        let start = plain[..end].rfind("/assets/").unwrap();
        plain[start..end].to_string()
    };
    for path in ["/", "/api/v1/organisations", css.as_str()] {
        let res = app
            .client
            .get(app.url(path))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-encoding"], "gzip", "{path}");
        let zipped = res.bytes().await.unwrap();
        assert_eq!(&zipped[..2], &[0x1f, 0x8b], "{path}: a gzip stream");
        let res = app.client.get(app.url(path)).send().await.unwrap();
        assert!(!res.headers().contains_key("content-encoding"), "{path}");
        assert!(res.bytes().await.unwrap().len() > zipped.len(), "{path}");
    }
}
