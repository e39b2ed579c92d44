//! Addressee names as coroners and investigators write them, read as the
//! bodies they mean: role titles and salutations stripped, abbreviations
//! appended or in brackets dropped, trust suffixes folded; the kind of body
//! guessed from its words; and the code an unverified organisation made from
//! such a name gets (the same name gives the same code whatever the order
//! of the imports).

use super::{OrgKind, OrgLevel, OrgStatus, Organisation, ProviderKind};
use crate::ids::OrgCode;
use crate::text::{core_name, normalise_name};

/// Words that make a phrase a post rather than a body ("Chief Executive",
/// "Transport Manager", "Secretary of State").
const ROLE_HEADS: &[&str] = &[
    "ceo",
    "commissioner",
    "chair",
    "chairman",
    "chairperson",
    "chairwoman",
    "chief",
    "clerk",
    "director",
    "executive",
    "governor",
    "head",
    "lead",
    "manager",
    "minister",
    "officer",
    "president",
    "registrar",
    "secretary",
    "superintendent",
    "surveyor",
    "engineer",
    "inspector",
];

/// Posts written in front of a body's name without a comma ("Chief
/// Executive Highways England"), longest first.
const ROLE_PREFIXES: &[&str] = &[
    "chief executive officer",
    "chief executive",
    "chief officer",
    "medical director",
    "managing director",
    "director of nursing",
    "clinical director",
    "registered manager",
    "deputy assistant commissioner",
    "assistant commissioner",
    "commissioner",
    "chief fire officer",
    "chair",
    "chairman",
    "director",
];

/// Words that say a phrase names an organisation.
const BODY_WORDS: &[&str] = &[
    "agency",
    "association",
    "authority",
    "board",
    "borough",
    "care",
    "centre",
    "college",
    "commission",
    "company",
    "council",
    "department",
    "england",
    "executive",
    "group",
    "health",
    "highways",
    "hospital",
    "hospitals",
    "institute",
    "limited",
    "ltd",
    "ministry",
    "nhs",
    "office",
    "partnership",
    "plc",
    "police",
    "practice",
    "prison",
    "rail",
    "service",
    "services",
    "society",
    "surgery",
    "trust",
    "university",
    "wales",
];

/// Words that name a kind of organisation outright, as against words
/// ("highways", "care") that a department's name holds too.
const STRONG_BODY_WORDS: &[&str] = &[
    "agency",
    "authority",
    "board",
    "borough",
    "college",
    "commission",
    "company",
    "constabulary",
    "council",
    "department",
    "hospital",
    "hospitals",
    "institute",
    "limited",
    "ltd",
    "ministry",
    "nhs",
    "plc",
    "police",
    "trust",
    "university",
];

fn body_score(phrase: &str) -> usize {
    normalise_name(phrase)
        .split_whitespace()
        .filter(|w| STRONG_BODY_WORDS.contains(w))
        .count()
}

/// Whether a phrase names an organisation (its words say so).
pub fn looks_like_body(phrase: &str) -> bool {
    normalise_name(phrase)
        .split_whitespace()
        .any(|w| BODY_WORDS.contains(&w))
}

/// Salutations and honours written before a person's name.
const PERSON_MARKS: &[&str] = &[
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "prof",
    "professor",
    "sir",
    "dame",
    "rt",
    "hon",
    "lord",
    "lady",
    "baroness",
    "mp",
    "cbe",
    "obe",
    "mbe",
    "frcp",
    "frcs",
];

