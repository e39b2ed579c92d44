//! concord-cli's integration tests, one binary: each module was once a
//! binary of its own, and linking each against the whole workspace cost more
//! disk and time than the tests themselves. Run one module with
//! `cargo test -p concord-cli --test it -- <module>::`.

mod common;
mod crash;
mod lifecycle;
mod links;
mod logs;
mod overdue;
mod oversight;
mod priorities;
mod quality;
mod real_data;
mod register;
mod rules;
mod search;
mod users;
mod workstreams;
