//! concord-app's integration tests, one binary: each module was once a
//! binary of its own, and linking each against the whole workspace cost more
//! disk and time than the tests themselves. Run one module with
//! `cargo test -p concord-app --test it -- <module>::`.

mod embeddings;
mod fuzz_import;
mod listing;
mod module_graph;
mod quality_pfd;
mod rules_access;
mod similarity_snapshot;
mod workstream_overlaps;
