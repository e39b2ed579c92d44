//! The embedded web assets (see `build.rs`): the NHS.UK design system,
//! htmx, our stylesheet and script. Served at `/assets/VERSION/NAME`, where
//! VERSION changes with any byte of any of them, so they may be cached for
//! a year.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::asset_files::{VERSION, find};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/{version}/{*name}", get(asset))
        // The old unversioned address of our stylesheet, for anyone who
        // kept it: always the current one, cached briefly.
        .route("/assets/site.css", get(|| async { current("site.css") }))
}

async fn asset(Path((version, name)): Path<(String, String)>) -> Response {
    // Names are looked up in the fixed table, never joined to a path on
    // disk: `../` and the like simply match nothing.
    match find(&name) {
        Some((kind, bytes)) if version == VERSION => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            bytes,
        )
            .into_response(),
        // An older page asking for an older version: the current file,
        // not kept, so the next visit gets the right one.
        Some((kind, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            bytes,
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            super::error::error_page(StatusCode::NOT_FOUND, "There is no such file."),
        )
            .into_response(),
    }
}

fn current(name: &str) -> Response {
    match find(name) {
        Some((kind, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=3600"),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
