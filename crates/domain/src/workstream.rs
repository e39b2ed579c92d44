//! Ongoing work at a body (the register of workstreams): identifiers, what a
//! body sends when it registers or edits one, the rules a workstream must
//! keep, who may see it, and what two workstreams (or a workstream and a
//! recommendation) have in common.
//!
//! Identifiers are `WS-LEAD-YYYY-NNN`, for example `WS-HSSIB-2025-001`: the
//! lead body's code, the year the workstream was registered, and a sequence
//! per lead and year (at least three digits). Like a recommendation's id it
//! is never reused and never changed, so the lead of a workstream is fixed.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{MAX_TEXT_BYTES, MAX_TITLE_CHARS, Workstream, WorkstreamStatus};
use crate::{DomainError, FieldError, OrgCode, RecommendationId};

/// Longest contact field (an address, a team's mailbox, a web page).
pub const MAX_CONTACT_CHARS: usize = 500;
/// Most themes, settings, partners or recommendations on one workstream.
pub const MAX_LIST: usize = 200;

/// A workstream's identifier: `WS-LEAD-YYYY-NNN`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkstreamId {
    pub lead: OrgCode,
    pub year: u16,
    pub seq: u32,
}

impl WorkstreamId {
    pub fn new(lead: OrgCode, year: u16, seq: u32) -> Result<Self, DomainError> {
        if !(1900..=9999).contains(&year) || seq == 0 || seq > 999_999 {
            return Err(DomainError::invalid(
                "id",
                format!("WS-{lead}-{year}-{seq:03} is not a workstream identifier"),
            ));
        }
        Ok(WorkstreamId { lead, year, seq })
    }

    /// Reads `WS-HSSIB-2025-001` (case-insensitive, trimmed).
    pub fn parse(s: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::invalid(
                "id",
                format!(
                    "{s:?} is not a workstream identifier (WS-LEAD-YYYY-NNN, e.g. WS-HSSIB-2025-001)"
                ),
            )
        };
        let t = s.trim().to_ascii_uppercase();
        let mut parts = t.split('-');
        let (Some("WS"), Some(lead), Some(year), Some(seq), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(bad());
        };
        let lead = OrgCode::parse(lead).map_err(|_| bad())?;
        if year.len() != 4
            || !year.bytes().all(|b| b.is_ascii_digit())
            || !(3..=6).contains(&seq.len())
            || !seq.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year: u16 = year.parse().map_err(|_| bad())?;
        let seq: u32 = seq.parse().map_err(|_| bad())?;
        WorkstreamId::new(lead, year, seq).map_err(|_| bad())
    }

    /// The prefix every id of this lead and year starts with (`WS-HSSIB-2025-`).
    pub fn prefix(lead: &OrgCode, year: u16) -> String {
        format!("WS-{lead}-{year}-")
    }
}

impl fmt::Display for WorkstreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WS-{}-{}-{:03}", self.lead, self.year, self.seq)
    }
}

/// A stored workstream: what its lead wrote, plus version and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredWorkstream {
    #[serde(flatten)]
    pub workstream: Workstream,
    /// Starts at 1; every accepted edit adds one. An edit naming an older
    /// version is refused.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl StoredWorkstream {
    pub fn id(&self) -> &str {
        &self.workstream.id
    }
}

/// Fields a body may send when it registers a workstream (and, all
/// optional, when it edits one).
pub const FIELDS: &[&str] = &[
    "id",
    "title",
    "aim",
    "lead",
    "partners",
    "themes",
    "settings",
    "status",
    "start",
    "expected_end",
    "contact",
    "public",
    "recommendations",
];

/// Fields an edit may not change.
pub const FIXED: &[&str] = &["id", "lead", "version", "created_at", "updated_at"];

fn push(errors: &mut Vec<FieldError>, field: impl Into<String>, msg: impl Into<String>) {
    errors.push(FieldError::new(field, msg));
}

fn finish<T>(value: T, mut errors: Vec<FieldError>) -> Result<T, DomainError> {
    match errors.len() {
        0 => Ok(value),
        1 => Err(DomainError::Invalid(errors.remove(0))),
        _ => Err(DomainError::InvalidMany(errors)),
    }
}

fn opt_string(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&Value>,
) -> Option<Option<String>> {
    match v {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => {
            let t = s.trim();
            Some((!t.is_empty()).then(|| t.to_string()))
        }
        Some(_) => {
            push(errors, field, "must be text");
            None
        }
    }
}

