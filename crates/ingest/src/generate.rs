//! A synthetic corpus for benchmarks: realistic-looking recommendations from
//! several issuers, deterministic for a seed.
//!
//! The words come from a [`Vocabulary`]: either the built-in one (sentence
//! templates with slots and clinical terms, written by us), or one derived
//! from a judiciary PFD CSV file given by path (word and bigram frequencies
//! of the concerns, the category list, addressee names). A derived
//! vocabulary keeps only words and names seen several times, so that the
//! names of the deceased do not reach generated text; it is built at run
//! time and never stored.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use concord_domain::{
    Addressee, AddresseeStatus, Confidence, Cost, EqualityDirection, EqualityImpact, Evidence,
    EvidenceKind, EvidenceStrength, Lifecycle, Link, LinkKind, LinkState, OrgCode, RecKind,
    Recommendation, RecommendationData, RecommendationId, Response, Risk, Source, SystemLevel,
};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use crate::IngestError;

/// Words with their weights, sampled by binary search.
#[derive(Debug, Clone, Default)]
struct Weighted {
    items: Vec<u32>,
    cum: Vec<u64>,
}

impl Weighted {
    fn from_counts(counts: impl IntoIterator<Item = (u32, u64)>) -> Self {
        let mut w = Weighted::default();
        let mut total = 0;
        let mut pairs: Vec<(u32, u64)> = counts.into_iter().collect();
        pairs.sort_unstable();
        for (item, c) in pairs {
            total += c;
            w.items.push(item);
            w.cum.push(total);
        }
        w
    }

    fn sample(&self, rng: &mut StdRng) -> Option<u32> {
        let total = *self.cum.last()?;
        let x = rng.random_range(0..total);
        let i = self.cum.partition_point(|&c| c <= x);
        self.items.get(i).copied()
    }
}

/// Word statistics from real concerns: a bigram chain.
#[derive(Debug, Clone)]
struct Chain {
    words: Vec<String>,
    starts: Weighted,
    next: Vec<Weighted>,
}

#[derive(Debug, Clone)]
enum Words {
    BuiltIn,
    Chain(Chain),
}

/// Where generated text and tags come from.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    words: Words,
    themes: Vec<String>,
    /// Addressee names for coroners' reports.
    pfd_addressees: Vec<String>,
}

/// A word or name must be seen this often in the source file to be kept.
const MIN_COUNT: u64 = 3;

impl Vocabulary {
    /// The vocabulary written by us: templates with slots, clinical terms.
    pub fn built_in() -> Self {
        Vocabulary {
            words: Words::BuiltIn,
            themes: TOPICS.iter().map(|t| t.0.to_string()).collect(),
            pfd_addressees: Vec::new(),
        }
    }

    /// Derives a vocabulary from a judiciary PFD CSV file (the layout of
    /// `judiciary-reports.csv`).
    pub fn from_pfd_csv(path: &Path) -> Result<Self, IngestError> {
        let bytes = std::fs::read(path)
            .map_err(|e| IngestError::file(path, format!("cannot be read: {e}")))?;
        Self::from_pfd_bytes(path, &bytes)
    }

