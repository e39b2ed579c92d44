//! Oversight of what the similarity engine suspects: every suspected
//! contradiction in the corpus, decisions on the engine's pairs (stored as
//! confirmed or dismissed links, so a dismissal is remembered), and what
//! other bodies said about one recommendation ("also said by",
//! "contradicted by").
//!
//! Stored links and the engine's matches are combined: a link a person
//! dismissed, in either direction, hides the pair everywhere; a confirmed
//! link is marked confirmed; the engine's pairs stay marked `suggested`
//! until a person decides.
//!
//! Who decides: the issuer of the record the decision is stored on (the
//! `from` side) or an operator, exactly as for any other link. A later
//! issue adds an oversight role.

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use concord_domain::{Link, LinkKind, LinkState, Recommendation, RecommendationId};
use concord_similar::Relation;
use serde::Serialize;

use crate::access::Authorized;
use crate::error::{AppError, AppResult};
use crate::principal::viewer;

/// One suspected contradiction: two records, the engine's score and
/// reason (None when only a person's link says so), and whether a person
/// confirmed it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspectedPair {
    pub ids: [String; 2],
    pub score: Option<f64>,
    pub reason: String,
    /// `suggested` (the engine's, or a link nobody confirmed) or `confirmed`.
    pub state: LinkState,
}

/// What others say about one recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedItem {
    pub id: String,
    pub issuer: String,
    pub title: String,
    /// duplicates, supports, contradicts, related, builds_on or supersedes.
    pub kind: LinkKind,
    /// The engine's score (None when the engine finds nothing and a stored
    /// link alone relates them).
    pub score: Option<f64>,
    pub reason: String,
    /// `confirmed` by a person, or `suggested` (by the engine or a mention).
    pub state: LinkState,
}

/// A recommendation's "also said by", "contradicted by" and other related
/// records, best first within each list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RelatedView {
    pub id: String,
    /// Duplicates and supporting records from other issuers.
    pub also_said_by: Vec<RelatedItem>,
    pub contradicted_by: Vec<RelatedItem>,
    /// Everything else: related, builds on, supersedes, and duplicates or
    /// support from the same issuer.
    pub related: Vec<RelatedItem>,
}

/// Engine matches shown beside the stored links on a record.
const RELATED_MATCHES: usize = 10;

fn kind_of(relation: &str) -> LinkKind {
    match relation {
        "duplicate" => LinkKind::Duplicates,
        "supports" => LinkKind::Supports,
        "contradicts" => LinkKind::Contradicts,
        _ => LinkKind::Related,
    }
}

fn kind_of_relation(r: Relation) -> LinkKind {
    kind_of(r.as_str())
}

fn who(asserted_by: &Option<String>, state: LinkState) -> String {
    match (asserted_by, state) {
        (Some(w), LinkState::Confirmed) => format!("confirmed by {w}"),
        (None, _) => "named in the text".to_string(),
        (Some(w), _) => format!("asserted by {w}"),
    }
}

