//! Files in and out: Concord's own JSON, CSV and XLSX layouts, the coroners'
//! Prevention of Future Deaths (PFD) layouts, and the synthetic corpus
//! generator used for benchmarks.
//!
//! Nothing here touches the database: [`parse`] turns a file into domain
//! values ([`NewRecommendation`]s, [`ResponseAttachment`]s) for the app layer
//! to hand to the store, and the writers turn stored
//! [`Recommendation`]s back into files.
//!
//! # Row numbers
//!
//! Every [`Rejection`] names a `row`: the 1-based number of the *data* record
//! in the file, the header not counted (the first recommendation in a CSV or
//! XLSX file is row 1, the first element of a JSON array is row 1, the first
//! line of a JSON-lines file is row 1). For CSV files, where one record may
//! span several lines, the rejection also gives the `line` of the file on
//! which the record starts (the header is line 1). See `FORMATS.md`.
//!
//! # Errors
//!
//! A problem with one record never aborts a parse: it becomes a
//! [`Rejection`]. [`IngestError`] is kept for a file that is unusable as a
//! whole (empty, not UTF-8, not the format it claims to be, wrong header,
//! truncated, an unbalanced quote that swallows the rest of the file).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

pub use concord_domain::{
    NewRecommendation, Organisation, OrganisationDirectory, Recommendation, ResponseAttachment,
};

mod cells;
mod csv_format;
pub mod generate;
mod json;
mod pfd;
mod table;
mod xlsx;

pub use csv_format::{CsvWriter, write_csv};
pub use generate::{GenOptions, Vocabulary, generate, generate_with};
pub use json::{JsonLinesWriter, JsonWriter, parse_json_stream, write_json, write_json_lines};
pub use pfd::NO_CONCERNS_TEXT;
pub use table::COLUMNS;
pub use xlsx::{XlsxWriter, write_xlsx};

/// The file layouts Concord reads. `auto` is not a format: it is what
/// [`detect`] is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Concord's export: an array of recommendation objects (also a single
    /// object, or JSON lines).
    Json,
    /// Concord's CSV layout (see `FORMATS.md`).
    Csv,
    /// Concord's XLSX layout: the CSV columns in a worksheet.
    Xlsx,
    /// The judiciary's PFD reports as scraped (`judiciary-reports.csv`).
    PfdJudiciary,
    /// PFD reports in the PFD-Toolkit's layout.
    PfdToolkit,
    /// Replies to PFD reports in the PFD-Toolkit's layout.
    PfdToolkitResponses,
}

impl Format {
    pub const ALL: &'static [Format] = &[
        Format::Json,
        Format::Csv,
        Format::Xlsx,
        Format::PfdJudiciary,
        Format::PfdToolkit,
        Format::PfdToolkitResponses,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::PfdJudiciary => "pfd-judiciary",
            Format::PfdToolkit => "pfd-toolkit",
            Format::PfdToolkitResponses => "pfd-toolkit-responses",
        }
    }

    /// The allowed spellings, for messages: `json, csv, xlsx, ...`.
    pub fn allowed() -> String {
        Format::ALL
            .iter()
            .map(Format::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = IngestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase().replace('_', "-");
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == t)
            .ok_or_else(|| IngestError::UnknownFormat(s.to_string()))
    }
}

/// The file as a whole cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IngestError {
    /// Names the file, then says what is wrong and where.
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error(
        "unknown format {0:?}: expected one of json, csv, xlsx, pfd-judiciary, pfd-toolkit, pfd-toolkit-responses"
    )]
    UnknownFormat(String),
}

impl IngestError {
    pub(crate) fn file(path: &Path, message: impl Into<String>) -> Self {
        IngestError::File {
            file: path.display().to_string(),
            message: message.into(),
        }
    }
}

/// A file turned into domain values.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Parsed {
    pub records: Vec<ParsedRecord>,
    /// Replies to reports that are (or will be) in the register, from the
    /// PFD-Toolkit's responses file.
    pub responses: Vec<ResponseAttachment>,
    pub rejected: Vec<Rejection>,
    /// Rows with every column empty: there is nothing in them to import, so
    /// they are reported as skipped rather than rejected.
    pub blank_rows: Vec<usize>,
    /// Organisations the file names that the directory does not know: the
    /// PFD formats propose an unverified organisation for each addressee
    /// name that is not only a post or a person.
    pub organisations: Vec<Organisation>,
}

/// One record ready for the store, with the row it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRecord {
    /// 1-based data row (see the crate documentation).
    pub row: usize,
    pub new: NewRecommendation,
}

/// A row that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based data row (see the crate documentation).
    pub row: usize,
    /// The line of the file on which the record starts, where the format has
    /// lines that differ from rows (CSV with multi-line cells).
    pub line: Option<u64>,
    /// The column or field at fault, when it is one field.
    pub field: Option<String>,
    pub reason: String,
}

