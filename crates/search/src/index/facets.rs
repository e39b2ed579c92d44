//! The seven facet counts over every match of a search, in the same pass
//! as the page and the total.
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

/// The decoded facet columns of the segments searched lately.
#[derive(Default)]
pub(crate) struct FacetCache {
    segments: Mutex<HashMap<SegmentId, Arc<SegmentFacets>>>,
}

impl FacetCache {
    /// A collector for the seven facets over `searcher`'s segments,
    /// decoding the segments not seen before (and forgetting those no
    /// longer searched).
    pub(crate) fn collector(&self, searcher: &Searcher, field: &str) -> tantivy::Result<Facets> {
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

/// Counts every facet value of the matches; the fruit is, per dimension,
/// its [`FACET_TOP`] most frequent values.
pub(crate) struct Facets {
    segments: Vec<Arc<SegmentFacets>>,
}

pub(crate) type FacetFruit = BTreeMap<String, BTreeMap<String, u64>>;

pub(crate) struct SegmentCounts {
    facets: Arc<SegmentFacets>,
    counts: Vec<u32>,
}

impl SegmentCollector for SegmentCounts {
    type Fruit = (Arc<SegmentFacets>, Vec<u32>);

    #[inline]
    fn collect(&mut self, doc: DocId, _: Score) {
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

    fn harvest(self) -> Self::Fruit {
        (self.facets, self.counts)
    }
}

impl Collector for Facets {
    type Fruit = FacetFruit;
    type Child = SegmentCounts;

    fn for_segment(
        &self,
        segment_local_id: SegmentOrdinal,
        _segment: &SegmentReader,
    ) -> tantivy::Result<SegmentCounts> {
        let facets = self.segments[segment_local_id as usize].clone();
        let counts = vec![0u32; facets.dim.len()];
        Ok(SegmentCounts { facets, counts })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        segment_fruits: Vec<(Arc<SegmentFacets>, Vec<u32>)>,
    ) -> tantivy::Result<FacetFruit> {
        let mut by_dim: Vec<HashMap<&str, u64>> = vec![HashMap::new(); FACETS.len()];
        for (facets, counts) in &segment_fruits {
            for (ord, &n) in counts.iter().enumerate() {
                let d = facets.dim[ord] as usize;
                if n > 0 && d < FACETS.len() {
                    *by_dim[d].entry(facets.label[ord].as_str()).or_default() += u64::from(n);
                }
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
        Ok(out)
    }
}
