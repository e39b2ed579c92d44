//! Helpers for tests that run the real `concord` binary against real
//! databases: a fresh SQLite file, and a fresh PostgreSQL database when
//! CONCORD_TEST_PG_URL names a server (CI always does; see scripts/test.sh).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Db {
    pub url: String,
    pub name: &'static str,
    pub dir: tempfile::TempDir,
    /// A PostgreSQL database, dropped with this.
    pub _pg: Option<concord_testkit::PgDatabase>,
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
        _pg: None,
    }
}

/// A fresh PostgreSQL database, or None (with a plain message) when no server
/// was given outside CI. In CI a missing server is a failure.
pub fn postgres() -> Option<Db> {
    let pg = concord_testkit::PgDatabase::create_blocking("concord_cli")?;
    Some(Db {
        url: pg.url.clone(),
        name: "postgres",
        dir: tempfile::tempdir().expect("temp dir"),
        _pg: Some(pg),
    })
}

pub fn backends() -> Vec<Db> {
    let mut v = vec![sqlite()];
    v.extend(postgres());
    v
}

/// A fresh, empty database on the same backend as `db`.
pub fn fresh_like(db: &Db) -> Db {
    match db._pg {
        Some(_) => postgres().expect("the server that gave `db` gives another"),
        None => sqlite(),
    }
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
