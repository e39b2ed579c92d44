//! What the public feeds say: which changes to a recommendation become feed
//! entries, and the plain-English title of each.
//!
//! The input is one audited change (the record before and after it); the
//! output is zero or more entries:
//!
//! - **published**: the record was created or imported as published, or a
//!   draft became published;
//! - **response**: a response appeared (a `respond` move, an edit, an import
//!   or attached replies);
//! - **status**: any other change in an addressee's part of the lifecycle
//!   (assessment, closure, dormancy, reopening, verification, escalation,
//!   progress, actions, reassessment) or in the record's own status.
//!
//! Drafts never appear: a change that leaves the record a draft makes no
//! entry, and a draft's history before its publication is not told. Edits of
//! wording, links or tags make no entry either.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::{Addressee, AddresseeStatus, Lifecycle, Recommendation, Response};

/// The longest title or summary text quoted in an entry, in characters.
const MAX_TITLE_CHARS: usize = 160;
const MAX_SUMMARY_CHARS: usize = 1000;

/// One audited change to a recommendation, as the feeds read it. `before`
/// is None for a creation or import.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub action: String,
    pub before: Option<Recommendation>,
    pub after: Recommendation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Published,
    Response,
    Status,
    /// A place in a provider's priority list (not an event).
    Priority,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Published => "published",
            EntryKind::Response => "response",
            EntryKind::Status => "status",
            EntryKind::Priority => "priority",
        }
    }
}

/// One entry of a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEntry {
    /// The audit event it came from, and its place among that event's entries.
    pub seq: i64,
    pub part: usize,
    pub at: DateTime<Utc>,
    pub kind: EntryKind,
    pub rec_id: String,
    pub title: String,
    /// Who did it: an organisation's name (or code), or an addressee as written.
    pub author: String,
    /// Plain text; may be empty.
    pub summary: String,
    /// The date the thing happened in the world, when known (a publication
    /// date, a response's received date).
    pub happened_on: Option<NaiveDate>,
    /// For an entry that is a place in a list rather than an event: the
    /// organisation whose priority list it belongs to.
    pub list_of: Option<String>,
}

impl FeedEntry {
    /// A stable identifier (RFC 4151 tag URI): the same entry always has the
    /// same id, whichever feed shows it.
    pub fn tag_uri(&self) -> String {
        match &self.list_of {
            Some(org) => format!(
                "tag:concord,2025:organisations/{org}/priorities/{}",
                self.rec_id
            ),
            None => format!(
                "tag:concord,2025:recommendations/{}/events/{}/{}",
                self.rec_id, self.seq, self.part
            ),
        }
    }
}

/// `awaiting_response` reads as `awaiting response`.
fn words(s: &str) -> String {
    s.replace('_', " ")
}

/// At most `max` characters, with an ellipsis when cut.
pub fn clip(s: &str, max: usize) -> String {
    let s = s.trim();
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
    }
}

/// The organisation codes' names, for authors.
pub type OrgNames = HashMap<String, String>;

fn org_name(names: &OrgNames, code: &str) -> String {
    names.get(code).cloned().unwrap_or_else(|| code.to_string())
}

fn addressee_label(a: &Addressee) -> String {
    let name = a.name.trim();
    if !name.is_empty() {
        name.to_string()
    } else if let Some(org) = &a.org {
        org.to_string()
    } else {
        "an addressee".to_string()
    }
}

/// The addressee in `before` that `a` (at `index` in `after`) continues:
/// the same position with the same name, else the first of the same name.
fn matching<'b>(before: &'b [Addressee], index: usize, a: &Addressee) -> Option<&'b Addressee> {
    // An organisation is the addressee whatever it is called (an issuer
    // may rename it; its answers stay its own); without one, the name.
    let same = |b: &Addressee| match (&a.org, &b.org) {
        (Some(x), Some(y)) => x == y,
        _ => b.name.trim().eq_ignore_ascii_case(a.name.trim()),
    };
    before
        .get(index)
        .filter(|b| same(b))
        .or_else(|| before.iter().find(|b| same(b)))
}

struct Builder<'a> {
    ev: &'a FeedEvent,
    names: &'a OrgNames,
    out: Vec<FeedEntry>,
}