    /// As [`Vocabulary::from_pfd_csv`], from the file's content.
    pub fn from_pfd_bytes(path: &Path, bytes: &[u8]) -> Result<Self, IngestError> {
        let file = crate::csv_format::open(path, bytes)?;
        let col = |name: &str| file.header.iter().position(|h| h.trim() == name);
        let (Some(c_concerns), Some(c_category), Some(c_to)) = (
            col("concerns"),
            col("category"),
            col("this_report_is_being_sent_to"),
        ) else {
            return Err(IngestError::file(
                path,
                "is not in the judiciary PFD layout: needs the columns concerns, category, this_report_is_being_sent_to",
            ));
        };
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut words: Vec<String> = Vec::new();
        let mut counts: Vec<u64> = Vec::new();
        let mut bigrams: HashMap<(u32, u32), u64> = HashMap::new();
        let mut starts: HashMap<u32, u64> = HashMap::new();
        let mut themes: HashMap<String, u64> = HashMap::new();
        let mut names: HashMap<String, u64> = HashMap::new();
        let mut rejected = Vec::new();
        file.for_each_row(path, &mut rejected, |_, cells| {
            for c in cells[c_category].split(" | ") {
                let c = c.trim().to_lowercase();
                if !c.is_empty() {
                    *themes.entry(c).or_default() += 1;
                }
            }
            for n in cells[c_to].split(" | ") {
                let n = n.trim();
                if !n.is_empty() && !n.eq_ignore_ascii_case("redacted") {
                    *names.entry(n.to_string()).or_default() += 1;
                }
            }
            let body = crate::pfd::concern_body(&cells[c_concerns]);
            let mut prev: Option<u32> = None;
            for w in body.split_whitespace() {
                let w = w.trim_matches(|c: char| c == '"' || c == '“' || c == '”');
                if w.is_empty() || w.len() > 30 {
                    prev = None;
                    continue;
                }
                let id = *ids.entry(w.to_string()).or_insert_with(|| {
                    words.push(w.to_string());
                    counts.push(0);
                    (words.len() - 1) as u32
                });
                counts[id as usize] += 1;
                match prev {
                    Some(p) => *bigrams.entry((p, id)).or_default() += 1,
                    None => {
                        if w.starts_with(|c: char| c.is_uppercase()) {
                            *starts.entry(id).or_default() += 1;
                        }
                    }
                }
                prev = if w.ends_with(['.', '?', '!']) {
                    None
                } else {
                    Some(id)
                };
            }
            None
        })?;
        let keep = |id: u32| counts[id as usize] >= MIN_COUNT;
        let mut next = vec![Weighted::default(); words.len()];
        let mut by_word: HashMap<u32, Vec<(u32, u64)>> = HashMap::new();
        for ((a, b), c) in bigrams {
            if keep(a) && keep(b) {
                by_word.entry(a).or_default().push((b, c));
            }
        }
        for (a, v) in by_word {
            next[a as usize] = Weighted::from_counts(v);
        }
        let starts = Weighted::from_counts(starts.into_iter().filter(|(w, _)| keep(*w)));
        if starts.items.is_empty() {
            return Err(IngestError::file(
                path,
                "has too little concerns text to build a vocabulary from",
            ));
        }
        let mut themes: Vec<(String, u64)> = themes.into_iter().collect();
        themes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut names: Vec<(String, u64)> =
            names.into_iter().filter(|(_, c)| *c >= MIN_COUNT).collect();
        names.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        Ok(Vocabulary {
            words: Words::Chain(Chain {
                words,
                starts,
                next,
            }),
            themes: themes.into_iter().map(|t| t.0).collect(),
            pfd_addressees: names.into_iter().map(|n| n.0).collect(),
        })
    }

    /// One sentence of 6 to 40 words.
    fn sentence(&self, rng: &mut StdRng, topic: &Topic) -> String {
        match &self.words {
            Words::BuiltIn => built_in_sentence(rng, topic),
            Words::Chain(c) => {
                for _ in 0..8 {
                    let Some(mut w) = c.starts.sample(rng) else {
                        break;
                    };
                    let mut out = vec![c.words[w as usize].as_str()];
                    while out.len() < 40 {
                        let last = &c.words[w as usize];
                        if out.len() >= 6 && last.ends_with(['.', '?', '!']) {
                            break;
                        }
                        match c.next[w as usize].sample(rng) {
                            Some(n) => {
                                w = n;
                                out.push(&c.words[w as usize]);
                            }
                            None => break,
                        }
                    }
                    if out.len() >= 6 {
                        let mut s = out.join(" ");
                        if !s.ends_with(['.', '?', '!']) {
                            s.push('.');
                        }
                        return s;
                    }
                }
                built_in_sentence(rng, topic)
            }
        }
    }
}

/// A topic: its theme, the things a recommendation on it is about, and the
/// settings where it happens.
type Topic = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

