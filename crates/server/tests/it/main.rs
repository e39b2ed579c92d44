//! concord-server's integration tests, one binary: each module was once a
//! binary of its own, and linking each against the whole workspace cost more
//! disk and time than the tests themselves. Run one module with
//! `cargo test -p concord-server --test it -- <module>::`.

mod accounts_web;
mod api;
mod authorisation;
mod browser;
mod common;
mod dashboard_api;
mod endorsements_api;
mod feeds_api;
mod lifecycle_api;
mod links_api;
mod metrics;
mod overdue_api;
mod oversight_api;
mod page_snapshots;
mod priorities_api;
mod public_pages;
mod rules_api;
mod search_api;
mod similar_api;
mod trust;
mod work_web;
mod workstreams_api;
mod workstreams_web;
