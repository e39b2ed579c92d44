//! Signing in and out, your account, and an administrator's page for the
//! people and API tokens of their organisation.
//!
//! Every form posts a `csrf` field: the session's secret (compared in
//! constant time), or before sign-in a secret also set in a cookie of its
//! own. A form without the right one is refused with a 403 page and changes
//! nothing. Forms are small: a body over [`MAX_FORM_BYTES`] is 413. What
//! each person may do is decided by the services' access control, as for
//! the API.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concord_app::{AppError, NewUser, new_token_secret, secrets_match};
use concord_domain::OrgCode;
use concord_domain::account::{Membership, Role, RoleSet};

use crate::AppState;
use crate::session::{
    SIGN_IN_COOKIE, Session, clear_session_cookie, cookie, is_https, session_cookie, set_cookie,
    with_reason,
};
use crate::web::error::{error_response, refused};
use crate::web::extract::{
    BAD_FORM, Client, Form, MAX_FORM_BYTES, MaybeSession, SignedForm, checked, no_store, refusal,
};
use crate::web::layout::{Layout, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/account", get(account))
        .route("/account/organisation", post(switch_organisation))
        .route("/account/password", post(change_password))
        .route("/account/invitations/{org}", post(answer_invitation))
        .route("/admin", get(admin))
        .route("/admin/users", post(add_user))
        .route("/admin/members", post(add_member))
        .route("/admin/users/{id}/roles", post(set_roles))
        .route("/admin/tokens", post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/users/{id}/password-reset", post(reset_password))
        .route("/reset-password/{secret}", get(reset_password_form))
        .route("/reset-password", post(use_password_reset))
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
}

/// The roles ticked on an administrator's form.
fn roles(form: &Form) -> Result<RoleSet, AppError> {
    let mut set = RoleSet::EMPTY;
    for v in form.all("role") {
        let r: Role = v
            .parse()
            .map_err(|e: String| AppError::invalid_field("role", e))?;
        set.insert(r);
    }
    Ok(set)
}

// ------------------------------------------------------------ sign in / out

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    error: Option<String>,
}

/// The form, with a fresh secret in a cookie and in the form.
fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    email: String,
    error: Option<String>,
) -> Response {
    let secret = new_token_secret();
    let mut layout = Layout::new("Sign in");
    layout.csrf = Some(secret.clone());
    layout.error = error.is_some();
    let page = render(&SignInPage {
        layout,
        email,
        error,
    });
    let cookie = set_cookie(
        SIGN_IN_COOKIE,
        &secret,
        "/sign-in",
        3600,
        is_https(state, headers),
    );
    no_store((AppendHeaders([(SET_COOKIE, cookie)]), page).into_response())
}

async fn sign_in_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    sign_in_page(&state, &headers, String::new(), None)
}

