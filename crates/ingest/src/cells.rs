//! Small helpers shared by the readers and writers: text checks, cell
//! guarding against formula injection, dates, enums, lists, web addresses.

use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::IngestError;

/// Checks that the bytes are UTF-8 and not empty; says where the first bad
/// byte is (byte offset, line and column) so that the file can be fixed.
pub(crate) fn utf8<'a>(path: &Path, bytes: &'a [u8], what: &str) -> Result<&'a str, IngestError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(IngestError::file(
            path,
            format!("this is a ZIP or XLSX file, not {what}; use --format xlsx for spreadsheets"),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let before = &bytes[..at];
            let line = before.iter().filter(|b| **b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1);
            let column = String::from_utf8_lossy(&bytes[line_start..at])
                .chars()
                .count()
                + 1;
            return Err(IngestError::file(
                path,
                format!(
                    "is not UTF-8: invalid byte 0x{:02X} at byte offset {at} (line {line}, column {column}); save the file as UTF-8",
                    bytes[at]
                ),
            ));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(IngestError::file(path, "is empty"));
    }
    if let Some(pos) = text.find('\0') {
        let line = text[..pos].matches('\n').count() + 1;
        return Err(IngestError::file(
            path,
            format!(
                "contains a NUL byte at byte offset {pos} (line {line}): this looks like a binary file, not {what}"
            ),
        ));
    }
    Ok(text)
}

use concord_domain::text::SPREADSHEET_GUARDED as GUARDED;

/// Makes a value safe to open in a spreadsheet (see
/// [`concord_domain::text::spreadsheet_safe`]).
pub(crate) fn guard(value: &str) -> std::borrow::Cow<'_, str> {
    concord_domain::text::spreadsheet_safe(value)
}

/// Undoes [`guard`]: removes one leading apostrophe when it is followed by
/// one of the guarded characters. A hand-written `'Tis` stays as it is.
pub(crate) fn unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(GUARDED) => rest,
        _ => cell,
    }
}

/// Shortens a value for a message.
pub(crate) fn clip(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_string();
    }
    let cut: String = s.chars().take(max_chars).collect();
    format!("{cut}…")
}

/// Parses a string enum, with a short message (the domain's own message
/// quotes the whole value, which may be megabytes long).
pub(crate) fn parse_enum<T: std::str::FromStr>(value: &str, allowed: &str) -> Result<T, String> {
    value
        .parse::<T>()
        .map_err(|_| format!("{:?} is not one of: {allowed}", clip(value, 60)))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub(crate) fn month_name(m: u32) -> &'static str {
    MONTHS[(m as usize).clamp(1, 12) - 1]
}

/// `2 April 2024`.
pub(crate) fn long_date(d: NaiveDate) -> String {
    format!("{} {} {}", d.day(), month_name(d.month()), d.year())
}

fn explain_bad_date(value: &str, y: i32, m: u32, d: u32) -> String {
    if !(1..=12).contains(&m) {
        return format!("{value:?} is not a real date: there is no month {m}");
    }
    if d == 0 {
        return format!("{value:?} is not a real date: there is no day 0");
    }
    format!(
        "{value:?} is not a real date: {} {y} has no day {d}",
        month_name(m)
    )
}

/// Reads `YYYY-MM-DD` (what we write) or `DD/MM/YYYY` (what people in the
/// UK type); says precisely what is wrong otherwise.
pub(crate) fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let v = value.trim();
    let nums: Vec<&str> = v.split(['-', '/', '.']).collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if nums.len() == 3 && nums.iter().all(|s| digits(s)) {
        let (y, m, d) = if nums[0].len() == 4 && v.contains('-') {
            (nums[0], nums[1], nums[2])
        } else if nums[2].len() == 4 && !v.contains('-') {
            (nums[2], nums[1], nums[0])
        } else {
            ("", "", "")
        };
        if let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) {
            return NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| explain_bad_date(v, y, m, d));
        }
    }
    Err(format!(
        "{:?} is not a date (write YYYY-MM-DD, e.g. 2024-09-16, or DD/MM/YYYY)",
        clip(v, 60)
    ))
}

/// The form serde gives a timestamp, so that CSV and JSON agree.
pub(crate) fn timestamp(t: &DateTime<Utc>) -> String {
    match serde_json::to_value(t) {
        Ok(serde_json::Value::String(s)) => s,
        _ => t.to_rfc3339(),
    }
}

