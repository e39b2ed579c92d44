//! Every stored link between records, both ways, kept in step with the
//! similarity index (read by `crate::oversight` and `crate::similar`).

use std::collections::{HashMap, HashSet};

use concord_domain::{LinkKind, LinkState, Recommendation};
use concord_similar::Group;

/// One stored link, as the book keeps it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Entry {
    pub(crate) target: String,
    pub(crate) kind: LinkKind,
    pub(crate) state: LinkState,
    pub(crate) asserted_by: Option<String>,
}

/// Every stored link between records, both ways, kept in step with the
/// similarity index (derived data: rebuilt with it).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct LinkBook {
    pub(crate) out: HashMap<String, Vec<Entry>>,
    pub(crate) inc: HashMap<String, HashSet<String>>,
}

impl LinkBook {
    /// Replaces what the book holds for this record.
    pub(crate) fn set(&mut self, rec: &Recommendation) {
        let id = rec.id.to_string();
        self.remove(&id);
        if rec.data.links.is_empty() {
            return;
        }
        let entries: Vec<Entry> = rec
            .data
            .links
            .iter()
            .map(|l| Entry {
                target: l.target.to_ascii_uppercase(),
                kind: l.kind,
                state: l.state,
                asserted_by: l.asserted_by.clone(),
            })
            .collect();
        for e in &entries {
            self.inc
                .entry(e.target.clone())
                .or_default()
                .insert(id.clone());
        }
        self.out.insert(id, entries);
    }

    pub(crate) fn remove(&mut self, id: &str) {
        if let Some(old) = self.out.remove(id) {
            for e in old {
                if let Some(set) = self.inc.get_mut(&e.target) {
                    set.remove(id);
                    if set.is_empty() {
                        self.inc.remove(&e.target);
                    }
                }
            }
        }
    }

    /// The stored links between two records, either way, as (from, entry).
    pub(crate) fn between<'a>(
        &'a self,
        a: &'a str,
        b: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Entry)> {
        let one = |from: &'a str, to: &'a str| {
            self.out
                .get(from)
                .into_iter()
                .flatten()
                .filter(move |e| e.target.eq_ignore_ascii_case(to))
                .map(move |e| (from, e))
        };
        one(a, b).chain(one(b, a))
    }

    /// Whether a person dismissed a link between the two, either way.
    pub(crate) fn dismissed(&self, a: &str, b: &str) -> bool {
        self.between(a, b)
            .any(|(_, e)| e.state == LinkState::Dismissed)
    }

    /// Every link of a kind, as (from, entry).
    pub(crate) fn of_kind(&self, kind: LinkKind) -> impl Iterator<Item = (&str, &Entry)> {
        self.out
            .iter()
            .flat_map(|(from, v)| v.iter().map(move |e| (from.as_str(), e)))
            .filter(move |(_, e)| e.kind == kind)
    }

    /// Links that point at a record, as (from, entry).
    pub(crate) fn incoming<'a>(
        &'a self,
        id: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Entry)> {
        self.inc
            .get(&id.to_ascii_uppercase())
            .into_iter()
            .flatten()
            .flat_map(move |from| {
                self.out
                    .get(from)
                    .into_iter()
                    .flatten()
                    .filter(move |e| e.target.eq_ignore_ascii_case(id))
                    .map(move |e| (from.as_str(), e))
            })
    }
}

/// Splits the engine's groups where a person dismissed a pair: a member
/// stays with the first members it was not dismissed against; the rest
/// form groups of their own (a group needs two members).
pub(crate) fn split_dismissed(groups: Vec<Group>, book: &LinkBook) -> Vec<Group> {
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let mut rest = g.ids;
        while rest.len() >= 2 {
            let mut kept: Vec<String> = Vec::new();
            let mut left: Vec<String> = Vec::new();
            for id in rest {
                if kept.iter().all(|k| !book.dismissed(k, &id)) {
                    kept.push(id);
                } else {
                    left.push(id);
                }
            }
            if kept.len() >= 2 {
                out.push(Group {
                    ids: kept,
                    score: g.score,
                });
            }
            rest = left;
        }
    }
    out
}
