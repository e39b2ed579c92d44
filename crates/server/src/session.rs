//! Who is asking, decided once per request, and every refusal audited.
//!
//! [`authenticate`] runs around every route: an `Authorization: Bearer`
//! header is an API token; otherwise a `concord_session` cookie is a
//! signed-in browser (the same [`Principal`] a token gives, with the roles
//! of the membership the user acts for). A browser's changes through the
//! API must also carry the session's CSRF secret in `X-CSRF-Token`; pages
//! check the `csrf` form field themselves ([`check_form_csrf`]). Any 401,
//! 403 or 429 that leaves the server is written to the audit trail (who,
//! what, why).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{self, AUTHORIZATION, COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use concord_app::{AppError, Principal, SessionView, secrets_match};
use concord_domain::account::Role;

use crate::AppState;
use crate::error::{ApiError, RefusalReason};
use crate::middleware::is_api_path;

pub const SESSION_COOKIE: &str = "concord_session";
/// Carries the sign-in form's CSRF secret before there is a session.
pub const SIGN_IN_COOKIE: &str = "concord_sign_in";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// A session cookie lives no longer than the session itself can.
const SESSION_MAX_AGE_SECS: i64 = 12 * 3600;

/// What [`authenticate`] found, for the extractors.
#[derive(Debug, Clone)]
pub struct Authenticated {
    /// Err: credentials were sent but cannot be used (the 401 message).
    pub principal: Result<Principal, String>,
    /// The signed-in browser, when a live session cookie came.
    pub session: Option<Session>,
}

/// A live session and the cookie secret that named it.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub view: SessionView,
}

/// Who is signed in, for the header every page shares (name, organisation,
/// the sign-out form's secret).
#[derive(Debug, Clone)]
pub struct SignedInHeader {
    pub name: String,
    pub org: Option<String>,
    pub csrf: String,
    /// Whether the person works any queue (the header links to them).
    pub has_work: bool,
}

tokio::task_local! {
    /// The signed-in person of the request being answered. Set once by
    /// [`authenticate`] around the handler, so that every page's frame shows
    /// the same header without each handler passing it down.
    pub static SIGNED_IN: Option<SignedInHeader>;
}

/// The signed-in person of the current request, if any.
pub fn signed_in() -> Option<SignedInHeader> {
    SIGNED_IN.try_with(|s| s.clone()).ok().flatten()
}

/// The token of an `Authorization: Bearer TOKEN` header value. The scheme is
/// case-insensitive (RFC 9110); the token is the rest, trimmed.
pub fn bearer_token(value: &[u8]) -> Result<&str, &'static str> {
    const MALFORMED: &str = "the Authorization header must be `Bearer TOKEN`";
    let value = std::str::from_utf8(value).map_err(|_| MALFORMED)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(MALFORMED)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(MALFORMED);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(char::is_whitespace) || !token.is_ascii() {
        return Err(MALFORMED);
    }
    Ok(token)
}

/// The value of one cookie, if the request sent it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Secure cookies when the server is told so, or when the request came
/// over HTTPS through a proxy. (A forged header can only make a cookie
/// stricter.)
pub fn is_https(state: &AppState, headers: &HeaderMap) -> bool {
    state.options.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a cookie (an empty value with max-age 0 removes it).
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; HttpOnly; SameSite=Lax; Path={path}; Max-Age={max_age}");
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub fn session_cookie(value: &str, secure: bool) -> HeaderValue {
    set_cookie(SESSION_COOKIE, value, "/", SESSION_MAX_AGE_SECS, secure)
}

pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    set_cookie(SESSION_COOKIE, "", "/", 0, secure)
}

