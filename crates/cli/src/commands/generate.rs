//! `concord gen`: a synthetic corpus for benchmarks.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::commands::write_atomically;
use crate::progress;

/// How many synthetic records, and where.
#[derive(Args)]
pub struct GenArgs {
    #[arg(long)]
    pub count: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long)]
    pub out: PathBuf,
    /// A PFD judiciary CSV to draw the vocabulary from (default: the built-in one).
    #[arg(long)]
    pub vocab: Option<PathBuf>,
    /// JSON lines (default, fast) or one JSON array (importable as --format json).
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: GenFormat,
    /// Exactly this many addressees per record (default: 1 to 4).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=20))]
    pub addressees: Option<u8>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GenFormat {
    Jsonl,
    Json,
}

pub fn run(args: GenArgs) -> anyhow::Result<()> {
    generate(
        args.count,
        args.seed,
        &args.out,
        args.vocab.as_deref(),
        args.format,
        concord_ingest::GenOptions {
            addressees: args.addressees.map(usize::from),
        },
    )
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
