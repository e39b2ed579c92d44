//! `/api/v1/organisations`: the bodies that issue and receive recommendations.

use axum::Json;
use axum::extract::{Path, State};
use concord_domain::{OrgCode, Organisation};
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// Every registered organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationList {
    pub items: Vec<Organisation>,
}

/// List the registered organisations.
#[utoipa::path(
    get,
    path = "/organisations",
    tag = "organisations",
    operation_id = "list_organisations",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Every registered organisation", body = OrganisationList),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<crate::AppState>,
    Caller(principal): Caller,
) -> ApiResult<Json<OrganisationList>> {
    let items = state
        .services
        .as_principal(principal)
        .organisations()
        .await?;
    Ok(Json(OrganisationList { items }))
}

/// One organisation, by its code.
#[utoipa::path(
    get,
    path = "/organisations/{code}",
    tag = "organisations",
    operation_id = "get_organisation",
    params(("code" = OrgCode, Path, description = "The organisation's code, e.g. HSSIB (any case)")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The organisation", body = Organisation),
        (status = 400, description = "Not an organisation code", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 404, description = "No organisation has this code", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(code): Path<String>,
) -> ApiResult<Json<Organisation>> {
    let code = OrgCode::parse(&code).map_err(|e| ApiError::bad_input(e.to_string()))?;
    Ok(Json(
        state
            .services
            .as_principal(principal)
            .organisation(&code)
            .await?,
    ))
}
