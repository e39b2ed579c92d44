//! Normalisation and tokenisation for British clinical English.
//!
//! The text is folded to lower case, typographic quotes and dashes are
//! folded, British and American spellings meet ("haemorrhage" /
//! "hemorrhage", "organisation" / "organization", "behaviour" /
//! "behavior"), common clinical synonyms and abbreviations are mapped to one
//! form ("A&E", "emergency department" -> "ed"; "hrs" -> "hour";
//! "antimicrobial" -> "antibiotic"), number words become digits ("one hour"
//! -> "1 hour") and a light suffix stemmer joins word forms ("screening",
//! "screened", "screens" -> "screen"). The boilerplate every Prevention of
//! Future Deaths report carries is removed first, so that two reports are
//! not "similar" because both are reports.

/// One word of the analysed stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Tok {
    /// The folded word (before stemming), for cue detection and reasons.
    pub word: String,
    /// The stem used as a term.
    pub stem: String,
    /// A function word: not a term, but still read by cue detection.
    pub stop: bool,
    /// Index of the sentence the word belongs to.
    pub sentence: u32,
    /// Index of the clause (split at commas, semicolons, "but", "unless"...).
    pub clause: u32,
    /// Read into the text, not written in it (the modal of "recommends
    /// that"): cue detection reads it, reasons do not quote it.
    pub implied: bool,
}

/// Phrases every PFD report carries whatever its subject, as folded words
/// (punctuation between them is ignored).
const BOILERPLATE: &[&str] = &[
    "during the course of the inquest the evidence revealed matters giving rise to concern",
    "during the course of the investigation my inquiries revealed matters giving rise to concern",
    "during the course of the investigation my enquiries revealed matters giving rise to concern",
    "in my opinion there is a risk that future deaths could occur unless action is taken",
    "in my opinion there is a risk that future deaths will occur unless action is taken",
    "in the circumstances it is my statutory duty to report to you",
    "brief summary of matters of concern",
    "the matters of concern are as follows",
    "matters of concern",
];

/// Multi-word and abbreviation synonyms, applied to the folded word stream
/// before stemming. Longest first within each starting word.
const PHRASES: &[(&[&str], &str)] = &[
    (&["accident", "and", "emergency"], "ed"),
    (&["emergency", "department"], "ed"),
    (&["emergency", "departments"], "ed"),
    (&["emergency", "room"], "ed"),
    (&["a", "and", "e"], "ed"),
    (&["general", "practitioner"], "gp"),
    (&["general", "practitioners"], "gp"),
    (&["family", "doctor"], "gp"),
    (&["gp", "practice"], "gp"),
    (&["ct", "scan"], "ct"),
    (&["ct", "scans"], "ct"),
    (&["computed", "tomography"], "ct"),
    (&["x", "ray"], "xray"),
    (&["x", "rays"], "xray"),
    (&["chest", "radiograph"], "xray"),
    (&["ng", "tube"], "nasogastric tube"),
    (&["ng", "tubes"], "nasogastric tube"),
    (&["face", "to", "face"], "inperson"),
    (&["in", "person"], "inperson"),
    (&["half", "an", "hour"], "30 minutes"),
    // Spans in words (session 20): "within one working day", "up to a
    // fortnight", "within a week".
    (&["working", "day"], "day"),
    (&["working", "days"], "days"),
    (&["a", "fortnight"], "14 days"),
    (&["fortnight"], "14 days"),
    (&["fortnightly"], "every 14 days"),
    (&["within", "an", "hour"], "within 1 hour"),
    (&["within", "a", "day"], "within 1 day"),
    (&["within", "a", "week"], "within 1 week"),
    (&["within", "a", "month"], "within 1 month"),
    (&["within", "a", "year"], "within 1 year"),
    (&["half", "hourly"], "every 30 minutes"),
    (&["round", "the", "clock"], "24 hours"),
    (&["around", "the", "clock"], "24 hours"),
    (&["every", "year"], "annually"),
    (&["each", "year"], "annually"),
    (&["once", "a", "year"], "annually"),
    (&["not", "routinely"], "notroutinely"),
    (&["heart", "attack"], "myocardial infarction"),
    (&["learning", "disabilities"], "learning disability"),
];