impl Builder<'_> {
    fn push(
        &mut self,
        kind: EntryKind,
        title: String,
        author: String,
        summary: String,
        happened_on: Option<NaiveDate>,
    ) {
        let part = self.out.len();
        self.out.push(FeedEntry {
            seq: self.ev.seq,
            part,
            at: self.ev.at,
            kind,
            rec_id: self.ev.after.id.to_string(),
            title,
            author,
            summary: clip(&summary, MAX_SUMMARY_CHARS),
            happened_on,
            list_of: None,
        });
    }

    fn issuer(&self) -> String {
        self.ev.after.data.issuer.to_string()
    }

    fn issuer_name(&self) -> String {
        org_name(self.names, self.ev.after.data.issuer.as_str())
    }

    fn response(&mut self, a: &Addressee, r: &Response) {
        let id = &self.ev.after.id;
        let who = r
            .respondent
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| clip(s, 80))
            .unwrap_or_else(|| addressee_label(a));
        let title = match r.acceptance {
            Some(acc) => format!("{who} responded to {id}: {}", words(acc.as_str())),
            None => format!("{who} responded to {id}"),
        };
        let mut summary = r.text.clone().unwrap_or_default();
        if let Some(reasons) = r.reasons.as_deref().filter(|s| !s.trim().is_empty()) {
            if !summary.is_empty() {
                summary.push_str("\n\n");
            }
            summary.push_str("Reasons: ");
            summary.push_str(reasons.trim());
        }
        if summary.trim().is_empty() {
            summary = match r.received {
                Some(d) => format!("Response received {}.", d.format("%-d %B %Y")),
                None => "Response received (date not given).".to_string(),
            };
        }
        self.push(EntryKind::Response, title, who, summary, r.received);
    }

    /// The one lifecycle entry for an addressee whose part changed (the
    /// most significant change when one edit made several). `answered`: a
    /// response entry was already made for it in this change.
    fn lifecycle(&mut self, b: &Addressee, a: &Addressee, answered: bool) -> bool {
        let id = self.ev.after.id.to_string();
        let issuer = self.issuer();
        let issuer_name = self.issuer_name();
        let addr = addressee_label(a);
        let note = |s: &Option<String>| s.clone().unwrap_or_default();
        let (title, author, summary) = if let Some(c) = &a.closure
            && (a.closure != b.closure || b.status != AddresseeStatus::Closed)
            && a.status == AddresseeStatus::Closed
        {
            (
                format!(
                    "{issuer} closed {id} for {addr}: {}",
                    words(c.reason.as_str())
                ),
                issuer_name,
                note(&c.note),
            )
        } else if a.status == AddresseeStatus::Closed && b.status != AddresseeStatus::Closed {
            (
                format!("{issuer} closed {id} for {addr}"),
                issuer_name,
                String::new(),
            )
        } else if a.verified_on.is_some() && a.verified_on != b.verified_on {
            (
                format!("{issuer} verified that {addr} implemented {id}"),
                issuer_name,
                String::new(),
            )
        } else if a.status == AddresseeStatus::Dormant && b.status != AddresseeStatus::Dormant {
            (
                format!("{issuer} marked {id} dormant for {addr}"),
                issuer_name,
                String::new(),
            )
        } else if matches!(b.status, AddresseeStatus::Closed | AddresseeStatus::Dormant)
            && a.status.is_open()
        {
            (
                format!("{issuer} reopened {id} for {addr}"),
                issuer_name,
                String::new(),
            )
        } else if let Some(s) = &a.assessment
            && a.assessment != b.assessment
        {
            (
                format!(
                    "{issuer} assessed {addr}'s response to {id}: {}",
                    words(s.verdict.as_str())
                ),
                issuer_name,
                note(&s.comment),
            )
        } else if a.escalations.len() > b.escalations.len() {
            let e = a.escalations.last().expect("longer");
            (
                format!(
                    "{issuer} escalated {id} for {addr}: {}",
                    words(e.step.as_str())
                ),
                issuer_name,
                note(&e.note),
            )
        } else if a.updates.len() > b.updates.len() {
            let u = a.updates.last().expect("longer");
            (
                format!(
                    "{addr} reported progress on {id}: {}",
                    words(u.implementation.as_str())
                ),
                addr.clone(),
                note(&u.note),
            )
        } else if a.actions.len() > b.actions.len() {
            let act = a.actions.last().expect("longer");
            (
                format!(
                    "{addr} added an action to {id}: {}",
                    clip(&act.title, MAX_TITLE_CHARS)
                ),
                addr.clone(),
                act.owner
                    .as_deref()
                    .map(|o| format!("Owner: {o}"))
                    .unwrap_or_default(),
            )
        } else if let Some(on) = a.reassess_on
            && a.reassess_on != b.reassess_on
        {
            (
                format!(
                    "{issuer} will reassess {id} for {addr} on {}",
                    on.format("%-d %B %Y")
                ),
                issuer_name,
                String::new(),
            )
        } else if answered {
            // The response entry already says what changed.
            return false;
        } else if let Some(acc) = a.acceptance
            && a.acceptance != b.acceptance
        {
            (
                format!("{addr}'s position on {id} is now: {}", words(acc.as_str())),
                addr.clone(),
                String::new(),
            )
        } else if let Some(imp) = a.implementation
            && a.implementation != b.implementation
        {
            (
                format!(
                    "{addr}'s implementation of {id} is now: {}",
                    words(imp.as_str())
                ),
                addr.clone(),
                String::new(),
            )
        } else if a.status != b.status {
            (
                format!("{id} for {addr} is now: {}", words(a.status.as_str())),
                issuer_name,
                String::new(),
            )
        } else {
            return false;
        };
        self.push(EntryKind::Status, title, author, summary, None);
        true
    }
}

