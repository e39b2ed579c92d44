//! The index's fields and how a recommendation becomes a document.

use chrono::{Datelike, NaiveDate};
use concord_domain::Recommendation;
use concord_domain::{OrgCode, RecommendationId};
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::{TantivyDocument, Term};

use crate::analysis::{CLINICAL, CLINICAL_PAIRS};

/// Bumped whenever the schema or the analysis changes: an index written
/// under another version is refused on open, asking for `concord reindex`.
pub const SCHEMA_VERSION: u32 = 4;

/// The facet dimensions, in the order the results list them.
pub const FACETS: &[&str] = &[
    "issuer",
    "addressee",
    "kind",
    "theme",
    "setting",
    "status",
    "year",
];

#[derive(Debug, Clone)]
pub struct Fields {
    pub id: Field,
    pub title: Field,
    pub text: Field,
    pub addressees: Field,
    pub issuer: Field,
    pub themes: Field,
    pub settings: Field,
    pub source_title: Field,
    pub responses: Field,
    /// Each full-text field's word pairs, in the order of [`boosted`]: the
    /// same text analysed by [`crate::analysis::WordPairs`], without
    /// positions, so that two-word phrases are single terms.
    pub pairs: [Field; 8],
    /// Every facet value as `/dimension/value`.
    pub facets: Field,
    /// Exact-match filter keys (not analysed).
    pub k_issuer: Field,
    pub k_addressee: Field,
    /// Each addressee's written name as a [`key`], alone: the listing's
    /// filter matches part of a name, and must not match a code.
    pub k_addressee_name: Field,
    pub k_theme: Field,
    pub k_setting: Field,
    pub k_status: Field,
    pub k_kind: Field,
    /// Publication date as days since 1970-01-01 (absent when undated).
    pub published: Field,
    /// The register's listing order as three numbers ([`ListingKey`]).
    pub listing: [Field; 3],
}

/// Full-text fields and their BM25 boosts: the text first. Chosen on the
/// dev split of the held-out queries (`evaluation/`): a coroner's report's
/// title is its own first sentence, so a title weighted above the text
/// counted those words twice and ranked reports by their opening words
/// (title 3.0: dev MRR 0.79; 0.4: 0.86, with the other fields lowered too);
/// replies and the source's name are long and say much that the record
/// does not, so they weigh least.
pub fn boosted(f: &Fields) -> [(Field, f32); 8] {
    [
        (f.title, 0.4),
        (f.text, 1.0),
        (f.themes, 0.5),
        (f.source_title, 0.4),
        (f.addressees, 0.6),
        (f.issuer, 0.6),
        (f.settings, 0.6),
        (f.responses, 0.1),
    ]
}

/// Each full-text field with its word-pair field and its boost.
pub fn boosted_with_pairs(f: &Fields) -> [(Field, Field, f32); 8] {
    let b = boosted(f);
    std::array::from_fn(|i| (b[i].0, f.pairs[i], b[i].1))
}

/// The word-pair field of a full-text field.
pub fn pairs_of(f: &Fields, field: Field) -> Option<Field> {
    boosted_with_pairs(f)
        .into_iter()
        .find(|(full, _, _)| *full == field)
        .map(|(_, pairs, _)| pairs)
}

pub fn build_schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let pair_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(CLINICAL_PAIRS)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let mut pair = |name: &str| b.add_text_field(&format!("{name}_pairs"), pair_options.clone());
    // The order of `boosted`.
    let pairs = [
        pair("title"),
        pair("text"),
        pair("themes"),
        pair("source_title"),
        pair("addressees"),
        pair("issuer"),
        pair("settings"),
        pair("responses"),
    ];
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(CLINICAL)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text_stored = TextOptions::default()
        .set_indexing_options(indexing.clone())
        .set_stored();
    let text = TextOptions::default().set_indexing_options(indexing);
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        title: b.add_text_field("title", text_stored.clone()),
        text: b.add_text_field("text", text_stored),
        addressees: b.add_text_field("addressees", text.clone()),
        issuer: b.add_text_field("issuer", text.clone()),
        themes: b.add_text_field("themes", text.clone()),
        settings: b.add_text_field("settings", text.clone()),
        source_title: b.add_text_field("source_title", text.clone()),
        responses: b.add_text_field("responses", text),
        pairs,
        facets: b.add_facet_field("facets", FacetOptions::default()),
        k_issuer: b.add_text_field("k_issuer", STRING),
        k_addressee: b.add_text_field("k_addressee", STRING),
        k_addressee_name: b.add_text_field("k_addressee_name", STRING),
        k_theme: b.add_text_field("k_theme", STRING),
        k_setting: b.add_text_field("k_setting", STRING),
        k_status: b.add_text_field("k_status", STRING),
        k_kind: b.add_text_field("k_kind", STRING),
        published: b.add_i64_field("published", INDEXED | FAST),
        listing: LISTING.map(|name| b.add_u64_field(name, FAST)),
    };
    (b.build(), fields)
}

