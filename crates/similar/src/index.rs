//! The in-memory similarity index: built from the register's records, kept
//! in step by upserts and removals (the outbox consumer calls them), and
//! rebuildable at any time from the database.
//!
//! Candidate generation: MinHash over unigram and bigram shingles of
//! content stems, banded for LSH ([`BANDS`] bands of [`ROWS`] rows), plus an
//! inverted index walked rarest term first (a bounded number of postings).
//! The budgets grow with the corpus ([`Budget::for_size`]): a templated
//! corpus has hundreds of near-equal texts, and fixed budgets see a smaller
//! share of them as it grows. Every candidate then gets a cheap exact
//! cosine (an upper bound of its final score), and candidates are scored
//! and classified fully best bound first, stopping once no remaining bound
//! can enter the answer: the answer is exact over the candidate pool.

use std::collections::{HashMap, HashSet};

use crate::analyse::{Analysis, GENERIC, analyse_doc, hash_str, mix};
pub use crate::classify::Relation;
use crate::classify::{
    CONTRADICTION_MIN, DUPLICATE_LONG, Prepared, RELATED, Side, StoredCue, Verdict, Words,
    classify, classify_records,
};
use crate::text::{TextProblem, check_text};

pub use crate::analyse::{BANDS, ROWS};
const NONE: u32 = u32::MAX;
/// Slack on the upper bound of a score (the cheap cosine and the exact one
/// add the same terms in a different way).
const BOUND_SLACK: f32 = 1e-3;
/// `classify` answers nothing below this cosine.
const RELATED_FLOOR: f32 = RELATED * 0.8;
thread_local! {
    /// The rare-term route's scores, one cell per slot, reused by the
    /// queries of one thread (every cell is zero between queries).
    static ACCUMULATOR: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Buckets larger than this are too common to mean anything (boilerplate).
const BUCKET_CAP: usize = 64;
/// Query terms used for candidate generation (the rarest ones).
const QUERY_TERMS: usize = 48;

/// How much of the index one query reads on its way to the candidates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Budget {
    /// Postings read on the rare-term route.
    pub postings: usize,
    /// Candidates kept from the rare-term route (best partial score first).
    pub term_pool: usize,
    /// Candidates kept from the LSH buckets (most bands shared first).
    pub lsh_pool: usize,
}

impl Budget {
    /// The budgets before they grew with the corpus (60,000 postings, 200 +
    /// 200 candidates): kept for the benchmark's before/after.
    pub const FIXED: Budget = Budget {
        postings: 60_000,
        term_pool: 200,
        lsh_pool: 200,
    };

    /// Budgets for a corpus of `live` records: one and a half postings per
    /// record (at least 60,000), enough to read every posting list of a
    /// draft's rarest terms on the generated corpus, and one term candidate
    /// per 50 records (400 to 4,000). At 1M: 1.5M postings into a dense
    /// accumulator, 4,000 + 200 candidates, most of them dismissed by the
    /// cheap bound before the full score.
    pub fn for_size(live: usize) -> Budget {
        Budget {
            postings: (live.saturating_mul(3) / 2).max(60_000),
            term_pool: (live / 50).clamp(400, 4_000),
            lsh_pool: 200,
        }
    }
}

/// A record as the index reads it.
#[derive(Debug, Clone, Default)]
pub struct Doc<'a> {
    pub id: &'a str,
    pub title: &'a str,
    pub text: &'a str,
    pub addressees: Vec<String>,
    pub settings: Vec<String>,
    pub themes: Vec<String>,
    /// Some(issuer) for a draft: seen only by its issuer (and operators).
    pub draft_of: Option<String>,
}

/// Who is asking: drafts are seen only by their issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Public,
    Org(String),
    All,
}

/// One existing record that matches.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Match {
    pub id: String,
    pub score: f64,
    pub relation: &'static str,
    pub reason: String,
    /// The words settled the relation (a contradiction, different figures
    /// for one act, a limit only the draft sets): closeness in meaning must
    /// not lift it. A contradiction far in meaning is still only related
    /// (`semantic::combine`).
    #[serde(skip)]
    pub settled: bool,
}

/// Two records the engine relates (for instance a suspected contradiction).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pair {
    /// The two ids, in order.
    pub ids: [String; 2],
    pub score: f64,
    pub reason: String,
}

/// A group of near-duplicates.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Group {
    pub ids: Vec<String>,
    pub score: f64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Slot {
    id: Box<str>,
    alive: bool,
    draft_of: Option<u32>,
    terms: Box<[(u32, u16)]>,
    meta: Box<[u64]>,
    cues: Box<[StoredCue]>,
}