/// The client's address for sign-in throttling: the peer, unless the peer
/// is the configured reverse proxy, which then says whom it forwards in
/// `X-Forwarded-For` (its last entry: the one the proxy itself appended;
/// earlier ones a client could have written).
pub fn client_address(
    req_ext: &axum::http::Extensions,
    headers: &HeaderMap,
    trusted_proxy: Option<std::net::IpAddr>,
) -> String {
    let peer = req_ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    if let (Some(peer), Some(proxy)) = (peer, trusted_proxy)
        && peer == proxy
        && let Some(forwarded) = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .next_back()
            .and_then(|a| a.trim().parse::<std::net::IpAddr>().ok())
    {
        return forwarded.to_string();
    }
    peer.map(|p| p.to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Authenticated, AppError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    if let Some(value) = values.next() {
        let principal = if values.next().is_some() {
            Err("send one Authorization header, not several".to_string())
        } else {
            match bearer_token(value.as_bytes()) {
                Err(m) => Err(m.to_string()),
                Ok(token) => match state.services.authenticate_token(token).await {
                    Ok(p) => Ok(p),
                    Err(AppError::Unauthenticated(m)) => Err(m),
                    Err(e) => return Err(e),
                },
            }
        };
        return Ok(Authenticated {
            principal,
            session: None,
        });
    }
    if let Some(c) = cookie(headers, SESSION_COOKIE)
        && let Some(view) = state.services.session(&c).await?
    {
        return Ok(Authenticated {
            principal: Ok(view.principal.clone()),
            session: Some(Session { cookie: c, view }),
        });
    }
    // No credentials, or a cookie whose session has ended: a visitor.
    Ok(Authenticated {
        principal: Ok(Principal::Anonymous),
        session: None,
    })
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether a posted form carries this session's CSRF secret.
pub fn check_form_csrf(session: &Session, given: Option<&str>) -> bool {
    given.is_some_and(|g| secrets_match(g.trim(), &session.view.csrf))
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let auth = match resolve(&state, req.headers()).await {
        Ok(a) => a,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let what = format!("{method} {path}");
    let who = auth.principal.clone().unwrap_or(Principal::Anonymous);
    // A browser's change through the API: the session's secret must come
    // in a header, which another site's page cannot set.
    if is_api_path(&path)
        && !is_safe(&method)
        && let Some(s) = &auth.session
    {
        let given = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        if !given.is_some_and(|g| secrets_match(g.trim(), &s.view.csrf)) {
            let reason = "changes made with a session cookie need the session's CSRF token in the X-CSRF-Token header";
            state
                .services
                .audit_refusal(&who, &what, &path, reason)
                .await;
            return ApiError::new(StatusCode::FORBIDDEN, "csrf", reason).into_response();
        }
    }
    let header = auth.session.as_ref().map(|s| SignedInHeader {
        name: s.view.user.name.clone(),
        org: s.view.org.as_ref().map(|o| o.to_string()),
        csrf: s.view.csrf.clone(),
        has_work: has_work(&state, &s.view),
    });
    let personal = header.is_some();
    req.extensions_mut().insert(auth);
    let mut res = SIGNED_IN.scope(header, next.run(req)).await;
    if personal && !res.headers().contains_key(header::CACHE_CONTROL) {
        // A page made for one person is never kept by a shared cache.
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        );
    }
    let status = res.status();
    if matches!(status.as_u16(), 401 | 403 | 429) {
        let reason = res
            .extensions()
            .get::<RefusalReason>()
            .map(|r| r.0.clone())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("refused").to_string());
        state
            .services
            .audit_refusal(&who, &what, &path, &reason)
            .await;
    }
    res
}

/// Marks a response with why it refused (for the audit trail).
pub fn with_reason(mut res: Response, reason: impl Into<String>) -> Response {
    res.extensions_mut().insert(RefusalReason(reason.into()));
    res
}

/// Whether "Your work" has anything for this person: queues, or the
/// oversight and administration links.
pub(crate) fn has_work(state: &AppState, view: &concord_app::SessionView) -> bool {
    !state
        .services
        .as_principal(view.principal.clone())
        .work_queues()
        .is_empty()
        || view.roles().contains(Role::Oversight)
        || view.roles().contains(Role::Administrator)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_tokens_and_refuses_anything_else() {
        assert_eq!(bearer_token(b"Bearer abc"), Ok("abc"));
        assert_eq!(bearer_token(b"bearer   abc "), Ok("abc"));
        for bad in [
            &b"Basic dXNlcjpwdw=="[..],
            b"Bearer",
            b"Bearer ",
            b"abc",
            b"Bearer a b",
            b"Bearer \xff",
        ] {
            assert!(
                bearer_token(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn reads_one_cookie_among_many() {
        let mut h = HeaderMap::new();
        h.append(
            COOKIE,
            HeaderValue::from_static("a=1; concord_session=abc ; b=2"),
        );
        h.append(COOKIE, HeaderValue::from_static("c=3"));
        assert_eq!(cookie(&h, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c").as_deref(), Some("3"));
        assert_eq!(cookie(&h, "concord"), None);
        h.insert(COOKIE, HeaderValue::from_static("concord_session="));
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }

    #[test]
    fn cookies_are_http_only_lax_and_secure_on_https() {
        let c = session_cookie("s3cret", true);
        let c = c.to_str().unwrap();
        for part in [
            "concord_session=s3cret",
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Secure",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(
            !session_cookie("x", false)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
        assert!(
            clear_session_cookie(false)
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
    }
}
