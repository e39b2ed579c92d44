//! One record at a time: create, get, update, ids, and the audit and outbox
//! rows written with them.

use std::collections::BTreeSet;

use concord_store::StoreError;

use super::*;

suite!(
    create_get_and_round_trip,
    update_versions_and_conflicts,
    audit_and_outbox_in_the_same_transaction,
    nothing_written_when_create_fails,
    id_allocation,
    concurrent_writers_never_share_an_id,
);

async fn create_get_and_round_trip(db: &Db) {
    let s = &db.store;
    let mut new = alloc("HSSIB", 2024, data("HSSIB", "  Sepsis screening  "));
    new.import_key = Some("https://example.org/report#1".into());
    let rec = s.create(&actor(), new, now()).await.unwrap();
    assert_eq!(rec.id.to_string(), "HSSIB-2024-0001");
    assert_eq!(rec.data.title, "Sepsis screening", "validated and tidied");
    assert_eq!(rec.version, 1);
    assert_eq!(rec.created_at, now());
    assert_eq!(rec.updated_at, now());

    let got = s.get(&rec.id).await.unwrap().expect("stored");
    assert_eq!(
        got, rec,
        "every field survives the database, to the nanosecond"
    );
    let by_key = s
        .get_by_import_key("https://example.org/report#1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_key, rec);
    assert!(s.get(&id("HSSIB-2024-0002")).await.unwrap().is_none());
    assert!(s.get_by_import_key("nope").await.unwrap().is_none());
    assert_eq!(s.count().await.unwrap(), 1);

    // A record carried back from an export keeps its version and times.
    let mut exported = rec.clone();
    exported.id = id("HSSIB-2023-0042");
    exported.version = 7;
    exported.import_key = None;
    exported.created_at = t("2023-01-01T00:00:00Z");
    exported.updated_at = t("2023-02-01T00:00:00Z");
    let back = s
        .create(
            &actor(),
            NewRecommendation::from_export(exported.clone()),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(back, exported);
    assert_eq!(s.get(&exported.id).await.unwrap().unwrap(), exported);
}

async fn update_versions_and_conflicts(db: &Db) {
    let s = &db.store;
    let rec = s
        .create(
            &actor(),
            alloc("HSSIB", 2024, data("HSSIB", "Original")),
            now(),
        )
        .await
        .unwrap();
    let later = t("2024-10-01T12:00:00Z");
    let mut changed = rec.data.clone();
    changed.title = "Changed".into();
    changed.addressees.push(Addressee {
        name: "Care Quality Commission".into(),
        org: Some(code("CQC")),
        status: AddresseeStatus::NotRequired,
        due: None,
        responses: vec![],
        ..Default::default()
    });
    changed.themes = vec!["Falls".into()];
    changed.links.clear();
    let v2 = s
        .update(&actor(), &rec.id, 1, changed.clone(), later)
        .await
        .unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(v2.updated_at, later);
    assert_eq!(v2.created_at, rec.created_at);
    assert_eq!(
        s.get(&rec.id).await.unwrap().unwrap(),
        v2,
        "children replaced wholesale"
    );

    // A stale version is refused and changes nothing.
    let mut stale = rec.data.clone();
    stale.title = "Stale".into();
    match s.update(&actor(), &rec.id, 1, stale, later).await {
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2,
            ..
        }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(s.get(&rec.id).await.unwrap().unwrap(), v2);

    assert!(matches!(
        s.update(&actor(), &id("HSSIB-2024-0999"), 1, changed.clone(), later)
            .await,
        Err(StoreError::NotFound { .. })
    ));
    let mut moved = changed.clone();
    moved.issuer = code("CQC");
    assert!(matches!(
        s.update(&actor(), &rec.id, 2, moved, later).await,
        Err(StoreError::Invalid(_))
    ));
    let mut invalid = changed.clone();
    invalid.text = "   ".into();
    assert!(matches!(
        s.update(&actor(), &rec.id, 2, invalid, later).await,
        Err(StoreError::Invalid(_))
    ));

    // A lifecycle move is an update named for what it did.
    let mut closed = v2.data.clone();
    closed.addressees[0].status = AddresseeStatus::Closed;
    closed.addressees[0].closure = Some(Closure {
        reason: ClosureReason::Implemented,
        note: Some("Audit seen.".into()),
        on: d("2024-10-02").unwrap(),
        by: Some("HSSIB".into()),
    });
    let v3 = s
        .update_as(&actor(), &rec.id, 2, closed, later, "close")
        .await
        .unwrap();
    assert_eq!(s.get(&rec.id).await.unwrap().unwrap(), v3);
    assert_eq!(
        v3.data.addressees[0].closure.as_ref().unwrap().reason,
        ClosureReason::Implemented
    );

    let h = s.history(&rec.id.to_string()).await.unwrap();
    let actions: Vec<&str> = h.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["create", "update", "close"]);
    assert_eq!(h[1].before.as_ref().unwrap()["title"], "Original");
    assert_eq!(h[1].after.as_ref().unwrap()["title"], "Changed");
    assert_eq!(h[1].after.as_ref().unwrap()["version"], 2);
    assert_eq!(h[1].at, later);
    assert_eq!(h[1].actor, "test");
}

async fn audit_and_outbox_in_the_same_transaction(db: &Db) {
    let s = &db.store;
    let a = s
        .create(&actor(), alloc("HSSIB", 2024, data("HSSIB", "A")), now())
        .await
        .unwrap();
    let b = s
        .create(&actor(), alloc("HSSIB", 2024, data("HSSIB", "B")), now())
        .await
        .unwrap();
    s.update(&actor(), &a.id, 1, data("HSSIB", "A2"), now())
        .await
        .unwrap();
    let out = s.outbox_after(0, 100).await.unwrap();
    let seen: Vec<(String, String, String)> = out
        .iter()
        .map(|o| (o.entity.clone(), o.entity_id.clone(), o.op.clone()))
        .collect();
    let rid = |r: &Recommendation| {
        (
            "recommendation".to_string(),
            r.id.to_string(),
            "upsert".to_string(),
        )
    };
    assert_eq!(seen, [rid(&a), rid(&b), rid(&a)]);
    assert!(out.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(out[0].at, now());
    let tail = s.outbox_after(out[0].seq, 1).await.unwrap();
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0].seq, out[1].seq);
    assert!(s.outbox_after(out[2].seq, 10).await.unwrap().is_empty());
    assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_events").await, 3);
    let h = s.history(&b.id.to_string()).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].entity, "recommendation");
    assert!(h[0].before.is_none());
    let after: Recommendation = serde_json::from_value(h[0].after.clone().unwrap()).unwrap();
    assert_eq!(after, b);
}