const WORD_SYNONYMS: &[(&str, &str)] = &[
    ("a&e", "ed"),
    ("hrs", "hours"),
    ("hr", "hour"),
    ("mins", "minutes"),
    ("min", "minute"),
    ("xray", "xray"),
    ("radiograph", "xray"),
    ("antimicrobial", "antibiotic"),
    ("antimicrobials", "antibiotics"),
    ("overnight", "night"),
    ("nighttime", "night"),
    ("ambulances", "ambulance"),
    ("paramedics", "crew"),
    ("paramedic", "crew"),
    ("crews", "crew"),
    ("yearly", "annually"),
    ("annual", "annually"),
    ("mandated", "mandatory"),
    ("compulsory", "mandatory"),
    ("obligatory", "mandatory"),
    ("voluntary", "optional"),
    ("discretionary", "optional"),
    ("telephone", "remote"),
    ("phone", "remote"),
    ("phoned", "remote"),
    ("phoning", "remote"),
    ("telephoned", "remote"),
    ("telephoning", "remote"),
    ("virtual", "remote"),
    ("video", "remote"),
    ("online", "remote"),
    ("remotely", "remote"),
    ("decrease", "reduce"),
    ("lower", "reduce"),
    ("cut", "reduce"),
    ("raise", "increase"),
    ("commence", "start"),
    ("begin", "start"),
    ("initiate", "start"),
    ("cease", "stop"),
    ("discontinue", "stop"),
    ("nhse", "nhs england"),
];

const NUMBER_WORDS: &[(&str, &str)] = &[
    ("one", "1"),
    ("two", "2"),
    ("three", "3"),
    ("four", "4"),
    ("five", "5"),
    ("six", "6"),
    ("seven", "7"),
    ("eight", "8"),
    ("nine", "9"),
    ("ten", "10"),
    ("eleven", "11"),
    ("twelve", "12"),
    ("fifteen", "15"),
    ("twenty", "20"),
    ("thirty", "30"),
    ("forty", "40"),
    ("fifty", "50"),
    ("sixty", "60"),
    ("ninety", "90"),
    ("hundred", "100"),
    ("single", "1"),
    ("once", "1"),
    ("twice", "2"),
];

/// Function words: never terms. Modal and negation words are here too (cue
/// detection reads them from the stream, not from the terms).
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "either",
    "else",
    "ensure",
    "ensuring",
    "etc",
    "ever",
    "every",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "him",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "need",
    "needs",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "you",
    "your",
    "yours",
    "including",
    "include",
    "includes",
    "make",
    "made",
    "sure",
    "take",
    "taken",
    "takes",
    "used",
    "use",
    "using",
    "given",
    "give",
    "gives",
    "giving",
    "been",
    "per",
    "via",
    "whilst",
    "within",
    "across",
    "among",
    "amongst",
    "around",
    "already",
    "still",
    "well",
    "like",
    "many",
    "several",
    "recommend",
    "recommends",
    "recommended",
    "recommendation",
    "recommendations",
    "concern",
    "concerned",
    "concerns",
    "inquest",
    "coroner",
    "deceased",
    "heard",
    "evidence",
    "told",
    "found",
    "noted",
    "therefore",
    "whether",
    "there",
    "where",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "trust",
    "trusts",
    "organisation",
    "organisations",
    "provider",
    "providers",
    "nhs",
    "appropriate",
    "appropriately",
    "relevant",
    "consider",
    "considers",
    "considered",
    "action",
    "actions",
    "taken",
    "place",
    "put",
    "way",
    "ways",
    "number",
    "time",
    "times",
    "new",
    "able",
];

fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// Why a text cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextProblem {
    Empty,
    TooLong { bytes: usize, limit: usize },
    NotLatin,
    NoWords,
}

