//! Criteria sets as data: which criteria, their names, descriptions and
//! weights, which built-in check each runs, its word lists and thresholds,
//! and the publishing gate. The default set is `criteria/default.json`; an
//! issuing body may load its own (for example its own wording of a
//! checklist) without a new release.
//!
//! A criteria file is JSON:
//!
//! ```json
//! {"name": "...", "description": "...",
//!  "gate": {"min_score": 60, "no_fail": ["addressee"]},
//!  "criteria": [{"name": "addressee", "description": "...", "weight": 2,
//!                "check": "addressee", "params": {"vague_addressees": ["..."]}}]}
//! ```
//!
//! Every `params` key is optional: what a criterion leaves out is taken from
//! the default set's criterion with the same check. Unknown keys, unknown
//! checks and values of the wrong type are refused with the field named
//! (`criteria[2].weight: expected a number, found a string`).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::FieldError;
use crate::string_enum;

use super::Outcome;

string_enum!(
    /// The built-in checks a criterion can run.
    CheckKind {
        Addressee => "addressee",
        Action => "action",
        Specific => "specific",
        Measurable => "measurable",
        Achievable => "achievable",
        Relevant => "relevant",
        TimeBound => "time_bound",
        Evidence => "evidence",
        PatientImpact => "patient_impact",
        Cost => "cost",
        Equality => "equality",
        CrossReference => "cross_reference",
        PlainLanguage => "plain_language",
    }
);

/// The embedded default criteria set.
pub const DEFAULT_RULESET_JSON: &str = include_str!("../../criteria/default.json");

/// Word lists and thresholds. Each check reads only its own keys
/// ([`allowed_params`]).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Params {
    pub vague_addressees: Vec<String>,
    pub vague_verbs: Vec<String>,
    pub weak_verbs: Vec<String>,
    pub strong_verbs: Vec<String>,
    pub max_actions: u32,
    pub scope_words: Vec<String>,
    pub measure_words: Vec<String>,
    pub deliverable_words: Vec<String>,
    pub needs_government: Vec<String>,
    pub absolute_words: Vec<String>,
    pub government_kinds: Vec<String>,
    pub risk_words: Vec<String>,
    pub setting_words: Vec<String>,
    pub vague_time: Vec<String>,
    pub evidence_types: Vec<String>,
    pub citation_words: Vec<String>,
    pub impact_phrases: Vec<String>,
    pub patient_words: Vec<String>,
    pub costed_phrases: Vec<String>,
    pub cost_words: Vec<String>,
    pub considered_phrases: Vec<String>,
    pub group_words: Vec<String>,
    pub similarity_threshold: f64,
    pub reference_phrases: Vec<String>,
    pub max_sentence_words: f64,
    pub fail_sentence_words: f64,
    pub min_reading_ease: f64,
    pub fail_reading_ease: f64,
    pub known_abbreviations: Vec<String>,
    /// What a check reports when the thing is entirely absent (fail or warn).
    pub missing: Option<Outcome>,
}

/// The keys each check reads.
pub fn allowed_params(check: CheckKind) -> &'static [&'static str] {
    use CheckKind::*;
    match check {
        Addressee => &["vague_addressees"],
        Action => &["vague_verbs", "weak_verbs", "strong_verbs"],
        Specific => &["max_actions", "scope_words"],
        Measurable => &["measure_words", "deliverable_words", "missing"],
        Achievable => &["needs_government", "absolute_words", "government_kinds"],
        Relevant => &["risk_words", "setting_words"],
        TimeBound => &["vague_time"],
        Evidence => &["evidence_types", "citation_words", "missing"],
        PatientImpact => &["impact_phrases", "patient_words", "missing"],
        Cost => &["costed_phrases", "cost_words", "missing"],
        Equality => &["considered_phrases", "group_words", "missing"],
        CrossReference => &["similarity_threshold", "reference_phrases"],
        PlainLanguage => &[
            "max_sentence_words",
            "fail_sentence_words",
            "min_reading_ease",
            "fail_reading_ease",
            "known_abbreviations",
        ],
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    /// As the issuer calls it; shown in results.
    pub name: String,
    pub description: String,
    pub weight: f64,
    pub check: CheckKind,
    #[serde(skip)]
    pub params: Params,
}

/// What must hold before a draft may be published.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Gate {
    /// The lowest score (0-100) that may be published.
    pub min_score: Option<u8>,
    /// Criteria (by name) that must not fail.
    pub no_fail: Vec<String>,
}

