//! Records to rows and back: the column lists, multi-row inserts, and loading
//! records with their children in batches (never one query per record).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use concord_domain::{
    Actor, Addressee, Link, OrgCode, Recommendation, RecommendationData, RecommendationId, Response,
};
use sqlx::AnyConnection;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use super::to_json;
use crate::{Result, StoreError};

/// Most bind parameters in one statement (SQLite allows 32766, PostgreSQL 65535).
const MAX_PARAMS: usize = 8_000;
/// Most rows in one multi-row INSERT.
const MAX_ROWS: usize = 500;
/// Most ids in one `IN (...)` list.
pub(crate) const IN_CHUNK: usize = 500;

/// One bind value, typed even when NULL (PostgreSQL needs the type).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Val {
    pub(crate) fn text(s: impl Into<String>) -> Val {
        Val::Text(Some(s.into()))
    }
    pub(crate) fn opt_text<S: Into<String>>(s: Option<S>) -> Val {
        Val::Text(s.map(Into::into))
    }
    fn date(d: Option<NaiveDate>) -> Val {
        Val::Text(d.map(fmt_date))
    }
}

pub(crate) fn bind_all<'q>(
    mut q: Query<'q, Any, AnyArguments>,
    vals: impl IntoIterator<Item = Val>,
) -> Query<'q, Any, AnyArguments> {
    for v in vals {
        q = match v {
            Val::Text(s) => q.bind(s),
            Val::Int(i) => q.bind(i),
        };
    }
    q
}

/// Times are fixed-width RFC 3339 in UTC (nanoseconds) so that text
/// order is time order.
pub(crate) fn fmt_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("{s:?} is not a time: {e}")))
}

pub(crate) fn fmt_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("{s:?} is not a date: {e}")))
}

/// `INSERT INTO t (cols) VALUES ($1, ...), (...)` for `rows` rows; with
/// `anonymous`, plain `?` placeholders instead (see [`insert_rows`]).
pub(crate) fn insert_sql(
    table: &str,
    cols: &str,
    ncols: usize,
    rows: usize,
    anonymous: bool,
) -> String {
    let mut sql = String::with_capacity(40 + cols.len() + rows * ncols * 6);
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(cols);
    sql.push_str(") VALUES ");
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..ncols {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            if anonymous {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// `$first, $first+1, ...` for an `IN (...)` list.
pub(crate) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts `vals` (row after row) with as few multi-row statements as the
/// parameter limits allow. Full-size statements repeat, so their prepared
/// form is reused from the connection's statement cache.
pub(crate) async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    cols: &str,
    vals: Vec<Val>,
) -> Result<()> {
    if vals.is_empty() {
        return Ok(());
    }
    let ncols = cols.split(',').count();
    if !vals.len().is_multiple_of(ncols) {
        return Err(StoreError::Database(format!(
            "internal: {} values for {ncols} columns of {table}",
            vals.len()
        )));
    }
    // The one place where SQLite gets other placeholders than `$N`: sqlx
    // looks up the name of every numbered parameter, and SQLite finds it by
    // a linear scan, so binding a multi-row INSERT with thousands of `$N`
    // is quadratic. Plain `?` are bound by position, in the same order.
    let anonymous = conn.backend_name().eq_ignore_ascii_case("sqlite");
    let total = vals.len() / ncols;
    let per = (MAX_PARAMS / ncols).clamp(1, MAX_ROWS);
    let mut it = vals.into_iter();
    let mut done = 0;
    while done < total {
        let k = per.min(total - done);
        let sql = insert_sql(table, cols, ncols, k, anonymous);
        bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            it.by_ref().take(k * ncols),
        )
        .execute(&mut *conn)
        .await
        .map_err(|e| super::map_unique(e, || format!("a row of {table} already exists")))?;
        done += k;
    }
    Ok(())
}

pub(crate) const REC_COLS: &str = "id, issuer, year, seq, local_ref, kind, status, title, text, published, level, \
     source_json, evidence_json, patient_impact, cost_json, equality_json, risk, response_deadline, provenance_json, \
     import_key, version, created_at, updated_at";
pub(crate) const ADDR_COLS: &str = "rec_id, position, name, name_lower, org, status, due, \
     acceptance, implementation, assessment, closure_reason, reassess_on, verified_on, progress_json";
pub(crate) const RESP_COLS: &str =
    "rec_id, addressee_position, position, received, respondent, url, text, acceptance, reasons";

/// The dated detail of an addressee's lifecycle, kept as one JSON document
/// (the scalar fields that queries filter on have their own columns).
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct ProgressDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assessment: Option<concord_domain::lifecycle::AssessmentRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    closure: Option<concord_domain::lifecycle::Closure>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    escalations: Vec<concord_domain::lifecycle::Escalation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    actions: Vec<concord_domain::lifecycle::ActionItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    updates: Vec<concord_domain::lifecycle::ProgressUpdate>,
}

