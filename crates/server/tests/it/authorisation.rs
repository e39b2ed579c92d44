//! The authorisation table (issue #7): every write endpoint of the API and
//! every page action, asked by every kind of caller — anonymous, a token
//! with each single role, a token with every role, of the organisation the
//! action belongs to and of another one, and a signed-in browser — against
//! a real server and a real database. Each cell checks the status, that a
//! refusal changed nothing (every table but the audit trail is compared
//! before and after) and that the refusal was written to the audit trail.

use crate::common;

use common::*;

use concord_app::{Action as Policy, Needs, NewUser};
use concord_domain::account::{Membership, Role, RoleSet};
use concord_domain::lifecycle::Move;
use concord_domain::{OrgCode, RecommendationId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::browser;
use browser::Browser;

const PASSWORD: &str = "plum tractor velvet 42";

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

async fn refusals(app: &TestApp, path: &str) -> usize {
    app.services
        .as_principal(operator())
        .refusals(path)
        .await
        .unwrap()
        .len()
}

impl TestApp {
    /// A published HSSIB recommendation to NHS England and the CQC.
    async fn published_rec(&self, title: &str) -> String {
        self.services
            .as_principal(operator())
            .create_draft(concord_app::NewRecord::from_json(json!({
                "issuer": "HSSIB", "status": "published", "published": "2024-01-04",
                "title": title,
                "text": format!("NHS England should require {title} within 15 minutes of arrival by 31 March 2026."),
                "addressees": [
                    {"name": "NHS England", "org": "NHSE"},
                    {"name": "Care Quality Commission", "org": "CQC"}
                ],
                "override_gate": "test data"
            })).unwrap())
            .await
            .unwrap()
            .id
            .to_string()
    }

    async fn draft_rec(&self) -> String {
        self.services
            .as_principal(operator())
            .create_draft(concord_app::NewRecord::from_json(json!({
                "issuer": "HSSIB", "status": "draft",
                "title": "Falls in care homes",
                "text": "NHS England should publish falls guidance for care homes by 31 March 2026.",
                "addressees": [{"name": "NHS England", "org": "NHSE"}]
            })).unwrap())
            .await
            .unwrap()
            .id
            .to_string()
    }

    async fn moves(&self, id: &str, moves: &[Value]) {
        let id = RecommendationId::parse(id).unwrap();
        for m in moves {
            let mv: Move = serde_json::from_value(m.clone()).unwrap();
            self.services
                .as_principal(operator())
                .apply_move(&id, "NHSE", &mv)
                .await
                .unwrap();
        }
    }

    async fn token_with(&self, org: &str, roles: RoleSet) -> String {
        self.services
            .as_principal(operator())
            .create_token_with_roles(&code(org), "table", roles)
            .await
            .unwrap()
            .secret
    }

    async fn user(&self, email: &str, org: &str, roles: RoleSet) -> i64 {
        self.services
            .as_principal(operator())
            .add_user(NewUser {
                email: email.into(),
                name: format!("User {email}"),
                password: PASSWORD.into(),
                memberships: vec![Membership {
                    org: code(org),
                    roles,
                }],
            })
            .await
            .unwrap()
            .id
    }
}

/// Who asks, in a cell of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    /// A token of the organisation the action belongs to (`own`) or of
    /// another (`!own`), with these roles.
    Token {
        own: bool,
        roles: RoleSet,
    },
    /// A signed-in browser of the owning organisation with every role.
    Session,
}

/// The callers of the API table, in three groups that each run on a server
/// of their own (every cell compares the whole database before and after,
/// so one server for all of them spent most of its time on the rows the
/// earlier cells left behind).
#[derive(Debug, Clone, Copy)]
enum Callers {
    /// Nobody signed in, and a signed-in browser with every role.
    AnonymousAndSession,
    /// Tokens of the organisation the action belongs to, with each role.
    OwnTokens,
    /// Tokens of another organisation, with each role.
    OtherTokens,
}

impl Callers {
    const ALL: [Callers; 3] = [
        Callers::AnonymousAndSession,
        Callers::OwnTokens,
        Callers::OtherTokens,
    ];

    fn callers(self) -> Vec<Who> {
        let tokens = |own| {
            Role::ALL
                .iter()
                .map(|r| RoleSet::from_roles([*r]))
                .chain([RoleSet::all()])
                .map(move |roles| Who::Token { own, roles })
                .collect()
        };
        match self {
            Callers::AnonymousAndSession => vec![Who::Anonymous, Who::Session],
            Callers::OwnTokens => tokens(true),
            Callers::OtherTokens => tokens(false),
        }
    }
}

/// Every caller of the table, each in exactly one group.
fn callers() -> Vec<Who> {
    Callers::ALL.iter().flat_map(|g| g.callers()).collect()
}

