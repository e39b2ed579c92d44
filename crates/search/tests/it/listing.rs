//! The register's listing answered from the index (`SearchIndex::list`)
//! against the database's own listing (`Store::list`): the same total and
//! the same ids in the same order, for every filter, both kinds of draft
//! visibility and pages anywhere in the window, over generated records in
//! several segments, undated ones and ties on the date included. And the
//! index refuses to answer when it has not caught up, or past its window.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use concord_domain::{Actor, IdRequest, Lifecycle, NewRecommendation, OrgCode, RecKind};
use concord_domain::{Recommendation, RecommendationId, seed_organisations};
use concord_search::{DraftVisibility, LIST_WINDOW, RecommendationFilter, SearchIndex};
use concord_store::{Page, Store};

fn as_new(r: Recommendation) -> NewRecommendation {
    NewRecommendation {
        provenance: Default::default(),
        id: IdRequest::Exact(r.id),
        data: r.data,
        import_key: None,
        version: None,
        created_at: None,
        updated_at: None,
    }
}

async fn import(store: &dyn Store, recs: Vec<Recommendation>) {
    let now = Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap();
    store
        .import(
            &Actor::system("t"),
            &[],
            recs.into_iter().map(as_new).collect(),
            vec![],
            now,
            &|_| {},
        )
        .await
        .expect("import");
}

fn ids(page: &concord_store::ListPage) -> Vec<String> {
    page.items.iter().map(|r| r.id.to_string()).collect()
}

#[tokio::test]
async fn the_index_lists_what_the_database_lists_in_its_order_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    lists_what_the_database_lists(&url, dir.path()).await;
}

/// PostgreSQL orders text by its collation, not by bytes: the issuer codes
/// (capital letters and digits) sort alike either way.
#[tokio::test]
async fn the_index_lists_what_the_database_lists_in_its_order_postgres() {
    let Some(db) = concord_testkit::PgDatabase::create("search_listing").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    lists_what_the_database_lists(&db.url, dir.path()).await;
}