impl ProgressDoc {
    fn of(a: &Addressee) -> Option<ProgressDoc> {
        let doc = ProgressDoc {
            assessment: a.assessment.clone(),
            closure: a.closure.clone(),
            escalations: a.escalations.clone(),
            actions: a.actions.clone(),
            updates: a.updates.clone(),
        };
        let empty = doc.assessment.is_none()
            && doc.closure.is_none()
            && doc.escalations.is_empty()
            && doc.actions.is_empty()
            && doc.updates.is_empty();
        (!empty).then_some(doc)
    }
}
pub(crate) const TAG_COLS: &str = "rec_id, tag_kind, position, value, value_lower";
pub(crate) const LINK_COLS: &str =
    "from_id, position, kind, target, state, asserted_by, asserted_at";
pub(crate) const AUDIT_COLS: &str = "at, actor, action, entity, entity_id, before_json, after_json";
pub(crate) const OUTBOX_COLS: &str = "entity, entity_id, op, at";

fn opt_json<T: serde::Serialize>(v: &Option<T>) -> Result<Val> {
    Ok(Val::Text(v.as_ref().map(to_json).transpose()?))
}

pub(crate) fn audit_vals(
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<String>,
    after: Option<String>,
) -> [Val; 7] {
    [
        Val::text(fmt_ts(at)),
        Val::text(&actor.label),
        Val::text(action),
        Val::text(entity),
        Val::text(entity_id),
        Val::Text(before),
        Val::Text(after),
    ]
}

pub(crate) fn outbox_vals(entity_id: &str, at: DateTime<Utc>) -> [Val; 4] {
    [
        Val::text("recommendation"),
        Val::text(entity_id),
        Val::text("upsert"),
        Val::text(fmt_ts(at)),
    ]
}

/// The values of the main row, without the id (for UPDATE ... SET).
fn main_vals(rec: &Recommendation) -> Result<Vec<Val>> {
    let d = &rec.data;
    Ok(vec![
        Val::opt_text(d.local_ref.clone()),
        Val::text(d.kind.as_str()),
        Val::text(d.status.as_str()),
        Val::text(&d.title),
        Val::text(&d.text),
        Val::date(d.published),
        Val::opt_text(d.level.map(|l| l.as_str())),
        opt_json(&d.source)?,
        opt_json(&d.evidence)?,
        Val::opt_text(d.patient_impact.clone()),
        opt_json(&d.cost)?,
        opt_json(&d.equality)?,
        Val::opt_text(d.risk.map(|r| r.as_str())),
        Val::date(d.response_deadline),
        Val::Text(if rec.provenance.is_empty() {
            None
        } else {
            Some(to_json(&rec.provenance)?)
        }),
    ])
}

/// Rows for a batch of records, gathered per table and written with
/// multi-row inserts.
#[derive(Default)]
pub(crate) struct RecRows {
    pub(crate) recs: Vec<Val>,
    pub(crate) addr: Vec<Val>,
    pub(crate) resp: Vec<Val>,
    pub(crate) tags: Vec<Val>,
    pub(crate) links: Vec<Val>,
    pub(crate) audit: Vec<Val>,
    pub(crate) outbox: Vec<Val>,
}

