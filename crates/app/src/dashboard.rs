//! The oversight dashboard as a use case.
//!
//! Its figures come from a fact table (`concord_domain::dashboard`): derived
//! data, built from the database by one lean read on first use, then kept
//! in step from the outbox before every answer, exactly like the similarity
//! index. Nothing is stored, so there is nothing to rebuild on disk: a
//! restart (or `concord reindex`, through [`Authorized::dashboard_rebuild`])
//! builds it again.
//!
//! The dashboard is public information: every caller, signed in or not,
//! sees the same figures, and drafts never count.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use concord_domain::dashboard::{Dashboard, DashboardQuery, FactTable, RecFacts};
use concord_domain::lifecycle::RulesBook;
use concord_domain::{OrgCode, RecommendationId};

use crate::access::Authorized;
use crate::derived::dashboard::State;
use crate::derived::snapshot;
use crate::error::{AppError, AppResult};
use crate::services::Services;

/// A backlog longer than this is caught up by reading everything again.
const REBUILD_BACKLOG: usize = 20_000;
/// Records per read while building.
const BUILD_BATCH: usize = 20_000;

/// Answers kept at most (each is a few kilobytes).
const MAX_ANSWERS: usize = 64;

/// What a caller asks of the dashboard (all optional but the date).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DashboardRequest {
    pub issuer: Option<String>,
    pub theme: Option<String>,
    pub setting: Option<String>,
    pub year: Option<i32>,
    /// Default: today in England.
    pub as_of: Option<NaiveDate>,
    /// Every addressee row rather than the busiest 50 (CSV).
    pub all_addressees: bool,
}

/// The size and build time of the fact table (for `--timing` and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DashboardStats {
    pub recommendations: usize,
    pub items: usize,
    pub approx_bytes: usize,
    pub built_in: Option<Duration>,
}

/// Changes applied after which the fact table is saved again.
const SAVE_AFTER: usize = 10_000;

/// What a kept fact table must have been made with: this build's code for
/// the figures and the deadline rules in force (a table made under other
/// rules has other due dates).
fn engine(rules: &RulesBook) -> u64 {
    let mut h = concord_domain::dashboard::engine_fingerprint();
    for b in serde_json::to_vec(rules).unwrap_or_default() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl snapshot::Kept for State {
    const KIND: &'static str = "dashboard fact table";
    type Body<'a> = &'a FactTable;

    fn seq(&self) -> Option<i64> {
        self.seq
    }

    fn unsaved(&self) -> usize {
        self.unsaved
    }

    fn body(&self) -> Self::Body<'_> {
        &self.table
    }
}

/// Longest text filter accepted.
const MAX_FILTER: usize = 200;

fn tidy(field: &str, v: &Option<String>) -> AppResult<Option<String>> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.len() > MAX_FILTER || t.chars().any(char::is_control) {
        return Err(AppError::BadInput(format!(
            "{field}: must be at most {MAX_FILTER} characters of text"
        )));
    }
    Ok(Some(t.to_string()))
}

impl Services {
    /// Keeps the dashboard's fact table in `path` between runs (as the
    /// similarity index: loaded at the first view when still good, written
    /// after a build and after every 10,000 changes since).
    pub(crate) fn keep_dashboard_at(&self, path: &std::path::Path) {
        let _ = self.dashboard.1.path.set(path.to_path_buf());
    }

    /// Whether the fact table was loaded from a snapshot, and how many
    /// snapshots of it this process wrote.
    pub fn dashboard_kept(&self) -> (bool, u64) {
        let k = &self.dashboard.1;
        (
            k.loaded.load(std::sync::atomic::Ordering::Acquire),
            k.written.load(std::sync::atomic::Ordering::Acquire),
        )
    }

    /// Writes the fact table to its snapshot in the background (views wait
    /// while it is written).
    fn save_dashboard_later(&self) {
        let keeping = self.dashboard.1.clone();
        if keeping.path.get().is_none()
            || keeping
                .saving
                .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let table = self.dashboard.0.clone();
        let store = self.store.clone();
        tokio::spawn(async move {
            match snapshot::origin_of(store.as_ref()).await {
                Ok(origin) => {
                    let guard = table.clone().lock_owned().await;
                    let engine = guard.engine;
                    if let Some(saved) = snapshot::save(&keeping, guard, engine, origin).await {
                        let mut st = table.lock().await;
                        st.unsaved = st.unsaved.saturating_sub(saved);
                    }
                }
                Err(e) => tracing::warn!("dashboard fact table not saved: {e}"),
            }
            keeping
                .saving
                .store(false, std::sync::atomic::Ordering::Release);
        });
    }

    /// The rules changed: the figures are built again at the next view.
    pub(crate) async fn dashboard_forget(&self) {
        self.dashboard.0.lock().await.seq = None;
    }

    async fn build_facts(&self, rules: &RulesBook) -> AppResult<(FactTable, i64, Duration)> {
        let started = Instant::now();
        let store = self.store();
        // Note where the outbox ends first, then read every record: a change
        // made meanwhile is applied again afterwards (idempotent).
        let mut last = 0i64;
        loop {
            let rows = store.outbox_after(last, 10_000).await?;
            match rows.last() {
                Some(r) => last = r.seq,
                None => break,
            }
        }
        let mut table = FactTable::new();
        table.set_organisations(&store.organisations().await?);
        store
            .dashboard_facts(rules, BUILD_BATCH, &mut |batch| {
                for f in &batch {
                    table.upsert(f);
                }
            })
            .await?;
        Ok((table, last, started.elapsed()))
    }

