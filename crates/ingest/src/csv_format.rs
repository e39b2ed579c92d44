//! Concord's CSV layout, and the CSV reading shared with the PFD layouts.

use std::io::Write;
use std::path::Path;

use concord_domain::{OrganisationDirectory, Recommendation};

use crate::cells::{clip, guard, unguard, utf8};
use crate::table::{COLUMNS, from_cells, header_map, rejection, to_cells};
use crate::{IngestError, Parsed, ParsedRecord, Rejection};

/// Where an unclosed quoted field starts.
struct OpenQuote {
    line: u64,
    /// 0 for the header, then 1-based data rows.
    record: usize,
    field: usize,
    lines_total: u64,
}

/// Follows RFC 4180 quoting as the `csv` crate does and reports a quoted
/// field that is still open at the end of the file (it has swallowed
/// everything after it).
fn find_open_quote(text: &str) -> Option<OpenQuote> {
    #[derive(PartialEq)]
    enum S {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut s = S::FieldStart;
    let (mut line, mut record, mut field) = (1u64, 0usize, 0usize);
    let mut open_at = (0u64, 0usize, 0usize);
    let mut record_has_content = false;
    for &b in text.as_bytes() {
        match s {
            S::FieldStart | S::Unquoted => match b {
                b'"' if s == S::FieldStart => {
                    s = S::Quoted;
                    open_at = (line, record, field);
                    record_has_content = true;
                }
                b',' => {
                    s = S::FieldStart;
                    field += 1;
                    record_has_content = true;
                }
                b'\n' => {
                    line += 1;
                    if record_has_content {
                        record += 1;
                    }
                    record_has_content = false;
                    field = 0;
                    s = S::FieldStart;
                }
                b'\r' => {}
                _ => {
                    s = S::Unquoted;
                    record_has_content = true;
                }
            },
            S::Quoted => {
                if b == b'"' {
                    s = S::QuoteInQuoted;
                } else if b == b'\n' {
                    line += 1;
                }
            }
            S::QuoteInQuoted => match b {
                b'"' => s = S::Quoted,
                b',' => {
                    s = S::FieldStart;
                    field += 1;
                }
                b'\n' => {
                    line += 1;
                    record += 1;
                    record_has_content = false;
                    field = 0;
                    s = S::FieldStart;
                }
                b'\r' => {}
                _ => s = S::Unquoted,
            },
        }
    }
    (s == S::Quoted).then_some(OpenQuote {
        line: open_at.0,
        record: open_at.1,
        field: open_at.2,
        lines_total: line,
    })
}

/// An open CSV file: its header and a reader positioned on the first record.
pub(crate) struct CsvFile<'a> {
    pub header: Vec<String>,
    pub reader: csv::Reader<&'a [u8]>,
}

/// Checks the file as a whole (UTF-8, not empty, quotes balanced) and reads
/// the header.
pub(crate) fn open<'a>(path: &Path, bytes: &'a [u8]) -> Result<CsvFile<'a>, IngestError> {
    let text = utf8(path, bytes, "CSV")?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| IngestError::file(path, format!("cannot read the header row: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if let Some(q) = find_open_quote(text) {
        let column = header
            .get(q.field)
            .filter(|h| !h.is_empty())
            .map(|h| format!("column {h}"))
            .unwrap_or_else(|| format!("field {}", q.field + 1));
        let place = if q.record == 0 {
            "in the header".to_string()
        } else {
            format!("in row {}, {column}", q.record)
        };
        return Err(IngestError::file(
            path,
            format!(
                "unbalanced quote: the quoted field that starts on line {} ({place}) is never closed, so it swallows the rest of the file (lines {}-{}); close the quote, and double any quote inside a quoted field (\"\")",
                q.line, q.line, q.lines_total
            ),
        ));
    }
    Ok(CsvFile { header, reader })
}

impl CsvFile<'_> {
    /// Calls `f(row, cells)` for every record and collects the rejections it
    /// returns (with the record's line filled in); a record whose number of
    /// fields differs from the header's is rejected without calling `f`.
    pub(crate) fn for_each_row(
        mut self,
        path: &Path,
        rejected: &mut Vec<Rejection>,
        mut f: impl FnMut(usize, Vec<String>) -> Option<Rejection>,
    ) -> Result<(), IngestError> {
        let width = self.header.len();
        let mut rec = csv::StringRecord::new();
        let mut row = 0usize;
        loop {
            match self.reader.read_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(IngestError::file(
                        path,
                        format!("cannot be read as CSV: {e}"),
                    ));
                }
            }
            row += 1;
            let line = rec.position().map(|p| p.line());
            if rec.len() != width {
                let mut r = Rejection::new(
                    row,
                    None,
                    format!(
                        "has {} field{} but the header has {width} columns (a missing or extra comma, or an unquoted comma inside a value?)",
                        rec.len(),
                        if rec.len() == 1 { "" } else { "s" }
                    ),
                );
                r.line = line;
                rejected.push(r);
                continue;
            }
            if let Some(mut r) = f(row, rec.iter().map(str::to_string).collect()) {
                r.line = r.line.or(line);
                rejected.push(r);
            }
        }
        Ok(())
    }
}

