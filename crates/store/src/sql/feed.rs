//! The audit events behind the public feeds (see [`crate::Store::feed_events`]).
//!
//! One statement per page, newest first. The scope narrows the events to a
//! set of record ids first (an organisation's records through the issuer
//! and addressee indexes, a theme's through the tag index) and each id's
//! events come from the `(entity_id, seq)` index of migration 0005.

use concord_domain::AuditEvent;
use sqlx::{AnyConnection, Row};

use super::codec::{Val, bind_all, parse_ts};
use crate::{FeedScope, Result, StoreError};

pub(crate) async fn feed_events(
    conn: &mut AnyConnection,
    scope: &FeedScope,
    before_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<AuditEvent>> {
    let mut params = vec![
        Val::Int(Some(before_seq.unwrap_or(i64::MAX))),
        Val::Int(Some(i64::from(limit.max(1)))),
    ];
    let narrow = match scope {
        FeedScope::All => "",
        FeedScope::Organisation(org) => {
            params.push(Val::text(org.as_str()));
            "AND e.entity_id IN (SELECT id FROM recommendations WHERE issuer = $3 \
             UNION SELECT rec_id FROM addressees WHERE org = $3)"
        }
        FeedScope::Theme(theme) => {
            params.push(Val::text(theme.trim().to_lowercase()));
            "AND e.entity_id IN (SELECT rec_id FROM rec_tags \
             WHERE tag_kind = 'theme' AND value_lower = $3)"
        }
        FeedScope::Recommendation(id) => {
            params.push(Val::text(id.to_string()));
            "AND e.entity_id = $3"
        }
    };
    // An import writes no record into its event: the record as it was
    // then is what the next event saw before it changed anything.
    let sql = format!(
        "SELECT e.seq, e.at, e.actor, e.action, e.entity, e.entity_id, e.before_json, \
         COALESCE(e.after_json, (SELECT n.before_json FROM audit_events n \
           WHERE n.entity_id = e.entity_id AND n.entity = 'recommendation' AND n.seq > e.seq \
           ORDER BY n.seq LIMIT 1)) AS after_json \
         FROM audit_events e JOIN recommendations r ON r.id = e.entity_id \
         WHERE e.entity = 'recommendation' AND r.status <> 'draft' AND e.seq < $1 {narrow} \
         ORDER BY e.seq DESC LIMIT $2"
    );
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params)
        .fetch_all(&mut *conn)
        .await?;
    let json = |s: Option<String>| -> Result<Option<serde_json::Value>> {
        s.map(|s| {
            serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("audit JSON: {e}")))
        })
        .transpose()
    };
    rows.iter()
        .map(|r| {
            Ok(AuditEvent {
                seq: r.try_get("seq")?,
                at: parse_ts(&r.try_get::<String, _>("at")?)?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                entity: r.try_get("entity")?,
                entity_id: r.try_get("entity_id")?,
                before: json(r.try_get("before_json")?)?,
                after: json(r.try_get("after_json")?)?,
            })
        })
        .collect()
}
