//! Endorsements: instead of publishing a repeat, a body stands behind
//! another's recommendation. It speaks for the organisation, so it needs the
//! approver role (as publishing does); a body does not endorse its own
//! recommendations, and only published ones can be endorsed.

use concord_domain::{Endorsement, Lifecycle, OrgCode, Recommendation, RecommendationId};

use crate::access::Authorized;
use crate::error::{AppError, AppResult};

/// The longest note an endorsement takes.
pub const MAX_ENDORSEMENT_NOTE: usize = 10_000;

impl Authorized<'_> {
    /// Who stands behind a recommendation, oldest first (anyone may ask
    /// about what they may see).
    pub async fn endorsements(&self, id: &RecommendationId) -> AppResult<Vec<Endorsement>> {
        let rec = self.recommendation(id).await?;
        self.endorsements_of(&rec).await
    }

    /// [`Self::endorsements`] of a record already read (a page that has it
    /// does not read it again).
    pub async fn endorsements_of(&self, rec: &Recommendation) -> AppResult<Vec<Endorsement>> {
        if !self.can_see(rec) {
            return Err(AppError::NotFound(format!(
                "recommendation {} was not found",
                rec.id
            )));
        }
        Ok(self.services().store().endorsements(&rec.id).await?)
    }

    /// The caller's organisation and its approver role, or the refusal.
    fn endorsing_org(&self, what: &str) -> AppResult<OrgCode> {
        self.permit(crate::access::Action::Endorse, None)?;
        self.principal().org().cloned().ok_or_else(|| {
            AppError::Forbidden(format!(
                "{what} is done for an organisation: act as one (a token, or --as ORG)"
            ))
        })
    }

    /// Whether the caller may endorse this recommendation, and for which
    /// organisation: what a page asks before offering the form; [`Self::endorse`]
    /// asks it again.
    pub fn may_endorse(&self, rec: &Recommendation) -> AppResult<OrgCode> {
        let org = self.endorsing_org("endorsing a recommendation")?;
        let id = &rec.id;
        if rec.data.issuer == org {
            return Err(AppError::Refused(format!(
                "{org} issued {id}; a body endorses other bodies' recommendations"
            )));
        }
        if rec.data.status != Lifecycle::Published {
            return Err(AppError::Refused(format!(
                "{id} is {}; only a published recommendation can be endorsed",
                rec.data.status.as_str()
            )));
        }
        Ok(org)
    }

    /// The caller's organisation endorses a published recommendation of
    /// another body.
    pub async fn endorse(
        &self,
        id: &RecommendationId,
        note: Option<&str>,
    ) -> AppResult<Endorsement> {
        self.endorsing_org("endorsing a recommendation")?;
        let rec = self.recommendation(id).await?;
        let org = self.may_endorse(&rec)?;
        let note = note.map(str::trim).filter(|n| !n.is_empty());
        if let Some(n) = note {
            if n.chars().count() > MAX_ENDORSEMENT_NOTE {
                return Err(AppError::invalid_field(
                    "note",
                    format!("is longer than {MAX_ENDORSEMENT_NOTE} characters"),
                ));
            }
            if n.contains('\0') {
                return Err(AppError::invalid_field("note", "contains a NUL character"));
            }
        }
        let svc = self.services();
        let added = svc
            .store()
            .endorse(&self.principal().actor(), id, &org, note, svc.clock().now())
            .await?;
        if !added {
            return Err(AppError::Duplicate(format!("{org} already endorses {id}")));
        }
        svc.store()
            .endorsements(id)
            .await?
            .into_iter()
            .find(|e| e.org == org)
            .ok_or_else(|| {
                AppError::Internal(format!("the endorsement of {id} by {org} was not kept"))
            })
    }

    /// The caller's organisation withdraws its endorsement.
    pub async fn withdraw_endorsement(&self, id: &RecommendationId) -> AppResult<()> {
        let org = self.endorsing_org("withdrawing an endorsement")?;
        self.recommendation(id).await?;
        let svc = self.services();
        if svc
            .store()
            .withdraw_endorsement(&self.principal().actor(), id, &org, svc.clock().now())
            .await?
        {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("{org} does not endorse {id}")))
        }
    }
}
