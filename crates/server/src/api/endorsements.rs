//! `/api/v1/recommendations/{id}/endorsements`: bodies that stand behind a
//! recommendation instead of repeating it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use concord_domain::{Endorsement, RecommendationId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// An endorsement by the caller's organisation.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Endorse {
    /// What the endorsing body adds (optional, up to 10,000 characters).
    #[schema(example = "The National Quality Board stands behind this recommendation.")]
    pub note: Option<String>,
}

fn parse_id(raw: &str) -> ApiResult<RecommendationId> {
    RecommendationId::parse(raw).map_err(|e| ApiError::bad_input(e.to_string()))
}

/// The bodies that endorse a recommendation, oldest first.
#[utoipa::path(
    get,
    path = "/recommendations/{id}/endorsements",
    tag = "similarity",
    operation_id = "list_endorsements",
    params(("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The endorsements", body = Vec<Endorsement>),
        (status = 400, description = "Not a Concord identifier", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 404, description = "No such recommendation (or a draft of another organisation)", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Endorsement>>> {
    let id = parse_id(&id)?;
    Ok(Json(
        state
            .services
            .as_principal(principal)
            .endorsements(&id)
            .await?,
    ))
}

/// Endorse a recommendation: the caller's organisation stands behind it
/// instead of publishing a repeat.
///
/// Needs the organisation's approver role (it speaks for the body, as
/// publishing does). A body does not endorse its own recommendations, and
/// only published ones can be endorsed. Recorded in the recommendation's
/// history.
#[utoipa::path(
    post,
    path = "/recommendations/{id}/endorsements",
    tag = "similarity",
    operation_id = "endorse",
    params(("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN")),
    request_body = Endorse,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Endorsed", body = Endorsement),
        (status = 400, description = "Not a Concord identifier, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organisation's approver", body = ErrorBody),
        (status = 404, description = "No such recommendation", body = ErrorBody),
        (status = 409, description = "Already endorsed by this organisation, its own recommendation, or not published", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "The note is too long or holds a NUL; the message names the field", body = ErrorBody),
    )
)]
pub async fn endorse(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Endorse>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let e = state
        .services
        .as_principal(principal)
        .endorse(&id, body.note.as_deref())
        .await?;
    Ok((StatusCode::CREATED, Json(e)).into_response())
}

/// Withdraw the caller's organisation's endorsement.
#[utoipa::path(
    delete,
    path = "/recommendations/{id}/endorsements",
    tag = "similarity",
    operation_id = "withdraw_endorsement",
    params(("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 400, description = "Not a Concord identifier", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Not an organisation's approver", body = ErrorBody),
        (status = 404, description = "No such recommendation, or the organisation does not endorse it", body = ErrorBody),
    )
)]
pub async fn withdraw(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id)?;
    state
        .services
        .as_principal(principal)
        .withdraw_endorsement(&id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
