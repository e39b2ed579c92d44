//! `concord criteria`: each issuing body's own quality criteria set.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use concord_domain::OrgCode;

use crate::commands::{Context, operator};

#[derive(Subcommand)]
pub enum CriteriaCommand {
    /// Load an organisation's own criteria set from a JSON file (checked first).
    Set {
        #[arg(long)]
        org: String,
        file: PathBuf,
    },
    /// Show the criteria set that applies to an organisation.
    Show {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// Go back to Concord's default set for an organisation.
    Clear {
        #[arg(long)]
        org: String,
    },
}

pub async fn run(ctx: &Context, cmd: CriteriaCommand) -> anyhow::Result<()> {
    criteria(&ctx.db, cmd).await
}

async fn criteria(db: &str, cmd: CriteriaCommand) -> anyhow::Result<()> {
    let services = crate::commands::open(db).await?;
    let ops = services.as_principal(operator());
    let code = |s: &str| OrgCode::parse(s).map_err(|e| anyhow::anyhow!("--org: {e}"));
    match cmd {
        CriteriaCommand::Set { org, file } => {
            let org = code(&org)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("{}: cannot read", file.display()))?;
            let rules = concord_app::parse_ruleset(&text, &file.display().to_string())?;
            ops.set_criteria(&org, Some(&text)).await?;
            println!(
                "{org} now uses the criteria set {:?} ({} criteria)",
                rules.name,
                rules.criteria.len()
            );
        }
        CriteriaCommand::Show { org, json } => {
            let org = code(&org)?;
            let (rules, source) = ops.criteria(&org).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rules)?);
            } else {
                let from = match source {
                    concord_app::RulesetSource::Issuer(_) => "its own",
                    _ => "Concord's default",
                };
                println!("{org}: {from} criteria set {:?}", rules.name);
                for c in &rules.criteria {
                    println!(
                        "  {:16} weight {:<4} check {:16} {}",
                        c.name,
                        c.weight,
                        c.check.as_str(),
                        c.description
                    );
                }
                match (rules.gate.min_score, rules.gate.no_fail.is_empty()) {
                    (None, true) => println!("  publishing gate: none"),
                    (min, _) => println!(
                        "  publishing gate: minimum score {}; must not fail: {}",
                        min.map(|m| m.to_string()).unwrap_or_else(|| "none".into()),
                        if rules.gate.no_fail.is_empty() {
                            "none".to_string()
                        } else {
                            rules.gate.no_fail.join(", ")
                        }
                    ),
                }
            }
        }
        CriteriaCommand::Clear { org } => {
            let org = code(&org)?;
            ops.set_criteria(&org, None).await?;
            println!("{org} now uses Concord's default criteria set");
        }
    }
    Ok(())
}
