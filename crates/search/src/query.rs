//! What a user types, read into words, "quoted phrases" and -excluded words,
//! then turned into a tantivy query: every word (or abbreviation, with its
//! synonyms) must match somewhere, longer words also with one typo, titles
//! weigh more than text.

use tantivy::Term;
use tantivy::query::{
    BooleanQuery, BoostQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;

use crate::analysis::{Expression, MAX_PAIR_GAP, Synonyms, analyze, pair_term};
use crate::schema::{Fields, boosted, boosted_with_pairs};

/// Longest query text read, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most words (and phrases) a query may use; the rest are ignored, with a note.
pub const MAX_QUERY_WORDS: usize = 32;
/// Words of at least this many characters also match with one typo.
pub const FUZZY_MIN_CHARS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Word(String),
    Phrase(String),
    Exclude(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub parts: Vec<Part>,
    pub notes: Vec<String>,
}

fn is_quote(c: char) -> bool {
    matches!(
        c,
        '"' | '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{00AB}' | '\u{00BB}'
    )
}

/// Reads query text. Never fails: control characters count as spaces, an
/// unclosed quote runs to the end, a lone `-` is ignored.
pub fn parse(text: &str) -> Parsed {
    let mut notes = Vec::new();
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let chars: Vec<char> = clean.chars().collect();
    let mut parts = Vec::new();
    let mut i = 0;
    let read_phrase = |i: &mut usize, notes: &mut Vec<String>| -> String {
        // chars[*i] is the opening quote
        *i += 1;
        let start = *i;
        while *i < chars.len() && !is_quote(chars[*i]) {
            *i += 1;
        }
        let s: String = chars[start..*i].iter().collect();
        if *i >= chars.len() {
            notes.push("a quote was not closed: the phrase runs to the end of the query".into());
        } else {
            *i += 1;
        }
        s
    };
    let read_word = |i: &mut usize| -> String {
        let start = *i;
        while *i < chars.len() && !chars[*i].is_whitespace() && !is_quote(chars[*i]) {
            *i += 1;
        }
        chars[start..*i].iter().collect()
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if is_quote(c) {
            let p = read_phrase(&mut i, &mut notes);
            if !p.trim().is_empty() {
                parts.push(Part::Phrase(p));
            }
        } else if c == '-' && i + 1 < chars.len() && !chars[i + 1].is_whitespace() {
            i += 1;
            let p = if is_quote(chars[i]) {
                read_phrase(&mut i, &mut notes)
            } else {
                read_word(&mut i)
            };
            if !p.trim().is_empty() {
                parts.push(Part::Exclude(p));
            }
        } else {
            let w = read_word(&mut i);
            parts.push(Part::Word(w));
        }
    }
    if parts.len() > MAX_QUERY_WORDS {
        notes.push(format!(
            "only the first {MAX_QUERY_WORDS} words of the query were used"
        ));
        parts.truncate(MAX_QUERY_WORDS);
    }
    Parsed { parts, notes }
}

/// How many of a query's `n` words (or phrases, or abbreviations with their
/// synonyms) a record must match: all of one or two, then two in five
/// (at least two), so that a question typed as a sentence still finds the
/// records that match the heart of it; BM25 ranks those that match more of
/// it higher. (Measured on the relevance set: every word required gave
/// recall@10 0.66; two in five, 0.86.)
pub fn required(n: usize) -> usize {
    if n <= 2 {
        n
    } else {
        (n * 2).div_ceil(5).clamp(2, n)
    }
}

/// One required unit of meaning: a word, a phrase, or an abbreviation with
/// its synonyms.
#[derive(Debug, Clone)]
enum Concept {
    /// A word as typed (analysed), with typo tolerance if long enough.
    Term {
        term: String,
        fuzzy: bool,
    },
    /// Any one of these expressions.
    AnyOf {
        typed: Expression,
        exprs: Vec<Expression>,
    },
    Phrase(Expression),
}

pub struct Built {
    /// Every word required.
    pub strict: Box<dyn Query>,
    /// At least one word (used when nothing has every word); None if the
    /// query has at most one concept.
    pub relaxed: Option<Box<dyn Query>>,
    /// No positive word at all (empty, or only excluded or common words).
    pub no_words: bool,
    /// Only exclusions: match everything else.
    pub excludes: Vec<Box<dyn Query>>,
    /// Adds to the score of records where adjacent query words stand close
    /// together.
    pub proximity: Option<Box<dyn Query>>,
    /// Every word the query looks for, as terms of the text field: what the
    /// snippets highlight (phrases are matched through the word-pair
    /// fields, whose terms are not words of the text).
    pub highlight: Box<dyn Query>,
}

pub struct QueryBuilder<'a> {
    pub fields: &'a Fields,
    pub synonyms: &'a Synonyms,
    pub analyzer: TextAnalyzer,
    /// How many records hold an analysed term in their title or text: typo
    /// tolerance applies only to words found in fewer than
    /// [`FUZZY_MAX_DOC_FREQ`] records (a typo is rarely a common word), which
    /// also spares common words the cost of a fuzzy expansion.
    pub doc_freq: &'a dyn Fn(&str) -> u64,
}

