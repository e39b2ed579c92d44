//! The filters `concord list` and `concord search` share: the same flags,
//! read into a `RecommendationFilter` one way.

use clap::Args;
use concord_app::RecommendationFilter;
use concord_domain::{Lifecycle, OrgCode, RecKind};

#[derive(Args)]
pub struct FilterArgs {
    #[arg(long)]
    pub issuer: Option<String>,
    #[arg(long)]
    pub addressee: Option<String>,
    #[arg(long)]
    pub theme: Option<String>,
    #[arg(long)]
    pub setting: Option<String>,
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub kind: Option<String>,
    /// Published on or after (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Published on or before (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
}

impl FilterArgs {
    /// The filter, each flag checked and named in its error; blank flags are
    /// no filter.
    pub fn filter(&self) -> anyhow::Result<RecommendationFilter> {
        let date = |field: &str, v: &Option<String>| -> anyhow::Result<Option<chrono::NaiveDate>> {
            v.as_deref()
                .map(|s| {
                    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
                        .map_err(|_| anyhow::anyhow!("--{field}: {s:?} is not a date (YYYY-MM-DD)"))
                })
                .transpose()
        };
        let nonblank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let f = RecommendationFilter {
            issuer: nonblank(&self.issuer)
                .map(|s| OrgCode::parse(&s))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--issuer: {e}"))?,
            addressee: nonblank(&self.addressee),
            theme: nonblank(&self.theme),
            setting: nonblank(&self.setting),
            status: nonblank(&self.status)
                .map(|s| s.parse::<Lifecycle>())
                .transpose()
                .map_err(|e| anyhow::anyhow!("--status: {e}"))?,
            kind: nonblank(&self.kind)
                .map(|s| s.parse::<RecKind>())
                .transpose()
                .map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
            ..Default::default()
        };
        if let (Some(from), Some(to)) = (f.from, f.to)
            && from > to
        {
            anyhow::bail!("--from: {from} is after --to ({to})");
        }
        Ok(f)
    }
}
