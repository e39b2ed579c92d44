//! `Services`: the store, the clock and the derived state every use case
//! shares, with the plain reads and writes beneath them. The use cases are
//! in the feature modules, each an `impl Services` (and an `impl
//! Authorized`); this module imports none of them. Everything public is
//! reached through [`crate::Authorized`], which decides who may do what.

use std::collections::HashSet;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use concord_domain::{
    Actor, AuditEvent, Lifecycle, OrgCode, Organisation, Recommendation, RecommendationId,
    seed_organisations,
};
use concord_store::{ListPage, Page, RecommendationFilter, Store, TokenRecord};

use crate::clock::{Clock, SystemClock};
use crate::error::{AppError, AppResult};
use crate::principal::hash_token;

pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    /// The search index, once attached (see `crate::search`).
    pub(crate) search: std::sync::OnceLock<Arc<concord_search::SearchIndex>>,
    /// The similarity index, built on first use (see `crate::similar`).
    pub(crate) similar: crate::derived::similar::SimilarEngine,
    /// The optional meaning signal (see `crate::meaning`).
    pub(crate) meaning: crate::derived::meaning::MeaningEngine,
    /// The deadline rules in force, kept in memory (see `crate::rules`).
    pub(crate) rules: crate::derived::rules::RulesCache,
    /// The dashboard's fact table, built on first use (see `crate::dashboard`).
    pub(crate) dashboard: crate::derived::dashboard::DashboardEngine,
    /// Anonymous refusals written to the audit trail (see `crate::guards`).
    pub(crate) refusal_budget: crate::guards::RefusalBudget,
    /// Password checks (see `crate::guards`).
    pub(crate) sign_ins: crate::guards::SignInGate,
    /// Similarity questions off the async workers (see `crate::guards`).
    pub(crate) cpu: crate::guards::CpuBudget,
    /// Where the listings were answered (see [`Services::listing_sources`]).
    pub(crate) listed: ListingSources,
    /// Database listings at once (see `crate::guards`).
    pub(crate) scans: crate::guards::ScanBudget,
}

/// How many listing pages were answered from the search index and how many
/// from the database since start: an index that lags shows as the second
/// growing (the `/metrics` of operators).
#[derive(Debug, Default)]
pub(crate) struct ListingSources {
    pub(crate) index: std::sync::atomic::AtomicU64,
    pub(crate) database: std::sync::atomic::AtomicU64,
}

