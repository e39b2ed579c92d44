//! The database: the source of truth. A [`Store`] trait with one SQL
//! implementation that runs on SQLite (the embedded default) and PostgreSQL,
//! each with its own migrations.
//!
//! Every change is one transaction that writes the record, an audit event and
//! an outbox row (for the derived indexes).

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use concord_domain::account::{Email, Membership, RoleSet, User};
use concord_domain::{
    Actor, AuditEvent, DomainError, Lifecycle, NewRecommendation, OrgCode, Organisation, RecKind,
    Recommendation, RecommendationData, RecommendationId, ResponseAttachment,
};

mod error;
mod importing;
pub use error::StoreError;
pub use importing::{IMPORT_BATCH, ImportBatch, ImportFeed, ImportPlan, SameReportMerger};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Who may see drafts in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DraftVisibility {
    /// Published, closed, withdrawn and superseded records only.
    #[default]
    None,
    /// Also the drafts of this issuer.
    OfIssuer(OrgCode),
    /// Everything (local operators at the command line).
    All,
}

/// Filters shared by the API listing, the CLI and (later) search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecommendationFilter {
    pub issuer: Option<OrgCode>,
    /// Matches an addressee's organisation code exactly, or its written name
    /// case-insensitively as a substring.
    pub addressee: Option<String>,
    /// Case-insensitive exact match on one theme.
    pub theme: Option<String>,
    /// Case-insensitive exact match on one care setting.
    pub setting: Option<String>,
    pub status: Option<Lifecycle>,
    pub kind: Option<RecKind>,
    /// Published on or after.
    pub from: Option<NaiveDate>,
    /// Published on or before.
    pub to: Option<NaiveDate>,
    pub drafts: DraftVisibility,
}

/// Which addressee parts a work queue wants (see [`Store::list_with_parts`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PartsFilter {
    /// Any of these states.
    pub statuses: Vec<concord_domain::AddresseeStatus>,
    /// Only parts recognised as this organisation.
    pub org: Option<OrgCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub offset: u64,
    pub limit: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub total: u64,
    pub items: Vec<Recommendation>,
}

/// What an import did. Rows that were already present are skipped, so an
/// import of the same file twice adds nothing the second time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: u64,
    /// Reports already in the register that this import's source added to.
    pub enriched: u64,
    /// Records of this import folded into another record of it (the same
    /// report twice in the files imported together) that added something.
    pub enriched_in_import: u64,
    pub skipped: u64,
    /// Values a source gave that the record does not use (kept as variants).
    pub variants: Vec<ImportVariant>,
    pub responses_attached: u64,
    pub responses_skipped: u64,
    /// Rows (by the caller's row number) whose response could not be matched
    /// to any report in the register.
    pub responses_unmatched: Vec<usize>,
}

/// A value from the imported source that differs from the one the record
/// keeps: reported, and kept on the record as a variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportVariant {
    /// The record's position in the import.
    pub index: usize,
    pub id: String,
    pub part: concord_domain::RecordPart,
    pub kept: String,
    pub other: String,
    pub other_from: concord_domain::DataSource,
}

/// One entry of the outbox: a record changed, the indexes must catch up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub seq: i64,
    pub entity: String,
    pub entity_id: String,
    pub op: String,
    pub at: DateTime<Utc>,
}

/// An API token as stored: only the hash of the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: i64,
    pub org: OrgCode,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// What the token may do for its organisation.
    pub roles: RoleSet,
    /// After this, the token no longer works (None: tokens made before
    /// tokens expired, which never do).
    pub expires_at: Option<DateTime<Utc>>,
}

/// An open invitation into an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub org: OrgCode,
    pub roles: RoleSet,
    /// Who invited (an audit label).
    pub invited_by: String,
    pub created_at: DateTime<Utc>,
}

/// A new API token as asked for (its secret only as a hash).
#[derive(Debug, Clone)]
pub struct TokenGrant<'a> {
    pub org: &'a OrgCode,
    pub label: &'a str,
    pub roles: RoleSet,
    pub secret_hash: &'a str,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A user as stored, with the hash of their password (PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

/// A signed-in browser. Only the SHA-256 of the cookie's secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    pub user_id: i64,
    /// The organisation the user acts for now (None: no membership).
    pub org: Option<OrgCode>,
    /// The secret every form posted in this session carries.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Which late answers to list (see [`Store::overdue`]). Drafts are never
