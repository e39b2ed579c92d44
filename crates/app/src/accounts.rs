//! People and sign-in: passwords (argon2id), sessions (only a hash of the
//! cookie's secret is stored, with a CSRF secret per session), sign-in
//! throttling, and the administration of users, memberships and API
//! tokens, each reached through [`Authorized`] like every other use case.

use std::sync::OnceLock;
use std::sync::atomic::Ordering;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use concord_domain::account::{
    Email, Membership, Role, RoleSet, SessionPolicy, SignInLimit, User, check_display_name,
    check_password,
};
use concord_domain::{Actor, OrgCode};
use concord_store::{SessionRecord, TokenRecord};

use crate::access::{Action, Authorized};
use crate::error::{AppError, AppResult};
use crate::principal::{Principal, hash_token, new_token_secret};
use crate::services::{NewToken, Services};

/// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for a password.
pub fn hash_password(password: &str) -> AppResult<String> {
    use rand::RngCore;
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| AppError::Internal(format!("password salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

/// Whether `password` is the one `hash` was made from. A malformed stored
/// hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Checked when the email is unknown, so that a wrong email takes as long
/// as a wrong password and the answer does not tell which it was.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&new_token_secret()).unwrap_or_default())
}

/// Compares secrets in time that does not depend on where they differ.
pub fn secrets_match(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// How long an API token works, from the day it is made: a token copied
/// into a system and forgotten stops working rather than living for ever.
pub const TOKEN_LIFETIME_DAYS: i64 = 365;

/// The one message for a wrong email or a wrong password.
pub const WRONG_EMAIL_OR_PASSWORD: &str = "The email address or password is wrong.";

/// A browser that has just signed in: the cookie's secret (shown to the
/// browser once; only its hash is stored) and the session.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub cookie: String,
    pub session: SessionView,
}

/// Who a session is, as pages and handlers need it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub user: User,
    pub memberships: Vec<Membership>,
    /// The organisation acted for now, if the user belongs to any.
    pub org: Option<OrgCode>,
    pub csrf: String,
    pub principal: Principal,
}

impl SessionView {
    pub fn roles(&self) -> RoleSet {
        self.principal.roles()
    }
}

/// The person by number and the organisation they act for ("-": none):
/// the audit trail is public through the history, email addresses are not
/// (an operator finds the person by the number).
fn person_label(user: &User, org: Option<&OrgCode>) -> String {
    format!(
        "user:{}:{}",
        user.id,
        org.map(|o| o.as_str()).unwrap_or("-")
    )
}

/// A signed-in person acting on their own account, for the audit trail.
/// How long a password reset link works.
pub const PASSWORD_RESET_HOURS: i64 = 24;

fn reset_gone() -> AppError {
    AppError::NotFound(
        "This password reset link has been used or has expired. Ask your administrator for a new one."
            .into(),
    )
}

fn person_actor(user: &User, org: Option<&OrgCode>) -> Actor {
    Actor {
        label: person_label(user, org),
        org: org.cloned(),
    }
}

fn principal_for(user: &User, org: Option<&OrgCode>, memberships: &[Membership]) -> Principal {
    match org.and_then(|o| memberships.iter().find(|m| &m.org == o)) {
        Some(m) => Principal::Organisation {
            org: m.org.clone(),
            label: person_label(user, Some(&m.org)),
            roles: m.roles,
        },
        None => Principal::Anonymous,
    }
}

fn session_ended() -> AppError {
    AppError::Unauthenticated("your session has ended; sign in again".into())
}

/// What adding an existing account to an organisation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// They are a member now (they were already, or an operator added them).
    Member,
    /// They are invited, and become a member when they accept.
    Invited,
}

/// A new user as asked for (from the command line or the admin page).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub memberships: Vec<Membership>,
}

/// A password rule's refusal, naming the form's field (`new`).
fn renamed(e: concord_domain::DomainError, from: &str, to: &str) -> AppError {
    AppError::invalid_fields(
        e.fields()
            .into_iter()
            .map(|mut f| {
                if f.field == from {
                    f.field = to.to_string();
                }
                f
            })
            .collect(),
    )
}