const TOPICS: &[Topic] = &[
    (
        "sepsis",
        &[
            "sepsis screening",
            "the escalation of suspected sepsis",
            "timely antibiotics for suspected sepsis",
        ],
        &[
            "emergency department",
            "acute hospital",
            "ambulance service",
        ],
    ),
    (
        "deteriorating patient",
        &[
            "NEWS2 observations",
            "the escalation of deteriorating patients",
            "overnight medical review",
        ],
        &["acute hospital", "community hospital"],
    ),
    (
        "medication safety",
        &[
            "medicines reconciliation on admission",
            "high-risk medicines prescribing",
            "insulin administration",
            "opioid prescribing",
        ],
        &["acute hospital", "primary care", "community pharmacy"],
    ),
    (
        "anticoagulation",
        &[
            "anticoagulant prescribing",
            "the reversal of anticoagulation after head injury",
        ],
        &["acute hospital", "primary care"],
    ),
    (
        "falls",
        &[
            "falls risk assessment",
            "post-fall medical review",
            "the use of bed rails",
        ],
        &["acute hospital", "care home"],
    ),
    (
        "maternity",
        &[
            "fetal heart rate monitoring",
            "the escalation of concerns in labour",
            "the management of reduced fetal movements",
        ],
        &["maternity unit", "neonatal unit"],
    ),
    (
        "mental health",
        &[
            "observation of patients at risk of suicide",
            "ligature risk assessment",
            "crisis team follow-up after discharge",
        ],
        &[
            "mental health inpatient unit",
            "community mental health team",
        ],
    ),
    (
        "suicide prevention",
        &[
            "safety planning after self-harm",
            "information sharing with families about risk",
        ],
        &[
            "community mental health team",
            "emergency department",
            "primary care",
        ],
    ),
    (
        "discharge",
        &[
            "discharge planning",
            "discharge summaries sent to GPs",
            "follow-up arrangements after discharge",
        ],
        &["acute hospital", "primary care"],
    ),
    (
        "handover",
        &[
            "handover between shifts",
            "handover from ambulance crews",
            "structured clinical handover",
        ],
        &["acute hospital", "ambulance service"],
    ),
    (
        "diagnostic delay",
        &[
            "the follow-up of abnormal test results",
            "referral pathways for suspected cancer",
            "reporting of imaging",
        ],
        &["primary care", "acute hospital"],
    ),
    (
        "learning disability",
        &[
            "reasonable adjustments for people with a learning disability",
            "the recognition of pain in people who cannot report it",
        ],
        &["acute hospital", "care home", "primary care"],
    ),
    (
        "ambulance response",
        &[
            "ambulance response times for category 2 calls",
            "the clinical review of waiting 999 calls",
        ],
        &["ambulance service", "NHS 111"],
    ),
    (
        "medical devices",
        &[
            "the management of nasogastric tubes",
            "alarm settings on infusion pumps",
            "oxygen cylinder checks",
        ],
        &["acute hospital", "community"],
    ),
    (
        "digital records",
        &[
            "the use of electronic patient records",
            "alerts in electronic prescribing systems",
            "record sharing between providers",
        ],
        &["acute hospital", "primary care", "community"],
    ),
    (
        "children and young people",
        &[
            "the transition from children's to adult services",
            "the recognition of the unwell child",
        ],
        &["paediatric unit", "primary care", "emergency department"],
    ),
    (
        "prison healthcare",
        &[
            "medication supply on arrival in prison",
            "the recognition of withdrawal in custody",
        ],
        &["prison healthcare"],
    ),
    (
        "end of life care",
        &[
            "advance care planning",
            "anticipatory prescribing at the end of life",
        ],
        &["hospice", "care home", "community"],
    ),
];

const ACTIONS: &[&str] = &[
    "review",
    "strengthen",
    "standardise",
    "audit",
    "develop national guidance on",
    "commission an evaluation of",
    "ensure staff are trained in",
    "update the guidance on",
    "monitor compliance with",
    "introduce a national standard for",
];

const SCOPES: &[&str] = &[
    "across all acute trusts",
    "nationally",
    "within 12 months",
    "in every integrated care system",
    "for patients with a learning disability",
    "for older people living with frailty",
    "out of hours and at weekends",
    "in line with the published evidence",
];

const FINDINGS: &[&str] = &[
    "the policy was not followed consistently",
    "staff were not aware of the guidance",
    "the escalation was delayed by several hours",
    "there was no single record of the patient's observations",
    "responsibility was unclear between teams",
    "the referral was not acted on",
    "staffing levels did not allow timely review",
    "the electronic system did not prompt a review",
];

const RISKS: &[&str] = &[
    "future deaths will occur",
    "patients will come to serious harm",
    "the same delay will recur",
    "deterioration will go unrecognised",
];

const RESPONSES: &[&str] = &[
    "We accept the recommendation in full and have set up a working group to implement it.",
    "We accept the recommendation in principle; the actions are set out in the enclosed plan.",
    "We have reviewed our guidance and issued an update to all staff.",
    "We do not accept the recommendation, for the reasons given in our letter.",
    "An audit of compliance will be completed and reported to the board.",
];

