//! Meaning-based similarity (optional): sentence embeddings from
//! `concord-embed` blended into the answers of `concord similar` and
//! `POST /api/v1/similar` with the evaluation's own blend
//! (`concord_similar::semantic::merge` and its `THRESHOLDS`).
//!
//! Off unless the binary is built with the cargo feature `embeddings` AND
//! the model folder holds the weights; otherwise every answer is lexical and
//! says so (`method: "lexical"`), and the reason is logged once.
//!
//! The vectors are derived data, like the search index: one file beside it
//! (`concord.index` -> `concord.vectors`, keyed by record id and a hash of
//! the text; one vector per passage of a record, `concord_embed::passages`),
//! filled by [`Services::catch_up_vectors`] — at first from the
//! whole register, then from the outbox (new and edited records get a
//! vector; a vector whose text changed is dropped at once and recomputed).
//! A server runs that in the background ([`Services::start_vector_worker`]);
//! until a record has its vector it is matched lexically only.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use concord_domain::{Recommendation, RecommendationId};
use concord_embed::cache::{VectorCache, text_hash};
use concord_embed::{EmbedError, Embedder, record_text};
use concord_similar::Match;

use crate::derived::meaning::Meaning;
use crate::error::{AppError, AppResult};
use crate::services::Services;

/// How often the background worker looks at the outbox when idle.
pub const VECTOR_POLL: Duration = Duration::from_secs(2);
/// Vectors computed between two saves of the cache file (a crash loses at
/// most these).
const SAVE_EVERY: usize = 64;
/// Bytes of a query (a draft, a search) read for its vector: about one
/// window of 256 word pieces.
const QUERY_BYTES: usize = 1500;
/// Vectors computed per blocking call (the worker can be stopped between).
const CHUNK: usize = 8;

/// The vector cache file beside a search index folder
/// (`concord.index` -> `concord.vectors`).
pub fn vectors_path_beside(index_dir: &Path) -> PathBuf {
    concord_embed::cache::cache_path_beside(index_dir)
}

/// Which method answered a similarity question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SimilarMethod {
    /// The lexical engine alone.
    #[serde(rename = "lexical")]
    Lexical,
    /// The lexical engine blended with the embeddings' cosine.
    #[serde(rename = "lexical+embeddings")]
    LexicalEmbeddings,
}

impl SimilarMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SimilarMethod::Lexical => "lexical",
            SimilarMethod::LexicalEmbeddings => "lexical+embeddings",
        }
    }
}

/// A similarity answer and the method that gave it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimilarAnswer {
    pub method: SimilarMethod,
    pub matches: Vec<Match>,
}

/// What [`Services::enable_embeddings`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingsStatus {
    pub method: SimilarMethod,
    /// One line for the log: why lexical, or where the vectors are kept.
    pub note: String,
}

/// How far the vectors are (for `/readyz`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VectorsProgress {
    pub method: SimilarMethod,
    /// Records with vectors, and their passages.
    pub records: usize,
    pub passages: usize,
    /// Records a running catch-up has still to compute.
    pub pending: usize,
    /// The outbox row the vectors have read to (None: not yet once).
    pub applied_seq: Option<i64>,
}

fn embed_err(e: EmbedError) -> AppError {
    AppError::Internal(e.to_string())
}

/// The text a record's vector is computed from.
fn text_of(rec: &Recommendation) -> String {
    record_text(&rec.data.title, &rec.data.text)
}

impl Services {
    /// Turns the meaning signal on when this build has the model and
    /// `model_dir` (else `$CONCORD_MINILM_DIR`, else the folder
    /// `scripts/fetch-minilm.sh` fills) holds the weights; the vectors are
    /// kept in `cache_path`. Decided once: later calls return the first
    /// answer. Logs the outcome once; never fails (lexical is the fallback).
    pub fn enable_embeddings(
        &self,
        model_dir: Option<&Path>,
        cache_path: &Path,
    ) -> EmbeddingsStatus {
        let mut status = None;
        let slot = self.meaning.0.get_or_init(|| {
            let dir = concord_embed::model_dir(model_dir);
            // Without the feature the weights do not matter: say only that.
            let loaded = if cfg!(feature = "embeddings") {
                Embedder::load(&dir)
            } else {
                Err(EmbedError::NotBuilt)
            };
            match loaded {
                Ok(e) => {
                    let cache = VectorCache::load(cache_path);
                    let note = format!(
                        "similarity: lexical+embeddings (all-MiniLM-L6-v2 from {}; {} vectors cached in {})",
                        dir.display(),
                        cache.len(),
                        cache_path.display()
                    );
                    tracing::info!("{note}");
                    status = Some(EmbeddingsStatus {
                        method: SimilarMethod::LexicalEmbeddings,
                        note,
                    });
                    Some(Arc::new(Meaning {
                        embedder: Arc::new(e),
                        cache_path: cache_path.to_path_buf(),
                        cache: RwLock::new(cache),
                        seq: tokio::sync::Mutex::new(None),
                        caught_up: AtomicI64::new(-1),
                        pending: AtomicUsize::new(0),
                    }))
                }
                Err(EmbedError::NotBuilt) => {
                    let note = "similarity: lexical only (this build has no `embeddings` feature)"
                        .to_string();
                    tracing::info!("{note}");
                    status = Some(EmbeddingsStatus {
                        method: SimilarMethod::Lexical,
                        note,
                    });
                    None
                }
                Err(e) => {
                    let note = format!("similarity: lexical only, embeddings are off: {e}");
                    // Weights not installed is the ordinary lexical setup
                    // (the caller shows the note where a person sees it);
                    // weights that do not load are a fault.
                    if matches!(e, EmbedError::Missing(_)) {
                        tracing::info!("{note}");
                    } else {
                        tracing::warn!("{note}");
                    }
                    status = Some(EmbeddingsStatus {
                        method: SimilarMethod::Lexical,
                        note,
                    });
                    None
                }
            }
        });
        status.unwrap_or_else(|| EmbeddingsStatus {
            method: if slot.is_some() {
                SimilarMethod::LexicalEmbeddings
            } else {
                SimilarMethod::Lexical
            },
            note: "similarity: embeddings already decided for this process".into(),
        })
    }

