//! The deadline rules in force, kept in memory (read by `crate::rules`).

use std::sync::{Arc, RwLock};
use std::time::Instant;

use concord_domain::lifecycle::RulesBook;

/// The merged book and when it was read.
#[derive(Default)]
pub(crate) struct RulesCache(pub(crate) RwLock<Option<(Instant, Arc<RulesBook>)>>);
