//! `concord priorities --org CODE` and `concord profile set|show`: a
//! provider's ranked, de-duplicated list, through the same use case as
//! `GET /api/v1/organisations/{code}/priorities`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use concord_app::{Principal, Services};
use concord_domain::OrgCode;
use concord_domain::organisation::ProviderKind;
use concord_domain::priority::ProviderProfile;

#[derive(Clone, Copy, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Csv,
    /// A spreadsheet (needs --out).
    Xlsx,
}

#[derive(Subcommand)]
pub enum ProfileCommand {
    /// Say what a provider is: its kind, the settings it runs, its region.
    Set {
        org: String,
        /// acute_trust, mental_health_trust, ambulance_service, community_trust,
        /// care_home, gp_practice, hospice, independent_provider.
        #[arg(long)]
        kind: String,
        /// A care setting it runs (repeatable); default: its kind's usual settings.
        #[arg(long = "setting")]
        settings: Vec<String>,
        #[arg(long)]
        region: Option<String>,
        /// Act as this organisation instead of as the operator.
        #[arg(long = "as", value_name = "ORG")]
        as_org: Option<String>,
    },
    /// Show a provider's profile (as set, or made from its kind).
    Show {
        org: String,
        #[arg(long)]
        json: bool,
    },
}

fn code(flag: &str, s: &str) -> anyhow::Result<OrgCode> {
    OrgCode::parse(s).map_err(|e| anyhow::anyhow!("{flag}: {e}"))
}

pub async fn profile(
    svc: &Services,
    operator: Principal,
    cmd: ProfileCommand,
) -> anyhow::Result<()> {
    match cmd {
        ProfileCommand::Set {
            org,
            kind,
            settings,
            region,
            as_org,
        } => {
            let org = code("ORG", &org)?;
            let kind: ProviderKind = kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
            let who = match as_org {
                Some(a) => {
                    let a = code("--as", &a)?;
                    svc.as_principal(operator.clone()).organisation(&a).await?;
                    Principal::acting_for(a.clone(), format!("cli:as:{a}"))
                }
                None => operator,
            };
            let target = org.to_string();
            let done = svc
                .as_principal(who.clone())
                .set_provider_profile(ProviderProfile {
                    org,
                    kind,
                    settings,
                    region,
                })
                .await;
            let p = svc
                .audit_if_refused(&who, "concord profile set", &target, done)
                .await?;
            println!(
                "{}: {}{}",
                p.org,
                p.kind,
                if p.settings.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", p.settings.join(", "))
                }
            );
        }
        ProfileCommand::Show { org, json } => {
            let org = code("ORG", &org)?;
            let (p, stored) = svc.as_principal(operator).provider_profile(&org).await?;
            if json {
                println!("{}", serde_json::json!({"profile": p, "stored": stored}));
            } else {
                println!(
                    "{}: {} — settings: {}; region: {}{}",
                    p.org,
                    p.kind,
                    if p.settings.is_empty() {
                        "the usual for its kind".to_string()
                    } else {
                        p.settings.join(", ")
                    },
                    p.region.as_deref().unwrap_or("not given"),
                    if stored {
                        ""
                    } else {
                        " (made from its kind; none set)"
                    }
                );
            }
        }
    }
    Ok(())
}

pub async fn priorities(
    svc: &Services,
    who: Principal,
    org: &str,
    json: bool,
    format: Option<PlanFormat>,
    limit: usize,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let org = code("--org", org)?;
    let list = svc.as_principal(who).priorities(&org, limit).await?;
    let format = format.unwrap_or(if json {
        PlanFormat::Json
    } else {
        PlanFormat::Text
    });
    let text = match format {
        PlanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&list)?;
            s.push('\n');
            s
        }
        PlanFormat::Csv => list.to_csv(),
        PlanFormat::Xlsx => {
            if out.is_none() {
                anyhow::bail!(
                    "--format xlsx: needs --out FILE (a spreadsheet is not written to the terminal)"
                );
            }
            String::new()
        }
        PlanFormat::Text => {
            let mut s = format!(
                "{} ({}), {} — {} applicable, as of {}\n",
                list.name, list.org, list.profile.kind, list.considered, list.as_of
            );
            for (i, it) in list.items.iter().enumerate() {
                s.push_str(&format!(
                    "{:>3}. {:.3}  {}  {}\n       {}\n",
                    i + 1,
                    it.score,
                    it.ids.join(" + "),
                    it.title,
                    it.why.join("; ")
                ));
            }
            s
        }
    };
    let bytes = match format {
        PlanFormat::Xlsx => list.to_xlsx()?,
        _ => text.into_bytes(),
    };
    match out {
        Some(path) => std::fs::write(&path, bytes)
            .map_err(|e| anyhow::anyhow!("--out {}: cannot write: {e}", path.display()))?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(())
}

/// `concord priorities`: which provider, in what form, where.
#[derive(clap::Args)]
pub struct PrioritiesArgs {
    /// The provider's organisation code.
    #[arg(long)]
    pub org: String,
    /// JSON (as CONTRACT.md); same as --format json.
    #[arg(long)]
    pub json: bool,
    /// text (default), json, or csv (an action plan).
    #[arg(long, value_enum)]
    pub format: Option<PlanFormat>,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub async fn run(ctx: &crate::commands::Context, a: PrioritiesArgs) -> anyhow::Result<()> {
    let svc = ctx.open().await?;
    priorities(
        &svc,
        crate::commands::operator(),
        &a.org,
        a.json,
        a.format,
        a.limit,
        a.out,
    )
    .await
}

/// `concord profile`.
pub async fn run_profile(
    ctx: &crate::commands::Context,
    cmd: ProfileCommand,
) -> anyhow::Result<()> {
    profile(&ctx.open().await?, crate::commands::operator(), cmd).await
}
