//! The register's records: recommendations, their addressees and responses,
//! links, sources, workstreams and audit events.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{OrgCode, RecommendationId, Reference};
use crate::lifecycle::records::{
    Acceptance, ActionItem, AssessmentRecord, Closure, Escalation, Implementation, ProgressUpdate,
};
use crate::{DomainError, FieldError};

/// Declares a closed set of values that travel as lower-case strings (JSON,
/// CSV cells, database TEXT), with an error that lists the allowed values.
#[macro_export]
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(rename_all = "snake_case"))]
        pub enum $name { $($(#[$vm])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            pub fn allowed() -> String {
                [$($s),+].join(", ")
            }
            /// The name in words, as people read it (`not_accepted` reads
            /// `not accepted`); an enum with names of its own for people
            /// has a `label` too.
            pub fn in_words(&self) -> String {
                self.as_str().replace('_', " ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let t = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                match t.as_str() {
                    $($s => Ok($name::$variant),)+
                    _ => Err(format!("{:?} is not one of: {}", s, $name::allowed())),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

string_enum!(
    /// What kind of output a recommendation is (HSSIB distinguishes four).
    RecKind {
        Recommendation => "recommendation",
        SafetyObservation => "safety_observation",
        SafetyAction => "safety_action",
        Concern => "concern",
    }
);

string_enum!(
    /// Where a recommendation is in its life. Drafts are seen only by the issuer.
    Lifecycle {
        Draft => "draft",
        Published => "published",
        Closed => "closed",
        Withdrawn => "withdrawn",
        Superseded => "superseded",
    }
);

string_enum!(
    /// The level of the system a recommendation is aimed at.
    SystemLevel {
        National => "national",
        Regional => "regional",
        System => "system",
        Provider => "provider",
    }
);

string_enum!(
    /// Where one addressee stands with its answer.
    AddresseeStatus {
        AwaitingResponse => "awaiting_response",
        ResponseReceived => "response_received",
        /// The issuer has judged the response.
        Assessed => "assessed",
        /// Set aside by the issuer (no action expected for now); may be reopened.
        Dormant => "dormant",
        /// Closed by the issuer with a reason.
        Closed => "closed",
        NotRequired => "not_required",
    }
);

// The macro derives its own traits, so Default is written out.
#[allow(clippy::derivable_impls)]
impl Default for AddresseeStatus {
    fn default() -> Self {
        AddresseeStatus::AwaitingResponse
    }
}

impl AddresseeStatus {
    /// Still expects something from the addressee or the issuer.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            AddresseeStatus::Closed | AddresseeStatus::NotRequired | AddresseeStatus::Dormant
        )
    }
}

string_enum!(
    LinkKind {
        Duplicates => "duplicates",
        Supports => "supports",
        Contradicts => "contradicts",
        Supersedes => "supersedes",
        BuildsOn => "builds_on",
        Related => "related",
    }
);

string_enum!(
    /// A person asserted the link, or the similarity engine suggested it and
    /// nobody has confirmed it yet.
    LinkState {
        Confirmed => "confirmed",
        Suggested => "suggested",
        Dismissed => "dismissed",
    }
);

string_enum!(
    EvidenceKind {
        Investigation => "investigation",
        Inquest => "inquest",
        Inspection => "inspection",
        Audit => "audit",
        SystematicReview => "systematic_review",
        Guideline => "guideline",
        ExpertOpinion => "expert_opinion",
        IncidentData => "incident_data",
        Other => "other",
    }
);

string_enum!(
    EvidenceStrength {
        Strong => "strong",
        Moderate => "moderate",
        Limited => "limited",
        None => "none",
    }
);

string_enum!(
    Confidence {
        High => "high",
        Medium => "medium",
        Low => "low",
    }
);

string_enum!(
    /// Which way a recommendation moves inequalities for the groups named.
    EqualityDirection {
        Reduces => "reduces",
        Widens => "widens",
        Neutral => "neutral",
        Unknown => "unknown",
    }
);

string_enum!(
    Risk {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

/// The report or letter a recommendation came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Source {
    pub title: Option<String>,
    pub date: Option<NaiveDate>,
    pub url: Option<String>,
    /// The issuer's own reference for the report.
    pub local_ref: Option<String>,
}

/// A response received from one addressee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Response {
    pub received: Option<NaiveDate>,
    pub respondent: Option<String>,
    pub url: Option<String>,
    pub text: Option<String>,
    /// What the addressee said it would do (None for replies imported
    /// without a stated position, such as published PFD reply letters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
    /// Why not accepted, or which recommendation it supports instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasons: Option<String>,
}

/// One body a recommendation is sent to, and where its answer stands.
/// Acceptance (what it said) and implementation (what it did) are kept
/// apart, and both apart from the issuer's assessment; see [`crate::lifecycle`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Addressee {
    /// As written by the issuer.
    pub name: String,
    /// The organisation it was recognised as, where it could be.
    pub org: Option<OrgCode>,
    #[serde(default)]
    pub status: AddresseeStatus,
    pub due: Option<NaiveDate>,
    #[serde(default)]
    pub responses: Vec<Response>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Acceptance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub implementation: Option<Implementation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assessment: Option<AssessmentRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closure: Option<Closure>,
    /// When the issuer means to look at it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassess_on: Option<NaiveDate>,
    /// When the issuer confirmed that a closed recommendation was implemented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalations: Vec<Escalation>,
    /// The action plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<ActionItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<ProgressUpdate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub kind: Option<EvidenceKind>,
    #[serde(default)]
    pub references: Vec<String>,
    pub strength: Option<EvidenceStrength>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Cost {
    /// One-off cost to implement, in `currency`.
    pub one_off: Option<f64>,
    /// Recurring cost per year, in `currency`.
    pub recurring: Option<f64>,
    pub currency: String,
    pub confidence: Option<Confidence>,
    pub cost_effectiveness: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EqualityImpact {
    #[serde(default)]
    pub groups: Vec<String>,
    pub direction: EqualityDirection,
    pub mitigation: Option<String>,
}

/// A typed relation from this recommendation to another one (or to an
/// external reference such as an NTSB number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Link {
    pub kind: LinkKind,
    pub target: String,
    pub state: LinkState,
    /// The organisation or person who asserted it; None when suggested by the engine.
    pub asserted_by: Option<String>,
    pub asserted_at: Option<DateTime<Utc>>,
}

/// An organisation standing behind another body's recommendation instead
/// of publishing a repeat of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Endorsement {
    pub recommendation: RecommendationId,
    pub org: OrgCode,
    /// What the endorsing body adds (optional).
    pub note: Option<String>,
    /// Who recorded it (an audit label, never an email address).
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Everything about a recommendation that its issuer writes and may edit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecommendationData {
    pub local_ref: Option<String>,
    pub kind: RecKind,
    pub issuer: OrgCode,
    pub source: Option<Source>,
    pub title: String,
    pub text: String,
    pub published: Option<NaiveDate>,
    pub status: Lifecycle,
    pub level: Option<SystemLevel>,
    #[serde(default)]
    pub addressees: Vec<Addressee>,
    #[serde(default)]
    pub themes: Vec<String>,
    #[serde(default)]
    pub settings: Vec<String>,
    pub evidence: Option<Evidence>,
    pub patient_impact: Option<String>,
    pub cost: Option<Cost>,
    pub equality: Option<EqualityImpact>,
    pub risk: Option<Risk>,
    pub response_deadline: Option<NaiveDate>,
    #[serde(default)]
    pub links: Vec<Link>,
}

/// A stored recommendation: its data plus identity and version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recommendation {
    pub id: RecommendationId,
    #[serde(flatten)]
    pub data: RecommendationData,
    /// Starts at 1; every accepted edit adds one. An edit naming an older
    /// version is refused.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The key an import recognised this record by (for PFD reports, the
    /// report's web address), so that importing the same file again adds nothing.
    #[serde(default)]
    pub import_key: Option<String>,
    /// Which source supplied each part, and the values other sources gave
    /// that the record does not use (empty for records entered in Concord).
    #[serde(
        default,
        skip_serializing_if = "crate::provenance::records::Provenance::is_empty"
    )]
    pub provenance: crate::provenance::records::Provenance,
}

