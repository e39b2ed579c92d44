//! Concord's similarity engine: which existing recommendations duplicate,
//! support, contradict or relate to a text, and corpus-wide groups of
//! duplicates. Pure: no I/O. The application builds an [`Index`] from the
//! register's records and keeps it in step from the outbox; it is derived
//! data and can be rebuilt at any time.
//!
//! - [`text`]: normalisation and tokenisation for British clinical English.
//! - [`analyse`]: terms, MinHash shingles, and cues (instructions,
//!   directions, numbers) for contradiction checks.
//! - [`index`]: candidate generation (MinHash/LSH plus rare terms) and
//!   exact scoring.
//! - `classify`: score, relation and a one-line reason.
//! - [`semantic`]: the cosine of two sentence embeddings (optional,
//!   `concord-embed`) as an extra signal beside the lexical verdict.

pub mod analyse;
mod classify;
pub mod index;
pub mod semantic;
pub mod text;

pub use classify::{CONTRADICTION_MIN, DUPLICATE, RELATED, SUPPORTS};
pub use index::{
    Doc, DuplicatePairs, Group, Index, Match, Pair, QueryOptions, Relation, Sweep, Viewer,
    groups_of,
};
pub use text::{MAX_TEXT_BYTES, TextProblem, check_text};
