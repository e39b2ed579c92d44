//! The built-in checks. Each returns (verdict, message, suggestion).

use std::sync::LazyLock;

use regex::Regex;

use super::textstats::{
    contains_phrase, contains_stem, find_time_expression, readability, unexplained_abbreviations,
    verb_used,
};
use super::{CheckKind, Context, Outcome, Params};
use crate::ids::find_references;

type Verdict = (Outcome, String, Option<String>);

/// Computed once per draft, shared by the checks.
pub(super) struct Prepared {
    /// Title and text.
    raw: String,
    /// The same, lower case.
    lower: String,
    /// Each addressee: as written, and the register code it resolves to.
    addressees: Vec<(String, Option<String>)>,
    /// Register bodies named in the text.
    in_text: Vec<String>,
    /// Every action verb (strong, weak or vague) of the set's action check,
    /// for counting actions.
    verbs: Vec<String>,
}

impl Prepared {
    pub(super) fn new(ctx: &Context<'_>, action: &Params) -> Self {
        let d = ctx.draft;
        let raw = match &d.title {
            Some(t) => format!("{t}.\n{}", d.text),
            None => d.text.clone(),
        };
        let addressees = d
            .addressees
            .iter()
            // "(addressee not published)" and the like are placeholders.
            .filter(|a| {
                let n = a.name.trim();
                a.org.is_some() || !(n.is_empty() || (n.starts_with('(') && n.ends_with(')')))
            })
            .map(|a| {
                let code = a
                    .org
                    .as_deref()
                    .and_then(|o| ctx.directory.resolve(o))
                    .or_else(|| ctx.directory.resolve(&a.name))
                    .map(|c| c.to_string());
                let name = if a.name.trim().is_empty() {
                    a.org.clone().unwrap_or_default()
                } else {
                    a.name.clone()
                };
                (name, code)
            })
            .collect();
        let in_text = ctx
            .directory
            .mentioned_in(&d.text)
            .into_iter()
            .map(|c| c.to_string())
            .collect();
        Prepared {
            lower: raw.to_lowercase(),
            raw,
            addressees,
            in_text,
            verbs: action
                .strong_verbs
                .iter()
                .chain(&action.weak_verbs)
                .chain(&action.vague_verbs)
                .cloned()
                .collect(),
        }
    }
}

pub(super) fn run(kind: CheckKind, p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    match kind {
        CheckKind::Addressee => addressee(p, pr),
        CheckKind::Action => action(p, pr),
        CheckKind::Specific => specific(p, ctx, pr),
        CheckKind::Measurable => measurable(p, ctx, pr),
        CheckKind::Achievable => achievable(p, ctx, pr),
        CheckKind::Relevant => relevant(p, ctx, pr),
        CheckKind::TimeBound => time_bound(p, ctx, pr),
        CheckKind::Evidence => evidence(p, ctx, pr),
        CheckKind::PatientImpact => patient_impact(p, ctx, pr),
        CheckKind::Cost => cost(p, ctx, pr),
        CheckKind::Equality => equality(p, ctx, pr),
        CheckKind::CrossReference => cross_reference(p, ctx, pr),
        CheckKind::PlainLanguage => plain_language(p, pr),
    }
}

fn pass(msg: impl Into<String>) -> Verdict {
    (Outcome::Pass, msg.into(), None)
}

fn verdict(o: Outcome, msg: impl Into<String>, suggestion: impl Into<String>) -> Verdict {
    (o, msg.into(), Some(suggestion.into()))
}

fn missing(p: &Params) -> Outcome {
    p.missing.unwrap_or(Outcome::Fail)
}

fn first_phrase<'a>(hay: &str, list: &'a [String]) -> Option<&'a str> {
    list.iter()
        .map(String::as_str)
        .find(|w| contains_phrase(hay, w))
}

fn first_stem<'a>(hay: &str, list: &'a [String]) -> Option<&'a str> {
    list.iter()
        .map(String::as_str)
        .find(|w| contains_stem(hay, w))
}

/// A body named as the subject of an action in the text: "The Trust should",
/// "Northmoor ICB must".
static SUBJECT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b((?:[A-Z][A-Za-z&'’-]*\s+){0,6}(?:Trust|Board|Council|Agency|College|Commission|Department|Service|Services|Authority|Office|Institute|Society|Association|Hospital|Practice|ICB|Group|Network|Body|Ministry|Government|Secretary of State[A-Za-z ]*))\s+(?:should|must|is to|are to|needs to|will|to)\b",
    )
    .expect("valid regex")
});