/// The names of the [`Fields::listing`] columns, compared in this order.
pub const LISTING: [&str; 3] = ["listing_when", "listing_issuer", "listing_number"];

/// A record's place in the register's listing as three numbers that,
/// compared in turn, sort in the database's order for it (`published DESC
/// NULLS LAST, issuer, year, seq`): dated records first, newest first;
/// then by issuer code (letters and digits, so byte order is the
/// database's order), year and number. Numbers, not one byte string,
/// because a page of a sorted listing then merges its segments' best
/// documents without a dictionary lookup for each (bytes cost ~9,000 of
/// them at page 20 of a million records). The id can be read back
/// ([`ListingKey::id`]).
///
/// - `when`: undated (1 bit), the day inverted (28 bits: every date chrono
///   has lies within 2^27 days of 1970), the issuer's first 6 characters;
/// - `issuer`: the issuer's characters 7 to 16;
/// - `number`: year and number.
///
/// An issuer's characters are base-37 digits, 0 for none, so a code sorts
/// before a longer one it begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ListingKey {
    pub when: u64,
    pub issuer: u64,
    pub number: u64,
}

const DAY_BITS: u32 = 28;
const ISSUER_HEAD: usize = 6;
const ISSUER_TAIL: usize = OrgCode::MAX_LEN - ISSUER_HEAD;

impl ListingKey {
    pub fn new(id: &RecommendationId, published: Option<NaiveDate>) -> ListingKey {
        let code = id.issuer.as_str().as_bytes();
        let head = base37(code, ISSUER_HEAD);
        let tail = base37(code.get(ISSUER_HEAD..).unwrap_or(&[]), ISSUER_TAIL);
        let when = match published {
            Some(p) => {
                let half = 1i64 << (DAY_BITS - 1);
                let day = (day_number(p) + half).clamp(0, (1 << DAY_BITS) - 1) as u64;
                // Newest first: the largest day gets the smallest number.
                ((1 << DAY_BITS) - 1 - day) << 32
            }
            None => 1 << (DAY_BITS + 32),
        };
        ListingKey {
            when: when | head,
            issuer: tail,
            number: (u64::from(id.year) << 32) | u64::from(id.seq),
        }
    }

    /// The id the key was made from (`None` if it was not made by [`ListingKey::new`]).
    pub fn id(&self) -> Option<RecommendationId> {
        let mut chars = [0u8; OrgCode::MAX_LEN];
        let (head, tail) = chars.split_at_mut(ISSUER_HEAD);
        from_base37(self.when & 0xFFFF_FFFF, head)?;
        from_base37(self.issuer, tail)?;
        // The code ends at its first empty digit, and nothing may follow it.
        let end = chars.iter().position(|&c| c == 0).unwrap_or(chars.len());
        if chars[end..].iter().any(|&c| c != 0) {
            return None;
        }
        let issuer = OrgCode::parse(std::str::from_utf8(&chars[..end]).ok()?).ok()?;
        let year = u16::try_from(self.number >> 32).ok()?;
        RecommendationId::new(issuer, year, self.number as u32).ok()
    }
}

/// `chars` (letters and digits) as a `width`-digit base-37 number, order-preserving.
fn base37(chars: &[u8], width: usize) -> u64 {
    (0..width).fold(0u64, |n, i| {
        let digit = match chars.get(i) {
            Some(c @ b'0'..=b'9') => u64::from(c - b'0') + 1,
            Some(c @ b'A'..=b'Z') => u64::from(c - b'A') + 11,
            _ => 0,
        };
        n * 37 + digit
    })
}

