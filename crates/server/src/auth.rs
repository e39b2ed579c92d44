//! Who is calling: `Authorization: Bearer TOKEN` (or a signed-in browser's
//! session cookie, see [`crate::session`]) becomes a [`Principal`].
//!
//! No header means an anonymous caller, who reads what is published. A
//! header that is there but cannot be used (another scheme, no token, an
//! unknown or revoked token) is refused with 401 rather than silently
//! treated as anonymous: a client that meant to sign in should learn that it
//! did not.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use concord_app::{AppError, Principal};

use crate::AppState;
use crate::error::ApiError;

/// The principal a request acts for.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Decided once for the request by `session::authenticate` (token or
        // session cookie); the code below serves a router without it.
        if let Some(auth) = parts.extensions.get::<crate::session::Authenticated>() {
            return match &auth.principal {
                Ok(p) => Ok(Caller(p.clone())),
                Err(m) => Err(unauthenticated(m)),
            };
        }
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let Some(value) = values.next() else {
            return Ok(Caller(Principal::Anonymous));
        };
        if values.next().is_some() {
            return Err(unauthenticated(
                "send one Authorization header, not several",
            ));
        }
        let token = crate::session::bearer_token(value.as_bytes()).map_err(unauthenticated)?;
        let principal = state.services.authenticate_token(token).await?;
        Ok(Caller(principal))
    }
}

fn unauthenticated(message: &str) -> ApiError {
    AppError::Unauthenticated(message.to_string()).into()
}
