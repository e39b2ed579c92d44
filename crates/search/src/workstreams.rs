//! Search over the register of ongoing work: words, "phrases" and
//! -exclusions read exactly as for recommendations (same British clinical
//! English analysis, stemming and synonyms), with facets by lead, status,
//! theme and setting.
//!
//! The register of workstreams is small (each national body runs tens of
//! them, not millions), so this is a pure function over the workstreams the
//! caller may see, not a second tantivy index: no derived data to keep in
//! step, the same answer on SQLite and PostgreSQL, and access control
//! applied before anything is counted, so a facet never reveals a
//! workstream the caller may not see. It would need an index of its own
//! past some tens of thousands of workstreams.
//!
//! Ranking: each query word (or abbreviation with its synonyms, or phrase)
//! scores its rarity (`ln(1 + N / df)`) times the weight of each field it
//! is found in: title x3, themes x1.5, aim x1, settings and bodies (lead,
//! partners) x0.8. As for recommendations, one or two words must all match;
//! longer queries need two in five ([`crate::query::required`]); if nothing
//! matches, workstreams with any of the words are shown and `relaxed` is set.

use std::collections::{BTreeMap, HashMap, HashSet};

use concord_domain::{StoredWorkstream, WorkstreamStatus};
use serde::Serialize;
use tantivy::tokenizer::{TextAnalyzer, TokenStream};

use crate::analysis::{Expression, Synonyms, analyze, clinical_analyzer};
use crate::query::{Part, parse, required};

/// Most results on one page.
pub const MAX_LIMIT: u64 = 500;
/// Longest snippet, in characters of the aim.
const SNIPPET_CHARS: usize = 240;

/// What to look for. Empty filters are ignored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WorkstreamQuery {
    pub q: String,
    /// The lead body's code (case-insensitive).
    pub lead: Option<String>,
    /// One theme (case-insensitive exact match).
    pub theme: Option<String>,
    /// One care setting (case-insensitive exact match).
    pub setting: Option<String>,
    pub status: Option<WorkstreamStatus>,
    pub offset: u64,
    pub limit: u64,
}

