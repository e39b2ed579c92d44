//! Deadline rules per installation: `concord rules`, `GET /api/v1/rules`,
//! `PUT/DELETE /api/v1/rules/{issuer}`.
//!
//! The rules in force are Concord's built-in book
//! (`concord_domain::lifecycle::RulesBook::builtin`) with the installation's
//! own rule in place of an issuer's where one is stored (table
//! `response_rules`). The merged book is kept in memory, dropped when this
//! process changes a rule and read again at most [`RULES_FRESH`] after it was
//! read (so a change made by another process, say the command line beside a
//! running server, is seen within seconds).
//!
//! What a change applies to (docs/responses.md, "Deadline rules"):
//! - The period applies to records published from then on: a published
//!   record keeps the deadline set when it was published (for a coroner's
//!   report the 56 days of the law in force at the time of the report), as
//!   do addressees with their own due date. Drafts take the rule in force
//!   when they are published.
//! - The ladder applies at once to every late answer: the next step and the
//!   day it may be taken are always read from the rule in force.

use std::sync::Arc;
use std::time::{Duration, Instant};

use concord_domain::OrgCode;
use concord_domain::lifecycle::{LadderStep, ResponseRules, RulesBook};
use serde::Serialize;
use serde_json::Value;

use crate::access::Authorized;
use crate::error::{AppError, AppResult};
use crate::services::Services;

/// How long the merged book is trusted before it is read again.
pub const RULES_FRESH: Duration = Duration::from_secs(5);

/// Where an issuer's rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOrigin {
    /// Shipped with Concord (`response_rules.json`), or the default.
    BuiltIn,
    /// Set in this installation.
    Installation,
}

/// One issuer's rule in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssuerRule {
    pub issuer: OrgCode,
    pub origin: RuleOrigin,
    pub rules: ResponseRules,
    /// What `reset` brings back: the issuer's built-in rule, or the default.
    pub built_in: ResponseRules,
}

/// Every rule in force.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesView {
    /// For issuers with no rule of their own.
    pub default: ResponseRules,
    /// Issuers with a built-in rule or one set here, by code.
    pub issuers: Vec<IssuerRule>,
}

/// A change to an issuer's rule. `ladder: None` keeps the ladder in force.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleChange {
    pub days_to_respond: i64,
    pub ladder: Option<Vec<LadderStep>>,
    pub source: Option<String>,
}

impl RuleChange {
    /// From a request body: `{"days_to_respond": 56, "ladder": [{"step":
    /// "reminder", "days_after_due": 14}, ...], "source": "..."}`; errors
    /// name the field.
    pub fn from_json(body: &Value) -> AppResult<RuleChange> {
        let Value::Object(map) = body else {
            return Err(AppError::invalid("body: must be a JSON object"));
        };
        if let Some(k) = map
            .keys()
            .find(|k| !["days_to_respond", "ladder", "source"].contains(&k.as_str()))
        {
            return Err(AppError::invalid(format!(
                "{k}: unknown field (expected days_to_respond, ladder, source)"
            )));
        }
        let days_to_respond = match map.get("days_to_respond") {
            Some(v) => v.as_i64().ok_or_else(|| {
                AppError::invalid(format!(
                    "days_to_respond: {v} is not a whole number of days"
                ))
            })?,
            None => return Err(AppError::invalid("days_to_respond: is required")),
        };
        let ladder = match map.get("ladder") {
            None | Some(Value::Null) => None,
            Some(Value::Array(steps)) => Some(
                steps
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let field = format!("ladder[{i}]");
                        let step = s.get("step").and_then(Value::as_str).ok_or_else(|| {
                            AppError::invalid(format!("{field}.step: is required (text)"))
                        })?;
                        let days = s.get("days_after_due").and_then(Value::as_i64).ok_or_else(
                            || {
                                AppError::invalid(format!(
                                    "{field}.days_after_due: is required (a whole number of days)"
                                ))
                            },
                        )?;
                        if let Some(k) = s.as_object().and_then(|o| {
                            o.keys()
                                .find(|k| !["step", "days_after_due"].contains(&k.as_str()))
                                .cloned()
                        }) {
                            return Err(AppError::invalid(format!(
                                "{field}.{k}: unknown field (expected step, days_after_due)"
                            )));
                        }
                        Ok(LadderStep::from_parts(&field, step, days)?)
                    })
                    .collect::<AppResult<Vec<_>>>()?,
            ),
            Some(v) => {
                return Err(AppError::invalid(format!(
                    "ladder: {v} is not a list of steps"
                )));
            }
        };
        let source = match map.get("source") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(v) => return Err(AppError::invalid(format!("source: {v} is not text"))),
        };
        Ok(RuleChange {
            days_to_respond,
            ladder,
            source,
        })
    }
}

impl Services {
    /// The response rules in force: the built-in book with this
    /// installation's own rules in place of the issuers'.
    pub(crate) async fn rules_book(&self) -> AppResult<RulesBook> {
        if let Some((at, book)) = self.rules.0.read().expect("rules lock").as_ref()
            && at.elapsed() < RULES_FRESH
        {
            return Ok((**book).clone());
        }
        let book = Arc::new(self.read_rules_book().await?);
        *self.rules.0.write().expect("rules lock") = Some((Instant::now(), book.clone()));
        Ok((*book).clone())
    }

