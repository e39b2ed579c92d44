//! `concord workstream add|list|show|overlaps`: the register of ongoing work.

use std::io::{Read, Write};

use clap::Subcommand;
use concord_app::{
    DEFAULT_OVERLAPS, NewWorkstream, Overlap, Principal, Services, WorkstreamQuery,
    parse_workstream_id,
};
use concord_domain::{OrgCode, StoredWorkstream};
use serde_json::Value;

#[derive(Subcommand)]
pub enum WorkstreamCommand {
    /// Register workstreams from a JSON file (one object or an array; - for
    /// standard input). Every one is checked before any is stored. Prints
    /// each new id and the existing work it overlaps.
    Add {
        file: String,
        /// Act as this organisation (it must lead the work), instead of as the operator.
        #[arg(long = "as", value_name = "ORG")]
        as_org: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List and search workstreams, with counts by lead, status, theme and setting.
    List {
        /// Words to look for in title, aim, themes, settings and bodies.
        query: Option<String>,
        #[arg(long)]
        lead: Option<String>,
        #[arg(long)]
        theme: Option<String>,
        #[arg(long)]
        setting: Option<String>,
        /// planned, active, paused, completed or stopped.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=500))]
        limit: u64,
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=10000))]
        page: u64,
        #[arg(long)]
        json: bool,
    },
    /// Show one workstream and what overlaps it.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// What the workstream in a JSON file (- for standard input) would
    /// overlap, without registering it.
    Overlaps {
        file: String,
        #[arg(long = "as", value_name = "ORG")]
        as_org: Option<String>,
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=50))]
        limit: u16,
        #[arg(long)]
        json: bool,
    },
}

fn read_json(file: &str) -> anyhow::Result<Value> {
    let mut text = String::new();
    if file == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| anyhow::anyhow!("standard input: {e}"))?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("{file}: {e}"))?;
    }
    let name = if file == "-" { "standard input" } else { file };
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{name}: not valid JSON: {e}"))
}

async fn acting(
    svc: &Services,
    operator: Principal,
    as_org: Option<&str>,
) -> anyhow::Result<Principal> {
    Ok(match as_org {
        Some(code) => {
            let org = OrgCode::parse(code).map_err(|e| anyhow::anyhow!("--as: {e}"))?;
            svc.as_principal(operator).organisation(&org).await?;
            Principal::acting_for(org.clone(), format!("cli:as:{org}"))
        }
        None => operator,
    })
}

fn write_overlaps(out: &mut impl Write, overlaps: &[Overlap]) -> std::io::Result<()> {
    if overlaps.is_empty() {
        return writeln!(out, "  no existing work overlaps it");
    }
    writeln!(out, "  overlaps:")?;
    for o in overlaps {
        writeln!(
            out,
            "  {:.2}  {:<14}  {}  {} ({})\n        {}",
            o.score, o.kind, o.id, o.title, o.body, o.reason
        )?;
    }
    Ok(())
}

fn write_workstream(out: &mut impl Write, s: &StoredWorkstream) -> std::io::Result<()> {
    let w = &s.workstream;
    let list = |v: Vec<String>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    writeln!(out, "{}  {}", w.id, w.title)?;
    writeln!(out, "  lead: {}", w.lead)?;
    writeln!(
        out,
        "  partners: {}",
        list(w.partners.iter().map(|p| p.to_string()).collect())
    )?;
    writeln!(out, "  status: {}", w.status)?;
    let d = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or("-".into());
    writeln!(
        out,
        "  start: {}  expected end: {}",
        d(w.start),
        d(w.expected_end)
    )?;
    writeln!(out, "  themes: {}", list(w.themes.clone()))?;
    writeln!(out, "  settings: {}", list(w.settings.clone()))?;
    writeln!(
        out,
        "  recommendations: {}",
        list(w.recommendations.iter().map(|r| r.to_string()).collect())
    )?;
    writeln!(out, "  contact: {}", w.contact.as_deref().unwrap_or("-"))?;
    writeln!(
        out,
        "  public: {}  version: {}",
        if w.public { "yes" } else { "no" },
        s.version
    )?;
    if let Some(aim) = &w.aim {
        writeln!(out, "  aim: {aim}")?;
    }
    Ok(())
}

