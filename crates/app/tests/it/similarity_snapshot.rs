//! The indexes built in memory, kept between runs. The similarity index: a service started again on the
//! same database loads the snapshot its predecessor wrote (instead of
//! reading and analysing every record), catches up what changed since from
//! the outbox, and answers exactly as a fresh build would. A snapshot that
//! is damaged or belongs to another database is not used: the index is
//! built from the records and the answers are the same. The dashboard's
//! fact table likewise.

use std::path::Path;
use std::time::Duration;

use concord_app::{
    DashboardRequest, NewRecord, Principal, Services, SimilarMatch, dashboard_snapshot_beside,
    similarity_snapshot_beside,
};
use serde_json::json;

fn operator() -> Principal {
    Principal::Operator {
        label: "test".into(),
    }
}

const QUESTION: &str = "Trusts should screen patients for sepsis at triage using NEWS2 \
                        and give antibiotics within one hour";

async fn open(db: &Path, index: &Path) -> Services {
    let svc = Services::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    svc.keep_derived_beside(index);
    svc
}

async fn answers(svc: &Services, text: &str) -> Vec<SimilarMatch> {
    svc.as_principal(operator())
        .similar_to_text(text, 20)
        .await
        .unwrap()
}

/// Waits for a background save to finish (a guard against a save that
/// never comes, not a measure of speed). `kept` is what the services say
/// of one index: (loaded, snapshots written).
async fn saved(svc: &Services, kept: fn(&Services) -> (bool, u64), at_least: u64) {
    for _ in 0..600 {
        if kept(svc).1 >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the index was never saved");
}

/// A first run: a fresh database with the demo data.
async fn first_run(db: &Path, index: &Path) -> Services {
    let svc = open(db, index).await;
    svc.as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .unwrap();
    svc
}

#[tokio::test]
async fn a_restart_loads_the_kept_index_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("concord.db");
    let index = dir.path().join("concord.index");
    let snapshot = similarity_snapshot_beside(&index);

    // First run: built from the records, then saved.
    let first = first_run(&db, &index).await;
    let built = answers(&first, QUESTION).await;
    assert!(!built.is_empty(), "the demo data answers the question");
    assert!(!first.similarity_kept().0, "built, not loaded");
    saved(&first, Services::similarity_kept, 1).await;
    assert!(snapshot.exists());
    drop(first);

    // Second run: loaded, same answers.
    let second = open(&db, &index).await;
    assert_eq!(answers(&second, QUESTION).await, built);
    assert_eq!(second.similarity_kept(), (true, 0), "loaded, not rebuilt");

    // A change after the snapshot is caught up from the outbox.
    let added = second
        .as_principal(operator())
        .create_draft(
            NewRecord::from_json(json!({
                "issuer": "HSSIB", "status": "published", "published": "2025-02-01",
                "title": "Sepsis screening at triage",
                "text": QUESTION, "override_gate": "test data"}))
            .unwrap(),
        )
        .await
        .unwrap()
        .id
        .to_string();
    drop(second);
    let third = open(&db, &index).await;
    let caught_up = answers(&third, QUESTION).await;
    assert!(third.similarity_kept().0);
    assert_eq!(caught_up[0].id, added, "{caught_up:?}");
    drop(third);

    // A damaged snapshot is not used; the answers do not change.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&snapshot, &bytes).unwrap();
    let fourth = open(&db, &index).await;
    assert_eq!(answers(&fourth, QUESTION).await, caught_up);
    assert!(!fourth.similarity_kept().0, "rebuilt from the records");
    // ... and the rebuilt index is saved in its place.
    saved(&fourth, Services::similarity_kept, 1).await;
    drop(fourth);
    let fifth = open(&db, &index).await;
    assert_eq!(answers(&fifth, QUESTION).await, caught_up);
    assert!(fifth.similarity_kept().0);
    drop(fifth);

    // Another database (the same demo, loaded at another moment) does not
    // take this one's snapshot.
    let other_db = dir.path().join("other.db");
    let other = first_run(&other_db, &index).await;
    assert_eq!(answers(&other, QUESTION).await, built);
    assert!(!other.similarity_kept().0, "not this database's snapshot");
}

async fn figures(svc: &Services) -> String {
    let req = DashboardRequest {
        as_of: chrono::NaiveDate::from_ymd_opt(2025, 6, 1),
        ..Default::default()
    };
    let d = svc.as_principal(operator()).dashboard(&req).await.unwrap();
    serde_json::to_string(&d).unwrap()
}

#[tokio::test]
async fn a_restart_loads_the_kept_dashboard_and_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("concord.db");
    let index = dir.path().join("concord.index");
    let snapshot = dashboard_snapshot_beside(&index);

    let first = first_run(&db, &index).await;
    let built = figures(&first).await;
    assert!(!first.dashboard_kept().0);
    saved(&first, Services::dashboard_kept, 1).await;
    drop(first);

    let second = open(&db, &index).await;
    assert_eq!(figures(&second).await, built);
    assert_eq!(second.dashboard_kept(), (true, 0), "loaded, not rebuilt");
    // A change after the snapshot is counted after a restart.
    second
        .as_principal(operator())
        .create_draft(
            NewRecord::from_json(json!({
                "issuer": "HSSIB", "status": "published", "published": "2025-02-01",
                "title": "Sepsis screening at triage", "text": QUESTION,
                "addressees": [{"name": "NHS England", "org": "NHSE"}],
                "override_gate": "test data"}))
            .unwrap(),
        )
        .await
        .unwrap();
    let changed = figures(&second).await;
    assert_ne!(changed, built);
    drop(second);
    let third = open(&db, &index).await;
    assert_eq!(figures(&third).await, changed);
    assert!(third.dashboard_kept().0);
    drop(third);

    // Damaged: rebuilt, same figures.
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let last = bytes.len() - 20;
    bytes[last] ^= 0x01;
    std::fs::write(&snapshot, &bytes).unwrap();
    let fourth = open(&db, &index).await;
    assert_eq!(figures(&fourth).await, changed);
    assert!(!fourth.dashboard_kept().0);
}
