//! The column layout shared by Concord's CSV and XLSX files: one row per
//! recommendation. `FORMATS.md` documents it for people.

use std::collections::HashMap;

use chrono::Datelike;
use concord_domain::{
    Addressee, AddresseeStatus, Confidence, Cost, EqualityDirection, EqualityImpact, Evidence,
    EvidenceKind, EvidenceStrength, IdRequest, Lifecycle, Link, NewRecommendation, OrgCode,
    OrganisationDirectory, RecKind, Recommendation, RecommendationData, RecommendationId, Risk,
    Source, SystemLevel,
};

use crate::cells::{
    clip, join_list, parse_date, parse_enum, parse_timestamp, split_list, timestamp,
};

/// The columns, in the order Concord writes them.
pub const COLUMNS: &[&str] = &[
    "id",
    "local_ref",
    "kind",
    "issuer",
    "title",
    "text",
    "published",
    "status",
    "level",
    "risk",
    "response_deadline",
    "patient_impact",
    "themes",
    "settings",
    "addressees",
    "links",
    "source_title",
    "source_date",
    "source_url",
    "source_local_ref",
    "evidence_kind",
    "evidence_strength",
    "evidence_references",
    "cost_one_off",
    "cost_recurring",
    "cost_currency",
    "cost_confidence",
    "cost_effectiveness",
    "equality_groups",
    "equality_direction",
    "equality_mitigation",
    "version",
    "created_at",
    "updated_at",
    "import_key",
    "provenance",
];

/// Columns a hand-written file must have.
pub const REQUIRED: &[&str] = &["issuer", "title", "text"];

/// Columns holding JSON (addressees with their responses, links): they may
/// be longer than a text field.
const JSON_COLUMNS: &[&str] = &["addressees", "links", "provenance"];

/// Longest cell accepted in a JSON column (many responses, each up to the
/// text limit).
const MAX_JSON_CELL_BYTES: usize = 64 << 20;

/// One recommendation as cells, in [`COLUMNS`] order (not yet guarded).
pub(crate) fn to_cells(rec: &Recommendation) -> Vec<String> {
    let d = &rec.data;
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    let date = |x: Option<chrono::NaiveDate>| x.map(|d| d.to_string()).unwrap_or_default();
    let en = |s: Option<&'static str>| s.unwrap_or("").to_string();
    let num = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let src = d.source.clone().unwrap_or_default();
    let ev = d.evidence.as_ref();
    let cost = d.cost.as_ref();
    let eq = d.equality.as_ref();
    let json = |empty: bool, v: serde_json::Result<String>| {
        if empty {
            String::new()
        } else {
            v.unwrap_or_default()
        }
    };
    vec![
        rec.id.to_string(),
        opt(&d.local_ref),
        d.kind.as_str().to_string(),
        d.issuer.to_string(),
        d.title.clone(),
        d.text.clone(),
        date(d.published),
        d.status.as_str().to_string(),
        en(d.level.map(|x| x.as_str())),
        en(d.risk.map(|x| x.as_str())),
        date(d.response_deadline),
        opt(&d.patient_impact),
        join_list(&d.themes),
        join_list(&d.settings),
        json(
            d.addressees.is_empty(),
            serde_json::to_string(&d.addressees),
        ),
        json(d.links.is_empty(), serde_json::to_string(&d.links)),
        opt(&src.title),
        date(src.date),
        opt(&src.url),
        opt(&src.local_ref),
        en(ev.and_then(|e| e.kind).map(|x| x.as_str())),
        en(ev.and_then(|e| e.strength).map(|x| x.as_str())),
        ev.map(|e| join_list(&e.references)).unwrap_or_default(),
        num(cost.and_then(|c| c.one_off)),
        num(cost.and_then(|c| c.recurring)),
        cost.map(|c| c.currency.clone()).unwrap_or_default(),
        en(cost.and_then(|c| c.confidence).map(|x| x.as_str())),
        cost.and_then(|c| c.cost_effectiveness.clone())
            .unwrap_or_default(),
        eq.map(|e| join_list(&e.groups)).unwrap_or_default(),
        en(eq.map(|e| e.direction.as_str())),
        eq.and_then(|e| e.mitigation.clone()).unwrap_or_default(),
        rec.version.to_string(),
        timestamp(&rec.created_at),
        timestamp(&rec.updated_at),
        opt(&rec.import_key),
        if rec.provenance.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&rec.provenance).unwrap_or_default()
        },
    ]
}