impl std::fmt::Display for TextProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextProblem::Empty => f.write_str("the text is empty: give the recommendation's wording to compare"),
            TextProblem::TooLong { bytes, limit } => write!(
                f,
                "the text is {bytes} bytes, longer than the limit of {limit} bytes: compare one recommendation at a time"
            ),
            TextProblem::NotLatin => f.write_str(
                "the text is not written in the Latin alphabet: the similarity engine reads English recommendations only",
            ),
            TextProblem::NoWords => f.write_str(
                "the text has no words to compare (only numbers, punctuation or function words)",
            ),
        }
    }
}

impl std::error::Error for TextProblem {}

/// The longest text the engine reads (the register's own field limit, 1 MiB).
pub const MAX_TEXT_BYTES: usize = 1 << 20;

/// Checks that a text can be compared at all.
pub fn check_text(text: &str) -> Result<(), TextProblem> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(TextProblem::TooLong {
            bytes: text.len(),
            limit: MAX_TEXT_BYTES,
        });
    }
    if text.trim().is_empty() {
        return Err(TextProblem::Empty);
    }
    let mut latin = 0usize;
    let mut other = 0usize;
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        if c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c) {
            latin += 1;
        } else {
            other += 1;
        }
    }
    if latin == 0 && other == 0 {
        return Err(TextProblem::NoWords);
    }
    if other > latin {
        return Err(TextProblem::NotLatin);
    }
    Ok(())
}

/// Folds one character: lower case, quotes and dashes folded, accents on
/// Latin letters dropped where simple.
fn fold_char(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{2032}' => '\'',
        '\u{201C}' | '\u{201D}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        'à' | 'á' | 'â' | 'ä' | 'À' | 'Á' | 'Â' | 'Ä' => 'a',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ï' | 'î' | 'í' => 'i',
        'ö' | 'ô' | 'ó' => 'o',
        'ü' | 'û' | 'ú' => 'u',
        c => c.to_lowercase().next().unwrap_or(c),
    }
}

/// British/American spelling fold on one word.
fn spelling(w: &str) -> String {
    let mut s = w.replace("ae", "e");
    if s.starts_with("oes") {
        s = s.replacen("oes", "es", 1);
    }
    if s.contains("iz") {
        s = s.replace("iz", "is");
    }
    if s.contains("yz") {
        s = s.replace("yz", "ys");
    }
    if s.len() > 5 && s.ends_with("our") {
        s.truncate(s.len() - 2);
        s.push('r');
    }
    s
}

/// A light suffix stemmer (joins plurals and common verb forms).
pub fn stem(w: &str) -> String {
    if w.len() <= 3 || w.bytes().all(|b| b.is_ascii_digit()) {
        return w.to_string();
    }
    let mut s = w.to_string();
    for (suf, rep) in [
        ("ational", "ate"),
        ("ations", "ate"),
        ("ation", "ate"),
        ("ies", "y"),
        ("sses", "ss"),
    ] {
        if s.len() > suf.len() + 2 && s.ends_with(suf) {
            s.truncate(s.len() - suf.len());
            s.push_str(rep);
            break;
        }
    }
    if s.len() > 4
        && s.ends_with('s')
        && !s.ends_with("ss")
        && !s.ends_with("us")
        && !s.ends_with("is")
    {
        s.pop();
    }
    for suf in ["ingly", "edly", "ing", "ed", "ly", "ment"] {
        if s.len() > suf.len() + 3 && s.ends_with(suf) {
            s.truncate(s.len() - suf.len());
            break;
        }
    }
    // "stopp" / "stop", "referr" / "refer": undouble a final consonant.
    let b = s.as_bytes();
    if b.len() > 3
        && b[b.len() - 1] == b[b.len() - 2]
        && !matches!(b[b.len() - 1], b'l' | b's' | b'z' | b'e')
    {
        s.pop();
    }
    if s.len() > 4 && s.ends_with('e') {
        s.pop();
    }
    s
}