fn string_list(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&Value>,
) -> Option<Vec<String>> {
    match v {
        None => None,
        Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    _ => push(errors, format!("{field}[{i}]"), "must be text"),
                }
            }
            Some(out)
        }
        Some(Value::String(s)) => Some(vec![s.clone()]),
        Some(_) => {
            push(errors, field, "must be a list of text values");
            None
        }
    }
}

fn date_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&Value>,
) -> Option<Option<NaiveDate>> {
    let s = opt_string(errors, field, v)?;
    match s {
        None => Some(None),
        Some(s) => match parse_plain_date(&s) {
            Some(d) => Some(Some(d)),
            None => {
                push(
                    errors,
                    field,
                    format!("{s:?} is not a date in the form YYYY-MM-DD"),
                );
                None
            }
        },
    }
}

fn parse_plain_date(v: &str) -> Option<NaiveDate> {
    let plain = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    plain
        .then(|| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .flatten()
}

/// Applies the fields of a JSON object to `ws` (a new, empty workstream or
/// the current one for an edit), collecting every problem with its field.
/// Unknown fields are refused, so that a misspelt field is never silently
/// dropped. Identity (`id`, `lead`) is left to the caller.
fn apply_fields(ws: &mut Workstream, body: &serde_json::Map<String, Value>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for key in body.keys() {
        if !FIELDS.contains(&key.as_str()) && !FIXED.contains(&key.as_str()) {
            push(
                &mut errors,
                key.clone(),
                format!("is not a workstream field (fields: {})", FIELDS.join(", ")),
            );
        }
    }
    if let Some(v) = body.get("title") {
        match v {
            Value::String(s) => ws.title = s.clone(),
            _ => push(&mut errors, "title", "must be text"),
        }
    }
    if let Some(a) = opt_string(&mut errors, "aim", body.get("aim")) {
        ws.aim = a;
    }
    if let Some(c) = opt_string(&mut errors, "contact", body.get("contact")) {
        ws.contact = c;
    }
    if let Some(list) = string_list(&mut errors, "themes", body.get("themes")) {
        ws.themes = list;
    }
    if let Some(list) = string_list(&mut errors, "settings", body.get("settings")) {
        ws.settings = list;
    }
    if let Some(list) = string_list(&mut errors, "partners", body.get("partners")) {
        let mut codes = Vec::with_capacity(list.len());
        for (i, p) in list.iter().enumerate() {
            match OrgCode::parse(p) {
                Ok(c) => codes.push(c),
                Err(_) => push(
                    &mut errors,
                    format!("partners[{i}]"),
                    format!(
                        "{p:?} is not an organisation code (2-16 letters and digits, starting with a letter, e.g. CQC)"
                    ),
                ),
            }
        }
        ws.partners = codes;
    }
    if let Some(list) = string_list(&mut errors, "recommendations", body.get("recommendations")) {
        let mut ids = Vec::with_capacity(list.len());
        for (i, r) in list.iter().enumerate() {
            match RecommendationId::parse(r) {
                Ok(id) => ids.push(id),
                Err(_) => push(
                    &mut errors,
                    format!("recommendations[{i}]"),
                    format!(
                        "{r:?} is not a recommendation identifier (ISSUER-YYYY-NNNN, e.g. HSSIB-2024-0012)"
                    ),
                ),
            }
        }
        ws.recommendations = ids;
    }
    if let Some(v) = body.get("status") {
        match v {
            Value::String(s) => match s.parse::<WorkstreamStatus>() {
                Ok(st) => ws.status = st,
                Err(e) => push(&mut errors, "status", e),
            },
            Value::Null => push(
                &mut errors,
                "status",
                format!("is required: one of {}", WorkstreamStatus::allowed()),
            ),
            _ => push(&mut errors, "status", "must be text"),
        }
    }
    if let Some(d) = date_field(&mut errors, "start", body.get("start")) {
        ws.start = d;
    }
    if let Some(d) = date_field(&mut errors, "expected_end", body.get("expected_end")) {
        ws.expected_end = d;
    }
    if let Some(v) = body.get("public") {
        match v {
            Value::Bool(b) => ws.public = *b,
            Value::Null => ws.public = true,
            _ => push(&mut errors, "public", "must be true or false"),
        }
    }
    errors
}

fn object(body: &Value) -> Result<&serde_json::Map<String, Value>, DomainError> {
    body.as_object().ok_or_else(|| {
        DomainError::invalid("workstream", "must be a JSON object with at least a title")
    })
}

/// Reads a new workstream from what a body sent. `lead` is the lead the
/// caller acts for (an organisation's token); otherwise the body's `lead`
/// is used. The id is left empty (the store allocates it) unless the body
/// gives one, which must then belong to the lead. Status defaults to
/// `active`, `public` to true.
pub fn from_input(body: &Value, lead: Option<&OrgCode>) -> Result<Workstream, DomainError> {
    let obj = object(body)?;
    let mut errors = Vec::new();
    let lead = match (lead, obj.get("lead")) {
        (Some(l), _) => Some(l.clone()),
        (None, Some(Value::String(s))) => match OrgCode::parse(s) {
            Ok(c) => Some(c),
            Err(_) => {
                push(
                    &mut errors,
                    "lead",
                    format!("{s:?} is not an organisation code (e.g. HSSIB)"),
                );
                None
            }
        },
        (None, Some(_)) => {
            push(&mut errors, "lead", "must be an organisation code");
            None
        }
        (None, None) => {
            push(
                &mut errors,
                "lead",
                "is required: the code of the body leading the work",
            );
            None
        }
    };
    let mut ws = Workstream {
        id: String::new(),
        title: String::new(),
        aim: None,
        lead: lead
            .clone()
            .unwrap_or_else(|| OrgCode::parse("XX").expect("XX is a code")),
        partners: Vec::new(),
        themes: Vec::new(),
        settings: Vec::new(),
        status: WorkstreamStatus::Active,
        start: None,
        expected_end: None,
        contact: None,
        public: true,
        recommendations: Vec::new(),
    };
    if let Some(v) = obj.get("id") {
        match v {
            Value::Null => {}
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => match WorkstreamId::parse(s) {
                Ok(id) => {
                    if let Some(l) = &lead
                        && &id.lead != l
                    {
                        push(
                            &mut errors,
                            "id",
                            format!("{id} does not belong to the lead {l}"),
                        );
                    }
                    ws.id = id.to_string();
                }
                Err(e) => errors.extend(e.fields()),
            },
            _ => push(&mut errors, "id", "must be text"),
        }
    }
    if !obj.contains_key("title") {
        push(&mut errors, "title", "is required");
    }
    errors.extend(apply_fields(&mut ws, obj));
    match validate(ws) {
        Ok(ws) => finish(ws, errors),
        Err(e) => {
            // Both lists, without repeating a field already named.
            for f in e.fields() {
                if !errors.iter().any(|x| x.field == f.field) {
                    errors.push(f);
                }
            }
            Err(finish((), errors).err().unwrap_or(e))
        }
    }
}

/// Applies an edit (a JSON object of fields to replace) to the current
/// workstream. `id` and `lead` cannot change.
pub fn apply_edit(current: &Workstream, body: &Value) -> Result<Workstream, DomainError> {
    let obj = object(body)?;
    let mut errors = Vec::new();
    for (f, now) in [("id", current.id.as_str()), ("lead", current.lead.as_str())] {
        if let Some(v) = obj.get(f) {
            let same = v
                .as_str()
                .is_some_and(|s| s.trim().eq_ignore_ascii_case(now));
            if !same {
                push(
                    &mut errors,
                    f,
                    format!("cannot change (it is {now}); register a new workstream instead"),
                );
            }
        }
    }
    let mut ws = current.clone();
    errors.extend(apply_fields(&mut ws, obj));
    if !errors.is_empty() {
        return finish(ws, errors);
    }
    validate(ws)
}

impl Workstream {
    /// Every organisation on the work: the lead, then the partners.
    pub fn bodies(&self) -> impl Iterator<Item = &OrgCode> {
        std::iter::once(&self.lead).chain(self.partners.iter())
    }

    /// Who may see it: everyone if public; otherwise its lead, its partners
    /// and operators (`org` None and `operator` true).
    pub fn visible_to(&self, org: Option<&OrgCode>, operator: bool) -> bool {
        self.public || operator || org.is_some_and(|o| self.bodies().any(|b| b == o))
    }

    /// The text compared for overlaps and searched: title, aim and themes.
    pub fn overlap_text(&self) -> String {
        let mut t = self.aim.clone().unwrap_or_default();
        if !self.themes.is_empty() {
            if !t.is_empty() {
                t.push('\n');
            }
            t.push_str(&self.themes.join(", "));
            t.push('.');
        }
        t
    }
}

/// The rules every stored workstream keeps: a title, tidy tags, partners
/// other than the lead, an expected end on or after the start, no field past
/// its limit. Returns the tidied workstream or every problem found.
pub fn validate(mut ws: Workstream) -> Result<Workstream, DomainError> {
    let mut errors = Vec::new();
    ws.title = ws.title.trim().to_string();
    if ws.title.is_empty() {
        push(&mut errors, "title", "is empty");
    } else if ws.title.chars().count() > MAX_TITLE_CHARS {
        push(
            &mut errors,
            "title",
            format!("is longer than {MAX_TITLE_CHARS} characters"),
        );
    }
    if let Some(aim) = &ws.aim
        && aim.len() > MAX_TEXT_BYTES
    {
        push(
            &mut errors,
            "aim",
            format!("is longer than the limit of {MAX_TEXT_BYTES} bytes"),
        );
    }
    if let Some(c) = &ws.contact
        && c.chars().count() > MAX_CONTACT_CHARS
    {
        push(
            &mut errors,
            "contact",
            format!("is longer than {MAX_CONTACT_CHARS} characters"),
        );
    }
    for (field, tags) in [("themes", &mut ws.themes), ("settings", &mut ws.settings)] {
        let mut seen = BTreeSet::new();
        tags.retain_mut(|t| {
            *t = t.trim().to_string();
            !t.is_empty() && seen.insert(t.to_lowercase())
        });
        if tags.len() > MAX_LIST {
            push(
                &mut errors,
                field,
                format!("has more than {MAX_LIST} values"),
            );
        }
        for t in tags.iter() {
            if t.chars().count() > 200 {
                push(
                    &mut errors,
                    field,
                    format!("{t:?} is longer than 200 characters"),
                );
            }
        }
    }
    for (i, p) in ws.partners.iter().enumerate() {
        if *p == ws.lead {
            push(
                &mut errors,
                format!("partners[{i}]"),
                format!("{p} leads the work; list only the other bodies as partners"),
            );
        }
    }
    let mut kept = BTreeSet::new();
    ws.partners.retain(|p| kept.insert(p.clone()));
    let mut kept = BTreeSet::new();
    ws.recommendations.retain(|r| kept.insert(r.clone()));
    if ws.partners.len() > MAX_LIST || ws.recommendations.len() > MAX_LIST {
        push(
            &mut errors,
            "partners",
            format!("partners and recommendations are limited to {MAX_LIST} each"),
        );
    }
    if let (Some(start), Some(end)) = (ws.start, ws.expected_end)
        && end < start
    {
        push(
            &mut errors,
            "expected_end",
            format!("{end} is before the start {start}: the work cannot end before it starts"),
        );
    }
    if !ws.id.is_empty() {
        match WorkstreamId::parse(&ws.id) {
            Ok(id) if id.lead != ws.lead => push(
                &mut errors,
                "id",
                format!("{id} does not belong to the lead {}", ws.lead),
            ),
            Ok(id) => ws.id = id.to_string(),
            Err(e) => errors.extend(e.fields()),
        }
    }
    finish(ws, errors)
}

/// What two pieces of work have in common, by their tags (compared in lower
/// case) and the bodies and recommendations they name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shared {
    pub themes: Vec<String>,
    pub settings: Vec<String>,
    /// Bodies on both (lead or partner; for a recommendation, its issuer or
    /// an addressee).
    pub bodies: Vec<String>,
    pub recommendations: Vec<String>,
}

