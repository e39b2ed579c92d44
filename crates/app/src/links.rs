//! Typed links between recommendations: id mentions in a text become
//! suggested links automatically (at import and on edit), and the issuer
//! confirms, dismisses or asserts links. A dismissed link stays stored with
//! state `dismissed`, so the engine never suggests it again.

use chrono::Utc;
use concord_domain::{
    IdRequest, Link, LinkKind, LinkState, RecommendationData, RecommendationId, Reference,
    find_references,
};

use crate::access::{Action, Authorized};
use crate::error::{AppError, AppResult};
use concord_domain::Recommendation;

/// The canonical target of a reference: a Concord id (PFD numbers map to
/// `PFD-YYYY-NNNN`) or an external reference as written canonically.
pub(crate) fn target_of(r: &Reference) -> String {
    match r.concord_id() {
        Some(id) => id.to_string(),
        None => r.to_string(),
    }
}

/// The id a new record asks for, when it names one.
pub(crate) fn requested_id(req: &IdRequest) -> Option<&RecommendationId> {
    match req {
        IdRequest::Exact(id) => Some(id),
        IdRequest::Preferred { id, .. } => Some(id),
        IdRequest::Allocate { .. } => None,
    }
}

/// The kind a mention implies, from the words just before it.
fn kind_before(text: &str, prev_end: usize, start: usize) -> LinkKind {
    let mut from = start.saturating_sub(60).max(prev_end);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let mut before = text[from..start].to_lowercase();
    // Only the words of the same sentence count.
    if let Some(p) = before.rfind(['.', ';', '!', '?']) {
        before = before[p + 1..].to_string();
    }
    if before.contains("supersed") || before.contains("replaces") || before.contains("updates") {
        LinkKind::Supersedes
    } else if before.contains("builds on") || before.contains("building on") {
        LinkKind::BuildsOn
    } else if before.contains("supports") || before.contains("endorses") {
        LinkKind::Supports
    } else {
        LinkKind::Related
    }
}

/// Adds a suggested link (asserted by the engine: `asserted_by` None) for
/// every id mentioned in the text that is not the record itself and has no
/// link yet, in any state: a dismissed link is never suggested again.
/// Returns how many were added.
pub(crate) fn add_mentioned(
    own: Option<&RecommendationId>,
    data: &mut RecommendationData,
) -> usize {
    let own = own.map(|i| i.to_string());
    let mut added = 0;
    let mut prev_end = 0;
    for f in find_references(&data.text) {
        let kind = kind_before(&data.text, prev_end, f.start);
        prev_end = f.end;
        let target = target_of(&f.reference);
        if own.as_deref() == Some(target.as_str())
            || data
                .links
                .iter()
                .any(|l| l.target.eq_ignore_ascii_case(&target))
        {
            continue;
        }
        data.links.push(Link {
            kind,
            target,
            state: LinkState::Suggested,
            asserted_by: None,
            // The engine's suggestion dates from the version that made it
            // (see the audit trail); left empty so that importing the same
            // file twice yields the same record.
            asserted_at: None,
        });
        added += 1;
    }
    added
}

/// Links written in a record's body (on create, or an edit that sends the
/// whole list) are the caller's suggestions: any link not stored before in
/// exactly this form starts `suggested`, asserted by `who`, whatever state
/// and asserter the body claims. Confirming and dismissing are decisions of
/// their own ([`Authorized::assert_link`], [`Authorized::set_link_state`]),
/// so a decided link the body leaves out is kept.
pub(crate) fn as_suggestions(current: &[Link], given: Vec<Link>, who: &str) -> Vec<Link> {
    let mut out: Vec<Link> = given
        .into_iter()
        .map(|l| {
            if current.contains(&l) {
                l
            } else {
                Link {
                    kind: l.kind,
                    target: l.target,
                    state: LinkState::Suggested,
                    asserted_by: Some(who.to_string()),
                    asserted_at: None,
                }
            }
        })
        .collect();
    for kept in current {
        if kept.state != LinkState::Suggested
            && !out
                .iter()
                .any(|l| l.target.eq_ignore_ascii_case(&kept.target))
        {
            out.push(kept.clone());
        }
    }
    out
}

fn parse_target(target: &str) -> AppResult<String> {
    Reference::parse(target)
        .map(|r| target_of(&r))
        .map_err(|e| AppError::invalid_field("target", e.to_string()))
}

