//! Oversight over HTTP, against a real server and a real SQLite database:
//! GET /api/v1/contradictions, GET /api/v1/duplicates,
//! GET /api/v1/recommendations/{id}/related,
//! POST /api/v1/recommendations/{id}/suggestions/{target}, and the "Also
//! said by" / "Contradicted by" sections of the record's page.

use crate::common;

use common::*;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const CT_1H: &str = "Adults who take anticoagulant medicines and have a head injury after a \
    fall should have a CT head scan within 1 hour of arrival at the emergency department.";
const CT_8H: &str = "Adults on anticoagulant medicines who have a head injury after a fall \
    should not have a CT head scan until 8 hours after arrival at the emergency department.";
const SEPSIS_A: &str = "Emergency departments should screen every adult for sepsis at triage \
    and give intravenous antibiotics within one hour of recognising suspected sepsis, with a \
    senior clinical review and lactate measurement.";
const SEPSIS_B: &str = "Every adult arriving at an emergency department should be screened \
    for sepsis at triage, and intravenous antibiotics should be given within one hour of \
    recognising suspected sepsis, with lactate measurement and a senior clinical review.";
const OTHER: &str = "Manufacturers of infusion pumps should publish the software version of \
    each device model and notify hospitals of every update to the drug library.";

struct World {
    app: TestApp,
    ct1: String,
    ct8: String,
    sep_a: String,
    sep_b: String,
    other: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (issuer, text) in [
        ("NICE", CT_1H),
        ("CQC", CT_8H),
        ("HSSIB", SEPSIS_A),
        ("NHSE", SEPSIS_B),
        ("MHRA", OTHER),
    ] {
        let rec = app
            .services
            .as_principal(operator())
            .create_draft(
                concord_app::NewRecord::from_json(json!({"issuer": issuer, "status": "published",
                "published": "2024-03-01", "title": format!("{issuer} recommendation"),
                "text": text, "override_gate": "test data"}))
                .unwrap(),
            )
            .await
            .unwrap();
        ids.push(rec.id.to_string());
    }
    let mut it = ids.into_iter();
    World {
        app,
        ct1: it.next().unwrap(),
        ct8: it.next().unwrap(),
        sep_a: it.next().unwrap(),
        sep_b: it.next().unwrap(),
        other: it.next().unwrap(),
    }
}

impl World {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn page(&self, path: &str) -> String {
        let r = self
            .app
            .client
            .get(self.app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }

    async fn decide(
        &self,
        id: &str,
        target: &str,
        token: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client
            .request(
                Method::POST,
                self.app.url(&format!(
                    "/api/v1/recommendations/{id}/suggestions/{target}"
                )),
            )
            .json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn contradictions(&self) -> Vec<Value> {
        let (s, v) = self.get("/api/v1/contradictions").await;
        assert_eq!(s, StatusCode::OK);
        v["pairs"].as_array().unwrap().clone()
    }

    async fn groups(&self) -> Vec<Vec<String>> {
        let (s, v) = self.get("/api/v1/duplicates").await;
        assert_eq!(s, StatusCode::OK);
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                g["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect()
            })
            .collect()
    }

    async fn related(&self, id: &str) -> Value {
        let (s, v) = self
            .get(&format!("/api/v1/recommendations/{id}/related"))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v
    }
}

fn pair<'a>(pairs: &'a [Value], a: &str, b: &str) -> Option<&'a Value> {
    let mut want = [a.to_string(), b.to_string()];
    want.sort();
    pairs.iter().find(|p| p["ids"] == json!(want))
}

