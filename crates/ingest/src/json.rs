//! Concord's JSON: an array of recommendation objects exactly as serde
//! writes them (the API's shape). Reads an array, a single object, or JSON
//! lines; writes an array with one compact object per line.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use concord_domain::{NewRecommendation, Recommendation};
use serde::de::{Deserializer as _, SeqAccess, Visitor};
use serde_json::Value;

use crate::cells::utf8;
use crate::{IngestError, Parsed, ParsedRecord, Rejection};

/// Turns one element into a record, or says why not.
fn element(row: usize, v: Value) -> Result<ParsedRecord, Rejection> {
    let kind = match &v {
        Value::Object(_) => None,
        Value::Array(_) => Some("a list"),
        Value::String(_) => Some("a string"),
        Value::Number(_) => Some("a number"),
        Value::Bool(_) => Some("true or false"),
        Value::Null => Some("null"),
    };
    if let Some(k) = kind {
        return Err(Rejection::new(
            row,
            None,
            format!("expected a recommendation object, found {k}"),
        ));
    }
    let field = faulty_field(&v);
    let rec: Recommendation = serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .strip_prefix("missing field `")
            .and_then(|r| r.split('`').next())
            .map(str::to_string)
            .or(field);
        Rejection {
            row,
            line: None,
            field,
            reason: msg,
        }
    })?;
    if rec.id.issuer != rec.data.issuer {
        return Err(Rejection::new(
            row,
            Some("id"),
            format!(
                "{} does not belong to the issuer {}",
                rec.id, rec.data.issuer
            ),
        ));
    }
    if rec.version < 1 {
        return Err(Rejection::new(
            row,
            Some("version"),
            format!("{} is not a version (they start at 1)", rec.version),
        ));
    }
    let mut new = NewRecommendation::from_export(rec);
    match new.data.clone().validate() {
        Ok(d) => new.data = d,
        Err(e) => {
            let fields = e.fields();
            let (field, reason) = if fields.len() == 1 {
                (Some(fields[0].field.clone()), fields[0].message.clone())
            } else {
                (None, e.to_string())
            };
            return Err(Rejection {
                row,
                line: None,
                field,
                reason,
            });
        }
    }
    Ok(ParsedRecord { row, new })
}

/// The first top-level field whose value does not read as its type, so that
/// a rejection can name it (serde's message from a `Value` does not).
fn faulty_field(v: &Value) -> Option<String> {
    use concord_domain::*;
    use serde::de::DeserializeOwned;
    fn bad<T: DeserializeOwned>(v: &Value) -> bool {
        serde_json::from_value::<T>(v.clone()).is_err()
    }
    let obj = v.as_object()?;
    type Check = (&'static str, fn(&Value) -> bool);
    let checks: &[Check] = &[
        ("id", bad::<RecommendationId>),
        ("kind", bad::<RecKind>),
        ("issuer", bad::<OrgCode>),
        ("title", bad::<String>),
        ("text", bad::<String>),
        ("local_ref", bad::<Option<String>>),
        ("source", bad::<Option<Source>>),
        ("published", bad::<Option<chrono::NaiveDate>>),
        ("status", bad::<Lifecycle>),
        ("level", bad::<Option<SystemLevel>>),
        ("addressees", bad::<Vec<Addressee>>),
        ("themes", bad::<Vec<String>>),
        ("settings", bad::<Vec<String>>),
        ("evidence", bad::<Option<Evidence>>),
        ("patient_impact", bad::<Option<String>>),
        ("cost", bad::<Option<Cost>>),
        ("equality", bad::<Option<EqualityImpact>>),
        ("risk", bad::<Option<Risk>>),
        ("response_deadline", bad::<Option<chrono::NaiveDate>>),
        ("links", bad::<Vec<Link>>),
        ("version", bad::<i64>),
        ("created_at", bad::<chrono::DateTime<chrono::Utc>>),
        ("updated_at", bad::<chrono::DateTime<chrono::Utc>>),
        ("import_key", bad::<Option<String>>),
        ("provenance", bad::<concord_domain::Provenance>),
    ];
    checks
        .iter()
        .find(|(k, is_bad)| obj.get(*k).is_some_and(is_bad))
        .map(|(k, _)| k.to_string())
}

fn push(parsed: &mut Parsed, r: Result<ParsedRecord, Rejection>) {
    match r {
        Ok(p) => parsed.records.push(p),
        Err(e) => parsed.rejected.push(e),
    }
}

/// Reads the elements of a top-level array one at a time, so that a bad
/// element is one rejection and the whole tree is never held at once.
struct Elements<'f>(&'f mut dyn FnMut(Result<ParsedRecord, Rejection>));

