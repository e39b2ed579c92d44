//! `/api/v1/rules`: the deadline rules in force (response period and
//! escalation ladder per issuer), and changes to an issuer's own rule in
//! this installation. Who may change one is the service's decision.

use axum::Json;
use axum::extract::{Path, State};
use concord_app::{IssuerRule, RuleChange, RuleOrigin, RulesView};
use concord_domain::OrgCode;
use concord_domain::lifecycle::{LadderStep, ResponseRules};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// One issuer's rule in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerRuleView {
    #[schema(value_type = String, example = "PFD")]
    pub issuer: OrgCode,
    /// `built_in` (shipped with Concord, or the default) or `installation`
    /// (set here).
    #[schema(example = "built_in")]
    pub origin: String,
    pub rules: ResponseRules,
    /// What a reset brings back.
    pub built_in: ResponseRules,
}

/// Every rule in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesAnswer {
    /// For issuers with no rule of their own.
    pub default: ResponseRules,
    pub issuers: Vec<IssuerRuleView>,
}

/// A new rule for an issuer. Without `ladder`, the ladder in force is kept.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body; the service reads it field by field
pub struct RuleBody {
    /// Days the addressee has to answer (1 to 3650).
    #[schema(example = 56)]
    pub days_to_respond: i64,
    /// The escalation ladder: steps in order, each strictly later.
    pub ladder: Option<Vec<LadderStep>>,
    /// Where the rule comes from (a statute, a policy).
    pub source: Option<String>,
}

fn view(r: IssuerRule) -> IssuerRuleView {
    IssuerRuleView {
        issuer: r.issuer,
        origin: match r.origin {
            RuleOrigin::BuiltIn => "built_in",
            RuleOrigin::Installation => "installation",
        }
        .into(),
        rules: r.rules,
        built_in: r.built_in,
    }
}

fn issuer_code(raw: &str) -> ApiResult<OrgCode> {
    OrgCode::parse(raw).map_err(|e| ApiError::bad_input(format!("issuer: {e}")))
}

/// Every deadline rule in force (anyone may read them).
#[utoipa::path(
    get,
    path = "/rules",
    tag = "lifecycle",
    operation_id = "list_rules",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The default rule and every issuer's rule in force", body = RulesAnswer),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> ApiResult<Json<RulesAnswer>> {
    let RulesView { default, issuers } = state
        .services
        .as_principal(principal)
        .response_rules()
        .await?;
    Ok(Json(RulesAnswer {
        default,
        issuers: issuers.into_iter().map(view).collect(),
    }))
}

/// One issuer's rule in force.
#[utoipa::path(
    get,
    path = "/rules/{issuer}",
    tag = "lifecycle",
    operation_id = "get_rule",
    params(("issuer" = String, Path, description = "A registered issuer's code")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The rule in force", body = IssuerRuleView),
        (status = 400, description = "Not an organisation code", body = ErrorBody),
        (status = 422, description = "Not a registered organisation", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(issuer): Path<String>,
) -> ApiResult<Json<IssuerRuleView>> {
    let issuer = issuer_code(&issuer)?;
    let rule = state
        .services
        .as_principal(principal)
        .response_rule(&issuer)
        .await?;
    Ok(Json(view(rule)))
}

/// Set an issuer's own rule in this installation: the issuing organisation
/// itself or an operator. A new period applies to records published
/// afterwards; a ladder at once. Audited.
#[utoipa::path(
    put,
    path = "/rules/{issuer}",
    tag = "lifecycle",
    operation_id = "set_rule",
    params(("issuer" = String, Path, description = "A registered issuer's code")),
    request_body = RuleBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rule now in force", body = IssuerRuleView),
        (status = 400, description = "Not an organisation code, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Another issuer's rule", body = ErrorBody),
        (status = 422, description = "A bad field (the message names it), or an unregistered issuer", body = ErrorBody),
    )
)]
pub async fn set(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(issuer): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<IssuerRuleView>> {
    let issuer = issuer_code(&issuer)?;
    let svc = state.services.as_principal(principal);
    // 401 before a complaint about the body.
    svc.require_signed_in()?;
    let change = RuleChange::from_json(&body)?;
    Ok(Json(view(svc.set_response_rule(&issuer, change).await?)))
}

/// Remove an issuer's own rule (the built-in one, or the default, applies
/// again): as for setting it.
#[utoipa::path(
    delete,
    path = "/rules/{issuer}",
    tag = "lifecycle",
    operation_id = "reset_rule",
    params(("issuer" = String, Path, description = "A registered issuer's code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The rule now in force", body = IssuerRuleView),
        (status = 400, description = "Not an organisation code", body = ErrorBody),
        (status = 401, description = "No token or session", body = ErrorBody),
        (status = 403, description = "Another issuer's rule", body = ErrorBody),
        (status = 422, description = "Not a registered organisation", body = ErrorBody),
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(issuer): Path<String>,
) -> ApiResult<Json<IssuerRuleView>> {
    let issuer = issuer_code(&issuer)?;
    let rule = state
        .services
        .as_principal(principal)
        .reset_response_rule(&issuer)
        .await?;
    Ok(Json(view(rule)))
}
