//! `concord list`: recommendations, filtered, a page at a time.

use std::io::Write;

use clap::Args;
use concord_app::Page;

use crate::commands::{Context, operator, show};

/// Filters and paging.
#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filters: crate::commands::filter::FilterArgs,
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
    let filter = a.filters.filter()?;
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