/// How a new record gets its identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdRequest {
    /// This exact id (from our own export, or an author's chosen number).
    /// Refused if it is taken.
    Exact(RecommendationId),
    /// The next number in the issuer's sequence for the year, never below `floor`.
    Allocate {
        issuer: OrgCode,
        year: u16,
        floor: u32,
    },
    /// This id if it is free, otherwise the next number at or above
    /// `fallback_floor` (PFD reports whose judiciary reference is shared with
    /// another report, so that neither report is lost).
    Preferred {
        id: RecommendationId,
        fallback_floor: u32,
    },
}

impl IdRequest {
    pub fn issuer(&self) -> &OrgCode {
        match self {
            IdRequest::Exact(id) | IdRequest::Preferred { id, .. } => &id.issuer,
            IdRequest::Allocate { issuer, .. } => issuer,
        }
    }
}

/// Numbers from here up are given to PFD reports without a usable reference
/// of their own, well above any number the judiciary has used in a year.
pub const PFD_FALLBACK_FLOOR: u32 = 9000;

/// A record on its way into the register (from the API, an import or the demo).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecommendation {
    pub id: IdRequest,
    pub data: RecommendationData,
    pub import_key: Option<String>,
    /// Kept when re-importing our own export, so that a round trip is exact.
    pub version: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Where the record's parts come from (a PFD file's, or an export's own).
    pub provenance: crate::provenance::records::Provenance,
}