async fn lists_what_the_database_lists(url: &str, dir: &std::path::Path) {
    let store: Arc<dyn Store> = concord_store::open(url).await.expect("open the store");
    let actor = Actor::system("test");
    for org in seed_organisations() {
        store.add_organisation(&actor, &org).await.unwrap();
    }
    // Issuer codes longer than the index's first listing column holds (six
    // characters), sharing their first six, one of them as long as a code
    // may be.
    let long: Vec<OrgCode> = ["HSSIBX", "HSSIBX1", "HSSIBXLONG", "HSSIBXLONGER16CH"]
        .iter()
        .map(|c| OrgCode::parse(c).unwrap())
        .collect();
    for code in &long {
        let mut org = seed_organisations().remove(0);
        org.name = format!("Issuer {code}");
        org.aliases.clear();
        org.code = code.clone();
        store.add_organisation(&actor, &org).await.unwrap();
    }
    let vocab = concord_ingest::Vocabulary::built_in();
    let mut recs: Vec<Recommendation> = concord_ingest::generate(700, 11, &vocab).collect();
    // Before every generated record's own date (so before its due dates).
    let day = NaiveDate::from_ymd_opt(2012, 6, 3).unwrap();
    for (i, r) in recs.iter_mut().enumerate() {
        match i % 13 {
            // Undated records come last, in id order.
            0 | 5 => r.data.published = None,
            // Many on one day: the tie is broken by issuer, year, number.
            3 | 9 => r.data.published = Some(day),
            11 => {
                let code = long[i % long.len()].clone();
                r.id = RecommendationId::new(code.clone(), r.id.year, i as u32 + 1).unwrap();
                r.data.issuer = code;
                r.data.published = if i % 2 == 0 { Some(day) } else { None };
            }
            7 => r.data.status = Lifecycle::Draft,
            _ => {}
        }
    }
    let index = SearchIndex::open(&dir.join("t.index")).unwrap();
    // Three imports, each caught up: an index in several segments.
    for chunk in recs.chunks(250) {
        import(store.as_ref(), chunk.to_vec()).await;
        index.catch_up(store.as_ref()).await.unwrap();
    }
    let end = store.outbox_end().await.unwrap();
    assert!(index.searchable_seq() >= end);

    // Filters drawn from the records themselves, and some that match nothing.
    let theme = recs
        .iter()
        .find_map(|r| r.data.themes.first().cloned())
        .unwrap();
    let setting = recs
        .iter()
        .find_map(|r| r.data.settings.first().cloned())
        .unwrap();
    let name = recs
        .iter()
        .flat_map(|r| &r.data.addressees)
        .find(|a| a.org.is_none() && a.name.len() > 12)
        .map(|a| a.name.clone())
        .expect("an addressee known by name only");
    let code = recs
        .iter()
        .flat_map(|r| &r.data.addressees)
        .find_map(|a| a.org.clone())
        .expect("an addressee with a code");
    let issuer = recs[1].data.issuer.clone();
    let part = |s: &str| s.chars().skip(3).take(6).collect::<String>();
    let addressees = [
        code.as_str().to_lowercase(),
        name.to_uppercase(),
        format!("  {}  ", part(&name)),
        "trust".to_string(),
        "e".to_string(),
        "100%_".to_string(),
        "zzz no such body".to_string(),
    ];
    let mut filters = vec![
        RecommendationFilter::default(),
        RecommendationFilter {
            issuer: Some(issuer.clone()),
            ..Default::default()
        },
        RecommendationFilter {
            issuer: Some(OrgCode::parse("NOSUCH").unwrap()),
            ..Default::default()
        },
        RecommendationFilter {
            theme: Some(format!(" {} ", theme.to_uppercase())),
            ..Default::default()
        },
        RecommendationFilter {
            setting: Some(setting.clone()),
            status: Some(Lifecycle::Published),
            ..Default::default()
        },
        RecommendationFilter {
            kind: Some(RecKind::Concern),
            from: NaiveDate::from_ymd_opt(2019, 1, 1),
            to: NaiveDate::from_ymd_opt(2024, 6, 3),
            ..Default::default()
        },
        RecommendationFilter {
            from: Some(day),
            to: Some(day),
            ..Default::default()
        },
        RecommendationFilter {
            status: Some(Lifecycle::Draft),
            ..Default::default()
        },
    ];
    for a in addressees {
        filters.push(RecommendationFilter {
            addressee: Some(a),
            ..Default::default()
        });
    }
    filters.push(RecommendationFilter {
        addressee: Some(part(&name)),
        issuer: Some(issuer.clone()),
        from: NaiveDate::from_ymd_opt(2020, 1, 1),
        ..Default::default()
    });
    let visibility = [
        DraftVisibility::None,
        DraftVisibility::All,
        DraftVisibility::OfIssuer(issuer.clone()),
    ];
    let pages = [
        (0, 10),
        (0, 50),
        (37, 25),
        (690, 50),
        (5, 0),
        (LIST_WINDOW - 7, 7),
    ];
    let mut compared = 0;
    let mut non_empty = 0;
    for f in &filters {
        for v in &visibility {
            let f = RecommendationFilter {
                drafts: v.clone(),
                ..f.clone()
            };
            for (offset, limit) in pages {
                let db = store.list(&f, Page { offset, limit }).await.unwrap();
                let ix = index
                    .list(&f, offset, limit, end)
                    .unwrap()
                    .unwrap_or_else(|| panic!("{f:?}: the index did not answer"));
                let ix_ids: Vec<String> = ix.ids.iter().map(|i| i.to_string()).collect();
                assert_eq!(ix.total, db.total, "total, {f:?} at {offset}+{limit}");
                assert_eq!(ix_ids, ids(&db), "page, {f:?} at {offset}+{limit}");
                compared += 1;
                non_empty += usize::from(!ix_ids.is_empty());
            }
        }
    }
    assert!(
        non_empty > compared / 3,
        "{non_empty} of {compared} pages had records"
    );

    // Nothing past the window, nothing while the index lags the database.
    let all = RecommendationFilter::default();
    assert_eq!(index.list(&all, LIST_WINDOW, 1, end).unwrap(), None);
    assert_eq!(index.list(&all, 0, LIST_WINDOW + 1, end).unwrap(), None);
    assert_eq!(index.list(&all, 0, 10, end + 1).unwrap(), None);
    let more: Vec<Recommendation> = concord_ingest::generate(710, 11, &vocab)
        .skip(700)
        .collect();
    import(store.as_ref(), more).await;
    let end2 = store.outbox_end().await.unwrap();
    assert!(end2 > end);
    assert_eq!(index.list(&all, 0, 10, end2).unwrap(), None);
    index.catch_up(store.as_ref()).await.unwrap();
    let caught = index.list(&all, 0, 10, end2).unwrap().expect("caught up");
    let db = store
        .list(
            &all,
            Page {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(caught.total, db.total);
    assert_eq!(caught.ids.len(), 10);
}

#[tokio::test]
async fn a_freshly_opened_index_claims_nothing_until_caught_up() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let store: Arc<dyn Store> = concord_store::open(&url).await.unwrap();
    for org in seed_organisations() {
        store
            .add_organisation(&Actor::system("t"), &org)
            .await
            .unwrap();
    }
    let vocab = concord_ingest::Vocabulary::built_in();
    import(
        store.as_ref(),
        concord_ingest::generate(30, 3, &vocab).collect(),
    )
    .await;
    let path = dir.path().join("t.index");
    let end = store.outbox_end().await.unwrap();
    {
        let index = SearchIndex::open(&path).unwrap();
        index.catch_up(store.as_ref()).await.unwrap();
        assert!(
            index
                .list(&Default::default(), 0, 5, end)
                .unwrap()
                .is_some()
        );
    }
    // Reopened (a restart, or another process beside the writer): the
    // index on disk may have been made from another database.
    let index = SearchIndex::open(&path).unwrap();
    assert_eq!(index.searchable_seq(), -1);
    assert_eq!(index.list(&Default::default(), 0, 5, end).unwrap(), None);
    index.catch_up(store.as_ref()).await.unwrap();
    let l = index.list(&Default::default(), 0, 5, end).unwrap().unwrap();
    assert_eq!(l.total, 30);
}
