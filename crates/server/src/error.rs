//! Every error the API sends, in one shape:
//! `{"error": {"code": "stable_code", "message": "...", "fields": [...]}}`
//! (`fields` only for `invalid`, when the service named them).
//!
//! Application errors keep the code and status [`AppError`] gives them;
//! errors of the HTTP layer itself (a body too large, a wrong content type,
//! an unknown route) get codes of their own here.

use std::borrow::Cow;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use concord_app::AppError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a request was refused, for the audit trail (set by the error
/// responses of the API and the pages, read by `crate::session`).
#[derive(Debug, Clone)]
pub struct RefusalReason(pub String);

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: clients may match on it (`not_found`,
    /// `version_conflict`, `invalid`, `bad_input`, `unauthenticated`,
    /// `forbidden`, `payload_too_large`, `unsupported_media_type`...).
    #[schema(example = "not_found")]
    pub code: String,
    /// For people: says what was wrong and, where it helps, which field or
    /// parameter.
    #[schema(example = "recommendation HSSIB-2024-0099 was not found")]
    pub message: String,
    /// For `invalid`: each problem with the field it is about (a JSON path
    /// into the request body such as `addressees[1].org`); a problem of the
    /// whole request is said only in `message`. Absent when no field is
    /// named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldProblem>,
}

/// One problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldProblem {
    #[schema(example = "addressees[0].org")]
    pub field: String,
    #[schema(example = "is not a registered organisation")]
    pub message: String,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: String,
    /// What went wrong on our side, for the log only.
    detail: Option<String>,
    fields: Vec<FieldProblem>,
}

impl ApiError {
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
    ) -> Self {
        ApiError {
            status,
            code: code.into(),
            message: message.into(),
            detail: None,
            fields: Vec::new(),
        }
    }

    /// 400 `bad_input`: a request we cannot read (a query parameter, a path
    /// segment, a header). The message should name what was wrong.
    pub fn bad_input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_input", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The stable code and message for a status the HTTP layer produced by
    /// itself (axum's own rejections, unknown routes and methods).
    pub fn from_status(status: StatusCode) -> Self {
        let (code, message) = match status.as_u16() {
            400 => ("bad_input", "the request could not be read"),
            401 => (
                "unauthenticated",
                "this needs an API token (Authorization: Bearer TOKEN)",
            ),
            403 => ("forbidden", "you may not do this"),
            404 => ("not_found", "there is nothing at this address"),
            405 => (
                "method_not_allowed",
                "this address does not accept that method",
            ),
            406 => (
                "not_acceptable",
                "this address cannot answer in the format asked for",
            ),
            408 => ("timeout", "the request took too long to arrive"),
            413 => ("payload_too_large", "the request body is too large"),
            415 => (
                "unsupported_media_type",
                "the request body must be JSON (Content-Type: application/json)",
            ),
            422 => (
                "invalid",
                "the request body is not valid for this operation",
            ),
            429 => ("too_many_requests", "too many requests; slow down"),
            503 => (
                "unavailable",
                "the service is unavailable for the moment; try again soon",
            ),
            504 => ("timeout", "the request took too long"),
            s if s >= 500 => (
                "internal",
                "something went wrong on our side; it has been logged",
            ),
            _ => ("error", "the request failed"),
        };
        Self::new(status, code, message)
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn code(&self) -> &str {
        &self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
                fields: self.fields.clone(),
            },
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = status.is_server_error().then(|| e.to_string());
        // Only named fields: a problem of the whole request is the message.
        let fields = e
            .field_errors()
            .iter()
            .filter(|f| !f.field.is_empty())
            .map(|f| FieldProblem {
                field: f.field.clone(),
                message: f.message.clone(),
            })
            .collect();
        ApiError {
            status,
            code: Cow::Borrowed(e.code()),
            message: e.public_message(),
            detail,
            fields,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(
                status = self.status.as_u16(),
                code = %self.code,
                detail = self.detail.as_deref().unwrap_or(&self.message),
                "request failed on our side"
            );
        }
        let status = self.status;
        let unauthenticated = status == StatusCode::UNAUTHORIZED;
        let reason = self.message.clone();
        let mut response = (status, axum::Json(self.body())).into_response();
        if matches!(status.as_u16(), 401 | 403 | 429) {
            // For the audit trail (crate::session::authenticate).
            response.extensions_mut().insert(RefusalReason(reason));
        }
        if unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_errors_keep_their_code_status_and_public_message() {
        let e = ApiError::from(AppError::Conflict("stale".into()));
        assert_eq!(
            (e.status(), e.code(), e.message()),
            (StatusCode::CONFLICT, "version_conflict", "stale")
        );
        let e = ApiError::from(AppError::Internal("db file locked at /secret/path".into()));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(
            !e.message().contains("/secret/path"),
            "internal detail leaked: {}",
            e.message()
        );
    }

    #[test]
    fn an_invalid_request_names_its_fields() {
        let e = ApiError::from(AppError::invalid_fields(vec![
            concord_domain::FieldError::new("title", "is empty"),
            concord_domain::FieldError::new("", "the draft as a whole is too long"),
            concord_domain::FieldError::new("addressees[1].org", "is not registered"),
        ]));
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            e.message(),
            "field title: is empty; the draft as a whole is too long; field addressees[1].org: is not registered"
        );
        let body = serde_json::to_value(e.body()).unwrap();
        assert_eq!(
            body["error"]["fields"],
            serde_json::json!([
                {"field": "title", "message": "is empty"},
                {"field": "addressees[1].org", "message": "is not registered"}
            ])
        );
        // Other errors carry no `fields` at all.
        let body = serde_json::to_value(ApiError::from(AppError::Conflict("stale".into())).body())
            .unwrap();
        assert!(body["error"].get("fields").is_none(), "{body}");
    }

    #[test]
    fn unauthenticated_responses_say_how_to_authenticate() {
        let r = ApiError::from(AppError::Unauthenticated("no".into())).into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
