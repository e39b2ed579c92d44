//! The precise score of a pair and its relation: duplicate, supports,
//! contradicts or related, with a one-line reason naming the words or
//! numbers that decided it.

use crate::analyse::CueKind;
use crate::index::{Index, Prepared, Relation};

/// Thresholds on the score (tuned on the evaluation set, see docs/similarity.md).
pub const DUPLICATE: f32 = 0.35;
/// Specific (non-generic) words a duplicate must share.
pub const MIN_SHARED_FOR_DUPLICATE: usize = 5;
/// Or: a lower score with many specific words in common.
pub const DUPLICATE_LONG: f32 = 0.30;
pub const MIN_SHARED_LONG: usize = 8;
pub const SUPPORTS: f32 = 0.26;
pub const RELATED: f32 = 0.14;
/// A contradiction needs at least this much in common (same subject).
pub const CONTRADICTION_MIN: f32 = 0.16;

pub(crate) struct Side<'a>(pub &'a Prepared);

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    pub score: f32,
    pub relation: Relation,
    pub reason: String,
}

fn cosine(a: &Prepared, b: &Prepared) -> (f32, Vec<(u32, f32)>) {
    if a.norm == 0.0 || b.norm == 0.0 {
        return (0.0, Vec::new());
    }
    let (mut i, mut j) = (0, 0);
    let mut dot = 0.0;
    let mut shared = Vec::new();
    while i < a.terms.len() && j < b.terms.len() {
        let (ta, wa) = a.terms[i];
        let (tb, wb) = b.terms[j];
        match ta.cmp(&tb) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += wa * wb;
                shared.push((ta, wa * wb));
                i += 1;
                j += 1;
            }
        }
    }
    (dot / (a.norm * b.norm), shared)
}

fn shares(a: &[u32], b: &[u32]) -> Option<u32> {
    a.iter().find(|x| b.contains(x)).copied()
}

/// A reason two cues conflict.
struct Conflict {
    text: String,
}

fn quantity(kind: CueKind, v: f32) -> bool {
    kind.is_quantity() && v > 0.0
}

fn differs(kind: CueKind, a: f32, b: f32) -> bool {
    match kind {
        CueKind::Year => (a - b).abs() >= 1.0,
        _ => {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            lo > 0.0 && hi / lo >= 1.5
        }
    }
}

fn conflict(ix: &Index, a: &Prepared, b: &Prepared) -> Option<Conflict> {
    let anchor_word = |t: u32| ix.word(t).to_string();
    // 1. Opposite instructions about the same thing, and 2. opposite
    //    directions on an axis (routine / not routine, mandatory / optional,
    //    increase / reduce, start / stop, in person / remote, stay / release).
    //    A text may say both ("remote first, in person if needed"): what
    //    counts is the balance of what each text says about the shared word.
    let net = |x: &Prepared, kind: CueKind, t: u32| -> i32 {
        x.cues
            .iter()
            .filter(|c| c.kind == kind && c.anchors.contains(&t))
            .map(|c| i32::from(c.sign))
            .sum()
    };
    for ca in a.cues.iter().filter(|c| !c.kind.is_quantity()) {
        for cb in b
            .cues
            .iter()
            .filter(|c| c.kind == ca.kind && c.sign == -ca.sign)
        {
            // Two instructions clash only about the same act: "should use
            // trends alongside readings" and "do not rely on a single
            // reading" share a word but ask different things.
            if ca.kind == CueKind::Directive {
                let same_act = match (ca.head, cb.head) {
                    (Some(ha), Some(hb)) => {
                        ha == hb || ca.anchors.contains(&hb) || cb.anchors.contains(&ha)
                    }
                    _ => true,
                };
                if !same_act {
                    continue;
                }
            }
            for &t in ca.anchors.iter().filter(|t| cb.anchors.contains(t)) {
                if ix.generic(t) {
                    continue;
                }
                let (na, nb) = (net(a, ca.kind, t), net(b, ca.kind, t));
                if na * nb >= 0 || na.signum() != i32::from(ca.sign) {
                    continue;
                }
                let what = match ca.kind {
                    CueKind::Directive => "opposite instructions".to_string(),
                    k => format!("opposite {}", k.label()),
                };
                return Some(Conflict {
                    text: format!(
                        "{what} about \"{}\": \"{}\" vs \"{}\"",
                        anchor_word(t),
                        ix.phrase_of(a, ca),
                        ix.phrase_of(b, cb)
                    ),
                });
            }
        }
    }
    // 3. Different numbers for the same thing: time limits, frequencies,
    //    durations, deadlines, ages, thresholds.
    for ca in a.cues.iter().filter(|c| quantity(c.kind, c.value)) {
        for cb in b
            .cues
            .iter()
            .filter(|c| c.kind == ca.kind && quantity(c.kind, c.value))
        {
            if !differs(ca.kind, ca.value, cb.value) {
                continue;
            }
            let Some(t) = shares(&ca.anchors, &cb.anchors) else {
                continue;
            };
            // Both sides name the same value somewhere: a list of steps, not a clash.
            let agreed = |x: &Prepared, v: f32| {
                x.cues
                    .iter()
                    .any(|c| c.kind == ca.kind && !differs(c.kind, c.value, v))
            };
            if agreed(a, cb.value) || agreed(b, ca.value) {
                continue;
            }
            return Some(Conflict {
                text: format!(
                    "conflicting {} for \"{}\": \"{}\" vs \"{}\"",
                    ca.kind.label(),
                    anchor_word(t),
                    ix.phrase_of(a, ca),
                    ix.phrase_of(b, cb)
                ),
            });
        }
    }
    None
}

