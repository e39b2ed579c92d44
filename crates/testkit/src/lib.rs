//! What the integration tests of every crate share: a fresh PostgreSQL
//! database per test on the server that `scripts/test.sh` starts
//! (`scripts/pg-test-cluster.sh`), named by `CONCORD_TEST_PG_URL`, and
//! dropped again afterwards.
//!
//! Outside CI a missing server is said plainly once and the PostgreSQL half
//! of a test does not run; in CI (`CI=true`) it is a failure, so that the
//! PostgreSQL tests can never be skipped quietly there.

use std::sync::Once;
use std::sync::atomic::{AtomicU64, Ordering};

static NOTICE: Once = Once::new();
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The test server's admin URL, or None outside CI when none is given.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("CONCORD_TEST_PG_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but CONCORD_TEST_PG_URL is not set: the PostgreSQL tests must run in CI \
                 (scripts/test.sh starts a server)"
            );
            NOTICE.call_once(|| {
                eprintln!(
                    "\n*** PostgreSQL tests did not run: CONCORD_TEST_PG_URL is not set \
                     (eval \"$(scripts/pg-test-cluster.sh start DIR)\" gives one) ***\n"
                );
            });
            None
        }
    }
}

/// `postgres://u@h:p/admin?opts` with its database replaced by `name`.
pub fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (admin, None),
    };
    let cut = base
        .rfind('/')
        .filter(|i| *i > "postgres://".len())
        .unwrap_or(base.len());
    match query {
        Some(q) => format!("{}/{name}?{q}", &base[..cut]),
        None => format!("{}/{name}", &base[..cut]),
    }
}

/// A database of its own on the test server, dropped (with any connection
/// still open to it) when this is dropped.
pub struct PgDatabase {
    /// The URL to open it with.
    pub url: String,
    admin: String,
    name: String,
}

impl PgDatabase {
    /// A fresh, empty database whose name starts with `prefix` (letters,
    /// digits and underscores), or None when no server is given outside CI.
    pub async fn create(prefix: &str) -> Option<PgDatabase> {
        let admin = pg_admin_url()?;
        let name = format!(
            "{}_{}_{}",
            prefix.to_lowercase(),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        run_as_admin(&admin, &format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("create the test database {name}: {e}"));
        Some(PgDatabase {
            url: with_database(&admin, &name),
            admin,
            name,
        })
    }

    /// [`PgDatabase::create`] for tests without a runtime of their own.
    pub fn create_blocking(prefix: &str) -> Option<PgDatabase> {
        let prefix = prefix.to_string();
        on_own_runtime(async move { PgDatabase::create(&prefix).await })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Best effort: a database left behind goes with the throwaway cluster.
        let _ = on_own_runtime(async move { run_as_admin(&admin, &sql).await });
    }
}

async fn run_as_admin(admin: &str, sql: &str) -> Result<(), sqlx::Error> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(30))
        .connect(admin)
        .await?;
    let done = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&pool)
        .await;
    pool.close().await;
    done.map(|_| ())
}

/// Runs `work` to completion on a runtime of its own, in a thread of its
/// own: callable from sync code, from `Drop`, and from inside a test's
/// runtime alike (where blocking on another runtime directly would panic).
fn on_own_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the test database")
            .block_on(work)
    })
    .join()
    .expect("the test database's thread")
}
