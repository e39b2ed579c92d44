//! `concord`: the command line. Each command is a thin shell around one
//! application service (`commands/<name>.rs` owns its arguments and its
//! `run`); errors print one line on stderr and exit 1, usage errors exit 2
//! (clap's), never a stack trace.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use concord_app::AppError;

mod commands;
mod progress;

use commands::{
    Context, backup, check, criteria, dashboard, demo, export, generate, import, lifecycle, list,
    org, overdue, oversight, priorities, restore, rules, search, serve, show, similar, token,
    users, workstreams,
};

const DEFAULT_DB: &str = "sqlite://concord.db";

#[derive(Parser)]
#[command(
    name = "concord",
    version,
    about = "Concord: the register of patient-safety recommendations and what happened to each"
)]
struct Cli {
    /// Database URL: sqlite://FILE (created on first use) or postgres://user@host:port/name.
    #[arg(long, global = true, env = "CONCORD_DB", default_value = DEFAULT_DB)]
    db: String,
    /// The search index folder (default: beside the SQLite file, concord.db -> concord.index).
    #[arg(long, global = true, env = "CONCORD_INDEX_DIR")]
    index_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web pages and the API.
    Serve(serve::ServeArgs),
    /// Fill a fresh database in a temporary folder with the demo data and serve it.
    Demo(demo::DemoArgs),
    /// Add records from files (idempotent: importing a file again adds nothing).
    Import(import::ImportArgs),
    #[command(flatten)]
    Lifecycle(lifecycle::MoveCommand),
    /// The ranked, de-duplicated list of recommendations that apply to a provider.
    Priorities(priorities::PrioritiesArgs),
    /// A provider's profile (kind, settings, region), from which its priorities follow.
    #[command(subcommand)]
    Profile(priorities::ProfileCommand),
    /// Deadline rules per issuer: response period and escalation ladder.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Write every recommendation with its addressees, links and responses.
    Export(export::ExportArgs),
    /// Show one recommendation.
    Show(show::ShowArgs),
    /// List recommendations, filtered.
    List(list::ListArgs),
    /// Write a synthetic corpus for benchmarks.
    Gen(generate::GenArgs),
    /// Ranked full-text search, with counts by issuer, addressee, theme, setting, status and year.
    Search(search::SearchArgs),
    /// Every addressee whose answer is past due and not received, as of today or --as-of.
    Overdue(overdue::OverdueArgs),
    /// The oversight dashboard: open, overdue, answered and implemented by issuer,
    /// addressee, theme, setting and year; response times; the oldest overdue;
    /// open recommendations and cost by kind of provider.
    Dashboard(dashboard::DashboardArgs),
    /// Rebuild the search index from the database.
    Reindex,
    /// Write a consistent backup of the whole database.
    Backup(backup::BackupArgs),
    /// Load a backup into an empty database.
    Restore(restore::RestoreArgs),
    /// Existing recommendations that duplicate, support, contradict or
    /// relate to a text, a file's text or a recommendation in the register.
    Similar(similar::SimilarArgs),
    /// Confirm, dismiss or assert a link between recommendations.
    #[command(subcommand)]
    Link(similar::LinkAction),
    /// Stand behind another body's published recommendation instead of
    /// repeating it (acting as that body), or list who endorses one.
    Endorse(similar::EndorseArgs),
    /// Corpus-wide groups of duplicate recommendations.
    Duplicates(similar::DuplicatesArgs),
    /// Every suspected contradiction in the register (pairs a person
    /// dismissed are left out; confirmed ones are marked).
    Contradictions(oversight::ContradictionsArgs),
    /// What others say about one recommendation: also said by, contradicted
    /// by, related (stored links and the engine's matches).
    Related(oversight::RelatedArgs),
    /// Check drafts (a JSON file of one draft or an array; - for standard
    /// input) against the quality criteria. Exits 0 when the check ran, even
    /// if drafts fail criteria; 1 for input it cannot read.
    Check(check::CheckArgs),
    /// Each issuing body's own quality criteria set.
    #[command(subcommand)]
    Criteria(criteria::CriteriaCommand),
    /// Organisations in the register.
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// API tokens for organisations.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// People who may sign in, and their roles in each organisation.
    #[command(subcommand)]
    User(users::UserCommand),
    /// The register of ongoing work: add, list, show, and preview overlaps.
    #[command(subcommand)]
    Workstream(workstreams::WorkstreamCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONCORD_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr);
    // One JSON object per line for a log collector; plain lines otherwise.
    match std::env::var("CONCORD_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().init(),
        Ok("text") | Err(_) => logs.init(),
        Ok(other) => {
            eprintln!("error: CONCORD_LOG_FORMAT={other:?}: say json or text");
            return ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line (the app's messages may list rejected rows beneath it).
            match e.downcast_ref::<AppError>() {
                Some(app) => eprintln!("error: {app}"),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = &Context {
        db: cli.db,
        index_dir: cli.index_dir,
    };
    match cli.command {
        Command::Serve(args) => serve::run(ctx, args).await,
        Command::Demo(args) => demo::run(ctx, args).await,
        Command::Import(args) => import::run(ctx, args).await,
        Command::Lifecycle(cmd) => lifecycle::run(ctx, cmd).await,
        Command::Priorities(args) => priorities::run(ctx, args).await,
        Command::Profile(cmd) => priorities::run_profile(ctx, cmd).await,
        Command::Rules(cmd) => rules::run(ctx, cmd).await,
        Command::Export(args) => export::run(ctx, args).await,
        Command::Show(args) => show::run(ctx, args).await,
        Command::List(args) => list::run(ctx, args).await,
        Command::Gen(args) => generate::run(args),
        Command::Search(args) => search::run(ctx, args).await,
        Command::Overdue(args) => overdue::run(ctx, args).await,
        Command::Dashboard(args) => dashboard::run(ctx, args).await,
        Command::Reindex => search::run_reindex(ctx).await,
        Command::Backup(args) => backup::run(ctx, args).await,
        Command::Restore(args) => restore::run(ctx, args).await,
        Command::Similar(args) => similar::run(ctx, args).await,
        Command::Link(action) => similar::run_link(ctx, action).await,
        Command::Endorse(args) => similar::run_endorse(ctx, args).await,
        Command::Duplicates(args) => similar::run_duplicates(ctx, args).await,
        Command::Contradictions(args) => oversight::run_contradictions(ctx, args).await,
        Command::Related(args) => oversight::run_related(ctx, args).await,
        Command::Check(args) => check::run(ctx, args).await,
        Command::Criteria(cmd) => criteria::run(ctx, cmd).await,
        Command::Org(cmd) => org::run(ctx, cmd).await,
        Command::Token(cmd) => token::run(ctx, cmd).await,
        Command::User(cmd) => users::run(ctx, cmd).await,
        Command::Workstream(cmd) => workstreams::run(ctx, cmd).await,
    }
}
