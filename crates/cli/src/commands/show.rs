//! Human-readable views of records for the terminal.

use std::io::{self, Write};

use concord_domain::Recommendation;

pub fn write_line(out: &mut impl Write, r: &Recommendation) -> io::Result<()> {
    let date = r
        .data
        .published
        .map(|d| d.to_string())
        .unwrap_or_else(|| "----------".into());
    writeln!(
        out,
        "{:<18} {} {:<10} {}",
        r.id,
        date,
        r.data.status,
        one_line(&r.data.title, 90)
    )
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        format!("{}…", flat.chars().take(max - 1).collect::<String>())
    } else {
        flat
    }
}

pub fn write_text(out: &mut impl Write, r: &Recommendation) -> io::Result<()> {
    let d = &r.data;
    writeln!(out, "{}  {}", r.id, d.title)?;
    writeln!(
        out,
        "kind: {}   status: {}   version: {}",
        d.kind, d.status, r.version
    )?;
    writeln!(
        out,
        "issuer: {}{}",
        d.issuer,
        d.local_ref
            .as_deref()
            .map(|l| format!("   their reference: {l}"))
            .unwrap_or_default()
    )?;
    if let Some(p) = d.published {
        writeln!(out, "published: {p}")?;
    }
    if let Some(dl) = d.response_deadline {
        writeln!(out, "responses due: {dl}")?;
    }
    if let Some(s) = &d.source {
        if let Some(t) = &s.title {
            writeln!(out, "source: {t}")?;
        }
        if let Some(u) = &s.url {
            writeln!(out, "        {u}")?;
        }
    }
    if !d.themes.is_empty() {
        writeln!(out, "themes: {}", d.themes.join(", "))?;
    }
    if !d.settings.is_empty() {
        writeln!(out, "settings: {}", d.settings.join(", "))?;
    }
    if let Some(risk) = d.risk {
        writeln!(out, "risk: {risk}")?;
    }
    writeln!(out)?;
    writeln!(out, "{}", d.text)?;
    if !d.addressees.is_empty() {
        writeln!(out)?;
        writeln!(out, "addressees:")?;
        for a in &d.addressees {
            let due = d
                .due_for(a)
                .map(|x| format!(", due {x}"))
                .unwrap_or_default();
            let org = a
                .org
                .as_ref()
                .map(|o| format!(" [{o}]"))
                .unwrap_or_default();
            writeln!(out, "  - {}{org}: {}{due}", a.name, a.status)?;
            let mut state = Vec::new();
            if let Some(x) = a.acceptance {
                state.push(format!("acceptance {x}"));
            }
            if let Some(x) = a.implementation {
                state.push(format!("implementation {x}"));
            }
            if let Some(x) = &a.assessment {
                state.push(format!("assessed {} on {}", x.verdict, x.on));
            }
            if let Some(x) = &a.closure {
                state.push(format!("closed {} on {}", x.reason, x.on));
            }
            if let Some(x) = a.verified_on {
                state.push(format!("verified on {x}"));
            }
            for e in &a.escalations {
                state.push(format!("{} on {}", e.step, e.on));
            }
            if !a.actions.is_empty() {
                state.push(format!("{} action(s) in the plan", a.actions.len()));
            }
            if !state.is_empty() {
                writeln!(out, "      {}", state.join("; "))?;
            }
            for resp in &a.responses {
                let when = resp
                    .received
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "date not known".into());
                writeln!(
                    out,
                    "      response ({when}){}",
                    resp.url
                        .as_deref()
                        .map(|u| format!(": {u}"))
                        .unwrap_or_default()
                )?;
            }
        }
    }
    if !d.links.is_empty() {
        writeln!(out)?;
        writeln!(out, "links:")?;
        for l in &d.links {
            writeln!(out, "  - {} {} ({})", l.kind, l.target, l.state)?;
        }
    }
    Ok(())
}

/// `concord show`.
#[derive(clap::Args)]
pub struct ShowArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(ctx: &crate::commands::Context, args: ShowArgs) -> anyhow::Result<()> {
    let id =
        concord_domain::RecommendationId::parse(&args.id).map_err(|e| anyhow::anyhow!("{e}"))?;
    let services = ctx.open().await?;
    let rec = services
        .as_principal(crate::commands::operator())
        .recommendation(&id)
        .await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rec)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &rec)?;
    }
    Ok(())
}
