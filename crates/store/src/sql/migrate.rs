//! A small migration runner: each backend has its own numbered SQL files,
//! embedded in the binary; applied versions are recorded in
//! `schema_migrations`. Opening the same fresh database from several
//! processes at once is safe: the whole run is one write transaction
//! (`BEGIN IMMEDIATE` on SQLite, an advisory lock on PostgreSQL).

use chrono::Utc;
use sqlx::Row;

use super::SqlStore;
use super::codec::fmt_ts;
use crate::{Backend, Result, StoreError};

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

const SQLITE: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "issuer_criteria",
        sql: include_str!("../../migrations/sqlite/0002_issuer_criteria.sql"),
    },
    Migration {
        version: 3,
        name: "lifecycle",
        sql: include_str!("../../migrations/sqlite/0003_lifecycle.sql"),
    },
    Migration {
        version: 5,
        name: "feeds",
        sql: include_str!("../../migrations/sqlite/0005_feeds.sql"),
    },
    Migration {
        version: 7,
        name: "provider_profiles",
        sql: include_str!("../../migrations/sqlite/0007_provider_profiles.sql"),
    },
    Migration {
        version: 8,
        name: "accounts",
        sql: include_str!("../../migrations/sqlite/0008_accounts.sql"),
    },
    Migration {
        version: 9,
        name: "response_rules",
        sql: include_str!("../../migrations/sqlite/0009_response_rules.sql"),
    },
    Migration {
        version: 10,
        name: "endorsements",
        sql: include_str!("../../migrations/sqlite/0010_endorsements.sql"),
    },
    Migration {
        version: 11,
        name: "provenance",
        sql: include_str!("../../migrations/sqlite/0011_provenance.sql"),
    },
    Migration {
        version: 12,
        name: "trust",
        sql: include_str!("../../migrations/sqlite/0012_trust.sql"),
    },
    Migration {
        version: 13,
        name: "password_resets",
        sql: include_str!("../../migrations/sqlite/0013_password_resets.sql"),
    },
    Migration {
        version: 14,
        name: "lookups",
        sql: include_str!("../../migrations/sqlite/0014_lookups.sql"),
    },
];

const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "issuer_criteria",
        sql: include_str!("../../migrations/postgres/0002_issuer_criteria.sql"),
    },
    Migration {
        version: 3,
        name: "lifecycle",
        sql: include_str!("../../migrations/postgres/0003_lifecycle.sql"),
    },
    Migration {
        version: 5,
        name: "feeds",
        sql: include_str!("../../migrations/postgres/0005_feeds.sql"),
    },
    Migration {
        version: 7,
        name: "provider_profiles",
        sql: include_str!("../../migrations/postgres/0007_provider_profiles.sql"),
    },
    Migration {
        version: 8,
        name: "accounts",
        sql: include_str!("../../migrations/postgres/0008_accounts.sql"),
    },
    Migration {
        version: 9,
        name: "response_rules",
        sql: include_str!("../../migrations/postgres/0009_response_rules.sql"),
    },
    Migration {
        version: 10,
        name: "endorsements",
        sql: include_str!("../../migrations/postgres/0010_endorsements.sql"),
    },
    Migration {
        version: 11,
        name: "provenance",
        sql: include_str!("../../migrations/postgres/0011_provenance.sql"),
    },
    Migration {
        version: 12,
        name: "trust",
        sql: include_str!("../../migrations/postgres/0012_trust.sql"),
    },
    Migration {
        version: 13,
        name: "password_resets",
        sql: include_str!("../../migrations/postgres/0013_password_resets.sql"),
    },
    Migration {
        version: 14,
        name: "lookups",
        sql: include_str!("../../migrations/postgres/0014_lookups.sql"),
    },
];

pub(crate) fn migrations(backend: Backend) -> &'static [Migration] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// The schema version this build writes (the last migration).
pub(crate) fn latest(backend: Backend) -> i64 {
    migrations(backend)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// An arbitrary constant naming Concord's migration lock on PostgreSQL.
const PG_LOCK_KEY: i64 = 0x436F_6E63_6F72_6400;

pub(crate) async fn migrate(store: &SqlStore) -> Result<()> {
    let mut tx = store.begin_write().await?;
    if store.backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(PG_LOCK_KEY)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (\
         version BIGINT PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    let applied: Vec<i64> = rows
        .iter()
        .map(|r| r.try_get::<i64, _>(0))
        .collect::<std::result::Result<_, _>>()?;
    let known = migrations(store.backend);
    if let Some(v) = applied
        .iter()
        .find(|v| !known.iter().any(|m| m.version == **v))
    {
        return Err(StoreError::Refused(format!(
            "the database has schema version {v}, which this build of Concord does not know; use a newer build"
        )));
    }
    for m in known {
        if applied.contains(&m.version) {
            continue;
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sql))
            .execute(&mut *tx)
            .await
            .map_err(|e| {
                StoreError::Database(format!("migration {:04}_{}: {e}", m.version, m.name))
            })?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(fmt_ts(Utc::now()))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The highest applied version.
pub(crate) async fn current(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM schema_migrations")
        .fetch_one(&mut *conn)
        .await?;
    Ok(v.unwrap_or(0))
}