/// One workstream found, with its score (0 without a query) and its aim as
/// an HTML-safe snippet: escaped, matched words in `<mark>`…`</mark>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkstreamHit {
    #[serde(flatten)]
    pub workstream: StoredWorkstream,
    pub score: f32,
    pub snippet: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkstreamResults {
    pub total: u64,
    pub items: Vec<WorkstreamHit>,
    /// lead / status / theme / setting -> value -> count, over every match.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// Set when no workstream had enough of the words and those with some
    /// of them are shown.
    pub relaxed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The fields searched, with their weights.
const FIELDS: [(&str, f32); 5] = [
    ("title", 3.0),
    ("themes", 1.5),
    ("aim", 1.0),
    ("settings", 0.8),
    ("bodies", 0.8),
];

/// A workstream's analysed fields: term -> positions, per field.
struct Analysed {
    fields: [HashMap<String, Vec<usize>>; 5],
}

fn positions(tokens: Vec<(usize, String)>) -> HashMap<String, Vec<usize>> {
    let mut m: HashMap<String, Vec<usize>> = HashMap::new();
    for (p, t) in tokens {
        m.entry(t).or_default().push(p);
    }
    m
}

fn analyse_ws(a: &mut TextAnalyzer, ws: &StoredWorkstream) -> Analysed {
    let w = &ws.workstream;
    // Lists are joined with a wide gap so that a phrase never spans two values.
    let joined = |v: &[String]| v.join(" . . . . . . . . ");
    let bodies: Vec<String> = w.bodies().map(|o| o.to_string()).collect();
    Analysed {
        fields: [
            positions(analyze(a, &w.title)),
            positions(analyze(a, &joined(&w.themes))),
            positions(analyze(a, w.aim.as_deref().unwrap_or(""))),
            positions(analyze(a, &joined(&w.settings))),
            positions(analyze(a, &bodies.join(" "))),
        ],
    }
}

/// One unit of meaning: any of these expressions (a word with its synonyms,
/// or one phrase).
#[derive(Debug, Clone)]
struct Concept(Vec<Expression>);

fn expr_in(field: &HashMap<String, Vec<usize>>, e: &Expression) -> bool {
    let Some((first_rel, first)) = e.first() else {
        return false;
    };
    let Some(starts) = field.get(first) else {
        return false;
    };
    starts.iter().any(|&s| {
        e.iter().all(|(rel, t)| {
            field
                .get(t)
                .is_some_and(|ps| ps.contains(&(s + rel - first_rel)))
        })
    })
}

impl Concept {
    fn fields_matched(&self, a: &Analysed) -> Vec<usize> {
        (0..FIELDS.len())
            .filter(|&i| self.0.iter().any(|e| expr_in(&a.fields[i], e)))
            .collect()
    }

    fn terms(&self) -> impl Iterator<Item = &String> {
        self.0.iter().flat_map(|e| e.iter().map(|(_, t)| t))
    }
}

/// Words, phrases and exclusions read into concepts, with synonyms.
fn concepts(
    a: &mut TextAnalyzer,
    syn: &Synonyms,
    q: &str,
) -> (Vec<Concept>, Vec<Concept>, Vec<String>) {
    let parsed = parse(q);
    let mut notes = parsed.notes;
    let mut wanted = Vec::new();
    let mut excluded = Vec::new();
    let mut words: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    let flush = |words: &mut Vec<(usize, String)>, wanted: &mut Vec<Concept>| {
        let terms: Vec<String> = words.iter().map(|(_, t)| t.clone()).collect();
        let mut i = 0;
        while i < terms.len() {
            match syn.longest_match(&terms[i..]) {
                Some((n, exprs)) => {
                    let typed: Expression = words[i..i + n]
                        .iter()
                        .map(|(p, t)| (p - words[i].0, t.clone()))
                        .collect();
                    let mut all = exprs.to_vec();
                    if !all.contains(&typed) {
                        all.push(typed);
                    }
                    wanted.push(Concept(all));
                    i += n;
                }
                None => {
                    wanted.push(Concept(vec![vec![(0, terms[i].clone())]]));
                    i += 1;
                }
            }
        }
        words.clear();
    };
    for part in parsed.parts {
        match part {
            Part::Word(w) => {
                for (p, t) in analyze(a, &w) {
                    words.push((offset + p, t));
                }
                offset += 100;
            }
            Part::Phrase(p) => {
                flush(&mut words, &mut wanted);
                let toks = analyze(a, &p);
                if let Some(&(first, _)) = toks.first() {
                    wanted.push(Concept(vec![
                        toks.into_iter().map(|(q, t)| (q - first, t)).collect(),
                    ]));
                }
            }
            Part::Exclude(x) => {
                let toks = analyze(a, &x);
                if let Some(&(first, _)) = toks.first() {
                    excluded.push(Concept(vec![
                        toks.into_iter().map(|(q, t)| (q - first, t)).collect(),
                    ]));
                }
            }
        }
    }
    // Words typed apart are still read as one abbreviation's expansion
    // ("emergency department") when they stand together.
    let gapless: Vec<(usize, String)> = {
        let mut v = Vec::new();
        let mut last: Option<usize> = None;
        let mut pos = 0;
        for (p, t) in words.drain(..) {
            pos = match last {
                Some(l) if p / 100 != l / 100 => pos + 1,
                Some(l) => pos + (p - l),
                None => 0,
            };
            last = Some(p);
            v.push((pos, t));
        }
        v
    };
    words = gapless;
    flush(&mut words, &mut wanted);
    if !q.trim().is_empty() && wanted.is_empty() && excluded.is_empty() {
        notes.push("the query has only common words; every workstream is shown".into());
    }
    (wanted, excluded, notes)
}

fn matches_filter(ws: &StoredWorkstream, q: &WorkstreamQuery) -> bool {
    let w = &ws.workstream;
    let eq = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    q.lead.as_deref().is_none_or(|l| eq(w.lead.as_str(), l))
        && q.status.is_none_or(|s| w.status == s)
        && q.theme
            .as_deref()
            .is_none_or(|t| w.themes.iter().any(|x| eq(x, t)))
        && q.setting
            .as_deref()
            .is_none_or(|t| w.settings.iter().any(|x| eq(x, t)))
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The aim (or, without one, the title), escaped, matched words marked, cut
/// to about [`SNIPPET_CHARS`] around the first match.
fn snippet(a: &mut TextAnalyzer, text: &str, terms: &HashSet<String>) -> String {
    let mut spans = Vec::new();
    let mut stream = a.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        if terms.contains(&t.text) {
            spans.push((t.offset_from, t.offset_to));
        }
    }
    let first = spans.first().map(|s| s.0).unwrap_or(0);
    let mut start = 0;
    if text.len() > SNIPPET_CHARS * 4 || text.chars().count() > SNIPPET_CHARS {
        // Start a little before the first match, on a char boundary.
        let mut s = first.saturating_sub(60);
        while s > 0 && !text.is_char_boundary(s) {
            s -= 1;
        }
        start = s;
    }
    let end = text[start..]
        .char_indices()
        .nth(SNIPPET_CHARS)
        .map(|(i, _)| start + i)
        .unwrap_or(text.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for &(f, t) in spans.iter().filter(|(f, t)| *f >= start && *t <= end) {
        if f < at {
            continue;
        }
        escape(&text[at..f], &mut out);
        out.push_str("<mark>");
        escape(&text[f..t], &mut out);
        out.push_str("</mark>");
        at = t;
    }
    escape(&text[at..end], &mut out);
    if end < text.len() {
        out.push('…');
    }
    out
}

fn count(facets: &mut BTreeMap<String, BTreeMap<String, u64>>, dim: &str, v: &str) {
    *facets
        .entry(dim.to_string())
        .or_default()
        .entry(v.to_string())
        .or_default() += 1;
}

/// Searches `items` (already limited to what the caller may see).
pub fn search(items: Vec<StoredWorkstream>, q: &WorkstreamQuery) -> WorkstreamResults {
    let mut a = clinical_analyzer();
    let syn = Synonyms::built_in();
    let (wanted, excluded, notes) = concepts(&mut a, &syn, &q.q);
    let items: Vec<StoredWorkstream> = items.into_iter().filter(|w| matches_filter(w, q)).collect();
    let analysed: Vec<Analysed> = items.iter().map(|w| analyse_ws(&mut a, w)).collect();
    let n = items.len().max(1) as f32;
    // Per concept: the fields each workstream matches it in.
    let hits: Vec<Vec<Vec<usize>>> = wanted
        .iter()
        .map(|c| analysed.iter().map(|an| c.fields_matched(an)).collect())
        .collect();
    let idf: Vec<f32> = hits
        .iter()
        .map(|per| {
            let df = per.iter().filter(|f| !f.is_empty()).count() as f32;
            (1.0 + n / df.max(1.0)).ln()
        })
        .collect();
    let keep_out = |i: usize| {
        excluded
            .iter()
            .any(|c| !c.fields_matched(&analysed[i]).is_empty())
    };
    let score_of = |i: usize| -> (usize, f32) {
        let mut matched = 0;
        let mut s = 0.0;
        for (ci, per) in hits.iter().enumerate() {
            if !per[i].is_empty() {
                matched += 1;
                s += per[i].iter().map(|&f| FIELDS[f].1).sum::<f32>() * idf[ci];
            }
        }
        (matched, s)
    };
    let need = required(wanted.len());
    let mut relaxed = false;
    let mut found: Vec<(usize, f32)> = (0..items.len())
        .filter(|&i| !keep_out(i))
        .filter_map(|i| {
            let (m, s) = score_of(i);
            (m >= need).then_some((i, s))
        })
        .collect();
    if found.is_empty() && need > 0 {
        found = (0..items.len())
            .filter(|&i| !keep_out(i))
            .filter_map(|i| {
                let (m, s) = score_of(i);
                (m > 0).then_some((i, s))
            })
            .collect();
        relaxed = !found.is_empty();
    }
    if wanted.is_empty() {
        // No words: newest start first, then by id.
        found.sort_by(|x, y| {
            let (a, b) = (&items[x.0].workstream, &items[y.0].workstream);
            b.start.cmp(&a.start).then_with(|| a.id.cmp(&b.id))
        });
    } else {
        found.sort_by(|x, y| {
            y.1.total_cmp(&x.1)
                .then_with(|| items[x.0].workstream.id.cmp(&items[y.0].workstream.id))
        });
    }
    let mut facets: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for dim in ["lead", "status", "theme", "setting"] {
        facets.insert(dim.to_string(), BTreeMap::new());
    }
    for &(i, _) in &found {
        let w = &items[i].workstream;
        count(&mut facets, "lead", w.lead.as_str());
        count(&mut facets, "status", w.status.as_str());
        let mut seen = HashSet::new();
        for t in &w.themes {
            if seen.insert(t.to_lowercase()) {
                count(&mut facets, "theme", &t.to_lowercase());
            }
        }
        seen.clear();
        for t in &w.settings {
            if seen.insert(t.to_lowercase()) {
                count(&mut facets, "setting", &t.to_lowercase());
            }
        }
    }
    for values in facets.values_mut() {
        if values.len() > crate::FACET_TOP {
            let mut v: Vec<(String, u64)> = std::mem::take(values).into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(crate::FACET_TOP);
            *values = v.into_iter().collect();
        }
    }
    let terms: HashSet<String> = wanted.iter().flat_map(|c| c.terms().cloned()).collect();
    let total = found.len() as u64;
    let limit = q.limit.clamp(1, MAX_LIMIT) as usize;
    let page: Vec<(usize, f32)> = found
        .into_iter()
        .skip(q.offset as usize)
        .take(limit)
        .collect();
    let mut slots: Vec<Option<StoredWorkstream>> = items.into_iter().map(Some).collect();
    let items = page
        .into_iter()
        .filter_map(|(i, s)| {
            let ws = slots[i].take()?;
            let text = ws
                .workstream
                .aim
                .clone()
                .unwrap_or_else(|| ws.workstream.title.clone());
            Some(WorkstreamHit {
                snippet: snippet(&mut a, &text, &terms),
                score: (s * 1000.0).round() / 1000.0,
                workstream: ws,
            })
        })
        .collect();
    WorkstreamResults {
        total,
        items,
        facets,
        relaxed,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use concord_domain::workstream::from_input;
    use serde_json::json;

    fn ws(id: &str, v: serde_json::Value) -> StoredWorkstream {
        let mut w = from_input(&v, None).unwrap();
        w.id = id.into();
        StoredWorkstream {
            workstream: w,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn set() -> Vec<StoredWorkstream> {
        vec![
            ws(
                "WS-HSSIB-2025-001",
                json!({"title": "Sepsis in emergency departments", "lead": "HSSIB",
                       "aim": "Why <patients> with sepsis wait for antibiotics in A&E.",
                       "themes": ["sepsis"], "settings": ["acute"], "status": "active",
                       "start": "2025-02-01"}),
            ),
            ws(
                "WS-CQC-2025-001",
                json!({"title": "Medicines reconciliation at discharge", "lead": "CQC",
                       "partners": ["HSSIB"],
                       "aim": "Errors in discharge letters about medicines.",
                       "themes": ["medication safety"], "settings": ["acute", "primary care"],
                       "status": "planned", "start": "2025-06-01"}),
            ),
            ws(
                "WS-NHSE-2024-001",
                json!({"title": "Maternity triage", "lead": "NHSE",
                       "aim": "Consistent triage of women in early labour.",
                       "themes": ["maternity"], "settings": ["maternity"], "status": "completed",
                       "start": "2024-01-01"}),
            ),
        ]
    }

    fn run(q: &str) -> WorkstreamResults {
        search(
            set(),
            &WorkstreamQuery {
                q: q.into(),
                limit: 10,
                ..Default::default()
            },
        )
    }

    fn ids(r: &WorkstreamResults) -> Vec<String> {
        r.items
            .iter()
            .map(|h| h.workstream.workstream.id.clone())
            .collect()
    }

    #[test]
    fn words_stems_and_synonyms_find_workstreams() {
        assert_eq!(ids(&run("sepsis")), ["WS-HSSIB-2025-001"]);
        assert_eq!(ids(&run("discharged")), ["WS-CQC-2025-001"]);
        // A&E <-> emergency department, from synonyms.toml.
        assert_eq!(ids(&run("emergency department")), ["WS-HSSIB-2025-001"]);
        assert_eq!(ids(&run("\"early labour\"")), ["WS-NHSE-2024-001"]);
        assert!(ids(&run("\"labour early\"")).is_empty());
        assert_eq!(ids(&run("triage -maternity")).len(), 0);
        // Bodies are searchable too (CQC leads, HSSIB is a partner).
        assert_eq!(run("hssib").total, 2);
        let r = run("sepsis zebra");
        assert!(r.relaxed);
        assert_eq!(r.total, 1);
    }

    #[test]
    fn empty_query_lists_newest_first_with_facets_and_filters() {
        let r = run("");
        assert_eq!(
            ids(&r),
            ["WS-CQC-2025-001", "WS-HSSIB-2025-001", "WS-NHSE-2024-001"]
        );
        assert_eq!(r.facets["setting"]["acute"], 2);
        assert_eq!(r.facets["lead"]["CQC"], 1);
        assert_eq!(r.facets["status"]["completed"], 1);
        assert_eq!(r.facets["theme"]["medication safety"], 1);
        let f = search(
            set(),
            &WorkstreamQuery {
                setting: Some("ACUTE".into()),
                status: Some(WorkstreamStatus::Planned),
                limit: 10,
                ..Default::default()
            },
        );
        assert_eq!(ids(&f), ["WS-CQC-2025-001"]);
        let paged = search(
            set(),
            &WorkstreamQuery {
                offset: 2,
                limit: 2,
                ..Default::default()
            },
        );
        assert_eq!(paged.total, 3);
        assert_eq!(ids(&paged), ["WS-NHSE-2024-001"]);
    }

    #[test]
    fn snippets_escape_and_mark() {
        let r = run("antibiotics");
        assert_eq!(
            r.items[0].snippet,
            "Why &lt;patients&gt; with sepsis wait for <mark>antibiotics</mark> in A&amp;E."
        );
    }
}
