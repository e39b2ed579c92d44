//! A provider's priority list: which recommendations apply to a trust, a
//! practice, an ambulance service or a care home, and in what order.
//!
//! The ranking is a weighted sum of named parts, each between 0 and 1, with
//! the weights and values held as data (`rules/priorities.json`) and the
//! reasons written as the score is made, so that every place on the list can
//! be explained. Documented in docs/priorities.md.
//!
//! - reach: addressed to you directly (1), to another provider of your kind
//!   (0.6), or about your setting nationally (0.35);
//! - risk: the issuer's stated risk (critical 1 … low 0.15; not stated 0.4);
//! - deadline: your own answer overdue (1, fading to 0.5 as the report
//!   ages) or due within 28 days (0.8), already answered (0.2); otherwise
//!   recency, halving every two years;
//! - support: each further body saying the same thing, or endorsing it,
//!   adds 0.5 (a group of duplicates counts once, with every body behind it);
//! - patient impact stated (1) or not (0); evidence strength; cost (cheap
//!   changes first; not stated 0.5).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::OrgCode;
use crate::lifecycle::{self, RulesBook};
use crate::model::{AddresseeStatus, EvidenceStrength, Lifecycle, Recommendation, Risk};
use crate::organisation::ProviderKind;
use crate::{DomainError, FieldError};

/// What a provider says it is; its priority list follows from this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProviderProfile {
    pub org: OrgCode,
    pub kind: ProviderKind,
    /// Care settings it runs (defaults to its kind's usual settings).
    #[serde(default)]
    pub settings: Vec<String>,
    pub region: Option<String>,
}

