//! `concord dashboard`: the oversight dashboard's figures (the same as
//! `GET /api/v1/dashboard`), as text, JSON or one table as CSV.

use std::io::Write;
use std::time::Instant;

use clap::Args;
use concord_app::{DashboardRequest, Principal, Services};
use concord_domain::dashboard::{Dashboard, Table};

#[derive(Args)]
pub struct DashboardArgs {
    /// Overdue and answered as of this date (YYYY-MM-DD; default: today in England).
    #[arg(long)]
    as_of: Option<String>,
    /// Only recommendations from this issuer (its code, e.g. PFD).
    #[arg(long)]
    issuer: Option<String>,
    #[arg(long)]
    theme: Option<String>,
    #[arg(long)]
    setting: Option<String>,
    /// Only recommendations published in this year.
    #[arg(long)]
    year: Option<i32>,
    /// Every figure as JSON (the API's shape).
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// One table as CSV: issuer, addressee, theme, setting, year,
    /// response_times, oldest_overdue, provider_kind.
    #[arg(long)]
    csv: Option<String>,
    /// Also print, on stderr, how long building the figures' fact table and
    /// answering took.
    #[arg(long)]
    timing: bool,
}

pub async fn dashboard(
    services: &Services,
    who: Principal,
    args: DashboardArgs,
) -> anyhow::Result<()> {
    let table = match &args.csv {
        Some(t) => Some(
            t.parse::<Table>()
                .map_err(|e| anyhow::anyhow!("--csv: {e}"))?,
        ),
        None => None,
    };
    let req = DashboardRequest {
        issuer: args.issuer,
        theme: args.theme,
        setting: args.setting,
        year: args.year,
        as_of: args
            .as_of
            .as_deref()
            .map(|v| crate::overdue::parse_date("as-of", v))
            .transpose()?,
        all_addressees: table == Some(Table::Addressee),
    };
    let auth = services.as_principal(who);
    let started = Instant::now();
    let stats = auth.dashboard_stats().await?;
    let built = started.elapsed();
    let asked = Instant::now();
    let d = auth.dashboard(&req).await?;
    let answered = asked.elapsed();
    if args.timing {
        eprintln!(
            "facts: {} recommendations, {} items, about {} MiB, built in {:.1} ms (first call {:.1} ms); figures in {:.2} ms",
            stats.recommendations,
            stats.items,
            stats.approx_bytes >> 20,
            stats.built_in.map(|d| d.as_secs_f64() * 1e3).unwrap_or(0.0),
            built.as_secs_f64() * 1e3,
            answered.as_secs_f64() * 1e3
        );
    }
    let mut out = std::io::stdout().lock();
    if let Some(t) = table {
        out.write_all(d.csv(t).as_bytes())?;
    } else if args.json {
        serde_json::to_writer_pretty(&mut out, &d)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &d)?;
    }
    Ok(())
}

fn write_text(out: &mut dyn Write, d: &Dashboard) -> std::io::Result<()> {
    let t = &d.totals;
    writeln!(
        out,
        "as of {}: {} recommendations, {} items (one recommendation to one addressee): {} open, {} overdue, {} answered, {} implemented",
        d.as_of, t.recommendations, t.items, t.open, t.overdue, t.answered, t.implemented
    )?;
    for (title, table) in [
        ("by issuer", Table::Issuer),
        ("by addressee (busiest 10)", Table::Addressee),
        ("by theme", Table::Theme),
        ("by setting", Table::Setting),
        ("by year", Table::Year),
        ("response times (days)", Table::ResponseTimes),
        ("oldest overdue", Table::OldestOverdue),
        (
            "open recommendations by kind of provider",
            Table::ProviderKind,
        ),
    ] {
        let (header, rows) = d.table(table);
        let limit = if table == Table::Addressee { 10 } else { 25 };
        writeln!(out, "\n{title}")?;
        // The label column repeats the key for most tables: leave it out.
        let skip = header.get(1) == Some(&"label")
            && table != Table::Addressee
            && table != Table::ProviderKind;
        let cols: Vec<usize> = (0..header.len()).filter(|i| !(skip && *i == 1)).collect();
        let mut widths: Vec<usize> = cols.iter().map(|&i| header[i].len()).collect();
        for r in rows.iter().take(limit) {
            for (w, &i) in widths.iter_mut().zip(&cols) {
                *w = (*w).max(r[i].chars().count().min(48));
            }
        }
        let line = |out: &mut dyn Write, cells: Vec<String>| -> std::io::Result<()> {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| {
                    let c: String = c.chars().take(48).collect();
                    format!("{c:<w$}")
                })
                .collect();
            writeln!(out, "  {}", parts.join("  ").trim_end())
        };
        line(out, cols.iter().map(|&i| header[i].to_string()).collect())?;
        for r in rows.iter().take(limit) {
            line(out, cols.iter().map(|&i| r[i].clone()).collect())?;
        }
        if rows.len() > limit {
            writeln!(out, "  … {} more (--csv {table})", rows.len() - limit)?;
        }
    }
    Ok(())
}

pub async fn run(ctx: &crate::commands::Context, args: DashboardArgs) -> anyhow::Result<()> {
    dashboard(&ctx.open().await?, crate::commands::operator(), args).await
}
