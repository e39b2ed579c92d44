//! What wraps every response: security headers, and the rule that anything
//! under `/api` fails in our error JSON, whichever layer refused it.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use axum::middleware::Next;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;

/// The policy for our own pages and the API: nothing but our own origin, no
/// inline scripts or styles (images may also be `data:`), forms post only
/// to us, never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// Swagger UI (at `/api/docs` only) sets styles from script and draws its
/// icons from `data:` images; its scripts are still our own files only.
pub const DOCS_CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
                            base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

/// The headers every response carries (unless a route set its own).
pub fn security_headers() -> [SetResponseHeaderLayer<HeaderValue>; 4] {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    [
        set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        set(header::CONTENT_SECURITY_POLICY, CSP),
        set(header::REFERRER_POLICY, "no-referrer"),
        set(header::X_FRAME_OPTIONS, "DENY"),
    ]
}

/// `Strict-Transport-Security` when the server is told it runs behind
/// HTTPS (`--secure-cookies`).
pub async fn strict_transport(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response<Body> {
    let mut res = next.run(req).await;
    if state.options.secure_cookies {
        res.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    res
}

pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}

/// Under `/api`, turns any error response that is not already JSON (axum's
/// own 405, a timeout, a path it could not decode...) into our error JSON,
/// keeping its status and headers.
pub async fn api_errors_as_json(req: Request, next: Next) -> Response<Body> {
    let api = is_api_path(req.uri().path());
    let res = next.run(req).await;
    let status = res.status();
    if !api || !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let err = ApiError::from_status(status);
    if status.is_server_error() {
        tracing::error!(
            status = status.as_u16(),
            "request failed on our side (no detail)"
        );
    }
    let body = serde_json::to_vec(&err.body()).unwrap_or_default();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(body))
}

/// A panic in a handler is a bug: log it, answer 500 in our error JSON.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let what = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "a request handler panicked");
    let err = ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = Response::new(Body::from(
        serde_json::to_vec(&err.body()).unwrap_or_default(),
    ));
    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}