async fn sign_in(
    State(state): State<AppState>,
    MaybeSession(old): MaybeSession,
    Client(client): Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::read(&body);
    let expected = cookie(&headers, SIGN_IN_COOKIE).unwrap_or_default();
    if !form
        .get("csrf")
        .is_some_and(|g| secrets_match(g.trim(), &expected))
    {
        return refused(StatusCode::FORBIDDEN, BAD_FORM);
    }
    let email = form.text("email");
    match state
        .services
        .sign_in(&email, form.get("password").unwrap_or_default(), &client)
        .await
    {
        Ok(signed) => {
            // Whatever session the browser had ends here: the new one has
            // a new id (no fixation).
            if let Some(old) = old {
                let _ = state.services.sign_out(&old.cookie).await;
            }
            let https = is_https(&state, &headers);
            // Straight to what they came to do, when there is any.
            let landing = if crate::session::has_work(&state, &signed.session) {
                "/work"
            } else {
                "/account"
            };
            no_store(
                (
                    AppendHeaders([
                        (SET_COOKIE, session_cookie(&signed.cookie, https)),
                        (
                            SET_COOKIE,
                            set_cookie(SIGN_IN_COOKIE, "", "/sign-in", 0, https),
                        ),
                    ]),
                    Redirect::to(landing),
                )
                    .into_response(),
            )
        }
        Err(AppError::Unauthenticated(m)) => {
            let mut res = sign_in_page(&state, &headers, email, Some(m.clone()));
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            with_reason(res, m)
        }
        // 429 (throttled) and our own failures, as a plain page.
        Err(e) => error_response(e),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    s: MaybeSession,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = Form::read(&body);
    let session = match checked(&s, &form) {
        Ok(s) => s,
        // Already signed out: nothing to do.
        Err(StatusCode::UNAUTHORIZED) => {
            return Redirect::to("/").into_response();
        }
        Err(status) => return refusal(status),
    };
    if let Err(e) = state.services.sign_out(&session.cookie).await {
        return error_response(e);
    }
    (
        AppendHeaders([(SET_COOKIE, clear_session_cookie(is_https(&state, &headers)))]),
        Redirect::to("/"),
    )
        .into_response()
}

// ------------------------------------------------------------ account

struct MembershipRow {
    org: String,
    roles: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    name: String,
    email: String,
    acting: Option<String>,
    memberships: Vec<MembershipRow>,
    admin: bool,
    /// What went wrong with the password form, and in which field.
    password_error: Option<(String, String)>,
    password_changed: bool,
    password_fields: Vec<PasswordField>,
    invitations: Vec<InvitationRow>,
}

struct InvitationRow {
    org: String,
    roles: String,
    when: String,
}

struct PasswordField {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    autocomplete: &'static str,
    error: Option<String>,
}

async fn account(
    State(state): State<AppState>,
    s: MaybeSession,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let Some(session) = s.0 else {
        return Redirect::to("/sign-in").into_response();
    };
    account_page(
        &state,
        &session,
        None,
        q.get("password").is_some_and(|v| v == "changed"),
    )
    .await
}

async fn account_page(
    state: &AppState,
    session: &Session,
    password_error: Option<(String, String)>,
    password_changed: bool,
) -> Response {
    let invitations = match state.services.invitations(&session.cookie).await {
        Ok(list) => list,
        Err(e) => return error_response(e),
    };
    let v = &session.view;
    let mut layout = Layout::new("Your account");
    layout.csrf = Some(v.csrf.clone());
    no_store(render(&AccountPage {
        layout,
        name: v.user.name.clone(),
        email: v.user.email.to_string(),
        acting: v.org.as_ref().map(|o| o.to_string()),
        memberships: v
            .memberships
            .iter()
            .map(|m| MembershipRow {
                org: m.org.to_string(),
                roles: m
                    .roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                current: v.org.as_ref() == Some(&m.org),
            })
            .collect(),
        admin: v.roles().contains(Role::Administrator),
        invitations: invitations
            .into_iter()
            .map(|i| InvitationRow {
                org: i.org.to_string(),
                roles: i
                    .roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                when: i.created_at.format("%-d %B %Y").to_string(),
            })
            .collect(),
        password_changed,
        password_fields: [
            ("current", "Your current password", "", "current-password"),
            (
                "new",
                "A new password",
                "At least 12 characters. Three random words work well.",
                "new-password",
            ),
        ]
        .into_iter()
        .map(|(name, label, hint, autocomplete)| PasswordField {
            name,
            label,
            hint,
            autocomplete,
            error: password_error
                .as_ref()
                .filter(|e| e.0 == name)
                .map(|e| e.1.clone()),
        })
        .collect(),
        password_error,
    }))
}

/// The signed-in person accepts or declines an invitation.
async fn answer_invitation(
    State(state): State<AppState>,
    Path(org): Path<String>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let org = match OrgCode::parse(&org) {
        Ok(o) => o,
        Err(e) => return error_response(AppError::NotFound(format!("organisation: {e}"))),
    };
    let accept = match form.text("answer").as_str() {
        "accept" => true,
        "decline" => false,
        _ => {
            return error_response(AppError::invalid_field("answer", "accept or decline"));
        }
    };
    match state
        .services
        .answer_invitation(&session.cookie, &org, accept)
        .await
    {
        Ok(()) => Redirect::to("/account").into_response(),
        Err(e) => error_response(e),
    }
}

/// A signed-in person changes their own password (the current one first).
async fn change_password(
    State(state): State<AppState>,
    Client(client): Client,
    SignedForm(session, form): SignedForm,
) -> Response {
    match state
        .services
        .change_password(
            &session.cookie,
            &form.text("current"),
            &form.text("new"),
            &client,
        )
        .await
    {
        Ok(()) => Redirect::to("/account?password=changed").into_response(),
        Err(e @ AppError::Invalid(_)) => {
            // The service names the field; the page says it in a sentence.
            let (field, rest) = match e.field_errors().first() {
                Some(f) if f.field == "current" => ("current", f.message.clone()),
                Some(f) => ("new", f.message.clone()),
                None => ("new", e.public_message()),
            };
            let message = if field == "current" {
                format!("The password you gave {rest}")
            } else {
                format!("Your new password {rest}")
            };
            let mut res =
                account_page(&state, &session, Some((field.to_string(), message)), false).await;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            res
        }
        Err(e) => error_response(e),
    }
}

async fn switch_organisation(
    State(state): State<AppState>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let org = match OrgCode::parse(&form.text("org")) {
        Ok(o) => o,
        Err(e) => return error_response(AppError::invalid_field("org", e.to_string())),
    };
    match state
        .services
        .switch_organisation(&session.cookie, &org)
        .await
    {
        Ok(()) => Redirect::to("/account").into_response(),
        Err(e) => error_response(e),
    }
}

// ------------------------------------------------------------ password reset

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPasswordPage {
    layout: Layout,
    name: String,
    email: String,
    secret: String,
    error: Option<String>,
    done: bool,
}

/// The reset pages carry the link's secret: never cached, never sent on
/// as a referrer.
fn secret_page(res: Response) -> Response {
    let mut res = no_store(res);
    res.headers_mut().insert(
        axum::http::header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn reset_page(
    user: &concord_domain::account::User,
    secret: String,
    error: Option<String>,
) -> Response {
    let mut layout = Layout::new("Set a new password");
    layout.error = error.is_some();
    secret_page(render(&ResetPasswordPage {
        layout,
        name: user.name.clone(),
        email: user.email.to_string(),
        secret,
        error,
        done: false,
    }))
}

async fn reset_password_form(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Response {
    match state.services.password_reset_for(&secret).await {
        Ok(user) => reset_page(&user, secret, None),
        Err(e) => secret_page(error_response(e)),
    }
}

/// Sets the password through the link. No session and no CSRF secret: the
/// link's own secret, posted in the form, is what allows it.
async fn use_password_reset(State(state): State<AppState>, body: Bytes) -> Response {
    let form = Form::read(&body);
    let secret = form.text("reset");
    match state
        .services
        .use_password_reset(&secret, &form.text("new"))
        .await
    {
        Ok(_) => secret_page(render(&ResetPasswordPage {
            layout: Layout::new("Your password has been set"),
            name: String::new(),
            email: String::new(),
            secret: String::new(),
            error: None,
            done: true,
        })),
        Err(e @ AppError::Invalid(_)) => match state.services.password_reset_for(&secret).await {
            Ok(user) => {
                let rest = e
                    .field_errors()
                    .first()
                    .map_or_else(|| e.public_message(), |f| f.message.clone());
                let mut res = reset_page(&user, secret, Some(format!("Your new password {rest}")));
                *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                res
            }
            Err(e) => secret_page(error_response(e)),
        },
        Err(e) => secret_page(error_response(e)),
    }
}

// ------------------------------------------------------------ admin

struct RoleBox {
    name: &'static str,
    about: &'static str,
    checked: bool,
}

fn role_boxes(set: RoleSet) -> Vec<RoleBox> {
    Role::ALL
        .iter()
        .map(|r| RoleBox {
            name: r.as_str(),
            about: match r {
                Role::Author => "drafts and edits",
                Role::Approver => "publishes through the quality gate",
                Role::Respondent => "answers what is addressed to the organisation",
                Role::Assessor => "judges the answers to what it issued",
                Role::Oversight => "decides links and duplicates",
                Role::Administrator => "manages people and API tokens",
            },
            checked: set.contains(*r),
        })
        .collect()
}

struct UserRow {
    id: i64,
    name: String,
    email: String,
    disabled: bool,
    roles: Vec<RoleBox>,
    /// They also act for another organisation: only an operator may reset
    /// their password.
    acts_elsewhere: bool,
}

/// A password reset link just made, shown once.
struct ResetLink {
    name: String,
    link: String,
    until: String,
}

struct TokenRow {
    id: i64,
    label: String,
    roles: String,
    created: String,
    /// The day it stops working ("never" for tokens made before expiry).
    expires: String,
    revoked: Option<String>,
}

#[derive(Clone)]
struct CreatedToken {
    label: String,
    secret: String,
    expires: String,
}

fn works_until(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(|a| a.format("%-d %B %Y").to_string())
        .unwrap_or_else(|| "no end date".into())
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    layout: Layout,
    org: String,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    /// The empty boxes of the add forms.
    roles: Vec<RoleBox>,
    created: Option<CreatedToken>,
    reset: Option<ResetLink>,
    error: Option<String>,
    /// An invitation was just sent.
    invited: bool,
}

/// What the admin page shows once, after an action.
enum Shown {
    Nothing,
    Invited,
    Token(CreatedToken),
    Reset(ResetLink),
}

/// The admin page for the organisation the session acts for; refused
/// (403) unless the session is an administrator of it.
async fn admin_page(
    state: &AppState,
    session: &Session,
    shown: Shown,
    error: Option<(StatusCode, String)>,
) -> Response {
    let v = &session.view;
    let Some(org) = v.org.clone() else {
        return refused(
            StatusCode::FORBIDDEN,
            "You are not a member of any organisation, so there is nothing to manage.",
        );
    };
    let auth = state.services.as_principal(v.principal.clone());
    let users = match auth.users(Some(&org)).await {
        Ok(u) => u,
        Err(e) => return error_response(e),
    };
    let elsewhere = match auth.acting_elsewhere(&org).await {
        Ok(e) => e,
        Err(e) => return error_response(e),
    };
    let tokens = match auth.tokens(Some(&org)).await {
        Ok(t) => t,
        Err(e) => return error_response(e),
    };
    let mut layout = Layout::new(format!("People and API tokens of {org}"));
    layout.csrf = Some(v.csrf.clone());
    layout.error = error.is_some();
    let (status, error) = match error {
        Some((s, m)) => (s, Some(m)),
        None => (StatusCode::OK, None),
    };
    let invited = matches!(shown, Shown::Invited);
    let page = AdminPage {
        layout,
        org: org.to_string(),
        users: users
            .into_iter()
            .map(|(u, ms)| UserRow {
                id: u.id,
                name: u.name,
                email: u.email.to_string(),
                disabled: u.disabled,
                roles: role_boxes(
                    ms.iter()
                        .find(|m| m.org == org)
                        .map(|m| m.roles)
                        .unwrap_or_default(),
                ),
                acts_elsewhere: elsewhere.contains(&u.id),
            })
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|t| TokenRow {
                id: t.id,
                label: t.label,
                roles: t
                    .roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                created: t.created_at.format("%-d %B %Y %H:%M UTC").to_string(),
                expires: works_until(t.expires_at),
                revoked: t
                    .revoked_at
                    .map(|r| r.format("%-d %B %Y %H:%M UTC").to_string()),
            })
            .collect(),
        roles: role_boxes(RoleSet::EMPTY),
        created: match &shown {
            Shown::Token(t) => Some(t.clone()),
            _ => None,
        },
        reset: match shown {
            Shown::Reset(r) => Some(r),
            _ => None,
        },
        error,
        invited,
    };
    let mut res = no_store(render(&page));
    *res.status_mut() = status;
    res
}

async fn admin(
    State(state): State<AppState>,
    s: MaybeSession,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let Some(session) = &s.0 else {
        return Redirect::to("/sign-in").into_response();
    };
    // After an invitation: say what happens next.
    let shown = if q.contains_key("invited") {
        Shown::Invited
    } else {
        Shown::Nothing
    };
    admin_page(&state, session, shown, None).await
}

/// After an admin action: back to the page, or the page with the error
/// (refusals keep their own status and page).
async fn after(state: &AppState, session: &Session, done: Result<(), AppError>) -> Response {
    match done {
        Ok(()) => Redirect::to("/admin").into_response(),
        Err(
            e @ (AppError::Forbidden(_) | AppError::Unauthenticated(_) | AppError::Internal(_)),
        ) => error_response(e),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            admin_page(
                state,
                session,
                Shown::Nothing,
                Some((status, for_a_person(&e))),
            )
            .await
        }
    }
}

/// A service's message as the form says it: without the API's
/// `field role: ` prefixes, each part a sentence ("field role: give at
/// least one role" reads "Give at least one role").
fn for_a_person(e: &AppError) -> String {
    crate::web::error::field_messages(e)
        .into_iter()
        .map(|(_, m)| crate::web::filters::sentence(&m))
        .collect::<Vec<_>>()
        .join(". ")
}

/// The organisation an admin form acts on: the one the session acts for.
fn acting_org(session: &Session) -> Result<OrgCode, AppError> {
    session
        .view
        .org
        .clone()
        .ok_or_else(|| AppError::Forbidden("you are not a member of any organisation".into()))
}

async fn add_user(
    State(state): State<AppState>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let done = async {
        let org = acting_org(session)?;
        let roles = roles(&form)?;
        state
            .services
            .as_principal(session.view.principal.clone())
            .add_user(NewUser {
                email: form.text("email"),
                name: form.text("name"),
                password: form.text("password"),
                memberships: vec![Membership { org, roles }],
            })
            .await
            .map(|_| ())
    }
    .await;
    after(&state, session, done).await
}

async fn add_member(
    State(state): State<AppState>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let done = async {
        let org = acting_org(session)?;
        let roles = roles(&form)?;
        state
            .services
            .as_principal(session.view.principal.clone())
            .add_member(&org, &form.text("email"), roles)
            .await
    }
    .await;
    match done {
        Ok(concord_app::Added::Invited) => Redirect::to("/admin?invited=1").into_response(),
        Ok(concord_app::Added::Member) => after(&state, session, Ok(())).await,
        Err(e) => after(&state, session, Err(e)).await,
    }
}

async fn set_roles(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let done = async {
        let id: i64 = id
            .parse()
            .map_err(|_| AppError::NotFound(format!("user {id} was not found")))?;
        let org = acting_org(session)?;
        let roles = roles(&form)?;
        state
            .services
            .as_principal(session.view.principal.clone())
            .set_roles(id, &org, roles)
            .await
    }
    .await;
    after(&state, session, done).await
}

async fn create_token(
    State(state): State<AppState>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let made = async {
        let org = acting_org(session)?;
        let roles = roles(&form)?;
        state
            .services
            .as_principal(session.view.principal.clone())
            .create_token_with_roles(&org, &form.text("label"), roles)
            .await
    }
    .await;
    match made {
        Ok(t) => {
            let created = CreatedToken {
                label: t.record.label.clone(),
                secret: t.secret,
                expires: works_until(t.record.expires_at),
            };
            admin_page(&state, session, Shown::Token(created), None).await
        }
        Err(e) => after(&state, session, Err(e)).await,
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    SignedForm(session, _): SignedForm,
) -> Response {
    let session = &session;
    let done = async {
        let id: i64 = id
            .parse()
            .map_err(|_| AppError::NotFound(format!("token {id} was not found")))?;
        state
            .services
            .as_principal(session.view.principal.clone())
            .revoke_token(id)
            .await
    }
    .await;
    after(&state, session, done).await
}

/// An administrator makes a one-time link for a member to set a new
/// password, shown once for them to pass on.
async fn reset_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    SignedForm(session, _): SignedForm,
) -> Response {
    let session = &session;
    let made = async {
        let id: i64 = id
            .parse()
            .map_err(|_| AppError::NotFound(format!("user {id} was not found")))?;
        let auth = state.services.as_principal(session.view.principal.clone());
        let secret = auth.reset_password(id).await?;
        let name = auth
            .users(session.view.org.as_ref())
            .await?
            .into_iter()
            .find(|(u, _)| u.id == id)
            .map(|(u, _)| u.name)
            .unwrap_or_default();
        Ok::<_, AppError>((name, secret))
    }
    .await;
    match made {
        Ok((name, secret)) => {
            let base = crate::web::feeds::base_url(
                state.options.public_url.as_deref(),
                is_https(&state, &headers),
                &headers,
            );
            let until = state.services.clock().now()
                + chrono::Duration::hours(concord_app::PASSWORD_RESET_HOURS);
            let reset = ResetLink {
                name,
                link: format!("{base}/reset-password/{secret}"),
                until: until.format("%-d %B %Y %H:%M UTC").to_string(),
            };
            secret_page(admin_page(&state, session, Shown::Reset(reset), None).await)
        }
        Err(e) => after(&state, session, Err(e)).await,
    }
}
