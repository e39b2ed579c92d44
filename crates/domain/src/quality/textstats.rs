//! Text measures for the criteria: sentences, words, syllables, the Flesch
//! reading-ease score, dates and abbreviations. Heuristics, documented as such.

use std::sync::LazyLock;

use regex::Regex;

/// Sentences: split at `.`, `!`, `?` followed by a space or the end, and at
/// line breaks (list items count as sentences).
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut cur = String::new();
        let chars: Vec<char> = line.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            cur.push(*c);
            if matches!(c, '.' | '!' | '?')
                && chars.get(i + 1).is_none_or(|n| n.is_whitespace())
                && !short_token_before(&cur)
            {
                push_sentence(&mut out, &cur);
                cur.clear();
            }
        }
        push_sentence(&mut out, &cur);
    }
    out
}

fn short_token_before(s: &str) -> bool {
    let t = s.trim_end_matches('.');
    let last = t.rsplit(|c: char| c.is_whitespace()).next().unwrap_or("");
    matches!(
        last.to_ascii_lowercase().as_str(),
        "e.g" | "i.e" | "dr" | "mr" | "mrs" | "ms" | "no" | "etc" | "st" | "vs"
    )
}

fn push_sentence(out: &mut Vec<String>, s: &str) {
    if words(s).next().is_some() {
        out.push(s.trim().to_string());
    }
}

/// Words: runs of letters (and apostrophes, digits inside).
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .filter(|w| w.chars().any(|c| c.is_alphabetic()))
}

/// Syllables by vowel groups, with a silent final "e"; at least one.
pub fn syllables(word: &str) -> usize {
    let w: Vec<char> = word
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect();
    if w.is_empty() {
        return 1;
    }
    let vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let mut count = 0;
    let mut prev = false;
    for &c in &w {
        let v = vowel(c);
        if v && !prev {
            count += 1;
        }
        prev = v;
    }
    let n = w.len();
    if n > 2 && w[n - 1] == 'e' && !vowel(w[n - 2]) && (w[n - 2] != 'l' || vowel(w[n - 3])) {
        count -= 1;
    }
    count.max(1)
}

pub struct Readability {
    pub sentences: usize,
    pub words: usize,
    pub words_per_sentence: f64,
    /// Flesch reading ease: 206.835 - 1.015 (words/sentence) - 84.6 (syllables/word).
    /// 60-70 is plain English; below 30 is very hard to read.
    pub reading_ease: f64,
}

pub fn readability(text: &str) -> Readability {
    let ss = sentences(text);
    let ws: Vec<&str> = words(text).collect();
    let n_s = ss.len().max(1);
    let n_w = ws.len().max(1);
    let syl: usize = ws.iter().map(|w| syllables(w)).sum();
    let wps = n_w as f64 / n_s as f64;
    Readability {
        sentences: ss.len(),
        words: ws.len(),
        words_per_sentence: wps,
        reading_ease: 206.835 - 1.015 * wps - 84.6 * (syl.max(1) as f64 / n_w as f64),
    }
}

const MONTHS: &str = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec";

static DATE_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        format!(r"(?i)\b\d{{1,2}}(st|nd|rd|th)?\s+({MONTHS})\.?,?\s+\d{{4}}\b"),
        format!(r"(?i)\b(by|before|until|from|in|end of|during)\s+(the\s+end\s+of\s+)?({MONTHS})\s+\d{{4}}\b"),
        r"\b\d{4}-\d{2}-\d{2}\b".to_string(),
        r"\b\d{1,2}/\d{1,2}/\d{2,4}\b".to_string(),
        r"(?i)\bwithin\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|eighteen|a|an)\s+(working\s+)?(days?|weeks?|months?|years?)\b".to_string(),
        r"(?i)\b(by|before)\s+(the\s+)?(end\s+of\s+)?(the\s+)?(20\d\d|q[1-4]\s+20\d\d|(spring|summer|autumn|winter)\s+20\d\d|financial\s+year\s+20\d\d)".to_string(),
        r"(?i)\b(review(ed)?|report(ed)?(\s+progress)?|publish(ed)?\s+progress)\s+(annually|quarterly|each\s+year|every\s+year|every\s+(\d+|one|two|three|six|twelve)\s+(months|years))\b".to_string(),
        r"(?i)\breview(ed)?\s+(in|by|after)\s+(\w+\s+)?(20\d\d|months|years)\b".to_string(),
        r"(?i)\bwithin\s+(\d+|one|two|three|six|twelve)\s+months\s+of\b".to_string(),
    ]
    .iter()
    .map(|r| Regex::new(r).expect("valid date regex"))
    .collect()
});

/// The first deadline-like expression in the text ("by 31 March 2025",
/// "within six months", "annually"), if any.
pub fn find_time_expression(text: &str) -> Option<String> {
    DATE_RES
        .iter()
        .filter_map(|re| re.find(text))
        .min_by_key(|m| m.start())
        .map(|m| m.as_str().to_string())
}

static ABBR_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[A-Z][A-Z0-9&]*[A-Z][A-Z0-9&]*s?\b").expect("valid regex"));

