//! The Atom feeds through the real server: they parse as XML, hold the
//! expected entries newest first, escape what the register holds, never show
//! a draft, and answer 404 for what does not exist.

use crate::common;

use common::*;

use concord_app::{FEED_ENTRIES, ImportOptions};
use concord_domain::RecommendationId;
use concord_domain::lifecycle::Move;
use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What a test reads from a feed.
#[derive(Debug, Default)]
struct Atom {
    id: String,
    title: String,
    updated: String,
    self_link: String,
    entries: Vec<Entry>,
}

#[derive(Debug, Default, Clone)]
struct Entry {
    id: String,
    title: String,
    updated: String,
    link: String,
    author: String,
    category: String,
    summary: String,
}

/// Parses an Atom document strictly (end tags must match, every entity
/// reference must be XML's own); panics when it is not well-formed.
fn parse(doc: &str) -> Atom {
    let mut r = Reader::from_str(doc);
    r.config_mut().check_end_names = true;
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut feed = Atom::default();
    let mut entry: Option<Entry> = None;
    let mut roots = 0;
    loop {
        let ev = r
            .read_event()
            .unwrap_or_else(|e| panic!("not XML: {e}\n{doc}"));
        match ev {
            Event::Start(e) | Event::Empty(e) if path.is_empty() => {
                assert_eq!(e.name().as_ref(), "feed");
                let ns = e
                    .try_get_attribute("xmlns")
                    .unwrap()
                    .expect("Atom namespace")
                    .normalized_value(XmlVersion::Implicit1_0)
                    .unwrap()
                    .to_string();
                assert_eq!(ns, "http://www.w3.org/2005/Atom");
                roots += 1;
                path.push("feed".into());
            }
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == "entry" {
                    entry = Some(Entry::default());
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(e) => {
                let name = e.name().as_ref().to_string();
                let attr = |k: &str| {
                    e.try_get_attribute(k)
                        .unwrap()
                        .map(|a| {
                            a.normalized_value(XmlVersion::Implicit1_0)
                                .unwrap()
                                .to_string()
                        })
                        .unwrap_or_default()
                };
                match (name.as_str(), entry.as_mut()) {
                    ("link", Some(en)) if attr("rel") == "alternate" => en.link = attr("href"),
                    ("category", Some(en)) => en.category = attr("term"),
                    ("link", None) if attr("rel") == "self" => {
                        assert_eq!(attr("type"), "application/atom+xml");
                        feed.self_link = attr("href");
                    }
                    _ => {}
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(g) => match g.resolve_char_ref().unwrap() {
                Some(c) => text.push(c),
                None => text.push(match g.as_ref() {
                    "amp" => '&',
                    "lt" => '<',
                    "gt" => '>',
                    "quot" => '"',
                    "apos" => '\'',
                    other => panic!("undefined entity &{};", other),
                }),
            },
            Event::CData(_) => panic!("the feeds write no CDATA"),
            Event::End(_) => {
                let name = path.pop().expect("balanced");
                let parent = path.last().map(String::as_str);
                let value = std::mem::take(&mut text);
                match (parent, name.as_str()) {
                    (Some("feed"), "entry") => feed.entries.push(entry.take().unwrap()),
                    (Some("feed"), "id") => feed.id = value,
                    (Some("feed"), "title") => feed.title = value,
                    (Some("feed"), "updated") => feed.updated = value,
                    (Some("entry"), field) => {
                        let en = entry.as_mut().unwrap();
                        match field {
                            "id" => en.id = value,
                            "title" => en.title = value,
                            "updated" => en.updated = value,
                            "summary" => en.summary = value,
                            _ => {}
                        }
                    }
                    (Some("author"), "name") if path.len() == 3 => {
                        entry.as_mut().unwrap().author = value
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty(), "unclosed elements: {path:?}");
    assert_eq!(roots, 1, "one root element");
    assert!(!feed.id.is_empty() && !feed.title.is_empty() && !feed.updated.is_empty());
    for e in &feed.entries {
        assert!(e.id.starts_with("tag:concord,2025:"), "{e:?}");
        assert!(!e.title.is_empty() && !e.updated.is_empty() && !e.author.is_empty());
        chrono::DateTime::parse_from_rfc3339(&e.updated).expect("RFC 3339 updated");
    }
    feed
}

impl TestApp {
    async fn seed_id(&self, body: Value) -> String {
        self.services
            .as_principal(operator())
            .create_draft(concord_app::NewRecord::from_json(body).unwrap())
            .await
            .expect("seed a record")
            .id
            .to_string()
    }

    /// Edits as an operator; `f` changes the record's JSON.
    async fn change(&self, id: &str, f: impl FnOnce(&mut Value)) {
        let auth = self.services.as_principal(operator());
        let rec = auth
            .recommendation(&RecommendationId::parse(id).unwrap())
            .await
            .unwrap();
        let mut v = serde_json::to_value(&rec).unwrap();
        f(&mut v);
        let mut body = json!({"version": rec.version});
        for k in ["status", "addressees", "title"] {
            body[k] = v[k].clone();
        }
        auth.edit(&rec.id, concord_app::RecordEdit::from_json(body).unwrap())
            .await
            .expect("edit");
    }

    /// A lifecycle move on the addressee NHSE, as an operator.
    async fn make_move(&self, id: &str, mv: Value) {
        let mv: Move = serde_json::from_value(mv).unwrap();
        self.services
            .as_principal(operator())
            .apply_move(&RecommendationId::parse(id).unwrap(), "NHSE", &mv)
            .await
            .expect("move");
    }

    async fn feed(&self, path: &str) -> (Atom, String) {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/atom+xml; charset=utf-8"
        );
        let doc = res.text().await.unwrap();
        (parse(&doc), doc)
    }

    async fn not_found(&self, path: &str) -> String {
        let res = self.client.get(self.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        res.text().await.unwrap()
    }
}

fn record(issuer: &str, title: &str, status: &str) -> Value {
    json!({
        "issuer": issuer,
        "title": title,
        "text": format!("{title}: the text & <em>more</em>."),
        "status": status,
        "published": "2024-09-16",
        "addressees": [{"name": "NHS England", "org": "NHSE", "status": "awaiting_response"}],
        "themes": ["Sepsis"],
    })
}

fn titles(feed: &Atom) -> Vec<&str> {
    feed.entries.iter().map(|e| e.title.as_str()).collect()
}

#[tokio::test]
async fn feeds_tell_publications_responses_and_status_changes_newest_first() {
    let app = spawn_app().await;
    let a = app
        .seed_id(record(
            "HSSIB",
            "Sepsis <script>alert(1)</script> & screening",
            "published",
        ))
        .await;
    let d = app
        .seed_id(record("HSSIB", "Not yet public", "draft"))
        .await;
    app.change(&d, |v| v["title"] = json!("Still a draft"))
        .await;
    app.make_move(
        &a,
        json!({"move": "respond", "acceptance": "accepted", "respondent": "NHS England",
               "text": "We accept & will act <b>now</b>."}),
    )
    .await;
    // A wording change only: nothing to tell.
    app.change(&a, |v| {
        v["title"] = json!("Sepsis <script>alert(1)</script> & screening (v2)")
    })
    .await;
    app.change(&d, |v| v["status"] = json!("published")).await;
    app.make_move(
        &a,
        json!({"move": "assess", "verdict": "satisfactory_intent", "comment": "Good."}),
    )
    .await;
    app.make_move(
        &a,
        json!({"move": "close", "reason": "implemented", "note": "Done & dusted."}),
    )
    .await;

    let (all, raw) = app.feed("/feeds/recommendations.atom").await;
    assert_eq!(
        titles(&all),
        [
            format!("HSSIB closed {a} for NHS England: implemented"),
            format!("HSSIB assessed NHS England's response to {a}: satisfactory intent"),
            format!("HSSIB published {d}: Still a draft"),
            format!("NHS England responded to {a}: accepted"),
            format!("HSSIB published {a}: Sepsis <script>alert(1)</script> & screening"),
        ]
    );
    // Escaped on the wire, never raw markup.
    assert!(!raw.contains("<script>") && !raw.contains("<b>"), "{raw}");
    assert!(raw.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; screening"));
    assert_eq!(all.updated, all.entries[0].updated);
    assert!(all.entries.windows(2).all(|w| w[0].updated >= w[1].updated));
    assert!(all.self_link.ends_with("/feeds/recommendations.atom"));
    assert_eq!(
        all.entries[0].summary,
        format!("Done & dusted. {a} is now closed.")
    );
    assert_eq!(all.entries[0].category, "status");
    let resp = &all.entries[3];
    assert_eq!(resp.link, app.url(&format!("/recommendations/{a}")));
    assert_eq!(resp.author, "NHS England");
    assert_eq!(resp.category, "response");
    assert_eq!(resp.summary, "We accept & will act <b>now</b>.");
    let published = &all.entries[4];
    assert_eq!(published.category, "published");
    assert_ne!(published.author, "HSSIB", "the issuer's name, not its code");
    // Ids are unique and stable from one read to the next.
    let again = app.feed("/feeds/recommendations.atom").await.0;
    let ids: Vec<_> = all.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(
        ids,
        again
            .entries
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        ids.iter().collect::<std::collections::HashSet<_>>().len(),
        ids.len()
    );

    // The organisation it is addressed to, in any case; the issuer too.
    for org in ["NHSE", "nhse", "HSSIB"] {
        let (f, _) = app.feed(&format!("/feeds/organisations/{org}.atom")).await;
        assert_eq!(titles(&f), titles(&all), "{org}");
        assert!(f.title.contains(&org.to_uppercase()), "{}", f.title);
    }
    // An organisation with nothing yet: an empty, valid feed.
    let (cqc, _) = app.feed("/feeds/organisations/CQC.atom").await;
    assert!(cqc.entries.is_empty());
    assert_eq!(cqc.updated, "1970-01-01T00:00:00Z");

    // A theme, matched whatever its case.
    let (theme, _) = app.feed("/feeds/themes/SEPSIS.atom").await;
    assert_eq!(titles(&theme), titles(&all));
    assert!(
        app.feed("/feeds/themes/falls.atom")
            .await
            .0
            .entries
            .is_empty()
    );

    // One record's history: only its own entries.
    let (one, _) = app.feed(&format!("/feeds/recommendations/{a}.atom")).await;
    assert_eq!(
        titles(&one),
        [
            titles(&all)[0],
            titles(&all)[1],
            titles(&all)[3],
            titles(&all)[4]
        ]
    );
    assert!(one.title.contains(&a));
}

#[tokio::test]
async fn drafts_never_appear_and_unknowns_are_404() {
    let app = spawn_app().await;
    let d = app.seed_id(record("HSSIB", "Secret draft", "draft")).await;
    let (all, _) = app.feed("/feeds/recommendations.atom").await;
    assert!(all.entries.is_empty(), "{all:?}");
    assert!(
        app.feed("/feeds/themes/sepsis.atom")
            .await
            .0
            .entries
            .is_empty()
    );
    assert!(
        app.feed("/feeds/organisations/HSSIB.atom")
            .await
            .0
            .entries
            .is_empty()
    );

    let page = app
        .not_found(&format!("/feeds/recommendations/{d}.atom"))
        .await;
    assert!(
        page.contains(&format!("recommendation {d} was not found")),
        "{page}"
    );
    let page = app
        .not_found("/feeds/recommendations/HSSIB-2024-9999.atom")
        .await;
    assert!(page.contains("recommendation HSSIB-2024-9999 was not found"));
    app.not_found("/feeds/recommendations/not-an-id.atom").await;
    let page = app.not_found("/feeds/organisations/NOPE.atom").await;
    assert!(page.contains("organisation NOPE was not found"), "{page}");
    // What the address holds comes back escaped.
    let page = app
        .not_found("/feeds/organisations/%3Cscript%3Ealert(1)%3C%2Fscript%3E.atom")
        .await;
    assert!(!page.contains("<script>alert"), "{page}");
    // Not a feed address.
    let page = app.not_found("/feeds/organisations/NHSE").await;
    assert!(page.contains(".atom"), "{page}");
    app.not_found("/feeds/themes/.atom").await;
    let long = "x".repeat(300);
    let res = app
        .client
        .get(app.url(&format!("/feeds/themes/{long}.atom")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_feed_holds_the_newest_fifty() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            app.seed_id(record("HSSIB", &format!("Record {i}"), "published"))
                .await,
        );
    }
    for id in &ids {
        app.make_move(
            id,
            json!({"move": "respond", "acceptance": "partly_accepted", "text": "Noted."}),
        )
        .await;
    }
    let (all, _) = app.feed("/feeds/recommendations.atom").await;
    assert_eq!(all.entries.len(), FEED_ENTRIES);
    // The 30 responses (newest first), then the newest 20 publications.
    assert_eq!(
        all.entries[0].title,
        format!("NHS England responded to {}: partly accepted", ids[29])
    );
    assert_eq!(
        all.entries[29].title,
        format!("NHS England responded to {}: partly accepted", ids[0])
    );
    assert_eq!(
        all.entries[30].title,
        format!("HSSIB published {}: Record 29", ids[29])
    );
    assert_eq!(
        all.entries[49].title,
        format!("HSSIB published {}: Record 10", ids[10])
    );
}

#[tokio::test]
async fn imported_records_appear_with_their_replies() {
    let app = spawn_app().await;
    let src = app.seed_id(record("HSSIB", "Template", "published")).await;
    let rec = app
        .services
        .as_principal(operator())
        .recommendation(&RecommendationId::parse(&src).unwrap())
        .await
        .unwrap();
    let mut v = serde_json::to_value(&rec).unwrap();
    v["id"] = json!("HSSIB-2023-0123");
    v["title"] = json!("Imported & replied");
    v["addressees"][0]["responses"] =
        json!([{"received": null, "respondent": "NHS England", "text": null}]);
    v["addressees"][0]["status"] = json!("response_received");
    let file = app.dir.path().join("in.json");
    std::fs::write(&file, serde_json::to_string(&json!([v])).unwrap()).unwrap();
    let report = app
        .services
        .as_principal(operator())
        .operator()
        .unwrap()
        .import(&[file], &ImportOptions::default(), &|_| {})
        .await
        .expect("import");
    assert_eq!(report.imported, 1, "{report:?}");

    let (one, _) = app
        .feed("/feeds/recommendations/HSSIB-2023-0123.atom")
        .await;
    assert_eq!(
        titles(&one),
        [
            "NHS England responded to HSSIB-2023-0123",
            "HSSIB published HSSIB-2023-0123: Imported & replied",
        ]
    );
    assert_eq!(
        one.entries[0].summary,
        "Response received (date not given)."
    );
}

#[tokio::test]
async fn pages_name_and_link_their_feeds() {
    let app = spawn_app().await;
    let a = app.seed_id(record("HSSIB", "Followed", "published")).await;
    let home = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains(
        "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"/feeds/recommendations.atom\""
    ));
    assert!(home.contains("Follow (Atom feed)"));
    let page = app
        .client
        .get(app.url(&format!("/recommendations/{a}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let feed = format!("/feeds/recommendations/{a}.atom");
    assert!(page.contains(&format!(
        "<link rel=\"alternate\" type=\"application/atom+xml\" href=\"{feed}\""
    )));
    assert!(page.contains(&format!(
        "<a href=\"{feed}\" type=\"application/atom+xml\">Follow (Atom feed)</a>"
    )));
    app.feed(&feed).await;
}

#[tokio::test]
async fn a_providers_priority_list_is_a_feed_in_rank_order() {
    let app = spawn_app().await;
    app.services
        .as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .unwrap();
    let list: Value = app
        .client
        .get(app.url("/api/v1/organisations/NMTH/priorities?limit=50"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = list["items"].as_array().unwrap();
    assert!(items.len() >= 5, "{list}");
    let (feed, _) = app.feed("/feeds/organisations/NMTH/priorities.atom").await;
    assert!(feed.title.contains("priorities") && feed.title.contains("NMTH"));
    assert!(
        feed.self_link
            .ends_with("/feeds/organisations/NMTH/priorities.atom")
    );
    // The same items, in the same order, each saying where and why.
    assert_eq!(feed.entries.len(), items.len());
    for (rank, (entry, item)) in feed.entries.iter().zip(items).enumerate() {
        let lead = item["ids"][0].as_str().unwrap();
        assert!(
            entry.title.starts_with(&format!("{}. {lead}: ", rank + 1)),
            "{entry:?}"
        );
        assert_eq!(entry.category, "priority");
        assert!(entry.link.ends_with(&format!("/recommendations/{lead}")));
        let first_reason = item["why"][0].as_str().unwrap();
        assert!(entry.summary.contains(first_reason), "{entry:?}");
        assert_eq!(
            entry.id,
            format!("tag:concord,2025:organisations/NMTH/priorities/{lead}")
        );
    }
    // The feed's date is its newest entry's.
    let newest = feed
        .entries
        .iter()
        .map(|e| e.updated.as_str())
        .max()
        .unwrap();
    assert_eq!(feed.updated, newest);

    app.not_found("/feeds/organisations/NOPE/priorities.atom")
        .await;
    // An organisation that is not a provider has no priority list.
    let res = app
        .client
        .get(app.url("/feeds/organisations/NHSE/priorities.atom"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("provider"));
}