/// Whether a caller with these roles (in the organisation acted for) meets
/// what the policy asks for every one of these actions: the expectation of
/// each cell comes from `concord_app::Action::needs`, the one policy.
fn met(policy: &[Policy], roles: RoleSet) -> bool {
    policy.iter().all(|a| match a.needs() {
        Needs::Nothing => true,
        Needs::AnyRole(any) => any.iter().any(|r| roles.contains(*r)),
        Needs::Operator => false,
    })
}

/// Password reset links made, as the audit trail counts them.
async fn reset_links(app: &TestApp) -> usize {
    app.audit_rows()
        .await
        .iter()
        .filter(|r| r.contains("issue_password_reset"))
        .count()
}

/// One request, prepared on a fresh record.
struct Request {
    method: Method,
    path: String,
    body: Value,
}

type Setup =
    for<'a> fn(&'a TestApp) -> std::pin::Pin<Box<dyn std::future::Future<Output = Request> + 'a>>;

struct Action {
    name: &'static str,
    /// The organisation whose action this is.
    owner: &'static str,
    /// What the policy is asked for: every one must be permitted.
    policy: &'static [Policy],
    ok: StatusCode,
    /// What another organisation with the right roles gets.
    other: StatusCode,
    setup: Setup,
}

macro_rules! setup {
    (|$app:ident| $body:expr) => {{
        fn f<'a>(
            $app: &'a TestApp,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Request> + 'a>> {
            Box::pin(async move { $body })
        }
        f as Setup
    }};
}

fn req(method: Method, path: String, body: Value) -> Request {
    Request { method, path, body }
}

fn mv_path(id: &str, name: &str) -> String {
    format!("/api/v1/recommendations/{id}/addressees/NHSE/{name}")
}

fn responded() -> Value {
    json!({"move": "respond", "acceptance": "accepted", "text": "Yes."})
}

