//! Endorsements: kept, audited, backed up, withdrawn.

use super::*;

suite!(endorsements_are_kept_audited_and_backed_up);

async fn endorsements_are_kept_audited_and_backed_up(db: &Db) {
    let s = &db.store;
    let rec = s
        .create(
            &actor(),
            alloc("HSSIB", 2024, data("HSSIB", "Sepsis")),
            now(),
        )
        .await
        .unwrap();
    assert!(s.endorsements(&rec.id).await.unwrap().is_empty());
    assert!(
        s.endorse(
            &actor(),
            &rec.id,
            &code("NICE"),
            Some("We stand behind it."),
            now()
        )
        .await
        .unwrap()
    );
    assert!(
        !s.endorse(&actor(), &rec.id, &code("NICE"), None, now())
            .await
            .unwrap(),
        "a second endorsement by the same body adds nothing"
    );
    let later = now() + chrono::Duration::seconds(5);
    assert!(
        s.endorse(&actor(), &rec.id, &code("CQC"), None, later)
            .await
            .unwrap()
    );
    let got = s.endorsements(&rec.id).await.unwrap();
    let orgs: Vec<&str> = got.iter().map(|e| e.org.as_str()).collect();
    assert_eq!(orgs, ["NICE", "CQC"]);
    // In bulk, for any number of ids (read in chunks), unknown ones ignored.
    let mut ids: Vec<String> = (0..1200).map(|i| format!("HSSIB-2020-{i:04}")).collect();
    ids.push(rec.id.to_string());
    assert_eq!(
        s.endorsers_of(&ids).await.unwrap(),
        vec![
            (rec.id.to_string(), "CQC".to_string()),
            (rec.id.to_string(), "NICE".to_string())
        ]
    );
    assert!(s.endorsers_of(&[]).await.unwrap().is_empty());
    assert_eq!(got[0].note.as_deref(), Some("We stand behind it."));
    assert_eq!(got[0].at, now());
    assert_eq!(got[0].by, actor().label);
    // Kept in a backup, into either backend.
    let mut buf = Vec::new();
    s.backup(&mut buf).await.unwrap();
    let other = db.sibling(db.backend, "endorsement_restore").await;
    other
        .store
        .restore(&mut std::io::BufReader::new(&buf[..]))
        .await
        .unwrap();
    assert_eq!(other.store.endorsements(&rec.id).await.unwrap(), got);
    other.finish().await;
    // Withdrawn once; the history has both moves.
    assert!(
        s.withdraw_endorsement(&actor(), &rec.id, &code("NICE"), later)
            .await
            .unwrap()
    );
    assert!(
        !s.withdraw_endorsement(&actor(), &rec.id, &code("NICE"), later)
            .await
            .unwrap()
    );
    let orgs: Vec<String> = s
        .endorsements(&rec.id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.org.to_string())
        .collect();
    assert_eq!(orgs, ["CQC"]);
    let actions: Vec<String> = s
        .history(&rec.id.to_string())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        ["create", "endorse", "endorse", "withdraw_endorsement"]
    );
}
