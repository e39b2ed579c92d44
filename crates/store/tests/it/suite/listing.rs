//! Reading many records: work queues, list filters and paging, drafts, scans.

use concord_store::{DraftVisibility, Page, PartsFilter, RecommendationFilter};

use super::*;

suite!(
    list_filters_and_paging,
    work_queues_by_addressee_state,
    draft_visibility,
    scan_orders_by_issuer_year_sequence,
);

fn ids_of(recs: &[Recommendation]) -> Vec<String> {
    recs.iter().map(|r| r.id.to_string()).collect()
}

async fn work_queues_by_addressee_state(db: &Db) {
    let s = &db.store;
    let seeded = seed_for_listing(s).await;
    let all = Page {
        offset: 0,
        limit: 100,
    };
    let titles = |p: concord_store::ListPage| {
        p.items
            .into_iter()
            .map(|r| r.data.title)
            .collect::<Vec<_>>()
    };
    let queue = |status: AddresseeStatus, org: Option<&str>| PartsFilter {
        statuses: vec![status],
        org: org.map(code),
    };
    let waiting = seeded[0].data.addressees[0].status;
    assert_eq!(waiting, AddresseeStatus::AwaitingResponse);
    // NHS England's parts (Alpha, Echo); Delta is withdrawn but still listed
    // by the default filter, so only the org narrows here.
    let nhse = s
        .list_with_parts(
            &RecommendationFilter::default(),
            &queue(waiting, Some("NHSE")),
            all,
        )
        .await
        .unwrap();
    assert_eq!(nhse.total, 2);
    assert_eq!(titles(nhse), ["Alpha", "Echo"]);
    // The filter still applies: HSSIB's only.
    let hssib = RecommendationFilter {
        issuer: Some(code("HSSIB")),
        ..Default::default()
    };
    assert_eq!(
        titles(
            s.list_with_parts(&hssib, &queue(waiting, Some("NHSE")), all)
                .await
                .unwrap()
        ),
        ["Alpha"]
    );
    let received = AddresseeStatus::ResponseReceived;
    assert_eq!(
        s.list_with_parts(&hssib, &queue(received, None), all)
            .await
            .unwrap()
            .total,
        0
    );
    // Alpha's part moves on: it leaves one queue and joins the other.
    let alpha = seeded.iter().find(|r| r.data.title == "Alpha").unwrap();
    let mut moved = alpha.data.clone();
    moved.addressees[0].status = received;
    s.update(&actor(), &alpha.id, alpha.version, moved, now())
        .await
        .unwrap();
    assert_eq!(
        titles(
            s.list_with_parts(&hssib, &queue(received, None), all)
                .await
                .unwrap()
        ),
        ["Alpha"]
    );
    assert_eq!(
        titles(
            s.list_with_parts(
                &RecommendationFilter::default(),
                &queue(waiting, Some("NHSE")),
                all
            )
            .await
            .unwrap()
        ),
        ["Echo"]
    );
    // Either of two states.
    let both = PartsFilter {
        statuses: vec![waiting, received],
        org: None,
    };
    assert_eq!(
        s.list_with_parts(&RecommendationFilter::default(), &both, all)
            .await
            .unwrap()
            .total,
        5
    );
    // Another organisation's queue is empty.
    assert_eq!(
        s.list_with_parts(
            &RecommendationFilter::default(),
            &queue(received, Some("CQC")),
            all
        )
        .await
        .unwrap()
        .total,
        0
    );
}

