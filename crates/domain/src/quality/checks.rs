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
    /// Who each sentence asks to act: the words before "should", "must"...
    subjects: Vec<String>,
    /// Kinds of bodies ("acute trusts", "care home providers") that a
    /// sentence asks to act.
    kinds: Vec<String>,
    /// What each sentence asks: the verb after "should", "must"... (or
    /// the first word of a sentence), and whether it is passive ("should be
    /// learned").
    asks: Vec<Ask>,
    /// The action criterion would pass it: a deed is asked for.
    deed: bool,
    /// It asks about something it does not say ("consider the findings").
    vague_object: Option<&'static str>,
    /// No addressee field, and the first party the text asks to act is a
    /// vague one ("All relevant stakeholders should ...").
    vague_first: Option<String>,
}

/// What an ask may point at without saying what it is.
const VAGUE_OBJECTS: &[&str] = &[
    "the findings",
    "the issues raised",
    "the issues identified",
    "the above",
    "the matters raised",
    "the concerns raised",
    "these concerns",
    "these issues",
    "the current arrangements",
    "this matter",
    "the learning",
    "lessons should be",
    "this should be",
    "this must be",
];

/// One thing a draft asks for.
struct Ask {
    verb: String,
    /// The verb and the few words after it ("raise awareness of").
    phrase: String,
    /// "should be reviewed": passive, the verb is the participle.
    passive: bool,
}

/// Kinds of bodies a draft may address without naming one (data kept beside
/// the organisation directory).
static BODY_KINDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    include_str!("../../organisations/body_kinds.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
});

/// Words that may stand between a modal and its verb ("should also urgently
/// review").
const ADVERBS: &[&str] = &[
    "also",
    "urgently",
    "now",
    "immediately",
    "jointly",
    "routinely",
    "then",
    "always",
    "not",
    "each",
    "both",
    "promptly",
    "further",
    "therefore",
    "consistently",
    "systematically",
    "formally",
    "clearly",
    "properly",
    "regularly",
    "together",
    "actively",
    "at",
    "least",
];

/// Participles of a passive ask that names no deed: "lessons should be
/// learned", "consideration should be given", "attention should be paid".
const EMPTY_PASSIVES: &[&str] = &[
    "learned",
    "learnt",
    "given",
    "paid",
    "looked",
    "considered",
    "noted",
    "taken",
    "explored",
    "addressed",
    "reflected",
];

/// An ask that is only a forecast ("future deaths will occur").
fn skip_ask(after: &str) -> bool {
    let first = after
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty() && !ADVERBS.contains(w))
        .unwrap_or_default();
    matches!(
        first,
        "occur" | "happen" | "arise" | "recur" | "result" | "remain" | "die" | "exist"
    )
}

fn asks_and_subjects(raw: &str) -> (Vec<Ask>, Vec<String>) {
    let mut asks = Vec::new();
    let mut subjects = Vec::new();
    for s in super::textstats::sentences(raw) {
        let lower = s.to_lowercase();
        for (k, m) in ASK_RE.find_iter(&lower).enumerate() {
            // "future deaths will occur": what may happen, not what is asked.
            if skip_ask(&lower[m.end()..]) {
                continue;
            }
            if k == 0 {
                // Who is asked: the last words before the modal, as written.
                let before = s.get(..m.start()).unwrap_or_default();
                let words: Vec<&str> = before.split_whitespace().collect();
                subjects.push(words[words.len().saturating_sub(10)..].join(" "));
            }
            let words: Vec<&str> = lower[m.end()..]
                .split(|c: char| !c.is_alphanumeric() && c != '-' && c != '\'')
                .filter(|w| !w.is_empty())
                .filter(|w| !ADVERBS.contains(w))
                .take(5)
                .collect();
            let Some(first) = words.first().copied() else {
                continue;
            };
            let (verb, passive, rest) = if first == "be" {
                match words.get(1) {
                    Some(p) => (p.to_string(), true, &words[1..]),
                    None => continue,
                }
            } else {
                (first.to_string(), false, &words[..])
            };
            let phrase = rest.join(" ");
            // "recommends that X should ..." is followed by its own modal.
            if matches!(verb.as_str(), "that" | "the" | "a" | "an") {
                continue;
            }
            asks.push(Ask {
                verb,
                phrase,
                passive,
            });
        }
    }
    (asks, subjects)
}

