//! The index on disk: opening it, searching it, and the one writer that
//! keeps it in step with the database through the outbox.

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use concord_domain::{Recommendation, RecommendationId};
use concord_store::{DraftVisibility, RecommendationFilter, Store};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Collector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::directory::error::LockError;
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument,
    TantivyError, Term,
};
use tokio::sync::{Mutex, Notify};

mod facets;
mod listing;

pub use listing::{LIST_WINDOW, Listing};

use crate::analysis::{
    CLINICAL, CLINICAL_PAIRS, Synonyms, analyze, clinical_analyzer, clinical_pairs_analyzer,
};
use crate::query::{self, MAX_QUERY_CHARS, QueryBuilder};
use crate::schema::{self, Fields, SCHEMA_VERSION, build_schema, day_number, key};
use crate::{Hit, MAX_RESULT_WINDOW, Result, SearchError, SearchRequest, SearchResults, Sort};
use facets::{FacetCache, FacetFruit, TallyCache};

/// Where the index of a database lives: beside a SQLite file
/// (`concord.db` -> `concord.index/`), or `concord.index/` in the current
/// folder for PostgreSQL (use `--index-dir` to choose).
pub fn index_dir_for(db_url: &str) -> PathBuf {
    let path = db_url
        .strip_prefix("sqlite://")
        .or_else(|| db_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p))
        .filter(|p| !p.is_empty() && !p.starts_with(":memory:"));
    match path {
        Some(p) => {
            let p = Path::new(p);
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "concord".into());
            p.with_file_name(format!("{stem}.index"))
        }
        None => PathBuf::from("concord.index"),
    }
}

/// What the commit payload remembers.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    schema: u32,
    outbox_seq: i64,
    /// The database's first outbox row ([`Store::origin`]): an index made
    /// from another database is rebuilt, not caught up. Absent in indexes
    /// written before it was kept (trusted, and stamped at their next commit).
    #[serde(default)]
    origin: Option<(i64, String, i64)>,
}

/// What one catch-up did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Outbox rows read.
    pub rows: u64,
    /// Documents replaced or removed.
    pub docs: u64,
    /// The last outbox row now applied.
    pub seq: i64,
    /// Whether it rebuilt the index from scratch instead (a new index, or a
    /// backlog too long to apply row by row).
    pub rebuilt: bool,
}

struct WriterSlot {
    writer: Option<IndexWriter>,
    applied: i64,
    /// The database's origin once this process has checked the index
    /// against it (a database's first outbox row never changes, so the
    /// indexer's every poll need not ask again).
    origin: Option<(i64, String, i64)>,
}

pub struct SearchIndex {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    fields: Fields,
    synonyms: Synonyms,
    slot: Mutex<WriterSlot>,
    nudge: Notify,
    facet_columns: FacetCache,
    tallies: TallyCache,
    /// See [`SearchIndex::searchable_seq`].
    searchable: AtomicI64,
}

/// A backlog longer than this is rebuilt from a scan rather than read
/// record by record.
const REBUILD_BACKLOG: u32 = 20_000;
const BATCH: u32 = 1_000;
/// The writer's memory budget while serving, and for a rebuild.
const SERVING_HEAP: usize = 64 << 20;
/// A rebuild's (split between the writer's threads): enough that a million
/// records make a few dozen segments, small enough for an import of any
/// size to stay within ~512 MiB in all.
const REBUILD_HEAP: usize = 128 << 20;
/// How many of the best matches by BM25 are reordered with the boost for
/// query words standing together (see [`SearchIndex::collect`]).
const RESCORE_WINDOW: usize = 100;

/// A search's page of hits, its number of matches and its facet counts.
type Collected = (Vec<(f32, DocAddress)>, usize, FacetFruit);

/// A relevance search whose strict matches (most of the words) are fewer
/// than this, and fewer than the page asks for, is topped up with records
/// that have some of the words, ranked below them: a question worded unlike
/// the report it means often shares only a few words with it. (Held-out dev
/// queries in other words than the report's: MRR 0.54 -> 0.59.)
const TOP_UP_BELOW: usize = 20;

