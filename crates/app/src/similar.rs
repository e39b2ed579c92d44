//! Similarity as a use case: which existing recommendations duplicate,
//! support, contradict or relate to a text or a record, and corpus-wide
//! groups of duplicates.
//!
//! The engine's index (`concord_similar::Index`) is derived data: built from
//! the store's records on first use (`scan`), then kept in step from the
//! outbox before every query, exactly like the search index. Nothing is
//! stored; a restart rebuilds it.
//!
//! The index sits behind a read-write lock: questions and the corpus sweep
//! share it (a long sweep never holds up a page), and only applying a change
//! from the outbox takes it alone, for as long as that change takes. The
//! questions themselves run off the async workers, within the services' CPU
//! budget.
//!
//! What a caller sees is decided by its principal: drafts only by their
//! issuer (operators see everything).

use std::sync::Arc;

use concord_domain::{Recommendation, RecommendationId};
use concord_similar::{Doc, Group, Index, Match, QueryOptions};

use crate::access::Authorized;
use crate::derived::links::LinkBook;
use crate::derived::similar::{State, Sweeps, Swept};
use crate::derived::snapshot;
use crate::error::{AppError, AppResult};
use crate::meaning::{SimilarAnswer, SimilarMethod};
use crate::principal::viewer;
use crate::services::Services;

/// The longest list a caller may ask for.
pub const MAX_LIMIT: usize = 200;

/// Changes applied after which the index is saved again (a restart then
/// catches up at most about this many from the outbox).
pub const SAVE_AFTER: usize = 10_000;

/// Records swept while holding the index, between two looks at the clock.
const SWEEP_SLOTS: usize = 8;
/// The longest the index is held by the sweep at once: pages that need it
/// wait at most this long behind it.
const SWEEP_HOLD: std::time::Duration = std::time::Duration::from_millis(15);
/// How long a caller of the corpus-wide lists waits for a sweep that
/// includes the latest change before it is given the last complete one.
const FRESH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

fn names(rec: &Recommendation) -> Vec<String> {
    rec.data
        .addressees
        .iter()
        .map(|a| {
            a.org
                .as_ref()
                .map(|o| o.to_string())
                .unwrap_or_else(|| a.name.clone())
        })
        .collect()
}

fn upsert(index: &mut Index, rec: &Recommendation) {
    let id = rec.id.to_string();
    let draft_of =
        (rec.data.status == concord_domain::Lifecycle::Draft).then(|| rec.data.issuer.to_string());
    index.upsert(&Doc {
        id: &id,
        title: &rec.data.title,
        text: &rec.data.text,
        addressees: names(rec),
        settings: rec.data.settings.clone(),
        themes: rec.data.themes.clone(),
        draft_of,
    });
}

fn bad_text(e: concord_similar::TextProblem) -> AppError {
    AppError::invalid_field("text", e.to_string())
}