fn cap(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn pick<'a>(rng: &mut StdRng, xs: &'a [&'a str]) -> &'a str {
    xs.choose(rng).copied().unwrap_or("")
}

fn built_in_sentence(rng: &mut StdRng, t: &Topic) -> String {
    let object = pick(rng, t.1);
    let setting = pick(rng, t.2);
    match rng.random_range(0..6) {
        0 => format!(
            "Providers should {} {} {}.",
            pick(rng, ACTIONS),
            object,
            pick(rng, SCOPES)
        ),
        1 => format!(
            "The investigation found that {} in the {}.",
            pick(rng, FINDINGS),
            setting
        ),
        2 => format!(
            "There is a risk that {} unless {} is improved.",
            pick(rng, RISKS),
            object
        ),
        3 => format!(
            "Evidence showed that {} when {} was needed.",
            pick(rng, FINDINGS),
            object
        ),
        4 => format!(
            "Local audits of {} in the {} showed wide variation between sites.",
            object, setting
        ),
        _ => format!(
            "Staff in the {} described {} as a recurring concern.",
            setting, object
        ),
    }
}

/// How each issuer writes.
struct Issuer {
    code: &'static str,
    name: &'static str,
    weight: u32,
    kinds: &'static [RecKind],
    /// Days allowed for a response.
    days: i64,
    level: SystemLevel,
    evidence: EvidenceKind,
    /// Addressees: national bodies (true) or providers (false).
    national: bool,
}

const ISSUERS: &[Issuer] = &[
    Issuer {
        code: "PFD",
        name: "Coroner",
        weight: 35,
        kinds: &[RecKind::Concern],
        days: 56,
        level: SystemLevel::Provider,
        evidence: EvidenceKind::Inquest,
        national: false,
    },
    Issuer {
        code: "HSSIB",
        name: "Health Services Safety Investigations Body",
        weight: 14,
        kinds: &[
            RecKind::Recommendation,
            RecKind::Recommendation,
            RecKind::SafetyObservation,
            RecKind::SafetyAction,
        ],
        days: 90,
        level: SystemLevel::National,
        evidence: EvidenceKind::Investigation,
        national: true,
    },
    Issuer {
        code: "MNSI",
        name: "Maternity and Newborn Safety Investigations",
        weight: 6,
        kinds: &[RecKind::Recommendation, RecKind::SafetyObservation],
        days: 90,
        level: SystemLevel::Provider,
        evidence: EvidenceKind::Investigation,
        national: false,
    },
    Issuer {
        code: "CQC",
        name: "Care Quality Commission",
        weight: 10,
        kinds: &[RecKind::Recommendation],
        days: 90,
        level: SystemLevel::Provider,
        evidence: EvidenceKind::Inspection,
        national: false,
    },
    Issuer {
        code: "NICE",
        name: "National Institute for Health and Care Excellence",
        weight: 8,
        kinds: &[RecKind::Recommendation],
        days: 180,
        level: SystemLevel::System,
        evidence: EvidenceKind::SystematicReview,
        national: false,
    },
    Issuer {
        code: "NHSE",
        name: "NHS England",
        weight: 10,
        kinds: &[RecKind::Recommendation, RecKind::SafetyAction],
        days: 60,
        level: SystemLevel::System,
        evidence: EvidenceKind::IncidentData,
        national: false,
    },
    Issuer {
        code: "MHRA",
        name: "Medicines and Healthcare products Regulatory Agency",
        weight: 7,
        kinds: &[RecKind::Recommendation, RecKind::SafetyAction],
        days: 30,
        level: SystemLevel::Provider,
        evidence: EvidenceKind::IncidentData,
        national: false,
    },
    Issuer {
        code: "PHSO",
        name: "Parliamentary and Health Service Ombudsman",
        weight: 4,
        kinds: &[RecKind::Recommendation],
        days: 90,
        level: SystemLevel::Provider,
        evidence: EvidenceKind::Investigation,
        national: false,
    },
    Issuer {
        code: "UKHSA",
        name: "UK Health Security Agency",
        weight: 3,
        kinds: &[RecKind::Recommendation],
        days: 90,
        level: SystemLevel::National,
        evidence: EvidenceKind::Audit,
        national: true,
    },
    Issuer {
        code: "NHSR",
        name: "NHS Resolution",
        weight: 3,
        kinds: &[RecKind::Recommendation],
        days: 90,
        level: SystemLevel::Provider,
        evidence: EvidenceKind::IncidentData,
        national: false,
    },
];

const NATIONAL_BODIES: &[(&str, Option<&str>)] = &[
    ("NHS England", Some("NHSE")),
    ("Department of Health and Social Care", Some("DHSC")),
    ("Care Quality Commission", Some("CQC")),
    (
        "National Institute for Health and Care Excellence",
        Some("NICE"),
    ),
    (
        "Medicines and Healthcare products Regulatory Agency",
        Some("MHRA"),
    ),
    ("UK Health Security Agency", Some("UKHSA")),
    ("NHS Resolution", Some("NHSR")),
    ("Academy of Medical Royal Colleges", Some("AOMRC")),
    ("Royal College of Nursing", None),
    ("Royal College of Physicians", None),
    ("Royal College of Emergency Medicine", None),
    ("Royal College of Obstetricians and Gynaecologists", None),
    ("General Medical Council", None),
    ("Nursing and Midwifery Council", None),
];

/// Invented places, so that generated providers are never real ones.
const PLACES: &[&str] = &[
    "Northmoor",
    "Avon Bay",
    "Eastwold",
    "Kingsbridge",
    "Marshfield",
    "Redcliffe",
    "Southvale",
    "Westerby",
    "Thornbury Vale",
    "Ashdown",
    "Fenwick",
    "Highcombe",
];

const PROVIDER_KINDS: &[&str] = &[
    "Hospitals NHS Foundation Trust",
    "Teaching Hospitals NHS Trust",
    "Mental Health NHS Foundation Trust",
    "Community Health Services NHS Trust",
    "Integrated Care Board",
    "Ambulance Service NHS Trust",
    "Care Home Group",
    "Council",
];

/// The generator's state: sequences per issuer and year, and recent records
/// to copy from for duplicates.
struct Gen<'v> {
    rng: StdRng,
    vocab: &'v Vocabulary,
    seqs: HashMap<(usize, i32), u32>,
    recent: Vec<(String, String, Vec<String>, RecommendationId)>,
    remaining: usize,
    weights_total: u32,
    opts: GenOptions,
    /// A second stream for the lifecycle (acceptance, implementation,
    /// assessment, closure), so that adding it left the records' other
    /// fields as they were for a seed.
    life: StdRng,
}

/// Choices beyond the seed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenOptions {
    /// Exactly this many addressees per record (default: 1 to 4).
    pub addressees: Option<usize>,
}

