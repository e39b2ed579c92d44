//! The moves on one addressee's part: who may make each ([`Standing`],
//! [`may_make`]) and what each does to the record ([`apply`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::deadlines::{ResponseRules, days_overdue, due_for};
use super::records::{
    Acceptance, ActionItem, Assessment, AssessmentRecord, Closure, ClosureReason, Escalation,
    Implementation, ProgressUpdate,
};
use crate::ids::OrgCode;
use crate::model::{Addressee, AddresseeStatus, Lifecycle, RecommendationData, Response};

/// Who is asking, relative to one addressee of one recommendation. A body
/// can be both issuer and addressee (NHS England writing to itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub issuer: bool,
    pub addressee: bool,
    /// Someone running Concord itself (the command line on the server).
    pub operator: bool,
    /// Recorded on what the move writes (`by`).
    pub label: Option<String>,
}

impl Standing {
    pub fn of(
        caller: Option<&OrgCode>,
        operator: bool,
        rec: &RecommendationData,
        addressee: &Addressee,
    ) -> Self {
        Standing {
            issuer: caller == Some(&rec.issuer),
            addressee: caller.is_some() && caller == addressee.org.as_ref(),
            operator,
            label: caller.map(|c| c.to_string()),
        }
    }
}

crate::string_enum!(
    /// The kinds of [`Move`], by the names the API's paths and the pages'
    /// addresses use.
    MoveKind {
        Respond => "respond",
        AddAction => "add_action",
        Update => "update",
        Assess => "assess",
        Close => "close",
        Dormant => "dormant",
        Reopen => "reopen",
        Reassess => "reassess",
        Verify => "verify",
        Escalate => "escalate",
    }
);

impl MoveKind {
    /// The addressee's moves (answering and reporting progress); the
    /// others are the issuer's.
    pub fn is_addressees(self) -> bool {
        matches!(
            self,
            MoveKind::Respond | MoveKind::AddAction | MoveKind::Update
        )
    }

