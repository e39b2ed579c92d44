//! `/api/v1/recommendations`: list, read, create (drafts), edit, history.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use concord_app::{NewRecord, Page, RecommendationFilter, RecordEdit};
use concord_domain::{AuditEvent, Lifecycle, OrgCode, RecKind, Recommendation, RecommendationId};
use serde::Serialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;

pub const DEFAULT_PER_PAGE: u64 = 50;
pub const MAX_PER_PAGE: u64 = 500;
/// Far beyond any real register, and small enough that offsets stay exact.
pub const MAX_PAGE: u64 = 10_000_000;

/// Filters and paging for the list. Empty values are ignored (as an HTML
/// form sends them); unknown or repeated parameters are refused, so that a
/// misspelt filter never silently returns everything.
#[derive(Debug, Clone, Default, PartialEq, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Issuing organisation's code.
    #[param(example = "HSSIB")]
    pub issuer: Option<OrgCode>,
    /// An addressee's organisation code, or part of its written name (case-insensitive).
    #[param(example = "NHSE")]
    pub addressee: Option<String>,
    /// One theme (case-insensitive exact match).
    #[param(example = "sepsis")]
    pub theme: Option<String>,
    /// One care setting (case-insensitive exact match).
    #[param(example = "acute")]
    pub setting: Option<String>,
    /// Lifecycle status. Drafts are listed only for their issuer.
    pub status: Option<Lifecycle>,
    pub kind: Option<RecKind>,
    /// Published on or after this date (YYYY-MM-DD).
    pub from: Option<NaiveDate>,
    /// Published on or before this date (YYYY-MM-DD).
    pub to: Option<NaiveDate>,
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 10000000, default = 1)]
    pub page: Option<u64>,
    /// Items per page (`limit` is accepted as another name for it).
    #[param(minimum = 1, maximum = 500, default = 50)]
    pub per_page: Option<u64>,
}

const PARAMS: &[&str] = &[
    "issuer",
    "addressee",
    "theme",
    "setting",
    "status",
    "kind",
    "from",
    "to",
    "page",
    "per_page",
];

impl ListParams {
    /// Reads a raw query string, naming the parameter in every refusal.
    pub fn parse(query: &str) -> ApiResult<Self> {
        let mut p = ListParams::default();
        for (name, v) in
            super::query::known_params(query, PARAMS, &[("limit", "per_page")], "the list")?
        {
            let v = v.as_str();
            let bad = |msg: String| ApiError::bad_input(format!("parameter {name}: {msg}"));
            match name {
                "issuer" => p.issuer = Some(OrgCode::parse(v).map_err(|_| bad(not_org_code(v)))?),
                "addressee" => p.addressee = Some(v.to_string()),
                "theme" => p.theme = Some(v.to_string()),
                "setting" => p.setting = Some(v.to_string()),
                "status" => p.status = Some(v.parse().map_err(bad)?),
                "kind" => p.kind = Some(v.parse().map_err(bad)?),
                "from" => p.from = Some(parse_date(v).map_err(bad)?),
                "to" => p.to = Some(parse_date(v).map_err(bad)?),
                "page" => p.page = Some(parse_number(v, 1, MAX_PAGE).map_err(bad)?),
                "per_page" => p.per_page = Some(parse_number(v, 1, MAX_PER_PAGE).map_err(bad)?),
                _ => unreachable!("every name in PARAMS is handled"),
            }
        }
        if let (Some(from), Some(to)) = (p.from, p.to)
            && from > to
        {
            return Err(ApiError::bad_input(format!(
                "parameter from: {from} is after to ({to})"
            )));
        }
        Ok(p)
    }

    pub fn page(&self) -> u64 {
        self.page.unwrap_or(1)
    }

    pub fn per_page(&self) -> u64 {
        self.per_page.unwrap_or(DEFAULT_PER_PAGE)
    }

    pub fn to_filter(&self) -> RecommendationFilter {
        RecommendationFilter {
            issuer: self.issuer.clone(),
            addressee: self.addressee.clone(),
            theme: self.theme.clone(),
            setting: self.setting.clone(),
            status: self.status,
            kind: self.kind,
            from: self.from,
            to: self.to,
            ..Default::default()
        }
    }

    pub fn to_page(&self) -> Page {
        Page {
            offset: (self.page() - 1) * self.per_page(),
            limit: self.per_page(),
        }
    }
}

fn not_org_code(v: &str) -> String {
    format!(
        "{v:?} is not an organisation code (2-16 letters and digits, starting with a letter, e.g. HSSIB)"
    )
}

