//! `POST /api/v1/check`: the quality criteria for one draft or an array of drafts.

use axum::Json;
use axum::extract::State;
use concord_domain::quality::QualityReport;
use serde_json::Value;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// Check drafts against the quality criteria.
///
/// The body is one draft or an array of drafts (recommendation fields, all
/// optional except `text`). Each draft is checked against its issuer's own
/// criteria set when the issuer has loaded one, else Concord's default set.
/// The answer has one element per draft, in order: the score (0-100) and,
/// per criterion, pass / warn / fail with a message and a suggestion.
/// Anyone may call it: it reads and writes nothing.
#[utoipa::path(
    post,
    path = "/check",
    tag = "quality",
    operation_id = "check_drafts",
    request_body(content = Object, description = "One draft, or an array of drafts; `text` is required"),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One report per draft, in order", body = Vec<QualityReport>),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A draft has no text, or a field has the wrong type; the message names it", body = ErrorBody),
    )
)]
pub async fn check(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Vec<QualityReport>>> {
    Ok(Json(
        state
            .services
            .as_principal(principal)
            .check(&body, None)
            .await?,
    ))
}
