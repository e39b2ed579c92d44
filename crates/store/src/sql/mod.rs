//! The one SQL implementation of [`Store`], over sqlx's `Any` driver so that
//! the same statements serve SQLite and PostgreSQL.
//!
//! Portable SQL only: `$N` placeholders, TEXT / BIGINT / REAL columns, dates
//! and times as text, `ON CONFLICT ... DO UPDATE`, `RETURNING`. The few places
//! where the dialects differ go through [`SqlStore::begin_write`],
//! [`SqlStore::begin_snapshot`] and the migrations folders.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use concord_domain::{
    Actor, AuditEvent, DomainError, IdRequest, NewRecommendation, OrgCode, Organisation,
    Recommendation, RecommendationData, RecommendationId, ResponseAttachment,
};
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, Row, Transaction};
use sqlx::{AnyConnection, AnyPool};

use crate::{
    Backend, ImportSummary, Invitation, ListPage, OutboxRow, Page, RecommendationFilter, Result,
    SessionRecord, Store, StoreError, TokenGrant, TokenRecord, UserRecord, Visitor,
};
use concord_domain::account::{Email, Membership, RoleSet, User};

mod accounts;
mod backup;
mod codec;
mod dashboard;
mod endorsements;
mod feed;
mod ids;
mod import;
mod list;
mod migrate;
mod organisations;
mod overdue;
mod profiles;
mod workstreams;

use codec::{Val, fmt_ts, parse_ts};
pub use organisations::MergeOutcome;

/// How long a SQLite connection waits for another writer before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;
/// Page cache per SQLite connection, in KiB as SQLite wants it (negative = KiB): 64 MiB.
const SQLITE_CACHE_KIB_NEGATIVE: i64 = -65_536;

/// The SQL store. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

/// Which backend a database URL names.
pub fn backend_of(url: &str) -> Result<Backend> {
    let u = url.trim();
    if u.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if u.starts_with("postgres://") || u.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::Invalid(DomainError::invalid(
            "db",
            format!(
                "{url:?} is not a database URL (sqlite://PATH or postgres://USER@HOST:PORT/NAME)"
            ),
        )))
    }
}

/// SQLite URLs get `mode=rwc` so that the file is created on first use.
fn connect_url(url: &str, backend: Backend) -> String {
    let u = url.trim().to_string();
    if backend != Backend::Sqlite || u.contains("mode=") || u.contains(":memory:") {
        return u;
    }
    if u.contains('?') {
        format!("{u}&mode=rwc")
    } else {
        format!("{u}?mode=rwc")
    }
}

impl SqlStore {
    /// Opens the database a URL names (`sqlite://PATH` or `postgres://...`),
    /// creating a SQLite file on first use, and applies pending migrations.
    pub async fn open(url: &str) -> Result<SqlStore> {
        let backend = backend_of(url)?;
        let max = match backend {
            Backend::Sqlite => 4,
            Backend::Postgres => 8,
        };
        Self::open_with(url, max).await
    }

    /// Like [`SqlStore::open`] with a chosen pool size.
    ///
    /// SQLite's default page cache (2 MiB) makes a large import thrash once
    /// its indexes outgrow it; pages are allocated only as they are used.
    pub async fn open_with(url: &str, max_connections: u32) -> Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let backend = backend_of(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(std::time::Duration::from_secs(60))
            .after_connect(|conn, _meta| {
                Box::pin(async move {
                    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
                        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                            "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; \
                             PRAGMA journal_mode = WAL; \
                             PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; \
                             PRAGMA temp_store = MEMORY; \
                             PRAGMA cache_size = {SQLITE_CACHE_KIB_NEGATIVE};"
                        )))
                        .execute(&mut *conn)
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&connect_url(url, backend))
            .await
            .map_err(|e| StoreError::Database(format!("cannot open {}: {e}", redact(url))))?;
        let store = SqlStore { pool, backend };
        migrate::migrate(&store).await?;
        Ok(store)
    }

