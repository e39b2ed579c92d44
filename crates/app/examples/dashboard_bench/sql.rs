//! The dashboard's figures by SQL `GROUP BY` queries straight on the
//! tables: the obvious alternative to the fact table, timed beside it and
//! checked against it by this benchmark. Not used to serve requests, so it
//! lives here rather than in the store, on a pool of its own over the same
//! database; a few tiny helpers are copied from the store's private
//! `sql::codec` and `sql::dashboard`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use concord_domain::dashboard::{
    Counts, Dashboard, DashboardQuery, Filters, Landing, LandingRow, OverdueItem, ResponseTime,
    Row as FigRow,
};
use concord_domain::lifecycle::RulesBook;
use concord_store::Backend;
use sqlx::any::{AnyArguments, AnyPoolOptions};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};

type Result<T> = sqlx::Result<T>;

/// One bind value (the store's `codec::Val`; these queries bind text only).
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Text(Option<String>),
}

impl Val {
    fn text(s: impl Into<String>) -> Val {
        Val::Text(Some(s.into()))
    }
}

fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments>,
    vals: impl IntoIterator<Item = Val>,
) -> Query<'q, Any, AnyArguments> {
    for v in vals {
        q = match v {
            Val::Text(s) => q.bind(s),
        };
    }
    q
}

fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_date(s: Option<String>) -> Option<NaiveDate> {
    s.and_then(|s| s.parse().ok())
}

/// How long each figure took by SQL.
pub type Timings = Vec<(&'static str, Duration)>;

/// The database the benchmark reads by SQL.
pub struct SqlDashboard {
    pool: AnyPool,
    backend: Backend,
}

impl SqlDashboard {
    /// A one-connection pool on the database `url` names (already opened,
    /// and migrated, by the store). SQLite connections get the store's read
    /// settings (`SqlStore::open_with`: page cache, temporary tables in
    /// memory) so that the SQL figures are timed as they were in the store.
    pub async fn open(url: &str) -> std::result::Result<SqlDashboard, Box<dyn std::error::Error>> {
        sqlx::any::install_default_drivers();
        let backend = concord_store::sql::backend_of(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                        sqlx::raw_sql(
                            "PRAGMA busy_timeout = 10000; \
                             PRAGMA temp_store = MEMORY; \
                             PRAGMA cache_size = -65536;",
                        )
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(SqlDashboard { pool, backend })
    }

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
        // The cost sums are cast: on SQLite a kind with no cost in pounds
        // sums integer zeros, which the Any driver will not read as f64.
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
               CAST(SUM(CASE WHEN cur = 'GBP' THEN COALESCE(oo, 0) ELSE 0 END) AS DOUBLE PRECISION) AS one_off, \
               CAST(SUM(CASE WHEN cur = 'GBP' THEN COALESCE(rc, 0) ELSE 0 END) AS DOUBLE PRECISION) AS recurring, \
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
