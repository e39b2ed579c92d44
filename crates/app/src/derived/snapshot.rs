//! Derived state kept between runs: a snapshot file holds one index as of
//! one outbox row, so that a restart loads it and catches up from the
//! outbox instead of reading and analysing every record again (minutes at
//! a million records).
//!
//! A snapshot is a cache, never the truth. It is written to a temporary
//! file, flushed to disk and renamed over the old one, so a crash at any
//! moment leaves the old snapshot or the new, never half of one. It is read
//! back only if its checksum holds, it was written by the same engine, it
//! comes from this database (the first outbox row is the same) and the
//! outbox has not gone backwards; anything else is "no snapshot" and the
//! index is built from the records as before.
//!
//! Layout: `MAGIC`, then two bincode values (the [`Stamp`], the body), then
//! the CRC-32 of everything before it and the length of everything before
//! it, little-endian (u32, u64).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use bincode::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;

const MAGIC: &[u8; 16] = b"CONCORD-SNAP 01\n";
const TRAILER: u64 = 12;

/// What a snapshot was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub(crate) struct Stamp {
    /// What kind of index (a file put in the wrong place is refused).
    pub kind: String,
    /// The engine that built it (see `concord_similar::engine_fingerprint`).
    pub engine: u64,
    /// The last outbox row the index reflects.
    pub seq: i64,
    /// The database's first outbox row (seq, entity id, time in
    /// microseconds): another database, even one restored from a backup
    /// into a fresh file, has another.
    pub origin: Option<(i64, String, i64)>,
}

fn options() -> impl Options + Copy {
    bincode::DefaultOptions::new().allow_trailing_bytes()
}

/// Where the dashboard's fact table of the search index in `index_dir` is kept.
pub fn dashboard_snapshot_beside(index_dir: &Path) -> PathBuf {
    index_dir.with_extension("dashboard")
}

/// Where the similarity index of the search index in `index_dir` is kept.
pub fn similarity_snapshot_beside(index_dir: &Path) -> PathBuf {
    index_dir.with_extension("similarity")
}

/// Where an index is kept between runs, and what became of it.
#[derive(Default)]
pub(crate) struct Keeping {
    /// The snapshot file (None: kept in memory only, as for a one-off
    /// command without an index folder).
    pub(crate) path: std::sync::OnceLock<std::path::PathBuf>,
    /// A snapshot is being written (one at a time).
    pub(crate) saving: std::sync::atomic::AtomicBool,
    /// How the index was last made: from a snapshot or from the records.
    pub(crate) loaded: std::sync::atomic::AtomicBool,
    pub(crate) written: std::sync::atomic::AtomicU64,
}

struct Crc<W> {
    inner: W,
    hasher: crc32fast::Hasher,
    len: u64,
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `body` as of `stamp` to `path` (temporary file, flush, rename).
/// Returns the bytes written.
pub(crate) fn write<T: Serialize>(path: &Path, stamp: &Stamp, body: &T) -> std::io::Result<u64> {
    let tmp = path.with_extension("snapshot-tmp");
    let file = File::create(&tmp)?;
    let mut w = Crc {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: crc32fast::Hasher::new(),
        len: 0,
    };
    let encode = |w: &mut Crc<_>| -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        options()
            .serialize_into(&mut *w, stamp)
            .map_err(std::io::Error::other)?;
        options()
            .serialize_into(&mut *w, body)
            .map_err(std::io::Error::other)
    };
    if let Err(e) = encode(&mut w) {
        drop(w);
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let crc = w.hasher.clone().finalize();
    let len = w.len;
    let mut inner = w.inner;
    inner.write_all(&crc.to_le_bytes())?;
    inner.write_all(&len.to_le_bytes())?;
    let file = inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)?;
    // The rename itself is on disk once the folder is.
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = d.sync_all();
    }
    Ok(len + TRAILER)
}

/// Why a snapshot was not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unusable {
    Missing,
    /// Cut short, overwritten, or not a snapshot at all.
    Damaged(String),
    /// Made by another engine, from another database, of another kind, or
    /// ahead of the database.
    Stale(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Missing => write!(f, "no snapshot"),
            Unusable::Damaged(m) => write!(f, "damaged snapshot ({m})"),
            Unusable::Stale(m) => write!(f, "stale snapshot ({m})"),
        }
    }
}