async fn run_as(svc: &Services, operator: Principal, cmd: WorkstreamCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match cmd {
        WorkstreamCommand::Add { file, as_org, json } => {
            let who = acting(svc, operator, as_org.as_deref()).await?;
            let body = read_json(&file)?;
            let bodies = match body {
                Value::Array(v) => v,
                one => vec![one],
            };
            let n = bodies.len();
            let bodies = bodies
                .into_iter()
                .enumerate()
                .map(|(i, b)| {
                    NewWorkstream::from_json(b)
                        .map_err(|e| anyhow::anyhow!("{file}: workstream {} of {n}: {e}", i + 1))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let done = svc
                .as_principal(who.clone())
                .register_workstreams(&bodies)
                .await;
            let done = svc
                .audit_if_refused(&who, "concord workstream add", &file, done)
                .await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &done)?;
                writeln!(out)?;
            } else {
                for r in &done {
                    writeln!(
                        out,
                        "registered {} (version {}): {}",
                        r.workstream.workstream.id,
                        r.workstream.version,
                        r.workstream.workstream.title
                    )?;
                    write_overlaps(&mut out, &r.overlaps)?;
                }
            }
        }
        WorkstreamCommand::List {
            query,
            lead,
            theme,
            setting,
            status,
            limit,
            page,
            json,
        } => {
            let status = status
                .map(|s| s.parse())
                .transpose()
                .map_err(|e| anyhow::anyhow!("--status: {e}"))?;
            let lead = lead
                .map(|l| OrgCode::parse(&l).map(|c| c.to_string()))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--lead: {e}"))?;
            let q = WorkstreamQuery {
                q: query.unwrap_or_default(),
                lead,
                theme,
                setting,
                status,
                offset: (page - 1) * limit,
                limit,
            };
            let found = svc.as_principal(operator).workstreams(&q).await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &found)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{} workstream{}{}",
                    found.total,
                    if found.total == 1 { "" } else { "s" },
                    if found.relaxed {
                        " (none had every word; those with some are shown)"
                    } else {
                        ""
                    }
                )?;
                for h in &found.items {
                    let w = &h.workstream.workstream;
                    writeln!(out, "{}  {:<9}  {:<8}  {}", w.id, w.status, w.lead, w.title)?;
                }
                for (dim, values) in &found.facets {
                    if values.is_empty() {
                        continue;
                    }
                    let v: Vec<String> = values.iter().map(|(k, n)| format!("{k} {n}")).collect();
                    writeln!(out, "{dim}: {}", v.join(", "))?;
                }
            }
        }
        WorkstreamCommand::Show { id, json } => {
            let auth = svc.as_principal(operator);
            let ws = auth.workstream(&parse_workstream_id(&id)?).await?;
            let overlaps = auth.overlaps_for(&ws.workstream, DEFAULT_OVERLAPS).await?;
            if json {
                let mut v = serde_json::to_value(&ws)?;
                v["overlaps"] = serde_json::to_value(&overlaps)?;
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
            } else {
                write_workstream(&mut out, &ws)?;
                write_overlaps(&mut out, &overlaps)?;
            }
        }
        WorkstreamCommand::Overlaps {
            file,
            as_org,
            limit,
            json,
        } => {
            let who = acting(svc, operator, as_org.as_deref()).await?;
            let mut body = read_json(&file)?;
            if let (Some(org), Some(obj)) = (who.org(), body.as_object_mut()) {
                obj.entry("lead")
                    .or_insert_with(|| Value::String(org.to_string()));
            }
            let matches = svc
                .as_principal(who)
                .preview_overlaps(&body, usize::from(limit))
                .await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "matches": matches }))?;
                writeln!(out)?;
            } else {
                write_overlaps(&mut out, &matches)?;
            }
        }
    }
    Ok(())
}

/// Runs the command as the operator at the command line.
pub async fn run(ctx: &crate::commands::Context, cmd: WorkstreamCommand) -> anyhow::Result<()> {
    run_as(&ctx.open().await?, crate::commands::operator(), cmd).await
}
