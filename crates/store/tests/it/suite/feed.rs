//! Feed events: in scope, newest first, drafts never.

use super::*;

suite!(feed_events_in_scope_newest_first);

async fn feed_events_in_scope_newest_first(db: &Db) {
    use concord_store::FeedScope;
    let s = &db.store;
    let seqs = |evs: &[AuditEvent]| -> Vec<(String, String)> {
        evs.iter()
            .map(|e| (e.entity_id.clone(), e.action.clone()))
            .collect()
    };
    let mut a = data("HSSIB", "Sepsis screening");
    a.themes = vec!["Sepsis & sepsis".into()];
    let a = s
        .create(&actor(), alloc("HSSIB", 2024, a), now())
        .await
        .unwrap();
    let mut draft = data("CQC", "Draft only");
    draft.status = Lifecycle::Draft;
    draft.themes = vec!["Sepsis & sepsis".into()];
    draft.addressees[0].org = Some(code("HSSIB"));
    let draft = s
        .create(&actor(), alloc("CQC", 2024, draft), now())
        .await
        .unwrap();
    // An imported record: its event carries no record.
    let mut imported = data("PFD", "Imported report");
    imported.addressees[0].org = Some(code("MHRA"));
    s.import(
        &actor(),
        &[],
        vec![NewRecommendation {
            import_key: Some("k-feed".into()),
            ..alloc("PFD", 2024, imported)
        }],
        vec![],
        now(),
        &no_progress,
    )
    .await
    .unwrap();
    let pfd = s.get_by_import_key("k-feed").await.unwrap().unwrap();
    let mut closed = a.data.clone();
    closed.status = Lifecycle::Closed;
    s.update_as(&actor(), &a.id, 1, closed, now(), "close")
        .await
        .unwrap();
    // The draft is edited too: still never in a feed.
    let mut d2 = draft.data.clone();
    d2.title = "Draft, edited".into();
    s.update(&actor(), &draft.id, 1, d2, now()).await.unwrap();

    let all = s.feed_events(&FeedScope::All, None, 50).await.unwrap();
    let (ida, idp) = (a.id.to_string(), pfd.id.to_string());
    assert_eq!(
        seqs(&all),
        [
            (ida.clone(), "close".to_string()),
            (idp.clone(), "import".to_string()),
            (ida.clone(), "create".to_string()),
        ]
    );
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq));
    // The import's record is filled in from the next event, or left for
    // the caller when none followed; a creation's is its own.
    assert!(all[1].after.is_none() && all[1].before.is_none());
    assert_eq!(all[2].after.as_ref().unwrap()["status"], "published");
    assert_eq!(all[0].before.as_ref().unwrap()["status"], "published");

    // Paging: strictly before a sequence number.
    let older = s
        .feed_events(&FeedScope::All, Some(all[0].seq), 1)
        .await
        .unwrap();
    assert_eq!(seqs(&older), [(idp.clone(), "import".to_string())]);

    // Another change to the imported record fills in its import's state.
    let mut p2 = pfd.data.clone();
    p2.title = "Imported report, retitled".into();
    s.update(&actor(), &pfd.id, pfd.version, p2, now())
        .await
        .unwrap();
    let one = s
        .feed_events(&FeedScope::Recommendation(pfd.id.clone()), None, 50)
        .await
        .unwrap();
    assert_eq!(
        seqs(&one),
        [
            (idp.clone(), "update".to_string()),
            (idp.clone(), "import".to_string())
        ]
    );
    assert_eq!(one[1].after.as_ref().unwrap()["title"], "Imported report");

    // An organisation: what it issued and what is addressed to it.
    let hssib = s
        .feed_events(&FeedScope::Organisation(code("HSSIB")), None, 50)
        .await
        .unwrap();
    assert!(hssib.iter().all(|e| e.entity_id == ida), "{hssib:?}");
    assert_eq!(hssib.len(), 2);
    let mhra = s
        .feed_events(&FeedScope::Organisation(code("MHRA")), None, 50)
        .await
        .unwrap();
    assert!(mhra.iter().all(|e| e.entity_id == idp) && mhra.len() == 2);
    // A theme, in any case; the draft's events never.
    let sepsis = s
        .feed_events(&FeedScope::Theme(" SEPSIS & Sepsis ".into()), None, 50)
        .await
        .unwrap();
    assert!(sepsis.iter().all(|e| e.entity_id == ida) && sepsis.len() == 2);
    let drafts = s
        .feed_events(&FeedScope::Recommendation(draft.id.clone()), None, 50)
        .await
        .unwrap();
    assert!(drafts.is_empty());
    assert!(
        s.feed_events(&FeedScope::Theme("nothing like it".into()), None, 50)
            .await
            .unwrap()
            .is_empty()
    );
}
