//! An operator's work on the organisation directory: what addressee names
//! are still unlinked, confirming or renaming an organisation an import
//! made, and merging two organisations (the addressee entries of one move to
//! the other; recommendation ids never change) or undoing such a merge.
//! Every change is audited on the organisation.

use chrono::{DateTime, Utc};
use concord_domain::{Actor, OrgCode, OrgKind, OrgStatus, Organisation, ProviderKind};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::codec::{self, Val, fmt_ts};
use super::{ORG_COLS, SqlStore, org_from_row, to_json, write_audit};
use crate::{Result, StoreError};

/// One addressee entry a merge moved, so that undoing it moves it back.
#[derive(Serialize, Deserialize)]
struct Moved {
    rec_id: String,
    position: i64,
}

/// What a merge or its undoing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    pub from: OrgCode,
    pub into: OrgCode,
    /// Addressee entries moved.
    pub moved: u64,
    /// Recommendations those entries belong to.
    pub recommendations: u64,
}

/// One organisation by code, if registered.
pub(crate) async fn org_by_code(
    conn: &mut AnyConnection,
    code: &OrgCode,
) -> Result<Option<Organisation>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORG_COLS} FROM organisations WHERE code = $1"
    )))
    .bind(code.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(org_from_row).transpose()
}

async fn load(conn: &mut AnyConnection, code: &OrgCode) -> Result<Organisation> {
    org_by_code(conn, code)
        .await?
        .ok_or_else(|| StoreError::NotFound {
            entity: "organisation",
            id: code.to_string(),
        })
}