/// Removes the PFD boilerplate (case-insensitively), returning the folded text.
fn fold_and_strip(text: &str) -> String {
    let mut folded: String = text.chars().map(fold_char).collect();
    folded = folded.replace("a&e", " a&e ");
    // Collapse spacing so boilerplate phrases match across line breaks.
    let mut collapsed = String::with_capacity(folded.len());
    let mut last_space = false;
    for c in folded.chars() {
        if c == '\n' || c == '\r' {
            // Keep line breaks as sentence ends.
            collapsed.push_str(" . ");
            last_space = true;
        } else if c.is_whitespace() {
            if !last_space {
                collapsed.push(' ');
            }
            last_space = true;
        } else {
            collapsed.push(c);
            last_space = false;
        }
    }
    collapsed
}

fn strip_boilerplate(raw: Vec<(String, u32, u32)>) -> Vec<(String, u32, u32)> {
    let phrases: Vec<Vec<&str>> = BOILERPLATE.iter().map(|p| p.split(' ').collect()).collect();
    let mut out = Vec::with_capacity(raw.len());
    let mut j = 0;
    'outer: while j < raw.len() {
        if matches!(
            raw[j].0.as_str(),
            "during" | "in" | "brief" | "the" | "matters"
        ) {
            for p in &phrases {
                if j + p.len() <= raw.len() && p.iter().enumerate().all(|(k, w)| raw[j + k].0 == *w)
                {
                    j += p.len();
                    continue 'outer;
                }
            }
        }
        out.push(raw[j].clone());
        j += 1;
    }
    strip_preamble(out)
}

/// Words that mark a sentence of the coroners' Regulation 28 preamble in any
/// of its many variants ("during the course of the investigation and
/// inquest...", "...future deaths may occur...", "the following matter
/// giving rise to concern", "the MATTER OF CONCERN is as follows").
const PREAMBLE_MARKS: &[&[&str]] = &[
    &["giving", "rise", "to", "concern"],
    &["future", "deaths"],
    &["statutory", "duty"],
    &["matters", "of", "concern"],
    &["matter", "of", "concern"],
    &["causative", "of", "the", "death"],
    &["concerns", "are", "as", "follows"],
    &["concern", "is", "as", "follows"],
];

/// Drops the leading sentences that carry a preamble mark: what remains is
/// the concern itself (nothing, for a concern that is only the preamble).
fn strip_preamble(raw: Vec<(String, u32, u32)>) -> Vec<(String, u32, u32)> {
    let mut start = 0;
    while start < raw.len() {
        let s = raw[start].1;
        let end = raw[start..]
            .iter()
            .position(|w| w.1 != s)
            .map_or(raw.len(), |p| start + p);
        let words: Vec<&str> = raw[start..end].iter().map(|w| w.0.as_str()).collect();
        let marked = PREAMBLE_MARKS
            .iter()
            .any(|m| words.windows(m.len()).any(|w| w == *m));
        if !marked {
            break;
        }
        start = end;
    }
    if start == 0 {
        raw
    } else {
        raw[start..].to_vec()
    }
}

