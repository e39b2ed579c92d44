//! Concord's XLSX layout: the CSV columns in a worksheet named
//! `recommendations`, every cell a string (never a formula). A cell longer
//! than Excel's limit (32,767 characters) is cut into parts: the first stays
//! in its cell, the others go to a worksheet named `continued` (columns
//! `row, column, part, text`), and the reader joins them again.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};
use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use chrono::{Duration, NaiveDate};
use concord_domain::{OrganisationDirectory, Recommendation};
use rust_xlsxwriter::{Workbook, Worksheet, XlsxError};

use crate::table::{COLUMNS, from_cells, header_map, rejection, to_cells};
use crate::{IngestError, Parsed, ParsedRecord};

const SHEET: &str = "recommendations";
const CONTINUED: &str = "continued";
/// Excel allows 32,767 UTF-16 units in a cell; parts stay well below.
const PART_UTF16: usize = 32_000;
/// Excel's last row is 1,048,576; the header takes one.
const MAX_RECORDS: u32 = 1_048_575;

fn io(e: XlsxError) -> std::io::Error {
    std::io::Error::other(format!("writing XLSX: {e}"))
}

/// Cuts a value into parts of at most [`PART_UTF16`] UTF-16 units.
fn parts(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut units) = (0, 0);
    for (i, c) in value.char_indices() {
        if units + c.len_utf16() > PART_UTF16 {
            out.push(&value[start..i]);
            start = i;
            units = 0;
        }
        units += c.len_utf16();
    }
    out.push(&value[start..]);
    out
}

/// Writes Concord's XLSX layout. Rows go to a temporary file as they are
/// written (rust_xlsxwriter's constant-memory mode); the workbook is
/// assembled on [`XlsxWriter::end`].
pub struct XlsxWriter {
    book: Workbook,
    rows: u32,
    continued_rows: u32,
}

impl XlsxWriter {
    pub fn begin() -> std::io::Result<Self> {
        let mut book = Workbook::new();
        for (name, header) in [
            (SHEET, COLUMNS),
            (CONTINUED, &["row", "column", "part", "text"][..]),
        ] {
            let sheet = book.add_worksheet_with_constant_memory().map_err(io)?;
            sheet.set_name(name).map_err(io)?;
            for (c, h) in header.iter().enumerate() {
                sheet.write_string(0, c as u16, *h).map_err(io)?;
            }
        }
        Ok(XlsxWriter {
            book,
            rows: 0,
            continued_rows: 0,
        })
    }

    fn sheet(&mut self, i: usize) -> std::io::Result<&mut Worksheet> {
        self.book.worksheet_from_index(i).map_err(io)
    }

    pub fn write(&mut self, rec: &Recommendation) -> std::io::Result<()> {
        if self.rows >= MAX_RECORDS {
            return Err(std::io::Error::other(format!(
                "an XLSX worksheet holds at most {MAX_RECORDS} records; export as CSV or JSON instead"
            )));
        }
        self.rows += 1;
        let row = self.rows;
        let mut overflow = Vec::new();
        let sheet = self.sheet(0)?;
        for (c, value) in to_cells(rec).iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            let ps = parts(value);
            sheet.write_string(row, c as u16, ps[0]).map_err(io)?;
            for (k, p) in ps.iter().enumerate().skip(1) {
                overflow.push((COLUMNS[c], k, p.to_string()));
            }
        }
        for (column, part, text) in overflow {
            self.continued_rows += 1;
            let r = self.continued_rows;
            let sheet = self.sheet(1)?;
            sheet.write_number(r, 0, f64::from(row)).map_err(io)?;
            sheet.write_string(r, 1, column).map_err(io)?;
            sheet.write_number(r, 2, part as f64).map_err(io)?;
            sheet.write_string(r, 3, text).map_err(io)?;
        }
        Ok(())
    }

    pub fn write_batch(&mut self, recs: &[Recommendation]) -> std::io::Result<()> {
        recs.iter().try_for_each(|r| self.write(r))
    }

    /// Assembles the workbook and writes it out.
    pub fn end(mut self, mut out: impl Write) -> std::io::Result<()> {
        let buf = self.book.save_to_buffer().map_err(io)?;
        out.write_all(&buf)?;
        out.flush()
    }
}