fn api_actions() -> Vec<Action> {
    vec![
        Action {
            name: "create a draft",
            owner: "HSSIB",
            policy: &[Policy::Draft],
            ok: StatusCode::CREATED,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|_app| req(
                Method::POST,
                "/api/v1/recommendations".into(),
                json!({"issuer": "HSSIB", "status": "draft", "title": "Hand hygiene",
                       "text": "Trusts should audit hand hygiene monthly from 1 April 2026."})
            )),
        },
        Action {
            name: "create straight into published",
            owner: "HSSIB",
            policy: &[Policy::Draft, Policy::Publish],
            ok: StatusCode::CREATED,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|_app| req(
                Method::POST,
                "/api/v1/recommendations".into(),
                json!({"issuer": "HSSIB", "status": "published", "published": "2025-01-10",
                       "title": "Hand hygiene",
                       "text": "NHS England should audit hand hygiene monthly from 1 April 2026.",
                       "addressees": [{"name": "NHS England", "org": "NHSE"}]})
            )),
        },
        Action {
            name: "edit a published record",
            owner: "HSSIB",
            policy: &[Policy::Edit],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(
                    Method::PATCH,
                    format!("/api/v1/recommendations/{id}"),
                    json!({"version": 1, "title": "Sepsis screening at triage"}),
                )
            }),
        },
        Action {
            name: "publish a draft",
            owner: "HSSIB",
            policy: &[Policy::Publish],
            ok: StatusCode::OK,
            // Another organisation cannot see the draft at all.
            other: StatusCode::NOT_FOUND,
            setup: setup!(|app| {
                let id = app.draft_rec().await;
                req(
                    Method::PATCH,
                    format!("/api/v1/recommendations/{id}"),
                    json!({"version": 1, "status": "published", "published": "2025-01-10"}),
                )
            }),
        },
        Action {
            // Issue #14, finding 6: a date of publication alone is the
            // approver's to change, as the status is.
            name: "re-date a published record",
            owner: "HSSIB",
            policy: &[Policy::Publish],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(
                    Method::PATCH,
                    format!("/api/v1/recommendations/{id}"),
                    json!({"version": 1, "published": "2023-06-01"}),
                )
            }),
        },
        Action {
            // A PATCH that names no field still moves the version on.
            name: "an empty edit",
            owner: "HSSIB",
            policy: &[Policy::Edit],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(
                    Method::PATCH,
                    format!("/api/v1/recommendations/{id}"),
                    json!({"version": 1}),
                )
            }),
        },
        Action {
            name: "respond",
            owner: "NHSE",
            policy: &[Policy::Answer],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(
                    Method::POST,
                    mv_path(&id, "respond"),
                    json!({"acceptance": "accepted", "text": "Yes."}),
                )
            }),
        },
        Action {
            name: "add an action",
            owner: "NHSE",
            policy: &[Policy::Answer],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                app.moves(&id, &[responded()]).await;
                req(
                    Method::POST,
                    mv_path(&id, "add_action"),
                    json!({"title": "Audit"}),
                )
            }),
        },
        Action {
            name: "update progress",
            owner: "NHSE",
            policy: &[Policy::Answer],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                app.moves(&id, &[responded()]).await;
                req(
                    Method::POST,
                    mv_path(&id, "update"),
                    json!({"implementation": "in_progress"}),
                )
            }),
        },
        Action {
            name: "assess",
            owner: "HSSIB",
            policy: &[Policy::Judge],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                app.moves(&id, &[responded()]).await;
                req(
                    Method::POST,
                    mv_path(&id, "assess"),
                    json!({"verdict": "fully_satisfactory"}),
                )
            }),
        },
        Action {
            name: "close",
            owner: "HSSIB",
            policy: &[Policy::Judge],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                app.moves(&id, &[responded()]).await;
                req(
                    Method::POST,
                    mv_path(&id, "close"),
                    json!({"reason": "not_implemented"}),
                )
            }),
        },
        Action {
            name: "dormant",
            owner: "HSSIB",
            policy: &[Policy::Judge],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(Method::POST, mv_path(&id, "dormant"), json!({}))
            }),
        },
        Action {
            name: "reopen",
            owner: "HSSIB",
            policy: &[Policy::Judge],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                app.moves(&id, &[json!({"move": "dormant"})]).await;
                req(Method::POST, mv_path(&id, "reopen"), json!({}))
            }),
        },
        Action {
            name: "reassess",
            owner: "HSSIB",
            policy: &[Policy::Judge],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(
                    Method::POST,
                    mv_path(&id, "reassess"),
                    json!({"on": "2099-01-01"}),
                )
            }),
        },
        Action {
            name: "verify",
            owner: "HSSIB",
            policy: &[Policy::Judge],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                app.moves(
                    &id,
                    &[
                        responded(),
                        json!({"move": "update", "implementation": "implemented"}),
                        json!({"move": "close", "reason": "implemented"}),
                    ],
                )
                .await;
                req(Method::POST, mv_path(&id, "verify"), json!({}))
            }),
        },
        Action {
            name: "escalate",
            owner: "HSSIB",
            policy: &[Policy::Judge],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(Method::POST, mv_path(&id, "escalate"), json!({}))
            }),
        },
        Action {
            name: "assert a link",
            owner: "HSSIB",
            policy: &[Policy::DecideLinks],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                let target = app.published_rec("falls prevention").await;
                req(
                    Method::POST,
                    format!("/api/v1/recommendations/{id}/links"),
                    json!({"kind": "supports", "target": target}),
                )
            }),
        },
        Action {
            name: "decide a link",
            owner: "HSSIB",
            policy: &[Policy::DecideLinks],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                let target = app.published_rec("falls prevention").await;
                app.services
                    .as_principal(operator())
                    .assert_link(
                        &RecommendationId::parse(&id).unwrap(),
                        concord_domain::LinkKind::Related,
                        &target,
                    )
                    .await
                    .unwrap();
                req(
                    Method::PATCH,
                    format!("/api/v1/recommendations/{id}/links/{target}"),
                    json!({"state": "dismissed"}),
                )
            }),
        },
        Action {
            name: "decide a pair the engine suggests",
            owner: "HSSIB",
            policy: &[Policy::DecideLinks],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                // The same words twice: the engine pairs them.
                let id = app.published_rec("sepsis screening").await;
                let target = app.published_rec("sepsis screening").await;
                req(
                    Method::POST,
                    format!("/api/v1/recommendations/{id}/suggestions/{target}"),
                    json!({"state": "dismissed"}),
                )
            }),
        },
        Action {
            name: "publish despite the quality gate",
            owner: "HSSIB",
            // Only an operator: no organisation, whatever its roles.
            policy: &[Policy::Draft, Policy::Publish, Policy::OverrideGate],
            ok: StatusCode::CREATED,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|_app| req(
                Method::POST,
                "/api/v1/recommendations".into(),
                json!({"issuer": "HSSIB", "status": "published", "published": "2025-01-10",
                       "title": "Hand hygiene", "text": "Hand hygiene.",
                       "addressees": [{"name": "NHS England", "org": "NHSE"}],
                       "override_gate": "urgent"})
            )),
        },
        Action {
            name: "register a workstream",
            owner: "HSSIB",
            policy: &[Policy::RegisterWork],
            ok: StatusCode::CREATED,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|_app| req(
                Method::POST,
                "/api/v1/workstreams".into(),
                json!({"lead": "HSSIB", "title": "Sepsis at triage",
                       "aim": "Why patients with suspected sepsis wait for antibiotics.",
                       "status": "active", "start": "2025-01-06"})
            )),
        },
        Action {
            name: "edit a workstream",
            owner: "HSSIB",
            policy: &[Policy::RegisterWork],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                let ws = app
                    .services
                    .as_principal(operator())
                    .register_workstream(
                        &concord_app::NewWorkstream::from_json(
                            json!({"lead": "HSSIB", "title": "Sepsis at triage",
                        "aim": "Why patients with suspected sepsis wait for antibiotics.",
                        "status": "active", "start": "2025-01-06"}),
                        )
                        .unwrap(),
                    )
                    .await
                    .unwrap();
                req(
                    Method::PATCH,
                    format!("/api/v1/workstreams/{}", ws.workstream.workstream.id),
                    json!({"version": 1, "status": "completed"}),
                )
            }),
        },
        Action {
            name: "set a provider profile",
            owner: "NHSE",
            policy: &[Policy::DescribeProvider],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|_app| req(
                Method::PUT,
                "/api/v1/organisations/NHSE/profile".into(),
                json!({"kind": "care_home", "settings": ["Care home"]})
            )),
        },
        Action {
            name: "set an issuer's deadline rule",
            owner: "HSSIB",
            policy: &[Policy::SetDeadlineRules],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|_app| req(
                Method::PUT,
                "/api/v1/rules/HSSIB".into(),
                json!({"days_to_respond": 60, "ladder": [{"step": "reminder", "days_after_due": 10}]})
            )),
        },
        Action {
            name: "reset an issuer's deadline rule",
            owner: "HSSIB",
            policy: &[Policy::SetDeadlineRules],
            ok: StatusCode::OK,
            other: StatusCode::FORBIDDEN,
            setup: setup!(|app| {
                app.services
                    .as_principal(operator())
                    .set_response_rule(
                        &code("HSSIB"),
                        concord_app::RuleChange::from_json(&json!({"days_to_respond": 60}))
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                req(Method::DELETE, "/api/v1/rules/HSSIB".into(), json!(null))
            }),
        },
        Action {
            name: "endorse another body's recommendation",
            owner: "NHSE",
            policy: &[Policy::Endorse],
            ok: StatusCode::CREATED,
            // Any other body may stand behind it too.
            other: StatusCode::CREATED,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                req(
                    Method::POST,
                    format!("/api/v1/recommendations/{id}/endorsements"),
                    json!({"note": "We stand behind it."}),
                )
            }),
        },
        Action {
            name: "withdraw an endorsement",
            owner: "NHSE",
            policy: &[Policy::Endorse],
            ok: StatusCode::NO_CONTENT,
            // It has none to withdraw.
            other: StatusCode::NOT_FOUND,
            setup: setup!(|app| {
                let id = app.published_rec("sepsis screening").await;
                app.services
                    .as_principal(concord_app::Principal::acting_for(code("NHSE"), "test"))
                    .endorse(&RecommendationId::parse(&id).unwrap(), None)
                    .await
                    .unwrap();
                req(
                    Method::DELETE,
                    format!("/api/v1/recommendations/{id}/endorsements"),
                    json!(null),
                )
            }),
        },
        Action {
            name: "check drafts (reads only)",
            owner: "HSSIB",
            // No policy asked: anyone may, anonymous callers too.
            policy: &[],
            ok: StatusCode::OK,
            other: StatusCode::OK,
            setup: setup!(|_app| req(
                Method::POST,
                "/api/v1/check".into(),
                json!({"title": "t", "text": "Trusts should audit hand hygiene."})
            )),
        },
    ]
}