    /// The kind named exactly so (`add_action`, not `Add action`): for
    /// addresses, where one spelling is the name.
    pub fn named(name: &str) -> Option<MoveKind> {
        MoveKind::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

/// A change to one addressee's part of a recommendation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "move", rename_all = "snake_case", deny_unknown_fields)]
pub enum Move {
    /// The addressee's answer (addressee).
    Respond {
        received: Option<NaiveDate>,
        acceptance: Acceptance,
        text: String,
        reasons: Option<String>,
        url: Option<String>,
        respondent: Option<String>,
    },
    /// A line of the action plan (addressee).
    AddAction {
        title: String,
        owner: Option<String>,
        due: Option<NaiveDate>,
        #[serde(default)]
        evidence: Vec<String>,
    },
    /// Progress, overall or on one action (addressee).
    Update {
        implementation: Implementation,
        note: Option<String>,
        #[serde(default)]
        evidence: Vec<String>,
        action: Option<usize>,
    },
    /// The issuer's judgement of the response (issuer, never the addressee).
    Assess {
        verdict: Assessment,
        comment: Option<String>,
    },
    /// Closes this addressee's part with a reason (issuer).
    Close {
        reason: ClosureReason,
        note: Option<String>,
    },
    /// Sets it aside (issuer).
    Dormant { note: Option<String> },
    /// Brings a dormant or closed one back (issuer).
    Reopen { note: Option<String> },
    /// A date to look at it again (issuer).
    Reassess { on: NaiveDate },
    /// Confirms that a closed, implemented recommendation was done (issuer).
    Verify { note: Option<String> },
    /// The next step of the issuer's ladder for a late answer (issuer).
    Escalate { note: Option<String> },
}

impl Move {
    /// The name used in the audit trail and the API.
    pub fn kind(&self) -> MoveKind {
        match self {
            Move::Respond { .. } => MoveKind::Respond,
            Move::AddAction { .. } => MoveKind::AddAction,
            Move::Update { .. } => MoveKind::Update,
            Move::Assess { .. } => MoveKind::Assess,
            Move::Close { .. } => MoveKind::Close,
            Move::Dormant { .. } => MoveKind::Dormant,
            Move::Reopen { .. } => MoveKind::Reopen,
            Move::Reassess { .. } => MoveKind::Reassess,
            Move::Verify { .. } => MoveKind::Verify,
            Move::Escalate { .. } => MoveKind::Escalate,
        }
    }

    /// The move's name, as [`MoveKind::as_str`] spells it.
    pub fn name(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// Why a move was refused. `Forbidden` is about who asks; `Refused` about
/// the state of the record or the values given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoveError {
    #[error("{0}")]
    Forbidden(String),
    #[error("field {field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Refused(String),
}

fn invalid(field: &str, message: impl Into<String>) -> MoveError {
    MoveError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

fn tidy(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Longest free text a move accepts (as for recommendations, 1 MiB).
const MAX_MOVE_TEXT: usize = crate::model::MAX_TEXT_BYTES;

fn check_len(field: &str, s: &Option<String>) -> Result<(), MoveError> {
    match s {
        Some(t) if t.len() > MAX_MOVE_TEXT => Err(invalid(
            field,
            format!("is longer than {MAX_MOVE_TEXT} bytes"),
        )),
        Some(t) if t.contains('\0') => Err(invalid(field, "contains a NUL character")),
        _ => Ok(()),
    }
}

/// Applies `mv` to the addressee at `index` (0-based) and returns the new
/// record. `today` is the date in England.
pub fn apply(
    rec: &RecommendationData,
    index: usize,
    who: &Standing,
    mv: &Move,
    today: NaiveDate,
    rules: &ResponseRules,
) -> Result<RecommendationData, MoveError> {
    let Some(addressee) = rec.addressees.get(index) else {
        return Err(invalid(
            "addressee",
            format!(
                "there is no addressee number {} (it has {})",
                index + 1,
                rec.addressees.len()
            ),
        ));
    };
    check_standing(who, mv, addressee)?;
    match (rec.status, mv) {
        (Lifecycle::Published, _) => {}
        (Lifecycle::Closed, Move::Reopen { .. } | Move::Verify { .. } | Move::Reassess { .. }) => {}
        (status, _) => {
            return Err(MoveError::Refused(format!(
                "the recommendation is {status}; only published recommendations take {}",
                mv.kind().in_words()
            )));
        }
    }
    let by = who.label.clone();
    let mut next = rec.clone();
    let a = &mut next.addressees[index];
    let status = a.status;
    let cx = Ctx {
        rec,
        addressee,
        a,
        status,
        by,
        today,
    };
    match mv {
        Move::Respond {
            received,
            acceptance,
            text,
            reasons,
            url,
            respondent,
        } => respond(cx, received, acceptance, text, reasons, url, respondent),
        Move::AddAction {
            title,
            owner,
            due,
            evidence,
        } => add_action(cx, title, owner, due, evidence),
        Move::Update {
            implementation,
            note,
            evidence,
            action,
        } => update(cx, implementation, note, evidence, action),
        Move::Assess { verdict, comment } => assess(cx, verdict, comment),
        Move::Close { reason, note } => close(cx, reason, note),
        Move::Dormant { note } => dormant(cx, note),
        Move::Reopen { note } => reopen(cx, note),
        Move::Reassess { on } => reassess(cx, on),
        Move::Verify { note } => verify(cx, note),
        Move::Escalate { note } => escalate(cx, note, rules),
    }?;
    settle_recommendation(&mut next);
    Ok(next)
}

/// What every move works on: the record as it stood, the addressee's part
/// as it stood (`addressee`, named in messages) and as it will be (`a`, in
/// the new record), its status before the move, who makes it and the date.
struct Ctx<'r> {
    rec: &'r RecommendationData,
    addressee: &'r Addressee,
    a: &'r mut Addressee,
    status: AddresseeStatus,
    by: Option<String>,
    today: NaiveDate,
}

/// A refusal because of the addressee's status, saying what would be needed.
fn refuse_status(addressee: &Addressee, status: AddresseeStatus, what: &str) -> MoveError {
    MoveError::Refused(format!(
        "{} is {}; {what}",
        a_name(addressee),
        status.in_words()
    ))
}

/// [`Move::Respond`]: the addressee's answer, first or revised after an
/// unsatisfactory assessment.
fn respond(
    cx: Ctx<'_>,
    received: &Option<NaiveDate>,
    acceptance: &Acceptance,
    text: &str,
    reasons: &Option<String>,
    url: &Option<String>,
    respondent: &Option<String>,
) -> Result<(), MoveError> {
    let Ctx {
        rec,
        addressee,
        a,
        status,
        by,
        today,
    } = cx;
    let revising = status == AddresseeStatus::Assessed
        && a.assessment
            .as_ref()
            .is_some_and(|x| x.verdict == Assessment::Unsatisfactory);
    if status != AddresseeStatus::AwaitingResponse && !revising {
        let when = a
            .responses
            .last()
            .and_then(|r| r.received)
            .map(|d| format!(" on {d}"))
            .unwrap_or_default();
        return Err(refuse_status(
            addressee,
            status,
            &format!(
                "it has already answered{when}; send a progress update instead \
             (a new response is taken only after the issuer finds the last one unsatisfactory)"
            ),
        ));
    }
    let received = received.unwrap_or(today);
    if received > today {
        return Err(invalid(
            "received",
            format!("{received} is in the future (today is {today})"),
        ));
    }
    if let Some(published) = rec.published
        && received < published
    {
        return Err(invalid(
            "received",
            format!("{received} is before the recommendation was published ({published})"),
        ));
    }
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(invalid("text", "is empty: say what you will do"));
    }
    check_len("text", &Some(text.clone()))?;
    check_len("reasons", reasons)?;
    check_len("url", url)?;
    check_len("respondent", respondent)?;
    let reasons = tidy(reasons);
    if !acceptance.commits_to_action() && reasons.is_none() {
        return Err(invalid(
            "reasons",
            if *acceptance == Acceptance::SupportInstead {
                "Enter your reasons, and name the recommendation you support instead"
            } else {
                "Enter your reasons for not accepting it"
            },
        ));
    }
    a.responses.push(Response {
        received: Some(received),
        respondent: tidy(respondent).or_else(|| by.clone()),
        url: tidy(url),
        text: Some(text),
        acceptance: Some(*acceptance),
        reasons,
    });
    a.acceptance = Some(*acceptance);
    if acceptance.commits_to_action() && a.implementation.is_none() {
        a.implementation = Some(Implementation::NotStarted);
    }
    a.assessment = None;
    a.status = AddresseeStatus::ResponseReceived;
    Ok(())
}

/// [`Move::AddAction`]: a line of the action plan.
fn add_action(
    cx: Ctx<'_>,
    title: &str,
    owner: &Option<String>,
    due: &Option<NaiveDate>,
    evidence: &[String],
) -> Result<(), MoveError> {
    let Ctx {
        rec,
        addressee,
        a,
        status,
        today,
        ..
    } = cx;
    require_answered(a, status, addressee)?;
    if !a.acceptance.is_some_and(|x| x.commits_to_action()) {
        return Err(MoveError::Refused(format!(
            "{} did not accept the recommendation, so it has no action plan",
            a_name(addressee)
        )));
    }
    let title = title.trim().to_string();
    if title.is_empty() {
        return Err(invalid("title", "is empty: name the action"));
    }
    check_len("title", &Some(title.clone()))?;
    check_len("owner", owner)?;
    if let (Some(due), Some(published)) = (due, rec.published)
        && *due < published
    {
        return Err(invalid(
            "due",
            format!("{due} is before the recommendation was published ({published})"),
        ));
    }
    a.actions.push(ActionItem {
        title,
        owner: tidy(owner),
        due: *due,
        progress: Implementation::NotStarted,
        evidence: tidy_links(evidence)?,
        added_on: today,
    });
    Ok(())
}

/// [`Move::Update`]: progress, overall or on one action.
fn update(
    cx: Ctx<'_>,
    implementation: &Implementation,
    note: &Option<String>,
    evidence: &[String],
    action: &Option<usize>,
) -> Result<(), MoveError> {
    let Ctx {
        addressee,
        a,
        status,
        by,
        today,
        ..
    } = cx;
    require_answered(a, status, addressee)?;
    if *implementation == Implementation::Verified {
        return Err(invalid(
            "implementation",
            "verified is set by the issuer when it verifies; report implemented",
        ));
    }
    check_len("note", note)?;
    let note = tidy(note);
    let accepted = a.acceptance.is_some_and(|x| x.commits_to_action());
    if !accepted && *implementation != Implementation::NotStarted && note.is_none() {
        return Err(invalid(
            "note",
            format!(
                "the response was {}; reporting {implementation} needs a note saying why",
                a.acceptance
                    .map(|x| x.in_words())
                    .unwrap_or_else(|| "not stated".into())
            ),
        ));
    }
    let evidence = tidy_links(evidence)?;
    match action {
        Some(n) => {
            let count = a.actions.len();
            let Some(item) = n.checked_sub(1).and_then(|i| a.actions.get_mut(i)) else {
                return Err(invalid(
                    "action",
                    format!("there is no action {n} (the plan has {count})"),
                ));
            };
            item.progress = *implementation;
            item.evidence.extend(evidence.iter().cloned());
        }
        None => {
            let current = a.implementation.unwrap_or(Implementation::NotStarted);
            if *implementation < current && note.is_none() {
                return Err(invalid(
                    "note",
                    format!(
                        "going back from {current} to {implementation} needs a note saying why"
                    ),
                ));
            }
            a.implementation = Some(*implementation);
        }
    }
    a.updates.push(ProgressUpdate {
        on: today,
        implementation: *implementation,
        note,
        evidence,
        action: *action,
        by,
    });
    Ok(())
}

/// [`Move::Assess`]: the issuer's judgement of the response.
fn assess(cx: Ctx<'_>, verdict: &Assessment, comment: &Option<String>) -> Result<(), MoveError> {
    let Ctx {
        addressee,
        a,
        status,
        by,
        today,
        ..
    } = cx;
    if a.responses.is_empty() {
        return Err(MoveError::Refused(format!(
            "{} has not responded, so there is nothing to assess",
            a_name(addressee)
        )));
    }
    if !matches!(
        status,
        AddresseeStatus::ResponseReceived | AddresseeStatus::Assessed
    ) {
        return Err(refuse_status(
            addressee,
            status,
            "reopen it before assessing",
        ));
    }
    check_len("comment", comment)?;
    if *verdict != Assessment::FullySatisfactory && tidy(comment).is_none() {
        return Err(invalid(
            "comment",
            format!("an assessment of {verdict} must say why"),
        ));
    }
    a.assessment = Some(AssessmentRecord {
        verdict: *verdict,
        comment: tidy(comment),
        on: today,
        by,
    });
    a.status = AddresseeStatus::Assessed;
    Ok(())
}

/// [`Move::Close`]: closes the addressee's part with a reason.
fn close(cx: Ctx<'_>, reason: &ClosureReason, note: &Option<String>) -> Result<(), MoveError> {
    let Ctx {
        addressee,
        a,
        status,
        by,
        today,
        ..
    } = cx;
    if matches!(
        status,
        AddresseeStatus::Closed | AddresseeStatus::NotRequired
    ) {
        return Err(refuse_status(
            addressee,
            status,
            "there is nothing to close",
        ));
    }
    check_len("note", note)?;
    let note = tidy(note);
    let done = matches!(
        a.implementation,
        Some(Implementation::Implemented | Implementation::Verified)
    );
    if reason.claims_implementation() && !done && note.is_none() {
        return Err(invalid(
            "note",
            format!(
                "closing as {reason} when the addressee has reported {} needs a note giving the evidence",
                a.implementation
                    .map(|x| x.in_words())
                    .unwrap_or_else(|| "nothing".into())
            ),
        ));
    }
    a.closure = Some(Closure {
        reason: *reason,
        note,
        on: today,
        by,
    });
    a.status = AddresseeStatus::Closed;
    Ok(())
}

/// [`Move::Dormant`]: sets an open part aside.
fn dormant(cx: Ctx<'_>, note: &Option<String>) -> Result<(), MoveError> {
    let Ctx {
        addressee,
        a,
        status,
        by,
        today,
        ..
    } = cx;
    if !status.is_open() {
        return Err(refuse_status(
            addressee,
            status,
            "only an open item can be set aside",
        ));
    }
    check_len("note", note)?;
    a.updates.push(ProgressUpdate {
        on: today,
        implementation: a.implementation.unwrap_or(Implementation::NotStarted),
        note: Some(tidy(note).unwrap_or_else(|| "marked dormant".into())),
        evidence: vec![],
        action: None,
        by,
    });
    a.status = AddresseeStatus::Dormant;
    Ok(())
}

/// [`Move::Reopen`]: brings a dormant or closed part back.
fn reopen(cx: Ctx<'_>, note: &Option<String>) -> Result<(), MoveError> {
    let Ctx {
        addressee,
        a,
        status,
        by,
        today,
        ..
    } = cx;
    check_len("note", note)?;
    let note = tidy(note);
    match status {
        AddresseeStatus::Dormant => {}
        AddresseeStatus::Closed if note.is_some() => {}
        AddresseeStatus::Closed => {
            return Err(invalid(
                "note",
                "reopening a closed item needs a note saying why",
            ));
        }
        _ => {
            return Err(refuse_status(
                addressee,
                status,
                "only a dormant or closed item can be reopened",
            ));
        }
    }
    a.closure = None;
    if a.implementation == Some(Implementation::Verified) {
        a.implementation = Some(Implementation::Implemented);
        a.verified_on = None;
    }
    a.status = if a.assessment.is_some() {
        AddresseeStatus::Assessed
    } else if a.responses.is_empty() {
        AddresseeStatus::AwaitingResponse
    } else {
        AddresseeStatus::ResponseReceived
    };
    a.updates.push(ProgressUpdate {
        on: today,
        implementation: a.implementation.unwrap_or(Implementation::NotStarted),
        note: Some(note.unwrap_or_else(|| "reopened".into())),
        evidence: vec![],
        action: None,
        by,
    });
    Ok(())
}

/// [`Move::Reassess`]: a date to look at it again.
fn reassess(cx: Ctx<'_>, on: &NaiveDate) -> Result<(), MoveError> {
    let Ctx {
        addressee,
        a,
        status,
        today,
        ..
    } = cx;
    if status == AddresseeStatus::NotRequired {
        return Err(refuse_status(
            addressee,
            status,
            "no answer is required, so there is nothing to reassess",
        ));
    }
    if *on <= today {
        return Err(invalid("on", format!("{on} is not after today ({today})")));
    }
    a.reassess_on = Some(*on);
    Ok(())
}

/// [`Move::Verify`]: confirms a part closed as implemented.
fn verify(cx: Ctx<'_>, note: &Option<String>) -> Result<(), MoveError> {
    let Ctx {
        addressee,
        a,
        status,
        by,
        today,
        ..
    } = cx;
    check_len("note", note)?;
    let closed_done = a
        .closure
        .as_ref()
        .is_some_and(|c| c.reason.claims_implementation());
    if status != AddresseeStatus::Closed || !closed_done {
        return Err(refuse_status(
            addressee,
            status,
            "only an item closed as implemented can be verified",
        ));
    }
    if a.verified_on.is_some() {
        return Err(MoveError::Refused(format!(
            "{} was already verified on {}",
            a_name(addressee),
            a.verified_on.map(|d| d.to_string()).unwrap_or_default()
        )));
    }
    a.implementation = Some(Implementation::Verified);
    a.verified_on = Some(today);
    a.updates.push(ProgressUpdate {
        on: today,
        implementation: Implementation::Verified,
        note: Some(tidy(note).unwrap_or_else(|| "verified by the issuer".into())),
        evidence: vec![],
        action: None,
        by,
    });
    Ok(())
}

/// [`Move::Escalate`]: the next step of the ladder for a late answer.
fn escalate(cx: Ctx<'_>, note: &Option<String>, rules: &ResponseRules) -> Result<(), MoveError> {
    let Ctx {
        rec,
        addressee,
        a,
        status,
        by,
        today,
    } = cx;
    check_len("note", note)?;
    if status != AddresseeStatus::AwaitingResponse {
        return Err(refuse_status(
            addressee,
            status,
            "only a late answer is escalated",
        ));
    }
    let Some(due) = due_for(rec, addressee, rules) else {
        return Err(MoveError::Refused(format!(
            "{} has no due date, so it cannot be late",
            a_name(addressee)
        )));
    };
    if days_overdue(due, today).is_none() {
        return Err(MoveError::Refused(format!(
            "the answer from {} is not late: it is due on {due}",
            a_name(addressee)
        )));
    }
    let Some(step) = rules.ladder.get(a.escalations.len()) else {
        return Err(MoveError::Refused(format!(
            "every step of the ladder has been taken for {} ({} steps)",
            a_name(addressee),
            rules.ladder.len()
        )));
    };
    let from = step.from(due);
    if today < from {
        return Err(MoveError::Refused(format!(
            "{} for {} is not due until {from} (answer due {due})",
            step.step.describe(),
            a_name(addressee)
        )));
    }
    a.escalations.push(Escalation {
        step: step.step,
        on: today,
        note: tidy(note),
        by,
    });
    Ok(())
}

fn a_name(a: &Addressee) -> String {
    match &a.org {
        Some(o) => format!("{} ({o})", a.name),
        None => a.name.clone(),
    }
}

fn require_answered(
    a: &Addressee,
    status: AddresseeStatus,
    original: &Addressee,
) -> Result<(), MoveError> {
    if a.responses.is_empty() || !status.is_open() {
        return Err(MoveError::Refused(format!(
            "{} is {}; respond first (progress is reported on an open, answered recommendation)",
            a_name(original),
            status.in_words()
        )));
    }
    Ok(())
}

fn tidy_links(evidence: &[String]) -> Result<Vec<String>, MoveError> {
    let mut out = Vec::new();
    for (i, e) in evidence.iter().enumerate() {
        let e = e.trim();
        if e.is_empty() {
            continue;
        }
        check_len(&format!("evidence[{i}]"), &Some(e.to_string()))?;
        out.push(e.to_string());
    }
    Ok(out)
}

fn check_standing(who: &Standing, mv: &Move, a: &Addressee) -> Result<(), MoveError> {
    may_make(who, mv.kind(), a)
}

/// Whether someone of this standing may make the move of this name on this
/// addressee's part at all (the state of the record aside): a page asks it
/// before it offers the move's form; [`apply`] asks it again.
pub fn may_make(who: &Standing, kind: MoveKind, a: &Addressee) -> Result<(), MoveError> {
    if who.operator {
        return Ok(());
    }
    let name = who
        .label
        .clone()
        .unwrap_or_else(|| "an anonymous caller".into());
    let doing = kind.in_words();
    if kind.is_addressees() {
        if who.addressee {
            return Ok(());
        }
        return Err(MoveError::Forbidden(format!(
            "{name} cannot {doing} for {}: only the addressee answers what is addressed to it",
            a_name(a)
        )));
    }
    if kind == MoveKind::Assess && who.addressee {
        return Err(MoveError::Forbidden(format!(
            "{name} cannot assess its own response"
        )));
    }
    if who.issuer {
        return Ok(());
    }
    Err(MoveError::Forbidden(format!(
        "{name} cannot {doing} this recommendation: only its issuer can"
    )))
}

/// A recommendation is closed when no addressee has anything left open, and
/// published again when one is reopened.
fn settle_recommendation(rec: &mut RecommendationData) {
    let all_closed = !rec.addressees.is_empty()
        && rec.addressees.iter().all(|a| {
            matches!(
                a.status,
                AddresseeStatus::Closed | AddresseeStatus::NotRequired
            )
        });
    match rec.status {
        Lifecycle::Published if all_closed => rec.status = Lifecycle::Closed,
        Lifecycle::Closed if !all_closed => rec.status = Lifecycle::Published,
        _ => {}
    }
}