/// Reads the stamp of the snapshot at `path` after checking its checksum,
/// and its body if `accept` takes the stamp.
pub(crate) fn read<T: DeserializeOwned>(
    path: &Path,
    accept: impl FnOnce(&Stamp) -> Result<(), String>,
) -> Result<(Stamp, T), Unusable> {
    let damaged = |e: &dyn std::fmt::Display| Unusable::Damaged(e.to_string());
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(e) => return Err(damaged(&e)),
    };
    let size = file.metadata().map_err(|e| damaged(&e))?.len();
    if size < MAGIC.len() as u64 + TRAILER {
        return Err(Unusable::Damaged("too short".into()));
    }
    let body_len = size - TRAILER;
    // First the checksum over the whole file: a damaged file is never
    // decoded (a corrupt length could ask for any amount of memory).
    let mut hasher = crc32fast::Hasher::new();
    let mut left = body_len;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = (left as usize).min(buf.len());
        file.read_exact(&mut buf[..n]).map_err(|e| damaged(&e))?;
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    let mut trailer = [0u8; TRAILER as usize];
    file.read_exact(&mut trailer).map_err(|e| damaged(&e))?;
    let crc = u32::from_le_bytes(trailer[..4].try_into().expect("four bytes"));
    let len = u64::from_le_bytes(trailer[4..].try_into().expect("eight bytes"));
    if len != body_len || crc != hasher.finalize() {
        return Err(Unusable::Damaged("checksum does not match".into()));
    }
    let file = File::open(path).map_err(|e| damaged(&e))?;
    let mut r = BufReader::with_capacity(1 << 20, file).take(body_len);
    let mut magic = [0u8; MAGIC.len()];
    r.read_exact(&mut magic).map_err(|e| damaged(&e))?;
    if &magic != MAGIC {
        return Err(Unusable::Damaged("not a snapshot of this format".into()));
    }
    let stamp: Stamp = options()
        .with_limit(body_len)
        .deserialize_from(&mut r)
        .map_err(|e| damaged(&e))?;
    accept(&stamp).map_err(Unusable::Stale)?;
    let body: T = options()
        .with_limit(body_len)
        .deserialize_from(&mut r)
        .map_err(|e| damaged(&e))?;
    Ok((stamp, body))
}

/// State that is kept in a snapshot: what it is, how far it has read and
/// what it writes.
pub(crate) trait Kept: Send + Sync + 'static {
    const KIND: &'static str;
    type Body<'a>: Serialize
    where
        Self: 'a;
    /// The last outbox row applied (None: not built).
    fn seq(&self) -> Option<i64>;
    /// Changes applied since the last save.
    fn unsaved(&self) -> usize;
    fn body(&self) -> Self::Body<'_>;
}

/// This database's first outbox row, as a stamp names it.
pub(crate) async fn origin_of(
    store: &dyn concord_store::Store,
) -> Result<Option<(i64, String, i64)>, concord_store::StoreError> {
    store.origin().await
}

/// Loads the snapshot kept at `keeping`'s path if it is good for this
/// database and `engine`; anything else is logged and read as none.
pub(crate) async fn load<T: DeserializeOwned + Send + 'static>(
    store: &dyn concord_store::Store,
    keeping: &Keeping,
    kind: &'static str,
    engine: u64,
) -> Result<Option<(T, i64)>, concord_store::StoreError> {
    let Some(path) = keeping.path.get().cloned() else {
        return Ok(None);
    };
    let origin = origin_of(store).await?;
    let end = store.outbox_end().await?;
    let started = std::time::Instant::now();
    let read = tokio::task::spawn_blocking(move || {
        read::<T>(&path, |stamp| {
            if stamp.kind != kind {
                return Err(format!("it holds {}", stamp.kind));
            }
            if stamp.engine != engine {
                return Err("written by another build".into());
            }
            if stamp.origin != origin {
                return Err("written for another database".into());
            }
            if stamp.seq > end {
                return Err(format!(
                    "it reflects outbox row {} but the database ends at {end}",
                    stamp.seq
                ));
            }
            Ok(())
        })
    })
    .await
    .unwrap_or_else(|e| Err(Unusable::Damaged(e.to_string())));
    match read {
        Ok((stamp, body)) => {
            tracing::info!(
                seq = stamp.seq,
                ms = started.elapsed().as_millis() as u64,
                "{kind} loaded from its snapshot"
            );
            keeping
                .loaded
                .store(true, std::sync::atomic::Ordering::Release);
            Ok(Some((body, stamp.seq)))
        }
        Err(Unusable::Missing) => Ok(None),
        Err(why) => {
            tracing::warn!("{kind} built from the records: {why}");
            Ok(None)
        }
    }
}

