//! The use cases themselves. Everything public here is reached through
//! [`crate::Authorized`], which decides who may do what.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Datelike;
use concord_domain::{
    Actor, AuditEvent, IdRequest, Lifecycle, NewRecommendation, OrgCode, Organisation,
    OrganisationDirectory, Recommendation, RecommendationData, RecommendationId,
    seed_organisations,
};
use concord_ingest::Format;
use concord_store::{ImportSummary, ListPage, Page, RecommendationFilter, Store, TokenRecord};
use serde_json::Value;

use crate::clock::{Clock, SystemClock};
use crate::error::{AppError, AppResult};
use crate::principal::hash_token;

pub struct Services {
    pub(crate) store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// The search index, once attached (see `crate::search`).
    pub(crate) search: std::sync::OnceLock<Arc<concord_search::SearchIndex>>,
    /// The similarity index, built on first use (see `crate::similar`).
    pub(crate) similar: crate::similar::SimilarEngine,
    /// The optional meaning signal (see `crate::meaning`).
    pub(crate) meaning: crate::meaning::MeaningEngine,
    /// The deadline rules in force, kept in memory (see `crate::rules`).
    pub(crate) rules: crate::rules::RulesCache,
    /// The dashboard's fact table, built on first use (see `crate::dashboard`).
    pub(crate) dashboard: crate::dashboard::DashboardEngine,
    /// Anonymous refusals written to the audit trail (see `crate::guards`).
    pub(crate) refusal_budget: crate::guards::RefusalBudget,
    /// Password checks (see `crate::guards`).
    pub(crate) sign_ins: crate::guards::SignInGate,
    /// Similarity questions off the async workers (see `crate::guards`).
    pub(crate) cpu: crate::guards::CpuBudget,
}

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

/// A token as created: the secret is in here once and never again.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub secret: String,
    pub record: TokenRecord,
}

/// Fields of a recommendation that an edit may not change.
const FIXED_FIELDS: &[&str] = &[
    "id",
    "issuer",
    "version",
    "created_at",
    "updated_at",
    "import_key",
];

