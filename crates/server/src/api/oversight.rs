//! Oversight of the similarity engine's suspicions: `GET /api/v1/duplicates`
//! (corpus-wide groups), `GET /api/v1/contradictions` (every suspected
//! contradiction), `GET /api/v1/recommendations/{id}/related` ("also said
//! by", "contradicted by", related) and
//! `POST /api/v1/recommendations/{id}/suggestions/{target}` (a person
//! confirms or dismisses a pair the engine suggests; a dismissal is
//! remembered).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use concord_app::{RelatedView, SuspectedPair};
use concord_domain::{LinkState, Recommendation, RecommendationId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::api::recommendations::etag;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

/// A group of duplicates: every member judged a duplicate of every other.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateGroupView {
    pub ids: Vec<String>,
    /// The mean score of the group's pairs, 0 to 1.
    pub score: f64,
}

/// Same JSON as `concord duplicates --json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicatesResponse {
    /// Largest first.
    pub groups: Vec<DuplicateGroupView>,
}

/// One suspected contradiction.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContradictionView {
    /// The two recommendations, in id order.
    pub ids: Vec<String>,
    /// The engine's score, 0 to 1 (null when only a stored link says so).
    pub score: Option<f64>,
    /// The words or figures that clash.
    pub reason: String,
    /// suggested (nobody has decided) or confirmed (a person has).
    pub state: String,
}

/// Same JSON as `concord contradictions --json`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContradictionsResponse {
    /// Strongest first; pairs a person dismissed are left out.
    pub pairs: Vec<ContradictionView>,
}

impl From<SuspectedPair> for ContradictionView {
    fn from(p: SuspectedPair) -> Self {
        ContradictionView {
            ids: p.ids.to_vec(),
            score: p.score,
            reason: p.reason,
            state: p.state.as_str().to_string(),
        }
    }
}

/// A related recommendation as shown on a record.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedItemView {
    pub id: String,
    pub issuer: String,
    pub title: String,
    /// duplicates, supports, contradicts, related, builds_on or supersedes.
    pub kind: String,
    /// The engine's score, 0 to 1 (null when a stored link alone relates them).
    pub score: Option<f64>,
    /// The words or numbers that decided it, and who asserted a link.
    pub reason: String,
    /// confirmed (by a person) or suggested (by the engine or a mention).
    pub state: String,
}

/// What others say about one recommendation.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedResponse {
    pub id: String,
    /// Duplicates and supporting recommendations from other issuers.
    pub also_said_by: Vec<RelatedItemView>,
    pub contradicted_by: Vec<RelatedItemView>,
    /// Everything else (related, builds on, supersedes, same issuer).
    pub related: Vec<RelatedItemView>,
}

impl From<RelatedView> for RelatedResponse {
    fn from(v: RelatedView) -> Self {
        let items = |l: Vec<concord_app::RelatedItem>| {
            l.into_iter()
                .map(|i| RelatedItemView {
                    id: i.id,
                    issuer: i.issuer,
                    title: i.title,
                    kind: i.kind.as_str().to_string(),
                    score: i.score,
                    reason: i.reason,
                    state: i.state.as_str().to_string(),
                })
                .collect()
        };
        RelatedResponse {
            id: v.id,
            also_said_by: items(v.also_said_by),
            contradicted_by: items(v.contradicted_by),
            related: items(v.related),
        }
    }
}

/// A person's decision on a pair the engine suggests.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairDecision {
    /// confirmed or dismissed.
    #[schema(value_type = LinkState, example = "dismissed")]
    pub state: String,
}

fn parse_id(raw: &str) -> ApiResult<RecommendationId> {
    RecommendationId::parse(raw).map_err(|e| ApiError::bad_input(e.to_string()))
}