impl Services {
    /// Whether the similarity index has been built (it then answers in
    /// milliseconds; before, the first question waits for the build).
    pub fn similar_built(&self) -> bool {
        self.similar.1.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The index, built on first use and caught up from the outbox, held
    /// for reading (shared with every other reader).
    pub(crate) async fn similar_ready(&self) -> AppResult<Ready> {
        let store = self.store();
        {
            let st = self.similar.0.clone().read_owned().await;
            if let Some(seq) = st.seq
                && store.outbox_after(seq, 1).await?.is_empty()
            {
                return Ok(st);
            }
        }
        let mut st = self.similar.0.clone().write_owned().await;
        if st.seq.is_none()
            && let Some(((index, links), seq)) = snapshot::load::<(Index, LinkBook)>(
                store,
                &self.similar.3,
                <State as snapshot::Kept>::KIND,
                concord_similar::engine_fingerprint(),
            )
            .await?
        {
            st.index = index;
            st.links = links;
            st.seq = Some(seq);
            st.build += 1;
            st.unsaved = 0;
            self.similar
                .1
                .store(true, std::sync::atomic::Ordering::Release);
        }
        if st.seq.is_none() {
            // Note where the outbox ends first, then read every record: a
            // change made meanwhile is applied again below (idempotent).
            let mut last = 0i64;
            loop {
                let rows = store.outbox_after(last, 10_000).await?;
                match rows.last() {
                    Some(r) => last = r.seq,
                    None => break,
                }
            }
            let mut index = Index::new();
            let mut links = crate::derived::links::LinkBook::default();
            store
                .scan(1000, &mut |batch| {
                    for rec in &batch {
                        upsert(&mut index, rec);
                        links.set(rec);
                        self.meaning_changed(&rec.id.to_string(), Some(rec));
                    }
                    Ok(())
                })
                .await?;
            st.index = index;
            st.links = links;
            st.seq = Some(last);
            st.build += 1;
            // Saved below, once caught up.
            st.unsaved = SAVE_AFTER;
            self.similar
                .3
                .loaded
                .store(false, std::sync::atomic::Ordering::Release);
            self.similar
                .1
                .store(true, std::sync::atomic::Ordering::Release);
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
                    self.meaning_changed(&row.entity_id, rec.as_ref());
                    match rec {
                        Some(rec) => {
                            upsert(&mut st.index, &rec);
                            st.links.set(&rec);
                        }
                        None => {
                            st.index.remove(&row.entity_id);
                            st.links.remove(&row.entity_id);
                        }
                    }
                }
                st.seq = Some(row.seq);
                st.unsaved += 1;
            }
        }
        if st.unsaved >= SAVE_AFTER {
            self.save_similarity_later();
        }
        Ok(st.downgrade())
    }

    /// Keeps the similarity index in `path` between runs: loaded from there
    /// at the first question (when still good), written there after a
    /// build and after every [`SAVE_AFTER`] changes since.
    pub(crate) fn keep_similarity_at(&self, path: &std::path::Path) {
        let _ = self.similar.3.path.set(path.to_path_buf());
    }

    /// Whether the index in memory was loaded from a snapshot (rather than
    /// built from the records), and how many snapshots this process wrote.
    pub fn similarity_kept(&self) -> (bool, u64) {
        let k = &self.similar.3;
        (
            k.loaded.load(std::sync::atomic::Ordering::Acquire),
            k.written.load(std::sync::atomic::Ordering::Acquire),
        )
    }

    /// Writes the index to its snapshot in the background (one write at a
    /// time; readers go on meanwhile, changes wait until it is written).
    fn save_similarity_later(&self) {
        let keeping = self.similar.3.clone();
        if keeping.path.get().is_none()
            || keeping
                .saving
                .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let engine = self.similar.0.clone();
        let store = self.store.clone();
        tokio::spawn(async move {
            match snapshot::origin_of(store.as_ref()).await {
                Ok(origin) => {
                    let guard = engine.clone().read_owned().await;
                    let fingerprint = concord_similar::engine_fingerprint();
                    if let Some(saved) = snapshot::save(&keeping, guard, fingerprint, origin).await
                    {
                        // Changes applied since the copy was taken stay unsaved.
                        let mut st = engine.write().await;
                        st.unsaved = st.unsaved.saturating_sub(saved);
                    }
                }
                Err(e) => tracing::warn!("similarity index not saved: {e}"),
            }
            keeping
                .saving
                .store(false, std::sync::atomic::Ordering::Release);
        });
    }
}

impl snapshot::Kept for State {
    const KIND: &'static str = "similarity index";
    type Body<'a> = (&'a Index, &'a LinkBook);

    fn seq(&self) -> Option<i64> {
        self.seq
    }

    fn unsaved(&self) -> usize {
        self.unsaved
    }

    fn body(&self) -> Self::Body<'_> {
        (&self.index, &self.links)
    }
}

/// The index held for reading.
pub(crate) type Ready = tokio::sync::OwnedRwLockReadGuard<State>;

