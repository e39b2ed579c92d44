//! The dashboard's reads.
//!
//! [`facts`]: one lean pass over the database for the dashboard's fact
//! table (no texts, no JSON documents but the small cost one): every record
//! that is not a draft, with its addressees' status, due date, first
//! response, implementation and closure, a batch of records at a time in
//! one snapshot.
//!
//! [`SqlStore::dashboard_by_sql`]: the obvious alternative, every figure as
//! SQL `GROUP BY` queries straight on the tables, for the benchmark beside
//! the fact table (`benches/dashboard.sh`). Not used to serve requests.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use concord_domain::dashboard::{
    AddresseeFacts, Counts, Dashboard, DashboardQuery, Filters, Landing, LandingRow, OverdueItem,
    RecFacts, ResponseTime, Row as FigRow, due_from_columns,
};
use concord_domain::lifecycle::{ClosureReason, Implementation, RulesBook};
use concord_domain::{AddresseeStatus, Lifecycle};
use sqlx::Row;

use super::SqlStore;
use super::codec::{Val, bind_all, fmt_date};
use crate::{Backend, Result, StoreError};

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

/// How long each figure took by SQL.
pub type Timings = Vec<(&'static str, Duration)>;

impl SqlStore {
    /// Every dashboard figure by SQL GROUP BY queries on the tables (the
    /// benchmark's alternative to the fact table), with the time of each.
    /// Addressees of registered providers of unrecorded kind are classed by
    /// their written name only.
    pub async fn dashboard_by_sql(
        &self,
        q: &DashboardQuery,
        rules: &RulesBook,
    ) -> Result<(Dashboard, Timings)> {
        let mut conn = self.pool.acquire().await?;
        let pg = self.backend == Backend::Postgres;
        let mut params: Vec<Val> = Vec::new();
        let mut p = |v: Val| {
            params.push(v);
            format!("${}", params.len())
        };
        let as_of = p(Val::text(fmt_date(q.as_of)));
        let mut days = String::from("CASE r.issuer");
        for (issuer, r) in &rules.issuers {
            days.push_str(&format!(
                " WHEN {} THEN {}",
                p(Val::text(issuer.as_str())),
                r.days_to_respond
            ));
        }
        days.push_str(&format!(" ELSE {} END", rules.default.days_to_respond));
        let computed = if pg {
            format!("to_char(r.published::date + ({days}), 'YYYY-MM-DD')")
        } else {
            format!("date(r.published, '+' || ({days}) || ' days')")
        };
        let due = format!("COALESCE(a.due, r.response_deadline, {computed})");
        let mut filter = String::from("r.status <> 'draft'");
        if let Some(i) = &q.issuer {
            filter.push_str(&format!(
                " AND r.issuer = {}",
                p(Val::text(i.to_uppercase()))
            ));
        }
        if let Some(y) = q.year {
            filter.push_str(&format!(
                " AND substr(r.published, 1, 4) = {}",
                p(Val::text(format!("{y:04}")))
            ));
        }
        for (kind, v) in [("theme", &q.theme), ("setting", &q.setting)] {
            if let Some(v) = v {
                filter.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM rec_tags f WHERE f.rec_id = r.id \
                     AND f.tag_kind = '{kind}' AND f.value_lower = {})",
                    p(Val::text(v.to_lowercase()))
                ));
            }
        }
        let from = "FROM recommendations r JOIN addressees a ON a.rec_id = r.id \
             LEFT JOIN (SELECT rec_id, addressee_position, \
                 MIN(COALESCE(received, '0000-00-00')) AS first_any, MIN(received) AS first_dated \
                 FROM responses GROUP BY rec_id, addressee_position) x \
               ON x.rec_id = a.rec_id AND x.addressee_position = a.position";
        let open = "(r.status = 'published' AND a.status IN ('awaiting_response', 'response_received', 'assessed'))";
        let answered = format!("(x.first_any IS NOT NULL AND x.first_any <= {as_of})");
        let overdue = format!("({open} AND NOT {answered} AND {due} < {as_of})");
        let implemented = "(a.implementation IN ('implemented', 'verified') \
             OR a.closure_reason IN ('implemented', 'implemented_alternative'))";
        let sums = format!(
            "COUNT(DISTINCT r.id) AS recs, COUNT(*) AS items, \
             SUM(CASE WHEN {open} THEN 1 ELSE 0 END) AS open, \
             SUM(CASE WHEN {overdue} THEN 1 ELSE 0 END) AS overdue, \
             SUM(CASE WHEN {answered} THEN 1 ELSE 0 END) AS answered, \
             SUM(CASE WHEN {implemented} THEN 1 ELSE 0 END) AS implemented"
        );
        let params = params;
        let mut timings: Timings = Vec::new();
        let counts = |row: &sqlx::any::AnyRow| -> Result<Counts> {
            let g = |c: &str| -> Result<u64> {
                Ok(row.try_get::<Option<i64>, _>(c)?.unwrap_or(0).max(0) as u64)
            };
            Ok(Counts {
                recommendations: g("recs")?,
                items: g("items")?,
                open: g("open")?,
                overdue: g("overdue")?,
                answered: g("answered")?,
                implemented: g("implemented")?,
            })
        };

        let t = Instant::now();
        let sql = format!("SELECT {sums} {from} WHERE {filter}");
        let row = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params.clone())
            .fetch_one(&mut *conn)
            .await?;
        let totals = counts(&row)?;
        timings.push(("totals", t.elapsed()));

        let grouped = |name: &'static str, key: &str, join: &str| {
            let sql =
                format!("SELECT {key} AS k, {sums} {from} {join} WHERE {filter} GROUP BY {key}");
            (name, sql)
        };
        let mut tables: Vec<Vec<FigRow>> = Vec::new();
        for (name, sql) in [
            grouped("by_issuer", "r.issuer", ""),
            grouped("by_addressee", "COALESCE(a.org, a.name_lower)", ""),
            grouped(
                "by_theme",
                "tt.value_lower",
                "JOIN rec_tags tt ON tt.rec_id = r.id AND tt.tag_kind = 'theme'",
            ),
            grouped(
                "by_setting",
                "ts.value_lower",
                "JOIN rec_tags ts ON ts.rec_id = r.id AND ts.tag_kind = 'setting'",
            ),
            grouped(
                "by_year",
                "COALESCE(substr(r.published, 1, 4), 'unknown')",
                "",
            ),
        ] {
            let t = Instant::now();
            let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params.clone())
                .fetch_all(&mut *conn)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in &rows {
                let k: String = row.try_get("k")?;
                out.push(FigRow {
                    key: k.clone(),
                    label: k,
                    counts: counts(row)?,
                });
            }
            out.sort_by(|a, b| {
                b.counts
                    .open
                    .cmp(&a.counts.open)
                    .then(b.counts.items.cmp(&a.counts.items))
                    .then_with(|| a.label.cmp(&b.label))
            });
            timings.push((name, t.elapsed()));
            tables.push(out);
        }

        // Response times: a histogram of days by issuer, percentiles here.
        let t = Instant::now();
        let diff = if pg {
            "(x.first_dated::date - r.published::date)::bigint"
        } else {
            "CAST(julianday(x.first_dated) - julianday(r.published) AS INTEGER)"
        };
        let sql = format!(
            "SELECT r.issuer AS k, {diff} AS d, COUNT(*) AS n {from} WHERE {filter} \
             AND x.first_dated IS NOT NULL AND x.first_dated <= {as_of} \
             AND r.published IS NOT NULL AND x.first_dated >= r.published \
             GROUP BY r.issuer, {diff}"
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params.clone())
            .fetch_all(&mut *conn)
            .await?;
        let mut hist: std::collections::BTreeMap<String, Vec<(i64, u64)>> = Default::default();
        for row in &rows {
            let k: String = row.try_get("k")?;
            let d: i64 = row.try_get::<Option<i64>, _>("d")?.unwrap_or(0);
            let n: i64 = row.try_get("n")?;
            hist.entry(k).or_default().push((d.min(3650), n as u64));
        }
        let all: Vec<(i64, u64)> = hist.values().flatten().copied().collect();
        let mut response_times = vec![percentiles("all", all)];
        for (k, v) in hist {
            response_times.push(percentiles(&k, v));
        }
        timings.push(("response_times", t.elapsed()));

        let t = Instant::now();
        let sql = format!(
            "SELECT r.id, r.issuer, a.name, a.org, {due} AS due {from} \
             WHERE {filter} AND {overdue} ORDER BY due, r.id, a.position LIMIT 20"
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params.clone())
            .fetch_all(&mut *conn)
            .await?;
        let mut oldest_overdue = Vec::new();
        for row in &rows {
            let due = parse_date(row.try_get("due")?).unwrap_or_default();
            oldest_overdue.push(OverdueItem {
                id: row.try_get("id")?,
                issuer: row.try_get("issuer")?,
                addressee: row.try_get("name")?,
                org: row.try_get("org")?,
                due,
                days_overdue: (q.as_of - due).num_days(),
            });
        }
        timings.push(("oldest_overdue", t.elapsed()));

        // Landing: one row per (recommendation, kind) with its open items,
        // then summed by kind (each recommendation's cost once per kind).
        let t = Instant::now();
        let (one_off, recurring, currency) = if pg {
            (
                "(r.cost_json::json->>'one_off')::float8",
                "(r.cost_json::json->>'recurring')::float8",
                "(r.cost_json::json->>'currency')",
            )
        } else {
            (
                "json_extract(r.cost_json, '$.one_off')",
                "json_extract(r.cost_json, '$.recurring')",
                "json_extract(r.cost_json, '$.currency')",
            )
        };
        let land = landing_sql();
        let sql = format!(
            "SELECT land, COUNT(*) AS recs, CAST(SUM(n) AS BIGINT) AS items, \
               SUM(CASE WHEN cur = 'GBP' AND (oo IS NOT NULL OR rc IS NOT NULL) THEN 1 ELSE 0 END) AS costed, \
               SUM(CASE WHEN cur = 'GBP' THEN COALESCE(oo, 0) ELSE 0 END) AS one_off, \
               SUM(CASE WHEN cur = 'GBP' THEN COALESCE(rc, 0) ELSE 0 END) AS recurring, \
               SUM(CASE WHEN cur <> 'GBP' AND (oo IS NOT NULL OR rc IS NOT NULL) THEN 1 ELSE 0 END) AS other \
             FROM (SELECT r.id, {land} AS land, COUNT(*) AS n, \
                     MAX({one_off}) AS oo, MAX({recurring}) AS rc, MAX({currency}) AS cur \
                   FROM recommendations r JOIN addressees a ON a.rec_id = r.id \
                   LEFT JOIN organisations o ON o.code = a.org \
                   WHERE {filter} AND {open} GROUP BY r.id, {land}) z \
             GROUP BY land"
        );
        let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params.clone())
            .fetch_all(&mut *conn)
            .await?;
        let mut by_kind: HashMap<String, LandingRow> = HashMap::new();
        for row in &rows {
            let k: String = row.try_get("land")?;
            let g = |c: &str| -> Result<u64> {
                Ok(row.try_get::<Option<i64>, _>(c)?.unwrap_or(0).max(0) as u64)
            };
            let f =
                |c: &str| -> Result<f64> { Ok(row.try_get::<Option<f64>, _>(c)?.unwrap_or(0.0)) };
            let label = k.parse::<Landing>().map(|l| l.label()).unwrap_or("?");
            by_kind.insert(
                k.clone(),
                LandingRow {
                    kind: k,
                    label: label.into(),
                    open_recommendations: g("recs")?,
                    open_items: g("items")?,
                    costed: g("costed")?,
                    one_off_gbp: f("one_off")?,
                    recurring_gbp: f("recurring")?,
                    other_currency: g("other")?,
                },
            );
        }
        let by_provider_kind = Landing::ALL
            .iter()
            .filter_map(|l| by_kind.remove(l.as_str()))
            .collect();
        timings.push(("by_provider_kind", t.elapsed()));

        let mut tables = tables.into_iter();
        let mut next = || tables.next().unwrap_or_default();
        let by_issuer = next();
        let mut by_addressee = next();
        let addressees_total = by_addressee.len() as u64;
        if let Some(n) = q.addressee_limit {
            by_addressee.truncate(n);
        }
        let by_theme = next();
        let by_setting = next();
        let mut by_year = next();
        by_year.sort_by(|a, b| a.key.cmp(&b.key));
        Ok((
            Dashboard {
                as_of: q.as_of,
                filters: Filters {
                    issuer: q.issuer.clone(),
                    theme: q.theme.clone(),
                    setting: q.setting.clone(),
                    year: q.year,
                },
                totals,
                by_issuer,
                by_addressee,
                addressees_total,
                by_theme,
                by_setting,
                by_year,
                response_times,
                oldest_overdue,
                by_provider_kind,
                // The SQL comparison leaves the uncosted list out (the
                // benchmark's `agree` does not compare it).
                uncosted_total: 0,
                uncosted: Vec::new(),
            },
            timings,
        ))
    }
}

