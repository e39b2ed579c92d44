//! Readiness for operators (`GET /readyz`): how far each derived index has
//! read the outbox. The database is the truth; the search index, the
//! similarity index and the vectors follow it, and a node is ready when
//! they have caught up.

use std::sync::atomic::Ordering;

use crate::error::AppResult;
use crate::meaning::VectorsProgress;
use crate::services::Services;

/// One index's position in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndexLag {
    /// The last outbox row it has applied.
    pub applied_seq: i64,
    /// Outbox rows it has still to apply.
    pub lag: i64,
}

/// Every derived index's state.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Readiness {
    /// Every index below has caught up.
    pub ready: bool,
    /// The last outbox row written.
    pub outbox_seq: i64,
    /// None: no search index is attached to this process.
    pub search: Option<IndexLag>,
    /// The similarity index has been built once (it catches up on every
    /// question it is asked).
    pub similarity_built: bool,
    /// The passage vectors (lexical only: none are kept).
    pub vectors: VectorsProgress,
    /// How far behind the vectors are (0 when lexical only).
    pub vectors_lag: i64,
}

impl Services {
    /// Keeps the derived indexes that are built in memory (the similarity
    /// index, the dashboard's fact table) beside the search index in
    /// `index_dir` between runs, so that a restart loads them and catches
    /// up from the outbox instead of building them again from every record
    /// (see `crate::derived::snapshot`).
    pub fn keep_derived_beside(&self, index_dir: &std::path::Path) {
        self.keep_similarity_at(&crate::derived::snapshot::similarity_snapshot_beside(
            index_dir,
        ));
        self.keep_dashboard_at(&crate::derived::snapshot::dashboard_snapshot_beside(
            index_dir,
        ));
    }

    /// The database's connection pool now (for operators' metrics).
    pub fn pool_status(&self) -> concord_store::PoolStatus {
        self.store().pool_status()
    }

    /// Where every derived index stands against the outbox.
    pub async fn readiness(&self) -> AppResult<Readiness> {
        let outbox_seq = self.store().outbox_end().await?;
        let search = match self.search_index() {
            Some(idx) => {
                let applied = idx.applied_seq()?;
                Some(IndexLag {
                    applied_seq: applied,
                    lag: (outbox_seq - applied).max(0),
                })
            }
            None => None,
        };
        let similarity_built = self.similar.1.load(Ordering::Acquire);
        let vectors = self.vectors_progress();
        let vectors_lag = match (self.meaning(), vectors.applied_seq) {
            (None, _) => 0,
            (Some(_), Some(seq)) => (outbox_seq - seq).max(0),
            (Some(_), None) => outbox_seq.max(1),
        };
        let ready = search.as_ref().is_none_or(|s| s.lag == 0)
            && similarity_built
            && vectors_lag == 0
            && vectors.pending == 0;
        Ok(Readiness {
            ready,
            outbox_seq,
            search,
            similarity_built,
            vectors,
            vectors_lag,
        })
    }
}
