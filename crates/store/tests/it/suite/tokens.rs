//! API tokens: issued, found by hash, revoked, audited without the hash.

use concord_store::StoreError;

use super::*;

suite!(api_tokens);

async fn api_tokens(db: &Db) {
    let s = &db.store;
    let t1 = s
        .add_token(&actor(), &code("HSSIB"), "laptop", "h1", now())
        .await
        .unwrap();
    let t2 = s
        .add_token(&actor(), &code("CQC"), "server", "h2", now())
        .await
        .unwrap();
    assert_ne!(t1.id, t2.id);
    assert_eq!(t1.org, code("HSSIB"));
    assert_eq!(t1.created_at, now());
    assert_eq!(s.token_by_hash("h1").await.unwrap(), Some(t1.clone()));
    assert!(s.token_by_hash("nope").await.unwrap().is_none());
    assert!(matches!(
        s.add_token(&actor(), &code("HSSIB"), "again", "h1", now())
            .await,
        Err(StoreError::Duplicate(_))
    ));
    s.revoke_token(&actor(), t1.id, now()).await.unwrap();
    assert!(s.token_by_hash("h1").await.unwrap().is_none());
    s.revoke_token(&actor(), t1.id, now()).await.unwrap();
    assert!(matches!(
        s.revoke_token(&actor(), 999, now()).await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(s.token_by_hash("h2").await.unwrap().unwrap(), t2);
    let h = s.history(&t1.id.to_string()).await.unwrap();
    assert_eq!(
        h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["add_token", "revoke_token"]
    );
    assert!(
        !h[0].after.as_ref().unwrap().to_string().contains("h1"),
        "the hash stays out of the audit"
    );
}
