//! People and what they may do: users, their memberships of organisations
//! with roles, and the rules for emails, passwords, sessions and sign-in
//! attempts. Pure: hashing, random ids and storage live elsewhere.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::ids::OrgCode;
use crate::string_enum;

string_enum!(
    /// What a member of an organisation may do for it. Not being signed in
    /// ("public") is the absence of a role, not a role.
    Role {
        /// Drafts and edits the organisation's recommendations and workstreams.
        Author => "author",
        /// Publishes drafts through the quality gate; sets the gate's criteria.
        Approver => "approver",
        /// Answers what is addressed to the organisation: responses, actions, progress.
        Respondent => "respondent",
        /// Judges the answers to what the organisation issued: assess, close,
        /// dormant, reopen, reassess, verify, escalate; decides links.
        Assessor => "assessor",
        /// Decides links and duplicates of the organisation's records.
        Oversight => "oversight",
        /// Manages the organisation's members, their roles, its API tokens
        /// and its provider profile.
        Administrator => "administrator",
    }
);

/// A set of roles, written `author,approver` (sorted, no repeats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RoleSet(u8);

impl RoleSet {
    pub const EMPTY: RoleSet = RoleSet(0);

    fn bit(r: Role) -> u8 {
        1 << (Role::ALL.iter().position(|x| *x == r).unwrap_or(0) as u8)
    }

    pub fn all() -> RoleSet {
        RoleSet::from_roles(Role::ALL.iter().copied())
    }

    /// What an API token has unless told otherwise: everything an
    /// organisation does with its records, but not managing people or tokens.
    pub fn token_default() -> RoleSet {
        RoleSet::from_roles(
            Role::ALL
                .iter()
                .copied()
                .filter(|r| *r != Role::Administrator),
        )
    }

    pub fn from_roles(roles: impl IntoIterator<Item = Role>) -> RoleSet {
        let mut s = RoleSet::EMPTY;
        for r in roles {
            s.insert(r);
        }
        s
    }

    pub fn contains(self, r: Role) -> bool {
        self.0 & Self::bit(r) != 0
    }

    pub fn insert(&mut self, r: Role) {
        self.0 |= Self::bit(r);
    }

    pub fn remove(&mut self, r: Role) {
        self.0 &= !Self::bit(r);
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.iter().copied().filter(move |r| self.contains(*r))
    }

    /// Reads `author, approver` (commas, any case, spaces ignored). Empty
    /// text is the empty set; an unknown role names itself and the field.
    pub fn parse(field: &str, text: &str) -> Result<RoleSet, DomainError> {
        let mut s = RoleSet::EMPTY;
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let r: Role = part
                .parse()
                .map_err(|e: String| DomainError::invalid(field, e))?;
            s.insert(r);
        }
        Ok(s)
    }
}

impl std::fmt::Display for RoleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.iter().map(|r| r.as_str()).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for RoleSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let names: Vec<&str> = self.iter().map(|r| r.as_str()).collect();
        names.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RoleSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut s = RoleSet::EMPTY;
        for n in names {
            s.insert(n.parse().map_err(serde::de::Error::custom)?);
        }
        Ok(s)
    }
}

/// An email address as we keep it: trimmed and lower-cased, so that
/// `Ann@Trust.nhs.uk` and `ann@trust.nhs.uk` are one person.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Email(String);

/// RFC 5321's limit on a whole address.
const MAX_EMAIL: usize = 254;

impl Email {
    pub fn parse(text: &str) -> Result<Email, DomainError> {
        let t = text.trim().to_lowercase();
        let bad = |m: &str| Err(DomainError::invalid("email", m.to_string()));
        if t.is_empty() {
            return bad("is empty");
        }
        if t.len() > MAX_EMAIL {
            return bad("is longer than 254 characters");
        }
        let Some((local, domain)) = t.split_once('@') else {
            return bad("must be an address like name@example.nhs.uk");
        };
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || t.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return bad("must be an address like name@example.nhs.uk");
        }
        Ok(Email(t))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shortest password we accept (NCSC: length over composition rules).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest: hashing megabytes on every sign-in would be a denial of service.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Refuses empty, short, over-long and obviously guessable passwords.
pub fn check_password(password: &str, email: &Email, name: &str) -> Result<(), DomainError> {
    let bad = |m: String| Err(DomainError::invalid("password", m));
    let chars = password.chars().count();
    if password.trim().is_empty() {
        return bad("is empty".into());
    }
    if chars < MIN_PASSWORD_CHARS {
        return bad(format!(
            "is too short: use at least {MIN_PASSWORD_CHARS} characters (three random words work well)"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return bad(format!("is longer than {MAX_PASSWORD_BYTES} bytes"));
    }
    let lower = password.to_lowercase();
    let distinct: std::collections::BTreeSet<char> = lower.chars().collect();
    if distinct.len() < 4 {
        return bad("repeats too few characters to be hard to guess".into());
    }
    let local = email.as_str().split('@').next().unwrap_or_default();
    let name = name.trim().to_lowercase();
    if lower.contains(email.as_str())
        || (local.len() >= 4 && lower.contains(local))
        || (name.len() >= 4 && lower.contains(&name))
    {
        return bad("must not contain your email address or name".into());
    }
    const COMMON: &[&str] = &[
        "password", "qwerty", "123456", "letmein", "welcome", "iloveyou", "concord", "abc123",
        "admin", "nhs",
    ];
    let stripped: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if COMMON
        .iter()
        .any(|c| stripped.starts_with(c) && stripped.len() < c.len() + 6)
    {
        return bad("is too easy to guess".into());
    }
    Ok(())
}

/// A display name: what others see beside your changes.
pub fn check_display_name(name: &str) -> Result<String, DomainError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(DomainError::invalid("name", "is empty"));
    }
    if n.chars().count() > 200 {
        return Err(DomainError::invalid(
            "name",
            "is longer than 200 characters",
        ));
    }
    if n.chars().any(char::is_control) {
        return Err(DomainError::invalid("name", "contains control characters"));
    }
    Ok(n.to_string())
}

/// Someone who may sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: Email,
    pub name: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A user's place in one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    pub org: OrgCode,
    pub roles: RoleSet,
}

