//! The register of ongoing work: bodies record their workstreams, find each
//! other's, and see at registration which existing workstreams and
//! recommendations overlap the new one.
//!
//! Who may do what (through [`Authorized`]): anyone reads public
//! workstreams; a workstream that is not public is seen only by its lead,
//! its partners and operators (to everyone else it does not exist: 404).
//! An organisation registers work only as its lead and edits only the work
//! it leads; operators do anything.
//!
//! Overlaps reuse the similarity engine (`concord_similar`): title, aim and
//! themes of the new work against (a) a small engine index built from the
//! workstreams the caller may see, and (b) the recommendations' engine index
//! the app already keeps (`similar_to_text`). Each match gets a score (the
//! engine's, plus what the two share: see
//! [`concord_domain::workstream::OVERLAP_WEIGHTS`]) and a reason: the words
//! in common and the shared themes, settings, bodies and recommendations.

use std::collections::{BTreeSet, HashMap};

use chrono::Datelike;
use concord_domain::workstream::{
    OVERLAP_WEIGHTS, Shared, WorkstreamId, apply_edit, from_input, overlap_score,
    shared_with_recommendation, shared_with_workstream,
};
use concord_domain::{FieldError, RecommendationId, StoredWorkstream, Workstream};
pub use concord_search::workstreams::{WorkstreamHit, WorkstreamQuery, WorkstreamResults};
use concord_similar::{Doc, Index, QueryOptions, Viewer};
use serde::Serialize;
use serde_json::Value;

use crate::access::Authorized;
use crate::error::{AppError, AppResult};
use crate::input::{NewWorkstream, WorkstreamEdit};
use crate::principal::Principal;
use crate::services::Services;

/// How many overlaps are shown at most.
pub const MAX_OVERLAPS: usize = 50;
/// The default number of overlaps shown.
pub const DEFAULT_OVERLAPS: usize = 10;

const DEMO_WORKSTREAMS: &str = include_str!("../demo/workstreams.json");

/// One existing piece of work that overlaps a workstream.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overlap {
    /// `workstream` or `recommendation`.
    pub kind: &'static str,
    pub id: String,
    pub title: String,
    /// For a workstream: its lead; for a recommendation: its issuer.
    pub body: String,
    /// 0 to 1: the engine's text score plus what the two share.
    pub score: f64,
    /// The engine's verdict on the texts (duplicate, supports, related,
    /// contradicts), or `shared_recommendation` when only the
    /// recommendations they answer join them.
    pub relation: String,
    /// One line a person can act on: the words in common and what is shared.
    pub reason: String,
    /// The words the texts have in common, weightiest first.
    pub words: Vec<String>,
    pub shared: Shared,
}

/// A registered workstream and what it overlaps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Registered {
    #[serde(flatten)]
    pub workstream: StoredWorkstream,
    pub overlaps: Vec<Overlap>,
}

/// Reads a workstream identifier as a caller wrote it (any case, spaces
/// around); anything else is bad input naming what was given.
pub fn parse_workstream_id(raw: &str) -> AppResult<WorkstreamId> {
    WorkstreamId::parse(raw).map_err(|e| AppError::BadInput(e.to_string()))
}

