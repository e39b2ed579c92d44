//! `concord export`: every recommendation with its addressees, links and
//! responses, as JSON, CSV or XLSX.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use concord_app::ExportFormat;

use crate::commands::{Context, operator, write_atomically};
use crate::progress;

/// What to export and where.
#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value = "json")]
    pub format: ExportFormatArg,
    /// File to write (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportFormatArg {
    Json,
    Csv,
    Xlsx,
}

pub async fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<()> {
    export(&ctx.db, args.format, args.out).await
}

async fn export(db: &str, format: ExportFormatArg, out: Option<PathBuf>) -> anyhow::Result<()> {
    let format = match format {
        ExportFormatArg::Json => ExportFormat::Json,
        ExportFormatArg::Csv => ExportFormat::Csv,
        ExportFormatArg::Xlsx => ExportFormat::Xlsx,
    };
    let services = crate::commands::open(db).await?;
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
