//! `/api/v1/overdue`: every addressee whose answer is late.

use axum::Json;
use axum::extract::{RawQuery, State};
use chrono::NaiveDate;
use concord_domain::OrgCode;
use concord_domain::lifecycle::EscalationStep;
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// The parameters (all optional; unknown or repeated ones are refused).
#[derive(Debug, Clone, Default, PartialEq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverdueParams {
    /// Late as of the end of this day (YYYY-MM-DD); default: today in England.
    #[param(example = "2024-04-07")]
    pub as_of: Option<NaiveDate>,
    /// Only recommendations from this issuer (a registered organisation's code).
    #[param(example = "PFD")]
    pub issuer: Option<OrgCode>,
    /// Only this addressee: its organisation code, or part of its written
    /// name (case-insensitive).
    #[param(example = "NHSE")]
    pub addressee: Option<String>,
}

const PARAMS: &[&str] = &["as_of", "issuer", "addressee"];

impl OverdueParams {
    /// Reads a raw query string, naming the parameter in every refusal.
    /// Empty values are ignored, as an HTML form sends them.
    pub fn parse(query: &str) -> ApiResult<Self> {
        let mut p = OverdueParams::default();
        for (name, v) in super::query::known_params(query, PARAMS, &[], "overdue")? {
            let v = v.as_str();
            let bad = |msg: String| ApiError::bad_input(format!("parameter {name}: {msg}"));
            match name {
                "as_of" => p.as_of = Some(parse_date(v).map_err(bad)?),
                "issuer" => {
                    p.issuer = Some(OrgCode::parse(v).map_err(|_| {
                        bad(format!(
                            "{v:?} is not an organisation code (2-16 letters and digits, starting with a letter, e.g. PFD)"
                        ))
                    })?)
                }
                "addressee" => p.addressee = Some(v.to_string()),
                _ => unreachable!("every name in PARAMS is handled"),
            }
        }
        Ok(p)
    }
}

fn parse_date(v: &str) -> Result<NaiveDate, String> {
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
        .ok_or_else(|| format!("{v:?} is not a date in the form YYYY-MM-DD"))
}

/// A step of the issuer's escalation ladder already taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationTaken {
    #[schema(example = "reminder")]
    pub step: EscalationStep,
    pub on: NaiveDate,
}

/// The next step of the ladder and the first day it may be taken.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextEscalation {
    #[schema(example = "second_letter")]
    pub step: EscalationStep,
    pub from: NaiveDate,
}

/// One addressee whose answer is late.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueItem {
    #[schema(example = "PFD-2024-0079")]
    pub id: String,
    /// The addressee as the issuer wrote it.
    #[schema(example = "NHS England")]
    pub addressee: String,
    /// The organisation it was recognised as, if any.
    #[schema(example = "NHSE")]
    pub org: Option<OrgCode>,
    /// Which of the recommendation's addressees (from 1).
    pub addressee_number: usize,
    #[schema(example = "PFD")]
    pub issuer: OrgCode,
    pub title: String,
    pub published: Option<NaiveDate>,
    /// Its own due date, else the recommendation's deadline, else publication
    /// plus the issuer's period (PFD 56 days, HSSIB 90...).
    pub due: NaiveDate,
    /// Days since the due date (due on the 1st: 1 day late on the 2nd).
    #[schema(example = 37)]
    pub days_overdue: i64,
    pub escalations: Vec<EscalationTaken>,
    /// None when every step of the ladder has been taken.
    pub next_escalation: Option<NextEscalation>,
}

/// Late answers, as `concord overdue --json` prints them.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverdueResponse {
    pub as_of: NaiveDate,
    /// Most days overdue first, then by id and addressee.
    pub items: Vec<OverdueItem>,
}

impl From<concord_app::OverdueItem> for OverdueItem {
    fn from(i: concord_app::OverdueItem) -> Self {
        OverdueItem {
            id: i.id,
            addressee: i.addressee,
            org: i.org,
            addressee_number: i.addressee_number,
            issuer: i.issuer,
            title: i.title,
            published: i.published,
            due: i.due,
            days_overdue: i.days_overdue,
            escalations: i
                .escalations
                .into_iter()
                .map(|e| EscalationTaken {
                    step: e.step,
                    on: e.on,
                })
                .collect(),
            next_escalation: i.next_escalation.map(|n| NextEscalation {
                step: n.step,
                from: n.from,
            }),
        }
    }
}

impl From<concord_app::OverdueReport> for OverdueResponse {
    fn from(r: concord_app::OverdueReport) -> Self {
        OverdueResponse {
            as_of: r.as_of,
            items: r.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// Late answers.
///
/// Every addressee of a published recommendation whose answer was due
/// before `as_of` and had not been received by then: not for addressees
/// marked not required, dormant or closed; a reply without a date counts as
/// received. Drafts are never listed. Anyone may ask.
#[utoipa::path(
    get,
    path = "/overdue",
    tag = "lifecycle",
    operation_id = "overdue",
    params(OverdueParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Every late answer, most days overdue first", body = OverdueResponse),
        (status = 400, description = "A parameter is not valid (a date not in the form YYYY-MM-DD, an issuer code that is malformed or not registered, an unknown or repeated parameter); the message names it", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
    )
)]
pub async fn overdue(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<OverdueResponse>> {
    let p = OverdueParams::parse(query.as_deref().unwrap_or(""))?;
    let report = state
        .services
        .as_principal(principal)
        .overdue(p.as_of, p.issuer, p.addressee)
        .await
        .map_err(|e| match e {
            concord_app::AppError::BadInput(m) => ApiError::bad_input(format!("parameter {m}")),
            e => e.into(),
        })?;
    Ok(Json(report.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_parameters() {
        let p =
            OverdueParams::parse("as_of=2024-04-07&issuer=pfd&addressee=NHS%20England").unwrap();
        assert_eq!(p.as_of.unwrap().to_string(), "2024-04-07");
        assert_eq!(p.issuer.unwrap().as_str(), "PFD");
        assert_eq!(p.addressee.as_deref(), Some("NHS England"));
        assert_eq!(
            OverdueParams::parse("as_of=&issuer=").unwrap(),
            OverdueParams::default()
        );
    }

    #[test]
    fn refuses_bad_parameters_by_name() {
        let msg = |q: &str| OverdueParams::parse(q).unwrap_err().message().to_string();
        assert!(msg("as_of=07/04/2024").starts_with("parameter as_of:"));
        assert!(msg("as_of=2024-02-30").starts_with("parameter as_of:"));
        assert!(msg("issuer=no-such!").starts_with("parameter issuer:"));
        assert!(msg("asof=2024-01-01").contains("unknown query parameter \"asof\""));
        assert!(msg("issuer=PFD&issuer=CQC").contains("issuer: is given more than once"));
    }
}