impl<'de> Visitor<'de> for Elements<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of recommendation objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut row = 0;
        while let Some(v) = seq.next_element::<Value>()? {
            row += 1;
            (self.0)(element(row, v));
        }
        Ok(())
    }
}

const SHAPE: &str = "expected an array of recommendation objects, one object, or JSON lines";

fn syntax(path: &Path, e: serde_json::Error) -> IngestError {
    IngestError::file(path, format!("is not valid JSON: {e} ({SHAPE})"))
}

fn wrong_shape(path: &Path, first: char, text: &str) -> IngestError {
    // Let serde say where and what, with its line and column.
    let e = serde_json::from_str::<Vec<Value>>(text)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    IngestError::file(
        path,
        format!("is JSON of the wrong shape: {SHAPE}, but it starts with {first:?} ({e})"),
    )
}

/// One line of a JSON-lines file.
fn line_item(row: usize, line: &str) -> Result<ParsedRecord, Rejection> {
    match serde_json::from_str::<Value>(line) {
        Ok(v) => element(row, v),
        Err(e) => Err(Rejection::new(row, None, format!("is not valid JSON: {e}"))),
    }
}

/// Whether text starting with `{` is JSON lines: its first line is a whole
/// value and something follows.
fn is_json_lines(trimmed: &str) -> bool {
    let first_line = trimmed.lines().next().unwrap_or("");
    serde_json::from_str::<Value>(first_line).is_ok()
        && !trimmed[first_line.len()..].trim().is_empty()
}

pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, IngestError> {
    let text = utf8(path, bytes, "JSON")?;
    let mut parsed = Parsed::default();
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let mut de = serde_json::Deserializer::from_str(text);
        de.deserialize_seq(Elements(&mut |r| push(&mut parsed, r)))
            .map_err(|e| syntax(path, e))?;
        de.end().map_err(|e| syntax(path, e))?;
        return Ok(parsed);
    }
    if !trimmed.starts_with('{') {
        return Err(wrong_shape(
            path,
            trimmed.chars().next().unwrap_or(' '),
            text,
        ));
    }
    if is_json_lines(trimmed) {
        // Row = line number in the file (blank lines are counted but produce
        // nothing), so that an editor finds it.
        let skipped_lines = text[..text.len() - trimmed.len()].matches('\n').count();
        for (i, line) in trimmed.lines().enumerate() {
            if !line.trim().is_empty() {
                push(&mut parsed, line_item(i + 1 + skipped_lines, line));
            }
        }
        return Ok(parsed);
    }
    let v: Value = serde_json::from_str(text).map_err(|e| syntax(path, e))?;
    push(&mut parsed, element(1, v));
    Ok(parsed)
}