const OTHER: &str = "NICE";

/// The tokens of the table: per organisation, per role set.
struct Tokens(Vec<(String, RoleSet, String)>);

impl Tokens {
    fn get(&self, org: &str, roles: RoleSet) -> &str {
        &self
            .0
            .iter()
            .find(|(o, r, _)| o == org && *r == roles)
            .expect("token made")
            .2
    }
}

async fn tokens(app: &TestApp) -> Tokens {
    let mut v = Vec::new();
    for org in ["HSSIB", "NHSE", OTHER] {
        let mut sets: Vec<RoleSet> = Role::ALL
            .iter()
            .map(|r| RoleSet::from_roles([*r]))
            .collect();
        sets.push(RoleSet::all());
        for s in sets {
            v.push((org.to_string(), s, app.token_with(org, s).await));
        }
    }
    Tokens(v)
}

/// Actions of the policy that no HTTP request asks for, and where they are
/// tested instead.
const NOT_OVER_HTTP: &[(Policy, &str)] = &[
    (
        Policy::SetCriteria,
        "concord criteria set: crates/cli/tests/it/quality.rs",
    ),
    (
        Policy::ManageAccounts,
        "concord user disable: crates/cli/tests/it/users.rs",
    ),
    (
        Policy::ReadRefusals,
        "no endpoint or command yet: access.rs, every_action_by_every_caller",
    ),
    (
        Policy::Rebuild,
        "concord reindex: crates/cli/tests/it/search.rs",
    ),
    (
        Policy::Operate,
        "import, export, backup, restore: crates/cli/tests/it/register.rs",
    ),
];

