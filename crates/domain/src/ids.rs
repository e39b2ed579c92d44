//! Identifiers: Concord's own `ISSUER-YYYY-NNNN` and the external forms we
//! recognise inside free text (coroners' PFD references, NTSB numbers).

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::DomainError;

/// An organisation's short code: `HSSIB`, `NHSE`, `PFD`... Upper-case ASCII
/// letters and digits, starting with a letter, 2 to 16 characters. The code
/// is the first part of every identifier the organisation issues, so it must
/// never contain the `-` separator.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrgCode(String);

impl OrgCode {
    pub const MAX_LEN: usize = 16;

    /// Accepts any case (codes are typed by people) and normalises to upper case.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim().to_ascii_uppercase();
        let ok = (2..=Self::MAX_LEN).contains(&t.len())
            && t.starts_with(|c: char| c.is_ascii_uppercase())
            && t.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(OrgCode(t))
        } else {
            Err(DomainError::invalid(
                "org",
                format!(
                    "{s:?} is not an organisation code (2-16 letters and digits, starting with a letter, e.g. HSSIB)"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for OrgCode {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for OrgCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for OrgCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        OrgCode::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `ISSUER-YYYY-NNNN`: issuer code, year of issue, a sequence per issuer and
/// year of at least four digits. Never reused and never changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecommendationId {
    pub issuer: OrgCode,
    pub year: u16,
    pub seq: u32,
}

impl RecommendationId {
    pub const MIN_YEAR: u16 = 1900;
    pub const MAX_YEAR: u16 = 2999;

    pub fn new(issuer: OrgCode, year: u16, seq: u32) -> Result<Self, DomainError> {
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(DomainError::invalid(
                "id",
                format!("year {year} is out of range 1900-2999"),
            ));
        }
        if seq == 0 {
            return Err(DomainError::invalid("id", "sequence numbers start at 1"));
        }
        Ok(RecommendationId { issuer, year, seq })
    }

    /// Parses the canonical form. Case-insensitive; rejects non-canonical
    /// zero padding so that every id has exactly one spelling.
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "id",
                format!(
                    "{s:?} is not a Concord identifier (ISSUER-YYYY-NNNN, e.g. HSSIB-2024-0012)"
                ),
            )
        };
        let t = s.trim();
        let mut parts = t.split('-');
        let (Some(code), Some(year), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let issuer = OrgCode::parse(code).map_err(|_| bad())?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        if seq.len() < 4
            || !seq.bytes().all(|b| b.is_ascii_digit())
            || (seq.len() > 4 && seq.starts_with('0'))
        {
            return Err(bad());
        }
        let year: u16 = year.parse().map_err(|_| bad())?;
        let seq: u32 = seq.parse().map_err(|_| bad())?;
        Self::new(issuer, year, seq).map_err(|_| bad())
    }
}

impl fmt::Display for RecommendationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:04}", self.issuer, self.year, self.seq)
    }
}

impl FromStr for RecommendationId {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for RecommendationId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecommendationId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RecommendationId::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A reference to a recommendation, in Concord's form or a known external one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    Concord(RecommendationId),
    /// A coroner's Prevention of Future Deaths report, `2024-0079`.
    Pfd {
        year: u16,
        number: u32,
    },
    /// A US NTSB safety recommendation, `A-19-001` (mode letter, two-digit year, number).
    Ntsb {
        mode: String,
        year: u8,
        number: u16,
    },
}

impl Reference {
    /// The Concord identifier this reference maps to, where there is one:
    /// PFD reports are registered under the `PFD` issuer with their own number.
    pub fn concord_id(&self) -> Option<RecommendationId> {
        match self {
            Reference::Concord(id) => Some(id.clone()),
            Reference::Pfd { year, number } => {
                RecommendationId::new(OrgCode(PFD_CODE.to_string()), *year, *number).ok()
            }
            Reference::Ntsb { .. } => None,
        }
    }

    /// Parses one reference written on its own (the whole string).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let t = s.trim();
        if let Ok(id) = RecommendationId::parse(t) {
            return Ok(Reference::Concord(id));
        }
        if let Some(r) = parse_pfd_ref(t) {
            return Ok(r);
        }
        if let Some(c) = NTSB_RE.captures(t)
            && c.get(0).map(|m| m.as_str().len()) == Some(t.len())
        {
            return Ok(ntsb_from(&c));
        }
        Err(DomainError::invalid(
            "reference",
            format!(
                "{s:?} is not a recognised reference (Concord id, PFD 2024-0079 or NTSB A-19-001)"
            ),
        ))
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Concord(id) => write!(f, "{id}"),
            Reference::Pfd { year, number } => write!(f, "{year:04}-{number:04}"),
            Reference::Ntsb { mode, year, number } => write!(f, "{mode}-{year:02}-{number:03}"),
        }
    }
}

