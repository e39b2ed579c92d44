//! The search index against a real SQLite database in a temporary folder:
//! analysis, synonyms, typos, phrases, filters, facets, draft visibility,
//! the outbox indexer (idempotent, restartable, one writer) and odd input.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use concord_domain::{
    Actor, IdRequest, NewRecommendation, OrgCode, RecommendationData, RecommendationId,
    seed_organisations,
};
use concord_search::{
    DraftVisibility, RecommendationFilter, SearchError, SearchIndex, SearchRequest, SearchResults,
    Sort,
};
use concord_store::Store;
use serde_json::{Value, json};
use tempfile::TempDir;

struct Fixture {
    dir: TempDir,
    store: Arc<dyn Store>,
    index: SearchIndex,
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap()
}

fn new_rec(body: Value) -> NewRecommendation {
    let data: RecommendationData = serde_json::from_value(body).expect("record data");
    let year = data
        .published
        .map(|d| chrono::Datelike::year(&d))
        .unwrap_or(2025) as u16;
    NewRecommendation {
        provenance: Default::default(),
        id: IdRequest::Allocate {
            issuer: data.issuer.clone(),
            year,
            floor: 1,
        },
        data,
        import_key: None,
        version: None,
        created_at: None,
        updated_at: None,
    }
}

fn body(issuer: &str, title: &str, text: &str, published: &str, extra: Value) -> Value {
    let mut b = json!({
        "kind": "recommendation", "issuer": issuer, "title": title, "text": text,
        "published": published, "status": "published",
    });
    if let (Value::Object(b), Value::Object(e)) = (&mut b, extra) {
        b.extend(e);
    }
    b
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store = concord_store::open(&url).await.expect("open the store");
    let actor = Actor::system("test");
    for org in seed_organisations() {
        store.add_organisation(&actor, &org).await.unwrap();
    }
    let records = vec![
        body(
            "HSSIB",
            "Ambulance handover delays at emergency departments",
            "NHS England should set a maximum time for handing over patients from ambulance crews to emergency department staff, because long waits outside hospitals harmed patients.",
            "2024-03-01",
            json!({"themes": ["Handover"], "settings": ["Ambulance"],
               "addressees": [{"name": "NHS England", "org": "NHSE", "status": "awaiting_response"}]}),
        ),
        body(
            "HSSIB",
            "Recognising sepsis in adults",
            "Trusts should give antibiotics within one hour when sepsis is suspected and escalate using NEWS2.",
            "2023-06-10",
            json!({"themes": ["Sepsis"], "settings": ["Acute"]}),
        ),
        body(
            "CQC",
            "Postpartum haemorrhage on labour wards",
            "Maternity units should measure blood loss after birth so that postpartum haemorrhage is recognised early.",
            "2022-11-20",
            json!({"themes": ["Maternity"], "settings": ["Acute"]}),
        ),
        body(
            "CQC",
            "Discharge of older people",
            "Patients were discharged at night without a care plan; the discharge team should check support at home.",
            "2021-02-02",
            json!({"themes": ["Discharge"], "settings": ["Community"]}),
        ),
        body(
            "MHRA",
            "Child and adolescent mental health services waiting lists",
            "Integrated care boards should publish waiting times for CAMHS and review children waiting more than 18 weeks.",
            "2024-09-09",
            json!({"themes": ["Mental health"], "settings": ["Mental health"]}),
        ),
        body(
            "HSSIB",
            "Draft: the <script> safety of oxygen cylinders",
            "A draft about oxygen cylinders & fire risk in A&E.",
            "2024-10-01",
            json!({"status": "draft"}),
        ),
    ];
    store
        .import(
            &actor,
            &[],
            records.into_iter().map(new_rec).collect(),
            vec![],
            now(),
            &|_| {},
        )
        .await
        .expect("import");
    let index = SearchIndex::open(&dir.path().join("t.index")).expect("open the index");
    let c = index.catch_up(store.as_ref()).await.expect("catch up");
    assert!(c.rebuilt, "a new index is built from a scan");
    Fixture { dir, store, index }
}

/// Imports one more record (applied to the index by the next catch-up).
async fn add(f: &Fixture, body: Value) {
    f.store
        .import(
            &Actor::system("t"),
            &[],
            vec![new_rec(body)],
            vec![],
            now(),
            &|_| {},
        )
        .await
        .unwrap();
}

