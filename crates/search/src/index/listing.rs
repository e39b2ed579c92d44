//! The register's filtered listing answered from the index: the records
//! and the order of the database's listing (`Store::list`), found in
//! milliseconds at a million records, where the database counts and sorts
//! every record that passes the filters for each page.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use concord_domain::RecommendationId;
use concord_store::RecommendationFilter;
use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Order, Searcher, Term};

use super::SearchIndex;
use crate::schema;
use crate::{MAX_RESULT_WINDOW, Result, SearchError};

/// How deep into a listing the index answers. Past it the database pages:
/// a sorted page at offset N holds N records' keys in memory while it is
/// found, which a caller must not be able to ask of the server at will.
pub const LIST_WINDOW: u64 = MAX_RESULT_WINDOW;

/// One page of a listing: how many records pass the filters, and the ids on
/// the page in the listing's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    pub total: u64,
    pub ids: Vec<RecommendationId>,
}

impl SearchIndex {
    /// The last outbox row that this process's searches are known to see:
    /// set when this process has caught the index up (and reloaded its
    /// reader), -1 before. A process that does not write the index (the
    /// CLI beside a running server) never claims anything.
    pub fn searchable_seq(&self) -> i64 {
        self.searchable.load(Ordering::Acquire)
    }

    pub(super) fn searchable_now(&self, seq: i64) {
        self.searchable.fetch_max(seq, Ordering::AcqRel);
    }