impl Authorized<'_> {
    /// Existing recommendations that duplicate, support, contradict or
    /// relate to `text`, best first, as `principal` may see them.
    pub async fn similar_to_text(&self, text: &str, limit: usize) -> AppResult<Vec<Match>> {
        concord_similar::check_text(text).map_err(bad_text)?;
        let options = QueryOptions {
            limit: limit.clamp(1, MAX_LIMIT),
            viewer: viewer(self.principal()),
            exclude: None,
        };
        let svc = self.services();
        let st = svc.similar_ready().await?;
        let text = text.to_owned();
        svc.cpu
            .run(move || {
                st.index.similar_to(
                    &Doc {
                        text: &text,
                        ..Default::default()
                    },
                    &options,
                )
            })
            .await?
            .map_err(bad_text)
    }

    /// [`Self::similar_to_text`] with the meaning signal blended in when
    /// embeddings are on (`concord similar`, `POST /api/v1/similar`), and
    /// the method that answered. Other uses of the engine (quality checks,
    /// workstream overlaps, "related") stay lexical: each blended answer
    /// costs an embedding of the text (0.1-0.6 s).
    pub async fn similar_answer_for_text(
        &self,
        text: &str,
        limit: usize,
    ) -> AppResult<SimilarAnswer> {
        let matches = self.similar_to_text(text, limit).await?;
        let svc = self.services();
        let Some(q) = svc.query_vector(text).await? else {
            return Ok(SimilarAnswer {
                method: SimilarMethod::Lexical,
                matches,
            });
        };
        let st = svc.similar_ready().await?;
        let v = viewer(self.principal());
        Ok(SimilarAnswer {
            method: SimilarMethod::LexicalEmbeddings,
            matches: svc.blend(&q, matches, limit.clamp(1, MAX_LIMIT), |id| {
                st.index.visible_to(id, &v)
            }),
        })
    }

    /// [`Self::similar_to_record`] with the meaning signal blended in when
    /// embeddings are on, and the method that answered.
    pub async fn similar_answer_for_record(
        &self,
        id: &RecommendationId,
        limit: usize,
    ) -> AppResult<SimilarAnswer> {
        let matches = self.similar_to_record(id, limit).await?;
        let rec = self.recommendation(id).await?;
        let svc = self.services();
        let text = concord_embed::record_text(&rec.data.title, &rec.data.text);
        let Some(q) = svc.query_vector(&text).await? else {
            return Ok(SimilarAnswer {
                method: SimilarMethod::Lexical,
                matches,
            });
        };
        let id_s = id.to_string();
        // A link a person dismissed is not suggested again, by meaning either.
        let dismissed: Vec<&str> = rec
            .data
            .links
            .iter()
            .filter(|l| l.state == concord_domain::LinkState::Dismissed)
            .map(|l| l.target.as_str())
            .collect();
        let st = svc.similar_ready().await?;
        let v = viewer(self.principal());
        Ok(SimilarAnswer {
            method: SimilarMethod::LexicalEmbeddings,
            matches: svc.blend(&q, matches, limit.clamp(1, MAX_LIMIT), |other| {
                other != id_s && !dismissed.contains(&other) && st.index.visible_to(other, &v)
            }),
        })
    }

    /// The same for a recommendation in the register (left out of its own
    /// answer). A draft the principal may not see is "not found".
    pub async fn similar_to_record(
        &self,
        id: &RecommendationId,
        limit: usize,
    ) -> AppResult<Vec<Match>> {
        let rec = self.recommendation(id).await?;
        let id_s = id.to_string();
        // A link a person dismissed is not suggested again.
        let dismissed: Vec<String> = rec
            .data
            .links
            .iter()
            .filter(|l| l.state == concord_domain::LinkState::Dismissed)
            .map(|l| l.target.clone())
            .collect();
        let options = QueryOptions {
            limit: (limit.clamp(1, MAX_LIMIT) + dismissed.len()).min(MAX_LIMIT),
            viewer: viewer(self.principal()),
            exclude: Some(id_s.clone()),
        };
        let svc = self.services();
        let st = svc.similar_ready().await?;
        let mut matches = svc
            .cpu
            .run(move || {
                st.index.similar_to(
                    &Doc {
                        id: &id_s,
                        title: &rec.data.title,
                        text: &rec.data.text,
                        addressees: names(&rec),
                        settings: rec.data.settings.clone(),
                        themes: rec.data.themes.clone(),
                        draft_of: None,
                    },
                    &options,
                )
            })
            .await?
            .map_err(bad_text)?;
        matches.retain(|m| !dismissed.contains(&m.id));
        matches.truncate(limit.clamp(1, MAX_LIMIT));
        Ok(matches)
    }

    /// Corpus-wide groups of duplicates the principal may see, largest first,
    /// from the last sweep (see [`Services::corpus_lists`]).
    pub async fn duplicate_groups(&self) -> AppResult<Vec<Group>> {
        let swept = self.services().corpus_lists().await?;
        let st = self.services().similar.0.read().await;
        let v = viewer(self.principal());
        let groups =
            concord_similar::groups_of(&swept.duplicates, |id| st.index.visible_to(id, &v));
        // A pair a person dismissed is not a duplicate, whatever the engine says.
        Ok(crate::derived::links::split_dismissed(groups, &st.links))
    }

    /// Rebuilds the engine's index from the database (`concord reindex`):
    /// for operators.
    pub async fn similar_rebuild(&self) -> AppResult<usize> {
        self.permit(crate::access::Action::Rebuild, None)?;
        let svc = self.services();
        {
            let mut st = svc.similar.0.write().await;
            st.seq = None;
        }
        Ok(svc.similar_ready().await?.index.len())
    }
}