impl NewRecommendation {
    /// Carries an exported record back in unchanged.
    pub fn from_export(rec: Recommendation) -> Self {
        NewRecommendation {
            import_key: rec.import_key.clone(),
            id: IdRequest::Exact(rec.id),
            data: rec.data,
            version: Some(rec.version),
            created_at: Some(rec.created_at),
            updated_at: Some(rec.updated_at),
            provenance: rec.provenance,
        }
    }

    /// Builds the stored form once the store has settled the id.
    pub fn into_recommendation(
        self,
        id: RecommendationId,
        now: DateTime<Utc>,
    ) -> Result<Recommendation, DomainError> {
        let mut rec = Recommendation::new(id, self.data, now)?;
        if let Some(v) = self.version {
            if v < 1 {
                return Err(DomainError::invalid(
                    "version",
                    format!("{v} is not a version (they start at 1)"),
                ));
            }
            rec.version = v;
        }
        rec.created_at = self.created_at.unwrap_or(now);
        rec.updated_at = self.updated_at.unwrap_or(rec.created_at);
        rec.import_key = self.import_key;
        Ok(rec)
    }
}

/// Longest title we accept; titles are headings, not texts.
pub const MAX_TITLE_CHARS: usize = 2_000;
/// Longest free-text field we accept (1 MiB). Real PFD concerns run to a few
/// thousand characters; a field far past this is a broken file, not a report.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

fn check_text(errors: &mut Vec<FieldError>, field: &str, value: &str) {
    if value.len() > MAX_TEXT_BYTES {
        errors.push(FieldError::new(
            field,
            format!(
                "{} bytes is longer than the limit of {} bytes",
                value.len(),
                MAX_TEXT_BYTES
            ),
        ));
    }
    if value.chars().any(|c| c == '\0') {
        errors.push(FieldError::new(field, "contains a NUL character"));
    }
}

fn check_opt(errors: &mut Vec<FieldError>, field: &str, value: &Option<String>) {
    if let Some(v) = value {
        check_text(errors, field, v);
    }
}

