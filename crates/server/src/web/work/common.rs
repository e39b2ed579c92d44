//! What the parts of the work pages share: the way to sign in, the
//! services as the signed-in person, their pages' layout, and a record's
//! id from an address.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use concord_app::Authorized;
use concord_domain::RecommendationId;

use crate::AppState;
use crate::session::Session;
use crate::web::error::refused;
use crate::web::extract::no_store;
use crate::web::layout::Layout;

pub(super) fn sign_in_first() -> Response {
    no_store(Redirect::to("/sign-in").into_response())
}

pub(super) fn services<'a>(state: &'a AppState, session: &Session) -> Authorized<'a> {
    state.services.as_principal(session.view.principal.clone())
}

pub(super) fn signed_in_layout(title: &str, session: &Session) -> Layout {
    let mut layout = Layout::new(title).section("/work");
    layout.csrf = Some(session.view.csrf.clone());
    layout
}

pub(super) fn parse_id(raw: &str) -> Result<RecommendationId, Response> {
    RecommendationId::parse(raw).map_err(|e| refused(StatusCode::NOT_FOUND, &e.to_string()))
}