/// See [`QueryBuilder::doc_freq`].
pub const FUZZY_MAX_DOC_FREQ: u64 = 3;

impl QueryBuilder<'_> {
    pub fn build(&mut self, parsed: &Parsed) -> Built {
        let mut concepts = Vec::new();
        let mut excludes: Vec<Box<dyn Query>> = Vec::new();
        let mut run: Vec<(String, usize)> = Vec::new(); // analysed terms of consecutive words, with typed length
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut flush =
            |run: &mut Vec<(String, usize)>, concepts: &mut Vec<Concept>, syn: &Synonyms| {
                let words: Vec<String> = run.iter().map(|(t, _)| t.clone()).collect();
                for w in words.windows(2) {
                    pairs.push((w[0].clone(), w[1].clone()));
                }
                let mut i = 0;
                while i < words.len() {
                    if let Some((n, exprs)) = syn.longest_match(&words[i..]) {
                        let typed: Expression = words[i..i + n]
                            .iter()
                            .enumerate()
                            .map(|(k, t)| (k, t.clone()))
                            .collect();
                        concepts.push(Concept::AnyOf {
                            typed,
                            exprs: exprs.to_vec(),
                        });
                        i += n;
                    } else {
                        let (t, typed_len) = &run[i];
                        concepts.push(Concept::Term {
                            term: t.clone(),
                            fuzzy: *typed_len >= FUZZY_MIN_CHARS
                                && !t.chars().all(|c| c.is_ascii_digit()),
                        });
                        i += 1;
                    }
                }
                run.clear();
            };
        for part in &parsed.parts {
            match part {
                Part::Word(w) => {
                    for (_, t) in analyze(&mut self.analyzer, w) {
                        run.push((t, w.chars().count()));
                    }
                }
                Part::Phrase(p) => {
                    flush(&mut run, &mut concepts, self.synonyms);
                    let expr = relative(analyze(&mut self.analyzer, p));
                    match expr.len() {
                        0 => {}
                        1 => concepts.push(Concept::Term {
                            term: expr[0].1.clone(),
                            fuzzy: false,
                        }),
                        _ => concepts.push(Concept::Phrase(expr)),
                    }
                }
                Part::Exclude(p) => {
                    flush(&mut run, &mut concepts, self.synonyms);
                    let expr = relative(analyze(&mut self.analyzer, p));
                    if !expr.is_empty() {
                        excludes.push(self.expression(&expr, false, 1.0));
                    }
                }
            }
        }
        flush(&mut run, &mut concepts, self.synonyms);

        let mut words: Vec<&str> = Vec::new();
        for c in &concepts {
            let exprs: Vec<&Expression> = match c {
                Concept::Term { term, .. } => {
                    words.push(term);
                    continue;
                }
                Concept::Phrase(e) => vec![e],
                Concept::AnyOf { typed, exprs } => std::iter::once(typed).chain(exprs).collect(),
            };
            words.extend(exprs.into_iter().flatten().map(|(_, t)| t.as_str()));
        }
        words.sort_unstable();
        words.dedup();
        let highlight: Box<dyn Query> = Box::new(BooleanQuery::new(
            words
                .into_iter()
                .map(|t| {
                    let term = Term::from_field_text(self.fields.text, t);
                    let q: Box<dyn Query> =
                        Box::new(TermQuery::new(term, IndexRecordOption::Basic));
                    (Occur::Should, q)
                })
                .collect(),
        ));
        let clauses: Vec<Box<dyn Query>> = concepts.iter().map(|c| self.concept(c)).collect();
        let no_words = clauses.is_empty();
        let n = clauses.len();
        let strict: Box<dyn Query> = if no_words {
            Box::new(EmptyQuery)
        } else if required(n) >= n {
            Box::new(BooleanQuery::new(
                clauses
                    .iter()
                    .map(|q| (Occur::Must, q.box_clone()))
                    .collect(),
            ))
        } else {
            Box::new(BooleanQuery::with_minimum_required_clauses(
                clauses
                    .iter()
                    .map(|q| (Occur::Should, q.box_clone()))
                    .collect(),
                required(n),
            ))
        };
        let relaxed: Option<Box<dyn Query>> = (clauses.len() > 1).then(|| {
            Box::new(BooleanQuery::new(
                clauses.into_iter().map(|q| (Occur::Should, q)).collect(),
            )) as Box<dyn Query>
        });
        // Words typed next to each other score more where they stand
        // together (or a word or two apart) in a title or text: a nudge, not
        // a rule (at full strength, title 1.5 and text 1.0, it outweighed
        // BM25: held-out dev MRR 0.869 overall and 0.903 on plain queries,
        // against 0.887 and 0.932 at this strength).
        let mut near: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (a, b) in pairs.iter().take(MAX_QUERY_WORDS) {
            if a == b {
                continue;
            }
            for (field, boost) in [(self.fields.title, 0.15), (self.fields.text, 0.3)] {
                let mut p = PhraseQuery::new(vec![
                    Term::from_field_text(field, a),
                    Term::from_field_text(field, b),
                ]);
                p.set_slop(2);
                near.push((Occur::Should, Box::new(BoostQuery::new(Box::new(p), boost))));
            }
        }
        let proximity: Option<Box<dyn Query>> =
            (!near.is_empty()).then(|| Box::new(BooleanQuery::new(near)) as Box<dyn Query>);
        Built {
            strict,
            relaxed,
            no_words,
            excludes,
            proximity,
            highlight,
        }
    }

    fn concept(&self, c: &Concept) -> Box<dyn Query> {
        match c {
            Concept::Term { term, fuzzy } => self.term(term, *fuzzy, 1.0),
            Concept::Phrase(expr) => self.expression(expr, false, 1.0),
            Concept::AnyOf { typed, exprs } => {
                let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for e in exprs {
                    // What the user typed counts fully; its equivalents a little less.
                    let (weight, fuzzy) = if e == typed {
                        (
                            1.0,
                            e.len() == 1 && e[0].1.chars().count() >= FUZZY_MIN_CHARS - 1,
                        )
                    } else {
                        (0.8, false)
                    };
                    alts.push((Occur::Should, self.expression(e, fuzzy, weight)));
                }
                if !exprs.contains(typed) {
                    alts.push((Occur::Should, self.expression(typed, false, 1.0)));
                }
                Box::new(BooleanQuery::new(alts))
            }
        }
    }

    /// A term in every full-text field, with its field's boost.
    fn term(&self, t: &str, fuzzy: bool, weight: f32) -> Box<dyn Query> {
        let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, boost) in boosted(self.fields) {
            let term = Term::from_field_text(field, t);
            alts.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                    boost * weight,
                )),
            ));
        }
        if fuzzy && (self.doc_freq)(t) < FUZZY_MAX_DOC_FREQ {
            for field in [self.fields.title, self.fields.text] {
                let term = Term::from_field_text(field, t);
                // Constant-score: a typo match adds a little, never outranks the word itself.
                alts.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(FuzzyTermQuery::new(term, 1, true)),
                        0.5 * weight,
                    )),
                ));
            }
        }
        Box::new(BooleanQuery::new(alts))
    }

    fn expression(&self, e: &Expression, fuzzy: bool, weight: f32) -> Box<dyn Query> {
        if e.len() == 1 {
            return self.term(&e[0].1, fuzzy, weight);
        }
        // Two words are one term of the word-pair fields (see
        // `analysis::WordPairs`): the same matches as the phrase, without
        // reading positions. Longer phrases keep the positional query.
        let pair = match e.as_slice() {
            [(0, a), (gap, b)] if (1..=MAX_PAIR_GAP).contains(gap) => Some(pair_term(a, *gap, b)),
            _ => None,
        };
        let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (field, pairs, boost) in boosted_with_pairs(self.fields) {
            let q: Box<dyn Query> = match &pair {
                Some(p) => Box::new(TermQuery::new(
                    Term::from_field_text(pairs, p),
                    IndexRecordOption::WithFreqs,
                )),
                None => Box::new(phrase(field, e)),
            };
            alts.push((Occur::Should, Box::new(BoostQuery::new(q, boost * weight))));
        }
        Box::new(BooleanQuery::new(alts))
    }
}