impl Prepared {
    pub(super) fn new(ctx: &Context<'_>, action: &Params, addressee: &Params) -> Self {
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
        let (asks, subjects) = asks_and_subjects(&raw);
        let kinds = subjects
            .iter()
            .filter_map(|subj| {
                let lower = format!(" {} ", crate::text::normalise_name(subj));
                BODY_KINDS
                    .iter()
                    .find(|k| lower.contains(&format!(" {k} ")))
                    .cloned()
            })
            .collect();
        let lower = raw.to_lowercase();
        let vague_object = VAGUE_OBJECTS
            .iter()
            .find(|v| contains_phrase(&lower, v))
            .copied();
        let mut pr = Prepared {
            lower,
            raw,
            addressees,
            in_text,
            subjects,
            kinds,
            asks,
            deed: false,
            vague_object,
            vague_first: None,
            verbs: action
                .strong_verbs
                .iter()
                .chain(&action.weak_verbs)
                .chain(&action.vague_verbs)
                .cloned()
                .collect(),
        };
        pr.deed = action_outcome(action, &pr).0 == Outcome::Pass;
        if pr.addressees.is_empty() {
            pr.vague_first = pr
                .subjects
                .iter()
                .find(|s| !s.trim().is_empty())
                .and_then(|s| vague_party(addressee, s));
        }
        pr
    }

