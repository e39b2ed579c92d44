//! The web pages, one module per part of the site: `home`, `recommendation`
//! (a record, its history, and the sections `progress` and `related` it is
//! made of), `search` (results, downloads, organisations and themes),
//! `dashboard`, `priorities`, `workstreams`, `account` (signing in, your
//! account, administration) and `work` (drafting, answering, assessing and
//! the queues). Shared: `extract` (the session, forms), `error` (one
//! `PageError`, every failure shown one way), `layout` and `filters` (what
//! every template uses). Markup lives in `templates/`, never here.

use axum::Router;

use crate::AppState;

pub mod account;
mod asset_files;
pub mod assets;
pub mod dashboard;
pub(crate) mod error;
pub(crate) mod extract;
pub mod feeds;
pub(crate) mod filters;
mod home;
pub mod layout;
pub mod priorities;
mod progress;
pub mod recommendation;
mod related;
pub mod search;
pub mod work;
pub mod workstreams;

/// Every page's route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::routes())
        .merge(recommendation::routes())
        .merge(search::routes())
        .merge(dashboard::routes())
        .merge(workstreams::routes())
        .merge(account::routes())
        .merge(work::routes())
        .merge(priorities::routes())
}
