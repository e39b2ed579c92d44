//! `concord respond | action | update | assess | close | dormant | reopen |
//! reassess | verify | escalate`: the lifecycle moves, through the same use
//! case as `POST /api/v1/recommendations/{id}/addressees/{addressee}/{move}`.

use std::io::Write;

use chrono::NaiveDate;
use clap::{Args, Subcommand};
use concord_app::{Principal, Services};
use concord_domain::lifecycle::{Acceptance, Assessment, ClosureReason, Implementation, Move};
use concord_domain::{OrgCode, Recommendation, RecommendationId};

#[derive(Args)]
pub struct Target {
    /// The recommendation (ISSUER-YYYY-NNNN).
    id: String,
    /// The addressee: its number (1 = first), organisation code or name.
    #[arg(long)]
    addressee: String,
    /// Act as this organisation (its rights, recorded as it), instead of as
    /// the operator of this installation.
    #[arg(long = "as", value_name = "ORG")]
    as_org: Option<String>,
    /// Print the recommendation as JSON afterwards.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
pub enum MoveCommand {
    /// Record an addressee's response (acceptance and what it will do).
    Respond {
        #[command(flatten)]
        target: Target,
        /// accepted, accepted_in_principle, partly_accepted, not_accepted, support_instead.
        #[arg(long)]
        acceptance: String,
        /// What the addressee will do.
        #[arg(long)]
        text: String,
        /// Why not accepted, or which recommendation it supports instead.
        #[arg(long)]
        reasons: Option<String>,
        /// The date the response was received (default: today).
        #[arg(long)]
        received: Option<String>,
        #[arg(long)]
        url: Option<String>,
        #[arg(long)]
        respondent: Option<String>,
    },
    /// Add a line to an addressee's action plan.
    Action {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        title: String,
        #[arg(long)]
        owner: Option<String>,
        #[arg(long)]
        due: Option<String>,
        /// A link to evidence (repeatable).
        #[arg(long)]
        evidence: Vec<String>,
    },
    /// Report progress: overall, or on one action with --action N.
    Update {
        #[command(flatten)]
        target: Target,
        /// not_started, in_progress, substantially_progressed, implemented.
        #[arg(long)]
        implementation: String,
        #[arg(long)]
        note: Option<String>,
        #[arg(long)]
        evidence: Vec<String>,
        /// The action's number in the plan (1 = first).
        #[arg(long)]
        action: Option<usize>,
    },
    /// The issuer's assessment of a response.
    Assess {
        #[command(flatten)]
        target: Target,
        /// fully_satisfactory, satisfactory_intent, satisfactory_in_part, unsatisfactory, unable_to_assess.
        #[arg(long)]
        verdict: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Close an addressee's part with a reason (the recommendation closes
    /// when every part is closed).
    Close {
        #[command(flatten)]
        target: Target,
        /// implemented, implemented_alternative, not_implemented, superseded, withdrawn, no_longer_applicable.
        #[arg(long)]
        reason: String,
        #[arg(long)]
        note: Option<String>,
    },
    /// Set an addressee's part aside (dormant).
    Dormant {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        note: Option<String>,
    },
    /// Reopen a dormant or closed part.
    Reopen {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        note: Option<String>,
    },
    /// Schedule a reassessment.
    Reassess {
        #[command(flatten)]
        target: Target,
        /// The date to look again (after today).
        #[arg(long)]
        on: String,
    },
    /// Verify that a part closed as implemented was done.
    Verify {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        note: Option<String>,
    },
    /// Take the next step of the escalation ladder for a late answer.
    Escalate {
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        note: Option<String>,
    },
}

fn date(flag: &str, s: &str) -> anyhow::Result<NaiveDate> {
    s.trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("--{flag}: {s:?} is not a date (YYYY-MM-DD)"))
}

fn opt_date(flag: &str, s: Option<String>) -> anyhow::Result<Option<NaiveDate>> {
    s.map(|s| date(flag, &s)).transpose()
}

fn parse<T: std::str::FromStr<Err = String>>(flag: &str, s: &str) -> anyhow::Result<T> {
    s.parse().map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
}

async fn run_as(svc: &Services, operator: Principal, cmd: MoveCommand) -> anyhow::Result<()> {
    let (target, mv) = match cmd {
        MoveCommand::Respond {
            target,
            acceptance,
            text,
            reasons,
            received,
            url,
            respondent,
        } => (
            target,
            Move::Respond {
                received: opt_date("received", received)?,
                acceptance: parse::<Acceptance>("acceptance", &acceptance)?,
                text,
                reasons,
                url,
                respondent,
            },
        ),
        MoveCommand::Action {
            target,
            title,
            owner,
            due,
            evidence,
        } => (
            target,
            Move::AddAction {
                title,
                owner,
                due: opt_date("due", due)?,
                evidence,
            },
        ),
        MoveCommand::Update {
            target,
            implementation,
            note,
            evidence,
            action,
        } => (
            target,
            Move::Update {
                implementation: parse::<Implementation>("implementation", &implementation)?,
                note,
                evidence,
                action,
            },
        ),
        MoveCommand::Assess {
            target,
            verdict,
            comment,
        } => (
            target,
            Move::Assess {
                verdict: parse::<Assessment>("verdict", &verdict)?,
                comment,
            },
        ),
        MoveCommand::Close {
            target,
            reason,
            note,
        } => (
            target,
            Move::Close {
                reason: parse::<ClosureReason>("reason", &reason)?,
                note,
            },
        ),
        MoveCommand::Dormant { target, note } => (target, Move::Dormant { note }),
        MoveCommand::Reopen { target, note } => (target, Move::Reopen { note }),
        MoveCommand::Reassess { target, on } => (
            target,
            Move::Reassess {
                on: date("on", &on)?,
            },
        ),
        MoveCommand::Verify { target, note } => (target, Move::Verify { note }),
        MoveCommand::Escalate { target, note } => (target, Move::Escalate { note }),
    };
    let id = RecommendationId::parse(&target.id).map_err(|e| anyhow::anyhow!("ID: {e}"))?;
    let who = match &target.as_org {
        Some(code) => {
            let org = OrgCode::parse(code).map_err(|e| anyhow::anyhow!("--as: {e}"))?;
            // Only an organisation the register knows.
            svc.as_principal(operator.clone())
                .organisation(&org)
                .await?;
            Principal::acting_for(org.clone(), format!("cli:as:{org}"))
        }
        None => operator,
    };
    let done = svc
        .as_principal(who.clone())
        .apply_move(&id, &target.addressee, &mv)
        .await;
    let rec = svc
        .audit_if_refused(
            &who,
            &format!("concord {}", mv.name()),
            &id.to_string(),
            done,
        )
        .await?;
    let mut out = std::io::stdout().lock();
    if target.json {
        serde_json::to_writer_pretty(&mut out, &rec)?;
        writeln!(out)?;
    } else {
        let i = concord_app::find_addressee(&rec.data, &target.addressee)?;
        writeln!(out, "{}", summary(&rec, i))?;
    }
    Ok(())
}

/// One line: where this addressee's part now stands.
pub fn summary(rec: &Recommendation, i: usize) -> String {
    let a = &rec.data.addressees[i];
    let mut parts = vec![a.status.as_str().to_string()];
    if let Some(x) = a.acceptance {
        parts.push(format!("acceptance {x}"));
    }
    if let Some(x) = a.implementation {
        parts.push(format!("implementation {x}"));
    }
    if let Some(x) = &a.assessment {
        parts.push(format!("assessed {}", x.verdict));
    }
    if let Some(x) = &a.closure {
        parts.push(format!("closed {} on {}", x.reason, x.on));
    }
    if let Some(x) = a.escalations.last() {
        parts.push(format!("escalated: {} on {}", x.step, x.on));
    }
    if !a.actions.is_empty() {
        parts.push(format!("{} action(s)", a.actions.len()));
    }
    format!(
        "{} {} ({}): {}; recommendation {} (version {})",
        rec.id,
        a.name,
        a.org.as_ref().map(|o| o.as_str()).unwrap_or("no code"),
        parts.join(", "),
        rec.data.status,
        rec.version
    )
}

/// Runs the command as the operator at the command line.
pub async fn run(ctx: &crate::commands::Context, cmd: MoveCommand) -> anyhow::Result<()> {
    run_as(&ctx.open().await?, crate::commands::operator(), cmd).await
}