impl SearchIndex {
    /// Opens the index in `dir`, creating it (empty) on first use. Opening
    /// never takes the writer: any number of processes may search at once.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| {
            SearchError::Index(format!("{}: cannot create the folder: {e}", dir.display()))
        })?;
        let (schema, fields) = build_schema();
        let mmap = MmapDirectory::open(dir)
            .map_err(|e| SearchError::Index(format!("{}: {e}", dir.display())))?;
        let mut index = Index::open_or_create(mmap, schema).map_err(|e| match e {
            TantivyError::SchemaError(m) => SearchError::Index(format!(
                "{}: written by another version of Concord ({m}); run `concord reindex`",
                dir.display()
            )),
            other => other.into(),
        })?;
        index.tokenizers().register(CLINICAL, clinical_analyzer());
        index
            .tokenizers()
            .register(CLINICAL_PAIRS, clinical_pairs_analyzer());
        // Search the index's segments in parallel, one thread per core (at
        // most four): a broad query at a million records visits hundreds of
        // thousands of matches to count facets, and splitting that work by
        // segment cuts its latency on an otherwise idle machine.
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 4);
        if threads > 1 {
            index.set_multithread_executor(threads)?;
        }
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        let me = SearchIndex {
            dir: dir.to_path_buf(),
            index,
            reader,
            fields,
            synonyms: Synonyms::built_in(),
            slot: Mutex::new(WriterSlot {
                writer: None,
                applied: 0,
                origin: None,
            }),
            nudge: Notify::new(),
            facet_columns: FacetCache::default(),
            tallies: TallyCache::default(),
            // Nothing is claimed before a catch-up has checked the index
            // against the database (it may have been made from another).
            searchable: AtomicI64::new(-1),
        };
        if let Some(p) = me.payload()?
            && p.schema != SCHEMA_VERSION
        {
            return Err(SearchError::Index(format!(
                "{}: written by another version of Concord (schema {}); run `concord reindex`",
                dir.display(),
                p.schema
            )));
        }
        Ok(me)
    }

    /// Removes an index folder and everything in it (for `concord reindex`
    /// when the schema changed). Refused while another process writes it.
    pub fn destroy(dir: &Path) -> Result<()> {
        if !dir.exists() {
            return Ok(());
        }
        if dir.join(".tantivy-writer.lock").exists() {
            // Take the lock to be sure nobody is writing; tantivy's lock is an OS file lock.
            if let Ok(idx) = SearchIndex::open(dir) {
                let w = idx
                    .index
                    .writer_with_num_threads::<TantivyDocument>(1, 15 << 20);
                if let Err(TantivyError::LockFailure(LockError::LockBusy, _)) = w {
                    return Err(SearchError::Busy(dir.display().to_string()));
                }
            }
        }
        std::fs::remove_dir_all(dir)
            .map_err(|e| SearchError::Index(format!("{}: cannot remove: {e}", dir.display())))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn payload(&self) -> Result<Option<Payload>> {
        let metas = self.index.load_metas()?;
        Ok(metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str::<Payload>(p).ok()))
    }

    /// The last outbox row the index reflects (0: none yet).
    pub fn applied_seq(&self) -> Result<i64> {
        Ok(self.payload()?.map(|p| p.outbox_seq).unwrap_or(0))
    }

    /// Documents in the index as this process last saw it.
    pub fn doc_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Asks the indexer task to look at the outbox now (after a write).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Takes the writer if this process does not hold it yet.
    /// `Err(Busy)` if another process holds it.
    fn ensure_writer(&self, slot: &mut WriterSlot, heap: usize) -> Result<()> {
        if slot.writer.is_some() {
            return Ok(());
        }
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .clamp(1, 2);
        match self
            .index
            .writer_with_num_threads::<TantivyDocument>(threads, heap.max(threads * (16 << 20)))
        {
            Ok(w) => {
                slot.writer = Some(w);
                slot.applied = self.applied_seq()?;
                Ok(())
            }
            Err(TantivyError::LockFailure(LockError::LockBusy, _)) => {
                Err(SearchError::Busy(self.dir.display().to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Whether this process holds the writer.
    pub async fn holds_writer(&self) -> bool {
        self.slot.lock().await.writer.is_some()
    }

    /// Tries to take the writer now; false if another process holds it.
    pub async fn try_take_writer(&self) -> Result<bool> {
        let mut slot = self.slot.lock().await;
        match self.ensure_writer(&mut slot, SERVING_HEAP) {
            Ok(()) => Ok(true),
            Err(SearchError::Busy(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the writer back (so another process may take it).
    pub async fn release_writer(&self) {
        let mut slot = self.slot.lock().await;
        if let Some(w) = slot.writer.take() {
            let _ = tokio::task::spawn_blocking(move || drop(w)).await;
        }
    }

    /// Applies every outbox row after the last one applied, idempotently:
    /// for each record named, delete its document by id, then add the
    /// record as the store has it now (or nothing, if it is gone). Commits
    /// after each batch with the batch's last seq in the commit payload, so
    /// a crash between batches redoes at most one batch.
    ///
    /// A new index, or a backlog of more than 20,000 rows, is rebuilt from
    /// a scan of the database instead. `Err(Busy)` if another process holds
    /// the writer.
    pub async fn catch_up(&self, store: &dyn Store) -> Result<CatchUp> {
        let mut slot = self.slot.lock().await;
        self.ensure_writer(&mut slot, SERVING_HEAP)?;
        let mut done = CatchUp {
            seq: slot.applied,
            ..Default::default()
        };
        let origin = match &slot.origin {
            Some(o) => Some(o.clone()),
            None => store.origin().await?,
        };
        let foreign = slot.origin.is_none() && {
            let stamped = self.payload()?.and_then(|p| p.origin);
            stamped.is_some() && stamped != origin
        };
        if foreign {
            tracing::warn!(
                "{}: the search index was made from another database; rebuilding it",
                self.dir.display()
            );
            drop(slot);
            let n = self.rebuild(store, &|_| {}).await?;
            return Ok(CatchUp {
                rows: 0,
                docs: n,
                seq: self.applied_seq()?,
                rebuilt: true,
            });
        }
        slot.origin = origin.clone();
        if slot.applied == 0
            || store
                .outbox_after(slot.applied, REBUILD_BACKLOG + 1)
                .await?
                .len()
                > REBUILD_BACKLOG as usize
        {
            let probe = store.outbox_after(slot.applied, 1).await?;
            if probe.is_empty() && slot.applied == 0 && self.doc_count() == 0 {
                return Ok(done); // an empty database and an empty index
            }
            if !probe.is_empty() || slot.applied == 0 {
                drop(slot);
                let n = self.rebuild(store, &|_| {}).await?;
                let seq = self.applied_seq()?;
                return Ok(CatchUp {
                    rows: 0,
                    docs: n,
                    seq,
                    rebuilt: true,
                });
            }
        }
        loop {
            let rows = store.outbox_after(slot.applied, BATCH).await?;
            let Some(last) = rows.last().map(|r| r.seq) else {
                break;
            };
            done.rows += rows.len() as u64;
            let mut ids: Vec<String> = rows
                .into_iter()
                .filter(|r| r.entity == "recommendation")
                .map(|r| r.entity_id)
                .collect();
            ids.sort();
            ids.dedup();
            let mut changes: Vec<(String, Option<TantivyDocument>)> = Vec::with_capacity(ids.len());
            for id in ids {
                let rec = match RecommendationId::parse(&id) {
                    Ok(rid) => store.get(&rid).await?,
                    Err(_) => None,
                };
                let doc = rec.map(|r| schema::document(&self.fields, &r));
                changes.push((id, doc));
            }
            done.docs += changes.len() as u64;
            let mut writer = slot.writer.take().expect("writer taken above");
            let fields = self.fields.clone();
            let origin = origin.clone();
            let (writer, res) = tokio::task::spawn_blocking(move || {
                let res = (|| -> Result<()> {
                    for (id, doc) in changes {
                        writer.delete_term(schema::id_term(&fields, &id));
                        if let Some(doc) = doc {
                            writer.add_document(doc)?;
                        }
                    }
                    commit(&mut writer, last, origin)
                })();
                (writer, res)
            })
            .await
            .map_err(|e| SearchError::Index(format!("the indexer stopped: {e}")))?;
            slot.writer = Some(writer);
            if let Err(e) = res {
                // Throw away what was not committed; the next catch-up redoes the batch.
                if let Some(w) = slot.writer.as_mut() {
                    let _ = w.rollback();
                }
                return Err(e);
            }
            slot.applied = last;
            done.seq = last;
        }
        // Also when another process committed before this one took the
        // writer: this process's reader then has every commit.
        if done.rows > 0 || self.searchable_seq() < slot.applied {
            self.reader.reload()?;
        }
        self.searchable_now(slot.applied);
        Ok(done)
    }

    /// Rebuilds the whole index from the database, a batch at a time, and
    /// commits once at the end (searches see the old index until then).
    /// `progress` gets the number of records indexed so far.
    pub async fn rebuild(
        &self,
        store: &dyn Store,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<u64> {
        let mut slot = self.slot.lock().await;
        // A rebuild deserves a bigger budget than serving: take a fresh writer.
        if let Some(w) = slot.writer.take() {
            let _ = tokio::task::spawn_blocking(move || drop(w)).await;
        }
        self.ensure_writer(&mut slot, REBUILD_HEAP)?;
        // The outbox head before the scan: rows written during the scan are
        // applied again by the next catch-up (harmless: idempotent).
        let origin = store.origin().await?;
        let origin_stamped = origin.clone();
        let mut head = 0i64;
        loop {
            let rows = store.outbox_after(head, 50_000).await?;
            match rows.last() {
                Some(r) => head = r.seq,
                None => break,
            }
        }
        let mut writer = slot.writer.take().expect("writer taken above");
        let result: Result<u64> = async {
            writer.delete_all_documents()?;
            let mut n = 0u64;
            let mut failed: Option<String> = None;
            let fields = &self.fields;
            let w = &writer;
            store
                .scan(2_000, &mut |batch: Vec<Recommendation>| {
                    for rec in &batch {
                        if let Err(e) = w.add_document(schema::document(fields, rec)) {
                            failed = Some(e.to_string());
                            return Err(e.to_string());
                        }
                    }
                    n += batch.len() as u64;
                    progress(n);
                    Ok(())
                })
                .await
                .map_err(|e| match failed.take() {
                    Some(f) => SearchError::Index(f),
                    None => e.into(),
                })?;
            Ok(n)
        }
        .await;
        let (writer, res) = tokio::task::spawn_blocking(move || {
            let res = match result {
                Ok(n) => commit(&mut writer, head, origin).map(|()| n),
                Err(e) => {
                    let _ = writer.rollback();
                    Err(e)
                }
            };
            (writer, res)
        })
        .await
        .map_err(|e| SearchError::Index(format!("the indexer stopped: {e}")))?;
        // Keep a writer with the serving budget.
        drop(writer);
        let n = res?;
        slot.applied = head;
        slot.origin = origin_stamped;
        self.ensure_writer(&mut slot, SERVING_HEAP)?;
        self.reader.reload()?;
        self.searchable_now(head);
        Ok(n)
    }

    /// The indexer task: catches up now, then whenever nudged or every
    /// `every`, until `shutdown`. If another process holds the writer it
    /// keeps trying, quietly, and serves searches meanwhile.
    pub async fn run_indexer(
        self: Arc<Self>,
        store: Arc<dyn Store>,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let mut warned = false;
        loop {
            match self.catch_up(store.as_ref()).await {
                Ok(c) if c.rows > 0 || c.rebuilt => {
                    tracing::info!(
                        rows = c.rows,
                        docs = c.docs,
                        seq = c.seq,
                        rebuilt = c.rebuilt,
                        "search index caught up"
                    );
                }
                Ok(_) => {}
                Err(SearchError::Busy(dir)) => {
                    if !warned {
                        tracing::warn!(
                            "search index {dir} is written by another process; searching only"
                        );
                        warned = true;
                    }
                }
                Err(e) => tracing::error!("search indexer: {e}"),
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.nudge.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
        self.release_writer().await;
    }

    /// Runs a search (blocking: call it from a blocking task).
    pub fn search(&self, req: &SearchRequest) -> Result<SearchResults> {
        let chars = req.query.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(SearchError::BadRequest(format!(
                "the query is {chars} characters long; the limit is {MAX_QUERY_CHARS}"
            )));
        }
        if req.limit == 0 {
            return Err(SearchError::BadRequest(
                "the limit must be at least 1".into(),
            ));
        }
        if req.offset.saturating_add(req.limit) > MAX_RESULT_WINDOW {
            return Err(SearchError::BadRequest(format!(
                "only the first {MAX_RESULT_WINDOW} results can be paged through; narrow the search"
            )));
        }
        let parsed = query::parse(&req.query);
        let mut notes = parsed.notes.clone();
        let searcher = self.reader.searcher();
        let doc_freq = |t: &str| -> u64 {
            [self.fields.title, self.fields.text]
                .iter()
                .map(|f| {
                    searcher
                        .doc_freq(&Term::from_field_text(*f, t))
                        .unwrap_or(0)
                })
                .sum()
        };
        let mut qb = QueryBuilder {
            fields: &self.fields,
            synonyms: &self.synonyms,
            analyzer: clinical_analyzer(),
            doc_freq: &doc_freq,
        };
        let built = qb.build(&parsed);
        let filters = self.filters(&req.filter);
        let has_positive = parsed
            .parts
            .iter()
            .any(|p| !matches!(p, query::Part::Exclude(_)));
        let mut sort = req.sort;
        // `near`: with the proximity boost (the query as scored), or without
        // it (the query as matched: the boost never changes what matches).
        let combine = |main: Box<dyn Query>, near: bool| -> Box<dyn Query> {
            let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, main)];
            if near && let Some(p) = &built.proximity {
                clauses.push((Occur::Should, p.box_clone()));
            }
            for f in &filters {
                clauses.push((
                    Occur::Must,
                    Box::new(ConstScoreQuery::new(f.box_clone(), 0.0)),
                ));
            }
            for e in &built.excludes {
                clauses.push((Occur::MustNot, e.box_clone()));
            }
            Box::new(BooleanQuery::new(clauses))
        };
        let main: Box<dyn Query> = if built.no_words {
            if has_positive {
                notes.push(
                    "every word of the query is too common to search for; try more specific words"
                        .into(),
                );
                Box::new(EmptyQuery)
            } else {
                if built.excludes.is_empty() {
                    notes.push("no words to search for: every record that passes the filters is shown, newest first".into());
                }
                sort = Sort::Newest;
                Box::new(AllQuery)
            }
        } else {
            built.strict.box_clone()
        };
        let mut query = combine(main.box_clone(), true);
        // The relaxed query (any of the words) is run only when the strict
        // one matched nothing or too little.
        let mut relaxed = false;
        let near = built.proximity.is_some();
        let (mut addrs, mut total, mut facet_counts) = self.collect(
            &searcher,
            &*combine(main.box_clone(), false),
            near.then_some(&*query),
            req,
            sort,
        )?;
        let want = (req.offset + req.limit) as usize;
        if total == 0
            && sort == Sort::Newest
            && !built.no_words
            && let Some(r) = &built.relaxed
        {
            notes.push(
                "no record has most of the words: records with some of them are shown".into(),
            );
            query = combine(r.box_clone(), true);
            relaxed = true;
            (addrs, total, facet_counts) = self.collect(
                &searcher,
                &*combine(r.box_clone(), false),
                near.then_some(&*query),
                req,
                sort,
            )?;
        } else if total < want.min(TOP_UP_BELOW)
            && sort == Sort::Relevance
            && !built.no_words
            && let Some(r) = &built.relaxed
        {
            // Too few records hold most of the words (a question worded
            // unlike the report): those that do come first, then the records
            // with some of the words, best first.
            notes.push(if total == 0 {
                "no record has most of the words: records with some of them are shown".into()
            } else {
                format!(
                    "only {total} record(s) have most of the words; records with some of them follow"
                )
            });
            let strict_total = total;
            let all_req = SearchRequest {
                offset: 0,
                limit: want as u64,
                ..req.clone()
            };
            // The strict matches from the first (the page may start later).
            let strict: Vec<(f32, DocAddress)> = if req.offset == 0 {
                std::mem::take(&mut addrs)
            } else {
                self.collect(
                    &searcher,
                    &*combine(main.box_clone(), false),
                    near.then_some(&*query),
                    &all_req,
                    sort,
                )?
                .0
            };
            query = combine(r.box_clone(), true);
            relaxed = true;
            let (more, relaxed_total, relaxed_facets) = self.collect(
                &searcher,
                &*combine(r.box_clone(), false),
                near.then_some(&*query),
                &all_req,
                sort,
            )?;
            let floor = strict.last().map(|(s, _)| *s).unwrap_or(f32::MAX);
            let seen: std::collections::HashSet<DocAddress> =
                strict.iter().map(|(_, a)| *a).collect();
            let mut merged = strict;
            merged.extend(
                more.into_iter()
                    .filter(|(_, a)| !seen.contains(a))
                    // Below every record with most of the words.
                    .map(|(s, a)| (s.min(floor * 0.999), a)),
            );
            addrs = merged
                .into_iter()
                .skip(req.offset as usize)
                .take(req.limit as usize)
                .collect();
            total = relaxed_total.max(strict_total);
            facet_counts = relaxed_facets;
        }
        let addrs: Vec<(f32, DocAddress)> = match sort {
            Sort::Relevance => addrs,
            Sort::Newest if built.no_words => addrs,
            Sort::Newest => {
                let docs: Vec<DocAddress> = addrs.into_iter().map(|(_, a)| a).collect();
                let scores = score_docs(&searcher, query.as_ref(), &docs)?;
                scores.into_iter().zip(docs).collect()
            }
        };
        let highlight: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
            (Occur::Should, query.box_clone()),
            (Occur::Should, built.highlight.box_clone()),
        ]));
        let hits = self.hits(&searcher, highlight.as_ref(), &addrs)?;
        Ok(SearchResults {
            total: total as u64,
            hits,
            facets: facet_counts,
            relaxed,
            notes,
        })
    }

    /// The page of hits (scored for relevance, unscored for newest), the
    /// number of matches and the facet counts of `matching` (the query
    /// without its proximity boost). The counts are remembered per segment
    /// ([`facets::TallyCache`]); once a query's are all known, its page is
    /// found without visiting every match ([`page_and_counts`]).
    ///
    /// For relevance, the page is ranked by BM25 alone and keeps the best
    /// [`RESCORE_WINDOW`] (or the page, if deeper); those are then scored
    /// with `scored` (BM25 plus the boost for words standing together) and
    /// reordered. Reading word positions for every match of a broad query
    /// cost more than anything else at a million records; the boost only
    /// ever reorders the head of the list. Beyond the window the order is
    /// BM25's, and since the boost only adds, the scores still descend.
    fn collect(
        &self,
        searcher: &Searcher,
        matching: &dyn Query,
        scored: Option<&dyn Query>,
        req: &SearchRequest,
        sort: Sort,
    ) -> Result<Collected> {
        let offset = req.offset as usize;
        let want = offset + req.limit as usize;
        let columns = self.facet_columns.columns(searcher, "facets")?;
        let key = format!("{matching:?}");
        let tally = self.tallies.tally(columns, searcher, &key);
        let (page, counted) = match sort {
            Sort::Relevance => {
                let top = TopDocs::with_limit(want.max(RESCORE_WINDOW)).order_by_score();
                let (mut docs, counted) = page_and_counts(searcher, matching, top, tally)?;
                if let Some(scored) = scored {
                    let head = docs.len().min(RESCORE_WINDOW);
                    let addrs: Vec<DocAddress> = docs[..head].iter().map(|(_, a)| *a).collect();
                    let rescored = score_docs(searcher, scored, &addrs)?;
                    for ((score, _), s) in docs.iter_mut().zip(rescored) {
                        *score = score.max(s);
                    }
                    // Stable: equal scores keep BM25's order.
                    docs[..head].sort_by(|a, b| b.0.total_cmp(&a.0));
                }
                let page = docs
                    .into_iter()
                    .skip(offset)
                    .take(req.limit as usize)
                    .collect();
                (page, counted)
            }
            Sort::Newest => {
                let top = TopDocs::with_limit(req.limit as usize)
                    .and_offset(offset)
                    .order_by_fast_field::<i64>("published", Order::Desc);
                let (docs, counted) = page_and_counts(searcher, matching, top, tally)?;
                (docs.into_iter().map(|(_, a)| (0.0, a)).collect(), counted)
            }
        };
        self.tallies.keep(searcher, key, counted.fresh);
        Ok((page, counted.total, counted.facets))
    }

    /// Forgets every remembered count, so that the next searches count
    /// their matches afresh (for benchmarks: the cost of a query never seen).
    pub fn forget_counts(&self) {
        self.tallies.clear();
    }

    fn hits(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        addrs: &[(f32, DocAddress)],
    ) -> Result<Vec<Hit>> {
        let mut snip = SnippetGenerator::create(searcher, query, self.fields.text)?;
        snip.set_max_num_chars(240);
        let mut hits = Vec::with_capacity(addrs.len());
        for (score, addr) in addrs {
            let doc: TantivyDocument = searcher.doc(*addr)?;
            let text_of = |f| {
                doc.get_first(f)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let id = text_of(self.fields.id);
            let title = text_of(self.fields.title);
            let text = text_of(self.fields.text);
            let mut snippet = snip.snippet(&text);
            let snippet = if snippet.fragment().is_empty() {
                escape(&lead(&text, 240))
            } else {
                snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                snippet.to_html()
            };
            hits.push(Hit {
                id,
                score: *score,
                title,
                snippet,
            });
        }
        Ok(hits)
    }

    /// The filters, as required clauses. Drafts are filtered exactly as the
    /// store's listing does it.
    fn filters(&self, f: &RecommendationFilter) -> Vec<Box<dyn Query>> {
        let fl = &self.fields;
        let term = |field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        if let Some(i) = &f.issuer {
            out.push(term(fl.k_issuer, i.as_str()));
        }
        if let Some(a) = &f.addressee {
            let mut alts: Vec<(Occur, Box<dyn Query>)> = vec![
                (
                    Occur::Should,
                    term(fl.k_addressee, &a.trim().to_uppercase()),
                ),
                (Occur::Should, term(fl.k_addressee, &key(a))),
            ];
            let tokens = analyze(&mut clinical_analyzer(), a);
            match tokens.len() {
                0 => {}
                1 => alts.push((Occur::Should, term(fl.addressees, &tokens[0].1))),
                _ => alts.push((
                    Occur::Should,
                    Box::new(PhraseQuery::new_with_offset(
                        tokens
                            .iter()
                            .map(|(p, t)| {
                                (*p - tokens[0].0, Term::from_field_text(fl.addressees, t))
                            })
                            .collect(),
                    )),
                )),
            }
            out.push(Box::new(BooleanQuery::new(alts)));
        }
        if let Some(t) = &f.theme {
            out.push(term(fl.k_theme, &key(t)));
        }
        if let Some(s) = &f.setting {
            out.push(term(fl.k_setting, &key(s)));
        }
        if let Some(s) = f.status {
            out.push(term(fl.k_status, s.as_str()));
        }
        if let Some(k) = f.kind {
            out.push(term(fl.k_kind, k.as_str()));
        }
        if f.from.is_some() || f.to.is_some() {
            let b = |d: Option<chrono::NaiveDate>| match d {
                Some(d) => Bound::Included(Term::from_field_i64(fl.published, day_number(d))),
                None => Bound::Unbounded,
            };
            out.push(Box::new(RangeQuery::new(b(f.from), b(f.to))));
        }
        let draft = || term(fl.k_status, concord_domain::Lifecycle::Draft.as_str());
        match &f.drafts {
            DraftVisibility::All => {}
            DraftVisibility::None => out.push(Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, draft()),
            ]))),
            DraftVisibility::OfIssuer(org) => out.push(Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (
                    Occur::MustNot,
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, draft()),
                        (Occur::MustNot, term(fl.k_issuer, org.as_str())),
                    ])),
                ),
            ]))),
        }
        out
    }
}

