//! The register's own use cases: reading recommendations and their
//! history, drafting, editing and publishing them (with the quality gate),
//! and the quality check.

use chrono::Datelike;
use concord_domain::account::RoleSet;
use concord_domain::{
    Actor, AuditEvent, IdRequest, Lifecycle, NewRecommendation, OrgCode, Organisation,
    Recommendation, RecommendationData, RecommendationId,
};
use concord_store::{ListPage, Page, RecommendationFilter};
use serde_json::Value;

use crate::access::{Action, Authorized};
use crate::error::{AppError, AppResult};
use crate::input::{Fields, NewRecord, RecordEdit};
use crate::services::{NewToken, Services};

/// How many close recommendations the cross_reference criterion is shown.
const CROSS_REFERENCE_HITS: usize = 5;

/// The most drafts one request may check (each is compared with the whole
/// register); operators checking a file from the command line are not
/// bounded.
pub const MAX_CHECK_DRAFTS: usize = 50;

impl Authorized<'_> {
    /// One recommendation; drafts are invisible (not found) outside their issuer.
    pub async fn recommendation(&self, id: &RecommendationId) -> AppResult<Recommendation> {
        match self.services().get(id).await? {
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
        self.services().list(&filter, page).await
    }

    pub async fn count(&self) -> AppResult<u64> {
        self.services().count().await
    }

    /// A record's audit trail as this caller may read it: operators see it
    /// as stored; the issuer sees its drafting too; anyone else sees it from
    /// publication on (what a draft said before it was published is the
    /// issuer's). Actors are named as the pages name them, never by a
    /// token's label (an administrator's note).
    pub async fn history(&self, id: &RecommendationId) -> AppResult<Vec<AuditEvent>> {
        let rec = self.recommendation(id).await?;
        let events = self.services().history(id).await?;
        if self.principal().is_operator() {
            return Ok(events);
        }
        let issuer = self.principal().org() == Some(&rec.data.issuer);
        Ok(crate::principal::public_history(events, issuer))
    }

    pub async fn organisations(&self) -> AppResult<Vec<Organisation>> {
        self.services().organisations().await
    }

    pub async fn organisation(&self, code: &OrgCode) -> AppResult<Organisation> {
        self.services()
            .organisation(code)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("organisation {code} was not found")))
    }

    /// An override of the publishing gate is for operators only; its
    /// reason is recorded in the audit trail.
    fn may_override(&self, override_gate: &Option<String>) -> AppResult<()> {
        if override_gate.is_some() {
            self.permit(Action::OverrideGate, None)?;
        }
        Ok(())
    }

    /// Checks drafts against the quality criteria: `ruleset` if given, else
    /// each draft's issuer's own set, else the default. Anyone may check:
    /// it reads and writes nothing.
    pub async fn check(
        &self,
        body: &Value,
        ruleset: Option<&concord_domain::quality::Ruleset>,
    ) -> AppResult<Vec<concord_domain::quality::QualityReport>> {
        self.check_draft_of(body, ruleset, None).await
    }

    /// [`Self::check`] of a draft already saved as `saved`: the record is
    /// left out of what the draft is compared with (it would only find
    /// itself).
    pub async fn check_draft_of(
        &self,
        body: &Value,
        ruleset: Option<&concord_domain::quality::Ruleset>,
        saved: Option<&RecommendationId>,
    ) -> AppResult<Vec<concord_domain::quality::QualityReport>> {
        let saved = saved.map(|id| id.to_string());
        // cross_reference: what the similarity engine finds close to each
        // draft (only what this caller may see).
        if !self.principal().is_operator()
            && let Some(many) = body.as_array()
            && many.len() > MAX_CHECK_DRAFTS
        {
            return Err(AppError::invalid_field(
                "(drafts)",
                format!(
                    "{} drafts in one request; at most {MAX_CHECK_DRAFTS} are checked at once",
                    many.len()
                ),
            ));
        }
        let drafts = concord_domain::quality::Draft::many_from_json(body)
            .map_err(|e| AppError::invalid_fields(vec![e]))?;
        let mut similar = Vec::with_capacity(drafts.len());
        for d in &drafts {
            let hits = match self.similar_to_text(&d.text, CROSS_REFERENCE_HITS).await {
                Ok(found) => found
                    .into_iter()
                    .filter(|m| saved.as_deref() != Some(m.id.as_str()))
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
        self.services().check(body, ruleset, Some(&similar)).await
    }

    /// The criteria set that applies to an organisation, and where it came from.
    pub async fn criteria(
        &self,
        org: &OrgCode,
    ) -> AppResult<(concord_domain::quality::Ruleset, crate::RulesetSource)> {
        self.organisation(org).await?;
        self.services().ruleset_for(Some(org)).await
    }

    /// Loads (Some) or removes (None) an organisation's own criteria set:
    /// an operator, or the organisation itself.
    pub async fn set_criteria(&self, org: &OrgCode, text: Option<&str>) -> AppResult<()> {
        self.permit(Action::SetCriteria, Some(org))?;
        if let Some(t) = text {
            crate::quality::parse_ruleset(t, "criteria file")?;
        }
        self.services()
            .set_criteria(&self.principal().actor(), org, text)
            .await
    }

    /// Creates a draft for the caller's own organisation (published at once
    /// when its `status` says so, by an approver).
    pub async fn create_draft(&self, new: NewRecord) -> AppResult<Recommendation> {
        let NewRecord {
            mut fields,
            override_gate,
        } = new;
        self.permit(Action::Draft, None)?;
        if fields
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().eq_ignore_ascii_case("draft"))
        {
            self.permit(Action::Publish, None)?;
        }
        self.may_override(&override_gate)?;
        let own = self.principal().org().cloned();
        // An organisation issues only its own (an issuer that is not a
        // code at all is for validation to name).
        if let Some(given) = fields.get("issuer").and_then(Value::as_str)
            && let Ok(issuer) = OrgCode::parse(given.trim())
        {
            self.permit(Action::Draft, Some(&issuer))?;
        }
        if own.is_none() && !fields.contains_key("issuer") {
            return Err(AppError::invalid_field("issuer", "is required"));
        }
        // Nobody creates a link another body decided.
        self.links_from_body(&[], &mut fields);
        self.services()
            .create(
                &self.principal().actor(),
                fields,
                own.as_ref(),
                override_gate.as_deref(),
            )
            .await
            .inspect(|_| self.services().search_changed())
    }

    /// Edits a recommendation: the fields given replace the version the
    /// caller last saw.
    pub async fn edit(&self, id: &RecommendationId, edit: RecordEdit) -> AppResult<Recommendation> {
        self.edit_with(id, edit, true).await
    }

    /// `check_roles`: false when another use case has already decided who
    /// may make this change (links are decided by oversight or assessors).
    pub(crate) async fn edit_with(
        &self,
        id: &RecommendationId,
        edit: RecordEdit,
        check_roles: bool,
    ) -> AppResult<Recommendation> {
        let RecordEdit {
            version,
            mut fields,
            override_gate,
        } = edit;
        self.permit(Action::Change, None)?;
        if check_roles {
            // Content needs an author; a change of status (publishing,
            // withdrawing, with the date of publication) needs an approver.
            // An edit that asks for nothing is still a change of the record
            // (its version moves on): it needs an author too.
            if fields.is_empty()
                || fields
                    .keys()
                    .any(|k| !matches!(k.as_str(), "status" | "published"))
            {
                self.permit(Action::Edit, None)?;
            }
            if fields.contains_key("status") || fields.contains_key("published") {
                self.permit(Action::Publish, None)?;
            }
        }
        self.may_override(&override_gate)?;
        let current = self.recommendation(id).await?;
        self.permit(Action::Change, Some(&current.data.issuer))?;
        if check_roles {
            self.links_from_body(&current.data.links, &mut fields);
        }
        self.services()
            .patch(
                &self.principal().actor(),
                current,
                version,
                fields,
                override_gate.as_deref(),
            )
            .await
            .inspect(|_| self.services().search_changed())
    }

    /// A token with every role but administrator.
    pub async fn create_token(&self, org: &OrgCode, label: &str) -> AppResult<NewToken> {
        self.create_token_with_roles(org, label, RoleSet::token_default())
            .await
    }
}

