//! The oversight dashboard's figures: open, overdue, answered and
//! implemented counts by issuer, addressee, theme, setting and year;
//! response times; the oldest overdue answers; and the open recommendations
//! (with their cost) landing on each kind of provider.
//!
//! The unit counted is an *item*: one recommendation to one addressee (each
//! addressee has its own answer and status, as in the NTSB's register).
//! Every row also says how many recommendations it covers.
//!
//! [`FactTable`] holds a compact copy of what the figures need (a few dozen
//! bytes per item), so that every figure is one pass over memory. It is
//! derived data: the service layer fills it from the database and keeps it
//! in step from the outbox. Nothing here performs I/O.
//!
//! Definitions (as of a date):
//! - *counted*: every recommendation that is not a draft (drafts never count);
//! - *open*: the recommendation is published and the addressee's status is
//!   open (awaiting response, response received, assessed);
//! - *overdue*: exactly [`crate::lifecycle::overdue_as_of`] (tested against it);
//! - *answered*: a response was received on or before the date (an undated
//!   reply counts as received, as in `overdue_as_of`);
//! - *implemented*: the addressee reported it implemented (or the issuer
//!   verified it), or the issuer closed it as implemented;
//! - *response time*: days from publication to the first dated response, for
//!   answers received by the date.

use std::collections::{BinaryHeap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::lifecycle::{ClosureReason, Implementation, RulesBook, due_for};
use crate::model::{AddresseeStatus, Lifecycle, RecommendationData};
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

/// What the figures need of one addressee.
#[derive(Debug, Clone, PartialEq)]
pub struct AddresseeFacts {
    pub name: String,
    pub org: Option<String>,
    pub status: AddresseeStatus,
    /// When its answer falls due ([`due_for`]).
    pub due: Option<NaiveDate>,
    /// Whether any response carries no date (counts as received).
    pub undated_response: bool,
    /// The earliest dated response.
    pub first_response: Option<NaiveDate>,
    pub implementation: Option<Implementation>,
    pub closure: Option<ClosureReason>,
}

/// What the figures need of one recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct RecFacts {
    pub id: String,
    pub issuer: String,
    pub status: Lifecycle,
    pub published: Option<NaiveDate>,
    pub themes: Vec<String>,
    pub settings: Vec<String>,
    /// One-off and recurring cost, and the currency.
    pub cost: Option<(Option<f64>, Option<f64>, String)>,
    pub addressees: Vec<AddresseeFacts>,
}

impl RecFacts {
    /// From a full record (the service layer's catch-up, and tests).
    pub fn of(id: &str, rec: &RecommendationData, rules: &RulesBook) -> RecFacts {
        let r = rules.for_issuer(&rec.issuer);
        RecFacts {
            id: id.to_string(),
            issuer: rec.issuer.to_string(),
            status: rec.status,
            published: rec.published,
            themes: rec.themes.clone(),
            settings: rec.settings.clone(),
            cost: rec
                .cost
                .as_ref()
                .map(|c| (c.one_off, c.recurring, c.currency.clone())),
            addressees: rec
                .addressees
                .iter()
                .map(|a| AddresseeFacts {
                    name: a.name.clone(),
                    org: a.org.as_ref().map(|o| o.to_string()),
                    status: a.status,
                    due: due_for(rec, a, r),
                    undated_response: a.responses.iter().any(|x| x.received.is_none()),
                    first_response: a.responses.iter().filter_map(|x| x.received).min(),
                    implementation: a.implementation,
                    closure: a.closure.as_ref().map(|c| c.reason),
                })
                .collect(),
        }
    }
}

