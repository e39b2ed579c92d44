//! The store's test suite, against real databases: every test runs on SQLite
//! (a fresh temporary file) and on PostgreSQL (a fresh database per test,
//! created through the admin URL in `CONCORD_TEST_PG_URL`; see
//! `scripts/pg-test-cluster.sh`). Without that variable the PostgreSQL half
//! is skipped with a notice, except under `CI=true`, where it fails.
//!
//! This file holds the harness and the data every subject uses; the tests
//! are in one module per subject, each listing its tests in `suite!`.

use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::lifecycle::*;
use concord_domain::*;
use concord_store::{Backend, SqlStore, Store};
use concord_testkit::PgDatabase;
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

// Declared after `suite!` so that they can use it.
mod backup;
mod endorsements;
mod feed;
mod import;
mod listing;
mod organisations;
mod records;
mod schema;
mod tokens;

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

// Shared by the listing tests and `backup::populate`.

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

/// PFD reports for the import tests and `backup::populate`.
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
