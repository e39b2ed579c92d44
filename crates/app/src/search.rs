//! Search as a use case: the services hold an optional handle on the search
//! index (derived data, see `concord-search`); access control decides which
//! drafts a caller's search may find, exactly as for listings.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use concord_search::{CatchUp, SearchError, SearchIndex, SearchRequest, SearchResults, Sort};
use concord_store::{Page, RecommendationFilter};

use crate::access::Authorized;
use crate::error::{AppError, AppResult};
use crate::services::Services;

/// How often the indexer task looks at the outbox when nothing nudges it.
pub const INDEXER_POLL: Duration = Duration::from_millis(500);

/// A search as a caller asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub text: String,
    /// The same filters as the listing; `drafts` is set by access control.
    pub filter: RecommendationFilter,
    pub page: Page,
    pub sort: Sort,
}

impl From<SearchError> for AppError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadRequest(m) => AppError::BadInput(m),
            SearchError::Busy(_) => AppError::Refused(e.to_string()),
            SearchError::Index(m) => AppError::Internal(m),
            SearchError::Store(s) => s.into(),
        }
    }
}

impl Services {
    /// Opens (creating on first use) the search index in `dir` and attaches
    /// it. Searching needs no lock; writing is for whoever takes the writer
    /// ([`Services::catch_up_search`], [`Services::start_search_indexer`]).
    pub fn attach_search(&self, dir: &Path) -> AppResult<Arc<SearchIndex>> {
        if let Some(idx) = self.search.get() {
            return Ok(idx.clone());
        }
        let idx = Arc::new(SearchIndex::open(dir)?);
        Ok(self.search.get_or_init(|| idx).clone())
    }

    pub fn search_index(&self) -> Option<&Arc<SearchIndex>> {
        self.search.get()
    }

    fn index(&self) -> AppResult<&Arc<SearchIndex>> {
        self.search.get().ok_or_else(|| {
            AppError::Refused("search is not available: no search index is attached".into())
        })
    }

    /// A record changed: let the indexer task look now rather than at its next poll.
    pub(crate) fn search_changed(&self) {
        if let Some(idx) = self.search.get() {
            idx.nudge();
        }
    }