fn req(q: &str) -> SearchRequest {
    SearchRequest {
        query: q.into(),
        filter: RecommendationFilter {
            drafts: DraftVisibility::None,
            ..Default::default()
        },
        offset: 0,
        limit: 10,
        sort: Sort::Relevance,
    }
}

fn titles(r: &SearchResults) -> Vec<String> {
    r.hits.iter().map(|h| h.title.clone()).collect()
}

fn search(f: &Fixture, q: &str) -> SearchResults {
    f.index
        .search(&req(q))
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

fn first_title(f: &Fixture, q: &str) -> String {
    titles(&search(f, q))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{q}: no hits"))
}

#[tokio::test]
async fn finds_by_word_forms_synonyms_abbreviations_and_typos() {
    let f = fixture().await;
    assert!(first_title(&f, "ambulance handover delays").starts_with("Ambulance handover"));
    // Stemming: discharged / discharge.
    assert_eq!(first_title(&f, "discharging"), "Discharge of older people");
    // British / American spelling.
    assert_eq!(
        first_title(&f, "hemorrhage"),
        "Postpartum haemorrhage on labour wards"
    );
    // Abbreviation to long form and back.
    assert_eq!(
        first_title(&f, "PPH"),
        "Postpartum haemorrhage on labour wards"
    );
    assert!(first_title(&f, "A&E handover").starts_with("Ambulance handover"));
    assert!(first_title(&f, "accident and emergency").starts_with("Ambulance handover"));
    assert!(first_title(&f, "CAMHS").starts_with("Child and adolescent"));
    assert!(first_title(&f, "ICB waiting").starts_with("Child and adolescent"));
    assert_eq!(
        first_title(&f, "national early warning score"),
        "Recognising sepsis in adults"
    );
    // One typo in a longer word.
    assert_eq!(
        first_title(&f, "antibiotcs"),
        "Recognising sepsis in adults"
    );
    // Accents and case folded.
    assert_eq!(first_title(&f, "SÉPSIS"), "Recognising sepsis in adults");
}

#[tokio::test]
async fn phrases_exclusions_and_highlights() {
    let f = fixture().await;
    let r = search(&f, "\"within one hour\"");
    assert_eq!(titles(&r), ["Recognising sepsis in adults"]);
    assert!(search(&f, "\"one within hour\"").hits.is_empty());
    // Two-word phrases are matched through the word-pair fields: order and
    // the gap left by dropped common words ("from") both count.
    assert_eq!(
        titles(&search(&f, "\"antibiotics within\"")),
        ["Recognising sepsis in adults"]
    );
    assert!(search(&f, "\"within antibiotics\"").hits.is_empty());
    let r = search(&f, "\"patients from ambulance\"");
    assert_eq!(
        titles(&r),
        ["Ambulance handover delays at emergency departments"]
    );
    assert!(search(&f, "\"patients ambulance\"").hits.is_empty());
    // Nor across fields (the theme "Handover", the setting "Ambulance").
    assert!(search(&f, "\"handover ambulance\"").hits.is_empty());
    // The phrase's words are still highlighted.
    let r = search(&f, "\"emergency department\"");
    assert!(
        r.hits[0].snippet.contains("<mark>emergency</mark>"),
        "{}",
        r.hits[0].snippet
    );
    let r = search(&f, "patients -ambulance");
    assert!(
        !titles(&r).iter().any(|t| t.contains("Ambulance")),
        "{:?}",
        titles(&r)
    );
    assert!(r.total >= 1);
    let r = search(&f, "antibiotics");
    assert!(
        r.hits[0].snippet.contains("<mark>antibiotics</mark>"),
        "{}",
        r.hits[0].snippet
    );
    // Title weighs more than text: "sepsis" in the title beats a mention elsewhere.
    assert_eq!(first_title(&f, "sepsis"), "Recognising sepsis in adults");
}

#[tokio::test]
async fn filters_facets_paging_and_sort() {
    let f = fixture().await;
    let mut r = req("");
    r.filter.issuer = Some(OrgCode::parse("CQC").unwrap());
    let res = f.index.search(&r).unwrap();
    assert_eq!(res.total, 2);
    assert!(res.hits.iter().all(|h| h.id.starts_with("CQC-")));
    assert_eq!(res.facets["issuer"].get("CQC"), Some(&2));

    let all = search(&f, "");
    assert_eq!(all.facets["issuer"]["HSSIB"], 2, "the draft is not counted");
    assert_eq!(all.facets["theme"]["sepsis"], 1);
    assert_eq!(all.facets["year"]["2024"], 2);
    assert_eq!(all.facets["addressee"]["NHSE"], 1);
    assert_eq!(all.facets["status"]["published"], all.total);
    assert!(all.facets.contains_key("kind") && all.facets.contains_key("setting"));

    let mut r = req("");
    r.filter.theme = Some("MATERNITY ".into());
    assert_eq!(
        titles(&f.index.search(&r).unwrap()),
        ["Postpartum haemorrhage on labour wards"]
    );
    let mut r = req("");
    r.filter.addressee = Some("nhs england".into());
    assert_eq!(f.index.search(&r).unwrap().total, 1);
    let mut r = req("");
    r.filter.from = chrono::NaiveDate::from_ymd_opt(2023, 1, 1);
    r.filter.to = chrono::NaiveDate::from_ymd_opt(2024, 3, 1);
    assert_eq!(f.index.search(&r).unwrap().total, 2);

    let mut r = req("patients");
    r.sort = Sort::Newest;
    r.limit = 1;
    let newest = f.index.search(&r).unwrap();
    assert_eq!(newest.total, 2);
    assert_eq!(
        titles(&newest),
        ["Ambulance handover delays at emergency departments"]
    );
    assert!(newest.hits.iter().all(|h| h.score > 0.0));
    r.offset = 1;
    let page2 = f.index.search(&r).unwrap();
    assert_eq!(titles(&page2), ["Discharge of older people"]);
    assert!(page2.hits.iter().all(|h| !newest.hits.contains(h)));
}

#[tokio::test]
async fn drafts_are_found_only_by_those_who_may_see_them() {
    let f = fixture().await;
    let q = |drafts| {
        let mut r = req("oxygen cylinders");
        r.filter.drafts = drafts;
        f.index.search(&r).unwrap().total
    };
    assert_eq!(q(DraftVisibility::None), 0);
    assert_eq!(
        q(DraftVisibility::OfIssuer(OrgCode::parse("CQC").unwrap())),
        0
    );
    assert_eq!(
        q(DraftVisibility::OfIssuer(OrgCode::parse("HSSIB").unwrap())),
        1
    );
    assert_eq!(q(DraftVisibility::All), 1);
    // Markup in a title comes back as it is stored; the snippet is escaped.
    let mut r = req("fire risk");
    r.filter.drafts = DraftVisibility::All;
    let hit = &f.index.search(&r).unwrap().hits[0];
    assert!(hit.snippet.contains("&amp;") && !hit.snippet.contains("<script>"));
}

#[tokio::test]
async fn the_outbox_keeps_the_index_in_step_idempotently_and_across_restarts() {
    let f = fixture().await;
    let seq0 = f.index.applied_seq().unwrap();
    assert!(seq0 > 0);
    let id = RecommendationId::parse(&search(&f, "CAMHS").hits[0].id).unwrap();
    let rec = f.store.get(&id).await.unwrap().unwrap();
    let mut data = rec.data.clone();
    data.text = "Commissioners should fund crisis lines for young people around the clock.".into();
    f.store
        .update(&Actor::system("t"), &id, rec.version, data, now())
        .await
        .unwrap();
    // Not yet applied.
    assert_eq!(search(&f, "crisis lines").total, 0);
    let c = f.index.catch_up(f.store.as_ref()).await.unwrap();
    assert_eq!((c.rows, c.docs, c.rebuilt), (1, 1, false));
    assert_eq!(search(&f, "crisis lines").total, 1);
    assert_eq!(
        search(&f, "\"review children waiting\"").total,
        0,
        "old text is gone"
    );
    // Applying again changes nothing: still one document for the record.
    assert_eq!(f.index.catch_up(f.store.as_ref()).await.unwrap().rows, 0);
    assert_eq!(f.index.doc_count(), 6);

    // A restart: the last applied row is remembered in the index itself.
    let seq = f.index.applied_seq().unwrap();
    assert_eq!(seq, c.seq);
    f.index.release_writer().await;
    let dir = f.dir.path().join("t.index");
    let reopened = SearchIndex::open(&dir).unwrap();
    assert_eq!(reopened.applied_seq().unwrap(), seq);
    add(
        &f,
        body(
            "CQC",
            "Falls in care homes",
            "Residents fell at night.",
            "2020-01-01",
            json!({}),
        ),
    )
    .await;
    let c = reopened.catch_up(f.store.as_ref()).await.unwrap();
    assert_eq!((c.rows, c.rebuilt), (1, false));
    assert_eq!(reopened.search(&req("falls")).unwrap().total, 1);
    assert_eq!(reopened.doc_count(), 7);

    // A rebuild gives the same documents.
    let n = reopened.rebuild(f.store.as_ref(), &|_| {}).await.unwrap();
    assert_eq!(n, 7);
    assert_eq!(reopened.doc_count(), 7);
    assert_eq!(reopened.search(&req("crisis lines")).unwrap().total, 1);
}

#[tokio::test]
async fn one_writer_per_index_other_processes_only_read() {
    let f = fixture().await;
    let dir = f.dir.path().join("t.index");
    let other = SearchIndex::open(&dir).unwrap();
    assert!(f.index.holds_writer().await);
    match other.catch_up(f.store.as_ref()).await {
        Err(SearchError::Busy(_)) => {}
        other => panic!("expected Busy, got {other:?}"),
    }
    assert!(!other.try_take_writer().await.unwrap());
    assert!(matches!(
        SearchIndex::destroy(&dir),
        Err(SearchError::Busy(_))
    ));
    // ... but it searches the writer's commits.
    assert_eq!(other.search(&req("PPH")).unwrap().total, 1);
    f.index.release_writer().await;
    assert!(other.try_take_writer().await.unwrap());
}

#[tokio::test]
async fn odd_queries_get_clear_answers() {
    let f = fixture().await;
    // Too long: refused with a reason.
    let long = "sepsis ".repeat(1500);
    match f.index.search(&req(&long)) {
        Err(SearchError::BadRequest(m)) => assert!(m.contains("limit is 1000"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Only common words: empty, with a note.
    let r = search(&f, "the and of");
    assert_eq!(r.total, 0);
    assert!(r.notes[0].contains("too common"));
    // Empty: everything visible, newest first.
    let r = search(&f, "   ");
    assert_eq!(r.total, 5);
    assert_eq!(
        titles(&r)[0],
        "Child and adolescent mental health services waiting lists"
    );
    // Unbalanced quote: read to the end.
    let r = search(&f, "\"postpartum haemorrhage");
    assert_eq!(r.total, 1);
    assert!(r.notes.iter().any(|n| n.contains("quote")));
    // Control characters are spaces.
    assert_eq!(search(&f, "sepsis\u{0}\u{1b}[31m\u{7}").total, 1);
    // SQL is just words here.
    let r = search(&f, "'; DROP TABLE recommendations; --");
    assert_eq!(r.total, 0);
    assert_eq!(f.index.doc_count(), 6);
    // Some words missing everywhere: best effort with the rest.
    let r = search(&f, "sepsis zxqwv");
    assert!(r.relaxed);
    assert_eq!(titles(&r)[0], "Recognising sepsis in adults");
    // Only exclusions.
    assert_eq!(search(&f, "-sepsis").total, 4);
    // Paging past the window is refused.
    let mut r = req("sepsis");
    r.offset = 20_000;
    assert!(matches!(
        f.index.search(&r),
        Err(SearchError::BadRequest(_))
    ));
}

#[tokio::test]
async fn an_index_in_several_segments_answers_as_one_and_a_fallback_counts_what_it_shows() {
    let f = fixture().await;
    // Two more records, each applied through the outbox in its own commit:
    // the index now has several segments, searched in parallel.
    for (title, text) in [
        (
            "Sepsis screening in care homes",
            "Care home staff should screen residents for sepsis and call for help early.",
        ),
        (
            "Night discharges from emergency departments",
            "Older people were discharged from the emergency department at night.",
        ),
    ] {
        add(&f, body("CQC", title, text, "2025-01-02", json!({}))).await;
        f.index.catch_up(f.store.as_ref()).await.unwrap();
    }
    let dir = f.dir.path().join("t.index");
    let segments = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "idx")
        })
        .count();
    assert!(segments > 1, "{segments} segment(s)");

    let queries = [
        "sepsis",
        "discharged at night",
        "\"emergency department\"",
        "",
    ];
    let mut before = Vec::new();
    for q in queries {
        let mut ids: Vec<String> = search(&f, q).hits.iter().map(|h| h.id.clone()).collect();
        ids.sort();
        let r = search(&f, q);
        before.push((r.total, r.facets.clone(), ids));
    }
    assert_eq!(before[0].0, 2, "sepsis: both the old and the new record");
    assert_eq!(before[0].1["issuer"]["CQC"], 1);
    assert_eq!(before[0].1["issuer"]["HSSIB"], 1);

    // Rebuilt from the database, the same answers.
    f.index.rebuild(f.store.as_ref(), &|_| {}).await.unwrap();
    for (q, b) in queries.iter().zip(&before) {
        let r = search(&f, q);
        let mut ids: Vec<String> = r.hits.iter().map(|h| h.id.clone()).collect();
        ids.sort();
        assert_eq!((r.total, r.facets.clone(), ids), b.clone(), "{q}");
    }

    // A fallback to any of the words counts facets over the records it
    // shows, in either order, and still scores them.
    for sort in [Sort::Relevance, Sort::Newest] {
        let mut r = req("sepsis zxqwv");
        r.sort = sort;
        let res = f.index.search(&r).unwrap();
        assert!(res.relaxed, "{sort:?}");
        assert_eq!(res.total, 2, "{sort:?}");
        assert_eq!(res.facets["status"]["published"], 2, "{sort:?}");
        assert!(res.hits.iter().all(|h| h.score > 0.0), "{sort:?}");
    }
}

#[tokio::test]
async fn the_boost_for_words_together_reorders_the_head_and_pages_stay_in_step() {
    let f = fixture().await;
    // 150 records with both words apart, one with them together: more than
    // the head that the boost reorders (100), so paging crosses its edge.
    // 40 short ones rank above it by BM25 alone, 110 longer ones below.
    let mut recs = Vec::new();
    for i in 0..150 {
        let issuer = if i % 3 == 0 { "CQC" } else { "HSSIB" };
        let text = if i < 40 {
            "Hand washing was audited; staff hygiene training was late."
        } else {
            "Hand washing was audited on the ward last spring; staff hygiene training was out of date for most of the nurses and porters."
        };
        recs.push(body(
            issuer,
            &format!("Ward audit {i}"),
            text,
            "2023-05-01",
            json!({"themes": ["Infection"]}),
        ));
    }
    recs.push(body(
        "NHSE",
        "Ward audit together",
        "Hand hygiene was audited on wards; staff washing training was late.",
        "2023-05-01",
        json!({"themes": ["Infection"]}),
    ));
    f.store
        .import(
            &Actor::system("t"),
            &[],
            recs.into_iter().map(new_rec).collect(),
            vec![],
            now(),
            &|_| {},
        )
        .await
        .unwrap();
    f.index.catch_up(f.store.as_ref()).await.unwrap();

    let mut all = req("hand hygiene");
    all.limit = 500;
    let r = f.index.search(&all).unwrap();
    assert_eq!(r.total, 151);
    assert_eq!(r.hits.len(), 151);
    assert_eq!(
        r.hits[0].title, "Ward audit together",
        "the boost still ranks it first"
    );
    assert!(
        r.hits.windows(2).all(|w| w[0].score >= w[1].score),
        "scores descend"
    );
    // Facets over every match.
    assert_eq!(r.facets["issuer"]["CQC"], 50);
    assert_eq!(r.facets["issuer"]["HSSIB"], 100);
    assert_eq!(r.facets["issuer"]["NHSE"], 1);
    assert_eq!(r.facets["theme"]["infection"], 151);
    assert_eq!(r.facets["year"]["2023"], 151);

    // Page by page: the same order, no record twice or missing.
    let mut paged = Vec::new();
    let mut page = req("hand hygiene");
    page.limit = 7;
    while paged.len() < 151 {
        let p = f.index.search(&page).unwrap();
        assert_eq!(p.total, 151);
        assert_eq!(p.facets, r.facets);
        assert!(!p.hits.is_empty());
        paged.extend(p.hits.into_iter().map(|h| (h.id, h.score)));
        page.offset += 7;
    }
    let one: Vec<(String, f32)> = r.hits.into_iter().map(|h| (h.id, h.score)).collect();
    assert_eq!(paged, one);

    // Sorted by date, the scores are those of the relevance order.
    let mut newest = req("hand hygiene");
    newest.sort = Sort::Newest;
    newest.limit = 500;
    let n = f.index.search(&newest).unwrap();
    let mut a: Vec<(String, f32)> = n.hits.into_iter().map(|h| (h.id, h.score)).collect();
    let mut b = one.clone();
    a.sort_by(|x, y| x.0.cmp(&y.0));
    b.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(a, b);
}

/// The database file deleted and made again under the same name, with the
/// index folder left beside it: the index is another database's, so it is
/// rebuilt rather than trusted (its outbox positions mean nothing here).
#[tokio::test]
async fn an_index_made_from_another_database_is_rebuilt_not_trusted() {
    let f = fixture().await;
    assert!(search(&f, "sepsis").total > 0);
    f.index.release_writer().await;
    let index_dir = f.dir.path().join("t.index");
    let other = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/other.db", other.path().display());
    let store = concord_store::open(&url).await.unwrap();
    let actor = Actor::system("test");
    for org in seed_organisations() {
        store.add_organisation(&actor, &org).await.unwrap();
    }
    // As many changes as the first database made, and more: by position
    // alone the old index would look caught up.
    let records: Vec<NewRecommendation> = (0..8)
        .map(|i| {
            new_rec(body(
                "CQC",
                &format!("Falls in care homes {i}"),
                "Residents fell at night.",
                "2020-01-01",
                json!({}),
            ))
        })
        .collect();
    store
        .import(&actor, &[], records, vec![], now(), &|_| {})
        .await
        .unwrap();
    let reopened = SearchIndex::open(&index_dir).unwrap();
    let c = reopened.catch_up(store.as_ref()).await.unwrap();
    assert!(c.rebuilt, "{c:?}");
    assert_eq!(reopened.doc_count(), 8);
    assert_eq!(reopened.search(&req("sepsis")).unwrap().total, 0);
    assert_eq!(reopened.search(&req("falls")).unwrap().total, 8);
    // Caught up again with the right database, it stays as it is.
    let again = reopened.catch_up(store.as_ref()).await.unwrap();
    assert_eq!((again.rows, again.rebuilt), (0, false));
}

/// The counts of a search are remembered per segment (so that a repeated
/// search does not visit every match again); they must follow every change:
/// an edit deletes a document in an old segment, an import adds a segment.
#[tokio::test]
async fn remembered_counts_follow_edits_and_new_records() {
    let f = fixture().await;
    let counts = |q: &str, sort: Sort| {
        let mut r = req(q);
        r.sort = sort;
        let res = f.index.search(&r).unwrap();
        (res.total, res.facets)
    };
    for sort in [Sort::Relevance, Sort::Newest] {
        assert_eq!(counts("acute", sort).0, 2, "{sort:?}");
        assert_eq!(counts("acute", sort), counts("acute", sort), "{sort:?}");
    }
    let (_, before) = counts("", Sort::Newest);
    assert_eq!(before["theme"]["sepsis"], 1);

    // The sepsis record moves from acute to community care, with another theme.
    let id = RecommendationId::parse(&search(&f, "NEWS2").hits[0].id).unwrap();
    let rec = f.store.get(&id).await.unwrap().unwrap();
    let mut data = rec.data.clone();
    data.settings = vec!["Community".into()];
    data.themes = vec!["Deterioration".into()];
    f.store
        .update(&Actor::system("t"), &id, rec.version, data, now())
        .await
        .unwrap();
    // And a new acute record in a segment of its own.
    add(
        &f,
        body(
            "MHRA",
            "Infusion pumps on acute wards",
            "Acute trusts should check infusion pump settings twice.",
            "2025-05-05",
            json!({"settings": ["Acute"], "themes": ["Medicines"]}),
        ),
    )
    .await;
    f.index.catch_up(f.store.as_ref()).await.unwrap();

    for sort in [Sort::Relevance, Sort::Newest] {
        let (total, facets) = counts("acute", sort);
        assert_eq!(total, 2, "{sort:?}: one acute record left, one added");
        assert_eq!(facets["issuer"].get("MHRA"), Some(&1), "{sort:?}");
        assert_eq!(facets["issuer"].get("CQC"), Some(&1), "{sort:?}");
        assert_eq!(facets["issuer"].get("HSSIB"), None, "{sort:?}");
    }
    let (total, after) = counts("", Sort::Newest);
    assert_eq!(total, 6);
    assert_eq!(after["theme"].get("sepsis"), None);
    assert_eq!(after["theme"]["deterioration"], 1);
    assert_eq!(after["theme"]["medicines"], 1);

    // What a fresh index (nothing remembered) counts.
    let fresh = SearchIndex::open(&f.dir.path().join("t.index")).unwrap();
    for q in ["acute", "", "sepsis", "community"] {
        let mut r = req(q);
        r.sort = Sort::Newest;
        let a = f.index.search(&r).unwrap();
        let b = fresh.search(&r).unwrap();
        assert_eq!((a.total, a.facets), (b.total, b.facets), "{q}");
    }
}
