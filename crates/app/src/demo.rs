//! The built-in demo register: our own writing (see `demo/`), loaded by
//! `concord demo` into a fresh database.

use chrono::{DateTime, Utc};
use concord_domain::{NewRecommendation, Organisation, Recommendation};
use serde_json::Value;

use crate::error::{AppError, AppResult};

const ORGANISATIONS: &str = include_str!("../demo/organisations.json");
const RECOMMENDATIONS: &str = include_str!("../demo/recommendations.json");

pub struct DemoSet {
    pub organisations: Vec<Organisation>,
    pub records: Vec<NewRecommendation>,
}

/// Parses the embedded demo files. Records carry no version or timestamps
/// in the files; they start at version 1, created on their publication day.
pub fn demo_set(now: DateTime<Utc>) -> AppResult<DemoSet> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        AppError::Internal(format!("built-in demo {what}: {e}"))
    };
    let organisations: Vec<Organisation> =
        serde_json::from_str(ORGANISATIONS).map_err(|e| bad("organisations.json", &e))?;
    let raw: Vec<Value> =
        serde_json::from_str(RECOMMENDATIONS).map_err(|e| bad("recommendations.json", &e))?;
    let mut records = Vec::with_capacity(raw.len());
    for (i, mut v) in raw.into_iter().enumerate() {
        let obj = v.as_object_mut().ok_or_else(|| {
            bad(
                "recommendations.json",
                &format!("element {i} is not an object"),
            )
        })?;
        let created = obj
            .get("published")
            .and_then(Value::as_str)
            .map(|d| format!("{d}T09:00:00Z"))
            .unwrap_or_else(|| now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        obj.entry("version").or_insert(Value::from(1));
        obj.entry("created_at")
            .or_insert(Value::from(created.clone()));
        obj.entry("updated_at").or_insert(Value::from(created));
        let rec: Recommendation = serde_json::from_value(v)
            .map_err(|e| bad("recommendations.json", &format!("element {i}: {e}")))?;
        records.push(NewRecommendation::from_export(rec));
    }
    Ok(DemoSet {
        organisations,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_set_is_valid_and_large_enough() {
        let set = demo_set(Utc::now()).expect("demo data parses");
        assert!(
            set.records.len() >= 150,
            "only {} demo records",
            set.records.len()
        );
        for r in &set.records {
            r.data
                .clone()
                .validate()
                .unwrap_or_else(|e| panic!("{:?}: {e}", r.id));
        }
        let issuers: std::collections::BTreeSet<_> =
            set.records.iter().map(|r| r.data.issuer.clone()).collect();
        assert!(issuers.len() >= 6, "demo issuers: {issuers:?}");
    }
}
