//! Deadlines and escalation, from the issuer's rules (held as data).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::records::EscalationStep;
use crate::error::DomainError;
use crate::ids::OrgCode;
use crate::model::{Addressee, AddresseeStatus, Lifecycle, RecommendationData};

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
pub const BUILTIN_RULES: &str = include_str!("../../rules/response_rules.json");

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