/// included: only published recommendations wait for answers.
#[derive(Debug, Clone, PartialEq)]
pub struct OverdueFilter {
    /// Late as of the end of this day (England).
    pub as_of: NaiveDate,
    pub issuer: Option<OrgCode>,
    /// Matches the addressee's organisation code exactly, or its written
    /// name case-insensitively as a substring (as in listings).
    pub addressee: Option<String>,
}

/// One addressee whose answer is late, as [`concord_domain::lifecycle::overdue_as_of`] decides.
#[derive(Debug, Clone, PartialEq)]
pub struct OverdueRow {
    pub id: RecommendationId,
    pub title: String,
    pub published: Option<NaiveDate>,
    /// 0-based position of the addressee in the record.
    pub position: usize,
    pub addressee: String,
    pub org: Option<OrgCode>,
    pub due: NaiveDate,
    pub days_overdue: i64,
    /// The escalation steps already taken for this addressee.
    pub escalations: Vec<concord_domain::lifecycle::Escalation>,
}

/// Which recommendations a feed follows (see [`Store::feed_events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedScope {
    /// Every recommendation.
    All,
    /// Those issued by, or addressed to, this organisation.
    Organisation(OrgCode),
    /// Those with this theme (compared in lower case).
    Theme(String),
    /// One recommendation.
    Recommendation(RecommendationId),
}

/// Receives records in id order during an export or backup, a page at a time,
/// so that a million records never sit in memory at once.
pub type Visitor<'a> =
    &'a mut (dyn FnMut(Vec<Recommendation>) -> std::result::Result<(), String> + Send);

/// A connection pool's state at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoolStatus {
    pub open: u32,
    pub idle: u32,
}

#[async_trait]
pub trait Store: Send + Sync {
    fn backend(&self) -> Backend;
    /// The connection pool now: connections open, and of those idle (for
    /// operators' metrics).
    fn pool_status(&self) -> PoolStatus;

