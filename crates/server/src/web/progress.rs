//! A recommendation's addressees on its page (`templates/recommendation/
//! addressees.html`): where each answer stands (overdue, answered,
//! assessed, closed) and the whole story beneath — responses, action plan,
//! progress, the issuer's assessment, escalations.

use chrono::NaiveDate;
use concord_domain::lifecycle::{self, RulesBook};
use concord_domain::{Addressee, RecommendationData};

use crate::web::filters::{paragraphs, web_url};

/// An outside address: (the link when it is a web address, the text).
pub(crate) type WebLink = (Option<String>, String);

fn web_link(url: &str) -> WebLink {
    (web_url(url), url.to_string())
}

pub(crate) struct AddresseeView {
    /// "Name (CODE)", or the name alone.
    pub who: String,
    pub status: String,
    pub overdue_days: Option<i64>,
    /// The last escalation: (step, day).
    pub last_chase: Option<(String, NaiveDate)>,
    pub due: Option<NaiveDate>,
    pub acceptance: Option<String>,
    pub implementation: Option<String>,
    pub verdict: Option<String>,
    /// None when nothing has happened yet.
    pub story: Option<Story>,
}

pub(crate) struct ResponseView {
    pub by: Option<String>,
    pub received: Option<NaiveDate>,
    pub position: Option<String>,
    pub paragraphs: Vec<String>,
    pub reasons: Option<String>,
    pub url: Option<WebLink>,
}

pub(crate) struct ActionView {
    pub title: String,
    pub owner: Option<String>,
    pub due: Option<NaiveDate>,
    pub progress: String,
    pub evidence: Vec<WebLink>,
}

pub(crate) struct UpdateView {
    pub on: NaiveDate,
    pub implementation: String,
    pub action: Option<usize>,
    pub note: Option<String>,
}

pub(crate) struct AssessmentView {
    pub verdict: String,
    pub on: NaiveDate,
    pub comment: Option<String>,
}

pub(crate) struct ClosureView {
    pub reason: String,
    pub on: NaiveDate,
    pub note: Option<String>,
    pub verified_on: Option<NaiveDate>,
}

pub(crate) struct Story {
    pub responses: Vec<ResponseView>,
    pub actions: Vec<ActionView>,
    pub updates: Vec<UpdateView>,
    pub assessment: Option<AssessmentView>,
    /// (step, day)
    pub escalations: Vec<(String, NaiveDate)>,
    pub closure: Option<ClosureView>,
    pub reassess_on: Option<NaiveDate>,
}

/// "Name (CODE)", or the name alone.
pub(crate) fn who(a: &Addressee) -> String {
    match &a.org {
        Some(o) => format!("{} ({o})", a.name),
        None => a.name.clone(),
    }
}

/// Each addressee as the page shows it, due dates by `book` (the rules in
/// force).
pub(crate) fn addressees(
    d: &RecommendationData,
    today: NaiveDate,
    book: &RulesBook,
) -> Vec<AddresseeView> {
    let rules = book.for_issuer(&d.issuer);
    d.addressees
        .iter()
        .map(|a| AddresseeView {
            who: who(a),
            status: a.status.as_str().to_string(),
            overdue_days: lifecycle::overdue_as_of(d, a, rules, today).map(|(_, days)| days),
            last_chase: a
                .escalations
                .last()
                .map(|e| (e.step.as_str().to_string(), e.on)),
            due: lifecycle::due_for(d, a, rules),
            acceptance: a.acceptance.map(|x| x.to_string()),
            implementation: a.implementation.map(|x| x.to_string()),
            verdict: a.assessment.as_ref().map(|x| x.verdict.to_string()),
            story: story(a),
        })
        .collect()
}

fn story(a: &Addressee) -> Option<Story> {
    let s = Story {
        responses: a
            .responses
            .iter()
            .map(|r| ResponseView {
                by: r.respondent.clone(),
                received: r.received,
                position: r.acceptance.map(|x| x.as_str().to_string()),
                paragraphs: r.text.as_deref().map(paragraphs).unwrap_or_default(),
                reasons: r.reasons.clone(),
                url: r.url.as_deref().map(web_link),
            })
            .collect(),
        actions: a
            .actions
            .iter()
            .map(|x| ActionView {
                title: x.title.clone(),
                owner: x.owner.clone(),
                due: x.due,
                progress: x.progress.as_str().to_string(),
                evidence: x.evidence.iter().map(|u| web_link(u)).collect(),
            })
            .collect(),
        updates: a
            .updates
            .iter()
            .map(|u| UpdateView {
                on: u.on,
                implementation: u.implementation.as_str().to_string(),
                action: u.action,
                note: u.note.clone(),
            })
            .collect(),
        assessment: a.assessment.as_ref().map(|x| AssessmentView {
            verdict: x.verdict.as_str().to_string(),
            on: x.on,
            comment: x.comment.clone(),
        }),
        escalations: a
            .escalations
            .iter()
            .map(|e| (e.step.as_str().to_string(), e.on))
            .collect(),
        closure: a.closure.as_ref().map(|c| ClosureView {
            reason: c.reason.as_str().to_string(),
            on: c.on,
            note: c.note.clone(),
            verified_on: a.verified_on,
        }),
        reassess_on: a.reassess_on,
    };
    let nothing = s.responses.is_empty()
        && s.actions.is_empty()
        && s.updates.is_empty()
        && s.assessment.is_none()
        && s.escalations.is_empty()
        && s.closure.is_none()
        && s.reassess_on.is_none();
    (!nothing).then_some(s)
}