    /// Brings the index up to date with the outbox in this process.
    /// `Ok(None)` if another process (a running server) holds the writer and
    /// will do it.
    pub async fn catch_up_search(&self) -> AppResult<Option<CatchUp>> {
        let idx = self.index()?;
        match idx.catch_up(self.store.as_ref()).await {
            Ok(c) => Ok(Some(c)),
            Err(SearchError::Busy(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Rebuilds the search index from the database.
    pub async fn rebuild_search(&self, progress: &(dyn Fn(u64) + Send + Sync)) -> AppResult<u64> {
        let idx = self.index()?;
        Ok(idx.rebuild(self.store.as_ref(), progress).await?)
    }

    /// Starts the one indexer task of this process, if an index is attached:
    /// it catches up at once, then on every nudge (a write through the
    /// services) or every 500 ms, until `shutdown`.
    pub fn start_search_indexer(
        &self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let idx = self.search.get()?.clone();
        let store = self.store.clone();
        Some(tokio::spawn(idx.run_indexer(store, INDEXER_POLL, shutdown)))
    }

    async fn run_search(&self, req: SearchRequest) -> AppResult<SearchResults> {
        let idx = self.index()?.clone();
        tokio::task::spawn_blocking(move || idx.search(&req))
            .await
            .map_err(|e| AppError::Internal(format!("search stopped: {e}")))?
            .map_err(AppError::from)
    }
}

impl Authorized<'_> {
    /// Ranked full-text search. Drafts are found only by their issuer (and
    /// operators), as in listings. An issuer that is not registered is
    /// refused rather than silently finding nothing.
    pub async fn search(&self, q: SearchQuery) -> AppResult<SearchResults> {
        let svc = self.services();
        if let Some(issuer) = &q.filter.issuer
            && svc.organisation(issuer).await?.is_none()
        {
            return Err(AppError::BadInput(format!(
                "issuer: {issuer} is not a registered organisation"
            )));
        }
        let mut filter = q.filter;
        filter.drafts = self.drafts();
        let req = SearchRequest {
            query: q.text,
            filter,
            offset: q.page.offset,
            limit: q.page.limit,
            sort: q.sort,
        };
        if !hybrid_applies(&req) {
            return svc.run_search(req).await;
        }
        // Meaning blended into the ranking: the first RERANK_DEPTH lexical
        // hits, reordered by reciprocal-rank fusion with the closeness of
        // their passages to the query. Lexical only when embeddings are off.
        let Some(qv) = svc.query_vector(&req.query).await? else {
            return svc.run_search(req).await;
        };
        let (offset, limit) = (req.offset as usize, req.limit as usize);
        let mut deep = svc
            .run_search(SearchRequest {
                offset: 0,
                limit: RERANK_DEPTH as u64,
                ..req
            })
            .await?;
        let hits = std::mem::take(&mut deep.hits);
        deep.hits = svc
            .fuse_by_meaning(&qv, hits)
            .into_iter()
            .skip(offset)
            .take(limit)
            .collect();
        Ok(deep)
    }
}

/// Lexical hits reordered by meaning, at most this deep (a page asked for
/// beyond it is ranked lexically).
pub const RERANK_DEPTH: usize = 50;
/// The weight of the meaning ranking against the lexical one (the dev split
/// of evaluation/heldout: equal weights, the usual choice, lifted every
/// class but abbreviations, which stay above FTS5).
const MEANING_WEIGHT: f64 = 1.0;
/// Queries of fewer words are ranked lexically (an id, a drug name, an
/// abbreviation: the words decide).
const HYBRID_MIN_WORDS: usize = 3;

/// Longer queries are ranked lexically: embedding a query runs on the
/// request's path (one window of word pieces for up to this many words), so
/// an anonymous caller cannot make one search cost seconds of CPU.
const HYBRID_MAX_WORDS: usize = 64;

fn hybrid_applies(req: &SearchRequest) -> bool {
    let words = req
        .query
        .split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count();
    req.sort == Sort::Relevance
        && (req.offset + req.limit) as usize <= RERANK_DEPTH
        && (HYBRID_MIN_WORDS..=HYBRID_MAX_WORDS).contains(&words)
        && req.query.len() <= HYBRID_MAX_WORDS * 24
}

impl Services {
    /// Reorders lexical hits (best first) by reciprocal-rank fusion with the
    /// ranking of their best passage's cosine to `qv` (a hit without vectors
    /// yet ranks last by meaning).
    fn fuse_by_meaning(
        &self,
        qv: &[f32],
        hits: Vec<concord_search::Hit>,
    ) -> Vec<concord_search::Hit> {
        let cos: Vec<Option<f32>> = hits.iter().map(|h| self.closeness(&h.id, qv)).collect();
        let order = concord_similar::semantic::fuse(hits.len(), &cos, MEANING_WEIGHT);
        let mut slots: Vec<Option<concord_search::Hit>> = hits.into_iter().map(Some).collect();
        order.into_iter().filter_map(|i| slots[i].take()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(q: &str, offset: u64, limit: u64, sort: Sort) -> SearchRequest {
        SearchRequest {
            query: q.into(),
            filter: RecommendationFilter::default(),
            offset,
            limit,
            sort,
        }
    }

    #[test]
    fn meaning_ranks_only_ordinary_questions_on_the_first_pages() {
        let q = "patients waiting outside the emergency department in ambulances";
        assert!(hybrid_applies(&req(q, 0, 20, Sort::Relevance)));
        // A drug name, an abbreviation, an id: the words decide.
        assert!(!hybrid_applies(&req("clozapine", 0, 20, Sort::Relevance)));
        assert!(!hybrid_applies(&req("NEWS2 score", 0, 20, Sort::Relevance)));
        // Newest first, or a page beyond the fused depth: lexical.
        assert!(!hybrid_applies(&req(q, 0, 20, Sort::Newest)));
        assert!(!hybrid_applies(&req(q, 40, 20, Sort::Relevance)));
        // A long text pasted as a query is not embedded on the request path.
        let long = "word ".repeat(HYBRID_MAX_WORDS + 1);
        assert!(!hybrid_applies(&req(&long, 0, 20, Sort::Relevance)));
        let huge_word = format!("three word {}", "x".repeat(5000));
        assert!(!hybrid_applies(&req(&huge_word, 0, 20, Sort::Relevance)));
    }
}