/// Writes the state behind `guard` to `keeping`'s path, off the async
/// workers; the guard is held (so the state does not move) until written.
/// Returns how many unsaved changes the snapshot took in (None: nothing
/// written).
pub(crate) async fn save<S: Kept, G: std::ops::Deref<Target = S> + Send + 'static>(
    keeping: &Keeping,
    guard: G,
    engine: u64,
    origin: Option<(i64, String, i64)>,
) -> Option<usize> {
    let path = keeping.path.get()?.clone();
    let done = tokio::task::spawn_blocking(move || {
        let st: &S = &guard;
        let Some(seq) = st.seq() else {
            return Ok(None);
        };
        let stamp = Stamp {
            kind: S::KIND.into(),
            engine,
            seq,
            origin,
        };
        let started = std::time::Instant::now();
        let bytes = write(&path, &stamp, &st.body())?;
        tracing::info!(
            seq,
            bytes,
            ms = started.elapsed().as_millis() as u64,
            "{} saved",
            S::KIND
        );
        Ok::<_, std::io::Error>(Some(st.unsaved()))
    })
    .await;
    match done {
        Ok(Ok(Some(saved))) => {
            keeping
                .written
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            Some(saved)
        }
        Ok(Ok(None)) => None,
        Ok(Err(e)) => {
            tracing::warn!("{} not saved: {e}", S::KIND);
            None
        }
        Err(e) => {
            tracing::warn!("{} not saved: {e}", S::KIND);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(seq: i64) -> Stamp {
        Stamp {
            kind: "test".into(),
            engine: 7,
            seq,
            origin: Some((1, "HSSIB-2025-0001".into(), 0)),
        }
    }

    #[test]
    fn what_is_written_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.snapshot");
        let body: Vec<(String, u32)> = vec![("a".into(), 1), ("b".into(), 2)];
        let n = write(&path, &stamp(42), &body).unwrap();
        assert_eq!(n, std::fs::metadata(&path).unwrap().len());
        let (s, back): (Stamp, Vec<(String, u32)>) = read(&path, |_| Ok(())).unwrap();
        assert_eq!((s, back), (stamp(42), body));
        assert!(!path.with_extension("snapshot-tmp").exists());
    }

    #[test]
    fn any_damage_or_refusal_is_no_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.snapshot");
        let read_it = |p: &Path| read::<Vec<u64>>(p, |_| Ok(())).map(|(_, b)| b);
        assert_eq!(read_it(&path), Err(Unusable::Missing));
        write(&path, &stamp(1), &vec![1u64, 2, 3]).unwrap();
        let good = std::fs::read(&path).unwrap();
        // Every single flipped byte and every cut is caught.
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x40;
            std::fs::write(&path, &bad).unwrap();
            assert!(
                matches!(read_it(&path), Err(Unusable::Damaged(_))),
                "byte {i}"
            );
        }
        for cut in [0, 5, good.len() / 2, good.len() - 1] {
            std::fs::write(&path, &good[..cut]).unwrap();
            assert!(
                matches!(read_it(&path), Err(Unusable::Damaged(_))),
                "cut {cut}"
            );
        }
        std::fs::write(&path, &good).unwrap();
        assert_eq!(read_it(&path), Ok(vec![1, 2, 3]));
        let refused = read::<Vec<u64>>(&path, |s| Err(format!("seq {}", s.seq)));
        assert_eq!(refused, Err(Unusable::Stale("seq 1".into())));
    }
}