/// The page `top` finds and the counts `tally` makes. When every segment's
/// counts are known, the page alone is searched, skipping the matches that
/// cannot reach it (block-max WAND for relevance); otherwise one pass over
/// every match finds the page and counts (two passes, one pruned and one
/// counting, cost more than one for a query never seen).
fn page_and_counts<C: Collector>(
    searcher: &Searcher,
    matching: &dyn Query,
    top: C,
    tally: facets::Tally,
) -> Result<(C::Fruit, facets::Counted)> {
    if tally.all_known() {
        let page = searcher.search(matching, &top)?;
        Ok((page, tally.known_only()?))
    } else {
        Ok(searcher.search(matching, &(top, tally))?)
    }
}

/// The scores `query` gives some documents (0 for one it does not match),
/// in their order: per segment, a scorer moved forward to each document in
/// turn, so only those documents are looked at (nothing is read from the
/// stored documents).
fn score_docs(searcher: &Searcher, query: &dyn Query, docs: &[DocAddress]) -> Result<Vec<f32>> {
    let mut scores = vec![0.0f32; docs.len()];
    if docs.is_empty() {
        return Ok(scores);
    }
    let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by_key(|&i| docs[i]);
    for group in order.chunk_by(|&a, &b| docs[a].segment_ord == docs[b].segment_ord) {
        let segment = searcher.segment_reader(docs[group[0]].segment_ord);
        let mut scorer = weight.scorer(segment, 1.0)?;
        for &i in group {
            let target = docs[i].doc_id;
            let mut at = scorer.doc();
            if at < target {
                at = scorer.seek(target);
            }
            if at == target {
                scores[i] = scorer.score();
            }
        }
    }
    Ok(scores)
}

