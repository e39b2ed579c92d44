//! `concord rules show|set|reset`: the deadline rules of this installation.

use std::io::Write;

use concord_app::{IssuerRule, Principal, RuleChange, RuleOrigin, Services};
use concord_domain::OrgCode;
use concord_domain::lifecycle::{LadderStep, ResponseRules};

/// The response period and escalation ladder each issuer's answers follow.
#[derive(clap::Subcommand)]
pub enum RulesCommand {
    /// Every rule in force (built-in, or set in this installation).
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Set an issuer's own rule. Records already published keep the
    /// deadline they were given; the ladder applies at once.
    Set {
        issuer: String,
        /// Calendar days from publication to the answer's due date (1-3650).
        #[arg(long, allow_negative_numbers = true)]
        days: i64,
        /// Steps and days after the due date, e.g.
        /// reminder:14,second_letter:28,public_statement:56 (default: the
        /// ladder in force; an empty value: no ladder).
        #[arg(long)]
        ladder: Option<String>,
        /// Where the rule comes from (a board decision, a statute).
        #[arg(long)]
        source: Option<String>,
    },
    /// Remove an issuer's own rule: the built-in one (or the default) applies.
    Reset { issuer: String },
}

fn code(s: &str) -> anyhow::Result<OrgCode> {
    OrgCode::parse(s.trim()).map_err(|e| anyhow::anyhow!("issuer: {e}"))
}

fn ladder_text(r: &ResponseRules) -> String {
    if r.ladder.is_empty() {
        return "no ladder".into();
    }
    r.ladder
        .iter()
        .map(|s| format!("{}:{}", s.step, s.days_after_due))
        .collect::<Vec<_>>()
        .join(",")
}

fn line(out: &mut impl Write, r: &IssuerRule) -> std::io::Result<()> {
    let origin = match r.origin {
        RuleOrigin::BuiltIn => "built-in",
        RuleOrigin::Installation => "this installation",
    };
    writeln!(
        out,
        "{:<8} {:>4} days  {}  ({origin})",
        r.issuer.as_str(),
        r.rules.days_to_respond,
        ladder_text(&r.rules)
    )
}

async fn run_as(svc: &Services, who: Principal, cmd: RulesCommand) -> anyhow::Result<()> {
    let auth = svc.as_principal(who);
    let mut out = std::io::stdout().lock();
    match cmd {
        RulesCommand::Show { json } => {
            let view = auth.response_rules().await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &view)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{:<8} {:>4} days  {}  (built-in default for every other issuer)",
                    "default",
                    view.default.days_to_respond,
                    ladder_text(&view.default)
                )?;
                for r in &view.issuers {
                    line(&mut out, r)?;
                }
            }
        }
        RulesCommand::Set {
            issuer,
            days,
            ladder,
            source,
        } => {
            let ladder = ladder
                .map(|l| LadderStep::parse_ladder(&l))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--ladder: {e}"))?;
            let r = auth
                .set_response_rule(
                    &code(&issuer)?,
                    RuleChange {
                        days_to_respond: days,
                        ladder,
                        source,
                    },
                )
                .await?;
            line(&mut out, &r)?;
        }
        RulesCommand::Reset { issuer } => {
            let r = auth.reset_response_rule(&code(&issuer)?).await?;
            line(&mut out, &r)?;
        }
    }
    Ok(())
}

/// Runs the command as the operator at the command line.
pub async fn run(ctx: &crate::commands::Context, cmd: RulesCommand) -> anyhow::Result<()> {
    run_as(&ctx.open().await?, crate::commands::operator(), cmd).await
}