/// The last day of the corpus: responses are only generated before it, so
/// that a corpus does not depend on the day it was made.
fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 31).unwrap_or_default()
}

impl Gen<'_> {
    fn issuer(&mut self) -> usize {
        let mut x = self.rng.random_range(0..self.weights_total);
        for (i, is) in ISSUERS.iter().enumerate() {
            if x < is.weight {
                return i;
            }
            x -= is.weight;
        }
        0
    }

    fn addressee_name(&mut self, issuer: &Issuer) -> (String, Option<OrgCode>) {
        if issuer.national || self.rng.random_bool(0.25) {
            let (n, c) = *NATIONAL_BODIES
                .choose(&mut self.rng)
                .unwrap_or(&("NHS England", None));
            return (n.to_string(), c.and_then(|c| OrgCode::parse(c).ok()));
        }
        if issuer.code == "PFD" && !self.vocab.pfd_addressees.is_empty() {
            let n = self.vocab.pfd_addressees.choose(&mut self.rng).cloned();
            return (n.unwrap_or_default(), None);
        }
        let place = pick(&mut self.rng, PLACES);
        let kind = pick(&mut self.rng, PROVIDER_KINDS);
        (format!("{place} {kind}"), None)
    }

    /// Draws one addressee (skipped if its name is empty or already there),
    /// with a response for some of those whose answer fell due.
    fn one_addressee(
        &mut self,
        issuer: &Issuer,
        published: NaiveDate,
        due: NaiveDate,
        addressees: &mut Vec<Addressee>,
    ) {
        let (name, org) = self.addressee_name(issuer);
        if name.is_empty() || addressees.iter().any(|a| a.name == name) {
            return;
        }
        let rng = &mut self.rng;
        let mut a = Addressee {
            name: name.clone(),
            org,
            status: AddresseeStatus::AwaitingResponse,
            due: Some(due),
            responses: Vec::new(),
            ..Default::default()
        };
        if due < as_of() && rng.random_bool(0.55) {
            let received = published + Duration::days(rng.random_range(7..issuer.days + 90));
            if received <= as_of() {
                a.responses.push(Response {
                    received: Some(received),
                    respondent: Some(name),
                    url: None,
                    text: Some(pick(rng, RESPONSES).to_string()),
                    ..Default::default()
                });
                a.status = AddresseeStatus::ResponseReceived;
            }
        }
        addressees.push(a);
    }

    fn next_record(&mut self) -> Recommendation {
        let ii = self.issuer();
        let issuer = &ISSUERS[ii];
        let rng = &mut self.rng;
        let start = NaiveDate::from_ymd_opt(2013, 1, 1).unwrap_or_default();
        let published = start + Duration::days(rng.random_range(0..(13 * 365 + 3)));
        let year = chrono::Datelike::year(&published);
        let seq = self.seqs.entry((ii, year)).or_insert(0);
        *seq += 1;
        let code = OrgCode::parse(issuer.code).unwrap_or_else(|_| unreachable!());
        let id = RecommendationId::new(code.clone(), year as u16, *seq)
            .unwrap_or_else(|_| unreachable!());
        let kind = *issuer.kinds.choose(rng).unwrap_or(&RecKind::Recommendation);
        let topic = TOPICS.choose(rng).unwrap_or(&TOPICS[0]);

        // Duplicates and near-duplicates of a recent record.
        let dup = if !self.recent.is_empty() && rng.random_bool(0.08) {
            self.recent.choose(rng).cloned()
        } else {
            None
        };
        let (title, text, mut themes, dup_of) = match dup {
            Some((title, text, themes, of)) => {
                let text = if rng.random_bool(0.4) {
                    text
                } else {
                    // Near-duplicate: drop or reorder a sentence, add one.
                    let mut sentences: Vec<&str> = text.split_inclusive(". ").collect();
                    if sentences.len() > 2 {
                        let k = rng.random_range(0..sentences.len());
                        sentences.remove(k);
                    }
                    let mut t = sentences.concat();
                    t.push(' ');
                    t.push_str(&self.vocab.sentence(rng, topic));
                    t
                };
                (title, text, themes, Some(of))
            }
            None => {
                let n = rng.random_range(2..=6);
                let sentences: Vec<String> =
                    (0..n).map(|_| self.vocab.sentence(rng, topic)).collect();
                let title = match &self.vocab.words {
                    Words::BuiltIn => format!(
                        "{} {} {}",
                        cap(pick(rng, ACTIONS)),
                        pick(rng, topic.1),
                        pick(rng, SCOPES)
                    ),
                    Words::Chain(_) => {
                        let s = &sentences[0];
                        let words: Vec<&str> = s.split_whitespace().take(12).collect();
                        words.join(" ").trim_end_matches('.').to_string()
                    }
                };
                let mut themes = vec![match &self.vocab.words {
                    Words::BuiltIn => topic.0.to_string(),
                    Words::Chain(_) => self
                        .vocab
                        .themes
                        .choose(rng)
                        .cloned()
                        .unwrap_or_else(|| topic.0.to_string()),
                }];
                for _ in 0..rng.random_range(0..=2) {
                    if let Some(t) = self.vocab.themes.choose(rng)
                        && !themes.contains(t)
                    {
                        themes.push(t.clone());
                    }
                }
                (title, sentences.join(" "), themes, None)
            }
        };
        themes.truncate(4);
        let rng = &mut self.rng;
        let mut settings: Vec<String> = vec![pick(rng, topic.2).to_string()];
        if rng.random_bool(0.3) {
            let s = pick(rng, topic.2).to_string();
            if !settings.contains(&s) {
                settings.push(s);
            }
        }
        let due = published + Duration::days(issuer.days);
        let n_addr = rng.random_range(1..=4);
        let mut addressees: Vec<Addressee> = Vec::new();
        for _ in 0..n_addr {
            self.one_addressee(issuer, published, due, &mut addressees);
        }
        // A fixed number of addressees (benchmarks): drop the extra ones, or
        // draw more (a few tries, as names may repeat).
        if let Some(want) = self.opts.addressees {
            addressees.truncate(want);
            let mut tries = 0;
            while addressees.len() < want && tries < want * 20 {
                self.one_addressee(issuer, published, due, &mut addressees);
                tries += 1;
            }
        }
        let rng = &mut self.rng;
        let status = match rng.random_range(0..100) {
            0 => Lifecycle::Draft,
            1 | 2 => Lifecycle::Closed,
            3 => Lifecycle::Withdrawn,
            4 => Lifecycle::Superseded,
            _ => Lifecycle::Published,
        };
        let links = match dup_of {
            Some(of) => vec![Link {
                kind: LinkKind::Duplicates,
                target: of.to_string(),
                state: LinkState::Suggested,
                asserted_by: None,
                asserted_at: None,
            }],
            None if rng.random_bool(0.04) && !self.recent.is_empty() => {
                let of = &self.recent[rng.random_range(0..self.recent.len())].3;
                vec![Link {
                    kind: *[LinkKind::BuildsOn, LinkKind::Supports, LinkKind::Related]
                        .choose(rng)
                        .unwrap_or(&LinkKind::Related),
                    target: of.to_string(),
                    state: LinkState::Confirmed,
                    asserted_by: Some(issuer.code.to_string()),
                    asserted_at: None,
                }]
            }
            None => Vec::new(),
        };
        let cost = rng.random_bool(0.2).then(|| Cost {
            one_off: rng
                .random_bool(0.8)
                .then(|| f64::from(rng.random_range(1..5000u32)) * 1000.0),
            recurring: rng
                .random_bool(0.5)
                .then(|| f64::from(rng.random_range(1..800u32)) * 1000.0),
            currency: "GBP".into(),
            confidence: [Confidence::Low, Confidence::Medium, Confidence::High]
                .choose(rng)
                .copied(),
            cost_effectiveness: rng
                .random_bool(0.3)
                .then(|| format!("£{},000 per QALY", rng.random_range(5..40))),
        });
        let equality = rng.random_bool(0.15).then(|| EqualityImpact {
            groups: vec![
                (*[
                    "people with a learning disability",
                    "older people",
                    "ethnic minority groups",
                    "people in deprived areas",
                    "children",
                ]
                .choose(rng)
                .unwrap_or(&"older people"))
                .to_string(),
            ],
            direction: *[
                EqualityDirection::Reduces,
                EqualityDirection::Neutral,
                EqualityDirection::Unknown,
            ]
            .choose(rng)
            .unwrap_or(&EqualityDirection::Unknown),
            mitigation: None,
        });
        let created_at: DateTime<Utc> = Utc
            .from_utc_datetime(&published.and_hms_opt(9, 0, 0).unwrap_or_default())
            + Duration::minutes(rng.random_range(0..600));
        let version = if rng.random_bool(0.1) {
            rng.random_range(2..5)
        } else {
            1
        };
        let updated_at = if version > 1 {
            created_at + Duration::days(rng.random_range(1..200))
        } else {
            created_at
        };
        let local_ref =
            (issuer.code == "PFD" || rng.random_bool(0.5)).then(|| format!("{year}-{:04}", id.seq));
        let mut data = RecommendationData {
            local_ref: local_ref.clone(),
            kind,
            issuer: code,
            source: Some(Source {
                title: Some(format!("{} report {year}/{}", issuer.name, id.seq)),
                date: Some(published),
                url: Some(format!(
                    "https://example.org/{}/{year}/{}",
                    issuer.code.to_lowercase(),
                    id.seq
                )),
                local_ref,
            }),
            title: title.clone(),
            text: text.clone(),
            published: Some(published),
            status,
            level: Some(issuer.level),
            addressees,
            themes: themes.clone(),
            settings,
            evidence: Some(Evidence {
                kind: Some(issuer.evidence),
                references: Vec::new(),
                strength: [
                    None,
                    Some(EvidenceStrength::Strong),
                    Some(EvidenceStrength::Moderate),
                    Some(EvidenceStrength::Limited),
                ]
                .choose(rng)
                .copied()
                .flatten(),
            }),
            patient_impact: rng
                .random_bool(0.4)
                .then(|| format!("Fewer avoidable harms related to {}.", pick(rng, topic.1))),
            cost,
            equality,
            risk: [
                None,
                Some(Risk::Low),
                Some(Risk::Medium),
                Some(Risk::High),
                Some(Risk::Critical),
            ]
            .choose(rng)
            .copied()
            .flatten(),
            response_deadline: Some(due),
            links,
        };
        lifecycle(&mut self.life, &mut data);
        if self.recent.len() < 256 {
            self.recent.push((title, text, themes, id.clone()));
        } else {
            let k = self.rng.random_range(0..self.recent.len());
            self.recent[k] = (title, text, themes, id.clone());
        }
        Recommendation {
            provenance: Default::default(),
            id,
            data,
            version,
            created_at,
            updated_at,
            import_key: None,
        }
    }
}

