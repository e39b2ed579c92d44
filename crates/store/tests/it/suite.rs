//! The store's test suite, against real databases: every test runs on SQLite
//! (a fresh temporary file) and on PostgreSQL (a fresh database per test,
//! created through the admin URL in `CONCORD_TEST_PG_URL`; see
//! `scripts/pg-test-cluster.sh`). Without that variable the PostgreSQL half
//! is skipped with a notice, except under `CI=true`, where it fails.

use std::collections::{BTreeSet, HashSet};
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::lifecycle::*;
use concord_domain::*;
use concord_store::{
    Backend, DraftVisibility, Page, PartsFilter, RecommendationFilter, SqlStore, Store, StoreError,
};
use concord_testkit::{PgDatabase, pg_admin_url};
use sqlx::Row;

// ---------------------------------------------------------------- harness

struct Db {
    store: SqlStore,
    url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    /// Dropped (the database with it) after the store is closed.
    pg: Option<PgDatabase>,
}

impl Db {
    async fn new(backend: Backend, test: &str) -> Option<Db> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("concord.db").display());
                let store = SqlStore::open(&url).await.expect("open sqlite");
                Some(Db {
                    store,
                    url,
                    backend,
                    _dir: Some(dir),
                    pg: None,
                })
            }
            Backend::Postgres => {
                let pg = PgDatabase::create(&format!("concord_t_{test}")).await?;
                let store = SqlStore::open(&pg.url).await.expect("open postgres");
                Some(Db {
                    store,
                    url: pg.url.clone(),
                    backend,
                    _dir: None,
                    pg: Some(pg),
                })
            }
        }
    }

    /// Another fresh, empty database of the given backend.
    async fn sibling(&self, backend: Backend, test: &str) -> Db {
        Db::new(backend, test).await.expect("backend available")
    }

    async fn finish(self) {
        self.store.close().await;
        drop(self.pg);
    }

    /// Raw access for checks the Store trait does not offer.
    async fn scalar(&self, sql: &'static str) -> i64 {
        let row = sqlx::query(sql)
            .fetch_one(&raw_pool(&self.url).await)
            .await
            .expect(sql);
        row.try_get::<i64, _>(0).expect("integer")
    }

    async fn ints(&self, sql: &'static str) -> Vec<i64> {
        sqlx::query(sql)
            .fetch_all(&raw_pool(&self.url).await)
            .await
            .expect(sql)
            .iter()
            .map(|r| r.try_get::<i64, _>(0).unwrap())
            .collect()
    }

    async fn dump(&self) -> String {
        let mut out = Vec::new();
        self.store.backup(&mut out).await.expect("backup");
        String::from_utf8(out).unwrap()
    }
}

async fn raw_pool(url: &str) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .expect("raw connect")
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = Db::new(Backend::Sqlite, stringify!($name)).await.unwrap();
                super::$name(&db).await;
                db.finish().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = Db::new(Backend::Postgres, stringify!($name)).await {
                    super::$name(&db).await;
                    db.finish().await;
                }
            }
        }
    )* };
}

suite!(
    numbered_placeholders_work_on_both,
    migrations_are_recorded_once,
    create_get_and_round_trip,
    list_filters_and_paging,
    work_queues_by_addressee_state,
    draft_visibility,
    update_versions_and_conflicts,
    audit_and_outbox_in_the_same_transaction,
    nothing_written_when_create_fails,
    id_allocation,
    concurrent_writers_never_share_an_id,
    import_is_idempotent,
    import_is_all_or_nothing,
    import_refuses_a_different_record_under_a_taken_id,
    import_survives_sigkill,
    import_attaches_responses,
    scan_orders_by_issuer_year_sequence,
    backup_restores_into_the_other_backend,
    restore_refuses_a_non_empty_database,
    restore_reports_bad_lines,
    organisations_are_added_not_overwritten,
    api_tokens,
    issuer_criteria_are_set_audited_and_backed_up,
    provider_profiles_are_set_audited_and_backed_up,
    endorsements_are_kept_audited_and_backed_up,
    feed_events_in_scope_newest_first,
    a_second_source_enriches_a_known_report,
    organisations_are_confirmed_merged_and_unmerged,
);

// ---------------------------------------------------------------- data

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