    /// Closes every connection (tests drop their databases afterwards).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), waiting up to the busy timeout for other writers,
    /// so that a transaction never fails half-way because it read first and
    /// wrote later. On PostgreSQL row locks (the id_sequences upsert comes
    /// first) and `version` checks do that job.
    async fn begin_write(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A read transaction that sees one consistent snapshot.
    async fn begin_snapshot(&self) -> Result<Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin().await?,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }
}

/// Hides a password in a URL before it goes into an error message.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Checks what can be checked about a new record's id and version before a
/// transaction starts, so that an invalid record writes nothing at all.
pub(crate) fn check_request(new: &NewRecommendation) -> Result<(), DomainError> {
    if new.id.issuer() != &new.data.issuer {
        let what = match &new.id {
            IdRequest::Exact(id) | IdRequest::Preferred { id, .. } => id.to_string(),
            IdRequest::Allocate { issuer, .. } => format!("an id of {issuer}"),
        };
        return Err(DomainError::invalid(
            "id",
            format!("{what} does not belong to the issuer {}", new.data.issuer),
        ));
    }
    if let IdRequest::Allocate {
        issuer,
        year,
        floor,
    } = &new.id
    {
        RecommendationId::new(issuer.clone(), *year, (*floor).max(1))?;
    }
    if let Some(v) = new.version
        && v < 1
    {
        return Err(DomainError::invalid(
            "version",
            format!("{v} is not a version (they start at 1)"),
        ));
    }
    Ok(())
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(format!("cannot encode JSON: {e}")))
}

/// Maps a unique-constraint failure to `Duplicate`, anything else as usual.
pub(crate) fn map_unique(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        return StoreError::Duplicate(what());
    }
    e.into()
}

/// Writes one audit row (values from [`codec::audit_vals`]).
pub(crate) async fn write_audit(conn: &mut AnyConnection, vals: [Val; 7]) -> Result<()> {
    codec::insert_rows(conn, "audit_events", codec::AUDIT_COLS, vals.to_vec()).await
}

pub(crate) async fn write_outbox(
    conn: &mut AnyConnection,
    entity_id: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("INSERT INTO outbox (entity, entity_id, op, at) VALUES ('recommendation', $1, 'upsert', $2)")
        .bind(entity_id.to_string())
        .bind(fmt_ts(at))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(crate) fn org_from_row(row: &sqlx::any::AnyRow) -> Result<Organisation> {
    let code: String = row.try_get("code")?;
    let corrupt =
        |what: &str, e: String| StoreError::Corrupt(format!("organisation {code}: {what}: {e}"));
    let aliases: String = row.try_get("aliases_json")?;
    Ok(Organisation {
        code: OrgCode::parse(&code).map_err(|e| corrupt("code", e.to_string()))?,
        name: row.try_get("name")?,
        kind: row
            .try_get::<String, _>("kind")?
            .parse()
            .map_err(|e| corrupt("kind", e))?,
        level: row
            .try_get::<String, _>("level")?
            .parse()
            .map_err(|e| corrupt("level", e))?,
        provider_kind: row
            .try_get::<Option<String>, _>("provider_kind")?
            .map(|s| s.parse())
            .transpose()
            .map_err(|e| corrupt("provider_kind", e))?,
        region: row.try_get("region")?,
        aliases: serde_json::from_str(&aliases).map_err(|e| corrupt("aliases", e.to_string()))?,
        status: row
            .try_get::<String, _>("status")?
            .parse()
            .map_err(|e| corrupt("status", e))?,
    })
}

pub(crate) const ORG_COLS: &str =
    "code, name, kind, level, provider_kind, region, aliases_json, created_at, status";

pub(crate) fn org_vals(org: &Organisation, now: DateTime<Utc>) -> Result<Vec<Val>> {
    Ok(vec![
        Val::text(org.code.as_str()),
        Val::text(&org.name),
        Val::text(org.kind.as_str()),
        Val::text(org.level.as_str()),
        Val::opt_text(org.provider_kind.map(|k| k.as_str())),
        Val::opt_text(org.region.as_deref()),
        Val::Text(Some(to_json(&org.aliases)?)),
        Val::Text(Some(fmt_ts(now))),
        Val::text(org.status.as_str()),
    ])
}

/// Adds organisations whose code is new (in one statement per chunk) and
/// audits each one added. Returns the codes added.
pub(crate) async fn add_organisations(
    conn: &mut AnyConnection,
    actor: &Actor,
    orgs: &[Organisation],
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut added = Vec::new();
    let mut seen = HashSet::new();
    let unique: Vec<&Organisation> = orgs
        .iter()
        .filter(|o| seen.insert(o.code.clone()))
        .collect();
    for chunk in unique.chunks(200) {
        let mut vals = Vec::with_capacity(chunk.len() * 9);
        for o in chunk {
            vals.extend(org_vals(o, now)?);
        }
        let sql = format!(
            "{} ON CONFLICT (code) DO NOTHING RETURNING code",
            codec::insert_sql("organisations", ORG_COLS, 9, chunk.len(), false)
        );
        let rows = codec::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), vals)
            .fetch_all(&mut *conn)
            .await?;
        let codes: HashSet<String> = rows
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()?;
        let mut audit = Vec::new();
        for o in chunk {
            if codes.contains(o.code.as_str()) {
                audit.extend(codec::audit_vals(
                    now,
                    actor,
                    "add_organisation",
                    "organisation",
                    o.code.as_str(),
                    None,
                    Some(to_json(o)?),
                ));
                added.push(o.code.to_string());
            }
        }
        codec::insert_rows(conn, "audit_events", codec::AUDIT_COLS, audit).await?;
    }
    Ok(added)
}

