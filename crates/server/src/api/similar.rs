//! `POST /api/v1/similar`: existing recommendations that duplicate, support,
//! contradict or relate to a text.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiJson;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimilarRequest {
    /// The draft's wording (English, up to 1 MiB).
    pub text: String,
    /// How many matches at most (1-200, default 10).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarMatchView {
    pub id: String,
    /// 0 to 1.
    pub score: f64,
    /// duplicate, supports, contradicts or related.
    pub relation: String,
    /// The words or numbers that decided it.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarResponse {
    /// Which method answered: `lexical`, or `lexical+embeddings` when the
    /// server is built with the `embeddings` feature and has the weights.
    pub method: String,
    /// Best first.
    pub matches: Vec<SimilarMatchView>,
}

/// Find recommendations similar to a text.
///
/// Anyone may call it. Drafts are matched only for their own issuer.
#[utoipa::path(
    post,
    path = "/similar",
    tag = "similarity",
    operation_id = "similar",
    request_body = SimilarRequest,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Matches, best first", body = SimilarResponse),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 422, description = "The text is empty, too long, not in the Latin alphabet, or has no words", body = ErrorBody),
    )
)]
pub async fn similar(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<SimilarRequest>,
) -> ApiResult<Json<SimilarResponse>> {
    let answer = state
        .services
        .as_principal(principal)
        .similar_answer_for_text(&body.text, body.limit.unwrap_or(10))
        .await?;
    Ok(Json(SimilarResponse {
        method: answer.method.as_str().to_string(),
        matches: answer
            .matches
            .into_iter()
            .map(|m| SimilarMatchView {
                id: m.id,
                score: m.score,
                relation: m.relation.to_string(),
                reason: m.reason,
            })
            .collect(),
    }))
}
