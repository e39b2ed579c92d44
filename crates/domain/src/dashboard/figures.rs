//! The answer: the dashboard's figures as returned (and as the store's SQL
//! computes them too), the query that asks for them, the kinds of body
//! figures land on, and the limits on how many rows are listed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::organisation::{OrgKind, Organisation, ProviderKind};
use crate::string_enum;

string_enum!(
    /// Where an addressee sits, for the burden landing on each kind of
    /// provider: a provider's kind, or the kind of body it is otherwise.
    Landing {
        AcuteTrust => "acute_trust",
        MentalHealthTrust => "mental_health_trust",
        AmbulanceService => "ambulance_service",
        CommunityTrust => "community_trust",
        CareHome => "care_home",
        GpPractice => "gp_practice",
        Hospice => "hospice",
        IndependentProvider => "independent_provider",
        /// A provider whose kind is not known.
        OtherProvider => "other_provider",
        Icb => "icb",
        LocalAuthority => "local_authority",
        Police => "police",
        Prison => "prison",
        /// National bodies, regulators, government, professional bodies.
        NationalBody => "national_body",
        Other => "other",
        /// An addressee that is neither registered nor recognisable by name.
        Unknown => "unknown",
    }
);

impl Landing {
    pub fn label(self) -> &'static str {
        match self {
            Landing::AcuteTrust => "Acute trusts",
            Landing::MentalHealthTrust => "Mental health trusts",
            Landing::AmbulanceService => "Ambulance services",
            Landing::CommunityTrust => "Community trusts",
            Landing::CareHome => "Care homes",
            Landing::GpPractice => "GP practices",
            Landing::Hospice => "Hospices",
            Landing::IndependentProvider => "Independent providers",
            Landing::OtherProvider => "Other providers",
            Landing::Icb => "Integrated care boards",
            Landing::LocalAuthority => "Local authorities",
            Landing::Police => "Police forces",
            Landing::Prison => "Prisons",
            Landing::NationalBody => "National bodies",
            Landing::Other => "Other bodies",
            Landing::Unknown => "Not recognised",
        }
    }

    fn of_provider(k: ProviderKind) -> Landing {
        match k {
            ProviderKind::AcuteTrust => Landing::AcuteTrust,
            ProviderKind::MentalHealthTrust => Landing::MentalHealthTrust,
            ProviderKind::AmbulanceService => Landing::AmbulanceService,
            ProviderKind::CommunityTrust => Landing::CommunityTrust,
            ProviderKind::CareHome => Landing::CareHome,
            ProviderKind::GpPractice => Landing::GpPractice,
            ProviderKind::Hospice => Landing::Hospice,
            ProviderKind::IndependentProvider => Landing::IndependentProvider,
        }
    }

    /// From the words of an addressee's name, when the register does not
    /// say (most addressees of coroners' reports are not registered).
    pub fn from_name(name: &str) -> Landing {
        let n = format!(" {} ", name.to_lowercase());
        let has = |w: &str| n.contains(w);
        if has("ambulance") {
            Landing::AmbulanceService
        } else if has("mental health") {
            Landing::MentalHealthTrust
        } else if has("community health") || has("community services") {
            Landing::CommunityTrust
        } else if has("care home") || has("nursing home") {
            Landing::CareHome
        } else if has("hospice") {
            Landing::Hospice
        } else if has(" surgery ") || has("medical practice") || has("gp practice") {
            Landing::GpPractice
        } else if has("integrated care board") || has(" icb ") {
            Landing::Icb
        } else if has(" police") || has(" constabulary ") {
            Landing::Police
        } else if has(" hmp ") || has(" prison") {
            Landing::Prison
        } else if has(" council ") || has("borough") {
            Landing::LocalAuthority
        } else if has("hospital") {
            Landing::AcuteTrust
        } else if has(" trust ") {
            Landing::OtherProvider
        } else {
            Landing::Unknown
        }
    }

    /// A registered organisation's landing: its provider kind, its kind of
    /// body, or for a provider of unrecorded kind, what its name says.
    pub fn of_organisation(o: &Organisation, written: &str) -> Landing {
        match o.kind {
            OrgKind::Provider => match o.provider_kind {
                Some(k) => Landing::of_provider(k),
                None => match Landing::from_name(&o.name) {
                    Landing::Unknown => match Landing::from_name(written) {
                        Landing::Unknown => Landing::OtherProvider,
                        l => l,
                    },
                    l => l,
                },
            },
            OrgKind::Icb => Landing::Icb,
            OrgKind::LocalAuthority => Landing::LocalAuthority,
            OrgKind::Police => Landing::Police,
            OrgKind::Prison => Landing::Prison,
            OrgKind::Coroner | OrgKind::Other => Landing::Other,
            _ => Landing::NationalBody,
        }
    }
}

