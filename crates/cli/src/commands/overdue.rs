//! `concord overdue`: every addressee whose answer is late, as of today in
//! England or a given date.

use std::io::Write;

use clap::Args;
use concord_app::{OverdueReport, Principal, Services};
use concord_domain::OrgCode;

#[derive(Args)]
pub struct OverdueArgs {
    /// Late as of this date (YYYY-MM-DD; default: today in England).
    #[arg(long)]
    as_of: Option<String>,
    /// Only recommendations from this issuer (its code, e.g. PFD).
    #[arg(long)]
    issuer: Option<String>,
    /// Only this addressee: its organisation code, or words of its written name.
    #[arg(long)]
    addressee: Option<String>,
    #[arg(long)]
    json: bool,
}

/// A date in exactly the form YYYY-MM-DD (chrono alone would take `+2024-1-5`).
pub fn parse_date(flag: &str, v: &str) -> anyhow::Result<chrono::NaiveDate> {
    let v = v.trim();
    let plain = v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    plain
        .then(|| chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| anyhow::anyhow!("--{flag}: {v:?} is not a date in the form YYYY-MM-DD"))
}

pub async fn overdue(svc: &Services, who: Principal, a: OverdueArgs) -> anyhow::Result<()> {
    let as_of = a
        .as_of
        .as_deref()
        .map(|s| parse_date("as-of", s))
        .transpose()?;
    let issuer = a
        .issuer
        .as_deref()
        .map(|s| {
            OrgCode::parse(s.trim()).map_err(|_| {
                anyhow::anyhow!(
                    "--issuer: {s:?} is not an organisation code (2-16 letters and digits, starting with a letter, e.g. PFD)"
                )
            })
        })
        .transpose()?;
    let report = svc
        .as_principal(who)
        .overdue(as_of, issuer, a.addressee)
        .await
        .map_err(|e| match e {
            // The service names the parameter; here it is a flag.
            concord_app::AppError::BadInput(m) => anyhow::anyhow!("--{m}"),
            e => anyhow::Error::new(e),
        })?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write_table(&mut out, &report)?;
    }
    out.flush()?;
    Ok(())
}

fn write_table(out: &mut impl Write, r: &OverdueReport) -> std::io::Result<()> {
    if r.items.is_empty() {
        return writeln!(out, "nothing overdue as of {}", r.as_of);
    }
    writeln!(
        out,
        "{:<16} {:>5} {:<10} {:<32} {:<22} addressee",
        "id", "days", "due", "next step", "title"
    )?;
    for i in &r.items {
        let next = match &i.next_escalation {
            Some(n) if n.from <= r.as_of => format!("{} (due since {})", n.step, n.from),
            Some(n) => format!("{} from {}", n.step, n.from),
            None => "ladder done".to_string(),
        };
        let who = match &i.org {
            Some(o) if !i.addressee.eq_ignore_ascii_case(o.as_str()) => {
                format!("{} ({o})", i.addressee)
            }
            _ => i.addressee.clone(),
        };
        writeln!(
            out,
            "{:<16} {:>5} {:<10} {:<32} {:<22} {}",
            i.id,
            i.days_overdue,
            i.due,
            next,
            cut(&i.title, 22),
            who
        )?;
    }
    let reports: std::collections::BTreeSet<&str> = r.items.iter().map(|i| i.id.as_str()).collect();
    writeln!(
        out,
        "{} addressee(s) overdue on {} recommendation(s) as of {}",
        r.items.len(),
        reports.len(),
        r.as_of
    )
}

/// At most `n` characters, with an ellipsis when cut.
fn cut(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
    t.push('…');
    t
}

pub async fn run(ctx: &crate::commands::Context, args: OverdueArgs) -> anyhow::Result<()> {
    overdue(&ctx.open().await?, crate::commands::operator(), args).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_must_be_plain() {
        assert_eq!(
            parse_date("as-of", "2024-04-07").unwrap().to_string(),
            "2024-04-07"
        );
        for bad in ["2024-4-7", "07/04/2024", "+2024-04-07", "2024-02-30", ""] {
            let e = parse_date("as-of", bad).unwrap_err().to_string();
            assert!(e.starts_with("--as-of: "), "{e}");
        }
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