fn parse_date(v: &str) -> Result<NaiveDate, String> {
    // chrono's %Y accepts signs and more than four digits: insist on the plain form.
    let plain = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    match plain
        .then(|| NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .flatten()
    {
        Some(d) => Ok(d),
        None => Err(format!("{v:?} is not a date in the form YYYY-MM-DD")),
    }
}

fn parse_number(v: &str, min: u64, max: u64) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(_) => Err(format!("{v} is out of range {min}-{max}")),
        Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("{v} is out of range {min}-{max}"))
        }
        Err(_) => Err(format!("{v:?} is not a whole number")),
    }
}

fn parse_id(raw: &str) -> ApiResult<RecommendationId> {
    RecommendationId::parse(raw).map_err(|e| ApiError::bad_input(e.to_string()))
}

/// The strong entity tag of a record: its version.
pub fn etag(rec: &Recommendation) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{}\"", rec.version))
        .expect("a quoted number is a valid header value")
}

/// One page of recommendations.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecommendationList {
    /// How many match the filters, over all pages.
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
    pub items: Vec<Recommendation>,
}

/// A recommendation's audit trail, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditTrail {
    pub id: RecommendationId,
    pub items: Vec<AuditEvent>,
}

/// A new recommendation (a draft unless `status` says otherwise). Only
/// `title` and `text` are required: `issuer` defaults to the caller's
/// organisation, `kind` to `recommendation`, `status` to `draft`. The id,
/// version and timestamps are set by Concord.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body, which is read as JSON and checked by the application
pub struct CreateRecommendation {
    #[schema(example = "Sepsis screening in emergency departments")]
    pub title: String,
    #[schema(example = "NHS England should ...")]
    pub text: String,
    #[schema(required = false)]
    pub issuer: OrgCode,
    #[schema(required = false)]
    pub kind: RecKind,
    #[schema(required = false)]
    pub status: Lifecycle,
    pub local_ref: Option<String>,
    pub source: Option<concord_domain::Source>,
    pub published: Option<NaiveDate>,
    pub level: Option<concord_domain::SystemLevel>,
    #[schema(required = false)]
    pub addressees: Vec<concord_domain::Addressee>,
    #[schema(required = false)]
    pub themes: Vec<String>,
    #[schema(required = false)]
    pub settings: Vec<String>,
    pub evidence: Option<concord_domain::Evidence>,
    pub patient_impact: Option<String>,
    pub cost: Option<concord_domain::Cost>,
    pub equality: Option<concord_domain::EqualityImpact>,
    pub risk: Option<concord_domain::Risk>,
    pub response_deadline: Option<NaiveDate>,
    #[schema(required = false)]
    pub links: Vec<concord_domain::Link>,
}

/// An edit: `version` (the version you read; or send it as `If-Match: "N"`)
/// and the fields to change, each replacing the stored value whole. `id`,
/// `issuer` and the timestamps cannot be changed.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body, which is read as JSON and checked by the application
pub struct EditRecommendation {
    #[schema(required = false, example = 1)]
    pub version: i64,
    #[schema(required = false)]
    pub title: String,
    #[schema(required = false)]
    pub text: String,
    #[schema(required = false)]
    pub kind: RecKind,
    #[schema(required = false)]
    pub status: Lifecycle,
    pub local_ref: Option<String>,
    pub source: Option<concord_domain::Source>,
    pub published: Option<NaiveDate>,
    pub level: Option<concord_domain::SystemLevel>,
    #[schema(required = false)]
    pub addressees: Vec<concord_domain::Addressee>,
    #[schema(required = false)]
    pub themes: Vec<String>,
    #[schema(required = false)]
    pub settings: Vec<String>,
    pub evidence: Option<concord_domain::Evidence>,
    pub patient_impact: Option<String>,
    pub cost: Option<concord_domain::Cost>,
    pub equality: Option<concord_domain::EqualityImpact>,
    pub risk: Option<concord_domain::Risk>,
    pub response_deadline: Option<NaiveDate>,
    #[schema(required = false)]
    pub links: Vec<concord_domain::Link>,
}