impl Shared {
    pub fn is_empty(&self) -> bool {
        self.themes.is_empty()
            && self.settings.is_empty()
            && self.bodies.is_empty()
            && self.recommendations.is_empty()
    }

    /// `shared themes: sepsis; shared settings: acute` (what is not empty).
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (label, v) in [
            ("both answer", &self.recommendations),
            ("shared themes", &self.themes),
            ("shared settings", &self.settings),
            ("shared bodies", &self.bodies),
        ] {
            if !v.is_empty() {
                parts.push(format!("{label}: {}", v.join(", ")));
            }
        }
        parts.join("; ")
    }
}

fn common(a: &[String], b: &[String]) -> Vec<String> {
    let lower: BTreeSet<String> = b.iter().map(|s| s.trim().to_lowercase()).collect();
    let mut seen = BTreeSet::new();
    a.iter()
        .filter(|s| lower.contains(&s.trim().to_lowercase()))
        .filter(|s| seen.insert(s.trim().to_lowercase()))
        .cloned()
        .collect()
}

/// What `a` shares with another workstream `b`.
pub fn shared_with_workstream(a: &Workstream, b: &Workstream) -> Shared {
    let bodies_b: Vec<String> = b.bodies().map(|o| o.to_string()).collect();
    let bodies_a: Vec<String> = a.bodies().map(|o| o.to_string()).collect();
    let recs_a: Vec<String> = a.recommendations.iter().map(|r| r.to_string()).collect();
    let recs_b: Vec<String> = b.recommendations.iter().map(|r| r.to_string()).collect();
    Shared {
        themes: common(&a.themes, &b.themes),
        settings: common(&a.settings, &b.settings),
        bodies: common(&bodies_a, &bodies_b),
        recommendations: common(&recs_a, &recs_b),
    }
}

