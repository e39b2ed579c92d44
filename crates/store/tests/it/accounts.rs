//! Users, memberships, sessions, sign-in attempts and refusals: round trips
//! on SQLite and (when CONCORD_TEST_PG_URL names a server) PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use concord_domain::account::{Email, Membership, Role, RoleSet};
use concord_domain::{Actor, OrgCode};
use concord_store::{SessionRecord, SqlStore, Store, StoreError};

/// Runs `test` on a fresh SQLite store and a fresh PostgreSQL database.
async fn on_both<F, Fut>(test: F)
where
    F: Fn(SqlStore) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("a.db").display());
    test(SqlStore::open(&url).await.expect("open sqlite")).await;
    if let Some(pg) = concord_testkit::PgDatabase::create("concord_acc").await {
        let store = SqlStore::open(&pg.url).await.expect("open postgres");
        test(store.clone()).await;
        store.close().await;
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    t("2026-11-27T10:00:00.123456789Z")
}

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

fn roles(s: &str) -> RoleSet {
    RoleSet::parse("roles", s).unwrap()
}

fn actor() -> Actor {
    Actor::system("test")
}

async fn audit_actions(s: &SqlStore, entity_id: &str) -> Vec<String> {
    s.history(entity_id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_memberships_round_trip() {
    on_both(|s| async move {
        let email = Email::parse("Ann.Lee@Trust.nhs.uk").unwrap();
        let ms = vec![
            Membership {
                org: code("HSSIB"),
                roles: roles("author,approver"),
            },
            Membership {
                org: code("CQC"),
                roles: roles("administrator"),
            },
        ];
        let u = s
            .add_user(&actor(), &email, "Ann Lee", "$argon2id$fake", &ms, now())
            .await
            .unwrap();
        assert_eq!(u.email.as_str(), "ann.lee@trust.nhs.uk");
        assert!(!u.disabled);
        assert_eq!(u.created_at, now());
        // Unique whatever the case.
        let again = s
            .add_user(
                &actor(),
                &Email::parse("ANN.LEE@trust.nhs.uk").unwrap(),
                "Other",
                "h",
                &[],
                now(),
            )
            .await;
        assert!(
            matches!(again, Err(StoreError::Duplicate(ref m)) if m.contains("field email")),
            "{again:?}"
        );
        let found = s.user_by_email(&email).await.unwrap().unwrap();
        assert_eq!(found.user, u);
        assert_eq!(found.password_hash, "$argon2id$fake");
        assert_eq!(s.user(u.id).await.unwrap().unwrap().user, u);
        assert!(s.user(u.id + 100).await.unwrap().is_none());
        // Memberships come back sorted by organisation.
        let got = s.memberships(u.id).await.unwrap();
        assert_eq!(
            got.iter().map(|m| m.org.as_str()).collect::<Vec<_>>(),
            ["CQC", "HSSIB"]
        );
        assert!(got[1].roles.contains(Role::Approver));

        let bob = s
            .add_user(
                &actor(),
                &Email::parse("bob@cqc.org.uk").unwrap(),
                "Bob",
                "h2",
                &[ms[1].clone()],
                now(),
            )
            .await
            .unwrap();
        let of_hssib = s.users(Some(&code("HSSIB"))).await.unwrap();
        assert_eq!(of_hssib.len(), 1);
        assert_eq!(of_hssib[0].0.id, u.id);
        assert_eq!(s.users(Some(&code("CQC"))).await.unwrap().len(), 2);
        assert_eq!(s.users(None).await.unwrap().len(), 2);

        s.set_membership(&actor(), bob.id, &code("HSSIB"), roles("respondent"), now())
            .await
            .unwrap();
        s.set_membership(&actor(), bob.id, &code("CQC"), RoleSet::EMPTY, now())
            .await
            .unwrap();
        let bm = s.memberships(bob.id).await.unwrap();
        assert_eq!(
            bm,
            vec![Membership {
                org: code("HSSIB"),
                roles: roles("respondent")
            }]
        );
        assert!(matches!(
            s.set_membership(&actor(), 9999, &code("HSSIB"), roles("author"), now())
                .await,
            Err(StoreError::NotFound { .. })
        ));

        s.set_user_disabled(&actor(), bob.id, true, now())
            .await
            .unwrap();
        assert!(s.user(bob.id).await.unwrap().unwrap().user.disabled);
        assert!(matches!(
            s.set_user_disabled(&actor(), 9999, true, now()).await,
            Err(StoreError::NotFound { .. })
        ));
        assert_eq!(
            audit_actions(&s, &format!("user:{}", bob.id)).await,
            [
                "add_user",
                "set_membership",
                "remove_membership",
                "disable_user"
            ]
        );
        // The audit trail never holds a password hash.
        for e in s.history(&format!("user:{}", u.id)).await.unwrap() {
            assert!(!format!("{e:?}").contains("argon2"), "{e:?}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_round_trip_and_end_with_the_user() {
    on_both(|s| async move {
        let u = s
            .add_user(
                &actor(),
                &Email::parse("ann@hssib.org.uk").unwrap(),
                "Ann",
                "h",
                &[Membership {
                    org: code("HSSIB"),
                    roles: roles("author"),
                }],
                now(),
            )
            .await
            .unwrap();
        let rec = SessionRecord {
            id_hash: "hash-a".into(),
            user_id: u.id,
            org: Some(code("HSSIB")),
            csrf: "csrf-a".into(),
            created_at: now(),
            last_seen: now(),
            expires_at: now() + Duration::hours(2),
        };
        s.create_session(&rec).await.unwrap();
        assert!(matches!(
            s.create_session(&rec).await,
            Err(StoreError::Duplicate(_))
        ));
        assert_eq!(s.session("hash-a").await.unwrap(), Some(rec.clone()));
        assert!(s.session("nope").await.unwrap().is_none());
        let later = now() + Duration::minutes(30);
        s.touch_session("hash-a", None, later, later + Duration::hours(2))
            .await
            .unwrap();
        let got = s.session("hash-a").await.unwrap().unwrap();
        assert_eq!((got.org, got.last_seen), (None, later));
        s.delete_session("hash-a").await.unwrap();
        assert!(s.session("hash-a").await.unwrap().is_none());

        // Removing the membership ends sessions acting for it; disabling ends all.
        s.create_session(&SessionRecord {
            id_hash: "b".into(),
            ..rec.clone()
        })
        .await
        .unwrap();
        s.create_session(&SessionRecord {
            id_hash: "c".into(),
            org: None,
            ..rec.clone()
        })
        .await
        .unwrap();
        s.set_membership(&actor(), u.id, &code("HSSIB"), RoleSet::EMPTY, now())
            .await
            .unwrap();
        assert!(s.session("b").await.unwrap().is_none());
        assert!(s.session("c").await.unwrap().is_some());
        s.set_user_disabled(&actor(), u.id, true, now())
            .await
            .unwrap();
        assert!(s.session("c").await.unwrap().is_none());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_failures_count_in_the_window_after_the_last_success() {
    on_both(|s| async move {
        let at = |m: i64| now() + Duration::minutes(m);
        for m in [0, 1, 2] {
            s.record_sign_in("ann@x.uk", "10.0.0.1", false, at(m))
                .await
                .unwrap();
        }
        s.record_sign_in("ann@x.uk", "10.0.0.2", false, at(2))
            .await
            .unwrap();
        s.record_sign_in("bob@x.uk", "10.0.0.1", false, at(2))
            .await
            .unwrap();
        assert_eq!(
            s.sign_in_failures("ann@x.uk", "10.0.0.1", at(-15))
                .await
                .unwrap(),
            3
        );
        // Only inside the window.
        assert_eq!(
            s.sign_in_failures("ann@x.uk", "10.0.0.1", at(0))
                .await
                .unwrap(),
            2
        );
        s.record_sign_in("ann@x.uk", "10.0.0.1", true, at(3))
            .await
            .unwrap();
        s.record_sign_in("ann@x.uk", "10.0.0.1", false, at(4))
            .await
            .unwrap();
        assert_eq!(
            s.sign_in_failures("ann@x.uk", "10.0.0.1", at(-15))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            s.sign_in_failures("ann@x.uk", "10.0.0.2", at(-15))
                .await
                .unwrap(),
            1
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_keep_their_roles_and_refusals_are_audited() {
    on_both(|s| async move {
        let a = s
            .add_token_with_roles(
                &actor(),
                &concord_store::TokenGrant {
                    org: &code("HSSIB"),
                    label: "ro",
                    roles: roles("respondent"),
                    secret_hash: "h1",
                    expires_at: None,
                },
                now(),
            )
            .await
            .unwrap();
        assert_eq!(a.roles, roles("respondent"));
        let b = s
            .add_token(&actor(), &code("CQC"), "all", "h2", now())
            .await
            .unwrap();
        assert_eq!(b.roles, RoleSet::token_default());
        assert_eq!(s.token_by_hash("h1").await.unwrap(), Some(a.clone()));
        assert_eq!(s.token(b.id).await.unwrap(), Some(b.clone()));
        assert_eq!(
            s.tokens(Some(&code("HSSIB"))).await.unwrap(),
            vec![a.clone()]
        );
        assert_eq!(s.tokens(None).await.unwrap().len(), 2);
        s.revoke_token(&actor(), a.id, now()).await.unwrap();
        assert!(
            s.tokens(Some(&code("HSSIB"))).await.unwrap()[0]
                .revoked_at
                .is_some()
        );

        let who = Actor {
            label: "token:2:all".into(),
            org: Some(code("CQC")),
        };
        s.record_refusal(
            &who,
            "POST /api/v1/recommendations",
            "HSSIB-2024-0001",
            "CQC cannot",
            now(),
        )
        .await
        .unwrap();
        let h = s.history("HSSIB-2024-0001").await.unwrap();
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].action, "refused");
        assert_eq!(h[0].actor, "token:2:all");
        let after = h[0].after.as_ref().expect("why").to_string();
        assert!(
            after.contains("CQC cannot") && after.contains("POST"),
            "{after}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_survive_backup_and_restore() {
    on_both(|s| async move {
        let u = s
            .add_user(
                &actor(),
                &Email::parse("ann@hssib.org.uk").unwrap(),
                "Ann",
                "$argon2id$x",
                &[Membership {
                    org: code("HSSIB"),
                    roles: roles("author,administrator"),
                }],
                now(),
            )
            .await
            .unwrap();
        s.add_token_with_roles(
            &actor(),
            &concord_store::TokenGrant {
                org: &code("HSSIB"),
                label: "t",
                roles: roles("author"),
                secret_hash: "h",
                expires_at: None,
            },
            now(),
        )
        .await
        .unwrap();
        let mut out = Vec::new();
        s.backup(&mut out).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let other = SqlStore::open(&format!("sqlite://{}", dir.path().join("r.db").display()))
            .await
            .unwrap();
        other.restore(&mut std::io::Cursor::new(out)).await.unwrap();
        let back = other.user(u.id).await.unwrap().unwrap();
        assert_eq!(back.user, u);
        assert_eq!(back.password_hash, "$argon2id$x");
        assert_eq!(
            other.memberships(u.id).await.unwrap(),
            s.memberships(u.id).await.unwrap()
        );
        assert_eq!(
            other.tokens(None).await.unwrap(),
            s.tokens(None).await.unwrap()
        );
    })
    .await;
}

/// A password reset: one live link per person, found only before it
/// expires, used once (password set, sessions ended, audited), pruned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_resets_work_once_and_expire() {
    on_both(|s| async move {
        let u = s
            .add_user(
                &actor(),
                &Email::parse("dan@hssib.org.uk").unwrap(),
                "Dan",
                "old-hash",
                &[],
                now(),
            )
            .await
            .unwrap();
        let until = now() + Duration::hours(24);
        s.issue_password_reset(&actor(), u.id, "first", until, now())
            .await
            .unwrap();
        // A new link replaces the last.
        s.issue_password_reset(&actor(), u.id, "second", until, now())
            .await
            .unwrap();
        assert_eq!(s.password_reset("first", now()).await.unwrap(), None);
        assert_eq!(s.password_reset("second", now()).await.unwrap(), Some(u.id));
        assert_eq!(s.password_reset("second", until).await.unwrap(), None);
        s.create_session(&SessionRecord {
            id_hash: "dan-session".into(),
            user_id: u.id,
            org: None,
            csrf: "c".into(),
            created_at: now(),
            last_seen: now(),
            expires_at: now() + Duration::hours(2),
        })
        .await
        .unwrap();
        // Expired: nothing changes.
        assert!(
            !s.use_password_reset(&actor(), "second", u.id, "new-hash", until)
                .await
                .unwrap()
        );
        assert_eq!(
            s.user(u.id).await.unwrap().unwrap().password_hash,
            "old-hash"
        );
        // In time: once.
        assert!(
            s.use_password_reset(&actor(), "second", u.id, "new-hash", now())
                .await
                .unwrap()
        );
        assert!(
            !s.use_password_reset(&actor(), "second", u.id, "other-hash", now())
                .await
                .unwrap()
        );
        assert_eq!(
            s.user(u.id).await.unwrap().unwrap().password_hash,
            "new-hash"
        );
        assert!(s.session("dan-session").await.unwrap().is_none());
        let trail = audit_actions(&s, &format!("user:{}", u.id)).await;
        assert_eq!(
            trail
                .iter()
                .filter(|a| a.as_str() == "issue_password_reset")
                .count(),
            2,
            "{trail:?}"
        );
        assert!(trail.iter().any(|a| a == "reset_password"), "{trail:?}");
        // Pruning takes expired links.
        s.issue_password_reset(&actor(), u.id, "third", until, now())
            .await
            .unwrap();
        s.prune_sign_ins(now(), until).await.unwrap();
        assert_eq!(s.password_reset("third", now()).await.unwrap(), None);
    })
    .await;
}
