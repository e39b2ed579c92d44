//! Who may do what, in one place (after lldap's access-control layer).
//!
//! The policy is [`permit`]: a principal, an [`Action`] and the organisation
//! it is done for decide whether it may be done, and if not, the refusal
//! (401 for nobody signed in, 403 otherwise). Every use case asks it through
//! the principal's [`Authorized`] before it reaches the store; the pages ask
//! it to decide which forms to show; the tests loop over every `Action`.
//! Handlers never check permissions themselves.
//!
//! What only an operator (someone at the machine, `concord` on the command
//! line) may do — import, export, backup, restore, the demo data, the
//! organisations' register — is behind a narrower handle, [`Operator`],
//! which [`Authorized::operator`] hands out to an operator only.

use std::io::Write;

use concord_domain::account::{Role, RoleSet};
use concord_domain::{OrgCode, Organisation, Recommendation};
use concord_store::DraftVisibility;

use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use crate::services::Services;

/// Everything a caller may be refused, one kind of act each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Any change at all: nobody anonymous changes anything.
    Change,
    /// Write a new draft for the organisation.
    Draft,
    /// Change what a recommendation says (its content, addressees, links
    /// as suggestions).
    Edit,
    /// Publish or withdraw, or change the date of publication.
    Publish,
    /// Publish despite the quality gate.
    OverrideGate,
    /// The organisation's own publishing gate.
    SetCriteria,
    /// The organisation's own response periods and escalation ladder.
    SetDeadlineRules,
    /// Confirm, dismiss or assert links and pairs the engine suggests.
    DecideLinks,
    /// An addressee's moves: respond, plan actions, report progress.
    Answer,
    /// The issuer's moves: assess, close, set aside, reopen, verify,
    /// escalate.
    Judge,
    /// Stand behind another body's recommendation.
    Endorse,
    /// Say what kind of provider the organisation is.
    DescribeProvider,
    /// Register or edit the organisation's ongoing work.
    RegisterWork,
    /// The organisation's people, their roles and its API tokens.
    ManagePeople,
    /// Accounts with no organisation; disabling a person.
    ManageAccounts,
    /// Read who was refused what.
    ReadRefusals,
    /// Rebuild derived indexes.
    Rebuild,
    /// The operator's own tasks (see [`Operator`]).
    Operate,
}

/// What an action needs beyond a signed-in caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    Nothing,
    /// Any one of these roles, in the organisation acted for.
    AnyRole(&'static [Role]),
    /// An operator.
    Operator,
}

impl Action {
    pub const ALL: &'static [Action] = &[
        Action::Change,
        Action::Draft,
        Action::Edit,
        Action::Publish,
        Action::OverrideGate,
        Action::SetCriteria,
        Action::SetDeadlineRules,
        Action::DecideLinks,
        Action::Answer,
        Action::Judge,
        Action::Endorse,
        Action::DescribeProvider,
        Action::RegisterWork,
        Action::ManagePeople,
        Action::ManageAccounts,
        Action::ReadRefusals,
        Action::Rebuild,
        Action::Operate,
    ];

    /// The act in words, for refusals ("publishing a recommendation needs
    /// the approver role").
    pub fn what(self) -> &'static str {
        match self {
            Action::Change => "changing the register",
            Action::Draft => "drafting a recommendation",
            Action::Edit => "editing a recommendation",
            Action::Publish => "publishing a recommendation or changing its date of publication",
            Action::OverrideGate => "overriding the publishing gate",
            Action::SetCriteria => "setting the publishing gate's criteria",
            Action::SetDeadlineRules => "changing deadline rules",
            Action::DecideLinks => "deciding links",
            Action::Answer => "answering as an addressee",
            Action::Judge => "judging an answer",
            Action::Endorse => "endorsing a recommendation",
            Action::DescribeProvider => "setting a provider profile",
            Action::RegisterWork => "registering a workstream",
            Action::ManagePeople => "managing people and API tokens",
            Action::ManageAccounts => "managing accounts outside an organisation",
            Action::ReadRefusals => "reading refusals",
            Action::Rebuild => "rebuilding a derived index",
            Action::Operate => "this task",
        }
    }

    /// What the policy asks of a caller for this action (the tables of
    /// the HTTP tests derive what each caller should get from it).
    pub fn needs(self) -> Needs {
        use Role::*;
        match self {
            Action::Change => Needs::Nothing,
            Action::Draft | Action::Edit | Action::RegisterWork => Needs::AnyRole(&[Author]),
            Action::Publish | Action::SetCriteria | Action::SetDeadlineRules | Action::Endorse => {
                Needs::AnyRole(&[Approver])
            }
            Action::DecideLinks => Needs::AnyRole(&[Oversight, Assessor]),
            Action::Answer | Action::DescribeProvider => Needs::AnyRole(&[Respondent]),
            Action::Judge => Needs::AnyRole(&[Assessor]),
            Action::ManagePeople => Needs::AnyRole(&[Administrator]),
            Action::OverrideGate
            | Action::ManageAccounts
            | Action::ReadRefusals
            | Action::Rebuild
            | Action::Operate => Needs::Operator,
        }
    }
}