impl RecommendationData {
    /// Checks every rule a stored record must satisfy, collecting all problems
    /// so that the person fixing a file sees them at once. Also tidies what can
    /// be tidied without changing meaning (trimming, de-duplicating tags).
    pub fn validate(mut self) -> Result<Self, DomainError> {
        let mut errors = Vec::new();
        self.title = self.title.trim().to_string();
        self.text = self.text.trim().to_string();
        if self.title.is_empty() {
            errors.push(FieldError::new("title", "is empty"));
        } else if self.title.chars().count() > MAX_TITLE_CHARS {
            errors.push(FieldError::new(
                "title",
                format!("is longer than {MAX_TITLE_CHARS} characters"),
            ));
        }
        check_text(&mut errors, "title", &self.title);
        if self.text.is_empty() {
            errors.push(FieldError::new("text", "is empty"));
        }
        check_text(&mut errors, "text", &self.text);
        check_opt(&mut errors, "local_ref", &self.local_ref);
        check_opt(&mut errors, "patient_impact", &self.patient_impact);
        if let Some(src) = &self.source {
            check_opt(&mut errors, "source.title", &src.title);
            check_opt(&mut errors, "source.url", &src.url);
            check_opt(&mut errors, "source.local_ref", &src.local_ref);
        }
        for (field, tags) in [
            ("themes", &mut self.themes),
            ("settings", &mut self.settings),
        ] {
            let mut seen = std::collections::BTreeSet::new();
            tags.retain_mut(|t| {
                *t = t.trim().to_string();
                !t.is_empty() && seen.insert(t.to_lowercase())
            });
            for t in tags.iter() {
                check_text(&mut errors, field, t);
            }
        }
        for (i, a) in self.addressees.iter_mut().enumerate() {
            a.name = a.name.trim().to_string();
            if a.name.is_empty() {
                errors.push(FieldError::new(format!("addressees[{i}].name"), "is empty"));
            }
            check_text(&mut errors, &format!("addressees[{i}].name"), &a.name);
            if let (Some(due), Some(published)) = (a.due, self.published)
                && due < published
            {
                errors.push(FieldError::new(
                    format!("addressees[{i}].due"),
                    format!("{due} is before the publication date {published}"),
                ));
            }
            for (j, r) in a.responses.iter().enumerate() {
                check_opt(
                    &mut errors,
                    &format!("addressees[{i}].responses[{j}].text"),
                    &r.text,
                );
                check_opt(
                    &mut errors,
                    &format!("addressees[{i}].responses[{j}].url"),
                    &r.url,
                );
                check_opt(
                    &mut errors,
                    &format!("addressees[{i}].responses[{j}].respondent"),
                    &r.respondent,
                );
            }
        }
        if let (Some(deadline), Some(published)) = (self.response_deadline, self.published)
            && deadline < published
        {
            errors.push(FieldError::new(
                "response_deadline",
                format!("{deadline} is before the publication date {published}"),
            ));
        }
        if let Some(cost) = &self.cost {
            for (f, v) in [
                ("cost.one_off", cost.one_off),
                ("cost.recurring", cost.recurring),
            ] {
                if let Some(v) = v
                    && (!v.is_finite() || v < 0.0)
                {
                    errors.push(FieldError::new(
                        f,
                        format!("{v} is not a non-negative amount"),
                    ));
                }
            }
            if cost.currency.len() != 3 || !cost.currency.chars().all(|c| c.is_ascii_uppercase()) {
                errors.push(FieldError::new(
                    "cost.currency",
                    format!(
                        "{:?} is not a three-letter currency code such as GBP",
                        cost.currency
                    ),
                ));
            }
            check_opt(
                &mut errors,
                "cost.cost_effectiveness",
                &cost.cost_effectiveness,
            );
        }
        if let Some(eq) = &self.equality {
            check_opt(&mut errors, "equality.mitigation", &eq.mitigation);
        }
        for (i, l) in self.links.iter().enumerate() {
            if Reference::parse(&l.target).is_err() {
                errors.push(FieldError::new(
                    format!("links[{i}].target"),
                    format!(
                        "{:?} is not a Concord id or a known external reference",
                        l.target
                    ),
                ));
            }
        }
        match errors.len() {
            0 => Ok(self),
            1 => Err(DomainError::Invalid(errors.remove(0))),
            _ => Err(DomainError::InvalidMany(errors)),
        }
    }

    /// The date an addressee's answer falls due: its own, else the
    /// recommendation's.
    pub fn due_for(&self, addressee: &Addressee) -> Option<NaiveDate> {
        addressee.due.or(self.response_deadline)
    }
}

impl Recommendation {
    /// Builds a stored record at version 1.
    pub fn new(
        id: RecommendationId,
        data: RecommendationData,
        now: DateTime<Utc>,
    ) -> Result<Self, DomainError> {
        if id.issuer != data.issuer {
            return Err(DomainError::invalid(
                "id",
                format!("{id} does not belong to the issuer {}", data.issuer),
            ));
        }
        let data = data.validate()?;
        Ok(Recommendation {
            provenance: Default::default(),
            id,
            data,
            version: 1,
            created_at: now,
            updated_at: now,
            import_key: None,
        })
    }
}

string_enum!(
    WorkstreamStatus {
        Planned => "planned",
        Active => "active",
        Paused => "paused",
        Completed => "completed",
        Stopped => "stopped",
    }
);