    /// The method similarity answers use now.
    pub fn similar_method(&self) -> SimilarMethod {
        match self.meaning() {
            Some(_) => SimilarMethod::LexicalEmbeddings,
            None => SimilarMethod::Lexical,
        }
    }

    pub(crate) fn meaning(&self) -> Option<&Arc<Meaning>> {
        self.meaning.0.get().and_then(Option::as_ref)
    }

    /// How far the vectors are: records and passages held, what a running
    /// catch-up has still to compute, the outbox row read to.
    pub fn vectors_progress(&self) -> VectorsProgress {
        match self.meaning() {
            None => VectorsProgress {
                method: SimilarMethod::Lexical,
                records: 0,
                passages: 0,
                pending: 0,
                applied_seq: None,
            },
            Some(m) => {
                let cache = m.cache.read().expect("vector cache lock");
                let seq = m.caught_up.load(Ordering::Acquire);
                VectorsProgress {
                    method: SimilarMethod::LexicalEmbeddings,
                    records: cache.len(),
                    passages: cache.passages(),
                    pending: m.pending.load(Ordering::Acquire),
                    applied_seq: (seq >= 0).then_some(seq),
                }
            }
        }
    }

    /// How many records have a vector now (0 without embeddings).
    pub fn vectors_cached(&self) -> usize {
        self.meaning()
            .map(|m| m.cache.read().expect("vector cache lock").len())
            .unwrap_or(0)
    }

    /// A record changed (seen by the lexical index's catch-up): its vector,
    /// if computed from another text, is dropped now so that no answer
    /// blends a stale meaning; the vector worker computes the new one.
    pub(crate) fn meaning_changed(&self, id: &str, rec: Option<&Recommendation>) {
        let Some(m) = self.meaning() else { return };
        let mut cache = m.cache.write().expect("vector cache lock");
        match rec {
            Some(rec) => {
                let h = text_hash(&text_of(rec));
                if cache.vector(id).is_some() && cache.get(id, h).is_none() {
                    cache.remove(id);
                }
            }
            None => cache.remove(id),
        }
    }