impl RecRows {
    pub(crate) fn push(&mut self, rec: &Recommendation) -> Result<()> {
        let id = rec.id.to_string();
        self.recs.push(Val::text(id.clone()));
        self.recs.push(Val::text(rec.id.issuer.as_str()));
        self.recs.push(Val::Int(Some(i64::from(rec.id.year))));
        self.recs.push(Val::Int(Some(i64::from(rec.id.seq))));
        self.recs.extend(main_vals(rec)?);
        self.recs.push(Val::opt_text(rec.import_key.clone()));
        self.recs.push(Val::Int(Some(rec.version)));
        self.recs.push(Val::text(fmt_ts(rec.created_at)));
        self.recs.push(Val::text(fmt_ts(rec.updated_at)));
        self.push_children(rec)
    }

    pub(crate) fn push_children(&mut self, rec: &Recommendation) -> Result<()> {
        let id = rec.id.to_string();
        let d = &rec.data;
        for (i, a) in d.addressees.iter().enumerate() {
            self.addr.extend([
                Val::text(id.clone()),
                Val::Int(Some(i as i64)),
                Val::text(&a.name),
                Val::text(a.name.to_lowercase()),
                Val::opt_text(a.org.as_ref().map(|o| o.as_str())),
                Val::text(a.status.as_str()),
                Val::date(a.due),
                Val::opt_text(a.acceptance.map(|x| x.as_str())),
                Val::opt_text(a.implementation.map(|x| x.as_str())),
                Val::opt_text(a.assessment.as_ref().map(|x| x.verdict.as_str())),
                Val::opt_text(a.closure.as_ref().map(|x| x.reason.as_str())),
                Val::date(a.reassess_on),
                Val::date(a.verified_on),
                opt_json(&ProgressDoc::of(a))?,
            ]);
            for (j, r) in a.responses.iter().enumerate() {
                self.resp.extend([
                    Val::text(id.clone()),
                    Val::Int(Some(i as i64)),
                    Val::Int(Some(j as i64)),
                    Val::date(r.received),
                    Val::opt_text(r.respondent.clone()),
                    Val::opt_text(r.url.clone()),
                    Val::opt_text(r.text.clone()),
                    Val::opt_text(r.acceptance.map(|x| x.as_str())),
                    Val::opt_text(r.reasons.clone()),
                ]);
            }
        }
        for (kind, tags) in [("theme", &d.themes), ("setting", &d.settings)] {
            for (i, t) in tags.iter().enumerate() {
                self.tags.extend([
                    Val::text(id.clone()),
                    Val::text(kind),
                    Val::Int(Some(i as i64)),
                    Val::text(t),
                    Val::text(t.to_lowercase()),
                ]);
            }
        }
        for (i, l) in d.links.iter().enumerate() {
            self.links.extend([
                Val::text(id.clone()),
                Val::Int(Some(i as i64)),
                Val::text(l.kind.as_str()),
                Val::text(&l.target),
                Val::text(l.state.as_str()),
                Val::opt_text(l.asserted_by.clone()),
                Val::Text(l.asserted_at.map(fmt_ts)),
            ]);
        }
        Ok(())
    }

    pub(crate) fn len_records(&self) -> usize {
        self.recs.len() / REC_COLS.split(',').count()
    }

    /// Writes everything gathered so far, parents before children.
    pub(crate) async fn flush(&mut self, conn: &mut AnyConnection) -> Result<()> {
        insert_rows(
            conn,
            "recommendations",
            REC_COLS,
            std::mem::take(&mut self.recs),
        )
        .await?;
        insert_rows(
            conn,
            "addressees",
            ADDR_COLS,
            std::mem::take(&mut self.addr),
        )
        .await?;
        insert_rows(conn, "responses", RESP_COLS, std::mem::take(&mut self.resp)).await?;
        insert_rows(conn, "rec_tags", TAG_COLS, std::mem::take(&mut self.tags)).await?;
        insert_rows(conn, "links", LINK_COLS, std::mem::take(&mut self.links)).await?;
        insert_rows(
            conn,
            "audit_events",
            AUDIT_COLS,
            std::mem::take(&mut self.audit),
        )
        .await?;
        insert_rows(
            conn,
            "outbox",
            OUTBOX_COLS,
            std::mem::take(&mut self.outbox),
        )
        .await?;
        Ok(())
    }
}

