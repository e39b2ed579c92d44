//! Backup and restore, across backends.

use std::collections::HashSet;

use concord_store::StoreError;
use concord_testkit::pg_admin_url;

use super::*;

suite!(
    backup_restores_into_the_other_backend,
    restore_refuses_a_non_empty_database,
    restore_reports_bad_lines,
);

async fn populate(s: &SqlStore) {
    s.add_organisation(
        &actor(),
        &org("NMH", "Northmoor Hospitals NHS Foundation Trust"),
    )
    .await
    .unwrap();
    seed_for_listing(s).await;
    let mut dt = data("HSSIB", "With \"quotes\", émojis 🙂 and\nnew lines");
    dt.cost = Some(Cost {
        one_off: Some(0.1),
        recurring: Some(1e9),
        currency: "GBP".into(),
        confidence: None,
        cost_effectiveness: Some("good".into()),
    });
    let r = s
        .create(&actor(), exact("HSSIB-2024-10000", dt), now())
        .await
        .unwrap();
    s.update(
        &actor(),
        &r.id,
        1,
        data("HSSIB", "Updated"),
        t("2024-12-01T00:00:00Z"),
    )
    .await
    .unwrap();
    s.import(
        &actor(),
        &[org("IMP", "Imported Trust")],
        pfd_batch(30),
        vec![],
        now(),
        &no_progress,
    )
    .await
    .unwrap();
    let tok = s
        .add_token(&actor(), &code("HSSIB"), "ci", "hash-1", now())
        .await
        .unwrap();
    s.add_token(&actor(), &code("CQC"), "other", "hash-2", now())
        .await
        .unwrap();
    s.revoke_token(&actor(), tok.id, now()).await.unwrap();
}

async fn everything(
    s: &SqlStore,
) -> (
    Vec<Recommendation>,
    Vec<Organisation>,
    Vec<AuditEvent>,
    Vec<(String, String)>,
) {
    let mut recs = Vec::new();
    s.scan(7, &mut |batch| {
        recs.extend(batch);
        Ok(())
    })
    .await
    .unwrap();
    let mut history = Vec::new();
    for r in &recs {
        history.extend(s.history(&r.id.to_string()).await.unwrap());
    }
    history.extend(s.history("import").await.unwrap());
    let outbox = s
        .outbox_after(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.entity_id, o.at.to_rfc3339()))
        .collect();
    (recs, s.organisations().await.unwrap(), history, outbox)
}

async fn backup_restores_into_the_other_backend(db: &Db) {
    populate(&db.store).await;
    let dump = db.dump().await;
    let lines: Vec<&str> = dump.lines().collect();
    assert!(lines[0].contains("\"concord_backup\":1"), "{}", lines[0]);
    let tables: HashSet<String> = lines[1..]
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["table"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for t in [
        "organisations",
        "recommendations",
        "addressees",
        "responses",
        "rec_tags",
        "links",
        "id_sequences",
        "audit_events",
        "outbox",
        "api_tokens",
    ] {
        assert!(tables.contains(t), "backup has no {t} rows");
    }

    let other = match (db.backend, pg_admin_url().is_some()) {
        (Backend::Sqlite, true) => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let target = db.sibling(other, "restore_target").await;
    // The app seeds organisations into a fresh database: restore still accepts it.
    for o in seed_organisations().iter().take(3) {
        target.store.add_organisation(&actor(), o).await.unwrap();
    }
    let n = target
        .store
        .restore(&mut std::io::Cursor::new(dump.clone().into_bytes()))
        .await
        .unwrap();
    assert_eq!(n as usize, lines.len() - 1);
    assert_eq!(everything(&target.store).await, everything(&db.store).await);
    assert_eq!(
        target.dump().await,
        dump,
        "a backup of the restored database is the same file"
    );

    // New rows after a restore do not collide with restored ones.
    let rec = target
        .store
        .create(
            &actor(),
            alloc("HSSIB", 2024, data("HSSIB", "after restore")),
            now(),
        )
        .await
        .unwrap();
    assert_eq!(rec.id.to_string(), "HSSIB-2024-10001");
    let tok = target
        .store
        .add_token(&actor(), &code("NHSE"), "new", "hash-3", now())
        .await
        .unwrap();
    assert_eq!(tok.id, 3);
    assert!(
        target
            .store
            .token_by_hash("hash-2")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        target
            .store
            .token_by_hash("hash-1")
            .await
            .unwrap()
            .is_none(),
        "still revoked"
    );
    let h = target.store.history(&rec.id.to_string()).await.unwrap();
    assert_eq!(h.len(), 1);
    let max_before = lines
        .iter()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            (v["table"] == "audit_events").then(|| v["row"]["seq"].as_i64().unwrap())
        })
        .max()
        .unwrap();
    assert!(h[0].seq > max_before);
    target.finish().await;
}

