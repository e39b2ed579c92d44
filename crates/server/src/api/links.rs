//! `/api/v1/recommendations/{id}/links`: assert a link, confirm or dismiss
//! one (suggested links come from the engine; a dismissed one is kept so
//! that it is never suggested again).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use concord_domain::{LinkKind, LinkState, Recommendation, RecommendationId};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::recommendations::etag;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// A link asserted by the caller's organisation (stored as confirmed).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssertLink {
    /// duplicates, supports, contradicts, supersedes, builds_on or related.
    #[schema(value_type = LinkKind, example = "supports")]
    pub kind: String,
    /// A Concord id (`NICE-2024-0001`), a coroner's report number
    /// (`2024-0079`, stored as `PFD-2024-0079`) or an NTSB number (`A-19-001`).
    #[schema(example = "NICE-2024-0001")]
    pub target: String,
}

/// A person's decision on a link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkDecision {
    /// confirmed or dismissed.
    #[schema(value_type = LinkState, example = "confirmed")]
    pub state: String,
}

fn parse_id(raw: &str) -> ApiResult<RecommendationId> {
    RecommendationId::parse(raw).map_err(|e| ApiError::bad_input(e.to_string()))
}

fn invalid(message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
}

fn answer(rec: Recommendation) -> Response {
    ([(header::ETAG, etag(&rec))], Json(rec)).into_response()
}

/// Assert a link from a recommendation to another (or to an external reference).
///
/// Only the recommendation's issuer (or an operator). The link is stored as
/// confirmed, with who asserted it and when; an existing link to the same
/// target (for instance an engine's suggestion) takes the new kind. Answers
/// the recommendation as it now stands.
#[utoipa::path(
    post,
    path = "/recommendations/{id}/links",
    tag = "recommendations",
    operation_id = "assert_link",
    params(("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN")),
    request_body = AssertLink,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The recommendation with the link", body = Recommendation,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 400, description = "Not a Concord identifier, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The recommendation is another organisation's", body = ErrorBody),
        (status = 404, description = "No such recommendation, or no such target recommendation", body = ErrorBody),
        (status = 409, description = "The recommendation changed meanwhile; try again", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "An unknown kind, a target that is not a reference, or a link to itself; the message names the field", body = ErrorBody),
    )
)]
pub async fn assert(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AssertLink>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let svc = state.services.as_principal(principal);
    // Access first: 401, 404, 403 before any complaint about the body.
    let kind = match body.kind.parse::<LinkKind>() {
        Ok(k) => k,
        Err(e) => {
            svc.may_change_links(&id).await?;
            return Err(invalid(format!("field kind: {e}")));
        }
    };
    let rec = svc.assert_link(&id, kind, &body.target).await?;
    Ok(answer(rec))
}

/// Confirm or dismiss a link of a recommendation.
///
/// Only the recommendation's issuer (or an operator). A dismissed link stays
/// on the record, marked dismissed, so that the engine never suggests it
/// again. Answers the recommendation as it now stands.
#[utoipa::path(
    patch,
    path = "/recommendations/{id}/links/{target}",
    tag = "recommendations",
    operation_id = "decide_link",
    params(
        ("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN"),
        ("target" = String, Path, description = "The link's target as the record lists it (`NICE-2024-0001`, `PFD-2024-0079`, `A-19-001`)"),
    ),
    request_body = LinkDecision,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The recommendation with the link decided", body = Recommendation,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 400, description = "Not a Concord identifier, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The recommendation is another organisation's", body = ErrorBody),
        (status = 404, description = "No such recommendation, or it has no link to that target", body = ErrorBody),
        (status = 409, description = "The recommendation changed meanwhile; try again", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A state other than confirmed or dismissed, or a target that is not a reference; the message names the field", body = ErrorBody),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, target)): Path<(String, String)>,
    ApiJson(body): ApiJson<LinkDecision>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let svc = state.services.as_principal(principal);
    let link_state = match body.state.parse::<LinkState>() {
        Ok(st) if st != LinkState::Suggested => st,
        _ => {
            svc.may_change_links(&id).await?;
            return Err(invalid(format!(
                "field state: {:?} is not one of: confirmed, dismissed",
                body.state
            )));
        }
    };
    let rec = svc.set_link_state(&id, &target, link_state).await?;
    Ok(answer(rec))
}
