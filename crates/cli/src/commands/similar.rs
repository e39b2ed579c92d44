//! `concord similar` and `concord duplicates`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use concord_app::{Principal, Services, SimilarMethod};
use concord_domain::RecommendationId;

/// A text, a file's text or a record to compare with the register.
#[derive(clap::Args)]
pub struct SimilarArgs {
    #[arg(long, conflicts_with_all = ["id", "file"], required_unless_present_any = ["id", "file"])]
    pub text: Option<String>,
    #[arg(long, conflicts_with = "file")]
    pub id: Option<String>,
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=200))]
    pub limit: u16,
}

/// `concord duplicates`.
#[derive(clap::Args)]
pub struct DuplicatesArgs {
    #[arg(long)]
    pub json: bool,
}

/// `concord endorse`.
#[derive(clap::Args)]
pub struct EndorseArgs {
    /// The recommendation, ISSUER-YYYY-NNNN.
    pub id: String,
    /// The endorsing organisation (registered); without it, the
    /// endorsements are listed.
    #[arg(long = "as")]
    pub as_org: Option<String>,
    /// What the endorsing body adds.
    #[arg(long)]
    pub note: Option<String>,
    /// Withdraw the organisation's endorsement instead.
    #[arg(long, requires = "as_org")]
    pub withdraw: bool,
    #[arg(long)]
    pub json: bool,
}

/// Keeps the similarity index and the dashboard's figures beside the
/// search index between runs, and
/// turns on the meaning signal when this build has it and the MiniLM
/// weights are there (`$CONCORD_MINILM_DIR`, else models/all-MiniLM-L6-v2),
/// its vectors kept there too. Returns the one line that says which
/// signal answers (a server prints it at start).
pub fn attach_derived(svc: &Services, db: &str, index_dir: Option<&Path>) -> String {
    let dir = crate::commands::search::index_dir(db, index_dir);
    svc.keep_derived_beside(&dir);
    svc.enable_embeddings(None, &concord_app::vectors_path_beside(&dir))
        .note
}

pub async fn similar(svc: &Services, who: &Principal, a: SimilarArgs) -> anyhow::Result<()> {
    // A one-shot command cannot leave a worker behind: the vectors it lacks
    // are computed now (once; the file keeps them for the next run).
    if svc.similar_method() == SimilarMethod::LexicalEmbeddings {
        let n = svc
            .catch_up_vectors(&|done, of| {
                if done == of || done % 64 == 0 {
                    eprint!("\rsimilarity: computed {done} of {of} vectors");
                }
            })
            .await?;
        if n > 0 {
            eprintln!();
        }
    }
    let svc = svc.as_principal(who.clone());
    let limit = usize::from(a.limit);
    let answer = match (&a.text, &a.id, &a.file) {
        (Some(t), None, None) => svc.similar_answer_for_text(t, limit).await?,
        (None, Some(id), None) => {
            let id = RecommendationId::parse(id).map_err(|e| anyhow::anyhow!("--id: {e}"))?;
            svc.similar_answer_for_record(&id, limit).await?
        }
        (None, None, Some(f)) => {
            let t = std::fs::read_to_string(f)
                .with_context(|| format!("{}: cannot read as UTF-8 text", f.display()))?;
            svc.similar_answer_for_text(&t, limit)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?
        }
        _ => anyhow::bail!("give exactly one of --text TEXT, --id ID or --file FILE"),
    };
    let matches = answer.matches;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({ "method": answer.method, "matches": matches }),
        )?;
        writeln!(out)?;
    } else if matches.is_empty() {
        writeln!(out, "no similar recommendation found")?;
    } else {
        for m in &matches {
            writeln!(
                out,
                "{:<18} {:.2} {:<11} {}",
                m.id, m.score, m.relation, m.reason
            )?;
        }
    }
    Ok(())
}

pub async fn duplicates(svc: &Services, who: &Principal, json: bool) -> anyhow::Result<()> {
    let groups = svc.as_principal(who.clone()).duplicate_groups().await?;
    let mut out = std::io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "groups": groups }))?;
        writeln!(out)?;
    } else if groups.is_empty() {
        writeln!(out, "no groups of duplicates found")?;
    } else {
        for g in &groups {
            writeln!(out, "{:.2} {}", g.score, g.ids.join(" "))?;
        }
    }
    Ok(())
}

/// What `concord link` does to one link.
#[derive(clap::Subcommand)]
pub enum LinkAction {
    /// Confirm a link (for instance an engine's suggestion).
    Confirm { id: String, target: String },
    /// Dismiss a link: it stays on the record, marked dismissed, and is
    /// never suggested again.
    Dismiss { id: String, target: String },
    /// Decide on a pair the similarity engine suggests (as `concord
    /// duplicates`, `contradictions` or `related` list them): stores a link of
    /// the engine's kind, confirmed or dismissed; a dismissed pair never
    /// comes back in the lists.
    Decide {
        id: String,
        target: String,
        /// confirmed or dismissed.
        state: String,
    },
    /// Assert a confirmed link of a kind (duplicates, supports, contradicts,
    /// supersedes, builds_on, related) to a Concord id or an external reference.
    Add {
        id: String,
        target: String,
        #[arg(long, default_value = "related")]
        kind: String,
    },
}

