//! What the pages take from a request: the signed-in session if any, the
//! client's address (for sign-in throttling), and posted forms, the signed
//! ones checked for the session's CSRF secret before a handler runs.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::refused;
use crate::AppState;
use crate::session::{Authenticated, Session, check_form_csrf, client_address};

/// The largest form these pages read.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// The signed-in browser, if any (from [`crate::session::authenticate`]).
pub struct MaybeSession(pub Option<Session>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(
            parts
                .extensions
                .get::<Authenticated>()
                .and_then(|a| a.session.clone()),
        ))
    }
}

/// The address of the client, for sign-in throttling.
pub struct Client(pub String);

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Client(client_address(
            &parts.extensions,
            &parts.headers,
            state.options.trusted_proxy,
        )))
    }
}

/// The fields of a posted form, in order (a name may repeat: checkboxes).
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    pub(crate) fn read(body: &Bytes) -> Form {
        Form(form_urlencoded::parse(body).into_owned().collect())
    }

    pub(crate) fn from_pairs(pairs: Vec<(String, String)>) -> Form {
        Form(pairs)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// Every value given for `name` (checkboxes), in order.
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

pub(crate) const BAD_FORM: &str = "This form has expired or did not come from Concord, so nothing was changed. \
                        Go back, reload the page and try again.";

/// The session and a form carrying its CSRF secret, or the status to
/// refuse with ([`refusal`] makes the page).
pub(crate) fn checked<'a>(s: &'a MaybeSession, form: &Form) -> Result<&'a Session, StatusCode> {
    let Some(session) = &s.0 else {
        return Err(StatusCode::UNAUTHORIZED);
    };
    if !check_form_csrf(session, form.get("csrf")) {
        return Err(StatusCode::FORBIDDEN);
    }
    Ok(session)
}

/// A posted form of a signed-in session that carries the session's CSRF
/// secret; anything else is refused before the handler runs (401 signed
/// out, 403 without the secret, 413 too large), and nothing is changed.
pub(crate) struct SignedForm(pub Session, pub Form);

impl<S: Send + Sync> FromRequest<S> for SignedForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(s) = MaybeSession::from_request_parts(&mut parts, state).await;
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = Form::read(&body);
        match checked(&s, &form) {
            Ok(session) => Ok(SignedForm(session.clone(), form)),
            Err(status) => Err(refusal(status)),
        }
    }
}

pub(crate) fn refusal(status: StatusCode) -> Response {
    if status == StatusCode::UNAUTHORIZED {
        refused(
            status,
            "Your session has ended, so nothing was changed. Sign in again.",
        )
    } else {
        refused(status, BAD_FORM)
    }
}