impl Services {
    /// How many corpus-wide sweeps (duplicates and contradictions) have
    /// completed since this process started.
    pub fn corpus_sweeps(&self) -> u64 {
        self.similar
            .2
            .completed
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The corpus-wide lists, as of a sweep that includes every change made
    /// before this call if one completes within [`FRESH_WAIT`], else the
    /// last complete one. With a background sweeper (a server), nothing
    /// heavy runs here: the caller waits without holding anything. Without
    /// one (a command), the sweep runs here.
    pub(crate) async fn corpus_lists(&self) -> AppResult<Arc<Swept>> {
        use std::sync::atomic::Ordering;
        let sweeps = self.similar.2.clone();
        let now = self.similar_ready().await?.seq.unwrap_or(0);
        let current = |sweeps: &Sweeps| {
            sweeps
                .last
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
        };
        if !sweeps.running.load(Ordering::Acquire) {
            if let Some(s) = current(&sweeps).filter(|s| s.seq >= now) {
                return Ok(s);
            }
            return self.sweep_once().await;
        }
        let deadline = tokio::time::Instant::now() + FRESH_WAIT;
        loop {
            let done = sweeps.done.notified();
            let last = current(&sweeps);
            if let Some(s) = &last
                && s.seq >= now
            {
                return Ok(s.clone());
            }
            sweeps.wake.notify_one();
            if tokio::time::timeout_at(deadline, done).await.is_err() {
                return last.ok_or_else(|| {
                    AppError::NotReady(
                        "the lists of duplicates and contradictions are being worked out for the \
                         first time; try again in a minute"
                            .into(),
                    )
                });
            }
        }
    }

    /// One whole sweep, a few records at a time, the index held only while
    /// a step runs (off the async workers).
    async fn sweep_once(&self) -> AppResult<Arc<Swept>> {
        'again: loop {
            let (start, build) = {
                let st = self.similar_ready().await?;
                (st.seq.unwrap_or(0), st.build)
            };
            let mut sweep = concord_similar::Sweep::default();
            loop {
                let guard = self.similar.0.clone().read_owned().await;
                if guard.build != build {
                    continue 'again;
                }
                let (s, done) = tokio::task::spawn_blocking(move || {
                    let began = std::time::Instant::now();
                    let mut done = false;
                    while !done && began.elapsed() < SWEEP_HOLD {
                        done = guard.index.sweep_step(&mut sweep, SWEEP_SLOTS);
                    }
                    drop(guard);
                    (sweep, done)
                })
                .await
                .map_err(|e| AppError::Internal(format!("the corpus sweep failed: {e}")))?;
                sweep = s;
                if done {
                    break;
                }
                tokio::task::yield_now().await;
            }
            let swept = Arc::new(Swept {
                seq: start,
                duplicates: sweep.duplicates,
                contradictions: sweep.contradictions,
            });
            let sweeps = &self.similar.2;
            *sweeps.last.write().unwrap_or_else(|p| p.into_inner()) = Some(swept.clone());
            sweeps
                .completed
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            sweeps.done.notify_waiters();
            return Ok(swept);
        }
    }

