//! Atom 1.0 feeds (RFC 4287) of new recommendations, responses and status
//! changes:
//!
//! - `/feeds/recommendations.atom` — everything;
//! - `/feeds/organisations/{CODE}.atom` — issued by or addressed to one organisation;
//! - `/feeds/themes/{THEME}.atom` — one theme (any case);
//! - `/feeds/recommendations/{ID}.atom` — one recommendation's history.
//!
//! What becomes an entry and its wording is decided in
//! `concord_domain::feed`; this module writes the XML. Every value goes
//! through [`xml`] (escaped, and characters XML 1.0 forbids replaced).

use std::fmt::{self, Display, Write};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use concord_app::{AppError, Feed, FeedRequest, Principal};

use crate::AppState;
use crate::web::error::PageError;

pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/feeds/recommendations.atom", get(all))
        .route("/feeds/recommendations/{file}", get(recommendation))
        .route("/feeds/organisations/{file}", get(organisation))
        .route(
            "/feeds/organisations/{code}/priorities.atom",
            get(priorities),
        )
        .route("/feeds/themes/{file}", get(theme))
}

/// Escapes text for XML element content and quoted attribute values, and
/// replaces the characters XML 1.0 does not allow (most control
/// characters) with U+FFFD.
pub struct Xml<'a>(pub &'a str);

impl Display for Xml<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                '\t' | '\n' | '\r' => f.write_char(c)?,
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                    f.write_char('\u{FFFD}')?
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

pub fn xml(s: &str) -> Xml<'_> {
    Xml(s)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The address links start with (feed readers need absolute ones): the
/// public address the server was given (`--public-url`), whatever the
/// request said; without one, the address the client used (its Host
/// header, when it looks like a host, with https when the proxy says so),
/// else none (links stay relative to the feed's own address).
pub(crate) fn base_url(public_url: Option<&str>, https: bool, headers: &HeaderMap) -> String {
    if let Some(public) = public_url {
        return public.trim_end_matches('/').to_string();
    }
    let scheme = if https { "https" } else { "http" };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::trim)
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        });
    match host {
        Some(h) => format!("{scheme}://{h}"),
        None => String::new(),
    }
}

/// The feed as an Atom document. `base` is prefixed to every path.
pub fn atom(feed: &Feed, base: &str) -> String {
    let mut x = String::with_capacity(4096 + feed.entries.len() * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en-GB\">\n");
    let _ = writeln!(x, "  <id>{}</id>", xml(&feed.tag_uri()));
    let _ = writeln!(x, "  <title type=\"text\">{}</title>", xml(&feed.title));
    // An empty feed has changed never: the start of the epoch.
    let updated = feed.updated().unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let _ = writeln!(x, "  <updated>{}</updated>", ts(updated));
    let _ = writeln!(
        x,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}{}\"/>",
        xml(base),
        xml(&feed.path)
    );
    let _ = writeln!(
        x,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}{}\"/>",
        xml(base),
        xml(&feed.page)
    );
    x.push_str("  <author><name>Concord</name></author>\n");
    x.push_str("  <generator>Concord</generator>\n");
    for e in &feed.entries {
        x.push_str("  <entry>\n");
        let _ = writeln!(x, "    <id>{}</id>", xml(&e.tag_uri()));
        let _ = writeln!(x, "    <title type=\"text\">{}</title>", xml(&e.title));
        let _ = writeln!(x, "    <updated>{}</updated>", ts(e.at));
        let _ = writeln!(
            x,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}/recommendations/{}\"/>",
            xml(base),
            xml(&e.rec_id)
        );
        let _ = writeln!(x, "    <author><name>{}</name></author>", xml(&e.author));
        let _ = writeln!(x, "    <category term=\"{}\"/>", e.kind.as_str());
        if !e.summary.is_empty() {
            let _ = writeln!(
                x,
                "    <summary type=\"text\">{}</summary>",
                xml(&e.summary)
            );
        }
        x.push_str("  </entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

async fn serve(
    state: &AppState,
    headers: &HeaderMap,
    req: Result<FeedRequest, AppError>,
) -> Response {
    let auth = state.services.as_principal(Principal::Anonymous);
    let feed = match req {
        Ok(req) => auth.feed(&req).await,
        Err(e) => Err(e),
    };
    respond(state, headers, feed)
}

/// A provider's priority list, followed as a feed.
async fn priorities(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let auth = state.services.as_principal(Principal::Anonymous);
    respond(&state, &headers, auth.priority_feed(&code).await)
}

fn respond(state: &AppState, headers: &HeaderMap, feed: Result<Feed, AppError>) -> Response {
    match feed {
        Ok(feed) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(ATOM_TYPE)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=60"),
                ),
            ],
            atom(
                &feed,
                &base_url(
                    state.options.public_url.as_deref(),
                    crate::session::is_https(state, headers),
                    headers,
                ),
            ),
        )
            .into_response(),
        Err(e) => PageError::from(e).into_response(),
    }
}

/// `NAME.atom` -> `NAME`; anything else is not a feed.
fn strip_atom(file: &str, what: &str) -> Result<String, AppError> {
    match file.strip_suffix(".atom") {
        Some(name) => Ok(name.to_string()),
        None => Err(AppError::NotFound(format!(
            "feeds end in .atom: /feeds/{what}/{}.atom",
            file.trim_end_matches('/')
        ))),
    }
}

async fn all(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve(&state, &headers, Ok(FeedRequest::All)).await
}

async fn recommendation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let req = strip_atom(&file, "recommendations").map(FeedRequest::Recommendation);
    serve(&state, &headers, req).await
}

async fn organisation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let req = strip_atom(&file, "organisations").map(FeedRequest::Organisation);
    serve(&state, &headers, req).await
}

async fn theme(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let req = strip_atom(&file, "themes").map(FeedRequest::Theme);
    serve(&state, &headers, req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_replaces_forbidden_characters() {
        assert_eq!(
            xml("<script>alert('x') & \"y\"</script>").to_string(),
            "&lt;script&gt;alert(&apos;x&apos;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        assert_eq!(
            xml("a\u{1}b\u{FFFF}\tc\n").to_string(),
            "a\u{FFFD}b\u{FFFD}\tc\n"
        );
    }

    #[test]
    fn links_start_with_the_public_address_or_a_plain_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        assert_eq!(base_url(None, false, &h), "http://127.0.0.1:8080");
        assert_eq!(base_url(None, true, &h), "https://127.0.0.1:8080");
        // A public address wins over whatever Host a request carried.
        h.insert(header::HOST, HeaderValue::from_static("evil.example"));
        assert_eq!(
            base_url(Some("https://concord.example.nhs.uk/"), false, &h),
            "https://concord.example.nhs.uk"
        );
        h.insert(header::HOST, HeaderValue::from_static("evil\"><x"));
        assert_eq!(base_url(None, false, &h), "");
    }

    #[test]
    fn an_empty_feed_is_still_a_feed() {
        let feed = Feed {
            title: "T & U".into(),
            path: "/feeds/themes/x.atom".into(),
            page: "/search?theme=x&y=1".into(),
            entries: vec![],
        };
        let doc = atom(&feed, "");
        assert!(doc.contains("<updated>1970-01-01T00:00:00Z</updated>"));
        assert!(doc.contains("<title type=\"text\">T &amp; U</title>"));
        assert!(doc.contains("href=\"/search?theme=x&amp;y=1\""));
        assert!(doc.contains("<id>tag:concord,2025:feeds/themes/x.atom</id>"));
    }
}