/// The entries one change makes, in the order they happened (the feed shows
/// them newest first, so reversed).
pub fn entries_for(ev: &FeedEvent, names: &OrgNames) -> Vec<FeedEntry> {
    let after = &ev.after;
    if after.data.status == Lifecycle::Draft {
        return Vec::new();
    }
    let mut b = Builder {
        ev,
        names,
        out: Vec::new(),
    };
    let id = after.id.to_string();
    let issuer = b.issuer();
    // Before publication nothing was public: tell the record from scratch.
    let before = ev
        .before
        .as_ref()
        .filter(|r| r.data.status != Lifecycle::Draft);
    let Some(before) = before else {
        let status = match after.data.status {
            Lifecycle::Published => String::new(),
            other => format!(" ({other})"),
        };
        b.push(
            EntryKind::Published,
            format!(
                "{issuer} published {id}{status}: {}",
                clip(&after.data.title, MAX_TITLE_CHARS)
            ),
            b.issuer_name(),
            after.data.text.clone(),
            after.data.published,
        );
        for a in &after.data.addressees {
            for r in &a.responses {
                b.response(a, r);
            }
        }
        return b.out;
    };

    let mut lifecycle_entries = 0;
    for (i, a) in after.data.addressees.iter().enumerate() {
        let prior = matching(&before.data.addressees, i, a);
        let mut answered = false;
        for r in &a.responses {
            if !prior.is_some_and(|p| p.responses.contains(r)) {
                b.response(a, r);
                answered = true;
            }
        }
        if let Some(p) = prior
            && b.lifecycle(p, a, answered)
        {
            lifecycle_entries += 1;
        }
    }

    let (was, now) = (before.data.status, after.data.status);
    if was != now {
        let sentence = match now {
            Lifecycle::Closed => format!("{id} is now closed."),
            Lifecycle::Published => format!("{id} is open again."),
            other => format!("{id} is now {other}."),
        };
        if lifecycle_entries > 0 {
            // The record's status followed its addressees (the last one
            // closed, or one reopened): said on that entry.
            if let Some(last) = b.out.iter_mut().rev().find(|e| e.kind == EntryKind::Status) {
                if !last.summary.is_empty() {
                    last.summary.push(' ');
                }
                last.summary.push_str(&sentence);
            }
        } else {
            let title = match now {
                Lifecycle::Closed => format!("{issuer} closed {id}"),
                Lifecycle::Withdrawn => format!("{issuer} withdrew {id}"),
                Lifecycle::Superseded => format!("{issuer} marked {id} as superseded"),
                Lifecycle::Published => format!("{issuer} reopened {id}"),
                Lifecycle::Draft => unreachable!("drafts return early"),
            };
            b.push(
                EntryKind::Status,
                title,
                b.issuer_name(),
                format!("{sentence} {}", clip(&after.data.title, MAX_TITLE_CHARS)),
                None,
            );
        }
    }
    b.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::{Acceptance, Assessment, AssessmentRecord, Closure, ClosureReason};
    use crate::model::{RecKind, RecommendationData};
    use crate::{OrgCode, RecommendationId};

    fn rec(status: Lifecycle) -> Recommendation {
        let at = DateTime::parse_from_rfc3339("2024-09-16T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Recommendation {
            provenance: Default::default(),
            id: RecommendationId::parse("HSSIB-2024-0012").unwrap(),
            data: RecommendationData {
                local_ref: None,
                kind: RecKind::Recommendation,
                issuer: OrgCode::parse("HSSIB").unwrap(),
                source: None,
                title: "Safer <discharge> & follow-up".into(),
                text: "Do the thing.".into(),
                published: NaiveDate::from_ymd_opt(2024, 9, 16),
                status,
                level: None,
                addressees: vec![
                    Addressee {
                        name: "CQC".into(),
                        org: Some(OrgCode::parse("CQC").unwrap()),
                        ..Default::default()
                    },
                    Addressee {
                        name: "NHS England".into(),
                        org: Some(OrgCode::parse("NHSE").unwrap()),
                        ..Default::default()
                    },
                ],
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
            version: 1,
            created_at: at,
            updated_at: at,
            import_key: None,
        }
    }

    fn event(action: &str, before: Option<Recommendation>, after: Recommendation) -> FeedEvent {
        FeedEvent {
            seq: 7,
            at: after.updated_at,
            action: action.into(),
            before,
            after,
        }
    }

    fn names() -> OrgNames {
        [(
            "HSSIB".to_string(),
            "Health Services Safety Investigations Body".to_string(),
        )]
        .into_iter()
        .collect()
    }

    fn titles(ev: &FeedEvent) -> Vec<String> {
        entries_for(ev, &names())
            .into_iter()
            .map(|e| e.title)
            .collect()
    }

    fn accepted() -> Response {
        Response {
            received: NaiveDate::from_ymd_opt(2024, 10, 1),
            respondent: None,
            url: None,
            text: Some("We accept.".into()),
            acceptance: Some(Acceptance::Accepted),
            reasons: None,
        }
    }

    #[test]
    fn drafts_make_no_entries_and_publication_tells_the_record() {
        let draft = rec(Lifecycle::Draft);
        assert!(titles(&event("create", None, draft.clone())).is_empty());
        let mut edited = draft.clone();
        edited.data.title = "Other".into();
        assert!(titles(&event("update", Some(draft.clone()), edited)).is_empty());

        let published = rec(Lifecycle::Published);
        let entries = entries_for(&event("update", Some(draft), published.clone()), &names());
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].kind, EntryKind::Published);
        assert_eq!(
            entries[0].title,
            "HSSIB published HSSIB-2024-0012: Safer <discharge> & follow-up"
        );
        assert_eq!(
            entries[0].author,
            "Health Services Safety Investigations Body"
        );
        assert_eq!(
            entries[0].tag_uri(),
            "tag:concord,2025:recommendations/HSSIB-2024-0012/events/7/0"
        );
        assert_eq!(
            titles(&event("create", None, published)),
            ["HSSIB published HSSIB-2024-0012: Safer <discharge> & follow-up"]
        );
    }

    #[test]
    fn imported_records_bring_their_responses() {
        let mut r = rec(Lifecycle::Published);
        r.data.addressees[1].responses.push(Response {
            received: None,
            respondent: None,
            ..Default::default()
        });
        let entries = entries_for(&event("import", None, r), &names());
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].title, "NHS England responded to HSSIB-2024-0012");
        assert_eq!(entries[1].kind, EntryKind::Response);
        assert_eq!(entries[1].happened_on, None);
        assert_eq!(entries[1].summary, "Response received (date not given).");
        assert_eq!(entries[1].part, 1);
    }

    #[test]
    fn renaming_an_addressee_repeats_nothing_it_said() {
        let mut before = rec(Lifecycle::Published);
        let a = &mut before.data.addressees[1];
        a.responses.push(accepted());
        a.acceptance = Some(Acceptance::Accepted);
        a.status = AddresseeStatus::ResponseReceived;
        assert!(
            before.data.addressees[1].org.is_some(),
            "the test needs an org"
        );
        let mut after = before.clone();
        after.data.addressees[1].name = "NHS England (national)".into();
        assert!(
            titles(&event("update", Some(before), after)).is_empty(),
            "a rename is not a new response"
        );
    }

    #[test]
    fn a_response_is_one_entry_with_its_acceptance() {
        let before = rec(Lifecycle::Published);
        let mut after = before.clone();
        let a = &mut after.data.addressees[1];
        a.responses.push(accepted());
        a.acceptance = Some(Acceptance::Accepted);
        a.status = AddresseeStatus::ResponseReceived;
        assert_eq!(
            titles(&event("respond", Some(before), after)),
            ["NHS England responded to HSSIB-2024-0012: accepted"]
        );
    }

    #[test]
    fn closing_the_last_addressee_says_the_record_closed() {
        let mut before = rec(Lifecycle::Published);
        before.data.addressees[1].status = AddresseeStatus::Closed;
        let mut after = before.clone();
        after.data.status = Lifecycle::Closed;
        let a = &mut after.data.addressees[0];
        a.status = AddresseeStatus::Closed;
        a.closure = Some(Closure {
            reason: ClosureReason::Implemented,
            note: Some("Done.".into()),
            on: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
            by: None,
        });
        let entries = entries_for(&event("close", Some(before), after), &names());
        assert_eq!(entries.len(), 1);
        assert_eq!(
            entries[0].title,
            "HSSIB closed HSSIB-2024-0012 for CQC: implemented"
        );
        assert_eq!(entries[0].summary, "Done. HSSIB-2024-0012 is now closed.");
    }

    #[test]
    fn lifecycle_moves_have_plain_titles() {
        let base = rec(Lifecycle::Published);
        let change = |f: &dyn Fn(&mut Addressee)| {
            let mut after = base.clone();
            f(&mut after.data.addressees[0]);
            titles(&event("move", Some(base.clone()), after))
        };
        assert_eq!(
            change(&|a| {
                a.assessment = Some(AssessmentRecord {
                    verdict: Assessment::SatisfactoryInPart,
                    comment: None,
                    on: NaiveDate::from_ymd_opt(2025, 1, 2).unwrap(),
                    by: None,
                });
                a.status = AddresseeStatus::Assessed;
            }),
            ["HSSIB assessed CQC's response to HSSIB-2024-0012: satisfactory in part"]
        );
        assert_eq!(
            change(&|a| a.status = AddresseeStatus::Dormant),
            ["HSSIB marked HSSIB-2024-0012 dormant for CQC"]
        );
        assert_eq!(
            change(&|a| a.reassess_on = NaiveDate::from_ymd_opt(2026, 3, 1)),
            ["HSSIB will reassess HSSIB-2024-0012 for CQC on 1 March 2026"]
        );
        assert_eq!(
            change(&|a| a.status = AddresseeStatus::NotRequired),
            ["HSSIB-2024-0012 for CQC is now: not required"]
        );
        // Wording or tags only: nothing to tell.
        let mut retitled = base.clone();
        retitled.data.title = "New title".into();
        retitled.data.themes.push("Sepsis".into());
        assert!(titles(&event("update", Some(base.clone()), retitled)).is_empty());
    }

    #[test]
    fn record_status_changes_by_edit() {
        let before = rec(Lifecycle::Published);
        let mut after = before.clone();
        after.data.status = Lifecycle::Withdrawn;
        assert_eq!(
            titles(&event("update", Some(before), after)),
            ["HSSIB withdrew HSSIB-2024-0012"]
        );
    }

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("éééé", 2), "éé…");
        assert_eq!(clip(" short ", 10), "short");
    }
}
