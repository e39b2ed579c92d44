//! `/api/v1/workstreams`: the register of ongoing work. List and search
//! (with facets), register (answered with what the new work overlaps),
//! read, edit (optimistic versions), and preview overlaps without
//! registering.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use concord_app::{
    DEFAULT_OVERLAPS, MAX_OVERLAPS, NewWorkstream, WorkstreamEdit, WorkstreamQuery,
    parse_workstream_id,
};
use concord_domain::workstream::Shared;
use concord_domain::{OrgCode, StoredWorkstream, WorkstreamStatus};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub const DEFAULT_PER_PAGE: u64 = 50;
pub const MAX_PER_PAGE: u64 = 500;
const MAX_PAGE: u64 = 10_000;

/// Search, filters and paging. Empty values are ignored; unknown or
/// repeated parameters are refused.
#[derive(Debug, Clone, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkstreamParams {
    /// Words, "phrases" and -exclusions over title, aim, themes, settings and bodies.
    #[param(example = "sepsis")]
    pub q: Option<String>,
    /// The lead body's code.
    #[param(example = "HSSIB")]
    pub lead: Option<String>,
    /// One theme (case-insensitive exact match).
    pub theme: Option<String>,
    /// One care setting (case-insensitive exact match).
    pub setting: Option<String>,
    pub status: Option<WorkstreamStatus>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 10000, default = 1)]
    pub page: Option<u64>,
    /// Items per page (`limit` is accepted as another name for it).
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<u64>,
}

const PARAMS: &[&str] = &[
    "q", "lead", "theme", "setting", "status", "page", "per_page",
];

fn number(name: &str, v: &str, max: u64) -> ApiResult<u64> {
    match v.parse::<u64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_input(format!(
            "parameter {name}: {v:?} is not a whole number from 1 to {max}"
        ))),
    }
}

impl WorkstreamParams {
    pub fn parse(query: &str) -> ApiResult<Self> {
        let mut p = WorkstreamParams::default();
        for (name, v) in
            super::query::known_params(query, PARAMS, &[("limit", "per_page")], "the list")?
        {
            let v = v.as_str();
            match name {
                "q" => p.q = Some(v.to_string()),
                "lead" => {
                    p.lead = Some(
                        OrgCode::parse(v)
                            .map_err(|e| ApiError::bad_input(format!("parameter lead: {e}")))?
                            .to_string(),
                    )
                }
                "theme" => p.theme = Some(v.to_string()),
                "setting" => p.setting = Some(v.to_string()),
                "status" => {
                    p.status = Some(
                        v.parse()
                            .map_err(|e| ApiError::bad_input(format!("parameter status: {e}")))?,
                    )
                }
                "page" => p.page = Some(number(name, v, MAX_PAGE)?),
                "per_page" => p.per_page = Some(number(name, v, MAX_PER_PAGE)?),
                _ => unreachable!("every name in PARAMS is handled"),
            }
        }
        Ok(p)
    }

    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1)
    }

    pub fn per_page(&self) -> u64 {
        self.per_page.unwrap_or(DEFAULT_PER_PAGE)
    }

    pub fn to_query(&self) -> WorkstreamQuery {
        WorkstreamQuery {
            q: self.q.clone().unwrap_or_default(),
            lead: self.lead.clone(),
            theme: self.theme.clone(),
            setting: self.setting.clone(),
            status: self.status,
            offset: (self.page() - 1) * self.per_page(),
            limit: self.per_page(),
        }
    }
}

/// One page of workstreams, with facet counts over every match.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkstreamList {
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    /// Each item is a workstream with `score` and `snippet` added.
    #[schema(value_type = Vec<StoredWorkstream>)]
    pub items: Vec<concord_app::WorkstreamHit>,
    /// lead / status / theme / setting -> value -> count.
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    /// No workstream had enough of the words: those with some are shown.
    pub relaxed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An existing workstream or recommendation that overlaps the work.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the answer, which is the application's own type
