//! The dashboard's read: [`facts`], one lean pass over the database for the
//! dashboard's fact table (no texts, no JSON documents but the small cost
//! one): every record that is not a draft, with its addressees' status, due
//! date, first response, implementation and closure, a batch of records at
//! a time in one snapshot.
//!
//! The same figures by SQL `GROUP BY` queries, the benchmark's alternative,
//! live beside the benchmark (`crates/app/examples/dashboard_bench/sql.rs`).

use std::collections::HashMap;

use chrono::NaiveDate;
use concord_domain::dashboard::{AddresseeFacts, RecFacts, due_from_columns};
use concord_domain::lifecycle::{ClosureReason, Implementation, RulesBook};
use concord_domain::{AddresseeStatus, Lifecycle};
use sqlx::Row;

use super::SqlStore;
use crate::{Result, StoreError};

fn parse_date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| s.parse().ok())
}

fn corrupt(id: &str, what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{id}: {what} {v:?} is not valid"))
}

#[derive(serde::Deserialize)]
struct CostCols {
    one_off: Option<f64>,
    recurring: Option<f64>,
    currency: String,
}

/// Visits the facts of every record that is not a draft, `batch` records
/// at a time, in id order, from one snapshot.
pub(crate) async fn facts(
    store: &SqlStore,
    rules: &RulesBook,
    batch: usize,
    visit: &mut (dyn FnMut(Vec<RecFacts>) + Send),
) -> Result<()> {
    let batch = batch.clamp(1, 100_000) as i64;
    let mut tx = store.begin_snapshot().await?;
    let mut after = String::new();
    loop {
        let rows = sqlx::query(
            "SELECT id, issuer, status, published, response_deadline, cost_json \
             FROM recommendations WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.clone())
        .bind(batch)
        .fetch_all(&mut *tx)
        .await?;
        let Some(last) = rows.last() else {
            break;
        };
        let last: String = last.try_get("id")?;
        let full = rows.len() as i64 == batch;
        let mut recs: Vec<RecFacts> = Vec::with_capacity(rows.len());
        let mut deadlines: Vec<Option<NaiveDate>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let status: Lifecycle = status
                .parse()
                .map_err(|_| corrupt(&id, "status", &status))?;
            if status == Lifecycle::Draft {
                continue;
            }
            let cost = match row.try_get::<Option<String>, _>("cost_json")? {
                Some(j) => serde_json::from_str::<Option<CostCols>>(&j)
                    .map_err(|e| StoreError::Corrupt(format!("{id}: cost: {e}")))?
                    .map(|c| (c.one_off, c.recurring, c.currency)),
                None => None,
            };
            deadlines.push(parse_date(row.try_get("response_deadline")?));
            recs.push(RecFacts {
                id,
                issuer: row.try_get("issuer")?,
                status,
                published: parse_date(row.try_get("published")?),
                themes: vec![],
                settings: vec![],
                cost,
                addressees: vec![],
            });
        }
        let at: HashMap<String, usize> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        let range = |sql: &str| {
            sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
                .bind(after.clone())
                .bind(last.clone())
        };
        let rows = range(
            "SELECT rec_id, position, name, org, status, due, implementation, closure_reason \
             FROM addressees WHERE rec_id > $1 AND rec_id <= $2 ORDER BY rec_id, position",
        )
        .fetch_all(&mut *tx)
        .await?;
        // (record, position) -> index among the record's addressees
        let mut slot: HashMap<(usize, i64), usize> = HashMap::new();
        for row in &rows {
            let rec_id: String = row.try_get("rec_id")?;
            let Some(&i) = at.get(&rec_id) else {
                continue; // a draft's
            };
            let status: String = row.try_get("status")?;
            let status: AddresseeStatus = status
                .parse()
                .map_err(|_| corrupt(&rec_id, "addressee status", &status))?;
            let implementation: Option<Implementation> = row
                .try_get::<Option<String>, _>("implementation")?
                .and_then(|s| s.parse().ok());
            let closure: Option<ClosureReason> = row
                .try_get::<Option<String>, _>("closure_reason")?
                .and_then(|s| s.parse().ok());
            let r = &mut recs[i];
            let due = due_from_columns(
                parse_date(row.try_get("due")?),
                deadlines[i],
                r.published,
                &r.issuer,
                rules,
            );
            slot.insert((i, row.try_get("position")?), r.addressees.len());
            r.addressees.push(AddresseeFacts {
                name: row.try_get("name")?,
                org: row.try_get("org")?,
                status,
                due,
                undated_response: false,
                first_response: None,
                implementation,
                closure,
            });
        }
        let rows = range(
            "SELECT rec_id, addressee_position AS pos, MIN(received) AS first, \
             SUM(CASE WHEN received IS NULL THEN 1 ELSE 0 END) AS undated \
             FROM responses WHERE rec_id > $1 AND rec_id <= $2 \
             GROUP BY rec_id, addressee_position",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let rec_id: String = row.try_get("rec_id")?;
            let Some(&i) = at.get(&rec_id) else {
                continue;
            };
            let pos: i64 = row.try_get("pos")?;
            if let Some(&k) = slot.get(&(i, pos)) {
                let a = &mut recs[i].addressees[k];
                a.first_response = parse_date(row.try_get("first")?);
                a.undated_response = row.try_get::<Option<i64>, _>("undated")?.unwrap_or(0) > 0;
            }
        }
        let rows = range(
            "SELECT rec_id, tag_kind, value FROM rec_tags \
             WHERE rec_id > $1 AND rec_id <= $2 ORDER BY rec_id, tag_kind, position",
        )
        .fetch_all(&mut *tx)
        .await?;
        for row in &rows {
            let rec_id: String = row.try_get("rec_id")?;
            let Some(&i) = at.get(&rec_id) else {
                continue;
            };
            let kind: String = row.try_get("tag_kind")?;
            let value: String = row.try_get("value")?;
            if kind == "theme" {
                recs[i].themes.push(value);
            } else {
                recs[i].settings.push(value);
            }
        }
        visit(recs);
        after = last;
        if !full {
            break;
        }
    }
    tx.commit().await?;
    Ok(())
}
