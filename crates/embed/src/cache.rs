//! The vector cache: the vectors of each record's passages (see
//! [`crate::passages`]), keyed by record id and a hash of the text they were
//! computed from, in one file beside the search index (`concord.index` ->
//! `concord.vectors`). Derived data: a missing, corrupt or stale file
//! (another format or model stamp) is read as empty and rebuilt.
//!
//! File: `CONCORD-VECTORS 2\n`, the model stamp and a newline, then per
//! record: id length (u32 LE), id bytes, text hash (u64 LE), the number of
//! passages n (u32 LE), n x [`DIM`] f32 LE. Written to a temporary file and
//! renamed, so a crash leaves the old file.

use std::collections::HashMap;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{DIM, EmbedError, Embedder, MODEL_STAMP};

const MAGIC: &[u8] = b"CONCORD-VECTORS 2\n";
/// Passages per record a file may claim (more is a damaged file).
const MAX_STORED_PASSAGES: usize = 1024;

/// Hash of the text a vector was computed from (first 8 bytes of SHA-256).
pub fn text_hash(text: &str) -> u64 {
    let d = Sha256::digest(text.as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// The cache file beside a search index folder or database file:
/// `concord.index` -> `concord.vectors`.
pub fn cache_path_beside(index_or_db: &Path) -> PathBuf {
    index_or_db.with_extension("vectors")
}

/// Passage vectors by record id: each entry holds n x [`DIM`] values.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct VectorCache {
    entries: HashMap<String, (u64, Vec<f32>)>,
}

/// The best cosine of `query` with any of the passage vectors in `vectors`
/// (n x [`DIM`] values, unit length).
pub fn best_cosine(vectors: &[f32], query: &[f32]) -> f32 {
    vectors
        .chunks_exact(DIM)
        .map(|v| dot(v, query))
        .fold(f32::MIN, f32::max)
}

/// Dot product in eight lanes (the compiler vectorises it; a plain sum of
/// products is kept in order and is not). [`DIM`] is a multiple of 8.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a
        .chunks_exact(8)
        .remainder()
        .iter()
        .zip(b.chunks_exact(8).remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

impl VectorCache {
    pub fn new() -> Self {
        VectorCache::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The passage vectors of `id` (n x [`DIM`] values), if computed from a
    /// text with this hash.
    pub fn get(&self, id: &str, hash: u64) -> Option<&[f32]> {
        self.entries
            .get(id)
            .filter(|(h, _)| *h == hash)
            .map(|(_, v)| v.as_slice())
    }

    /// The passage vectors of `id`, whatever text they came from.
    pub fn vector(&self, id: &str) -> Option<&[f32]> {
        self.entries.get(id).map(|(_, v)| v.as_slice())
    }

    /// The best cosine of `query` with a passage of `id` (None: no vectors).
    pub fn best(&self, id: &str, query: &[f32]) -> Option<f32> {
        self.vector(id).map(|v| best_cosine(v, query))
    }

    /// Stores the passage vectors of `id`: one or more vectors of [`DIM`]
    /// values, concatenated.
    pub fn insert(&mut self, id: &str, hash: u64, vectors: Vec<f32>) {
        assert!(
            !vectors.is_empty() && vectors.len().is_multiple_of(DIM),
            "passage vectors are a multiple of {DIM} values"
        );
        self.entries.insert(id.to_string(), (hash, vectors));
    }

    /// Passage vectors held, over every record.
    pub fn passages(&self) -> usize {
        self.entries.values().map(|(_, v)| v.len() / DIM).sum()
    }

    pub fn remove(&mut self, id: &str) {
        self.entries.remove(id);
    }

    /// Keeps only the ids for which `keep` is true (records deleted from
    /// the register drop out).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.entries.retain(|id, _| keep(id));
    }

    /// Ids and vectors, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.entries
            .iter()
            .map(|(id, (_, v))| (id.as_str(), v.as_slice()))
    }

    /// Reads a cache file. A missing file, a file of another model stamp
    /// or a damaged file reads as an empty cache (it is rebuilt).
    pub fn load(path: &Path) -> VectorCache {
        match Self::read(path) {
            Ok(Some(c)) => c,
            _ => VectorCache::new(),
        }
    }

    fn read(path: &Path) -> std::io::Result<Option<VectorCache>> {
        let mut bytes = Vec::new();
        std::fs::File::open(path)?.read_to_end(&mut bytes)?;
        let Some(rest) = bytes.strip_prefix(MAGIC) else {
            return Ok(None);
        };
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        if &rest[..nl] != MODEL_STAMP.as_bytes() {
            return Ok(None);
        }
        let mut r = &rest[nl + 1..];
        let mut cache = VectorCache::new();
        let take = |r: &mut &[u8], n: usize| -> Option<Vec<u8>> {
            if r.len() < n {
                return None;
            }
            let (a, b) = r.split_at(n);
            *r = b;
            Some(a.to_vec())
        };
        while !r.is_empty() {
            let Some(n) = take(&mut r, 4) else {
                return Ok(None);
            };
            let n = u32::from_le_bytes(n.try_into().expect("4")) as usize;
            let (Some(id), Some(h), Some(count)) =
                (take(&mut r, n), take(&mut r, 8), take(&mut r, 4))
            else {
                return Ok(None);
            };
            let count = u32::from_le_bytes(count.try_into().expect("4")) as usize;
            if count == 0 || count > MAX_STORED_PASSAGES {
                return Ok(None);
            }
            let Some(v) = take(&mut r, count * DIM * 4) else {
                return Ok(None);
            };
            let Ok(id) = String::from_utf8(id) else {
                return Ok(None);
            };
            let h = u64::from_le_bytes(h.try_into().expect("8"));
            let v = v
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4")))
                .collect();
            cache.entries.insert(id, (h, v));
        }
        Ok(Some(cache))
    }

    /// Writes the cache (temporary file, then rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("vectors.tmp");
        {
            let mut w = BufWriter::new(std::fs::File::create(&tmp)?);
            w.write_all(MAGIC)?;
            w.write_all(MODEL_STAMP.as_bytes())?;
            w.write_all(b"\n")?;
            let mut ids: Vec<&String> = self.entries.keys().collect();
            ids.sort();
            for id in ids {
                let (h, v) = &self.entries[id];
                w.write_all(&(id.len() as u32).to_le_bytes())?;
                w.write_all(id.as_bytes())?;
                w.write_all(&h.to_le_bytes())?;
                w.write_all(&((v.len() / DIM) as u32).to_le_bytes())?;
                for x in v {
                    w.write_all(&x.to_le_bytes())?;
                }
            }
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, path)
    }

    /// The `k` cached records nearest to `query` (the best cosine of any of
    /// their passages; the vectors are unit length), best first, ties by id.
    /// Brute force: 384 multiply-adds per passage.
    pub fn nearest(&self, query: &[f32], k: usize) -> Vec<(String, f32)> {
        let mut all: Vec<(&str, f32)> = self
            .iter()
            .map(|(id, v)| (id, best_cosine(v, query)))
            .collect();
        let order = |a: &(&str, f32), b: &(&str, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(b.0));
        // The best k without sorting the rest (a million records: a full
        // sort costs more than the scan).
        if k < all.len() {
            all.select_nth_unstable_by(k, order);
            all.truncate(k);
        }
        all.sort_by(order);
        all.into_iter().map(|(i, s)| (i.to_string(), s)).collect()
    }
}