pub(crate) fn parse_timestamp(value: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "{:?} is not a timestamp ({e}); write RFC 3339, e.g. 2024-09-16T10:00:00Z",
                clip(value, 60)
            )
        })
}

/// Whether a list can be written joined with ` | ` and split back exactly.
fn joinable(items: &[String]) -> bool {
    items
        .iter()
        .all(|s| !s.is_empty() && !s.contains('|') && s.trim() == s)
        && !items.first().is_some_and(|s| s.starts_with('['))
}

/// A list cell: `a | b | c`, or a JSON array when an item would not survive
/// that (it contains `|`, is empty, has surrounding spaces, or the first
/// starts with `[`). An empty list is an empty cell.
pub(crate) fn join_list(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else if joinable(items) {
        items.join(" | ")
    } else {
        serde_json::to_string(items).unwrap_or_default()
    }
}

/// Reads a list cell written by [`join_list`] or by hand (`a|b`, `a | b`).
pub(crate) fn split_list(cell: &str) -> Result<Vec<String>, String> {
    if cell.starts_with('[') {
        return serde_json::from_str::<Vec<String>>(cell)
            .map_err(|e| format!("starts with [ but is not a JSON list of strings: {e}"));
    }
    Ok(cell
        .split('|')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// The key that recognises a PFD report whichever file it came from:
/// `pfd:` and the report's web address with `https`, a lower-case host, and
/// no trailing slash (nor query or fragment).
pub(crate) fn pfd_key(url: &str) -> String {
    format!("pfd:{}", normalise_url(url))
}

pub(crate) fn normalise_url(url: &str) -> String {
    let u = url.trim();
    let rest = if let Some(r) = strip_prefix_ci(u, "https://") {
        r
    } else if let Some(r) = strip_prefix_ci(u, "http://") {
        r
    } else {
        u
    };
    let rest = rest.split(['#', '?']).next().unwrap_or(rest);
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let path = path.trim_end_matches('/');
    format!("https://{}{}", host.to_ascii_lowercase(), path)
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
    {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_round_trips() {
        for v in [
            "=SUM(A1)", "+1", "-5", "@cmd", "\tx", "\rx", "'", "'Tis", "''", "'=x", "plain", "",
            "a=b",
        ] {
            let g = guard(v);
            assert_eq!(unguard(&g), v, "{v:?} -> {g:?}");
            assert!(!g.starts_with(['=', '+', '-', '@', '\t', '\r']), "{g:?}");
        }
        assert_eq!(unguard("'Tis"), "'Tis");
        assert_eq!(unguard("'=1+1"), "=1+1");
    }

    #[test]
    fn dates() {
        let d = |s| parse_date(s);
        assert_eq!(d("2024-09-16").unwrap().to_string(), "2024-09-16");
        assert_eq!(d("16/09/2024").unwrap().to_string(), "2024-09-16");
        assert_eq!(
            d("31/02/2024").unwrap_err(),
            "\"31/02/2024\" is not a real date: February 2024 has no day 31"
        );
        assert_eq!(
            d("2024-13-01").unwrap_err(),
            "\"2024-13-01\" is not a real date: there is no month 13"
        );
        assert!(d("yesterday").unwrap_err().contains("is not a date"));
        assert!(d("2024/09/16").is_err());
        assert_eq!(long_date(d("2024-04-02").unwrap()), "2 April 2024");
    }

    #[test]
    fn lists() {
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for items in [
            v(&[]),
            v(&["a"]),
            v(&["a", "b c"]),
            v(&["a|b"]),
            v(&[""]),
            v(&[" x"]),
            v(&["[draft]", "y"]),
            v(&["y", "[draft]"]),
        ] {
            assert_eq!(split_list(&join_list(&items)).unwrap(), items);
        }
        assert_eq!(join_list(&v(&["a", "b"])), "a | b");
        assert_eq!(split_list("a|b | | c").unwrap(), v(&["a", "b", "c"]));
        assert!(split_list("[oops").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(
            pfd_key("http://WWW.Judiciary.UK/prevention-of-future-death-reports/x/"),
            "pfd:https://www.judiciary.uk/prevention-of-future-death-reports/x"
        );
        assert_eq!(
            pfd_key("https://www.judiciary.uk/a/x?utm=1"),
            "pfd:https://www.judiciary.uk/a/x"
        );
    }
}