/// The due date as the store holds it: the addressee's own, else the
/// recommendation's deadline, else publication plus the issuer's period
/// (the same rule as [`due_for`], from columns).
pub fn due_from_columns(
    addressee_due: Option<NaiveDate>,
    deadline: Option<NaiveDate>,
    published: Option<NaiveDate>,
    issuer: &str,
    rules: &RulesBook,
) -> Option<NaiveDate> {
    addressee_due.or(deadline).or_else(|| {
        published.map(|p| {
            let r = rules.issuers.get(issuer).unwrap_or(&rules.default);
            crate::lifecycle::due_from(p, r)
        })
    })
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
/// Response times longer than this count as this (ten years).
const MAX_RESPONSE_DAYS: usize = 3650;

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

const NONE_DAY: i32 = i32::MIN;
const NEVER: i32 = i32::MAX;

fn day(d: Option<NaiveDate>) -> i32 {
    d.map(|d| d.num_days_from_ce()).unwrap_or(NONE_DAY)
}

fn undo_day(d: i32) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt(d).unwrap_or_default()
}

/// Strings seen once, numbered.
#[derive(Debug, Default, Clone)]
struct Interner {
    ids: HashMap<String, u32>,
    /// The first form seen of each (its key is the lower-cased form).
    labels: Vec<String>,
}

impl Interner {
    fn id(&mut self, s: &str, fold: bool) -> u32 {
        let key = if fold {
            s.to_lowercase()
        } else {
            s.to_string()
        };
        if let Some(&i) = self.ids.get(&key) {
            return i;
        }
        let i = self.labels.len() as u32;
        self.ids.insert(key, i);
        self.labels.push(s.to_string());
        i
    }

    fn find(&self, s: &str, fold: bool) -> Option<u32> {
        if fold {
            self.ids.get(&s.to_lowercase()).copied()
        } else {
            self.ids.get(s).copied()
        }
    }
}

const CLOSED_DONE: u8 = 1;
const IMPL_DONE: u8 = 2;

#[derive(Debug, Clone, Copy)]
struct Item {
    rec: u32,
    addressee: u32,
    status: AddresseeStatus,
    flags: u8,
    due: i32,
    /// Earliest response (NONE_DAY when one is undated, NEVER when none).
    answered_on: i32,
    /// Earliest dated response (NEVER when none).
    first_dated: i32,
}

#[derive(Debug, Clone)]
struct RecRow {
    id: Box<str>,
    issuer: u32,
    status: Lifecycle,
    published: i32,
    year: i32,
    /// Theme ids, then setting ids.
    tags: Box<[u32]>,
    n_themes: u8,
    one_off: f64,
    recurring: f64,
    /// 0 none, 1 GBP, 2 another currency.
    cost: u8,
    items: std::ops::Range<u32>,
    live: bool,
}

#[derive(Debug, Clone)]
struct AddresseeKey {
    org: Option<String>,
    landing: Landing,
}

/// The compact fact table: a copy of what the figures need, kept in step by
/// the service layer. Drafts are never added.
#[derive(Debug, Default, Clone)]
pub struct FactTable {
    recs: Vec<RecRow>,
    items: Vec<Item>,
    by_id: HashMap<Box<str>, u32>,
    free: Vec<u32>,
    dead_items: usize,
    issuers: Interner,
    tags: Interner,
    addressees: Interner,
    addressee_keys: Vec<AddresseeKey>,
    orgs: HashMap<String, Organisation>,
}

impl FactTable {
    pub fn new() -> Self {
        Self::default()
    }

    /// Recommendations held (drafts are not).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Items held.
    pub fn items(&self) -> usize {
        self.items.len() - self.dead_items
    }