/// Pairs of records the engine judges duplicates of each other, compactly:
/// each record named once, each pair three numbers (a synthetic register
/// of 30,000 records has millions of such pairs).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DuplicatePairs {
    ids: Vec<Box<str>>,
    /// By id, not by slot: a record changed during a sweep has two slots.
    by_id: HashMap<Box<str>, u32>,
    pairs: Vec<(u32, u32, f32)>,
}

impl DuplicatePairs {
    fn name(&mut self, index: &Index, slot: u32) -> u32 {
        let id = &index.slots[slot as usize].id;
        if let Some(&n) = self.by_id.get(id) {
            return n;
        }
        let n = self.ids.len() as u32;
        self.ids.push(id.clone());
        self.by_id.insert(id.clone(), n);
        n
    }

    fn push(&mut self, index: &Index, a: u32, b: u32, score: f32) {
        let (x, y) = (self.name(index, a), self.name(index, b));
        self.pairs.push((x, y, score));
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// A corpus-wide sweep in progress (see [`Index::sweep_step`]): what it has
/// found so far and where it is.
#[derive(Debug, Default)]
pub struct Sweep {
    next: usize,
    seen: HashSet<u64>,
    /// The size of `seen` after it was last pruned.
    pruned_at: usize,
    pub duplicates: DuplicatePairs,
    /// Strongest first once the sweep is done.
    pub contradictions: Vec<Pair>,
}

impl Sweep {
    /// How many records' places the sweep has passed.
    pub fn position(&self) -> usize {
        self.next
    }
}

/// Groups of duplicates from duplicate pairs, among the records `keep`
/// accepts, largest first. Complete linkage: strongest pairs first; a
/// record joins a group only if it is a duplicate of every member, and two
/// groups never merge, so one record that bridges two topics cannot chain
/// them.
pub fn groups_of(found: &DuplicatePairs, keep: impl Fn(&str) -> bool) -> Vec<Group> {
    let kept: Vec<bool> = found.ids.iter().map(|id| keep(id)).collect();
    let ordered = |a: u32, b: u32| if a < b { (a, b) } else { (b, a) };
    let mut edges: Vec<(u32, u32, f32)> = found
        .pairs
        .iter()
        .filter(|(a, b, _)| kept[*a as usize] && kept[*b as usize])
        .map(|&(a, b, s)| {
            let (a, b) = ordered(a, b);
            (a, b, s)
        })
        .collect();
    let name = |i: u32| &*found.ids[i as usize];
    edges.sort_by(|x, y| {
        y.2.total_cmp(&x.2)
            .then((name(x.0), name(x.1)).cmp(&(name(y.0), name(y.1))))
    });
    let dup: HashMap<(u32, u32), f32> = edges.iter().map(|&(a, b, s)| ((a, b), s)).collect();
    let score_of = |a: u32, b: u32| dup.get(&ordered(a, b)).copied();
    let mut group_of: HashMap<u32, usize> = HashMap::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    for &(a, b, _) in &edges {
        match (group_of.get(&a).copied(), group_of.get(&b).copied()) {
            (None, None) => {
                group_of.insert(a, members.len());
                group_of.insert(b, members.len());
                members.push(vec![a, b]);
            }
            (Some(g), None) | (None, Some(g)) => {
                let x = if group_of.contains_key(&a) { b } else { a };
                if members[g].iter().all(|&m| score_of(m, x).is_some()) {
                    group_of.insert(x, g);
                    members[g].push(x);
                }
            }
            (Some(_), Some(_)) => {}
        }
    }
    let mut out: Vec<Group> = members
        .into_iter()
        .map(|m| {
            let (mut total, mut count) = (0.0f32, 0u32);
            for i in 0..m.len() {
                for j in i + 1..m.len() {
                    if let Some(s) = score_of(m[i], m[j]) {
                        total += s;
                        count += 1;
                    }
                }
            }
            let mut ids: Vec<String> = m.iter().map(|&i| name(i).to_string()).collect();
            ids.sort();
            ids.dedup();
            Group {
                ids,
                score: (f64::from(total / count.max(1) as f32) * 1000.0).round() / 1000.0,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.ids
            .len()
            .cmp(&a.ids.len())
            .then(b.score.total_cmp(&a.score))
            .then(a.ids.cmp(&b.ids))
    });
    out
}

/// The index. Slots are never reused: a record that changes gets a new
/// slot and its old one is marked dead (a rebuild compacts).
///
/// Serializable whole, so that a server can keep it between runs (read
/// back only by the same engine: see [`crate::engine_fingerprint`]).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Index {
    slots: Vec<Slot>,
    by_id: HashMap<Box<str>, u32>,
    vocab: HashMap<String, u32>,
    words: Vec<String>,
    df: Vec<u32>,
    /// ln(df + 1) per term, kept in step with `df` (the cheap bound's idf).
    ln_df: Vec<f32>,
    postings: Vec<Vec<u32>>,
    phrases: Vec<String>,
    phrase_ids: HashMap<String, u32>,
    orgs: Vec<String>,
    buckets: Vec<HashMap<u64, u32>>,
    next: Vec<u32>,
    live: usize,
    /// None: [`Budget::for_size`] of the live records.
    budget: Option<Budget>,
}

/// Options for a query.
#[derive(Debug, Clone)]
pub struct QueryOptions {
    pub limit: usize,
    pub viewer: Viewer,
    /// Leave this id out (the record itself, for `--id`).
    pub exclude: Option<String>,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions {
            limit: 10,
            viewer: Viewer::Public,
            exclude: None,
        }
    }
}

fn seeds() -> [u64; BANDS * ROWS] {
    let mut s = [0u64; BANDS * ROWS];
    for (i, v) in s.iter_mut().enumerate() {
        *v = mix(0x5eed_0000 + i as u64);
    }
    s
}

fn band_keys(shingles: &[u64]) -> Option<[u64; BANDS]> {
    if shingles.is_empty() {
        return None;
    }
    let seeds = seeds();
    let mut sig = [u64::MAX; BANDS * ROWS];
    for &sh in shingles {
        for (k, seed) in seeds.iter().enumerate() {
            let h = mix(sh ^ seed);
            if h < sig[k] {
                sig[k] = h;
            }
        }
    }
    let mut keys = [0u64; BANDS];
    for (b, key) in keys.iter_mut().enumerate() {
        let mut h = mix(b as u64 + 1);
        for r in 0..ROWS {
            h = mix(h ^ sig[b * ROWS + r]);
        }
        *key = h;
    }
    Some(keys)
}

fn meta_hashes(doc: &Doc<'_>) -> Box<[u64]> {
    let norm = |s: &str| {
        s.to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut v: Vec<u64> = doc
        .addressees
        .iter()
        .map(|a| hash_str(&format!("a:{}", norm(a))))
        .chain(
            doc.settings
                .iter()
                .map(|s| hash_str(&format!("s:{}", norm(s)))),
        )
        .chain(
            doc.themes
                .iter()
                .map(|s| hash_str(&format!("t:{}", norm(s)))),
        )
        .collect();
    v.sort_unstable();
    v.dedup();
    v.into_boxed_slice()
}

/// The term id of a query's word the index has never seen.
pub(crate) const UNSEEN_WORD: u32 = u32::MAX;

impl Index {
    pub fn new() -> Self {
        Index::default()
    }

    /// Records in the index (live ones).
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    fn intern(&mut self, stem: &str, surface: &str) -> u32 {
        if let Some(&t) = self.vocab.get(stem) {
            return t;
        }
        let t = self.words.len() as u32;
        self.vocab.insert(stem.to_string(), t);
        self.words.push(surface.to_string());
        self.df.push(0);
        self.ln_df.push(0.0);
        self.postings.push(Vec::new());
        t
    }

    fn intern_phrase(&mut self, p: &str) -> u32 {
        if let Some(&i) = self.phrase_ids.get(p) {
            return i;
        }
        let i = self.phrases.len() as u32;
        self.phrases.push(p.to_string());
        self.phrase_ids.insert(p.to_string(), i);
        i
    }

    fn org_id(&mut self, org: &str) -> u32 {
        if let Some(i) = self.orgs.iter().position(|o| o == org) {
            return i as u32;
        }
        self.orgs.push(org.to_string());
        (self.orgs.len() - 1) as u32
    }

    fn idf(&self, df: u32) -> f32 {
        let n = self.live.max(1) as f32;
        ((n + 1.0) / (df as f32 + 1.0)).ln() + 1.0
    }

    pub(crate) fn word(&self, t: u32) -> &str {
        self.words
            .get(t as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }

    pub(crate) fn phrase(&self, p: u32) -> &str {
        self.phrases
            .get(p as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }

    /// Adds a record, or replaces the one with the same id. Records with no
    /// readable words are kept out (and any older version removed).
    pub fn upsert(&mut self, doc: &Doc<'_>) {
        self.remove(doc.id);
        let full = format!("{}.\n{}", doc.title, doc.text);
        if check_text(&full).is_err() {
            return;
        }
        let a = analyse_doc(doc.title, doc.text);
        if a.terms.is_empty() {
            return;
        }
        self.insert_analysis(doc, &a);
    }

    fn insert_analysis(&mut self, doc: &Doc<'_>, a: &Analysis) {
        let slot = self.slots.len() as u32;
        let mut terms: Vec<(u32, u16)> = a
            .terms
            .iter()
            .map(|(s, n)| {
                let surface = a.surface.get(s).map(String::as_str).unwrap_or(s);
                (
                    self.intern(s, surface),
                    (*n).min(u32::from(u16::MAX)) as u16,
                )
            })
            .collect();
        terms.sort_unstable();
        for &(t, _) in &terms {
            self.df[t as usize] += 1;
            self.ln_df[t as usize] = (self.df[t as usize] as f32 + 1.0).ln();
            self.postings[t as usize].push(slot);
        }
        let cues: Vec<StoredCue> = a
            .cues
            .iter()
            .map(|c| StoredCue {
                asks: c.asks,
                kind: c.kind,
                sign: c.sign,
                value: c.value as f32,
                anchors: c
                    .anchors
                    .iter()
                    .filter_map(|s| self.vocab.get(s).copied())
                    .collect(),
                phrase: self.intern_phrase(&c.phrase),
                head: c.head.as_ref().and_then(|h| self.vocab.get(h).copied()),
            })
            .collect();
        let draft_of = doc.draft_of.as_deref().map(|o| self.org_id(o));
        self.slots.push(Slot {
            id: doc.id.into(),
            alive: true,
            draft_of,
            terms: terms.into_boxed_slice(),
            meta: meta_hashes(doc),
            cues: cues.into_boxed_slice(),
        });
        self.next.extend(std::iter::repeat_n(NONE, BANDS));
        if let Some(keys) = band_keys(&a.shingles) {
            if self.buckets.is_empty() {
                self.buckets = vec![HashMap::new(); BANDS];
            }
            for (b, k) in keys.iter().enumerate() {
                let prev = self.buckets[b].insert(*k, slot).unwrap_or(NONE);
                self.next[slot as usize * BANDS + b] = prev;
            }
        }
        self.by_id.insert(doc.id.into(), slot);
        self.live += 1;
    }

    /// Removes a record (if present).
    pub fn remove(&mut self, id: &str) {
        if let Some(slot) = self.by_id.remove(id) {
            let s = &mut self.slots[slot as usize];
            s.alive = false;
            for &(t, _) in s.terms.iter() {
                self.df[t as usize] = self.df[t as usize].saturating_sub(1);
                self.ln_df[t as usize] = (self.df[t as usize] as f32 + 1.0).ln();
            }
            self.live -= 1;
        }
    }

    /// Whether `viewer` may see the record `id` (false when it is not in
    /// the index).
    pub fn visible_to(&self, id: &str, viewer: &Viewer) -> bool {
        self.by_id
            .get(id)
            .is_some_and(|&s| self.visible(&self.slots[s as usize], viewer))
    }

    fn visible(&self, slot: &Slot, viewer: &Viewer) -> bool {
        match (&slot.draft_of, viewer) {
            (None, _) | (_, Viewer::All) => true,
            (Some(o), Viewer::Org(org)) => self.orgs.get(*o as usize) == Some(org),
            (Some(_), Viewer::Public) => false,
        }
    }

    /// Weights of a stored slot.
    pub(crate) fn side_of_slot(&self, slot: u32) -> Prepared {
        let s = &self.slots[slot as usize];
        let terms: Vec<(u32, f32)> = s
            .terms
            .iter()
            .map(|&(t, tf)| (t, (1.0 + (tf as f32).ln()) * self.idf(self.df[t as usize])))
            .collect();
        let norm = terms.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        Prepared {
            terms,
            norm,
            cues: s.cues.to_vec(),
            meta: s.meta.clone(),
            keys: None,
            own_phrases: None,
        }
    }

    /// Prepares a text that is not (necessarily) in the index.
    pub(crate) fn prepare(&self, doc: &Doc<'_>) -> Result<Prepared, TextProblem> {
        let full = if doc.title.is_empty() {
            doc.text.to_string()
        } else {
            format!("{}.\n{}", doc.title, doc.text)
        };
        check_text(&full)?;
        let a = analyse_doc(doc.title, doc.text);
        if a.terms.is_empty() {
            return Err(TextProblem::NoWords);
        }
        let mut norm2 = 0.0f32;
        let mut terms = Vec::with_capacity(a.terms.len());
        for (s, n) in &a.terms {
            let df = self.vocab.get(s).map(|&t| self.df[t as usize]).unwrap_or(0);
            let w = (1.0 + (*n as f32).ln()) * self.idf(df);
            norm2 += w * w;
            if let Some(&t) = self.vocab.get(s) {
                terms.push((t, w));
            }
        }
        terms.sort_unstable_by_key(|x| x.0);
        let cues = a
            .cues
            .iter()
            .enumerate()
            .map(|(i, c)| StoredCue {
                asks: c.asks,
                kind: c.kind,
                sign: c.sign,
                value: c.value as f32,
                anchors: c
                    .anchors
                    .iter()
                    .filter_map(|s| self.vocab.get(s).copied())
                    .collect(),
                phrase: i as u32,
                // A head the corpus has never seen is no other text's head
                // or anchor (not "unknown, so maybe the same act").
                head: c
                    .head
                    .as_ref()
                    .map(|h| self.vocab.get(h).copied().unwrap_or(UNSEEN_WORD)),
            })
            .collect();
        Ok(Prepared {
            terms,
            norm: norm2.sqrt(),
            cues,
            meta: meta_hashes(doc),
            keys: band_keys(&a.shingles),
            own_phrases: Some(a.cues.iter().map(|c| c.phrase.clone()).collect()),
        })
    }

    /// The words of a cue of `p`, for a reason.
    pub(crate) fn phrase_of<'a>(&'a self, p: &'a Prepared, c: &StoredCue) -> &'a str {
        match &p.own_phrases {
            Some(v) => v.get(c.phrase as usize).map(String::as_str).unwrap_or("?"),
            None => self.phrase(c.phrase),
        }
    }

    /// The budgets queries use now.
    pub fn budget(&self) -> Budget {
        self.budget.unwrap_or_else(|| Budget::for_size(self.live))
    }

    /// Fixes the budgets (None: grow with the corpus, the default). For
    /// benchmarks and tests.
    pub fn set_budget(&mut self, budget: Option<Budget>) {
        self.budget = budget;
    }

    /// Candidate slots for a prepared text: LSH buckets and rare terms.
    fn pool(&self, q: &Prepared, viewer: &Viewer) -> Vec<u32> {
        let budget = self.budget();
        let mut lsh: HashMap<u32, u32> = HashMap::new();
        if let Some(keys) = &q.keys
            && !self.buckets.is_empty()
        {
            for (b, k) in keys.iter().enumerate() {
                let mut cur = self.buckets[b].get(k).copied().unwrap_or(NONE);
                let mut n = 0;
                while cur != NONE && n < BUCKET_CAP {
                    *lsh.entry(cur).or_default() += 1;
                    cur = self.next[cur as usize * BANDS + b];
                    n += 1;
                }
            }
        }
        // Rare terms first, into a dense accumulator (one cell per slot:
        // cheaper than a map once the budget is in the hundreds of
        // thousands of postings).
        let mut qt: Vec<(u32, f32)> = q
            .terms
            .iter()
            .copied()
            .filter(|(t, _)| self.df[*t as usize] > 0)
            .collect();
        qt.sort_unstable_by(|a, b| {
            self.df[a.0 as usize]
                .cmp(&self.df[b.0 as usize])
                .then(a.0.cmp(&b.0))
        });
        qt.truncate(QUERY_TERMS);
        // The accumulator is kept per thread between queries (4 MB at a
        // million records): allocating and zeroing it each time cost as
        // much as a small query. Only the touched cells are reset.
        let mut by_terms: Vec<(u32, f32)> = ACCUMULATOR.with(|cell| {
            let mut acc = cell.borrow_mut();
            if acc.len() < self.slots.len() {
                acc.resize(self.slots.len(), 0.0);
            }
            let mut touched: Vec<u32> = Vec::new();
            let mut left = budget.postings;
            for &(t, w) in &qt {
                let p = &self.postings[t as usize];
                if p.len() > left {
                    break;
                }
                left -= p.len();
                let add = w * self.idf(self.df[t as usize]);
                for &s in p {
                    let cell = &mut acc[s as usize];
                    if *cell == 0.0 {
                        touched.push(s);
                    }
                    *cell += add;
                }
            }
            touched
                .into_iter()
                .map(|s| {
                    let v = std::mem::take(&mut acc[s as usize]);
                    (s, v)
                })
                .collect()
        });
        let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if by_terms.len() > budget.term_pool && budget.term_pool > 0 {
            by_terms.select_nth_unstable_by(budget.term_pool - 1, order);
        }
        by_terms.truncate(budget.term_pool);
        let mut by_lsh: Vec<(u32, u32)> = lsh.into_iter().collect();
        by_lsh.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        by_lsh.truncate(budget.lsh_pool);
        let mut out: Vec<u32> = by_terms
            .into_iter()
            .map(|x| x.0)
            .chain(by_lsh.into_iter().map(|x| x.0))
            .filter(|&s| {
                let slot = &self.slots[s as usize];
                slot.alive && self.visible(slot, viewer)
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The TF-IDF cosine of a prepared text and a stored slot, without
    /// building the slot's weights (the cheap bound's main part).
    fn quick_cosine(&self, q: &Prepared, slot: u32, ln_n1: f32) -> f32 {
        let s = &self.slots[slot as usize];
        if q.norm == 0.0 {
            return 0.0;
        }
        let (mut dot, mut norm2) = (0.0f32, 0.0f32);
        let mut j = 0;
        for &(t, tf) in s.terms.iter() {
            let w = (1.0 + f32::from(tf).ln()) * (ln_n1 + 1.0 - self.ln_df[t as usize]);
            norm2 += w * w;
            while j < q.terms.len() && q.terms[j].0 < t {
                j += 1;
            }
            if j < q.terms.len() && q.terms[j].0 == t {
                dot += w * q.terms[j].1;
            }
        }
        if norm2 == 0.0 {
            return 0.0;
        }
        dot / (q.norm * norm2.sqrt())
    }

    /// An upper bound of the score `classify` gives a slot: its cosine plus
    /// the bonuses it could get (shared addressee, setting or theme; a
    /// shared figure when both sides name one).
    fn bound(&self, q: &Prepared, q_figures: bool, slot: u32, ln_n1: f32) -> f32 {
        let s = &self.slots[slot as usize];
        let mut ub = self.quick_cosine(q, slot, ln_n1);
        if q.meta.iter().any(|m| s.meta.binary_search(m).is_ok()) {
            ub += 0.03;
        }
        if q_figures && s.cues.iter().any(|c| c.kind.is_quantity() && c.value > 0.0) {
            ub += 0.04;
        }
        ub.min(1.0) + BOUND_SLACK
    }

    /// Slots with their upper bounds, best bound first.
    fn bounded(&self, q: &Prepared, slots: Vec<u32>) -> Vec<(u32, f32)> {
        let ln_n1 = (self.live.max(1) as f32 + 1.0).ln();
        let q_figures = q.cues.iter().any(|c| c.kind.is_quantity() && c.value > 0.0);
        let mut out: Vec<(u32, f32)> = slots
            .into_iter()
            .map(|s| (s, self.bound(q, q_figures, s, ln_n1)))
            .filter(|&(_, ub)| ub >= RELATED_FLOOR)
            .collect();
        out.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Scores and classifies candidates best bound first, and stops once
    /// the answer is full and no remaining bound can beat its weakest
    /// member: the same answer as classifying every candidate.
    fn rank(&self, q: &Prepared, cands: Vec<(u32, f32)>, opts: &QueryOptions) -> Vec<Match> {
        let mut verdicts: Vec<(Verdict, u32)> = Vec::new();
        let weakest =
            |v: &[(Verdict, u32)]| v.iter().map(|x| x.0.score).fold(f32::INFINITY, f32::min);
        for (s, ub) in cands {
            if verdicts.len() >= opts.limit && ub < weakest(&verdicts) {
                break;
            }
            if opts.exclude.as_deref() == Some(&*self.slots[s as usize].id) {
                continue;
            }
            let d = self.side_of_slot(s);
            if let Some(v) = classify(self, Side(q), Side(&d)) {
                verdicts.push((v, s));
            }
        }
        self.answer(verdicts, opts.limit)
    }

    fn answer(&self, mut verdicts: Vec<(Verdict, u32)>, limit: usize) -> Vec<Match> {
        verdicts.sort_by(|a, b| {
            b.0.score.total_cmp(&a.0.score).then_with(|| {
                self.slots[a.1 as usize]
                    .id
                    .cmp(&self.slots[b.1 as usize].id)
            })
        });
        verdicts.truncate(limit);
        verdicts
            .into_iter()
            .map(|(v, s)| Match {
                id: self.slots[s as usize].id.to_string(),
                score: (f64::from(v.score) * 1000.0).round() / 1000.0,
                relation: v.relation.as_str(),
                reason: v.reason,
                settled: v.settled,
            })
            .collect()
    }

    /// Existing records that duplicate, support, contradict or relate to a
    /// draft, best first.
    pub fn similar_to(
        &self,
        doc: &Doc<'_>,
        opts: &QueryOptions,
    ) -> Result<Vec<Match>, TextProblem> {
        let q = self.prepare(doc)?;
        let pool = self.pool(&q, &opts.viewer);
        let cands = self.bounded(&q, pool);
        Ok(self.rank(&q, cands, opts))
    }

    /// Compares two records in the index: None when one is missing, Some(None)
    /// when they are unrelated (for evaluation and tests).
    pub fn relation(&self, a: &str, b: &str) -> Option<Option<(f64, Relation, String)>> {
        let sa = *self.by_id.get(a)?;
        let sb = *self.by_id.get(b)?;
        let pa = self.side_of_slot(sa);
        let pb = self.side_of_slot(sb);
        Some(
            classify_records(self, Side(&pa), Side(&pb))
                .map(|v| (f64::from(v.score), v.relation, v.reason)),
        )
    }

    /// Corpus-wide groups of duplicates (every member judged a duplicate of
    /// every other: complete linkage, never joined through a bridging
    /// record), largest first. Candidate pairs come
    /// from the LSH buckets; with `thorough`, every record is also queried
    /// on the rare-term route (slower; catches paraphrases).
    pub fn duplicate_groups(&self, viewer: &Viewer, thorough: bool) -> Vec<Group> {
        let n = self.slots.len();
        let mut seen: HashSet<u64> = HashSet::new();
        let mut edges: Vec<(u32, u32, f32)> = Vec::new();
        let mut cache: HashMap<u32, Prepared> = HashMap::new();
        let mut consider = |a: u32,
                            b: u32,
                            cache: &mut HashMap<u32, Prepared>,
                            edges: &mut Vec<(u32, u32, f32)>| {
            let (a, b) = if a < b { (a, b) } else { (b, a) };
            if !seen.insert((u64::from(a) << 32) | u64::from(b)) {
                return;
            }
            cache.entry(a).or_insert_with(|| self.side_of_slot(a));
            cache.entry(b).or_insert_with(|| self.side_of_slot(b));
            if let Some(v) = classify_records(self, Side(&cache[&a]), Side(&cache[&b]))
                && v.relation == Relation::Duplicate
            {
                edges.push((a, b, v.score));
            }
        };
        let ok = |s: u32| {
            let slot = &self.slots[s as usize];
            slot.alive && self.visible(slot, viewer)
        };
        for (b, map) in self.buckets.iter().enumerate() {
            for &head in map.values() {
                let mut members = Vec::new();
                let mut cur = head;
                while cur != NONE && members.len() <= BUCKET_CAP {
                    members.push(cur);
                    cur = self.next[cur as usize * BANDS + b];
                }
                if members.len() < 2 || members.len() > BUCKET_CAP {
                    continue;
                }
                let members: Vec<u32> = members.into_iter().filter(|&s| ok(s)).collect();
                for i in 0..members.len() {
                    for j in i + 1..members.len() {
                        consider(members[i], members[j], &mut cache, &mut edges);
                    }
                }
                if cache.len() > 200_000 {
                    cache.clear();
                }
            }
        }
        if thorough {
            for s in 0..n as u32 {
                if !ok(s) {
                    continue;
                }
                let q = self.side_of_slot(s);
                let pool = self.pool(&q, viewer);
                // Only a pair whose bound reaches a duplicate's score is
                // worth classifying.
                for (c, ub) in self.bounded(&q, pool) {
                    if ub < DUPLICATE_LONG {
                        break;
                    }
                    if c != s {
                        consider(s, c, &mut cache, &mut edges);
                    }
                }
                if cache.len() > 200_000 {
                    cache.clear();
                }
            }
        }
        let mut found = DuplicatePairs::default();
        for (a, b, score) in edges {
            found.push(self, a, b, score);
        }
        groups_of(&found, |_| true)
    }

    /// Advances a corpus-wide sweep (duplicates and contradictions among
    /// every record, drafts included) by up to `slots` records; true when
    /// it has reached the end. Between two steps the index may change: a
    /// record added meanwhile is swept when the sweep reaches it, one
    /// removed is skipped; the caller filters the result by what a viewer
    /// may see. Every live record is queried on the candidate routes (the
    /// thorough route of [`Self::duplicate_groups`]), once for both lists.
    pub fn sweep_step(&self, sw: &mut Sweep, slots: usize) -> bool {
        let n = self.slots.len();
        let end = sw.next.saturating_add(slots).min(n);
        let floor = DUPLICATE_LONG.min(CONTRADICTION_MIN);
        for s in sw.next..end {
            let slot = &self.slots[s];
            if !slot.alive {
                continue;
            }
            let cues = !slot.cues.is_empty();
            let s = s as u32;
            let q = self.side_of_slot(s);
            let pool = self.pool(&q, &Viewer::All);
            for (c, ub) in self.bounded(&q, pool) {
                if ub < floor {
                    break;
                }
                // Below a duplicate's bound only a contradiction is possible,
                // and only between two records that ask something.
                if c == s
                    || (ub < DUPLICATE_LONG && (!cues || self.slots[c as usize].cues.is_empty()))
                {
                    continue;
                }
                // Each pair once. Slots are swept in order, so a pair is
                // remembered from its lower slot until its higher one is
                // swept (then forgotten): the set holds only open pairs.
                let key = (u64::from(s.min(c)) << 32) | u64::from(s.max(c));
                let judged = if c < s {
                    sw.seen.remove(&key)
                } else {
                    !sw.seen.insert(key)
                };
                if judged {
                    continue;
                }
                let (a, b) = if self.slots[s as usize].id < self.slots[c as usize].id {
                    (s, c)
                } else {
                    (c, s)
                };
                let (pa, pb) = (self.side_of_slot(a), self.side_of_slot(b));
                let Some(v) = classify_records(self, Side(&pa), Side(&pb)) else {
                    continue;
                };
                let ids = || {
                    [
                        self.slots[a as usize].id.clone(),
                        self.slots[b as usize].id.clone(),
                    ]
                };
                match v.relation {
                    Relation::Duplicate if ub >= DUPLICATE_LONG => {
                        sw.duplicates.push(self, a, b, v.score)
                    }
                    Relation::Contradicts
                        if ub >= CONTRADICTION_MIN
                            && !self.slots[a as usize].cues.is_empty()
                            && !self.slots[b as usize].cues.is_empty() =>
                    {
                        let [x, y] = ids();
                        sw.contradictions.push(Pair {
                            ids: [x.to_string(), y.to_string()],
                            score: (f64::from(v.score) * 1000.0).round() / 1000.0,
                            reason: v.reason,
                        })
                    }
                    _ => {}
                }
            }
        }
        sw.next = end;
        // Pairs whose higher slot has been swept without finding them back
        // are never looked up again.
        if sw.seen.len() > 1 << 16 && sw.seen.len() > 4 * sw.pruned_at {
            let next = end as u64;
            sw.seen.retain(|k| (k & 0xffff_ffff) >= next);
            sw.pruned_at = sw.seen.len();
        }
        if end >= n {
            sw.contradictions
                .sort_by(|x, y| y.score.total_cmp(&x.score).then(x.ids.cmp(&y.ids)));
            true
        } else {
            false
        }
    }

    /// Every pair of records the caller may see that the engine judges
    /// contradictory, strongest first, each pair once (ids in order), in
    /// one pass. A server uses [`Self::sweep_step`] instead; this is the
    /// reference the sweep is checked against, and what the benchmark
    /// times. Each
    /// record that carries a cue (an instruction, a direction or a figure) is
    /// queried on the candidate routes; only pairs whose bound reaches
    /// [`CONTRADICTION_MIN`] and where both sides carry cues are classified.
    pub fn contradictions(&self, viewer: &Viewer) -> Vec<Pair> {
        let ok = |s: u32| {
            let slot = &self.slots[s as usize];
            slot.alive && self.visible(slot, viewer) && !slot.cues.is_empty()
        };
        let mut seen: HashSet<u64> = HashSet::new();
        let mut out: Vec<Pair> = Vec::new();
        for s in 0..self.slots.len() as u32 {
            if !ok(s) {
                continue;
            }
            let q = self.side_of_slot(s);
            let pool = self.pool(&q, viewer);
            for (c, ub) in self.bounded(&q, pool) {
                if ub < CONTRADICTION_MIN {
                    break;
                }
                if c == s || !ok(c) {
                    continue;
                }
                // The pair in id order, so that the reason reads the same
                // whichever record found it.
                let (a, b) = if self.slots[s as usize].id < self.slots[c as usize].id {
                    (s, c)
                } else {
                    (c, s)
                };
                if !seen.insert((u64::from(a) << 32) | u64::from(b)) {
                    continue;
                }
                let (pa, pb) = (self.side_of_slot(a), self.side_of_slot(b));
                if let Some(v) = classify_records(self, Side(&pa), Side(&pb))
                    && v.relation == Relation::Contradicts
                {
                    out.push(Pair {
                        ids: [
                            self.slots[a as usize].id.to_string(),
                            self.slots[b as usize].id.to_string(),
                        ],
                        score: (f64::from(v.score) * 1000.0).round() / 1000.0,
                        reason: v.reason,
                    });
                }
            }
        }
        out.sort_by(|x, y| y.score.total_cmp(&x.score).then(x.ids.cmp(&y.ids)));
        out
    }

    /// Exact scores of a prepared text against every live record (the
    /// brute-force baseline the benchmark compares the candidate stage with).
    pub fn brute_force(
        &self,
        doc: &Doc<'_>,
        opts: &QueryOptions,
    ) -> Result<Vec<Match>, TextProblem> {
        let q = self.prepare(doc)?;
        let verdicts: Vec<(Verdict, u32)> = (0..self.slots.len() as u32)
            .filter(|&s| {
                let slot = &self.slots[s as usize];
                slot.alive
                    && self.visible(slot, &opts.viewer)
                    && opts.exclude.as_deref() != Some(&*slot.id)
            })
            .filter_map(|s| {
                let d = self.side_of_slot(s);
                classify(self, Side(&q), Side(&d)).map(|v| (v, s))
            })
            .collect();
        Ok(self.answer(verdicts, opts.limit))
    }

    /// The display word of a term (for reasons).
    pub(crate) fn generic(&self, t: u32) -> bool {
        GENERIC.contains(&self.words[t as usize].as_str())
    }
}

impl Words for Index {
    fn generic(&self, t: u32) -> bool {
        Index::generic(self, t)
    }

    fn word(&self, t: u32) -> &str {
        Index::word(self, t)
    }

    fn phrase_of<'a>(&'a self, p: &'a Prepared, c: &StoredCue) -> &'a str {
        Index::phrase_of(self, p, c)
    }
}
