//! The number of matches of a search and the seven facet counts over all
//! of them, counted per segment and remembered (see [`TallyCache`]), apart
//! from the page of hits, which tantivy finds by skipping what cannot make
//! the page (block-max WAND) once nothing else needs every match visited.
//!
//! Each segment's facet column is decoded once into plain arrays (the
//! values of each document, and the dimension and value each ordinal
//! stands for), kept while the segment is searched (segments never change;
//! a new generation brings new segments and the old ones are dropped), so
//! counting a match is a few array reads and increments, and turning the
//! counts into names needs no dictionary lookups. tantivy's
//! `FacetCollector` read the bit-packed column for every match and
//! decompressed dictionary blocks for every value counted: about a third of
//! the time of a broad search at a million records.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::query::Weight;
use tantivy::{DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use crate::FACET_TOP;
use crate::schema::FACETS;

/// A document's facet ordinals: `vals[start[doc]..start[doc + 1]]`.
enum Vals {
    /// At most 65,536 distinct facet values in the segment (the usual case).
    Small(Vec<u16>),
    Large(Vec<u32>),
}

/// One segment's facet column, decoded.
pub(crate) struct SegmentFacets {
    /// Per ordinal: its dimension (an index into [`FACETS`]), or `u8::MAX`.
    dim: Vec<u8>,
    /// Per ordinal: the value (the facet path's last part).
    label: Vec<String>,
    start: Vec<u32>,
    vals: Vals,
}

impl SegmentFacets {
    fn decode(segment: &SegmentReader, field: &str) -> tantivy::Result<Self> {
        let max_doc = segment.max_doc();
        let Some(column) = segment.fast_fields().str(field)? else {
            return Ok(SegmentFacets {
                dim: Vec::new(),
                label: Vec::new(),
                start: vec![0; max_doc as usize + 1],
                vals: Vals::Small(Vec::new()),
            });
        };
        let n_terms = column.num_terms();
        let mut dim = vec![u8::MAX; n_terms];
        let mut label = vec![String::new(); n_terms];
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            let ord = stream.term_ord() as usize;
            // A facet is stored as its path's parts joined by a 0 byte.
            let mut parts = stream.key().split(|b| *b == 0);
            if let (Some(d), Some(v), None) = (parts.next(), parts.next(), parts.next())
                && let Some(i) = FACETS.iter().position(|f| f.as_bytes() == d)
                && ord < n_terms
            {
                dim[ord] = i as u8;
                label[ord] = String::from_utf8_lossy(v).into_owned();
            }
        }
        let ords = column.ords();
        let mut start = Vec::with_capacity(max_doc as usize + 1);
        let mut all: Vec<u32> = Vec::with_capacity(max_doc as usize * 8);
        let mut one: Vec<u32> = Vec::new();
        start.push(0u32);
        for doc in 0..max_doc {
            one.clear();
            one.extend(ords.values_for_doc(doc).map(|o| o as u32));
            one.sort_unstable();
            one.dedup();
            all.extend_from_slice(&one);
            start.push(all.len() as u32);
        }
        let vals = if n_terms <= 1 << 16 {
            Vals::Small(all.into_iter().map(|o| o as u16).collect())
        } else {
            Vals::Large(all)
        };
        Ok(SegmentFacets {
            dim,
            label,
            start,
            vals,
        })
    }
}

/// The decoded facet columns of one searcher's segments, in its order.
pub(crate) struct Facets {
    segments: Vec<Arc<SegmentFacets>>,
}

/// The decoded facet columns of the segments searched lately.
#[derive(Default)]
pub(crate) struct FacetCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

