//! Importing files into the register and exporting it: the rows read, the
//! rows refused (by file, row and field) and the all-or-nothing write; and
//! the demo set, loaded the same way.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use concord_domain::lifecycle::RulesBook;
use concord_domain::{
    Actor, Organisation, OrganisationDirectory, Recommendation, ResponseAttachment,
};
use concord_ingest::{Format, ParsedRecord, Rejection};
use concord_store::{IMPORT_BATCH, ImportBatch, ImportPlan, ImportSummary, SameReportMerger};

use crate::access::Operator;
use crate::error::{AppError, AppResult};
use crate::services::Services;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// None: decide from each file's name and first line.
    pub format: Option<Format>,
    /// Read and check everything, write nothing.
    pub dry_run: bool,
    /// Import the good rows and write the rejected ones to a report file,
    /// instead of refusing the whole import.
    pub partial: bool,
    /// Where `partial` writes rejected rows (default: beside the first file).
    pub report_path: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    pub file: String,
    pub row: usize,
    /// Where the row starts in the file, when rows span lines (CSV).
    pub line: Option<u64>,
    pub field: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for RejectedRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: row {}", self.file, self.row)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub read: u64,
    /// Rows with every column empty: nothing to import, counted as skipped.
    pub blank_rows: u64,
    pub imported: u64,
    /// Reports already in the register (or twice in this import) that a
    /// second source added to.
    pub enriched: u64,
    pub skipped: u64,
    pub rejected: Vec<RejectedRow>,
    /// Where a source disagreed with the record it enriched: one line each,
    /// naming the file, row and part (the other value is kept as a variant).
    pub variants: Vec<String>,
    /// Organisations made from addressee names nobody had registered.
    pub organisations_proposed: u64,
    pub responses_attached: u64,
    pub responses_skipped: u64,
    pub dry_run: bool,
    pub report_file: Option<PathBuf>,
}

impl ImportReport {
    /// The summary line CONTRACT.md promises.
    pub fn summary(&self) -> String {
        let mut s = if self.dry_run {
            format!(
                "dry run: would import up to {}, rejected {} (nothing was written)",
                self.read,
                self.rejected.len()
            )
        } else {
            format!(
                "imported {}, enriched {}, skipped {}, rejected {}",
                self.imported,
                self.enriched,
                self.skipped + self.blank_rows,
                self.rejected.len()
            )
        };
        if self.blank_rows > 0 {
            s.push_str(&format!(" ({} blank row(s) skipped)", self.blank_rows));
        }
        if self.responses_attached + self.responses_skipped > 0 {
            s.push_str(&format!(
                "; responses attached {}, already present {}",
                self.responses_attached, self.responses_skipped
            ));
        }
        s
    }
}

/// A value quoted in a report line, cut so that a long text stays one line.
fn clip_for_report(s: &str) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 80 {
        flat
    } else {
        format!("{}…", flat.chars().take(79).collect::<String>())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
    Xlsx,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            "xlsx" => Ok(ExportFormat::Xlsx),
            _ => Err(format!("{s:?} is not an export format (json, csv, xlsx)")),
        }
    }
}

/// Where each record of an import came from, by its position in the
/// import: (file, row). Kept to name the row behind an error the store
/// reports by position, and to see that the second read matches the first.
type Origins = Vec<(usize, usize)>;

/// What the first read of an import's files keeps: everything the write
/// needs to know ahead, but none of the records themselves.
#[derive(Default)]
struct FirstRead {
    formats: Vec<Format>,
    origins: Origins,
    plan: ImportPlan,
    /// Rows per import key: the repeated ones are one report from several
    /// sources, merged as they are read again.
    key_counts: HashMap<String, u32>,
    responses: Vec<(String, ResponseAttachment)>,
    orgs: Vec<Organisation>,
}

/// Reads one file in order, handing each record or rejected row to `each`;
/// returns the file's blank rows, responses and proposed organisations.
/// JSON (our exports, generated corpora: the large files) is read as a
/// stream; the other formats are parsed whole, one file at a time.
fn read_rows(
    path: &Path,
    format: Format,
    dir: &OrganisationDirectory,
    today: chrono::NaiveDate,
    each: &mut dyn FnMut(Result<ParsedRecord, Rejection>),
) -> AppResult<concord_ingest::Parsed> {
    let name = path.display().to_string();
    let cannot_read =
        |e: std::io::Error| AppError::BadInput(format!("{name}: cannot read the file: {e}"));
    if format == Format::Json {
        let file = std::fs::File::open(path).map_err(cannot_read)?;
        concord_ingest::parse_json_stream(path, file, each)
            .map_err(|e| AppError::BadInput(e.to_string()))?;
        return Ok(concord_ingest::Parsed::default());
    }
    let bytes = std::fs::read(path).map_err(cannot_read)?;
    let mut parsed = concord_ingest::parse(path, &bytes, format, dir, today)
        .map_err(|e| AppError::BadInput(e.to_string()))?;
    for r in std::mem::take(&mut parsed.records) {
        each(Ok(r));
    }
    for r in std::mem::take(&mut parsed.rejected) {
        each(Err(r));
    }
    Ok(parsed)
}