fn roles_text(r: RoleSet) -> String {
    if r.is_empty() {
        "no roles".into()
    } else {
        format!("the roles {r}")
    }
}

/// The policy: whether `p` may do `action` for the organisation `on` (None:
/// the roles alone are asked, before the record that says whose it is has
/// been read). Anonymous callers are refused everything here (401); an
/// operator may do everything; an organisation acts only for itself, with
/// the roles it holds there, and never as an operator.
pub fn permit(p: &Principal, action: Action, on: Option<&OrgCode>) -> AppResult<()> {
    let what = action.what();
    let (org, roles) = match p {
        Principal::Anonymous => {
            return Err(AppError::Unauthenticated(format!(
                "{what}: changes need an API token (Authorization: Bearer TOKEN) or signing in"
            )));
        }
        Principal::Operator { .. } => return Ok(()),
        Principal::Organisation { org, roles, .. } => (org, *roles),
    };
    let needs = action.needs();
    if let Needs::Operator = needs {
        return Err(AppError::Forbidden(format!(
            "{what} is for operators of this Concord installation"
        )));
    }
    if let Some(target) = on
        && target != org
    {
        return Err(AppError::Forbidden(format!(
            "{what}: {org} cannot change what is {target}'s; only {target} itself or an operator may"
        )));
    }
    match needs {
        Needs::AnyRole(any) if !any.iter().any(|r| roles.contains(*r)) => {
            let names: Vec<&str> = any.iter().map(|r| r.as_str()).collect();
            Err(AppError::Forbidden(format!(
                "{what} needs the {} role; {} has {}",
                names.join(" or "),
                p.describe(),
                roles_text(roles)
            )))
        }
        _ => Ok(()),
    }
}

pub struct Authorized<'a> {
    svc: &'a Services,
    principal: Principal,
}

impl Services {
    /// The use cases, as this principal may use them.
    pub fn as_principal(&self, principal: Principal) -> Authorized<'_> {
        Authorized {
            svc: self,
            principal,
        }
    }
}

impl Authorized<'_> {
    pub(crate) fn services(&self) -> &Services {
        self.svc
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    pub(crate) fn drafts(&self) -> DraftVisibility {
        match &self.principal {
            Principal::Operator { .. } => DraftVisibility::All,
            Principal::Organisation { org, .. } => DraftVisibility::OfIssuer(org.clone()),
            Principal::Anonymous => DraftVisibility::None,
        }
    }

    pub(crate) fn can_see(&self, rec: &Recommendation) -> bool {
        Services::visible_to(rec, self.principal.org(), self.principal.is_operator())
    }

    /// Asks the policy ([`permit`]) for this caller.
    pub fn permit(&self, action: Action, on: Option<&OrgCode>) -> AppResult<()> {
        permit(&self.principal, action, on)
    }

    /// Whether the policy lets this caller do it (what a page asks before
    /// offering a form).
    pub fn may(&self, action: Action, on: Option<&OrgCode>) -> bool {
        self.permit(action, on).is_ok()
    }

    /// The operator's handle, to an operator only.
    pub fn operator(&self) -> AppResult<Operator<'_>> {
        self.permit(Action::Operate, None)?;
        Ok(Operator {
            svc: self.svc,
            principal: &self.principal,
        })
    }
}