/// Fills the cache with the vectors it lacks or that are stale (text
/// changed) for `records` (id, text), and drops ids not among them when
/// `complete` is true (the records are the whole register). Returns how
/// many vectors were computed. `progress` is called after each one (a
/// background task can save every so often or stop early by returning
/// false).
pub fn refresh<'a>(
    cache: &mut VectorCache,
    embedder: &Embedder,
    records: impl IntoIterator<Item = (&'a str, &'a str)>,
    complete: bool,
    mut progress: impl FnMut(&VectorCache, usize) -> bool,
) -> Result<usize, EmbedError> {
    let mut seen = std::collections::HashSet::new();
    let mut done = 0;
    for (id, text) in records {
        if complete {
            seen.insert(id.to_string());
        }
        let h = text_hash(text);
        if cache.get(id, h).is_some() {
            continue;
        }
        let v = embedder.embed_passages(text)?;
        cache.insert(id, h, v);
        done += 1;
        if !progress(cache, done) {
            return Ok(done);
        }
    }
    if complete {
        cache.retain(|id| seen.contains(id));
    }
    Ok(done)
}

/// Fills the cache file at `path` for `records` (id, text) on a thread of
/// its own, so the caller goes on answering lexically meanwhile: reads the
/// file, computes what is missing or stale, saves every `save_every`
/// vectors and at the end (a crash loses at most that many), and drops
/// records no longer among `records`. Returns how many it computed.
pub fn spawn_refresh(
    embedder: std::sync::Arc<Embedder>,
    path: PathBuf,
    records: Vec<(String, String)>,
    save_every: usize,
) -> std::thread::JoinHandle<Result<usize, EmbedError>> {
    std::thread::spawn(move || {
        let mut cache = VectorCache::load(&path);
        let mut save_error = None;
        let done = refresh(
            &mut cache,
            &embedder,
            records.iter().map(|(i, t)| (i.as_str(), t.as_str())),
            true,
            |c, n| {
                if n % save_every.max(1) == 0
                    && let Err(e) = c.save(&path)
                {
                    save_error = Some(e);
                    return false;
                }
                true
            },
        )?;
        if let Some(e) = save_error {
            return Err(EmbedError::Io(e));
        }
        cache.save(&path)?;
        Ok(done)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(i: usize) -> Vec<f32> {
        let mut v = vec![0.0; DIM];
        v[i] = 1.0;
        v
    }

    #[test]
    fn a_saved_cache_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("concord.vectors");
        let mut c = VectorCache::new();
        c.insert("NICE-2024-0001", text_hash("a"), unit(3));
        c.insert("PFD-2021-0836", text_hash("b"), unit(7));
        c.save(&path).unwrap();
        let back = VectorCache::load(&path);
        assert_eq!(back, c);
        assert_eq!(
            back.get("NICE-2024-0001", text_hash("a")),
            Some(&unit(3)[..])
        );
        // A changed text makes the vector stale.
        assert_eq!(back.get("NICE-2024-0001", text_hash("a!")), None);
    }

    #[test]
    fn a_missing_damaged_or_foreign_file_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.vectors");
        assert!(VectorCache::load(&path).is_empty());
        let mut c = VectorCache::new();
        c.insert("A", 1, unit(0));
        c.save(&path).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, &bytes).unwrap();
        assert!(VectorCache::load(&path).is_empty(), "truncated file");
        let other = [MAGIC, b"another model\n"].concat();
        std::fs::write(&path, other).unwrap();
        assert!(VectorCache::load(&path).is_empty(), "other stamp");
    }

    #[test]
    fn nearest_ranks_by_cosine_then_id() {
        let mut c = VectorCache::new();
        c.insert("B", 0, unit(1));
        c.insert("A", 0, unit(1));
        c.insert("C", 0, unit(2));
        let q = unit(1);
        let got = c.nearest(&q, 2);
        assert_eq!(got[0].0, "A");
        assert_eq!(got[1].0, "B");
        assert!((got[0].1 - 1.0).abs() < 1e-6);
    }

    #[test]
    fn cache_sits_beside_the_index() {
        assert_eq!(
            cache_path_beside(Path::new("/d/concord.index")),
            PathBuf::from("/d/concord.vectors")
        );
    }
}