fn d(s: &str) -> Option<NaiveDate> {
    Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn now() -> DateTime<Utc> {
    t("2024-09-16T10:00:00.123456789Z")
}

fn actor() -> Actor {
    Actor::system("test")
}

fn id(s: &str) -> RecommendationId {
    RecommendationId::parse(s).unwrap()
}

fn data(issuer: &str, title: &str) -> RecommendationData {
    RecommendationData {
        local_ref: Some("R1".into()),
        kind: RecKind::Recommendation,
        issuer: code(issuer),
        source: Some(Source {
            title: Some("A report".into()),
            date: d("2024-01-02"),
            url: Some("https://example.org/report".into()),
            local_ref: Some("I2024/001".into()),
        }),
        title: title.into(),
        text: format!("{title}: do the thing."),
        published: d("2024-03-01"),
        status: Lifecycle::Published,
        level: Some(SystemLevel::National),
        addressees: vec![Addressee {
            name: "NHS England".into(),
            org: Some(code("NHSE")),
            status: AddresseeStatus::AwaitingResponse,
            due: d("2024-06-01"),
            responses: vec![Response {
                received: d("2024-05-01"),
                respondent: Some("NHS England".into()),
                url: Some("https://example.org/reply".into()),
                text: Some("We agree.".into()),
                acceptance: Some(Acceptance::PartlyAccepted),
                reasons: Some("Only in adults.".into()),
            }],
            // Every lifecycle field, so that round trips cover them all.
            acceptance: Some(Acceptance::PartlyAccepted),
            implementation: Some(Implementation::InProgress),
            assessment: Some(AssessmentRecord {
                verdict: Assessment::SatisfactoryInPart,
                comment: Some("Children left out.".into()),
                on: d("2024-05-10").unwrap(),
                by: Some("HSSIB".into()),
            }),
            closure: None,
            reassess_on: d("2025-05-01"),
            verified_on: None,
            escalations: vec![Escalation {
                step: EscalationStep::Reminder,
                on: d("2024-04-02").unwrap(),
                note: None,
                by: Some("HSSIB".into()),
            }],
            actions: vec![ActionItem {
                title: "Audit screening".into(),
                owner: Some("Medical director".into()),
                due: d("2024-09-01"),
                progress: Implementation::InProgress,
                evidence: vec!["https://example.org/audit".into()],
                added_on: d("2024-05-02").unwrap(),
            }],
            updates: vec![ProgressUpdate {
                on: d("2024-05-03").unwrap(),
                implementation: Implementation::InProgress,
                note: Some("Pilot in two wards.".into()),
                evidence: vec![],
                action: Some(1),
                by: Some("NHSE".into()),
            }],
        }],
        themes: vec!["Sepsis".into(), "Deterioration".into()],
        settings: vec!["Acute".into()],
        evidence: Some(Evidence {
            kind: Some(EvidenceKind::Investigation),
            references: vec!["ref 1".into()],
            strength: Some(EvidenceStrength::Moderate),
        }),
        patient_impact: Some("Fewer deaths".into()),
        cost: Some(Cost {
            one_off: Some(1000.25),
            recurring: None,
            currency: "GBP".into(),
            confidence: Some(Confidence::Low),
            cost_effectiveness: None,
        }),
        equality: Some(EqualityImpact {
            groups: vec!["older people".into()],
            direction: EqualityDirection::Reduces,
            mitigation: None,
        }),
        risk: Some(Risk::High),
        response_deadline: d("2024-06-01"),
        links: vec![Link {
            kind: LinkKind::Related,
            target: "PFD-2023-0001".into(),
            state: LinkState::Confirmed,
            asserted_by: Some("HSSIB".into()),
            asserted_at: Some(t("2024-03-01T09:00:00Z")),
        }],
    }
}

fn alloc(issuer: &str, year: u16, data: RecommendationData) -> NewRecommendation {
    NewRecommendation {
        provenance: Default::default(),
        id: IdRequest::Allocate {
            issuer: code(issuer),
            year,
            floor: 1,
        },
        data,
        import_key: None,
        version: None,
        created_at: None,
        updated_at: None,
    }
}

fn exact(s: &str, data: RecommendationData) -> NewRecommendation {
    NewRecommendation {
        id: IdRequest::Exact(id(s)),
        ..alloc("HSSIB", 2024, data)
    }
}

fn org(code_: &str, name: &str) -> Organisation {
    Organisation {
        status: Default::default(),
        code: code(code_),
        name: name.into(),
        kind: OrgKind::Provider,
        level: OrgLevel::Provider,
        provider_kind: Some(ProviderKind::AcuteTrust),
        region: Some("North".into()),
        aliases: vec![format!("{name} alias")],
    }
}

fn no_progress(_: u64) {}

fn ids_of(recs: &[Recommendation]) -> Vec<String> {
    recs.iter().map(|r| r.id.to_string()).collect()
}

// ---------------------------------------------------------------- tests

async fn numbered_placeholders_work_on_both(db: &Db) {
    // `$N` placeholders, out of order and repeated, bind by number on SQLite too.
    let row = sqlx::query("SELECT CAST($2 AS BIGINT) - CAST($1 AS BIGINT) + CAST($2 AS BIGINT)")
        .bind(1_i64)
        .bind(10_i64)
        .fetch_one(&raw_pool(&db.url).await)
        .await
        .unwrap();
    assert_eq!(row.try_get::<i64, _>(0).unwrap(), 19);
}

async fn migrations_are_recorded_once(db: &Db) {
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM schema_migrations").await,
        migration_files(db.backend)
    );
    // Opening again applies nothing new and keeps the data.
    db.store
        .create(&actor(), alloc("HSSIB", 2024, data("HSSIB", "A")), now())
        .await
        .unwrap();
    let again = SqlStore::open(&db.url).await.unwrap();
    assert_eq!(again.count().await.unwrap(), 1);
    again.close().await;
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM schema_migrations").await,
        migration_files(db.backend)
    );
    assert_eq!(db.store.backend(), db.backend);
    if db.backend == Backend::Sqlite {
        let row = sqlx::query("PRAGMA journal_mode")
            .fetch_one(&raw_pool(&db.url).await)
            .await
            .unwrap();
        assert_eq!(row.try_get::<String, _>(0).unwrap(), "wal");
    }
}

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

