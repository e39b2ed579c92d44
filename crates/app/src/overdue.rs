//! Late answers: `concord overdue` and `GET /api/v1/overdue`.
//!
//! Which answers are late is the domain's rule
//! ([`concord_domain::lifecycle::overdue_as_of`]); the store finds them in
//! one query. Here: the date (today in England unless given), refusing an
//! unregistered issuer, and the escalation ladder's next step for each.

use chrono::NaiveDate;
use concord_domain::OrgCode;
use concord_domain::lifecycle::{EscalationStep, RulesBook};
use concord_store::{OverdueFilter, OverdueRow};
use serde::Serialize;

use crate::access::Authorized;
use crate::error::{AppError, AppResult};

/// What `concord overdue --json` prints and the API sends.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OverdueReport {
    pub as_of: NaiveDate,
    pub items: Vec<OverdueItem>,
}

/// One addressee whose answer is late.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct OverdueItem {
    /// The recommendation.
    pub id: String,
    /// The addressee as the issuer wrote it.
    pub addressee: String,
    /// The organisation it was recognised as, if any.
    pub org: Option<OrgCode>,
    /// 1-based, as people count the addressees of a recommendation.
    pub addressee_number: usize,
    pub issuer: OrgCode,
    pub title: String,
    pub published: Option<NaiveDate>,
    pub due: NaiveDate,
    pub days_overdue: i64,
    /// The escalation steps already taken, oldest first.
    pub escalations: Vec<EscalationTaken>,
    /// The next step of the issuer's ladder and the day from which it may be
    /// taken; None when every step has been taken.
    pub next_escalation: Option<NextEscalation>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EscalationTaken {
    pub step: EscalationStep,
    pub on: NaiveDate,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NextEscalation {
    pub step: EscalationStep,
    pub from: NaiveDate,
}

impl OverdueItem {
    fn new(row: OverdueRow, rules: &RulesBook) -> Self {
        let ladder = &rules.for_issuer(&row.id.issuer).ladder;
        let next_escalation = ladder.get(row.escalations.len()).map(|s| NextEscalation {
            step: s.step,
            from: s.from(row.due),
        });
        OverdueItem {
            id: row.id.to_string(),
            addressee: row.addressee,
            org: row.org,
            addressee_number: row.position + 1,
            issuer: row.id.issuer.clone(),
            title: row.title,
            published: row.published,
            due: row.due,
            days_overdue: row.days_overdue,
            escalations: row
                .escalations
                .into_iter()
                .map(|e| EscalationTaken {
                    step: e.step,
                    on: e.on,
                })
                .collect(),
            next_escalation,
        }
    }
}

impl Authorized<'_> {
    /// Every addressee whose answer is late as of `as_of` (default: today in
    /// England), optionally for one issuer and one addressee (its code, or
    /// words of its written name). Drafts never wait for answers, so they
    /// are never listed; anyone may ask, as everything listed is published.
    pub async fn overdue(
        &self,
        as_of: Option<NaiveDate>,
        issuer: Option<OrgCode>,
        addressee: Option<String>,
    ) -> AppResult<OverdueReport> {
        let svc = self.services();
        if let Some(code) = &issuer
            && svc.organisation(code).await?.is_none()
        {
            return Err(AppError::BadInput(format!(
                "issuer: {code} is not a registered organisation"
            )));
        }
        let addressee = addressee
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty());
        if let Some(a) = &addressee
            && a.len() > 1000
        {
            return Err(AppError::BadInput(
                "addressee: is longer than 1,000 characters".into(),
            ));
        }
        let as_of = as_of.unwrap_or_else(|| svc.clock().today());
        let rules = svc.rules_book().await?;
        let rows = svc
            .store()
            .overdue(
                &OverdueFilter {
                    as_of,
                    issuer,
                    addressee,
                },
                &rules,
            )
            .await?;
        Ok(OverdueReport {
            as_of,
            items: rows
                .into_iter()
                .map(|r| OverdueItem::new(r, &rules))
                .collect(),
        })
    }
}