impl Gate {
    pub fn is_open(&self) -> bool {
        self.min_score.is_none() && self.no_fail.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ruleset {
    pub name: String,
    pub description: String,
    pub criteria: Vec<Criterion>,
    pub gate: Gate,
}

impl Ruleset {
    /// Concord's default set (embedded from `criteria/default.json`).
    pub fn default_set() -> Ruleset {
        Self::parse_with_base(DEFAULT_RULESET_JSON, None)
            .expect("the embedded default criteria set is valid")
    }

    /// Reads a criteria file; what a criterion's params leave out comes from
    /// the default set. Errors name the field.
    pub fn from_json(text: &str) -> Result<Ruleset, FieldError> {
        let base = Self::default_set();
        Self::parse_with_base(text, Some(&base))
    }

    fn parse_with_base(text: &str, base: Option<&Ruleset>) -> Result<Ruleset, FieldError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| FieldError::new("(file)", format!("is not valid JSON: {e}")))?;
        let obj = as_object(&value, "(top level)")?;
        known_keys(obj, "", &["name", "description", "criteria", "gate"])?;
        let name = opt_string(obj, "name", "name")?.unwrap_or_else(|| "unnamed".into());
        let description = opt_string(obj, "description", "description")?.unwrap_or_default();
        let crit_values = match obj.get("criteria") {
            Some(Value::Array(a)) => a,
            Some(other) => return Err(wrong("criteria", "an array", other)),
            None => {
                return Err(FieldError::new(
                    "criteria",
                    "is required (a list of criteria)",
                ));
            }
        };
        if crit_values.is_empty() {
            return Err(FieldError::new(
                "criteria",
                "is empty: name at least one criterion",
            ));
        }
        let mut criteria = Vec::new();
        let mut names = BTreeSet::new();
        for (i, cv) in crit_values.iter().enumerate() {
            let path = format!("criteria[{i}]");
            let c = as_object(cv, &path)?;
            known_keys(
                c,
                &path,
                &["name", "description", "weight", "check", "params"],
            )?;
            let check_s = req_string(c, "check", &format!("{path}.check"))?;
            let check: CheckKind = check_s.parse().map_err(|_| {
                FieldError::new(
                    format!("{path}.check"),
                    format!(
                        "{check_s:?} is not a known check; the checks are: {}",
                        CheckKind::allowed()
                    ),
                )
            })?;
            let name = opt_string(c, "name", &format!("{path}.name"))?
                .unwrap_or_else(|| check.as_str().to_string());
            if name.trim().is_empty() {
                return Err(FieldError::new(format!("{path}.name"), "is empty"));
            }
            if !names.insert(name.clone()) {
                return Err(FieldError::new(
                    format!("{path}.name"),
                    format!("{name:?} is used by two criteria"),
                ));
            }
            let description =
                opt_string(c, "description", &format!("{path}.description"))?.unwrap_or_default();
            let weight = match c.get("weight") {
                None | Some(Value::Null) => 1.0,
                Some(Value::Number(n)) => n.as_f64().unwrap_or(-1.0),
                Some(other) => return Err(wrong(&format!("{path}.weight"), "a number", other)),
            };
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(FieldError::new(
                    format!("{path}.weight"),
                    "must be a number 0 or above",
                ));
            }
            let mut params = base
                .and_then(|b| b.criteria.iter().find(|bc| bc.check == check))
                .map(|bc| bc.params.clone())
                .unwrap_or_default();
            match c.get("params") {
                None | Some(Value::Null) => {}
                Some(Value::Object(p)) => {
                    read_params(p, check, &format!("{path}.params"), &mut params)?
                }
                Some(other) => return Err(wrong(&format!("{path}.params"), "an object", other)),
            }
            criteria.push(Criterion {
                name,
                description,
                weight,
                check,
                params,
            });
        }
        let gate = match obj.get("gate") {
            None | Some(Value::Null) => Gate::default(),
            Some(Value::Object(g)) => {
                known_keys(g, "gate", &["min_score", "no_fail"])?;
                let min_score = match g.get("min_score") {
                    None | Some(Value::Null) => None,
                    Some(Value::Number(n)) => match n.as_u64() {
                        Some(v) if v <= 100 => Some(v as u8),
                        _ => {
                            return Err(FieldError::new(
                                "gate.min_score",
                                format!("{n} is not a whole number from 0 to 100"),
                            ));
                        }
                    },
                    Some(other) => {
                        return Err(wrong("gate.min_score", "a number from 0 to 100", other));
                    }
                };
                let no_fail = opt_strings(g, "no_fail", "gate.no_fail")?.unwrap_or_default();
                for (i, n) in no_fail.iter().enumerate() {
                    if !names.contains(n) {
                        return Err(FieldError::new(
                            format!("gate.no_fail[{i}]"),
                            format!("{n:?} is not one of this set's criteria"),
                        ));
                    }
                }
                Gate { min_score, no_fail }
            }
            Some(other) => return Err(wrong("gate", "an object", other)),
        };
        Ok(Ruleset {
            name,
            description,
            criteria,
            gate,
        })
    }
}

