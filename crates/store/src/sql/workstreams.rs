//! Workstreams (the register of ongoing work) in the `workstreams` table of
//! the first migration: the indexed columns (id, lead, title, status) beside
//! the whole workstream as JSON, a version for optimistic concurrency, and
//! times. Every change writes an audit event and an outbox row
//! (entity `workstream`), like recommendations.
//!
//! Identifiers `WS-LEAD-YYYY-NNN` are allocated inside the write
//! transaction as one past the highest number the lead has for the year.
//! On SQLite the transaction holds the write lock from its start; on
//! PostgreSQL two concurrent registrations can pick the same number, and the
//! loser's insert fails on the primary key and is retried with a fresh
//! transaction, so numbers are never reused and never skipped by a crash.

use chrono::{DateTime, Utc};
use concord_domain::workstream::{WorkstreamId, validate};
use concord_domain::{Actor, StoredWorkstream, Workstream};
use sqlx::{AnyConnection, Row};

use super::codec::{self, fmt_ts, parse_ts};
use super::{SqlStore, to_json, write_audit};
use crate::{Result, StoreError};

/// How many times a registration is retried after losing a race for a number.
const ALLOCATE_ATTEMPTS: usize = 8;

const COLS: &str = "id, lead, title, status, data_json, version, created_at, updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<StoredWorkstream> {
    let id: String = row.try_get("id")?;
    let json: String = row.try_get("data_json")?;
    let workstream: Workstream = serde_json::from_str(&json)
        .map_err(|e| StoreError::Corrupt(format!("workstream {id}: {e}")))?;
    Ok(StoredWorkstream {
        workstream,
        version: row.try_get("version")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&row.try_get::<String, _>("updated_at")?)?,
    })
}

async fn write_outbox(conn: &mut AnyConnection, id: &str, at: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (entity, entity_id, op, at) VALUES ('workstream', $1, 'upsert', $2)",
    )
    .bind(id.to_string())
    .bind(fmt_ts(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn load(conn: &mut AnyConnection, id: &str) -> Result<Option<StoredWorkstream>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM workstreams WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The next free number of `lead` in `year`.
async fn next_seq(conn: &mut AnyConnection, ws: &Workstream, year: u16) -> Result<u32> {
    let prefix = WorkstreamId::prefix(&ws.lead, year);
    let rows = sqlx::query("SELECT id FROM workstreams WHERE lead = $1")
        .bind(ws.lead.as_str())
        .fetch_all(&mut *conn)
        .await?;
    let mut max = 0u32;
    for r in &rows {
        let id: String = r.try_get(0)?;
        if id.starts_with(&prefix)
            && let Ok(parsed) = WorkstreamId::parse(&id)
        {
            max = max.max(parsed.seq);
        }
    }
    Ok(max + 1)
}

impl SqlStore {
    async fn try_create_workstream(
        &self,
        actor: &Actor,
        ws: &Workstream,
        year: u16,
        now: DateTime<Utc>,
    ) -> Result<StoredWorkstream> {
        let mut tx = self.begin_write().await?;
        let mut ws = ws.clone();
        if ws.id.is_empty() {
            let seq = next_seq(&mut tx, &ws, year).await?;
            ws.id = WorkstreamId::new(ws.lead.clone(), year, seq)?.to_string();
        }
        let stored = StoredWorkstream {
            workstream: ws,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let id = stored.workstream.id.clone();
        let done = sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO workstreams ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO NOTHING"
        )))
        .bind(id.clone())
        .bind(stored.workstream.lead.to_string())
        .bind(stored.workstream.title.clone())
        .bind(stored.workstream.status.as_str())
        .bind(to_json(&stored.workstream)?)
        .bind(1i64)
        .bind(fmt_ts(now))
        .bind(fmt_ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            return Err(StoreError::Duplicate(format!(
                "workstream {id} already exists"
            )));
        }
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "create",
                "workstream",
                &id,
                None,
                Some(to_json(&stored)?),
            ),
        )
        .await?;
        write_outbox(&mut tx, &id, now).await?;
        tx.commit().await?;
        Ok(stored)
    }

    pub(crate) async fn create_workstream_impl(
        &self,
        actor: &Actor,
        ws: Workstream,
        year: u16,
        now: DateTime<Utc>,
    ) -> Result<StoredWorkstream> {
        let ws = validate(ws)?;
        let allocate = ws.id.is_empty();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_create_workstream(actor, &ws, year, now).await {
                // Lost a race for the number (PostgreSQL): take the next one.
                Err(StoreError::Duplicate(_)) if allocate && attempt < ALLOCATE_ATTEMPTS => {
                    continue;
                }
                other => return other,
            }
        }
    }

    pub(crate) async fn update_workstream_impl(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        ws: Workstream,
        now: DateTime<Utc>,
    ) -> Result<StoredWorkstream> {
        let ws = validate(ws)?;
        let mut tx = self.begin_write().await?;
        let Some(before) = load(&mut tx, id).await? else {
            return Err(StoreError::NotFound {
                entity: "workstream",
                id: id.to_string(),
            });
        };
        if ws.id != before.workstream.id || ws.lead != before.workstream.lead {
            return Err(StoreError::Invalid(concord_domain::DomainError::invalid(
                "id",
                format!("{id} keeps its id and lead"),
            )));
        }
        if before.version != expected_version {
            return Err(StoreError::Conflict {
                id: id.to_string(),
                expected: expected_version,
                actual: before.version,
            });
        }
        let after = StoredWorkstream {
            workstream: ws,
            version: expected_version + 1,
            created_at: before.created_at,
            updated_at: now,
        };
        // Race-free: the row changes only if it is still at the expected version.
        let done = sqlx::query(
            "UPDATE workstreams SET title = $1, status = $2, data_json = $3, version = $4, \
             updated_at = $5 WHERE id = $6 AND version = $7",
        )
        .bind(after.workstream.title.clone())
        .bind(after.workstream.status.as_str())
        .bind(to_json(&after.workstream)?)
        .bind(after.version)
        .bind(fmt_ts(now))
        .bind(id.to_string())
        .bind(expected_version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            let actual = load(&mut tx, id).await?.map(|w| w.version).unwrap_or(0);
            return Err(StoreError::Conflict {
                id: id.to_string(),
                expected: expected_version,
                actual,
            });
        }
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "update",
                "workstream",
                id,
                Some(to_json(&before)?),
                Some(to_json(&after)?),
            ),
        )
        .await?;
        write_outbox(&mut tx, id, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub(crate) async fn get_workstream_impl(&self, id: &str) -> Result<Option<StoredWorkstream>> {
        let mut conn = self.pool.acquire().await?;
        load(&mut conn, id).await
    }

    pub(crate) async fn workstreams_impl(&self) -> Result<Vec<StoredWorkstream>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLS} FROM workstreams ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
