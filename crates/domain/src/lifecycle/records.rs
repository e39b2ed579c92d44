//! The records of what happens to one addressee's part: its stated position
//! (acceptance), how far it has got (implementation), the issuer's
//! assessment, closure, escalation, the action plan and progress updates.
//!
//! A leaf: it imports nothing from the model, so that the model's
//! `Addressee` can hold these types without a circle of modules.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

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
    pub(super) fn claims_implementation(self) -> bool {
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
    pub(super) fn describe(self) -> &'static str {
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