    async fn read_rules_book(&self) -> AppResult<RulesBook> {
        let stored = self.store().response_rules().await?;
        let mut own = Vec::with_capacity(stored.len());
        for (org, text) in stored {
            let rules: ResponseRules = serde_json::from_str(&text).map_err(|e| {
                AppError::Internal(format!(
                    "the stored deadline rule of {org} is unreadable: {e}"
                ))
            })?;
            own.push((org, rules));
        }
        Ok(RulesBook::builtin().with_overrides(own.iter().map(|(o, r)| (o, r))))
    }

    /// A rule changed here: read the book again, and rebuild the figures
    /// that depend on it.
    async fn rules_changed(&self) {
        *self.rules.0.write().expect("rules lock") = None;
        self.dashboard_forget().await;
    }

    async fn rules_view(&self) -> AppResult<RulesView> {
        let builtin = RulesBook::builtin();
        let book = self.rules_book().await?;
        let own: std::collections::BTreeSet<String> = self
            .store()
            .response_rules()
            .await?
            .into_iter()
            .map(|(o, _)| o.as_str().to_string())
            .collect();
        let mut issuers = Vec::new();
        for (code, rules) in &book.issuers {
            let Ok(issuer) = OrgCode::parse(code) else {
                continue;
            };
            issuers.push(IssuerRule {
                built_in: builtin.for_issuer(&issuer).clone(),
                origin: if own.contains(code) {
                    RuleOrigin::Installation
                } else {
                    RuleOrigin::BuiltIn
                },
                rules: rules.clone(),
                issuer,
            });
        }
        Ok(RulesView {
            default: book.default.clone(),
            issuers,
        })
    }

    async fn issuer_rule(&self, issuer: &OrgCode) -> AppResult<IssuerRule> {
        let view = self.rules_view().await?;
        Ok(view
            .issuers
            .into_iter()
            .find(|r| &r.issuer == issuer)
            .unwrap_or_else(|| IssuerRule {
                issuer: issuer.clone(),
                origin: RuleOrigin::BuiltIn,
                rules: view.default.clone(),
                built_in: view.default.clone(),
            }))
    }
}

impl Authorized<'_> {
    /// The book of deadline rules in force (the installation's own rules in
    /// place of the issuers'), for working out due dates as the services
    /// do; anyone may read them.
    pub async fn rules_in_force(&self) -> AppResult<RulesBook> {
        self.services().rules_book().await
    }

    /// Every deadline rule in force; anyone may read them.
    pub async fn response_rules(&self) -> AppResult<RulesView> {
        self.services().rules_view().await
    }

    /// One issuer's rule in force (a registered issuer).
    pub async fn response_rule(&self, issuer: &OrgCode) -> AppResult<IssuerRule> {
        self.registered_issuer(issuer).await?;
        self.services().issuer_rule(issuer).await
    }

    /// Sets an issuer's own rule: an operator, or the issuing organisation
    /// itself. Checked whole before anything is written; audited.
    pub async fn set_response_rule(
        &self,
        issuer: &OrgCode,
        change: RuleChange,
    ) -> AppResult<IssuerRule> {
        self.may_set_rules(issuer)?;
        self.registered_issuer(issuer).await?;
        let svc = self.services();
        let current = svc.rules_book().await?.for_issuer(issuer).clone();
        let days = u32::try_from(change.days_to_respond).unwrap_or(0);
        if days == 0 && change.days_to_respond != 0 {
            return Err(AppError::invalid(format!(
                "days_to_respond: {} is not between 1 and {} days",
                change.days_to_respond,
                concord_domain::lifecycle::MAX_DAYS_TO_RESPOND
            )));
        }
        let rules = ResponseRules {
            days_to_respond: days,
            ladder: change.ladder.unwrap_or(current.ladder),
            source: change
                .source
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        };
        rules.check()?;
        if rules.source.as_ref().is_some_and(|s| s.len() > 2000) {
            return Err(AppError::invalid("source: is longer than 2,000 characters"));
        }
        let text = serde_json::to_string(&rules)
            .map_err(|e| AppError::Internal(format!("encoding the rule: {e}")))?;
        svc.store()
            .set_response_rules(
                &self.principal().actor(),
                issuer,
                Some(&text),
                svc.clock().now(),
            )
            .await?;
        svc.rules_changed().await;
        svc.issuer_rule(issuer).await
    }

    /// Removes an issuer's own rule (the built-in one, or the default,
    /// applies again): as for setting it. Audited; resetting an issuer with
    /// no rule of its own changes nothing and says so in the answer's origin.
    pub async fn reset_response_rule(&self, issuer: &OrgCode) -> AppResult<IssuerRule> {
        self.may_set_rules(issuer)?;
        self.registered_issuer(issuer).await?;
        let svc = self.services();
        svc.store()
            .set_response_rules(&self.principal().actor(), issuer, None, svc.clock().now())
            .await?;
        svc.rules_changed().await;
        svc.issuer_rule(issuer).await
    }

    fn may_set_rules(&self, issuer: &OrgCode) -> AppResult<()> {
        // An issuer's deadlines are its policy, like its publishing gate:
        // its approvers set them.
        self.permit(crate::access::Action::SetDeadlineRules, Some(issuer))
    }

    async fn registered_issuer(&self, issuer: &OrgCode) -> AppResult<()> {
        match self.services().organisation(issuer).await? {
            Some(_) => Ok(()),
            None => Err(AppError::NotFound(format!(
                "issuer: {issuer} is not a registered organisation"
            ))),
        }
    }
}