    /// Brings the vectors up to date with the register: the first call
    /// reads every record (vectors missing or stale are computed, records
    /// gone are dropped), later calls follow the outbox. Saves the cache
    /// file when anything changed. Returns how many vectors were computed
    /// (0 without embeddings). `progress(done, of)` after each chunk.
    pub async fn catch_up_vectors(
        &self,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> AppResult<usize> {
        let Some(m) = self.meaning().cloned() else {
            return Ok(0);
        };
        let mut seq = m.seq.lock().await;
        let store = self.store();
        // (id, text) to compute, and whether the cache changed otherwise.
        let mut todo: Vec<(String, String)> = Vec::new();
        let mut dropped = false;
        let mut last = seq.unwrap_or(0);
        loop {
            let rows = store.outbox_after(last, 10_000).await?;
            let Some(end) = rows.last() else { break };
            let end = end.seq;
            if seq.is_some() {
                for row in rows.iter().filter(|r| r.entity == "recommendation") {
                    let rec = match RecommendationId::parse(&row.entity_id) {
                        Ok(id) => store.get(&id).await?,
                        Err(_) => None,
                    };
                    todo.retain(|(id, _)| id != &row.entity_id);
                    match rec {
                        Some(rec) => todo.push((row.entity_id.clone(), text_of(&rec))),
                        None => {
                            m.cache
                                .write()
                                .expect("vector cache lock")
                                .remove(&row.entity_id);
                            dropped = true;
                        }
                    }
                }
            }
            last = end;
        }
        if seq.is_none() {
            // The whole register: noted after the outbox's end, so a change
            // made meanwhile is read again next time (idempotent).
            let mut ids = std::collections::HashSet::new();
            store
                .scan(1000, &mut |batch| {
                    for rec in &batch {
                        let id = rec.id.to_string();
                        ids.insert(id.clone());
                        todo.push((id, text_of(rec)));
                    }
                    Ok(())
                })
                .await?;
            let mut cache = m.cache.write().expect("vector cache lock");
            let before = cache.len();
            cache.retain(|id| ids.contains(id));
            dropped |= cache.len() != before;
        }
        {
            let cache = m.cache.read().expect("vector cache lock");
            todo.retain(|(id, text)| cache.get(id, text_hash(text)).is_none());
        }
        let of = todo.len();
        m.pending.store(of, Ordering::Release);
        let mut done = 0;
        let mut unsaved = 0;
        for chunk in todo.chunks(CHUNK) {
            let embedder = m.embedder.clone();
            let chunk = chunk.to_vec();
            let vectors = tokio::task::spawn_blocking(move || {
                chunk
                    .into_iter()
                    .map(|(id, text)| {
                        let h = text_hash(&text);
                        embedder.embed_passages(&text).map(|v| (id, h, v))
                    })
                    .collect::<Result<Vec<_>, EmbedError>>()
            })
            .await
            .map_err(|e| AppError::Internal(format!("vector worker: {e}")))?
            .map_err(embed_err)?;
            {
                let mut cache = m.cache.write().expect("vector cache lock");
                for (id, h, v) in vectors {
                    cache.insert(&id, h, v);
                    done += 1;
                    unsaved += 1;
                }
            }
            m.pending.store(of - done, Ordering::Release);
            progress(done, of);
            if unsaved >= SAVE_EVERY {
                save(&m).await?;
                unsaved = 0;
            }
        }
        if unsaved > 0 || dropped {
            save(&m).await?;
        }
        *seq = Some(last);
        m.caught_up.store(last, Ordering::Release);
        Ok(done)
    }

    /// Runs [`Services::catch_up_vectors`] on a background task until
    /// `shutdown` completes (None without embeddings). Errors are logged and
    /// retried at the next poll.
    pub fn start_vector_worker(
        self: &Arc<Self>,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        self.meaning()?;
        let svc = self.clone();
        Some(tokio::spawn(async move {
            tokio::pin!(shutdown);
            loop {
                match svc.catch_up_vectors(&|_, _| {}).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("similarity: computed {n} vectors"),
                    Err(e) => tracing::warn!("similarity: could not compute vectors: {e}"),
                }
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(VECTOR_POLL) => {}
                }
            }
        }))
    }

    /// The vector of a query text, read up to [`QUERY_BYTES`] (None without
    /// embeddings). Computed before the similarity index is locked.
    pub(crate) async fn query_vector(&self, text: &str) -> AppResult<Option<Vec<f32>>> {
        let Some(m) = self.meaning().cloned() else {
            return Ok(None);
        };
        let embedder = m.embedder.clone();
        // A query is read up to about one window of the model (it runs on
        // the request's path): a 1 MiB text costs what a page does.
        let mut end = text.len().min(QUERY_BYTES);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let owned = text[..end].to_string();
        let q = tokio::task::spawn_blocking(move || embedder.embed(&owned))
            .await
            .map_err(|e| AppError::Internal(format!("embedding: {e}")))?
            .map_err(embed_err)?;
        Ok(Some(q))
    }

    /// The best cosine of a record's passages to a query vector (None
    /// without embeddings or before the record's vectors are computed).
    pub(crate) fn closeness(&self, id: &str, q: &[f32]) -> Option<f32> {
        let m = self.meaning()?;
        m.cache.read().expect("vector cache lock").best(id, q)
    }

    /// Blends the meaning signal (the query's vector `q`) into lexical
    /// matches: the evaluation's blend. `visible(id)` says whether the
    /// caller may see a record found only by meaning.
    pub(crate) fn blend(
        &self,
        q: &[f32],
        lexical: Vec<Match>,
        limit: usize,
        visible: impl Fn(&str) -> bool,
    ) -> Vec<Match> {
        let Some(m) = self.meaning() else {
            return lexical;
        };
        let cache = m.cache.read().expect("vector cache lock");
        // More neighbours than asked for: some are hidden from the caller.
        let nearest: Vec<(String, f32)> = cache
            .nearest(q, limit.saturating_mul(4).max(limit + 8))
            .into_iter()
            .filter(|(id, _)| visible(id))
            .take(limit)
            .collect();
        // A record is as close as its closest passage.
        let dot = |id: &str| cache.best(id, q);
        concord_similar::semantic::merge(
            lexical,
            dot,
            &nearest,
            limit,
            &concord_similar::semantic::THRESHOLDS,
        )
    }
}

async fn save(m: &Arc<Meaning>) -> AppResult<()> {
    let m = m.clone();
    tokio::task::spawn_blocking(move || {
        let cache = m.cache.read().expect("vector cache lock");
        cache.save(&m.cache_path).map_err(|e| {
            AppError::Internal(format!("vector cache {}: {e}", m.cache_path.display()))
        })
    })
    .await
    .map_err(|e| AppError::Internal(format!("vector cache: {e}")))?
}
