//! The signed-in pages where the work is done: "Your work" (each queue the
//! person works), drafting a recommendation with the quality criteria and
//! similar recommendations shown as they type (htmx; a "Check the draft"
//! button does the same without JavaScript), publishing through the
//! issuer's gate, and the forms with which an addressee answers and
//! reports progress and an issuer assesses and closes.
//!
//! Every form carries the session's CSRF secret; every change goes through
//! the same services as the API, whose access control decides (these pages
//! only hide what a person could not do anyway).
//!
//! The parts: `queue` ("Your work"), `drafting` (the draft form, its live
//! feedback and the check before publishing), `moves` (an addressee's and
//! an issuer's moves) and `endorse`; `fields` is a form's fields (shared
//! with the priorities form) and `common` what the parts share. This module
//! only puts their routes together: no part imports it.

// A refusal here is a whole page (a `Response`), built once per request;
// boxing it would only add noise.
#![allow(clippy::result_large_err)]

mod common;
mod drafting;
mod endorse;
mod fields;
mod moves;
mod queue;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::AppState;
use crate::web::extract::MAX_FORM_BYTES;

pub(crate) use fields::{FormField, fill};

/// A recommendation's text may be long; its form is still bounded.
const MAX_DRAFT_FORM_BYTES: usize = 256 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/work", get(queue::work))
        .route("/work/{queue}", get(queue::queue_page))
        .route(
            "/recommendations/new",
            get(drafting::new_draft)
                .post(drafting::create_draft)
                .layer(DefaultBodyLimit::max(MAX_DRAFT_FORM_BYTES)),
        )
        .route(
            "/recommendations/feedback",
            post(drafting::feedback).layer(DefaultBodyLimit::max(MAX_DRAFT_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/edit",
            get(drafting::edit_draft)
                .post(drafting::save_draft)
                .layer(DefaultBodyLimit::max(MAX_DRAFT_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/publish",
            get(drafting::check_publish)
                .post(drafting::publish)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/endorse",
            post(endorse::endorse).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/addressees/{n}/{move}",
            get(moves::move_form)
                .post(moves::make_move)
                .layer(DefaultBodyLimit::max(
                    MAX_DRAFT_FORM_BYTES.max(MAX_FORM_BYTES),
                )),
        )
}
