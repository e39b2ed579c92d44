//! Organisations (added, confirmed, merged and unmerged), issuers' criteria
//! and providers' profiles.

use concord_testkit::pg_admin_url;

use super::*;

suite!(
    organisations_are_added_not_overwritten,
    issuer_criteria_are_set_audited_and_backed_up,
    provider_profiles_are_set_audited_and_backed_up,
    organisations_are_confirmed_merged_and_unmerged,
);

async fn organisations_are_added_not_overwritten(db: &Db) {
    let s = &db.store;
    assert!(
        s.organisations().await.unwrap().is_empty(),
        "the store seeds nothing"
    );
    let nmh = org("NMH", "Northmoor Hospitals NHS Foundation Trust");
    assert!(s.add_organisation(&actor(), &nmh).await.unwrap());
    assert!(
        !s.add_organisation(&actor(), &org("NMH", "Renamed"))
            .await
            .unwrap()
    );
    assert_eq!(s.organisation(&code("NMH")).await.unwrap().unwrap(), nmh);
    let seeds = seed_organisations();
    for o in &seeds {
        s.add_organisation(&actor(), o).await.unwrap();
    }
    let all = s.organisations().await.unwrap();
    assert_eq!(all.len(), seeds.len() + 1);
    assert!(
        all.windows(2).all(|w| w[0].code < w[1].code),
        "sorted by code"
    );
    assert!(all.contains(&seeds[0]));
    assert!(s.organisation(&code("ZZZ")).await.unwrap().is_none());
    let h = s.history("NMH").await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].action, "add_organisation");
}