/// issuer, title, published, theme, setting, status, kind, addressee name
type ListingSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Lifecycle,
    RecKind,
    &'static str,
);

async fn seed_for_listing(s: &SqlStore) -> Vec<Recommendation> {
    let mut out = Vec::new();
    let specs: &[ListingSpec] = &[
        // issuer, title, published, theme, setting, status, kind, addressee name
        (
            "HSSIB",
            "Alpha",
            "2024-01-10",
            "Sepsis",
            "Acute",
            Lifecycle::Published,
            RecKind::Recommendation,
            "NHS England",
        ),
        (
            "HSSIB",
            "Bravo",
            "2024-03-05",
            "Falls",
            "Community",
            Lifecycle::Closed,
            RecKind::SafetyObservation,
            "Care Quality Commission",
        ),
        (
            "CQC",
            "Charlie",
            "2023-11-20",
            "sepsis",
            "Acute",
            Lifecycle::Published,
            RecKind::Recommendation,
            "Northmoor Hospitals NHS Trust",
        ),
        (
            "CQC",
            "Delta",
            "2024-03-05",
            "Medicines",
            "Primary care",
            Lifecycle::Withdrawn,
            RecKind::Concern,
            "Royal College of 50% Nursing",
        ),
        (
            "MNSI",
            "Echo",
            "2022-07-01",
            "Maternity",
            "Acute",
            Lifecycle::Published,
            RecKind::SafetyAction,
            "NHS England",
        ),
    ];
    for (issuer, title, published, theme, setting, status, kind, addressee) in specs {
        let mut dt = data(issuer, title);
        dt.published = d(published);
        dt.response_deadline = None;
        dt.themes = vec![theme.to_string()];
        dt.settings = vec![setting.to_string()];
        dt.status = *status;
        dt.kind = *kind;
        dt.addressees[0].name = addressee.to_string();
        dt.addressees[0].due = None;
        dt.addressees[0].org = if *addressee == "NHS England" {
            Some(code("NHSE"))
        } else {
            None
        };
        out.push(
            s.create(&actor(), alloc(issuer, 2024, dt), now())
                .await
                .unwrap(),
        );
    }
    out
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

fn pfd_batch(n: usize) -> Vec<NewRecommendation> {
    (0..n)
        .map(|i| {
            let mut dt = data("PFD", &format!("Report {i}"));
            dt.kind = RecKind::Concern;
            let req = if i % 3 == 0 {
                IdRequest::Allocate {
                    issuer: code("PFD"),
                    year: 2023,
                    floor: PFD_FALLBACK_FLOOR,
                }
            } else {
                // Every fifth report repeats the judiciary reference of report 1.
                let n = if i % 5 == 0 { 2 } else { i + 1 };
                IdRequest::Preferred {
                    id: id(&format!("PFD-2024-{n:04}")),
                    fallback_floor: PFD_FALLBACK_FLOOR,
                }
            };
            NewRecommendation {
                provenance: Default::default(),
                id: req,
                data: dt,
                import_key: Some(format!("https://judiciary.example/report-{i}")),
                version: None,
                created_at: None,
                updated_at: None,
            }
        })
        .collect()
}

async fn import_is_idempotent(db: &Db) {
    let s = &db.store;
    const N: usize = 1234;
    let calls = Arc::new(AtomicU64::new(0));
    let last = Arc::new(AtomicU64::new(0));
    let (c, l) = (calls.clone(), last.clone());
    let progress = move |n: u64| {
        c.fetch_add(1, Ordering::SeqCst);
        l.store(n, Ordering::SeqCst);
    };
    let orgs = vec![org("NMH", "Northmoor Hospitals NHS Foundation Trust")];
    let first = s
        .import(&actor(), &orgs, pfd_batch(N), vec![], now(), &progress)
        .await
        .unwrap();
    assert_eq!((first.imported, first.skipped), (N as u64, 0));
    assert_eq!(last.load(Ordering::SeqCst), N as u64);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "every 1000 records, and at the end"
    );
    assert_eq!(s.count().await.unwrap(), N as u64);
    assert!(s.organisation(&code("NMH")).await.unwrap().is_some());
    let dump = db.dump().await;

    let again = s
        .import(&actor(), &orgs, pfd_batch(N), vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((again.imported, again.skipped), (0, N as u64));
    assert_eq!(
        db.dump().await,
        dump,
        "the second import changes nothing at all"
    );

    // Preferred ids were used when free, shared references fell back to 9000+.
    let r1 = s
        .get_by_import_key("https://judiciary.example/report-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r1.id.to_string(), "PFD-2024-0002");
    let r10 = s
        .get_by_import_key("https://judiciary.example/report-10")
        .await
        .unwrap()
        .unwrap();
    assert!(
        r10.id.seq >= PFD_FALLBACK_FLOOR && r10.id.year == 2024,
        "{}",
        r10.id
    );
    let r0 = s
        .get_by_import_key("https://judiciary.example/report-0")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r0.id.to_string(), "PFD-2023-9000");
    // One audit row per record (after = NULL) and one summary row.
    assert_eq!(db.scalar("SELECT COUNT(*) FROM audit_events WHERE action = 'import' AND entity = 'recommendation' AND after_json IS NULL").await, N as i64);
    assert_eq!(
        db.scalar("SELECT COUNT(*) FROM audit_events WHERE entity = 'import'")
            .await,
        1
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM outbox").await, N as i64);
    // The sequences moved past every number used by the import.
    let next = s
        .create(&actor(), alloc("PFD", 2023, data("PFD", "after")), now())
        .await
        .unwrap();
    assert_eq!(next.id.seq as usize, 9000 + N.div_ceil(3));
    // Exact ids already present are skipped too; within one batch as well.
    let exported = s.get(&id("PFD-2024-0002")).await.unwrap().unwrap();
    let mut copy = exported.clone();
    copy.import_key = Some("another key".into());
    let mut fresh = exported.clone();
    fresh.id = id("PFD-2024-7777");
    fresh.import_key = None;
    let batch = vec![
        NewRecommendation::from_export(copy),
        NewRecommendation::from_export(fresh.clone()),
        NewRecommendation::from_export(fresh.clone()),
    ];
    let sum = s
        .import(&actor(), &[], batch, vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((sum.imported, sum.skipped), (1, 2));
    assert_eq!(
        s.get(&fresh.id).await.unwrap().unwrap(),
        fresh,
        "an exported record comes back exactly"
    );
}

async fn import_refuses_a_different_record_under_a_taken_id(db: &Db) {
    let s = &db.store;
    let first = vec![exact("HSSIB-2024-0012", data("HSSIB", "Sepsis screening"))];
    let done = s
        .import(&actor(), &[], first.clone(), vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((done.imported, done.skipped), (1, 0));
    let dump = db.dump().await;
    // The same record again: skipped.
    let again = s
        .import(&actor(), &[], first, vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!((again.imported, again.skipped), (0, 1));
    // Another record under the same id, behind a good one: refused, whole.
    let batch = vec![
        alloc("CQC", 2024, data("CQC", "Fine")),
        exact("HSSIB-2024-0012", data("HSSIB", "Something else entirely")),
    ];
    match s
        .import(&actor(), &[], batch, vec![], now(), &no_progress)
        .await
    {
        Err(StoreError::ImportRecord { index, message }) => {
            assert_eq!(index, 1);
            assert!(
                message.contains("HSSIB-2024-0012") && message.contains("different content"),
                "{message}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(db.dump().await, dump, "nothing was written");
}

async fn import_is_all_or_nothing(db: &Db) {
    let s = &db.store;
    s.create(&actor(), alloc("PFD", 2024, data("PFD", "Before")), now())
        .await
        .unwrap();
    s.add_organisation(&actor(), &org("OLD", "Old Trust"))
        .await
        .unwrap();
    let before = db.dump().await;

    let mut batch = pfd_batch(1500);
    batch[1100].data.title = "   ".into();
    let orgs = vec![org("NEWT", "New Trust"), org("OLD", "Renamed")];
    match s
        .import(&actor(), &orgs, batch, vec![], now(), &no_progress)
        .await
    {
        Err(StoreError::ImportRecord { index, message }) => {
            assert_eq!(index, 1100);
            assert!(message.contains("field title"), "{message}");
        }
        other => panic!("expected invalid, got {other:?}"),
    }
    // Two chunks were written before the bad record; all rolled back.
    assert_eq!(
        db.dump().await,
        before,
        "records, organisations, id_sequences, audit and outbox unchanged"
    );
    assert!(s.organisation(&code("NEWT")).await.unwrap().is_none());
}

/// Run by `import_survives_sigkill` in a child process, never on its own:
/// starts a long import and reports progress on stdout until it is killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn sigkill_child() {
    let Ok(url) = std::env::var("CONCORD_SIGKILL_URL") else {
        return;
    };
    let store = SqlStore::open(&url).await.unwrap();
    let progress = |n: u64| {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "progress {n}");
        let _ = out.flush();
    };
    let orgs = [org("KILL", "Killed Trust")];
    let r = store
        .import(
            &actor(),
            &orgs,
            pfd_batch(300_000),
            vec![],
            now(),
            &progress,
        )
        .await;
    println!("finished {:?}", r.map(|s| s.imported));
}

async fn import_survives_sigkill(db: &Db) {
    use std::io::BufRead as _;
    db.store
        .create(&actor(), alloc("PFD", 2024, data("PFD", "Before")), now())
        .await
        .unwrap();
    let before = db.dump().await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "suite::sigkill_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CONCORD_SIGKILL_URL", &db.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // Wait until several chunks of the import have been written.
    let under_way = tokio::task::spawn_blocking(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.ok()?;
            if let Some(n) = line.strip_prefix("progress ") {
                if n.trim().parse::<u64>().ok()? >= 3000 {
                    return Some(line);
                }
            } else if line.starts_with("finished") {
                return None;
            }
        }
        None
    })
    .await
    .unwrap();
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    assert!(under_way.is_some(), "the child's import never got going");
    assert_eq!(
        db.dump().await,
        before,
        "a killed import leaves the database as it was"
    );
    // And the database is fine to use afterwards.
    let sum = db
        .store
        .import(&actor(), &[], pfd_batch(10), vec![], now(), &no_progress)
        .await
        .unwrap();
    assert_eq!(sum.imported, 10);
}

async fn import_attaches_responses(db: &Db) {
    let s = &db.store;
    let report = |key: &str, addressees: Vec<(&str, Option<&str>)>| {
        let mut dt = data("PFD", key);
        dt.addressees = addressees
            .into_iter()
            .map(|(n, o)| Addressee {
                name: n.into(),
                org: o.map(code),
                status: AddresseeStatus::AwaitingResponse,
                due: d("2024-05-01"),
                responses: vec![],
                ..Default::default()
            })
            .collect();
        NewRecommendation {
            import_key: Some(key.into()),
            ..alloc("PFD", 2024, dt)
        }
    };
    let resp = |row: usize,
                key: &str,
                who: Option<&str>,
                org: Option<&str>,
                url: Option<&str>,
                text: Option<&str>| {
        ResponseAttachment {
            row,
            parent_key: key.into(),
            respondent: who.map(String::from),
            respondent_org: org.map(code),
            response: Response {
                received: d("2024-04-20"),
                respondent: None,
                url: url.map(String::from),
                text: text.map(String::from),
                ..Default::default()
            },
        }
    };
    // First: the reports, and a response whose report is in the same batch.
    let sum = s
        .import(
            &actor(),
            &[],
            vec![
                report(
                    "k1",
                    vec![
                        ("Chief Executive, NHS England", Some("NHSE")),
                        ("Northmoor Hospitals NHS Trust", None),
                    ],
                ),
                report("k2", vec![("Care Quality Commission", Some("CQC"))]),
            ],
            vec![resp(1, "k2", Some("CQC"), Some("CQC"), Some("u-cqc"), None)],
            now(),
            &no_progress,
        )
        .await
        .unwrap();
    assert_eq!((sum.imported, sum.responses_attached), (2, 1));
    let k2 = s.get_by_import_key("k2").await.unwrap().unwrap();
    assert_eq!(k2.version, 1, "attached while importing the report");
    assert_eq!(
        k2.data.addressees[0].status,
        AddresseeStatus::ResponseReceived
    );
    assert_eq!(
        k2.data.addressees[0].responses[0].url.as_deref(),
        Some("u-cqc")
    );

    // Then a responses file for reports already stored.
    let later = t("2024-10-01T00:00:00Z");
    let responses = vec![
        resp(
            1,
            "k1",
            Some("NHS England"),
            Some("NHSE"),
            Some("u1"),
            Some("by org"),
        ),
        resp(
            2,
            "k1",
            Some("Northmoor Hospitals"),
            None,
            Some("u2"),
            Some("by name"),
        ),
        resp(
            3,
            "k1",
            Some("Royal College of Nursing"),
            None,
            Some("u3"),
            Some("new addressee"),
        ),
        resp(
            4,
            "k1",
            Some("NHS England"),
            Some("NHSE"),
            Some("u1"),
            Some("same url again"),
        ),
        resp(5, "k1", Some("Someone"), None, None, Some("no url")),
        resp(6, "k1", Some("Someone"), None, None, Some("no url")),
        resp(7, "missing", Some("Nobody"), None, Some("u7"), None),
        resp(8, "k2", Some("CQC"), Some("CQC"), Some("u-cqc"), None),
        resp(9, "also missing", None, None, None, None),
    ];
    let sum = s
        .import(
            &actor(),
            &[],
            vec![],
            responses.clone(),
            later,
            &no_progress,
        )
        .await
        .unwrap();
    assert_eq!(sum.imported, 0);
    assert_eq!(sum.responses_attached, 4);
    assert_eq!(sum.responses_skipped, 3);
    assert_eq!(sum.responses_unmatched, vec![7, 9]);
    let k1 = s.get_by_import_key("k1").await.unwrap().unwrap();
    assert_eq!(k1.version, 2, "a stored report's version goes up");
    assert_eq!(k1.updated_at, later);
    let a = &k1.data.addressees;
    assert_eq!(a.len(), 4);
    assert_eq!(
        a[0].responses
            .iter()
            .map(|r| r.text.clone().unwrap())
            .collect::<Vec<_>>(),
        ["by org"]
    );
    assert_eq!(a[1].responses[0].text.as_deref(), Some("by name"));
    assert_eq!(
        (a[2].name.as_str(), a[2].org.clone()),
        ("Royal College of Nursing", None)
    );
    assert_eq!(a[3].name, "Someone");
    assert!(
        a.iter()
            .all(|x| x.status == AddresseeStatus::ResponseReceived)
    );
    assert_eq!(a[0].responses[0].respondent.as_deref(), Some("NHS England"));
    let k2_after = s.get_by_import_key("k2").await.unwrap().unwrap();
    assert_eq!(k2_after, k2, "nothing new for k2: untouched");
    let h = s.history(&k1.id.to_string()).await.unwrap();
    assert_eq!(
        h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["import", "attach_responses"]
    );
    assert_eq!(h[1].after.as_ref().unwrap()["version"], 2);

    // The same file again adds nothing.
    let dump = db.dump().await;
    let sum = s
        .import(&actor(), &[], vec![], responses, later, &no_progress)
        .await
        .unwrap();
    assert_eq!((sum.responses_attached, sum.responses_skipped), (0, 7));
    assert_eq!(db.dump().await, dump);
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

// ---------------------------------------------------------------- throughput

/// `cargo test -p concord-store --release --test it -- suite:: --ignored --nocapture import_throughput`
/// (set CONCORD_IMPORT_N to change the size; default 100,000).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn import_throughput() {
    let n: usize = std::env::var("CONCORD_IMPORT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("CONCORD_TEST_PG_URL").is_ok() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        let db = Db::new(backend, "throughput").await.unwrap();
        let batch = pfd_batch(n);
        let started = std::time::Instant::now();
        let sum = db
            .store
            .import(&actor(), &[], batch, vec![], now(), &no_progress)
            .await
            .unwrap();
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(sum.imported as usize, n);
        let _ = writeln!(
            std::io::stderr(),
            "{backend:?}: imported {n} records in {secs:.2} s = {:.0} records/s",
            n as f64 / secs
        );
        let started = std::time::Instant::now();
        let mut seen = 0;
        db.store
            .scan(1000, &mut |recs| {
                seen += recs.len();
                Ok(())
            })
            .await
            .unwrap();
        let _ = writeln!(
            std::io::stderr(),
            "{backend:?}: scanned {seen} records in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        db.finish().await;
    }
}

/// How many migrations this build has for a backend (one file each).
fn migration_files(backend: Backend) -> i64 {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(folder);
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count() as i64
}

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

// ------------------------------------------------- sources and organisations

/// A PFD-like report as a source gives it: `text` None means the source
/// published no concerns (a stand-in).
fn sourced(
    key: &str,
    reference: &str,
    published: &str,
    text: Option<&str>,
    from: DataSource,
) -> NewRecommendation {
    let mut data = data("PFD", "A report");
    data.kind = RecKind::Concern;
    data.local_ref = Some(reference.into());
    data.published = d(published);
    data.response_deadline = None;
    data.links.clear();
    data.source = Some(Source {
        title: Some("Regulation 28 report: A Coroner, Area".into()),
        date: d(published),
        url: Some(format!("https://example.org/{key}")),
        local_ref: Some(reference.into()),
    });
    data.text = text
        .unwrap_or("(No concerns text was published with this report.)")
        .into();
    data.title = text
        .map(|t| t.chars().take(30).collect())
        .unwrap_or_else(|| "Road: report".into());
    for a in &mut data.addressees {
        a.due = None;
        a.responses.clear();
        a.status = AddresseeStatus::AwaitingResponse;
        a.acceptance = None;
        a.implementation = None;
        a.assessment = None;
        a.closure = None;
        a.actions.clear();
        a.updates.clear();
        a.escalations.clear();
        a.reassess_on = None;
        a.verified_on = None;
    }
    let stand_ins: Vec<RecordPart> = if text.is_none() {
        vec![RecordPart::Text, RecordPart::Title]
    } else {
        vec![]
    };
    let provenance = Provenance::of_source(&data, from, Some("file.csv"), &stand_ins);
    let (y, n) = reference.split_once('-').unwrap();
    NewRecommendation {
        id: IdRequest::Preferred {
            id: RecommendationId::new(code("PFD"), y.parse().unwrap(), n.parse().unwrap()).unwrap(),
            fallback_floor: 9000,
        },
        data,
        import_key: Some(format!("pfd:https://example.org/{key}")),
        version: None,
        created_at: None,
        updated_at: None,
        provenance,
    }
}

async fn a_second_source_enriches_a_known_report(db: &Db) {
    let s = &db.store;
    let import = |recs: Vec<NewRecommendation>| async move {
        s.import(&actor(), &[], recs, vec![], now(), &no_progress)
            .await
    };
    let first = import(vec![sourced(
        "r1",
        "2023-0101",
        "2023-03-01",
        None,
        DataSource::PfdJudiciary,
    )])
    .await
    .unwrap();
    assert_eq!((first.imported, first.enriched), (1, 0));
    let text = "The junction has no warning signs before the bend.";
    let second = import(vec![sourced(
        "r1",
        "2023-0110",
        "2023-03-09",
        Some(text),
        DataSource::PfdToolkit,
    )])
    .await
    .unwrap();
    assert_eq!(
        (second.imported, second.enriched, second.skipped),
        (0, 1, 0)
    );
    let parts: Vec<RecordPart> = second.variants.iter().map(|v| v.part).collect();
    assert_eq!(parts, vec![RecordPart::Reference, RecordPart::Published]);
    let rec = s.get(&id("PFD-2023-0101")).await.unwrap().unwrap();
    assert_eq!(
        rec.data.text, text,
        "the placeholder gave way to the genuine text"
    );
    assert_eq!(
        rec.data.local_ref.as_deref(),
        Some("2023-0101"),
        "the judiciary's reference"
    );
    assert_eq!(rec.data.published, d("2023-03-01"));
    assert_eq!(rec.version, 2);
    assert_eq!(
        rec.provenance.origin(RecordPart::Text).unwrap().from,
        DataSource::PfdToolkit
    );
    assert_eq!(
        rec.provenance.origin(RecordPart::Text).unwrap().at,
        Some(now())
    );
    assert_eq!(rec.provenance.variants.len(), 2);
    let h = s.history("PFD-2023-0101").await.unwrap();
    assert_eq!(
        h.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        vec!["import", "enrich"]
    );
    // Again: nothing new, nothing written.
    let again = import(vec![sourced(
        "r1",
        "2023-0110",
        "2023-03-09",
        Some(text),
        DataSource::PfdToolkit,
    )])
    .await
    .unwrap();
    assert_eq!((again.imported, again.enriched, again.skipped), (0, 0, 1));
    assert_eq!(
        s.get(&id("PFD-2023-0101")).await.unwrap().unwrap().version,
        2
    );
    // Our own export of the enriched record comes back unchanged (provenance too).
    let exported = s.get(&id("PFD-2023-0101")).await.unwrap().unwrap();
    let json = serde_json::to_string(&exported).unwrap();
    let back: Recommendation = serde_json::from_str(&json).unwrap();
    assert_eq!(back, exported);

    // A report known by reference only (another address), same date and
    // coroner: enriched. Two stored reports with that reference and date:
    // refused, naming both, and nothing written.
    import(vec![sourced(
        "r2",
        "2023-0200",
        "2023-05-01",
        None,
        DataSource::PfdJudiciary,
    )])
    .await
    .unwrap();
    let by_ref = import(vec![sourced(
        "r2-moved",
        "2023-0200",
        "2023-05-01",
        Some(text),
        DataSource::PfdToolkit,
    )])
    .await
    .unwrap();
    assert_eq!((by_ref.imported, by_ref.enriched), (0, 1));
    import(vec![
        sourced(
            "r3",
            "2023-0300",
            "2023-06-01",
            None,
            DataSource::PfdJudiciary,
        ),
        sourced(
            "r3-twin",
            "2023-0300",
            "2023-06-01",
            None,
            DataSource::PfdJudiciary,
        ),
    ])
    .await
    .unwrap();
    let before = s.get(&id("PFD-2023-0300")).await.unwrap().unwrap();
    let err = import(vec![
        sourced(
            "r1",
            "2023-0101",
            "2023-03-01",
            Some("A longer genuine text than the one kept, about the bend and the signs."),
            DataSource::PfdToolkit,
        ),
        sourced(
            "r3-elsewhere",
            "2023-0300",
            "2023-06-01",
            Some(text),
            DataSource::PfdToolkit,
        ),
    ])
    .await
    .unwrap_err();
    match err {
        StoreError::ImportRecord { index, message } => {
            assert_eq!(index, 1);
            assert!(
                message.contains("PFD-2023-0300") && message.contains("PFD-2023-9000"),
                "{message}"
            );
        }
        e => panic!("expected an import error, got {e}"),
    }
    assert_eq!(s.get(&id("PFD-2023-0300")).await.unwrap().unwrap(), before);
    assert_eq!(
        s.get(&id("PFD-2023-0101")).await.unwrap().unwrap().version,
        2,
        "all or nothing"
    );

    // Provenance survives a backup restored into the other backend.
    let other = match (db.backend, pg_admin_url().is_some()) {
        (Backend::Sqlite, true) => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let target = db.sibling(other, "provenance_restore").await;
    let dump = db.dump().await;
    target
        .store
        .restore(&mut std::io::Cursor::new(dump.clone().into_bytes()))
        .await
        .unwrap();
    let restored = target
        .store
        .get(&id("PFD-2023-0101"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        restored,
        s.get(&id("PFD-2023-0101")).await.unwrap().unwrap()
    );
    assert_eq!(restored.provenance.variants.len(), 2);
    assert_eq!(target.dump().await, dump);
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