/// Which figures to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardQuery {
    pub issuer: Option<String>,
    pub theme: Option<String>,
    pub setting: Option<String>,
    pub year: Option<i32>,
    pub as_of: NaiveDate,
    /// How many addressee rows to return (busiest first); None: all.
    pub addressee_limit: Option<usize>,
}

impl DashboardQuery {
    pub fn new(as_of: NaiveDate) -> Self {
        DashboardQuery {
            issuer: None,
            theme: None,
            setting: None,
            year: None,
            as_of,
            addressee_limit: Some(DEFAULT_ADDRESSEE_ROWS),
        }
    }
}

/// Addressee rows shown unless more are asked for.
pub const DEFAULT_ADDRESSEE_ROWS: usize = 50;
/// The oldest overdue answers listed.
pub const OLDEST_OVERDUE: usize = 20;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Counts {
    /// Recommendations with at least one item in this row.
    pub recommendations: u64,
    /// Items: one recommendation to one addressee.
    pub items: u64,
    pub open: u64,
    pub overdue: u64,
    pub answered: u64,
    pub implemented: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Row {
    /// What the row is filtered by (an issuer code, a theme as written...).
    pub key: String,
    /// How a person reads it (an organisation's code or an addressee's name).
    pub label: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResponseTime {
    pub key: String,
    /// Answers with a dated response and a publication date.
    pub answers: u64,
    pub median_days: Option<u32>,
    pub p90_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OverdueItem {
    pub id: String,
    pub issuer: String,
    pub addressee: String,
    pub org: Option<String>,
    pub due: NaiveDate,
    pub days_overdue: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LandingRow {
    pub kind: String,
    pub label: String,
    /// Open recommendations with at least one open item on this kind.
    pub open_recommendations: u64,
    pub open_items: u64,
    /// Of those recommendations, how many carry a cost in GBP.
    pub costed: u64,
    /// Sums over the costed ones (each recommendation once per kind).
    pub one_off_gbp: f64,
    pub recurring_gbp: f64,
    /// Costed in another currency (not summed).
    pub other_currency: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Filters {
    pub issuer: Option<String>,
    pub theme: Option<String>,
    pub setting: Option<String>,
    pub year: Option<i32>,
}

/// Every figure of the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Dashboard {
    pub as_of: NaiveDate,
    pub filters: Filters,
    pub totals: Counts,
    pub by_issuer: Vec<Row>,
    /// Busiest first (most open items); `addressees_total` says how many there are.
    pub by_addressee: Vec<Row>,
    pub addressees_total: u64,
    pub by_theme: Vec<Row>,
    pub by_setting: Vec<Row>,
    /// By year of publication ("unknown" when not published with a date).
    pub by_year: Vec<Row>,
    /// Overall, then by issuer.
    pub response_times: Vec<ResponseTime>,
    /// The longest overdue, oldest first.
    pub oldest_overdue: Vec<OverdueItem>,
    pub by_provider_kind: Vec<LandingRow>,
    /// Open recommendations landing on someone with no cost estimate at all.
    pub uncosted_total: u64,
    /// The newest of them (at most 50), newest first.
    pub uncosted: Vec<UncostedItem>,
}

/// An open recommendation that carries no cost estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UncostedItem {
    pub id: String,
    pub issuer: String,
    pub published: Option<NaiveDate>,
    /// The kinds of body it lands on (labels, as in `by_provider_kind`).
    pub lands_on: Vec<String>,
}

/// How many uncosted recommendations are listed by name.
pub const UNCOSTED_LISTED: usize = 50;