pub struct OverlapDoc {
    /// `workstream` or `recommendation`.
    #[schema(example = "workstream")]
    pub kind: String,
    #[schema(example = "WS-NHSE-2025-001")]
    pub id: String,
    pub title: String,
    /// A workstream's lead, or a recommendation's issuer.
    pub body: String,
    /// 0 to 1: the similarity engine's text score plus what the two share.
    pub score: f64,
    /// duplicate, supports, related, contradicts (the engine's reading of the
    /// texts), or shared_recommendation.
    pub relation: String,
    #[schema(example = "words in common: \"sepsis\", \"triage\"; shared themes: sepsis")]
    pub reason: String,
    pub words: Vec<String>,
    pub shared: Shared,
}

/// What a workstream overlaps, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverlapList {
    #[schema(value_type = Vec<OverlapDoc>)]
    pub matches: Vec<concord_app::Overlap>,
}

/// A registered workstream, with what it overlaps.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the answer, which is the application's own type
pub struct RegisteredDoc {
    #[schema(example = "WS-HSSIB-2025-001")]
    pub id: String,
    pub title: String,
    pub lead: OrgCode,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every other field as sent (see WorkstreamInput), then:
    pub overlaps: Vec<OverlapDoc>,
}

/// A workstream as a body sends it. Only `title` is required; `lead`
/// defaults to the token's organisation (and must be it), `status` to
/// `active`, `public` to true. The id (`WS-LEAD-YYYY-NNN`), version and
/// times are set by Concord.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body, which is read as JSON and checked by the application
pub struct WorkstreamInput {
    #[schema(example = "Sepsis recognition in crowded emergency departments")]
    pub title: String,
    pub aim: Option<String>,
    #[schema(required = false, example = "HSSIB")]
    pub lead: OrgCode,
    /// Organisation codes of the partner bodies.
    #[schema(required = false, example = json!(["NHSE", "NICE"]))]
    pub partners: Vec<OrgCode>,
    #[schema(required = false)]
    pub themes: Vec<String>,
    #[schema(required = false)]
    pub settings: Vec<String>,
    #[schema(required = false)]
    pub status: WorkstreamStatus,
    pub start: Option<NaiveDate>,
    /// On or after `start`.
    pub expected_end: Option<NaiveDate>,
    pub contact: Option<String>,
    /// Not public: seen only by the lead, the partners and operators.
    #[schema(required = false, default = true)]
    pub public: bool,
    /// Recommendations (ISSUER-YYYY-NNNN) the work answers; each must be in the register.
    #[schema(required = false)]
    pub recommendations: Vec<String>,
}

/// An edit: `version` and the fields to replace (as in WorkstreamInput).
/// `id` and `lead` cannot change.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body, which is read as JSON and checked by the application
pub struct EditWorkstream {
    #[schema(example = 1)]
    pub version: i64,
    #[schema(required = false)]
    pub title: String,
    pub aim: Option<String>,
    #[schema(required = false)]
    pub partners: Vec<OrgCode>,
    #[schema(required = false)]
    pub themes: Vec<String>,
    #[schema(required = false)]
    pub settings: Vec<String>,
    #[schema(required = false)]
    pub status: WorkstreamStatus,
    pub start: Option<NaiveDate>,
    pub expected_end: Option<NaiveDate>,
    pub contact: Option<String>,
    #[schema(required = false)]
    pub public: bool,
    #[schema(required = false)]
    pub recommendations: Vec<String>,
}

fn etag(ws: &StoredWorkstream) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", ws.version))
        .expect("a quoted number is a valid header value")
}

