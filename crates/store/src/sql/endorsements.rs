//! Endorsements: an organisation standing behind another body's
//! recommendation instead of repeating it. Each is audited on the
//! recommendation it endorses (its history shows it).

use chrono::{DateTime, Utc};
use concord_domain::{Actor, Endorsement, OrgCode, RecommendationId};
use sqlx::Row;

use super::codec::{self, fmt_ts, parse_ts};
use super::{SqlStore, write_audit};
use crate::{Result, StoreError};

fn as_json(org: &OrgCode, note: Option<&str>) -> String {
    serde_json::json!({"endorsed_by": org.as_str(), "note": note}).to_string()
}

impl SqlStore {
    pub(crate) async fn list_endorsements(
        &self,
        id: &RecommendationId,
    ) -> Result<Vec<Endorsement>> {
        let rows = sqlx::query(
            "SELECT org, note, actor, created_at FROM endorsements WHERE rec_id = $1 \
             ORDER BY created_at, org",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let org: String = r.try_get(0)?;
                Ok(Endorsement {
                    recommendation: id.clone(),
                    org: OrgCode::parse(&org).map_err(|e| {
                        StoreError::Corrupt(format!("an endorsement of {id} by {org:?}: {e}"))
                    })?,
                    note: r.try_get(1)?,
                    by: r.try_get(2)?,
                    at: parse_ts(&r.try_get::<String, _>(3)?)?,
                })
            })
            .collect()
    }

    pub(crate) async fn endorsers_of_ids(&self, ids: &[String]) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        // Bounded statements on both backends (SQLite allows 32,766 parameters).
        for chunk in ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT rec_id, org FROM endorsements WHERE rec_id IN ({}) ORDER BY rec_id, org",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id.clone());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push((r.try_get(0)?, r.try_get(1)?));
            }
        }
        Ok(out)
    }

    /// Adds one; false (and nothing written) when the organisation already
    /// endorses the recommendation.
    pub(crate) async fn add_endorsement(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        org: &OrgCode,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT 1 FROM endorsements WHERE rec_id = $1 AND org = $2")
            .bind(id.to_string())
            .bind(org.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if exists {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO endorsements (rec_id, org, note, actor, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.to_string())
        .bind(org.as_str())
        .bind(note.map(str::to_string))
        .bind(actor.label.clone())
        .bind(fmt_ts(now))
        .execute(&mut *tx)
        .await?;
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "endorse",
                "recommendation",
                &id.to_string(),
                None,
                Some(as_json(org, note)),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes one; false when there was none.
    pub(crate) async fn remove_endorsement(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        org: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let before = sqlx::query("SELECT note FROM endorsements WHERE rec_id = $1 AND org = $2")
            .bind(id.to_string())
            .bind(org.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(before) = before else {
            return Ok(false);
        };
        let note: Option<String> = before.try_get(0)?;
        sqlx::query("DELETE FROM endorsements WHERE rec_id = $1 AND org = $2")
            .bind(id.to_string())
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "withdraw_endorsement",
                "recommendation",
                &id.to_string(),
                Some(as_json(org, note.as_deref())),
                None,
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