/// Sign-in refusals counted since start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInRefusals {
    /// Passwords checked and found wrong (or for no live account).
    pub wrong_password: u64,
    /// Attempts refused unchecked: too many failures for the account or
    /// from the client.
    pub throttled: u64,
}

impl Services {
    /// Signs in: throttled per email and client (5 failures in 15 minutes
    /// → 429), the same answer for an unknown email and a wrong password,
    /// and always a new session (never one the browser brought along).
    /// One password tried for the account `key` from `client`, checked and
    /// recorded as every sign-in is: this account's attempts one at a time
    /// (so attempts made at the same moment cannot all read the count
    /// before any is recorded), throttled per account and client and per
    /// client across accounts, the hash checked off the async workers.
    /// `stored`: the account's hash and whether it may sign in (None: no
    /// such account; a dummy hash is checked so that the answer takes as
    /// long). True when the password is right for a live account.
    async fn attempt_password(
        &self,
        key: &str,
        client: &str,
        password: &str,
        stored: Option<(String, bool)>,
    ) -> AppResult<bool> {
        let limit = SignInLimit::default();
        let account = self.sign_ins.account(key);
        let _turn = account.lock().await;
        let now = self.clock().now();
        let since = limit.since(now);
        let failures = self.store().sign_in_failures(key, client, since).await?;
        if limit.blocked(failures) {
            self.sign_ins.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(AppError::TooManyRequests(format!(
                "Too many wrong passwords for this email address. Wait {} minutes and try again.",
                limit.window.num_minutes()
            )));
        }
        // One password tried on many accounts from one place.
        let from_client = self.store().sign_in_failures_from(client, since).await?;
        if limit.blocked_client(from_client) {
            self.sign_ins.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(AppError::TooManyRequests(format!(
                "Too many wrong passwords from your network. Wait {} minutes and try again.",
                limit.window.num_minutes()
            )));
        }
        let (hash, live) = stored.unwrap_or_else(|| (dummy_hash().to_string(), false));
        let given = password.to_string();
        let ok = password.len() <= concord_domain::account::MAX_PASSWORD_BYTES
            && self
                .sign_ins
                .hash(move || verify_password(&given, &hash))
                .await?
            && live;
        self.store().record_sign_in(key, client, ok, now).await?;
        if !ok {
            self.sign_ins.wrong.fetch_add(1, Ordering::Relaxed);
        }
        Ok(ok)
    }

    /// Sign-in refusals on this node since it started (for operators'
    /// metrics).
    pub fn sign_in_refusals(&self) -> SignInRefusals {
        SignInRefusals {
            wrong_password: self.sign_ins.wrong.load(Ordering::Relaxed),
            throttled: self.sign_ins.throttled.load(Ordering::Relaxed),
        }
    }

    pub async fn sign_in(&self, email: &str, password: &str, client: &str) -> AppResult<SignedIn> {
        let key = email.trim().to_lowercase();
        let found = match Email::parse(&key) {
            Ok(e) if password.len() <= concord_domain::account::MAX_PASSWORD_BYTES => {
                self.store().user_by_email(&e).await?
            }
            _ => None,
        };
        let stored = found
            .as_ref()
            .map(|u| (u.password_hash.clone(), !u.user.disabled));
        let ok = self
            .attempt_password(&key, client, password, stored)
            .await?;
        let now = self.clock().now();
        let Some(user) = found.filter(|_| ok).map(|u| u.user) else {
            return Err(AppError::Unauthenticated(WRONG_EMAIL_OR_PASSWORD.into()));
        };
        let memberships = self.store().memberships(user.id).await?;
        let org = memberships.first().map(|m| m.org.clone());
        let cookie = new_token_secret();
        let record = SessionRecord {
            id_hash: hash_token(&cookie),
            user_id: user.id,
            org: org.clone(),
            csrf: new_token_secret(),
            created_at: now,
            last_seen: now,
            expires_at: SessionPolicy::default().expires(now, now),
        };
        self.store().create_session(&record).await?;
        let principal = principal_for(&user, org.as_ref(), &memberships);
        Ok(SignedIn {
            cookie,
            session: SessionView {
                user,
                memberships,
                org,
                csrf: record.csrf,
                principal,
            },
        })
    }

