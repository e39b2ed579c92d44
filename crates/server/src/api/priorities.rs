//! `/api/v1/organisations/{code}/priorities` and `/profile`: a provider's
//! ranked list of what applies to it, and what it says it is.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use concord_app::{MAX_PRIORITIES, PriorityList};
use concord_domain::OrgCode;
use concord_domain::organisation::ProviderKind;
use concord_domain::priority::{PriorityItem, ProviderProfile};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// A provider's priority list, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Priorities {
    #[schema(example = "NMTH")]
    pub org: String,
    pub name: String,
    pub profile: ProviderProfile,
    /// Whether the organisation set its profile (else made from its kind).
    pub profile_stored: bool,
    #[schema(value_type = String, example = "2026-11-27")]
    pub as_of: chrono::NaiveDate,
    /// Applicable recommendations found, before duplicates were collapsed
    /// and the list cut to `limit`.
    pub considered: usize,
    /// Items in the whole list, duplicates collapsed, before it was cut to
    /// `limit`.
    pub ranked: usize,
    /// Each: every recommendation in a group of duplicates (`ids`), its
    /// score between 0 and 1, and the reasons for its place (`why`). The
    /// provider's own overdue answers (`overdue_since`) first, then by score.
    pub items: Vec<PriorityItem>,
}

impl From<PriorityList> for Priorities {
    fn from(l: PriorityList) -> Self {
        Priorities {
            org: l.org,
            name: l.name,
            profile: l.profile,
            profile_stored: l.profile_stored,
            as_of: l.as_of,
            considered: l.considered,
            ranked: l.ranked,
            items: l.items,
        }
    }
}

/// A provider's profile, and whether it was set or made from its kind.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileAnswer {
    pub profile: ProviderProfile,
    pub stored: bool,
}

/// What a provider says it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    /// acute_trust, mental_health_trust, ambulance_service, community_trust,
    /// care_home, gp_practice, hospice or independent_provider.
    #[schema(value_type = ProviderKind, example = "acute_trust")]
    pub kind: String,
    /// The care settings it runs; empty means its kind's usual settings.
    #[serde(default)]
    pub settings: Vec<String>,
    pub region: Option<String>,
}

fn org_code(raw: &str) -> ApiResult<OrgCode> {
    OrgCode::parse(raw).map_err(|e| ApiError::bad_input(e.to_string()))
}

/// The ranked, de-duplicated recommendations that apply to a provider.
///
/// What reaches it: recommendations addressed to it directly, to another
/// provider of its kind, or about its care settings nationally; published
/// ones only, and not those whose own part it has closed. Duplicates
/// (judged by the similarity engine, or confirmed by a person) are one item
/// listing every body behind them. The score and its reasons come from one
/// documented function with its weights held as data (docs/priorities.md).
/// `format=csv` or `format=xlsx` answers the list as an action plan.
#[utoipa::path(
    get,
    path = "/organisations/{code}/priorities",
    tag = "organisations",
    operation_id = "priorities",
    params(
        ("code" = OrgCode, Path, description = "The provider's organisation code"),
        ("limit" = Option<usize>, Query, description = "How many items (1-500, default 50)"),
        ("format" = Option<String>, Query, description = "json (default), csv or xlsx (an action plan)"),
    ),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The list, best first", body = Priorities),
        (status = 400, description = "A bad code or parameter; the message names it", body = ErrorBody),
        (status = 404, description = "No organisation has this code", body = ErrorBody),
        (status = 422, description = "The organisation has no profile and is not known as a kind of provider", body = ErrorBody),
    )
)]
pub async fn priorities(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(code): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let code = org_code(&code)?;
    let mut limit = 50usize;
    let mut format = "json".to_string();
    let query = query.unwrap_or_default();
    for (name, v) in super::query::known_params(&query, &["limit", "format"], &[], "priorities")? {
        match name {
            "limit" => {
                limit = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PRIORITIES).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_input(format!(
                            "parameter limit: {v:?} is not a whole number from 1 to {MAX_PRIORITIES}"
                        ))
                    })?;
            }
            _ => match v.as_str() {
                "json" | "csv" | "xlsx" => format = v.clone(),
                other => {
                    return Err(ApiError::bad_input(format!(
                        "parameter format: {other:?} is not json, csv or xlsx"
                    )));
                }
            },
        }
    }
    let list = state
        .services
        .as_principal(principal)
        .priorities(&code, limit)
        .await?;
    let file = |ext: &str| {
        format!(
            "attachment; filename=\"priorities-{code}-{}.{ext}\"",
            list.as_of
        )
    };
    match format.as_str() {
        "csv" => Ok((
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, file("csv")),
            ],
            list.to_csv(),
        )
            .into_response()),
        "xlsx" => Ok((
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
                ),
                (header::CONTENT_DISPOSITION, file("xlsx")),
            ],
            list.to_xlsx()?,
        )
            .into_response()),
        _ => Ok(Json(Priorities::from(list)).into_response()),
    }
}

/// A provider's profile.
#[utoipa::path(
    get,
    path = "/organisations/{code}/profile",
    tag = "organisations",
    operation_id = "get_profile",
    params(("code" = OrgCode, Path, description = "The provider's organisation code")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The profile", body = ProfileAnswer),
        (status = 400, description = "Not an organisation code", body = ErrorBody),
        (status = 404, description = "No organisation has this code", body = ErrorBody),
        (status = 422, description = "No profile, and not known as a kind of provider", body = ErrorBody),
    )
)]
pub async fn get_profile(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<ProfileAnswer>> {
    let code = org_code(&code)?;
    let (profile, stored) = state
        .services
        .as_principal(principal)
        .provider_profile(&code)
        .await?;
    Ok(Json(ProfileAnswer { profile, stored }))
}

/// Set a provider's profile (the organisation itself, with its token).
#[utoipa::path(
    put,
    path = "/organisations/{code}/profile",
    tag = "organisations",
    operation_id = "set_profile",
    params(("code" = OrgCode, Path, description = "The provider's organisation code")),
    request_body = ProfileBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The profile as stored", body = ProfileAnswer),
        (status = 400, description = "Not an organisation code, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "No token", body = ErrorBody),
        (status = 403, description = "Another organisation's profile", body = ErrorBody),
        (status = 404, description = "No organisation has this code", body = ErrorBody),
        (status = 422, description = "An unknown kind of provider or a bad field; the message names it", body = ErrorBody),
    )
)]
pub async fn set_profile(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<ProfileBody>,
) -> ApiResult<Json<ProfileAnswer>> {
    let code = org_code(&code)?;
    let svc = state.services.as_principal(principal);
    // 401 before a complaint about the kind; who may set it is the service's.
    svc.require_signed_in()?;
    let kind: ProviderKind = body.kind.parse().map_err(|e: String| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            format!("field kind: {e}"),
        )
    })?;
    let profile = svc
        .set_provider_profile(ProviderProfile {
            org: code,
            kind,
            settings: body.settings,
            region: body.region,
        })
        .await?;
    Ok(Json(ProfileAnswer {
        profile,
        stored: true,
    }))
}
