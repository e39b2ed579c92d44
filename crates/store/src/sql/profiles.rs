//! Provider profiles: what each provider says it is (kind, settings,
//! region), one JSON document per organisation, audited.

use chrono::{DateTime, Utc};
use concord_domain::priority::ProviderProfile;
use concord_domain::{Actor, OrgCode};
use sqlx::Row;

use super::codec::{self, fmt_ts};
use super::{SqlStore, write_audit};
use crate::{Result, StoreError};

fn decode(org: &str, json: &str) -> Result<ProviderProfile> {
    serde_json::from_str(json)
        .map_err(|e| StoreError::Corrupt(format!("the provider profile of {org}: {e}")))
}

impl SqlStore {
    pub(crate) async fn get_profile(&self, org: &OrgCode) -> Result<Option<ProviderProfile>> {
        let row = sqlx::query("SELECT profile_json FROM provider_profiles WHERE org = $1")
            .bind(org.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| decode(org.as_str(), &r.try_get::<String, _>(0)?))
            .transpose()
    }

    pub(crate) async fn put_profile(
        &self,
        actor: &Actor,
        profile: &ProviderProfile,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let org = profile.org.as_str();
        let json = serde_json::to_string(profile)
            .map_err(|e| StoreError::Corrupt(format!("cannot write a profile: {e}")))?;
        let mut tx = self.begin_write().await?;
        let before: Option<String> =
            sqlx::query("SELECT profile_json FROM provider_profiles WHERE org = $1")
                .bind(org)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get::<String, _>(0))
                .transpose()?;
        sqlx::query(
            "INSERT INTO provider_profiles (org, kind, profile_json, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org) DO UPDATE SET kind = excluded.kind, profile_json = excluded.profile_json, \
             updated_at = excluded.updated_at",
        )
        .bind(org)
        .bind(profile.kind.as_str())
        .bind(json.clone())
        .bind(fmt_ts(now))
        .execute(&mut *tx)
        .await?;
        write_audit(
            &mut tx,
            codec::audit_vals(
                now,
                actor,
                "set_profile",
                "provider_profile",
                org,
                before,
                Some(json),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