fn shared_numbers(ix: &Index, a: &Prepared, b: &Prepared) -> Option<String> {
    for ca in a.cues.iter().filter(|c| quantity(c.kind, c.value)) {
        if b.cues
            .iter()
            .any(|cb| cb.kind == ca.kind && !differs(ca.kind, ca.value, cb.value))
        {
            return Some(ix.phrase_of(a, ca).to_string());
        }
    }
    None
}

pub(crate) fn classify(ix: &Index, a: Side<'_>, b: Side<'_>) -> Option<Verdict> {
    let (a, b) = (a.0, b.0);
    let (cos, mut shared) = cosine(a, b);
    if cos < RELATED * 0.8 {
        return None;
    }
    let same_meta = a.meta.iter().any(|m| b.meta.binary_search(m).is_ok());
    let numbers = shared_numbers(ix, a, b);
    let mut score = cos;
    if same_meta {
        score += 0.03;
    }
    if numbers.is_some() {
        score += 0.04;
    }
    let score = score.min(1.0);
    shared.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
    let words: Vec<String> = shared
        .iter()
        .take(4)
        .map(|(t, _)| format!("\"{}\"", ix.word(*t)))
        .collect();
    let words = words.join(", ");
    if cos >= CONTRADICTION_MIN
        && let Some(c) = conflict(ix, a, b)
    {
        return Some(Verdict {
            score,
            relation: Relation::Contradicts,
            reason: format!("{}; both about {}", c.text, words),
        });
    }
    // A duplicate shares the substance, not only the setting: enough
    // specific words in common.
    let specific = shared.iter().filter(|(t, _)| !ix.generic(*t)).count();
    // Or a lower score with many specific words in common: a coroner's
    // concern tells the story around the ask, which dilutes the cosine
    // but not what the two texts share.
    let relation = if (score >= DUPLICATE && specific >= MIN_SHARED_FOR_DUPLICATE)
        || (score >= DUPLICATE_LONG && specific >= MIN_SHARED_LONG)
    {
        Relation::Duplicate
    } else if score >= SUPPORTS {
        Relation::Supports
    } else if score >= RELATED {
        Relation::Related
    } else {
        return None;
    };
    let mut reason = match relation {
        Relation::Duplicate => format!("same ask in other words: shares {words}"),
        Relation::Supports => format!("same direction: shares {words}"),
        _ => format!("same subject: shares {words}"),
    };
    if let Some(n) = numbers {
        reason.push_str(&format!("; same figure \"{n}\""));
    }
    if same_meta {
        reason.push_str("; same addressee, setting or theme");
    }
    Some(Verdict {
        score,
        relation,
        reason,
    })
}
