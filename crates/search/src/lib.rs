//! Concord's full-text search: a tantivy index derived from the database.
//!
//! - [`analysis`]: British clinical English (words, folding, stemming) and
//!   the synonym list in `synonyms.toml`.
//! - [`schema`]: the fields, facets and how a recommendation becomes a document.
//! - [`query`]: what a user types, read into a ranked query.
//! - [`SearchIndex`]: opening the index, searching it, and the one writer
//!   that applies the outbox (see [`SearchIndex::catch_up`]).
//!
//! This crate knows the store (to read records and the outbox) but not the
//! application services: access control decides the [`DraftVisibility`] of
//! a search and passes it in the filter.

pub mod analysis;
mod index;
pub mod query;
pub mod schema;
pub mod workstreams;

pub use concord_store::{DraftVisibility, RecommendationFilter};
pub use index::{CatchUp, LIST_WINDOW, Listing, SearchIndex, index_dir_for};

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The caller's request cannot be served (names what is wrong).
    #[error("{0}")]
    BadRequest(String),
    /// Another process holds the index writer.
    #[error(
        "the search index at {0} is being written by another Concord process (a running server?); \
         stop it first, or let it bring the index up to date"
    )]
    Busy(String),
    #[error("search index: {0}")]
    Index(String),
    #[error("database: {0}")]
    Store(#[from] concord_store::StoreError),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Index(e.to_string())
    }
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sort {
    #[default]
    Relevance,
    Newest,
}

impl std::str::FromStr for Sort {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "relevance" | "" => Ok(Sort::Relevance),
            "newest" => Ok(Sort::Newest),
            _ => Err(format!("{s:?} is not a sort order (relevance, newest)")),
        }
    }
}

/// Deepest result a search serves: page * per_page past this is refused.
pub const MAX_RESULT_WINDOW: u64 = 10_000;
/// How many values of each facet are counted and returned.
pub const FACET_TOP: usize = 25;

#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub query: String,
    pub filter: RecommendationFilter,
    /// From 0.
    pub offset: u64,
    pub limit: u64,
    pub sort: Sort,
}

/// One hit. `snippet` is HTML-safe: the record's text with `<`, `>`, `&`,
/// quotes escaped, and the matched words wrapped in `<mark>`…`</mark>`
/// (the only markup it ever contains).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub id: String,
    pub score: f32,
    pub title: String,
    pub snippet: String,
}

/// The answer to a search, in the shape of CONTRACT.md (`search --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    pub total: u64,
    pub hits: Vec<Hit>,
    /// Dimension -> value -> count, over every match (not just this page).
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// Set when no record had every word and records with some of them are shown.
    pub relaxed: bool,
    /// What the search did with odd input (unclosed quote, only common words...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}