fn addressee(p: &Params, pr: &Prepared) -> Verdict {
    let vague_named = pr.addressees.iter().find(|(n, code)| {
        code.is_none() && first_phrase(&n.to_lowercase(), &p.vague_addressees).is_some()
    });
    if let Some((n, _)) = vague_named {
        return verdict(
            Outcome::Fail,
            format!(
                "The addressee '{}' is not a body that can act: name it",
                n.trim()
            ),
            "Name the organisation that should act (for example NHS England, or the trust by name).",
        );
    }
    if !pr.addressees.is_empty() {
        let unknown: Vec<&str> = pr
            .addressees
            .iter()
            .filter(|(_, c)| c.is_none())
            .map(|(n, _)| n.as_str())
            .collect();
        if unknown.is_empty() {
            let codes: Vec<&str> = pr
                .addressees
                .iter()
                .filter_map(|(_, c)| c.as_deref())
                .collect();
            return pass(format!("Addressed to {}", codes.join(", ")));
        }
        return verdict(
            Outcome::Warn,
            format!(
                "Addressed to {}, not found in the organisations register",
                unknown
                    .iter()
                    .map(|u| format!("'{u}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "Check the name, or register the body (concord org add) so that its answer can be tracked.",
        );
    }
    // No structured addressee: read the text.
    if let Some(v) = first_phrase(&pr.lower, &p.vague_addressees) {
        return verdict(
            Outcome::Fail,
            format!("The addressee '{v}' is not a body that can act: name it"),
            "Name the organisation that should act, and add it as an addressee.",
        );
    }
    if !pr.in_text.is_empty() {
        return pass(format!(
            "Names {} in the text (add it as an addressee field so its answer can be tracked)",
            pr.in_text.join(", ")
        ));
    }
    if let Some(c) = SUBJECT_RE.captures(&pr.raw) {
        return verdict(
            Outcome::Warn,
            format!(
                "Names '{}' in the text, which is not in the organisations register",
                c[1].trim()
            ),
            "Add the addressee as a field, with its full name as registered.",
        );
    }
    verdict(
        Outcome::Fail,
        "No addressee: nobody is named to act",
        "Name the organisation that should act, and add it as an addressee.",
    )
}

static ASK_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(should|must|shall|will|needs? to|asked to|is to|are to|ought to|recommends? that|recommended that|i ask that)\b")
        .expect("valid regex")
});

/// The words where an action is asked for: the few words after "should",
/// "must", "is asked to"... and the first words of each sentence (an
/// imperative: "Publish the guidance"). A verb elsewhere ("this included
/// the records") is description, not an action.
fn action_zone(raw: &str) -> String {
    let mut zone = String::new();
    for s in super::textstats::sentences(raw) {
        let lower = s.to_lowercase();
        let body = LIST_ITEM_RE
            .find(&lower)
            .filter(|m| m.start() == 0)
            .map_or(lower.as_str(), |m| &lower[m.end() - 1..]);
        let first: Vec<&str> = body
            .trim_start_matches(|c: char| !c.is_alphabetic())
            .split_whitespace()
            .take(1)
            .collect();
        zone.push_str(&first.join(" "));
        zone.push_str(" | ");
        for m in ASK_RE.find_iter(&lower) {
            let after: Vec<&str> = lower[m.end()..].split_whitespace().take(6).collect();
            zone.push_str(&after.join(" "));
            zone.push_str(" | ");
        }
    }
    zone
}

fn action(p: &Params, pr: &Prepared) -> Verdict {
    let zone = action_zone(&pr.raw);
    let used = |list: &[String]| -> Vec<String> {
        list.iter()
            .filter(|v| verb_used(&zone, v))
            .cloned()
            .collect()
    };
    let strong = used(&p.strong_verbs);
    let vague = used(&p.vague_verbs);
    let weak = used(&p.weak_verbs);
    if !strong.is_empty() {
        return pass(format!("Clear action: '{}'", strong[0]));
    }
    if let Some(v) = vague.first() {
        return verdict(
            Outcome::Fail,
            format!("'{v}' alone is not an action: say what should be done"),
            "Use a verb whose doing can be seen: introduce, publish, audit, train, require...",
        );
    }
    if let Some(v) = weak.first() {
        return verdict(
            Outcome::Warn,
            format!("'{v}' is a weak action: it does not say what should change"),
            "Say what the review or support should produce, e.g. 'review and update the policy'.",
        );
    }
    verdict(
        Outcome::Fail,
        "No action verb found: the text does not say what should be done",
        "Say what the addressee should do, with a verb such as introduce, publish, audit or train.",
    )
}

static LIST_ITEM_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*(?:\(?[a-z0-9]{1,2}[.)]|[-•*])\s+\S").expect("valid regex")
});
static MODAL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(should|must|is asked to|are asked to|is to|are to|needs to|need to)\b")
        .expect("valid regex")
});