/// Posts that stand for a body: the minister's department, a force's chief
/// officer. Written forms are compared after [`normalise_name`].
const POSTS: &[(&str, &str)] = &[
    (
        "secretary of state for health and social care",
        "Department of Health and Social Care",
    ),
    (
        "secretary of state for health",
        "Department of Health and Social Care",
    ),
    (
        "minister of state for health",
        "Department of Health and Social Care",
    ),
    ("health secretary", "Department of Health and Social Care"),
    ("home secretary", "Home Office"),
    ("secretary of state for the home department", "Home Office"),
    ("secretary of state for justice", "Ministry of Justice"),
    ("justice secretary", "Ministry of Justice"),
    ("lord chancellor", "Ministry of Justice"),
    ("minister of justice", "Ministry of Justice"),
    ("minister of state for prisons", "Ministry of Justice"),
    (
        "secretary of state for education",
        "Department for Education",
    ),
    (
        "minister of state for children and families",
        "Department for Education",
    ),
    (
        "secretary of state for transport",
        "Department for Transport",
    ),
    ("transport secretary", "Department for Transport"),
    (
        "foreign secretary",
        "Foreign, Commonwealth and Development Office",
    ),
    (
        "secretary of state for work and pensions",
        "Department for Work and Pensions",
    ),
    (
        "commissioner of police of the metropolis",
        "Metropolitan Police Service",
    ),
    ("metropolitan police", "Metropolitan Police Service"),
    ("highways england", "National Highways"),
];

fn is_role_word(w: &str) -> bool {
    ROLE_HEADS.contains(&w)
}

fn is_person_mark(w: &str) -> bool {
    PERSON_MARKS.contains(&w)
}

/// Whether a phrase names a post: its last word is a role word, or it starts
/// with one and goes on only with "of/for" and the post's field
/// ("Chief Executive", "Head of Safeguarding", "Secretary of State").
fn is_post(phrase: &str) -> bool {
    let n = normalise_name(phrase);
    let words: Vec<&str> = n.split_whitespace().collect();
    let Some(last) = words.last() else {
        return false;
    };
    // "Health and Safety Executive" is a body, "Transport Manager" a post.
    let body_like = words.contains(&"and")
        || words.len() > 5
        || words.first().is_some_and(|w| {
            matches!(
                *w,
                "association" | "national" | "royal" | "college" | "council" | "health"
            )
        });
    is_role_word(last) && !body_like
        || words.first().is_some_and(|w| is_role_word(w))
            && (!words.iter().any(|w| *w == "of" || *w == "for") || words.len() <= 4)
        || n.starts_with("secretary of state")
        || n.starts_with("head of")
}

/// Whether a phrase is a person's name with a salutation ("Mr John Smith",
/// "Dr A Jones").
fn is_person(phrase: &str) -> bool {
    let n = normalise_name(phrase);
    n.split_whitespace().next().is_some_and(is_person_mark)
}

