//! Users, memberships, sessions and sign-in attempts. Every change to a
//! user or a membership is audited in the same transaction; sessions and
//! attempts are working state (not audited, not in backups).

use chrono::{DateTime, Utc};
use concord_domain::account::{Email, Membership, RoleSet, User};
use concord_domain::{Actor, OrgCode};
use sqlx::Row;

use super::codec::{self, fmt_ts, parse_ts};
use super::{SqlStore, map_unique, write_audit};
use crate::{Invitation, Result, SessionRecord, StoreError, UserRecord};

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<UserRecord> {
    let email: String = row.try_get("email")?;
    Ok(UserRecord {
        user: User {
            id: row.try_get("id")?,
            email: Email::parse(&email)
                .map_err(|e| StoreError::Corrupt(format!("user email: {e}")))?,
            name: row.try_get("name")?,
            disabled: row.try_get::<i64, _>("disabled")? != 0,
            created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        },
        password_hash: row.try_get("password_hash")?,
    })
}

fn roles_from(text: &str) -> Result<RoleSet> {
    RoleSet::parse("roles", text).map_err(|e| StoreError::Corrupt(format!("stored roles: {e}")))
}

/// An audit row about one user (`user:ID`).
async fn audit_user(
    conn: &mut sqlx::AnyConnection,
    now: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    user_id: i64,
    before: Option<String>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    write_audit(
        conn,
        codec::audit_vals(
            now,
            actor,
            action,
            "user",
            &format!("user:{user_id}"),
            before,
            after.map(|a| a.to_string()),
        ),
    )
    .await
}

/// What the audit says of a membership (or an invitation to one).
fn membership_json(user_id: i64, org: &OrgCode, roles: &str) -> serde_json::Value {
    serde_json::json!({"user": user_id, "org": org, "roles": roles})
}

/// A membership with these roles, made or replaced.
async fn upsert_membership(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    org: &OrgCode,
    roles: RoleSet,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO memberships (user_id, org, roles, updated_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id, org) DO UPDATE SET roles = excluded.roles, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(org.as_str())
    .bind(roles.to_string())
    .bind(fmt_ts(now))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn no_user(user_id: i64) -> StoreError {
    StoreError::NotFound {
        entity: "user",
        id: user_id.to_string(),
    }
}

fn membership_from_row(row: &sqlx::any::AnyRow) -> Result<Membership> {
    let org: String = row.try_get("org")?;
    Ok(Membership {
        org: OrgCode::parse(&org).map_err(|e| StoreError::Corrupt(format!("membership: {e}")))?,
        roles: roles_from(&row.try_get::<String, _>("roles")?)?,
    })
}

fn session_from_row(row: &sqlx::any::AnyRow) -> Result<SessionRecord> {
    let org: Option<String> = row.try_get("org")?;
    Ok(SessionRecord {
        id_hash: row.try_get("id_hash")?,
        user_id: row.try_get("user_id")?,
        org: org
            .map(|o| OrgCode::parse(&o))
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("session org: {e}")))?,
        csrf: row.try_get("csrf")?,
        created_at: parse_ts(&row.try_get::<String, _>("created_at")?)?,
        last_seen: parse_ts(&row.try_get::<String, _>("last_seen")?)?,
        expires_at: parse_ts(&row.try_get::<String, _>("expires_at")?)?,
    })
}

pub(crate) fn token_roles(text: Option<String>) -> Result<RoleSet> {
    match text {
        None => Ok(RoleSet::token_default()),
        Some(t) => roles_from(&t),
    }
}

macro_rules! user_cols {
    () => {
        "id, email, name, password_hash, disabled, created_at"
    };
}

