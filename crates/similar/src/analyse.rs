//! From a text to what the engine compares: weighted terms, shingles for
//! MinHash, and "cues" — the instructions, directions and quantities a
//! contradiction check reads ("should not ... oxygen", "within 1 hour ...
//! CT", "routinely ... bed rails").

use std::collections::BTreeMap;

use crate::text::{Tok, tokenise};

/// MinHash signature length = BANDS * ROWS (the index buckets texts by
/// their band keys; a prepared text carries its keys).
pub const BANDS: usize = 16;
pub const ROWS: usize = 3;

/// What a cue says.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum CueKind {
    /// An instruction: sign +1 "should / must do X", -1 "should not / do not / never X".
    Directive,
    /// A direction on an axis (sign +1 / -1), see [`AXES`].
    Axis(u8),
    /// A time limit: "within 1 hour", "no later than 8 hours".
    Within,
    /// A frequency: "every 15 minutes", "hourly", "annually", "every 3 years".
    Every,
    /// A point in time: "after 45 minutes", "at 30 minutes".
    At,
    /// A duration: "for 4 hours", "for the first hour".
    For,
    /// A year in a deadline: "by March 2025", "before April 2027".
    Year,
    /// An age: "aged 75", "over-75s".
    Age,
    /// A score or threshold: "score of 5 or above".
    Threshold,
    Percent,
    /// What an instruction asks, beyond its words (see [`ask_cues`]): a
    /// restriction to a condition ("only when", "limited to").
    Only,
    /// An upper bound on an amount or frequency ("no more than", "at most",
    /// "a single", "no more often than"); value: the bound when written.
    Cap,
    /// A lower bound ("at least", "no fewer than", "whenever").
    Floor,
    /// A deferral ("until", "wait", "not within", "next working day").
    Defer,
    /// Promptness ("as soon as", "immediately", "within", "straight away").
    Prompt,
    /// A number of things asked for ("2 guides", "a 3-officer unlock").
    Count,
    /// A sentence that asks for something (a modal, not negated); anchors:
    /// the whole sentence's content stems.
    Ask,
    /// A sentence that forbids something ("must not", "should stop").
    Forbid,
    /// A relaxation of a duty: "need not", "no longer be required",
    /// "rather than every day", "remain voluntary", "regarded as
    /// sufficient", "without first". A coroner's concern or a safety
    /// recommendation asks for more of what it is about; a draft that asks
    /// for less of the same thing is against it, however many words they
    /// share.
    Relax,
}

impl CueKind {
    /// A figure compared as a figure (time limits, frequencies...).
    pub fn is_quantity(self) -> bool {
        matches!(
            self,
            CueKind::Within
                | CueKind::Every
                | CueKind::At
                | CueKind::For
                | CueKind::Year
                | CueKind::Age
                | CueKind::Threshold
                | CueKind::Percent
        )
    }

    /// Two different figures of this kind can clash: not time limits,
    /// deadlines or thresholds (the stricter meets both), nor ages (scope).
    pub fn compared_as_figure(self) -> bool {
        matches!(
            self,
            CueKind::Every | CueKind::At | CueKind::For | CueKind::Percent
        )
    }

    /// A feature of what an instruction asks: a condition, a bound, a
    /// deferral or promptness, or a count.
    pub fn is_ask(self) -> bool {
        matches!(
            self,
            CueKind::Only
                | CueKind::Cap
                | CueKind::Floor
                | CueKind::Defer
                | CueKind::Prompt
                | CueKind::Count
                | CueKind::Ask
                | CueKind::Forbid
        )
    }

    /// How a kind reads in a reason.
    pub fn label(self) -> &'static str {
        match self {
            CueKind::Directive => "instruction",
            CueKind::Axis(a) => AXES.get(a as usize).map(|a| a.0).unwrap_or("direction"),
            CueKind::Within => "time limit",
            CueKind::Every => "frequency",
            CueKind::At => "timing",
            CueKind::For => "duration",
            CueKind::Year => "deadline",
            CueKind::Age => "age",
            CueKind::Threshold => "threshold",
            CueKind::Percent => "percentage",
            CueKind::Only => "condition",
            CueKind::Cap => "upper bound",
            CueKind::Floor => "lower bound",
            CueKind::Defer => "deferral",
            CueKind::Prompt => "promptness",
            CueKind::Count => "number",
            CueKind::Ask => "instruction",
            CueKind::Forbid => "prohibition",
            CueKind::Relax => "relaxation",
        }
    }
}

/// Axes of opposite directions: (name, words for +1, words for -1). Words
/// are compared after folding and synonym mapping (see `text`).
pub const AXES: &[(&str, &[&str], &[&str])] = &[
    (
        "routine use",
        &[
            "routinely",
            "routine",
            "always",
            "universal",
            "universally",
            "blanket",
        ],
        &[
            "notroutinely",
            "selective",
            "selectively",
            "individually",
            "case",
        ],
    ),
    (
        "obligation",
        &[
            "mandatory",
            "mandate",
            "statutory",
            "compulsorily",
            "require",
            "requires",
            "required",
            "requirement",
            "obliged",
            "oblige",
            "obligation",
        ],
        &["optional", "exemption", "exempt", "exempted", "locally"],
    ),
    (
        "amount",
        &[
            "increase",
            "increased",
            "increasing",
            "more",
            "higher",
            "extend",
            "expand",
        ],
        &[
            "reduce", "reduced", "reducing", "fewer", "shorten", "shorter",
        ],
    ),
    (
        "starting or stopping",
        &[
            "start",
            "install",
            "installed",
            "introduce",
            "introduced",
            "resume",
            "restart",
            "adopt",
            // Keeping what the other would withdraw ("retain the forceps"
            // against "withdraw the forceps").
            "reinstate",
            "reinstated",
            "retain",
            "keep",
            "maintain",
            "continue",
        ],
        &[
            "stop",
            "stopped",
            "withdraw",
            "withdrawn",
            "abandon",
            "remove",
            "removed",
            "shelve",
            "scrap",
            "scrapped",
            "decommission",
            "decommissioned",
        ],
    ),
    ("mode of contact", &["inperson"], &["remote"]),
    (
        "holding or releasing",
        &["stay", "remain", "retain"],
        &["release", "released", "releasing", "leave"],
    ),
];

/// One cue found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub kind: CueKind,
    /// +1 / -1 for directives and axes; 0 for quantities.
    pub sign: i8,
    /// For quantities: the value, in minutes for times, else as written.
    pub value: f64,
    /// Content stems near the cue: what it is about.
    pub anchors: Vec<String>,
    /// The words as written, for reasons ("within 1 hour", "do not").
    pub phrase: String,
    /// For instructions: the first content word asked about (the verb,
    /// usually: "give" in "should not give oxygen").
    pub head: Option<String>,
    /// Read in a sentence that asks something (a modal or an instructive
    /// word, not an account of what happened). A coroner's concern tells
    /// what is done ("families are not routinely involved"); only what a
    /// text asks can be opposed.
    pub asks: bool,
}

/// A text, analysed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    /// Content stems with their counts, sorted by stem.
    pub terms: Vec<(String, u32)>,
    /// A readable word for each stem (its first occurrence).
    pub surface: BTreeMap<String, String>,
    /// Hashes of unigram and bigram shingles of content stems.
    pub shingles: Vec<u64>,
    pub cues: Vec<Cue>,
}

/// FNV-1a, then a splitmix64 finaliser: fast, stable across runs and
/// platforms (std's hasher is randomly seeded, which would make signatures
/// differ between a build and a rebuild).
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(h)
}

pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const MODALS: &[&str] = &[
    "should", "must", "shall", "need", "needs", "will", "ensure", "always", "required", "expected",
    "ought",
];
/// "not" is an instruction only after these (or "do not" opening a clause).
const NEG_AFTER: &[&str] = &["should", "must", "shall", "need", "needs", "to", "ought"];
const UNITS: &[(&str, f64)] = &[
    ("minute", 1.0),
    ("minutes", 1.0),
    ("hour", 60.0),
    ("hours", 60.0),
    ("day", 1440.0),
    ("days", 1440.0),
    ("night", 1440.0),
    ("nights", 1440.0),
    ("week", 10080.0),
    ("weeks", 10080.0),
    ("month", 43200.0),
    ("months", 43200.0),
    ("year", 525_600.0),
    ("years", 525_600.0),
];
const LY_UNITS: &[(&str, f64)] = &[
    ("hourly", 60.0),
    ("daily", 1440.0),
    ("weekly", 10080.0),
    ("monthly", 43200.0),
    ("annually", 525_600.0),
];
const MONTHS: &[&str] = &[
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
/// Words too general to show that two instructions are about the same thing.
pub const GENERIC: &[&str] = &[
    // "at least", "at most": a bound's own words, not what it bounds.
    "least",
    "most",
    "ought",
    "patient",
    "staff",
    "people",
    "person",
    "care",
    "service",
    "hospital",
    "clinical",
    "ward",
    "team",
    "board",
    "all",
    "local",
    "national",
    "nhs",
    "england",
    "system",
    "policy",
    "guidance",
    "process",
    "procedure",
    "practice",
    "ensur",
    "ensure",
    "review",
    "be",
    "have",
    "year",
    "hour",
    "minute",
    "day",
    "week",
    "month",
    "record",
    "support",
    "safe",
    "safety",
    "risk",
    "first",
    "continu",
    "continue",
    "provid",
    "provide",
    "there",
    "every",
    "each",
    "should",
    "must",
];

fn unit_of(w: &str) -> Option<f64> {
    UNITS.iter().find(|(u, _)| *u == w).map(|(_, m)| *m)
}

/// "other" / "second" (2), "third" (3)...: "every third day".
fn ordinal(w: &str) -> Option<f64> {
    let n = match w {
        "other" | "second" | "2nd" => 2.0,
        "third" | "3rd" => 3.0,
        "fourth" | "4th" => 4.0,
        "fifth" | "5th" => 5.0,
        "sixth" | "6th" => 6.0,
        _ => return None,
    };
    Some(n)
}

fn parse_num(w: &str) -> Option<f64> {
    if w.bytes().all(|b| b.is_ascii_digit() || b == b'.') && w.bytes().any(|b| b.is_ascii_digit()) {
        w.parse().ok()
    } else {
        None
    }
}

/// Analyses a text (assumed checked with [`crate::text::check_text`]).
pub fn analyse(text: &str) -> Analysis {
    let toks = tokenise(text);
    let mut counts: BTreeMap<String, u32> = BTreeMap::new();
    let mut surface: BTreeMap<String, String> = BTreeMap::new();
    let content: Vec<&Tok> = toks.iter().filter(|t| !t.stop).collect();
    for t in &content {
        *counts.entry(t.stem.clone()).or_default() += 1;
        surface
            .entry(t.stem.clone())
            .or_insert_with(|| t.word.clone());
    }
    let mut shingles: Vec<u64> = content.iter().map(|t| hash_str(&t.stem)).collect();
    for w in content.windows(2) {
        if w[0].sentence == w[1].sentence {
            shingles.push(mix(
                hash_str(&w[0].stem) ^ hash_str(&w[1].stem).rotate_left(17)
            ));
        }
    }
    shingles.sort_unstable();
    shingles.dedup();
    let cues = cues(&toks);
    Analysis {
        terms: counts.into_iter().collect(),
        surface,
        shingles,
        cues,
    }
}

/// Analyses a record: its terms come from the title and the text, its cues
/// from the text alone (a title names a subject, it asks nothing: "Release
/// of ambulance crews" is not an instruction to release them).
pub fn analyse_doc(title: &str, text: &str) -> Analysis {
    if title.trim().is_empty() {
        return analyse(text);
    }
    let mut a = analyse(&format!("{title}.\n{text}"));
    a.cues = cues(&tokenise(text));
    a
}

fn is_content(t: &Tok) -> bool {
    !t.stop
        && parse_num(&t.word).is_none()
        && unit_of(&t.word).is_none()
        && !LY_UNITS.iter().any(|(u, _)| *u == t.word)
}

/// Content stems within `radius` words of position `i`, same sentence.
fn anchors_near(toks: &[Tok], i: usize, radius: usize) -> Vec<String> {
    let s = toks[i].sentence;
    let lo = i.saturating_sub(radius);
    let hi = (i + radius + 1).min(toks.len());
    let mut out: Vec<String> = toks[lo..hi]
        .iter()
        .filter(|t| t.sentence == s && is_content(t) && !GENERIC.contains(&t.stem.as_str()))
        .map(|t| t.stem.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Content stems following position `i` in the same clause, up to `n` words.
fn scope_after(toks: &[Tok], i: usize, n: usize) -> Vec<String> {
    let c = toks[i].clause;
    let mut out: Vec<String> = toks[i + 1..]
        .iter()
        .take_while(|t| t.clause == c)
        .take(n)
        .filter(|t| is_content(t) && !GENERIC.contains(&t.stem.as_str()))
        .map(|t| t.stem.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn phrase(toks: &[Tok], from: usize, to: usize) -> String {
    toks[from..=to.min(toks.len() - 1)]
        .iter()
        .filter(|t| !t.implied)
        .map(|t| t.word.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn clause_start(toks: &[Tok], i: usize) -> bool {
    i == 0 || toks[i - 1].clause != toks[i].clause
}

fn cues(toks: &[Tok]) -> Vec<Cue> {
    let mut out = Vec::new();
    // Where each cue was read (the token the loop stood on).
    let mut at: Vec<usize> = Vec::new();
    let mut last = 0;
    let mut i = 0;
    while i < toks.len() {
        at.resize(out.len(), last);
        last = i;
        let w = toks[i].word.as_str();
        let prev = if i > 0 { toks[i - 1].word.as_str() } else { "" };
        let next = toks.get(i + 1).map(|t| t.word.as_str()).unwrap_or("");

        // --- instructions ---
        let negator = match w {
            // "not all families are told": a quantity, not a prohibition.
            "not"
                if matches!(
                    next,
                    "all" | "every" | "always" | "enough" | "everyone" | "many"
                ) =>
            {
                false
            }
            "not" | "never"
                if NEG_AFTER.contains(&prev)
                    || clause_start(toks, i)
                    || (prev == "do" && i >= 1 && clause_start(toks, i - 1)) =>
            {
                true
            }
            // "connectors are not to be used": a rule, not a description.
            "not" if matches!(prev, "is" | "are") && next == "to" => true,
            // "ought to refer it, and never hold patients themselves".
            "never"
                if matches!(prev, "and" | "or")
                    && toks[..i]
                        .iter()
                        .rev()
                        .take_while(|t| t.sentence == toks[i].sentence)
                        .any(|t| MODALS.contains(&t.word.as_str())) =>
            {
                true
            }
            "notroutinely" => {
                toks[i.saturating_sub(3)..i]
                    .iter()
                    .any(|t| MODALS.contains(&t.word.as_str()) || t.word == "be")
                    || clause_start(toks, i)
            }
            "no" if next == "longer" => true,
            "no" if clause_start(toks, i)
                && toks[i + 1..]
                    .iter()
                    .take(5)
                    .any(|t| MODALS.contains(&t.word.as_str()) && t.clause == toks[i].clause) =>
            {
                true
            }
            v if NEGATING_VERBS.contains(&v)
                && (clause_start(toks, i) || MODALS.contains(&prev) || prev == "to") =>
            {
                true
            }
            // "use trends rather than a single reading": the other way.
            "rather" if next == "than" => true,
            "instead" if next == "of" => true,
            _ => false,
        };
        // "stop the routine use of X" negates the routine, not the use: the
        // axis of routine use reads it (against "use X only after...").
        if negator && !about_axis(toks, i) && !deferral_follows(toks, i) {
            let anchors = scope_after(toks, i, 10);
            if !anchors.is_empty() {
                let end = (i + 3).min(toks.len() - 1);
                let start = if w == "not" && i > 0 { i - 1 } else { i };
                out.push(Cue {
                    asks: true,
                    kind: CueKind::Directive,
                    sign: -1,
                    value: 0.0,
                    anchors,
                    phrase: phrase(toks, start, end),
                    head: head_after(toks, i),
                });
            }
        } else if MODALS.contains(&w)
            && !matches!(next, "not" | "never")
            && !NEGATING_VERBS.contains(&next)
            && toks.get(i + 2).is_none_or(|t| t.word != "not")
            && !(i > 0 && (prev == "not" || prev == "no"))
            && !toks[i.saturating_sub(5)..i]
                .iter()
                .any(|t| t.word == "no" && t.clause == toks[i].clause)
        {
            // "should advise parents not to use", "should be encouraged to
            // use": the act is the verb after "to", not the telling.
            let (sign, from) = match told_to(toks, i) {
                Some((to, negative)) => (if negative { -1 } else { 1 }, to),
                None => (1, i),
            };
            // "X should be ruled out": what comes before is forbidden.
            let (sign, anchors, head) = if undone(toks, i) {
                let subject = subject_before(toks, i);
                let head = subject.first().cloned();
                (-1, subject, head)
            } else {
                (sign, scope_after(toks, from, 10), head_after(toks, from))
            };
            if !anchors.is_empty() {
                out.push(Cue {
                    asks: true,
                    kind: CueKind::Directive,
                    sign,
                    value: 0.0,
                    anchors,
                    phrase: phrase(toks, i, (i + 3).min(toks.len() - 1)),
                    head,
                });
            }
        }

        // --- directions on an axis ---
        // "escorted leave", "annual leave", "the leave form": a noun, not
        // the act of leaving.
        let leave_noun =
            w == "leave" && (LEAVE_BEFORE.contains(&prev) || LEAVE_AFTER.contains(&next));
        for (ax, (_, pos, neg)) in AXES.iter().enumerate() {
            if leave_noun {
                break;
            }
            let mut sign = if pos.contains(&w) {
                1
            } else if neg.contains(&w) {
                -1
            } else if ax == ROUTINE_AXIS && w == "only" && ONLY_IF.contains(&next) {
                // "X-ray only when no aspirate": selective use.
                -1
            } else if ax == ROUTINE_AXIS
                && w == "every"
                && parse_num(next).is_none()
                && unit_of(next).is_none()
                && !toks.get(i + 1).is_some_and(|t| t.stop)
            {
                // "X-ray every nasogastric tube": universal use.
                1
            } else {
                continue;
            };
            // What happened is not what is asked: "the ward used them routinely".
            if narrative(toks, i) {
                continue;
            }
            // "stop the routine use", "should not leave", "no exemption";
            // "compulsory helmets should be ruled out".
            if negated(toks, i) || undone_after(toks, i) {
                sign = -sign;
            }
            // The direction's own word is what differs, not what the two
            // texts are about ("leave" vs "must not leave" share no subject).
            let mut anchors = anchors_near(toks, i, 6);
            anchors.retain(|a| *a != toks[i].stem);
            if !anchors.is_empty() {
                out.push(Cue {
                    asks: true,
                    kind: CueKind::Axis(ax as u8),
                    sign,
                    value: 0.0,
                    anchors,
                    phrase: toks[i].word.clone(),
                    head: None,
                });
            }
        }

        // --- quantities ---
        if let Some((_, m)) = LY_UNITS.iter().find(|(u, _)| *u == w) {
            // "4 hourly" / "hourly" / "annually"
            let (n, from) = match i
                .checked_sub(1)
                .and_then(|j| parse_num(&toks[j].word).map(|n| (n, j)))
            {
                Some((n, j)) => (n, j),
                None => (1.0, i),
            };
            push_quantity(&mut out, toks, CueKind::Every, n * m, from, i);
        } else if w == "every"
            && let Some(n) = ordinal(next)
            && let Some(m) = toks.get(i + 2).and_then(|t| unit_of(&t.word))
        {
            // "every third day", "every other week".
            push_quantity(&mut out, toks, CueKind::Every, n * m, i, i + 2);
            i += 3;
            continue;
        } else if matches!(w, "every" | "each" | "per") && unit_of(next).is_some() {
            let m = unit_of(next).unwrap_or(1.0);
            push_quantity(&mut out, toks, CueKind::Every, m, i, i + 1);
            i += 2;
            continue;
        } else if let Some(m) = unit_of(w).filter(|_| prev == "first") {
            // "for the first hour"
            push_quantity(&mut out, toks, CueKind::For, m, i.saturating_sub(1), i);
        } else if let Some((n, per, to)) = times_per(toks, i) {
            // "3 times a day", "twice a night" (2 a night), "once a week".
            push_quantity(&mut out, toks, CueKind::Every, per / n.max(1.0), i, to);
            i = to + 1;
            continue;
        } else if let Some(n) = parse_num(w) {
            let p1 = prev;
            let p2 = if i > 1 { toks[i - 2].word.as_str() } else { "" };
            if let Some(m) = unit_of(next) {
                let kind = match (p2, p1) {
                    // "at intervals of no more than 4 hours": how often.
                    ("more", "than") if gap_before(toks, i) => CueKind::Every,
                    (_, "within" | "in" | "under" | "by") | ("less" | "later" | "more", "than") => {
                        CueKind::Within
                    }
                    (_, "every" | "each") => CueKind::Every,
                    (_, "after" | "at" | "beyond") | ("sooner" | "earlier", "than") => CueKind::At,
                    // "after the first 7 days": not before then.
                    ("the", "first") if i >= 3 && toks[i - 3].word == "after" => CueKind::At,
                    (_, "for") | ("up", "to") | ("the", "first") => CueKind::For,
                    _ if toks.get(i + 2).is_some_and(|t| t.word == "old") => CueKind::Age,
                    // A bare span ("waited 4 hours") describes; it does not instruct.
                    _ => {
                        i += 2;
                        continue;
                    }
                };
                let from = i.saturating_sub(1);
                push_quantity(&mut out, toks, kind, n * m, from, i + 1);
                i += 2;
                continue;
            } else if next == "percent" {
                push_quantity(&mut out, toks, CueKind::Percent, n, i, i + 1);
            } else if (1990.0..=2100.0).contains(&n)
                && n.fract() == 0.0
                && (MONTHS.contains(&p1)
                    || matches!(p1, "by" | "before" | "until" | "from" | "after")
                    || MONTHS.contains(&p2))
            {
                let p3 = if i > 2 { toks[i - 3].word.as_str() } else { "" };
                let from = if MONTHS.contains(&p1)
                    && matches!(p2, "by" | "before" | "until" | "from" | "after")
                {
                    i - 2
                } else if MONTHS.contains(&p1)
                    && parse_num(p2).is_some()
                    && matches!(p3, "by" | "before" | "until" | "from" | "after")
                {
                    // "by 31 March 2025"
                    i - 3
                } else {
                    i - 1
                };
                push_quantity(&mut out, toks, CueKind::Year, n, from, i);
            } else if matches!(p1, "aged" | "over")
                || (matches!(next, "and" | "or")
                    && toks.get(i + 2).is_some_and(|t| t.word == "over"))
            {
                push_quantity(&mut out, toks, CueKind::Age, n, i.saturating_sub(1), i);
            } else if (p2 == "score" && p1 == "of")
                || matches!(p1, "above" | "below" | "least")
                || (matches!(next, "or")
                    && toks.get(i + 2).is_some_and(|t| {
                        matches!(
                            t.word.as_str(),
                            "above" | "more" | "higher" | "below" | "less"
                        )
                    }))
            {
                push_quantity(
                    &mut out,
                    toks,
                    CueKind::Threshold,
                    n,
                    i.saturating_sub(1),
                    (i + 2).min(toks.len() - 1),
                );
            }
        }
        i += 1;
    }
    at.resize(out.len(), last);
    for (c, &i) in out.iter_mut().zip(&at) {
        c.asks = instructs(toks, i) || imperative(toks, i);
    }
    out.extend(ask_cues(toks));
    out
}

/// "should not X until Y" defers X; it does not forbid it.
fn deferral_follows(toks: &[Tok], i: usize) -> bool {
    let s = toks[i].sentence;
    toks[i + 1..]
        .iter()
        .take(15)
        .take_while(|t| t.sentence == s)
        .any(|t| t.word == "until")
}

/// Words before "leave" that make it a noun (time away, permission).
const LEAVE_BEFORE: &[&str] = &[
    "escorted",
    "unescorted",
    "annual",
    "sick",
    "maternity",
    "paternity",
    "study",
    "compassionate",
    "home",
    "ground",
    "community",
    "17",
    "on",
    "of",
    "their",
    "his",
    "her",
    "s",
];
/// Words after "leave" that make it a noun ("leave form", "leave plans").
const LEAVE_AFTER: &[&str] = &[
    "form", "forms", "plan", "plans", "policy", "request", "requests", "period", "periods",
];

/// Verbs that make a modal's instruction a prohibition ("should stop X").
const NEGATING_VERBS: &[&str] = &[
    "stop",
    "avoid",
    "cease",
    "discontinue",
    "refrain",
    "prohibit",
    "ban",
    "decline",
    "withhold",
    "refuse",
    "forbid",
];

/// Whether the word a negation at `i` is about is a direction on an axis:
/// "stop the routine use of X" negates the routine, not the use.
fn about_axis(toks: &[Tok], i: usize) -> bool {
    toks[i + 1..]
        .iter()
        .take(SPAN)
        .take_while(|t| t.clause == toks[i].clause)
        .find(|t| is_content(t))
        .is_some_and(|t| {
            AXES.iter()
                .any(|(_, p, n)| p.contains(&t.word.as_str()) || n.contains(&t.word.as_str()))
        })
}

/// "N times a day" / "N a week" at position `i`: (N, the unit in minutes,
/// the last position read).
fn times_per(toks: &[Tok], i: usize) -> Option<(f64, f64, usize)> {
    let n = parse_num(&toks[i].word)?;
    let w = |k: usize| toks.get(k).map(|t| t.word.as_str()).unwrap_or("");
    let mut k = i + 1;
    if w(k) == "times" {
        k += 1;
    }
    if !matches!(w(k), "a" | "per" | "each" | "every") {
        return None;
    }
    let per = unit_of(w(k + 1))?;
    Some((n, per, k + 1))
}

const ROUTINE_AXIS: usize = 0;
/// "only when / if / where / after": a condition, so not routine.
const ONLY_IF: &[&str] = &["when", "if", "where", "after", "in"];
/// Words that make a clause an account of what happened.
const NARRATIVE: &[&str] = &["was", "were", "had", "did", "been", "being"];
/// Words that make a clause an instruction (with [`MODALS`]).
const INSTRUCTIVE: &[&str] = &["may", "recommend", "recommended", "require", "requires"];

/// A clause that tells what happened and asks nothing.
fn narrative(toks: &[Tok], i: usize) -> bool {
    let mut told = false;
    for t in &toks[clause_span(toks, i)] {
        let w = t.word.as_str();
        if MODALS.contains(&w) || INSTRUCTIVE.contains(&w) {
            return false;
        }
        told |= NARRATIVE.contains(&w);
    }
    told
}

/// Verbs that tell someone to do the act named after "to".
const TELLING: &[&str] = &[
    "advise",
    "advised",
    "encourage",
    "encouraged",
    "tell",
    "told",
    "ask",
    "asked",
    "remind",
    "reminded",
    "urge",
    "urged",
    "instruct",
    "instructed",
    "teach",
    "taught",
    "allow",
    "allowed",
    "permit",
    "permitted",
];

/// After a modal at `i`: "advise parents (not) to", "be encouraged to" —
/// the position of "to" and whether it is "not to".
fn told_to(toks: &[Tok], i: usize) -> Option<(usize, bool)> {
    let c = toks[i].clause;
    let same = |k: usize| toks.get(k).filter(|t| t.clause == c);
    let tell =
        (i + 1..i + 4).find(|&k| same(k).is_some_and(|t| TELLING.contains(&t.word.as_str())))?;
    let to = (tell + 1..tell + 5).find(|&k| same(k).is_some_and(|t| t.word == "to"))?;
    let negative = same(to - 1).is_some_and(|t| t.word == "not");
    Some((to, negative))
}

/// Participles that undo what the clause's subject names: "should be
/// ruled out / stopped / dropped / scrapped / lifted".
const UNDOING: &[&str] = &[
    "ruled",
    "stopped",
    "dropped",
    "scrapped",
    "abandoned",
    "withdrawn",
    "lifted",
    "rejected",
    "discontinued",
    "ended",
    "removed",
    "banned",
    "prohibited",
];

/// A modal at `i` followed by "be" and an undoing participle, or by "not
/// be introduced / adopted / used".
fn undone(toks: &[Tok], i: usize) -> bool {
    let w = |k: usize| toks.get(k).map(|t| t.word.as_str()).unwrap_or("");
    MODALS.contains(&w(i))
        && ((w(i + 1) == "be" && UNDOING.contains(&w(i + 2)))
            // "two-hourly turns should no longer be scheduled"
            || (w(i + 1) == "no" && w(i + 2) == "longer" && w(i + 3) == "be")
            || (w(i + 1) == "not"
                && w(i + 2) == "be"
                && matches!(
                    w(i + 3),
                    "introduced" | "adopted" | "used" | "made" | "required"
                )))
}

/// A direction word at `i` whose own clause's verb undoes it
/// ("compulsory helmets should be ruled out").
fn undone_after(toks: &[Tok], i: usize) -> bool {
    let c = toks[i].clause;
    toks[i + 1..]
        .iter()
        .take(SPAN)
        .take_while(|t| t.clause == c)
        .position(|t| MODALS.contains(&t.word.as_str()))
        .is_some_and(|k| undone(toks, i + 1 + k))
}

/// The content stems of the clause before position `i` (a subject).
fn subject_before(toks: &[Tok], i: usize) -> Vec<String> {
    let c = toks[i].clause;
    let mut out: Vec<String> = toks[i.saturating_sub(12)..i]
        .iter()
        .filter(|t| t.clause == c && is_content(t) && !GENERIC.contains(&t.stem.as_str()))
        .map(|t| t.stem.clone())
        .collect();
    out.dedup();
    out
}

/// A negation just before position `i` in the same clause.
fn negated(toks: &[Tok], i: usize) -> bool {
    let c = toks[i].clause;
    toks[i.saturating_sub(3)..i].iter().any(|t| {
        t.clause == c
            && matches!(
                t.word.as_str(),
                "not" | "no" | "never" | "stop" | "avoid" | "without" | "nor"
            )
    })
}

fn push_quantity(
    out: &mut Vec<Cue>,
    toks: &[Tok],
    kind: CueKind,
    value: f64,
    from: usize,
    to: usize,
) {
    // A frequency is a floor ("at least every 2 hours") or a cap ("no more
    // often than every 4 hours", "no more than 3 times a day"); a bounded
    // one belongs to its whole sentence's act, like the other bounds.
    let sign = if kind == CueKind::Every {
        bound_before(toks, from)
    } else {
        0
    };
    let anchors = if sign != 0 {
        sentence_anchors(toks, from)
    } else {
        anchors_near(toks, from, 7)
    };
    out.push(Cue {
        asks: true,
        kind,
        sign,
        value,
        anchors,
        phrase: phrase(toks, from, to),
        head: None,
    });
}

/// +1 when a lower bound ("at least", "minimum", "no fewer/less than")
/// comes just before position `i` in its sentence, -1 for an upper bound
/// ("no more than", "no more often than", "at most", "maximum"), else 0.
fn bound_before(toks: &[Tok], i: usize) -> i8 {
    let s = toks.get(i).map(|t| t.sentence);
    let lo = i.saturating_sub(5);
    let win: Vec<&str> = toks[lo..i.min(toks.len())]
        .iter()
        .filter(|t| Some(t.sentence) == s)
        .map(|t| t.word.as_str())
        .collect();
    let has = |a: &str, b: &str| win.windows(2).any(|w| w[0] == a && w[1] == b);
    // A bound on the gap between acts is the other bound on how often:
    // "at intervals of no more than 4 hours" is at least every 4 hours.
    let flip = if gap_before(toks, i) { -1 } else { 1 };
    flip * if has("at", "most")
        || win.contains(&"maximum")
        || ((has("no", "more") || has("not", "more")) && !win.contains(&"less"))
    {
        -1
    } else if has("at", "least")
        || win.contains(&"minimum")
        || has("no", "fewer")
        || has("no", "less")
        || has("not", "less")
    {
        1
    } else {
        0
    }
}

/// "interval(s) of" or "gap(s) of" a few words before position `i` in its
/// sentence: a figure there bounds the time between acts.
fn gap_before(toks: &[Tok], i: usize) -> bool {
    let s = toks.get(i).map(|t| t.sentence);
    toks[i.saturating_sub(6)..i.min(toks.len())]
        .iter()
        .any(|t| {
            Some(t.sentence) == s
                && matches!(t.word.as_str(), "interval" | "intervals" | "gap" | "gaps")
        })
}

/// How far from a position the words of its sentence or clause are read.
/// A real sentence is far shorter; a text of one endless sentence (a draft
/// made to be expensive) then costs this much per cue, not its whole length:
/// reading every sentence's words from the whole text made a 1 MB draft
/// take 15 s.
const SPAN: usize = 256;

/// The positions of the words of the sentence of position `i` (sentences
/// are runs of tokens), at most [`SPAN`] either side of it.
fn sentence_span(toks: &[Tok], i: usize) -> std::ops::Range<usize> {
    let s = toks[i].sentence;
    span(toks, i, |t| t.sentence == s)
}

/// The same for the clause of position `i`.
fn clause_span(toks: &[Tok], i: usize) -> std::ops::Range<usize> {
    let c = toks[i].clause;
    span(toks, i, |t| t.clause == c)
}

fn span(toks: &[Tok], i: usize, same: impl Fn(&Tok) -> bool) -> std::ops::Range<usize> {
    let back = toks[..i]
        .iter()
        .rev()
        .take(SPAN)
        .take_while(|t| same(t))
        .count();
    let ahead = toks[i..].iter().take(SPAN).take_while(|t| same(t)).count();
    i - back..i + ahead
}

/// A sentence that asks something: it holds a modal or an instructive
/// word, and the clause of position `i` is not an account of what happened.
fn instructs(toks: &[Tok], i: usize) -> bool {
    let span = sentence_span(toks, i);
    !narrative(toks, i)
        && (toks[span.clone()]
            .iter()
            .any(|t| MODALS.contains(&t.word.as_str()) || INSTRUCTIVE.contains(&t.word.as_str()))
            || span.clone().any(|k| permits(toks, k)))
}

/// A permission is an ask too: "the control room can be run by a single
/// operator", "cover may be reduced to two officers".
fn permits(toks: &[Tok], k: usize) -> bool {
    let w = |j: usize| toks.get(j).map(|t| t.word.as_str()).unwrap_or("");
    matches!(w(k), "can" | "may")
        && w(k + 1) == "be"
        && toks
            .get(k + 2)
            .is_some_and(|t| t.sentence == toks[k].sentence)
        && (w(k + 2).ends_with("ed")
            || matches!(
                w(k + 2),
                "run"
                    | "done"
                    | "left"
                    | "seen"
                    | "given"
                    | "kept"
                    | "cut"
                    | "met"
                    | "held"
                    | "made"
                    | "set"
            ))
}

/// A sentence that opens as an order ("Do not routinely give oxygen",
/// "Never leave...", "Always check..."): guidance written without a modal.
fn imperative(toks: &[Tok], i: usize) -> bool {
    let s = toks[i].sentence;
    let first = sentence_span(toks, i).start;
    if first > 0 && toks[first - 1].sentence == s {
        // The sentence began further back than is read: not an opening.
        return false;
    }
    let w = |k: usize| {
        toks.get(k)
            .filter(|t| t.sentence == s)
            .map(|t| t.word.as_str())
    };
    match (w(first), w(first + 1)) {
        // "do not", and "do not routinely" (folded to "notroutinely").
        (Some("do"), Some(n)) => n.starts_with("not"),
        (Some(v), _) => IMPERATIVES.contains(&v),
        _ => false,
    }
}

/// Verbs that open guidance written as orders ("Give oxygen only if...").
const IMPERATIVES: &[&str] = &[
    "never",
    "always",
    "avoid",
    "stop",
    "give",
    "use",
    "offer",
    "check",
    "consider",
    "refer",
    "record",
    "assess",
    "review",
    "provide",
    "document",
    "measure",
    "monitor",
    "keep",
    "treat",
    "start",
    "continue",
    "escalate",
    "seek",
    "arrange",
    "inform",
    "tell",
    "ask",
    "admit",
    "perform",
    "undertake",
    "complete",
    "follow",
];

/// The act an ask belongs to: the content stems of its sentence.
fn sentence_anchors(toks: &[Tok], i: usize) -> Vec<String> {
    let mut out: Vec<String> = toks[sentence_span(toks, i)]
        .iter()
        .filter(|t| is_content(t) && !GENERIC.contains(&t.stem.as_str()))
        .map(|t| t.stem.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// "rather than" / "instead of" a few words before position `i` in its
/// sentence: what follows is what is NOT asked.
fn contrasted(toks: &[Tok], i: usize) -> bool {
    let s = toks[i].sentence;
    let lo = i.saturating_sub(7);
    toks[lo..i].windows(2).any(|w| {
        w[0].sentence == s
            && ((w[0].word == "rather" && w[1].word == "than")
                || (w[0].word == "instead" && w[1].word == "of"))
    })
}

/// What an instruction asks beyond its words: a restriction to a condition,
/// an upper or lower bound, a deferral or promptness, a count. Read only in
/// sentences that ask something; the anchors are the sentence's content
/// stems (the act). A deferral or promptness after "rather than" is the
/// opposite one.
pub fn ask_cues(toks: &[Tok]) -> Vec<Cue> {
    // Each cue with its sentence.
    let mut out: Vec<(Cue, u32)> = Vec::new();
    let w = |k: usize| toks.get(k).map(|t| t.word.as_str()).unwrap_or("");
    for i in 0..toks.len() {
        let (prev, next, next2) = (if i > 0 { w(i - 1) } else { "" }, w(i + 1), w(i + 2));
        // Not in an account of what happened ("they were told they need not").
        let told = || {
            toks[sentence_span(toks, i).start..i]
                .iter()
                .any(|t| NARRATIVE.contains(&t.word.as_str()))
        };
        let relaxed = relaxes(toks, i).filter(|_| !narrative(toks, i) && !told());
        let kind_value: Option<(CueKind, f64, usize)> = if let Some(end) = relaxed {
            Some((CueKind::Relax, 0.0, end))
        } else {
            match w(i) {
                // "only one crew" caps; "only once they have..." is a condition.
                "only" if next == "1" && !toks.get(i + 2).is_some_and(|t| t.stop) => {
                    Some((CueKind::Cap, 1.0, i + 1))
                }
                // "only when / if / for / to the ...", "advice only"; not "only
                // half met" (a degree) nor "not only" (an addition).
                // "can only be achieved by" states what is possible: no ask.
                "only"
                    if !matches!(
                        prev,
                        "not"
                            | "if"
                            | "the"
                            | "an"
                            | "can"
                            | "could"
                            | "would"
                            | "might"
                            | "cannot"
                    ) && (toks
                        .get(i + 1)
                        .is_none_or(|t| t.stop || t.clause != toks[i].clause)
                        // "only once they have..." (folded to "only 1 they").
                        || (next == "1" && toks.get(i + 2).is_some_and(|t| t.stop))) =>
                {
                    Some((CueKind::Only, 0.0, (i + 2).min(toks.len() - 1)))
                }
                "limited" | "restricted" if next == "to" => Some((CueKind::Only, 0.0, i + 1)),
                "solely" | "exclusively" => Some((CueKind::Only, 0.0, i)),
                // "a single guide rather than two" (folded to "a 1 guide"); a
                // single thing alone ("a single national standard") bounds nothing.
                "1" if prev == "a"
                    && toks[i + 1..]
                        .iter()
                        .take(4)
                        .any(|t| t.word == "rather" || t.word == "instead") =>
                {
                    Some((CueKind::Cap, 1.0, i + 1))
                }
                // "a single guide may lead": a number asked for (compared
                // only with another text's bounds on the same act).
                "1" if prev == "a" && toks.get(i + 1).is_some_and(|t| !t.stop) => {
                    Some((CueKind::Count, 1.0, i + 1))
                }
                // "at intervals of no more than 4 hours": a frequency's floor
                // (read as a frequency), not a cap on an amount.
                "more" if matches!(prev, "no" | "not") && next == "than" && gap_before(toks, i) => {
                    None
                }
                "more" | "higher" | "greater"
                    if matches!(prev, "no" | "not") && matches!(next, "than" | "often") =>
                {
                    let v = toks[i + 1..]
                        .iter()
                        .take(4)
                        .find_map(|t| parse_num(&t.word))
                        .unwrap_or(0.0);
                    Some((CueKind::Cap, v, (i + 2).min(toks.len() - 1)))
                }
                "most" if prev == "at" => Some((CueKind::Cap, 0.0, i)),
                "maximum" | "cap" | "capped" | "caps" => Some((CueKind::Cap, 0.0, i)),
                "longer" if prev == "no" && next == "than" => Some((CueKind::Cap, 0.0, i + 1)),
                "to" if prev == "up"
                    && parse_num(next).is_some()
                    && !(i >= 2 && w(i - 2) == "for") =>
                {
                    Some((CueKind::Cap, parse_num(next).unwrap_or(0.0), i + 1))
                }
                "least" if prev == "at" => {
                    let v = parse_num(next).unwrap_or(0.0);
                    // "at least 60 minutes before X": a wait, not a floor.
                    let waits = unit_of(next2).is_some() && w(i + 3) == "before";
                    Some((
                        if waits {
                            CueKind::Defer
                        } else {
                            CueKind::Floor
                        },
                        v,
                        i + 1,
                    ))
                }
                "minimum" | "whenever" | "automatically" => Some((CueKind::Floor, 0.0, i)),
                "fewer" | "less" if matches!(prev, "no" | "never" | "not") => {
                    Some((CueKind::Floor, 0.0, i + 1))
                }
                // "will not mandate a standard before April 2027".
                "before"
                    if toks[i.saturating_sub(10)..i]
                    .iter()
                    .any(|t| t.clause == toks[i].clause && matches!(t.word.as_str(), "not" | "no" | "never"))
                    // "should not wait ... before acting" is promptness.
                    && !toks[i.saturating_sub(10)..i]
                        .iter()
                        .any(|t| matches!(t.word.as_str(), "wait" | "delay")) =>
                {
                    Some((CueKind::Defer, 0.0, (i + 2).min(toks.len() - 1)))
                }
                "until" | "later" | "batch" => Some((CueKind::Defer, 0.0, i)),
                // A wait or a delay, unless negated: "should not wait", "without
                // further delay" are promptness.
                "wait" | "waits" | "defer" | "deferred" | "postpone" | "postponed" | "delay"
                | "delayed" => {
                    let negated = toks[i.saturating_sub(3)..i]
                        .iter()
                        .any(|t| matches!(t.word.as_str(), "not" | "never" | "without" | "no"));
                    let kind = if negated {
                        CueKind::Prompt
                    } else {
                        CueKind::Defer
                    };
                    Some((kind, 0.0, i))
                }
                "next"
                    if matches!(
                        next,
                        "working" | "shift" | "day" | "morning" | "weekly" | "weekday"
                    ) =>
                {
                    Some((CueKind::Defer, 0.0, i + 1))
                }
                "earlier" | "sooner" if (prev == "no" && next == "than") || prev == "not" => {
                    Some((CueKind::Defer, 0.0, i + 1))
                }
                "within" if matches!(prev, "not" | "never") => Some((CueKind::Defer, 0.0, i)),
                "within" | "immediately" | "immediate" | "promptly" | "urgently" => {
                    Some((CueKind::Prompt, 0.0, i))
                }
                "soon" if prev == "as" && next == "as" => Some((CueKind::Prompt, 0.0, i + 1)),
                "away" if prev == "straight" || prev == "right" => Some((CueKind::Prompt, 0.0, i)),
                // "a standard 14 day supply": an amount of time asked for.
                x if parse_num(x).is_some()
                    && unit_of(next).is_some()
                    && !matches!(
                        prev,
                        "within"
                            | "in"
                            | "under"
                            | "by"
                            | "than"
                            | "every"
                            | "each"
                            | "after"
                            | "at"
                            | "beyond"
                            | "for"
                            | "to"
                            | "least"
                            | "first"
                    ) =>
                {
                    Some((CueKind::Count, parse_num(x).unwrap_or(0.0), i + 1))
                }
                // "X should be prohibited / stopped / ruled out": X is forbidden.
                _ if undone(toks, i) && !told() => {
                    Some((CueKind::Forbid, 0.0, (i + 2).min(toks.len() - 1)))
                }
                m if MODALS.contains(&m)
                    && !matches!(next, "not" | "never")
                    && !NEGATING_VERBS.contains(&next)
                    && next2 != "not"
                    && !matches!(prev, "not" | "no") =>
                {
                    Some((CueKind::Ask, 0.0, (i + 3).min(toks.len() - 1)))
                }
                "not" | "never" if NEG_AFTER.contains(&prev) && !deferral_follows(toks, i) => {
                    Some((CueKind::Forbid, 0.0, (i + 2).min(toks.len() - 1)))
                }
                v if NEGATING_VERBS.contains(&v)
                    && (MODALS.contains(&prev) || prev == "to")
                    && !about_axis(toks, i) =>
                {
                    Some((CueKind::Forbid, 0.0, (i + 2).min(toks.len() - 1)))
                }
                x if parse_num(x).is_some()
                    && !toks.get(i + 1).is_some_and(|t| t.stop)
                    && !next.is_empty()
                    && unit_of(next).is_none()
                    && !LY_UNITS.iter().any(|(u, _)| *u == next)
                    && !matches!(next, "percent" | "times" | "or" | "and")
                    && !MONTHS.contains(&next)
                    && !(prev == "a" && x == "1")
                    && !matches!(
                        prev,
                        "category" | "score" | "aged" | "over" | "of" | "than" | "least"
                    )
                    // "up to 8", but "reduced to 2 officers" is a number asked for.
                    && (prev != "to" || (i >= 2 && matches!(w(i - 2), "reduced" | "reduce")))
                    && parse_num(x).is_some_and(|n| n < 1000.0) =>
                {
                    Some((CueKind::Count, parse_num(x).unwrap_or(0.0), i + 1))
                }
                _ => None,
            }
        };
        let Some((mut kind, mut value, end)) = kind_value else {
            continue;
        };
        // A bound or count of time is compared in minutes, and only with
        // another of time (sign 1): "at least 30 minutes" against "15-minute
        // visits", never against "2 nurses". Another is a number of the
        // word that follows it (the head): "2 qualified guides" against "a
        // single qualified guide", not "90 percent" against "1 national".
        let mut sign = 0;
        let mut head = None;
        if matches!(kind, CueKind::Floor | CueKind::Cap | CueKind::Count)
            && value > 0.0
            && let Some(k) =
                (i..(i + 6).min(toks.len())).find(|&k| parse_num(&toks[k].word) == Some(value))
            && let Some(t) = toks.get(k + 1)
        {
            if let Some(m) = unit_of(&t.word) {
                value *= m;
                sign = 1;
            } else if !t.stop && t.sentence == toks[k].sentence {
                head = Some(t.stem.clone());
            }
        }
        // A relaxation asks by its words alone ("can safely be done
        // monthly"); the rest only in a sentence that asks something.
        if kind != CueKind::Relax && !instructs(toks, i) {
            continue;
        }
        if contrasted(toks, i) {
            kind = match kind {
                CueKind::Defer => CueKind::Prompt,
                CueKind::Prompt => CueKind::Defer,
                // "a single guide rather than two": the bound is the other way.
                CueKind::Count | CueKind::Floor => continue,
                k => k,
            };
        }
        // One instruction and one prohibition per sentence is enough.
        if matches!(kind, CueKind::Ask | CueKind::Forbid)
            && out
                .iter()
                .any(|c: &(Cue, u32)| c.0.kind == kind && c.1 == toks[i].sentence)
        {
            continue;
        }
        // A prohibition is about what it negates; the other asks, about
        // their whole sentence.
        let anchors = if kind == CueKind::Forbid && undone(toks, i) {
            // What the clause's subject names, and where it applies.
            let mut a = subject_before(toks, i);
            a.extend(scope_after(toks, i, 10));
            a.sort();
            a.dedup();
            a
        } else if kind == CueKind::Forbid {
            scope_after(toks, i, 10)
        } else {
            sentence_anchors(toks, i)
        };
        if anchors.is_empty() {
            continue;
        }
        let start = if matches!(kind, CueKind::Cap | CueKind::Floor | CueKind::Defer)
            && i > 0
            && toks[i - 1].sentence == toks[i].sentence
        {
            i - 1
        } else {
            i
        };
        out.push((
            Cue {
                asks: true,
                kind,
                sign,
                value,
                anchors,
                phrase: phrase(toks, start, end.max(i)),
                head,
            },
            toks[i].sentence,
        ));
    }
    out.into_iter().map(|(c, _)| c).collect()
}

/// Word sequences that relax a duty (see [`CueKind::Relax`]); `*` stands for
/// any one of [`STRINGENT`].
const RELAXING: &[&[&str]] = &[
    &["need", "not"],
    &["no", "longer", "be", "required"],
    &["no", "longer", "required"],
    &["not", "be", "required"],
    &["no", "longer", "need"],
    &["no", "longer", "be", "needed"],
    &["can", "safely"],
    &["rather", "than", "*"],
    &["instead", "of", "*"],
    &["remain", "voluntary"],
    &["remain", "optional"],
    &["remain", "discretionary"],
    &["voluntary", "rather"],
    &["optional", "rather"],
    &["as", "acceptable"],
    &["be", "acceptable"],
    &["accepted", "as"],
    &["as", "sufficient"],
    &["as", "adequate"],
    &["should", "not", "extend"],
    &["not", "be", "extended"],
    &["be", "confined", "to"],
    &["without", "first"],
    &["reduced", "to", "1"],
    &["less", "often"],
    &["less", "frequently"],
    &["are", "not", "required"],
    &["is", "not", "required"],
    &["not", "necessary"],
    &["unnecessary"],
    // Session 19: said without a modal or with "no need".
    &["no", "need", "to"],
    &["no", "need", "for"],
    &["not", "be", "obliged"],
    &["not", "be", "compulsory"],
    &["not", "be", "mandatory"],
    &["not", "be", "needed"],
    &["is", "not", "needed"],
    &["are", "not", "needed"],
    &["will", "suffice"],
    &["suffices"],
    &["on", "request"],
    &["upon", "request"],
    &["if", "requested"],
    &["when", "requested"],
];

/// Words that make "only where ..." a duty done on request alone.
const ON_REQUEST: &[&str] = &["ask", "asks", "asked", "request", "requests", "requested"];

/// What "rather than" / "instead of" turns down when it relaxes: the more
/// stringent form of a duty.
/// Not a frequency such as "weekly": "daily rather than weekly" asks for
/// more, "monthly rather than weekly" for less.
const STRINGENT: &[&str] = &[
    "every",
    "always",
    "routinely",
    "each",
    "mandatory",
    "compulsory",
    "required",
];

/// The end of a relaxing phrase starting at `i` in its sentence, if any.
fn relaxes(toks: &[Tok], i: usize) -> Option<usize> {
    let s = toks[i].sentence;
    // "only where the parents ask for it".
    if toks[i].word == "only" {
        let c = toks[i].clause;
        if let Some(k) = (i + 1..(i + 8).min(toks.len()))
            .take_while(|&k| toks[k].clause == c)
            .find(|&k| ON_REQUEST.contains(&toks[k].word.as_str()))
        {
            return Some(k);
        }
    }
    RELAXING.iter().find_map(|pat| {
        let ok = pat.iter().enumerate().all(|(k, p)| {
            toks.get(i + k).is_some_and(|t| {
                t.sentence == s
                    && (t.word == *p || (*p == "*" && STRINGENT.contains(&t.word.as_str())))
            })
        });
        ok.then(|| i + pat.len() - 1)
    })
}

/// The first content stem after position `i` in the same clause, skipping
/// "ensure that", "make sure" and the like.
fn head_after(toks: &[Tok], i: usize) -> Option<String> {
    let c = toks[i].clause;
    toks[i + 1..]
        .iter()
        .take(SPAN)
        .take_while(|t| t.clause == c)
        .find(|t| {
            is_content(t)
                && !GENERIC.contains(&t.stem.as_str())
                && !matches!(
                    t.word.as_str(),
                    "make"
                        | "sure"
                        | "ensure"
                        | "ensures"
                        | "attempt"
                        | "start"
                        | "begin"
                        | "carry"
                        | "perform"
                        | "undertake"
                        | "conduct"
                        | "do"
                )
        })
        .map(|t| t.stem.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(t: &str) -> Vec<(CueKind, i8, f64, String)> {
        analyse(t)
            .cues
            .into_iter()
            .map(|c| (c.kind, c.sign, c.value, c.phrase))
            .collect()
    }

    #[test]
    fn leave_as_a_noun_is_no_direction() {
        let axis = |t: &str| {
            kinds(t)
                .into_iter()
                .filter(|k| matches!(k.0, CueKind::Axis(_)) && k.3 == "leave")
                .count()
        };
        assert_eq!(
            axis("Nurses should escort patients on escorted leave from the ward."),
            0
        );
        assert_eq!(
            axis("Staff should check the leave form before a patient goes out."),
            0
        );
        assert_eq!(
            axis("Staff must not leave dispensed medicines at the bedside."),
            1
        );
    }

    #[test]
    fn quantities_are_read() {
        let k = kinds("Patients should have a CT scan within one hour of arrival.");
        assert!(
            k.iter().any(|c| c.0 == CueKind::Within && c.2 == 60.0),
            "{k:?}"
        );
        let k = kinds("Observations every 15 minutes, then hourly for four hours.");
        assert!(
            k.iter().any(|c| c.0 == CueKind::Every && c.2 == 15.0),
            "{k:?}"
        );
        assert!(
            k.iter().any(|c| c.0 == CueKind::Every && c.2 == 60.0),
            "{k:?}"
        );
        assert!(
            k.iter().any(|c| c.0 == CueKind::For && c.2 == 240.0),
            "{k:?}"
        );
        let k = kinds("Publish the standard by March 2025.");
        assert!(
            k.iter().any(|c| c.0 == CueKind::Year && c.2 == 2025.0),
            "{k:?}"
        );
        // Spans in words.
        for (t, kind, v) in [
            (
                "The team should reply within one working day.",
                CueKind::Within,
                1440.0,
            ),
            (
                "The team should reply within a week.",
                CueKind::Within,
                10080.0,
            ),
            (
                "The lists should be reviewed fortnightly.",
                CueKind::Every,
                20160.0,
            ),
            (
                "The lists should be reviewed every fortnight.",
                CueKind::Every,
                20160.0,
            ),
        ] {
            let k = kinds(t);
            assert!(k.iter().any(|c| c.0 == kind && c.2 == v), "{t}: {k:?}");
        }
    }

    #[test]
    fn relaxations_are_read_where_they_ask() {
        for t in [
            "Tissue viability nurses need not be available at weekends.",
            "Refresher training should be given once; later sessions are not required.",
            "Checks of the trolley can safely be done monthly rather than every day.",
            "Renewal of the certificate should remain voluntary.",
            "The check should be offered only where the parents ask for it.",
        ] {
            let k = kinds(t);
            assert!(k.iter().any(|c| c.0 == CueKind::Relax), "{t}: {k:?}");
        }
        for t in [
            // Asks for more, or tells what happened.
            "Staff should check the trolley every day rather than weekly.",
            "Staff should check it daily instead of when someone remembers.",
            "The nurses were told they need not attend.",
            "Staff should reduce the risk of falls.",
        ] {
            let k = kinds(t);
            assert!(!k.iter().any(|c| c.0 == CueKind::Relax), "{t}: {k:?}");
        }
    }

    #[test]
    fn instructions_are_read() {
        let k = kinds("Staff should not give oxygen routinely to these patients.");
        assert!(
            k.iter().any(|c| c.0 == CueKind::Directive && c.1 == -1),
            "{k:?}"
        );
        let k = kinds("Staff must give oxygen to every patient.");
        assert!(
            k.iter().any(|c| c.0 == CueKind::Directive && c.1 == 1),
            "{k:?}"
        );
        let a = analyse("The nurse did not check the tube.");
        assert!(
            a.cues.iter().all(|c| c.kind != CueKind::Directive),
            "{:?}",
            a.cues
        );
        // "ought not to", "are not to be", "... and never": rules against.
        for t in [
            "Officers ought not to be trained to judge whether a detainee needs hospital care.",
            "Valved connectors are not to be used to cap central lines.",
            "Liaison staff ought to refer the decision to the acute doctors and never hold patients themselves.",
        ] {
            let k = kinds(t);
            assert!(
                k.iter().any(|c| c.0 == CueKind::Directive && c.1 == -1),
                "{t}: {k:?}"
            );
        }
        // How safety bodies ask: "recommends that X does Y" (session 20),
        // and the reason quotes the text's words, not the "should" read in.
        let a = analyse(
            "HSSIB recommends that NHS England reviews the national sepsis screening tool.",
        );
        let d = a
            .cues
            .iter()
            .find(|c| c.kind == CueKind::Directive && c.sign == 1)
            .unwrap_or_else(|| panic!("{:?}", a.cues));
        assert_eq!(d.phrase, "nhs england reviews");
        assert!(
            a.cues.iter().any(|c| c.kind == CueKind::Ask),
            "{:?}",
            a.cues
        );
        let k = kinds("It is recommended that trusts do not use the screening tool.");
        assert!(
            k.iter().all(|c| !(c.0 == CueKind::Directive && c.1 == 1)),
            "{k:?}"
        );
        // A description is not a rule: "the tubes are not to blame".
        let k = kinds("The report found the staff did this and never checked the tube.");
        assert!(
            k.iter().all(|c| !(c.0 == CueKind::Directive && c.1 == -1)),
            "{k:?}"
        );
    }

    #[test]
    fn what_an_instruction_asks_is_read() {
        let has = |t: &str, kind: CueKind| analyse(t).cues.iter().any(|c| c.kind == kind);
        // A restriction to a condition, but not "not only" nor "only half".
        assert!(has(
            "Crews should give naloxone only when an overdose is confirmed.",
            CueKind::Only
        ));
        assert!(!has(
            "Inspectors should check defects that endanger cyclists, not only cars.",
            CueKind::Only
        ));
        assert!(!has(
            "The requirement should be reviewed as it was only half met.",
            CueKind::Only
        ));
        // Bounds: a cap and a floor, and a frequency marked as either.
        assert!(has(
            "Wards should turn patients no more than 3 times a day.",
            CueKind::Cap
        ));
        assert!(has(
            "Providers should run every session with at least two guides.",
            CueKind::Floor
        ));
        let every = |t: &str| {
            analyse(t)
                .cues
                .into_iter()
                .find(|c| c.kind == CueKind::Every)
                .map(|c| (c.sign, c.value))
        };
        assert_eq!(
            every("Homes should check residents at least every hour."),
            Some((1, 60.0))
        );
        assert_eq!(
            every("Homes should take observations no more often than every four hours."),
            Some((-1, 240.0))
        );
        assert_eq!(
            every("Wards should turn patients no more than 3 times a day."),
            Some((-1, 480.0))
        );
        // Deferral and promptness; "rather than" and "should not wait" turn them.
        assert!(has(
            "Doctors should not review the results until the next handover.",
            CueKind::Defer
        ));
        assert!(has(
            "Doctors should review results as soon as they arrive.",
            CueKind::Prompt
        ));
        assert!(has(
            "Providers should not wait for commissioners before acting.",
            CueKind::Prompt
        ));
        assert!(!has(
            "Providers should not wait for commissioners before acting.",
            CueKind::Defer
        ));
        assert!(has(
            "Doctors should review results as they arrive rather than leaving them until a later handover.",
            CueKind::Prompt
        ));
        // "should not X until Y" defers X; it does not forbid it.
        assert!(!has(
            "Staff should not complete the plan until the weekly review.",
            CueKind::Forbid
        ));
        // Nothing is asked in an account of what happened.
        assert!(!has(
            "The ward only checked him when his family asked.",
            CueKind::Only
        ));
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(hash_str("sepsis"), hash_str("sepsis"));
        assert_ne!(hash_str("sepsis"), hash_str("sepsi"));
        assert_eq!(hash_str(""), mix(0xcbf2_9ce4_8422_2325));
    }
}
