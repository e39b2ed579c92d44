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

/// Someone the demo can be explored as (`concord demo` prints them with a
/// password made for this run; a real installation has no such accounts).
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub email: String,
    pub password: String,
    pub org: concord_domain::OrgCode,
    pub roles: concord_domain::account::RoleSet,
    /// What to try as them.
    pub about: &'static str,
}

/// The demo's people: (email, name, organisation, roles, what to try).
const DEMO_PEOPLE: &[(&str, &str, &str, &[concord_domain::account::Role], &str)] = {
    use concord_domain::account::Role::*;
    &[
        (
            "safety.lead@hssib.example.org",
            "Hana Safety-Lead",
            "HSSIB",
            &[Author, Approver, Assessor, Administrator],
            "draft and publish recommendations, assess answers, manage HSSIB's people",
        ),
        (
            "governance@nhse.example.org",
            "Nadia Governance",
            "NHSE",
            &[Respondent],
            "answer what is addressed to NHS England and report progress",
        ),
        (
            "oversight@dhsc.example.org",
            "Omar Oversight",
            "DHSC",
            &[Oversight],
            "the dashboard and the oversight lists",
        ),
    ]
};

impl crate::Authorized<'_> {
    /// Adds the demo's people (operators only), each with a new password.
    pub async fn add_demo_accounts(&self) -> AppResult<Vec<DemoAccount>> {
        self.permit(crate::access::Action::Operate, None)?;
        let mut out = Vec::new();
        for (email, name, org, roles, about) in DEMO_PEOPLE {
            let secret = crate::new_token_secret();
            // Short enough to type: 16 random hex digits.
            let password = format!("demo-{}", &secret["concord_".len()..][..16]);
            let org = concord_domain::OrgCode::parse(org)
                .map_err(|e| AppError::Internal(format!("demo account {email}: {e}")))?;
            let roles = concord_domain::account::RoleSet::from_roles(roles.iter().copied());
            self.add_user(crate::NewUser {
                email: (*email).into(),
                name: (*name).into(),
                password: password.clone(),
                memberships: vec![concord_domain::account::Membership {
                    org: org.clone(),
                    roles,
                }],
            })
            .await?;
            out.push(DemoAccount {
                email: (*email).into(),
                password,
                org,
                roles,
                about,
            });
        }
        Ok(out)
    }
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