/// Reads Concord's CSV layout.
pub(crate) fn parse(
    path: &Path,
    bytes: &[u8],
    dir: &OrganisationDirectory,
) -> Result<Parsed, IngestError> {
    let file = open(path, bytes)?;
    let map = header_map(&file.header).map_err(|m| {
        let hint = if file.header.len() == 1 && file.header[0].contains([';', '\t']) {
            let sep = if file.header[0].contains(';') {
                "semicolons"
            } else {
                "tabs"
            };
            format!(" (the first line is separated by {sep}: save the file as comma-separated CSV)")
        } else if file.header.len() == 1 {
            format!(
                " (the first line {:?} has no commas: is this a CSV file?)",
                clip(&file.header[0], 60)
            )
        } else {
            String::new()
        };
        IngestError::file(path, format!("{m}{hint}"))
    })?;
    let mut parsed = Parsed::default();
    let mut rejected = Vec::new();
    file.for_each_row(path, &mut rejected, |row, cells| {
        let cells: Vec<String> = cells.iter().map(|c| unguard(c).to_string()).collect();
        match from_cells(&map, &cells, dir) {
            Ok(new) => {
                parsed.records.push(ParsedRecord { row, new });
                None
            }
            Err(errors) => Some(rejection(row, None, errors)),
        }
    })?;
    parsed.rejected = rejected;
    Ok(parsed)
}

/// Writes Concord's CSV layout a batch at a time: the header on
/// [`CsvWriter::begin`], rows on [`CsvWriter::write`], nothing held back.
/// Cells that a spreadsheet would take for a formula get a leading
/// apostrophe, which the reader removes again.
pub struct CsvWriter<W: Write> {
    inner: csv::Writer<W>,
}

impl<W: Write> CsvWriter<W> {
    pub fn begin(out: W) -> std::io::Result<Self> {
        let mut inner = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        inner.write_record(COLUMNS).map_err(into_io)?;
        Ok(CsvWriter { inner })
    }

    pub fn write(&mut self, rec: &Recommendation) -> std::io::Result<()> {
        let cells = to_cells(rec);
        self.inner
            .write_record(cells.iter().map(|c| guard(c).into_owned()))
            .map_err(into_io)
    }

    pub fn write_batch(&mut self, recs: &[Recommendation]) -> std::io::Result<()> {
        recs.iter().try_for_each(|r| self.write(r))
    }

    /// Flushes and hands the writer back.
    pub fn end(self) -> std::io::Result<W> {
        self.inner
            .into_inner()
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

fn into_io(e: csv::Error) -> std::io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => std::io::Error::other(format!("{other:?}")),
    }
}