/// Fields of a recommendation that an edit may not change.
const FIXED_FIELDS: &[&str] = &[
    "id",
    "issuer",
    "version",
    "created_at",
    "updated_at",
    "import_key",
];

impl Services {
    /// Creates a record from a JSON body. Missing `kind` means a
    /// recommendation; missing `status` means a draft; missing `issuer` means
    /// `default_issuer`. The id is allocated in the issuer's sequence for the
    /// year of publication (or this year, for a draft without a date).
    pub(crate) async fn create(
        &self,
        actor: &Actor,
        mut fields: Fields,
        default_issuer: Option<&OrgCode>,
        override_gate: Option<&str>,
    ) -> AppResult<Recommendation> {
        let obj = &mut fields;
        for fixed in ["id", "version", "created_at", "updated_at", "import_key"] {
            if obj.contains_key(fixed) {
                return Err(AppError::invalid_field(
                    fixed,
                    "is set by Concord and cannot be given",
                ));
            }
        }
        obj.entry("kind")
            .or_insert_with(|| Value::from("recommendation"));
        obj.entry("status").or_insert_with(|| Value::from("draft"));
        if let Some(code) = default_issuer {
            obj.entry("issuer")
                .or_insert_with(|| Value::from(code.as_str()));
        }
        let mut data = data_from_json(Value::Object(fields))?.validate()?;
        crate::lifecycle::fresh_addressees(&data)?;
        crate::links::add_mentioned(None, &mut data);
        if self.store.organisation(&data.issuer).await?.is_none() {
            return Err(AppError::invalid_field(
                "issuer",
                format!("{} is not a registered organisation", data.issuer),
            ));
        }
        let year = data
            .published
            .map(|d| d.year())
            .unwrap_or_else(|| self.clock.today().year());
        let year = u16::try_from(year).map_err(|_| {
            AppError::invalid_field("published", format!("year {year} is out of range"))
        })?;
        let new = NewRecommendation {
            provenance: Default::default(),
            id: IdRequest::Allocate {
                issuer: data.issuer.clone(),
                year,
                floor: 1,
            },
            data,
            import_key: None,
            version: None,
            created_at: None,
            updated_at: None,
        };
        let actor = self
            .enforce_gate(actor, &new.data, false, override_gate)
            .await?;
        // A published record always has a date of publication (today, when
        // the author gave none) and a deadline (the issuer's period), filled
        // after the quality gate has judged what the author wrote.
        let mut new = new;
        concord_domain::lifecycle::settle_publication(&mut new.data, true, self.clock.today());
        concord_domain::lifecycle::settle_deadline(&mut new.data, &self.rules_book().await?);
        Ok(self.store.create(&actor, new, self.clock.now()).await?)
    }