fn token_from_row(row: &sqlx::any::AnyRow) -> Result<TokenRecord> {
    let org: String = row.try_get("org")?;
    Ok(TokenRecord {
        id: row.try_get("id")?,
        org: OrgCode::parse(&org).map_err(|e| StoreError::Corrupt(format!("token org: {e}")))?,
        label: row.try_get("label")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        revoked_at: row
            .try_get::<Option<String>, _>("revoked_at")?
            .map(|s| parse_ts(&s))
            .transpose()?,
        roles: accounts::token_roles(row.try_get("roles")?)?,
        expires_at: row
            .try_get::<Option<String>, _>("expires_at")?
            .map(|s| parse_ts(&s))
            .transpose()?,
    })
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    fn pool_status(&self) -> crate::PoolStatus {
        crate::PoolStatus {
            open: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
        }
    }

    async fn add_organisation(&self, actor: &Actor, org: &Organisation) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let added =
            add_organisations(&mut tx, actor, std::slice::from_ref(org), Utc::now()).await?;
        tx.commit().await?;
        Ok(!added.is_empty())
    }

    async fn organisations(&self) -> Result<Vec<Organisation>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLS} FROM organisations ORDER BY code"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(org_from_row).collect()
    }

    async fn organisation(&self, code: &OrgCode) -> Result<Option<Organisation>> {
        let mut conn = self.pool.acquire().await?;
        organisations::org_by_code(&mut conn, code).await
    }

    async fn unresolved_addressees(&self, limit: u32) -> Result<Vec<(String, u64)>> {
        self.list_unresolved(limit).await
    }

    async fn confirm_organisation(
        &self,
        actor: &Actor,
        code: &OrgCode,
        name: Option<&str>,
        kind: Option<(
            concord_domain::OrgKind,
            Option<concord_domain::ProviderKind>,
        )>,
        now: DateTime<Utc>,
    ) -> Result<Organisation> {
        self.confirm_org(actor, code, name, kind, now).await
    }

    async fn merge_organisations(
        &self,
        actor: &Actor,
        from: &OrgCode,
        into: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<MergeOutcome> {
        self.merge_orgs(actor, from, into, now).await
    }

    async fn unmerge_organisation(
        &self,
        actor: &Actor,
        from: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<MergeOutcome> {
        self.unmerge_org(actor, from, now).await
    }

    async fn create(
        &self,
        actor: &Actor,
        new: NewRecommendation,
        now: DateTime<Utc>,
    ) -> Result<Recommendation> {
        check_request(&new)?;
        let NewRecommendation {
            id: request,
            data,
            import_key,
            version,
            created_at,
            updated_at,
            mut provenance,
        } = new;
        let data = data.validate()?;
        provenance.stamp(now);
        let mut tx = self.begin_write().await?;
        // The id_sequences upsert is the first statement of the transaction.
        let id = ids::resolve(&mut tx, &request).await?;
        if let Some(key) = &import_key
            && codec::import_key_taken(&mut tx, key).await?
        {
            return Err(StoreError::Duplicate(format!(
                "a record with import key {key:?} already exists"
            )));
        }
        let created_at = created_at.unwrap_or(now);
        let rec = Recommendation {
            id,
            data,
            version: version.unwrap_or(1),
            created_at,
            updated_at: updated_at.unwrap_or(created_at),
            import_key,
            provenance,
        };
        let mut rows = codec::RecRows::default();
        rows.push(&rec)?;
        rows.flush(&mut tx).await.map_err(|e| match e {
            StoreError::Duplicate(_) => StoreError::Duplicate(match &rec.import_key {
                Some(key) => format!(
                    "{} or a record with import key {key:?} already exists",
                    rec.id
                ),
                None => format!("{} already exists", rec.id),
            }),
            e => e,
        })?;
        let id = rec.id.to_string();
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "create",
                "recommendation",
                &id,
                None,
                Some(to_json(&rec)?),
            ),
        )
        .await?;
        write_outbox(&mut tx, &id, now).await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn update_as(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        expected_version: i64,
        data: RecommendationData,
        now: DateTime<Utc>,
        action: &str,
    ) -> Result<Recommendation> {
        if data.issuer != id.issuer {
            return Err(StoreError::Invalid(DomainError::invalid(
                "issuer",
                format!(
                    "{id} belongs to {}; a record cannot move to {}",
                    id.issuer, data.issuer
                ),
            )));
        }
        let data = data.validate()?;
        let mut tx = self.begin_write().await?;
        let id_s = id.to_string();
        let Some(before) = codec::load_one(&mut tx, &id_s).await? else {
            return Err(StoreError::NotFound {
                entity: "recommendation",
                id: id_s,
            });
        };
        if before.version != expected_version {
            return Err(StoreError::Conflict {
                id: id_s,
                expected: expected_version,
                actual: before.version,
            });
        }
        let after = Recommendation {
            id: id.clone(),
            data: data.clone(),
            version: expected_version + 1,
            created_at: before.created_at,
            updated_at: now,
            import_key: before.import_key.clone(),
            provenance: {
                let mut p = before.provenance.clone();
                p.edited(&before.data, &data);
                p.stamp(now);
                p
            },
        };
        // Race-free: the row changes only if it is still at the expected version.
        let affected = codec::update_main(&mut tx, &after, expected_version).await?;
        if affected == 0 {
            let actual = codec::current_version(&mut tx, &id_s).await?;
            return Err(match actual {
                Some(actual) => StoreError::Conflict {
                    id: id_s,
                    expected: expected_version,
                    actual,
                },
                None => StoreError::NotFound {
                    entity: "recommendation",
                    id: id_s,
                },
            });
        }
        codec::delete_children(&mut tx, std::slice::from_ref(&id_s)).await?;
        let mut rows = codec::RecRows::default();
        rows.push_children(&after)?;
        rows.flush(&mut tx).await?;
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                action,
                "recommendation",
                &id_s,
                Some(to_json(&before)?),
                Some(to_json(&after)?),
            ),
        )
        .await?;
        write_outbox(&mut tx, &id_s, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn get(&self, id: &RecommendationId) -> Result<Option<Recommendation>> {
        let mut conn = self.pool.acquire().await?;
        codec::load_one(&mut conn, &id.to_string()).await
    }

    async fn get_many(&self, ids: &[RecommendationId]) -> Result<Vec<Recommendation>> {
        let mut conn = self.pool.acquire().await?;
        let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        codec::load_many(&mut conn, &ids).await
    }

    async fn get_by_import_key(&self, key: &str) -> Result<Option<Recommendation>> {
        let mut conn = self.pool.acquire().await?;
        let sql = format!(
            "SELECT {} FROM recommendations WHERE import_key = $1",
            codec::REC_COLS
        );
        let mut recs = codec::fetch_full(&mut conn, &sql, vec![Val::text(key)]).await?;
        Ok(recs.pop())
    }

    async fn list(&self, filter: &RecommendationFilter, page: Page) -> Result<ListPage> {
        let mut conn = self.pool.acquire().await?;
        list::list(&mut conn, filter, page).await
    }

    async fn list_with_parts(
        &self,
        filter: &RecommendationFilter,
        parts: &crate::PartsFilter,
        page: Page,
    ) -> Result<ListPage> {
        let mut conn = self.pool.acquire().await?;
        list::list_with_parts(&mut conn, filter, Some(parts), page).await
    }

    async fn count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recommendations")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    async fn scan(&self, batch: usize, visit: Visitor<'_>) -> Result<()> {
        let batch = batch.clamp(1, 100_000) as i64;
        let mut conn = self.pool.acquire().await?;
        let mut after: Option<(String, i64, i64)> = None;
        loop {
            let (sql, params) = match &after {
                None => (
                    format!(
                        "SELECT {} FROM recommendations ORDER BY issuer, year, seq LIMIT $1",
                        codec::REC_COLS
                    ),
                    vec![Val::Int(Some(batch))],
                ),
                Some((issuer, year, seq)) => (
                    format!(
                        "SELECT {} FROM recommendations WHERE (issuer, year, seq) > ($1, $2, $3) \
                         ORDER BY issuer, year, seq LIMIT $4",
                        codec::REC_COLS
                    ),
                    vec![
                        Val::text(issuer),
                        Val::Int(Some(*year)),
                        Val::Int(Some(*seq)),
                        Val::Int(Some(batch)),
                    ],
                ),
            };
            let recs = codec::fetch_full(&mut conn, &sql, params).await?;
            let Some(last) = recs.last() else {
                return Ok(());
            };
            after = Some((
                last.id.issuer.to_string(),
                i64::from(last.id.year),
                i64::from(last.id.seq),
            ));
            let full = recs.len() as i64 == batch;
            visit(recs)
                .map_err(|e| StoreError::Database(format!("reading records stopped: {e}")))?;
            if !full {
                return Ok(());
            }
        }
    }

    async fn import_feed(
        &self,
        actor: &Actor,
        orgs: &[Organisation],
        plan: &crate::ImportPlan,
        feed: &mut crate::ImportFeed,
        responses: Vec<ResponseAttachment>,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportSummary> {
        // The connection's ordinary page cache (64 MiB): an import of any
        // size stays within bounded memory (a 1 GiB cache was tried: faster
        // by a fifth at a million records, but it held 1 GiB more).
        let mut tx = self.begin_write().await?;
        let result =
            import::import(&mut tx, actor, orgs, plan, feed, responses, now, progress).await;
        let summary = result?;
        tx.commit().await?;
        Ok(summary)
    }

    async fn overdue(
        &self,
        filter: &crate::OverdueFilter,
        rules: &concord_domain::lifecycle::RulesBook,
    ) -> Result<Vec<crate::OverdueRow>> {
        let mut conn = self.pool.acquire().await?;
        overdue::overdue(&mut conn, filter, rules).await
    }

    async fn dashboard_facts(
        &self,
        rules: &concord_domain::lifecycle::RulesBook,
        batch: usize,
        visit: &mut (dyn FnMut(Vec<concord_domain::dashboard::RecFacts>) + Send),
    ) -> Result<()> {
        dashboard::facts(self, rules, batch, visit).await
    }

    async fn create_workstream(
        &self,
        actor: &Actor,
        ws: concord_domain::Workstream,
        year: u16,
        now: DateTime<Utc>,
    ) -> Result<concord_domain::StoredWorkstream> {
        self.create_workstream_impl(actor, ws, year, now).await
    }

    async fn update_workstream(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        ws: concord_domain::Workstream,
        now: DateTime<Utc>,
    ) -> Result<concord_domain::StoredWorkstream> {
        self.update_workstream_impl(actor, id, expected_version, ws, now)
            .await
    }

    async fn get_workstream(&self, id: &str) -> Result<Option<concord_domain::StoredWorkstream>> {
        self.get_workstream_impl(id).await
    }

    async fn workstreams(&self) -> Result<Vec<concord_domain::StoredWorkstream>> {
        self.workstreams_impl().await
    }

    async fn history(&self, entity_id: &str) -> Result<Vec<AuditEvent>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, entity, entity_id, before_json, after_json \
             FROM audit_events WHERE entity_id = $1 ORDER BY seq",
        )
        .bind(entity_id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let json = |s: Option<String>| -> Result<Option<serde_json::Value>> {
            s.map(|s| {
                serde_json::from_str(&s)
                    .map_err(|e| StoreError::Corrupt(format!("audit JSON: {e}")))
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

    async fn feed_events(
        &self,
        scope: &crate::FeedScope,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>> {
        let mut conn = self.pool.acquire().await?;
        feed::feed_events(&mut conn, scope, before_seq, limit).await
    }

    async fn outbox_after(&self, after_seq: i64, limit: u32) -> Result<Vec<OutboxRow>> {
        let rows =
            sqlx::query("SELECT seq, entity, entity_id, op, at FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2")
                .bind(after_seq)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(OutboxRow {
                    seq: r.try_get("seq")?,
                    entity: r.try_get("entity")?,
                    entity_id: r.try_get("entity_id")?,
                    op: r.try_get("op")?,
                    at: parse_ts(&r.try_get::<String, _>("at")?)?,
                })
            })
            .collect()
    }

    async fn outbox_end(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM outbox")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<i64, _>("seq")?)
    }

    async fn add_token_with_roles(
        &self,
        actor: &Actor,
        grant: &TokenGrant<'_>,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord> {
        let TokenGrant {
            org,
            label,
            roles,
            secret_hash,
            expires_at,
        } = grant.clone();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO api_tokens (org, label, token_hash, created_at, roles, expires_at) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING id, org, label, created_at, revoked_at, roles, expires_at",
        )
        .bind(org.as_str())
        .bind(label.to_string())
        .bind(secret_hash.to_string())
        .bind(fmt_ts(now))
        .bind(roles.to_string())
        .bind(expires_at.map(fmt_ts))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_unique(e, || "a token with this secret already exists".into()))?;
        let token = token_from_row(&row)?;
        let after = serde_json::json!({"id": token.id, "org": org, "label": label, "roles": roles, "created_at": fmt_ts(now), "expires_at": expires_at.map(fmt_ts)});
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "add_token",
                "token",
                &token.id.to_string(),
                None,
                Some(after.to_string()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(
            "SELECT id, org, label, created_at, revoked_at, roles, expires_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn token(&self, id: i64) -> Result<Option<TokenRecord>> {
        let row = sqlx::query(
            "SELECT id, org, label, created_at, revoked_at, roles, expires_at FROM api_tokens WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn tokens(&self, org: Option<&OrgCode>) -> Result<Vec<TokenRecord>> {
        let rows = match org {
            Some(o) => {
                sqlx::query(
                    "SELECT id, org, label, created_at, revoked_at, roles, expires_at FROM api_tokens \
                     WHERE org = $1 ORDER BY id",
                )
                .bind(o.as_str())
                .fetch_all(&self.pool)
                .await?
            }
            None => sqlx::query(
                "SELECT id, org, label, created_at, revoked_at, roles, expires_at FROM api_tokens ORDER BY id",
            )
            .fetch_all(&self.pool)
            .await?,
        };
        rows.iter().map(token_from_row).collect()
    }

    async fn add_user(
        &self,
        actor: &Actor,
        email: &Email,
        name: &str,
        password_hash: &str,
        memberships: &[Membership],
        now: DateTime<Utc>,
    ) -> Result<User> {
        self.insert_user(actor, email, name, password_hash, memberships, now)
            .await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>> {
        self.find_user_by_email(email).await
    }

    async fn user(&self, id: i64) -> Result<Option<UserRecord>> {
        self.find_user(id).await
    }

    async fn users(&self, org: Option<&OrgCode>) -> Result<Vec<(User, Vec<Membership>)>> {
        self.list_users(org).await
    }

    async fn memberships(&self, user_id: i64) -> Result<Vec<Membership>> {
        self.list_memberships(user_id).await
    }

    async fn set_membership(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        roles: RoleSet,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.put_membership(actor, user_id, org, roles, now).await
    }

    async fn invite(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        roles: RoleSet,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.put_invitation(actor, user_id, org, roles, now).await
    }

    async fn invitations(&self, user_id: i64) -> Result<Vec<Invitation>> {
        self.find_invitations(user_id).await
    }

    async fn answer_invitation(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<RoleSet>> {
        self.take_invitation(actor, user_id, org, accept, now).await
    }

    async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.put_password(actor, user_id, password_hash, keep_session, now)
            .await
    }

    async fn issue_password_reset(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.put_password_reset(actor, user_id, token_hash, expires_at, now)
            .await
    }

    async fn password_reset(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>> {
        self.find_password_reset(token_hash, now).await
    }

    async fn use_password_reset(
        &self,
        actor: &Actor,
        token_hash: &str,
        user_id: i64,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.take_password_reset(actor, token_hash, user_id, password_hash, now)
            .await
    }

    async fn set_user_disabled(
        &self,
        actor: &Actor,
        user_id: i64,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.put_user_disabled(actor, user_id, disabled, now).await
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<()> {
        self.insert_session(session).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        self.find_session(id_hash).await
    }

    async fn touch_session(
        &self,
        id_hash: &str,
        org: Option<&OrgCode>,
        last_seen: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.touch_session_row(id_hash, org, last_seen, expires_at)
            .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.remove_session(id_hash).await
    }

    async fn record_sign_in(
        &self,
        email: &str,
        client: &str,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.insert_sign_in_attempt(email, client, succeeded, at)
            .await
    }

    async fn sign_in_failures(
        &self,
        email: &str,
        client: &str,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        self.count_failures(email, client, since).await
    }

    async fn sign_in_failures_from(&self, client: &str, since: DateTime<Utc>) -> Result<u32> {
        self.count_failures_from(client, since).await
    }

    async fn prune_sign_ins(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        self.prune_attempts_and_sessions(before, now).await
    }

    async fn record_refusal(
        &self,
        actor: &Actor,
        what: &str,
        target: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.insert_refusal(actor, what, target, reason, now).await
    }

    async fn revoke_token(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(fmt_ts(now))
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 0 {
            let exists = sqlx::query("SELECT id FROM api_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if !exists {
                return Err(StoreError::NotFound {
                    entity: "token",
                    id: id.to_string(),
                });
            }
            // Already revoked: nothing to do.
            return Ok(());
        }
        let after = serde_json::json!({"id": id, "revoked_at": fmt_ts(now)});
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "revoke_token",
                "token",
                &id.to_string(),
                None,
                Some(after.to_string()),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn provider_profile(
        &self,
        org: &OrgCode,
    ) -> Result<Option<concord_domain::priority::ProviderProfile>> {
        self.get_profile(org).await
    }

    async fn endorsements(
        &self,
        id: &RecommendationId,
    ) -> Result<Vec<concord_domain::Endorsement>> {
        self.list_endorsements(id).await
    }

    async fn endorsers_of(&self, ids: &[String]) -> Result<Vec<(String, String)>> {
        self.endorsers_of_ids(ids).await
    }

    async fn endorse(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        org: &OrgCode,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.add_endorsement(actor, id, org, note, now).await
    }

    async fn withdraw_endorsement(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        org: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        self.remove_endorsement(actor, id, org, now).await
    }

    async fn set_provider_profile(
        &self,
        actor: &Actor,
        profile: &concord_domain::priority::ProviderProfile,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.put_profile(actor, profile, now).await
    }

    async fn issuer_criteria(&self, org: &OrgCode) -> Result<Option<String>> {
        let row = sqlx::query("SELECT ruleset FROM issuer_criteria WHERE org = $1")
            .bind(org.as_str())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
    }

    async fn set_issuer_criteria(
        &self,
        actor: &Actor,
        org: &OrgCode,
        ruleset: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.set_org_document(&ISSUER_CRITERIA, actor, org, ruleset, now)
            .await
    }

    async fn response_rules(&self) -> Result<Vec<(OrgCode, String)>> {
        let rows = sqlx::query("SELECT org, rules_json FROM response_rules ORDER BY org")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let org: String = r.try_get(0)?;
                let org = OrgCode::parse(&org).map_err(|e| {
                    StoreError::Corrupt(format!("response_rules: bad issuer {org:?}: {e}"))
                })?;
                Ok((org, r.try_get::<String, _>(1)?))
            })
            .collect()
    }

    async fn set_response_rules(
        &self,
        actor: &Actor,
        org: &OrgCode,
        rules: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.set_org_document(&RESPONSE_RULES, actor, org, rules, now)
            .await
    }

    async fn backup(&self, out: &mut (dyn std::io::Write + Send)) -> Result<u64> {
        backup::backup(self, out).await
    }

    async fn restore(&self, input: &mut (dyn std::io::BufRead + Send)) -> Result<u64> {
        backup::restore(self, input).await
    }
}

/// A table holding one JSON document per organisation, set by an
/// organisation (or an operator) for itself: an issuer's quality criteria,
/// its deadline rules.
struct OrgDocument {
    table: &'static str,
    column: &'static str,
    /// The document's name in the audit trail's before and after.
    audit_field: &'static str,
    /// Whether the audit trail holds the document as JSON (else as text).
    audit_as_json: bool,
    set_action: &'static str,
    clear_action: &'static str,
}

const ISSUER_CRITERIA: OrgDocument = OrgDocument {
    table: "issuer_criteria",
    column: "ruleset",
    audit_field: "ruleset",
    audit_as_json: false,
    set_action: "set_criteria",
    clear_action: "clear_criteria",
};

const RESPONSE_RULES: OrgDocument = OrgDocument {
    table: "response_rules",
    column: "rules_json",
    audit_field: "rules",
    audit_as_json: true,
    set_action: "set_response_rules",
    clear_action: "reset_response_rules",
};

impl SqlStore {
    /// Sets (`Some`) or removes (`None`) an organisation's document, with
    /// the before and after in the audit trail, in one transaction.
    async fn set_org_document(
        &self,
        doc: &OrgDocument,
        actor: &Actor,
        org: &OrgCode,
        text: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let OrgDocument { table, column, .. } = doc;
        let mut tx = self.begin_write().await?;
        let before: Option<String> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {column} FROM {table} WHERE org = $1"
        )))
        .bind(org.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get::<String, _>(0))
        .transpose()?;
        match text {
            Some(text) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO {table} (org, {column}, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (org) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at"
                )))
                .bind(org.as_str())
                .bind(text.to_string())
                .bind(fmt_ts(now))
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE org = $1"
                )))
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        let wrap = |t: Option<&str>| {
            t.map(|t| {
                let value = if doc.audit_as_json {
                    serde_json::from_str(t).unwrap_or(serde_json::Value::String(t.to_string()))
                } else {
                    serde_json::Value::String(t.to_string())
                };
                serde_json::json!({"org": org, doc.audit_field: value}).to_string()
            })
        };
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                if text.is_some() {
                    doc.set_action
                } else {
                    doc.clear_action
                },
                table,
                org.as_str(),
                wrap(before.as_deref()),
                wrap(text),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_backends() {
        assert_eq!(backend_of("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(backend_of("postgres://u@h:1/d").unwrap(), Backend::Postgres);
        assert_eq!(backend_of("postgresql://u@h/d").unwrap(), Backend::Postgres);
        assert!(backend_of("mysql://x").is_err());
        assert_eq!(
            connect_url("sqlite://x.db", Backend::Sqlite),
            "sqlite://x.db?mode=rwc"
        );
        assert_eq!(
            connect_url("sqlite://x.db?mode=ro", Backend::Sqlite),
            "sqlite://x.db?mode=ro"
        );
        assert_eq!(redact("postgres://u:secret@h/d"), "postgres://u:***@h/d");
        assert_eq!(redact("postgres://u@h/d"), "postgres://u@h/d");
    }
}
