//! `concord restore`: a backup loaded into an empty database only.

use std::io::BufReader;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use crate::commands::{Context, operator, search};

/// The backup to load.
#[derive(Args)]
pub struct RestoreArgs {
    pub file: PathBuf,
}

pub async fn run(ctx: &Context, args: RestoreArgs) -> anyhow::Result<()> {
    let file = args.file;
    let f =
        std::fs::File::open(&file).with_context(|| format!("{}: cannot open", file.display()))?;
    let services = ctx.open().await?;
    let n = services
        .as_principal(operator())
        .operator()?
        .restore(&mut BufReader::new(f))
        .await?;
    search::after_write(&services, &ctx.db, ctx.index_dir()).await;
    println!("restored {n} rows from {}", file.display());
    Ok(())
}