    /// Keeps the corpus-wide lists in step with the register, in the
    /// background: a sweep after each change (at most half the time of one
    /// core: after a sweep that took t, the next waits t), until `shutdown`.
    pub fn start_corpus_sweeper(
        self: &Arc<Self>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> tokio::task::JoinHandle<()> {
        use std::sync::atomic::Ordering;
        let svc = self.clone();
        svc.similar.2.running.store(true, Ordering::Release);
        tokio::spawn(async move {
            tokio::pin!(shutdown);
            let sweeps = svc.similar.2.clone();
            loop {
                let behind = match svc.similar_ready().await {
                    Ok(st) => {
                        let now = st.seq.unwrap_or(0);
                        drop(st);
                        sweeps
                            .last
                            .read()
                            .unwrap_or_else(|p| p.into_inner())
                            .as_ref()
                            .is_none_or(|s| s.seq < now)
                    }
                    Err(e) => {
                        tracing::warn!("similarity: could not catch up for the corpus lists: {e}");
                        false
                    }
                };
                if behind {
                    let began = std::time::Instant::now();
                    let swept = tokio::select! {
                        _ = &mut shutdown => break,
                        r = svc.sweep_once() => r,
                    };
                    match swept {
                        Ok(s) => tracing::debug!(
                            "similarity: corpus lists as of outbox row {} in {:?}",
                            s.seq,
                            began.elapsed()
                        ),
                        Err(e) => tracing::warn!("similarity: the corpus sweep failed: {e}"),
                    }
                    let rest = began.elapsed().max(std::time::Duration::from_millis(50));
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(rest) => {}
                    }
                    continue;
                }
                // Idle: woken by a caller after a change here, or looking
                // again now and then for changes made by another node.
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = sweeps.wake.notified() => {}
                    _ = tokio::time::sleep(crate::meaning::VECTOR_POLL) => {}
                }
            }
            sweeps.running.store(false, Ordering::Release);
        })
    }

    /// Which of these records the engine judges duplicates of each other
    /// (pairs of positions in `ids`). Used to collapse a provider's priority
    /// list; quadratic, so callers pass a short list.
    pub(crate) async fn duplicate_pairs(&self, ids: &[String]) -> AppResult<Vec<(usize, usize)>> {
        let st = self.similar_ready().await?;
        let mut pairs = Vec::new();
        for i in 0..ids.len() {
            for j in i + 1..ids.len() {
                if ids[i].is_empty() || ids[j].is_empty() {
                    continue;
                }
                if let Some(Some((_, concord_similar::Relation::Duplicate, _))) =
                    st.index.relation(&ids[i], &ids[j])
                {
                    pairs.push((i, j));
                }
            }
        }
        Ok(pairs)
    }
}

impl Authorized<'_> {
    /// Builds the similarity index if it is not built yet (a server calls
    /// this at start so that the first visitor does not wait); the number of
    /// records in it.
    pub async fn similar_warm(&self) -> AppResult<usize> {
        Ok(self.services().similar_ready().await?.index.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Principal;

    /// A question answers while the corpus sweep holds the index for
    /// reading (with one lock for both, a page waited out every sweep
    /// step, and the whole of a one-pass sweep before that).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_question_is_not_held_up_by_a_sweep() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let svc = Services::open(&url).await.unwrap();
        let op = svc.as_principal(Principal::Operator {
            label: "test".into(),
        });
        for title in ["Sepsis screening at triage", "Falls in care homes"] {
            op.create_draft(
                crate::NewRecord::from_json(serde_json::json!({
                    "issuer": "HSSIB", "status": "published", "published": "2024-01-10",
                    "title": title,
                    "text": format!("NHS England should review {title} by 31 March 2026."),
                    "override_gate": "test data"
                }))
                .unwrap(),
            )
            .await
            .unwrap();
        }
        assert_eq!(op.similar_warm().await.unwrap(), 2);
        let sweep_step = svc.similar.0.clone().read_owned().await;
        // Generous: the point is that the answer comes while the hold lasts
        // (a lock the question could not share would never let it).
        let answer = tokio::time::timeout(
            std::time::Duration::from_secs(120),
            op.similar_to_text("Sepsis screening should happen at triage", 5),
        )
        .await
        .expect("the question waited for the sweep's hold")
        .unwrap();
        drop(sweep_step);
        assert!(
            answer.iter().any(|m| m.score > 0.0),
            "nothing similar found: {answer:?}"
        );
    }
}
