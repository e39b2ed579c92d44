//! Text analysis for British clinical English, the same at index and query
//! time: words (keeping `A&E` and `patient's` whole), lower-cased, accents
//! and typographic quotes folded to ASCII, common English words dropped,
//! English (Porter 2 / Snowball) stemming.
//!
//! Synonyms and abbreviations are applied at query time only (see
//! [`Synonyms`]), from `synonyms.toml`, kept as data beside this crate.

use std::collections::HashMap;

use serde::Deserialize;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, Stemmer, StopWordFilter,
    TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};

/// The name the analyser is registered under in the index.
pub const CLINICAL: &str = "clinical_en";

/// The name of the analyser of the word-pair fields (see [`WordPairs`]).
pub const CLINICAL_PAIRS: &str = "clinical_en_pairs";

/// The analyser for every full-text field.
pub fn clinical_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|s| s.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The analyser of the word-pair fields: the clinical analysis, then each
/// analysed word paired with the one before it.
pub fn clinical_pairs_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(
            STOP_WORDS.iter().map(|s| s.to_string()),
        ))
        .filter(Stemmer::new(Language::English))
        .filter(WordPairs)
        .build()
}

/// The widest gap between the two words of a pair: a pair is indexed when at
/// most two common words were dropped between them ("duty of candour" is
/// `duti`, gap 2, `candour`).
pub const MAX_PAIR_GAP: usize = 3;

/// The term that stands for "`first`, then `second` `gap` positions later".
/// Analysed words never hold U+0001, so pairs cannot collide with words.
pub fn pair_term(first: &str, gap: usize, second: &str) -> String {
    format!("{first}\u{1}{gap}\u{1}{second}")
}

/// Turns a stream of analysed words into the pairs of neighbours, each with
/// the gap the dropped common words left between them. A two-word phrase
/// then matches one term with no positions to read: at a million records,
/// reading positions for every document holding both words was most of the
/// cost of a phrase or a two-word synonym ("care home").
#[derive(Clone, Copy)]
pub struct WordPairs;

impl TokenFilter for WordPairs {
    type Tokenizer<T: Tokenizer> = WordPairsTokenizer<T>;
    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordPairsTokenizer<T> {
        WordPairsTokenizer { inner: tokenizer }
    }
}

#[derive(Clone)]
pub struct WordPairsTokenizer<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for WordPairsTokenizer<T> {
    type TokenStream<'a> = WordPairsStream<T::TokenStream<'a>>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordPairsStream {
            inner: self.inner.token_stream(text),
            prev: None,
            token: Token::default(),
        }
    }
}

pub struct WordPairsStream<S> {
    inner: S,
    /// The previous word: position, start offset, text.
    prev: Option<(usize, usize, String)>,
    token: Token,
}

impl<S: TokenStream> TokenStream for WordPairsStream<S> {
    fn advance(&mut self) -> bool {
        while self.inner.advance() {
            let cur = self.inner.token();
            let prev = self
                .prev
                .replace((cur.position, cur.offset_from, cur.text.clone()));
            if let Some((position, from, text)) = prev {
                let gap = cur.position.wrapping_sub(position);
                if (1..=MAX_PAIR_GAP).contains(&gap) {
                    self.token.text = pair_term(&text, gap, &cur.text);
                    self.token.position = position;
                    self.token.offset_from = from;
                    self.token.offset_to = cur.offset_to;
                    return true;
                }
            }
        }
        false
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// Common English words that carry no subject: Lucene's English list plus
/// pronouns, auxiliaries and linking words, less "no" and "not", which
/// change a clinical sentence's meaning ("not escalated").
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "both", "but", "by", "can", "could", "did", "do", "does",
    "doing", "during", "each", "for", "from", "had", "has", "have", "having", "he", "her", "hers",
    "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "me",
    "might", "my", "of", "on", "once", "only", "or", "other", "our", "ours", "own", "same", "she",
    "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "then",
    "there", "these", "they", "this", "those", "through", "to", "too", "until", "upon", "us",
    "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
    "will", "with", "would", "you", "your",
];

/// Analyses a piece of text into its indexed terms, with positions.
pub fn analyze(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.position, t.text.clone()));
    }
    out
}