    /// Someone is named to act: an addressee, a registered body in the
    /// text, a kind of body, or a body-like name asked to act.
    fn names_a_body(&self) -> bool {
        !self.addressees.is_empty()
            || !self.in_text.is_empty()
            || !self.kinds.is_empty()
            || SUBJECT_RE.is_match(&self.raw)
            || self
                .subjects
                .iter()
                .any(|s| crate::organisation::names::looks_like_body(s))
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

/// A phrase that stands for a body nobody can identify: a party named
/// vaguely ("stakeholders"), or one body of a kind without its name ("the
/// trust", "the council").
fn vague_party(p: &Params, name: &str) -> Option<String> {
    let lower = name.trim().to_lowercase();
    if let Some(v) = first_phrase(&lower, &p.vague_addressees) {
        return Some(v.to_string());
    }
    let n = crate::text::normalise_name(name);
    // "Healthcare staff in prisons", "clinicians": people, not a body.
    let head = n
        .split(" in ")
        .next()
        .and_then(|h| h.split(" at ").next())
        .and_then(|h| h.split_whitespace().last())
        .unwrap_or_default();
    if matches!(
        head,
        "staff"
            | "clinicians"
            | "professionals"
            | "practitioners"
            | "nurses"
            | "doctors"
            | "workers"
            | "colleagues"
            | "everyone"
            | "people"
            | "teams"
            | "team"
    ) {
        return Some(name.trim().to_string());
    }
    let singular_kind = [
        "trust",
        "council",
        "practice",
        "gp practice",
        "hospital",
        "ambulance service",
        "service",
        "provider",
        "care home",
        "home",
        "board",
        "authority",
        "nhs",
    ]
    .iter()
    .any(|k| n == *k || n == format!("local {k}"));
    // A bare plural names no one: "Services should ask ...", "Commissioners
    // should explore ..." (which services, whose commissioners?), where
    // "ambulance services" or "all acute trusts" is a kind of body.
    if matches!(
        n.as_str(),
        "services" | "commissioners" | "providers" | "organisations" | "agencies" | "partners"
    ) {
        return Some(name.trim().to_string());
    }
    (singular_kind && (lower.starts_with("the ") || n == "nhs")).then(|| name.trim().to_string())
}

fn addressee(p: &Params, pr: &Prepared) -> Verdict {
    let vague_named = pr
        .addressees
        .iter()
        .find(|(n, code)| code.is_none() && vague_party(p, n).is_some());
    if let Some((n, _)) = vague_named {
        return verdict(
            Outcome::Warn,
            format!(
                "The addressee '{}' does not say which body should act: name it",
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
        let codes: Vec<&str> = pr
            .addressees
            .iter()
            .filter_map(|(_, c)| c.as_deref())
            .collect();
        if unknown.is_empty() {
            return pass(format!("Addressed to {}", codes.join(", ")));
        }
        // A body named, though not (yet) in the register, can act: the
        // register is a convenience for tracking its answer.
        return pass(format!(
            "Addressed to {} (not in the organisations register: register it so that its answer can be tracked)",
            unknown
                .iter()
                .map(|u| format!("'{u}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // No structured addressee: read who the text asks, the first ask first
    // ("All relevant stakeholders should require every trust ...").
    if let Some(v) = &pr.vague_first {
        return verdict(
            Outcome::Warn,
            format!("'{v}' does not say which body should act: name it"),
            "Name the organisation that should act, and add it as an addressee.",
        );
    }
    if !pr.in_text.is_empty() {
        return pass(format!(
            "Names {} in the text (add it as an addressee field so its answer can be tracked)",
            pr.in_text.join(", ")
        ));
    }
    if let Some(k) = pr.kinds.first() {
        return pass(format!(
            "Addressed to a kind of body ('{k}') in the text (add the bodies as addressees so that each answer can be tracked)"
        ));
    }
    if let Some(c) = SUBJECT_RE.captures(&pr.raw)
        && vague_party(p, &c[1]).is_none()
    {
        return pass(format!(
            "Names '{}' in the text (add it as an addressee field so its answer can be tracked)",
            c[1].trim()
        ));
    }
    if let Some(subject) = pr
        .subjects
        .iter()
        .find(|s| crate::organisation::names::looks_like_body(s) && vague_party(p, s).is_none())
    {
        return pass(format!(
            "Names '{}' in the text (add it as an addressee field so its answer can be tracked)",
            subject.trim()
        ));
    }
    let vague = pr
        .subjects
        .iter()
        .find_map(|s| vague_party(p, s))
        .or_else(|| first_phrase(&pr.lower, &p.vague_addressees).map(str::to_string));
    if let Some(v) = vague {
        return verdict(
            Outcome::Warn,
            format!("'{v}' does not say which body should act: name it"),
            "Name the organisation that should act, and add it as an addressee.",
        );
    }
    if pr
        .subjects
        .iter()
        .any(|s| !s.trim().is_empty() && !is_passive_subject(s))
    {
        return verdict(
            Outcome::Warn,
            format!(
                "Asks '{}' to act, which is not a body that can be held to it",
                pr.subjects
                    .iter()
                    .find(|s| !s.trim().is_empty())
                    .map(|s| s.trim())
                    .unwrap_or_default()
            ),
            "Name the organisation that should act, and add it as an addressee.",
        );
    }
    verdict(
        Outcome::Fail,
        "No addressee: nobody is named to act",
        "Name the organisation that should act, and add it as an addressee.",
    )
}

/// The subject of a passive ask with no actor ("lessons should be learned",
/// "consideration should be given"): what is done, not who does it.
fn is_passive_subject(subject: &str) -> bool {
    let n = crate::text::normalise_name(subject);
    let last = n.split_whitespace().last().unwrap_or_default();
    matches!(
        last,
        "lessons"
            | "consideration"
            | "attention"
            | "thought"
            | "this"
            | "it"
            | "these"
            | "they"
            | "issues"
            | "findings"
            | "matters"
            | "learning"
            | "changes"
            | "action"
            | "steps"
    ) || n.is_empty()
}

static ASK_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(should|must|shall|will|needs? to|asked to|is to|are to|ought to|recommends? that|recommended that|i ask that)\b")
        .expect("valid regex")
});

/// The words where an action is asked for: the few words after "should",
/// "must", "is asked to"... and the first words of each sentence (an
/// imperative: "Publish the guidance"). A verb elsewhere ("this included
/// the records") is description, not an action.
/// The first word of each sentence or list item: where an imperative stands.
fn imperative_zone(raw: &str) -> String {
    let mut zone = String::new();
    for s in super::textstats::sentences(raw) {
        let lower = s.to_lowercase();
        let body = LIST_ITEM_RE
            .find(&lower)
            .filter(|m| m.start() == 0)
            .map_or(lower.as_str(), |m| &lower[m.end() - 1..]);
        if let Some(first) = body
            .trim_start_matches(|c: char| !c.is_alphabetic())
            .split_whitespace()
            .next()
        {
            zone.push_str(first);
            zone.push_str(" | ");
        }
    }
    zone
}

/// What the action criterion makes of a draft: the verdict, and whether a
/// deed is asked for (the measurable and specific criteria ask too).
fn action_outcome(p: &Params, pr: &Prepared) -> (Outcome, String, &'static str) {
    let mut weak: Option<String> = None;
    let mut empty_passive: Option<String> = None;
    let mut empty_vague: Option<String> = None;
    for a in &pr.asks {
        let v = a.verb.as_str();
        if a.passive {
            if EMPTY_PASSIVES.contains(&v) {
                if empty_passive.is_none() {
                    empty_passive = Some(format!("be {v}"));
                }
                continue;
            }
            let weak_participle = p
                .vague_verbs
                .iter()
                .chain(&p.weak_verbs)
                .find(|x| !x.contains(' ') && verb_used(v, x));
            if matches!(v, "reminded" | "aware" | "mindful" | "encouraged")
                || weak_participle.is_some()
            {
                weak.get_or_insert(format!("be {v}"));
                continue;
            }
            // "Each check should be recorded": a deed, passive.
            return (Outcome::Pass, format!("Clear action: '{v}'"), "");
        }
        // "consider", "raise awareness", "review" alone: a deed half asked
        // for (the phrase must start where the ask does).
        let starts = |x: &String| {
            a.phrase == *x
                || a.phrase.starts_with(&format!("{x} "))
                || (!x.contains(' ') && verb_used(v, x))
        };
        if let Some(x) = p
            .vague_verbs
            .iter()
            .chain(&p.weak_verbs)
            .find(|x| starts(x))
        {
            // "consider raising awareness": one vague verb asking for
            // another asks for nothing at all.
            let rest = a.phrase.strip_prefix(x.as_str()).unwrap_or_default();
            let stacked = p.vague_verbs.iter().any(|y| {
                let head = y.split(' ').next().unwrap_or(y);
                rest.split_whitespace().take(2).any(|w| verb_used(w, head))
            });
            if stacked && p.vague_verbs.contains(x) {
                empty_vague.get_or_insert(x.clone());
            } else {
                weak.get_or_insert(x.clone());
            }
            continue;
        }
        if matches!(v, "have" | "be" | "being" | "been" | "is" | "are" | "do") {
            continue;
        }
        return (Outcome::Pass, format!("Clear action: '{v}'"), "");
    }
    // An imperative ("Publish the guidance"): the first word of a sentence
    // (the words after "should" were judged above).
    let zone = imperative_zone(&pr.raw);
    if let Some(v) = p.strong_verbs.iter().find(|v| verb_used(&zone, v)) {
        return (Outcome::Pass, format!("Clear action: '{v}'"), "");
    }
    if let Some(v) = empty_vague {
        return (
            Outcome::Fail,
            format!("'{v}' alone is not an action: say what should be done"),
            "Use a verb whose doing can be seen: introduce, publish, audit, train...",
        );
    }
    // "Lessons should be learned and practice should be improved": every
    // ask passive, vague and with no one named to do it is no action at all
    // (the report's own example of a useless recommendation).
    let nobody = pr.addressees.is_empty()
        && pr.in_text.is_empty()
        && pr.kinds.is_empty()
        && !pr
            .subjects
            .iter()
            .any(|s| crate::organisation::names::looks_like_body(s));
    if let Some(w) = weak.as_ref().filter(|_| {
        nobody
            && empty_passive.is_some()
            && !pr.asks.is_empty()
            && pr.asks.iter().all(|a| a.passive)
    }) {
        return (
            Outcome::Fail,
            format!("'{w}', passive and with no one named to do it, is not an action"),
            "Say who should do what, e.g. 'NHS England should publish ...'.",
        );
    }
    if let Some(w) = weak {
        return (
            Outcome::Warn,
            format!("'{w}' alone is a weak action: it does not say what should change"),
            "Say what should be done, with a verb whose doing can be seen: introduce, publish, audit, train...",
        );
    }
    if let Some(v) = empty_passive {
        return (
            Outcome::Fail,
            format!("'{v}' names no one and no deed: it is not an action"),
            "Say who should do what, e.g. 'NHS England should publish ...'.",
        );
    }
    (
        Outcome::Fail,
        "No action verb found: the text does not say what should be done".into(),
        "Say what the addressee should do, with a verb such as introduce, publish, audit or train.",
    )
}

fn action(p: &Params, pr: &Prepared) -> Verdict {
    let (o, msg, suggestion) = action_outcome(p, pr);
    if o == Outcome::Pass {
        pass(msg)
    } else {
        verdict(o, msg, suggestion)
    }
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
    let mut asked = 0;
    for s in super::textstats::sentences(raw) {
        let lower = s.to_lowercase();
        if !(MODAL_RE.is_match(&s) && verbs.iter().any(|v| verb_used(&lower, v))) {
            continue;
        }
        // One sentence may bundle several: "should train staff, fix the
        // analyser, recruit a consultant and stop corridor care" (a list of
        // verbs), or "the council should X, the practice should Y and the
        // service should Z" (several bodies).
        // "audit the call-backs and share the results" is one step of two
        // verbs: a list needs commas.
        let modals = MODAL_RE.find_iter(&s).count();
        // "..., including adrenaline": a participle lists no ask.
        let is_verb = |w: &str| {
            !w.ends_with("ing") && !w.ends_with("ed") && verbs.iter().any(|v| verb_used(w, v))
        };
        let after_commas = LISTED_VERB_RE
            .captures_iter(&lower)
            .filter(|c| is_verb(&c[1]))
            .count();
        let closing = AND_VERB_RE
            .captures_iter(&lower)
            .filter(|c| is_verb(&c[1]))
            .count()
            .min(1);
        let listed = if after_commas > 0 {
            1 + after_commas + closing
        } else {
            1
        };
        asked += modals.max(listed);
    }
    items.max(asked).max(1)
}

/// A verb after a comma (a list of asks in one sentence), and after "and".
static LISTED_VERB_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r",\s+([a-z]+)\b").expect("valid regex"));
static AND_VERB_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\band\s+([a-z]+)\b").expect("valid regex"));

/// A text of fewer words cannot say what is asked, and of what or where.
const TERSE_WORDS: usize = 6;

fn specific(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    if let Some(v) = pr.vague_object {
        return verdict(
            Outcome::Fail,
            format!("'{v}' does not say what is asked: it could mean anything"),
            "Say what should change, and where.",
        );
    }
    let n = count_actions(&ctx.draft.text, &pr.verbs);
    // Two linked steps ("record each check, and sample the records") are
    // one recommendation; three or more are a bundle.
    let max = p.max_actions.max(1) as usize;
    if n > max {
        return verdict(
            Outcome::Warn,
            format!("{n} separate actions in one recommendation"),
            "If the actions are unrelated, split them: one recommendation per action, so each can be answered and tracked.",
        );
    }
    // "Train staff.", "Publish the data.": the text alone does not say in
    // what or which; a recommendation is read on its own, without its fields.
    if ctx.draft.text.split_whitespace().count() < TERSE_WORDS {
        return verdict(
            Outcome::Warn,
            "Too short to say what is asked: the text alone does not say what, or where",
            "Say in the text what should change and where; the fields add to it, they do not replace it.",
        );
    }
    if pr.asks.is_empty() && !pr.deed {
        return verdict(
            Outcome::Warn,
            "Asks for nothing in particular",
            "Say what should be done, by whom and where.",
        );
    }
    // A local body asked to act states where it applies (a police force,
    // a council, hospices); a national one does not.
    let local = |code: Option<String>| match code {
        None => true,
        Some(c) => (ctx.org_kind)(&c).is_some_and(|k| {
            matches!(
                k,
                crate::OrgKind::Provider
                    | crate::OrgKind::Icb
                    | crate::OrgKind::LocalAuthority
                    | crate::OrgKind::Police
                    | crate::OrgKind::Prison
            )
        }),
    };
    let local_body = !pr.kinds.is_empty()
        || pr.addressees.iter().any(|(_, c)| local(c.clone()))
        || pr.subjects.iter().any(|s| {
            crate::organisation::names::looks_like_body(s)
                && local(ctx.directory.resolve(s).map(|c| c.to_string()))
        });
    let scope = !ctx.draft.settings.is_empty()
        || first_stem(&pr.lower, &p.scope_words).is_some()
        || local_body;
    if !scope {
        return verdict(
            Outcome::Warn,
            "No scope: it does not say where or for whom it applies",
            "State the scope: the care settings, services or patient group it covers.",
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
    if pr.deed {
        return verdict(
            Outcome::Warn,
            "A deed that can be checked, but no measure of whether it worked",
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
    if !pr.names_a_body() || pr.vague_first.is_some() {
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

static TIME_LIMIT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:review date:?\s+\w+\s+(?:19|20)\d{2}|(?:by|before|from|in|until)\s+(?:january|february|march|april|may|june|july|august|september|october|november|december)\s+(?:19|20)\d{2}|within\s+(?:the\s+next\s+)?(?:\d+|one|two|three|four|six|nine|twelve|eighteen)\s+(?:weeks?|months?|years?)|within\s+the\s+next\s+(?:year|month|six months)|(?:by|before)\s+the\s+end\s+of\s+(?:19|20)\d{2})\b",
    )
    .expect("valid regex")
});

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
    // "Review date: December 2025", "within the next year".
    if let Some(m) = TIME_LIMIT_RE.find(&pr.raw) {
        return pass(format!("Time-bound in the text: '{}'", m.as_str().trim()));
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

/// Evidence claimed without saying what it is.
const VAGUE_EVIDENCE: &[&str] = &[
    "evidence suggests",
    "evidence shows",
    "evidence indicates",
    "research shows",
    "research suggests",
    "studies show",
    "studies suggest",
    "it is well known",
    "it is known",
    "reports",
    "national guidance",
    "best practice",
    "experience shows",
];

static NAMED_SOURCE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:(?:19|20)\d{2}\s+(?:[A-Za-z-]+\s+){0,3}(?:investigation|audit|review|inquiry|enquiry|inspection|report|study|survey)s?|(?:investigation|audit|review|inquiry|enquiry|inspection|report|study|survey)\s+(?:of|into|by)\s+[^.]{3,60}?(?:19|20)\d{2}|(?:national|confidential)\s+(?:[A-Za-z-]+\s+){0,2}(?:audit|enquiry|inquiry|review)\s+(?:of|into)\s+\w+|[A-Z][a-z]+\s+(?:report|review|inquiry))\b",
    )
    .expect("valid regex")
});

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
    // A named earlier investigation, audit or review ("the 2024 national
    // audit of inpatient diabetes", "Our 2024 review of 400 complaints").
    if let Some(m) = NAMED_SOURCE_RE.find(&pr.raw) {
        return pass(format!(
            "The text cites its evidence ('{}')",
            m.as_str().trim()
        ));
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
        _ if VAGUE_EVIDENCE.iter().any(|v| contains_phrase(&pr.lower, v)) => verdict(
            Outcome::Warn,
            "Evidence is asserted but not cited",
            "Name the investigation, audit, guideline or study it rests on.",
        ),
        _ => verdict(
            missing(p),
            "No evidence cited",
            "Cite the finding it rests on and its type (investigation, audit, guideline...).",
        ),
    }
}

/// Impacts that could be claimed for anything ("better outcomes").
const VAGUE_IMPACTS: &[&str] = &[
    "better outcomes",
    "improve outcomes",
    "improved outcomes",
    "improve patient safety",
    "improved patient safety",
    "patient safety",
    "safer care",
    "improve care",
    "better care",
    "quality of care",
    "patient experience",
    "improve safety",
];

fn patient_impact(p: &Params, ctx: &Context<'_>, pr: &Prepared) -> Verdict {
    let vague = |t: &str| {
        let lower = t.to_lowercase();
        VAGUE_IMPACTS
            .iter()
            .find(|v| contains_phrase(&lower, v))
            .copied()
    };
    if let Some(field) = &ctx.draft.patient_impact {
        // A short statement that is only a general good is no impact.
        if field.split_whitespace().count() <= 8
            && let Some(v) = vague(field)
        {
            return verdict(
                Outcome::Warn,
                format!("'{v}' could be said of anything: say what changes for patients"),
                "Say what will be different for patients: 'so that patients...'.",
            );
        }
        return pass("States the intended patient impact");
    }
    if let Some(w) = first_stem(&pr.lower, &p.impact_phrases) {
        return pass(format!("Says what changes for patients ('{w}')"));
    }
    if let Some(v) = vague(&pr.raw) {
        return verdict(
            Outcome::Warn,
            format!("'{v}' could be said of anything: say what changes for patients"),
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
    // "No extra cost", "within existing budgets": a cost statement too.
    if let Some(w) = d
        .cost_effectiveness
        .as_deref()
        .and_then(|c| first_phrase(&c.to_lowercase(), &p.costed_phrases).map(str::to_string))
    {
        return pass(format!("Speaks to the cost ('{w}')"));
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
    // A wall of acronyms cannot be read by the public it is for.
    if abbr.len() >= 4 {
        return verdict(
            Outcome::Fail,
            format!(
                "Hard to read: abbreviations not spelled out: {}",
                abbr.iter().take(6).cloned().collect::<Vec<_>>().join(", ")
            ),
            "Spell out each abbreviation the first time, and write for a reader outside the service.",
        );
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
