//! A draft as an author writes or uploads it: every field optional except
//! the text, read leniently (an addressee may be a name or an object, a
//! date a `YYYY-MM-DD` string), and refused with the field named when a
//! value has the wrong type.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::FieldError;
use crate::model::RecommendationData;

use super::ruleset::wrong;

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DraftAddressee {
    pub name: String,
    pub org: Option<String>,
    pub due: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Draft {
    pub issuer: Option<String>,
    pub title: Option<String>,
    pub text: String,
    pub addressees: Vec<DraftAddressee>,
    pub response_deadline: Option<NaiveDate>,
    /// When progress will be reviewed (a draft-only field).
    pub review_date: Option<NaiveDate>,
    pub themes: Vec<String>,
    pub settings: Vec<String>,
    pub evidence_kind: Option<String>,
    pub evidence_references: Vec<String>,
    pub patient_impact: Option<String>,
    /// How success will be evidenced (a draft-only field).
    pub measure: Option<String>,
    pub cost_one_off: Option<f64>,
    pub cost_recurring: Option<f64>,
    pub cost_effectiveness: Option<String>,
    /// Why the cost is not estimated (a draft-only field).
    pub cost_not_estimated: Option<String>,
    pub equality_groups: Vec<String>,
    pub equality_direction: Option<String>,
    pub equality_mitigation: Option<String>,
    pub risk: Option<String>,
    /// Targets of the draft's links (Concord ids or external references).
    pub links: Vec<String>,
    pub status: Option<String>,
}

const KNOWN: &[&str] = &[
    "id",
    "local_ref",
    "kind",
    "issuer",
    "source",
    "title",
    "text",
    "published",
    "status",
    "level",
    "addressees",
    "themes",
    "settings",
    "evidence",
    "patient_impact",
    "cost",
    "equality",
    "risk",
    "response_deadline",
    "review_date",
    "measure",
    "links",
    "version",
    "created_at",
    "updated_at",
    "import_key",
];

impl Draft {
    /// Reads one draft. `prefix` goes before field names in errors (for
    /// example `[2].` for the third draft of an array).
    pub fn from_json(v: &Value, prefix: &str) -> Result<Draft, FieldError> {
        let f = |name: &str| format!("{prefix}{name}");
        let obj = v.as_object().ok_or_else(|| {
            wrong(
                if prefix.is_empty() {
                    "(draft)"
                } else {
                    prefix.trim_end_matches('.')
                },
                "a JSON object (a draft)",
                v,
            )
        })?;
        for k in obj.keys() {
            if !KNOWN.contains(&k.as_str()) {
                return Err(FieldError::new(
                    f(k),
                    format!(
                        "is not a field of a draft; the fields are: {}",
                        KNOWN.join(", ")
                    ),
                ));
            }
        }
        let text = string(obj, "text", &f("text"))?.unwrap_or_default();
        if text.trim().is_empty() {
            return Err(FieldError::new(
                f("text"),
                "is missing or empty: a draft needs the wording of the recommendation",
            ));
        }
        let mut d = Draft {
            issuer: string(obj, "issuer", &f("issuer"))?,
            title: string(obj, "title", &f("title"))?,
            text,
            response_deadline: date(obj, "response_deadline", &f("response_deadline"))?,
            review_date: date(obj, "review_date", &f("review_date"))?,
            themes: strings(obj, "themes", &f("themes"))?,
            settings: strings(obj, "settings", &f("settings"))?,
            patient_impact: string(obj, "patient_impact", &f("patient_impact"))?,
            measure: string(obj, "measure", &f("measure"))?,
            risk: string(obj, "risk", &f("risk"))?,
            status: string(obj, "status", &f("status"))?,
            ..Default::default()
        };
        match obj.get("addressees") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => d.addressees.push(DraftAddressee {
                name: s.clone(),
                ..Default::default()
            }),
            Some(Value::Array(a)) => {
                for (i, x) in a.iter().enumerate() {
                    let p = f(&format!("addressees[{i}]"));
                    match x {
                        Value::String(s) => d.addressees.push(DraftAddressee {
                            name: s.clone(),
                            ..Default::default()
                        }),
                        Value::Object(o) => d.addressees.push(DraftAddressee {
                            name: string(o, "name", &format!("{p}.name"))?.unwrap_or_default(),
                            org: string(o, "org", &format!("{p}.org"))?,
                            due: date(o, "due", &format!("{p}.due"))?,
                        }),
                        other => return Err(wrong(&p, "a name or an object", other)),
                    }
                }
            }
            Some(other) => {
                return Err(wrong(&f("addressees"), "an array of addressees", other));
            }
        }
        match obj.get("evidence") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => d.evidence_references.push(s.clone()),
            Some(Value::Object(o)) => {
                d.evidence_kind = string(o, "kind", &f("evidence.kind"))?;
                d.evidence_references = strings(o, "references", &f("evidence.references"))?;
            }
            Some(other) => return Err(wrong(&f("evidence"), "an object", other)),
        }
        match obj.get("cost") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                d.cost_one_off = number(o, "one_off", &f("cost.one_off"))?;
                d.cost_recurring = number(o, "recurring", &f("cost.recurring"))?;
                d.cost_effectiveness =
                    string(o, "cost_effectiveness", &f("cost.cost_effectiveness"))?;
                d.cost_not_estimated = string(o, "not_estimated", &f("cost.not_estimated"))?;
            }
            Some(other) => return Err(wrong(&f("cost"), "an object", other)),
        }
        match obj.get("equality") {
            None | Some(Value::Null) => {}
            Some(Value::Object(o)) => {
                d.equality_groups = strings(o, "groups", &f("equality.groups"))?;
                d.equality_direction = string(o, "direction", &f("equality.direction"))?;
                d.equality_mitigation = string(o, "mitigation", &f("equality.mitigation"))?;
            }
            Some(other) => return Err(wrong(&f("equality"), "an object", other)),
        }
        match obj.get("links") {
            None | Some(Value::Null) => {}
            Some(Value::Array(a)) => {
                for (i, x) in a.iter().enumerate() {
                    let p = f(&format!("links[{i}]"));
                    match x {
                        Value::String(s) => d.links.push(s.clone()),
                        Value::Object(o) => {
                            if let Some(t) = string(o, "target", &format!("{p}.target"))? {
                                d.links.push(t)
                            }
                        }
                        other => return Err(wrong(&p, "an id or a link object", other)),
                    }
                }
            }
            Some(other) => return Err(wrong(&f("links"), "an array", other)),
        }
        Ok(d)
    }

    /// Reads a file's contents: one draft object or an array of them.
    pub fn many_from_json(v: &Value) -> Result<Vec<Draft>, FieldError> {
        match v {
            Value::Array(a) => {
                if a.is_empty() {
                    return Err(FieldError::new("(drafts)", "the array is empty"));
                }
                a.iter()
                    .enumerate()
                    .map(|(i, x)| Draft::from_json(x, &format!("[{i}].")))
                    .collect()
            }
            Value::Object(_) => Ok(vec![Draft::from_json(v, "")?]),
            other => Err(wrong(
                "(drafts)",
                "a draft object or an array of drafts",
                other,
            )),
        }
    }

    /// A stored record's data, as a draft (for the publishing gate).
    pub fn from_data(d: &RecommendationData) -> Draft {
        Draft {
            issuer: Some(d.issuer.to_string()),
            title: Some(d.title.clone()),
            text: d.text.clone(),
            addressees: d
                .addressees
                .iter()
                .map(|a| DraftAddressee {
                    name: a.name.clone(),
                    org: a.org.as_ref().map(|o| o.to_string()),
                    due: a.due,
                })
                .collect(),
            response_deadline: d.response_deadline,
            review_date: None,
            themes: d.themes.clone(),
            settings: d.settings.clone(),
            evidence_kind: d
                .evidence
                .as_ref()
                .and_then(|e| e.kind.map(|k| k.to_string())),
            evidence_references: d
                .evidence
                .as_ref()
                .map(|e| e.references.clone())
                .unwrap_or_default(),
            patient_impact: d.patient_impact.clone(),
            measure: None,
            cost_one_off: d.cost.as_ref().and_then(|c| c.one_off),
            cost_recurring: d.cost.as_ref().and_then(|c| c.recurring),
            cost_effectiveness: d.cost.as_ref().and_then(|c| c.cost_effectiveness.clone()),
            cost_not_estimated: None,
            equality_groups: d
                .equality
                .as_ref()
                .map(|e| e.groups.clone())
                .unwrap_or_default(),
            equality_direction: d.equality.as_ref().map(|e| e.direction.to_string()),
            equality_mitigation: d.equality.as_ref().and_then(|e| e.mitigation.clone()),
            risk: d.risk.map(|r| r.to_string()),
            links: d.links.iter().map(|l| l.target.clone()).collect(),
            status: Some(d.status.to_string()),
        }
    }
}