async fn list_filters_and_paging(db: &Db) {
    let s = &db.store;
    seed_for_listing(s).await;
    let all = Page {
        offset: 0,
        limit: 100,
    };
    let titles = |p: &concord_store::ListPage| {
        p.items
            .iter()
            .map(|r| r.data.title.clone())
            .collect::<Vec<_>>()
    };

    let p = s.list(&RecommendationFilter::default(), all).await.unwrap();
    assert_eq!(p.total, 5);
    // Newest published first, then by id (HSSIB-2024-0002 after CQC-2024-0002).
    assert_eq!(titles(&p), ["Delta", "Bravo", "Alpha", "Charlie", "Echo"]);

    let f = |f: RecommendationFilter| f;
    let cases: Vec<(RecommendationFilter, Vec<&str>)> = vec![
        (
            f(RecommendationFilter {
                issuer: Some(code("CQC")),
                ..Default::default()
            }),
            vec!["Delta", "Charlie"],
        ),
        (
            f(RecommendationFilter {
                addressee: Some("nhse".into()),
                ..Default::default()
            }),
            vec!["Alpha", "Echo"],
        ),
        (
            f(RecommendationFilter {
                addressee: Some("NORTHMOOR".into()),
                ..Default::default()
            }),
            vec!["Charlie"],
        ),
        (
            f(RecommendationFilter {
                addressee: Some("quality comm".into()),
                ..Default::default()
            }),
            vec!["Bravo"],
        ),
        (
            f(RecommendationFilter {
                addressee: Some("50%".into()),
                ..Default::default()
            }),
            vec!["Delta"],
        ),
        (
            f(RecommendationFilter {
                addressee: Some("5_%".into()),
                ..Default::default()
            }),
            vec![],
        ),
        (
            f(RecommendationFilter {
                theme: Some("SEPSIS".into()),
                ..Default::default()
            }),
            vec!["Alpha", "Charlie"],
        ),
        (
            f(RecommendationFilter {
                theme: Some("seps".into()),
                ..Default::default()
            }),
            vec![],
        ),
        (
            f(RecommendationFilter {
                setting: Some("acute".into()),
                ..Default::default()
            }),
            vec!["Alpha", "Charlie", "Echo"],
        ),
        (
            f(RecommendationFilter {
                status: Some(Lifecycle::Closed),
                ..Default::default()
            }),
            vec!["Bravo"],
        ),
        (
            f(RecommendationFilter {
                kind: Some(RecKind::Recommendation),
                ..Default::default()
            }),
            vec!["Alpha", "Charlie"],
        ),
        (
            f(RecommendationFilter {
                from: d("2024-01-10"),
                ..Default::default()
            }),
            vec!["Delta", "Bravo", "Alpha"],
        ),
        (
            f(RecommendationFilter {
                to: d("2024-01-10"),
                ..Default::default()
            }),
            vec!["Alpha", "Charlie", "Echo"],
        ),
        (
            f(RecommendationFilter {
                from: d("2023-01-01"),
                to: d("2024-03-04"),
                theme: Some("sepsis".into()),
                ..Default::default()
            }),
            vec!["Alpha", "Charlie"],
        ),
        (
            f(RecommendationFilter {
                issuer: Some(code("HSSIB")),
                setting: Some("Acute".into()),
                ..Default::default()
            }),
            vec!["Alpha"],
        ),
    ];
    for (filter, want) in cases {
        let p = s.list(&filter, all).await.unwrap();
        assert_eq!(titles(&p), want, "{filter:?}");
        assert_eq!(p.total, want.len() as u64, "{filter:?}");
    }

    // Paging: total stays the count under the filter.
    let p1 = s
        .list(
            &RecommendationFilter::default(),
            Page {
                offset: 0,
                limit: 2,
            },
        )
        .await
        .unwrap();
    let p2 = s
        .list(
            &RecommendationFilter::default(),
            Page {
                offset: 2,
                limit: 2,
            },
        )
        .await
        .unwrap();
    let p3 = s
        .list(
            &RecommendationFilter::default(),
            Page {
                offset: 4,
                limit: 2,
            },
        )
        .await
        .unwrap();
    let p4 = s
        .list(
            &RecommendationFilter::default(),
            Page {
                offset: 10,
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!((p1.total, p2.total, p3.total, p4.total), (5, 5, 5, 5));
    assert_eq!(titles(&p1), ["Delta", "Bravo"]);
    assert_eq!(titles(&p2), ["Alpha", "Charlie"]);
    assert_eq!(titles(&p3), ["Echo"]);
    assert!(p4.items.is_empty());
    let p0 = s
        .list(
            &RecommendationFilter::default(),
            Page {
                offset: 0,
                limit: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!((p0.total, p0.items.len()), (5, 0));
    // Listed records are whole (children loaded in batches).
    assert_eq!(p1.items[0], s.get(&p1.items[0].id).await.unwrap().unwrap());
}

async fn draft_visibility(db: &Db) {
    let s = &db.store;
    let mk = |issuer: &str, title: &str, status: Lifecycle| {
        let mut dt = data(issuer, title);
        dt.status = status;
        alloc(issuer, 2024, dt)
    };
    s.create(&actor(), mk("HSSIB", "Public", Lifecycle::Published), now())
        .await
        .unwrap();
    s.create(
        &actor(),
        mk("HSSIB", "HSSIB draft", Lifecycle::Draft),
        now(),
    )
    .await
    .unwrap();
    s.create(&actor(), mk("CQC", "CQC draft", Lifecycle::Draft), now())
        .await
        .unwrap();
    let all = Page {
        offset: 0,
        limit: 10,
    };
    let titles = |p: concord_store::ListPage| {
        let mut v: Vec<String> = p.items.iter().map(|r| r.data.title.clone()).collect();
        v.sort();
        (p.total, v)
    };
    let with = |drafts: DraftVisibility| RecommendationFilter {
        drafts,
        ..Default::default()
    };
    assert_eq!(
        titles(s.list(&with(DraftVisibility::None), all).await.unwrap()),
        (1, vec!["Public".to_string()])
    );
    assert_eq!(
        titles(
            s.list(&with(DraftVisibility::OfIssuer(code("HSSIB"))), all)
                .await
                .unwrap()
        ),
        (2, vec!["HSSIB draft".to_string(), "Public".to_string()])
    );
    assert_eq!(
        titles(s.list(&with(DraftVisibility::All), all).await.unwrap()).0,
        3
    );
    // Asking for drafts by status still respects visibility.
    let drafts = RecommendationFilter {
        status: Some(Lifecycle::Draft),
        drafts: DraftVisibility::OfIssuer(code("CQC")),
        ..Default::default()
    };
    assert_eq!(
        titles(s.list(&drafts, all).await.unwrap()),
        (1, vec!["CQC draft".to_string()])
    );
    let none = RecommendationFilter {
        status: Some(Lifecycle::Draft),
        ..Default::default()
    };
    assert_eq!(s.list(&none, all).await.unwrap().total, 0);
}

async fn scan_orders_by_issuer_year_sequence(db: &Db) {
    let s = &db.store;
    let order = [
        "CQC-2024-0001",
        "PFD-2023-12345",
        "PFD-2024-0002",
        "PFD-2024-9999",
        "PFD-2024-10000",
        "PFD-2024-10001",
        "PFD-2025-0001",
    ];
    // Created in a scrambled order.
    for i in [4, 1, 6, 0, 3, 5, 2] {
        let rid = id(order[i]);
        s.create(
            &actor(),
            exact(order[i], data(rid.issuer.as_str(), order[i])),
            now(),
        )
        .await
        .unwrap();
    }
    for batch in [1, 2, 3, 7, 100] {
        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        s.scan(batch, &mut |recs: Vec<Recommendation>| {
            sizes.push(recs.len());
            seen.extend(ids_of(&recs));
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(seen, order, "batch {batch}");
        assert!(sizes.iter().all(|n| *n <= batch && *n > 0), "{sizes:?}");
    }
    // A visitor's error stops the scan.
    let mut calls = 0;
    let r = s
        .scan(2, &mut |_recs| {
            calls += 1;
            Err("disk full".to_string())
        })
        .await;
    assert!(r.is_err());
    assert_eq!(calls, 1);
    // Records come back whole.
    let mut first = None;
    s.scan(1, &mut |recs| {
        if first.is_none() {
            first = recs.into_iter().next();
        }
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(
        first.unwrap(),
        s.get(&id("CQC-2024-0001")).await.unwrap().unwrap()
    );
}
