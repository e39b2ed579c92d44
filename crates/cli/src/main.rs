//! `concord`: the command line. Each command is a thin shell around one
//! application service; errors print one line on stderr and exit 1, usage
//! errors exit 2 (clap's), never a stack trace.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use concord_app::{
    AppError, ExportFormat, Format, ImportOptions, Page, Principal, RecommendationFilter, Services,
};
use concord_domain::{
    Lifecycle, OrgCode, OrgKind, OrgLevel, Organisation, ProviderKind, RecKind, RecommendationId,
};

mod dashboard;
mod lifecycle;
mod overdue;
mod oversight;
mod priorities;
mod progress;
mod rules;
mod search_cmd;
mod show;
mod similar;
mod users;
mod workstreams;

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
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Mark cookies Secure on every response and send HSTS. The default
        /// when the server listens beyond loopback, has a --trusted-proxy or
        /// an https --public-url; otherwise only requests that came with
        /// X-Forwarded-Proto: https get Secure cookies.
        #[arg(long)]
        secure_cookies: bool,
        /// Never mark cookies Secure by default (a server others reach over
        /// plain HTTP, on a closed network): sessions then travel unencrypted.
        #[arg(long, conflicts_with = "secure_cookies")]
        insecure_cookies: bool,
        /// The reverse proxy's address (e.g. 127.0.0.1 for nginx on the same
        /// machine): only its requests have the client's address read from
        /// X-Forwarded-For, for sign-in throttling.
        #[arg(long, value_name = "IP")]
        trusted_proxy: Option<std::net::IpAddr>,
        /// The address the public reaches Concord at (e.g.
        /// https://concord.example.nhs.uk): the start of the links in feeds,
        /// whatever Host a request names.
        #[arg(long, value_name = "URL", value_parser = public_url)]
        public_url: Option<String>,
        /// Also listen here for operators: GET /metrics (Prometheus text
        /// format: requests and latency by route, index lag, database pool,
        /// sign-in refusals), /healthz and /readyz. Keep it off the public
        /// network (e.g. 127.0.0.1:9180).
        #[arg(long, value_name = "ADDR")]
        metrics_addr: Option<String>,
    },
    /// Fill a fresh database in a temporary folder with the demo data and serve it.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Instead: load the demo data into the database named by --db, and exit.
        #[arg(long)]
        load: bool,
    },
    /// Add records from files (idempotent: importing a file again adds nothing).
    Import(ImportArgs),
    #[command(flatten)]
    Lifecycle(lifecycle::MoveCommand),
    /// The ranked, de-duplicated list of recommendations that apply to a provider.
    Priorities {
        /// The provider's organisation code.
        #[arg(long)]
        org: String,
        /// JSON (as CONTRACT.md); same as --format json.
        #[arg(long)]
        json: bool,
        /// text (default), json, or csv (an action plan).
        #[arg(long, value_enum)]
        format: Option<priorities::PlanFormat>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A provider's profile (kind, settings, region), from which its priorities follow.
    #[command(subcommand)]
    Profile(priorities::ProfileCommand),
    /// Deadline rules per issuer: response period and escalation ladder.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Write every recommendation with its addressees, links and responses.
    Export {
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormatArg,
        /// File to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show one recommendation.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// List recommendations, filtered.
    List(ListArgs),
    /// Write a synthetic corpus for benchmarks.
    Gen {
        #[arg(long)]
        count: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// A PFD judiciary CSV to draw the vocabulary from (default: the built-in one).
        #[arg(long)]
        vocab: Option<PathBuf>,
        /// JSON lines (default, fast) or one JSON array (importable as --format json).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: GenFormat,
        /// Exactly this many addressees per record (default: 1 to 4).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=20))]
        addressees: Option<u8>,
    },
    /// Ranked full-text search, with counts by issuer, addressee, theme, setting, status and year.
    Search(search_cmd::SearchArgs),
    /// Every addressee whose answer is past due and not received, as of today or --as-of.
    Overdue(overdue::OverdueArgs),
    /// The oversight dashboard: open, overdue, answered and implemented by issuer,
    /// addressee, theme, setting and year; response times; the oldest overdue;
    /// open recommendations and cost by kind of provider.
    Dashboard(dashboard::DashboardArgs),
    /// Rebuild the search index from the database.
    Reindex,
    /// Write a consistent backup of the whole database.
    Backup { file: PathBuf },
    /// Load a backup into an empty database.
    Restore { file: PathBuf },
    /// Existing recommendations that duplicate, support, contradict or
    /// relate to a text, a file's text or a recommendation in the register.
    Similar {
        #[arg(long, conflicts_with_all = ["id", "file"], required_unless_present_any = ["id", "file"])]
        text: Option<String>,
        #[arg(long, conflicts_with = "file")]
        id: Option<String>,
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=200))]
        limit: u16,
    },
    /// Confirm, dismiss or assert a link between recommendations.
    #[command(subcommand)]
    Link(similar::LinkAction),
    /// Stand behind another body's published recommendation instead of
    /// repeating it (acting as that body), or list who endorses one.
    Endorse {
        /// The recommendation, ISSUER-YYYY-NNNN.
        id: String,
        /// The endorsing organisation (registered); without it, the
        /// endorsements are listed.
        #[arg(long = "as")]
        as_org: Option<String>,
        /// What the endorsing body adds.
        #[arg(long)]
        note: Option<String>,
        /// Withdraw the organisation's endorsement instead.
        #[arg(long, requires = "as_org")]
        withdraw: bool,
        #[arg(long)]
        json: bool,
    },
    /// Corpus-wide groups of duplicate recommendations.
    Duplicates {
        #[arg(long)]
        json: bool,
    },
    /// Every suspected contradiction in the register (pairs a person
    /// dismissed are left out; confirmed ones are marked).
    Contradictions {
        #[arg(long)]
        json: bool,
    },
    /// What others say about one recommendation: also said by, contradicted
    /// by, related (stored links and the engine's matches).
    Related {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Check drafts (a JSON file of one draft or an array; - for standard
    /// input) against the quality criteria. Exits 0 when the check ran, even
    /// if drafts fail criteria; 1 for input it cannot read.
    Check {
        file: String,
        #[arg(long)]
        json: bool,
        /// A criteria set (JSON) to use instead of each issuer's own or the default.
        #[arg(long)]
        ruleset: Option<PathBuf>,
        /// Judge deadlines as of this date (YYYY-MM-DD) instead of today: a
        /// review of drafts written earlier, or an evaluation set.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Each issuing body's own quality criteria set.
    #[command(subcommand)]
    Criteria(CriteriaCommand),
    /// Organisations in the register.
    #[command(subcommand)]
    Org(OrgCommand),
    /// API tokens for organisations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// People who may sign in, and their roles in each organisation.
    #[command(subcommand)]
    User(users::UserCommand),
    /// The register of ongoing work: add, list, show, and preview overlaps.
    #[command(subcommand)]
    Workstream(workstreams::WorkstreamCommand),
}

#[derive(Args)]
struct ImportArgs {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    format: ImportFormatArg,
    /// Read and check everything, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Import the good rows and write rejected ones to a report file.
    #[arg(long)]
    partial: bool,
    /// Where --partial writes rejected rows (default: FILE.rejected.csv).
    #[arg(long)]
    report: Option<PathBuf>,
}

#[derive(Args)]
struct ListArgs {
    #[arg(long)]
    issuer: Option<String>,
    #[arg(long)]
    addressee: Option<String>,
    #[arg(long)]
    theme: Option<String>,
    #[arg(long)]
    setting: Option<String>,
    #[arg(long)]
    status: Option<String>,
    #[arg(long)]
    kind: Option<String>,
    /// Published on or after (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Published on or before (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    #[arg(long, default_value_t = 50)]
    limit: u64,
    #[arg(long, default_value_t = 0)]
    offset: u64,
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum OrgCommand {
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

#[derive(Subcommand)]
enum CriteriaCommand {
    /// Load an organisation's own criteria set from a JSON file (checked first).
    Set {
        #[arg(long)]
        org: String,
        file: PathBuf,
    },
    /// Show the criteria set that applies to an organisation.
    Show {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// Go back to Concord's default set for an organisation.
    Clear {
        #[arg(long)]
        org: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an organisation; the secret is shown once.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "api")]
        label: String,
        /// What the token may do (repeat, or separate with commas); by
        /// default every role but administrator.
        #[arg(long = "role", value_delimiter = ',')]
        roles: Vec<String>,
    },
    /// Revoke a token by its number.
    Revoke { id: i64 },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormatArg {
    Json,
    Csv,
    Xlsx,
}

#[derive(Clone, Copy, ValueEnum)]
enum GenFormat {
    Jsonl,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum ImportFormatArg {
    Auto,
    Json,
    Csv,
    Xlsx,
    PfdJudiciary,
    PfdToolkit,
    PfdToolkitResponses,
}

impl ImportFormatArg {
    fn format(self) -> Option<Format> {
        match self {
            ImportFormatArg::Auto => None,
            ImportFormatArg::Json => Some(Format::Json),
            ImportFormatArg::Csv => Some(Format::Csv),
            ImportFormatArg::Xlsx => Some(Format::Xlsx),
            ImportFormatArg::PfdJudiciary => Some(Format::PfdJudiciary),
            ImportFormatArg::PfdToolkit => Some(Format::PfdToolkit),
            ImportFormatArg::PfdToolkitResponses => Some(Format::PfdToolkitResponses),
        }
    }
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

fn operator() -> Principal {
    let user = std::env::var("USER").unwrap_or_else(|_| "operator".into());
    Principal::Operator {
        label: format!("cli:{user}"),
    }
}

async fn open(db: &str) -> anyhow::Result<Services> {
    Services::open(db)
        .await
        .map_err(|e| anyhow::Error::new(e).context(format!("cannot open the database {db}")))
}

/// `--public-url`: an http(s) address with a host and nothing a link
/// could be broken out of.
fn public_url(text: &str) -> Result<String, String> {
    let t = text.trim().trim_end_matches('/');
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or("must start with https:// (or http://)")?;
    if rest.is_empty()
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'/' | b'_'))
    {
        return Err("must be a plain address such as https://concord.example.nhs.uk".into());
    }
    Ok(t.to_string())
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            addr,
            secure_cookies,
            insecure_cookies,
            trusted_proxy,
            public_url,
            metrics_addr,
        } => {
            let services = Arc::new(open(&cli.db).await?);
            search_cmd::attach(&services, &cli.db, cli.index_dir.as_deref())?;
            eprintln!(
                "{}",
                similar::enable_embeddings(&services, &cli.db, cli.index_dir.as_deref())
            );
            let options = concord_server::ServerOptions {
                secure_cookies,
                trusted_proxy,
                public_url,
                ..Default::default()
            };
            let cookies = match (secure_cookies, insecure_cookies) {
                (true, _) => Cookies::Secure,
                (_, true) => Cookies::Insecure,
                _ => Cookies::ByDefault,
            };
            if let Some(m) = metrics_addr {
                let listener = tokio::net::TcpListener::bind(&m)
                    .await
                    .with_context(|| format!("cannot listen on {m} (--metrics-addr)"))?;
                eprintln!("metrics on http://{}/metrics", listener.local_addr()?);
                let (services, options) = (services.clone(), options.clone());
                tokio::spawn(async move {
                    // Ends with the process: the public listener's stop ends it.
                    let forever = std::future::pending::<()>();
                    if let Err(e) =
                        concord_server::serve_metrics(listener, services, options, forever).await
                    {
                        eprintln!("the metrics listener stopped: {e}");
                    }
                });
            }
            serve(services, &addr, options, cookies).await
        }
        Command::Demo { load: true, .. } => {
            let services = open(&cli.db).await?;
            let report = services
                .as_principal(operator())
                .operator()?
                .load_demo()
                .await?;
            search_cmd::after_write(&services, &cli.db, cli.index_dir.as_deref()).await;
            println!("{}", report.summary());
            Ok(())
        }
        Command::Demo { addr, load: false } => {
            let dir = tempfile::Builder::new()
                .prefix("concord-demo-")
                .tempdir()
                .context("cannot make a temporary folder")?;
            let url = format!("sqlite://{}", dir.path().join("demo.db").display());
            let services = Arc::new(open(&url).await?);
            let report = services
                .as_principal(operator())
                .operator()?
                .load_demo()
                .await?;
            let accounts = services
                .as_principal(operator())
                .add_demo_accounts()
                .await?;
            search_cmd::attach(&services, &url, None)?;
            eprintln!("{}", similar::enable_embeddings(&services, &url, None));
            eprintln!(
                "demo database {url}: loaded {} recommendations",
                report.imported
            );
            // On stdout, one line each, so that scripts (the browser
            // journeys) can sign in; the passwords are new each run.
            println!("Sign in at /sign-in as one of these (passwords made for this run):");
            for a in &accounts {
                let roles: Vec<&str> = a.roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "demo account: {} {} {} {} - {}",
                    a.email,
                    a.password,
                    a.org,
                    roles.join(","),
                    a.about
                );
            }
            // A throwaway copy with made-up accounts, often reached over
            // plain HTTP from another machine: Secure cookies would only
            // stop its sign-in working there.
            let result = serve(
                services,
                &addr,
                concord_server::ServerOptions::default(),
                Cookies::Insecure,
            )
            .await;
            drop(dir);
            result
        }
        Command::Priorities {
            org,
            json,
            format,
            limit,
            out,
        } => {
            let svc = open(&cli.db).await?;
            priorities::priorities(&svc, operator(), &org, json, format, limit, out).await
        }
        Command::Rules(cmd) => rules::run(&open(&cli.db).await?, operator(), cmd).await,
        Command::Profile(cmd) => {
            let svc = open(&cli.db).await?;
            priorities::profile(&svc, operator(), cmd).await
        }
        Command::Lifecycle(cmd) => {
            let svc = open(&cli.db).await?;
            lifecycle::run(&svc, operator(), cmd).await
        }
        Command::Import(args) => {
            let dry_run = args.dry_run;
            import(&cli.db, args).await?;
            if !dry_run {
                let services = open(&cli.db).await?;
                search_cmd::after_write(&services, &cli.db, cli.index_dir.as_deref()).await;
            }
            Ok(())
        }
        Command::Search(args) => {
            let services = open(&cli.db).await?;
            search_cmd::search(&services, &cli.db, cli.index_dir.as_deref(), args).await
        }
        Command::Overdue(args) => {
            let services = open(&cli.db).await?;
            overdue::overdue(&services, operator(), args).await
        }
        Command::Workstream(cmd) => {
            let services = open(&cli.db).await?;
            workstreams::run(&services, operator(), cmd).await
        }
        Command::Dashboard(args) => {
            let services = open(&cli.db).await?;
            dashboard::dashboard(&services, operator(), args).await
        }
        Command::Reindex => {
            let services = open(&cli.db).await?;
            search_cmd::reindex(&services, &cli.db, cli.index_dir.as_deref()).await
        }
        Command::Export { format, out } => export(&cli.db, format, out).await,
        Command::Show { id, json } => {
            let id = RecommendationId::parse(&id).map_err(|e| anyhow::anyhow!("{e}"))?;
            let services = open(&cli.db).await?;
            let rec = services
                .as_principal(operator())
                .recommendation(&id)
                .await?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &rec)?;
                writeln!(out)?;
            } else {
                show::write_text(&mut out, &rec)?;
            }
            Ok(())
        }
        Command::List(args) => list(&cli.db, args).await,
        Command::Gen {
            count,
            seed,
            out,
            vocab,
            format,
            addressees,
        } => generate(
            count,
            seed,
            &out,
            vocab.as_deref(),
            format,
            concord_ingest::GenOptions {
                addressees: addressees.map(usize::from),
            },
        ),
        Command::Backup { file } => {
            let services = open(&cli.db).await?;
            let n = write_atomically(&file, |w| {
                let rt = tokio::runtime::Handle::current();
                tokio::task::block_in_place(|| {
                    rt.block_on(services.as_principal(operator()).operator()?.backup(w))
                })
                .map_err(anyhow::Error::new)
            })?;
            println!("backed up {n} rows to {}", file.display());
            Ok(())
        }
        Command::Similar {
            text,
            id,
            file,
            json,
            limit,
        } => {
            let svc = open(&cli.db).await?;
            similar::enable_embeddings(&svc, &cli.db, cli.index_dir.as_deref());
            let args = similar::SimilarArgs {
                text,
                id,
                file,
                json,
                limit: usize::from(limit),
            };
            similar::similar(&svc, &operator(), args).await
        }
        Command::Endorse {
            id,
            as_org,
            note,
            withdraw,
            json,
        } => {
            let svc = open(&cli.db).await?;
            similar::endorse(
                &svc,
                operator(),
                &id,
                as_org.as_deref(),
                note.as_deref(),
                withdraw,
                json,
            )
            .await
        }
        Command::Link(action) => {
            let svc = open(&cli.db).await?;
            similar::link(&svc, &operator(), action).await?;
            search_cmd::after_write(&svc, &cli.db, cli.index_dir.as_deref()).await;
            Ok(())
        }
        Command::Duplicates { json } => {
            let svc = open(&cli.db).await?;
            similar::duplicates(&svc, &operator(), json).await
        }
        Command::Contradictions { json } => {
            let svc = open(&cli.db).await?;
            oversight::contradictions(&svc, &operator(), json).await
        }
        Command::Related { id, json } => {
            let svc = open(&cli.db).await?;
            oversight::related(&svc, &operator(), &id, json).await
        }
        Command::Restore { file } => {
            let f = std::fs::File::open(&file)
                .with_context(|| format!("{}: cannot open", file.display()))?;
            let services = open(&cli.db).await?;
            let n = services
                .as_principal(operator())
                .operator()?
                .restore(&mut BufReader::new(f))
                .await?;
            search_cmd::after_write(&services, &cli.db, cli.index_dir.as_deref()).await;
            println!("restored {n} rows from {}", file.display());
            Ok(())
        }
        Command::Check {
            file,
            json,
            ruleset,
            as_of,
        } => check(&cli.db, &file, json, ruleset.as_deref(), as_of.as_deref()).await,
        Command::Criteria(cmd) => criteria(&cli.db, cmd).await,
        Command::Org(cmd) => org(&cli.db, cmd).await,
        Command::Token(cmd) => token(&cli.db, cmd).await,
        Command::User(cmd) => users::run(&open(&cli.db).await?, operator(), cmd).await,
    }
}