/// Splits text into words: runs of letters and digits, joined by a single
/// `&` or apostrophe (`'` or `’`) between two of them, so that "A&E" and
/// "patient's" stay one word while "and/or" and "A & E" do not.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

pub struct WordStream<'a> {
    text: &'a str,
    pos: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            pos: 0,
            token: &mut self.token,
        }
    }
}

fn joiner(c: char) -> bool {
    matches!(c, '&' | '\'' | '\u{2019}')
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        self.token.text.clear();
        let rest = &self.text[self.pos..];
        let Some(start_rel) = rest.find(char::is_alphanumeric) else {
            self.pos = self.text.len();
            return false;
        };
        let start = self.pos + start_rel;
        let mut end = start;
        let mut chars = self.text[start..].char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c.is_alphanumeric() {
                end = start + i + c.len_utf8();
            } else if joiner(c) && matches!(chars.peek(), Some((_, n)) if n.is_alphanumeric()) {
                continue;
            } else {
                break;
            }
        }
        self.pos = end;
        self.token.position = self.token.position.wrapping_add(1);
        self.token.offset_from = start;
        self.token.offset_to = end;
        self.token.text.push_str(&self.text[start..end]);
        true
    }

    fn token(&self) -> &Token {
        self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

/// The synonym list as written in `synonyms.toml`.
#[derive(Debug, Deserialize)]
struct SynonymFile {
    group: Vec<SynonymGroupSpec>,
}

#[derive(Debug, Deserialize)]
struct SynonymGroupSpec {
    terms: Vec<String>,
    source: String,
}

/// One expression of a synonym group, analysed: its terms with their
/// positions relative to the first (stop words leave gaps).
pub type Expression = Vec<(usize, String)>;

/// Groups of equivalent expressions, looked up by their analysed form.
#[derive(Debug, Clone, Default)]
pub struct Synonyms {
    groups: Vec<Vec<Expression>>,
    /// First analysed term of an expression -> (group, expression index).
    by_first: HashMap<String, Vec<(usize, usize)>>,
    longest: usize,
}

/// The list that ships with Concord.
pub const BUILT_IN_SYNONYMS: &str = include_str!("../synonyms.toml");

impl Synonyms {
    pub fn built_in() -> Self {
        Self::parse(BUILT_IN_SYNONYMS).expect("the built-in synonyms.toml reads")
    }

    /// Reads a synonym file; every group needs two or more terms and a source.
    pub fn parse(toml_text: &str) -> Result<Self, String> {
        let file: SynonymFile = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        let mut analyzer = clinical_analyzer();
        let mut syn = Synonyms::default();
        for (gi, spec) in file.group.iter().enumerate() {
            if spec.terms.len() < 2 {
                return Err(format!("group {}: needs at least two terms", gi + 1));
            }
            if spec.source.trim().is_empty() {
                return Err(format!(
                    "group {}: says nowhere where it comes from",
                    gi + 1
                ));
            }
            let mut exprs = Vec::new();
            for term in &spec.terms {
                let tokens = analyze(&mut analyzer, term);
                let Some(&(first_pos, _)) = tokens.first() else {
                    return Err(format!("group {}: {term:?} has no searchable word", gi + 1));
                };
                let expr: Expression = tokens
                    .into_iter()
                    .map(|(p, t)| (p - first_pos, t))
                    .collect();
                if !exprs.contains(&expr) {
                    exprs.push(expr);
                }
            }
            let group = syn.groups.len();
            for (ei, e) in exprs.iter().enumerate() {
                syn.longest = syn.longest.max(e.len());
                syn.by_first
                    .entry(e[0].1.clone())
                    .or_default()
                    .push((group, ei));
            }
            syn.groups.push(exprs);
        }
        Ok(syn)
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The longest expression (of any group) that starts the analysed terms
    /// `words`: (how many terms it covers, the group's expressions).
    pub fn longest_match(&self, words: &[String]) -> Option<(usize, &[Expression])> {
        let first = words.first()?;
        let mut best: Option<(usize, usize)> = None;
        for &(g, e) in self.by_first.get(first)? {
            let expr = &self.groups[g][e];
            let n = expr.len();
            if n <= words.len()
                && expr.iter().zip(words).all(|((_, t), w)| t == w)
                && best.is_none_or(|(bn, _)| n > bn)
            {
                best = Some((n, g));
            }
        }
        best.map(|(n, g)| (n, self.groups[g].as_slice()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<String> {
        analyze(&mut clinical_analyzer(), text)
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    #[test]
    fn folds_case_accents_quotes_and_stems() {
        assert_eq!(terms("Discharged DISCHARGE"), ["discharg", "discharg"]);
        assert_eq!(terms("café naïve"), ["cafe", "naiv"]);
        assert_eq!(terms("the patient’s notes"), terms("the patient's notes"));
        assert_eq!(terms("patient’s"), ["patient"]);
        assert_eq!(terms("A&E and A & E"), ["a&e", "e"]);
        assert_eq!(terms("NEWS2 score"), ["news2", "score"]);
        assert_eq!(terms("and/or"), Vec::<String>::new());
        assert_eq!(terms("was not escalated"), ["not", "escal"]);
        assert!(terms("").is_empty());
        assert!(terms("\u{0}\u{7}--''&&").is_empty());
    }

    #[test]
    fn positions_keep_gaps_for_stop_words() {
        let t = analyze(&mut clinical_analyzer(), "accident and emergency");
        assert_eq!(t, [(0, "accid".into()), (2, "emergenc".into())]);
    }

    #[test]
    fn word_pairs_join_neighbours_across_dropped_common_words_only() {
        let pairs = analyze(
            &mut clinical_pairs_analyzer(),
            "duty of candour; accident and emergency",
        );
        let texts: Vec<&str> = pairs.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                pair_term("duti", 2, "candour").as_str(),
                pair_term("candour", 1, "accid").as_str(),
                pair_term("accid", 2, "emergenc").as_str(),
            ]
        );
        // More than MAX_PAIR_GAP - 1 common words between: no pair.
        let far = analyze(&mut clinical_pairs_analyzer(), "sepsis and of the to NEWS2");
        assert!(far.is_empty(), "{far:?}");
        assert!(analyze(&mut clinical_pairs_analyzer(), "sepsis").is_empty());
    }

    #[test]
    fn built_in_synonyms_read_and_match_analysed_words() {
        let s = Synonyms::built_in();
        assert!(s.len() > 80, "{}", s.len());
        let words: Vec<String> = terms("emergency departments today");
        let (n, exprs) = s.longest_match(&words).expect("a match");
        assert_eq!(n, 2);
        assert!(exprs.iter().any(|e| e.len() == 1 && e[0].1 == "a&e"));
        let (n, exprs) = s.longest_match(&terms("hemorrhage")).unwrap();
        assert_eq!(n, 1);
        assert!(exprs.iter().any(|e| e[0].1 == terms("haemorrhage")[0]));
        assert!(s.longest_match(&terms("zebra")).is_none());
    }

    #[test]
    fn refuses_groups_without_source_or_partner() {
        assert!(Synonyms::parse("[[group]]\nterms=[\"a&e\"]\nsource=\"x\"").is_err());
        assert!(Synonyms::parse("[[group]]\nterms=[\"x\",\"y\"]\nsource=\" \"").is_err());
        assert!(Synonyms::parse("[[group]]\nterms=[\"the\",\"y\"]\nsource=\"s\"").is_err());
    }
}