    /// Applies a JSON merge of the given fields onto the current record, if
    /// `version` is still the current version.
    pub(crate) async fn patch(
        &self,
        actor: &Actor,
        current: Recommendation,
        expected_version: i64,
        patch: serde_json::Map<String, Value>,
        override_gate: Option<&str>,
    ) -> AppResult<Recommendation> {
        let mut value =
            serde_json::to_value(&current.data).map_err(|e| AppError::Internal(e.to_string()))?;
        let obj = value
            .as_object_mut()
            .ok_or_else(|| AppError::Internal("record is not an object".into()))?;
        for (k, v) in patch {
            if FIXED_FIELDS.contains(&k.as_str()) {
                return Err(AppError::invalid_field(k, "cannot be changed"));
            }
            if !obj.contains_key(&k) {
                return Err(AppError::invalid_field(
                    k,
                    "is not a field of a recommendation",
                ));
            }
            obj.insert(k, v);
        }
        let mut data = data_from_json(value)?;
        crate::lifecycle::keep_lifecycle(&current.data, &mut data)?;
        crate::links::add_mentioned(Some(&current.id), &mut data);
        let was_published = current.data.status == Lifecycle::Published;
        let actor = self
            .enforce_gate(actor, &data, was_published, override_gate)
            .await?;
        concord_domain::lifecycle::settle_publication(
            &mut data,
            current.data.status == Lifecycle::Draft,
            self.clock.today(),
        );
        concord_domain::lifecycle::settle_deadline(&mut data, &self.rules_book().await?);
        Ok(self
            .store
            .update(
                &actor,
                &current.id,
                expected_version,
                data,
                self.clock.now(),
            )
            .await?)
    }
}

/// Turns a JSON object into record data, naming the field serde stumbled on.
fn data_from_json(value: Value) -> AppResult<RecommendationData> {
    serde_json::from_value::<RecommendationData>(value)
        .map_err(|e| AppError::invalid(e.to_string()))
}
