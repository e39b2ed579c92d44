//! `concord contradictions` and `concord related`: what the similarity
//! engine suspects, combined with the links people decided (dismissed pairs
//! never shown), through the same use cases as the API.

use std::io::Write;

use concord_app::{Principal, RelatedItem, Services};
use concord_domain::RecommendationId;

/// `concord contradictions [--json]`: every suspected contradiction.
pub async fn contradictions(svc: &Services, who: &Principal, json: bool) -> anyhow::Result<()> {
    let pairs = svc.as_principal(who.clone()).contradictions().await?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "pairs": pairs }))?;
        writeln!(out)?;
    } else if pairs.is_empty() {
        writeln!(out, "no suspected contradiction found")?;
    } else {
        for p in &pairs {
            let score = p
                .score
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "{score} {} {} {} {}",
                p.ids[0],
                p.ids[1],
                p.state.as_str(),
                p.reason
            )?;
        }
    }
    Ok(())
}

/// `concord related ID [--json]`: "also said by", "contradicted by" and
/// related recommendations of one record.
pub async fn related(svc: &Services, who: &Principal, id: &str, json: bool) -> anyhow::Result<()> {
    let id = RecommendationId::parse(id).map_err(|e| anyhow::anyhow!("ID: {e}"))?;
    let view = svc.as_principal(who.clone()).related(&id).await?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &view)?;
        writeln!(out)?;
        return Ok(());
    }
    let section = |out: &mut dyn Write, name: &str, list: &[RelatedItem]| -> std::io::Result<()> {
        if list.is_empty() {
            return Ok(());
        }
        writeln!(out, "{name}:")?;
        for i in list {
            let score = i
                .score
                .map(|s| format!("{s:.2}"))
                .unwrap_or_else(|| "-".into());
            writeln!(
                out,
                "  {:<18} {:<9} {score} {} ({}) {}",
                i.id,
                i.issuer,
                i.kind.as_str(),
                i.state.as_str(),
                i.reason
            )?;
        }
        Ok(())
    };
    if view.also_said_by.is_empty() && view.contradicted_by.is_empty() && view.related.is_empty() {
        writeln!(out, "nothing related to {} found", view.id)?;
    }
    section(&mut out, "also said by", &view.also_said_by)?;
    section(&mut out, "contradicted by", &view.contradicted_by)?;
    section(&mut out, "related", &view.related)?;
    Ok(())
}

/// `concord contradictions`.
#[derive(clap::Args)]
pub struct ContradictionsArgs {
    #[arg(long)]
    pub json: bool,
}

/// `concord related`.
#[derive(clap::Args)]
pub struct RelatedArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

pub async fn run_contradictions(
    ctx: &crate::commands::Context,
    args: ContradictionsArgs,
) -> anyhow::Result<()> {
    contradictions(&ctx.open().await?, &crate::commands::operator(), args.json).await
}

pub async fn run_related(ctx: &crate::commands::Context, args: RelatedArgs) -> anyhow::Result<()> {
    related(
        &ctx.open().await?,
        &crate::commands::operator(),
        &args.id,
        args.json,
    )
    .await
}
