//! Quality criteria: does a draft recommendation say who should do what, by
//! when, on what evidence, for which patients, at what cost? Each criterion
//! gives pass / warn / fail with a message and a suggestion an author can
//! act on; a weighted score (0-100) summarises them.
//!
//! Pure: the input is a [`Draft`], the organisations register, today's date
//! and (when the similarity engine has been asked) the similar existing
//! recommendations; the criteria themselves are data ([`Ruleset`]).
//!
//! Every check is a heuristic over the structured fields and the wording.
//! `crates/domain/tests/quality_eval.json` holds drafts with the verdicts a
//! person would give, and a test keeps the checks' agreement with them.

use chrono::NaiveDate;
use serde::Serialize;

use crate::organisation::OrganisationDirectory;
use crate::string_enum;

mod checks;
mod draft;
mod ruleset;
pub mod textstats;

pub use draft::{Draft, DraftAddressee};
pub use ruleset::{CheckKind, Criterion, DEFAULT_RULESET_JSON, Gate, Params, Ruleset};

string_enum!(
    /// One criterion's verdict.
    Outcome {
        Pass => "pass",
        Warn => "warn",
        Fail => "fail",
    }
);

/// An existing recommendation the similarity engine found close to a draft.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SimilarHit {
    pub id: String,
    /// 0 to 1.
    pub score: f64,
    /// duplicate, supports, contradicts, related.
    #[serde(default)]
    pub relation: Option<String>,
}

/// One criterion's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    /// The criterion's name in the set used.
    pub criterion: String,
    /// The built-in check it ran (differs from `criterion` in an issuer's own set).
    pub check: CheckKind,
    pub result: Outcome,
    /// What was found.
    pub message: String,
    /// What to do about it (absent on a pass).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    pub weight: f64,
}

/// The verdicts on one draft.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QualityReport {
    /// Position of the draft in the input (0 for a single draft).
    pub index: usize,
    /// Weighted: pass counts 1, warn 0.5, fail 0; 0-100.
    pub score: u8,
    pub checks: Vec<CheckResult>,
    /// The criteria set used.
    pub ruleset: String,
    /// What stands between this draft and publication under the set's gate
    /// (empty when it may be published).
    pub gate_failures: Vec<String>,
}

impl QualityReport {
    pub fn result_of(&self, criterion: &str) -> Option<Outcome> {
        self.checks
            .iter()
            .find(|c| c.criterion == criterion)
            .map(|c| c.result)
    }
}

/// What a check sees.
pub struct Context<'a> {
    pub draft: &'a Draft,
    pub directory: &'a OrganisationDirectory,
    /// The kind of each organisation in the register, by code (for remit).
    pub org_kind: &'a dyn Fn(&str) -> Option<crate::OrgKind>,
    pub today: NaiveDate,
    /// None: the similarity engine was not asked.
    pub similar: Option<&'a [SimilarHit]>,
}

/// Runs every criterion of the set on one draft.
pub fn evaluate(ruleset: &Ruleset, ctx: &Context<'_>, index: usize) -> QualityReport {
    // Counting actions needs the action verbs, and judging who is asked the
    // vague parties: this set's, else the default's.
    let params_of = |kind: CheckKind| {
        ruleset
            .criteria
            .iter()
            .find(|c| c.check == kind)
            .map(|c| &c.params)
            .unwrap_or_else(|| default_params(kind))
    };
    let prepared = checks::Prepared::new(
        ctx,
        params_of(CheckKind::Action),
        params_of(CheckKind::Addressee),
    );
    let checks: Vec<CheckResult> = ruleset
        .criteria
        .iter()
        .map(|c| {
            let (result, message, suggestion) = checks::run(c.check, &c.params, ctx, &prepared);
            CheckResult {
                criterion: c.name.clone(),
                check: c.check,
                result,
                message,
                suggestion: if result == Outcome::Pass {
                    None
                } else {
                    suggestion
                },
                weight: c.weight,
            }
        })
        .collect();
    let total: f64 = checks.iter().map(|c| c.weight).sum();
    let got: f64 = checks
        .iter()
        .map(|c| {
            c.weight
                * match c.result {
                    Outcome::Pass => 1.0,
                    Outcome::Warn => 0.5,
                    Outcome::Fail => 0.0,
                }
        })
        .sum();
    let score = if total > 0.0 {
        (100.0 * got / total).round().clamp(0.0, 100.0) as u8
    } else {
        100
    };
    let mut report = QualityReport {
        index,
        score,
        checks,
        ruleset: ruleset.name.clone(),
        gate_failures: Vec::new(),
    };
    report.gate_failures = gate_failures(&ruleset.gate, &report);
    report
}