/// Upper-case abbreviations ("PPH", "ReSPECT" is not one) used without being
/// spelled out: neither "Long Name (ABBR)" nor "ABBR (long name)" appears,
/// and the abbreviation is not in `known`. Words in a run of three or more
/// capitalised words are a heading in capitals, not abbreviations.
pub fn unexplained_abbreviations(text: &str, known: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let is_caps = |t: &str| {
        let letters: Vec<char> = t.chars().filter(|c| c.is_alphabetic()).collect();
        letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase())
    };
    for (i, t) in tokens.iter().enumerate() {
        // Part of a run of capitals (a shouted heading)?
        let run = |j: usize| tokens.get(j).is_some_and(|t| is_caps(t));
        let in_run = (i >= 1 && run(i - 1) && (run(i + 1) || (i >= 2 && run(i - 2))))
            || (run(i + 1) && run(i + 2));
        // Part of an identifier (HSSIB-2023-0004) or a heading in capitals.
        if in_run || (t.contains('-') && t.chars().any(|c| c.is_ascii_digit())) {
            continue;
        }
        for m in ABBR_RE.find_iter(t) {
            let a = m.as_str();
            let bare = a.strip_suffix('s').filter(|b| b.len() >= 2).unwrap_or(a);
            if known.iter().any(|k| k == a || k == bare) || out.iter().any(|o| o == bare) {
                continue;
            }
            let defined = text.contains(&format!("({bare})"))
                || text.contains(&format!("({bare}s)"))
                || text.contains(&format!("{bare} ("));
            if !defined {
                out.push(bare.to_string());
            }
        }
    }
    out
}

/// Whether `phrase` occurs in `hay` (both lower case) at word boundaries.
pub fn contains_phrase(hay: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let starts_word = phrase.starts_with(|c: char| c.is_alphanumeric());
    let ends_word = phrase.ends_with(|c: char| c.is_alphanumeric());
    let mut from = 0;
    while let Some(pos) = hay[from..].find(phrase) {
        let s = from + pos;
        let e = s + phrase.len();
        let before_ok = !starts_word
            || hay[..s]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
        let after_ok = !ends_word || hay[e..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before_ok && after_ok {
            return true;
        }
        from = s + hay[s..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// Like [`contains_phrase`], but a phrase ending in a letter may also take an
/// ending ("inequalit" matches "inequalities").
pub fn contains_stem(hay: &str, stem: &str) -> bool {
    if stem.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(pos) = hay[from..].find(stem) {
        let s = from + pos;
        if hay[..s]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric())
        {
            return true;
        }
        from = s + hay[s..].chars().next().map_or(1, char::len_utf8);
    }
    false
}

/// The forms of a verb: "ensure" also matches "ensures", "ensured",
/// "ensuring"; phrases ("set up") match as written.
pub fn verb_used(hay: &str, verb: &str) -> bool {
    if verb.contains(' ') {
        return contains_phrase(hay, verb);
    }
    let stem = verb.strip_suffix('e').unwrap_or(verb);
    let mut forms = vec![
        verb.to_string(),
        format!("{verb}s"),
        format!("{stem}ed"),
        format!("{stem}ing"),
    ];
    if let Some(s) = verb.strip_suffix('y') {
        forms.push(format!("{s}ies"));
        forms.push(format!("{s}ied"));
    }
    forms.iter().any(|f| contains_phrase(hay, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_syllables_roughly() {
        assert_eq!(syllables("cat"), 1);
        assert_eq!(syllables("table"), 2);
        assert_eq!(syllables("recommendation"), 5);
        assert_eq!(syllables("make"), 1);
    }

    #[test]
    fn splits_sentences_and_scores_readability() {
        let r = readability("The cat sat. The dog ran! Is it here?\n- a list item");
        assert_eq!(r.sentences, 4);
        assert!(r.reading_ease > 80.0, "{}", r.reading_ease);
        let hard = readability(
            "Organisational accountability arrangements necessitate comprehensive multidisciplinary implementation considerations.",
        );
        assert!(hard.reading_ease < 0.0, "{}", hard.reading_ease);
    }

    #[test]
    fn finds_deadlines() {
        for t in [
            "by 31 March 2025",
            "report by March 2026.",
            "within six months of this report",
            "by the end of 2025",
            "reviewed annually",
            "due 2025-03-31",
        ] {
            assert!(find_time_expression(t).is_some(), "{t}");
        }
        assert!(find_time_expression("as soon as possible").is_none());
        assert!(find_time_expression("in 2019 a patient died").is_none());
    }

    #[test]
    fn finds_unexplained_abbreviations() {
        let known = vec!["NHS".to_string()];
        assert_eq!(
            unexplained_abbreviations(
                "The NHS should audit PPH and VTE (venous thromboembolism) care.",
                &known
            ),
            vec!["PPH"]
        );
        assert!(
            unexplained_abbreviations("postpartum haemorrhage (PPH) care; PPH audits", &known)
                .is_empty()
        );
        assert!(unexplained_abbreviations("THE MATTERS OF CONCERN ARE", &known).is_empty());
    }

    #[test]
    fn matches_words_not_parts() {
        assert!(contains_phrase("please consider this", "consider"));
        assert!(!contains_phrase("considerable", "consider"));
        assert!(verb_used("it was ensured that", "ensure"));
        assert!(verb_used("we are auditing", "audit"));
        assert!(contains_stem("health inequalities", "inequalit"));
    }
}