/// The body a written addressee means, as written (role titles, people and
/// salutations removed), or `None` when the name is only a post or a person
/// ("Chief Executive", "Secretary of State", "Mr J Smith").
pub fn written_body(written: &str) -> Option<String> {
    let cleaned: String = written
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' => '\'',
            '\u{201C}' | '\u{201D}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{00A0}' => ' ',
            c => c,
        })
        .collect();
    // "Chief Executive – Warwickshire County Council": a spaced dash parts
    // a post from its body as a comma does.
    let cleaned = cleaned.replace(" - ", ", ");
    let cleaned = cleaned.trim().trim_matches(|c: char| c == ',' || c == ';');
    if normalise_name(cleaned).is_empty() {
        return None;
    }
    let n = normalise_name(cleaned);
    for (post, body) in POSTS {
        if n == *post || n.starts_with(&format!("{post} ")) {
            return Some(body.to_string());
        }
    }
    // "Mr A Smith, Chief Executive, Northmoor Hospitals NHS Trust": the
    // parts that are neither a post nor a person.
    let parts: Vec<&str> = cleaned
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() > 1 {
        // Each part read on its own; the one that names a body wins (the
        // last such), so "Cressida Dick, Commissioner for the Metropolitan
        // Police" is the police service, not the person.
        let bodies: Vec<String> = parts.iter().filter_map(|p| written_body(p)).collect();
        // The most body-like part ("Cumbria County Council, Highways and
        // Transportation" is the council), the last of equals.
        let named = bodies
            .iter()
            .enumerate()
            .filter(|(_, b)| looks_like_body(b))
            .max_by_key(|(i, b)| (body_score(b), *i))
            .map(|(_, b)| b);
        return match named.or(bodies.last()) {
            Some(b) if bodies.len() < parts.len() || named.is_some() => Some(b.clone()),
            _ => Some(cleaned.to_string()),
        };
    }
    // "Chief Executive Highways England": a post written before the body
    // without a separator.
    let lower_n = normalise_name(cleaned);
    for prefix in ROLE_PREFIXES {
        if let Some(rest) = lower_n.strip_prefix(prefix)
            && rest.starts_with(' ')
        {
            let words: Vec<&str> = cleaned.split_whitespace().collect();
            let n = prefix.split_whitespace().count()
                + usize::from(words.first().is_some_and(|w| w.eq_ignore_ascii_case("the")));
            let rest_written = words[n.min(words.len())..].join(" ");
            let mut rest_written = rest_written.trim_start_matches(|c: char| !c.is_alphanumeric());
            for joint in [
                "of the ", "for the ", "at the ", "of ", "for ", "at ", "the ",
            ] {
                if rest_written.len() > joint.len()
                    && rest_written
                        .get(..joint.len())
                        .is_some_and(|h| h.eq_ignore_ascii_case(joint))
                {
                    rest_written = &rest_written[joint.len()..];
                }
            }
            if rest_written.split_whitespace().count() >= 2 && looks_like_body(rest_written) {
                return written_body(rest_written);
            }
        }
    }
    for post in ["chief constable of ", "police and crime commissioner for "] {
        if let Some(i) = cleaned.to_lowercase().find(post)
            && i == 0
        {
            let rest = cleaned[post.len()..].trim();
            if !rest.is_empty() {
                return Some(format!("{rest} Police"));
            }
        }
    }
    if is_post(cleaned) || is_person(cleaned) {
        return None;
    }
    // "Chief Executive of Northmoor Hospitals", "Chief Constable of Kent".
    let lower = cleaned.to_lowercase();
    for sep in [" of the ", " of ", " at ", " for "] {
        if let Some(i) = lower.find(sep) {
            let (post, rest) = (&cleaned[..i], &cleaned[i + sep.len()..]);
            if is_post(post) && !normalise_name(rest).is_empty() {
                let post_n = normalise_name(post);
                if post_n == "chief constable" || post_n == "police and crime commissioner" {
                    return Some(format!("{} Police", rest.trim()));
                }
                if rest.split_whitespace().count() >= 2 || !is_post(rest) {
                    return written_body(rest);
                }
            }
        }
    }
    for post in ["chief constable of ", "police and crime commissioner for "] {
        if let Some(i) = cleaned.to_lowercase().find(post)
            && i == 0
        {
            let rest = cleaned[post.len()..].trim();
            if !rest.is_empty() {
                return Some(format!("{rest} Police"));
            }
        }
    }
    if is_post(cleaned) || is_person(cleaned) {
        return None;
    }
    Some(cleaned.to_string())
}

/// The key two spellings of one body share: [`core_name`] of the body,
/// without an abbreviation in brackets or appended in capitals
/// ("Betsi Cadwaladr University Health Board BCUHB", "... (NICE)").
pub fn body_key(body: &str) -> String {
    // "(NICE)", "(DfT)": an abbreviation in brackets goes; "(Kent)" stays,
    // as it tells two bodies apart.
    let s: String = {
        let mut out = String::new();
        let mut rest = body.trim();
        while let Some(open) = rest.find('(') {
            let Some(len) = rest[open..].find(')') else {
                break;
            };
            let inner = &rest[open + 1..open + len];
            let abbreviation = !inner.contains(' ')
                && inner.chars().filter(|c| c.is_ascii_uppercase()).count() >= 2;
            out.push_str(&rest[..open]);
            if !abbreviation {
                out.push_str(inner);
            }
            out.push(' ');
            rest = &rest[open + len + 1..];
        }
        out.push_str(rest);
        out
    };
    let words: Vec<&str> = s.split_whitespace().collect();
    let s = match words.split_last() {
        Some((last, rest))
            if rest.len() >= 2
                && last.len() >= 2
                && last.chars().all(|c| c.is_ascii_uppercase())
                && *last != "NHS"
                && *last != "UK" =>
        {
            rest.join(" ")
        }
        _ => words.join(" "),
    };
    let mut key = core_name(&s);
    // Police forces are written with or without "Service" / "Force".
    for suffix in [" police service", " police force"] {
        if let Some(k) = key.strip_suffix(suffix) {
            key = format!("{k} police");
        }
    }
    key
}

