//! A search's whole result set (up to a cap) as records, and written as a
//! download in the export formats (JSON, CSV, XLSX: the same shapes as
//! `concord export`, so a download can be imported again).

use std::io::Write;

use concord_domain::{Recommendation, RecommendationId};
use concord_store::Page;

use crate::access::Authorized;
use crate::error::{AppError, AppResult};
use crate::imports::ExportFormat;
use crate::search::SearchQuery;

/// The most records one download holds: each is read from the database, so
/// a larger set is for the paged API (or `concord export`).
pub const MAX_DOWNLOAD: u64 = 1_000;

/// The records of a search, best first (or newest first), at most the cap.
#[derive(Debug, Clone)]
pub struct ResultSet {
    /// Matches in all; more than `records.len()` when the cap was reached.
    pub total: u64,
    pub records: Vec<Recommendation>,
}

impl ResultSet {
    pub fn capped(&self) -> bool {
        self.total > self.records.len() as u64
    }
}

impl Authorized<'_> {
    /// The first `cap` (at most [`MAX_DOWNLOAD`]) records that `q` finds,
    /// ignoring its paging; the caller sees only what it may read. A record
    /// deleted since the index saw it is left out.
    pub async fn search_result_set(&self, mut q: SearchQuery, cap: u64) -> AppResult<ResultSet> {
        q.page = Page {
            offset: 0,
            limit: cap.clamp(1, MAX_DOWNLOAD),
        };
        let found = self.search(q).await?;
        let mut records = Vec::with_capacity(found.hits.len());
        for hit in &found.hits {
            let id = RecommendationId::parse(&hit.id)
                .map_err(|e| AppError::Internal(format!("search index holds {:?}: {e}", hit.id)))?;
            match self.recommendation(&id).await {
                Ok(rec) => records.push(rec),
                Err(AppError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(ResultSet {
            total: found.total,
            records,
        })
    }
}

/// Writes records in one of the export formats.
pub fn write_records(
    format: ExportFormat,
    records: &[Recommendation],
    out: &mut (dyn Write + Send),
) -> AppResult<()> {
    let io = |e: std::io::Error| AppError::Io(e.to_string());
    match format {
        ExportFormat::Json => {
            let mut w = concord_ingest::JsonWriter::begin(&mut *out).map_err(io)?;
            w.write_batch(records).map_err(io)?;
            w.end().map_err(io)?;
        }
        ExportFormat::Csv => {
            let mut w = concord_ingest::CsvWriter::begin(&mut *out).map_err(io)?;
            w.write_batch(records).map_err(io)?;
            w.end().map_err(io)?;
        }
        ExportFormat::Xlsx => {
            let mut w = concord_ingest::XlsxWriter::begin().map_err(io)?;
            w.write_batch(records).map_err(io)?;
            w.end(&mut *out).map_err(io)?;
        }
    }
    Ok(())
}
