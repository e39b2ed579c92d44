//! What happens to a recommendation after it is published, one addressee at
//! a time: the response (acceptance), the action plan and progress
//! (implementation), the issuer's assessment, closure, dormancy,
//! reassessment, verification and the escalation of late answers.
//!
//! Every move is a pure function from the record as it stands to the record
//! as it will be, checked against who is asking ([`Standing`]) and today's
//! date in England. The service layer loads, applies and stores; nothing
//! here touches a database or a clock.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::OrgCode;
use crate::model::{Addressee, AddresseeStatus, Lifecycle, RecommendationData, Response};
use crate::string_enum;

string_enum!(
    /// The addressee's stated position on the recommendation.
    Acceptance {
        Accepted => "accepted",
        AcceptedInPrinciple => "accepted_in_principle",
        PartlyAccepted => "partly_accepted",
        NotAccepted => "not_accepted",
        /// It backs another body's recommendation instead of this one.
        SupportInstead => "support_instead",
    }
);

impl Acceptance {
    /// The addressee has taken on some action.
    pub fn commits_to_action(self) -> bool {
        matches!(
            self,
            Acceptance::Accepted | Acceptance::AcceptedInPrinciple | Acceptance::PartlyAccepted
        )
    }
}

string_enum!(
    /// How far the addressee has got with what it accepted.
    Implementation {
        NotStarted => "not_started",
        InProgress => "in_progress",
        SubstantiallyProgressed => "substantially_progressed",
        Implemented => "implemented",
        /// Confirmed by the issuer; only the issuer sets it.
        Verified => "verified",
    }
);

string_enum!(
    /// The issuer's judgement of a response.
    Assessment {
        FullySatisfactory => "fully_satisfactory",
        SatisfactoryIntent => "satisfactory_intent",
        SatisfactoryInPart => "satisfactory_in_part",
        Unsatisfactory => "unsatisfactory",
        UnableToAssess => "unable_to_assess",
    }
);

string_enum!(
    ClosureReason {
        Implemented => "implemented",
        ImplementedAlternative => "implemented_alternative",
        NotImplemented => "not_implemented",
        Superseded => "superseded",
        Withdrawn => "withdrawn",
        NoLongerApplicable => "no_longer_applicable",
    }
);

impl ClosureReason {
    fn claims_implementation(self) -> bool {
        matches!(
            self,
            ClosureReason::Implemented | ClosureReason::ImplementedAlternative
        )
    }
}

string_enum!(
    /// The steps taken, in order, when an answer is late.
    EscalationStep {
        Reminder => "reminder",
        SecondLetter => "second_letter",
        PublicStatement => "public_statement",
    }
);