impl Authorized<'_> {
    /// Every suspected contradiction the caller may see: the engine's pairs
    /// and the stored `contradicts` links between records, strongest first.
    /// A pair with a dismissed link between them (either way) is left out;
    /// a confirmed `contradicts` link marks it confirmed.
    pub async fn contradictions(&self) -> AppResult<Vec<SuspectedPair>> {
        let swept = self.services().corpus_lists().await?;
        let st = self.services().similar_ready().await?;
        let v = viewer(self.principal());
        let found = swept
            .contradictions
            .iter()
            .filter(|p| p.ids.iter().all(|id| st.index.visible_to(id, &v)))
            .cloned();
        let mut seen: HashSet<[String; 2]> = HashSet::new();
        let mut out: Vec<SuspectedPair> = Vec::new();
        let confirmed = |a: &str, b: &str| {
            st.links
                .between(a, b)
                .any(|(_, e)| e.kind == LinkKind::Contradicts && e.state == LinkState::Confirmed)
        };
        for p in found {
            let [a, b] = &p.ids;
            if st.links.dismissed(a, b) {
                continue;
            }
            let state = if confirmed(a, b) {
                LinkState::Confirmed
            } else {
                LinkState::Suggested
            };
            seen.insert(p.ids.clone());
            out.push(SuspectedPair {
                ids: p.ids,
                score: Some(p.score),
                reason: p.reason,
                state,
            });
        }
        // Stored links the engine did not find (a person's judgement, or a
        // mention), checked for visibility below.
        let mut extra: Vec<SuspectedPair> = Vec::new();
        for (from, e) in st.links.of_kind(LinkKind::Contradicts) {
            if e.state == LinkState::Dismissed || RecommendationId::parse(&e.target).is_err() {
                continue;
            }
            let mut ids = [from.to_string(), e.target.clone()];
            ids.sort();
            if seen.contains(&ids) || st.links.dismissed(&ids[0], &ids[1]) {
                continue;
            }
            seen.insert(ids.clone());
            let score = st
                .index
                .relation(&ids[0], &ids[1])
                .flatten()
                .map(|(s, _, _)| (s * 1000.0).round() / 1000.0);
            let state = if confirmed(&ids[0], &ids[1]) {
                LinkState::Confirmed
            } else {
                LinkState::Suggested
            };
            let asserted = st
                .links
                .between(&ids[0], &ids[1])
                .find(|(_, x)| x.kind == LinkKind::Contradicts)
                .map(|(_, x)| who(&x.asserted_by, x.state))
                .unwrap_or_default();
            extra.push(SuspectedPair {
                ids,
                score,
                reason: format!("a contradicts link, {asserted}"),
                state,
            });
        }
        drop(st);
        for p in extra {
            let mut visible = true;
            for id in &p.ids {
                let Ok(rid) = RecommendationId::parse(id) else {
                    visible = false;
                    break;
                };
                if self.recommendation(&rid).await.is_err() {
                    visible = false;
                    break;
                }
            }
            if visible {
                out.push(p);
            }
        }
        out.sort_by(|x, y| {
            y.score
                .unwrap_or(0.0)
                .total_cmp(&x.score.unwrap_or(0.0))
                .then(x.ids.cmp(&y.ids))
        });
        Ok(out)
    }

    /// A person's decision on a pair the engine suggests (or a suggested
    /// link already stored either way): stored on `id` as a link of the
    /// engine's kind (duplicates, supports, contradicts, related) with state
    /// `confirmed` or `dismissed`. A dismissed pair never comes back in the
    /// lists. Only `id`'s issuer or an operator (401, 404, 403 first); a
    /// target that is not a Concord id is 422, an unknown one 404, and a
    /// pair the engine finds unrelated with no link stored is 404.
    pub async fn decide_pair(
        &self,
        id: &RecommendationId,
        target: &str,
        state: LinkState,
    ) -> AppResult<Recommendation> {
        let current = self.writable(id).await?;
        if state == LinkState::Suggested {
            return Err(AppError::invalid_field(
                "state",
                "must be confirmed or dismissed",
            ));
        }
        let tid = RecommendationId::parse(target)
            .map_err(|e| AppError::invalid_field("target", e.to_string()))?;
        if &tid == id {
            return Err(AppError::invalid_field(
                "target",
                "a recommendation is not paired with itself",
            ));
        }
        self.recommendation(&tid).await.map_err(|e| match e {
            AppError::NotFound(_) => {
                AppError::NotFound(format!("target recommendation {tid} was not found"))
            }
            other => other,
        })?;
        let (a, b) = (id.to_string(), tid.to_string());
        let kind = {
            let st = self.services().similar_ready().await?;
            let stored = current
                .data
                .links
                .iter()
                .find(|l| l.target.eq_ignore_ascii_case(&b))
                .map(|l| l.kind)
                .or_else(|| st.links.between(&a, &b).map(|(_, e)| e.kind).next());
            match stored {
                Some(k) => k,
                None => match st.index.relation(&a, &b).flatten() {
                    Some((_, rel, _)) => kind_of_relation(rel),
                    None => {
                        return Err(AppError::NotFound(format!(
                            "no suggested pair {a} - {b}: the similarity engine finds them \
                             unrelated and no link joins them (to assert one, POST \
                             /api/v1/recommendations/{a}/links or concord link add)"
                        )));
                    }
                },
            }
        };
        self.change_links(current, |links, who| {
            let link = Link {
                kind,
                target: b.clone(),
                state,
                asserted_by: Some(who.to_string()),
                asserted_at: Some(Utc::now()),
            };
            match links.iter_mut().find(|l| l.target.eq_ignore_ascii_case(&b)) {
                Some(l) => *l = link,
                None => links.push(link),
            }
            Ok(())
        })
        .await
    }

    /// What others say about a recommendation: stored links either way and
    /// the engine's matches, combined (a person's decision wins over the
    /// engine; dismissed pairs are never shown).
    pub async fn related(&self, id: &RecommendationId) -> AppResult<RelatedView> {
        let rec = self.recommendation(id).await?;
        let own = rec.id.to_string();
        let matches = self.similar_to_record(id, RELATED_MATCHES).await?;
        // other id -> (kind, score, reason, state)
        let mut found: BTreeMap<String, (LinkKind, Option<f64>, String, LinkState)> =
            BTreeMap::new();
        {
            let st = self.services().similar_ready().await?;
            let mut stored: Vec<(String, LinkKind, LinkState, String)> = Vec::new();
            for l in &rec.data.links {
                stored.push((
                    l.target.to_ascii_uppercase(),
                    l.kind,
                    l.state,
                    who(&l.asserted_by, l.state),
                ));
            }
            for (from, e) in st.links.incoming(&own) {
                stored.push((
                    from.to_string(),
                    e.kind,
                    e.state,
                    who(&e.asserted_by, e.state),
                ));
            }
            // Dismissed either way: never shown.
            let dismissed: HashSet<String> = stored
                .iter()
                .filter(|s| s.2 == LinkState::Dismissed)
                .map(|s| s.0.clone())
                .collect();
            for m in matches {
                if dismissed.contains(&m.id) || st.links.dismissed(&own, &m.id) {
                    continue;
                }
                found.insert(
                    m.id.clone(),
                    (
                        kind_of(m.relation),
                        Some(m.score),
                        m.reason,
                        LinkState::Suggested,
                    ),
                );
            }
            for (other, kind, state, how) in stored {
                if state == LinkState::Dismissed
                    || dismissed.contains(&other)
                    || RecommendationId::parse(&other).is_err()
                {
                    continue;
                }
                let engine = found.get(&other).cloned();
                let entry = found.entry(other.clone()).or_insert_with(|| {
                    let score = st
                        .index
                        .relation(&own, &other)
                        .flatten()
                        .map(|(s, _, _)| (s * 1000.0).round() / 1000.0);
                    (kind, score, String::new(), state)
                });
                // A person's link decides the kind; the engine's reason stays.
                let confirmed_before = entry.3 == LinkState::Confirmed;
                if !confirmed_before || state == LinkState::Confirmed {
                    entry.0 = kind;
                    entry.3 = if confirmed_before { entry.3 } else { state };
                }
                entry.2 = match engine {
                    Some((_, _, reason, _)) if !reason.is_empty() => format!("{reason}; {how}"),
                    _ => format!("a {} link, {how}", kind.as_str()),
                };
            }
        }
        let mut view = RelatedView {
            id: own.clone(),
            also_said_by: Vec::new(),
            contradicted_by: Vec::new(),
            related: Vec::new(),
        };
        for (other, (kind, score, reason, state)) in found {
            let Ok(oid) = RecommendationId::parse(&other) else {
                continue;
            };
            // Only what the caller may see (drafts stay with their issuer).
            let Ok(o) = self.recommendation(&oid).await else {
                continue;
            };
            let item = RelatedItem {
                id: o.id.to_string(),
                issuer: o.data.issuer.to_string(),
                title: o.data.title.clone(),
                kind,
                score,
                reason,
                state,
            };
            let other_issuer = o.data.issuer != rec.data.issuer;
            match kind {
                LinkKind::Contradicts => view.contradicted_by.push(item),
                LinkKind::Duplicates | LinkKind::Supports if other_issuer => {
                    view.also_said_by.push(item)
                }
                _ => view.related.push(item),
            }
        }
        for list in [
            &mut view.also_said_by,
            &mut view.contradicted_by,
            &mut view.related,
        ] {
            list.sort_by(|x, y| {
                (y.state == LinkState::Confirmed)
                    .cmp(&(x.state == LinkState::Confirmed))
                    .then(y.score.unwrap_or(0.0).total_cmp(&x.score.unwrap_or(0.0)))
                    .then(x.id.cmp(&y.id))
            });
        }
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::derived::links::{LinkBook, split_dismissed};
    use concord_similar::Group;

    fn group(ids: &[&str]) -> Group {
        Group {
            ids: ids.iter().map(|s| s.to_string()).collect(),
            score: 0.9,
        }
    }

    fn rec(id: &str, links: serde_json::Value) -> Recommendation {
        serde_json::from_value(serde_json::json!({
            "id": id, "version": 1, "kind": "recommendation", "issuer": &id[..id.find('-').unwrap()],
            "title": "t", "text": "x", "status": "published", "links": links,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"
        }))
        .expect("a record")
    }

    #[test]
    fn dismissed_pairs_split_groups_and_are_remembered_either_way() {
        let mut book = LinkBook::default();
        book.set(&rec(
            "CQC-2024-0001",
            serde_json::json!([{"kind": "duplicates", "target": "NICE-2024-0001",
                "state": "dismissed", "asserted_by": "CQC (t)"}]),
        ));
        assert!(book.dismissed("NICE-2024-0001", "CQC-2024-0001"));
        let g = split_dismissed(
            vec![group(&[
                "CQC-2024-0001",
                "NICE-2024-0001",
                "NHSE-2024-0001",
            ])],
            &book,
        );
        assert_eq!(g, vec![group(&["CQC-2024-0001", "NHSE-2024-0001"])]);
        // Removing the record forgets its links.
        book.remove("CQC-2024-0001");
        assert!(!book.dismissed("NICE-2024-0001", "CQC-2024-0001"));
        assert_eq!(book.incoming("NICE-2024-0001").count(), 0);
    }
}