/// Maps a header row to column positions; refuses unknown or repeated
/// columns (a typo would otherwise lose a whole column silently) and missing
/// required ones. Returns the message for the caller to wrap.
pub(crate) fn header_map(header: &[String]) -> Result<HashMap<&'static str, usize>, String> {
    let mut map = HashMap::new();
    let mut unknown = Vec::new();
    for (i, raw) in header.iter().enumerate() {
        let name = raw
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == name) {
            Some(c) => {
                if map.insert(*c, i).is_some() {
                    return Err(format!("the header names column {c:?} twice"));
                }
            }
            None if name.is_empty() => unknown.push(format!("(empty name, column {})", i + 1)),
            None => unknown.push(format!("{:?}", clip(raw, 40))),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "unknown column{} {} in the header; the columns are: {}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", "),
            COLUMNS.join(", ")
        ));
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !map.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the header lacks the required column{} {} (the header is {:?})",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            clip(&header.join(","), 200)
        ));
    }
    Ok(map)
}

/// Problems with one row: (column, message).
pub(crate) type RowErrors = Vec<(Option<String>, String)>;

struct Row<'a> {
    map: &'a HashMap<&'static str, usize>,
    cells: &'a [String],
    errors: RowErrors,
}

impl<'a> Row<'a> {
    /// The trimmed cell, or None when the column is absent or the cell blank.
    fn get(&self, col: &str) -> Option<&'a str> {
        let i = *self.map.get(col)?;
        let v = self.cells.get(i)?.as_str();
        if v.trim().is_empty() { None } else { Some(v) }
    }

    fn err(&mut self, col: &str, msg: impl Into<String>) {
        self.errors.push((Some(col.to_string()), msg.into()));
    }

    /// A free-text cell exactly as written (only an empty cell is None, so
    /// that a round trip keeps every character).
    fn text(&mut self, col: &str) -> Option<String> {
        let i = *self.map.get(col)?;
        let v = self.cells.get(i)?;
        (!v.is_empty()).then(|| v.clone())
    }

    fn date(&mut self, col: &str) -> Option<chrono::NaiveDate> {
        let v = self.get(col)?;
        match parse_date(v) {
            Ok(d) => Some(d),
            Err(e) => {
                self.err(col, e);
                None
            }
        }
    }

    fn en<T: std::str::FromStr>(&mut self, col: &str, allowed: &str) -> Option<T> {
        let v = self.get(col)?;
        match parse_enum::<T>(v.trim(), allowed) {
            Ok(x) => Some(x),
            Err(e) => {
                self.err(col, e);
                None
            }
        }
    }

    fn list(&mut self, col: &str) -> Vec<String> {
        let Some(v) = self.get(col) else {
            return Vec::new();
        };
        match split_list(v) {
            Ok(l) => l,
            Err(e) => {
                self.err(col, e);
                Vec::new()
            }
        }
    }

    fn amount(&mut self, col: &str) -> Option<f64> {
        let v = self.get(col)?;
        let t: String = v
            .trim()
            .trim_start_matches(['£', '$', '€'])
            .chars()
            .filter(|c| *c != ',')
            .collect();
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Some(x),
            _ => {
                self.err(col, format!("{:?} is not an amount", clip(v, 60)));
                None
            }
        }
    }

    fn json<T: serde::de::DeserializeOwned>(&mut self, col: &str) -> Option<T> {
        let v = self.get(col)?;
        match serde_json::from_str::<T>(v) {
            Ok(x) => Some(x),
            Err(e) => {
                self.err(col, format!("is not valid JSON for this column: {e}"));
                None
            }
        }
    }
}