fn commit(writer: &mut IndexWriter, seq: i64, origin: Option<(i64, String, i64)>) -> Result<()> {
    let payload = serde_json::to_string(&Payload {
        schema: SCHEMA_VERSION,
        outbox_seq: seq,
        origin,
    })
    .expect("a payload serialises");
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit()?;
    Ok(())
}

/// The first `n` characters of a text, cut at a word boundary.
fn lead(text: &str, n: usize) -> String {
    if text.chars().count() <= n {
        return text.to_string();
    }
    let cut: String = text.chars().take(n).collect();
    let cut = match cut.rfind(char::is_whitespace) {
        Some(i) if i > n / 2 => cut[..i].to_string(),
        _ => cut,
    };
    format!("{cut}…")
}

/// Escapes text for HTML (the same characters tantivy's snippets escape).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_lives_beside_the_sqlite_file() {
        assert_eq!(
            index_dir_for("sqlite://concord.db"),
            PathBuf::from("concord.index")
        );
        assert_eq!(
            index_dir_for("sqlite:///var/lib/c/reg.db?mode=rwc"),
            PathBuf::from("/var/lib/c/reg.index")
        );
        assert_eq!(
            index_dir_for("sqlite:data/x"),
            PathBuf::from("data/x.index")
        );
        assert_eq!(
            index_dir_for("postgres://u@h:5432/db"),
            PathBuf::from("concord.index")
        );
    }

    #[test]
    fn lead_cuts_at_a_word_and_escape_escapes() {
        assert_eq!(lead("short", 10), "short");
        assert_eq!(lead("one two three four", 10), "one two…");
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
