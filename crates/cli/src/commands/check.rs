//! `concord check`: drafts against the quality criteria.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use concord_app::Services;

use crate::commands::{Context, operator};

/// Drafts to check and how.
#[derive(Args)]
pub struct CheckArgs {
    pub file: String,
    #[arg(long)]
    pub json: bool,
    /// A criteria set (JSON) to use instead of each issuer's own or the default.
    #[arg(long)]
    pub ruleset: Option<PathBuf>,
    /// Judge deadlines as of this date (YYYY-MM-DD) instead of today: a
    /// review of drafts written earlier, or an evaluation set.
    #[arg(long)]
    pub as_of: Option<String>,
}

pub async fn run(ctx: &Context, args: CheckArgs) -> anyhow::Result<()> {
    check(
        &ctx.db,
        &args.file,
        args.json,
        args.ruleset.as_deref(),
        args.as_of.as_deref(),
    )
    .await
}

async fn check(
    db: &str,
    file: &str,
    json: bool,
    ruleset: Option<&Path>,
    as_of: Option<&str>,
) -> anyhow::Result<()> {
    use std::io::Read;
    let as_of = as_of
        .map(|d| {
            chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| anyhow::anyhow!("--as-of: {d:?} is not a date in the form YYYY-MM-DD"))
        })
        .transpose()?;
    let (name, text) = if file == "-" {
        let mut t = String::new();
        std::io::stdin()
            .read_to_string(&mut t)
            .context("standard input: cannot read")?;
        ("standard input".to_string(), t)
    } else {
        let t = std::fs::read_to_string(file).with_context(|| format!("{file}: cannot read"))?;
        (file.to_string(), t)
    };
    let rules = match ruleset {
        Some(p) => {
            let t = std::fs::read_to_string(p)
                .with_context(|| format!("{}: cannot read", p.display()))?;
            Some(concord_app::parse_ruleset(&t, &p.display().to_string())?)
        }
        None => None,
    };
    let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{name}: is not JSON ({e}); expected one draft object or an array of drafts"
        )
    })?;
    let services = match as_of {
        Some(day) => {
            let noon = day.and_hms_opt(12, 0, 0).expect("noon exists").and_utc();
            Services::open_with_clock(db, Arc::new(concord_app::clock::FixedClock::new(noon)))
                .await
                .map_err(|e| {
                    anyhow::Error::new(e).context(format!("cannot open the database {db}"))
                })?
        }
        None => crate::commands::open(db).await?,
    };
    let reports = services
        .as_principal(operator())
        .check(&body, rules.as_ref())
        .await
        .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &reports)?;
        writeln!(out)?;
        return Ok(());
    }
    for r in &reports {
        writeln!(
            out,
            "draft {}: score {}/100 ({})",
            r.index, r.score, r.ruleset
        )?;
        for c in &r.checks {
            writeln!(
                out,
                "  {:5} {:16} {}",
                c.result.as_str(),
                c.criterion,
                c.message
            )?;
            if let Some(s) = &c.suggestion {
                writeln!(out, "        {:16} -> {s}", "")?;
            }
        }
        if !r.gate_failures.is_empty() {
            writeln!(
                out,
                "  cannot be published yet: {}",
                r.gate_failures.join("; ")
            )?;
        }
    }
    Ok(())
}
