//! The commands, one module each (a family of small ones shares a module:
//! `similar` also holds duplicates, endorse and link; `oversight`
//! contradictions and related; `priorities` also profile). Each owns its
//! clap arguments and a `run` that opens the database as the operator at the
//! command line and calls one application service.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use concord_app::{Principal, Services};

pub mod backup;
pub mod check;
pub mod criteria;
pub mod dashboard;
pub mod demo;
pub mod export;
pub mod filter;
pub mod generate;
pub mod import;
pub mod lifecycle;
pub mod list;
pub mod org;
pub mod overdue;
pub mod oversight;
pub mod priorities;
pub mod restore;
pub mod rules;
pub mod search;
pub mod serve;
pub mod show;
pub mod similar;
pub mod token;
pub mod users;
pub mod workstreams;

/// What every command is given: the global options.
pub struct Context {
    /// The database URL (--db).
    pub db: String,
    /// The search index folder (--index-dir), if given.
    pub index_dir: Option<PathBuf>,
}

impl Context {
    pub fn index_dir(&self) -> Option<&Path> {
        self.index_dir.as_deref()
    }

    /// The database named by --db, opened (and migrated).
    pub async fn open(&self) -> anyhow::Result<Services> {
        open(&self.db).await
    }
}

/// The operator at the command line, named by the login.
pub fn operator() -> Principal {
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    Principal::Operator {
        label: format!("cli:{user}"),
    }
}

/// Opens (and migrates) the database at `db`.
pub async fn open(db: &str) -> anyhow::Result<Services> {
    Services::open(db)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot open the database {db}")))
}

/// Writes to a temporary file beside `path` and renames it into place, so a
/// failed or interrupted write never leaves half a file under the real name.
pub fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("{}: cannot write here", dir.display()))?;
    let value = {
        let mut w = BufWriter::new(tmp.as_file_mut());
        let v = write(&mut w)?;
        w.flush()?;
        v
    };
    tmp.persist(path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(value)
}
