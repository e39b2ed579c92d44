//! The JSON API under `/api/v1`, one module per resource. Each handler
//! carries its own OpenAPI description (`#[utoipa::path]`), so the document
//! at `/api/v1/openapi.json` is generated from the code that serves it.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub mod check;
pub mod health;
pub mod links;
pub mod organisations;
pub mod recommendations;
pub mod search;
pub mod similar;

/// Every `/api/v1` route, relative to `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recommendations::list, recommendations::create))
        .routes(routes!(recommendations::get, recommendations::update))
        .routes(routes!(recommendations::history))
        .routes(routes!(links::assert))
        .routes(routes!(links::decide))
        .routes(routes!(search::search))
        .routes(routes!(organisations::list))
        .routes(routes!(organisations::get))
        .routes(routes!(check::check))
        .routes(routes!(similar::similar))
}
