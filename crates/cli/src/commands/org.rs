//! `concord org`: the organisations in the register.

use std::io::Write;

use clap::Subcommand;
use concord_domain::{OrgCode, OrgKind, OrgLevel, Organisation, ProviderKind};

use crate::commands::{Context, operator};

#[derive(Subcommand)]
pub enum OrgCommand {
    /// Register an organisation.
    Add {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        kind: String,
        #[arg(long, default_value = "provider")]
        level: String,
        #[arg(long)]
        provider_kind: Option<String>,
        #[arg(long)]
        region: Option<String>,
        /// Another name it goes by, for recognising it among addressees (repeatable).
        #[arg(long = "alias")]
        aliases: Vec<String>,
    },
    /// List organisations.
    List {
        #[arg(long)]
        json: bool,
        /// Only the organisations imports made that nobody has confirmed.
        #[arg(long)]
        unverified: bool,
    },
    /// Addressee names linked to no organisation, most frequent first.
    Unresolved {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Confirm an organisation an import made from an addressee name.
    Confirm {
        code: String,
        /// Its right name (the old one is kept as another name it goes by).
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        provider_kind: Option<String>,
    },
    /// Rename an organisation (the old name is kept as another name it goes by).
    Rename {
        code: String,
        #[arg(long)]
        name: String,
    },
    /// Merge one organisation into another: its addressee entries move, its
    /// names become the other's; recommendation ids never change.
    Merge {
        from: String,
        #[arg(long)]
        into: String,
    },
    /// Undo the last merge of an organisation.
    Unmerge { code: String },
}

pub async fn run(ctx: &Context, cmd: OrgCommand) -> anyhow::Result<()> {
    org(&ctx.db, cmd).await
}

async fn org(db: &str, cmd: OrgCommand) -> anyhow::Result<()> {
    let services = crate::commands::open(db).await?;
    let auth = services.as_principal(operator());
    match cmd {
        OrgCommand::Add {
            code,
            name,
            kind,
            level,
            provider_kind,
            region,
            aliases,
        } => {
            let bad = |f: &str, e: String| anyhow::anyhow!("--{f}: {e}");
            let org = Organisation {
                status: Default::default(),
                code: OrgCode::parse(&code).map_err(|e| bad("code", e.to_string()))?,
                name: name.trim().to_string(),
                kind: kind.parse::<OrgKind>().map_err(|e| bad("kind", e))?,
                level: level.parse::<OrgLevel>().map_err(|e| bad("level", e))?,
                provider_kind: provider_kind
                    .as_deref()
                    .map(str::parse::<ProviderKind>)
                    .transpose()
                    .map_err(|e| bad("provider-kind", e))?,
                region,
                aliases: aliases
                    .iter()
                    .map(|a| a.trim().to_string())
                    .filter(|a| !a.is_empty())
                    .collect(),
            };
            if org.name.is_empty() {
                anyhow::bail!("--name: is empty");
            }
            if auth.operator()?.add_organisation(&org).await? {
                println!("added {} ({})", org.code, org.name);
            } else {
                anyhow::bail!(
                    "organisation {} already exists; it was left unchanged",
                    org.code
                );
            }
        }
        OrgCommand::List { json, unverified } => {
            let mut orgs = auth.organisations().await?;
            if unverified {
                orgs.retain(|o| o.status == concord_domain::OrgStatus::Unverified);
            }
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &orgs)?;
                writeln!(out)?;
            } else {
                for o in orgs {
                    let status = match o.status {
                        concord_domain::OrgStatus::Verified => String::new(),
                        s => format!(" ({s})"),
                    };
                    writeln!(out, "{:<16} {:<18} {}{status}", o.code, o.kind, o.name)?;
                }
            }
        }
        OrgCommand::Unresolved { limit, json } => {
            let names = auth.operator()?.unresolved_addressees(limit).await?;
            let mut out = std::io::stdout().lock();
            if json {
                let items: Vec<_> = names
                    .iter()
                    .map(|(n, c)| serde_json::json!({"name": n, "count": c}))
                    .collect();
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({"names": items}))?;
                writeln!(out)?;
            } else {
                for (n, c) in names {
                    writeln!(out, "{c:>6}  {n}")?;
                }
            }
        }
        OrgCommand::Confirm {
            code,
            name,
            kind,
            provider_kind,
        } => {
            let code = OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("CODE: {e}"))?;
            let kind = match kind {
                Some(k) => Some((
                    k.parse::<OrgKind>()
                        .map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
                    provider_kind
                        .as_deref()
                        .map(str::parse::<ProviderKind>)
                        .transpose()
                        .map_err(|e| anyhow::anyhow!("--provider-kind: {e}"))?,
                )),
                None if provider_kind.is_some() => {
                    anyhow::bail!("--provider-kind: needs --kind provider")
                }
                None => None,
            };
            let o = auth
                .operator()?
                .confirm_organisation(&code, name.as_deref(), kind)
                .await?;
            println!("{} confirmed: {} ({})", o.code, o.name, o.kind);
        }
        OrgCommand::Rename { code, name } => {
            let code = OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("CODE: {e}"))?;
            if name.trim().is_empty() {
                anyhow::bail!("--name: is empty");
            }
            let o = auth
                .operator()?
                .confirm_organisation(&code, Some(&name), None)
                .await?;
            println!("{} is now {}", o.code, o.name);
        }
        OrgCommand::Merge { from, into } => {
            let from = OrgCode::parse(&from).map_err(|e| anyhow::anyhow!("FROM: {e}"))?;
            let into = OrgCode::parse(&into).map_err(|e| anyhow::anyhow!("--into: {e}"))?;
            let m = auth.operator()?.merge_organisations(&from, &into).await?;
            println!(
                "merged {} into {}: {} addressee entries of {} recommendations moved (undo: concord org unmerge {})",
                m.from, m.into, m.moved, m.recommendations, m.from
            );
        }
        OrgCommand::Unmerge { code } => {
            let code = OrgCode::parse(&code).map_err(|e| anyhow::anyhow!("CODE: {e}"))?;
            let m = auth.operator()?.unmerge_organisation(&code).await?;
            println!(
                "{} is separate from {} again: {} addressee entries of {} recommendations moved back",
                m.from, m.into, m.moved, m.recommendations
            );
        }
    }
    Ok(())
}