/// How many separate actions the text asks for: list items, or sentences
/// with an action modal ("should", "must").
fn count_actions(raw: &str, verbs: &[String]) -> usize {
    let items = LIST_ITEM_RE.find_iter(raw).count();
    let modal_sentences = super::textstats::sentences(raw)
        .iter()
        .filter(|s| {
            let lower = s.to_lowercase();
            MODAL_RE.is_match(s) && verbs.iter().any(|v| verb_used(&lower, v))
        })
        .count();
    items.max(modal_sentences).max(1)
}

fn specific(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let n = count_actions(&ctx.draft.text, &pr.verbs);
    let max = p.max_actions.max(1) as usize;
    if n > max {
        return verdict(
            Outcome::Fail,
            format!("{n} separate actions in one recommendation"),
            "Split it: one recommendation per action, so each can be answered and tracked.",
        );
    }
    let scope = !ctx.draft.settings.is_empty() || first_stem(&pr.lower, &p.scope_words).is_some();
    if !scope {
        return verdict(
            Outcome::Warn,
            "No scope: it does not say where or for whom it applies",
            "State the scope: the care settings, services or patient group it covers.",
        );
    }
    if n == max && max > 1 {
        return verdict(
            Outcome::Warn,
            format!("{n} actions in one recommendation"),
            "If the actions are unrelated, split them into separate recommendations.",
        );
    }
    pass("One action with a stated scope")
}

fn measurable(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    if ctx.draft.measure.is_some() {
        return pass("States how success will be measured");
    }
    if let Some(w) = first_phrase(&pr.lower, &p.measure_words) {
        return pass(format!("Says how success would be evidenced ('{w}')"));
    }
    if let Some(w) = first_phrase(&pr.lower, &p.deliverable_words) {
        return verdict(
            Outcome::Warn,
            format!("A deliverable ('{w}') but no measure of whether it worked"),
            "Say how success would be evidenced: an audit, a rate, a target or a report of progress.",
        );
    }
    verdict(
        missing(p),
        "No measure: nothing says how success would be evidenced",
        "Add how success would be evidenced (an audit, a rate, a target, a report of progress), or a measure field.",
    )
}

fn achievable(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    if let Some(w) = first_phrase(&pr.lower, &p.absolute_words) {
        return verdict(
            Outcome::Warn,
            format!("'{w}' is not achievable as stated"),
            "Set a realistic, measurable target instead of an absolute.",
        );
    }
    let codes: Vec<&str> = pr
        .addressees
        .iter()
        .filter_map(|(_, c)| c.as_deref())
        .chain(pr.in_text.iter().map(String::as_str))
        .collect();
    if let Some(w) = first_phrase(&pr.lower, &p.needs_government) {
        let gov = codes.iter().any(|c| {
            (ctx.org_kind)(c).is_some_and(|k| p.government_kinds.iter().any(|g| g == k.as_str()))
        });
        if !gov {
            return verdict(
                Outcome::Warn,
                format!("'{w}' is for government, and no government body is addressed"),
                "Address it to the Department of Health and Social Care, or ask the addressee for what is within its remit.",
            );
        }
    }
    if pr.addressees.is_empty() && codes.is_empty() && !SUBJECT_RE.is_match(&pr.raw) {
        return verdict(
            Outcome::Warn,
            "Cannot judge the remit: no addressee is named",
            "Name the addressee, so that its remit can be checked.",
        );
    }
    pass("Nothing asks for more than the addressee can do")
}

fn relevant(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let risk = ctx.draft.risk.is_some()
        || ctx.draft.evidence_kind.is_some()
        || !ctx.draft.evidence_references.is_empty()
        || first_phrase(&pr.lower, &p.risk_words).is_some();
    let setting =
        !ctx.draft.settings.is_empty() || first_stem(&pr.lower, &p.setting_words).is_some();
    match (risk, setting) {
        (true, true) => pass("Tied to a stated risk or finding, in a named setting"),
        (true, false) => verdict(
            Outcome::Warn,
            "No care setting named",
            "Name the settings it applies to (acute, mental health, primary care...).",
        ),
        (false, true) => verdict(
            Outcome::Warn,
            "Not tied to a stated risk or finding",
            "Say which finding or risk it answers.",
        ),
        (false, false) => verdict(
            Outcome::Fail,
            "Neither a risk or finding nor a care setting is stated",
            "Say which finding or risk it answers, and where it applies.",
        ),
    }
}