/// [`Landing::of_organisation`] and [`Landing::from_name`] as a CASE over
/// the joined organisation `o` and the addressee's lower-cased name.
fn landing_sql() -> String {
    let name = "(' ' || a.name_lower || ' ')";
    let by_name = format!(
        "CASE WHEN {name} LIKE '%ambulance%' THEN 'ambulance_service' \
         WHEN {name} LIKE '%mental health%' THEN 'mental_health_trust' \
         WHEN {name} LIKE '%community health%' OR {name} LIKE '%community services%' THEN 'community_trust' \
         WHEN {name} LIKE '%care home%' OR {name} LIKE '%nursing home%' THEN 'care_home' \
         WHEN {name} LIKE '%hospice%' THEN 'hospice' \
         WHEN {name} LIKE '% surgery %' OR {name} LIKE '%medical practice%' OR {name} LIKE '%gp practice%' THEN 'gp_practice' \
         WHEN {name} LIKE '%integrated care board%' OR {name} LIKE '% icb %' THEN 'icb' \
         WHEN {name} LIKE '% council %' OR {name} LIKE '%borough%' THEN 'local_authority' \
         WHEN {name} LIKE '%hospital%' THEN 'acute_trust' \
         WHEN {name} LIKE '% trust %' THEN 'other_provider' \
         ELSE 'unknown' END"
    );
    format!(
        "CASE WHEN o.code IS NULL THEN {by_name} \
         WHEN o.kind = 'provider' THEN COALESCE(o.provider_kind, \
             CASE WHEN ({by_name}) = 'unknown' THEN 'other_provider' ELSE ({by_name}) END) \
         WHEN o.kind = 'icb' THEN 'icb' \
         WHEN o.kind = 'local_authority' THEN 'local_authority' \
         WHEN o.kind IN ('coroner', 'other') THEN 'other' \
         ELSE 'national_body' END"
    )
}

fn percentiles(key: &str, mut v: Vec<(i64, u64)>) -> ResponseTime {
    v.sort_unstable();
    let n: u64 = v.iter().map(|x| x.1).sum();
    let rank = |p: f64| -> Option<u32> {
        let want = ((p * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (d, c) in &v {
            seen += c;
            if seen >= want {
                return Some(*d as u32);
            }
        }
        None
    };
    ResponseTime {
        key: key.to_string(),
        answers: n,
        median_days: if n == 0 { None } else { rank(0.5) },
        p90_days: if n == 0 { None } else { rank(0.9) },
    }
}
