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

/// Changes whenever this engine's source does: an [`Index`] kept between
/// runs is only read back by a build of the same engine (any change to how
/// texts are read, scored or stored would otherwise leave old answers in a
/// new build).
pub fn engine_fingerprint() -> u64 {
    const SOURCES: [&str; 6] = [
        include_str!("analyse.rs"),
        include_str!("classify.rs"),
        include_str!("index.rs"),
        include_str!("lib.rs"),
        include_str!("semantic.rs"),
        include_str!("text.rs"),
    ];
    // FNV-1a: stable across builds and platforms (std's hasher is not).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for src in SOURCES {
        for b in src.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fingerprint_reads_every_source_file() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let files = std::fs::read_dir(dir)
            .unwrap()
            .filter(|e| {
                let p = e.as_ref().unwrap().path();
                p.is_dir() || p.extension().is_some_and(|x| x == "rs")
            })
            .count();
        // A new file (or folder) must be added to engine_fingerprint's list.
        assert_eq!(files, 6);
        assert_eq!(super::engine_fingerprint(), super::engine_fingerprint());
    }
}
