//! Who is asking. Every use case runs on behalf of a principal; the
//! access-control wrapper ([`crate::Authorized`]) decides what each may do.

use concord_domain::account::{Role, RoleSet};
use concord_domain::{Actor, OrgCode};
use concord_similar::Viewer;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Not signed in: reads what is published.
    Anonymous,
    /// Someone at the machine running `concord` against the database: may do
    /// anything the database itself allows.
    Operator { label: String },
    /// A caller acting for one organisation with some roles: an API token
    /// (`token:ID:LABEL`) or a signed-in user (`user:ID:EMAIL`).
    Organisation {
        org: OrgCode,
        label: String,
        roles: RoleSet,
    },
}

impl Principal {
    /// Acting for an organisation with every role but administrator (what
    /// a token has unless made with other roles).
    pub fn for_org(org: OrgCode, label: impl Into<String>) -> Self {
        Principal::Organisation {
            org,
            label: label.into(),
            roles: RoleSet::token_default(),
        }
    }

    /// The operator acting as an organisation at the command line
    /// (`--as ORG`): every role of that organisation, nothing beyond it.
    pub fn acting_for(org: OrgCode, label: impl Into<String>) -> Self {
        Principal::Organisation {
            org,
            label: label.into(),
            roles: RoleSet::all(),
        }
    }

    /// What this caller may do: an operator everything, anonymous nothing.
    pub fn roles(&self) -> RoleSet {
        match self {
            Principal::Anonymous => RoleSet::EMPTY,
            Principal::Operator { .. } => RoleSet::all(),
            Principal::Organisation { roles, .. } => *roles,
        }
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles().contains(role)
    }

    /// `token:3:ci (HSSIB)`, `anonymous`, `cli:root`: for messages and the audit.
    pub fn describe(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".into(),
            Principal::Operator { label } => label.clone(),
            Principal::Organisation { org, label, .. } => format!("{label} ({org})"),
        }
    }

    pub fn actor(&self) -> Actor {
        match self {
            Principal::Anonymous => Actor::system("anonymous"),
            Principal::Operator { label } => Actor::system(label.clone()),
            Principal::Organisation { org, label, .. } => Actor {
                label: label.clone(),
                org: Some(org.clone()),
            },
        }
    }

    pub fn org(&self) -> Option<&OrgCode> {
        match self {
            Principal::Organisation { org, .. } => Some(org),
            _ => None,
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Principal::Operator { .. })
    }
}

/// A new API token's secret is shown once; only its SHA-256 is stored.
pub fn hash_token(secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes, hex, with a prefix that makes leaked tokens easy to spot.
pub fn new_token_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "concord_{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// What the similarity engine lets this principal see: drafts only of
/// its own organisation, everything for operators.
pub(crate) fn viewer(p: &Principal) -> Viewer {
    match p {
        Principal::Operator { .. } => Viewer::All,
        Principal::Organisation { org, .. } => Viewer::Org(org.to_string()),
        Principal::Anonymous => Viewer::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_secrets_are_unique_and_hashes_stable() {
        let a = new_token_secret();
        let b = new_token_secret();
        assert_ne!(a, b);
        assert!(a.starts_with("concord_") && a.len() == 8 + 64);
        assert_eq!(hash_token("x"), hash_token("x"));
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

/// An audit trail's actor as the public reads it: "HSSIB (person 4)", "API
/// token 3" (a token's label is the administrator's note, not shown); other
/// actors (imports, operators, the system) as recorded.
pub fn public_actor(actor: &str) -> String {
    let parts: Vec<&str> = actor.splitn(3, ':').collect();
    match parts.as_slice() {
        ["user", n, org] => format!("{org} (person {n})"),
        ["token", n, _] => format!("API token {n}"),
        _ => actor.to_string(),
    }
}

/// A record's events for someone other than an operator: actors named
/// publicly; unless `issuer`, nothing from while it was a draft (the event
/// that published it keeps only what it published).
pub(crate) fn public_history(
    events: Vec<concord_domain::AuditEvent>,
    issuer: bool,
) -> Vec<concord_domain::AuditEvent> {
    let draft = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .and_then(|v| v.get("status"))
            .and_then(serde_json::Value::as_str)
            == Some("draft")
    };
    events
        .into_iter()
        .filter(|e| issuer || !draft(&e.after))
        .map(|mut e| {
            e.actor = public_actor(&e.actor);
            if !issuer && draft(&e.before) {
                e.before = None;
            }
            e
        })
        .collect()
}

#[cfg(test)]
mod public_tests {
    use super::*;
    use serde_json::json;

    fn event(
        action: &str,
        before: Option<&str>,
        after: Option<&str>,
    ) -> concord_domain::AuditEvent {
        let v = |s: Option<&str>| s.map(|s| json!({"status": s, "text": format!("{s} text")}));
        concord_domain::AuditEvent {
            seq: 1,
            at: chrono::Utc::now(),
            actor: "token:5:full access for Ann".into(),
            action: action.into(),
            entity: "recommendation".into(),
            entity_id: "HSSIB-2026-0001".into(),
            before: v(before),
            after: v(after),
        }
    }

    #[test]
    fn the_public_sees_a_record_from_publication_on() {
        let events = vec![
            event("create", None, Some("draft")),
            event("update", Some("draft"), Some("draft")),
            event("update", Some("draft"), Some("published")),
            event("respond", Some("published"), Some("published")),
        ];
        let public = public_history(events.clone(), false);
        assert_eq!(public.len(), 2, "{public:?}");
        assert_eq!(public[0].before, None, "the draft's text is not shown");
        assert_eq!(public[0].after, events[2].after);
        assert!(public.iter().all(|e| e.actor == "API token 5"));
        let own = public_history(events, true);
        assert_eq!(own.len(), 4);
        assert!(own[1].before.is_some());
        assert_eq!(public_actor("user:4:HSSIB"), "HSSIB (person 4)");
        assert_eq!(public_actor("token:3:case system: NHSE"), "API token 3");
        assert_eq!(public_actor("import"), "import");
    }
}