    /// The session a cookie names, if it is live: unknown, expired and
    /// disabled users' sessions are none (expired ones are deleted).
    pub async fn session(&self, cookie: &str) -> AppResult<Option<SessionView>> {
        let hash = hash_token(cookie.trim());
        let Some(s) = self.store().session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock().now();
        if now >= s.expires_at {
            self.store().delete_session(&hash).await?;
            return Ok(None);
        }
        let Some(user) = self.store().user(s.user_id).await?.map(|u| u.user) else {
            return Ok(None);
        };
        if user.disabled {
            self.store().delete_session(&hash).await?;
            return Ok(None);
        }
        let memberships = self.store().memberships(user.id).await?;
        // A membership removed since: act for the first remaining one.
        let org = match &s.org {
            Some(o) if memberships.iter().any(|m| &m.org == o) => Some(o.clone()),
            _ => memberships.first().map(|m| m.org.clone()),
        };
        // Writes at most once a minute per session, not on every request.
        if org != s.org || now - s.last_seen > chrono::Duration::minutes(1) {
            let expires = SessionPolicy::default().expires(s.created_at, now);
            self.store()
                .touch_session(&hash, org.as_ref(), now, expires)
                .await?;
        }
        let principal = principal_for(&user, org.as_ref(), &memberships);
        Ok(Some(SessionView {
            user,
            memberships,
            org,
            csrf: s.csrf,
            principal,
        }))
    }

    /// The session a cookie names, or the refusal to sign in again.
    async fn live_session(&self, cookie: &str) -> AppResult<SessionView> {
        self.session(cookie).await?.ok_or_else(session_ended)
    }

    /// Deletes sign-in attempts older than a day (throttling looks back
    /// minutes) and sessions that have expired: a server does this hourly.
    pub async fn prune_sign_ins(&self) -> AppResult<(u64, u64)> {
        let now = self.clock().now();
        Ok(self
            .store()
            .prune_sign_ins(now - chrono::Duration::days(1), now)
            .await?)
    }

    /// A signed-in person changes their own password: the current one
    /// first (checked as a sign-in is, throttled with it), then a new one
    /// by the same rules as when the account was made. Every other session
    /// of theirs ends; this one goes on.
    pub async fn change_password(
        &self,
        cookie: &str,
        current: &str,
        new: &str,
        client: &str,
    ) -> AppResult<()> {
        let view = self.live_session(cookie).await?;
        let Some(stored) = self.store().user(view.user.id).await? else {
            return Err(session_ended());
        };
        let key = view.user.email.to_string();
        let ok = self
            .attempt_password(&key, client, current, Some((stored.password_hash, true)))
            .await?;
        if !ok {
            return Err(AppError::invalid_field(
                "current",
                "is not your current password",
            ));
        }
        check_password(new, &view.user.email, &view.user.name)
            .map_err(|e| renamed(e, "password", "new"))?;
        let new = new.to_string();
        let hash = self.sign_ins.hash(move || hash_password(&new)).await??;
        let actor = person_actor(&view.user, view.org.as_ref());
        self.store()
            .set_password(
                &actor,
                view.user.id,
                &hash,
                Some(&hash_token(cookie.trim())),
                self.clock().now(),
            )
            .await?;
        Ok(())
    }

    /// The person a password reset link is for, if the link still works
    /// (for the page that asks for the new password).
    pub async fn password_reset_for(&self, secret: &str) -> AppResult<User> {
        let now = self.clock().now();
        let found = match self
            .store()
            .password_reset(&hash_token(secret.trim()), now)
            .await?
        {
            Some(id) => self.store().user(id).await?,
            None => None,
        };
        found.map(|u| u.user).ok_or_else(reset_gone)
    }

