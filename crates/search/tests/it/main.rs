//! concord-search's integration tests, one binary: each module was once a
//! binary of its own, and linking each against the whole workspace cost more
//! disk and time than the tests themselves. Run one module with
//! `cargo test -p concord-search --test it -- <module>::`.

mod fuzz_query;
mod index;
mod listing;
mod relevance;