    /// A page of the listing that `filter` selects, in the database's order
    /// (`published DESC NULLS LAST, issuer, year, seq`), with the filters'
    /// meaning in the database (an addressee matches by code, or by part of
    /// its written name).
    ///
    /// `None` when the index cannot answer for the database as it is now:
    /// its searches do not yet see every outbox row up to `outbox_end`
    /// (the caller reads that from the database first), or the page lies
    /// beyond [`LIST_WINDOW`]. The caller then asks the database.
    pub fn list(
        &self,
        filter: &RecommendationFilter,
        offset: u64,
        limit: u64,
        outbox_end: i64,
    ) -> Result<Option<Listing>> {
        if offset.saturating_add(limit) > LIST_WINDOW || self.searchable_seq() < outbox_end {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let query = self.listing_query(&searcher, filter)?;
        if limit == 0 {
            let total = searcher.search(&query, &Count)?;
            return Ok(Some(Listing {
                total: total as u64,
                ids: Vec::new(),
            }));
        }
        // Compared in turn; a document whose first column already ranks it
        // below the page's worst so far is not read further.
        let column = |name| (SortByStaticFastValue::<u64>::for_field(name), Order::Asc);
        let [when, issuer, number] = schema::LISTING;
        let top = TopDocs::with_limit(limit as usize)
            .and_offset(offset as usize)
            .order_by((column(when), column(issuer), column(number)));
        let (total, page) = searcher.search(&query, &(Count, top))?;
        let id = |(when, issuer, number): (Option<u64>, Option<u64>, Option<u64>)| {
            schema::ListingKey {
                when: when?,
                issuer: issuer?,
                number: number?,
            }
            .id()
        };
        let ids = page
            .into_iter()
            .map(|(key, _)| {
                id(key).ok_or_else(|| {
                    SearchError::Index(
                        "a document without a readable listing key; run `concord reindex`".into(),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Listing {
            total: total as u64,
            ids,
        }))
    }

    fn listing_query(
        &self,
        searcher: &Searcher,
        filter: &RecommendationFilter,
    ) -> Result<BooleanQuery> {
        // Every filter but the addressee's means the same in the search as in
        // the database; the search's addressee filter reads the name as
        // words, the database's as characters.
        let others = RecommendationFilter {
            addressee: None,
            ..filter.clone()
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, Box::new(AllQuery))];
        for f in self.filters(&others) {
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(f, 0.0))));
        }
        if let Some(a) = &filter.addressee {
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(self.addressee_like(searcher, a)?, 0.0)),
            ));
        }
        Ok(BooleanQuery::new(clauses))
    }

    /// Records with an addressee whose code is `text` (any case), or whose
    /// written name contains it (case-insensitively): the database's
    /// `org = UPPER(text) OR name_lower LIKE '%text%'`. The names are few
    /// beside the records, so each segment's list of them is read whole.
    fn addressee_like(&self, searcher: &Searcher, text: &str) -> Result<Box<dyn Query>> {
        let text = text.trim();
        let needle = text.to_lowercase();
        let field = self.fields.k_addressee_name;
        let mut names = BTreeSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut terms = inverted
                .terms()
                .stream()
                .map_err(|e| SearchError::Index(e.to_string()))?;
            while terms.advance() {
                if let Ok(name) = std::str::from_utf8(terms.key())
                    && name.contains(&needle)
                {
                    names.insert(name.to_string());
                }
            }
        }
        let code = Term::from_field_text(self.fields.k_addressee, &text.to_uppercase());
        let names = names
            .iter()
            .map(|n| Term::from_field_text(field, n))
            .collect::<Vec<_>>();
        Ok(Box::new(BooleanQuery::new(vec![
            (
                Occur::Should,
                Box::new(tantivy::query::TermQuery::new(
                    code,
                    IndexRecordOption::Basic,
                )),
            ),
            (Occur::Should, Box::new(TermSetQuery::new(names))),
        ])))
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn id(s: &str) -> RecommendationId {
        RecommendationId::parse(s).unwrap()
    }

    #[test]
    fn listing_keys_sort_as_the_database_lists_and_give_the_id_back() {
        let day = |s: &str| Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap());
        // The database's order: newest first, undated last, then issuer
        // (a code before a longer one it begins, digits before letters,
        // codes longer than the first column holds), year, number.
        let listed = [
            (id("ZZ-2020-0001"), Some(NaiveDate::MAX)),
            (id("ZZ-2020-0001"), day("2024-03-02")),
            (id("AB-2024-0009"), day("2024-03-01")),
            (id("AB1-2019-0001"), day("2024-03-01")),
            (id("ABCDEF-2019-0001"), day("2024-03-01")),
            (id("ABCDEF0-2019-0001"), day("2024-03-01")),
            (id("ABCDEFZZZZZZZZZZ-2019-0001"), day("2024-03-01")),
            (id("ABCDEG-2019-0001"), day("2024-03-01")),
            (id("AB-2019-0001"), day("1969-12-31")),
            (id("A1-2024-0001"), day("1900-01-01")),
            (id("A1-2024-0001"), Some(NaiveDate::MIN)),
            (id("A1-2024-0001"), None),
            (id("AB-2018-0002"), None),
            (id("AB-2018-0010"), None),
            (id("AB-2019-0001"), None),
            (id("AB-2019-4294967295"), None),
            (id("ABC-2001-0001"), None),
        ];
        let keys: Vec<schema::ListingKey> = listed
            .iter()
            .map(|(i, p)| schema::ListingKey::new(i, *p))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
        for ((i, _), k) in listed.iter().zip(&keys) {
            assert_eq!(k.id().as_ref(), Some(i));
        }
        let made = keys[4];
        // Characters after the end of the code, or a number too large to be
        // six or ten base-37 digits, are not a key this made.
        for bad in [
            schema::ListingKey { when: 0, ..made },
            schema::ListingKey {
                when: made.when | 0xFFFF_FFFF,
                ..made
            },
            schema::ListingKey {
                issuer: u64::MAX,
                ..made
            },
            schema::ListingKey {
                number: u64::MAX,
                ..made
            },
            // A code's first column ends before six characters: nothing follows.
            schema::ListingKey {
                issuer: keys[5].issuer,
                ..keys[3]
            },
        ] {
            assert_eq!(bad.id(), None, "{bad:?}");
        }
    }
}