fn phrase(field: Field, e: &Expression) -> PhraseQuery {
    PhraseQuery::new_with_offset(
        e.iter()
            .map(|(p, t)| (*p, Term::from_field_text(field, t)))
            .collect(),
    )
}

fn relative(tokens: Vec<(usize, String)>) -> Expression {
    let first = tokens.first().map(|(p, _)| *p).unwrap_or(0);
    tokens.into_iter().map(|(p, t)| (p - first, t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(q: &str) -> Vec<Part> {
        parse(q).parts
    }

    #[test]
    fn reads_words_phrases_and_exclusions() {
        use Part::*;
        assert_eq!(
            parts("sepsis \"within an hour\" -paediatric -\"care home\""),
            vec![
                Word("sepsis".into()),
                Phrase("within an hour".into()),
                Exclude("paediatric".into()),
                Exclude("care home".into())
            ]
        );
        assert_eq!(
            parts("“typographic quotes”"),
            vec![Phrase("typographic quotes".into())]
        );
        assert_eq!(
            parts("self-harm - x"),
            vec![Word("self-harm".into()), Word("-".into()), Word("x".into())]
        );
    }

    #[test]
    fn odd_input_is_read_without_failing() {
        let p = parse("\"unbalanced quote");
        assert_eq!(p.parts, vec![Part::Phrase("unbalanced quote".into())]);
        assert_eq!(p.notes.len(), 1);
        assert_eq!(
            parts("a\u{0}b\u{7}c\td"),
            vec![
                Part::Word("a".into()),
                Part::Word("b".into()),
                Part::Word("c".into()),
                Part::Word("d".into())
            ]
        );
        assert!(parts("").is_empty());
        assert!(parts("   \"\"  ").is_empty());
        let long = "word ".repeat(100);
        let p = parse(&long);
        assert_eq!(p.parts.len(), MAX_QUERY_WORDS);
        assert!(!p.notes.is_empty());
    }
}