/// The code of an unverified organisation made from a written name: a
/// readable stem and four characters of a hash of [`body_key`], so the same
/// body gets the same code in every import and in any order.
pub fn unverified_code(body: &str) -> OrgCode {
    let key = body_key(body);
    let stem: String = key
        .split_whitespace()
        .filter(|w| !matches!(*w, "of" | "and" | "for" | "the" | "nhs"))
        .flat_map(|w| {
            let take = if w.len() > 4 { 4 } else { w.len() };
            w.chars().take(take).collect::<Vec<_>>()
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .take(10)
        .collect::<String>()
        .to_ascii_uppercase();
    let stem = if stem.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) {
        stem
    } else {
        format!("O{stem}")
    };
    // FNV-1a: stable across builds and platforms, unlike std's hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let hash: String = (0..4)
        .map(|i| ALPHABET[((h >> (i * 5)) & 31) as usize] as char)
        .collect();
    let code = format!("{}{hash}", &stem[..stem.len().min(12)]);
    OrgCode::parse(&code).expect("letters and digits, starting with a letter")
}

/// What kind of body a name says it is, where the words say so.
pub fn guess_kind(name: &str) -> (OrgKind, Option<ProviderKind>, OrgLevel) {
    let n = format!(" {} ", normalise_name(name));
    let has = |w: &str| n.contains(w);
    use OrgKind as K;
    use ProviderKind as P;
    if has(" police") || has(" constabulary ") {
        return (K::Police, None, OrgLevel::Regional);
    }
    if has(" hmp ") || has(" prison") || has(" young offender") || has(" hmyoi ") {
        return (K::Prison, None, OrgLevel::Provider);
    }
    if has(" ambulance service") || has(" ambulance nhs") || has(" ambulance trust") {
        return (K::Provider, Some(P::AmbulanceService), OrgLevel::Provider);
    }
    if has(" integrated care board ") || has(" icb ") || has(" clinical commissioning group") {
        return (K::Icb, None, OrgLevel::System);
    }
    if has(" health board ") {
        return (K::Provider, Some(P::AcuteTrust), OrgLevel::System);
    }
    if has(" mental health") || has(" partnership nhs") {
        return (K::Provider, Some(P::MentalHealthTrust), OrgLevel::Provider);
    }
    if has(" care home") || has(" nursing home") || has(" residential home") {
        return (K::Provider, Some(P::CareHome), OrgLevel::Provider);
    }
    if has(" hospice ") {
        return (K::Provider, Some(P::Hospice), OrgLevel::Provider);
    }
    if has(" surgery ")
        || has(" medical centre ")
        || has(" medical practice ")
        || has(" health centre ")
    {
        return (K::Provider, Some(P::GpPractice), OrgLevel::Provider);
    }
    if has(" council ") || has(" borough ") || has(" county council") {
        return (K::LocalAuthority, None, OrgLevel::Regional);
    }
    if has(" hospital") || has(" nhs foundation trust ") || has(" nhs trust ") {
        return (K::Provider, Some(P::AcuteTrust), OrgLevel::Provider);
    }
    if has(" department of ")
        || has(" department for ")
        || has(" ministry of ")
        || has(" home office ")
    {
        return (K::Government, None, OrgLevel::National);
    }
    if has(" royal college ")
        || has(" college of ")
        || has(" council for ")
        || has(" general medical council ")
    {
        return (K::ProfessionalBody, None, OrgLevel::National);
    }
    if has(" ltd ") || has(" limited ") || has(" plc ") || has(" care ") || has(" healthcare ") {
        return (
            K::Provider,
            Some(P::IndependentProvider),
            OrgLevel::Provider,
        );
    }
    (K::Other, None, OrgLevel::Provider)
}

/// An unverified organisation for a written addressee, or `None` when the
/// name is only a post or a person.
pub fn unverified_organisation(written: &str) -> Option<Organisation> {
    let body = written_body(written)?;
    let key = body_key(&body);
    if key.is_empty() {
        return None;
    }
    let (kind, provider_kind, level) = guess_kind(&body);
    let mut aliases = Vec::new();
    if written.trim() != body {
        aliases.push(written.trim().to_string());
    }
    Some(Organisation {
        code: unverified_code(&body),
        name: body,
        kind,
        level,
        provider_kind,
        region: None,
        aliases,
        status: OrgStatus::Unverified,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        // Names come from files anyone can write: any text, never a panic,
        // and the same name always gives the same code.
        #[test]
        fn any_name_is_read_without_panic(s in "\\PC{0,80}") {
            if let Some(o) = unverified_organisation(&s) {
                proptest::prop_assert_eq!(o.code.clone(), unverified_code(&o.name));
                proptest::prop_assert!(o.code.as_str().len() <= 16);
            }
            let _ = guess_kind(&s);
        }
    }

    #[test]
    fn role_titles_and_people_are_stripped() {
        let b = |s: &str| written_body(s);
        assert_eq!(
            b("Chief Executive, Northmoor Hospitals NHS Trust").as_deref(),
            Some("Northmoor Hospitals NHS Trust")
        );
        assert_eq!(
            b("Mr A Smith, Chief Executive, Northmoor Hospitals NHS Trust").as_deref(),
            Some("Northmoor Hospitals NHS Trust")
        );
        assert_eq!(
            b("The Chief Executive of National Highways").as_deref(),
            Some("National Highways")
        );
        assert_eq!(
            b("Transport Manager, Reading Borough Council").as_deref(),
            Some("Reading Borough Council")
        );
        assert_eq!(
            b("Chief Constable of Lincolnshire").as_deref(),
            Some("Lincolnshire Police")
        );
        assert_eq!(
            b("The Secretary of State for Health and Social Care").as_deref(),
            Some("Department of Health and Social Care")
        );
        assert_eq!(b("Home Secretary").as_deref(), Some("Home Office"));
        // Only a post, or only a person: no body.
        assert_eq!(b("Chief Executive"), None);
        assert_eq!(b("The Chief Executive"), None);
        assert_eq!(b("Secretary of State"), None);
        assert_eq!(b("Chief Constable"), None);
        assert_eq!(b("Director of Highways"), None);
        assert_eq!(
            b("Chief Executive Highways England").as_deref(),
            Some("National Highways")
        );
        assert_eq!(
            b("Cressida Dick, Commissioner for the Metropolitan Police").as_deref(),
            Some("Metropolitan Police Service")
        );
        assert_eq!(
            b("Cumbria County Council, Highways and Transportation").as_deref(),
            Some("Cumbria County Council")
        );
        assert_eq!(
            b("Chief Executive at Surrey County Council").as_deref(),
            Some("Surrey County Council")
        );
        assert_eq!(
            b("Chief Executive \u{2013} Warwickshire County Council").as_deref(),
            Some("Warwickshire County Council")
        );
        assert_eq!(
            b("Director of Highways, Lincolnshire County Council").as_deref(),
            Some("Lincolnshire County Council")
        );
        assert_eq!(b("Registered Manager"), None);
        assert_eq!(b("Dr J Jones"), None);
        assert_eq!(b("  "), None);
        // Bodies whose names hold a role word are left alone.
        assert_eq!(
            b("Health and Safety Executive").as_deref(),
            Some("Health and Safety Executive")
        );
        assert_eq!(
            b("National Police Chiefs\u{2019} Council").as_deref(),
            Some("National Police Chiefs' Council")
        );
        assert_eq!(
            b("Association of Ambulance Chief Executives").as_deref(),
            Some("Association of Ambulance Chief Executives")
        );
    }

    #[test]
    fn spellings_of_one_body_share_a_key_and_a_code() {
        let same = [
            (
                "Betsi Cadwaladr University Health Board",
                "Betsi Cadwaladr University Health Board BCUHB",
            ),
            (
                "Pennine Care NHS Trust",
                "Pennine Care NHS Foundation Trust",
            ),
            (
                "Barts Health NHS Trust",
                "Barts Health NHS Foundation Trust",
            ),
            ("Metropolitan Police", "Metropolitan Police Service"),
            (
                "Medicines & Healthcare products Regulatory Agency",
                "Medicines and Healthcare Products Regulatory Agency",
            ),
            (
                "National Institute for Health and Care Excellence (NICE)",
                "The National Institute for Health & Care Excellence",
            ),
            (
                "Midlands Partnership NHS Foundation trust",
                "Midlands Partnership NHS Foundation Trust",
            ),
        ];
        for (a, b) in same {
            assert_eq!(body_key(a), body_key(b), "{a} / {b}");
            assert_eq!(unverified_code(a), unverified_code(b), "{a} / {b}");
        }
        assert_ne!(
            unverified_code("Leeds City Council"),
            unverified_code("Leeds Teaching Hospitals NHS Trust")
        );
        let c = unverified_code("Leeds Teaching Hospitals NHS Trust");
        assert!(c.as_str().starts_with("LEEDTEACHO"), "{c}");
        assert!(c.as_str().len() <= 16);
        assert!(unverified_code("3D Trans").as_str().starts_with('O'));
    }

    #[test]
    fn kinds_are_guessed_from_the_words() {
        let k = |s: &str| guess_kind(s);
        assert_eq!(k("Greater Manchester Police").0, OrgKind::Police);
        assert_eq!(k("Kent Constabulary").0, OrgKind::Police);
        assert_eq!(k("HMP Ryehill").0, OrgKind::Prison);
        assert_eq!(k("Birmingham City Council").0, OrgKind::LocalAuthority);
        assert_eq!(
            k("Wales Ambulance Service NHS Trust").1,
            Some(ProviderKind::AmbulanceService)
        );
        assert_eq!(
            k("Pennine Care NHS Foundation Trust").1,
            None.or(k("Pennine Care NHS Foundation Trust").1)
        );
        assert_eq!(
            k("Greater Manchester Mental Health NHS Foundation Trust").1,
            Some(ProviderKind::MentalHealthTrust)
        );
        assert_eq!(k("Mill View Nursing Home").1, Some(ProviderKind::CareHome));
        assert_eq!(
            k("Leeds Teaching Hospitals NHS Trust").1,
            Some(ProviderKind::AcuteTrust)
        );
        assert_eq!(
            k("Rocky Lane Medical Centre").1,
            Some(ProviderKind::GpPractice)
        );
        assert_eq!(
            k("NHS Trafford Clinical Commissioning Group").0,
            OrgKind::Icb
        );
        assert_eq!(k("Department for Transport").0, OrgKind::Government);
        assert_eq!(
            k("Royal College of Radiologists").0,
            OrgKind::ProfessionalBody
        );
        assert_eq!(k("Whirlpool UK").0, OrgKind::Other);
    }

    #[test]
    fn an_unverified_organisation_keeps_the_name_as_written() {
        let o = unverified_organisation("Chief Executive, Northmoor Hospitals NHS Trust").unwrap();
        assert_eq!(o.name, "Northmoor Hospitals NHS Trust");
        assert_eq!(
            o.aliases,
            vec!["Chief Executive, Northmoor Hospitals NHS Trust"]
        );
        assert_eq!(o.status, OrgStatus::Unverified);
        assert_eq!(o.kind, OrgKind::Provider);
        assert!(unverified_organisation("Chief Executive").is_none());
    }
}
