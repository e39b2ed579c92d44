//! The precise score of a pair and its relation: duplicate, supports,
//! contradicts or related, with a one-line reason naming the words or
//! numbers that decided it.

use crate::analyse::{BANDS, CueKind};

/// How one record stands to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Relation {
    Duplicate,
    Supports,
    Contradicts,
    Related,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Duplicate => "duplicate",
            Relation::Supports => "supports",
            Relation::Contradicts => "contradicts",
            Relation::Related => "related",
        }
    }
}

/// A cue as the index keeps it: its words as term ids.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct StoredCue {
    pub kind: CueKind,
    pub sign: i8,
    pub value: f32,
    pub anchors: Box<[u32]>,
    pub phrase: u32,
    /// For instructions: the word asked about (see `analyse::Cue::head`).
    pub head: Option<u32>,
    /// Read where the text asks something (see `analyse::Cue::asks`).
    pub asks: bool,
}

/// A text prepared for comparison against the index (known term ids).
pub(crate) struct Prepared {
    pub terms: Vec<(u32, f32)>,
    pub norm: f32,
    pub cues: Vec<StoredCue>,
    pub meta: Box<[u64]>,
    pub keys: Option<[u64; BANDS]>,
    /// A query's own cue words (None: the cues' phrases are the index's).
    pub own_phrases: Option<Vec<String>>,
}

/// What classifying needs of the index: its words. (The index implements
/// it; classifying does not otherwise know the index.)
pub(crate) trait Words {
    /// Whether a term is too common in recommendations to anchor a finding.
    fn generic(&self, t: u32) -> bool;
    /// The display word of a term.
    fn word(&self, t: u32) -> &str;
    /// The words of a cue, as said in the text it was read from.
    fn phrase_of<'a>(&'a self, p: &'a Prepared, c: &StoredCue) -> &'a str;
}

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
/// A prohibition and an ask sharing two specific words are about one act
/// from this cosine (session 19: 0.45 missed "audible reversing alarms
/// should be prohibited" against "require ... an audible warning"; 0.30 was
/// chosen on the dev sets, 0.20 began to flag restatements).
const FORBID_COSINE: f32 = 0.30;
/// A deferral and a promptness sharing two specific words (not three) are
/// about one act from this cosine (session 19; at 0.30 "track findings
/// until acknowledged" met "report CT scans within one hour" in one
/// radiology department).
const NEAR_COSINE: f32 = 0.40;
/// Specific words two whole sentences share to be about one act.
const SAME_SENTENCE: usize = 3;

pub(crate) struct Side<'a>(pub &'a Prepared);

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Verdict {
    pub score: f32,
    pub relation: Relation,
    pub reason: String,
    /// See `Match::settled`.
    pub settled: bool,
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
        // A number of things is exact: "30 mph" is not "40 mph", nor one
        // escort two.
        CueKind::Count => (a - b).abs() >= 0.5,
        _ => {
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            lo > 0.0 && hi / lo >= 1.5
        }
    }
}

/// Specific anchors two cues share (how surely they are about one act).
fn overlap(ix: &impl Words, a: &StoredCue, b: &StoredCue) -> usize {
    a.anchors
        .iter()
        .filter(|t| !ix.generic(**t) && b.anchors.contains(t))
        .count()
}

/// Where a time limit's clock starts ("within 15 minutes of arrival"):
/// many acts share it, so it does not make two limits one act (session 19:
/// a sepsis screen within an hour of arrival against a handover within 15
/// minutes of arrival).
const CLOCK_STARTS: &[&str] = &[
    "arriv",
    "admission",
    "admitted",
    "referral",
    "discharg",
    "onset",
    "attendanc",
];

/// Specific anchors two time limits share, less where their clocks start.
fn act_overlap(ix: &impl Words, a: &StoredCue, b: &StoredCue) -> usize {
    a.anchors
        .iter()
        .filter(|t| {
            !ix.generic(**t)
                && b.anchors.contains(t)
                && !CLOCK_STARTS.iter().any(|w| ix.word(**t).starts_with(w))
        })
        .count()
}

