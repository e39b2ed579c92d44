//! The dashboard's fact table and the answers computed from it (filled and
//! read by `crate::dashboard`).

use std::sync::Arc;
use std::time::Duration;

use concord_domain::dashboard::{Dashboard, FactTable};

pub(crate) struct State {
    pub(crate) table: FactTable,
    /// The last outbox row applied (None: not built yet).
    pub(crate) seq: Option<i64>,
    pub(crate) built_in: Option<Duration>,
    /// Answers already computed, by question; emptied whenever the table
    /// changes, so that a view asked twice between changes costs nothing
    /// (the figures at a million records take a few hundred milliseconds).
    pub(crate) answers: std::collections::HashMap<String, Dashboard>,
    /// The organisations' kinds the table was last given (they decide the
    /// landing figures).
    pub(crate) orgs: u64,
    /// Changes applied since the table was last saved (or built).
    pub(crate) unsaved: usize,
    /// What the table was made with (the code and the deadline rules; see
    /// `crate::dashboard::engine`).
    pub(crate) engine: u64,
}

/// The services' handle on the fact table, shared by every clone.
#[derive(Clone)]
pub(crate) struct DashboardEngine(
    pub(crate) Arc<tokio::sync::Mutex<State>>,
    pub(crate) Arc<super::snapshot::Keeping>,
);

impl Default for DashboardEngine {
    fn default() -> Self {
        DashboardEngine(
            Arc::new(tokio::sync::Mutex::new(State {
                table: FactTable::new(),
                seq: None,
                built_in: None,
                answers: Default::default(),
                orgs: 0,
                unsaved: 0,
                engine: 0,
            })),
            Arc::default(),
        )
    }
}