/// Rewrites the main row if it is still at `expected_version`; returns the
/// number of rows changed (0 or 1).
pub(crate) async fn update_main(
    conn: &mut AnyConnection,
    rec: &Recommendation,
    expected_version: i64,
) -> Result<u64> {
    let mut vals = main_vals(rec)?;
    vals.push(Val::Int(Some(rec.version)));
    vals.push(Val::text(fmt_ts(rec.updated_at)));
    vals.push(Val::text(rec.id.to_string()));
    vals.push(Val::Int(Some(expected_version)));
    let sql = "UPDATE recommendations SET local_ref = $1, kind = $2, status = $3, title = $4, text = $5, \
               published = $6, level = $7, source_json = $8, evidence_json = $9, patient_impact = $10, \
               cost_json = $11, equality_json = $12, risk = $13, response_deadline = $14, provenance_json = $15, \
               version = $16, updated_at = $17 WHERE id = $18 AND version = $19";
    Ok(bind_all(sqlx::query(sql), vals)
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

pub(crate) async fn current_version(conn: &mut AnyConnection, id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT version FROM recommendations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?,
    )
}

pub(crate) async fn import_key_taken(conn: &mut AnyConnection, key: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT id FROM recommendations WHERE import_key = $1")
            .bind(key.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .is_some(),
    )
}

/// Deletes the children of these records (they are rewritten wholesale).
pub(crate) async fn delete_children(conn: &mut AnyConnection, ids: &[String]) -> Result<()> {
    for chunk in ids.chunks(IN_CHUNK) {
        let ph = placeholders(1, chunk.len());
        for (table, col) in [
            ("responses", "rec_id"),
            ("addressees", "rec_id"),
            ("rec_tags", "rec_id"),
            ("links", "from_id"),
        ] {
            let sql = format!("DELETE FROM {table} WHERE {col} IN ({ph})");
            bind_all(
                sqlx::query(sqlx::AssertSqlSafe(sql)),
                chunk.iter().map(|s| Val::text(s.clone())),
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Which of these values of `col` are present in `recommendations`.
pub(crate) async fn existing(
    conn: &mut AnyConnection,
    col: &str,
    values: &[String],
) -> Result<std::collections::HashSet<String>> {
    let mut found = std::collections::HashSet::new();
    for chunk in values.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT {col} FROM recommendations WHERE {col} IN ({})",
            placeholders(1, chunk.len())
        );
        let rows = bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            chunk.iter().map(|s| Val::text(s.clone())),
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            found.insert(r.try_get::<String, _>(0)?);
        }
    }
    Ok(found)
}

fn corrupt(id: &str, what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{id}: {what}: {e}"))
}

fn parse_enum<T: std::str::FromStr<Err = String>>(id: &str, what: &str, s: &str) -> Result<T> {
    s.parse().map_err(|e| corrupt(id, what, e))
}

fn opt_enum<T: std::str::FromStr<Err = String>>(
    id: &str,
    what: &str,
    s: Option<String>,
) -> Result<Option<T>> {
    s.map(|s| parse_enum(id, what, &s)).transpose()
}

fn json_col<T: serde::de::DeserializeOwned>(
    id: &str,
    what: &str,
    s: Option<String>,
) -> Result<Option<T>> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| corrupt(id, what, e)))
        .transpose()
}

fn opt_date(s: Option<String>) -> Result<Option<NaiveDate>> {
    s.map(|s| parse_date(&s)).transpose()
}