impl ProviderProfile {
    /// Tidies settings (trimmed, lower case, no repeats) and checks lengths.
    pub fn validate(mut self) -> Result<Self, DomainError> {
        let mut seen = BTreeSet::new();
        self.settings = self
            .settings
            .iter()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty() && seen.insert(s.clone()))
            .collect();
        let mut errors = Vec::new();
        if self.settings.len() > 50 {
            errors.push(FieldError::new("settings", "more than 50 settings"));
        }
        for s in &self.settings {
            if s.len() > 200 {
                errors.push(FieldError::new(
                    "settings",
                    "a setting is longer than 200 characters",
                ));
            }
        }
        if let Some(r) = &self.region
            && r.len() > 200
        {
            errors.push(FieldError::new("region", "is longer than 200 characters"));
        }
        match errors.len() {
            0 => Ok(self),
            1 => Err(DomainError::Invalid(errors.remove(0))),
            _ => Err(DomainError::InvalidMany(errors)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub risk: f64,
    pub reach: f64,
    pub deadline: f64,
    pub support: f64,
    pub patient_impact: f64,
    pub evidence: f64,
    pub cost: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskValues {
    pub critical: f64,
    pub high: f64,
    pub medium: f64,
    pub low: f64,
    pub not_stated: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReachValues {
    pub direct: f64,
    pub same_kind: f64,
    pub setting: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceValues {
    pub strong: f64,
    pub moderate: f64,
    pub limited: f64,
    pub none: f64,
    pub not_stated: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineValues {
    pub overdue: f64,
    pub due_within_days: i64,
    pub due_soon: f64,
    pub answered: f64,
    /// Recency halves over this many years.
    pub recent_years: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostBand {
    pub up_to: f64,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostValues {
    pub bands: Vec<CostBand>,
    pub above: f64,
    pub not_stated: f64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportValues {
    pub per_extra_body: f64,
}

/// The words by which a kind of provider is recognised.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct KindVocabulary {
    pub settings: Vec<String>,
    pub name_words: Vec<String>,
    pub themes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityRules {
    #[serde(rename = "_about", default)]
    pub about: Option<String>,
    pub weights: Weights,
    pub risk: RiskValues,
    pub reach: ReachValues,
    pub evidence: EvidenceValues,
    pub deadline: DeadlineValues,
    pub cost: CostValues,
    pub support: SupportValues,
    pub kinds: BTreeMap<String, KindVocabulary>,
}

pub const BUILTIN_PRIORITY_RULES: &str = include_str!("../rules/priorities.json");

impl PriorityRules {
    pub fn builtin() -> Self {
        Self::parse(BUILTIN_PRIORITY_RULES).expect("the built-in priority rules are valid (tested)")
    }

    pub fn parse(json: &str) -> Result<Self, String> {
        let r: PriorityRules = serde_json::from_str(json).map_err(|e| e.to_string())?;
        let w = &r.weights;
        let sum =
            w.risk + w.reach + w.deadline + w.support + w.patient_impact + w.evidence + w.cost;
        if (sum - 1.0).abs() > 1e-6 {
            return Err(format!("the weights add up to {sum}, not 1"));
        }
        for k in r.kinds.keys() {
            k.parse::<ProviderKind>()
                .map_err(|e| format!("kinds: {e}"))?;
        }
        Ok(r)
    }

    pub fn vocabulary(&self, kind: ProviderKind) -> KindVocabulary {
        self.kinds.get(kind.as_str()).cloned().unwrap_or_default()
    }
}

/// How a recommendation reaches a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// One of its addressees is this organisation (its index).
    Direct(usize),
    /// Sent to another provider of the same kind (named).
    SameKind(String),
    /// About a setting the provider runs, or a theme of its kind.
    Setting(String),
}

impl Reach {
    pub fn label(&self) -> &'static str {
        match self {
            Reach::Direct(_) => "direct",
            Reach::SameKind(_) => "same_kind",
            Reach::Setting(_) => "setting",
        }
    }
}

/// Everything the ranking needs to know about the provider.
pub struct Context<'a> {
    pub profile: &'a ProviderProfile,
    /// The provider's name and other names, for addressees written without a code.
    pub names: Vec<String>,
    /// Organisations the register knows to be providers of some kind.
    pub provider_kinds: &'a BTreeMap<OrgCode, ProviderKind>,
    pub rules: &'a PriorityRules,
    pub deadlines: &'a RulesBook,
    pub today: NaiveDate,
    /// Bodies that endorse a recommendation (its id -> their codes): they
    /// count as support, like the issuers of duplicates.
    pub endorsers: BTreeMap<String, Vec<String>>,
}

fn contains_word(haystack: &str, needle: &str) -> bool {
    // Whole words only ("acute" must not match "acuteness").
    haystack.match_indices(needle).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Whether (and how) a recommendation applies to the provider. Only
/// published recommendations apply; a directly addressed one whose own part
/// is closed, dormant or not required does not.
pub fn applies(rec: &Recommendation, ctx: &Context<'_>) -> Option<Reach> {
    let d = &rec.data;
    if d.status != Lifecycle::Published {
        return None;
    }
    let org = &ctx.profile.org;
    let names: Vec<String> = ctx.names.iter().map(|n| n.trim().to_lowercase()).collect();
    for (i, a) in d.addressees.iter().enumerate() {
        let lower = a.name.trim().to_lowercase();
        let direct = a.org.as_ref() == Some(org)
            || (a.org.is_none() && names.iter().any(|n| !n.is_empty() && lower == *n));
        if direct {
            return a.status.is_open().then_some(Reach::Direct(i));
        }
    }
    let vocab = ctx.rules.vocabulary(ctx.profile.kind);
    for a in &d.addressees {
        let same = match &a.org {
            Some(o) => ctx.provider_kinds.get(o) == Some(&ctx.profile.kind),
            None => {
                let lower = a.name.to_lowercase();
                vocab.name_words.iter().any(|w| contains_word(&lower, w))
            }
        };
        if same {
            return Some(Reach::SameKind(a.name.clone()));
        }
    }
    let settings: Vec<String> = if ctx.profile.settings.is_empty() {
        vocab.settings.clone()
    } else {
        ctx.profile.settings.clone()
    };
    for s in &d.settings {
        let s = s.trim().to_lowercase();
        if settings.contains(&s) {
            return Some(Reach::Setting(format!("setting: {s}")));
        }
    }
    for t in &d.themes {
        let t = t.trim().to_lowercase();
        if vocab.themes.contains(&t) {
            return Some(Reach::Setting(format!("theme: {t}")));
        }
    }
    None
}

/// The parts of one recommendation's score, with the reason for each.
#[derive(Debug, Clone, PartialEq)]
pub struct Parts {
    pub reach: f64,
    pub risk: f64,
    pub deadline: f64,
    pub patient_impact: f64,
    pub evidence: f64,
    pub cost: f64,
    pub why: Vec<String>,
    /// When the provider's own answer fell due, if it is overdue.
    pub overdue_since: Option<NaiveDate>,
}

/// Scores one applicable recommendation (support is added per group).
pub fn parts(rec: &Recommendation, reach: &Reach, ctx: &Context<'_>) -> Parts {
    let r = ctx.rules;
    let d = &rec.data;
    let mut why = Vec::new();
    let reach_v = match reach {
        Reach::Direct(_) => {
            why.push("addressed to you directly".to_string());
            r.reach.direct
        }
        Reach::SameKind(name) => {
            why.push(format!(
                "addressed to another {} ({name})",
                ctx.profile.kind.in_words()
            ));
            r.reach.same_kind
        }
        Reach::Setting(what) => {
            why.push(format!("about your kind of care nationally ({what})"));
            r.reach.setting
        }
    };

    let mut overdue_since = None;
    let deadline = match reach {
        Reach::Direct(i) => {
            let a = &d.addressees[*i];
            let rules = ctx.deadlines.for_issuer(&d.issuer);
            if let Some((due, days)) = lifecycle::overdue_as_of(d, a, rules, ctx.today) {
                why.push(format!(
                    "your response is overdue by {days} days (due {due})"
                ));
                overdue_since = Some(due);
                // Long-lost answers fade to half: years of silence say more
                // about the record than about this week's work.
                r.deadline.overdue * (0.5 + 0.5 * recency(d.published, ctx))
            } else if !a.responses.is_empty() || a.status != AddresseeStatus::AwaitingResponse {
                why.push("you have responded; the action remains".to_string());
                r.deadline.answered
            } else if let Some(due) = lifecycle::due_for(d, a, rules) {
                let left = (due - ctx.today).num_days();
                if left <= r.deadline.due_within_days {
                    why.push(format!("your response is due in {left} days ({due})"));
                    r.deadline.due_soon
                } else {
                    why.push(format!("your response is due on {due}"));
                    recency(d.published, ctx)
                }
            } else {
                recency(d.published, ctx)
            }
        }
        _ => recency(d.published, ctx),
    };
    if !matches!(reach, Reach::Direct(_))
        && let Some(p) = d.published
    {
        why.push(format!("published {p}"));
    }

    let risk = match d.risk {
        Some(Risk::Critical) => r.risk.critical,
        Some(Risk::High) => r.risk.high,
        Some(Risk::Medium) => r.risk.medium,
        Some(Risk::Low) => r.risk.low,
        None => r.risk.not_stated,
    };
    match d.risk {
        Some(x) => why.push(format!("risk: {x}")),
        None => why.push("risk not stated".to_string()),
    }

    let patient_impact = match d.patient_impact.as_deref().map(str::trim) {
        Some(p) if !p.is_empty() => {
            let short: String = p.chars().take(80).collect();
            why.push(format!("patient impact: {short}"));
            1.0
        }
        _ => 0.0,
    };

    let evidence = match d.evidence.as_ref().and_then(|e| e.strength) {
        Some(EvidenceStrength::Strong) => r.evidence.strong,
        Some(EvidenceStrength::Moderate) => r.evidence.moderate,
        Some(EvidenceStrength::Limited) => r.evidence.limited,
        Some(EvidenceStrength::None) => r.evidence.none,
        None => r.evidence.not_stated,
    };
    if let Some(s) = d.evidence.as_ref().and_then(|e| e.strength) {
        why.push(format!("evidence: {s}"));
    }

    let cost = match &d.cost {
        Some(c) if c.one_off.is_some() || c.recurring.is_some() => {
            let total = c.one_off.unwrap_or(0.0) + c.recurring.unwrap_or(0.0);
            why.push(format!(
                "estimated cost {} {:.0} (one-off plus a year)",
                c.currency, total
            ));
            r.cost
                .bands
                .iter()
                .find(|b| total <= b.up_to)
                .map(|b| b.value)
                .unwrap_or(r.cost.above)
        }
        _ => {
            why.push("no cost estimate".to_string());
            r.cost.not_stated
        }
    };

    Parts {
        reach: reach_v,
        risk,
        deadline,
        patient_impact,
        evidence,
        cost,
        why,
        overdue_since,
    }
}

fn recency(published: Option<NaiveDate>, ctx: &Context<'_>) -> f64 {
    match published {
        Some(p) => {
            let years = ((ctx.today - p).num_days().max(0) as f64) / 365.25;
            0.5f64.powf(years / ctx.rules.deadline.recent_years.max(0.1))
        }
        None => 0.25,
    }
}

/// The weighted sum, with support from `bodies` distinct issuers.
pub fn total(p: &Parts, bodies: usize, rules: &PriorityRules) -> f64 {
    let w = &rules.weights;
    let support = (rules.support.per_extra_body * bodies.saturating_sub(1) as f64).min(1.0);
    let s = w.reach * p.reach
        + w.risk * p.risk
        + w.deadline * p.deadline
        + w.support * support
        + w.patient_impact * p.patient_impact
        + w.evidence * p.evidence
        + w.cost * p.cost;
    (s * 1000.0).round() / 1000.0
}

/// One line of the list: a recommendation, or a group of duplicates shown
/// once with every body behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriorityItem {
    /// Every recommendation in the group, the best-placed first.
    pub ids: Vec<String>,
    pub score: f64,
    pub why: Vec<String>,
    pub title: String,
    /// Every body that issued it (one, or several for a group of duplicates).
    pub issuers: Vec<String>,
    /// Other bodies that endorse it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endorsed_by: Vec<String>,
    /// direct, same_kind or setting.
    pub reach: String,
    /// When the provider's own answer fell due, if it is overdue: such
    /// items come first, whatever their score (an answer the provider owes
    /// is its own business before anything sent to others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overdue_since: Option<NaiveDate>,
    /// When the best-placed recommendation was published.
    pub published: Option<NaiveDate>,
    /// The last change to any recommendation behind the item (a feed dates
    /// the item by it).
    pub changed: DateTime<Utc>,
}

/// Ranks the applicable recommendations, collapsing each group of duplicates
/// (`groups` lists indices into `recs`) into one item that counts once.
pub fn rank(
    recs: &[Recommendation],
    groups: &[Vec<usize>],
    ctx: &Context<'_>,
) -> Vec<PriorityItem> {
    let scored: Vec<Option<(Reach, Parts)>> = recs
        .iter()
        .map(|r| {
            applies(r, ctx).map(|reach| {
                let p = parts(r, &reach, ctx);
                (reach, p)
            })
        })
        .collect();
    let mut grouped = vec![false; recs.len()];
    let mut items = Vec::new();
    let emit = |members: Vec<usize>, items: &mut Vec<PriorityItem>| {
        let mut members: Vec<usize> = members
            .into_iter()
            .filter(|&i| scored.get(i).is_some_and(Option::is_some))
            .collect();
        if members.is_empty() {
            return;
        }
        let single = |i: usize| {
            let (_, p) = scored[i].as_ref().expect("filtered");
            total(p, 1, ctx.rules)
        };
        members.sort_by(|&a, &b| single(b).total_cmp(&single(a)).then(a.cmp(&b)));
        let best = members[0];
        let (reach, p) = scored[best].as_ref().expect("filtered");
        let issuers: BTreeSet<String> = members
            .iter()
            .map(|&i| recs[i].data.issuer.to_string())
            .collect();
        // Bodies that endorse any member and did not issue one.
        let endorsed: BTreeSet<String> = members
            .iter()
            .flat_map(|&i| {
                ctx.endorsers
                    .get(&recs[i].id.to_string())
                    .into_iter()
                    .flatten()
                    .cloned()
            })
            .filter(|o| !issuers.contains(o))
            .collect();
        let mut why = p.why.clone();
        if !endorsed.is_empty() {
            why.insert(
                1,
                format!(
                    "endorsed by {}",
                    endorsed.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
        if issuers.len() > 1 {
            why.insert(
                1,
                format!(
                    "said by {} bodies: {}",
                    issuers.len(),
                    issuers.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        } else if members.len() > 1 {
            why.insert(
                1,
                format!("{} recommendations saying the same thing", members.len()),
            );
        }
        items.push(PriorityItem {
            ids: members.iter().map(|&i| recs[i].id.to_string()).collect(),
            score: total(p, issuers.len() + endorsed.len(), ctx.rules),
            why,
            title: recs[best].data.title.clone(),
            issuers: issuers.into_iter().collect(),
            endorsed_by: endorsed.into_iter().collect(),
            reach: reach.label().to_string(),
            overdue_since: p.overdue_since,
            published: recs[best].data.published,
            changed: members
                .iter()
                .map(|&i| recs[i].updated_at)
                .max()
                .expect("a group has members"),
        });
    };
    for g in groups {
        let members: Vec<usize> = g
            .iter()
            .copied()
            .filter(|&i| i < recs.len() && !grouped[i])
            .collect();
        for &i in &members {
            grouped[i] = true;
        }
        emit(members, &mut items);
    }
    for (i, done) in grouped.iter().enumerate() {
        if !done {
            emit(vec![i], &mut items);
        }
    }
    // The provider's own overdue answers first; then by score, and of equal
    // scores the newer first.
    items.sort_by(|a, b| {
        b.overdue_since
            .is_some()
            .cmp(&a.overdue_since.is_some())
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| b.published.cmp(&a.published))
            .then_with(|| a.ids.cmp(&b.ids))
    });
    items
}

#[cfg(test)]
mod tests;
