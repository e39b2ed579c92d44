//! Access control, wrapped around the services (after lldap's
//! access-control layer): the caller gets an [`Authorized`] for its
//! principal, and each use case checks the principal's rights before it
//! reaches the store. Handlers never check permissions themselves.

use std::io::Write;
use std::path::PathBuf;

use concord_domain::account::{Role, RoleSet};
use concord_domain::{AuditEvent, OrgCode, Organisation, Recommendation, RecommendationId};
use concord_store::{DraftVisibility, ListPage, Page, RecommendationFilter};
use serde_json::Value;

use crate::error::{AppError, AppResult};
use crate::principal::Principal;
use crate::services::{ExportFormat, ImportOptions, ImportReport, NewToken, Services};

/// How many close recommendations the cross_reference criterion is shown.
const CROSS_REFERENCE_HITS: usize = 5;

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

    pub(crate) fn require_operator(&self, what: &str) -> AppResult<()> {
        match &self.principal {
            Principal::Operator { .. } => Ok(()),
            Principal::Anonymous => Err(AppError::Unauthenticated(format!(
                "{what} needs you to sign in"
            ))),
            Principal::Organisation { .. } => Err(AppError::Forbidden(format!(
                "{what} is for operators of this Concord installation"
            ))),
        }
    }

    /// Writes need someone: an operator, or an organisation acting for itself.
    pub(crate) fn require_writer(&self) -> AppResult<()> {
        match &self.principal {
            Principal::Anonymous => Err(AppError::Unauthenticated(
                "changes need an API token (Authorization: Bearer TOKEN)".into(),
            )),
            _ => Ok(()),
        }
    }

    /// An organisation edits only what it issued.
    pub(crate) fn require_issuer(&self, issuer: &OrgCode) -> AppResult<()> {
        self.require_writer()?;
        match &self.principal {
            Principal::Organisation { org, .. } if org != issuer => Err(AppError::Forbidden(
                format!("{org} cannot change recommendations issued by {issuer}"),
            )),
            _ => Ok(()),
        }
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

    /// One recommendation; drafts are invisible (not found) outside their issuer.
    pub async fn recommendation(&self, id: &RecommendationId) -> AppResult<Recommendation> {
        match self.svc.get(id).await? {
            Some(rec) if self.can_see(&rec) => Ok(rec),
            _ => Err(AppError::NotFound(format!(
                "recommendation {id} was not found"
            ))),
        }
    }

    pub async fn recommendations(
        &self,
        mut filter: RecommendationFilter,
        page: Page,
    ) -> AppResult<ListPage> {
        filter.drafts = self.drafts();
        self.svc.list(&filter, page).await
    }

    pub async fn count(&self) -> AppResult<u64> {
        self.svc.count().await
    }

    pub async fn history(&self, id: &RecommendationId) -> AppResult<Vec<AuditEvent>> {
        self.recommendation(id).await?;
        self.svc.history(id).await
    }

    pub async fn organisations(&self) -> AppResult<Vec<Organisation>> {
        self.svc.organisations().await
    }

    pub async fn organisation(&self, code: &OrgCode) -> AppResult<Organisation> {
        self.svc
            .organisation(code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("organisation {code} was not found")))
    }

    pub async fn add_organisation(&self, org: &Organisation) -> AppResult<bool> {
        self.require_operator("adding an organisation")?;
        self.svc
            .add_organisation(&self.principal.actor(), org)
            .await
    }

    /// Addressee names no organisation was recognised in, most frequent first.
    pub async fn unresolved_addressees(&self, limit: u32) -> AppResult<Vec<(String, u64)>> {
        self.require_operator("listing unresolved addressees")?;
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
        self.require_operator("confirming an organisation")?;
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
        self.require_operator("merging organisations")?;
        self.svc
            .merge_organisations(&self.principal.actor(), from, into)
            .await
    }

    pub async fn unmerge_organisation(
        &self,
        from: &OrgCode,
    ) -> AppResult<concord_store::sql::MergeOutcome> {
        self.require_operator("undoing a merge of organisations")?;
        self.svc
            .unmerge_organisation(&self.principal.actor(), from)
            .await
    }

    /// Takes `override_gate` (a reason) out of a body. Overriding the
    /// publishing gate is for operators only (the full roles model comes
    /// later); the reason is recorded in the audit trail.
    fn take_override(&self, body: &mut Value) -> AppResult<Option<String>> {
        let Some(obj) = body.as_object_mut() else {
            return Ok(None);
        };
        match obj.remove("override_gate") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.trim().is_empty() => {
                self.require_operator("overriding the publishing gate")?;
                Ok(Some(s))
            }
            Some(_) => Err(AppError::Invalid(
                "field override_gate: must be the reason for publishing despite the gate, as text"
                    .into(),
            )),
        }
    }

    /// Checks drafts against the quality criteria: `ruleset` if given, else
    /// each draft's issuer's own set, else the default. Anyone may check:
    /// it reads and writes nothing.
    pub async fn check(
        &self,
        body: &Value,
        ruleset: Option<&concord_domain::quality::Ruleset>,
    ) -> AppResult<Vec<concord_domain::quality::QualityReport>> {
        // cross_reference: what the similarity engine finds close to each
        // draft (only what this caller may see).
        let drafts = concord_domain::quality::Draft::many_from_json(body)
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        let mut similar = Vec::with_capacity(drafts.len());
        for d in &drafts {
            let hits = match self.similar_to_text(&d.text, CROSS_REFERENCE_HITS).await {
                Ok(found) => found
                    .into_iter()
                    .map(|m| concord_domain::quality::SimilarHit {
                        id: m.id,
                        score: m.score,
                        relation: Some(m.relation.to_string()),
                    })
                    .collect(),
                // A text the engine cannot compare (another script, no words)
                // has no hits; the other criteria still judge it.
                Err(AppError::Invalid(_)) => Vec::new(),
                Err(e) => return Err(e),
            };
            similar.push(hits);
        }
        self.svc.check(body, ruleset, Some(&similar)).await
    }

    /// The criteria set that applies to an organisation, and where it came from.
    pub async fn criteria(
        &self,
        org: &OrgCode,
    ) -> AppResult<(concord_domain::quality::Ruleset, crate::RulesetSource)> {
        self.organisation(org).await?;
        self.svc.ruleset_for(Some(org)).await
    }

    /// Loads (Some) or removes (None) an organisation's own criteria set:
    /// an operator, or the organisation itself.
    pub async fn set_criteria(&self, org: &OrgCode, text: Option<&str>) -> AppResult<()> {
        self.require_issuer(org)?;
        self.require_role(Role::Approver, "setting the publishing gate's criteria")?;
        if let Some(t) = text {
            crate::quality::parse_ruleset(t, "criteria file")?;
        }
        self.svc
            .set_criteria(&self.principal.actor(), org, text)
            .await
    }

    /// Creates a draft for the caller's own organisation.
    pub async fn create_draft(&self, mut body: Value) -> AppResult<Recommendation> {
        self.require_role(Role::Author, "drafting a recommendation")?;
        if body
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().eq_ignore_ascii_case("draft"))
        {
            self.require_role(Role::Approver, "publishing a recommendation")?;
        }
        let override_gate = self.take_override(&mut body)?;
        let own = self.principal.org().cloned();
        if let (Some(own), Some(given)) = (&own, body.get("issuer").and_then(Value::as_str))
            && !own.as_str().eq_ignore_ascii_case(given.trim())
        {
            return Err(AppError::Forbidden(format!(
                "{own} cannot issue recommendations as {given}"
            )));
        }
        if own.is_none() && body.get("issuer").is_none() {
            return Err(AppError::Invalid("field issuer: is required".into()));
        }
        self.svc
            .create(
                &self.principal.actor(),
                body,
                own.as_ref(),
                override_gate.as_deref(),
            )
            .await
            .inspect(|_| self.svc.search_changed())
    }

    /// Edits a recommendation: the body holds `version` (the version the
    /// caller last saw) and the fields to change.
    pub async fn edit(&self, id: &RecommendationId, body: Value) -> AppResult<Recommendation> {
        self.edit_with(id, body, true).await
    }

    /// `check_roles`: false when another use case has already decided who
    /// may make this change (links are decided by oversight or assessors).
    pub(crate) async fn edit_with(
        &self,
        id: &RecommendationId,
        mut body: Value,
        check_roles: bool,
    ) -> AppResult<Recommendation> {
        self.require_writer()?;
        if check_roles && let Some(fields) = body.as_object() {
            // Content needs an author; a change of status (publishing,
            // withdrawing, with the date of publication) needs an approver.
            if fields.keys().any(|k| {
                !matches!(
                    k.as_str(),
                    "version" | "status" | "published" | "override_gate"
                )
            }) {
                self.require_role(Role::Author, "editing a recommendation")?;
            }
            if fields.contains_key("status") {
                self.require_role(Role::Approver, "changing a recommendation's status")?;
            }
        }
        let override_gate = self.take_override(&mut body)?;
        let Value::Object(mut fields) = body else {
            return Err(AppError::BadInput("the body must be a JSON object".into()));
        };
        let version = match fields.remove("version") {
            Some(Value::Number(n)) if n.as_i64().is_some() => n.as_i64().unwrap_or_default(),
            Some(_) => {
                return Err(AppError::Invalid(
                    "field version: must be a whole number".into(),
                ));
            }
            None => {
                return Err(AppError::Invalid(
                    "field version: is required (the version you are editing, for safe concurrent edits)".into(),
                ));
            }
        };
        let current = self.recommendation(id).await?;
        self.require_issuer(&current.data.issuer)?;
        self.svc
            .patch(
                &self.principal.actor(),
                current,
                version,
                fields,
                override_gate.as_deref(),
            )
            .await
            .inspect(|_| self.svc.search_changed())
    }

    pub async fn import(
        &self,
        files: &[PathBuf],
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> AppResult<ImportReport> {
        self.require_operator("importing files")?;
        self.svc
            .import(&self.principal.actor(), files, opts, progress)
            .await
            .inspect(|_| self.svc.search_changed())
    }

    pub async fn export(
        &self,
        format: ExportFormat,
        out: &mut (dyn Write + Send),
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> AppResult<u64> {
        self.require_operator("a full export")?;
        self.svc.export(format, out, progress).await
    }

    /// A token with every role but administrator.
    pub async fn create_token(&self, org: &OrgCode, label: &str) -> AppResult<NewToken> {
        self.create_token_with_roles(org, label, RoleSet::token_default())
            .await
    }

    pub async fn backup(&self, out: &mut (dyn Write + Send)) -> AppResult<u64> {
        self.require_operator("a backup")?;
        self.svc.backup(out).await
    }

    pub async fn restore(&self, input: &mut (dyn std::io::BufRead + Send)) -> AppResult<u64> {
        self.require_operator("a restore")?;
        self.svc.restore(input).await
    }

    pub async fn load_demo(&self) -> AppResult<ImportReport> {
        self.require_operator("loading the demo data")?;
        self.svc.load_demo(&self.principal.actor()).await
    }
}