/// What the second read of an import's files needs: the same files and
/// formats, and what each row is prepared with.
struct SecondRead {
    files: Vec<PathBuf>,
    formats: Vec<Format>,
    dir: OrganisationDirectory,
    today: chrono::NaiveDate,
    rules: RulesBook,
    origins: std::sync::Arc<Origins>,
}

/// The second read, on its own thread: the same rows again, prepared (links
/// from mentioned ids, deadlines), the same report's sources merged, and
/// handed to the store a batch at a time. Stops early if the store has
/// given up; an error ends the import with nothing written. Returns the
/// merger's counts (rows that enriched an earlier row, rows that did not).
fn feed_records(
    read: &SecondRead,
    mut merger: SameReportMerger,
    tx: &tokio::sync::mpsc::Sender<Result<ImportBatch, String>>,
) -> (u64, u64) {
    let SecondRead {
        files,
        formats,
        dir,
        today,
        rules,
        origins,
    } = read;
    let today = *today;
    let mut batch: ImportBatch = Vec::with_capacity(IMPORT_BATCH);
    let mut index = 0usize;
    let mut failed: Option<String> = None;
    let mut closed = false;
    for (file_no, (path, format)) in files.iter().zip(formats).enumerate() {
        let mut each = |r: Result<ParsedRecord, Rejection>| {
            let Ok(rec) = r else { return };
            if closed || failed.is_some() {
                return;
            }
            if origins.get(index) != Some(&(file_no, rec.row)) {
                failed = Some(format!(
                    "{}: the file changed while it was being imported (row {} was not where it was on the first read); nothing was imported",
                    path.display(),
                    rec.row
                ));
                return;
            }
            let mut new = rec.new;
            // Ids mentioned in a text become suggested links (see
            // `crate::links`); published records without a deadline get
            // the issuer's period.
            let own = crate::links::requested_id(&new.id).cloned();
            crate::links::add_mentioned(own.as_ref(), &mut new.data);
            concord_domain::lifecycle::settle_deadline(&mut new.data, rules);
            if let Some(row) = merger.offer(index, new) {
                batch.push(row);
            }
            index += 1;
            if batch.len() >= IMPORT_BATCH {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(IMPORT_BATCH));
                closed = tx.blocking_send(Ok(full)).is_err();
            }
        };
        if let Err(e) = read_rows(path, *format, dir, today, &mut each) {
            failed.get_or_insert(e.to_string());
        }
        if closed || failed.is_some() {
            break;
        }
    }
    if failed.is_none() && !closed && index != origins.len() {
        failed = Some(format!(
            "the files changed while they were being imported ({} records on the second read, {} on the first); nothing was imported",
            index,
            origins.len()
        ));
    }
    let counts = (merger.enriched, merger.skipped);
    match failed {
        Some(message) => {
            let _ = tx.blocking_send(Err(message));
        }
        None if !closed => {
            batch.extend(merger.rest());
            if !batch.is_empty() {
                let _ = tx.blocking_send(Ok(batch));
            }
        }
        None => {}
    }
    counts
}

