//! The similarity index and the corpus-wide lists swept from it (filled and
//! read by `crate::similar`).

use std::sync::Arc;

use concord_similar::{Index, Pair};

use super::links::LinkBook;
use super::snapshot::Keeping;

pub(crate) struct State {
    pub(crate) index: Index,
    /// Every stored link between records, both ways (for the oversight
    /// lists and "also said by"), kept in step with the index.
    pub(crate) links: LinkBook,
    /// The last outbox row applied (None: not built yet).
    pub(crate) seq: Option<i64>,
    /// Counts builds of the index: a sweep begun on one build is begun
    /// again on the next (its places in the index mean nothing there).
    pub(crate) build: u64,
    /// Changes applied since the index was last saved (or built).
    pub(crate) unsaved: usize,
}

/// The corpus-wide lists (duplicates, contradictions) as of one outbox row,
/// found by a sweep in the background (see [`Services::start_corpus_sweeper`])
/// and served from memory to every caller, each seeing what it may.
#[derive(Debug)]
pub(crate) struct Swept {
    /// The outbox row the index had reached when the sweep began.
    pub(crate) seq: i64,
    pub(crate) duplicates: concord_similar::DuplicatePairs,
    pub(crate) contradictions: Vec<Pair>,
}

/// The corpus-wide lists and whether a background sweeper keeps them.
#[derive(Default)]
pub(crate) struct Sweeps {
    pub(crate) last: std::sync::RwLock<Option<Arc<Swept>>>,
    /// Told when a sweep completes (and woken for a new change).
    pub(crate) done: tokio::sync::Notify,
    pub(crate) wake: tokio::sync::Notify,
    pub(crate) running: std::sync::atomic::AtomicBool,
    /// Sweeps completed since start (what the tests and operators read to
    /// see that asking for the lists does not redo the work).
    pub(crate) completed: std::sync::atomic::AtomicU64,
}

/// The services' handle on the similarity index: empty until first used,
/// shared by every clone of the handle (one per open store).
#[derive(Clone)]
pub(crate) struct SimilarEngine(
    pub(crate) Arc<tokio::sync::RwLock<State>>,
    /// Whether the index has been built once: a page that only shows the
    /// engine's matches beside other content need not wait for the first
    /// build (minutes at a million records).
    pub(crate) Arc<std::sync::atomic::AtomicBool>,
    pub(crate) Arc<Sweeps>,
    pub(crate) Arc<Keeping>,
);

impl Default for SimilarEngine {
    fn default() -> Self {
        SimilarEngine(
            Arc::new(tokio::sync::RwLock::new(State {
                index: Index::new(),
                links: Default::default(),
                seq: None,
                build: 0,
                unsaved: 0,
            })),
            Arc::default(),
            Arc::default(),
            Arc::default(),
        )
    }
}