/// What only an operator may do. Holding one is the permission: it is
/// handed out by [`Authorized::operator`] to an operator alone, and the web
/// server never asks for one.
pub struct Operator<'a> {
    pub(crate) svc: &'a Services,
    pub(crate) principal: &'a Principal,
}

impl Operator<'_> {
    pub async fn add_organisation(&self, org: &Organisation) -> AppResult<bool> {
        self.svc
            .add_organisation(&self.principal.actor(), org)
            .await
    }

    /// Addressee names no organisation was recognised in, most frequent first.
    pub async fn unresolved_addressees(&self, limit: u32) -> AppResult<Vec<(String, u64)>> {
        self.svc.unresolved_addressees(limit).await
    }

    /// Confirms an organisation an import made (optionally renaming it and
    /// setting its kind).
    pub async fn confirm_organisation(
        &self,
        code: &OrgCode,
        name: Option<&str>,
        kind: Option<(
            concord_domain::OrgKind,
            Option<concord_domain::ProviderKind>,
        )>,
    ) -> AppResult<Organisation> {
        self.svc
            .confirm_organisation(&self.principal.actor(), code, name, kind)
            .await
    }

    /// Merges one organisation into another (reversible with
    /// [`Self::unmerge_organisation`]).
    pub async fn merge_organisations(
        &self,
        from: &OrgCode,
        into: &OrgCode,
    ) -> AppResult<concord_store::sql::MergeOutcome> {
        self.svc
            .merge_organisations(&self.principal.actor(), from, into)
            .await
    }

    pub async fn unmerge_organisation(
        &self,
        from: &OrgCode,
    ) -> AppResult<concord_store::sql::MergeOutcome> {
        self.svc
            .unmerge_organisation(&self.principal.actor(), from)
            .await
    }

    pub async fn backup(&self, out: &mut (dyn Write + Send)) -> AppResult<u64> {
        self.svc.backup(out).await
    }

    pub async fn restore(&self, input: &mut (dyn std::io::BufRead + Send)) -> AppResult<u64> {
        self.svc.restore(input).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(roles: &[Role]) -> Principal {
        Principal::Organisation {
            org: OrgCode::parse("HSSIB").unwrap(),
            label: "token:1:t".into(),
            roles: RoleSet::from_roles(roles.iter().copied()),
        }
    }

    /// Every action, asked by every kind of caller: the shape of the policy.
    #[test]
    fn every_action_by_every_caller() {
        let own = OrgCode::parse("HSSIB").unwrap();
        let other = OrgCode::parse("NHSE").unwrap();
        let operator = Principal::Operator {
            label: "cli".into(),
        };
        for &a in Action::ALL {
            assert!(matches!(
                permit(&Principal::Anonymous, a, Some(&own)),
                Err(AppError::Unauthenticated(_))
            ));
            assert!(permit(&operator, a, Some(&other)).is_ok(), "{a:?}");
            let all = org(Role::ALL);
            let none = org(&[]);
            match a.needs() {
                Needs::Operator => {
                    assert!(matches!(
                        permit(&all, a, Some(&own)),
                        Err(AppError::Forbidden(_))
                    ));
                }
                Needs::Nothing => assert!(permit(&none, a, Some(&own)).is_ok()),
                Needs::AnyRole(any) => {
                    assert!(permit(&all, a, Some(&own)).is_ok(), "{a:?}");
                    assert!(permit(&all, a, None).is_ok(), "{a:?}");
                    // Acting for another organisation: never, whatever the roles.
                    assert!(matches!(
                        permit(&all, a, Some(&other)),
                        Err(AppError::Forbidden(_))
                    ));
                    assert!(matches!(
                        permit(&none, a, Some(&own)),
                        Err(AppError::Forbidden(_))
                    ));
                    for &r in Role::ALL {
                        assert_eq!(
                            permit(&org(&[r]), a, Some(&own)).is_ok(),
                            any.contains(&r),
                            "{a:?} by {r}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn refusals_say_what_and_who() {
        let e = permit(&org(&[Role::Respondent]), Action::Publish, None).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("approver role") && m.contains("respondent"),
            "{m}"
        );
        let e = permit(
            &org(Role::ALL),
            Action::Draft,
            Some(&OrgCode::parse("CQC").unwrap()),
        );
        assert!(e.unwrap_err().to_string().contains("only CQC itself"));
    }
}