fn time_bound(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let d = ctx.draft;
    let structured = d
        .response_deadline
        .or(d.review_date)
        .or_else(|| d.addressees.iter().find_map(|a| a.due));
    if let Some(date) = structured {
        if date < ctx.today {
            return verdict(
                Outcome::Warn,
                format!("The deadline {date} is in the past"),
                "Set a deadline after today.",
            );
        }
        return pass(format!("Deadline {date}"));
    }
    if let Some(t) = find_time_expression(&pr.raw) {
        return pass(format!("Time-bound in the text: '{t}'"));
    }
    if let Some(v) = first_phrase(&pr.lower, &p.vague_time) {
        return verdict(
            Outcome::Warn,
            format!("'{v}' is not a deadline"),
            "Give a date by which the addressee should act or report progress.",
        );
    }
    verdict(
        Outcome::Fail,
        "No deadline or review date: add when the addressee should report progress",
        "Add a response_deadline, or a date in the text ('by 31 March 2026').",
    )
}

fn evidence(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let d = ctx.draft;
    match (&d.evidence_kind, d.evidence_references.is_empty()) {
        (Some(k), false) => return pass(format!("Evidence cited ({k})")),
        (Some(k), true) => {
            return verdict(
                Outcome::Warn,
                format!("Evidence type given ({k}) but nothing cited"),
                "Cite the report, audit or guideline it rests on.",
            );
        }
        (None, false) => {
            return verdict(
                Outcome::Warn,
                "Evidence cited without its type",
                "Say what kind of evidence it is (investigation, audit, guideline, study...).",
            );
        }
        (None, true) => {}
    }
    let ty = first_stem(&pr.lower, &p.evidence_types);
    let cited = first_phrase(&pr.lower, &p.citation_words);
    match (ty, cited) {
        (Some(t), Some(_)) => pass(format!("The text cites its evidence ('{t}')")),
        (None, Some(t)) => verdict(
            Outcome::Warn,
            format!("A finding is reported ('{t}') but not its source or type"),
            "Say where the finding comes from and its type (investigation, audit, guideline...).",
        ),
        _ => verdict(
            missing(p),
            "No evidence cited",
            "Cite the finding it rests on and its type (investigation, audit, guideline...).",
        ),
    }
}

fn patient_impact(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    if ctx.draft.patient_impact.is_some() {
        return pass("States the intended patient impact");
    }
    if let Some(w) = first_stem(&pr.lower, &p.impact_phrases) {
        return pass(format!("Says what changes for patients ('{w}')"));
    }
    if let Some(w) = first_phrase(&pr.lower, &p.patient_words) {
        return verdict(
            Outcome::Warn,
            format!("Mentions {w} but not what changes for them"),
            "Say what will be different for patients: 'so that patients...'.",
        );
    }
    verdict(
        missing(p),
        "Does not say what changes for patients",
        "Add the intended patient impact: 'so that patients...'.",
    )
}

fn cost(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let d = ctx.draft;
    if d.cost_one_off.is_some() || d.cost_recurring.is_some() {
        return pass("Costed");
    }
    if d.cost_not_estimated.is_some() {
        return pass("Says why the cost is not estimated");
    }
    if d.cost_effectiveness.is_some() {
        return verdict(
            Outcome::Warn,
            "Cost effectiveness stated, but no cost",
            "Estimate the one-off and recurring cost.",
        );
    }
    if let Some(w) = first_phrase(&pr.lower, &p.costed_phrases) {
        return pass(format!("The text speaks to the cost ('{w}')"));
    }
    if let Some(w) = first_phrase(&pr.lower, &p.cost_words) {
        return verdict(
            Outcome::Warn,
            format!("Mentions '{w}' without an estimate"),
            "Estimate the one-off and recurring cost, or say why it cannot be estimated.",
        );
    }
    verdict(
        missing(p),
        "Not costed",
        "Estimate the one-off and recurring cost, or say why it cannot be estimated.",
    )
}