    /// Approximate bytes held (for the benchmark's report).
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        self.recs.capacity() * size_of::<RecRow>()
            + self
                .recs
                .iter()
                .map(|r| r.id.len() + r.tags.len() * 4)
                .sum::<usize>()
            + self.items.capacity() * size_of::<Item>()
            + self.by_id.capacity() * (size_of::<Box<str>>() + 4 + 16)
    }

    /// The registered organisations, for the kind of each addressee.
    /// Returns whether anything changed.
    pub fn set_organisations(&mut self, orgs: &[Organisation]) -> bool {
        let same = orgs.len() == self.orgs.len()
            && orgs
                .iter()
                .all(|o| self.orgs.get(o.code.as_str()) == Some(o));
        if same {
            return false;
        }
        self.orgs = orgs
            .iter()
            .map(|o| (o.code.to_string(), o.clone()))
            .collect();
        for (i, k) in self.addressee_keys.iter_mut().enumerate() {
            k.landing = landing(&self.orgs, k.org.as_deref(), &self.addressees.labels[i]);
        }
        true
    }

    /// Adds or replaces a recommendation (a draft is removed instead).
    pub fn upsert(&mut self, f: &RecFacts) {
        self.remove(&f.id);
        if f.status == Lifecycle::Draft {
            return;
        }
        let start = self.items.len() as u32;
        let idx = match self.free.pop() {
            Some(i) => i,
            None => {
                self.recs.push(RecRow {
                    id: "".into(),
                    issuer: 0,
                    status: Lifecycle::Draft,
                    published: NONE_DAY,
                    year: 0,
                    tags: Box::new([]),
                    n_themes: 0,
                    one_off: 0.0,
                    recurring: 0.0,
                    cost: 0,
                    items: 0..0,
                    live: false,
                });
                (self.recs.len() - 1) as u32
            }
        };
        for a in &f.addressees {
            // Registered addressees are grouped by code, others by name.
            let key = match &a.org {
                Some(o) => self.addressees.id(o, false),
                None => self.addressees.id(&a.name, true),
            };
            if key as usize == self.addressee_keys.len() {
                self.addressee_keys.push(AddresseeKey {
                    org: a.org.clone(),
                    landing: landing(&self.orgs, a.org.as_deref(), &a.name),
                });
            }
            let done = matches!(
                a.implementation,
                Some(Implementation::Implemented | Implementation::Verified)
            );
            let closed_done = matches!(
                a.closure,
                Some(ClosureReason::Implemented | ClosureReason::ImplementedAlternative)
            );
            let first_dated = a
                .first_response
                .map(|d| d.num_days_from_ce())
                .unwrap_or(NEVER);
            self.items.push(Item {
                rec: idx,
                addressee: key,
                status: a.status,
                flags: (if done { IMPL_DONE } else { 0 })
                    | (if closed_done { CLOSED_DONE } else { 0 }),
                due: day(a.due),
                answered_on: if a.undated_response {
                    NONE_DAY
                } else {
                    first_dated
                },
                first_dated,
            });
        }
        let mut tags: Vec<u32> = f.themes.iter().map(|t| self.tags.id(t, true)).collect();
        let n_themes = tags.len().min(255) as u8;
        tags.truncate(n_themes as usize);
        tags.extend(f.settings.iter().map(|s| self.tags.id(s, true)));
        let (one_off, recurring, cost) = match &f.cost {
            Some((o, r, cur)) if o.is_some() || r.is_some() => {
                let gbp = cur.eq_ignore_ascii_case("GBP");
                (o.unwrap_or(0.0), r.unwrap_or(0.0), if gbp { 1 } else { 2 })
            }
            _ => (0.0, 0.0, 0),
        };
        let id: Box<str> = f.id.as_str().into();
        self.recs[idx as usize] = RecRow {
            id: id.clone(),
            issuer: self.issuers.id(&f.issuer, true),
            status: f.status,
            published: day(f.published),
            year: f.published.map(|p| p.year()).unwrap_or(0),
            tags: tags.into_boxed_slice(),
            n_themes,
            one_off,
            recurring,
            cost,
            items: start..self.items.len() as u32,
            live: true,
        };
        self.by_id.insert(id, idx);
    }

    /// Forgets a recommendation (deleted, or become a draft).
    pub fn remove(&mut self, id: &str) {
        let Some(idx) = self.by_id.remove(id) else {
            return;
        };
        let r = &mut self.recs[idx as usize];
        r.live = false;
        r.tags = Box::new([]);
        r.id = "".into();
        let range = r.items.clone();
        self.dead_items += range.len();
        for it in &mut self.items[range.start as usize..range.end as usize] {
            it.rec = u32::MAX;
        }
        self.free.push(idx);
        if self.dead_items > 4096 && self.dead_items * 4 > self.items.len() {
            self.compact();
        }
    }

    fn compact(&mut self) {
        let mut items = Vec::with_capacity(self.items.len() - self.dead_items);
        for r in self.recs.iter_mut().filter(|r| r.live) {
            let start = items.len() as u32;
            items.extend_from_slice(&self.items[r.items.start as usize..r.items.end as usize]);
            r.items = start..items.len() as u32;
        }
        self.items = items;
        self.dead_items = 0;
    }

    /// Every figure for a query.
    pub fn figures(&self, q: &DashboardQuery) -> Dashboard {
        let as_of = q.as_of.num_days_from_ce();
        // Filters: an unknown value matches nothing (the rows are empty).
        let want_issuer = q.issuer.as_ref().map(|s| self.issuers.find(s, true));
        let want_theme = q.theme.as_ref().map(|s| self.tags.find(s, true));
        let want_setting = q.setting.as_ref().map(|s| self.tags.find(s, true));
        let nothing = matches!(want_issuer, Some(None))
            || matches!(want_theme, Some(None))
            || matches!(want_setting, Some(None));

        let mut totals = Counts::default();
        let mut issuer_rows = vec![Counts::default(); self.issuers.labels.len()];
        let mut tag_rows_theme = vec![Counts::default(); self.tags.labels.len()];
        let mut tag_rows_setting = vec![Counts::default(); self.tags.labels.len()];
        let mut addr_rows = vec![Counts::default(); self.addressees.labels.len()];
        let mut year_rows: std::collections::BTreeMap<i32, Counts> = Default::default();
        let n_land = Landing::ALL.len();
        let mut land = vec![(0u64, 0u64, 0u64, 0.0f64, 0.0f64, 0u64); n_land];
        let mut hist_all = vec![0u64; MAX_RESPONSE_DAYS + 1];
        let mut hist_issuer: Vec<Vec<u64>> = vec![Vec::new(); self.issuers.labels.len()];
        // The worst kept on top: latest due, then greatest id.
        let mut oldest: BinaryHeap<(i32, &str, u32, u32)> = BinaryHeap::new();
        // Uncosted and open: the oldest kept on top, so the newest stay.
        let mut uncosted: BinaryHeap<std::cmp::Reverse<(i32, &str, u32, u32)>> = BinaryHeap::new();
        let mut uncosted_total = 0u64;

        if !nothing {
            for (ri, r) in self.recs.iter().enumerate() {
                if !r.live {
                    continue;
                }
                if let Some(Some(i)) = want_issuer
                    && r.issuer != i
                {
                    continue;
                }
                if let Some(y) = q.year
                    && r.year != y
                {
                    continue;
                }
                let (themes, settings) = r.tags.split_at(r.n_themes as usize);
                if let Some(Some(t)) = want_theme
                    && !themes.contains(&t)
                {
                    continue;
                }
                if let Some(Some(s)) = want_setting
                    && !settings.contains(&s)
                {
                    continue;
                }
                let items = &self.items[r.items.start as usize..r.items.end as usize];
                let mut rec_counts = Counts {
                    recommendations: 1,
                    ..Default::default()
                };
                let mut land_open: u64 = 0;
                let mut land_items = [0u64; 16];
                for (k, it) in items.iter().enumerate() {
                    let published = r.status == Lifecycle::Published;
                    let open = published && it.status.is_open();
                    let answered = it.answered_on <= as_of;
                    // overdue_as_of: published, still expected, not answered
                    // by the date, and due before it.
                    let overdue = open && !answered && it.due != NONE_DAY && it.due < as_of;
                    let implemented = it.flags != 0;
                    let c = Counts {
                        recommendations: 0,
                        items: 1,
                        open: open as u64,
                        overdue: overdue as u64,
                        answered: answered as u64,
                        implemented: implemented as u64,
                    };
                    add(&mut rec_counts, &c);
                    // An addressee named twice on one record is one recommendation.
                    let first_time = !items[..k].iter().any(|o| o.addressee == it.addressee);
                    let row = &mut addr_rows[it.addressee as usize];
                    add(row, &c);
                    row.recommendations += first_time as u64;
                    if open {
                        let l = self.addressee_keys[it.addressee as usize].landing as usize;
                        land_open |= 1 << l;
                        land_items[l] += 1;
                    }
                    if overdue {
                        let entry = (it.due, &*r.id, ri as u32, k as u32);
                        if oldest.len() < OLDEST_OVERDUE {
                            oldest.push(entry);
                        } else if let Some(top) = oldest.peek()
                            && entry < *top
                        {
                            oldest.pop();
                            oldest.push(entry);
                        }
                    }
                    if it.first_dated <= as_of && r.published != NONE_DAY {
                        let d = it.first_dated - r.published;
                        if d >= 0 {
                            let d = (d as usize).min(MAX_RESPONSE_DAYS);
                            hist_all[d] += 1;
                            let h = &mut hist_issuer[r.issuer as usize];
                            if h.is_empty() {
                                h.resize(MAX_RESPONSE_DAYS + 1, 0);
                            }
                            h[d] += 1;
                        }
                    }
                }
                add(&mut totals, &rec_counts);
                add(&mut issuer_rows[r.issuer as usize], &rec_counts);
                add(year_rows.entry(r.year).or_default(), &rec_counts);
                for t in themes {
                    add(&mut tag_rows_theme[*t as usize], &rec_counts);
                }
                for s in settings {
                    add(&mut tag_rows_setting[*s as usize], &rec_counts);
                }
                if land_open != 0 && r.cost == 0 {
                    uncosted_total += 1;
                    let entry =
                        std::cmp::Reverse((r.published, &*r.id, ri as u32, land_open as u32));
                    if uncosted.len() < UNCOSTED_LISTED {
                        uncosted.push(entry);
                    } else if let Some(top) = uncosted.peek()
                        && entry < *top
                    {
                        uncosted.pop();
                        uncosted.push(entry);
                    }
                }
                if land_open != 0 {
                    for (l, row) in land.iter_mut().enumerate() {
                        if land_open & (1 << l) == 0 {
                            continue;
                        }
                        row.0 += 1;
                        row.1 += land_items[l];
                        match r.cost {
                            1 => {
                                row.2 += 1;
                                row.3 += r.one_off;
                                row.4 += r.recurring;
                            }
                            2 => row.5 += 1,
                            _ => {}
                        }
                    }
                }
            }
        }

        let rows = |counts: &[Counts], labels: &dyn Fn(usize) -> (String, String)| {
            let mut v: Vec<Row> = counts
                .iter()
                .enumerate()
                .filter(|(_, c)| c.items > 0)
                .map(|(i, c)| {
                    let (key, label) = labels(i);
                    Row {
                        key,
                        label,
                        counts: *c,
                    }
                })
                .collect();
            v.sort_by(|a, b| {
                b.counts
                    .open
                    .cmp(&a.counts.open)
                    .then(b.counts.items.cmp(&a.counts.items))
                    .then_with(|| a.label.cmp(&b.label))
            });
            v
        };
        let same = |l: &Vec<String>| {
            let l = l.clone();
            move |i: usize| (l[i].clone(), l[i].clone())
        };
        let by_issuer = rows(&issuer_rows, &same(&self.issuers.labels));
        let by_theme = rows(&tag_rows_theme, &same(&self.tags.labels));
        let by_setting = rows(&tag_rows_setting, &same(&self.tags.labels));
        let mut by_addressee = rows(&addr_rows, &|i| {
            let label = self.addressees.labels[i].clone();
            match &self.addressee_keys[i].org {
                Some(o) => (
                    o.clone(),
                    self.orgs.get(o).map(|x| x.name.clone()).unwrap_or(label),
                ),
                None => (label.clone(), label),
            }
        });
        let addressees_total = by_addressee.len() as u64;
        if let Some(n) = q.addressee_limit {
            by_addressee.truncate(n);
        }
        let by_year = year_rows
            .into_iter()
            .map(|(y, c)| {
                let k = if y == 0 {
                    "unknown".to_string()
                } else {
                    y.to_string()
                };
                Row {
                    key: k.clone(),
                    label: k,
                    counts: c,
                }
            })
            .collect();

        let mut response_times = vec![percentiles("all", &hist_all)];
        let mut per: Vec<ResponseTime> = hist_issuer
            .iter()
            .enumerate()
            .filter(|(_, h)| !h.is_empty())
            .map(|(i, h)| percentiles(&self.issuers.labels[i], h))
            .collect();
        per.sort_by(|a, b| a.key.cmp(&b.key));
        response_times.extend(per);

        let oldest_overdue = oldest
            .into_sorted_vec()
            .into_iter()
            .map(|(due, _, ri, k)| {
                let r = &self.recs[ri as usize];
                let it = &self.items[(r.items.start + k) as usize];
                let key = &self.addressee_keys[it.addressee as usize];
                OverdueItem {
                    id: r.id.to_string(),
                    issuer: self.issuers.labels[r.issuer as usize].clone(),
                    addressee: match &key.org {
                        Some(o) => self.orgs.get(o).map(|x| x.name.clone()).unwrap_or_else(|| {
                            self.addressees.labels[it.addressee as usize].clone()
                        }),
                        None => self.addressees.labels[it.addressee as usize].clone(),
                    },
                    org: key.org.clone(),
                    due: undo_day(due),
                    days_overdue: i64::from(as_of - due),
                }
            })
            .collect();

        let by_provider_kind = Landing::ALL
            .iter()
            .zip(land)
            .filter(|(_, l)| l.0 > 0)
            .map(|(k, l)| LandingRow {
                kind: k.as_str().to_string(),
                label: k.label().to_string(),
                open_recommendations: l.0,
                open_items: l.1,
                costed: l.2,
                one_off_gbp: l.3,
                recurring_gbp: l.4,
                other_currency: l.5,
            })
            .collect();

        let uncosted = uncosted
            .into_sorted_vec()
            .into_iter()
            .map(|std::cmp::Reverse((published, id, ri, mask))| {
                let r = &self.recs[ri as usize];
                UncostedItem {
                    id: id.to_string(),
                    issuer: self.issuers.labels[r.issuer as usize].clone(),
                    published: (published != NONE_DAY).then(|| undo_day(published)),
                    lands_on: Landing::ALL
                        .iter()
                        .enumerate()
                        .filter(|(l, _)| mask & (1 << l) != 0)
                        .map(|(_, k)| k.label().to_string())
                        .collect(),
                }
            })
            .collect();

        Dashboard {
            as_of: q.as_of,
            filters: Filters {
                issuer: q.issuer.clone(),
                theme: q.theme.clone(),
                setting: q.setting.clone(),
                year: q.year,
            },
            totals,
            by_issuer,
            by_addressee,
            addressees_total,
            by_theme,
            by_setting,
            by_year,
            response_times,
            oldest_overdue,
            by_provider_kind,
            uncosted_total,
            uncosted,
        }
    }
}