    /// Sets a new password through a one-time reset link: the link ends,
    /// and so does every session of the person. The new password follows
    /// the same rules as any other.
    pub async fn use_password_reset(&self, secret: &str, new: &str) -> AppResult<User> {
        let user = self.password_reset_for(secret).await?;
        check_password(new, &user.email, &user.name).map_err(|e| renamed(e, "password", "new"))?;
        let new = new.to_string();
        let hash = self.sign_ins.hash(move || hash_password(&new)).await??;
        let used = self
            .store()
            .use_password_reset(
                &person_actor(&user, None),
                &hash_token(secret.trim()),
                user.id,
                &hash,
                self.clock().now(),
            )
            .await?;
        if used { Ok(user) } else { Err(reset_gone()) }
    }

    /// The signed-in person's open invitations.
    pub async fn invitations(&self, cookie: &str) -> AppResult<Vec<concord_store::Invitation>> {
        let view = self.live_session(cookie).await?;
        Ok(self.store().invitations(view.user.id).await?)
    }

    /// The signed-in person accepts or declines an invitation into `org`.
    pub async fn answer_invitation(
        &self,
        cookie: &str,
        org: &OrgCode,
        accept: bool,
    ) -> AppResult<()> {
        let view = self.live_session(cookie).await?;
        let actor = person_actor(&view.user, Some(org));
        match self
            .store()
            .answer_invitation(&actor, view.user.id, org, accept, self.clock().now())
            .await?
        {
            Some(_) => Ok(()),
            None => Err(AppError::NotFound(format!(
                "there is no invitation from {org} for you"
            ))),
        }
    }

    pub async fn sign_out(&self, cookie: &str) -> AppResult<()> {
        Ok(self
            .store()
            .delete_session(&hash_token(cookie.trim()))
            .await?)
    }

    /// Acts for another of the user's organisations from now on.
    pub async fn switch_organisation(&self, cookie: &str, org: &OrgCode) -> AppResult<()> {
        let view = self.live_session(cookie).await?;
        if !view.memberships.iter().any(|m| &m.org == org) {
            return Err(AppError::Forbidden(format!(
                "you are not a member of {org}"
            )));
        }
        let now = self.clock().now();
        let hash = hash_token(cookie.trim());
        let created = self
            .store()
            .session(&hash)
            .await?
            .map(|s| s.created_at)
            .unwrap_or(now);
        self.store()
            .touch_session(
                &hash,
                Some(org),
                now,
                SessionPolicy::default().expires(created, now),
            )
            .await?;
        Ok(())
    }

    /// Writes a refusal into the audit trail: who, what they tried, why.
    /// Failing to write it is logged, never turned into a different answer.
    /// Hands `result` back, recording it first if it is a refusal (401 or
    /// 403 in HTTP terms): the command line's twin of what the HTTP layer
    /// does for every request, for commands run as an organisation.
    pub async fn audit_if_refused<T>(
        &self,
        who: &Principal,
        what: &str,
        target: &str,
        result: AppResult<T>,
    ) -> AppResult<T> {
        if let Err(e @ (AppError::Forbidden(_) | AppError::Unauthenticated(_))) = &result {
            self.audit_refusal(who, what, target, &e.public_message())
                .await;
        }
        result
    }