fn equality(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let d = ctx.draft;
    if !d.equality_groups.is_empty() {
        return pass(format!("Considers {}", d.equality_groups.join(", ")));
    }
    if d.equality_direction.is_some() || d.equality_mitigation.is_some() {
        return verdict(
            Outcome::Warn,
            "Equality impact given without the groups affected",
            "Name the patient groups affected.",
        );
    }
    if let Some(w) = first_stem(&pr.lower, &p.considered_phrases) {
        return pass(format!("Considers inequalities ('{w}')"));
    }
    if let Some(w) = first_stem(&pr.lower, &p.group_words) {
        return verdict(
            Outcome::Warn,
            format!("Names a group ('{w}') without saying how it is affected"),
            "Say whether it narrows or widens inequalities for that group, and any mitigation.",
        );
    }
    verdict(
        missing(p),
        "No equality impact: no patient group is considered",
        "Say which groups are affected and whether it narrows or widens inequalities.",
    )
}

fn cross_reference(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let d = ctx.draft;
    let cited: Vec<String> = find_references(&d.text)
        .into_iter()
        .map(|r| r.reference.to_string())
        .chain(d.links.iter().cloned())
        .collect();
    if let Some(hits) = ctx.similar {
        let close: Vec<&super::SimilarHit> = hits
            .iter()
            // The engine's own verdict counts whatever the score: a draft that
            // repeats or contradicts an existing recommendation should say so.
            .filter(|h| {
                h.score >= p.similarity_threshold
                    || matches!(h.relation.as_deref(), Some("duplicate" | "contradicts"))
            })
            .collect();
        let unlinked: Vec<&&super::SimilarHit> = close
            .iter()
            .filter(|h| !cited.iter().any(|c| c.eq_ignore_ascii_case(&h.id)))
            .collect();
        if unlinked.is_empty() {
            return pass(if close.is_empty() {
                "Checked: no close existing recommendation".to_string()
            } else {
                "Links the close existing recommendations".to_string()
            });
        }
        return verdict(
            Outcome::Warn,
            format!(
                "Close to {} (not linked)",
                unlinked
                    .iter()
                    .map(|h| format!(
                        "{} ({:.2}{})",
                        h.id,
                        h.score,
                        h.relation
                            .as_deref()
                            .map(|r| format!(", {r}"))
                            .unwrap_or_default()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "Link, endorse or supersede the existing recommendation, or say how this one differs.",
        );
    }
    if let Some(c) = cited.first() {
        return pass(format!("Cites {c}"));
    }
    if let Some(w) = first_phrase(&pr.lower, &p.reference_phrases) {
        return pass(format!("Refers to existing recommendations ('{w}')"));
    }
    verdict(
        Outcome::Warn,
        "Mentions no existing recommendation",
        "Search the register for related recommendations; link, endorse or cite them.",
    )
}

/// Below this many words the reading-ease score is not used.
pub(super) const MIN_WORDS_FOR_EASE: usize = 30;

fn plain_language(p: &Params, pr: &Prepared) -> Verdict {
    let r = readability(&pr.raw);
    let abbr = unexplained_abbreviations(&pr.raw, &p.known_abbreviations);
    // The reading-ease formula says little about a text of a sentence or two.
    let ease_counts = r.words >= MIN_WORDS_FOR_EASE;
    if r.words_per_sentence > p.fail_sentence_words
        || (ease_counts && r.reading_ease < p.fail_reading_ease)
    {
        return verdict(
            Outcome::Fail,
            format!(
                "Hard to read: {:.0} words a sentence, reading ease {:.0}",
                r.words_per_sentence, r.reading_ease
            ),
            format!(
                "Use shorter sentences (under {:.0} words) and plainer words.",
                p.max_sentence_words
            ),
        );
    }
    let mut problems = Vec::new();
    if r.words_per_sentence > p.max_sentence_words {
        problems.push(format!(
            "long sentences ({:.0} words on average)",
            r.words_per_sentence
        ));
    }
    if ease_counts && r.reading_ease < p.min_reading_ease {
        problems.push(format!("reading ease {:.0}", r.reading_ease));
    }
    if !abbr.is_empty() {
        problems.push(format!(
            "abbreviations not spelled out: {}",
            abbr.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    if problems.is_empty() {
        return pass(format!(
            "Readable: {:.0} words a sentence, reading ease {:.0}",
            r.words_per_sentence, r.reading_ease
        ));
    }
    verdict(
        Outcome::Warn,
        format!(
            "Harder to read than it needs to be: {}",
            problems.join("; ")
        ),
        "Spell out each abbreviation the first time, e.g. 'postpartum haemorrhage (PPH)', and keep sentences short.",
    )
}