impl Rejection {
    pub(crate) fn new(row: usize, field: Option<&str>, reason: impl Into<String>) -> Self {
        Rejection {
            row,
            line: None,
            field: field.map(str::to_string),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}", self.row)?;
        if let Some(l) = self.line {
            write!(f, " (line {l})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field {field}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

const JUDICIARY_HEAD: &str = "ref,date_of_report";
const TOOLKIT_HEAD: &str = ",url,id,date,coroner";
const TOOLKIT_RESPONSES_HEAD: &str = ",parent_id,parent_url,response_url";

/// Works out a file's format from its name and its first bytes (`--format
/// auto`). `head` need only hold the first few kilobytes.
pub fn detect(path: &Path, head: &[u8]) -> Result<Format, IngestError> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "json" | "jsonl" | "ndjson" => return Ok(Format::Json),
        "xlsx" => return Ok(Format::Xlsx),
        _ => {}
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::Xlsx);
    }
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}');
    let first_line = text
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if first_line.starts_with(JUDICIARY_HEAD) {
        return Ok(Format::PfdJudiciary);
    }
    // With or without the pandas index column the toolkit writes first.
    if first_line.starts_with(TOOLKIT_HEAD) || first_line.starts_with(&TOOLKIT_HEAD[1..]) {
        return Ok(Format::PfdToolkit);
    }
    if first_line.starts_with(TOOLKIT_RESPONSES_HEAD)
        || first_line.starts_with(&TOOLKIT_RESPONSES_HEAD[1..])
    {
        return Ok(Format::PfdToolkitResponses);
    }
    if ext == "csv" || ext == "txt" {
        return Ok(Format::Csv);
    }
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return Ok(Format::Json);
    }
    if first_line.contains(',') && first_line.split(',').any(|c| c.trim() == "title") {
        return Ok(Format::Csv);
    }
    Err(IngestError::file(
        path,
        format!(
            "cannot tell the file's format from its name or its first line; pass --format (one of {})",
            Format::allowed()
        ),
    ))
}

/// Reads a whole file. `path` is used for messages (and nothing else: the
/// bytes are the file's content).
///
/// `today` is the day of the import: a PFD row that carries no date, no
/// reference and no dated PDF address at all is numbered in the year the
/// register first records it, since no other year can be known for it.
pub fn parse(
    path: &Path,
    bytes: &[u8],
    format: Format,
    dir: &OrganisationDirectory,
    today: chrono::NaiveDate,
) -> Result<Parsed, IngestError> {
    match format {
        Format::Json => json::parse(path, bytes),
        Format::Csv => csv_format::parse(path, bytes, dir),
        Format::Xlsx => xlsx::parse(path, bytes, dir),
        Format::PfdJudiciary => pfd::parse_judiciary(path, bytes, dir, today),
        Format::PfdToolkit => pfd::parse_toolkit(path, bytes, dir, today),
        Format::PfdToolkitResponses => pfd::parse_toolkit_responses(path, bytes, dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_print() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>().unwrap(), *f);
        }
        assert_eq!(
            "PFD_Judiciary".parse::<Format>().unwrap(),
            Format::PfdJudiciary
        );
        let err = "xml".parse::<Format>().unwrap_err().to_string();
        assert_eq!(
            err,
            "unknown format \"xml\": expected one of json, csv, xlsx, pfd-judiciary, pfd-toolkit, pfd-toolkit-responses"
        );
    }

    #[test]
    fn detects_formats() {
        let d = |name: &str, head: &str| detect(Path::new(name), head.as_bytes());
        assert_eq!(d("a.json", "").unwrap(), Format::Json);
        assert_eq!(d("a.JSONL", "").unwrap(), Format::Json);
        assert_eq!(d("a.xlsx", "").unwrap(), Format::Xlsx);
        assert_eq!(d("a.bin", "PK\x03\x04rest").unwrap(), Format::Xlsx);
        assert_eq!(
            d("r.csv", "ref,date_of_report,coroner_name\n").unwrap(),
            Format::PfdJudiciary
        );
        assert_eq!(
            d("r.csv", "\u{feff}ref,date_of_report,coroner_name\r\n").unwrap(),
            Format::PfdJudiciary
        );
        assert_eq!(
            d("t.csv", ",url,id,date,coroner,area\n").unwrap(),
            Format::PfdToolkit
        );
        assert_eq!(
            d("t.csv", "url,id,date,coroner,area,receiver\n").unwrap(),
            Format::PfdToolkit
        );
        assert_eq!(
            d("t.csv", ",parent_id,parent_url,response_url,respondent\n").unwrap(),
            Format::PfdToolkitResponses
        );
        assert_eq!(d("x.csv", "id,issuer,title,text\n").unwrap(), Format::Csv);
        assert_eq!(d("x", "[{\"id\": 1}]").unwrap(), Format::Json);
        assert_eq!(d("x", "issuer,title,text\n").unwrap(), Format::Csv);
        let err = d("notes.md", "# hello").unwrap_err().to_string();
        assert!(err.starts_with("notes.md: cannot tell"), "{err}");
        assert!(err.contains("pfd-toolkit-responses"), "{err}");
    }

    #[test]
    fn rejection_display() {
        let mut r = Rejection::new(12, Some("published"), "\"31/02/2024\" is not a real date");
        assert_eq!(
            r.to_string(),
            "row 12, field published: \"31/02/2024\" is not a real date"
        );
        r.line = Some(40);
        r.field = None;
        assert_eq!(
            r.to_string(),
            "row 12 (line 40): \"31/02/2024\" is not a real date"
        );
    }
}