async fn issuer_criteria_are_set_audited_and_backed_up(db: &Db) {
    let s = &db.store;
    let hssib = code("HSSIB");
    assert_eq!(s.issuer_criteria(&hssib).await.unwrap(), None);
    s.set_issuer_criteria(
        &actor(),
        &hssib,
        Some(r#"{"criteria": [{"check": "cost"}]}"#),
        now(),
    )
    .await
    .unwrap();
    s.set_issuer_criteria(
        &actor(),
        &hssib,
        Some(r#"{"criteria": [{"check": "action"}]}"#),
        now(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.issuer_criteria(&hssib).await.unwrap().as_deref(),
        Some(r#"{"criteria": [{"check": "action"}]}"#)
    );
    assert_eq!(s.issuer_criteria(&code("CQC")).await.unwrap(), None);
    // A backup carries it into another database.
    let mut buf = Vec::new();
    s.backup(&mut buf).await.unwrap();
    let other = db.sibling(db.backend, "criteria_restore").await;
    other
        .store
        .restore(&mut std::io::BufReader::new(&buf[..]))
        .await
        .unwrap();
    assert!(other.store.issuer_criteria(&hssib).await.unwrap().is_some());
    other.finish().await;
    s.set_issuer_criteria(&actor(), &hssib, None, now())
        .await
        .unwrap();
    assert_eq!(s.issuer_criteria(&hssib).await.unwrap(), None);
    let h = s.history("HSSIB").await.unwrap();
    let actions: Vec<&str> = h
        .iter()
        .filter(|e| e.entity == "issuer_criteria")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["set_criteria", "set_criteria", "clear_criteria"]);
    let second = h
        .iter()
        .filter(|e| e.entity == "issuer_criteria")
        .nth(1)
        .unwrap();
    assert!(second.before.as_ref().unwrap().to_string().contains("cost"));
    assert!(
        second
            .after
            .as_ref()
            .unwrap()
            .to_string()
            .contains("action")
    );
}

async fn provider_profiles_are_set_audited_and_backed_up(db: &Db) {
    use concord_domain::priority::ProviderProfile;
    let s = &db.store;
    let org = code("NMTH");
    assert_eq!(s.provider_profile(&org).await.unwrap(), None);
    let mut p = ProviderProfile {
        org: org.clone(),
        kind: ProviderKind::AcuteTrust,
        settings: vec!["maternity unit".into()],
        region: Some("North".into()),
    };
    s.set_provider_profile(&actor(), &p, now()).await.unwrap();
    p.kind = ProviderKind::CommunityTrust;
    p.settings.clear();
    s.set_provider_profile(&actor(), &p, now()).await.unwrap();
    assert_eq!(s.provider_profile(&org).await.unwrap(), Some(p.clone()));
    assert_eq!(s.provider_profile(&code("HVH")).await.unwrap(), None);
    let h = s.history("NMTH").await.unwrap();
    let actions: Vec<&str> = h
        .iter()
        .filter(|e| e.entity == "provider_profile")
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(actions, ["set_profile", "set_profile"]);
    assert!(
        h[1].before
            .as_ref()
            .unwrap()
            .to_string()
            .contains("acute_trust")
    );
    let mut buf = Vec::new();
    s.backup(&mut buf).await.unwrap();
    let other = db.sibling(db.backend, "profile_restore").await;
    other
        .store
        .restore(&mut std::io::BufReader::new(&buf[..]))
        .await
        .unwrap();
    assert_eq!(other.store.provider_profile(&org).await.unwrap(), Some(p));
    other.finish().await;
}

async fn organisations_are_confirmed_merged_and_unmerged(db: &Db) {
    let s = &db.store;
    let mut a = org("BARTA", "Barts Health NHS Trust");
    a.status = OrgStatus::Unverified;
    let mut b = org("BARTB", "Barts Health NHS Foundation Trust");
    b.status = OrgStatus::Unverified;
    for o in [&a, &b, &org("HSSIB", "HSSIB")] {
        s.add_organisation(&actor(), o).await.unwrap();
    }
    let mut one = data("HSSIB", "One");
    one.links.clear();
    one.addressees[0].org = Some(code("BARTA"));
    one.addressees[0].name = "Barts Health NHS Trust".into();
    let mut two = data("HSSIB", "Two");
    two.links.clear();
    two.addressees.truncate(1);
    two.addressees[0].org = Some(code("BARTB"));
    let mut three = data("HSSIB", "Three");
    three.links.clear();
    three.addressees.truncate(1);
    three.addressees[0].org = None;
    three.addressees[0].name = "Chief Executive".into();
    for (n, d_) in [
        ("HSSIB-2024-0001", one),
        ("HSSIB-2024-0002", two),
        ("HSSIB-2024-0003", three),
    ] {
        s.create(&actor(), exact(n, d_), now()).await.unwrap();
    }
    let unresolved = s.unresolved_addressees(10).await.unwrap();
    assert!(
        unresolved.contains(&("Chief Executive".to_string(), 1)),
        "{unresolved:?}"
    );

    let m = s
        .merge_organisations(&actor(), &code("BARTA"), &code("BARTB"), now())
        .await
        .unwrap();
    assert_eq!((m.moved, m.recommendations), (1, 1));
    let rec = s.get(&id("HSSIB-2024-0001")).await.unwrap().unwrap();
    assert_eq!(rec.data.addressees[0].org, Some(code("BARTB")));
    assert_eq!(rec.version, 2, "the record changed, so its version moved");
    let into = s.organisation(&code("BARTB")).await.unwrap().unwrap();
    assert!(into.aliases.contains(&"Barts Health NHS Trust".to_string()));
    assert_eq!(
        s.organisation(&code("BARTA"))
            .await
            .unwrap()
            .unwrap()
            .status,
        OrgStatus::Merged
    );
    // Refusals change nothing.
    for (from, to) in [
        ("BARTA", "BARTB"),
        ("BARTB", "BARTA"),
        ("BARTB", "BARTB"),
        ("HSSIB", "BARTB"),
        ("NOPE", "BARTB"),
    ] {
        assert!(
            s.merge_organisations(&actor(), &code(from), &code(to), now())
                .await
                .is_err(),
            "{from} -> {to}"
        );
    }
    assert_eq!(
        s.get(&id("HSSIB-2024-0001"))
            .await
            .unwrap()
            .unwrap()
            .version,
        2
    );

    // A merge kept in a backup can be undone after a restore.
    let other = match (db.backend, pg_admin_url().is_some()) {
        (Backend::Sqlite, true) => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let target = db.sibling(other, "merge_restore").await;
    target
        .store
        .restore(&mut std::io::Cursor::new(db.dump().await.into_bytes()))
        .await
        .unwrap();
    let restored = target
        .store
        .unmerge_organisation(&actor(), &code("BARTA"), now())
        .await
        .unwrap();
    assert_eq!((restored.moved, restored.recommendations), (1, 1));

    let u = s
        .unmerge_organisation(&actor(), &code("BARTA"), now())
        .await
        .unwrap();
    assert_eq!((u.moved, u.recommendations), (1, 1));
    let rec = s.get(&id("HSSIB-2024-0001")).await.unwrap().unwrap();
    assert_eq!(rec.data.addressees[0].org, Some(code("BARTA")));
    assert_eq!(
        s.organisation(&code("BARTB"))
            .await
            .unwrap()
            .unwrap()
            .aliases,
        b.aliases
    );
    assert_eq!(
        s.organisation(&code("BARTA"))
            .await
            .unwrap()
            .unwrap()
            .status,
        OrgStatus::Unverified
    );
    assert!(
        s.unmerge_organisation(&actor(), &code("BARTA"), now())
            .await
            .is_err(),
        "nothing left to undo"
    );

    let c = s
        .confirm_organisation(&actor(), &code("BARTA"), Some("Barts Health"), None, now())
        .await
        .unwrap();
    assert_eq!(c.status, OrgStatus::Verified);
    assert_eq!(c.name, "Barts Health");
    assert!(c.aliases.contains(&"Barts Health NHS Trust".to_string()));
    let actions: Vec<String> = s
        .history("BARTA")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        vec![
            "add_organisation",
            "merge_organisation",
            "unmerge_organisation",
            "rename_organisation"
        ]
    );
}
