//! `concord import`: add records from files (idempotent), all or nothing
//! unless --partial.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use concord_app::{Format, ImportOptions};

use crate::commands::{Context, operator, search};
use crate::progress;

/// Files to import and how.
#[derive(Args)]
pub struct ImportArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: ImportFormatArg,
    /// Read and check everything, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the good rows and write rejected ones to a report file.
    #[arg(long)]
    pub partial: bool,
    /// Where --partial writes rejected rows (default: FILE.rejected.csv).
    #[arg(long)]
    pub report: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ImportFormatArg {
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

pub async fn run(ctx: &Context, args: ImportArgs) -> anyhow::Result<()> {
    let services = ctx.open().await?;
    let dry_run = args.dry_run;
    import(&services, args).await?;
    if !dry_run {
        search::after_write(&services, &ctx.db, ctx.index_dir()).await;
    }
    Ok(())
}

async fn import(services: &concord_app::Services, args: ImportArgs) -> anyhow::Result<()> {
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