impl Iterator for Gen<'_> {
    type Item = Recommendation;
    fn next(&mut self) -> Option<Recommendation> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(self.next_record())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

/// What happened after each answer, drawn from the lifecycle stream: the
/// addressee's acceptance, its progress, the issuer's assessment and closure,
/// and a few addressees set aside or not required to answer. Every date is on
/// or before the corpus's last day.
fn lifecycle(rng: &mut StdRng, data: &mut RecommendationData) {
    use concord_domain::lifecycle::{
        Acceptance, Assessment, AssessmentRecord, Closure, ClosureReason, Implementation,
    };
    let end = as_of();
    let issuer = data.issuer.to_string();
    for a in &mut data.addressees {
        let Some(received) = a.responses.first().and_then(|r| r.received) else {
            match rng.random_range(0..100) {
                0 | 1 => a.status = AddresseeStatus::NotRequired,
                2 => a.status = AddresseeStatus::Dormant,
                _ => {}
            }
            continue;
        };
        let acceptance = match rng.random_range(0..100) {
            0..55 => Acceptance::Accepted,
            55..70 => Acceptance::AcceptedInPrinciple,
            70..85 => Acceptance::PartlyAccepted,
            85..95 => Acceptance::NotAccepted,
            _ => Acceptance::SupportInstead,
        };
        a.acceptance = Some(acceptance);
        if let Some(r) = a.responses.first_mut() {
            r.acceptance = Some(acceptance);
            if !acceptance.commits_to_action() {
                r.reasons = Some("The action is already covered by national guidance.".into());
            }
        }
        let later = |rng: &mut StdRng, days: i64| {
            let d = received + Duration::days(rng.random_range(1..days));
            (d <= end).then_some(d)
        };
        if acceptance.commits_to_action() {
            let done = match rng.random_range(0..100) {
                0..20 => Implementation::NotStarted,
                20..55 => Implementation::InProgress,
                55..75 => Implementation::SubstantiallyProgressed,
                _ => Implementation::Implemented,
            };
            a.implementation = Some(done);
            if done == Implementation::Implemented
                && rng.random_bool(0.5)
                && let Some(on) = later(rng, 400)
            {
                a.closure = Some(Closure {
                    reason: ClosureReason::Implemented,
                    note: None,
                    on,
                    by: Some(issuer.clone()),
                });
                a.status = AddresseeStatus::Closed;
                continue;
            }
        } else if rng.random_bool(0.3)
            && let Some(on) = later(rng, 200)
        {
            a.closure = Some(Closure {
                reason: ClosureReason::NotImplemented,
                note: Some("The addressee did not accept the recommendation.".into()),
                on,
                by: Some(issuer.clone()),
            });
            a.status = AddresseeStatus::Closed;
            continue;
        }
        if rng.random_bool(0.3)
            && let Some(on) = later(rng, 120)
        {
            let verdict = *Assessment::ALL
                .choose(rng)
                .unwrap_or(&Assessment::FullySatisfactory);
            a.assessment = Some(AssessmentRecord {
                verdict,
                comment: (verdict != Assessment::FullySatisfactory)
                    .then(|| "The response does not yet show how the risk is reduced.".into()),
                on,
                by: Some(issuer.clone()),
            });
            a.status = AddresseeStatus::Assessed;
        }
    }
}

