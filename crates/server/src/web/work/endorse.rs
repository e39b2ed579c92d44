//! Endorsing a recommendation, or withdrawing the endorsement: the form
//! on the record's page.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::common::{parse_id, services};
use crate::AppState;
use crate::web::error::error_response;
use crate::web::extract::SignedForm;

/// The endorse / withdraw form of a recommendation's page.
pub(super) async fn endorse(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let auth = services(&state, session);
    let done = if form.get("action") == Some("withdraw") {
        auth.withdraw_endorsement(&id).await
    } else {
        let note = form.text("note");
        auth.endorse(&id, Some(&note)).await.map(|_| ())
    };
    match done {
        Ok(()) => Redirect::to(&format!("/recommendations/{id}#endorsed-by")).into_response(),
        Err(e) => error_response(e),
    }
}
