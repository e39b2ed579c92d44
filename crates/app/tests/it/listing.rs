//! The listing as the services serve it: from the search index once it has
//! caught up with the database (the same records, order and total as the
//! database's own listing), from the database while it lags, so that a
//! record is listed the moment it is written.

use std::sync::Arc;

use concord_app::{NewRecord, Page, Principal, RecommendationFilter, Services};
use concord_store::{DraftVisibility, Store};
use serde_json::json;

fn operator() -> Principal {
    Principal::Operator {
        label: "test".into(),
    }
}

fn ids(items: &[concord_domain::Recommendation]) -> Vec<String> {
    items.iter().map(|r| r.id.to_string()).collect()
}

#[tokio::test]
async fn listings_come_from_the_index_once_caught_up_and_from_the_database_before() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let svc = Services::open(&url).await.unwrap();
    svc.as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .unwrap();
    // The database's own listing, through a second handle.
    let store: Arc<dyn Store> = concord_store::open(&url).await.unwrap();
    let anonymous = svc.as_principal(Principal::Anonymous);
    let filters = [
        RecommendationFilter::default(),
        RecommendationFilter {
            issuer: Some(concord_domain::OrgCode::parse("hssib").unwrap()),
            ..Default::default()
        },
        RecommendationFilter {
            addressee: Some("nhs".into()),
            ..Default::default()
        },
        RecommendationFilter {
            theme: Some("Sepsis".into()),
            ..Default::default()
        },
    ];
    let pages = [
        Page {
            offset: 0,
            limit: 5,
        },
        Page {
            offset: 3,
            limit: 50,
        },
    ];
    // Every page from the services against the database's own, whole
    // records compared; how many pages had records.
    let compare_all = || async {
        let mut non_empty = 0;
        for f in &filters {
            for p in pages {
                let got = anonymous.recommendations(f.clone(), p).await.unwrap();
                let public = RecommendationFilter {
                    drafts: DraftVisibility::None,
                    ..f.clone()
                };
                let want = store.list(&public, p).await.unwrap();
                assert_eq!(got.total, want.total);
                assert_eq!(ids(&got.items), ids(&want.items));
                assert_eq!(got.items, want.items, "whole records, not just ids");
                non_empty += usize::from(!got.items.is_empty());
            }
        }
        non_empty
    };

    // No index attached: the database answers.
    let before = svc.listing_sources();
    compare_all().await;
    let n = (filters.len() * pages.len()) as u64;
    assert_eq!(svc.listing_sources(), (before.0, before.1 + n));

    // Attached and caught up: the index answers, the same pages.
    svc.attach_search(&dir.path().join("t.index")).unwrap();
    svc.catch_up_search().await.unwrap();
    let before = svc.listing_sources();
    let non_empty = compare_all().await;
    assert!(non_empty >= 6, "{non_empty} pages had records");
    assert_eq!(svc.listing_sources(), (before.0 + n, before.1));

    // A record written now is listed at once: the database answers until
    // the index has it, then the index does, with the record.
    let rec = svc
        .as_principal(operator())
        .create_draft(
            NewRecord::from_json(json!({
                "issuer": "HSSIB", "status": "published", "published": "2026-12-01",
                "title": "Written a moment ago", "text": "Trusts should check the listing.",
                "override_gate": "test data"}))
            .unwrap(),
        )
        .await
        .unwrap();
    let first = Page {
        offset: 0,
        limit: 1,
    };
    let before = svc.listing_sources();
    let now = anonymous
        .recommendations(RecommendationFilter::default(), first)
        .await
        .unwrap();
    assert_eq!(ids(&now.items), vec![rec.id.to_string()]);
    assert_eq!(svc.listing_sources(), (before.0, before.1 + 1));
    svc.catch_up_search().await.unwrap();
    let later = anonymous
        .recommendations(RecommendationFilter::default(), first)
        .await
        .unwrap();
    assert_eq!(later, now);
    assert_eq!(svc.listing_sources(), (before.0 + 1, before.1 + 1));

    // Past the index's window the database pages.
    let deep = Page {
        offset: concord_search::LIST_WINDOW,
        limit: 10,
    };
    let got = anonymous
        .recommendations(RecommendationFilter::default(), deep)
        .await
        .unwrap();
    assert!(got.items.is_empty());
    assert_eq!(got.total, later.total);
    assert_eq!(svc.listing_sources(), (before.0 + 1, before.1 + 2));
}
