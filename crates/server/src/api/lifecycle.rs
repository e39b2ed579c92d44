//! `/api/v1/recommendations/{id}/addressees/{addressee}/{move}`: what
//! happens after publication, one addressee at a time — the response,
//! the action plan and progress, the issuer's assessment, closure,
//! dormancy, reassessment, verification and escalation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use concord_domain::RecommendationId;
use concord_domain::lifecycle::{Move, MoveKind};
use serde_json::Value;

use crate::AppState;
use crate::api::recommendations::etag;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// Reads the body as the named move: the path names it, the body holds its
/// fields (a `move` field, if sent, must agree).
pub fn parse_move(kind: MoveKind, body: Value) -> Result<Move, ApiError> {
    let name = kind.as_str();
    let invalid = |m: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", m);
    let Value::Object(mut fields) = body else {
        return Err(invalid("the body must be a JSON object".into()));
    };
    match fields.get("move") {
        None => {}
        Some(Value::String(m)) if m == name => {}
        Some(other) => {
            return Err(invalid(format!(
                "field move: {other} does not match the path, which names {name:?}"
            )));
        }
    }
    fields.insert("move".into(), Value::String(name.into()));
    serde_json::from_value::<Move>(Value::Object(fields))
        .map_err(|e| invalid(format!("the body of {name:?}: {e}")))
}

/// Record a lifecycle move for one addressee of a recommendation.
///
/// `addressee` is the addressee's number (1 for the first, as listed), its
/// organisation code, or its name. The body holds the move's fields (see the
/// `Move` schema; the `move` tag may be left out, the path names it).
///
/// Who may do what: `respond`, `add_action` and `update` are the
/// addressee's own (its organisation's token); `assess`, `close`, `dormant`,
/// `reopen`, `reassess`, `verify` and `escalate` are the issuer's, and no
/// organisation assesses its own response. Each move is refused, with the
/// reason, when the record is not in a state that allows it (a second
/// response, progress before a response, closing as implemented with nothing
/// implemented and no note, escalating before the ladder's date...). Every
/// move is recorded in the history under its name; answers the
/// recommendation as it now stands.
#[utoipa::path(
    post,
    path = "/recommendations/{id}/addressees/{addressee}/{move}",
    tag = "lifecycle",
    operation_id = "apply_move",
    params(
        ("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN"),
        ("addressee" = String, Path, description = "Number (1-based), organisation code or name of the addressee", example = "NHSE"),
        ("move" = String, Path, description = "respond, add_action, update, assess, close, dormant, reopen, reassess, verify or escalate", example = "respond"),
    ),
    request_body(content = Move, description = "The move's fields", example = json!({
        "acceptance": "accepted",
        "text": "We will screen every adult within one hour of arrival from April.",
        "received": "2024-03-01"
    })),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The recommendation after the move", body = concord_domain::Recommendation,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 400, description = "Not a Concord identifier, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The caller's organisation may not make this move (not the addressee; not the issuer; assessing its own response)", body = ErrorBody),
        (status = 404, description = "No such recommendation or move", body = ErrorBody),
        (status = 409, description = "Refused in the record's present state (already answered, nothing to assess, not late yet...); the message says why", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing or wrong (an unknown acceptance, a date before publication, reasons missing); the message names the field", body = ErrorBody),
    )
)]
pub async fn apply_move(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, addressee, name)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let id = RecommendationId::parse(&id).map_err(|e| ApiError::bad_input(e.to_string()))?;
    let Some(kind) = MoveKind::named(&name) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "{name:?} is not a move; the moves are {}",
                MoveKind::allowed()
            ),
        ));
    };
    let svc = state.services.as_principal(principal);
    // Who and what before the shape of the body: 401 and 404 come first.
    svc.require_signed_in()?;
    svc.recommendation(&id).await?;
    let mv = parse_move(kind, body)?;
    let rec = svc.apply_move(&id, &addressee, &mv).await?;
    Ok(([(header::ETAG, etag(&rec))], Json(rec)).into_response())
}