/// Turns one row into a record ready for the store. `cells` are already
/// unguarded. Collects every problem in the row.
pub(crate) fn from_cells(
    map: &HashMap<&'static str, usize>,
    cells: &[String],
    dir: &OrganisationDirectory,
) -> Result<NewRecommendation, RowErrors> {
    let mut r = Row {
        map,
        cells,
        errors: Vec::new(),
    };
    for (col, i) in map.iter() {
        let Some(v) = cells.get(*i) else { continue };
        let limit = if JSON_COLUMNS.contains(col) {
            MAX_JSON_CELL_BYTES
        } else {
            concord_domain::MAX_TEXT_BYTES
        };
        if v.len() > limit {
            r.err(
                col,
                format!(
                    "{} bytes is longer than the limit of {limit} bytes for one cell",
                    v.len()
                ),
            );
        }
    }
    if !r.errors.is_empty() {
        return Err(r.errors);
    }

    let issuer = match r.get("issuer").map(OrgCode::parse) {
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => {
            let v = r.get("issuer").unwrap_or("");
            r.err(
                "issuer",
                format!(
                    "{:?} is not an organisation code (2-16 letters and digits, starting with a letter, e.g. HSSIB)",
                    clip(v, 40)
                ),
            );
            None
        }
        None => {
            r.err("issuer", "is empty");
            None
        }
    };
    let id = match r.get("id") {
        Some(v) => match RecommendationId::parse(v) {
            Ok(id) => Some(id),
            Err(_) => {
                r.err(
                    "id",
                    format!(
                        "{:?} is not a Concord identifier (ISSUER-YYYY-NNNN, e.g. HSSIB-2024-0012); leave it empty to have one allocated",
                        clip(v, 40)
                    ),
                );
                None
            }
        },
        None => None,
    };
    let kind = r
        .en::<RecKind>("kind", &RecKind::allowed())
        .unwrap_or(RecKind::Recommendation);
    let title = r.text("title").unwrap_or_default();
    let text = r.text("text").unwrap_or_default();
    let published = r.date("published");
    let status = r
        .en::<Lifecycle>("status", &Lifecycle::allowed())
        .unwrap_or(Lifecycle::Published);
    let level = r.en::<SystemLevel>("level", &SystemLevel::allowed());
    let risk = r.en::<Risk>("risk", &Risk::allowed());
    let response_deadline = r.date("response_deadline");
    let patient_impact = r.text("patient_impact");
    let themes = r.list("themes");
    let settings = r.list("settings");
    let addressees: Vec<Addressee> = match r.get("addressees") {
        Some(v) if v.trim_start().starts_with('[') => r.json("addressees").unwrap_or_default(),
        // Hand-written: names separated by `|`.
        Some(_) => r
            .list("addressees")
            .into_iter()
            .map(|name| Addressee {
                org: dir.resolve(&name),
                name,
                status: AddresseeStatus::AwaitingResponse,
                due: None,
                responses: Vec::new(),
                ..Default::default()
            })
            .collect(),
        None => Vec::new(),
    };
    let links: Vec<Link> = r.json("links").unwrap_or_default();

    let source = Source {
        title: r.text("source_title"),
        date: r.date("source_date"),
        url: r.text("source_url"),
        local_ref: r.text("source_local_ref"),
    };
    let source = (source != Source::default()).then_some(source);

    let evidence = Evidence {
        kind: r.en::<EvidenceKind>("evidence_kind", &EvidenceKind::allowed()),
        strength: r.en::<EvidenceStrength>("evidence_strength", &EvidenceStrength::allowed()),
        references: r.list("evidence_references"),
    };
    let evidence =
        (evidence.kind.is_some() || evidence.strength.is_some() || !evidence.references.is_empty())
            .then_some(evidence);

    let one_off = r.amount("cost_one_off");
    let recurring = r.amount("cost_recurring");
    let currency = r.text("cost_currency");
    let confidence = r.en::<Confidence>("cost_confidence", &Confidence::allowed());
    let cost_effectiveness = r.text("cost_effectiveness");
    let cost = (one_off.is_some()
        || recurring.is_some()
        || currency.is_some()
        || confidence.is_some()
        || cost_effectiveness.is_some())
    .then(|| Cost {
        one_off,
        recurring,
        currency: currency.map_or_else(|| "GBP".to_string(), |c| c.trim().to_string()),
        confidence,
        cost_effectiveness,
    });

    let groups = r.list("equality_groups");
    let direction = r.en::<EqualityDirection>("equality_direction", &EqualityDirection::allowed());
    let mitigation = r.text("equality_mitigation");
    let equality = (!groups.is_empty() || direction.is_some() || mitigation.is_some()).then(|| {
        EqualityImpact {
            groups,
            direction: direction.unwrap_or(EqualityDirection::Unknown),
            mitigation,
        }
    });

    let version = match r.get("version") {
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                r.err(
                    "version",
                    format!("{:?} is not a version (a whole number from 1)", clip(v, 40)),
                );
                None
            }
        },
        None => None,
    };
    let mut ts = |col: &str| -> Option<chrono::DateTime<chrono::Utc>> {
        let v = r.get(col)?;
        match parse_timestamp(v) {
            Ok(t) => Some(t),
            Err(e) => {
                r.err(col, e);
                None
            }
        }
    };
    let created_at = ts("created_at");
    let updated_at = ts("updated_at");
    let import_key = r.text("import_key");
    let local_ref = r.text("local_ref");
    let provenance = match r.get("provenance") {
        Some(v) if !v.trim().is_empty() => {
            match serde_json::from_str::<concord_domain::Provenance>(v) {
                Ok(p) => p,
                Err(e) => {
                    r.err("provenance", format!("is not a provenance document: {e}"));
                    Default::default()
                }
            }
        }
        _ => Default::default(),
    };

    let id_request = match (id, &issuer) {
        (Some(id), Some(issuer)) if &id.issuer != issuer => {
            r.err(
                "id",
                format!("{id} does not belong to the issuer {issuer} of this row"),
            );
            None
        }
        (Some(id), _) => Some(IdRequest::Exact(id)),
        (None, Some(issuer)) => match published {
            Some(p) => Some(IdRequest::Allocate {
                issuer: issuer.clone(),
                year: p.year() as u16,
                floor: 1,
            }),
            None if r.get("published").is_none() => {
                r.errors.push((
                    None,
                    "has neither an id nor a published date, so no identifier can be allocated (the year comes from the published date)".into(),
                ));
                None
            }
            None => None,
        },
        (None, None) => None,
    };

    if !r.errors.is_empty() {
        // In the order of the columns, as a person reads the row.
        let pos = |f: &Option<String>| {
            f.as_deref()
                .and_then(|f| COLUMNS.iter().position(|c| *c == f))
                .unwrap_or(COLUMNS.len())
        };
        r.errors.sort_by_key(|(f, _)| pos(f));
        return Err(r.errors);
    }
    let (Some(issuer), Some(id_request)) = (issuer, id_request) else {
        return Err(vec![(None, "cannot be read".into())]);
    };
    let data = RecommendationData {
        local_ref,
        kind,
        issuer,
        source,
        title,
        text,
        published,
        status,
        level,
        addressees,
        themes,
        settings,
        evidence,
        patient_impact,
        cost,
        equality,
        risk,
        response_deadline,
        links,
    };
    let data = data.validate().map_err(|e| {
        e.fields()
            .into_iter()
            .map(|f| (Some(f.field), f.message))
            .collect::<RowErrors>()
    })?;
    Ok(NewRecommendation {
        id: id_request,
        data,
        import_key,
        version,
        created_at,
        updated_at,
        provenance,
    })
}