    // --- organisations ---
    /// Adds the organisation if its code is new; returns whether it was added.
    /// Existing organisations are left as they are (never silently overwritten).
    async fn add_organisation(&self, actor: &Actor, org: &Organisation) -> Result<bool>;
    async fn organisations(&self) -> Result<Vec<Organisation>>;
    async fn organisation(&self, code: &OrgCode) -> Result<Option<Organisation>>;
    /// Addressee names of published recommendations that no organisation
    /// was recognised in, most frequent first, with how often each is written.
    async fn unresolved_addressees(&self, limit: u32) -> Result<Vec<(String, u64)>>;
    /// Marks an organisation verified, optionally renaming it (the old
    /// name kept as an alias) and setting its kind. Audited.
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
    ) -> Result<Organisation>;
    /// Moves every addressee entry of `from` to `into` (recommendation ids
    /// never change), gives `into` its names and keeps `from` as merged.
    /// Refused when `from` issues, has members or tokens, endorses or has a
    /// provider profile. Audited; undone by [`Store::unmerge_organisation`].
    async fn merge_organisations(
        &self,
        actor: &Actor,
        from: &OrgCode,
        into: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<sql::MergeOutcome>;
    /// Undoes the last merge of `from`. Audited.
    async fn unmerge_organisation(
        &self,
        actor: &Actor,
        from: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<sql::MergeOutcome>;

    // --- recommendations ---
    /// Creates one record (id allocated or checked as the request says).
    async fn create(
        &self,
        actor: &Actor,
        new: NewRecommendation,
        now: DateTime<Utc>,
    ) -> Result<Recommendation>;
    /// Replaces a record's data if `expected_version` is its current version;
    /// otherwise `StoreError::Conflict`. The version goes up by one.
    async fn update(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        expected_version: i64,
        data: RecommendationData,
        now: DateTime<Utc>,
    ) -> Result<Recommendation> {
        self.update_as(actor, id, expected_version, data, now, "update")
            .await
    }
    /// As [`Store::update`], naming the change in the audit trail (a
    /// lifecycle move such as `respond` or `close`).
    async fn update_as(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        expected_version: i64,
        data: RecommendationData,
        now: DateTime<Utc>,
        action: &str,
    ) -> Result<Recommendation>;
    async fn get(&self, id: &RecommendationId) -> Result<Option<Recommendation>>;
    /// These records, in the order of `ids`; one that does not exist is left out.
    async fn get_many(&self, ids: &[RecommendationId]) -> Result<Vec<Recommendation>>;
    async fn get_by_import_key(&self, key: &str) -> Result<Option<Recommendation>>;
    async fn list(&self, filter: &RecommendationFilter, page: Page) -> Result<ListPage>;
    /// A work queue: the recommendations matching `filter` with at least one
    /// addressee part in one of `parts.statuses` (addressed to `parts.org` when
    /// given), newest first.
    async fn list_with_parts(
        &self,
        filter: &RecommendationFilter,
        parts: &PartsFilter,
        page: Page,
    ) -> Result<ListPage>;
    async fn count(&self) -> Result<u64>;
    /// Visits every record in id order (issuer, year, sequence), `batch` at a time.
    async fn scan(&self, batch: usize, visit: Visitor<'_>) -> Result<()>;

    /// Imports organisations, then records as `feed` hands them over a batch
    /// at a time, then responses, in ONE transaction: all or nothing, and
    /// only one batch held at a time. A record whose import key (or exact id)
    /// is already present is skipped (or enriches it, from a second source).
    /// The feed must not repeat an import key (see [`SameReportMerger`]);
    /// `plan` must have noted every record. `progress` is called with the
    /// number of records handled so far.
    #[allow(clippy::too_many_arguments)]
    async fn import_feed(
        &self,
        actor: &Actor,
        orgs: &[Organisation],
        plan: &ImportPlan,
        feed: &mut ImportFeed,
        responses: Vec<ResponseAttachment>,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportSummary>;

    /// [`Store::import_feed`] of records already in memory (the demo set,
    /// tests): the same report twice is folded into one first.
    async fn import(
        &self,
        actor: &Actor,
        orgs: &[Organisation],
        records: Vec<NewRecommendation>,
        responses: Vec<ResponseAttachment>,
        now: DateTime<Utc>,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportSummary> {
        let mut plan = ImportPlan::default();
        let mut counts: std::collections::HashMap<String, u32> = Default::default();
        for r in &records {
            plan.note(r);
            if let Some(k) = &r.import_key {
                *counts.entry(k.clone()).or_default() += 1;
            }
        }
        let mut merger = SameReportMerger::new(counts);
        let mut rows: Vec<(usize, NewRecommendation)> = records
            .into_iter()
            .enumerate()
            .filter_map(|(i, r)| merger.offer(i, r))
            .collect();
        let (enriched, skipped) = (merger.enriched, merger.skipped);
        rows.extend(merger.rest());
        let (tx, mut feed) = tokio::sync::mpsc::channel(rows.len().div_ceil(IMPORT_BATCH).max(1));
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let batch: ImportBatch = rows.by_ref().take(IMPORT_BATCH).collect();
            tx.try_send(Ok(batch)).map_err(|e| {
                StoreError::ImportSource(format!("the records could not be queued: {e}"))
            })?;
        }
        drop(tx);
        let mut summary = self
            .import_feed(actor, orgs, &plan, &mut feed, responses, now, progress)
            .await?;
        summary.enriched_in_import += enriched;
        summary.skipped += skipped;
        Ok(summary)
    }

    /// Every addressee whose answer is late as of `filter.as_of` (the
    /// definition of [`concord_domain::lifecycle::overdue_as_of`], with due
    /// dates that are missing taken from `rules`), most days overdue first,
    /// then by id and addressee.
    async fn overdue(
        &self,
        filter: &OverdueFilter,
        rules: &concord_domain::lifecycle::RulesBook,
    ) -> Result<Vec<OverdueRow>>;

    /// The dashboard's facts (`concord_domain::dashboard::RecFacts`) of every
    /// record that is not a draft, `batch` records at a time, from one
    /// snapshot: a lean read of only the columns the figures need.
    async fn dashboard_facts(
        &self,
        rules: &concord_domain::lifecycle::RulesBook,
        batch: usize,
        visit: &mut (dyn FnMut(Vec<concord_domain::dashboard::RecFacts>) + Send),
    ) -> Result<()>;

    // --- workstreams (the register of ongoing work) ---
    /// Registers a workstream: an empty `ws.id` gets the lead's next
    /// `WS-LEAD-YYYY-NNN` for `year`; a given id is refused if taken.
    /// Audited, with an outbox row (entity `workstream`).
    async fn create_workstream(
        &self,
        actor: &Actor,
        ws: concord_domain::Workstream,
        year: u16,
        now: DateTime<Utc>,
    ) -> Result<concord_domain::StoredWorkstream>;
    /// Replaces a workstream if `expected_version` is its current version;
    /// otherwise `StoreError::Conflict`. Its id and lead never change.
    async fn update_workstream(
        &self,
        actor: &Actor,
        id: &str,
        expected_version: i64,
        ws: concord_domain::Workstream,
        now: DateTime<Utc>,
    ) -> Result<concord_domain::StoredWorkstream>;
    async fn get_workstream(&self, id: &str) -> Result<Option<concord_domain::StoredWorkstream>>;
    /// Every workstream, by id (the register of ongoing work is small: its
    /// search and facets are computed over this list; see the app).
    async fn workstreams(&self) -> Result<Vec<concord_domain::StoredWorkstream>>;

    // --- audit and outbox ---
    async fn history(&self, entity_id: &str) -> Result<Vec<AuditEvent>>;
    /// Recommendation audit events for the public feeds, newest first:
    /// those with `seq` below `before_seq` (None: the newest), in `scope`,
    /// of records that are not drafts now, at most `limit`. An import's
    /// event carries no record; its `after` is the record as the next event
    /// found it (None when no event followed: the record as it is now).
    async fn feed_events(
        &self,
        scope: &FeedScope,
        before_seq: Option<i64>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>>;
    async fn outbox_after(&self, after_seq: i64, limit: u32) -> Result<Vec<OutboxRow>>;
    /// This database's first outbox row (position, entity id, time in
    /// microseconds), or None while it has none. The outbox is never pruned,
    /// so a derived index stamped with it can tell this database from
    /// another one (a file deleted and made again under the same name).
    async fn origin(&self) -> Result<Option<(i64, String, i64)>> {
        Ok(self
            .outbox_after(0, 1)
            .await?
            .into_iter()
            .next()
            .map(|r| (r.seq, r.entity_id, r.at.timestamp_micros())))
    }
    /// The last outbox row's position (0 when empty): how far a derived
    /// index must have read to be caught up.
    async fn outbox_end(&self) -> Result<i64>;

    // --- API tokens ---
    /// A token with every role but administrator.
    async fn add_token(
        &self,
        actor: &Actor,
        org: &OrgCode,
        label: &str,
        secret_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord> {
        self.add_token_with_roles(
            actor,
            &TokenGrant {
                org,
                label,
                roles: RoleSet::token_default(),
                secret_hash,
                expires_at: None,
            },
            now,
        )
        .await
    }
    async fn add_token_with_roles(
        &self,
        actor: &Actor,
        grant: &TokenGrant<'_>,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord>;
    /// The live (not revoked) token with this hash.
    async fn token_by_hash(&self, secret_hash: &str) -> Result<Option<TokenRecord>>;
    async fn token(&self, id: i64) -> Result<Option<TokenRecord>>;
    /// Every token (revoked ones too), of one organisation or of all, by id.
    async fn tokens(&self, org: Option<&OrgCode>) -> Result<Vec<TokenRecord>>;

    // --- users, memberships, sessions ---
    /// A new user with their first memberships; audited (without the hash).
    async fn add_user(
        &self,
        actor: &Actor,
        email: &Email,
        name: &str,
        password_hash: &str,
        memberships: &[Membership],
        now: DateTime<Utc>,
    ) -> Result<User>;
    async fn user_by_email(&self, email: &Email) -> Result<Option<UserRecord>>;
    async fn user(&self, id: i64) -> Result<Option<UserRecord>>;
    /// Users with their memberships, by email; only members of `org` if given.
    async fn users(&self, org: Option<&OrgCode>) -> Result<Vec<(User, Vec<Membership>)>>;
    async fn memberships(&self, user_id: i64) -> Result<Vec<Membership>>;
    /// Sets a user's roles in an organisation; empty removes the membership.
    async fn set_membership(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        roles: RoleSet,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Invites a user into an organisation with these roles (replacing an
    /// earlier invitation to it); audited.
    async fn invite(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        roles: RoleSet,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// A user's open invitations, oldest first.
    async fn invitations(&self, user_id: i64) -> Result<Vec<Invitation>>;
    /// The user accepts (a membership with the invited roles) or declines
    /// an invitation, which then ends; None when there was none.
    async fn answer_invitation(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<RoleSet>>;
    /// Sets a user's password (its hash); ends every session of theirs but
    /// the one whose hash is `keep_session`.
    async fn set_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
        keep_session: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// Issues a one-time password reset for a user (the hash of its secret),
    /// replacing any earlier one of theirs; audited.
    async fn issue_password_reset(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()>;
    /// The user a live (unexpired) password reset is for.
    async fn password_reset(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<i64>>;
    /// Uses a password reset: the reset ends, the password is set and every
    /// session of the user ends, all at once; false (nothing changed) when
    /// the reset was used or expired meanwhile.
    async fn use_password_reset(
        &self,
        actor: &Actor,
        token_hash: &str,
        user_id: i64,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Disabling also ends every session of the user.
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        user_id: i64,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()>;
    async fn create_session(&self, session: &SessionRecord) -> Result<()>;
    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>>;
    /// Records use (and the organisation acted for) and moves the expiry.
    async fn touch_session(
        &self,
        id_hash: &str,
        org: Option<&OrgCode>,
        last_seen: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    async fn record_sign_in(
        &self,
        email: &str,
        client: &str,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> Result<()>;
    /// Failures for this email from this client after `since` (and after
    /// the last success).
    async fn sign_in_failures(
        &self,
        email: &str,
        client: &str,
        since: DateTime<Utc>,
    ) -> Result<u32>;
    /// Failures from this client after `since`, whatever the email.
    async fn sign_in_failures_from(&self, client: &str, since: DateTime<Utc>) -> Result<u32>;
    /// Deletes sign-in attempts older than `before` and sessions that have
    /// expired by `now`; how many of each.
    async fn prune_sign_ins(&self, before: DateTime<Utc>, now: DateTime<Utc>)
    -> Result<(u64, u64)>;
    /// Writes a refusal by access control into the audit trail.
    async fn record_refusal(
        &self,
        actor: &Actor,
        what: &str,
        target: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()>;
    async fn revoke_token(&self, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<()>;

    // --- endorsements ---
    /// Who stands behind a recommendation, oldest first.
    async fn endorsements(&self, id: &RecommendationId)
    -> Result<Vec<concord_domain::Endorsement>>;
    /// (recommendation id, endorsing organisation) for every endorsement of
    /// these recommendations (read in chunks: any number of ids).
    async fn endorsers_of(&self, ids: &[String]) -> Result<Vec<(String, String)>>;
    /// Records that `org` endorses `id`; false (nothing written) if it
    /// already does. Audited on the recommendation.
    async fn endorse(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        org: &OrgCode,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool>;
    /// Removes `org`'s endorsement; false if there was none. Audited.
    async fn withdraw_endorsement(
        &self,
        actor: &Actor,
        id: &RecommendationId,
        org: &OrgCode,
        now: DateTime<Utc>,
    ) -> Result<bool>;

    // --- provider profiles ---
    async fn provider_profile(
        &self,
        org: &OrgCode,
    ) -> Result<Option<concord_domain::priority::ProviderProfile>>;
    /// Sets an organisation's profile (replacing any); audited.
    async fn set_provider_profile(
        &self,
        actor: &Actor,
        profile: &concord_domain::priority::ProviderProfile,
        now: DateTime<Utc>,
    ) -> Result<()>;

    // --- quality criteria ---
    /// The issuer's own criteria set (the JSON text as loaded), if it has one.
    async fn issuer_criteria(&self, org: &OrgCode) -> Result<Option<String>>;
    /// Sets (Some) or removes (None) the issuer's criteria set; audited.
    async fn set_issuer_criteria(
        &self,
        actor: &Actor,
        org: &OrgCode,
        ruleset: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()>;

    // --- deadline rules ---
    /// The installation's own deadline rules, per issuer (JSON text of a
    /// `ResponseRules`, as stored), ordered by issuer.
    async fn response_rules(&self) -> Result<Vec<(OrgCode, String)>>;
    /// Sets (Some) or removes (None) an issuer's own rules; audited.
    async fn set_response_rules(
        &self,
        actor: &Actor,
        org: &OrgCode,
        rules: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()>;

    // --- backup ---
    /// Writes every table as JSON lines from one consistent snapshot.
    async fn backup(&self, out: &mut (dyn std::io::Write + Send)) -> Result<u64>;
    /// Loads a backup into an EMPTY database (refused otherwise), atomically.
    async fn restore(&self, input: &mut (dyn std::io::BufRead + Send)) -> Result<u64>;
}

/// Opens (and on first use creates and migrates) the database a URL names:
/// `sqlite://path` or `postgres://...`.
pub async fn open(url: &str) -> Result<std::sync::Arc<dyn Store>> {
    sql::SqlStore::open(url)
        .await
        .map(|s| std::sync::Arc::new(s) as std::sync::Arc<dyn Store>)
}

/// The SQL implementation (SQLite and PostgreSQL through sqlx's Any driver).
pub mod sql;
pub use sql::SqlStore;

impl From<DomainError> for StoreError {
    fn from(e: DomainError) -> Self {
        StoreError::Invalid(e)
    }
}