fn ids_in(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn oversight_lists_decisions_and_the_record_page() {
    let w = world().await;

    // Every suspected contradiction, with score and reason, not yet decided.
    let pairs = w.contradictions().await;
    let p = pair(&pairs, &w.ct1, &w.ct8).unwrap_or_else(|| panic!("{pairs:?}"));
    assert_eq!(p["state"], "suggested");
    assert!(p["score"].as_f64().unwrap() > 0.5, "{p}");
    let reason = p["reason"].as_str().unwrap();
    assert!(reason.contains("hour"), "{reason}");
    assert!(pair(&pairs, &w.ct1, &w.other).is_none());

    // Groups of duplicates, as `concord duplicates --json`.
    let groups = w.groups().await;
    let mut sep = vec![w.sep_a.clone(), w.sep_b.clone()];
    sep.sort();
    assert!(groups.contains(&sep), "{groups:?}");

    // On each record: also said by (another issuer's duplicate) and
    // contradicted by, with ids, issuers, titles, scores, reasons, state.
    let r = w.related(&w.sep_a).await;
    assert_eq!(ids_in(&r["also_said_by"]), vec![w.sep_b.clone()], "{r}");
    let item = &r["also_said_by"][0];
    assert_eq!(item["issuer"], "NHSE");
    assert_eq!(item["title"], "NHSE recommendation");
    assert_eq!(item["kind"], "duplicates");
    assert_eq!(item["state"], "suggested");
    assert!(item["score"].as_f64().unwrap() > 0.35);
    assert!(
        item["reason"].as_str().unwrap().contains("sepsis"),
        "{item}"
    );
    let r = w.related(&w.ct1).await;
    assert_eq!(ids_in(&r["contradicted_by"]), vec![w.ct8.clone()], "{r}");
    assert_eq!(r["contradicted_by"][0]["issuer"], "CQC");

    // The page shows both sections, escaped, linking to the other record.
    let html = w.page(&format!("/recommendations/{}", w.ct1)).await;
    assert!(html.contains("<h2>Contradicted by</h2>"), "{html}");
    assert!(html.contains(&format!("href=\"/recommendations/{}\"", w.ct8)));
    assert!(html.contains("suggested"));
    assert!(only_our_scripts(&html));
    let html = w.page(&format!("/recommendations/{}", w.sep_a)).await;
    assert!(html.contains("<h2>Also said by</h2>"), "{html}");
    assert!(html.contains(&format!("href=\"/recommendations/{}\"", w.sep_b)));

    // Bad input: who may decide, then what.
    let nice = w.app.token("NICE").await;
    let cqc = w.app.token("CQC").await;
    let nhse = w.app.token("NHSE").await;
    let confirm = json!({"state": "confirmed"});
    let (s, _) = w.decide(&w.ct1, &w.ct8, None, confirm.clone()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, v) = w.decide(&w.ct1, &w.ct8, Some(&cqc), confirm.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = w
        .decide("NICE-2099-0001", &w.ct8, Some(&nice), confirm.clone())
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (s, v) = w
        .decide(&w.ct1, "CQC-2099-0009", Some(&nice), confirm.clone())
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CQC-2099-0009")
    );
    // A pair the engine finds unrelated, with no link stored: nothing to decide.
    let (s, v) = w
        .decide(&w.ct1, &w.other, Some(&nice), confirm.clone())
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no suggested pair"),
        "{v}"
    );
    let (s, v) = w
        .decide(&w.ct1, &w.ct8, Some(&nice), json!({"state": "maybe"}))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("state"));
    let (s, v) = w.decide(&w.ct1, &w.ct1, Some(&nice), confirm.clone()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (s, v) = w
        .decide(&w.ct1, "nonsense", Some(&nice), confirm.clone())
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("target"));
    let (s, _) = w
        .get("/api/v1/recommendations/NICE-2099-0001/related")
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = w.get("/api/v1/recommendations/not-an-id/related").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Nothing was stored by the refused requests.
    assert_eq!(
        pair(&w.contradictions().await, &w.ct1, &w.ct8).unwrap()["state"],
        "suggested"
    );

    // The issuer confirms: stored as a confirmed contradicts link, marked so.
    let (s, rec) = w.decide(&w.ct1, &w.ct8, Some(&nice), confirm.clone()).await;
    assert_eq!(s, StatusCode::OK, "{rec}");
    let link = rec["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["target"] == w.ct8.as_str())
        .unwrap();
    assert_eq!(link["kind"], "contradicts");
    assert_eq!(link["state"], "confirmed");
    assert!(link["asserted_by"].as_str().unwrap().starts_with("NICE"));
    let pairs = w.contradictions().await;
    assert_eq!(pair(&pairs, &w.ct1, &w.ct8).unwrap()["state"], "confirmed");
    // Seen from the other side too (the link is on the first record).
    let r = w.related(&w.ct8).await;
    assert_eq!(ids_in(&r["contradicted_by"]), vec![w.ct1.clone()], "{r}");
    assert_eq!(r["contradicted_by"][0]["state"], "confirmed");

    // NHSE dismisses the engine's duplicate pair: it never comes back, from
    // either side, in the groups, on the record or on the page.
    let (s, rec) = w
        .decide(
            &w.sep_b,
            &w.sep_a,
            Some(&nhse),
            json!({"state": "dismissed"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rec}");
    assert!(!w.groups().await.contains(&sep));
    let r = w.related(&w.sep_a).await;
    for list in ["also_said_by", "contradicted_by", "related"] {
        assert!(!ids_in(&r[list]).contains(&w.sep_b), "{r}");
    }
    let r = w.related(&w.sep_b).await;
    for list in ["also_said_by", "contradicted_by", "related"] {
        assert!(!ids_in(&r[list]).contains(&w.sep_a), "{r}");
    }
    let html = w.page(&format!("/recommendations/{}", w.sep_a)).await;
    assert!(!html.contains(&format!("href=\"/recommendations/{}\"", w.sep_b)));

    // CQC dismisses the contradiction from its side: a dismissal wins.
    let (s, _) = w
        .decide(&w.ct8, &w.ct1, Some(&cqc), json!({"state": "dismissed"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(pair(&w.contradictions().await, &w.ct1, &w.ct8).is_none());
    let r = w.related(&w.ct1).await;
    assert!(ids_in(&r["contradicted_by"]).is_empty(), "{r}");
}

/// The engine's contradictions are kept between changes (finding them is
/// slow on a large register), so the list must follow each change.
#[tokio::test]
async fn the_contradictions_list_follows_the_register() {
    let w = world().await;
    let before = w.contradictions().await;
    assert!(pair(&before, &w.ct1, &w.ct8).is_some(), "{before:?}");
    // Asked again with no change: the same list.
    assert_eq!(w.contradictions().await, before);

    // A third body says the opposite of CT_1H: a new pair appears.
    let ct24 = w
        .app
        .services
        .as_principal(operator())
        .create_draft(
            concord_app::NewRecord::from_json(json!({"issuer": "HSSIB", "status": "published",
            "published": "2024-04-01", "title": "HSSIB imaging",
            "text": CT_8H.replace("8 hours", "24 hours"),
            "override_gate": "test data"}))
            .unwrap(),
        )
        .await
        .unwrap()
        .id
        .to_string();
    let after = w.contradictions().await;
    assert!(pair(&after, &w.ct1, &ct24).is_some(), "{after:?}");

    // The original contradicting record is rewritten to agree: its pair goes.
    let id = concord_domain::RecommendationId::parse(&w.ct8).unwrap();
    let ops = w.app.services.as_principal(operator());
    let version = ops.recommendation(&id).await.unwrap().version;
    ops.edit(
        &id,
        concord_app::RecordEdit::from_json(json!({"version": version, "text": OTHER})).unwrap(),
    )
    .await
    .unwrap();
    let last = w.contradictions().await;
    assert!(pair(&last, &w.ct1, &w.ct8).is_none(), "{last:?}");
    assert!(pair(&last, &w.ct1, &ct24).is_some(), "{last:?}");
}
