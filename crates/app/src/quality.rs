//! Quality criteria as a use case: checking drafts, each issuer's own
//! criteria set, and the publishing gate that create and edit obey.

use concord_domain::quality::{Context, Draft, QualityReport, Ruleset, SimilarHit, evaluate};
use concord_domain::{Actor, Lifecycle, OrgCode, OrgKind, RecommendationData};
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::services::Services;

/// Where a criteria set came from.
#[derive(Debug, Clone, PartialEq)]
pub enum RulesetSource {
    Default,
    /// The issuer's own, as loaded.
    Issuer(OrgCode),
    /// Given with the request (`--ruleset FILE`).
    Given,
}

/// Reads a criteria file's text, naming the field in the error.
pub fn parse_ruleset(text: &str, origin: &str) -> AppResult<Ruleset> {
    Ruleset::from_json(text).map_err(|e| AppError::BadInput(format!("{origin}: {e}")))
}

impl Services {
    /// The criteria set that applies to an issuer: its own, else the default.
    pub(crate) async fn ruleset_for(
        &self,
        org: Option<&OrgCode>,
    ) -> AppResult<(Ruleset, RulesetSource)> {
        if let Some(org) = org
            && let Some(text) = self.store().issuer_criteria(org).await?
        {
            let r = Ruleset::from_json(&text).map_err(|e| {
                AppError::Internal(format!(
                    "the stored criteria set of {org} no longer reads: {e}"
                ))
            })?;
            return Ok((r, RulesetSource::Issuer(org.clone())));
        }
        Ok((Ruleset::default_set(), RulesetSource::Default))
    }

    /// Checks one draft or an array of drafts. `given`: a criteria set for
    /// all of them; otherwise each draft's issuer's set, else the default.
    /// `similar`: for each draft (by position), the existing recommendations
    /// the similarity engine found close to it.
    pub(crate) async fn check(
        &self,
        body: &Value,
        given: Option<&Ruleset>,
        similar: Option<&[Vec<SimilarHit>]>,
    ) -> AppResult<Vec<QualityReport>> {
        let drafts = Draft::many_from_json(body).map_err(|e| AppError::invalid_fields(vec![e]))?;
        let orgs = self.organisations().await?;
        let dir = concord_domain::OrganisationDirectory::new(&orgs);
        let kinds = |code: &str| -> Option<OrgKind> {
            orgs.iter()
                .find(|o| o.code.as_str() == code)
                .map(|o| o.kind)
        };
        let today = self.clock().today();
        let mut out = Vec::with_capacity(drafts.len());
        for (i, d) in drafts.iter().enumerate() {
            let owned;
            let rules = match given {
                Some(r) => r,
                None => {
                    let issuer = d.issuer.as_deref().and_then(|s| OrgCode::parse(s).ok());
                    owned = self.ruleset_for(issuer.as_ref()).await?.0;
                    &owned
                }
            };
            let ctx = Context {
                draft: d,
                directory: &dir,
                org_kind: &kinds,
                today,
                similar: similar.and_then(|all| all.get(i)).map(Vec::as_slice),
            };
            out.push(evaluate(rules, &ctx, i));
        }
        Ok(out)
    }

    /// The publishing gate: a record whose status is published must meet its
    /// issuer's gate, unless an operator overrides it with a reason (which
    /// goes into the audit trail with the change). Returns the actor to
    /// record the change under.
    pub(crate) async fn enforce_gate(
        &self,
        actor: &Actor,
        data: &RecommendationData,
        was_published: bool,
        override_reason: Option<&str>,
    ) -> AppResult<Actor> {
        if data.status != Lifecycle::Published || was_published {
            return Ok(actor.clone());
        }
        let (rules, source) = self.ruleset_for(Some(&data.issuer)).await?;
        if rules.gate.is_open() {
            return Ok(actor.clone());
        }
        let orgs = self.organisations().await?;
        let dir = concord_domain::OrganisationDirectory::new(&orgs);
        let kinds = |code: &str| -> Option<OrgKind> {
            orgs.iter()
                .find(|o| o.code.as_str() == code)
                .map(|o| o.kind)
        };
        let draft = Draft::from_data(data);
        let ctx = Context {
            draft: &draft,
            directory: &dir,
            org_kind: &kinds,
            today: self.clock().today(),
            similar: None,
        };
        let report = evaluate(&rules, &ctx, 0);
        if report.gate_failures.is_empty() {
            return Ok(actor.clone());
        }
        let which = match source {
            RulesetSource::Issuer(org) => format!("{org}'s criteria set {:?}", rules.name),
            _ => format!("the criteria set {:?}", rules.name),
        };
        match override_reason {
            Some(reason) => {
                let mut a = actor.clone();
                a.label = format!(
                    "{} [override_gate: {}; unmet: {}]",
                    actor.label,
                    reason.trim(),
                    report.gate_failures.join("; ")
                );
                Ok(a)
            }
            None => Err(AppError::Refused(format!(
                "cannot publish: the publishing gate of {which} is not met: {} (fix the draft, or an operator may publish with an override_gate reason)",
                report.gate_failures.join("; ")
            ))),
        }
    }

    pub(crate) async fn set_criteria(
        &self,
        actor: &Actor,
        org: &OrgCode,
        text: Option<&str>,
    ) -> AppResult<()> {
        if self.store().organisation(org).await?.is_none() {
            return Err(AppError::NotFound(format!(
                "organisation {org} is not registered"
            )));
        }
        Ok(self
            .store()
            .set_issuer_criteria(actor, org, text, self.clock().now())
            .await?)
    }
}
