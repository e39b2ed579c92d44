//! From a text to what the engine compares: weighted terms, shingles for
//! MinHash, and "cues" — the instructions, directions and quantities a
//! contradiction check reads ("should not ... oxygen", "within 1 hour ...
//! CT", "routinely ... bed rails").

use std::collections::BTreeMap;

use crate::text::{Tok, tokenise};

/// What a cue says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
}

impl CueKind {
    pub fn is_quantity(self) -> bool {
        !matches!(self, CueKind::Directive | CueKind::Axis(_))
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
            "introduce",
            "introduced",
            "resume",
            "restart",
            "adopt",
        ],
        &[
            "stop",
            "stopped",
            "withdraw",
            "withdrawn",
            "abandon",
            "remove",
            "removed",
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
];
/// "not" is an instruction only after these (or "do not" opening a clause).
const NEG_AFTER: &[&str] = &["should", "must", "shall", "need", "needs", "to"];
const UNITS: &[(&str, f64)] = &[
    ("minute", 1.0),
    ("minutes", 1.0),
    ("hour", 60.0),
    ("hours", 60.0),
    ("day", 1440.0),
    ("days", 1440.0),
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
        .map(|t| t.word.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn clause_start(toks: &[Tok], i: usize) -> bool {
    i == 0 || toks[i - 1].clause != toks[i].clause
}

fn cues(toks: &[Tok]) -> Vec<Cue> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let w = toks[i].word.as_str();
        let prev = if i > 0 { toks[i - 1].word.as_str() } else { "" };
        let next = toks.get(i + 1).map(|t| t.word.as_str()).unwrap_or("");

        // --- instructions ---
        let negator = match w {
            "not" | "never"
                if NEG_AFTER.contains(&prev)
                    || clause_start(toks, i)
                    || (prev == "do" && i >= 1 && clause_start(toks, i - 1)) =>
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
            "avoid" | "stop" | "prohibit" | "ban"
                if clause_start(toks, i) || MODALS.contains(&prev) || prev == "to" =>
            {
                true
            }
            // "use trends rather than a single reading": the other way.
            "rather" if next == "than" => true,
            "instead" if next == "of" => true,
            _ => false,
        };
        if negator {
            let anchors = scope_after(toks, i, 10);
            if !anchors.is_empty() {
                let end = (i + 3).min(toks.len() - 1);
                let start = if w == "not" && i > 0 { i - 1 } else { i };
                out.push(Cue {
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
            && toks.get(i + 2).is_none_or(|t| t.word != "not")
            && !(i > 0 && (prev == "not" || prev == "no"))
            && !toks[i.saturating_sub(5)..i]
                .iter()
                .any(|t| t.word == "no" && t.clause == toks[i].clause)
        {
            let anchors = scope_after(toks, i, 10);
            if !anchors.is_empty() {
                out.push(Cue {
                    kind: CueKind::Directive,
                    sign: 1,
                    value: 0.0,
                    anchors,
                    phrase: phrase(toks, i, (i + 3).min(toks.len() - 1)),
                    head: head_after(toks, i),
                });
            }
        }

        // --- directions on an axis ---
        for (ax, (_, pos, neg)) in AXES.iter().enumerate() {
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
            // "stop the routine use", "should not leave", "no exemption".
            if negated(toks, i) {
                sign = -sign;
            }
            let anchors = anchors_near(toks, i, 6);
            if !anchors.is_empty() {
                out.push(Cue {
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
        } else if matches!(w, "every" | "each" | "per") && unit_of(next).is_some() {
            let m = unit_of(next).unwrap_or(1.0);
            push_quantity(&mut out, toks, CueKind::Every, m, i, i + 1);
            i += 2;
            continue;
        } else if let Some(m) = unit_of(w).filter(|_| prev == "first") {
            // "for the first hour"
            push_quantity(&mut out, toks, CueKind::For, m, i.saturating_sub(1), i);
        } else if let Some(n) = parse_num(w) {
            let p1 = prev;
            let p2 = if i > 1 { toks[i - 2].word.as_str() } else { "" };
            if let Some(m) = unit_of(next) {
                let kind = match (p2, p1) {
                    (_, "within" | "in" | "under" | "by") | ("less" | "later" | "more", "than") => {
                        CueKind::Within
                    }
                    (_, "every" | "each") => CueKind::Every,
                    (_, "after" | "at" | "beyond") => CueKind::At,
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
                let from = if MONTHS.contains(&p1)
                    && matches!(p2, "by" | "before" | "until" | "from" | "after")
                {
                    i - 2
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
    out
}

/// The axis of routine versus selective use.
const ROUTINE_AXIS: usize = 0;
/// "only when / if / where / after": a condition, so not routine.
const ONLY_IF: &[&str] = &["when", "if", "where", "after", "in"];
/// Words that make a clause an account of what happened.
const NARRATIVE: &[&str] = &["was", "were", "had", "did", "been", "being"];
/// Words that make a clause an instruction (with [`MODALS`]).
const INSTRUCTIVE: &[&str] = &["may", "recommend", "recommended", "require", "requires"];

/// A clause that tells what happened and asks nothing.
fn narrative(toks: &[Tok], i: usize) -> bool {
    let c = toks[i].clause;
    let lo = (0..i)
        .rev()
        .take_while(|&j| toks[j].clause == c)
        .last()
        .unwrap_or(i);
    let clause = toks[lo..].iter().take_while(|t| t.clause == c);
    let mut told = false;
    for t in clause {
        let w = t.word.as_str();
        if MODALS.contains(&w) || INSTRUCTIVE.contains(&w) {
            return false;
        }
        told |= NARRATIVE.contains(&w);
    }
    told
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
    let anchors = anchors_near(toks, from, 7);
    out.push(Cue {
        kind,
        sign: 0,
        value,
        anchors,
        phrase: phrase(toks, from, to),
        head: None,
    });
}

/// The first content stem after position `i` in the same clause, skipping
/// "ensure that", "make sure" and the like.
fn head_after(toks: &[Tok], i: usize) -> Option<String> {
    let c = toks[i].clause;
    toks[i + 1..]
        .iter()
        .take_while(|t| t.clause == c)
        .find(|t| {
            is_content(t)
                && !GENERIC.contains(&t.stem.as_str())
                && !matches!(t.word.as_str(), "make" | "sure" | "ensure" | "ensures")
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
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(hash_str("sepsis"), hash_str("sepsis"));
        assert_ne!(hash_str("sepsis"), hash_str("sepsi"));
        assert_eq!(hash_str(""), mix(0xcbf2_9ce4_8422_2325));
    }
}