impl EscalationStep {
    fn describe(self) -> &'static str {
        match self {
            EscalationStep::Reminder => "the reminder",
            EscalationStep::SecondLetter => "the second letter",
            EscalationStep::PublicStatement => "the public statement of non-response",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssessmentRecord {
    pub verdict: Assessment,
    pub comment: Option<String>,
    pub on: NaiveDate,
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Closure {
    pub reason: ClosureReason,
    pub note: Option<String>,
    pub on: NaiveDate,
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Escalation {
    pub step: EscalationStep,
    pub on: NaiveDate,
    pub note: Option<String>,
    pub by: Option<String>,
}

/// One line of an action plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActionItem {
    pub title: String,
    pub owner: Option<String>,
    pub due: Option<NaiveDate>,
    pub progress: Implementation,
    #[serde(default)]
    pub evidence: Vec<String>,
    pub added_on: NaiveDate,
}

/// A dated report of progress from the addressee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgressUpdate {
    pub on: NaiveDate,
    pub implementation: Implementation,
    pub note: Option<String>,
    #[serde(default)]
    pub evidence: Vec<String>,
    /// The action (1-based, as shown to people) this update is about, if one.
    pub action: Option<usize>,
    pub by: Option<String>,
}

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
    let refuse_status = |what: &str| {
        MoveError::Refused(format!(
            "{} is {}; {what}",
            a_name(addressee),
            status.in_words()
        ))
    };
    match mv {
        Move::Respond {
            received,
            acceptance,
            text,
            reasons,
            url,
            respondent,
        } => {
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
                return Err(refuse_status(&format!(
                    "it has already answered{when}; send a progress update instead \
                     (a new response is taken only after the issuer finds the last one unsatisfactory)"
                )));
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
        }
        Move::AddAction {
            title,
            owner,
            due,
            evidence,
        } => {
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
        }
        Move::Update {
            implementation,
            note,
            evidence,
            action,
        } => {
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
        }
        Move::Assess { verdict, comment } => {
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
                return Err(refuse_status("reopen it before assessing"));
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
        }
        Move::Close { reason, note } => {
            if matches!(
                status,
                AddresseeStatus::Closed | AddresseeStatus::NotRequired
            ) {
                return Err(refuse_status("there is nothing to close"));
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
        }
        Move::Dormant { note } => {
            if !status.is_open() {
                return Err(refuse_status("only an open item can be set aside"));
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
        }
        Move::Reopen { note } => {
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
        }
        Move::Reassess { on } => {
            if status == AddresseeStatus::NotRequired {
                return Err(refuse_status(
                    "no answer is required, so there is nothing to reassess",
                ));
            }
            if *on <= today {
                return Err(invalid("on", format!("{on} is not after today ({today})")));
            }
            a.reassess_on = Some(*on);
        }
        Move::Verify { note } => {
            check_len("note", note)?;
            let closed_done = a
                .closure
                .as_ref()
                .is_some_and(|c| c.reason.claims_implementation());
            if status != AddresseeStatus::Closed || !closed_done {
                return Err(refuse_status(
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
        }
        Move::Escalate { note } => {
            check_len("note", note)?;
            if status != AddresseeStatus::AwaitingResponse {
                return Err(refuse_status("only a late answer is escalated"));
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
        }
    }
    settle_recommendation(&mut next);
    Ok(next)
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

// ---------------------------------------------------------------------------
// Deadlines and escalation, from the issuer's rules (held as data).

/// One step of an escalation ladder: taken no earlier than this many days
/// after the answer was due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LadderStep {
    pub step: EscalationStep,
    pub days_after_due: u32,
}

impl LadderStep {
    pub fn from(&self, due: NaiveDate) -> NaiveDate {
        due + Duration::days(i64::from(self.days_after_due))
    }
}

/// How long an issuer gives for an answer, and what it does when none comes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponseRules {
    /// Calendar days from publication to the due date.
    pub days_to_respond: u32,
    pub ladder: Vec<LadderStep>,
    /// Where the rule comes from (statute, the body's published policy).
    #[serde(default)]
    pub source: Option<String>,
}

/// The longest period an installation may give (ten years).
pub const MAX_DAYS_TO_RESPOND: u32 = 3650;

impl ResponseRules {
    pub fn validate(&self) -> Result<(), String> {
        self.check().map_err(|e| e.to_string())
    }

    /// The period is 1 to [`MAX_DAYS_TO_RESPOND`] days; the ladder's steps go
    /// up (reminder, second letter, public statement; each at most once),
    /// each strictly later than the one before. Errors name the field.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.days_to_respond == 0 || self.days_to_respond > MAX_DAYS_TO_RESPOND {
            return Err(DomainError::invalid(
                "days_to_respond",
                format!(
                    "{} is not between 1 and {MAX_DAYS_TO_RESPOND} days",
                    self.days_to_respond
                ),
            ));
        }
        for (i, s) in self.ladder.iter().enumerate() {
            if s.days_after_due > MAX_DAYS_TO_RESPOND {
                return Err(DomainError::invalid(
                    format!("ladder[{i}].days_after_due"),
                    format!(
                        "{} is more than {MAX_DAYS_TO_RESPOND} days",
                        s.days_after_due
                    ),
                ));
            }
        }
        for (i, w) in self.ladder.windows(2).enumerate() {
            if w[1].step <= w[0].step {
                return Err(DomainError::invalid(
                    format!("ladder[{}].step", i + 1),
                    format!(
                        "ladder steps must go up (reminder, second_letter, public_statement, each once): {} then {}",
                        w[0].step, w[1].step
                    ),
                ));
            }
            if w[1].days_after_due <= w[0].days_after_due {
                return Err(DomainError::invalid(
                    format!("ladder[{}].days_after_due", i + 1),
                    format!(
                        "{} at {} days must come strictly after {} at {} days",
                        w[1].step, w[1].days_after_due, w[0].step, w[0].days_after_due
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl LadderStep {
    /// A step from its parts as a caller wrote them: a known step name and
    /// a whole number of days (0 to [`MAX_DAYS_TO_RESPOND`]). `field` names
    /// the place for errors (`ladder[1]`).
    pub fn from_parts(field: &str, step: &str, days: i64) -> Result<LadderStep, DomainError> {
        let kind = step.trim().parse::<EscalationStep>().map_err(|_| {
            DomainError::invalid(
                format!("{field}.step"),
                format!(
                    "{step:?} is not an escalation step (reminder, second_letter, public_statement)"
                ),
            )
        })?;
        let days = u32::try_from(days)
            .ok()
            .filter(|d| *d <= MAX_DAYS_TO_RESPOND)
            .ok_or_else(|| {
                DomainError::invalid(
                    format!("{field}.days_after_due"),
                    format!("{days} is not between 0 and {MAX_DAYS_TO_RESPOND} days"),
                )
            })?;
        Ok(LadderStep {
            step: kind,
            days_after_due: days,
        })
    }

    /// A ladder as written on the command line:
    /// `reminder:14,second_letter:28,public_statement:56`.
    pub fn parse_ladder(text: &str) -> Result<Vec<LadderStep>, DomainError> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        text.split(',')
            .enumerate()
            .map(|(i, part)| {
                let field = format!("ladder[{i}]");
                let (step, days) = part.split_once(':').ok_or_else(|| {
                    DomainError::invalid(
                        &field,
                        format!(
                            "{:?} is not STEP:DAYS (for example reminder:14)",
                            part.trim()
                        ),
                    )
                })?;
                let days: i64 = days.trim().parse().map_err(|_| {
                    DomainError::invalid(
                        format!("{field}.days_after_due"),
                        format!("{:?} is not a whole number of days", days.trim()),
                    )
                })?;
                LadderStep::from_parts(&field, step, days)
            })
            .collect()
    }
}

/// Every issuer's rules, with a default for the rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesBook {
    pub default: ResponseRules,
    #[serde(default)]
    pub issuers: BTreeMap<String, ResponseRules>,
}

/// The rules shipped with Concord (`rules/response_rules.json`).
pub const BUILTIN_RULES: &str = include_str!("../rules/response_rules.json");

impl RulesBook {
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_RULES).expect("the built-in response rules are valid (tested)")
    }

    pub fn parse(json: &str) -> Result<Self, String> {
        let book: RulesBook = serde_json::from_str(json).map_err(|e| e.to_string())?;
        book.default
            .validate()
            .map_err(|e| format!("default: {e}"))?;
        for (k, r) in &book.issuers {
            OrgCode::parse(k).map_err(|e| format!("issuers.{k}: {e}"))?;
            r.validate().map_err(|e| format!("issuers.{k}: {e}"))?;
        }
        Ok(book)
    }

    pub fn for_issuer(&self, issuer: &OrgCode) -> &ResponseRules {
        self.issuers.get(issuer.as_str()).unwrap_or(&self.default)
    }

    /// This book with an installation's own rules in place of the issuers'
    /// (an issuer without one keeps its rule here, or the default).
    pub fn with_overrides<'a>(
        &self,
        overrides: impl IntoIterator<Item = (&'a OrgCode, &'a ResponseRules)>,
    ) -> RulesBook {
        let mut book = self.clone();
        for (org, rules) in overrides {
            book.issuers.insert(org.as_str().to_string(), rules.clone());
        }
        book
    }
}

/// The date an addressee's answer falls due: its own date, else the
/// recommendation's, else publication plus the issuer's period.
pub fn due_for(
    rec: &RecommendationData,
    addressee: &Addressee,
    rules: &ResponseRules,
) -> Option<NaiveDate> {
    addressee
        .due
        .or(rec.response_deadline)
        .or_else(|| rec.published.map(|p| due_from(p, rules)))
}

/// Publication plus the issuer's period, in calendar days (a 56-day period
/// from 4 January 2024 ends on 29 February).
pub fn due_from(published: NaiveDate, rules: &ResponseRules) -> NaiveDate {
    published + Duration::days(i64::from(rules.days_to_respond))
}

/// Days past due as of a date (None when not yet late). Due on the 1st means
/// late from the 2nd.
pub fn days_overdue(due: NaiveDate, as_of: NaiveDate) -> Option<i64> {
    let d = (as_of - due).num_days();
    (d > 0).then_some(d)
}

/// A recommendation that a person publishes without a date of publication
/// is published `today` (the day the register records it), so that it is
/// listed as recently published and its answers fall due by the issuer's
/// rule. Only the act of publishing a draft, or creating a record straight
/// into published, sets it: a record imported without a date keeps none.
pub fn settle_publication(rec: &mut RecommendationData, was_draft: bool, today: NaiveDate) {
    if was_draft && rec.status == Lifecycle::Published && rec.published.is_none() {
        rec.published = Some(today);
    }
}

/// Fills the recommendation's deadline from the issuer's rules when it is
/// published without one, so that every published record has a due date.
pub fn settle_deadline(rec: &mut RecommendationData, book: &RulesBook) {
    if rec.status != Lifecycle::Draft
        && rec.response_deadline.is_none()
        && let Some(p) = rec.published
    {
        rec.response_deadline = Some(due_from(p, book.for_issuer(&rec.issuer)));
    }
}

/// Whether this addressee's answer is late as of `as_of`: due before it,
/// no response received on or before it, and still expected.
pub fn overdue_as_of(
    rec: &RecommendationData,
    addressee: &Addressee,
    rules: &ResponseRules,
    as_of: NaiveDate,
) -> Option<(NaiveDate, i64)> {
    if rec.status != Lifecycle::Published
        || matches!(
            addressee.status,
            AddresseeStatus::NotRequired | AddresseeStatus::Dormant | AddresseeStatus::Closed
        )
    {
        return None;
    }
    // A reply without a date counts as received (PFD replies are published
    // undated); one dated after `as_of` had not arrived yet.
    let answered = addressee
        .responses
        .iter()
        .any(|r| r.received.is_none_or(|d| d <= as_of));
    if answered {
        return None;
    }
    let due = due_for(rec, addressee, rules)?;
    days_overdue(due, as_of).map(|d| (due, d))
}

/// The next escalation step this addressee is ready for as of `today`, if any.
pub fn next_escalation(
    rec: &RecommendationData,
    addressee: &Addressee,
    rules: &ResponseRules,
    today: NaiveDate,
) -> Option<(EscalationStep, NaiveDate)> {
    overdue_as_of(rec, addressee, rules, today)?;
    let due = due_for(rec, addressee, rules)?;
    let step = rules.ladder.get(addressee.escalations.len())?;
    let from = step.from(due);
    (today >= from).then_some((step.step, from))
}

#[cfg(test)]
mod tests;