impl FacetCache {
    /// The decoded facet columns of `searcher`'s segments, decoding the
    /// segments not seen before (and forgetting those no longer searched).
    pub(crate) fn columns(&self, searcher: &Searcher, field: &str) -> tantivy::Result<Facets> {
        let readers = searcher.segment_readers();
        let mut segs = Vec::with_capacity(readers.len());
        let mut missing = Vec::new();
        {
            let map = self.segments.lock().expect("facet cache lock");
            for (i, r) in readers.iter().enumerate() {
                match map.get(&r.segment_id()) {
                    Some(s) => segs.push(Some(s.clone())),
                    None => {
                        segs.push(None);
                        missing.push(i);
                    }
                }
            }
        }
        if !missing.is_empty() {
            // Decode outside the lock: searches of known segments go on meanwhile.
            let mut decoded = Vec::with_capacity(missing.len());
            for &i in &missing {
                decoded.push((i, Arc::new(SegmentFacets::decode(&readers[i], field)?)));
            }
            let live: HashSet<SegmentId> = readers.iter().map(|r| r.segment_id()).collect();
            let mut map = self.segments.lock().expect("facet cache lock");
            map.retain(|id, _| live.contains(id));
            for (i, s) in decoded {
                let s = map.entry(readers[i].segment_id()).or_insert(s).clone();
                segs[i] = Some(s);
            }
        }
        Ok(Facets {
            segments: segs
                .into_iter()
                .map(|s| s.expect("every segment"))
                .collect(),
        })
    }
}

pub(crate) type FacetFruit = BTreeMap<String, BTreeMap<String, u64>>;

/// What counting one query's matches in one segment found: how many are
/// alive, and each facet ordinal's count (those above zero only, so a
/// narrow query's entry is small).
pub(crate) struct SegmentTally {
    count: u32,
    counts: Vec<(u32, u32)>,
}

impl SegmentTally {
    fn bytes(&self) -> usize {
        64 + self.counts.len() * 8
    }
}

/// A segment in one state: segments never change, but deletes accumulate
/// (a record edited or withdrawn), and a segment with more deletes counts
/// differently.
type SegmentState = (SegmentId, u32);

fn state_of(r: &SegmentReader) -> SegmentState {
    (r.segment_id(), r.num_deleted_docs())
}

/// The per-segment tallies of the queries searched lately, so that the
/// commonest searches (a filter with no words, one word) count their
/// matches once, not on every request: a later search of the same query
/// reads the counts of the segments it has seen and counts only new ones
/// (a commit adds a small segment; a merge replaces some). Like Lucene's
/// and Elasticsearch's per-segment caches, it is keyed by the query as
/// matched and the segment's state, so it is never stale and needs no
/// invalidation: what a segment held is what it holds.
///
/// Bounded: at most [`TALLY_QUERIES`] queries and [`TALLY_BYTES`] of
/// counts; past either, the least recently used queries are forgotten.
#[derive(Default)]
pub(crate) struct TallyCache {
    inner: Mutex<TallyMap>,
}

#[derive(Default)]
struct TallyMap {
    queries: HashMap<String, QueryTallies>,
    clock: u64,
    bytes: usize,
}

struct QueryTallies {
    used: u64,
    segments: HashMap<SegmentState, Arc<SegmentTally>>,
}

impl QueryTallies {
    fn bytes(&self) -> usize {
        self.segments.values().map(|t| t.bytes()).sum()
    }
}

const TALLY_QUERIES: usize = 2_048;
const TALLY_BYTES: usize = 32 << 20;

impl TallyCache {
    /// A collector of the number of matches and the seven facets of `key`
    /// (the query as matched, written out) over `searcher`'s segments,
    /// with the tallies already known.
    pub(crate) fn tally(&self, facets: Facets, searcher: &Searcher, key: &str) -> Tally {
        let mut map = self.inner.lock().expect("tally cache lock");
        map.clock += 1;
        let now = map.clock;
        let known = map.queries.get_mut(key).map(|q| {
            q.used = now;
            searcher
                .segment_readers()
                .iter()
                .map(|r| q.segments.get(&state_of(r)).cloned())
                .collect::<Vec<_>>()
        });
        let known = known.unwrap_or_else(|| vec![None; searcher.segment_readers().len()]);
        Tally { facets, known }
    }