/// Fills `chars` with the characters [`base37`] made `n` from (0 for none);
/// `None` if `n` has more digits than `chars` holds.
fn from_base37(mut n: u64, chars: &mut [u8]) -> Option<()> {
    for c in chars.iter_mut().rev() {
        *c = match n % 37 {
            0 => 0,
            d @ 1..=10 => b'0' + (d - 1) as u8,
            d => b'A' + (d - 11) as u8,
        };
        n /= 37;
    }
    (n == 0).then_some(())
}

/// Days since the Unix epoch, the form dates are indexed in.
pub fn day_number(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::default()).num_days()
}

/// A filter key: trimmed and lower-cased (themes, settings, addressee names).
pub fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

pub fn id_term(f: &Fields, id: &str) -> Term {
    Term::from_field_text(f.id, id)
}

/// The document for one recommendation.
pub fn document(f: &Fields, rec: &Recommendation) -> TantivyDocument {
    let d = &rec.data;
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, rec.id.to_string());
    let listing = ListingKey::new(&rec.id, d.published);
    for (field, n) in f
        .listing
        .iter()
        .zip([listing.when, listing.issuer, listing.number])
    {
        doc.add_u64(*field, n);
    }
    add_full(&mut doc, f, f.title, &d.title);
    add_full(&mut doc, f, f.text, &d.text);
    add_full(&mut doc, f, f.issuer, d.issuer.as_str());
    doc.add_text(f.k_issuer, d.issuer.as_str());
    doc.add_text(f.k_status, d.status.as_str());
    doc.add_text(f.k_kind, d.kind.as_str());
    let facet = |dim: &str, v: &str| Facet::from_path([dim, &v.replace('\0', "")]);
    doc.add_facet(f.facets, facet("issuer", d.issuer.as_str()));
    doc.add_facet(f.facets, facet("status", d.status.as_str()));
    doc.add_facet(f.facets, facet("kind", d.kind.as_str()));
    if let Some(p) = d.published {
        doc.add_i64(f.published, day_number(p));
        doc.add_facet(f.facets, facet("year", &p.year().to_string()));
    }
    let mut seen_addr = Vec::new();
    for a in &d.addressees {
        add_full(&mut doc, f, f.addressees, &a.name);
        doc.add_text(f.k_addressee, key(&a.name));
        doc.add_text(f.k_addressee_name, key(&a.name));
        let label = match &a.org {
            Some(org) => {
                add_full(&mut doc, f, f.addressees, org.as_str());
                doc.add_text(f.k_addressee, org.as_str());
                org.as_str().to_string()
            }
            None => a.name.trim().to_string(),
        };
        if !label.is_empty() && !seen_addr.contains(&label) {
            doc.add_facet(f.facets, facet("addressee", &label));
            seen_addr.push(label);
        }
        for r in &a.responses {
            if let Some(t) = &r.text {
                add_full(&mut doc, f, f.responses, t);
            }
            if let Some(t) = &r.respondent {
                add_full(&mut doc, f, f.responses, t);
            }
        }
    }
    let mut seen = Vec::new();
    for t in &d.themes {
        add_full(&mut doc, f, f.themes, t);
        let k = key(t);
        if !k.is_empty() && !seen.contains(&k) {
            doc.add_text(f.k_theme, &k);
            doc.add_facet(f.facets, facet("theme", &k));
            seen.push(k);
        }
    }
    seen.clear();
    for s in &d.settings {
        add_full(&mut doc, f, f.settings, s);
        let k = key(s);
        if !k.is_empty() && !seen.contains(&k) {
            doc.add_text(f.k_setting, &k);
            doc.add_facet(f.facets, facet("setting", &k));
            seen.push(k);
        }
    }
    if let Some(src) = &d.source
        && let Some(t) = &src.title
    {
        add_full(&mut doc, f, f.source_title, t);
    }
    doc
}

/// Adds a value to a full-text field and to its word-pair field.
fn add_full(doc: &mut TantivyDocument, f: &Fields, field: Field, value: &str) {
    doc.add_text(field, value);
    if let Some(pairs) = pairs_of(f, field) {
        doc.add_text(pairs, value);
    }
}