async fn nothing_written_when_create_fails(db: &Db) {
    let s = &db.store;
    let counts = || async {
        (
            db.scalar("SELECT COUNT(*) FROM recommendations").await,
            db.scalar("SELECT COUNT(*) FROM audit_events").await,
            db.scalar("SELECT COUNT(*) FROM outbox").await,
            db.scalar("SELECT COUNT(*) FROM id_sequences").await,
            db.scalar("SELECT COALESCE(MAX(next_seq), 0) FROM id_sequences")
                .await,
        )
    };
    let empty = counts().await;
    assert_eq!(empty, (0, 0, 0, 0, 0));
    // Invalid data: refused before anything is written.
    let mut bad = data("HSSIB", "");
    bad.text = String::new();
    match s
        .create(&actor(), exact("HSSIB-2024-0007", bad), now())
        .await
    {
        Err(StoreError::Invalid(e)) => assert_eq!(e.fields().len(), 2),
        other => panic!("expected invalid, got {other:?}"),
    }
    // An id of another issuer, a year out of range, a bad version.
    assert!(matches!(
        s.create(&actor(), exact("CQC-2024-0001", data("HSSIB", "x")), now())
            .await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        s.create(&actor(), alloc("HSSIB", 1492, data("HSSIB", "x")), now())
            .await,
        Err(StoreError::Invalid(_))
    ));
    let mut v0 = alloc("HSSIB", 2024, data("HSSIB", "x"));
    v0.version = Some(0);
    assert!(matches!(
        s.create(&actor(), v0, now()).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(counts().await, empty);

    // A duplicate id or import key: refused inside the transaction, rolled back.
    let mut first = exact("HSSIB-2024-0003", data("HSSIB", "First"));
    first.import_key = Some("key-1".into());
    s.create(&actor(), first, now()).await.unwrap();
    let one = counts().await;
    assert_eq!(one, (1, 1, 1, 1, 4));
    assert!(matches!(
        s.create(
            &actor(),
            exact("HSSIB-2024-0003", data("HSSIB", "Again")),
            now()
        )
        .await,
        Err(StoreError::Duplicate(_))
    ));
    let mut same_key = alloc("HSSIB", 2025, data("HSSIB", "Same key"));
    same_key.import_key = Some("key-1".into());
    assert!(matches!(
        s.create(&actor(), same_key, now()).await,
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(
        counts().await,
        one,
        "no record, audit, outbox or id_sequences row from a refused create"
    );
    // The failed allocation for 2025 handed out nothing.
    let next = s
        .create(&actor(), alloc("HSSIB", 2025, data("HSSIB", "Next")), now())
        .await
        .unwrap();
    assert_eq!(next.id.to_string(), "HSSIB-2025-0001");
}

async fn id_allocation(db: &Db) {
    let s = &db.store;
    let mk = |req: IdRequest| NewRecommendation {
        id: req,
        ..alloc("HSSIB", 2024, data("HSSIB", "x"))
    };
    let create = |req: IdRequest| async move {
        s.create(&actor(), mk(req), now())
            .await
            .map(|r| r.id.to_string())
    };
    let a = |floor: u32| IdRequest::Allocate {
        issuer: code("HSSIB"),
        year: 2024,
        floor,
    };
    let pref = |i: &str, fallback_floor: u32| IdRequest::Preferred {
        id: id(i),
        fallback_floor,
    };

    assert_eq!(create(a(1)).await.unwrap(), "HSSIB-2024-0001");
    assert_eq!(
        create(IdRequest::Exact(id("HSSIB-2024-0005")))
            .await
            .unwrap(),
        "HSSIB-2024-0005"
    );
    assert_eq!(
        create(a(1)).await.unwrap(),
        "HSSIB-2024-0006",
        "allocation moves past exact ids"
    );
    assert_eq!(
        create(a(100)).await.unwrap(),
        "HSSIB-2024-0100",
        "never below the floor"
    );
    assert_eq!(create(a(1)).await.unwrap(), "HSSIB-2024-0101");
    assert_eq!(
        create(a(50)).await.unwrap(),
        "HSSIB-2024-0102",
        "above every number used"
    );
    assert_eq!(
        create(IdRequest::Exact(id("HSSIB-2024-0003")))
            .await
            .unwrap(),
        "HSSIB-2024-0003",
        "a gap may be filled exactly"
    );
    assert!(matches!(
        create(IdRequest::Exact(id("HSSIB-2024-0003"))).await,
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(
        create(pref("HSSIB-2024-0200", 9000)).await.unwrap(),
        "HSSIB-2024-0200",
        "preferred id when free"
    );
    assert_eq!(
        create(pref("HSSIB-2024-0200", 9000)).await.unwrap(),
        "HSSIB-2024-9000",
        "else from the fallback floor"
    );
    assert_eq!(
        create(pref("HSSIB-2024-0200", 9000)).await.unwrap(),
        "HSSIB-2024-9001"
    );
    assert_eq!(create(a(1)).await.unwrap(), "HSSIB-2024-9002");
    assert_eq!(
        create(pref("HSSIB-2024-0150", 9000)).await.unwrap(),
        "HSSIB-2024-0150"
    );
    // Years and issuers are separate sequences.
    assert_eq!(
        create(IdRequest::Allocate {
            issuer: code("HSSIB"),
            year: 2025,
            floor: 0
        })
        .await
        .unwrap(),
        "HSSIB-2025-0001"
    );
    let other = NewRecommendation {
        id: IdRequest::Allocate {
            issuer: code("CQC"),
            year: 2024,
            floor: 1,
        },
        ..alloc("CQC", 2024, data("CQC", "y"))
    };
    assert_eq!(
        s.create(&actor(), other, now())
            .await
            .unwrap()
            .id
            .to_string(),
        "CQC-2024-0001"
    );
    // A number is never handed out again, even after the record changes.
    let r = s.get(&id("HSSIB-2024-9002")).await.unwrap().unwrap();
    s.update(&actor(), &r.id, 1, data("HSSIB", "changed"), now())
        .await
        .unwrap();
    assert_eq!(create(a(1)).await.unwrap(), "HSSIB-2024-9003");
    // 5-digit sequences.
    assert_eq!(
        create(IdRequest::Exact(id("HSSIB-2024-12345")))
            .await
            .unwrap(),
        "HSSIB-2024-12345"
    );
    assert_eq!(create(a(1)).await.unwrap(), "HSSIB-2024-12346");
}

async fn concurrent_writers_never_share_an_id(db: &Db) {
    const WRITERS: usize = 8;
    const EACH: usize = 50;
    let mut handles = Vec::new();
    for w in 0..WRITERS {
        // A separate pool per writer (for SQLite: the same file opened 8 times).
        let store = SqlStore::open_with(&db.url, 2).await.unwrap();
        handles.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let rec = store
                    .create(
                        &actor(),
                        alloc("PFD", 2024, data("PFD", &format!("writer {w} record {i}"))),
                        now(),
                    )
                    .await
                    .unwrap_or_else(|e| panic!("writer {w} record {i}: {e}"));
                ids.push(rec.id.seq);
            }
            store.close().await;
            ids
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    let unique: BTreeSet<u32> = all.iter().copied().collect();
    assert_eq!(unique.len(), WRITERS * EACH, "no id handed out twice");
    assert_eq!(
        unique.iter().copied().collect::<Vec<_>>(),
        (1..=(WRITERS * EACH) as u32).collect::<Vec<_>>(),
        "no gaps"
    );
    assert_eq!(db.store.count().await.unwrap(), (WRITERS * EACH) as u64);
    // Every record has its audit row and outbox row, with no gaps in the audit.
    let seqs = db
        .ints("SELECT seq FROM audit_events WHERE action = 'create' ORDER BY seq")
        .await;
    assert_eq!(seqs.len(), WRITERS * EACH);
    assert_eq!(
        seqs,
        (seqs[0]..seqs[0] + (WRITERS * EACH) as i64).collect::<Vec<_>>()
    );
    assert_eq!(
        db.scalar("SELECT COUNT(DISTINCT entity_id) FROM audit_events")
            .await,
        (WRITERS * EACH) as i64
    );
    assert_eq!(
        db.scalar("SELECT COUNT(DISTINCT entity_id) FROM outbox")
            .await,
        (WRITERS * EACH) as i64
    );
    assert_eq!(
        db.scalar("SELECT next_seq FROM id_sequences").await,
        (WRITERS * EACH + 1) as i64
    );
}