/// A token as created: the secret is in here once and never again.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub secret: String,
    pub record: TokenRecord,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Services {
            store,
            clock,
            search: Default::default(),
            similar: Default::default(),
            meaning: Default::default(),
            rules: Default::default(),
            dashboard: Default::default(),
            refusal_budget: Default::default(),
            sign_ins: Default::default(),
            cpu: Default::default(),
            listed: Default::default(),
            scans: Default::default(),
        }
    }

    /// Opens the database a URL names, creating and seeding it on first use.
    pub async fn open(url: &str) -> AppResult<Self> {
        Services::open_with_clock(url, Arc::new(SystemClock)).await
    }

    /// [`Services::open`] on a clock of the caller's (tests move time on).
    pub async fn open_with_clock(url: &str, clock: Arc<dyn Clock>) -> AppResult<Self> {
        let store = concord_store::open(url).await?;
        let svc = Services::new(store, clock);
        svc.seed().await?;
        Ok(svc)
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The national bodies of PRODUCT.md; added once, never overwritten.
    async fn seed(&self) -> AppResult<()> {
        let existing: HashSet<OrgCode> = self
            .store
            .organisations()
            .await?
            .into_iter()
            .map(|o| o.code)
            .collect();
        let actor = Actor::system("seed");
        for org in seed_organisations() {
            if !existing.contains(&org.code) {
                self.store.add_organisation(&actor, &org).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn organisations(&self) -> AppResult<Vec<Organisation>> {
        Ok(self.store.organisations().await?)
    }

    pub(crate) async fn organisation(&self, code: &OrgCode) -> AppResult<Option<Organisation>> {
        Ok(self.store.organisation(code).await?)
    }

    pub(crate) async fn add_organisation(
        &self,
        actor: &Actor,
        org: &Organisation,
    ) -> AppResult<bool> {
        Ok(self.store.add_organisation(actor, org).await?)
    }

    pub(crate) async fn unresolved_addressees(&self, limit: u32) -> AppResult<Vec<(String, u64)>> {
        Ok(self.store.unresolved_addressees(limit).await?)
    }

    pub(crate) async fn confirm_organisation(
        &self,
        actor: &Actor,
        code: &OrgCode,
        name: Option<&str>,
        kind: Option<(
            concord_domain::OrgKind,
            Option<concord_domain::ProviderKind>,
        )>,
    ) -> AppResult<Organisation> {
        Ok(self
            .store
            .confirm_organisation(actor, code, name, kind, self.clock.now())
            .await?)
    }

    /// Merges one organisation into another; the search index learns of
    /// the records whose addressees moved.
    pub(crate) async fn merge_organisations(
        &self,
        actor: &Actor,
        from: &OrgCode,
        into: &OrgCode,
    ) -> AppResult<concord_store::sql::MergeOutcome> {
        let out = self
            .store
            .merge_organisations(actor, from, into, self.clock.now())
            .await?;
        self.search_changed();
        Ok(out)
    }

    pub(crate) async fn unmerge_organisation(
        &self,
        actor: &Actor,
        from: &OrgCode,
    ) -> AppResult<concord_store::sql::MergeOutcome> {
        let out = self
            .store
            .unmerge_organisation(actor, from, self.clock.now())
            .await?;
        self.search_changed();
        Ok(out)
    }

    pub(crate) async fn get(&self, id: &RecommendationId) -> AppResult<Option<Recommendation>> {
        Ok(self.store.get(id).await?)
    }

    /// A page of the listing: from the search index when it has caught up
    /// with the database and the page is within its window (milliseconds at
    /// a million records), else from the database (the same records in the
    /// same order, at the cost of counting and sorting every match).
    pub(crate) async fn list(
        &self,
        filter: &RecommendationFilter,
        page: Page,
    ) -> AppResult<ListPage> {
        if let Some(idx) = self.search.get()
            && page.offset.saturating_add(page.limit) <= concord_search::LIST_WINDOW
        {
            // Read first: the index must see at least this much.
            let outbox_end = self.store.outbox_end().await?;
            let (idx, f) = (idx.clone(), filter.clone());
            let listed = tokio::task::spawn_blocking(move || {
                idx.list(&f, page.offset, page.limit, outbox_end)
            })
            .await
            .map_err(|e| AppError::Internal(format!("the listing stopped: {e}")))?;
            match listed {
                Ok(Some(l)) => {
                    let items = self.store.get_many(&l.ids).await?;
                    self.listed.index.fetch_add(1, Ordering::Relaxed);
                    return Ok(ListPage {
                        total: l.total,
                        items,
                    });
                }
                Ok(None) => {}
                // The database is the truth: a broken index costs speed, not the page.
                Err(e) => tracing::warn!("the listing fell back to the database: {e}"),
            }
        }
        let _turn = self.scans.enter().await?;
        let page = self.store.list(filter, page).await?;
        self.listed.database.fetch_add(1, Ordering::Relaxed);
        Ok(page)
    }

    /// Listing pages answered since start: (from the search index, from the database).
    pub fn listing_sources(&self) -> (u64, u64) {
        (
            self.listed.index.load(Ordering::Relaxed),
            self.listed.database.load(Ordering::Relaxed),
        )
    }

    pub(crate) async fn count(&self) -> AppResult<u64> {
        Ok(self.store.count().await?)
    }

    pub(crate) async fn history(&self, id: &RecommendationId) -> AppResult<Vec<AuditEvent>> {
        Ok(self.store.history(&id.to_string()).await?)
    }

    pub async fn authenticate_token(&self, secret: &str) -> AppResult<crate::Principal> {
        match self.store.token_by_hash(&hash_token(secret.trim())).await? {
            Some(t) if t.expires_at.is_some_and(|at| at <= self.clock.now()) => {
                Err(AppError::Unauthenticated(format!(
                    "the API token expired on {}; an administrator of {} makes a new one",
                    t.expires_at
                        .map(|at| at.date_naive().to_string())
                        .unwrap_or_default(),
                    t.org
                )))
            }
            Some(t) => Ok(crate::Principal::Organisation {
                org: t.org,
                label: format!("token:{}:{}", t.id, t.label),
                roles: t.roles,
            }),
            None => Err(AppError::Unauthenticated(
                "the API token is not valid (unknown or revoked)".into(),
            )),
        }
    }

    pub(crate) async fn backup(&self, out: &mut (dyn Write + Send)) -> AppResult<u64> {
        Ok(self.store.backup(out).await?)
    }

    pub(crate) async fn restore(
        &self,
        input: &mut (dyn std::io::BufRead + Send),
    ) -> AppResult<u64> {
        Ok(self.store.restore(input).await?)
    }

    pub(crate) fn visible_to(rec: &Recommendation, org: Option<&OrgCode>, operator: bool) -> bool {
        rec.data.status != Lifecycle::Draft || operator || org == Some(&rec.data.issuer)
    }
}
