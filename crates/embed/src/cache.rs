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

use crate::sketch::Sketch;
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

/// Passage vectors by record id: each record holds n x [`DIM`] values.
/// Records sit in slots (a removed one leaves a hole until the next
/// compaction) so the sketch can name them by number.
#[derive(Debug, Default, Clone)]
pub struct VectorCache {
    slots: Vec<Option<Stored>>,
    by_id: HashMap<String, u32>,
    sketch: Sketch,
}

#[derive(Debug, Clone)]
struct Stored {
    id: String,
    hash: u64,
    vectors: Vec<f32>,
    /// Where this record's codes start in the sketch.
    first_code: usize,
}

/// From this many passages `nearest` scores only the sketch's shortlist
/// (below it the exact scan costs a few milliseconds and is kept, so a
/// register of this size gets exactly the nearest records).
pub const SKETCH_FROM: usize = 50_000;
/// Passages shortlisted per record asked for, and at least this many
/// (chosen on real vectors: benches/RESULTS-meaning.md).
pub const SHORTLIST_PER_RESULT: usize = 50;
pub const SHORTLIST_MIN: usize = 2_000;

impl PartialEq for VectorCache {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len()
            && self.slots.iter().flatten().all(|s| {
                other
                    .stored(&s.id)
                    .is_some_and(|o| o.hash == s.hash && o.vectors == s.vectors)
            })
    }
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
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    fn stored(&self, id: &str) -> Option<&Stored> {
        self.by_id
            .get(id)
            .and_then(|s| self.slots[*s as usize].as_ref())
    }

    /// The passage vectors of `id` (n x [`DIM`] values), if computed from a
    /// text with this hash.
    pub fn get(&self, id: &str, hash: u64) -> Option<&[f32]> {
        self.stored(id)
            .filter(|s| s.hash == hash)
            .map(|s| s.vectors.as_slice())
    }

    /// The passage vectors of `id`, whatever text they came from.
    pub fn vector(&self, id: &str) -> Option<&[f32]> {
        self.stored(id).map(|s| s.vectors.as_slice())
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
        match self.by_id.get(id) {
            Some(&slot) => {
                let s = self.slots[slot as usize]
                    .as_mut()
                    .expect("an id's slot holds it");
                self.sketch.kill(s.first_code, s.vectors.len() / DIM);
                s.first_code = self.sketch.push(slot, &vectors);
                s.hash = hash;
                s.vectors = vectors;
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("fewer than 4 billion records");
                let first_code = self.sketch.push(slot, &vectors);
                self.slots.push(Some(Stored {
                    id: id.to_string(),
                    hash,
                    vectors,
                    first_code,
                }));
                self.by_id.insert(id.to_string(), slot);
            }
        }
        self.maybe_rebuild();
    }

    /// Passage vectors held, over every record.
    pub fn passages(&self) -> usize {
        self.sketch.live()
    }

    pub fn remove(&mut self, id: &str) {
        self.forget(id);
        self.maybe_rebuild();
    }

    fn forget(&mut self, id: &str) {
        if let Some(slot) = self.by_id.remove(id)
            && let Some(s) = self.slots[slot as usize].take()
        {
            self.sketch.kill(s.first_code, s.vectors.len() / DIM);
        }
    }

    /// Keeps only the ids for which `keep` is true (records deleted from
    /// the register drop out).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let gone: Vec<String> = self.by_id.keys().filter(|id| !keep(id)).cloned().collect();
        for id in gone {
            self.forget(&id);
        }
        self.maybe_rebuild();
    }

    /// Ids and vectors, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.slots
            .iter()
            .flatten()
            .map(|s| (s.id.as_str(), s.vectors.as_slice()))
    }

    /// Compacts the slots and recomputes the sketch's centre when it asks
    /// (amortised: as the register doubles, or half its codes are dead).
    fn maybe_rebuild(&mut self) {
        if self.sketch.wants_rebuild() {
            self.rebuild();
        }
    }

    fn rebuild(&mut self) {
        self.slots.retain(Option::is_some);
        self.by_id.clear();
        for (i, s) in self.slots.iter().flatten().enumerate() {
            self.by_id.insert(s.id.clone(), i as u32);
        }
        let firsts = self.sketch.rebuild(
            self.slots
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, s)| (i as u32, s.vectors.as_slice())),
        );
        for (s, first) in self.slots.iter_mut().flatten().zip(firsts) {
            s.first_code = first;
        }
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
            // Straight into the slots (a repeated id replaces the earlier
            // one); the sketch is built once below, not as the file grows.
            let stored = Stored {
                id,
                hash: h,
                vectors: v,
                first_code: 0,
            };
            match cache.by_id.get(&stored.id) {
                Some(&slot) => cache.slots[slot as usize] = Some(stored),
                None => {
                    cache
                        .by_id
                        .insert(stored.id.clone(), cache.slots.len() as u32);
                    cache.slots.push(Some(stored));
                }
            }
        }
        cache.rebuild();
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
            let mut records: Vec<&Stored> = self.slots.iter().flatten().collect();
            records.sort_by(|a, b| a.id.cmp(&b.id));
            for Stored {
                id,
                hash: h,
                vectors: v,
                ..
            } in records
            {
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
    /// Below [`SKETCH_FROM`] passages every record is scored (384
    /// multiply-adds a passage); above it only the sketch's shortlist, so a
    /// record the sketch misses may be left out, never misscored.
    pub fn nearest(&self, query: &[f32], k: usize) -> Vec<(String, f32)> {
        if self.sketch.live() < SKETCH_FROM {
            return self.nearest_exact(query, k);
        }
        let want = k.saturating_mul(SHORTLIST_PER_RESULT).max(SHORTLIST_MIN);
        let shortlisted = self
            .sketch
            .shortlist(query, want)
            .into_iter()
            .filter_map(|slot| self.slots[slot as usize].as_ref())
            .map(|s| score(s, query))
            .collect();
        best_k(shortlisted, k)
    }

    /// The nearest records by the exact scan whatever the register's size
    /// (what the sketch's shortlist is measured against).
    pub fn nearest_exact(&self, query: &[f32], k: usize) -> Vec<(String, f32)> {
        let all = self
            .slots
            .iter()
            .flatten()
            .map(|s| score(s, query))
            .collect();
        best_k(all, k)
    }
}