/// The quoted words of an engine reason (`shares "sepsis", "antibiotic"`).
fn quoted_words(reason: &str) -> Vec<String> {
    let body = reason.split("shares ").nth(1).unwrap_or("");
    let body = body.split(';').next().unwrap_or("");
    body.split('"')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn reason(words: &[String], shared: &Shared) -> String {
    let mut parts = Vec::new();
    if !words.is_empty() {
        let q: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
        parts.push(format!("words in common: {}", q.join(", ")));
    }
    let s = shared.describe();
    if !s.is_empty() {
        parts.push(s);
    }
    parts.join("; ")
}

fn doc_of<'a>(ws: &'a Workstream, text: &'a str) -> Doc<'a> {
    Doc {
        id: &ws.id,
        title: &ws.title,
        text,
        addressees: ws.bodies().map(|o| o.to_string()).collect(),
        settings: ws.settings.clone(),
        themes: ws.themes.clone(),
        draft_of: None,
    }
}

impl Authorized<'_> {
    fn can_see_ws(&self, ws: &Workstream) -> bool {
        let p = self.principal();
        ws.visible_to(p.org(), p.is_operator())
    }

    /// Every workstream this caller may see, by id.
    pub async fn visible_workstreams(&self) -> AppResult<Vec<StoredWorkstream>> {
        let all = self.services().store().workstreams().await?;
        Ok(all
            .into_iter()
            .filter(|w| self.can_see_ws(&w.workstream))
            .collect())
    }

    /// Searches and lists the workstreams this caller may see, with facets
    /// by lead, status, theme and setting.
    pub async fn workstreams(&self, query: &WorkstreamQuery) -> AppResult<WorkstreamResults> {
        if query.q.chars().count() > concord_search::query::MAX_QUERY_CHARS {
            return Err(AppError::BadInput(format!(
                "parameter q: is longer than {} characters",
                concord_search::query::MAX_QUERY_CHARS
            )));
        }
        let items = self.visible_workstreams().await?;
        Ok(concord_search::workstreams::search(items, query))
    }

    /// One workstream; one the caller may not see is "not found".
    pub async fn workstream(&self, id: &WorkstreamId) -> AppResult<StoredWorkstream> {
        let id = id.to_string();
        match self.services().store().get_workstream(&id).await? {
            Some(ws) if self.can_see_ws(&ws.workstream) => Ok(ws),
            _ => Err(AppError::NotFound(format!("workstream {id} was not found"))),
        }
    }

    /// A workstream's audit trail, oldest first (as visible as the workstream).
    pub async fn workstream_history(
        &self,
        id: &WorkstreamId,
    ) -> AppResult<Vec<concord_domain::AuditEvent>> {
        let ws = self.workstream(id).await?;
        Ok(self.services().store().history(&ws.workstream.id).await?)
    }

    /// Registration needs a token; an organisation registers only its own work.
    fn may_lead(&self, body: &Value) -> AppResult<()> {
        self.permit(crate::access::Action::RegisterWork, None)?;
        if let (Some(own), Some(given)) = (
            self.principal().org(),
            body.get("lead").and_then(Value::as_str),
        ) && !own.as_str().eq_ignore_ascii_case(given.trim())
        {
            return Err(AppError::Forbidden(format!(
                "{own} cannot register work led by {}",
                given.trim()
            )));
        }
        Ok(())
    }

    /// The lead and partners are registered organisations; the
    /// recommendations named are in the register (and visible to the caller).
    async fn check_references(&self, ws: &Workstream) -> AppResult<()> {
        let store = self.services().store();
        let known: BTreeSet<String> = store
            .organisations()
            .await?
            .into_iter()
            .map(|o| o.code.to_string())
            .collect();
        let mut errors = Vec::new();
        if !known.contains(ws.lead.as_str()) {
            errors.push(FieldError::new(
                "lead",
                format!("{} is not a registered organisation", ws.lead),
            ));
        }
        for (i, p) in ws.partners.iter().enumerate() {
            if !known.contains(p.as_str()) {
                errors.push(FieldError::new(
                    format!("partners[{i}]"),
                    format!("{p} is not a registered organisation (concord org add registers one)"),
                ));
            }
        }
        for (i, r) in ws.recommendations.iter().enumerate() {
            if self.recommendation(r).await.is_err() {
                errors.push(FieldError::new(
                    format!("recommendations[{i}]"),
                    format!("{r} is not in the register"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid_fields(errors))
        }
    }

    async fn prepare(&self, new: &NewWorkstream) -> AppResult<Workstream> {
        let body = Value::Object(new.fields.clone());
        self.may_lead(&body)?;
        let ws = from_input(&body, self.principal().org())?;
        self.check_references(&ws).await?;
        Ok(ws)
    }

    /// Registers one workstream and answers it with what it overlaps.
    pub async fn register_workstream(&self, new: &NewWorkstream) -> AppResult<Registered> {
        let mut done = self.register_workstreams(std::slice::from_ref(new)).await?;
        Ok(done.remove(0))
    }

    /// Registers several: every one is checked before any is stored, so a
    /// file with one bad workstream stores nothing.
    pub async fn register_workstreams(
        &self,
        bodies: &[NewWorkstream],
    ) -> AppResult<Vec<Registered>> {
        self.permit(crate::access::Action::Change, None)?;
        let mut ready = Vec::with_capacity(bodies.len());
        for (i, b) in bodies.iter().enumerate() {
            let ws = self.prepare(b).await.map_err(|e| {
                if bodies.len() == 1 {
                    return e;
                }
                let at = format!("workstream {} of {}: ", i + 1, bodies.len());
                match e {
                    AppError::Invalid(m) => AppError::invalid(format!("{at}{m}")),
                    AppError::Forbidden(m) => AppError::Forbidden(format!("{at}{m}")),
                    other => other,
                }
            })?;
            ready.push(ws);
        }
        let svc = self.services();
        let year = svc.clock().today().year().clamp(1900, 9999) as u16;
        let mut out = Vec::with_capacity(ready.len());
        for ws in ready {
            let stored = svc
                .store()
                .create_workstream(&self.principal().actor(), ws, year, svc.clock().now())
                .await?;
            let overlaps = self
                .overlaps_for(&stored.workstream, DEFAULT_OVERLAPS)
                .await?;
            out.push(Registered {
                workstream: stored,
                overlaps,
            });
        }
        Ok(out)
    }

    /// Edits a workstream: `version` (the version the caller last saw) and
    /// the fields to replace. Only its lead (or an operator).
    pub async fn edit_workstream(
        &self,
        id: &WorkstreamId,
        edit: WorkstreamEdit,
    ) -> AppResult<StoredWorkstream> {
        self.permit(crate::access::Action::RegisterWork, None)?;
        let current = self.workstream(id).await?;
        if let Principal::Organisation { org, .. } = self.principal()
            && *org != current.workstream.lead
        {
            return Err(AppError::Forbidden(format!(
                "{org} cannot change {}: it is led by {}",
                current.workstream.id, current.workstream.lead
            )));
        }
        let WorkstreamEdit { version, fields } = edit;
        let ws = apply_edit(&current.workstream, &Value::Object(fields))?;
        self.check_references(&ws).await?;
        let svc = self.services();
        Ok(svc
            .store()
            .update_workstream(
                &self.principal().actor(),
                &current.workstream.id,
                version,
                ws,
                svc.clock().now(),
            )
            .await?)
    }

    /// What a workstream would overlap, without registering it (anyone may
    /// ask; only what the caller may see is compared).
    pub async fn preview_overlaps(&self, body: &Value, limit: usize) -> AppResult<Vec<Overlap>> {
        let ws = from_input(body, None)?;
        self.overlaps_for(&ws, limit).await
    }

    /// What a registered workstream overlaps.
    pub async fn overlaps_of(&self, id: &WorkstreamId, limit: usize) -> AppResult<Vec<Overlap>> {
        let ws = self.workstream(id).await?;
        self.overlaps_for(&ws.workstream, limit).await
    }

    /// Existing workstreams and recommendations that overlap `ws`, best
    /// first (itself left out, and the recommendations it already names).
    pub async fn overlaps_for(&self, ws: &Workstream, limit: usize) -> AppResult<Vec<Overlap>> {
        let w = OVERLAP_WEIGHTS;
        let limit = limit.clamp(1, MAX_OVERLAPS);
        let text = ws.overlap_text();
        let mut out = Vec::new();

        // Workstream to workstream: an engine index of what the caller sees.
        let others: Vec<StoredWorkstream> = self
            .visible_workstreams()
            .await?
            .into_iter()
            .filter(|o| ws.id.is_empty() || o.workstream.id != ws.id)
            .collect();
        let texts: Vec<String> = others.iter().map(|o| o.workstream.overlap_text()).collect();
        let mut index = Index::new();
        for (o, t) in others.iter().zip(&texts) {
            index.upsert(&doc_of(&o.workstream, t));
        }
        let query = Doc {
            id: "",
            ..doc_of(ws, &text)
        };
        let by_text: HashMap<String, concord_similar::Match> = index
            .similar_to(
                &query,
                &QueryOptions {
                    limit: others.len().max(1),
                    viewer: Viewer::All,
                    exclude: None,
                },
            )
            .unwrap_or_default()
            .into_iter()
            .map(|m| (m.id.clone(), m))
            .collect();
        for o in &others {
            let shared = shared_with_workstream(ws, &o.workstream);
            let m = by_text.get(&o.workstream.id);
            let score = overlap_score(m.map(|m| m.score).unwrap_or(0.0), &shared, &w);
            let by_recs = !shared.recommendations.is_empty();
            if !(by_recs || (m.is_some() && score >= w.min_workstream)) {
                continue;
            }
            let words = m.map(|m| quoted_words(&m.reason)).unwrap_or_default();
            out.push(Overlap {
                kind: "workstream",
                id: o.workstream.id.clone(),
                title: o.workstream.title.clone(),
                body: o.workstream.lead.to_string(),
                score,
                relation: m
                    .map(|m| m.relation.to_string())
                    .unwrap_or_else(|| "shared_recommendation".into()),
                reason: reason(&words, &shared),
                words,
                shared,
            });
        }

        // Workstream to recommendation: the engine's index of the register.
        let full = format!("{}.\n{}", ws.title, text);
        let recs = match self.similar_to_text(&full, MAX_OVERLAPS).await {
            Ok(m) => m,
            Err(AppError::Invalid(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let store = self.services().store();
        for m in recs {
            let Ok(id) = RecommendationId::parse(&m.id) else {
                continue;
            };
            if ws.recommendations.contains(&id) {
                continue;
            }
            let Some(rec) = store.get(&id).await? else {
                continue;
            };
            let shared = shared_with_recommendation(ws, &rec);
            let score = overlap_score(m.score, &shared, &w);
            if score < w.min_recommendation {
                continue;
            }
            let words = quoted_words(&m.reason);
            out.push(Overlap {
                kind: "recommendation",
                id: m.id.clone(),
                title: rec.data.title.clone(),
                body: rec.data.issuer.to_string(),
                score,
                relation: m.relation.to_string(),
                reason: reason(&words, &shared),
                words,
                shared,
            });
        }
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.kind.cmp(b.kind))
                .then_with(|| a.id.cmp(&b.id))
        });
        out.truncate(limit);
        Ok(out)
    }
}

impl Services {
    /// The demo's workstreams (`demo/workstreams.json`, with fixed ids):
    /// those not yet present are added. Returns how many were added.
    pub(crate) async fn load_demo_workstreams(
        &self,
        actor: &concord_domain::Actor,
    ) -> AppResult<u64> {
        let raw: Vec<Value> = serde_json::from_str(DEMO_WORKSTREAMS)
            .map_err(|e| AppError::Internal(format!("built-in demo workstreams.json: {e}")))?;
        let mut added = 0;
        for (i, v) in raw.iter().enumerate() {
            let ws = from_input(v, None).map_err(|e| {
                AppError::Internal(format!("built-in demo workstreams.json, element {i}: {e}"))
            })?;
            if self.store().get_workstream(&ws.id).await?.is_some() {
                continue;
            }
            let year = WorkstreamId::parse(&ws.id)
                .map(|id| id.year)
                .map_err(|e| AppError::Internal(format!("demo workstream {i}: {e}")))?;
            self.store()
                .create_workstream(actor, ws, year, self.clock().now())
                .await?;
            added += 1;
        }
        Ok(added)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_come_from_the_engine_reason() {
        assert_eq!(
            quoted_words("same subject: shares \"sepsis\", \"antibiotic\"; same figure \"1 hour\""),
            vec!["sepsis", "antibiotic"]
        );
        assert!(quoted_words("nothing").is_empty());
    }

    #[test]
    fn demo_workstreams_read() {
        let raw: Vec<Value> = serde_json::from_str(DEMO_WORKSTREAMS).unwrap();
        assert!(raw.len() >= 5);
        for v in &raw {
            let ws = from_input(v, None).unwrap();
            assert!(WorkstreamId::parse(&ws.id).is_ok(), "{}", ws.id);
        }
    }
}