/// Corpus-wide groups of duplicates.
///
/// Anyone may call it; drafts are grouped only for their issuer. A pair a
/// person dismissed is never in the same group.
#[utoipa::path(
    get,
    path = "/duplicates",
    tag = "similarity",
    operation_id = "duplicates",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Groups, largest first", body = DuplicatesResponse),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
    )
)]
pub async fn duplicates(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> ApiResult<Json<DuplicatesResponse>> {
    let groups = state
        .services
        .as_principal(principal)
        .duplicate_groups()
        .await?;
    Ok(Json(DuplicatesResponse {
        groups: groups
            .into_iter()
            .map(|g| DuplicateGroupView {
                ids: g.ids,
                score: g.score,
            })
            .collect(),
    }))
}

/// Every suspected contradiction in the register.
///
/// The engine's pairs and stored `contradicts` links, strongest first, each
/// with its score and the one-line reason. A pair a person dismissed is
/// left out; one a person confirmed is marked `confirmed`. Anyone may call
/// it; drafts only for their issuer.
#[utoipa::path(
    get,
    path = "/contradictions",
    tag = "similarity",
    operation_id = "contradictions",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Suspected contradictions, strongest first", body = ContradictionsResponse),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
    )
)]
pub async fn contradictions(
    State(state): State<AppState>,
    Caller(principal): Caller,
) -> ApiResult<Json<ContradictionsResponse>> {
    let pairs = state
        .services
        .as_principal(principal)
        .contradictions()
        .await?;
    Ok(Json(ContradictionsResponse {
        pairs: pairs.into_iter().map(Into::into).collect(),
    }))
}

/// What others say about a recommendation.
///
/// "Also said by" (duplicates and support from other issuers), "contradicted
/// by", and other related recommendations: stored links (either way) and
/// the engine's matches combined; dismissed pairs are never shown.
#[utoipa::path(
    get,
    path = "/recommendations/{id}/related",
    tag = "similarity",
    operation_id = "related",
    params(("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Related recommendations", body = RelatedResponse),
        (status = 400, description = "Not a Concord identifier", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 404, description = "No such recommendation (or a draft the caller may not see)", body = ErrorBody),
    )
)]
pub async fn related(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<RelatedResponse>> {
    let id = parse_id(&id)?;
    let view = state.services.as_principal(principal).related(&id).await?;
    Ok(Json(view.into()))
}

/// Confirm or dismiss a pair the similarity engine suggests.
///
/// Stores a link from `id` to `target` of the engine's kind (duplicates,
/// supports, contradicts or related) with the state given; a dismissed pair
/// never comes back in the lists or on the record's page. Only `id`'s
/// issuer or an operator. A pair the engine finds unrelated, with no link
/// stored either way, is 404: assert a link instead
/// (`POST /recommendations/{id}/links`). Answers the recommendation as it
/// now stands.
#[utoipa::path(
    post,
    path = "/recommendations/{id}/suggestions/{target}",
    tag = "similarity",
    operation_id = "decide_pair",
    params(
        ("id" = RecommendationId, Path, description = "The recommendation the decision is stored on"),
        ("target" = RecommendationId, Path, description = "The other recommendation of the pair"),
    ),
    request_body = PairDecision,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The recommendation with the decided link", body = Recommendation,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 400, description = "Not a Concord identifier, or the body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The recommendation is another organisation's", body = ErrorBody),
        (status = 404, description = "No such recommendation or target, or no suggested pair between them", body = ErrorBody),
        (status = 409, description = "The recommendation changed meanwhile; try again", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A state other than confirmed or dismissed, a target that is not a Concord id, or the record itself; the message names the field", body = ErrorBody),
    )
)]
pub async fn decide(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path((id, target)): Path<(String, String)>,
    ApiJson(body): ApiJson<PairDecision>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let svc = state.services.as_principal(principal);
    let link_state = match body.state.parse::<LinkState>() {
        Ok(st) if st != LinkState::Suggested => st,
        _ => {
            // Access first: 401, 404, 403 before any complaint about the body.
            svc.may_change_links(&id).await?;
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!(
                    "field state: {:?} is not one of: confirmed, dismissed",
                    body.state
                ),
            ));
        }
    };
    let rec = svc.decide_pair(&id, &target, link_state).await?;
    Ok(([(header::ETAG, etag(&rec))], Json(rec)).into_response())
}