/// The default set's parameters of a check.
fn default_params(kind: CheckKind) -> &'static Params {
    static DEFAULT: std::sync::LazyLock<Ruleset> = std::sync::LazyLock::new(Ruleset::default_set);
    &DEFAULT
        .criteria
        .iter()
        .find(|c| c.check == kind)
        .expect("the default set has every check used here")
        .params
}

/// Why the gate refuses publication: one line per unmet condition.
pub fn gate_failures(gate: &Gate, report: &QualityReport) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(min) = gate.min_score
        && report.score < min
    {
        out.push(format!(
            "score {} is below the minimum of {min}",
            report.score
        ));
    }
    for name in &gate.no_fail {
        if let Some(c) = report
            .checks
            .iter()
            .find(|c| &c.criterion == name && c.result == Outcome::Fail)
        {
            out.push(format!("{} fails: {}", c.criterion, c.message));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::organisation::seed_organisations;

    fn report(draft: Draft, similar: Option<&[SimilarHit]>) -> QualityReport {
        let seeds = seed_organisations();
        let dir = OrganisationDirectory::new(&seeds);
        let kinds = |code: &str| {
            seeds
                .iter()
                .find(|o| o.code.as_str() == code)
                .map(|o| o.kind)
        };
        let ctx = Context {
            draft: &draft,
            directory: &dir,
            org_kind: &kinds,
            today: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            similar,
        };
        evaluate(&Ruleset::default_set(), &ctx, 0)
    }

    fn draft(text: &str) -> Draft {
        Draft {
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_passive_ask_with_no_one_to_do_it_fails_and_bundles_and_terse_texts_are_not_specific() {
        // The report's own example of a useless recommendation.
        let r = report(
            draft(
                "Following the death on a ward, it is felt that lessons should be learned and that practice should be improved.",
            ),
            None,
        );
        assert_eq!(r.result_of("action"), Some(Outcome::Fail));
        // Named, the same passive ask is only weak.
        let r = report(
            draft(
                "NHS England: practice on surgical wards should be improved and lessons should be learned.",
            ),
            None,
        );
        assert_ne!(r.result_of("action"), Some(Outcome::Fail));
        // Four asks listed in one sentence are a bundle; two linked steps
        // ("audit ... and share ...") and a participle ("including") are not.
        let r = report(
            draft(
                "The trust should train emergency department staff to recognise sepsis, fix the broken analyser, recruit a second consultant for nights and stop using corridor care.",
            ),
            None,
        );
        assert_eq!(r.result_of("specific"), Some(Outcome::Warn));
        let r = report(
            draft(
                "Dental practices should keep an emergency drugs kit, including adrenaline for allergic reactions, and check it every week in every surgery.",
            ),
            None,
        );
        assert_ne!(
            r.result_of("specific"),
            Some(Outcome::Warn),
            "{:?}",
            r.checks
        );
        // A text too short to stand alone is not specific, whatever its fields.
        let mut d = draft("Train staff.");
        d.settings = vec!["community".into()];
        assert_eq!(report(d, None).result_of("specific"), Some(Outcome::Warn));
    }

    #[test]
    fn the_brief_examples_get_their_messages() {
        let r = report(
            draft("All relevant organisations should consider raising awareness of sepsis."),
            None,
        );
        assert_eq!(r.result_of("time_bound"), Some(Outcome::Fail));
        assert_eq!(r.result_of("action"), Some(Outcome::Fail));
        // A vague party is named: a warning (the held-out judgement's
        // convention); the action asks for nothing and fails.
        assert_eq!(r.result_of("addressee"), Some(Outcome::Warn));
        let msg = |n: &str| {
            r.checks
                .iter()
                .find(|c| c.criterion == n)
                .unwrap()
                .message
                .clone()
        };
        assert!(
            msg("time_bound").starts_with("No deadline or review date"),
            "{}",
            msg("time_bound")
        );
        assert!(
            msg("action").contains("'consider' alone is not an action"),
            "{}",
            msg("action")
        );
        assert!(
            msg("addressee")
                .contains("'all relevant organisations' does not say which body should act"),
            "{}",
            msg("addressee")
        );
        assert!(r.score < 30, "{}", r.score);
    }

    /// The verdict of one criterion on a draft that is only a text.
    fn result_for(text: &str, criterion: &str) -> Option<Outcome> {
        report(draft(text), None).result_of(criterion)
    }

    #[test]
    fn a_finding_the_text_says_follows_from_ties_it_to_a_risk() {
        assert_eq!(
            result_for(
                "Community pharmacies should label every insulin pen with its strength. This follows reports of tenfold overdoses.",
                "relevant"
            ),
            Some(Outcome::Pass)
        );
        // A dental practice is a care setting.
        assert_eq!(
            result_for(
                "Dental practices should check their emergency drugs kit every week. This follows a death from anaphylaxis.",
                "relevant"
            ),
            Some(Outcome::Pass)
        );
    }

    #[test]
    fn a_bare_plural_names_no_one_but_a_kind_of_body_does() {
        for text in [
            "Services should ask about debt when they assess anyone who has self-harmed.",
            "Commissioners should review access to eating disorder beds.",
            "Everyone involved in the care of people with epilepsy should know the seizure plan.",
        ] {
            assert_eq!(result_for(text, "addressee"), Some(Outcome::Warn), "{text}");
            assert_eq!(
                result_for(text, "achievable"),
                Some(Outcome::Warn),
                "{text}"
            );
        }
        assert_eq!(
            result_for(
                "Ambulance services should ask about debt when they assess anyone who has self-harmed.",
                "addressee"
            ),
            Some(Outcome::Pass)
        );
    }

    #[test]
    fn a_structured_deadline_or_a_date_in_the_text_is_time_bound() {
        let mut d = draft("NHS England should publish guidance.");
        d.response_deadline = NaiveDate::from_ymd_opt(2025, 6, 30);
        assert_eq!(report(d, None).result_of("time_bound"), Some(Outcome::Pass));
        let d = draft("NHS England should publish guidance by 30 June 2025.");
        assert_eq!(report(d, None).result_of("time_bound"), Some(Outcome::Pass));
        let d = draft("NHS England should publish guidance as soon as possible.");
        assert_eq!(report(d, None).result_of("time_bound"), Some(Outcome::Warn));
    }

    #[test]
    fn cross_reference_uses_similar_hits_when_given() {
        let d = draft("NHS England should publish guidance.");
        assert_eq!(
            report(d.clone(), None).result_of("cross_reference"),
            Some(Outcome::Warn)
        );
        let hits = [SimilarHit {
            id: "HSSIB-2023-0004".into(),
            score: 0.93,
            relation: Some("duplicate".into()),
        }];
        let r = report(d.clone(), Some(&hits));
        assert_eq!(r.result_of("cross_reference"), Some(Outcome::Warn));
        let mut linked = d.clone();
        linked.links = vec!["HSSIB-2023-0004".into()];
        assert_eq!(
            report(linked, Some(&hits)).result_of("cross_reference"),
            Some(Outcome::Pass)
        );
        assert_eq!(
            report(d, Some(&[])).result_of("cross_reference"),
            Some(Outcome::Pass)
        );
    }

    #[test]
    fn the_gate_lists_what_fails() {
        let r = report(draft("Consider sepsis."), None);
        let gate = Gate {
            min_score: Some(60),
            no_fail: vec!["action".into(), "cost".into()],
        };
        let f = gate_failures(&gate, &r);
        assert_eq!(f.len(), 3, "{f:?}");
        assert!(f[0].starts_with("score "), "{f:?}");
        assert!(f[1].starts_with("action fails: "), "{f:?}");
    }
}