impl Services {
    /// Reads and checks the files, then (unless a dry run) reads them again
    /// and imports them in one transaction, a batch at a time: memory holds
    /// where each record came from, not the records.
    pub(crate) async fn import(
        &self,
        actor: &Actor,
        files: &[PathBuf],
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> AppResult<ImportReport> {
        if files.is_empty() {
            return Err(AppError::BadInput("no file to import was named".into()));
        }
        let registered = self.store.organisations().await?;
        let dir = OrganisationDirectory::new(&registered);
        let dir_codes: HashSet<String> = registered.iter().map(|o| o.code.to_string()).collect();
        let today = self.clock.today();
        let mut first = FirstRead::default();
        let mut report = ImportReport {
            dry_run: opts.dry_run,
            ..Default::default()
        };
        for (file_no, path) in files.iter().enumerate() {
            let name = path.display().to_string();
            let format = match opts.format {
                Some(f) => f,
                // The ingest errors name the file themselves.
                None => concord_ingest::detect(
                    path,
                    &read_head(path).map_err(|e| {
                        AppError::BadInput(format!("{name}: cannot read the file: {e}"))
                    })?,
                )
                .map_err(|e| AppError::BadInput(e.to_string()))?,
            };
            first.formats.push(format);
            let mut each = |r: Result<ParsedRecord, Rejection>| match r {
                Ok(rec) => {
                    report.read += 1;
                    first.plan.note(&rec.new);
                    if let Some(k) = &rec.new.import_key {
                        *first.key_counts.entry(k.clone()).or_default() += 1;
                    }
                    first.origins.push((file_no, rec.row));
                }
                Err(r) => report.rejected.push(RejectedRow {
                    file: name.clone(),
                    row: r.row,
                    line: r.line,
                    field: r.field,
                    reason: r.reason,
                }),
            };
            let rest = read_rows(path, format, &dir, today, &mut each)?;
            report.blank_rows += rest.blank_rows.len() as u64;
            first
                .responses
                .extend(rest.responses.into_iter().map(|r| (name.clone(), r)));
            first.orgs.extend(rest.organisations);
        }
        // A reply must answer a report in this import or already registered.
        let mut kept_responses = Vec::new();
        for (file, resp) in std::mem::take(&mut first.responses) {
            if first.key_counts.contains_key(&resp.parent_key)
                || self
                    .store
                    .get_by_import_key(&resp.parent_key)
                    .await?
                    .is_some()
            {
                kept_responses.push(resp);
            } else {
                report.rejected.push(RejectedRow {
                    file,
                    row: resp.row,
                    line: None,
                    field: Some("parent_url".into()),
                    reason: format!(
                        "answers the report {} which is neither in this import nor in the register",
                        resp.parent_key.trim_start_matches("pfd:")
                    ),
                });
            }
        }
        report
            .rejected
            .sort_by(|a, b| (&a.file, a.row).cmp(&(&b.file, b.row)));
        if !report.rejected.is_empty() && !opts.partial && !opts.dry_run {
            return Err(AppError::BadInput(rejection_message(&report.rejected)));
        }
        if opts.dry_run {
            return Ok(report);
        }
        if !report.rejected.is_empty() {
            let path = opts.report_path.clone().unwrap_or_else(|| {
                let mut p = files[0].clone().into_os_string();
                p.push(".rejected.csv");
                PathBuf::from(p)
            });
            write_rejection_report(&path, &report.rejected).map_err(|e| {
                AppError::Io(format!(
                    "{}: cannot write the rejection report: {e}",
                    path.display()
                ))
            })?;
            report.report_file = Some(path);
        }
        let orgs_proposed = first
            .orgs
            .iter()
            .filter(|o| !dir_codes.contains(o.code.as_str()))
            .map(|o| o.code.to_string())
            .collect::<HashSet<_>>()
            .len() as u64;

        // The second read feeds the store from its own thread, a few
        // batches ahead at most.
        let rules = self.rules_book().await?;
        let (tx, mut feed) = tokio::sync::mpsc::channel(4);
        let origins = std::sync::Arc::new(std::mem::take(&mut first.origins));
        let reader = {
            let read = SecondRead {
                files: files.to_vec(),
                formats: std::mem::take(&mut first.formats),
                dir,
                today,
                rules,
                origins: origins.clone(),
            };
            let merger = SameReportMerger::new(std::mem::take(&mut first.key_counts));
            tokio::task::spawn_blocking(move || feed_records(&read, merger, &tx))
        };
        let outcome = self
            .store
            .import_feed(
                actor,
                &first.orgs,
                &first.plan,
                &mut feed,
                kept_responses,
                self.clock.now(),
                progress,
            )
            .await;
        // Closing the feed stops a reader the store gave up on.
        drop(feed);
        let (enriched_in_import, merged_skipped) = reader
            .await
            .map_err(|e| AppError::Internal(format!("the import's reader stopped: {e}")))?;
        let origin = |index: usize| -> (String, usize) {
            origins
                .get(index)
                .map(|&(f, row)| (files[f].display().to_string(), row))
                .unwrap_or_default()
        };
        let summary: ImportSummary = match outcome {
            // Name the file and row the store's record came from.
            Err(concord_store::StoreError::ImportRecord { index, message }) => {
                let (file, row) = origin(index);
                return Err(AppError::BadInput(format!(
                    "{file}: row {row}: {message}; nothing was imported"
                )));
            }
            other => other?,
        };
        report.imported = summary.imported;
        report.enriched = summary.enriched + summary.enriched_in_import + enriched_in_import;
        report.skipped = summary.skipped + merged_skipped;
        report.organisations_proposed = orgs_proposed;
        report.variants = summary
            .variants
            .iter()
            .map(|v| {
                let (file, row) = origin(v.index);
                format!(
                    "{file}: row {row}: {}: {} from {} is {:?}; the record keeps {:?} (the other is kept as a variant)",
                    v.id,
                    v.part.label().to_lowercase(),
                    v.other_from.as_str(),
                    clip_for_report(&v.other),
                    clip_for_report(&v.kept),
                )
            })
            .collect();
        report.responses_attached = summary.responses_attached;
        report.responses_skipped = summary.responses_skipped;
        Ok(report)
    }

    /// Writes every record (drafts included: exports are for operators) in
    /// id order, a batch at a time.
    pub(crate) async fn export(
        &self,
        format: ExportFormat,
        out: &mut (dyn Write + Send),
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> AppResult<u64> {
        match format {
            ExportFormat::Json => {
                let mut w = concord_ingest::JsonWriter::begin(&mut *out).map_err(io_err)?;
                let n = self.scan_into(progress, |b| w.write_batch(b)).await?;
                w.end().map_err(io_err)?;
                Ok(n)
            }
            ExportFormat::Csv => {
                let mut w = concord_ingest::CsvWriter::begin(&mut *out).map_err(io_err)?;
                let n = self.scan_into(progress, |b| w.write_batch(b)).await?;
                w.end().map_err(io_err)?;
                Ok(n)
            }
            ExportFormat::Xlsx => {
                let mut w = concord_ingest::XlsxWriter::begin().map_err(io_err)?;
                let n = self.scan_into(progress, |b| w.write_batch(b)).await?;
                w.end(&mut *out).map_err(io_err)?;
                Ok(n)
            }
        }
    }

    /// Hands every record to `write`, a batch at a time in id order.
    async fn scan_into(
        &self,
        progress: &(dyn Fn(u64) + Send + Sync),
        mut write: impl FnMut(&[Recommendation]) -> std::io::Result<()> + Send,
    ) -> AppResult<u64> {
        let mut written = 0u64;
        self.store
            .scan(1000, &mut |batch| {
                write(&batch).map_err(|e| e.to_string())?;
                written += batch.len() as u64;
                progress(written);
                Ok(())
            })
            .await?;
        Ok(written)
    }

    /// Loads the built-in demo register (organisations and recommendations).
    pub(crate) async fn load_demo(&self, actor: &Actor) -> AppResult<ImportReport> {
        let mut demo = crate::demo::demo_set(self.clock.now())?;
        let rules = self.rules_book().await?;
        for n in &mut demo.records {
            let own = crate::links::requested_id(&n.id).cloned();
            crate::links::add_mentioned(own.as_ref(), &mut n.data);
            concord_domain::lifecycle::settle_deadline(&mut n.data, &rules);
        }
        let summary = self
            .store
            .import(
                actor,
                &demo.organisations,
                demo.records,
                Vec::new(),
                self.clock.now(),
                &|_| {},
            )
            .await?;
        self.load_demo_workstreams(actor).await?;
        Ok(ImportReport {
            imported: summary.imported,
            skipped: summary.skipped,
            ..Default::default()
        })
    }
}

/// The first 64 KiB of a file: enough to tell its format.
fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::with_capacity(64 * 1024);
    std::fs::File::open(path)?
        .take(64 * 1024)
        .read_to_end(&mut head)?;
    Ok(head)
}

fn io_err(e: impl std::fmt::Display) -> AppError {
    AppError::Io(e.to_string())
}

/// Enough of the rejected rows to act on, without flooding a terminal.
fn rejection_message(rows: &[RejectedRow]) -> String {
    const SHOWN: usize = 20;
    let mut msg = format!(
        "{} row(s) rejected; nothing was imported (use --partial to import the rest):",
        rows.len()
    );
    for r in rows.iter().take(SHOWN) {
        msg.push_str("\n  ");
        msg.push_str(&r.to_string());
    }
    if rows.len() > SHOWN {
        msg.push_str(&format!("\n  ... and {} more", rows.len() - SHOWN));
    }
    msg
}

fn write_rejection_report(path: &Path, rows: &[RejectedRow]) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(f, "file,row,field,reason")?;
    let cell = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for r in rows {
        writeln!(
            f,
            "{},{},{},{}",
            cell(&r.file),
            r.row,
            cell(r.field.as_deref().unwrap_or("")),
            cell(&r.reason)
        )?;
    }
    f.flush()
}

/// Importing, exporting and loading the demo set are for operators alone.
impl Operator<'_> {
    pub async fn import(
        &self,
        files: &[PathBuf],
        opts: &ImportOptions,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> AppResult<ImportReport> {
        self.svc
            .import(&self.principal.actor(), files, opts, progress)
            .await
            .inspect(|_| self.svc.search_changed())
    }

    pub async fn export(
        &self,
        format: ExportFormat,
        out: &mut (dyn Write + Send),
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> AppResult<u64> {
        self.svc.export(format, out, progress).await
    }

    pub async fn load_demo(&self) -> AppResult<ImportReport> {
        self.svc.load_demo(&self.principal.actor()).await
    }
}