/// The issuer code under which coroners' reports are registered.
pub const PFD_CODE: &str = "PFD";

/// Parses a judiciary PFD reference as it is written in the wild:
/// `2024-0079`, `2016 – 0301`, `2019-123`. Returns None for anything else.
pub fn parse_pfd_ref(s: &str) -> Option<Reference> {
    let c = PFD_RE.captures(s.trim())?;
    if c.get(0)?.as_str().len() != s.trim().len() {
        return None;
    }
    pfd_from(&c)
}

static CONCORD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([A-Za-z][A-Za-z0-9]{1,15})-(\d{4})-(\d{4,9})\b").unwrap());
static PFD_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b((?:19|20)\d{2})\s*[-\u{2010}-\u{2015}\u{2212}]\s*(\d{1,5})\b").unwrap()
});
static NTSB_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([AHIMPR])-(\d{2})-(\d{3})\b").unwrap());

fn pfd_from(c: &regex::Captures<'_>) -> Option<Reference> {
    let year: u16 = c[1].parse().ok()?;
    let num_s = &c[2];
    let number: u32 = num_s.parse().ok()?;
    // "2019-2020" is a span of years, not a report number.
    if num_s.len() == 4
        && (num_s.starts_with("19") || num_s.starts_with("20"))
        && number >= u32::from(year)
    {
        return None;
    }
    if number == 0 {
        return None;
    }
    Some(Reference::Pfd { year, number })
}

fn ntsb_from(c: &regex::Captures<'_>) -> Reference {
    Reference::Ntsb {
        mode: c[1].to_string(),
        year: c[2].parse().unwrap_or(0),
        number: c[3].parse().unwrap_or(0),
    }
}

/// A reference found inside free text, with its byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundReference {
    pub start: usize,
    pub end: usize,
    pub reference: Reference,
}