fn read_params(
    p: &Map<String, Value>,
    check: CheckKind,
    path: &str,
    out: &mut Params,
) -> Result<(), FieldError> {
    let allowed = allowed_params(check);
    for (k, v) in p {
        let field = format!("{path}.{k}");
        if !allowed.contains(&k.as_str()) {
            return Err(FieldError::new(
                field,
                format!(
                    "is not a setting of the {} check; its settings are: {}",
                    check,
                    allowed.join(", ")
                ),
            ));
        }
        let list = |v: &Value| -> Result<Vec<String>, FieldError> { strings(v, &field) };
        let num = |v: &Value| -> Result<f64, FieldError> {
            v.as_f64().ok_or_else(|| wrong(&field, "a number", v))
        };
        match k.as_str() {
            "vague_addressees" => out.vague_addressees = list(v)?,
            "vague_verbs" => out.vague_verbs = list(v)?,
            "weak_verbs" => out.weak_verbs = list(v)?,
            "strong_verbs" => out.strong_verbs = list(v)?,
            "max_actions" => {
                out.max_actions = v
                    .as_u64()
                    .filter(|n| *n >= 1 && *n <= 100)
                    .ok_or_else(|| wrong(&field, "a whole number from 1 to 100", v))?
                    as u32
            }
            "scope_words" => out.scope_words = list(v)?,
            "measure_words" => out.measure_words = list(v)?,
            "deliverable_words" => out.deliverable_words = list(v)?,
            "needs_government" => out.needs_government = list(v)?,
            "absolute_words" => out.absolute_words = list(v)?,
            "government_kinds" => out.government_kinds = list(v)?,
            "risk_words" => out.risk_words = list(v)?,
            "setting_words" => out.setting_words = list(v)?,
            "vague_time" => out.vague_time = list(v)?,
            "evidence_types" => out.evidence_types = list(v)?,
            "citation_words" => out.citation_words = list(v)?,
            "impact_phrases" => out.impact_phrases = list(v)?,
            "patient_words" => out.patient_words = list(v)?,
            "costed_phrases" => out.costed_phrases = list(v)?,
            "cost_words" => out.cost_words = list(v)?,
            "considered_phrases" => out.considered_phrases = list(v)?,
            "group_words" => out.group_words = list(v)?,
            "similarity_threshold" => {
                let n = num(v)?;
                if !(0.0..=1.0).contains(&n) {
                    return Err(FieldError::new(field, "must be between 0 and 1"));
                }
                out.similarity_threshold = n
            }
            "reference_phrases" => out.reference_phrases = list(v)?,
            "max_sentence_words" => out.max_sentence_words = num(v)?,
            "fail_sentence_words" => out.fail_sentence_words = num(v)?,
            "min_reading_ease" => out.min_reading_ease = num(v)?,
            "fail_reading_ease" => out.fail_reading_ease = num(v)?,
            "known_abbreviations" => out.known_abbreviations = list(v)?,
            "missing" => {
                let s = v
                    .as_str()
                    .ok_or_else(|| wrong(&field, "\"fail\" or \"warn\"", v))?;
                out.missing = Some(match s {
                    "fail" => Outcome::Fail,
                    "warn" => Outcome::Warn,
                    _ => {
                        return Err(FieldError::new(
                            field,
                            format!("{s:?} is not \"fail\" or \"warn\""),
                        ));
                    }
                })
            }
            _ => unreachable!("allowed_params lists only handled keys"),
        }
    }
    // Word lists are matched in lower case.
    for l in [
        &mut out.vague_addressees,
        &mut out.vague_verbs,
        &mut out.weak_verbs,
        &mut out.strong_verbs,
        &mut out.scope_words,
        &mut out.measure_words,
        &mut out.deliverable_words,
        &mut out.needs_government,
        &mut out.absolute_words,
        &mut out.risk_words,
        &mut out.setting_words,
        &mut out.vague_time,
        &mut out.evidence_types,
        &mut out.citation_words,
        &mut out.impact_phrases,
        &mut out.patient_words,
        &mut out.costed_phrases,
        &mut out.cost_words,
        &mut out.considered_phrases,
        &mut out.group_words,
        &mut out.reference_phrases,
    ] {
        for w in l.iter_mut() {
            *w = w.to_lowercase();
        }
    }
    Ok(())
}

pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn wrong(field: &str, expected: &str, found: &Value) -> FieldError {
    FieldError::new(
        field,
        format!("expected {expected}, found {}", type_name(found)),
    )
}

fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, FieldError> {
    v.as_object().ok_or_else(|| wrong(path, "an object", v))
}

fn known_keys(obj: &Map<String, Value>, path: &str, keys: &[&str]) -> Result<(), FieldError> {
    for k in obj.keys() {
        if !keys.contains(&k.as_str()) {
            let field = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            return Err(FieldError::new(
                field,
                format!("is not a known field; expected one of: {}", keys.join(", ")),
            ));
        }
    }
    Ok(())
}

fn opt_string(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<String>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(wrong(field, "a string", other)),
    }
}

fn req_string(obj: &Map<String, Value>, key: &str, field: &str) -> Result<String, FieldError> {
    opt_string(obj, key, field)?.ok_or_else(|| {
        FieldError::new(
            field,
            format!("is required (one of: {})", CheckKind::allowed()),
        )
    })
}

fn strings(v: &Value, field: &str) -> Result<Vec<String>, FieldError> {
    let arr = v
        .as_array()
        .ok_or_else(|| wrong(field, "an array of strings", v))?;
    arr.iter()
        .enumerate()
        .map(|(i, x)| {
            x.as_str()
                .map(str::to_string)
                .ok_or_else(|| wrong(&format!("{field}[{i}]"), "a string", x))
        })
        .collect()
}

fn opt_strings(
    obj: &Map<String, Value>,
    key: &str,
    field: &str,
) -> Result<Option<Vec<String>>, FieldError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => strings(v, field).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_has_the_thirteen_criteria() {
        let r = Ruleset::default_set();
        let names: Vec<&str> = r.criteria.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            CheckKind::ALL
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
        );
        assert!(r.gate.is_open());
        assert!(
            r.criteria[1]
                .params
                .vague_verbs
                .contains(&"consider".to_string())
        );
    }

    #[test]
    fn an_issuer_set_renames_reweights_and_inherits_word_lists() {
        let r = Ruleset::from_json(
            r#"{"name": "ours", "gate": {"min_score": 70, "no_fail": ["Deadline"]},
                "criteria": [
                  {"name": "Deadline", "check": "time_bound", "weight": 3},
                  {"name": "Verb", "check": "action", "params": {"vague_verbs": ["Ponder"]}}
                ]}"#,
        )
        .unwrap();
        assert_eq!(r.criteria[0].name, "Deadline");
        assert_eq!(r.criteria[0].weight, 3.0);
        assert!(
            r.criteria[0]
                .params
                .vague_time
                .contains(&"urgently".to_string())
        );
        assert_eq!(r.criteria[1].params.vague_verbs, vec!["ponder"]);
        assert!(!r.criteria[1].params.strong_verbs.is_empty());
        assert_eq!(r.gate.min_score, Some(70));
    }

    #[test]
    fn bad_files_name_the_field() {
        let err = |s: &str| Ruleset::from_json(s).unwrap_err().to_string();
        assert_eq!(
            err(r#"{"criteria": [{"check": "smartness"}]}"#),
            format!(
                "field criteria[0].check: \"smartness\" is not a known check; the checks are: {}",
                CheckKind::allowed()
            )
        );
        assert_eq!(
            err(r#"{"criteria": [{"check": "cost", "weight": "heavy"}]}"#),
            "field criteria[0].weight: expected a number, found a string"
        );
        assert!(
            err(r#"{"criteria": [{"check": "cost", "params": {"max_actions": 2}}]}"#).starts_with(
                "field criteria[0].params.max_actions: is not a setting of the cost check"
            )
        );
        assert_eq!(
            err(r#"{"criteria": [{"check": "action", "params": {"vague_verbs": ["a", 3]}}]}"#),
            "field criteria[0].params.vague_verbs[1]: expected a string, found a number"
        );
        assert_eq!(
            err(r#"{"criteria": [{"check": "cost"}], "gate": {"no_fail": ["time_bound"]}}"#),
            "field gate.no_fail[0]: \"time_bound\" is not one of this set's criteria"
        );
        assert!(err("[1, 2").starts_with("field (file): is not valid JSON"));
        assert!(err(r#"{"critera": []}"#).starts_with("field critera: is not a known field"));
        assert_eq!(
            err(r#"{"criteria": [{"check": "cost"}], "gate": {"min_score": 101}}"#),
            "field gate.min_score: 101 is not a whole number from 0 to 100"
        );
    }
}
