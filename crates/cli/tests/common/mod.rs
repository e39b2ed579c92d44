//! Helpers for tests that run the real `concord` binary against real
//! databases: a fresh SQLite file, and a fresh PostgreSQL database when
//! CONCORD_TEST_PG_URL names a server (CI always does; see scripts/test.sh).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Db {
    pub url: String,
    pub name: &'static str,
    pub dir: tempfile::TempDir,
    /// (admin URL, database name) of a PostgreSQL database to drop afterwards.
    pub pg: Option<(String, String)>,
}

impl Drop for Db {
    /// Each test's PostgreSQL database is dropped again, so that a whole run
    /// does not leave hundreds of databases on the test server.
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async {
            if let Ok(pool) = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(std::time::Duration::from_secs(10))
                .connect(&admin)
                .await
            {
                let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&pool)
                .await;
                pool.close().await;
            }
        });
    }
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_concord")
}

pub fn concord(db: &Db, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env("CONCORD_DB", &db.url)
        .current_dir(db.dir.path())
        .output()
        .expect("the concord binary runs")
}

/// Runs and insists on success, returning stdout.
pub fn ok(db: &Db, args: &[&str]) -> String {
    let out = concord(db, args);
    assert!(
        out.status.success(),
        "concord {args:?} on {} failed ({:?}):\nstdout: {}\nstderr: {}",
        db.name,
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

pub fn sqlite() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("concord.db").display());
    Db {
        url,
        name: "sqlite",
        dir,
        pg: None,
    }
}

/// A fresh PostgreSQL database, or None (with a plain message) when no server
/// was given outside CI. In CI a missing server is a failure.
pub fn postgres() -> Option<Db> {
    let Ok(admin) = std::env::var("CONCORD_TEST_PG_URL") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "CI=true but CONCORD_TEST_PG_URL is not set: the PostgreSQL tests must run in CI"
            );
        }
        eprintln!(
            "PostgreSQL tests did not run: CONCORD_TEST_PG_URL is not set (scripts/test.sh sets it)"
        );
        return None;
    };
    let name = format!("concord_cli_{}_{}", std::process::id(), unique());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&admin)
            .await
            .expect("connect to the test server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&pool)
            .await
            .expect("create test database");
        pool.close().await;
    });
    let base = admin
        .rsplit_once('/')
        .map(|(b, _)| b.to_string())
        .expect("admin URL has a database part");
    let dir = tempfile::tempdir().expect("temp dir");
    Some(Db {
        url: format!("{base}/{name}"),
        name: "postgres",
        dir,
        pg: Some((admin.clone(), name)),
    })
}

pub fn backends() -> Vec<Db> {
    let mut v = vec![sqlite()];
    v.extend(postgres());
    v
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    u64::from(t) * 1000 + N.fetch_add(1, Ordering::Relaxed)
}

/// ../shared/data, or None with a plain message (a failure in CI).
pub fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if p.join("pfd/judiciary-reports.csv").is_file() {
        return Some(p.canonicalize().unwrap_or(p));
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "CI=true but ../shared/data is missing ({}): the real-data tests must run in CI",
            p.display()
        );
    }
    eprintln!(
        "real-data tests did not run: ../shared/data not found at {}",
        p.display()
    );
    None
}