/// A main row, children still empty.
fn rec_from_row(row: &AnyRow) -> Result<Recommendation> {
    let id_s: String = row.try_get("id")?;
    let id = RecommendationId::parse(&id_s).map_err(|e| corrupt(&id_s, "id", e))?;
    let issuer: String = row.try_get("issuer")?;
    let data = RecommendationData {
        local_ref: row.try_get("local_ref")?,
        kind: parse_enum(&id_s, "kind", &row.try_get::<String, _>("kind")?)?,
        issuer: OrgCode::parse(&issuer).map_err(|e| corrupt(&id_s, "issuer", e))?,
        source: json_col(&id_s, "source", row.try_get("source_json")?)?,
        title: row.try_get("title")?,
        text: row.try_get("text")?,
        published: opt_date(row.try_get("published")?)?,
        status: parse_enum(&id_s, "status", &row.try_get::<String, _>("status")?)?,
        level: opt_enum(&id_s, "level", row.try_get("level")?)?,
        addressees: Vec::new(),
        themes: Vec::new(),
        settings: Vec::new(),
        evidence: json_col(&id_s, "evidence", row.try_get("evidence_json")?)?,
        patient_impact: row.try_get("patient_impact")?,
        cost: json_col(&id_s, "cost", row.try_get("cost_json")?)?,
        equality: json_col(&id_s, "equality", row.try_get("equality_json")?)?,
        risk: opt_enum(&id_s, "risk", row.try_get("risk")?)?,
        response_deadline: opt_date(row.try_get("response_deadline")?)?,
        links: Vec::new(),
    };
    Ok(Recommendation {
        id,
        data,
        version: row.try_get("version")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        updated_at: parse_ts(&row.try_get::<String, _>("updated_at")?)?,
        import_key: row.try_get("import_key")?,
        provenance: json_col(&id_s, "provenance", row.try_get("provenance_json")?)?
            .unwrap_or_default(),
    })
}

/// Runs a query returning [`REC_COLS`] and loads the children of every row
/// with one query per child table (per chunk of ids), in the query's order.
pub(crate) async fn fetch_full(
    conn: &mut AnyConnection,
    sql: &str,
    params: Vec<Val>,
) -> Result<Vec<Recommendation>> {
    let rows = bind_all(sqlx::query(sqlx::AssertSqlSafe(sql.to_string())), params)
        .fetch_all(&mut *conn)
        .await?;
    let mut recs = rows.iter().map(rec_from_row).collect::<Result<Vec<_>>>()?;
    attach_children(conn, &mut recs).await?;
    Ok(recs)
}

pub(crate) async fn load_one(conn: &mut AnyConnection, id: &str) -> Result<Option<Recommendation>> {
    let sql = format!("SELECT {REC_COLS} FROM recommendations WHERE id = $1");
    Ok(fetch_full(conn, &sql, vec![Val::text(id)]).await?.pop())
}

/// Loads these records (any order in, `ids` order out; missing ones left out).
pub(crate) async fn load_many(
    conn: &mut AnyConnection,
    ids: &[String],
) -> Result<Vec<Recommendation>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(IN_CHUNK) {
        let sql = format!(
            "SELECT {REC_COLS} FROM recommendations WHERE id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut recs = fetch_full(
            conn,
            &sql,
            chunk.iter().map(|s| Val::text(s.clone())).collect(),
        )
        .await?;
        let pos: HashMap<String, usize> = chunk
            .iter()
            .enumerate()
            .map(|(i, s)| (s.clone(), i))
            .collect();
        recs.sort_by_key(|r| pos.get(&r.id.to_string()).copied().unwrap_or(usize::MAX));
        out.extend(recs);
    }
    Ok(out)
}