/// Finds every identifier mentioned in `text`, in order of appearance. A
/// Concord id wins over the PFD-looking number inside it.
pub fn find_references(text: &str) -> Vec<FoundReference> {
    let mut found: Vec<FoundReference> = Vec::new();
    for c in CONCORD_RE.captures_iter(text) {
        let m = c.get(0).expect("group 0");
        // Only canonical ids count; the code must be upper case in running text
        // so that words like "covid-2020-..." do not turn into links.
        if c[1].chars().any(|ch| ch.is_ascii_lowercase()) {
            continue;
        }
        if let Ok(id) = RecommendationId::parse(m.as_str()) {
            found.push(FoundReference {
                start: m.start(),
                end: m.end(),
                reference: Reference::Concord(id),
            });
        }
    }
    let overlaps = |found: &[FoundReference], s: usize, e: usize| {
        found.iter().any(|f| s < f.end && f.start < e)
    };
    let mut extra = Vec::new();
    for c in PFD_RE.captures_iter(text) {
        let m = c.get(0).expect("group 0");
        if overlaps(&found, m.start(), m.end()) {
            continue;
        }
        // A PFD number has at least three digits; "2020-21" is a financial year.
        if c[2].len() < 3 {
            continue;
        }
        if let Some(r) = pfd_from(&c) {
            extra.push(FoundReference {
                start: m.start(),
                end: m.end(),
                reference: r,
            });
        }
    }
    for c in NTSB_RE.captures_iter(text) {
        let m = c.get(0).expect("group 0");
        if overlaps(&found, m.start(), m.end()) {
            continue;
        }
        extra.push(FoundReference {
            start: m.start(),
            end: m.end(),
            reference: ntsb_from(&c),
        });
    }
    found.extend(extra);
    found.sort_by_key(|f| f.start);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_prints_canonical_ids() {
        let id = RecommendationId::parse("HSSIB-2024-0012").unwrap();
        assert_eq!(id.issuer.as_str(), "HSSIB");
        assert_eq!((id.year, id.seq), (2024, 12));
        assert_eq!(id.to_string(), "HSSIB-2024-0012");
        assert_eq!(RecommendationId::parse("hssib-2024-0012").unwrap(), id);
        assert_eq!(
            RecommendationId::parse("PFD-2024-12345")
                .unwrap()
                .to_string(),
            "PFD-2024-12345"
        );
    }

    #[test]
    fn rejects_malformed_ids() {
        for bad in [
            "",
            "HSSIB",
            "HSSIB-2024",
            "HSSIB-2024-12",
            "HSSIB-24-0012",
            "HSSIB-2024-00012",
            "HSSIB-2024-0000",
            "1HSSIB-2024-0012",
            "H-2024-0012",
            "HSSIB-2024-0012-1",
            "HS SIB-2024-0012",
            "HSSIB-1800-0012",
            "HSSIB-2024-99999999999",
        ] {
            assert!(
                RecommendationId::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn recognises_external_forms() {
        assert_eq!(
            Reference::parse("2024-0079").unwrap(),
            Reference::Pfd {
                year: 2024,
                number: 79
            }
        );
        assert_eq!(
            Reference::parse("2016 – 0301").unwrap(),
            Reference::Pfd {
                year: 2016,
                number: 301
            }
        );
        assert_eq!(
            Reference::parse("2024-0079")
                .unwrap()
                .concord_id()
                .unwrap()
                .to_string(),
            "PFD-2024-0079"
        );
        assert_eq!(
            Reference::parse("A-19-001").unwrap(),
            Reference::Ntsb {
                mode: "A".into(),
                year: 19,
                number: 1
            }
        );
        assert!(Reference::parse("2019-2020").is_err());
        assert!(Reference::parse("hello").is_err());
    }

    #[test]
    fn finds_ids_in_text() {
        let text = "This builds on HSSIB-2023-0004 and the coroner's report 2022-0187 (see also \
                    NTSB A-19-001), covering 2019-2020 and the 2020-21 financial year.";
        let found: Vec<String> = find_references(text)
            .into_iter()
            .map(|f| f.reference.to_string())
            .collect();
        assert_eq!(found, vec!["HSSIB-2023-0004", "2022-0187", "A-19-001"]);
    }

    #[test]
    fn finds_references_with_odd_dashes() {
        let found = find_references("Ref: 2016 – 0301.");
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].reference,
            Reference::Pfd {
                year: 2016,
                number: 301
            }
        );
    }

    fn code() -> impl Strategy<Value = String> {
        "[A-Z][A-Z0-9]{1,15}"
    }

    proptest! {
        #[test]
        fn id_round_trips(code in code(), year in 1900u16..=2999, seq in 1u32..=999_999_999) {
            let id = RecommendationId::new(OrgCode::parse(&code).unwrap(), year, seq).unwrap();
            let s = id.to_string();
            prop_assert_eq!(RecommendationId::parse(&s).unwrap(), id.clone());
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<RecommendationId>(&json).unwrap(), id);
        }

        #[test]
        fn parser_never_panics(s in "\\PC{0,60}") {
            let _ = RecommendationId::parse(&s);
            let _ = Reference::parse(&s);
            let _ = find_references(&s);
        }

        #[test]
        fn ids_embedded_in_prose_are_found(
            code in code(), year in 1900u16..=2999, seq in 1u32..=99_999,
            before in "[a-z ,.]{0,30}", after in "[a-z ,.]{0,30}",
        ) {
            let id = RecommendationId::new(OrgCode::parse(&code).unwrap(), year, seq).unwrap();
            let text = format!("{before} {id} {after}");
            let found = find_references(&text);
            prop_assert_eq!(found.len(), 1);
            prop_assert_eq!(&found[0].reference, &Reference::Concord(id.clone()));
            prop_assert_eq!(&text[found[0].start..found[0].end], id.to_string());
        }

        #[test]
        fn found_spans_are_char_boundaries(s in "\\PC{0,80}") {
            for f in find_references(&s) {
                prop_assert!(s.is_char_boundary(f.start) && s.is_char_boundary(f.end));
            }
        }
    }
}

#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

    fn string_schema(pattern: &str, example: &str, description: &str) -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(pattern))
            .examples([serde_json::Value::from(example)])
            .description(Some(description))
            .into()
    }

    impl utoipa::PartialSchema for super::OrgCode {
        fn schema() -> RefOr<Schema> {
            string_schema(
                "^[A-Z][A-Z0-9]{1,15}$",
                "HSSIB",
                "An organisation's short code.",
            )
        }
    }
    impl utoipa::ToSchema for super::OrgCode {}

    impl utoipa::PartialSchema for super::RecommendationId {
        fn schema() -> RefOr<Schema> {
            string_schema(
                "^[A-Z][A-Z0-9]{1,15}-[0-9]{4}-[0-9]{4,}$",
                "HSSIB-2024-0012",
                "ISSUER-YYYY-NNNN: issuer code, year of issue, sequence per issuer and year.",
            )
        }
    }
    impl utoipa::ToSchema for super::RecommendationId {}
}