fn string(obj: &Map<String, Value>, key: &str, field: &str) -> Result<Option<String>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone()).filter(|s| !s.trim().is_empty())),
        Some(other) => Err(wrong(field, "a string", other)),
    }
}

fn number(obj: &Map<String, Value>, key: &str, field: &str) -> Result<Option<f64>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(wrong(field, "a number", other)),
    }
}

fn strings(obj: &Map<String, Value>, key: &str, field: &str) -> Result<Vec<String>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, x)| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| wrong(&format!("{field}[{i}]"), "a string", x))
            })
            .collect(),
        Some(other) => Err(wrong(field, "an array of strings", other)),
    }
}

fn date(obj: &Map<String, Value>, key: &str, field: &str) -> Result<Option<NaiveDate>, FieldError> {
    match string(obj, key, field)? {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Some)
            .map_err(|_| FieldError::new(field, format!("{s:?} is not a date (YYYY-MM-DD)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_leniently() {
        let d = Draft::from_json(
            &json!({"text": "Do it.", "addressees": ["NHS England", {"name": "CQC", "due": "2025-01-31"}],
                    "themes": "sepsis", "links": ["HSSIB-2024-0001"]}),
            "",
        )
        .unwrap();
        assert_eq!(d.addressees.len(), 2);
        assert_eq!(d.addressees[1].due, NaiveDate::from_ymd_opt(2025, 1, 31));
        assert_eq!(d.themes, vec!["sepsis"]);
        assert_eq!(d.links, vec!["HSSIB-2024-0001"]);
    }

    #[test]
    fn refuses_with_the_field_named() {
        let e = |v: Value| Draft::many_from_json(&v).unwrap_err().to_string();
        assert_eq!(
            e(json!({"title": "x"})),
            "field text: is missing or empty: a draft needs the wording of the recommendation"
        );
        assert_eq!(
            e(json!([{"text": "a"}, {"text": "b", "addressees": 7}])),
            "field [1].addressees: expected an array of addressees, found a number"
        );
        assert_eq!(
            e(json!({"text": "a", "response_deadline": "soon"})),
            "field response_deadline: \"soon\" is not a date (YYYY-MM-DD)"
        );
        assert_eq!(
            e(json!({"text": 3})),
            "field text: expected a string, found a number"
        );
        assert!(
            e(json!({"text": "a", "colour": "red"}))
                .starts_with("field colour: is not a field of a draft")
        );
        assert_eq!(
            e(json!("just text")),
            "field (drafts): expected a draft object or an array of drafts, found a string"
        );
    }
}