async fn attach_children(conn: &mut AnyConnection, recs: &mut [Recommendation]) -> Result<()> {
    if recs.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = recs.iter().map(|r| r.id.to_string()).collect();
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let at = |id: &str| -> Result<usize> {
        index
            .get(id)
            .copied()
            .ok_or_else(|| StoreError::Corrupt(format!("child row for unknown record {id}")))
    };
    for chunk in ids.chunks(IN_CHUNK) {
        let ph = placeholders(1, chunk.len());
        let params = || {
            chunk
                .iter()
                .map(|s| Val::text(s.clone()))
                .collect::<Vec<_>>()
        };
        let q = |sql: String| bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params());

        let rows = q(format!(
            "SELECT {ADDR_COLS} FROM addressees WHERE rec_id IN ({ph}) ORDER BY rec_id, position"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let rec_id: String = row.try_get("rec_id")?;
            let i = at(&rec_id)?;
            let org: Option<String> = row.try_get("org")?;
            let progress: ProgressDoc = json_col::<ProgressDoc>(
                &rec_id,
                "addressee progress",
                row.try_get("progress_json")?,
            )?
            .unwrap_or_default();
            recs[i].data.addressees.push(Addressee {
                name: row.try_get("name")?,
                org: org
                    .map(|o: String| {
                        OrgCode::parse(&o).map_err(|e| corrupt(&rec_id, "addressee org", e))
                    })
                    .transpose()?,
                status: parse_enum(
                    &rec_id,
                    "addressee status",
                    &row.try_get::<String, _>("status")?,
                )?,
                due: opt_date(row.try_get("due")?)?,
                responses: Vec::new(),
                acceptance: opt_enum(&rec_id, "acceptance", row.try_get("acceptance")?)?,
                implementation: opt_enum(
                    &rec_id,
                    "implementation",
                    row.try_get("implementation")?,
                )?,
                assessment: progress.assessment,
                closure: progress.closure,
                reassess_on: opt_date(row.try_get("reassess_on")?)?,
                verified_on: opt_date(row.try_get("verified_on")?)?,
                escalations: progress.escalations,
                actions: progress.actions,
                updates: progress.updates,
            });
        }

        let rows = q(format!(
            "SELECT {RESP_COLS} FROM responses WHERE rec_id IN ({ph}) ORDER BY rec_id, addressee_position, position"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let rec_id: String = row.try_get("rec_id")?;
            let i = at(&rec_id)?;
            let pos: i64 = row.try_get("addressee_position")?;
            let a = usize::try_from(pos)
                .ok()
                .and_then(|p| recs[i].data.addressees.get_mut(p))
                .ok_or_else(|| {
                    corrupt(
                        &rec_id,
                        "response",
                        format!("no addressee at position {pos}"),
                    )
                })?;
            a.responses.push(Response {
                received: opt_date(row.try_get("received")?)?,
                respondent: row.try_get("respondent")?,
                url: row.try_get("url")?,
                text: row.try_get("text")?,
                acceptance: opt_enum(&rec_id, "response acceptance", row.try_get("acceptance")?)?,
                reasons: row.try_get("reasons")?,
            });
        }

        let rows = q(format!("SELECT {TAG_COLS} FROM rec_tags WHERE rec_id IN ({ph}) ORDER BY rec_id, tag_kind, position"))
            .fetch_all(&mut *conn)
            .await?;
        for row in &rows {
            let rec_id: String = row.try_get("rec_id")?;
            let i = at(&rec_id)?;
            let kind: String = row.try_get("tag_kind")?;
            let value: String = row.try_get("value")?;
            match kind.as_str() {
                "theme" => recs[i].data.themes.push(value),
                "setting" => recs[i].data.settings.push(value),
                other => return Err(corrupt(&rec_id, "tag kind", other)),
            }
        }

        let rows = q(format!(
            "SELECT {LINK_COLS} FROM links WHERE from_id IN ({ph}) ORDER BY from_id, position"
        ))
        .fetch_all(&mut *conn)
        .await?;
        for row in &rows {
            let rec_id: String = row.try_get("from_id")?;
            let i = at(&rec_id)?;
            recs[i].data.links.push(Link {
                kind: parse_enum(&rec_id, "link kind", &row.try_get::<String, _>("kind")?)?,
                target: row.try_get("target")?,
                state: parse_enum(&rec_id, "link state", &row.try_get::<String, _>("state")?)?,
                asserted_by: row.try_get("asserted_by")?,
                asserted_at: row
                    .try_get::<Option<String>, _>("asserted_at")?
                    .map(|s: String| parse_ts(&s))
                    .transpose()?,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_insert_numbers_placeholders() {
        assert_eq!(
            insert_sql("t", "a, b", 2, 2, false),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        assert_eq!(
            insert_sql("t", "a, b", 2, 2, true),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(placeholders(3, 2), "$3, $4");
    }

    #[test]
    fn times_have_a_fixed_width_and_round_trip() {
        let t = DateTime::parse_from_rfc3339("2024-09-16T10:00:00.5+01:00")
            .unwrap()
            .with_timezone(&Utc);
        let s = fmt_ts(t);
        assert_eq!(s, "2024-09-16T09:00:00.500000000Z");
        assert_eq!(parse_ts(&s).unwrap(), t);
        assert!(parse_ts("yesterday").is_err());
    }
}
