//! The vectors' handle: the model, its cache of passage vectors and how far
//! they follow the outbox (filled and read by `crate::meaning`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicUsize};
use std::sync::{Arc, OnceLock, RwLock};

use concord_embed::Embedder;
use concord_embed::cache::VectorCache;

pub(crate) struct Meaning {
    pub(crate) embedder: Arc<Embedder>,
    pub(crate) cache_path: PathBuf,
    pub(crate) cache: RwLock<VectorCache>,
    /// The last outbox row the vectors follow (None: the whole register has
    /// not been read yet). Its lock also lets one catch-up run at a time.
    pub(crate) seq: tokio::sync::Mutex<Option<i64>>,
    /// The same, readable without waiting (-1: not yet), and the records a
    /// running catch-up has still to compute: for `/readyz`.
    pub(crate) caught_up: AtomicI64,
    pub(crate) pending: AtomicUsize,
}

/// The services' handle: decided once per process.
#[derive(Default)]
pub(crate) struct MeaningEngine(pub(crate) OnceLock<Option<Arc<Meaning>>>);
