//! `concord list`: recommendations, filtered, a page at a time.

use std::io::Write;

use clap::Args;
use concord_app::{Page, RecommendationFilter};
use concord_domain::{Lifecycle, OrgCode, RecKind};

use crate::commands::{Context, operator, show};

/// Filters and paging.
#[derive(Args)]
pub struct ListArgs {
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
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &Context, args: ListArgs) -> anyhow::Result<()> {
    list(&ctx.db, args).await
}

async fn list(db: &str, a: ListArgs) -> anyhow::Result<()> {
    let parse_date =
        |field: &str, v: &Option<String>| -> anyhow::Result<Option<chrono::NaiveDate>> {
            v.as_deref()
                .map(|s| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map_err(|_| anyhow::anyhow!("--{field}: {s:?} is not a date (YYYY-MM-DD)"))
                })
                .transpose()
        };
    let filter = RecommendationFilter {
        issuer: a
            .issuer
            .as_deref()
            .map(OrgCode::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--issuer: {e}"))?,
        addressee: a.addressee,
        theme: a.theme,
        setting: a.setting,
        status: a
            .status
            .as_deref()
            .map(str::parse::<Lifecycle>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--status: {e}"))?,
        kind: a
            .kind
            .as_deref()
            .map(str::parse::<RecKind>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
        from: parse_date("from", &a.from)?,
        to: parse_date("to", &a.to)?,
        ..Default::default()
    };
    let services = crate::commands::open(db).await?;
    let page = services
        .as_principal(operator())
        .recommendations(
            filter,
            Page {
                offset: a.offset,
                limit: a.limit.clamp(1, 10_000),
            },
        )
        .await?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"total": page.total, "items": page.items}),
        )?;
        writeln!(out)?;
    } else {
        for r in &page.items {
            show::write_line(&mut out, r)?;
        }
        writeln!(out, "{} of {} shown", page.items.len(), page.total)?;
    }
    Ok(())
}
