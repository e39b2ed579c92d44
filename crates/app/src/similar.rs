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
use std::sync::{Arc, LazyLock, Mutex};

use concord_domain::{Recommendation, RecommendationId};
use concord_similar::{Doc, Group, Index, Match, QueryOptions, Viewer};

use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use crate::services::Services;

/// The longest list a caller may ask for.
pub const MAX_LIMIT: usize = 200;

struct State {
    index: Index,
    /// The last outbox row applied (None: not built yet).
    seq: Option<i64>,
}

type Shared = Arc<tokio::sync::Mutex<State>>;

/// One engine per open store (keyed by the store's address), so that the
/// services need no new field while other engines are being added beside
/// this one. An engine lives as long as the process.
static ENGINES: LazyLock<Mutex<HashMap<usize, Shared>>> = LazyLock::new(Default::default);

fn viewer(p: &Principal) -> Viewer {
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
    fn similar_engine(&self) -> Shared {
        let key = self.store() as *const dyn concord_store::Store as *const () as usize;
        let mut map = ENGINES.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(key)
            .or_insert_with(|| {
                Arc::new(tokio::sync::Mutex::new(State {
                    index: Index::new(),
                    seq: None,
                }))
            })
            .clone()
    }

    /// The index, built on first use and caught up from the outbox.
    async fn similar_ready(&self) -> AppResult<tokio::sync::OwnedMutexGuard<State>> {
        let mut st = self.similar_engine().lock_owned().await;
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
            store
                .scan(1000, &mut |batch| {
                    for rec in &batch {
                        upsert(&mut index, rec);
                    }
                    Ok(())
                })
                .await?;
            st.index = index;
            st.seq = Some(last);
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
                        Some(rec) => upsert(&mut st.index, &rec),
                        None => st.index.remove(&row.entity_id),
                    }
                }
                st.seq = Some(row.seq);
            }
        }
        Ok(st)
    }

    /// Existing recommendations that duplicate, support, contradict or
    /// relate to `text`, best first, as `principal` may see them.
    pub async fn similar_to_text(
        &self,
        principal: &Principal,
        text: &str,
        limit: usize,
    ) -> AppResult<Vec<Match>> {
        concord_similar::check_text(text).map_err(bad_text)?;
        let st = self.similar_ready().await?;
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

    /// The same for a recommendation in the register (left out of its own
    /// answer). A draft the principal may not see is "not found".
    pub async fn similar_to_record(
        &self,
        principal: &Principal,
        id: &RecommendationId,
        limit: usize,
    ) -> AppResult<Vec<Match>> {
        let rec = match self.store().get(id).await? {
            Some(r) if Services::visible_to(&r, principal.org(), principal.is_operator()) => r,
            _ => {
                return Err(AppError::NotFound(format!(
                    "recommendation {id} was not found"
                )));
            }
        };
        let st = self.similar_ready().await?;
        let id_s = id.to_string();
        st.index
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
                    limit: limit.clamp(1, MAX_LIMIT),
                    viewer: viewer(principal),
                    exclude: Some(id_s.clone()),
                },
            )
            .map_err(bad_text)
    }

    /// Corpus-wide groups of duplicates the principal may see, largest first.
    /// Below 50,000 records every record is also queried on the rare-term
    /// route (catches paraphrases); above, the LSH buckets alone are used.
    pub async fn duplicate_groups(&self, principal: &Principal) -> AppResult<Vec<Group>> {
        let st = self.similar_ready().await?;
        let thorough = st.index.len() <= 50_000;
        Ok(st.index.duplicate_groups(&viewer(principal), thorough))
    }

    /// Drops the engine's index so that the next query rebuilds it (`concord reindex`).
    pub async fn similar_rebuild(&self) -> AppResult<usize> {
        {
            let mut st = self.similar_engine().lock_owned().await;
            st.seq = None;
        }
        Ok(self.similar_ready().await?.index.len())
    }
}