/// List recommendations, filtered and paged.
///
/// Newest publication first (undated records last), then by issuer, year
/// and number. Anonymous callers see published (and closed, withdrawn,
/// superseded) records; a token also sees its own organisation's drafts.
/// The first 10,000 records of any listing are served from the search
/// index in milliseconds; pages past them, or asked for in the moment
/// before the index has a new record, are counted and sorted by the
/// database (seconds at a million records, two at a time; the rest wait).
#[utoipa::path(
    get,
    path = "/recommendations",
    tag = "recommendations",
    operation_id = "list_recommendations",
    params(ListParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of matching recommendations", body = RecommendationList),
        (status = 400, description = "A query parameter is not valid; the message names it", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<RecommendationList>> {
    let params = ListParams::parse(query.as_deref().unwrap_or(""))?;
    let found = state
        .services
        .as_principal(principal)
        .recommendations(params.to_filter(), params.to_page())
        .await?;
    Ok(Json(RecommendationList {
        total: found.total,
        page: params.page(),
        per_page: params.per_page(),
        items: found.items,
    }))
}

/// One recommendation.
///
/// A draft is found only by its issuer. The `ETag` is the record's version
/// in quotes; send it back as `If-Match` when editing.
#[utoipa::path(
    get,
    path = "/recommendations/{id}",
    tag = "recommendations",
    operation_id = "get_recommendation",
    params(("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The recommendation", body = Recommendation,
            headers(("ETag" = String, description = "The version, quoted: \"3\""))),
        (status = 304, description = "Unchanged since the version named in If-None-Match"),
        (status = 400, description = "Not a Concord identifier", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 404, description = "No such recommendation (or a draft of another organisation)", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    let rec = state
        .services
        .as_principal(principal)
        .recommendation(&id)
        .await?;
    let tag = etag(&rec);
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| {
            let t = t.trim();
            t == "*" || t.trim_start_matches("W/").as_bytes() == tag.as_bytes()
        });
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response());
    }
    Ok(([(header::ETAG, tag)], Json(rec)).into_response())
}

/// Create a recommendation (a draft by default) for the caller's organisation.
#[utoipa::path(
    post,
    path = "/recommendations",
    tag = "recommendations",
    operation_id = "create_recommendation",
    request_body = CreateRecommendation,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created", body = Recommendation,
            headers(
                ("Location" = String, description = "The new record's address"),
                ("ETag" = String, description = "The version, quoted"),
            )),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "The issuer is another organisation", body = ErrorBody),
        (status = 409, description = "`refused`: created as published, but the issuer's publishing gate (quality criteria) is not met; the message lists the failing criteria. An operator may add `override_gate` (a reason, recorded in the audit trail)", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is missing or invalid; the message names it", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(principal): Caller,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let rec = state
        .services
        .as_principal(principal)
        .create_draft(NewRecord::from_json(body)?)
        .await?;
    let location = HeaderValue::from_str(&format!("/api/v1/recommendations/{}", rec.id))
        .expect("an identifier is a valid header value");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location), (header::ETAG, etag(&rec))],
        Json(rec),
    )
        .into_response())
}

/// Edit a recommendation, with optimistic concurrency.
///
/// The body names the version the edit is based on (or the `If-Match`
/// header does); if the record has changed since, nothing is written and the
/// answer is 409 `version_conflict`: read it again and redo the edit.
#[utoipa::path(
    patch,
    path = "/recommendations/{id}",
    tag = "recommendations",
    operation_id = "edit_recommendation",
    params(
        ("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN"),
        ("If-Match" = Option<String>, Header, description = "The version edited, quoted (\"3\"), when the body has no `version`"),
    ),
    request_body = EditRecommendation,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The record as edited", body = Recommendation,
            headers(("ETag" = String, description = "The new version, quoted"))),
        (status = 400, description = "Bad identifier, body not JSON, or If-Match unreadable", body = ErrorBody),
        (status = 401, description = "No token, or a malformed, unknown or revoked one", body = ErrorBody),
        (status = 403, description = "Issued by another organisation", body = ErrorBody),
        (status = 404, description = "No such recommendation", body = ErrorBody),
        (status = 409, description = "`version_conflict`: the record has changed since that version; or `refused`: publishing, but the issuer's publishing gate (quality criteria) is not met (an operator may add `override_gate`, a reason recorded in the audit trail)", body = ErrorBody),
        (status = 413, description = "The body is over 2 MiB", body = ErrorBody),
        (status = 415, description = "The body is not sent as application/json", body = ErrorBody),
        (status = 422, description = "A field is invalid, fixed, unknown, or version is missing", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(mut body): ApiJson<Value>,
) -> ApiResult<Response> {
    let id = parse_id(&id)?;
    if let (Some(expected), Value::Object(fields)) = (if_match_version(&headers)?, &mut body) {
        match fields.get("version") {
            None => {
                fields.insert("version".into(), Value::from(expected));
            }
            Some(v) if v.as_i64() == Some(expected) => {}
            Some(v) => {
                return Err(ApiError::bad_input(format!(
                    "the body's version ({v}) and the If-Match header (\"{expected}\") disagree"
                )));
            }
        }
    }
    let rec = state
        .services
        .as_principal(principal)
        .edit(&id, RecordEdit::from_json(body)?)
        .await?;
    Ok(([(header::ETAG, etag(&rec))], Json(rec)).into_response())
}

