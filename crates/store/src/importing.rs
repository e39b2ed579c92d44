//! What an import hands the store besides its records: the plan read in a
//! first pass over the files, the batches of records read in a second pass,
//! and the folding of one report's several sources into one record. An
//! import of any size then holds one batch at a time, not every record.

use std::collections::{BTreeSet, HashMap, HashSet};

use concord_domain::provenance::enrich;
use concord_domain::{IdRequest, NewRecommendation, OrgCode};

/// Records an import writes per batch (each batch's lookups are one query).
pub const IMPORT_BATCH: usize = 1000;

/// Records of an import, each with its position in the import (for errors
/// that name the file and row).
pub type ImportBatch = Vec<(usize, NewRecommendation)>;

/// Batches as the caller reads them; an `Err` (the caller could not read
/// its files to the end) abandons the import and nothing is written.
pub type ImportFeed = tokio::sync::mpsc::Receiver<Result<ImportBatch, String>>;

/// What an import needs to know before it writes its first record: the id
/// sequences it touches (locked first, in a fixed order, so that two
/// imports never wait on each other in a circle) and the numbers its rows
/// ask for (never given to a row that asked for none, even when the asking
/// row comes later in the files).
#[derive(Debug, Clone, Default)]
pub struct ImportPlan {
    pub(crate) pairs: BTreeSet<(OrgCode, u16)>,
    pub(crate) asked: HashMap<(OrgCode, u16), HashSet<u32>>,
}

impl ImportPlan {
    /// Notes one record of the import (in the first pass).
    pub fn note(&mut self, new: &NewRecommendation) {
        match &new.id {
            IdRequest::Exact(id) | IdRequest::Preferred { id, .. } => {
                let pair = (id.issuer.clone(), id.year);
                self.asked.entry(pair.clone()).or_default().insert(id.seq);
                self.pairs.insert(pair);
            }
            IdRequest::Allocate { issuer, year, .. } => {
                self.pairs.insert((issuer.clone(), *year));
            }
        }
    }

    /// Whether a row of this import asked for this number.
    pub(crate) fn is_asked(&self, issuer: &OrgCode, year: u16, seq: u32) -> bool {
        self.asked
            .get(&(issuer.clone(), year))
            .is_some_and(|s| s.contains(&seq))
    }
}

/// Rows of one import that are the same report (one import key) from
/// several sources: held until the last of them is read, then handed on as
/// one record (the first row's, enriched by the later ones, by the rule a
/// second source enriches a stored report). Rows whose key occurs once pass
/// straight through, so only the repeated reports are ever held.
#[derive(Debug, Default)]
pub struct SameReportMerger {
    remaining: HashMap<String, u32>,
    held: HashMap<String, (usize, NewRecommendation)>,
    /// Later rows that added something to the first.
    pub enriched: u64,
    /// Later rows that added nothing.
    pub skipped: u64,
}

impl SameReportMerger {
    /// `counts`: how many rows of the import carry each import key.
    pub fn new(counts: HashMap<String, u32>) -> Self {
        SameReportMerger {
            remaining: counts.into_iter().filter(|(_, n)| *n > 1).collect(),
            ..Default::default()
        }
    }

    /// The record to write now, if any: this row, or (at the last row of a
    /// repeated report) the report merged from all of its rows.
    pub fn offer(
        &mut self,
        index: usize,
        new: NewRecommendation,
    ) -> Option<(usize, NewRecommendation)> {
        let Some(key) = new.import_key.clone() else {
            return Some((index, new));
        };
        let Some(left) = self.remaining.get_mut(&key) else {
            return Some((index, new));
        };
        *left = left.saturating_sub(1);
        let done = *left == 0;
        match self.held.get_mut(&key) {
            Some((_, kept)) => {
                let e = enrich(
                    &mut kept.data,
                    &mut kept.provenance,
                    &new.data,
                    &new.provenance,
                );
                if e.changed() {
                    self.enriched += 1;
                } else {
                    self.skipped += 1;
                }
            }
            None => {
                self.held.insert(key.clone(), (index, new));
            }
        }
        if done {
            self.remaining.remove(&key);
            self.held.remove(&key)
        } else {
            None
        }
    }

    /// Anything still held (fewer rows came than were counted), in the
    /// order of the first row of each.
    pub fn rest(self) -> Vec<(usize, NewRecommendation)> {
        let mut rest: Vec<_> = self.held.into_values().collect();
        rest.sort_by_key(|(i, _)| *i);
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_domain::{Lifecycle, RecKind, RecommendationData, RecommendationId};

    fn row(key: Option<&str>, title: &str, id: IdRequest) -> NewRecommendation {
        NewRecommendation {
            id,
            data: RecommendationData {
                local_ref: None,
                kind: RecKind::Recommendation,
                issuer: OrgCode::parse("NICE").unwrap(),
                source: None,
                title: title.into(),
                text: "x".into(),
                published: None,
                status: Lifecycle::Published,
                level: None,
                addressees: vec![],
                themes: vec![],
                settings: vec![],
                evidence: None,
                patient_impact: None,
                cost: None,
                equality: None,
                risk: None,
                response_deadline: None,
                links: vec![],
            },
            import_key: key.map(String::from),
            version: None,
            created_at: None,
            updated_at: None,
            provenance: Default::default(),
        }
    }

    fn alloc() -> IdRequest {
        IdRequest::Allocate {
            issuer: OrgCode::parse("NICE").unwrap(),
            year: 2026,
            floor: 1,
        }
    }

    #[test]
    fn a_repeated_report_is_handed_on_once_at_its_last_row_under_its_first_index() {
        let mut m =
            SameReportMerger::new(HashMap::from([("a".to_string(), 3), ("b".to_string(), 1)]));
        assert!(m.offer(0, row(Some("a"), "first", alloc())).is_none());
        let (i, b) = m.offer(1, row(Some("b"), "b", alloc())).unwrap();
        assert_eq!((i, b.data.title.as_str()), (1, "b"));
        let (i, n) = m.offer(2, row(None, "no key", alloc())).unwrap();
        assert_eq!((i, n.data.title.as_str()), (2, "no key"));
        assert!(m.offer(3, row(Some("a"), "second", alloc())).is_none());
        let (i, a) = m.offer(4, row(Some("a"), "third", alloc())).unwrap();
        assert_eq!(i, 0);
        assert_eq!(a.data.title, "first");
        assert_eq!(m.enriched + m.skipped, 2);
        assert!(m.rest().is_empty());
    }

    #[test]
    fn rows_counted_but_never_read_are_still_handed_on() {
        let mut m = SameReportMerger::new(HashMap::from([("a".to_string(), 2)]));
        assert!(m.offer(7, row(Some("a"), "only", alloc())).is_none());
        let rest = m.rest();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].0, 7);
    }

    #[test]
    fn the_plan_knows_the_numbers_rows_ask_for() {
        let mut p = ImportPlan::default();
        let id = RecommendationId::parse("NICE-2026-0007").unwrap();
        p.note(&row(None, "t", IdRequest::Exact(id)));
        p.note(&row(None, "t", alloc()));
        let nice = OrgCode::parse("NICE").unwrap();
        assert!(p.is_asked(&nice, 2026, 7));
        assert!(!p.is_asked(&nice, 2026, 8));
        assert_eq!(p.pairs.len(), 1);
    }
}
