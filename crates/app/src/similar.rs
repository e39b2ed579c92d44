//! Similarity as a use case: which existing recommendations duplicate,
//! support, contradict or relate to a text or a record, and corpus-wide
//! groups of duplicates.
//!
//! The engine's index (`concord_similar::Index`) is derived data: built from
//! the store's records on first use (`scan`), then kept in step from the
//! outbox before every query, exactly like the search index. Nothing is
//! stored; a restart rebuilds it.
//!
//! What a caller sees is decided by its principal: drafts only by their
//! issuer (operators see everything).

use std::collections::HashMap;
use std::sync::Arc;

use concord_domain::{Recommendation, RecommendationId};
use concord_similar::{Doc, Group, Index, Match, Pair, QueryOptions, Viewer};

use crate::access::Authorized;
use crate::error::{AppError, AppResult};
use crate::meaning::{SimilarAnswer, SimilarMethod};
use crate::principal::Principal;
use crate::services::Services;

/// The longest list a caller may ask for.
pub const MAX_LIMIT: usize = 200;

pub(crate) struct State {
    pub(crate) index: Index,
    /// Every stored link between records, both ways (for the oversight
    /// lists and "also said by"), kept in step with the index.
    pub(crate) links: crate::oversight::LinkBook,
    /// The last outbox row applied (None: not built yet).
    seq: Option<i64>,
    /// The engine's suspected contradictions per viewer, with the outbox row
    /// they were found at: finding them compares every record with cues
    /// against its neighbours (minutes at 100,000 records), and they change
    /// only when the register does.
    kept_contradictions: HashMap<String, (Option<i64>, Vec<Pair>)>,
}

/// The most viewers whose contradictions are kept at once (each
/// organisation sees its own drafts, so each is a viewer).
const KEPT_VIEWERS: usize = 64;

impl State {
    /// The engine's suspected contradictions as `v` may see them, found
    /// again only after a change to the register has been applied.
    pub(crate) fn contradictions(&mut self, v: &Viewer) -> Vec<Pair> {
        let key = format!("{v:?}");
        if let Some((seq, pairs)) = self.kept_contradictions.get(&key)
            && *seq == self.seq
        {
            return pairs.clone();
        }
        let pairs = self.index.contradictions(v);
        if self.kept_contradictions.len() >= KEPT_VIEWERS {
            self.kept_contradictions.clear();
        }
        self.kept_contradictions
            .insert(key, (self.seq, pairs.clone()));
        pairs
    }
}

/// The services' handle on the similarity index: empty until first used,
/// shared by every clone of the handle (one per open store).
#[derive(Clone)]
pub(crate) struct SimilarEngine(
    Arc<tokio::sync::Mutex<State>>,
    /// Whether the index has been built once: a page that only shows the
    /// engine's matches beside other content need not wait for the first
    /// build (minutes at a million records).
    pub(crate) Arc<std::sync::atomic::AtomicBool>,
);

impl Default for SimilarEngine {
    fn default() -> Self {
        SimilarEngine(
            Arc::new(tokio::sync::Mutex::new(State {
                index: Index::new(),
                links: Default::default(),
                seq: None,
                kept_contradictions: HashMap::new(),
            })),
            Arc::default(),
        )
    }
}

pub(crate) fn viewer(p: &Principal) -> Viewer {
    match p {
        Principal::Operator { .. } => Viewer::All,
        Principal::Organisation { org, .. } => Viewer::Org(org.to_string()),
        Principal::Anonymous => Viewer::Public,
    }
}

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
    AppError::Invalid(format!("field text: {e}"))
}

impl Services {
    /// Whether the similarity index has been built (it then answers in
    /// milliseconds; before, the first question waits for the build).
    pub fn similar_built(&self) -> bool {
        self.similar.1.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The index, built on first use and caught up from the outbox.
    pub(crate) async fn similar_ready(&self) -> AppResult<tokio::sync::OwnedMutexGuard<State>> {
        let mut st = self.similar.0.clone().lock_owned().await;
        let store = self.store();
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
            let mut links = crate::oversight::LinkBook::default();
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
            }
        }
        Ok(st)
    }
}

impl Authorized<'_> {
    /// Existing recommendations that duplicate, support, contradict or
    /// relate to `text`, best first, as `principal` may see them.
    pub async fn similar_to_text(&self, text: &str, limit: usize) -> AppResult<Vec<Match>> {
        concord_similar::check_text(text).map_err(bad_text)?;
        let principal = self.principal();
        let st = self.services().similar_ready().await?;
        st.index
            .similar_to(
                &Doc {
                    text,
                    ..Default::default()
                },
                &QueryOptions {
                    limit: limit.clamp(1, MAX_LIMIT),
                    viewer: viewer(principal),
                    exclude: None,
                },
            )
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
        let principal = self.principal();
        let st = self.services().similar_ready().await?;
        let id_s = id.to_string();
        // A link a person dismissed is not suggested again.
        let dismissed: Vec<&str> = rec
            .data
            .links
            .iter()
            .filter(|l| l.state == concord_domain::LinkState::Dismissed)
            .map(|l| l.target.as_str())
            .collect();
        let mut matches = st
            .index
            .similar_to(
                &Doc {
                    id: &id_s,
                    title: &rec.data.title,
                    text: &rec.data.text,
                    addressees: names(&rec),
                    settings: rec.data.settings.clone(),
                    themes: rec.data.themes.clone(),
                    draft_of: None,
                },
                &QueryOptions {
                    limit: (limit.clamp(1, MAX_LIMIT) + dismissed.len()).min(MAX_LIMIT),
                    viewer: viewer(principal),
                    exclude: Some(id_s.clone()),
                },
            )
            .map_err(bad_text)?;
        matches.retain(|m| !dismissed.contains(&m.id.as_str()));
        matches.truncate(limit.clamp(1, MAX_LIMIT));
        Ok(matches)
    }

    /// Corpus-wide groups of duplicates the principal may see, largest first.
    /// Below 50,000 records every record is also queried on the rare-term
    /// route (catches paraphrases); above, the LSH buckets alone are used.
    pub async fn duplicate_groups(&self) -> AppResult<Vec<Group>> {
        let st = self.services().similar_ready().await?;
        let thorough = st.index.len() <= 50_000;
        let groups = st
            .index
            .duplicate_groups(&viewer(self.principal()), thorough);
        // A pair a person dismissed is not a duplicate, whatever the engine says.
        Ok(crate::oversight::split_dismissed(groups, &st.links))
    }

    /// Rebuilds the engine's index from the database (`concord reindex`):
    /// for operators.
    pub async fn similar_rebuild(&self) -> AppResult<usize> {
        self.require_operator("rebuilding the similarity index")?;
        let svc = self.services();
        {
            let mut st = svc.similar.0.clone().lock_owned().await;
            st.seq = None;
        }
        Ok(svc.similar_ready().await?.index.len())
    }
}

impl Services {
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