impl SqlStore {
    pub(crate) async fn insert_user(
        &self,
        actor: &Actor,
        email: &Email,
        name: &str,
        password_hash: &str,
        memberships: &[Membership],
        now: DateTime<Utc>,
    ) -> Result<User> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO users (email, name, password_hash, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, 0, $4, $4) RETURNING ",
            user_cols!()
        ))
        .bind(email.as_str().to_string())
        .bind(name.to_string())
        .bind(password_hash.to_string())
        .bind(fmt_ts(now))
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| map_unique(e, || format!("field email: {email} already has an account")))?;
        let user = user_from_row(&row)?.user;
        for m in memberships {
            sqlx::query(
                "INSERT INTO memberships (user_id, org, roles, updated_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(user.id)
            .bind(m.org.as_str())
            .bind(m.roles.to_string())
            .bind(fmt_ts(now))
            .execute(&mut *tx)
            .await?;
        }
        let after = serde_json::json!({
            "id": user.id, "email": email, "name": name, "memberships": memberships,
        });
        audit_user(&mut tx, now, actor, "add_user", user.id, None, Some(after)).await?;
        tx.commit().await?;
        Ok(user)
    }

    pub(crate) async fn find_user_by_email(&self, email: &Email) -> Result<Option<UserRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE lower(email) = $1"
        ))
        .bind(email.as_str().to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub(crate) async fn find_user(&self, id: i64) -> Result<Option<UserRecord>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_cols!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub(crate) async fn list_users(
        &self,
        org: Option<&OrgCode>,
    ) -> Result<Vec<(User, Vec<Membership>)>> {
        let rows = match org {
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users ORDER BY email"
                ))
                .fetch_all(&self.pool)
                .await?
            }
            Some(o) => {
                sqlx::query(concat!(
                    "SELECT ",
                    user_cols!(),
                    " FROM users WHERE id IN \
                     (SELECT user_id FROM memberships WHERE org = $1) ORDER BY email"
                ))
                .bind(o.as_str())
                .fetch_all(&self.pool)
                .await?
            }
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let u = user_from_row(r)?.user;
            let ms = self.list_memberships(u.id).await?;
            out.push((u, ms));
        }
        Ok(out)
    }

    pub(crate) async fn list_memberships(&self, user_id: i64) -> Result<Vec<Membership>> {
        let rows =
            sqlx::query("SELECT org, roles FROM memberships WHERE user_id = $1 ORDER BY org")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(membership_from_row).collect()
    }

    /// Sets a user's roles in an organisation; an empty set removes the
    /// membership (and ends the user's sessions acting for it).
    pub(crate) async fn put_membership(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        roles: RoleSet,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query("SELECT id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        if !exists {
            return Err(no_user(user_id));
        }
        let before: Option<String> =
            sqlx::query("SELECT roles FROM memberships WHERE user_id = $1 AND org = $2")
                .bind(user_id)
                .bind(org.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()?;
        if roles.is_empty() {
            sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND org = $2")
                .bind(user_id)
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND org = $2")
                .bind(user_id)
                .bind(org.as_str())
                .execute(&mut *tx)
                .await?;
        } else {
            upsert_membership(&mut tx, user_id, org, roles, now).await?;
        }
        let (action, after) = if roles.is_empty() {
            ("remove_membership", None)
        } else {
            (
                "set_membership",
                Some(membership_json(user_id, org, &roles.to_string())),
            )
        };
        let before = before.map(|r| membership_json(user_id, org, &r).to_string());
        audit_user(&mut tx, now, actor, action, user_id, before, after).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Disables (or enables again) a user; disabling ends every session.
    pub(crate) async fn put_invitation(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        roles: RoleSet,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO invitations (user_id, org, roles, invited_by, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, org) DO UPDATE SET roles = excluded.roles, \
             invited_by = excluded.invited_by, created_at = excluded.created_at",
        )
        .bind(user_id)
        .bind(org.as_str())
        .bind(roles.to_string())
        .bind(actor.label.clone())
        .bind(fmt_ts(now))
        .execute(&mut *tx)
        .await?;
        let after = Some(membership_json(user_id, org, &roles.to_string()));
        audit_user(&mut tx, now, actor, "invite", user_id, None, after).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn find_invitations(&self, user_id: i64) -> Result<Vec<Invitation>> {
        let rows = sqlx::query(
            "SELECT org, roles, invited_by, created_at FROM invitations \
             WHERE user_id = $1 ORDER BY created_at, org",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let org: String = r.try_get("org")?;
                Ok(Invitation {
                    org: OrgCode::parse(&org)
                        .map_err(|e| StoreError::Corrupt(format!("invitation org: {e}")))?,
                    roles: roles_from(&r.try_get::<String, _>("roles")?)?,
                    invited_by: r.try_get("invited_by")?,
                    created_at: parse_ts(&r.try_get::<String, _>("created_at")?)?,
                })
            })
            .collect()
    }

    pub(crate) async fn take_invitation(
        &self,
        actor: &Actor,
        user_id: i64,
        org: &OrgCode,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<RoleSet>> {
        let mut tx = self.begin_write().await?;
        let Some(roles) =
            sqlx::query("SELECT roles FROM invitations WHERE user_id = $1 AND org = $2")
                .bind(user_id)
                .bind(org.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()?
        else {
            return Ok(None);
        };
        let roles = roles_from(&roles)?;
        sqlx::query("DELETE FROM invitations WHERE user_id = $1 AND org = $2")
            .bind(user_id)
            .bind(org.as_str())
            .execute(&mut *tx)
            .await?;
        if accept {
            upsert_membership(&mut tx, user_id, org, roles, now).await?;
        }
        let action = if accept {
            "accept_invitation"
        } else {
            "decline_invitation"
        };
        let after = Some(membership_json(user_id, org, &roles.to_string()));
        audit_user(&mut tx, now, actor, action, user_id, None, after).await?;
        tx.commit().await?;
        Ok(Some(roles))
    }

    /// A new password hash; every session of the user but `keep` ends.
    pub(crate) async fn put_password(
        &self,
        actor: &Actor,
        user_id: i64,
        password_hash: &str,
        keep: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        write_password(
            &mut tx,
            actor,
            user_id,
            password_hash,
            keep,
            now,
            "change_password",
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn put_password_reset(
        &self,
        actor: &Actor,
        user_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, issued_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash.to_string())
        .bind(user_id)
        .bind(actor.label.clone())
        .bind(fmt_ts(now))
        .bind(fmt_ts(expires_at))
        .execute(&mut *tx)
        .await?;
        let after = Some(serde_json::json!({"id": user_id, "expires_at": fmt_ts(expires_at)}));
        audit_user(
            &mut tx,
            now,
            actor,
            "issue_password_reset",
            user_id,
            None,
            after,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn find_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM password_resets WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash.to_string())
        .bind(fmt_ts(now))
        .fetch_optional(&self.pool)
        .await?)
    }

    pub(crate) async fn take_password_reset(
        &self,
        actor: &Actor,
        token_hash: &str,
        user_id: i64,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        // Deleting the reset is what claims it: of two uses at once, one
        // deletes the row and goes on; the other finds none.
        let claimed = sqlx::query(
            "DELETE FROM password_resets WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3",
        )
        .bind(token_hash.to_string())
        .bind(user_id)
        .bind(fmt_ts(now))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        write_password(
            &mut tx,
            actor,
            user_id,
            password_hash,
            None,
            now,
            "reset_password",
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn put_user_disabled(
        &self,
        actor: &Actor,
        user_id: i64,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3")
            .bind(i64::from(disabled))
            .bind(fmt_ts(now))
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if done == 0 {
            return Err(no_user(user_id));
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        let action = if disabled {
            "disable_user"
        } else {
            "enable_user"
        };
        let after = Some(serde_json::json!({"id": user_id, "disabled": disabled}));
        audit_user(&mut tx, now, actor, action, user_id, None, after).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, org, csrf, created_at, last_seen, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(s.id_hash.clone())
        .bind(s.user_id)
        .bind(s.org.as_ref().map(|o| o.to_string()))
        .bind(s.csrf.clone())
        .bind(fmt_ts(s.created_at))
        .bind(fmt_ts(s.last_seen))
        .bind(fmt_ts(s.expires_at))
        .execute(&self.pool)
        .await
        .map_err(|e| map_unique(e, || "a session with this id already exists".into()))?;
        Ok(())
    }

    pub(crate) async fn find_session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT id_hash, user_id, org, csrf, created_at, last_seen, expires_at \
             FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from_row).transpose()
    }

    pub(crate) async fn touch_session_row(
        &self,
        id_hash: &str,
        org: Option<&OrgCode>,
        last_seen: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE sessions SET org = $1, last_seen = $2, expires_at = $3 WHERE id_hash = $4",
        )
        .bind(org.map(|o| o.to_string()))
        .bind(fmt_ts(last_seen))
        .bind(fmt_ts(expires_at))
        .bind(id_hash.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(crate) async fn remove_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(crate) async fn insert_sign_in_attempt(
        &self,
        email: &str,
        client: &str,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sign_in_attempts (email, client, succeeded, at) VALUES ($1, $2, $3, $4)",
        )
        .bind(email.to_string())
        .bind(client.to_string())
        .bind(i64::from(succeeded))
        .bind(fmt_ts(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Failed attempts for this email from this client since `since`, not
    /// counting those before the last success.
    pub(crate) async fn count_failures(
        &self,
        email: &str,
        client: &str,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let last_ok: Option<String> = sqlx::query_scalar(
            "SELECT MAX(at) FROM sign_in_attempts WHERE email = $1 AND client = $2 AND succeeded = 1",
        )
        .bind(email.to_string())
        .bind(client.to_string())
        .fetch_one(&self.pool)
        .await?;
        let since = fmt_ts(since);
        let from = match last_ok {
            Some(ok) if ok > since => ok,
            _ => since,
        };
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_attempts \
             WHERE email = $1 AND client = $2 AND succeeded = 0 AND at > $3",
        )
        .bind(email.to_string())
        .bind(client.to_string())
        .bind(from)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub(crate) async fn count_failures_from(
        &self,
        client: &str,
        since: DateTime<Utc>,
    ) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_attempts WHERE client = $1 AND succeeded = 0 AND at > $2",
        )
        .bind(client.to_string())
        .bind(fmt_ts(since))
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub(crate) async fn prune_attempts_and_sessions(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        let attempts = sqlx::query("DELETE FROM sign_in_attempts WHERE at < $1")
            .bind(fmt_ts(before))
            .execute(&self.pool)
            .await?
            .rows_affected();
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(fmt_ts(now))
            .execute(&self.pool)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM password_resets WHERE expires_at <= $1")
            .bind(fmt_ts(now))
            .execute(&self.pool)
            .await?;
        Ok((attempts, sessions))
    }

    /// A refusal by access control, kept in the audit trail: who asked, for
    /// what, and why they were refused.
    pub(crate) async fn insert_refusal(
        &self,
        actor: &Actor,
        what: &str,
        target: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        let after = serde_json::json!({
            "org": actor.org, "what": what, "reason": reason,
        });
        write_audit(
            &mut conn,
            codec::audit_vals(
                now,
                actor,
                "refused",
                "access",
                target,
                None,
                Some(after.to_string()),
            ),
        )
        .await
    }
}

/// Sets a password hash in a transaction; every session of the user but
/// `keep` ends.
async fn write_password(
    tx: &mut sqlx::AnyConnection,
    actor: &Actor,
    user_id: i64,
    password_hash: &str,
    keep: Option<&str>,
    now: DateTime<Utc>,
    action: &str,
) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash.to_string())
        .bind(fmt_ts(now))
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if done == 0 {
        return Err(no_user(user_id));
    }
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep.unwrap_or("").to_string())
        .execute(&mut *tx)
        .await?;
    // The audit says that it changed, never the hash.
    let after = Some(serde_json::json!({"id": user_id}));
    audit_user(tx, now, actor, action, user_id, None, after).await
}