async fn save(conn: &mut AnyConnection, o: &Organisation) -> Result<()> {
    sqlx::query(
        "UPDATE organisations SET name = $1, kind = $2, level = $3, provider_kind = $4, \
         aliases_json = $5, status = $6 WHERE code = $7",
    )
    .bind(o.name.clone())
    .bind(o.kind.as_str().to_string())
    .bind(o.level.as_str().to_string())
    .bind(o.provider_kind.map(|k| k.as_str().to_string()))
    .bind(to_json(&o.aliases)?)
    .bind(o.status.as_str().to_string())
    .bind(o.code.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn audit(
    conn: &mut AnyConnection,
    actor: &Actor,
    action: &str,
    code: &OrgCode,
    before: &impl Serialize,
    after: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<()> {
    write_audit(
        conn,
        codec::audit_vals(
            now,
            actor,
            action,
            "organisation",
            code.as_str(),
            Some(to_json(before)?),
            Some(to_json(after)?),
        ),
    )
    .await
}

/// Moves addressee entries to `to`, bumps the versions of their records and
/// tells the indexes; returns how many records were touched.
async fn move_entries(
    conn: &mut AnyConnection,
    entries: &[Moved],
    to: &OrgCode,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut recs: Vec<String> = entries.iter().map(|m| m.rec_id.clone()).collect();
    recs.sort();
    recs.dedup();
    for m in entries {
        sqlx::query("UPDATE addressees SET org = $1 WHERE rec_id = $2 AND position = $3")
            .bind(to.to_string())
            .bind(m.rec_id.clone())
            .bind(m.position)
            .execute(&mut *conn)
            .await?;
    }
    for chunk in recs.chunks(codec::IN_CHUNK) {
        let sql = format!(
            "UPDATE recommendations SET version = version + 1, updated_at = $1 WHERE id IN ({})",
            codec::placeholders(2, chunk.len())
        );
        let params = std::iter::once(Val::text(fmt_ts(now)))
            .chain(chunk.iter().map(|s| Val::text(s.clone())));
        codec::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params)
            .execute(&mut *conn)
            .await?;
    }
    for id in &recs {
        super::write_outbox(conn, id, now).await?;
    }
    Ok(recs.len() as u64)
}

impl SqlStore {
    /// Addressee names of published recommendations linked to no
    /// organisation, most frequent first (the placeholder for addressees a
    /// report did not publish is not a name and is left out).
    pub(crate) async fn list_unresolved(&self, limit: u32) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query(
            "SELECT a.name, COUNT(*) AS n FROM addressees a \
             JOIN recommendations r ON r.id = a.rec_id \
             WHERE a.org IS NULL AND r.status = 'published' AND a.name <> $1 \
             GROUP BY a.name ORDER BY n DESC, a.name LIMIT $2",
        )
        .bind(UNPUBLISHED.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)))
            .collect()
    }

    /// Confirms an organisation (verified), optionally with its right name
    /// (the old one kept as an alias) and kind.
    pub(crate) async fn confirm_org(
        &self,
        actor: &Actor,
        code: &OrgCode,
        name: Option<&str>,
        kind: Option<(OrgKind, Option<ProviderKind>)>,
        now: DateTime<Utc>,
    ) -> Result<Organisation> {
        let mut tx = self.begin_write().await?;
        let before = load(&mut tx, code).await?;
        if before.status == OrgStatus::Merged {
            return Err(StoreError::Refused(format!(
                "{code} was merged into another organisation; undo the merge first (concord org unmerge {code})"
            )));
        }
        let mut after = before.clone();
        after.status = OrgStatus::Verified;
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty())
            && n != after.name
        {
            let old = std::mem::replace(&mut after.name, n.to_string());
            if !after.aliases.contains(&old) {
                after.aliases.push(old);
            }
        }
        if let Some((k, pk)) = kind {
            after.kind = k;
            after.provider_kind = pk;
        }
        save(&mut tx, &after).await?;
        let action = if name.is_some() && after.name != before.name {
            "rename_organisation"
        } else {
            "confirm_organisation"
        };
        audit(&mut tx, actor, action, code, &before, &after, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Merges `from` into `into`: its addressee entries move to `into`, its
    /// names become `into`'s aliases, and it is kept as `merged` so that
    /// [`Self::unmerge_org`] can put everything back.
    pub(crate) async fn merge_orgs(
        &self,
        actor: &Actor,
        from: &OrgCode,
        into: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<MergeOutcome> {
        if from == into {
            return Err(StoreError::Refused(format!(
                "{from} cannot be merged into itself"
            )));
        }
        let mut tx = self.begin_write().await?;
        let from_org = load(&mut tx, from).await?;
        let into_org = load(&mut tx, into).await?;
        if from_org.status == OrgStatus::Merged {
            return Err(StoreError::Refused(format!("{from} is already merged")));
        }
        if into_org.status == OrgStatus::Merged {
            return Err(StoreError::Refused(format!(
                "{into} was itself merged into another organisation; merge into that one"
            )));
        }
        // Only what was said *to* a body moves; a body that issues, signs in,
        // endorses or runs work is more than a name and is not merged away.
        for (table, col, what) in [
            ("recommendations", "issuer", "issues recommendations"),
            ("memberships", "org", "has members"),
            ("api_tokens", "org", "has API tokens"),
            ("endorsements", "org", "endorses recommendations"),
            ("provider_profiles", "org", "has a provider profile"),
        ] {
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {table} WHERE {col} = $1"
            )))
            .bind(from.to_string())
            .fetch_one(&mut *tx)
            .await?;
            if n > 0 {
                return Err(StoreError::Refused(format!(
                    "{from} {what}, so it cannot be merged away; merge the other way round, or move those first"
                )));
            }
        }
        let rows = sqlx::query(
            "SELECT rec_id, position FROM addressees WHERE org = $1 ORDER BY rec_id, position",
        )
        .bind(from.to_string())
        .fetch_all(&mut *tx)
        .await?;
        let moved: Vec<Moved> = rows
            .iter()
            .map(|r| {
                Ok(Moved {
                    rec_id: r.try_get(0)?,
                    position: r.try_get(1)?,
                })
            })
            .collect::<Result<_>>()?;
        let recommendations = move_entries(&mut tx, &moved, into, now).await?;
        let mut into_after = into_org.clone();
        for n in std::iter::once(&from_org.name).chain(from_org.aliases.iter()) {
            if *n != into_after.name && !into_after.aliases.contains(n) {
                into_after.aliases.push(n.clone());
            }
        }
        save(&mut tx, &into_after).await?;
        let mut from_after = from_org.clone();
        from_after.status = OrgStatus::Merged;
        save(&mut tx, &from_after).await?;
        sqlx::query(
            "INSERT INTO organisation_merges (from_code, into_code, from_json, into_json, moved_json, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(from.to_string())
        .bind(into.to_string())
        .bind(to_json(&from_org)?)
        .bind(to_json(&into_org)?)
        .bind(to_json(&moved)?)
        .bind(actor.label.clone())
        .bind(fmt_ts(now))
        .execute(&mut *tx)
        .await?;
        let note = serde_json::json!({
            "merged_into": into.as_str(),
            "addressee_entries_moved": moved.len(),
            "recommendations": recommendations,
        });
        audit(
            &mut tx,
            actor,
            "merge_organisation",
            from,
            &from_org,
            &note,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(MergeOutcome {
            from: from.clone(),
            into: into.clone(),
            moved: moved.len() as u64,
            recommendations,
        })
    }

    /// Undoes the last merge of `from`: the entries it moved that still
    /// point at the other organisation come back, the other's aliases and
    /// this one's status are as they were.
    pub(crate) async fn unmerge_org(
        &self,
        actor: &Actor,
        from: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<MergeOutcome> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT id, into_code, from_json, into_json, moved_json FROM organisation_merges \
             WHERE from_code = $1 AND undone_at IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(from.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Err(StoreError::Refused(format!("{from} has no merge to undo")));
        };
        let id: i64 = row.try_get(0)?;
        let into = OrgCode::parse(&row.try_get::<String, _>(1)?)
            .map_err(|e| StoreError::Corrupt(format!("merge {id}: {e}")))?;
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("merge {id}: {e}"));
        let from_before: Organisation =
            serde_json::from_str(&row.try_get::<String, _>(2)?).map_err(corrupt)?;
        let into_before: Organisation =
            serde_json::from_str(&row.try_get::<String, _>(3)?).map_err(corrupt)?;
        let moved: Vec<Moved> =
            serde_json::from_str(&row.try_get::<String, _>(4)?).map_err(corrupt)?;
        // Entries edited since (moved again, or removed) are left alone.
        let mut back = Vec::new();
        for m in moved {
            let still: Option<Option<String>> = sqlx::query_scalar(
                "SELECT org FROM addressees WHERE rec_id = $1 AND position = $2",
            )
            .bind(m.rec_id.clone())
            .bind(m.position)
            .fetch_optional(&mut *tx)
            .await?;
            if still.flatten().as_deref() == Some(into.as_str()) {
                back.push(m);
            }
        }
        let recommendations = move_entries(&mut tx, &back, from, now).await?;
        let mut into_now = load(&mut tx, &into).await?;
        // Only the names the merge gave it go (later imports may have added others).
        let given: Vec<&String> = std::iter::once(&from_before.name)
            .chain(from_before.aliases.iter())
            .collect();
        let added: Vec<String> = into_now
            .aliases
            .iter()
            .filter(|a| !into_before.aliases.contains(a) && given.contains(a))
            .cloned()
            .collect();
        into_now.aliases.retain(|a| !added.contains(a));
        save(&mut tx, &into_now).await?;
        let mut from_now = load(&mut tx, from).await?;
        from_now.status = from_before.status;
        save(&mut tx, &from_now).await?;
        sqlx::query("UPDATE organisation_merges SET undone_at = $1 WHERE id = $2")
            .bind(fmt_ts(now))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let note = serde_json::json!({
            "unmerged_from": into.as_str(),
            "addressee_entries_moved_back": back.len(),
            "recommendations": recommendations,
        });
        audit(
            &mut tx,
            actor,
            "unmerge_organisation",
            from,
            &note,
            &from_now,
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(MergeOutcome {
            from: from.clone(),
            into,
            moved: back.len() as u64,
            recommendations,
        })
    }
}

/// The addressee that holds replies to a report whose addressees were not
/// published (see the PFD importer): not a name to resolve.
const UNPUBLISHED: &str = "(addressee not published)";