    /// Named callers' refusals are all written; anonymous ones within a
    /// budget (see `crate::guards`), with the count of those left out. Long
    /// paths and reasons are cut: a refusal never costs more than a row.
    pub async fn audit_refusal(&self, who: &Principal, what: &str, target: &str, reason: &str) {
        use crate::guards::REFUSAL_TEXT;
        use concord_domain::feed::clip;
        let (actor, reason) = match who {
            Principal::Anonymous => {
                let Some(unwritten) = self.refusal_budget.take() else {
                    return;
                };
                let reason = clip(reason, 2 * REFUSAL_TEXT);
                let reason = if unwritten > 0 {
                    format!(
                        "{reason} (and {unwritten} earlier refusals of anonymous callers, \
                         not written one by one)"
                    )
                } else {
                    reason
                };
                (Actor::system("anonymous"), reason)
            }
            p => (p.actor(), clip(reason, 2 * REFUSAL_TEXT)),
        };
        let (what, target) = (clip(what, REFUSAL_TEXT), clip(target, REFUSAL_TEXT));
        if let Err(e) = self
            .store()
            .record_refusal(&actor, &what, &target, &reason, self.clock().now())
            .await
        {
            tracing::error!(
                "could not audit a refusal ({what} by {}): {e}",
                who.describe()
            );
        }
    }
}