/// Folds a row's problems into one rejection.
pub(crate) fn rejection(row: usize, line: Option<u64>, errors: RowErrors) -> crate::Rejection {
    let mut rej = if errors.len() == 1 {
        let (field, reason) = errors.into_iter().next().unwrap_or_default();
        crate::Rejection::new(row, field.as_deref(), reason)
    } else {
        let reason = errors
            .into_iter()
            .map(|(f, m)| match f {
                Some(f) => format!("field {f}: {m}"),
                None => m,
            })
            .collect::<Vec<_>>()
            .join("; ");
        crate::Rejection::new(row, None, reason)
    };
    rej.line = line;
    rej
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, Utc};
    use concord_domain::{LinkKind, LinkState, Response};

    /// A record with every field set, awkward text everywhere.
    pub(crate) fn rich() -> Recommendation {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        Recommendation {
            provenance: Default::default(),
            id: RecommendationId::parse("HSSIB-2024-0012").unwrap(),
            data: RecommendationData {
                local_ref: Some("=HYPERLINK(\"x\")".into()),
                kind: RecKind::SafetyObservation,
                issuer: OrgCode::parse("HSSIB").unwrap(),
                source: Some(Source {
                    title: Some("Report «on» \"quotes\", commas".into()),
                    date: Some(d("2024-09-01")),
                    url: Some("https://example.org/r?a=1&b=2".into()),
                    local_ref: Some("I2024/007".into()),
                }),
                title: "Sepsis — screening, \"within\" one hour; ünïcödé 🚑".into(),
                text: "Line one,\nline two with \"quotes\"\r\n- a bullet\n+ plus\n@mention\n\ttab\n'apostrophe"
                    .into(),
                published: Some(d("2024-09-16")),
                status: Lifecycle::Superseded,
                level: Some(SystemLevel::Provider),
                addressees: vec![
                    Addressee {
                        name: "NHS England".into(),
                        org: Some(OrgCode::parse("NHSE").unwrap()),
                        status: AddresseeStatus::ResponseReceived,
                        due: Some(d("2024-12-15")),
                        responses: vec![Response {
                            received: Some(d("2024-12-01")),
                            respondent: Some("Chief \"Exec\"".into()),
                            url: Some("https://example.org/resp.pdf".into()),
                            text: Some("We accept,\nin full.".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    Addressee {
                        name: "Northmoor | Hospitals".into(),
                        org: None,
                        status: AddresseeStatus::AwaitingResponse,
                        due: None,
                        responses: vec![],
                        ..Default::default()
                    },
                ],
                themes: vec!["sepsis".into(), "deteriorating patient".into()],
                settings: vec!["acute | emergency".into(), "=ambulance".into()],
                evidence: Some(Evidence {
                    kind: Some(EvidenceKind::SystematicReview),
                    references: vec!["[1] Smith 2020".into(), "NG51".into()],
                    strength: Some(EvidenceStrength::Moderate),
                }),
                patient_impact: Some("-20% deaths".into()),
                cost: Some(Cost {
                    one_off: Some(1_234_567.891),
                    recurring: Some(0.1),
                    currency: "GBP".into(),
                    confidence: Some(Confidence::Low),
                    cost_effectiveness: Some("£20,000 per QALY".into()),
                }),
                equality: Some(EqualityImpact {
                    groups: vec!["older people".into(), "".into()],
                    direction: EqualityDirection::Reduces,
                    mitigation: Some("+ easy read".into()),
                }),
                risk: Some(Risk::Critical),
                response_deadline: Some(d("2024-12-15")),
                links: vec![Link {
                    kind: LinkKind::BuildsOn,
                    target: "PFD-2023-0187".into(),
                    state: LinkState::Confirmed,
                    asserted_by: Some("HSSIB".into()),
                    asserted_at: Some(t("2024-09-16T10:00:00.123456789Z")),
                }],
            },
            version: 7,
            created_at: t("2024-09-16T10:00:00Z"),
            updated_at: t("2025-01-02T03:04:05.5Z"),
            import_key: Some("pfd:https://example.org/x".into()),
        }
    }

    /// A record with every optional field empty.
    pub(crate) fn bare() -> Recommendation {
        let t = DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Recommendation {
            provenance: Default::default(),
            id: RecommendationId::parse("PFD-2013-9001").unwrap(),
            data: RecommendationData {
                local_ref: None,
                kind: RecKind::Concern,
                issuer: OrgCode::parse("PFD").unwrap(),
                source: None,
                title: "T".into(),
                text: "X".into(),
                published: None,
                status: Lifecycle::Draft,
                level: None,
                addressees: vec![],
                themes: vec![],
                settings: vec![],
                evidence: None,
                patient_impact: None,
                cost: None,
                equality: None,
                risk: None,
                response_deadline: None,
                links: vec![],
            },
            version: 1,
            created_at: t,
            updated_at: t,
            import_key: None,
        }
    }

    fn map() -> HashMap<&'static str, usize> {
        let h: Vec<String> = COLUMNS.iter().map(|s| s.to_string()).collect();
        header_map(&h).unwrap()
    }

    #[test]
    fn cells_round_trip() {
        let dir = OrganisationDirectory::default();
        for rec in [rich(), bare()] {
            let cells = to_cells(&rec);
            assert_eq!(cells.len(), COLUMNS.len());
            let new = from_cells(&map(), &cells, &dir).unwrap();
            let back = new.into_recommendation(rec.id.clone(), Utc::now()).unwrap();
            assert_eq!(back, rec);
        }
    }

    #[test]
    fn header_problems() {
        let h = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let e = header_map(&h(&["issuer", "tittle", "text"])).unwrap_err();
        assert!(
            e.starts_with("unknown column \"tittle\" in the header"),
            "{e}"
        );
        let e = header_map(&h(&["issuer", "text"])).unwrap_err();
        assert!(
            e.starts_with("the header lacks the required column title"),
            "{e}"
        );
        let e = header_map(&h(&["issuer", "title", "text", "Title"])).unwrap_err();
        assert_eq!(e, "the header names column \"title\" twice");
        assert!(header_map(&h(&[" Issuer ", "TITLE", "text"])).is_ok());
    }

    #[test]
    fn hand_written_rows() {
        let h: Vec<String> = ["issuer", "title", "text", "published", "addressees"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let m = header_map(&h).unwrap();
        let dir = OrganisationDirectory::new(&concord_domain::seed_organisations());
        let row = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let new = from_cells(
            &m,
            &row(&["cqc", "T", "X", "16/09/2024", "NHS England | Some Trust"]),
            &dir,
        )
        .unwrap();
        assert_eq!(
            new.id,
            IdRequest::Allocate {
                issuer: OrgCode::parse("CQC").unwrap(),
                year: 2024,
                floor: 1
            }
        );
        assert_eq!(new.data.kind, RecKind::Recommendation);
        assert_eq!(new.data.status, Lifecycle::Published);
        assert_eq!(new.data.addressees.len(), 2);
        assert_eq!(
            new.data.addressees[0].org.as_ref().unwrap().as_str(),
            "NHSE"
        );
        let e = from_cells(&m, &row(&["CQC", "T", "X", "", ""]), &dir).unwrap_err();
        assert_eq!(e[0].0, None);
        assert!(e[0].1.contains("neither an id nor a published date"));
        let e = from_cells(&m, &row(&["CQC", "T", "X", "31/02/2024", ""]), &dir).unwrap_err();
        assert_eq!(
            e,
            vec![(
                Some("published".to_string()),
                "\"31/02/2024\" is not a real date: February 2024 has no day 31".to_string()
            )]
        );
    }
}