impl Authorized<'_> {
    /// Asserts a link from a recommendation (confirmed, by the caller): only
    /// its issuer's organisation or an operator. An existing link to the same
    /// target takes the new kind and is confirmed. A Concord id as target
    /// must name a recommendation the caller can see; an external reference
    /// (an NTSB number) is taken as written.
    pub async fn assert_link(
        &self,
        id: &RecommendationId,
        kind: LinkKind,
        target: &str,
    ) -> AppResult<Recommendation> {
        let current = self.writable(id).await?;
        let reference = Reference::parse(target)
            .map_err(|e| AppError::invalid_field("target", e.to_string()))?;
        let target = target_of(&reference);
        if target == id.to_string() {
            return Err(AppError::invalid_field(
                "target",
                "a recommendation cannot link to itself",
            ));
        }
        if let Some(tid) = reference.concord_id()
            && self.recommendation(&tid).await.is_err()
        {
            return Err(AppError::NotFound(format!(
                "target recommendation {tid} was not found"
            )));
        }
        self.change_links(current, |links, who| {
            let link = Link {
                kind,
                target: target.clone(),
                state: LinkState::Confirmed,
                asserted_by: Some(who.to_string()),
                asserted_at: Some(Utc::now()),
            };
            match links
                .iter_mut()
                .find(|l| l.target.eq_ignore_ascii_case(&target))
            {
                Some(l) => *l = link,
                None => links.push(link),
            }
            Ok(())
        })
        .await
    }

    /// Confirms or dismisses a link (suggested or not). A dismissed link is
    /// kept, so that it is never suggested again.
    pub async fn set_link_state(
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
        let target = parse_target(target)?;
        self.change_links(current, |links, who| {
            let l = links
                .iter_mut()
                .find(|l| l.target.eq_ignore_ascii_case(&target))
                .ok_or_else(|| {
                    AppError::NotFound(format!("recommendation {id} has no link to {target}"))
                })?;
            l.state = state;
            l.asserted_by = Some(who.to_string());
            l.asserted_at = Some(Utc::now());
            Ok(())
        })
        .await
    }

    /// Who a link says asserted it: the organisation and the token or
    /// person acting for it.
    pub(crate) fn asserter(&self) -> String {
        let who = self.principal().actor();
        match &who.org {
            Some(org) => format!("{org} ({})", who.label),
            None => who.label.clone(),
        }
    }

    /// Rewrites the `links` of a body a caller sent (see [`as_suggestions`]);
    /// a list that does not parse is left for validation to report.
    pub(crate) fn links_from_body(
        &self,
        current: &[Link],
        fields: &mut serde_json::Map<String, serde_json::Value>,
    ) {
        let Some(links) = fields.get_mut("links") else {
            return;
        };
        if let Ok(given) = serde_json::from_value::<Vec<Link>>(links.clone())
            && let Ok(v) = serde_json::to_value(as_suggestions(current, given, &self.asserter()))
        {
            *links = v;
        }
    }

    /// Whether the caller may change this record's links: `Ok` or the
    /// refusal the change itself would meet (401, 404, 403), so that a
    /// caller reading a request can answer those before a bad field.
    pub async fn may_change_links(&self, id: &RecommendationId) -> AppResult<()> {
        self.writable(id).await.map(|_| ())
    }

    /// The current version of a record the caller may change: anonymous
    /// callers are refused first (401), then an unknown record (404), then
    /// another organisation's (403).
    pub(crate) async fn writable(&self, id: &RecommendationId) -> AppResult<Recommendation> {
        self.permit(Action::Change, None)?;
        let current = self.recommendation(id).await?;
        self.permit(Action::DecideLinks, Some(&current.data.issuer))?;
        Ok(current)
    }

    /// Edits the links of the version read through the normal update path
    /// (access control, audit trail, outbox, optimistic version).
    pub(crate) async fn change_links(
        &self,
        current: Recommendation,
        change: impl FnOnce(&mut Vec<Link>, &str) -> AppResult<()>,
    ) -> AppResult<Recommendation> {
        let who = self.asserter();
        let mut links = current.data.links.clone();
        change(&mut links, &who)?;
        let mut fields = crate::input::Fields::new();
        fields.insert(
            "links".into(),
            serde_json::to_value(&links).map_err(|e| AppError::Internal(e.to_string()))?,
        );
        let edit = crate::input::RecordEdit {
            version: current.version,
            fields,
            override_gate: None,
        };
        self.edit_with(&current.id, edit, false).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(text: &str) -> RecommendationData {
        serde_json::from_value(serde_json::json!({
            "kind": "recommendation", "issuer": "HSSIB", "title": "t", "text": text,
            "status": "draft"
        }))
        .expect("data")
    }

    #[test]
    fn mentions_become_suggested_links_once() {
        let own = RecommendationId::parse("HSSIB-2024-0001").unwrap();
        let mut d = data(
            "This builds on NHSE-2023-0002 and supersedes HSSIB-2020-0001. See PFD \
             2024-0079 and NTSB A-19-001; this is HSSIB-2024-0001.",
        );
        assert_eq!(add_mentioned(Some(&own), &mut d), 4);
        let got: Vec<(String, LinkKind)> =
            d.links.iter().map(|l| (l.target.clone(), l.kind)).collect();
        assert_eq!(
            got,
            vec![
                ("NHSE-2023-0002".into(), LinkKind::BuildsOn),
                ("HSSIB-2020-0001".into(), LinkKind::Supersedes),
                ("PFD-2024-0079".into(), LinkKind::Related),
                ("A-19-001".into(), LinkKind::Related),
            ]
        );
        assert!(
            d.links
                .iter()
                .all(|l| l.state == LinkState::Suggested && l.asserted_by.is_none())
        );
        // Again: nothing new; a dismissed link is not suggested again.
        d.links[0].state = LinkState::Dismissed;
        assert_eq!(add_mentioned(Some(&own), &mut d), 0);
        assert_eq!(d.links[0].state, LinkState::Dismissed);
    }

    #[test]
    fn odd_texts_do_not_panic() {
        for t in ["", "é2024-0079", "2024-", "ü-19-001 A-19-", "—2019 – 0301—"] {
            let mut d = data(t);
            let _ = add_mentioned(None, &mut d);
        }
    }
}
