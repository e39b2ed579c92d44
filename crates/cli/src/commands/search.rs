//! `concord search` and `concord reindex`, and keeping the search index in
//! step after the CLI writes to the database.
//!
//! One process writes an index at a time (tantivy's writer lock). A running
//! server holds it and follows the outbox, so the CLI never waits for it:
//! after an import the CLI tries to take the writer; if a server has it, the
//! server's indexer picks the new records up from the outbox; if not, the
//! CLI brings the index up to date itself before it exits.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use concord_app::{Page, SearchQuery, SearchResults, Services, Sort};

use crate::progress;

#[derive(Args)]
pub struct SearchArgs {
    /// Words, "quoted phrases" and -excluded words (quote the whole query for
    /// the shell). Empty: every record that passes the filters, newest first.
    pub query: String,
    #[arg(long)]
    pub json: bool,
    /// Hits per page.
    #[arg(long, default_value_t = 10)]
    pub limit: u64,
    /// Page number, from 1.
    #[arg(long, default_value_t = 1)]
    pub page: u64,
    /// relevance or newest.
    #[arg(long, default_value = "relevance")]
    pub sort: String,
    #[command(flatten)]
    pub filters: crate::commands::filter::FilterArgs,
}

/// The index folder: `--index-dir`, or beside the SQLite file.
pub fn index_dir(db: &str, given: Option<&Path>) -> PathBuf {
    given
        .map(Path::to_path_buf)
        .unwrap_or_else(|| concord_app::index_dir_for(db))
}

/// Opens the search index for these services.
pub fn attach(services: &Services, db: &str, given: Option<&Path>) -> anyhow::Result<()> {
    let dir = index_dir(db, given);
    services
        .attach_search(&dir)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot open the search index {}", dir.display()))?;
    Ok(())
}

/// After the CLI wrote records: bring the index up to date here, unless a
/// running server holds the writer (it follows the outbox itself). Never
/// fails the command that wrote: the database is the truth, and
/// `concord reindex` rebuilds the index from it.
pub async fn after_write(services: &Services, db: &str, given: Option<&Path>) {
    let result = async {
        attach(services, db, given)?;
        Ok::<_, anyhow::Error>(services.catch_up_search().await?)
    }
    .await;
    match result {
        Ok(Some(_)) => {}
        Ok(None) => eprintln!(
            "search: a running Concord server holds the search index; it will index these changes"
        ),
        Err(e) => {
            eprintln!("warning: the search index was not updated ({e:#}); run `concord reindex`")
        }
    }
}

pub async fn reindex(services: &Services, db: &str, given: Option<&Path>) -> anyhow::Result<()> {
    let dir = index_dir(db, given);
    if let Err(e) = services.attach_search(&dir) {
        // Written by another version: start again from nothing.
        tracing::info!("rebuilding {}: {e}", dir.display());
        concord_app::SearchIndex::destroy(&dir).map_err(|e| anyhow::anyhow!("{e}"))?;
        attach(services, db, given)?;
    }
    let bar = progress::bar("indexing");
    bar.set_length(
        services
            .as_principal(crate::commands::operator())
            .count()
            .await?,
    );
    let n = services.rebuild_search(&|n| bar.set_position(n)).await;
    bar.finish_and_clear();
    let n = n?;
    println!("indexed {n} recommendations into {}", dir.display());
    Ok(())
}

pub async fn search(
    services: &Services,
    db: &str,
    given: Option<&Path>,
    a: SearchArgs,
) -> anyhow::Result<()> {
    let sort: Sort = a.sort.parse().map_err(|e| anyhow::anyhow!("--sort: {e}"))?;
    if !(1..=500).contains(&a.limit) {
        anyhow::bail!("--limit: {} is out of range 1-500", a.limit);
    }
    if a.page == 0 {
        anyhow::bail!("--page: pages are numbered from 1");
    }
    let filter = a.filters.filter()?;
    attach(services, db, given)?;
    // With no server running, bring the index up to date first.
    services.catch_up_search().await?;
    let results = services
        .as_principal(crate::commands::operator())
        .search(SearchQuery {
            text: a.query.clone(),
            filter,
            page: Page {
                offset: (a.page - 1).saturating_mul(a.limit),
                limit: a.limit,
            },
            sort,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    if a.json {
        let mut v = serde_json::to_value(&results)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("page".into(), a.page.into());
            o.insert("per_page".into(), a.limit.into());
            o.insert("sort".into(), serde_json::to_value(sort)?);
        }
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        write_text(&mut out, &results, a.page, a.limit)?;
    }
    Ok(())
}

/// A snippet for a terminal: `<mark>` becomes `**`, entities are unescaped.
pub fn plain_snippet(html: &str) -> String {
    html.replace("<mark>", "**")
        .replace("</mark>", "**")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn write_text(
    out: &mut dyn Write,
    r: &SearchResults,
    page: u64,
    limit: u64,
) -> std::io::Result<()> {
    for note in &r.notes {
        writeln!(out, "note: {note}")?;
    }
    for h in &r.hits {
        writeln!(out, "{:<18} {:>7.2}  {}", h.id, h.score, h.title)?;
        writeln!(out, "    {}", plain_snippet(&h.snippet))?;
    }
    let first = (page - 1) * limit;
    if r.hits.is_empty() {
        writeln!(out, "no results (of {} matching)", r.total)?;
    } else {
        writeln!(
            out,
            "{}-{} of {} shown",
            first + 1,
            first + r.hits.len() as u64,
            r.total
        )?;
    }
    for (dim, counts) in &r.facets {
        if counts.is_empty() {
            continue;
        }
        let mut v: Vec<_> = counts.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = v.iter().take(6).map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(out, "  {dim}: {}", shown.join(", "))?;
    }
    Ok(())
}

pub async fn run(ctx: &crate::commands::Context, args: SearchArgs) -> anyhow::Result<()> {
    search(&ctx.open().await?, &ctx.db, ctx.index_dir(), args).await
}

/// `concord reindex`.
pub async fn run_reindex(ctx: &crate::commands::Context) -> anyhow::Result<()> {
    reindex(&ctx.open().await?, &ctx.db, ctx.index_dir()).await
}