    /// Keeps what a search counted, forgetting the segments no longer
    /// searched and, past the bounds, the queries least recently used.
    pub(crate) fn keep(
        &self,
        searcher: &Searcher,
        key: String,
        fresh: Vec<(SegmentState, Arc<SegmentTally>)>,
    ) {
        if fresh.is_empty() {
            return;
        }
        let live: HashSet<SegmentState> = searcher.segment_readers().iter().map(state_of).collect();
        let mut map = self.inner.lock().expect("tally cache lock");
        map.clock += 1;
        let now = map.clock;
        let map = &mut *map;
        let entry = map.queries.entry(key).or_insert_with(|| QueryTallies {
            used: now,
            segments: HashMap::new(),
        });
        let before = entry.bytes();
        entry.used = now;
        entry.segments.retain(|s, _| live.contains(s));
        for (s, t) in fresh {
            entry.segments.insert(s, t);
        }
        let after = entry.bytes();
        map.bytes = map.bytes.saturating_sub(before) + after;
        if map.queries.len() > TALLY_QUERIES || map.bytes > TALLY_BYTES {
            // Forget the least recently used quarter (at least one query).
            let mut by_use: Vec<(u64, String)> = map
                .queries
                .iter()
                .map(|(k, q)| (q.used, k.clone()))
                .collect();
            by_use.sort_unstable();
            let keep_queries = TALLY_QUERIES * 3 / 4;
            let keep_bytes = TALLY_BYTES * 3 / 4;
            for (_, k) in by_use {
                if map.queries.len() <= keep_queries && map.bytes <= keep_bytes {
                    break;
                }
                if let Some(q) = map.queries.remove(&k) {
                    map.bytes = map.bytes.saturating_sub(q.bytes());
                }
            }
        }
    }

    pub(crate) fn clear(&self) {
        *self.inner.lock().expect("tally cache lock") = TallyMap::default();
    }

    #[cfg(test)]
    pub(crate) fn queries(&self) -> usize {
        self.inner.lock().expect("tally cache lock").queries.len()
    }
}

/// Counts the matches and every facet value of them, per segment, reading
/// the tallies already known instead of visiting the matches again; the
/// fruit is the number of matches, per dimension its [`FACET_TOP`] most
/// frequent values, and the tallies counted this time (for
/// [`TallyCache::keep`]).
pub(crate) struct Tally {
    facets: Facets,
    known: Vec<Option<Arc<SegmentTally>>>,
}

pub(crate) struct Counted {
    pub(crate) total: usize,
    pub(crate) facets: FacetFruit,
    pub(crate) fresh: Vec<(SegmentState, Arc<SegmentTally>)>,
}

impl Tally {
    /// Every segment already counted: the answer needs no search at all.
    pub(crate) fn all_known(&self) -> bool {
        self.known.iter().all(Option::is_some)
    }

    /// The answer from the known tallies alone (when [`Tally::all_known`]).
    pub(crate) fn known_only(self) -> tantivy::Result<Counted> {
        let fruits = self
            .known
            .iter()
            .enumerate()
            .map(|(i, t)| (i as u32, t.clone().expect("every segment known"), None))
            .collect();
        self.merge_fruits(fruits)
    }
}

/// A segment's tally, and its state when it was counted just now.
type TallyFruit = (SegmentOrdinal, Arc<SegmentTally>, Option<SegmentState>);

pub(crate) struct SegmentCounts {
    facets: Arc<SegmentFacets>,
    count: u32,
    counts: Vec<u32>,
}

impl SegmentCounts {
    #[inline]
    fn count(&mut self, doc: DocId) {
        self.count += 1;
        let f = &*self.facets;
        let (a, b) = (
            f.start[doc as usize] as usize,
            f.start[doc as usize + 1] as usize,
        );
        match &f.vals {
            Vals::Small(v) => {
                for &o in &v[a..b] {
                    self.counts[o as usize] += 1;
                }
            }
            Vals::Large(v) => {
                for &o in &v[a..b] {
                    self.counts[o as usize] += 1;
                }
            }
        }
    }

    fn into_tally(self) -> SegmentTally {
        SegmentTally {
            count: self.count,
            counts: self
                .counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(o, n)| (o as u32, *n))
                .collect(),
        }
    }
}

/// Only for tantivy's trait: [`Tally`] counts in `collect_segment` itself.
pub(crate) struct TallySegment {
    ord: SegmentOrdinal,
    counts: SegmentCounts,
    state: SegmentState,
}

impl SegmentCollector for TallySegment {
    type Fruit = TallyFruit;

    fn collect(&mut self, doc: DocId, _: Score) {
        self.counts.count(doc);
    }

    fn harvest(self) -> TallyFruit {
        (
            self.ord,
            Arc::new(self.counts.into_tally()),
            Some(self.state),
        )
    }
}

impl Collector for Tally {
    type Fruit = Counted;
    type Child = TallySegment;