    /// The fact table, built on first use and caught up from the outbox.
    async fn dashboard_ready(&self) -> AppResult<tokio::sync::OwnedMutexGuard<State>> {
        let mut st = self.dashboard.0.clone().lock_owned().await;
        let store = self.store();
        // One read of the rules for everything below (build, stamp, catch-up).
        let rules = self.rules_book().await?;
        if st.seq.is_none() {
            let engine = engine(&rules);
            if let Some((table, seq)) = snapshot::load::<FactTable>(
                store,
                &self.dashboard.1,
                <State as snapshot::Kept>::KIND,
                engine,
            )
            .await?
            {
                st.table = table;
                st.seq = Some(seq);
                st.built_in = None;
                st.answers.clear();
                st.unsaved = 0;
                st.engine = engine;
                // The organisations are given again below.
                st.orgs = 0;
            }
        }
        if let Some(after) = st.seq {
            let backlog = store
                .outbox_after(after, REBUILD_BACKLOG as u32 + 1)
                .await?;
            if backlog.len() > REBUILD_BACKLOG {
                st.seq = None;
            }
        }
        if st.seq.is_none() {
            let (table, last, took) = self.build_facts(&rules).await?;
            st.table = table;
            st.seq = Some(last);
            st.built_in = Some(took);
            st.answers.clear();
            st.engine = engine(&rules);
            // Saved below, once caught up.
            st.unsaved = SAVE_AFTER;
            self.dashboard
                .1
                .loaded
                .store(false, std::sync::atomic::Ordering::Release);
        }
        loop {
            let after = st.seq.unwrap_or(0);
            let rows = store.outbox_after(after, 1000).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                if row.entity == "recommendation" {
                    let rec = match RecommendationId::parse(&row.entity_id) {
                        Ok(id) => store.get(&id).await?,
                        Err(_) => None,
                    };
                    match rec {
                        Some(rec) => {
                            st.table
                                .upsert(&RecFacts::of(&rec.id.to_string(), &rec.data, &rules))
                        }
                        None => st.table.remove(&row.entity_id),
                    }
                }
                st.seq = Some(row.seq);
                st.answers.clear();
                st.unsaved += 1;
            }
        }
        if st.unsaved >= SAVE_AFTER {
            self.save_dashboard_later();
        }
        // Organisations are few; their kinds decide the landing figures.
        let orgs = store.organisations().await?;
        let fingerprint = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for o in &orgs {
                (
                    o.code.as_str(),
                    o.kind.as_str(),
                    o.provider_kind.map(|k| k.as_str()),
                    &o.name,
                )
                    .hash(&mut h);
            }
            h.finish()
        };
        if fingerprint != st.orgs {
            st.table.set_organisations(&orgs);
            st.orgs = fingerprint;
            st.answers.clear();
        }
        Ok(st)
    }
}

impl Authorized<'_> {
    /// Every figure of the oversight dashboard. Anyone may ask: it counts
    /// only what is published (drafts never count). An unregistered issuer
    /// is refused, as in search; an unknown theme or setting gives empty
    /// figures.
    pub async fn dashboard(&self, req: &DashboardRequest) -> AppResult<Dashboard> {
        let svc = self.services();
        let issuer = match tidy("issuer", &req.issuer)? {
            Some(i) => {
                let code =
                    OrgCode::parse(&i).map_err(|e| AppError::BadInput(format!("issuer: {e}")))?;
                if svc.organisation(&code).await?.is_none() {
                    return Err(AppError::BadInput(format!(
                        "issuer: {code} is not a registered organisation"
                    )));
                }
                Some(code.to_string())
            }
            None => None,
        };
        if let Some(y) = req.year
            && !(1900..=2200).contains(&y)
        {
            return Err(AppError::BadInput(format!(
                "year: {y} is not a year between 1900 and 2200"
            )));
        }
        let q = DashboardQuery {
            issuer,
            theme: tidy("theme", &req.theme)?,
            setting: tidy("setting", &req.setting)?,
            year: req.year,
            as_of: req.as_of.unwrap_or_else(|| svc.clock().today()),
            addressee_limit: if req.all_addressees {
                None
            } else {
                Some(concord_domain::dashboard::DEFAULT_ADDRESSEE_ROWS)
            },
        };
        let mut st = svc.dashboard_ready().await?;
        let key = format!("{q:?}");
        if let Some(answer) = st.answers.get(&key) {
            return Ok(answer.clone());
        }
        let answer = st.table.figures(&q);
        if st.answers.len() >= MAX_ANSWERS {
            st.answers.clear();
        }
        st.answers.insert(key, answer.clone());
        Ok(answer)
    }

    /// The fact table's size and how long it took to build (building it if
    /// it was not).
    pub async fn dashboard_stats(&self) -> AppResult<DashboardStats> {
        let st = self.services().dashboard_ready().await?;
        Ok(DashboardStats {
            recommendations: st.table.len(),
            items: st.table.items(),
            approx_bytes: st.table.approx_bytes(),
            built_in: st.built_in,
        })
    }

    /// Builds the fact table again from the database (`concord reindex`):
    /// for operators.
    pub async fn dashboard_rebuild(&self) -> AppResult<usize> {
        self.permit(crate::access::Action::Rebuild, None)?;
        let svc = self.services();
        {
            let mut st = svc.dashboard.0.clone().lock_owned().await;
            st.seq = None;
        }
        Ok(svc.dashboard_ready().await?.table.len())
    }
}
