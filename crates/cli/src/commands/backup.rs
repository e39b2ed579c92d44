//! `concord backup`: a consistent copy of every table, one JSON line per row.

use std::path::PathBuf;

use clap::Args;

use crate::commands::{Context, operator, write_atomically};

/// Where to write the backup.
#[derive(Args)]
pub struct BackupArgs {
    pub file: PathBuf,
}

pub async fn run(ctx: &Context, args: BackupArgs) -> anyhow::Result<()> {
    let file = args.file;
    let services = ctx.open().await?;
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