/// `concord link confirm|dismiss|add ID TARGET`: through the same use cases
/// as the API; prints the record's links as they now stand.
/// `concord endorse`: as ORG, endorse (or withdraw); without ORG, list.
pub async fn endorse(
    svc: &Services,
    operator: Principal,
    id: &str,
    as_org: Option<&str>,
    note: Option<&str>,
    withdraw: bool,
    json: bool,
) -> anyhow::Result<()> {
    let id = RecommendationId::parse(id).map_err(|e| anyhow::anyhow!("ID: {e}"))?;
    let mut out = std::io::stdout().lock();
    let Some(code) = as_org else {
        let list = svc.as_principal(operator).endorsements(&id).await?;
        if json {
            serde_json::to_writer_pretty(&mut out, &list)?;
            writeln!(out)?;
        } else if list.is_empty() {
            writeln!(out, "no body endorses {id}")?;
        } else {
            for e in &list {
                writeln!(
                    out,
                    "{} endorsed by {} on {}{}",
                    id,
                    e.org,
                    e.at.date_naive(),
                    e.note
                        .as_deref()
                        .map(|n| format!(": {n}"))
                        .unwrap_or_default()
                )?;
            }
        }
        return Ok(());
    };
    let org = concord_domain::OrgCode::parse(code).map_err(|e| anyhow::anyhow!("--as: {e}"))?;
    svc.as_principal(operator.clone())
        .organisation(&org)
        .await?;
    let who = Principal::acting_for(org.clone(), format!("cli:as:{org}"));
    let auth = svc.as_principal(who.clone());
    if withdraw {
        let done = auth.withdraw_endorsement(&id).await;
        svc.audit_if_refused(&who, "concord endorse --withdraw", &id.to_string(), done)
            .await?;
        writeln!(out, "{org} no longer endorses {id}")?;
    } else {
        let done = auth.endorse(&id, note).await;
        let e = svc
            .audit_if_refused(&who, "concord endorse", &id.to_string(), done)
            .await?;
        if json {
            serde_json::to_writer_pretty(&mut out, &e)?;
            writeln!(out)?;
        } else {
            writeln!(out, "{} endorsed by {}", id, e.org)?;
        }
    }
    Ok(())
}

pub async fn link(svc: &Services, who: &Principal, action: LinkAction) -> anyhow::Result<()> {
    use concord_domain::{LinkKind, LinkState};
    let svc = svc.as_principal(who.clone());
    let parse = |id: &str| RecommendationId::parse(id).map_err(|e| anyhow::anyhow!("ID: {e}"));
    let rec = match action {
        LinkAction::Confirm { id, target } => {
            svc.set_link_state(&parse(&id)?, &target, LinkState::Confirmed)
                .await?
        }
        LinkAction::Dismiss { id, target } => {
            svc.set_link_state(&parse(&id)?, &target, LinkState::Dismissed)
                .await?
        }
        LinkAction::Decide { id, target, state } => {
            let state = match state.parse::<LinkState>() {
                Ok(s) if s != LinkState::Suggested => s,
                _ => anyhow::bail!("STATE: {state:?} is not one of: confirmed, dismissed"),
            };
            svc.decide_pair(&parse(&id)?, &target, state).await?
        }
        LinkAction::Add { id, target, kind } => {
            let kind: LinkKind = kind.parse().map_err(|e| anyhow::anyhow!("--kind: {e}"))?;
            svc.assert_link(&parse(&id)?, kind, &target).await?
        }
    };
    let mut out = std::io::stdout().lock();
    for l in &rec.data.links {
        writeln!(out, "{} {} {} {}", rec.id, l.kind, l.target, l.state)?;
    }
    Ok(())
}

pub async fn run(ctx: &crate::commands::Context, args: SimilarArgs) -> anyhow::Result<()> {
    let svc = ctx.open().await?;
    attach_derived(&svc, &ctx.db, ctx.index_dir());
    similar(&svc, &crate::commands::operator(), args).await
}

pub async fn run_duplicates(
    ctx: &crate::commands::Context,
    args: DuplicatesArgs,
) -> anyhow::Result<()> {
    duplicates(&ctx.open().await?, &crate::commands::operator(), args.json).await
}

pub async fn run_endorse(ctx: &crate::commands::Context, a: EndorseArgs) -> anyhow::Result<()> {
    endorse(
        &ctx.open().await?,
        crate::commands::operator(),
        &a.id,
        a.as_org.as_deref(),
        a.note.as_deref(),
        a.withdraw,
        a.json,
    )
    .await
}

pub async fn run_link(ctx: &crate::commands::Context, action: LinkAction) -> anyhow::Result<()> {
    let svc = ctx.open().await?;
    link(&svc, &crate::commands::operator(), action).await?;
    crate::commands::search::after_write(&svc, &ctx.db, ctx.index_dir()).await;
    Ok(())
}