fn score<'a>(s: &'a Stored, query: &[f32]) -> (&'a str, f32) {
    (s.id.as_str(), best_cosine(&s.vectors, query))
}

/// The `k` best (id, cosine), best first, ties by id.
fn best_k(mut all: Vec<(&str, f32)>, k: usize) -> Vec<(String, f32)> {
    let order = |a: &(&str, f32), b: &(&str, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(b.0));
    // The best k without sorting the rest (a million records: a full sort
    // costs more than the scan).
    if k < all.len() {
        all.select_nth_unstable_by(k, order);
        all.truncate(k);
    }
    all.sort_by(order);
    all.into_iter().map(|(i, s)| (i.to_string(), s)).collect()
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

    /// A unit vector near `base` (noise of norm about `s`).
    fn near(base: &[f32], seed: &mut u64, s: f32) -> Vec<f32> {
        let mut v: Vec<f32> = base
            .iter()
            .map(|x| {
                *seed ^= *seed << 13;
                *seed ^= *seed >> 7;
                *seed ^= *seed << 17;
                x + s * 0.177 * ((*seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5)
            })
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }

    #[test]
    fn a_large_cache_answers_from_the_sketch_as_the_exact_scan_does() {
        // Past SKETCH_FROM passages: 300 topics, each with many records
        // near it (the shape of real sentence vectors, which cluster).
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let topics: Vec<Vec<f32>> = (0..300)
            .map(|_| near(&vec![0.0; DIM], &mut seed, 1.0))
            .collect();
        let mut c = VectorCache::new();
        let n = SKETCH_FROM + 2_000;
        for i in 0..n {
            c.insert(
                &format!("R{i:06}"),
                0,
                near(&topics[i % 300], &mut seed, 1.0),
            );
        }
        assert_eq!(c.passages(), n);
        let mut same = 0;
        for t in topics.iter().take(20) {
            let q = near(t, &mut seed, 0.5);
            let got = c.nearest(&q, 10);
            let exact = c.nearest_exact(&q, 10);
            assert_eq!(got.len(), 10);
            // Scored exactly: whatever the sketch finds has its true cosine.
            for (id, cos) in &got {
                assert_eq!(c.best(id, &q), Some(*cos));
            }
            same += got.iter().filter(|g| exact.contains(g)).count();
        }
        assert!(same >= 190, "{same} of 200 of the exact nearest found");
        // A record replaced is found by its new vectors, a removed one never.
        let q = near(&topics[7], &mut seed, 0.3);
        let top = c.nearest(&q, 1)[0].0.clone();
        c.remove(&top);
        assert!(c.nearest(&q, 40).iter().all(|(id, _)| *id != top));
        c.insert("R999999", 1, q.clone());
        assert_eq!(c.nearest(&q, 1)[0].0, "R999999");
        c.insert("R999999", 2, near(&topics[8], &mut seed, 0.3));
        assert_ne!(c.nearest(&q, 1)[0].0, "R999999");
        // Half of it removed: compacted, and still answering.
        c.retain(|id| id.ends_with('0') || id.ends_with('2') || id == "R999999");
        assert!(c.passages() < SKETCH_FROM);
        assert_eq!(c.nearest(&q, 5), c.nearest_exact(&q, 5));
    }

    #[test]
    fn cache_sits_beside_the_index() {
        assert_eq!(
            cache_path_beside(Path::new("/d/concord.index")),
            PathBuf::from("/d/concord.vectors")
        );
    }
}