/// What a workstream shares with a recommendation: themes, settings,
/// bodies (the recommendation's issuer and addressees), and whether the
/// workstream names it.
pub fn shared_with_recommendation(a: &Workstream, rec: &crate::model::Recommendation) -> Shared {
    let mut bodies_r: Vec<String> = vec![rec.data.issuer.to_string()];
    bodies_r.extend(
        rec.data
            .addressees
            .iter()
            .filter_map(|x| x.org.as_ref().map(|o| o.to_string())),
    );
    let bodies_a: Vec<String> = a.bodies().map(|o| o.to_string()).collect();
    Shared {
        themes: common(&a.themes, &rec.data.themes),
        settings: common(&a.settings, &rec.data.settings),
        bodies: common(&bodies_a, &bodies_r),
        recommendations: if a.recommendations.contains(&rec.id) {
            vec![rec.id.to_string()]
        } else {
            Vec::new()
        },
    }
}

/// How the overlap score is made from the similarity engine's text score
/// (title, aim and themes compared; see `concord_similar`) and what the two
/// share. Named weights, held as data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OverlapWeights {
    /// Per shared theme, up to `max_themes` of them.
    pub theme: f64,
    pub max_themes: usize,
    /// One shared care setting or more.
    pub setting: f64,
    /// One shared body or more.
    pub body: f64,
    /// Both answer the same recommendation (or the workstream names it):
    /// an overlap whatever the words.
    pub recommendation: f64,
    /// Below this a text match between two workstreams is not shown: titles
    /// and aims are short, so chance words weigh more than in recommendations.
    pub min_workstream: f64,
    /// The same for a recommendation.
    pub min_recommendation: f64,
}