/// What the operator said about Secure cookies.
enum Cookies {
    Secure,
    Insecure,
    /// Neither: decided by where the server listens (see
    /// `concord_server::secure_cookies_by_default`).
    ByDefault,
}

async fn serve(
    services: Arc<Services>,
    addr: &str,
    mut options: concord_server::ServerOptions,
    cookies: Cookies,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    options.secure_cookies = match cookies {
        Cookies::Secure => true,
        Cookies::Insecure => false,
        Cookies::ByDefault => concord_server::secure_cookies_by_default(
            local.ip(),
            options.trusted_proxy,
            options.public_url.as_deref(),
        ),
    };
    eprintln!(
        "{}",
        if options.secure_cookies {
            "cookies are marked Secure and HSTS is sent: sign-in works only over HTTPS"
        } else {
            "cookies are not marked Secure (a local copy over plain HTTP)"
        }
    );
    // Scripts read this first line to learn the port.
    println!("listening on http://{local}");
    std::io::stdout().flush()?;
    concord_server::serve_with(listener, services, options, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn import(db: &str, args: ImportArgs) -> anyhow::Result<()> {
    let services = open(db).await?;
    let opts = ImportOptions {
        format: args.format.format(),
        dry_run: args.dry_run,
        partial: args.partial,
        report_path: args.report,
    };
    let bar = progress::bar("importing");
    let report = services
        .as_principal(operator())
        .operator()?
        .import(&args.files, &opts, &|n| bar.set_position(n))
        .await;
    bar.finish_and_clear();
    let report = report?;
    for r in &report.rejected {
        eprintln!("rejected: {r}");
    }
    if let Some(path) = &report.report_file {
        eprintln!("rejected rows written to {}", path.display());
    }
    for v in &report.variants {
        eprintln!("variant: {v}");
    }
    if report.organisations_proposed > 0 {
        eprintln!(
            "{} organisations made from addressee names nobody had registered (`concord org list --unverified` lists them)",
            report.organisations_proposed
        );
    }
    println!("{}", report.summary());
    Ok(())
}

async fn export(db: &str, format: ExportFormatArg, out: Option<PathBuf>) -> anyhow::Result<()> {
    let format = match format {
        ExportFormatArg::Json => ExportFormat::Json,
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Xlsx => ExportFormat::Xlsx,
    };
    let services = open(db).await?;
    let bar = progress::bar("exporting");
    let auth = services.as_principal(operator());
    let run = |w: &mut (dyn Write + Send)| -> anyhow::Result<u64> {
        let rt = tokio::runtime::Handle::current();
        tokio::task::block_in_place(|| {
            rt.block_on(auth.operator()?.export(format, w, &|n| bar.set_position(n)))
        })
        .map_err(anyhow::Error::new)
    };
    let n = match &out {
        Some(path) => write_atomically(path, run)?,
        None => {
            if matches!(format, ExportFormat::Xlsx) {
                anyhow::bail!("an XLSX export needs --out FILE");
            }
            let mut stdout = BufWriter::new(std::io::stdout());
            let n = run(&mut stdout)?;
            stdout.flush()?;
            n
        }
    };
    bar.finish_and_clear();
    if let Some(path) = out {
        eprintln!("exported {n} recommendations to {}", path.display());
    }
    Ok(())
}

/// Writes to a temporary file beside `path` and renames it into place, so a
/// failed or interrupted write never leaves half a file under the real name.
fn write_atomically<T>(
    path: &Path,
    write: impl FnOnce(&mut (dyn Write + Send)) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("{}: cannot write here", dir.display()))?;
    let value = {
        let mut w = BufWriter::new(tmp.as_file_mut());
        let v = write(&mut w)?;
        w.flush()?;
        v
    };
    tmp.persist(path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(value)
}

async fn list(db: &str, a: ListArgs) -> anyhow::Result<()> {
    let parse_date =
        |field: &str, v: &Option<String>| -> anyhow::Result<Option<chrono::NaiveDate>> {
            v.as_deref()
                .map(|s| {
                    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .map_err(|_| anyhow::anyhow!("--{field}: {s:?} is not a date (YYYY-MM-DD)"))
                })
                .transpose()
        };
    let filter = RecommendationFilter {
        issuer: a
            .issuer
            .as_deref()
            .map(OrgCode::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--issuer: {e}"))?,
        addressee: a.addressee,
        theme: a.theme,
        setting: a.setting,
        status: a
            .status
            .as_deref()
            .map(str::parse::<Lifecycle>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--status: {e}"))?,
        kind: a
            .kind
            .as_deref()
            .map(str::parse::<RecKind>)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--kind: {e}"))?,
        from: parse_date("from", &a.from)?,
        to: parse_date("to", &a.to)?,
        ..Default::default()
    };
    let services = open(db).await?;
    let page = services
        .as_principal(operator())
        .recommendations(
            filter,
            Page {
                offset: a.offset,
                limit: a.limit.clamp(1, 10_000),
            },
        )
        .await?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(
            &mut out,
            &serde_json::json!({"total": page.total, "items": page.items}),
        )?;
        writeln!(out)?;
    } else {
        for r in &page.items {
            show::write_line(&mut out, r)?;
        }
        writeln!(out, "{} of {} shown", page.items.len(), page.total)?;
    }
    Ok(())
}

fn generate(
    count: u64,
    seed: u64,
    out: &Path,
    vocab: Option<&Path>,
    format: GenFormat,
    opts: concord_ingest::GenOptions,
) -> anyhow::Result<()> {
    let vocabulary = match vocab {
        Some(p) => {
            concord_ingest::Vocabulary::from_pfd_csv(p).map_err(|e| anyhow::anyhow!("{e}"))?
        }
        None => concord_ingest::Vocabulary::built_in(),
    };
    let bar = progress::bar("generating");
    bar.set_length(count);
    write_atomically(out, |w| {
        let mut n = 0u64;
        let records =
            concord_ingest::generate_with(usize::try_from(count)?, seed, &vocabulary, opts);
        match format {
            GenFormat::Jsonl => {
                for rec in records {
                    serde_json::to_writer(&mut *w, &rec)?;
                    w.write_all(b"\n")?;
                    n += 1;
                    if n.is_multiple_of(10_000) {
                        bar.set_position(n);
                    }
                }
            }
            GenFormat::Json => {
                let mut jw = concord_ingest::JsonWriter::begin(&mut *w)?;
                for rec in records {
                    jw.write(&rec)?;
                    n += 1;
                    if n.is_multiple_of(10_000) {
                        bar.set_position(n);
                    }
                }
                jw.end()?;
            }
        }
        Ok(n)
    })?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {count} synthetic recommendations to {}",
        out.display()
    );
    Ok(())
}

async fn org(db: &str, cmd: OrgCommand) -> anyhow::Result<()> {
    let services = open(db).await?;
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

async fn token(db: &str, cmd: TokenCommand) -> anyhow::Result<()> {
    let services = open(db).await?;
    let auth = services.as_principal(operator());
    match cmd {
        TokenCommand::Create { org, label, roles } => {
            let org = OrgCode::parse(&org).map_err(|e| anyhow::anyhow!("--org: {e}"))?;
            let t = if roles.is_empty() {
                auth.create_token(&org, &label).await?
            } else {
                auth.create_token_with_roles(&org, &label, users::role_set(&roles)?)
                    .await?
            };
            eprintln!(
                "token {} for {} ({}) created, working until {}; copy it now, it is not shown again:",
                t.record.id,
                t.record.org,
                t.record.roles,
                t.record
                    .expires_at
                    .map(|at| at.date_naive().to_string())
                    .unwrap_or_else(|| "revoked".into())
            );
            println!("{}", t.secret);
        }
        TokenCommand::Revoke { id } => {
            auth.revoke_token(id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
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
        None => open(db).await?,
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

async fn criteria(db: &str, cmd: CriteriaCommand) -> anyhow::Result<()> {
    let services = open(db).await?;
    let ops = services.as_principal(operator());
    let code = |s: &str| OrgCode::parse(s).map_err(|e| anyhow::anyhow!("--org: {e}"));
    match cmd {
        CriteriaCommand::Set { org, file } => {
            let org = code(&org)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("{}: cannot read", file.display()))?;
            let rules = concord_app::parse_ruleset(&text, &file.display().to_string())?;
            ops.set_criteria(&org, Some(&text)).await?;
            println!(
                "{org} now uses the criteria set {:?} ({} criteria)",
                rules.name,
                rules.criteria.len()
            );
        }
        CriteriaCommand::Show { org, json } => {
            let org = code(&org)?;
            let (rules, source) = ops.criteria(&org).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rules)?);
            } else {
                let from = match source {
                    concord_app::RulesetSource::Issuer(_) => "its own",
                    _ => "Concord's default",
                };
                println!("{org}: {from} criteria set {:?}", rules.name);
                for c in &rules.criteria {
                    println!(
                        "  {:16} weight {:<4} check {:16} {}",
                        c.name,
                        c.weight,
                        c.check.as_str(),
                        c.description
                    );
                }
                match (rules.gate.min_score, rules.gate.no_fail.is_empty()) {
                    (None, true) => println!("  publishing gate: none"),
                    (min, _) => println!(
                        "  publishing gate: minimum score {}; must not fail: {}",
                        min.map(|m| m.to_string()).unwrap_or_else(|| "none".into()),
                        if rules.gate.no_fail.is_empty() {
                            "none".to_string()
                        } else {
                            rules.gate.no_fail.join(", ")
                        }
                    ),
                }
            }
        }
        CriteriaCommand::Clear { org } => {
            let org = code(&org)?;
            ops.set_criteria(&org, None).await?;
            println!("{org} now uses Concord's default criteria set");
        }
    }
    Ok(())
}