/// Whether `c` (read with its whole sentence's words) is about the act of
/// the sentence in `y` that holds `d` (a figure, read with the few words
/// beside it): "repositioned at intervals of no more than four hours ...
/// in the emergency department" and "patients waiting in the emergency
/// department should be repositioned ... every twelve hours".
fn same_sentence_act(ix: &impl Words, c: &StoredCue, y: &Prepared, d: &StoredCue) -> bool {
    y.cues.iter().any(|e| {
        e.kind.is_ask()
            && e.kind != CueKind::Count
            && overlap(ix, d, e) >= 1
            && overlap(ix, c, e) >= 2
    })
}

/// Asks of `x` that `y` contradicts, by what each asks rather than its
/// words: `x` restricts an act to a condition that `y` does not set;
/// `x` caps what `y` asks more of; `x` defers what `y` asks promptly.
/// The reason names `a`'s phrase first (`x_is_a`). With `draft`, `a` is a
/// draft against the record `b`, and the one-way conflicts are read too: the
/// draft asks less than the record (a longer limit, a higher cap, a lower
/// minimum).
fn ask_conflict(
    ix: &impl Words,
    x: &Prepared,
    y: &Prepared,
    x_is_a: bool,
    draft: bool,
    cos: f32,
) -> Option<Conflict> {
    let (x_draft, y_draft) = (draft && x_is_a, draft && !x_is_a);
    let said = |p: &Prepared, c: &StoredCue| ix.phrase_of(p, c).to_string();
    let reason = |what: &str, cx: &StoredCue, cy: &StoredCue| {
        let (px, py) = (said(x, cx), said(y, cy));
        let (pa, pb) = if x_is_a { (px, py) } else { (py, px) };
        Conflict {
            text: format!("{what}: \"{pa}\" vs \"{pb}\""),
        }
    };
    let any_in_y = |kind: CueKind, c: &StoredCue| {
        y.cues
            .iter()
            .any(|d| d.kind == kind && overlap(ix, c, d) >= 1)
    };
    let capping =
        |c: &StoredCue| c.kind == CueKind::Cap || (c.kind == CueKind::Every && c.sign < 0);
    for c in &x.cues {
        match c.kind {
            // "tissue viability nurses need not be available at weekends"
            // against a report about the same nurses and patients: one
            // asks for less of what the other asks for (or is concerned
            // there is too little of). Not when both relax it. Read from
            // the side asking (a draft or a record compared with the
            // register) only: a coroner's concern quotes the relaxed rule
            // it is worried about ("patients need not be told").
            CueKind::Relax if x_is_a => {
                if any_in_y(CueKind::Relax, c) {
                    continue;
                }
                let shared = c
                    .anchors
                    .iter()
                    .filter(|t| {
                        !ix.generic(**t) && y.terms.binary_search_by_key(*t, |(id, _)| *id).is_ok()
                    })
                    .count();
                if shared >= SAME_SENTENCE {
                    let p = said(x, c);
                    return Some(Conflict {
                        text: format!("one relaxes what the other asks for: \"{p}\""),
                    });
                }
            }
            // "only when the score is 12 or more" against the same act
            // asked without that condition.
            CueKind::Only => {
                if any_in_y(CueKind::Only, c) {
                    continue;
                }
                if let Some(d) = y.cues.iter().find(|d| {
                    (d.kind == CueKind::Directive && d.sign > 0 && overlap(ix, c, d) >= 2)
                        || (d.kind == CueKind::Ask && overlap(ix, c, d) >= SAME_SENTENCE)
                }) {
                    return Some(reason("a condition one sets and the other does not", c, d));
                }
            }
            // "must not open or service the defibrillators, including
            // replacing pads" against "must check the device and fit new
            // pads": one forbids what the other asks, in other words.
            CueKind::Forbid if cos >= FORBID_COSINE => {
                if y.cues
                    .iter()
                    .any(|d| d.kind == CueKind::Forbid && overlap(ix, c, d) >= 2)
                {
                    continue;
                }
                if let Some(d) = y
                    .cues
                    .iter()
                    .find(|d| d.kind == CueKind::Ask && overlap(ix, c, d) >= 2)
                {
                    return Some(reason("one forbids what the other asks", c, d));
                }
            }
            // "at least two guides" against "a single guide may lead":
            // fewer than the minimum, of the same measure.
            CueKind::Floor if c.value > 0.0 => {
                // Of time (sign 1) in minutes, else of the same thing.
                let measure = |d: &StoredCue| {
                    d.sign == c.sign && (c.sign == 1 || (c.head.is_some() && d.head == c.head))
                };
                if y.cues.iter().any(|d| {
                    matches!(d.kind, CueKind::Floor | CueKind::Count)
                        && measure(d)
                        && d.value >= c.value
                }) {
                    continue;
                }
                // A count asked for below the minimum, or a draft's own
                // lower minimum (`y` is the draft when `x` is not).
                if let Some(d) = y.cues.iter().find(|d| {
                    (d.kind == CueKind::Count || (d.kind == CueKind::Floor && y_draft))
                        && measure(d)
                        && d.value > 0.0
                        && d.value < c.value
                        && overlap(ix, c, d) >= 2
                }) {
                    return Some(reason("fewer than the minimum the other sets", c, d));
                }
            }
            // "at least every ten years" against "at the practical test and
            // not routinely again": a recurring duty the other does not repeat.
            CueKind::Every
                if c.sign >= 0
                    && c.value > 0.0
                    && let Some(d) = y.cues.iter().find(|d| {
                        d.kind == CueKind::Axis(0) && d.sign < 0 && d.asks && overlap(ix, c, d) >= 1
                    }) =>
            {
                return Some(reason("a recurring duty the other does not repeat", c, d));
            }
            // "at least every 24 hours" against "twice a week": less often
            // than the other's minimum frequency.
            CueKind::Every if c.sign > 0 && c.value > 0.0 => {
                if y.cues.iter().any(|d| {
                    d.kind == CueKind::Every
                        && d.value > 0.0
                        && d.value <= c.value
                        && overlap(ix, c, d) >= 1
                }) {
                    continue;
                }
                if let Some(d) = y.cues.iter().find(|d| {
                    // A plain schedule: another minimum is met by the stricter.
                    let plain =
                        d.sign == 0 && (overlap(ix, c, d) >= 2 || same_sentence_act(ix, c, y, d));
                    // A draft's own minimum: two whole sentences.
                    let floor = d.sign > 0 && y_draft && overlap(ix, c, d) >= SAME_SENTENCE;
                    d.kind == CueKind::Every
                        && (plain || floor)
                        && differs(CueKind::Every, c.value, d.value)
                        && d.value > c.value
                }) {
                    return Some(reason("less often than the minimum the other sets", c, d));
                }
            }
            // "no more than 3 times a day" against "at least every 2 hours".
            _ if capping(c) => {
                // A draft's higher cap on the same measure.
                if y_draft
                    && c.value > 0.0
                    && let Some(d) = y.cues.iter().find(|d| {
                        d.kind == c.kind
                            && d.sign == c.sign
                            && d.value >= c.value * 1.5
                            && (c.kind == CueKind::Every || c.sign == 1 || d.head == c.head)
                            && overlap(ix, c, d) >= 2
                    })
                {
                    return Some(reason("a higher limit than the other allows", c, d));
                }
                if y.cues.iter().any(|d| capping(d) && overlap(ix, c, d) >= 1) {
                    continue;
                }
                // A bound on a count meets counts; on a frequency, frequencies.
                let more = |d: &StoredCue| match d.kind {
                    CueKind::Every if c.kind == CueKind::Every => d.value < c.value,
                    CueKind::Count | CueKind::Floor if c.value > 0.0 && d.value > 0.0 => {
                        d.sign == c.sign && d.value > c.value
                    }
                    CueKind::Count | CueKind::Floor => true,
                    _ => false,
                };
                if let Some(d) = y
                    .cues
                    .iter()
                    .find(|d| d.sign >= 0 && overlap(ix, c, d) >= 2 && more(d))
                {
                    return Some(reason("a limit one sets that the other exceeds", c, d));
                }
            }
            // "within 72 hours" against "no sooner than two weeks after":
            // the other puts the same act later than the limit allows.
            CueKind::Within if c.value > 0.0 => {
                // The limit's sentence: its promptness cue holds its words.
                let Some(p) = x
                    .cues
                    .iter()
                    .find(|p| p.kind == CueKind::Prompt && overlap(ix, c, p) >= 1)
                else {
                    continue;
                };
                // A draft allowing longer than a recommendation's limit for
                // the same act goes against it ("within four hours" against
                // "within one hour"); a stricter draft meets it.
                if x_draft
                    && let Some(d) = y.cues.iter().find(|d| {
                        // Two words of the act beside both figures, not
                        // where the clock starts (session 19: the sentences'
                        // shared words were the addressee and the setting,
                        // so a sepsis screen within an hour of arrival met a
                        // handover within 15 minutes of arrival).
                        d.kind == CueKind::Within
                            && d.value > 0.0
                            && c.value >= d.value * 1.5
                            && act_overlap(ix, c, d) >= 2
                    })
                {
                    return Some(reason("a longer time limit than the other allows", c, d));
                }
                // Where the other meets the limit too, its later time is
                // another step ("within 24 hours, and again at 7 days").
                if y.cues
                    .iter()
                    .any(|d| d.kind == CueKind::Within && d.value <= c.value * 1.5)
                {
                    continue;
                }
                if let Some(d) = y.cues.iter().find(|d| {
                    d.kind == CueKind::At
                        && d.value >= c.value * 1.5
                        && same_sentence_act(ix, p, y, d)
                }) {
                    return Some(reason("later than the time limit the other sets", c, d));
                }
            }
            // "should not complete it until the weekly review" against
            // "complete it within 72 hours".
            CueKind::Defer => {
                if any_in_y(CueKind::Defer, c) {
                    continue;
                }
                // The promptness may sit beside the act ("within 72 hours")
                // or in a deadline for it ("must meet by March 2025").
                let prompt = |d: &&StoredCue| match d.kind {
                    CueKind::Prompt | CueKind::Within => true,
                    // A deadline, not a date in a story ("in November 2021").
                    CueKind::Year => {
                        let p = said(y, d);
                        p.starts_with("by ") || p.starts_with("before ")
                    }
                    _ => false,
                };
                // Two texts this close need two specific words in common to
                // be about one act (session 19: "watched ... for at least 72
                // hours before neurosurgeons see them" against "referred to
                // neurosurgery within 24 hours" share "stroke", "swelling").
                let need = if cos >= NEAR_COSINE { 2 } else { SAME_SENTENCE };
                let found = y
                    .cues
                    .iter()
                    .filter(prompt)
                    .find(|d| overlap(ix, c, d) >= need)
                    .or_else(|| {
                        let asked = y
                            .cues
                            .iter()
                            .any(|d| d.kind == CueKind::Ask && overlap(ix, c, d) >= need);
                        y.cues.iter().filter(prompt).find(|_| asked)
                    });
                if let Some(d) = found {
                    return Some(reason("one defers what the other asks promptly", c, d));
                }
            }
            _ => {}
        }
    }
    None
}