/// How long a session lives: it ends after `idle` without use, and in any
/// case `absolute` after sign-in.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::hours(2),
            absolute: Duration::hours(12),
        }
    }
}

impl SessionPolicy {
    /// When a session used at `now` (created at `created`) ends.
    pub fn expires(&self, created: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
        (now + self.idle).min(created + self.absolute)
    }
}

/// Sign-in throttling: at most `max_failures` wrong passwords for one email
/// from one address within `window`.
#[derive(Debug, Clone, Copy)]
pub struct SignInLimit {
    /// Failures for one email from one client.
    pub max_failures: u32,
    /// Failures from one client, whatever the email (a password sprayed
    /// over many accounts).
    pub max_from_client: u32,
    pub window: Duration,
}

impl Default for SignInLimit {
    fn default() -> Self {
        SignInLimit {
            max_failures: 5,
            max_from_client: 30,
            window: Duration::minutes(15),
        }
    }
}

impl SignInLimit {
    /// The start of the window that counts at `now`.
    pub fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }

    pub fn blocked(&self, recent_failures: u32) -> bool {
        recent_failures >= self.max_failures
    }

    pub fn blocked_client(&self, recent_failures: u32) -> bool {
        recent_failures >= self.max_from_client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_sets_read_and_write() {
        let s = RoleSet::parse("role", " Approver,author ,, ").unwrap();
        assert_eq!(s.to_string(), "author,approver");
        assert!(s.contains(Role::Author) && !s.contains(Role::Assessor));
        assert_eq!(RoleSet::parse("role", "").unwrap(), RoleSet::EMPTY);
        let e = RoleSet::parse("role", "author,king")
            .unwrap_err()
            .to_string();
        assert!(e.contains("field role") && e.contains("king"), "{e}");
        assert!(!RoleSet::token_default().contains(Role::Administrator));
        assert_eq!(RoleSet::all().iter().count(), Role::ALL.len());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"["author","approver"]"#);
        let back: RoleSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn emails_are_one_case() {
        assert_eq!(
            Email::parse(" Ann.Lee@Trust.NHS.uk ").unwrap().as_str(),
            "ann.lee@trust.nhs.uk"
        );
        for bad in [
            "",
            "  ",
            "ann",
            "ann@",
            "@nhs.uk",
            "a@b@c.uk",
            "ann@nhs",
            "ann lee@nhs.uk",
            "ann@.uk",
        ] {
            let e = Email::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("field email"), "{bad:?}: {e}");
        }
        assert!(Email::parse(&format!("{}@nhs.uk", "a".repeat(250))).is_err());
    }

    #[test]
    fn weak_passwords_are_refused() {
        let email = Email::parse("ann.lee@trust.nhs.uk").unwrap();
        assert!(check_password("correct horse battery", &email, "Ann Lee").is_ok());
        for bad in [
            "",
            "            ",
            "short",
            "aaaaaaaaaaaaaaaa",
            "abababababab",
            "Password1234",
            "ann.lee-is-me-2024",
            "i am ann lee!!",
            &"x1y2".repeat(300),
        ] {
            let e = check_password(bad, &email, "Ann Lee")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("field password"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn sessions_end_idle_or_at_the_absolute_limit() {
        let p = SessionPolicy::default();
        let t0 = DateTime::parse_from_rfc3339("2026-01-01T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(p.expires(t0, t0), t0 + Duration::hours(2));
        let late = t0 + Duration::hours(11);
        assert_eq!(p.expires(t0, late), t0 + Duration::hours(12));
    }

    #[test]
    fn the_limit_counts_failures_in_the_window() {
        let l = SignInLimit::default();
        assert!(!l.blocked(4));
        assert!(l.blocked(5));
    }
}