impl Authorized<'_> {
    /// The operator, or an administrator of `org` acting for it.
    fn require_admin_of(&self, org: &OrgCode) -> AppResult<()> {
        self.permit(Action::ManagePeople, Some(org))
    }

    /// The organisation whose people and tokens this caller manages: the
    /// one asked for (operator), or its own (administrator).
    fn managed_org(&self, org: Option<&OrgCode>) -> AppResult<Option<OrgCode>> {
        match (self.principal(), org) {
            (Principal::Operator { .. }, o) => Ok(o.cloned()),
            (Principal::Organisation { org: own, .. }, o) => {
                let o = o.unwrap_or(own).clone();
                self.require_admin_of(&o)?;
                Ok(Some(o))
            }
            (Principal::Anonymous, _) => {
                self.permit(Action::Change, None)?;
                Ok(None)
            }
        }
    }

    async fn known_org(&self, org: &OrgCode) -> AppResult<()> {
        match self.services().store().organisation(org).await? {
            Some(_) => Ok(()),
            None => Err(AppError::invalid_field(
                "org",
                format!("{org} is not a registered organisation"),
            )),
        }
    }

    /// Adds a user. An administrator may add people to its own organisation
    /// only; the operator to any.
    pub async fn add_user(&self, new: NewUser) -> AppResult<User> {
        self.permit(Action::Change, None)?;
        for m in &new.memberships {
            self.require_admin_of(&m.org)?;
        }
        if new.memberships.is_empty() {
            self.permit(Action::ManageAccounts, None)?;
        }
        let email = Email::parse(&new.email).map_err(AppError::from)?;
        let name = check_display_name(&new.name)?;
        check_password(&new.password, &email, &name)?;
        for (i, m) in new.memberships.iter().enumerate() {
            self.known_org(&m.org).await?;
            if m.roles.is_empty() {
                return Err(AppError::invalid_field(
                    "role",
                    format!(
                        "give at least one role in {} (membership {}); the roles are: {}",
                        m.org,
                        i + 1,
                        Role::allowed()
                    ),
                ));
            }
        }
        let hash = hash_password(&new.password)?;
        let svc = self.services();
        Ok(svc
            .store()
            .add_user(
                &self.principal().actor(),
                &email,
                &name,
                &hash,
                &new.memberships,
                svc.clock().now(),
            )
            .await?)
    }

    /// The users of an organisation (all of them for the operator with `None`).
    pub async fn users(&self, org: Option<&OrgCode>) -> AppResult<Vec<(User, Vec<Membership>)>> {
        let org = self.managed_org(org)?;
        let mut all = self.services().store().users(org.as_ref()).await?;
        // An administrator sees only its own organisation's memberships.
        if let (Some(o), false) = (&org, self.principal().is_operator()) {
            for (_, ms) in &mut all {
                ms.retain(|m| &m.org == o);
            }
        }
        Ok(all)
    }

    /// Which of `org`'s members also act for another organisation (whose
    /// passwords only an operator may reset), without saying which.
    pub async fn acting_elsewhere(&self, org: &OrgCode) -> AppResult<Vec<i64>> {
        self.require_admin_of(org)?;
        let all = self.services().store().users(Some(org)).await?;
        Ok(all
            .into_iter()
            .filter(|(_, ms)| ms.iter().any(|m| &m.org != org))
            .map(|(u, _)| u.id)
            .collect())
    }

    /// Finds a user to add to `org`: only its administrators (or the
    /// operator) learn whether an email has an account.
    pub async fn user_by_email(&self, org: &OrgCode, email: &str) -> AppResult<User> {
        self.require_admin_of(org)?;
        let e = Email::parse(email)?;
        let store = self.services().store();
        let found = match store.user_by_email(&e).await? {
            // An administrator sees only its own organisation's people.
            Some(u)
                if self.principal().is_operator()
                    || store
                        .memberships(u.user.id)
                        .await?
                        .iter()
                        .any(|m| &m.org == org) =>
            {
                Some(u.user)
            }
            _ => None,
        };
        found.ok_or_else(|| AppError::NotFound(format!("no member of {org} has the email {e}")))
    }

    /// Sets a user's roles in an organisation (empty removes them from
    /// it). An administrator changes only its own members (new members come
    /// through [`Self::add_member`]); the operator may add anyone anywhere.
    pub async fn set_roles(&self, user_id: i64, org: &OrgCode, roles: RoleSet) -> AppResult<()> {
        self.require_admin_of(org)?;
        self.known_org(org).await?;
        let svc = self.services();
        if svc.store().user(user_id).await?.is_none() {
            return Err(AppError::NotFound(format!("user {user_id} was not found")));
        }
        if !self.principal().is_operator()
            && !svc
                .store()
                .memberships(user_id)
                .await?
                .iter()
                .any(|m| &m.org == org)
        {
            return Err(AppError::NotFound(format!(
                "user {user_id} is not a member of {org}"
            )));
        }
        self.store_roles(user_id, org, roles).await
    }

    /// Adds someone who already has an account to `org` with these roles.
    /// An administrator invites them (they become a member when they
    /// accept, on their account page: nobody is made to act for a body
    /// without saying yes), unless they are a member already (their roles
    /// change); the operator adds them at once.
    pub async fn add_member(&self, org: &OrgCode, email: &str, roles: RoleSet) -> AppResult<Added> {
        self.require_admin_of(org)?;
        if roles.is_empty() {
            return Err(AppError::invalid_field(
                "role",
                format!("give at least one role; the roles are: {}", Role::allowed()),
            ));
        }
        let e = Email::parse(email)?;
        let svc = self.services();
        let Some(user) = svc.store().user_by_email(&e).await? else {
            return Err(AppError::NotFound(format!(
                "no account has the email {e}; add them as a new person instead"
            )));
        };
        let member = svc
            .store()
            .memberships(user.user.id)
            .await?
            .iter()
            .any(|m| &m.org == org);
        if member || self.principal().is_operator() {
            self.store_roles(user.user.id, org, roles).await?;
            return Ok(Added::Member);
        }
        svc.store()
            .invite(
                &self.principal().actor(),
                user.user.id,
                org,
                roles,
                svc.clock().now(),
            )
            .await?;
        Ok(Added::Invited)
    }

    async fn store_roles(&self, user_id: i64, org: &OrgCode, roles: RoleSet) -> AppResult<()> {
        let svc = self.services();
        Ok(svc
            .store()
            .set_membership(
                &self.principal().actor(),
                user_id,
                org,
                roles,
                svc.clock().now(),
            )
            .await?)
    }

    /// A one-time link's secret that lets the person set a new password,
    /// for the administrator to pass on (it works once, within
    /// [`PASSWORD_RESET_HOURS`]; a new one replaces the last). An
    /// administrator resets only people who belong to no organisation but
    /// theirs: whoever holds the link holds the account, and with it the
    /// person's roles everywhere. Operators reset anyone.
    pub async fn reset_password(&self, user_id: i64) -> AppResult<String> {
        let svc = self.services();
        let Some(user) = svc.store().user(user_id).await? else {
            return Err(AppError::NotFound(format!("user {user_id} was not found")));
        };
        if let Principal::Organisation { org, .. } = self.principal() {
            self.require_admin_of(org)?;
            let memberships = svc.store().memberships(user_id).await?;
            if !memberships.iter().any(|m| &m.org == org) {
                return Err(AppError::NotFound(format!(
                    "user {user_id} is not a member of {org}"
                )));
            }
            if memberships.iter().any(|m| &m.org != org) {
                return Err(AppError::Forbidden(format!(
                    "{} also acts for another organisation: only an operator may reset their \
                     password",
                    user.user.name
                )));
            }
        }
        let secret = new_token_secret();
        let now = svc.clock().now();
        svc.store()
            .issue_password_reset(
                &self.principal().actor(),
                user_id,
                &hash_token(&secret),
                now + chrono::Duration::hours(PASSWORD_RESET_HOURS),
                now,
            )
            .await?;
        Ok(secret)
    }

    /// Disables a user everywhere (or enables them again): operators only,
    /// since a user may belong to several organisations.
    pub async fn set_user_disabled(&self, user_id: i64, disabled: bool) -> AppResult<()> {
        self.permit(Action::ManageAccounts, None)?;
        let svc = self.services();
        Ok(svc
            .store()
            .set_user_disabled(
                &self.principal().actor(),
                user_id,
                disabled,
                svc.clock().now(),
            )
            .await?)
    }

    /// A new API token with these roles; the secret is in the answer once.
    pub async fn create_token_with_roles(
        &self,
        org: &OrgCode,
        label: &str,
        roles: RoleSet,
    ) -> AppResult<NewToken> {
        self.require_admin_of(org)?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(AppError::invalid_field(
                "label",
                "give a short name for the token (1 to 100 characters)",
            ));
        }
        if roles.is_empty() {
            return Err(AppError::invalid_field(
                "role",
                format!(
                    "a token needs at least one role; the roles are: {}",
                    Role::allowed()
                ),
            ));
        }
        let svc = self.services();
        if svc.store().organisation(org).await?.is_none() {
            return Err(AppError::NotFound(format!(
                "organisation {org} is not registered"
            )));
        }
        let secret = new_token_secret();
        let now = svc.clock().now();
        let record = svc
            .store()
            .add_token_with_roles(
                &self.principal().actor(),
                &concord_store::TokenGrant {
                    org,
                    label,
                    roles,
                    secret_hash: &hash_token(&secret),
                    expires_at: Some(now + chrono::Duration::days(TOKEN_LIFETIME_DAYS)),
                },
                now,
            )
            .await?;
        Ok(NewToken { secret, record })
    }

    /// The tokens of an organisation (revoked ones too); the secrets are
    /// never kept, so never shown.
    pub async fn tokens(&self, org: Option<&OrgCode>) -> AppResult<Vec<TokenRecord>> {
        let org = self.managed_org(org)?;
        Ok(self.services().store().tokens(org.as_ref()).await?)
    }

    /// Revokes a token: the operator, or an administrator of its organisation.
    pub async fn revoke_token(&self, id: i64) -> AppResult<()> {
        self.permit(Action::Change, None)?;
        let svc = self.services();
        let Some(t) = svc.store().token(id).await? else {
            return Err(AppError::NotFound(format!("token {id} was not found")));
        };
        self.require_admin_of(&t.org)?;
        Ok(svc
            .store()
            .revoke_token(&self.principal().actor(), id, svc.clock().now())
            .await?)
    }

    /// The refusals recorded against one address or record (operators only).
    pub async fn refusals(&self, target: &str) -> AppResult<Vec<concord_domain::AuditEvent>> {
        self.permit(Action::ReadRefusals, None)?;
        Ok(self
            .services()
            .store()
            .history(target)
            .await?
            .into_iter()
            .filter(|e| e.action == "refused")
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("correct horse battery", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(secrets_match("abc", "abc"));
        assert!(!secrets_match("abd", "abc"));
        assert!(!secrets_match("ab", "abc"));
        assert!(!secrets_match("", ""));
    }
}