async fn restore_refuses_a_non_empty_database(db: &Db) {
    let source = db.sibling(db.backend, "restore_source").await;
    populate(&source.store).await;
    let dump = source.dump().await;
    source.finish().await;
    let restore = |s: &SqlStore, text: String| {
        let s = s.clone();
        async move {
            s.restore(&mut std::io::Cursor::new(text.into_bytes()))
                .await
        }
    };

    // An organisation of its own makes the database non-empty.
    db.store
        .add_organisation(&actor(), &org("MINE", "My Trust"))
        .await
        .unwrap();
    assert!(matches!(
        restore(&db.store, dump.clone()).await,
        Err(StoreError::Refused(_))
    ));
    assert!(
        db.store
            .organisation(&code("MINE"))
            .await
            .unwrap()
            .is_some(),
        "left as it was"
    );

    // So does a record.
    let other = db.sibling(db.backend, "restore_refused").await;
    other
        .store
        .create(&actor(), alloc("HSSIB", 2024, data("HSSIB", "mine")), now())
        .await
        .unwrap();
    let before = other.dump().await;
    assert!(matches!(
        restore(&other.store, dump.clone()).await,
        Err(StoreError::Refused(_))
    ));
    assert_eq!(other.dump().await, before);
    other.finish().await;

    // So does a person alone (no records, no organisations of its own): a
    // restore would delete their account (issue #14, finding 10).
    let people = db.sibling(db.backend, "restore_people").await;
    let email = concord_domain::account::Email::parse("ann@example.nhs.uk").unwrap();
    people
        .store
        .add_user(&actor(), &email, "Ann Lee", "$argon2id$fake", &[], now())
        .await
        .unwrap();
    let before = people.dump().await;
    match restore(&people.store, dump.clone()).await {
        Err(StoreError::Refused(m)) => assert!(m.contains("users"), "{m}"),
        other => panic!("a restore over an account must be refused, got {other:?}"),
    }
    assert_eq!(people.dump().await, before, "the account is still there");
    people.finish().await;
}

async fn restore_reports_bad_lines(db: &Db) {
    let source = db.sibling(db.backend, "bad_lines_source").await;
    populate(&source.store).await;
    let dump = source.dump().await;
    source.finish().await;
    let mut lines: Vec<String> = dump.lines().map(String::from).collect();
    let try_restore = |text: String| {
        let s = db.store.clone();
        async move {
            s.restore(&mut std::io::Cursor::new(text.into_bytes()))
                .await
        }
    };
    let line_of = |r: concord_store::Result<u64>| match r {
        Err(StoreError::BadBackup { line, .. }) => line,
        other => panic!("expected a bad backup, got {other:?}"),
    };
    assert_eq!(line_of(try_restore(String::new()).await), 1);
    assert_eq!(line_of(try_restore("{\"hello\":1}\n".into()).await), 1);
    assert_eq!(
        line_of(try_restore("{\"concord_backup\":1,\"schema\":999}\n".into()).await),
        1
    );

    let original = lines[5].clone();
    lines[5] = "{not json".into();
    assert_eq!(line_of(try_restore(lines.join("\n")).await), 6);
    lines[5] = original.replace("\"row\"", "\"rows\"");
    assert_eq!(line_of(try_restore(lines.join("\n")).await), 6);
    lines[5] = "{\"table\":\"nope\",\"row\":{}}".into();
    assert_eq!(line_of(try_restore(lines.join("\n")).await), 6);
    lines[5] = original.clone();
    // A value of the wrong type in a column.
    let rec_line = lines
        .iter()
        .position(|l| l.contains("\"table\":\"recommendations\""))
        .unwrap();
    let rec_original = lines[rec_line].clone();
    let mut v: serde_json::Value = serde_json::from_str(&rec_original).unwrap();
    v["row"]["year"] = "twenty".into();
    lines[rec_line] = v.to_string();
    assert_eq!(
        line_of(try_restore(lines.join("\n")).await) as usize,
        rec_line + 1
    );
    lines[rec_line] = rec_original;
    // Nothing was loaded by the failed attempts.
    assert_eq!(db.store.count().await.unwrap(), 0);
    assert!(db.store.organisations().await.unwrap().is_empty());
    // The intact file loads.
    try_restore(lines.join("\n")).await.unwrap();
    assert!(db.store.count().await.unwrap() > 0);
}