    fn for_segment(
        &self,
        segment_local_id: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<TallySegment> {
        let facets = self.facets.segments[segment_local_id as usize].clone();
        let counts = vec![0u32; facets.dim.len()];
        Ok(TallySegment {
            ord: segment_local_id,
            counts: SegmentCounts {
                facets,
                count: 0,
                counts,
            },
            state: state_of(segment),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment_ord: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<TallyFruit> {
        if let Some(Some(t)) = self.known.get(segment_ord as usize) {
            return Ok((segment_ord, t.clone(), None));
        }
        let mut seg = self.for_segment(segment_ord, reader)?;
        match reader.alive_bitset() {
            Some(alive) => weight.for_each_no_score(reader, &mut |docs| {
                for &d in docs {
                    if alive.is_alive(d) {
                        seg.counts.count(d);
                    }
                }
            })?,
            None => weight.for_each_no_score(reader, &mut |docs| {
                for &d in docs {
                    seg.counts.count(d);
                }
            })?,
        }
        Ok(seg.harvest())
    }

    fn merge_fruits(&self, segment_fruits: Vec<TallyFruit>) -> tantivy::Result<Counted> {
        let mut total = 0usize;
        let mut by_dim: Vec<HashMap<&str, u64>> = vec![HashMap::new(); FACETS.len()];
        let mut fresh = Vec::new();
        for (ord, tally, state) in &segment_fruits {
            let facets = &self.facets.segments[*ord as usize];
            total += tally.count as usize;
            for &(o, n) in &tally.counts {
                let d = facets.dim[o as usize] as usize;
                if d < FACETS.len() {
                    *by_dim[d]
                        .entry(facets.label[o as usize].as_str())
                        .or_default() += u64::from(n);
                }
            }
            if let Some(s) = state {
                fresh.push((*s, tally.clone()));
            }
        }
        let mut out = BTreeMap::new();
        for (d, counts) in by_dim.into_iter().enumerate() {
            let mut v: Vec<(&str, u64)> = counts.into_iter().collect();
            // Most frequent first; among equals, the first by name.
            v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            v.truncate(FACET_TOP);
            out.insert(
                FACETS[d].to_string(),
                v.into_iter().map(|(k, n)| (k.to_string(), n)).collect(),
            );
        }
        Ok(Counted {
            total,
            facets: out,
            fresh,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{STORED, Schema, TEXT};
    use tantivy::{Index, doc};

    /// Any number of distinct searches (a caller making up queries) keeps
    /// the cache within its bounds, and the most recent ones stay.
    #[test]
    fn the_cache_forgets_the_least_recently_used_past_its_bounds() {
        let mut b = Schema::builder();
        let text = b.add_text_field("text", TEXT | STORED);
        let index = Index::create_in_ram(b.build());
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        w.add_document(doc!(text => "a")).unwrap();
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let state = state_of(&searcher.segment_readers()[0]);
        let cache = TallyCache::default();
        let columns = || Facets {
            segments: vec![Arc::new(SegmentFacets {
                dim: Vec::new(),
                label: Vec::new(),
                start: vec![0, 0],
                vals: Vals::Small(Vec::new()),
            })],
        };
        for i in 0..(TALLY_QUERIES * 2) {
            let key = format!("query {i}");
            let t = cache.tally(columns(), &searcher, &key);
            assert!(!t.all_known(), "{key} is new");
            let tally = Arc::new(SegmentTally {
                count: 1,
                counts: vec![(0, 1)],
            });
            cache.keep(&searcher, key, vec![(state, tally)]);
            assert!(cache.queries() <= TALLY_QUERIES);
        }
        let last = format!("query {}", TALLY_QUERIES * 2 - 1);
        assert!(cache.tally(columns(), &searcher, &last).all_known());
        assert!(!cache.tally(columns(), &searcher, "query 0").all_known());

        // Large tallies: the byte bound holds as well.
        let big = Arc::new(SegmentTally {
            count: 1,
            counts: (0..100_000).map(|o| (o, 1)).collect(),
        });
        for i in 0..100 {
            cache.keep(&searcher, format!("broad {i}"), vec![(state, big.clone())]);
        }
        let bytes = cache.inner.lock().unwrap().bytes;
        assert!(bytes <= TALLY_BYTES, "{bytes} bytes");
        assert_eq!(
            bytes,
            cache
                .inner
                .lock()
                .unwrap()
                .queries
                .values()
                .map(QueryTallies::bytes)
                .sum::<usize>(),
            "the running total is the sum"
        );
    }
}