string_enum!(
    /// The dashboard's tables, each also a CSV download.
    Table {
        Issuer => "issuer",
        Addressee => "addressee",
        Theme => "theme",
        Setting => "setting",
        Year => "year",
        ResponseTimes => "response_times",
        OldestOverdue => "oldest_overdue",
        ProviderKind => "provider_kind",
    }
);

const COUNT_HEADER: [&str; 8] = [
    "key",
    "label",
    "recommendations",
    "items",
    "open",
    "overdue",
    "answered",
    "implemented",
];

fn count_cells(r: &Row) -> Vec<String> {
    let c = &r.counts;
    vec![
        r.key.clone(),
        r.label.clone(),
        c.recommendations.to_string(),
        c.items.to_string(),
        c.open.to_string(),
        c.overdue.to_string(),
        c.answered.to_string(),
        c.implemented.to_string(),
    ]
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(|x| x.to_string()).unwrap_or_default()
}

impl Dashboard {
    /// One table: its header and rows, as text.
    pub fn table(&self, t: Table) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let counts = |rows: &[Row]| {
            (
                COUNT_HEADER.to_vec(),
                rows.iter().map(count_cells).collect(),
            )
        };
        match t {
            Table::Issuer => counts(&self.by_issuer),
            Table::Addressee => counts(&self.by_addressee),
            Table::Theme => counts(&self.by_theme),
            Table::Setting => counts(&self.by_setting),
            Table::Year => counts(&self.by_year),
            Table::ResponseTimes => (
                vec!["issuer", "answers", "median_days", "p90_days"],
                self.response_times
                    .iter()
                    .map(|r| {
                        vec![
                            r.key.clone(),
                            r.answers.to_string(),
                            opt(&r.median_days),
                            opt(&r.p90_days),
                        ]
                    })
                    .collect(),
            ),
            Table::OldestOverdue => (
                vec!["id", "issuer", "addressee", "org", "due", "days_overdue"],
                self.oldest_overdue
                    .iter()
                    .map(|o| {
                        vec![
                            o.id.clone(),
                            o.issuer.clone(),
                            o.addressee.clone(),
                            opt(&o.org),
                            o.due.to_string(),
                            o.days_overdue.to_string(),
                        ]
                    })
                    .collect(),
            ),
            Table::ProviderKind => (
                vec![
                    "kind",
                    "label",
                    "open_recommendations",
                    "open_items",
                    "costed",
                    "one_off_gbp",
                    "recurring_gbp",
                    "other_currency",
                ],
                self.by_provider_kind
                    .iter()
                    .map(|l| {
                        vec![
                            l.kind.clone(),
                            l.label.clone(),
                            l.open_recommendations.to_string(),
                            l.open_items.to_string(),
                            l.costed.to_string(),
                            format!("{:.2}", l.one_off_gbp),
                            format!("{:.2}", l.recurring_gbp),
                            l.other_currency.to_string(),
                        ]
                    })
                    .collect(),
            ),
        }
    }

    /// One table as CSV (RFC 4180, CRLF line ends). A cell that starts with
    /// `=`, `+`, `-` or `@` gets a leading apostrophe so that a spreadsheet
    /// does not run it as a formula (numbers are never negative here).
    pub fn csv(&self, t: Table) -> String {
        let (header, rows) = self.table(t);
        let mut out = crate::text::csv_row(header.iter().copied());
        for r in &rows {
            out.push_str(&crate::text::csv_row(r.iter().map(String::as_str)));
        }
        out
    }
}

fn add(a: &mut Counts, b: &Counts) {
    a.recommendations += b.recommendations;
    a.items += b.items;
    a.open += b.open;
    a.overdue += b.overdue;
    a.answered += b.answered;
    a.implemented += b.implemented;
}

fn landing(orgs: &HashMap<String, Organisation>, org: Option<&str>, name: &str) -> Landing {
    match org.and_then(|o| orgs.get(o)) {
        Some(o) => Landing::of_organisation(o, name),
        None => Landing::from_name(name),
    }
}

/// Median and 90th percentile (nearest rank) from a histogram of days.
fn percentiles(key: &str, hist: &[u64]) -> ResponseTime {
    let n: u64 = hist.iter().sum();
    let rank = |p: f64| -> Option<u32> {
        if n == 0 {
            return None;
        }
        let want = ((p * n as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (d, c) in hist.iter().enumerate() {
            seen += c;
            if seen >= want {
                return Some(d as u32);
            }
        }
        None
    };
    ResponseTime {
        key: key.to_string(),
        answers: n,
        median_days: rank(0.5),
        p90_days: rank(0.9),
    }
}

#[cfg(test)]
mod tests;
