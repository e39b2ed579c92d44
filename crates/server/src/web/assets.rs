//! The embedded web assets (see `build.rs`): the NHS.UK design system,
//! htmx, our stylesheet and script. Served at `/assets/VERSION/NAME`, where
//! VERSION changes with any byte of any of them, so they may be cached for
//! a year.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assets/{version}/{*name}", get(asset))
        // The old unversioned address of our stylesheet, for anyone who
        // kept it: always the current one, cached briefly.
        .route("/assets/site.css", get(|| async { current("site.css") }))
}

/// The bytes and content type of an asset, by its name under the version.
pub fn find(name: &str) -> Option<(&'static str, &'static [u8])> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, kind, bytes)| (kind, bytes))
}

/// The address of an asset in this build.
pub fn href(name: &str) -> String {
    format!("/assets/{VERSION}/{name}")
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
            crate::web::error::error_page(StatusCode::NOT_FOUND, "There is no such file."),
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