/// Ongoing work at a body. Stored now; its use comes with the ongoing-work issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Workstream {
    pub id: String,
    pub title: String,
    pub aim: Option<String>,
    pub lead: OrgCode,
    #[serde(default)]
    pub partners: Vec<OrgCode>,
    #[serde(default)]
    pub themes: Vec<String>,
    #[serde(default)]
    pub settings: Vec<String>,
    pub status: WorkstreamStatus,
    pub start: Option<NaiveDate>,
    pub expected_end: Option<NaiveDate>,
    pub contact: Option<String>,
    pub public: bool,
    #[serde(default)]
    pub recommendations: Vec<RecommendationId>,
}

/// A reply to be attached to a report already in the register (the PFD
/// toolkit's responses file).
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseAttachment {
    /// The caller's row number, for reporting.
    pub row: usize,
    /// The import key of the report it answers.
    pub parent_key: String,
    /// Who answered, as written.
    pub respondent: Option<String>,
    /// Respondent recognised as an organisation, where it could be.
    pub respondent_org: Option<OrgCode>,
    pub response: Response,
}

/// Who made a change: shown in the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    /// e.g. `cli:root`, `token:HSSIB:3`, `import`.
    pub label: String,
    /// The organisation acting, when there is one.
    pub org: Option<OrgCode>,
}

impl Actor {
    pub fn system(label: impl Into<String>) -> Self {
        Actor {
            label: label.into(),
            org: None,
        }
    }
}

/// One entry in the audit trail. Nothing is ever changed without one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<serde_json::Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> RecommendationData {
        RecommendationData {
            local_ref: None,
            kind: RecKind::Recommendation,
            issuer: OrgCode::parse("HSSIB").unwrap(),
            source: None,
            title: " Sepsis screening ".into(),
            text: "Screen for sepsis within one hour.".into(),
            published: NaiveDate::from_ymd_opt(2024, 9, 16),
            status: Lifecycle::Published,
            level: Some(SystemLevel::National),
            addressees: vec![Addressee {
                name: "NHS England".into(),
                org: Some(OrgCode::parse("NHSE").unwrap()),
                status: AddresseeStatus::AwaitingResponse,
                due: NaiveDate::from_ymd_opt(2024, 12, 15),
                responses: vec![],
                ..Default::default()
            }],
            themes: vec!["sepsis".into(), " Sepsis".into(), "".into()],
            settings: vec![],
            evidence: None,
            patient_impact: None,
            cost: None,
            equality: None,
            risk: Some(Risk::High),
            response_deadline: None,
            links: vec![],
        }
    }

    #[test]
    fn validate_tidies_tags_and_title() {
        let d = sample().validate().unwrap();
        assert_eq!(d.title, "Sepsis screening");
        assert_eq!(d.themes, vec!["sepsis"]);
    }

    #[test]
    fn validate_collects_every_problem() {
        let mut d = sample();
        d.title = "  ".into();
        d.addressees[0].due = NaiveDate::from_ymd_opt(2024, 1, 1);
        d.text = "x".repeat(MAX_TEXT_BYTES + 1);
        let err = d.validate().unwrap_err();
        let fields: Vec<String> = err.fields().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, vec!["title", "text", "addressees[0].due"]);
    }

    #[test]
    fn enums_parse_leniently_and_print_canonically() {
        assert_eq!(
            "Safety Observation".parse::<RecKind>().unwrap(),
            RecKind::SafetyObservation
        );
        assert_eq!("builds-on".parse::<LinkKind>().unwrap(), LinkKind::BuildsOn);
        let err = "maybe".parse::<Risk>().unwrap_err();
        assert!(err.contains("low, medium, high, critical"), "{err}");
    }

    #[test]
    fn json_round_trip_keeps_every_field() {
        let now = DateTime::parse_from_rfc3339("2024-09-16T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let id = RecommendationId::parse("HSSIB-2024-0012").unwrap();
        let rec = Recommendation::new(id, sample(), now).unwrap();
        let json = serde_json::to_string(&rec).unwrap();
        assert!(json.starts_with("{\"id\":\"HSSIB-2024-0012\""), "{json}");
        let back: Recommendation = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rec);
    }

    #[test]
    fn id_must_belong_to_issuer() {
        let now = Utc::now();
        let id = RecommendationId::parse("CQC-2024-0001").unwrap();
        assert!(Recommendation::new(id, sample(), now).is_err());
    }
}