fn conflict(
    ix: &impl Words,
    a: &Prepared,
    b: &Prepared,
    cos: f32,
    draft: bool,
) -> Option<Conflict> {
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
    //    Only what each text asks can be opposed: a concern's account of
    //    what is done ("families are not routinely involved") is what a
    //    draft asking for it agrees with (the balance still counts it).
    for ca in a
        .cues
        .iter()
        .filter(|c| matches!(c.kind, CueKind::Directive | CueKind::Axis(_)) && c.asks)
    {
        for cb in b
            .cues
            .iter()
            .filter(|c| c.kind == ca.kind && c.sign == -ca.sign && c.asks)
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
    // 3. What each asks: conditions, bounds, deferral against promptness.
    if let Some(c) = ask_conflict(ix, a, b, true, draft, cos)
        .or_else(|| ask_conflict(ix, b, a, false, draft, cos))
    {
        return Some(c);
    }
    // 4. Different figures for the same thing where both cannot be met:
    //    frequencies neither bounds, durations, timings, percentages. Two
    //    time limits, deadlines or thresholds are not a conflict (the
    //    stricter meets both); ages are scope.
    for ca in a
        .cues
        .iter()
        .filter(|c| quantity(c.kind, c.value) && c.kind.compared_as_figure())
    {
        if ca.kind == CueKind::Every && ca.sign != 0 {
            continue;
        }
        for cb in b
            .cues
            .iter()
            .filter(|c| c.kind == ca.kind && quantity(c.kind, c.value) && c.sign == 0)
        {
            if !differs(ca.kind, ca.value, cb.value) {
                continue;
            }
            // A word beside both figures, or (session 19) the act of either
            // figure's sentence: "observations ... every 15 minutes" against
            // "should record observations hourly".
            let Some(t) = shares(&ca.anchors, &cb.anchors).or_else(|| {
                either_sentence_act(ix, a, ca, b, cb)
                    .then(|| {
                        ca.anchors.iter().copied().find(|t| {
                            !ix.generic(*t)
                                && b.terms.binary_search_by_key(t, |(id, _)| *id).is_ok()
                        })
                    })
                    .flatten()
            }) else {
                continue;
            };
            // Both sides name the same value somewhere: a list of steps, not a clash.
            if agreed(a, ca, b, cb) {
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

/// Whether either figure's sentence is the act of the other (see
/// `same_sentence_act`): `ca` in `a`, `cb` in `b`.
fn either_sentence_act(
    ix: &impl Words,
    a: &Prepared,
    ca: &StoredCue,
    b: &Prepared,
    cb: &StoredCue,
) -> bool {
    same_sentence_act(ix, ca, b, cb) || same_sentence_act(ix, cb, a, ca)
}

/// Whether each text also names the other's figure of the kind somewhere
/// (a list of steps, not two figures for one thing).
fn agreed(a: &Prepared, ca: &StoredCue, b: &Prepared, cb: &StoredCue) -> bool {
    let names = |x: &Prepared, v: f32| {
        x.cues
            .iter()
            .any(|c| c.kind == ca.kind && !differs(c.kind, c.value, v))
    };
    names(a, cb.value) || names(b, ca.value)
}

/// Different figures of one kind for what may be one act (a word beside
/// both, or the act of either figure's sentence) where no conflict was
/// found: "every 15 minutes" against "hourly" for the same observations.
/// Such a pair is neither a duplicate nor support: the author must look.
fn figures_differ(ix: &impl Words, a: &Prepared, b: &Prepared) -> Option<String> {
    let figure = |c: &StoredCue| {
        c.value > 0.0
            && match c.kind {
                CueKind::Year | CueKind::Age => false,
                CueKind::Cap | CueKind::Floor | CueKind::Count => true,
                k => k.is_quantity(),
            }
    };
    for ca in a.cues.iter().filter(|c| figure(c)) {
        for cb in b.cues.iter().filter(|c| c.kind == ca.kind && figure(c)) {
            // Of one measure: time against time, else the same counted word.
            let measure = match ca.kind {
                CueKind::Cap | CueKind::Floor | CueKind::Count => {
                    ca.sign == cb.sign
                        && (ca.sign == 1 || (ca.head.is_some() && ca.head == cb.head))
                }
                _ => true,
            };
            if !measure || !differs(ca.kind, ca.value, cb.value) {
                continue;
            }
            if overlap(ix, ca, cb) == 0 && !either_sentence_act(ix, a, ca, b, cb) {
                continue;
            }
            if agreed(a, ca, b, cb) {
                continue;
            }
            return Some(format!(
                "different {}: \"{}\" vs \"{}\"",
                ca.kind.label(),
                ix.phrase_of(a, ca),
                ix.phrase_of(b, cb)
            ));
        }
    }
    None
}

/// A limit on an ask in the draft `a` (a prohibition, a relaxation, a
/// condition, a deferral, an upper bound, a "do not") about words it shares
/// with `b`, where `b` sets no limit of that kind anywhere: what the two
/// ask differs, even where no conflict could be read (session 20: "must not
/// be disclosed to care home staff" against "should share their care plans
/// with the care home" was a duplicate). The kind and the draft's words.
fn turn(ix: &impl Words, a: &Prepared, b: &Prepared, shared: &[(u32, f32)]) -> Option<String> {
    let limits = |c: &StoredCue| match c.kind {
        CueKind::Forbid | CueKind::Relax | CueKind::Only | CueKind::Defer | CueKind::Cap => true,
        CueKind::Directive => c.sign < 0,
        _ => false,
    };
    let same = |c: &StoredCue, d: &StoredCue| c.kind == d.kind && c.sign == d.sign;
    // The record must ask for what the draft limits: a coroner's concern
    // describes what went wrong, and a draft that forbids it restates it.
    let asked = |c: &StoredCue| {
        b.cues.iter().any(|d| {
            (d.kind == CueKind::Ask || (d.kind == CueKind::Directive && d.sign > 0))
                && overlap(ix, c, d) >= 1
        })
    };
    a.cues
        .iter()
        .filter(|c| limits(c))
        .find(|c| {
            c.anchors
                .iter()
                .any(|t| !ix.generic(*t) && shared.iter().any(|(s, _)| s == t))
                && !b.cues.iter().any(|d| same(c, d))
                && asked(c)
        })
        .map(|c| format!("{}: \"{}\"", c.kind.label(), ix.phrase_of(a, c)))
}

fn shared_numbers(ix: &impl Words, a: &Prepared, b: &Prepared) -> Option<String> {
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

/// A draft `a` against a record `b`: some conflicts are one way round (a
/// draft allowing longer than the record's limit goes against it; a
/// stricter one meets it).
pub(crate) fn classify(ix: &impl Words, a: Side<'_>, b: Side<'_>) -> Option<Verdict> {
    classify_with(ix, a, b, true)
}

/// Two records in the register (corpus-wide sweeps): neither is a draft,
/// so the one-way conflicts are not read (the register's own limits for
/// one act, stricter and looser, are each met by the stricter).
pub(crate) fn classify_records(ix: &impl Words, a: Side<'_>, b: Side<'_>) -> Option<Verdict> {
    classify_with(ix, a, b, false)
}

fn classify_with(ix: &impl Words, a: Side<'_>, b: Side<'_>, draft: bool) -> Option<Verdict> {
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
        && let Some(c) = conflict(ix, a, b, cos, draft)
    {
        return Some(Verdict {
            score,
            relation: Relation::Contradicts,
            reason: format!("{}; both about {}", c.text, words),
            settled: true,
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
    // Not the same ask, whatever the words and however close in meaning
    // (settled: the vectors do not promote it): different figures for one
    // act, or a draft that forbids, restricts, defers or relaxes what it
    // shares with a record that does none of these.
    let unlike = matches!(relation, Relation::Duplicate | Relation::Supports)
        .then(|| figures_differ(ix, a, b))
        .flatten()
        .or_else(|| {
            draft
                .then(|| turn(ix, a, b, &shared))
                .flatten()
                .map(|t| format!("one sets a limit the other does not ({t})"))
        });
    if let Some(d) = unlike {
        return Some(Verdict {
            score,
            relation: Relation::Related,
            reason: format!("same subject, but {d}: shares {words}"),
            settled: true,
        });
    }
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
        settled: false,
    })
}