/// Reads Concord JSON from a reader without holding the file or all its
/// records: each record or rejection is handed to `each` as soon as it is
/// read (the same rows and messages as [`crate::parse`]). For imports of
/// very large exports or generated corpora.
pub fn parse_json_stream(
    path: &Path,
    reader: impl Read,
    mut each: impl FnMut(Result<ParsedRecord, Rejection>),
) -> Result<(), IngestError> {
    let io_err = |e: std::io::Error| IngestError::file(path, format!("cannot be read: {e}"));
    let mut r = BufReader::with_capacity(1 << 16, reader);
    // Skip a byte-order mark and leading white space, counting lines.
    let mut lines_before = 0usize;
    let first = loop {
        let buf = r.fill_buf().map_err(io_err)?;
        let Some(&b) = buf.first() else {
            return Err(IngestError::file(path, "is empty"));
        };
        if buf.starts_with("\u{feff}".as_bytes()) {
            r.consume(3);
        } else if b.is_ascii_whitespace() {
            lines_before += usize::from(b == b'\n');
            r.consume(1);
        } else {
            break b;
        }
    };
    match first {
        b'[' => {
            let mut de = serde_json::Deserializer::from_reader(r);
            de.deserialize_seq(Elements(&mut each))
                .map_err(|e| syntax(path, e))?;
            de.end().map_err(|e| syntax(path, e))
        }
        b'{' => {
            let mut first_line = String::new();
            r.read_line(&mut first_line).map_err(io_err)?;
            if serde_json::from_str::<Value>(&first_line).is_ok() {
                // JSON lines (or one object on one line).
                let mut row = lines_before + 1;
                each(line_item(row, &first_line));
                for line in r.lines() {
                    let line = line.map_err(|e| {
                        IngestError::file(path, format!("cannot be read after line {row}: {e}"))
                    })?;
                    row += 1;
                    if !line.trim().is_empty() {
                        each(line_item(row, &line));
                    }
                }
                Ok(())
            } else {
                // One object over several lines.
                let mut rest = Vec::new();
                r.read_to_end(&mut rest).map_err(io_err)?;
                let mut all = first_line.into_bytes();
                all.extend_from_slice(&rest);
                let v: Value = serde_json::from_slice(&all).map_err(|e| syntax(path, e))?;
                each(element(1, v));
                Ok(())
            }
        }
        other => {
            let mut head = Vec::new();
            r.take(4096).read_to_end(&mut head).map_err(io_err)?;
            let text = String::from_utf8_lossy(&head);
            Err(wrong_shape(path, char::from(other), &text))
        }
    }
}

/// Writes the JSON export a batch at a time: `[`, then one compact object
/// per line separated by commas, then `]`. The file is one JSON array of
/// recommendation objects exactly as serde writes them (the API's shape).
pub struct JsonWriter<W: Write> {
    out: W,
    count: u64,
}