/// The version named by an `If-Match: "N"` header, if there is one.
fn if_match_version(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let mut values = headers.get_all(header::IF_MATCH).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_input(
            "header If-Match: must name one version, quoted, as the ETag gives it: \"3\"",
        )
    };
    if values.next().is_some() {
        return Err(bad());
    }
    let text = value.to_str().map_err(|_| bad())?.trim();
    let inner = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    match inner.parse::<i64>() {
        Ok(v) if v >= 1 => Ok(Some(v)),
        _ => Err(bad()),
    }
}

/// The audit trail of one recommendation: every change, who made it, and
/// the record before and after.
#[utoipa::path(
    get,
    path = "/recommendations/{id}/history",
    tag = "recommendations",
    operation_id = "recommendation_history",
    params(("id" = RecommendationId, Path, description = "ISSUER-YYYY-NNNN")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The audit events, oldest first", body = AuditTrail),
        (status = 400, description = "Not a Concord identifier", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
        (status = 404, description = "No such recommendation (or a draft of another organisation)", body = ErrorBody),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AuditTrail>> {
    let id = parse_id(&id)?;
    let items = state.services.as_principal(principal).history(&id).await?;
    Ok(Json(AuditTrail { id, items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(q: &str) -> String {
        let e = ListParams::parse(q).expect_err(q);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST, "{q}");
        e.message().to_string()
    }

    #[test]
    fn parses_every_filter_and_paging() {
        let p = ListParams::parse(
            "issuer=hssib&addressee=NHS%20England&theme=sepsis&setting=acute&status=Published&kind=safety_observation\
             &from=2024-01-01&to=2024-12-31&page=3&per_page=20",
        )
        .unwrap();
        assert_eq!(p.issuer.as_ref().map(|o| o.as_str()), Some("HSSIB"));
        assert_eq!(p.addressee.as_deref(), Some("NHS England"));
        assert_eq!(p.status, Some(Lifecycle::Published));
        assert_eq!(p.kind, Some(RecKind::SafetyObservation));
        assert_eq!(
            p.to_page(),
            Page {
                offset: 40,
                limit: 20
            }
        );
        let f = p.to_filter();
        assert_eq!(f.theme.as_deref(), Some("sepsis"));
        assert_eq!(f.from, NaiveDate::from_ymd_opt(2024, 1, 1));
    }

    #[test]
    fn empty_values_are_ignored_and_defaults_apply() {
        let p = ListParams::parse("issuer=&status=&page=").unwrap();
        assert_eq!(p, ListParams::default());
        assert_eq!(
            p.to_page(),
            Page {
                offset: 0,
                limit: DEFAULT_PER_PAGE
            }
        );
        assert_eq!(ListParams::parse("limit=7").unwrap().per_page(), 7);
    }

    #[test]
    fn refusals_name_the_parameter() {
        assert!(
            err("status=maybe").starts_with("parameter status: \"maybe\" is not one of: draft")
        );
        assert!(err("kind=x").starts_with("parameter kind:"));
        assert!(err("from=2024-13-01").contains("parameter from: \"2024-13-01\" is not a date"));
        assert!(err("to=yesterday").contains("parameter to:"));
        assert!(err("from=%2B2024-01-01").contains("parameter from:"));
        assert!(err("from=02024-01-01").contains("parameter from:"));
        assert!(err("page=0").contains("parameter page: 0 is out of range"));
        assert!(err("page=99999999999999999999999").contains("parameter page:"));
        assert!(
            err("per_page=100000").contains("parameter per_page: 100000 is out of range 1-500")
        );
        assert!(err("per_page=ten").contains("parameter per_page: \"ten\" is not a whole number"));
        assert!(err("page=-1").contains("parameter page:"));
        assert!(err("issuer=no-such!").contains("parameter issuer:"));
        assert!(err("isuer=HSSIB").contains("unknown query parameter \"isuer\""));
        assert!(
            err("status=draft&status=published")
                .contains("parameter status: is given more than once")
        );
        assert!(
            err("from=2024-05-01&to=2024-01-01").contains("parameter from: 2024-05-01 is after to")
        );
    }

    #[test]
    fn if_match_reads_one_quoted_version() {
        let mut h = HeaderMap::new();
        assert_eq!(if_match_version(&h).unwrap(), None);
        h.insert(header::IF_MATCH, HeaderValue::from_static("\"4\""));
        assert_eq!(if_match_version(&h).unwrap(), Some(4));
        for bad in ["*", "\"x\"", "W/\"4\"", "\"0\""] {
            h.insert(header::IF_MATCH, HeaderValue::from_static(bad));
            assert!(if_match_version(&h).is_err(), "{bad}");
        }
    }
}