/// Every action of the one policy is asked by some row of these tables
/// (anonymous callers are refused `Change` in every write row), or is named
/// above as reached only from the command line.
#[test]
fn every_action_of_the_policy_has_rows() {
    let mut asked: std::collections::HashSet<Policy> = api_actions()
        .iter()
        .flat_map(|a| a.policy.iter().copied())
        .collect();
    asked.insert(Policy::Change);
    // The admin pages' table.
    asked.insert(Policy::ManagePeople);
    for &a in Policy::ALL {
        let elsewhere = NOT_OVER_HTTP.iter().any(|(p, _)| *p == a);
        assert!(
            asked.contains(&a) != elsewhere,
            "{a:?}: {}",
            if elsewhere {
                "has rows and is also listed as not over HTTP"
            } else {
                "no row asks it"
            }
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_table_of_the_api_anonymous_and_signed_in() {
    api_table(Callers::AnonymousAndSession).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_table_of_the_api_own_organisations_tokens() {
    api_table(Callers::OwnTokens).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_table_of_the_api_other_organisations_tokens() {
    api_table(Callers::OtherTokens).await;
}

/// The groups together are every caller, each once.
#[test]
fn the_api_tables_groups_cover_every_caller_once() {
    let all = callers();
    assert_eq!(all.len(), 1 + 2 * (Role::ALL.len() + 1) + 1);
    for (i, a) in all.iter().enumerate() {
        assert!(!all[i + 1..].contains(a), "{a:?} twice");
    }
}

/// One group's rows of the API table: every action by every caller of the
/// group, on a server of its own.
async fn api_table(group: Callers) {
    let app = spawn_app().await;
    let tokens = tokens(&app).await;
    // A signed-in browser of each owning organisation, with every role.
    let mut sessions = Vec::new();
    for org in ["HSSIB", "NHSE"] {
        let email = format!("all@{}.nhs.uk", org.to_lowercase());
        app.user(&email, org, RoleSet::all()).await;
        sessions.push((org, Browser::sign_in(&app, &email, PASSWORD).await));
    }
    let mut cells = 0;
    let mut failures = Vec::new();
    for action in api_actions() {
        for who in group.callers() {
            let r = (action.setup)(&app).await;
            let before = app.fingerprint().await;
            let refused_before = refusals(&app, &r.path).await;
            let mut rb = app
                .client
                .request(r.method.clone(), app.url(&r.path))
                .json(&r.body);
            let expected = match who {
                _ if action.policy.is_empty() => action.ok,
                Who::Anonymous => StatusCode::UNAUTHORIZED,
                Who::Token { own, roles } => {
                    let org = if own { action.owner } else { OTHER };
                    rb = rb.bearer_auth(tokens.get(org, roles));
                    if !met(action.policy, roles) {
                        StatusCode::FORBIDDEN
                    } else if own {
                        action.ok
                    } else {
                        action.other
                    }
                }
                Who::Session => {
                    let b = &sessions.iter().find(|(o, _)| *o == action.owner).unwrap().1;
                    rb = b.with_session(rb);
                    if met(action.policy, RoleSet::all()) {
                        action.ok
                    } else {
                        StatusCode::FORBIDDEN
                    }
                }
            };
            let res = rb.send().await.unwrap();
            let status = res.status();
            let text = res.text().await.unwrap();
            cells += 1;
            if status != expected {
                failures.push(format!(
                    "{} by {who:?}: expected {expected}, got {status}: {text}",
                    action.name
                ));
                continue;
            }
            let after = app.fingerprint().await;
            let refused_after = refusals(&app, &r.path).await;
            let changed = before != after;
            // 401, 403 and 429 are refusals and audited; a 404 hides a
            // draft from another organisation and tells nothing.
            let audited = matches!(status.as_u16(), 401 | 403 | 429);
            let problem = if status.is_success() {
                match (action.policy.is_empty(), changed) {
                    (true, true) => Some("a read changed something"),
                    (true, false) => None,
                    (false, false) => Some("succeeded but changed nothing"),
                    (false, true) => None,
                }
                .or((refused_after != refused_before).then_some("audited a refusal"))
            } else if changed {
                Some("was refused but changed something")
            } else if refused_after != refused_before + usize::from(audited) {
                Some("the refusal was not audited exactly once")
            } else {
                None
            };
            if let Some(p) = problem {
                failures.push(format!("{} by {who:?} ({status}): {p}", action.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cells} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(cells, api_actions().len() * group.callers().len());
}

/// The page actions: anonymous, a signed-in member of HSSIB with each single
/// role, and an administrator of another organisation, each with the
/// session's CSRF token (its absence is tried in the attacker tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_table_of_the_pages() {
    let app = spawn_app().await;
    // A member of HSSIB whose roles the forms change, and a token to revoke.
    let member = app
        .user(
            "member@hssib.org.uk",
            "HSSIB",
            RoleSet::from_roles([Role::Author]),
        )
        .await;
    app.user(
        "newcomer@nice.org.uk",
        OTHER,
        RoleSet::from_roles([Role::Author]),
    )
    .await;
    // (label, roles, whether of HSSIB, browser)
    let mut people: Vec<(String, RoleSet, bool, Browser)> = Vec::new();
    for r in Role::ALL {
        let email = format!("{}@hssib.org.uk", r.as_str());
        let roles = RoleSet::from_roles([*r]);
        app.user(&email, "HSSIB", roles).await;
        people.push((
            format!("HSSIB {r}"),
            roles,
            true,
            Browser::sign_in(&app, &email, PASSWORD).await,
        ));
    }
    app.user(
        "admin@nice.org.uk",
        OTHER,
        RoleSet::from_roles([Role::Administrator]),
    )
    .await;
    people.push((
        format!("{OTHER} administrator"),
        RoleSet::from_roles([Role::Administrator]),
        false,
        Browser::sign_in(&app, "admin@nice.org.uk", PASSWORD).await,
    ));

    // (name, what the policy is asked, path (fresh each time), fields,
    // what an HSSIB member the policy permits gets, what the other
    // organisation's administrator gets)
    type Make = Box<dyn Fn(i64) -> String>;
    type PageAction = (
        &'static str,
        &'static [Policy],
        Make,
        Vec<(&'static str, String)>,
        StatusCode,
        StatusCode,
    );
    let actions: Vec<PageAction> = vec![
        (
            "create a token",
            &[Policy::ManagePeople],
            Box::new(|_: i64| "/admin/tokens".to_string()),
            vec![
                ("label", "case system".into()),
                ("role", "respondent".into()),
            ],
            StatusCode::OK,
            // Made for its own organisation: allowed.
            StatusCode::OK,
        ),
        (
            "revoke a token",
            &[Policy::ManagePeople],
            Box::new(|token: i64| format!("/admin/tokens/{token}/revoke")),
            vec![],
            StatusCode::SEE_OTHER,
            StatusCode::FORBIDDEN,
        ),
        (
            "change a member's roles",
            &[Policy::ManagePeople],
            Box::new(move |_: i64| format!("/admin/users/{member}/roles")),
            vec![("role", "author".into()), ("role", "approver".into())],
            StatusCode::SEE_OTHER,
            // Not its member.
            StatusCode::NOT_FOUND,
        ),
        (
            "add an existing user",
            &[Policy::ManagePeople],
            Box::new(|_: i64| "/admin/members".to_string()),
            vec![
                ("email", "newcomer@nice.org.uk".into()),
                ("role", "oversight".into()),
            ],
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER,
        ),
        (
            "create an account",
            &[Policy::ManagePeople],
            Box::new(|n: i64| format!("/admin/users#{n}")),
            vec![
                ("name", "New Person".into()),
                ("password", PASSWORD.into()),
                ("role", "author".into()),
            ],
            StatusCode::SEE_OTHER,
            StatusCode::SEE_OTHER,
        ),
        (
            "make a password reset link",
            &[Policy::ManagePeople],
            Box::new(move |_: i64| format!("/admin/users/{member}/password-reset")),
            vec![],
            StatusCode::OK,
            // Not its member.
            StatusCode::NOT_FOUND,
        ),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    for (name, policy, make, fields, ok_admin, ok_other) in &actions {
        // Anonymous first, then each person.
        for who in std::iter::once(None).chain(people.iter().map(Some)) {
            n += 1;
            let token = app
                .services
                .as_principal(operator())
                .create_token_with_roles(
                    &code("HSSIB"),
                    "to revoke",
                    RoleSet::from_roles([Role::Author]),
                )
                .await
                .unwrap()
                .record
                .id;
            let path = make(token);
            let path = path.split('#').next().unwrap().to_string();
            let mut fields = fields.clone();
            if *name == "create an account" {
                fields.push(("email", format!("person{n}@example.nhs.uk")));
            }
            let before = app.fingerprint().await;
            let links_before = reset_links(&app).await;
            let refused_before = refusals(&app, &path).await;
            let (status, expected) = match who {
                None => {
                    let mut b = Browser::new();
                    let res = b.post_form(&app, &path, &fields, None).await;
                    (res.status(), StatusCode::UNAUTHORIZED)
                }
                Some((_, roles, hssib, b)) => {
                    let mut b = b.clone();
                    let csrf = b.csrf(&app).await;
                    let res = b.post_form(&app, &path, &fields, Some(&csrf)).await;
                    let expected = match (met(policy, *roles), hssib) {
                        (false, _) => StatusCode::FORBIDDEN,
                        (true, true) => *ok_admin,
                        (true, false) => *ok_other,
                    };
                    (res.status(), expected)
                }
            };
            let label = who.map(|w| w.0.as_str()).unwrap_or("anonymous");
            if status != expected {
                failures.push(format!(
                    "{name} by {label}: expected {expected}, got {status}"
                ));
                continue;
            }
            let after = app.fingerprint().await;
            let refused_after = refusals(&app, &path).await;
            if status.is_client_error() {
                assert_eq!(
                    before, after,
                    "{name} by {label} was refused but changed something"
                );
                assert_eq!(
                    refused_after,
                    refused_before + u8::from(status != StatusCode::NOT_FOUND) as usize,
                    "{name} by {label}"
                );
            } else if *name == "make a password reset link" {
                // A link is working state, not in the backup the
                // fingerprint reads: the trail says it was made.
                assert_eq!(before, after, "{name} by {label}");
                assert_eq!(
                    reset_links(&app).await,
                    links_before + 1,
                    "{name} by {label}"
                );
            } else {
                assert_ne!(before, after, "{name} by {label} changed nothing");
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The work pages' actions (drafting, publishing, answering, assessing),
/// each by anonymous, a signed-in member of HSSIB (the issuer) with each
/// single role and with author and approver together, and a member of NHS
/// England (the addressee, another organisation) with each single role;
/// every cell on fresh records, refusals changing nothing and audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_table_of_the_work_pages() {
    let app = spawn_app().await;
    let mut people: Vec<(String, Browser)> = Vec::new();
    for org in ["HSSIB", "NHSE"] {
        for r in Role::ALL {
            let email = format!("{}@{}.example.org", r.as_str(), org.to_lowercase());
            app.user(&email, org, RoleSet::from_roles([*r])).await;
            people.push((
                format!("{org} {r}"),
                Browser::sign_in(&app, &email, PASSWORD).await,
            ));
        }
    }
    app.user(
        "lead@hssib.example.org",
        "HSSIB",
        RoleSet::from_roles([Role::Author, Role::Approver]),
    )
    .await;
    people.push((
        "HSSIB author+approver".into(),
        Browser::sign_in(&app, "lead@hssib.example.org", PASSWORD).await,
    ));

    #[derive(Clone, Copy)]
    enum Setup {
        Nothing,
        Draft,
        Published,
        Answered,
    }
    // (name, setup, path given the record, fields, who succeeds with what,
    // whether success changes the register)
    type Allowed = &'static [(&'static str, StatusCode)];
    type WorkAction = (
        &'static str,
        Setup,
        fn(&str) -> String,
        Vec<(&'static str, String)>,
        Allowed,
        bool,
    );
    let draft_fields = || {
        vec![
            ("title", "Sepsis screening".to_string()),
            (
                "text",
                "NHS England should require sepsis screening within one hour by 31 March 2027."
                    .to_string(),
            ),
            ("addressees", "NHSE".to_string()),
        ]
    };
    let with = |mut f: Vec<(&'static str, String)>, extra: &[(&'static str, &str)]| {
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    const SEE: StatusCode = StatusCode::SEE_OTHER;
    let actions: Vec<WorkAction> = vec![
        (
            "save a new draft",
            Setup::Nothing,
            |_| "/recommendations/new".into(),
            with(draft_fields(), &[("action", "save")]),
            &[
                ("HSSIB author", SEE),
                ("HSSIB author+approver", SEE),
                // Its own organisation's draft.
                ("NHSE author", SEE),
            ],
            true,
        ),
        (
            "publish a new recommendation",
            Setup::Nothing,
            |_| "/recommendations/new".into(),
            with(draft_fields(), &[("action", "publish")]),
            &[("HSSIB author+approver", SEE)],
            true,
        ),
        (
            "check a draft",
            Setup::Nothing,
            |_| "/recommendations/feedback".into(),
            draft_fields(),
            &[
                ("HSSIB author", StatusCode::OK),
                ("HSSIB author+approver", StatusCode::OK),
                ("NHSE author", StatusCode::OK),
            ],
            false,
        ),
        (
            "save an edited draft",
            Setup::Draft,
            |id| format!("/recommendations/{id}/edit"),
            with(draft_fields(), &[("action", "save"), ("version", "1")]),
            &[
                ("HSSIB author", SEE),
                ("HSSIB author+approver", SEE),
                // Another organisation's draft does not exist for it.
                ("NHSE author", StatusCode::NOT_FOUND),
            ],
            true,
        ),
        (
            "publish a draft",
            Setup::Draft,
            |id| format!("/recommendations/{id}/edit"),
            with(draft_fields(), &[("action", "publish"), ("version", "1")]),
            &[
                ("HSSIB author+approver", SEE),
                ("NHSE author", StatusCode::NOT_FOUND),
            ],
            true,
        ),
        (
            "publish after the check",
            Setup::Draft,
            |id| format!("/recommendations/{id}/publish"),
            vec![("version", "1".to_string())],
            &[
                ("HSSIB author+approver", SEE),
                ("NHSE author", StatusCode::NOT_FOUND),
            ],
            true,
        ),
        (
            "check an answer before sending it",
            Setup::Published,
            |id| format!("/recommendations/{id}/addressees/1/respond"),
            vec![
                ("acceptance", "accepted".into()),
                ("text", "We will.".into()),
            ],
            &[("NHSE respondent", StatusCode::OK)],
            false,
        ),
        (
            "answer as the addressee",
            Setup::Published,
            |id| format!("/recommendations/{id}/addressees/1/respond"),
            vec![
                ("acceptance", "accepted".into()),
                ("text", "We will.".into()),
                ("confirm", "yes".into()),
            ],
            &[("NHSE respondent", SEE)],
            true,
        ),
        (
            "record progress",
            Setup::Answered,
            |id| format!("/recommendations/{id}/addressees/1/update"),
            vec![
                ("implementation", "in_progress".into()),
                ("note", "Piloted.".into()),
            ],
            &[("NHSE respondent", SEE)],
            true,
        ),
        (
            "add an action",
            Setup::Answered,
            |id| format!("/recommendations/{id}/addressees/1/add_action"),
            vec![("title", "Pilot in three trusts".into())],
            &[("NHSE respondent", SEE)],
            true,
        ),
        (
            "assess an answer",
            Setup::Answered,
            |id| format!("/recommendations/{id}/addressees/1/assess"),
            vec![
                ("verdict", "satisfactory_intent".into()),
                ("comment", "A plan, not yet done.".into()),
            ],
            &[("HSSIB assessor", SEE)],
            true,
        ),
        (
            "close an addressee's part",
            Setup::Answered,
            |id| format!("/recommendations/{id}/addressees/1/close"),
            vec![("reason", "superseded".into())],
            &[("HSSIB assessor", SEE)],
            true,
        ),
    ];
    let mut n = 0;
    let mut failures = Vec::new();
    for (name, setup, path_of, fields, allowed, changes) in &actions {
        for who in std::iter::once(None).chain(people.iter().map(Some)) {
            n += 1;
            let id = match setup {
                Setup::Nothing => String::new(),
                Setup::Draft => app.draft_rec().await,
                Setup::Published => app.published_rec(&format!("cell {n}")).await,
                Setup::Answered => {
                    let id = app.published_rec(&format!("cell {n}")).await;
                    app.moves(&id, &[responded()]).await;
                    id
                }
            };
            let path = path_of(&id);
            let before = app.fingerprint().await;
            let refused_before = refusals(&app, &path).await;
            let label = who.map(|w| w.0.as_str()).unwrap_or("anonymous");
            let (status, expected) = match who {
                None => {
                    let mut b = Browser::new();
                    let res = b.post_form(&app, &path, fields, None).await;
                    (res.status(), StatusCode::UNAUTHORIZED)
                }
                Some((label, b)) => {
                    let mut b = b.clone();
                    let csrf = b.csrf(&app).await;
                    let res = b.post_form(&app, &path, fields, Some(&csrf)).await;
                    let expected = allowed
                        .iter()
                        .find(|(l, _)| l == label)
                        .map(|(_, s)| *s)
                        .unwrap_or(StatusCode::FORBIDDEN);
                    (res.status(), expected)
                }
            };
            if status != expected {
                failures.push(format!(
                    "{name} by {label}: expected {expected}, got {status}"
                ));
                continue;
            }
            let after = app.fingerprint().await;
            let refused_after = refusals(&app, &path).await;
            if status.is_client_error() {
                assert_eq!(
                    before, after,
                    "{name} by {label} was refused but changed something"
                );
                assert_eq!(
                    refused_after,
                    refused_before + u8::from(status != StatusCode::NOT_FOUND) as usize,
                    "{name} by {label}: refusals audited"
                );
            } else if *changes {
                assert_ne!(before, after, "{name} by {label} changed nothing");
            } else {
                assert_eq!(before, after, "{name} by {label} changed something");
            }
        }
    }
    assert_eq!(n, actions.len() * (1 + people.len()));
    assert!(
        failures.is_empty(),
        "{} of {n} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
