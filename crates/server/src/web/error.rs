//! Every failure a page shows, shown one way: a page with the design
//! system's error layout and a status, never an internal detail.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use concord_app::AppError;

use super::layout::Layout;
use crate::session::with_reason;

/// A page, or an error shown as a page.
pub struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What the visitor is told (never an internal detail).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(detail = %e, "page failed on our side");
        }
        PageError {
            status,
            message: e.public_message(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.status, error_page(self.status, &self.message)).into_response()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: Layout,
    message: &'a str,
}

/// A whole page for an error status (used for unknown addresses too).
pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::BAD_REQUEST => "This address is not right",
        s if s.is_server_error() => "Sorry, there is a problem with the service",
        _ => "This page cannot be shown",
    };
    let mut layout = Layout::new(title);
    layout.error = true;
    let page = ErrorPage { layout, message };
    Html(page.render().unwrap_or_else(|e| {
        tracing::error!(detail = %e, "the error page failed to render");
        // Every title above is ours, never a value from a request.
        format!("<!DOCTYPE html><html lang=\"en-GB\"><title>{title}</title><h1>{title}</h1></html>")
    }))
}

/// A refusal as a page, marked with its reason for the audit trail.
pub(crate) fn refused(status: StatusCode, message: &str) -> Response {
    with_reason(
        (status, error_page(status, message)).into_response(),
        message,
    )
}

pub(crate) fn error_response(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(detail = %e, "a page failed on our side");
    }
    refused(status, &e.public_message())
}

/// A refusal's problems as (field path, message) pairs, the path empty for
/// a problem that names no field: an `Invalid`'s fields as the service
/// gave them, any other refusal as one unnamed problem. Every form page
/// reads field errors through this.
pub(crate) fn field_messages(e: &AppError) -> Vec<(String, String)> {
    match e {
        AppError::Invalid(invalid) => invalid
            .fields()
            .iter()
            .map(|f| (f.field.clone(), f.message.clone()))
            .collect(),
        other => vec![(String::new(), other.public_message())],
    }
}