/// Splits a text into analysed words (call [`check_text`] first; this never
/// fails, and an unreadable text just yields no words).
pub fn tokenise(text: &str) -> Vec<Tok> {
    let folded = fold_and_strip(text);
    // Raw words with sentence and clause numbers.
    let mut raw: Vec<(String, u32, u32)> = Vec::new();
    let mut sentence = 0u32;
    let mut clause = 0u32;
    let mut cur = String::new();
    let chars: Vec<char> = folded.chars().collect();
    let mut i = 0;
    let flush = |cur: &mut String, raw: &mut Vec<(String, u32, u32)>, s: u32, c: u32| {
        if !cur.is_empty() {
            raw.push((std::mem::take(cur), s, c));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '&' {
            cur.push(c);
        } else if c == '\'' {
            // "patient's" -> "patient"; "don't" -> "do not".
            if cur == "don"
                || cur == "doesn"
                || cur == "didn"
                || cur == "shouldn"
                || cur == "mustn"
                || cur == "can"
                || cur == "won"
            {
                let base = match cur.as_str() {
                    "don" | "doesn" | "didn" => cur.trim_end_matches('n').to_string(),
                    "won" => "will".to_string(),
                    "can" => "can".to_string(),
                    other => other.trim_end_matches('n').to_string(),
                };
                cur = base;
                flush(&mut cur, &mut raw, sentence, clause);
                raw.push(("not".into(), sentence, clause));
                // skip the "t"
                if i + 1 < chars.len() && chars[i + 1] == 't' {
                    i += 1;
                }
            } else {
                flush(&mut cur, &mut raw, sentence, clause);
                // skip a possessive "s"
                if i + 1 < chars.len()
                    && chars[i + 1] == 's'
                    && (i + 2 >= chars.len() || !chars[i + 2].is_alphanumeric())
                {
                    i += 1;
                }
            }
        } else if c == '%' {
            flush(&mut cur, &mut raw, sentence, clause);
            raw.push(("percent".into(), sentence, clause));
        } else if c == '.'
            && !cur.is_empty()
            && cur.chars().all(|c| c.is_ascii_digit())
            && i + 1 < chars.len()
            && chars[i + 1].is_ascii_digit()
        {
            // a decimal number: keep "1.5" as one word
            cur.push('.');
        } else {
            flush(&mut cur, &mut raw, sentence, clause);
            match c {
                '.' | '!' | '?' | ';' | ':' => {
                    sentence += 1;
                    clause += 1;
                }
                ',' | '(' | ')' => clause += 1,
                _ => {}
            }
        }
        i += 1;
    }
    flush(&mut cur, &mut raw, sentence, clause);
    let raw = strip_boilerplate(raw);

    // Phrases, number words, word synonyms.
    // (word, sentence, clause, implied)
    let mut words: Vec<(String, u32, u32, bool)> = Vec::with_capacity(raw.len());
    let mut j = 0;
    'outer: while j < raw.len() {
        // "HSSIB recommends that NHS England reviews X", "it is recommended
        // that trusts adopt X": an ask without a modal, the way safety
        // bodies write (session 20: such a record asked nothing, so a draft
        // forbidding X was its duplicate). Read as "... that [should] ...",
        // the modal implied; not where a "not" follows, which this cannot
        // place.
        if matches!(
            raw[j].0.as_str(),
            "recommends" | "recommend" | "recommended"
        ) && raw
            .get(j + 1)
            .is_some_and(|t| t.0 == "that" && t.1 == raw[j].1)
            && !raw[j + 2..]
                .iter()
                .take(8)
                .take_while(|t| t.1 == raw[j].1)
                .any(|t| matches!(t.0.as_str(), "not" | "never" | "no"))
        {
            let (s, c) = (raw[j].1, raw[j + 1].2);
            words.push((raw[j].0.clone(), s, c, false));
            words.push(("that".to_string(), s, c, false));
            words.push(("should".to_string(), s, c, true));
            j += 2;
            continue;
        }
        for (phrase, rep) in PHRASES {
            if j + phrase.len() <= raw.len()
                && phrase.iter().enumerate().all(|(k, p)| raw[j + k].0 == *p)
                && raw[j + phrase.len() - 1].1 == raw[j].1
            {
                for r in rep.split(' ') {
                    words.push((r.to_string(), raw[j].1, raw[j].2, false));
                }
                j += phrase.len();
                continue 'outer;
            }
        }
        let (w, s, c) = &raw[j];
        let mut w = w.clone();
        // "24-hour", "4-hourly", "over-75s" arrive as separate words already;
        // "75s" -> "75", "1st" stays.
        if w.len() > 1 && w.ends_with('s') && w[..w.len() - 1].bytes().all(|b| b.is_ascii_digit()) {
            w.pop();
        }
        if let Some((_, d)) = NUMBER_WORDS.iter().find(|(n, _)| *n == w) {
            w = d.to_string();
        }
        if let Some((_, r)) = WORD_SYNONYMS.iter().find(|(a, _)| *a == w) {
            for part in r.split(' ') {
                words.push((part.to_string(), *s, *c, false));
            }
            j += 1;
            continue;
        }
        // Clause breaks at contrastive words.
        words.push((w, *s, *c, false));
        j += 1;
    }

    let mut out = Vec::with_capacity(words.len());
    let mut clause_shift = 0u32;
    for (w, s, c, implied) in words {
        if matches!(
            w.as_str(),
            "but" | "unless" | "instead" | "rather" | "whereas" | "although"
        ) {
            clause_shift += 1;
        }
        let spelled = spelling(&w);
        let stop = is_stopword(&w)
            || is_stopword(&spelled)
            || (w.len() < 2 && !w.bytes().all(|b| b.is_ascii_digit()));
        let st = stem(&spelled);
        out.push(Tok {
            word: w,
            stem: st,
            stop,
            sentence: s,
            clause: c + clause_shift,
            implied,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(t: &str) -> Vec<String> {
        tokenise(t)
            .into_iter()
            .filter(|t| !t.stop)
            .map(|t| t.stem)
            .collect()
    }

    #[test]
    fn british_and_american_spellings_meet() {
        assert_eq!(
            stems("haemorrhage organisation behaviour"),
            stems("hemorrhage organization behavior")
        );
        assert_eq!(
            stems("paediatric anaesthetist"),
            stems("pediatric anesthetist")
        );
    }

    #[test]
    fn synonyms_and_numbers() {
        assert_eq!(
            stems("A&E within one hour"),
            stems("emergency department within 1 hr")
        );
        assert_eq!(
            stems("screening screened screens"),
            vec!["screen", "screen", "screen"]
        );
        assert_eq!(
            stems("stopping stopped stops"),
            vec!["stop", "stop", "stop"]
        );
    }

    #[test]
    fn preamble_variants_leave_nothing_but_the_concern() {
        let only = "During the course of the investigation and inquest the evidence revealed the \
            following matter giving rise to concern. In my opinion there is a risk that future \
            deaths may occur unless action is taken. In the circumstances it is my statutory duty \
            to report to you. The MATTER OF CONCERN is as follows.";
        assert!(tokenise(only).is_empty(), "{:?}", tokenise(only));
        let with = format!("{only} Bed rails were used routinely.");
        let words: Vec<String> = tokenise(&with).into_iter().map(|t| t.word).collect();
        assert_eq!(words.first().map(String::as_str), Some("bed"), "{words:?}");
        // A concern that merely mentions future deaths later keeps its words.
        let later = "Staff were not trained. Without training future deaths will occur.";
        assert!(tokenise(later).iter().any(|t| t.word == "future"));
    }

    #[test]
    fn boilerplate_is_removed() {
        let t = "During the course of the inquest the evidence revealed matters giving rise to concern. In my opinion there is a risk that future deaths will occur unless action is taken. The MATTERS OF CONCERN are as follows.";
        assert!(stems(t).is_empty());
    }

    #[test]
    fn problems_are_named() {
        assert_eq!(check_text("   "), Err(TextProblem::Empty));
        assert_eq!(check_text("12 345 2024"), Err(TextProblem::NoWords));
        assert_eq!(
            check_text("患者は一時間以内に抗生物質を投与されるべきである"),
            Err(TextProblem::NotLatin)
        );
        assert!(check_text("Give antibiotics within one hour.").is_ok());
        let big = "a ".repeat(MAX_TEXT_BYTES);
        assert!(matches!(check_text(&big), Err(TextProblem::TooLong { .. })));
    }

    #[test]
    fn contractions_become_negations() {
        let w: Vec<String> = tokenise("Don't give oxygen")
            .into_iter()
            .map(|t| t.word)
            .collect();
        assert_eq!(w, vec!["do", "not", "give", "oxygen"]);
    }
}
