//! The JSON API under `/api/v1`, one module per resource. Each handler
//! carries its own OpenAPI description (`#[utoipa::path]`), so the document
//! at `/api/v1/openapi.json` is generated from the code that serves it.

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub mod check;
pub mod dashboard;
pub mod endorsements;
pub mod health;
pub mod lifecycle;
pub mod links;
pub mod organisations;
pub mod overdue;
pub mod oversight;
pub mod priorities;
pub mod query;
pub mod recommendations;
pub mod rules;
pub mod search;
pub mod similar;
pub mod workstreams;

/// Every `/api/v1` route, relative to `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(recommendations::list, recommendations::create))
        .routes(routes!(recommendations::get, recommendations::update))
        .routes(routes!(recommendations::history))
        .routes(routes!(lifecycle::apply_move))
        .routes(routes!(links::assert))
        .routes(routes!(links::decide))
        .routes(routes!(
            endorsements::list,
            endorsements::endorse,
            endorsements::withdraw
        ))
        .routes(routes!(search::search))
        .routes(routes!(overdue::overdue))
        .routes(routes!(rules::list))
        .routes(routes!(rules::get, rules::set, rules::reset))
        .routes(routes!(dashboard::dashboard))
        .routes(routes!(dashboard::dashboard_csv))
        .routes(routes!(organisations::list))
        .routes(routes!(organisations::get))
        .routes(routes!(priorities::priorities))
        .routes(routes!(priorities::get_profile, priorities::set_profile))
        .routes(routes!(check::check))
        .routes(routes!(similar::similar))
        .routes(routes!(oversight::duplicates))
        .routes(routes!(oversight::contradictions))
        .routes(routes!(oversight::related))
        .routes(routes!(oversight::decide))
        .routes(routes!(workstreams::list, workstreams::create))
        .routes(routes!(workstreams::get, workstreams::update))
        .routes(routes!(workstreams::overlaps))
}