impl Services {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Services {
            store,
            clock,
            search: Default::default(),
            similar: Default::default(),
            meaning: Default::default(),
            rules: Default::default(),
            dashboard: Default::default(),
            refusal_budget: Default::default(),
            sign_ins: Default::default(),
            cpu: Default::default(),
        }
    }

    /// Opens the database a URL names, creating and seeding it on first use.
    pub async fn open(url: &str) -> AppResult<Self> {
        Services::open_with_clock(url, Arc::new(SystemClock)).await
    }

    /// [`Services::open`] on a clock of the caller's (tests move time on).
    pub async fn open_with_clock(url: &str, clock: Arc<dyn Clock>) -> AppResult<Self> {
        let store = concord_store::open(url).await?;
        let svc = Services::new(store, clock);
        svc.seed().await?;
        Ok(svc)
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The national bodies of PRODUCT.md; added once, never overwritten.
    async fn seed(&self) -> AppResult<()> {
        let existing: HashSet<OrgCode> = self
            .store
            .organisations()
            .await?
            .into_iter()
            .map(|o| o.code)
            .collect();
        let actor = Actor::system("seed");
        for org in seed_organisations() {
            if !existing.contains(&org.code) {
                self.store.add_organisation(&actor, &org).await?;
            }
        }
        Ok(())
    }

    pub(crate) async fn organisations(&self) -> AppResult<Vec<Organisation>> {
        Ok(self.store.organisations().await?)
    }

    pub(crate) async fn organisation(&self, code: &OrgCode) -> AppResult<Option<Organisation>> {
        Ok(self.store.organisation(code).await?)
    }

    pub(crate) async fn add_organisation(
        &self,
        actor: &Actor,
        org: &Organisation,
    ) -> AppResult<bool> {
        Ok(self.store.add_organisation(actor, org).await?)
    }

    pub(crate) async fn unresolved_addressees(&self, limit: u32) -> AppResult<Vec<(String, u64)>> {
        Ok(self.store.unresolved_addressees(limit).await?)
    }

    pub(crate) async fn confirm_organisation(
        &self,
        actor: &Actor,
        code: &OrgCode,
        name: Option<&str>,
        kind: Option<(
            concord_domain::OrgKind,
            Option<concord_domain::ProviderKind>,
        )>,
    ) -> AppResult<Organisation> {
        Ok(self
            .store
            .confirm_organisation(actor, code, name, kind, self.clock.now())
            .await?)
    }

    /// Merges one organisation into another; the search index learns of
    /// the records whose addressees moved.
    pub(crate) async fn merge_organisations(
        &self,
        actor: &Actor,
        from: &OrgCode,
        into: &OrgCode,
    ) -> AppResult<concord_store::sql::MergeOutcome> {
        let out = self
            .store
            .merge_organisations(actor, from, into, self.clock.now())
            .await?;
        self.search_changed();
        Ok(out)
    }

    pub(crate) async fn unmerge_organisation(
        &self,
        actor: &Actor,
        from: &OrgCode,
    ) -> AppResult<concord_store::sql::MergeOutcome> {
        let out = self
            .store
            .unmerge_organisation(actor, from, self.clock.now())
            .await?;
        self.search_changed();
        Ok(out)
    }

    pub(crate) async fn get(&self, id: &RecommendationId) -> AppResult<Option<Recommendation>> {
        Ok(self.store.get(id).await?)
    }

    pub(crate) async fn list(
        &self,
        filter: &RecommendationFilter,
        page: Page,
    ) -> AppResult<ListPage> {
        Ok(self.store.list(filter, page).await?)
    }

    pub(crate) async fn count(&self) -> AppResult<u64> {
        Ok(self.store.count().await?)
    }

    pub(crate) async fn history(&self, id: &RecommendationId) -> AppResult<Vec<AuditEvent>> {
        Ok(self.store.history(&id.to_string()).await?)
    }

    /// Creates a record from a JSON body. Missing `kind` means a
    /// recommendation; missing `status` means a draft; missing `issuer` means
    /// `default_issuer`. The id is allocated in the issuer's sequence for the
    /// year of publication (or this year, for a draft without a date).
    pub(crate) async fn create(
        &self,
        actor: &Actor,
        mut body: Value,
        default_issuer: Option<&OrgCode>,
        override_gate: Option<&str>,
    ) -> AppResult<Recommendation> {
        let obj = body
            .as_object_mut()
            .ok_or_else(|| AppError::BadInput("the body must be a JSON object".into()))?;
        for fixed in ["id", "version", "created_at", "updated_at", "import_key"] {
            if obj.contains_key(fixed) {
                return Err(AppError::invalid_field(
                    fixed,
                    "is set by Concord and cannot be given",
                ));
            }
        }
        obj.entry("kind")
            .or_insert_with(|| Value::from("recommendation"));
        obj.entry("status").or_insert_with(|| Value::from("draft"));
        if let Some(code) = default_issuer {
            obj.entry("issuer")
                .or_insert_with(|| Value::from(code.as_str()));
        }
        let mut data = data_from_json(body)?.validate()?;
        crate::lifecycle::fresh_addressees(&data)?;
        crate::links::add_mentioned(None, &mut data);
        if self.store.organisation(&data.issuer).await?.is_none() {
            return Err(AppError::invalid_field(
                "issuer",
                format!("{} is not a registered organisation", data.issuer),
            ));
        }
        let year = data
            .published
            .map(|d| d.year())
            .unwrap_or_else(|| self.clock.today().year());
        let year = u16::try_from(year).map_err(|_| {
            AppError::invalid_field("published", format!("year {year} is out of range"))
        })?;
        let new = NewRecommendation {
            provenance: Default::default(),
            id: IdRequest::Allocate {
                issuer: data.issuer.clone(),
                year,
                floor: 1,
            },
            data,
            import_key: None,
            version: None,
            created_at: None,
            updated_at: None,
        };
        let actor = self
            .enforce_gate(actor, &new.data, false, override_gate)
            .await?;
        // A published record always has a date of publication (today, when
        // the author gave none) and a deadline (the issuer's period), filled
        // after the quality gate has judged what the author wrote.
        let mut new = new;
        concord_domain::lifecycle::settle_publication(&mut new.data, true, self.clock.today());
        concord_domain::lifecycle::settle_deadline(&mut new.data, &self.rules_book().await?);
        Ok(self.store.create(&actor, new, self.clock.now()).await?)
    }

    /// Applies a JSON merge of the given fields onto the current record, if
    /// `version` is still the current version.
    pub(crate) async fn patch(
        &self,
        actor: &Actor,
        current: Recommendation,
        expected_version: i64,
        patch: serde_json::Map<String, Value>,
        override_gate: Option<&str>,
    ) -> AppResult<Recommendation> {
        let mut value =
            serde_json::to_value(&current.data).map_err(|e| AppError::Internal(e.to_string()))?;
        let obj = value
            .as_object_mut()
            .ok_or_else(|| AppError::Internal("record is not an object".into()))?;
        for (k, v) in patch {
            if FIXED_FIELDS.contains(&k.as_str()) {
                return Err(AppError::invalid_field(k, "cannot be changed"));
            }
            if !obj.contains_key(&k) {
                return Err(AppError::invalid_field(
                    k,
                    "is not a field of a recommendation",
                ));
            }
            obj.insert(k, v);
        }
        let mut data = data_from_json(value)?;
        crate::lifecycle::keep_lifecycle(&current.data, &mut data)?;
        crate::links::add_mentioned(Some(&current.id), &mut data);
        let was_published = current.data.status == Lifecycle::Published;
        let actor = self
            .enforce_gate(actor, &data, was_published, override_gate)
            .await?;
        concord_domain::lifecycle::settle_publication(
            &mut data,
            current.data.status == Lifecycle::Draft,
            self.clock.today(),
        );
        concord_domain::lifecycle::settle_deadline(&mut data, &self.rules_book().await?);
        Ok(self
            .store
            .update(
                &actor,
                &current.id,
                expected_version,
                data,
                self.clock.now(),
            )
            .await?)
    }

    /// Reads, checks and (unless a dry run) imports files in one transaction.
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
        let mut records = Vec::new();
        let mut responses = Vec::new();
        let mut orgs = Vec::new();
        let mut report = ImportReport {
            dry_run: opts.dry_run,
            ..Default::default()
        };
        for path in files {
            let name = path.display().to_string();
            let cannot_read = |e: std::io::Error| {
                AppError::BadInput(format!("{name}: cannot read the file: {e}"))
            };
            let format = match opts.format {
                Some(f) => f,
                // The ingest errors name the file themselves.
                None => concord_ingest::detect(path, &read_head(path).map_err(cannot_read)?)
                    .map_err(|e| AppError::BadInput(e.to_string()))?,
            };
            let parsed = if format == Format::Json {
                // Our own exports and generated corpora can be large: read
                // them as a stream rather than holding the file as well.
                let file = std::fs::File::open(path).map_err(cannot_read)?;
                let mut parsed = concord_ingest::Parsed::default();
                concord_ingest::parse_json_stream(path, file, |r| match r {
                    Ok(rec) => parsed.records.push(rec),
                    Err(rej) => parsed.rejected.push(rej),
                })
                .map_err(|e| AppError::BadInput(e.to_string()))?;
                parsed
            } else {
                let bytes = std::fs::read(path).map_err(cannot_read)?;
                concord_ingest::parse(path, &bytes, format, &dir, self.clock.today())
                    .map_err(|e| AppError::BadInput(e.to_string()))?
            };
            report.blank_rows += parsed.blank_rows.len() as u64;
            report.read += parsed.records.len() as u64;
            report
                .rejected
                .extend(parsed.rejected.into_iter().map(|r| RejectedRow {
                    file: name.clone(),
                    row: r.row,
                    line: r.line,
                    field: r.field,
                    reason: r.reason,
                }));
            records.extend(parsed.records.into_iter().map(|r| (name.clone(), r)));
            responses.extend(parsed.responses.into_iter().map(|r| (name.clone(), r)));
            orgs.extend(parsed.organisations);
        }
        // A reply must answer a report in this import or already registered.
        let keys_here: HashSet<String> = records
            .iter()
            .filter_map(|(_, r)| r.new.import_key.clone())
            .collect();
        let mut kept_responses = Vec::new();
        for (file, resp) in responses {
            if keys_here.contains(&resp.parent_key)
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
        let origin: Vec<(String, usize)> =
            records.iter().map(|(f, r)| (f.clone(), r.row)).collect();
        let mut news: Vec<NewRecommendation> = records.into_iter().map(|(_, r)| r.new).collect();
        // Ids mentioned in a text become suggested links (see `crate::links`);
        // published records without a deadline get the issuer's period.
        let rules = self.rules_book().await?;
        for n in &mut news {
            let own = crate::links::requested_id(&n.id).cloned();
            crate::links::add_mentioned(own.as_ref(), &mut n.data);
            concord_domain::lifecycle::settle_deadline(&mut n.data, &rules);
        }
        let known_orgs: HashSet<String> = dir_codes;
        let orgs_proposed = orgs
            .iter()
            .filter(|o| !known_orgs.contains(o.code.as_str()))
            .map(|o| o.code.to_string())
            .collect::<HashSet<_>>()
            .len() as u64;
        let outcome = self
            .store
            .import(
                actor,
                &orgs,
                news,
                kept_responses,
                self.clock.now(),
                progress,
            )
            .await;
        let summary: ImportSummary = match outcome {
            // Name the file and row the store's record came from.
            Err(concord_store::StoreError::ImportRecord { index, message }) => {
                let (file, row) = origin.get(index).cloned().unwrap_or_default();
                return Err(AppError::BadInput(format!(
                    "{file}: row {row}: {message}; nothing was imported"
                )));
            }
            other => other?,
        };
        report.imported = summary.imported;
        report.enriched = summary.enriched + summary.enriched_in_import;
        report.skipped = summary.skipped;
        report.organisations_proposed = orgs_proposed;
        report.variants = summary
            .variants
            .iter()
            .map(|v| {
                let (file, row) = origin.get(v.index).cloned().unwrap_or_default();
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

    pub async fn authenticate_token(&self, secret: &str) -> AppResult<crate::Principal> {
        match self.store.token_by_hash(&hash_token(secret.trim())).await? {
            Some(t) if t.expires_at.is_some_and(|at| at <= self.clock.now()) => {
                Err(AppError::Unauthenticated(format!(
                    "the API token expired on {}; an administrator of {} makes a new one",
                    t.expires_at
                        .map(|at| at.date_naive().to_string())
                        .unwrap_or_default(),
                    t.org
                )))
            }
            Some(t) => Ok(crate::Principal::Organisation {
                org: t.org,
                label: format!("token:{}:{}", t.id, t.label),
                roles: t.roles,
            }),
            None => Err(AppError::Unauthenticated(
                "the API token is not valid (unknown or revoked)".into(),
            )),
        }
    }

    pub(crate) async fn backup(&self, out: &mut (dyn Write + Send)) -> AppResult<u64> {
        Ok(self.store.backup(out).await?)
    }

    pub(crate) async fn restore(
        &self,
        input: &mut (dyn std::io::BufRead + Send),
    ) -> AppResult<u64> {
        Ok(self.store.restore(input).await?)
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

    pub(crate) fn visible_to(rec: &Recommendation, org: Option<&OrgCode>, operator: bool) -> bool {
        rec.data.status != Lifecycle::Draft || operator || org == Some(&rec.data.issuer)
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

/// Turns a JSON object into record data, naming the field serde stumbled on.
fn data_from_json(value: Value) -> AppResult<RecommendationData> {
    serde_json::from_value::<RecommendationData>(value)
        .map_err(|e| AppError::invalid(e.to_string()))
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