/// Writes a whole CSV file.
pub fn write_csv(recs: &[Recommendation], out: impl Write) -> std::io::Result<()> {
    let mut w = CsvWriter::begin(out)?;
    w.write_batch(recs)?;
    w.end()?.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use crate::table::tests::{bare, rich};
    use chrono::Utc;

    fn p() -> &'static Path {
        Path::new("in.csv")
    }

    fn dir() -> OrganisationDirectory {
        OrganisationDirectory::new(&concord_domain::seed_organisations())
    }

    fn parse_str(s: &str) -> Result<Parsed, IngestError> {
        crate::parse(
            p(),
            s.as_bytes(),
            Format::Csv,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
    }

    fn err(s: &[u8]) -> String {
        crate::parse(
            p(),
            s,
            Format::Csv,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn round_trip_is_exact() {
        let recs = vec![rich(), bare()];
        let mut out = Vec::new();
        write_csv(&recs, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        // Formula injection: no cell starts with a formula character.
        assert!(text.contains(",\"'=HYPERLINK"), "{text}");
        assert!(text.contains(",'-20% deaths,"), "{text}");
        let parsed = crate::parse(
            p(),
            &out,
            Format::Csv,
            &dir(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
        .unwrap();
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let back: Vec<Recommendation> = parsed
            .records
            .into_iter()
            .map(|r| {
                let id = match &r.new.id {
                    concord_domain::IdRequest::Exact(id) => id.clone(),
                    other => panic!("{other:?}"),
                };
                r.new.into_recommendation(id, Utc::now()).unwrap()
            })
            .collect();
        assert_eq!(back, recs);
        let mut again = Vec::new();
        write_csv(&back, &mut again).unwrap();
        assert_eq!(again, out);
    }

    #[test]
    fn minimal_hand_written_file() {
        let parsed = parse_str(
            "\u{feff}issuer,title,text,published\r\nNHSE,A title,Some text,2024-01-05\r\n",
        )
        .unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].row, 1);
    }

    #[test]
    fn empty_and_binary_and_not_utf8() {
        assert_eq!(err(b""), "in.csv: is empty");
        assert_eq!(err(b" \n\r\n"), "in.csv: is empty");
        let e = err(b"issuer,title,text\nNHSE,caf\xe9,x\n");
        assert_eq!(
            e,
            "in.csv: is not UTF-8: invalid byte 0xE9 at byte offset 26 (line 2, column 9); save the file as UTF-8"
        );
        assert!(err(b"PK\x03\x04....").contains("this is a ZIP or XLSX file"));
        assert!(err(b"issuer,title,text\n\0\0").contains("NUL byte"));
    }

    #[test]
    fn not_csv_at_all() {
        let e = err(b"{\"id\": \"HSSIB-2024-0001\"}\n");
        assert!(e.starts_with("in.csv: unknown column"), "{e}");
        assert!(e.contains("has no commas: is this a CSV file?"), "{e}");
        let e = err(b"issuer;title;text\nNHSE;x;y\n");
        assert!(
            e.ends_with(
                "(the first line is separated by semicolons: save the file as comma-separated CSV)"
            ),
            "{e}"
        );
        let e = err(b"issuer,title\nNHSE,x\n");
        assert!(
            e.starts_with("in.csv: the header lacks the required column text"),
            "{e}"
        );
    }

    #[test]
    fn wrong_column_count_is_a_rejected_row() {
        let parsed = parse_str(
            "issuer,title,text,published\nNHSE,a,b,2024-01-01\nNHSE,a,b\nCQC,c,d,2024-02-02\n",
        )
        .unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(
            parsed.rejected[0].to_string(),
            "row 2 (line 3): has 3 fields but the header has 4 columns (a missing or extra comma, or an unquoted comma inside a value?)"
        );
    }

    #[test]
    fn unbalanced_quote_names_the_line() {
        let e = err(
            b"issuer,title,text,published\nNHSE,a,b,2024-01-01\nNHSE,\"broken,b,2024-01-01\nCQC,c,d,2024-02-02\n",
        );
        assert_eq!(
            e,
            "in.csv: unbalanced quote: the quoted field that starts on line 3 (in row 2, column title) is never closed, so it swallows the rest of the file (lines 3-5); close the quote, and double any quote inside a quoted field (\"\")"
        );
        // A multi-line quoted field that is closed is fine.
        let ok = parse_str("issuer,title,text,published\nNHSE,\"a\nb \"\"c\"\"\",x,2024-01-01\n")
            .unwrap();
        assert_eq!(ok.records[0].new.data.title, "a\nb \"c\"");
    }

    #[test]
    fn bad_values_are_rejected_rows() {
        let parsed = parse_str(
            "id,issuer,title,text,published,kind,status\n\
             ,NHSE,a,b,31/02/2024,,\n\
             ,NHSE,a,b,2024-13-01,,\n\
             ,NHSE,a,b,2024-01-01,advice,\n\
             HSSIB-2024-0001,NHSE,a,b,2024-01-01,,\n\
             ,NHSE,,b,2024-01-01,,\n\
             ,NHSE,a,b,2024-01-01,concern,opened\n",
        )
        .unwrap();
        assert!(parsed.records.is_empty());
        let msgs: Vec<String> = parsed.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "row 1 (line 2), field published: \"31/02/2024\" is not a real date: February 2024 has no day 31",
                "row 2 (line 3), field published: \"2024-13-01\" is not a real date: there is no month 13",
                "row 3 (line 4), field kind: \"advice\" is not one of: recommendation, safety_observation, safety_action, concern",
                "row 4 (line 5), field id: HSSIB-2024-0001 does not belong to the issuer NHSE of this row",
                "row 5 (line 6), field title: is empty",
                "row 6 (line 7), field status: \"opened\" is not one of: draft, published, closed, withdrawn, superseded",
            ]
        );
    }

    #[test]
    fn ten_megabyte_cell_is_a_rejected_row() {
        let big = "x".repeat(10 << 20);
        let text = format!(
            "issuer,title,text,published\nNHSE,a,{big},2024-01-01\nNHSE,ok,fine,2024-01-01\n"
        );
        let parsed = parse_str(&text).unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(
            parsed.rejected[0].to_string(),
            "row 1 (line 2), field text: 10485760 bytes is longer than the limit of 1048576 bytes for one cell"
        );
        // Also in a column that is parsed, without quoting the value back.
        let text = format!("issuer,title,text,kind\nNHSE,a,b,{big}\n");
        let msg = parse_str(&text).unwrap().rejected[0].to_string();
        assert!(msg.len() < 200, "{msg}");
    }
}
