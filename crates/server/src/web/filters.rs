//! The templates' formatting helpers, as askama filters: every page module
//! brings them in with `use crate::web::filters;` beside its template structs.
//! Each returns plain text, which the template escapes like any other
//! value; markup (a `<time>` element, a link) is written in the templates
//! themselves (`templates/macros.html`).

#![allow(
    clippy::unnecessary_wraps,
    reason = "askama's filter_fn expects a Result from every filter"
)]

use chrono::NaiveDate;

/// `2024-09-16`, for a `<time datetime>` attribute.
#[askama::filter_fn]
pub fn iso_date(d: &NaiveDate, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(d.format("%Y-%m-%d").to_string())
}

/// `16 September 2024`, as the pages say a day.
#[askama::filter_fn]
pub fn long_date(d: &NaiveDate, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(d.format("%-d %B %Y").to_string())
}

/// A vocabulary value as words: `awaiting_response` reads `awaiting
/// response`.
#[askama::filter_fn]
pub fn label(value: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(words(&value.to_string()))
}

/// Text as one segment of a path (see [`path_segment`]).
#[askama::filter_fn]
pub fn segment(value: impl std::fmt::Display, _: &dyn askama::Values) -> askama::Result<String> {
    Ok(path_segment(&value.to_string()))
}

/// `awaiting_response` reads as `awaiting response`.
pub(crate) fn words(s: &str) -> String {
    s.replace('_', " ")
}

/// Text as one segment of a path: everything but unreserved characters
/// percent-encoded (so `/`, `?`, `#` and spaces stay inside the segment).
pub(crate) fn path_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Free text as paragraphs: blank lines separate them (single line breaks
/// are kept by the stylesheet).
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// `£6,000,000` for pounds, `EUR 1,250.50` for other currencies (plain
/// text: the template escapes it).
pub(crate) fn money(currency: &str, amount: f64) -> String {
    let cents = (amount * 100.0).round() as u64;
    let (whole, frac) = (cents / 100, cents % 100);
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac != 0 {
        grouped.push_str(&format!(".{frac:02}"));
    }
    match currency {
        "GBP" => format!("£{grouped}"),
        other => format!("{other} {grouped}"),
    }
}

/// An outside address worth a link: http(s) only (never `javascript:`).
pub(crate) fn web_url(url: &str) -> Option<String> {
    let t = url.trim();
    let lower = t.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| t.to_string())
}

/// "accepted in principle" -> "Accepted in principle".
pub(crate) fn sentence(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_money() {
        assert_eq!(money("GBP", 6_000_000.0), "£6,000,000");
        assert_eq!(money("EUR", 1250.5), "EUR 1,250.50");
        assert_eq!(money("GBP", 999.0), "£999");
        assert_eq!(money("<b>", 0.0), "<b> 0");
    }

    #[test]
    fn only_web_addresses_become_links() {
        assert_eq!(
            web_url(" https://example.org/a?b=1&c=2 ").as_deref(),
            Some("https://example.org/a?b=1&c=2")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("\" onmouseover=\"x"), None);
    }

    #[test]
    fn path_segments_keep_slashes_and_queries_inside() {
        assert_eq!(path_segment("mental health"), "mental%20health");
        assert_eq!(path_segment("../a/b?c#d"), "..%2Fa%2Fb%3Fc%23d");
        assert_eq!(path_segment("A&E"), "A%26E");
        assert_eq!(path_segment("naïve"), "na%C3%AFve");
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        assert_eq!(paragraphs("a<b\n\n\nc\n\n  "), vec!["a<b", "c"]);
    }
}