pub const OVERLAP_WEIGHTS: OverlapWeights = OverlapWeights {
    theme: 0.04,
    max_themes: 2,
    setting: 0.03,
    body: 0.02,
    recommendation: 0.5,
    min_workstream: 0.2,
    min_recommendation: 0.2,
};

/// The overlap score: the text score plus what is shared, at most 1.
pub fn overlap_score(text_score: f64, shared: &Shared, w: &OverlapWeights) -> f64 {
    let mut s = text_score;
    s += w.theme * shared.themes.len().min(w.max_themes) as f64;
    if !shared.settings.is_empty() {
        s += w.setting;
    }
    if !shared.bodies.is_empty() {
        s += w.body;
    }
    if !shared.recommendations.is_empty() {
        s += w.recommendation;
    }
    (s.min(1.0) * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hssib() -> OrgCode {
        OrgCode::parse("HSSIB").unwrap()
    }

    #[test]
    fn ids_read_and_print() {
        let id = WorkstreamId::parse(" ws-hssib-2025-007 ").unwrap();
        assert_eq!(id.to_string(), "WS-HSSIB-2025-007");
        assert_eq!(WorkstreamId::parse("WS-CQC-2024-1234").unwrap().seq, 1234);
        for bad in [
            "HSSIB-2025-001",
            "WS-HSSIB-25-001",
            "WS-HSSIB-2025-01",
            "WS-HSSIB-2025-000",
            "WS-1X-2025-001",
            "WS-HSSIB-2025-001-2",
            "",
        ] {
            assert!(WorkstreamId::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(WorkstreamId::prefix(&hssib(), 2025), "WS-HSSIB-2025-");
    }

    fn good() -> Value {
        json!({
            "title": " Sepsis recognition in emergency departments ",
            "aim": "Find why deteriorating patients with sepsis are not escalated.",
            "lead": "HSSIB",
            "partners": ["NHSE", "cqc", "NHSE"],
            "themes": ["sepsis", " Sepsis", ""],
            "settings": ["acute"],
            "status": "Active",
            "start": "2025-01-06",
            "expected_end": "2025-12-19",
            "recommendations": ["HSSIB-2024-0012"]
        })
    }

    #[test]
    fn reads_and_tidies_a_good_workstream() {
        let ws = from_input(&good(), None).unwrap();
        assert_eq!(ws.title, "Sepsis recognition in emergency departments");
        assert_eq!(ws.lead, hssib());
        assert_eq!(ws.partners.len(), 2);
        assert_eq!(ws.themes, vec!["sepsis"]);
        assert_eq!(ws.status, WorkstreamStatus::Active);
        assert!(ws.public);
        assert!(ws.id.is_empty());
    }

    #[test]
    fn refuses_every_bad_field_by_name() {
        let mut b = good();
        b["expected_end"] = json!("2024-12-01");
        b["partners"] = json!(["NHSE", "not a code!"]);
        b["recommendations"] = json!(["HSSIB-2024-0012", "sepsis"]);
        b["status"] = json!("ongoing");
        b["colour"] = json!("red");
        let err = from_input(&b, None).unwrap_err();
        let fields: Vec<String> = err.fields().into_iter().map(|f| f.field).collect();
        for f in [
            "colour",
            "partners[1]",
            "recommendations[1]",
            "status",
            "expected_end",
        ] {
            assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
        }
        let msg = err.to_string();
        assert!(msg.contains("cannot end before it starts"), "{msg}");
        assert!(
            msg.contains("planned, active, paused, completed, stopped"),
            "{msg}"
        );
    }

    #[test]
    fn lead_comes_from_the_caller_and_must_own_the_id() {
        let other = OrgCode::parse("CQC").unwrap();
        let mut b = good();
        b["id"] = json!("WS-HSSIB-2025-001");
        let err = from_input(&b, Some(&other)).unwrap_err();
        assert!(err.to_string().contains("does not belong to the lead CQC"));
        b.as_object_mut().unwrap().remove("lead");
        assert!(
            from_input(&b, None)
                .unwrap_err()
                .to_string()
                .contains("lead")
        );
        let mut b = good();
        b["partners"] = json!(["HSSIB"]);
        assert!(
            from_input(&b, None)
                .unwrap_err()
                .to_string()
                .contains("leads the work")
        );
        assert!(from_input(&json!({"lead": "HSSIB"}), None).is_err());
        assert!(from_input(&json!([1]), None).is_err());
    }

    #[test]
    fn edits_keep_identity() {
        let mut ws = from_input(&good(), None).unwrap();
        ws.id = "WS-HSSIB-2025-001".into();
        let e = apply_edit(&ws, &json!({"status": "completed", "lead": "HSSIB"})).unwrap();
        assert_eq!(e.status, WorkstreamStatus::Completed);
        assert!(apply_edit(&ws, &json!({"lead": "CQC"})).is_err());
        assert!(apply_edit(&ws, &json!({"id": "WS-HSSIB-2025-002"})).is_err());
        let err = apply_edit(&ws, &json!({"start": "2026-01-01"})).unwrap_err();
        assert!(err.to_string().contains("expected_end"), "{err}");
    }

    #[test]
    fn visibility_follows_lead_and_partners() {
        let mut ws = from_input(&good(), None).unwrap();
        ws.public = false;
        let cqc = OrgCode::parse("CQC").unwrap();
        let nice = OrgCode::parse("NICE").unwrap();
        assert!(ws.visible_to(Some(&hssib()), false));
        assert!(ws.visible_to(Some(&cqc), false));
        assert!(!ws.visible_to(Some(&nice), false));
        assert!(!ws.visible_to(None, false));
        assert!(ws.visible_to(None, true));
    }

    #[test]
    fn shared_tags_and_score() {
        let a = from_input(&good(), None).unwrap();
        let mut b = a.clone();
        b.lead = OrgCode::parse("NICE").unwrap();
        b.partners = vec![OrgCode::parse("CQC").unwrap()];
        b.themes = vec!["SEPSIS".into(), "deterioration".into()];
        let s = shared_with_workstream(&a, &b);
        assert_eq!(s.themes, vec!["sepsis"]);
        assert_eq!(s.bodies, vec!["CQC"]);
        assert_eq!(s.recommendations, vec!["HSSIB-2024-0012"]);
        assert!(s.describe().starts_with("both answer: HSSIB-2024-0012"));
        let score = overlap_score(0.3, &s, &OVERLAP_WEIGHTS);
        assert!(
            (score - (0.3 + 0.04 + 0.03 + 0.02 + 0.5)).abs() < 1e-9,
            "{score}"
        );
        assert_eq!(overlap_score(0.9, &s, &OVERLAP_WEIGHTS), 1.0);
    }
}