/// `count` synthetic recommendations, the same ones for the same seed and
/// vocabulary. Produced one at a time: write them out as they come.
pub fn generate(
    count: usize,
    seed: u64,
    vocab: &Vocabulary,
) -> impl Iterator<Item = Recommendation> + '_ {
    generate_with(count, seed, vocab, GenOptions::default())
}

/// As [`generate`], with options.
pub fn generate_with(
    count: usize,
    seed: u64,
    vocab: &Vocabulary,
    opts: GenOptions,
) -> impl Iterator<Item = Recommendation> + '_ {
    Gen {
        rng: StdRng::seed_from_u64(seed),
        vocab,
        seqs: HashMap::new(),
        recent: Vec::new(),
        remaining: count,
        weights_total: ISSUERS.iter().map(|i| i.weight).sum(),
        opts,
        life: StdRng::seed_from_u64(seed ^ 0x11fe_c7c1_e000_0001),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_valid_and_varied() {
        let v = Vocabulary::built_in();
        let a: Vec<Recommendation> = generate(3000, 7, &v).collect();
        let b: Vec<Recommendation> = generate(3000, 7, &v).collect();
        assert_eq!(a, b);
        let c: Vec<Recommendation> = generate(50, 8, &v).collect();
        assert_ne!(a[..50], c[..]);
        let mut ids = std::collections::HashSet::new();
        let mut issuers = std::collections::HashSet::new();
        let mut dups = 0;
        let mut texts = std::collections::HashSet::new();
        for r in &a {
            assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
            issuers.insert(r.data.issuer.to_string());
            let checked = r.data.clone().validate().unwrap();
            assert_eq!(checked, r.data, "generated records are already tidy");
            assert!((1..=4).contains(&r.data.addressees.len()));
            let y = chrono::Datelike::year(&r.data.published.unwrap());
            assert!((2013..=2026).contains(&y));
            if r.data.issuer.as_str() == "PFD" {
                assert_eq!(r.data.kind, RecKind::Concern);
            }
            if !texts.insert(r.data.text.clone()) {
                dups += 1;
            }
        }
        assert!(issuers.len() >= 8, "{issuers:?}");
        assert!(dups > 30, "{dups} exact duplicates");
        assert!(
            a.iter()
                .any(|r| r.data.addressees.iter().any(|x| !x.responses.is_empty()))
        );
        // The lifecycle: every state the dashboard counts occurs.
        let states: std::collections::HashSet<AddresseeStatus> = a
            .iter()
            .flat_map(|r| r.data.addressees.iter().map(|x| x.status))
            .collect();
        assert_eq!(states.len(), AddresseeStatus::ALL.len(), "{states:?}");
        assert!(a.iter().any(|r| r.data.addressees.iter().any(|x| {
            x.implementation == Some(concord_domain::lifecycle::Implementation::Implemented)
        })));
    }

    #[test]
    fn a_fixed_number_of_addressees_on_request() {
        let v = Vocabulary::built_in();
        let opts = GenOptions {
            addressees: Some(3),
        };
        let a: Vec<Recommendation> = generate_with(2000, 3, &v, opts.clone()).collect();
        assert!(a.iter().all(|r| r.data.addressees.len() == 3));
        assert_eq!(a, generate_with(2000, 3, &v, opts).collect::<Vec<_>>());
        // The default stream is untouched by the option's existence.
        let d: Vec<Recommendation> = generate(50, 3, &v).collect();
        assert_eq!(a[0].id, d[0].id);
    }

    #[test]
    fn vocabulary_from_a_small_pfd_file() {
        let mut csv =
            String::from("ref,date_of_report,category,this_report_is_being_sent_to,concerns\n");
        for i in 0..5 {
            csv.push_str(&format!(
                "2024-{i:04},01/01/2024,Suicide (from 2015),NHS England | Patient {i},\"The MATTERS OF CONCERN are as follows. The ward did not record observations overnight. The trust did not review the policy on observations. Mr Smith{i} was not seen.\"\n"
            ));
        }
        let v = Vocabulary::from_pfd_bytes(Path::new("j.csv"), csv.as_bytes()).unwrap();
        assert_eq!(v.themes, vec!["suicide (from 2015)"]);
        assert_eq!(v.pfd_addressees, vec!["NHS England"]);
        let recs: Vec<Recommendation> = generate(200, 1, &v).collect();
        for r in &recs {
            assert!(!r.data.text.contains("Smith"), "{}", r.data.text);
            r.data.clone().validate().unwrap();
        }
        assert!(recs.iter().any(|r| r.data.text.contains("observations")));
    }
}