/// Writes a whole XLSX file.
pub fn write_xlsx(recs: &[Recommendation], out: impl Write) -> std::io::Result<()> {
    let mut w = XlsxWriter::begin()?;
    w.write_batch(recs)?;
    w.end(out)
}

/// A cell as text: strings as they are; numbers and dates typed by hand into
/// a spreadsheet as we would write them.
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                f.to_string()
            }
        }
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            let serial = dt.as_f64();
            let base = NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
            let date = base + Duration::days(serial.floor() as i64);
            date.to_string()
        }
        Data::Error(e) => format!("#{e:?}"),
    }
}

pub(crate) fn parse(
    path: &Path,
    bytes: &[u8],
    dir: &OrganisationDirectory,
) -> Result<Parsed, IngestError> {
    if bytes.is_empty() {
        return Err(IngestError::file(path, "is empty"));
    }
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        IngestError::file(
            path,
            format!(
                "is not a readable XLSX file (is it truncated, damaged, or another format?): {e}"
            ),
        )
    })?;
    let names = book.sheet_names();
    let name = names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(SHEET))
        .or_else(|| names.first())
        .cloned()
        .ok_or_else(|| IngestError::file(path, "has no worksheet"))?;
    let range = book.worksheet_range(&name).map_err(|e| {
        IngestError::file(
            path,
            format!("worksheet {name:?} cannot be read (is the file truncated or damaged?): {e}"),
        )
    })?;
    // Parts of long cells: (row, column) -> parts in order.
    let mut continued: BTreeMap<(usize, String), BTreeMap<usize, String>> = BTreeMap::new();
    if let Some(cname) = names.iter().find(|n| n.eq_ignore_ascii_case(CONTINUED)) {
        let crange = book.worksheet_range(cname).map_err(|e| {
            IngestError::file(path, format!("worksheet {cname:?} cannot be read: {e}"))
        })?;
        for r in crange.rows().skip(1) {
            let get = |i: usize| r.get(i).map(cell_text).unwrap_or_default();
            if let (Ok(row), Ok(part)) = (get(0).parse::<usize>(), get(2).parse::<usize>()) {
                continued
                    .entry((row, get(1)))
                    .or_default()
                    .insert(part, get(3));
            }
        }
    }
    let mut rows = range.rows();
    let header: Vec<String> = match rows.next() {
        Some(h) => h.iter().map(cell_text).collect(),
        None => {
            return Err(IngestError::file(
                path,
                format!("worksheet {name:?} is empty"),
            ));
        }
    };
    // Trailing empty header cells (a sheet formatted wider than its data).
    let width = header
        .iter()
        .rposition(|h| !h.trim().is_empty())
        .map_or(0, |p| p + 1);
    let header = &header[..width];
    let map = header_map(header)
        .map_err(|m| IngestError::file(path, format!("worksheet {name:?}: {m}")))?;
    let mut parsed = Parsed::default();
    for (i, r) in rows.enumerate() {
        let row = i + 1;
        let mut cells: Vec<String> = (0..width)
            .map(|c| r.get(c).map(cell_text).unwrap_or_default())
            .collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        for (c, h) in header.iter().enumerate() {
            if let Some(ps) = continued.get(&(row, h.trim().to_ascii_lowercase())) {
                for p in ps.values() {
                    cells[c].push_str(p);
                }
            }
        }
        match from_cells(&map, &cells, dir) {
            Ok(new) => parsed.records.push(ParsedRecord { row, new }),
            Err(errors) => parsed.rejected.push(rejection(row, None, errors)),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use crate::table::tests::{bare, rich};
    use chrono::Utc;
    use concord_domain::IdRequest;

    fn parse_bytes(b: &[u8]) -> Result<Parsed, IngestError> {
        crate::parse(
            Path::new("in.xlsx"),
            b,
            Format::Xlsx,
            &OrganisationDirectory::default(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
    }

    fn back(parsed: Parsed) -> Vec<Recommendation> {
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        parsed
            .records
            .into_iter()
            .map(|r| {
                let IdRequest::Exact(id) = r.new.id.clone() else {
                    panic!()
                };
                r.new.into_recommendation(id, Utc::now()).unwrap()
            })
            .collect()
    }

    #[test]
    fn round_trip_is_exact_even_for_long_cells() {
        let mut long = rich();
        long.id = concord_domain::RecommendationId::parse("HSSIB-2024-0013").unwrap();
        long.data.text = "é🚑 ".repeat(30_000); // 120,000 UTF-16 units
        long.data.text.push('x');
        let recs = vec![rich(), bare(), long];
        let mut out = Vec::new();
        write_xlsx(&recs, &mut out).unwrap();
        assert!(out.starts_with(b"PK\x03\x04"));
        assert_eq!(back(parse_bytes(&out).unwrap()), recs);
    }

    #[test]
    fn cells_are_strings_not_formulas() {
        let mut out = Vec::new();
        write_xlsx(&[rich()], &mut out).unwrap();
        let mut book: Xlsx<_> = Xlsx::new(Cursor::new(&out[..])).unwrap();
        let range = book.worksheet_range(SHEET).unwrap();
        let local_ref = range.get((1, 1)).unwrap();
        assert_eq!(local_ref, &Data::String("=HYPERLINK(\"x\")".into()));
        let formulas = book.worksheet_formula(SHEET).unwrap();
        assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
    }

    #[test]
    fn truncated_and_empty_files() {
        let mut out = Vec::new();
        write_xlsx(&[rich(), bare()], &mut out).unwrap();
        let half = &out[..out.len() / 2];
        let e = parse_bytes(half).unwrap_err().to_string();
        assert!(
            e.starts_with("in.xlsx: is not a readable XLSX file (is it truncated, damaged, or another format?)"),
            "{e}"
        );
        assert_eq!(
            parse_bytes(b"").unwrap_err().to_string(),
            "in.xlsx: is empty"
        );
        let e = parse_bytes(b"id,issuer\n").unwrap_err().to_string();
        assert!(e.contains("is not a readable XLSX file"), "{e}");
    }

    #[test]
    fn hand_made_sheet_with_typed_cells() {
        let mut book = Workbook::new();
        let s = book.add_worksheet();
        for (c, h) in [
            "issuer",
            "title",
            "text",
            "published",
            "cost_one_off",
            "kind",
        ]
        .iter()
        .enumerate()
        {
            s.write_string(0, c as u16, *h).unwrap();
        }
        s.write_string(1, 0, "NICE").unwrap();
        s.write_string(1, 1, "T").unwrap();
        s.write_string(1, 2, "X").unwrap();
        // 2024-09-16 as an Excel date serial, and a number.
        let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        s.write_number_with_format(1, 3, 45551.0, &fmt).unwrap();
        s.write_number(1, 4, 2500.0).unwrap();
        s.write_string(2, 0, "NICE").unwrap();
        s.write_string(2, 1, "T").unwrap();
        s.write_string(2, 2, "X").unwrap();
        s.write_string(2, 3, "2024-02-30").unwrap();
        s.write_string(2, 5, "advice").unwrap();
        let buf = book.save_to_buffer().unwrap();
        let parsed = parse_bytes(&buf).unwrap();
        assert_eq!(parsed.records.len(), 1);
        let d = &parsed.records[0].new.data;
        assert_eq!(d.published.unwrap().to_string(), "2024-09-16");
        assert_eq!(d.cost.as_ref().unwrap().one_off, Some(2500.0));
        assert_eq!(
            parsed.rejected[0].to_string(),
            "row 2: field kind: \"advice\" is not one of: recommendation, safety_observation, safety_action, concern; field published: \"2024-02-30\" is not a real date: February 2024 has no day 30"
        );
    }
}