/// List and search workstreams, with facets.
///
/// Anonymous callers see public workstreams; a token also sees the
/// workstreams its organisation leads or is a partner in. Without `q`:
/// newest start first.
#[utoipa::path(
    get,
    path = "/workstreams",
    tag = "workstreams",
    operation_id = "list_workstreams",
    params(WorkstreamParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of matching workstreams", body = WorkstreamList),
        (status = 400, description = "A query parameter is not valid; the message names it", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<WorkstreamList>> {
    let params = WorkstreamParams::parse(query.as_deref().unwrap_or(""))?;
    let found = state
        .services
        .as_principal(principal)
        .workstreams(&params.to_query())
        .await?;
    Ok(Json(WorkstreamList {
        total: found.total,
        page: params.page(),
        per_page: params.per_page(),
        items: found.items,
        facets: found.facets,
        relaxed: found.relaxed,
        notes: found.notes,
    }))
}

/// Register a workstream.
///
/// The caller's organisation leads it (an operator names the `lead`).
/// Partners and the lead must be registered organisations; recommendations
/// named must be in the register. The answer is the stored workstream with
/// `overlaps`: existing workstreams and recommendations that overlap it,
/// each with a score and a reason. Nothing is stored when anything is refused.
#[utoipa::path(
    post,
    path = "/workstreams",
    tag = "workstreams",
    operation_id = "create_workstream",
    request_body = WorkstreamInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered, with what it overlaps", body = RegisteredDoc,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The lead named is not the token's organisation", body = ErrorBody),
        (status = 409, description = "The id given is taken", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A rule is broken (ending before it starts, a partner that is not an organisation code, an unknown status...); the message names every field", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let svc = state.services.as_principal(principal);
    let done = svc
        .register_workstream(&NewWorkstream::from_json(body)?)
        .await?;
    Ok((
        StatusCode::CREATED,
        [
            (header::ETAG, etag(&done.workstream)),
            (
                header::LOCATION,
                HeaderValue::from_str(&format!(
                    "/api/v1/workstreams/{}",
                    done.workstream.workstream.id
                ))
                .expect("an id is a valid header value"),
            ),
        ],
        Json(done),
    )
        .into_response())
}

/// One workstream.
///
/// A workstream that is not public is found only by its lead and partners.
#[utoipa::path(
    get,
    path = "/workstreams/{id}",
    tag = "workstreams",
    operation_id = "get_workstream",
    params(("id" = String, Path, description = "WS-LEAD-YYYY-NNN")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The workstream", body = StoredWorkstream,
            headers(("ETag" = String, description = "The version, quoted"))),
        (status = 400, description = "Not a workstream identifier", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 404, description = "No such workstream (or not visible to the caller)", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let ws = state
        .services
        .as_principal(principal)
        .workstream(&parse_workstream_id(&id)?)
        .await?;
    Ok(([(header::ETAG, etag(&ws))], Json(ws)).into_response())
}

/// Edit a workstream.
///
/// Only its lead (or an operator). `version` must be the current version:
/// an edit based on an older one is refused with 409 and changes nothing.
#[utoipa::path(
    patch,
    path = "/workstreams/{id}",
    tag = "workstreams",
    operation_id = "update_workstream",
    params(("id" = String, Path, description = "WS-LEAD-YYYY-NNN")),
    request_body = EditWorkstream,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The workstream as edited", body = StoredWorkstream,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 400, description = "Not a workstream identifier, or the body is not a JSON object", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Another organisation leads the workstream", body = ErrorBody),
        (status = 404, description = "No such workstream (or not visible to the caller)", body = ErrorBody),
        (status = 409, description = "A stale version: the workstream changed meanwhile", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A rule is broken; the message names every field", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let ws = state
        .services
        .as_principal(principal)
        .edit_workstream(&parse_workstream_id(&id)?, WorkstreamEdit::from_json(body)?)
        .await?;
    Ok(([(header::ETAG, etag(&ws))], Json(ws)).into_response())
}

/// Preview what a workstream would overlap, without registering it.
///
/// Anyone may ask; only what the caller may see is compared. The body is a
/// workstream as for registration (`lead` required without a token).
#[utoipa::path(
    post,
    path = "/workstreams/overlaps",
    tag = "workstreams",
    operation_id = "preview_workstream_overlaps",
    request_body = WorkstreamInput,
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Overlapping workstreams and recommendations, best first", body = OverlapList),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A rule is broken; the message names every field", body = ErrorBody),
    )
)]
pub async fn overlaps(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<OverlapList>> {
    let mut body = body;
    // A token's organisation is the lead when the body names none.
    if let (Some(org), Some(obj)) = (principal.org(), body.as_object_mut()) {
        obj.entry("lead")
            .or_insert_with(|| Value::String(org.to_string()));
    }
    let matches = state
        .services
        .as_principal(principal)
        .preview_overlaps(&body, DEFAULT_OVERLAPS.max(MAX_OVERLAPS / 2))
        .await?;
    Ok(Json(OverlapList { matches }))
}