impl<W: Write> JsonWriter<W> {
    pub fn begin(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"[")?;
        Ok(JsonWriter { out, count: 0 })
    }

    pub fn write(&mut self, rec: &Recommendation) -> std::io::Result<()> {
        self.out
            .write_all(if self.count == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut self.out, rec)?;
        self.count += 1;
        Ok(())
    }

    pub fn write_batch(&mut self, recs: &[Recommendation]) -> std::io::Result<()> {
        recs.iter().try_for_each(|r| self.write(r))
    }

    /// Closes the array, flushes, and hands the writer back.
    pub fn end(mut self) -> std::io::Result<W> {
        self.out
            .write_all(if self.count == 0 { b"]\n" } else { b"\n]\n" })?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes a whole JSON export.
pub fn write_json(recs: &[Recommendation], out: impl Write) -> std::io::Result<()> {
    let mut w = JsonWriter::begin(out)?;
    w.write_batch(recs)?;
    w.end().map(|_| ())
}

/// Writes JSON lines: one compact object per line (what `concord gen` writes
/// by default; [`parse`] reads it back).
pub struct JsonLinesWriter<W: Write> {
    out: W,
}

impl<W: Write> JsonLinesWriter<W> {
    pub fn begin(out: W) -> Self {
        JsonLinesWriter { out }
    }

    pub fn write(&mut self, rec: &Recommendation) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, rec)?;
        self.out.write_all(b"\n")
    }

    pub fn end(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Writes records as JSON lines.
pub fn write_json_lines<'a>(
    recs: impl IntoIterator<Item = &'a Recommendation>,
    out: impl Write,
) -> std::io::Result<()> {
    let mut w = JsonLinesWriter::begin(out);
    for r in recs {
        w.write(r)?;
    }
    w.end().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;
    use crate::table::tests::{bare, rich};
    use chrono::Utc;
    use concord_domain::{IdRequest, OrganisationDirectory};

    fn p() -> &'static Path {
        Path::new("in.json")
    }

    fn parse_bytes(b: &[u8]) -> Result<Parsed, IngestError> {
        crate::parse(
            p(),
            b,
            Format::Json,
            &OrganisationDirectory::default(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
        )
    }

    fn back(parsed: Parsed) -> Vec<Recommendation> {
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
    fn round_trip_is_exact() {
        let recs = vec![rich(), bare()];
        let mut out = Vec::new();
        write_json(&recs, &mut out).unwrap();
        // It is one JSON array of the serde shape.
        let v: Vec<Recommendation> = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, recs);
        let again_recs = back(parse_bytes(&out).unwrap());
        assert_eq!(again_recs, recs);
        let mut again = Vec::new();
        write_json(&again_recs, &mut again).unwrap();
        assert_eq!(again, out);
        let mut empty = Vec::new();
        write_json(&[], &mut empty).unwrap();
        assert_eq!(empty, b"[]\n");
        assert!(parse_bytes(&empty).unwrap().records.is_empty());
    }

    #[test]
    fn single_object_and_lines() {
        let one = serde_json::to_string_pretty(&rich()).unwrap();
        assert_eq!(back(parse_bytes(one.as_bytes()).unwrap()), vec![rich()]);
        let mut lines = Vec::new();
        write_json_lines(&[rich(), bare()], &mut lines).unwrap();
        lines.extend_from_slice(b"\n{\"id\": 3}\nnot json\n");
        let parsed = parse_bytes(&lines).unwrap();
        assert_eq!(back(parsed.clone()), vec![rich(), bare()]);
        let msgs: Vec<String> = parsed.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(msgs.len(), 2);
        assert!(
            msgs[0].starts_with("row 4, field id: invalid type: integer `3`"),
            "{msgs:?}"
        );
        assert!(
            msgs[1].starts_with("row 5: is not valid JSON: expected ident"),
            "{msgs:?}"
        );
    }

    #[test]
    fn one_bad_element_does_not_kill_the_file() {
        let mut bad = serde_json::to_value(bare()).unwrap();
        bad["kind"] = "advice".into();
        let mut no_title = serde_json::to_value(bare()).unwrap();
        no_title.as_object_mut().unwrap().remove("title");
        let mut empty_text = serde_json::to_value(bare()).unwrap();
        empty_text["text"] = " ".into();
        let arr = serde_json::json!([rich(), bad, 42, no_title, empty_text]);
        let parsed = parse_bytes(arr.to_string().as_bytes()).unwrap();
        assert_eq!(parsed.records.len(), 1);
        let msgs: Vec<String> = parsed.rejected.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            msgs,
            vec![
                "row 2, field kind: \"advice\" is not one of: recommendation, safety_observation, safety_action, concern",
                "row 3: expected a recommendation object, found a number",
                "row 4, field title: missing field `title`",
                "row 5, field text: is empty",
            ]
        );
    }

    #[test]
    fn streaming_reader_agrees_with_parse() {
        let mut arr = Vec::new();
        write_json(&[rich(), bare()], &mut arr).unwrap();
        let mut lines = b"\n".to_vec();
        write_json_lines(&[rich(), bare()], &mut lines).unwrap();
        lines.extend_from_slice(b"not json\n");
        let pretty = serde_json::to_string_pretty(&rich()).unwrap();
        let inputs: [&[u8]; 6] = [
            &arr,
            &lines,
            pretty.as_bytes(),
            b"[1, {\"id\": 2}]",
            b"\"hello\"",
            b"[{\"id\": 1},\n{\"id\": 2}",
        ];
        for input in inputs {
            let mut got = Parsed::default();
            let streamed = parse_json_stream(p(), input, |r| push(&mut got, r));
            match parse_bytes(input) {
                Ok(want) => {
                    streamed.unwrap();
                    assert_eq!(got, want);
                }
                Err(e) => assert_eq!(streamed.unwrap_err(), e),
            }
        }
        assert_eq!(
            parse_json_stream(p(), &b"  \n"[..], |_| {})
                .unwrap_err()
                .to_string(),
            "in.json: is empty"
        );
    }

    #[test]
    fn wrong_shapes_are_file_errors() {
        let e = parse_bytes(b"\"hello\"").unwrap_err().to_string();
        assert!(
            e.starts_with("in.json: is JSON of the wrong shape: expected an array"),
            "{e}"
        );
        assert!(e.contains("line 1 column"), "{e}");
        let e = parse_bytes(b"[{\"id\": 1},\n{\"id\": 2}")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "in.json: is not valid JSON: EOF while parsing a list at line 2 column 9"
            ),
            "{e}"
        );
        let e = parse_bytes(b"{\"id\":\n").unwrap_err().to_string();
        assert!(e.contains("EOF while parsing a value at line 2"), "{e}");
        assert_eq!(
            parse_bytes(b"").unwrap_err().to_string(),
            "in.json: is empty"
        );
        assert!(
            parse_bytes(b"[1] [2]")
                .unwrap_err()
                .to_string()
                .contains("trailing characters")
        );
    }
}
