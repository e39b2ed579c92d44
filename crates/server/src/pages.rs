//! The web pages, for now plain semantic HTML without scripts: the home page
//! and one page per recommendation. Every value from the register goes
//! through [`esc`] on its way into the HTML; links to outside addresses are
//! made only for http(s) URLs.
//!
//! Pages are read as an anonymous visitor (sessions come with sign-in), so
//! they show what is published and never a draft.

use askama::Template;
use std::fmt::{self, Display, Write};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use concord_app::{AppError, Page, Principal, RecommendationFilter};
use concord_domain::{Lifecycle, Recommendation, RecommendationData, RecommendationId, Reference};

use crate::AppState;
use crate::layout::Layout;
use crate::sign_in_pages::MaybeSession;

/// How many of the newest recommendations the home page lists.
pub const RECENT: u64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/recommendations/{id}", get(recommendation))
        .route("/recommendations/{id}/history", get(history))
}

/// HTML-escapes text for element content and quoted attribute values.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// Shorthand for [`Esc`].
pub fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// A page, or an error shown as a page.
pub struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What the visitor is told (never an internal detail).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let status =
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(detail = %e, "page failed on our side");
        }
        PageError {
            status,
            message: e.public_message(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (self.status, error_page(self.status, &self.message)).into_response()
    }
}

/// A whole page for an error status (used for unknown addresses too).
pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::BAD_REQUEST => "This address is not right",
        s if s.is_server_error() => "Sorry, there is a problem with the service",
        _ => "This page cannot be shown",
    };
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1>\n<p>{}</p>\n<p><a href=\"/\">Go to the home page</a></p>\n",
        esc(title),
        esc(message)
    );
    let mut frame = Layout::new(title);
    frame.error = true;
    Html(crate::layout::wrap(frame, &body))
}

/// A page that can be followed: `feed` is the path of its Atom feed and
/// what the feed tells; the page's head names it (for feed readers) and a
/// visible link ends the page.
pub(crate) fn layout_with_feed(title: &str, main: &str, feed: Option<(&str, &str)>) -> String {
    layout_in(None, title, main, feed)
}

/// As [`layout_with_feed`], for a page that belongs to an entry of the
/// header's menu (its address), which is then marked as current.
pub(crate) fn layout_in(
    section: Option<&'static str>,
    title: &str,
    main: &str,
    feed: Option<(&str, &str)>,
) -> String {
    let mut frame = Layout::new(title);
    frame.section = section;
    if let Some((path, about)) = feed {
        frame = frame.feed(path, about);
    }
    crate::layout::wrap(frame, main)
}

/// `16 September 2024`, in a `<time>` element.
pub(crate) fn date(d: NaiveDate) -> String {
    format!(
        "<time datetime=\"{}\">{}</time>",
        d.format("%Y-%m-%d"),
        d.format("%-d %B %Y")
    )
}

pub(crate) fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(date).unwrap_or_else(|| "not given".to_string())
}

/// `awaiting_response` reads as `awaiting response`.
pub(crate) fn words(s: &str) -> String {
    s.replace('_', " ")
}

/// `£6,000,000` for pounds, `EUR 1,250.50` for other currencies.
fn money(currency: &str, amount: f64) -> String {
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
        other => format!("{} {grouped}", esc(other)),
    }
}

fn is_web_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// An outside address as a link when it is a web address, else as text.
pub(crate) fn url_link(url: &str, label: &str) -> String {
    if is_web_url(url) {
        format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
            esc(url.trim()),
            esc(label)
        )
    } else {
        esc(label).to_string()
    }
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

fn rec_link(id: &RecommendationId) -> String {
    format!("<a href=\"/recommendations/{id}\">{id}</a>")
}

/// Free text as paragraphs: blank lines separate them, single line breaks
/// are kept by the stylesheet.
pub(crate) fn paragraphs(text: &str) -> String {
    let mut out = String::new();
    for p in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        let _ = writeln!(out, "<p class=\"text\">{}</p>", esc(p));
    }
    out
}

async fn home(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let auth = state.services.as_principal(Principal::Anonymous);
    let filter = RecommendationFilter {
        status: Some(Lifecycle::Published),
        ..Default::default()
    };
    let first = Page {
        offset: 0,
        limit: RECENT,
    };
    // With a search index, the index counts and orders (milliseconds at a
    // million records, where the database's count takes seconds); without
    // one, the database lists.
    let recent = if state.services.search_index().is_some() {
        let set = auth
            .search_result_set(
                concord_app::SearchQuery {
                    text: String::new(),
                    filter,
                    page: first,
                    sort: concord_app::Sort::Newest,
                },
                RECENT,
            )
            .await?;
        concord_app::ListPage {
            total: set.total,
            items: set.records,
        }
    } else {
        auth.recommendations(filter, first).await?
    };
    let mut m = String::new();
    m.push_str(
        "<h1>Concord</h1>
<p class=\"lead\">A register of the patient-safety recommendations made to the NHS in England by
investigators, regulators, coroners and national bodies: what was recommended, to whom, and where
each answer stands.</p>\n",
    );
    m.push_str(
        "<search>
<form action=\"/search\" method=\"get\" class=\"nhsuk-u-margin-bottom-6\">
<div class=\"nhsuk-form-group\">
<label class=\"nhsuk-label nhsuk-label--m\" for=\"home-q\">Search the register</label>
<div class=\"nhsuk-hint\" id=\"home-q-hint\">Words from a recommendation, an issuer or an organisation, for example: sepsis at triage</div>
<input class=\"nhsuk-input\" id=\"home-q\" name=\"q\" type=\"search\" aria-describedby=\"home-q-hint\">
</div>
<button class=\"nhsuk-button\" data-module=\"nhsuk-button\" type=\"submit\">Search</button>
</form>
</search>\n",
    );
    let n = recent.total;
    let _ = writeln!(
        m,
        "<p>The register holds <strong>{n}</strong> published recommendation{}.</p>",
        if n == 1 { "" } else { "s" }
    );
    m.push_str("<h2>Recently published</h2>\n");
    if recent.items.is_empty() {
        m.push_str("<p>Nothing has been published yet.</p>\n");
    } else {
        m.push_str(
            "<table>\n<thead><tr><th scope=\"col\">Identifier</th><th scope=\"col\">Issuer</th>\
             <th scope=\"col\">Title</th><th scope=\"col\">Published</th></tr></thead>\n<tbody>\n",
        );
        for rec in &recent.items {
            let _ = writeln!(
                m,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                rec_link(&rec.id),
                esc(rec.data.issuer.as_str()),
                esc(&rec.data.title),
                opt_date(rec.data.published)
            );
        }
        m.push_str("</tbody>\n</table>\n");
    }
    m.push_str(
        "<h2>For developers</h2>
<ul>
<li><a href=\"/api/docs/\">API documentation</a> (Swagger UI)</li>
<li><a href=\"/api/v1/openapi.json\">OpenAPI document</a></li>
<li><a href=\"/api/v1/recommendations\">Recommendations as JSON</a></li>
<li><a href=\"/api/v1/organisations\">Organisations as JSON</a></li>
</ul>\n",
    );
    Ok(Html(layout_in(
        Some("/"),
        "NHS patient-safety recommendations",
        &m,
        Some((
            "/feeds/recommendations.atom",
            "new recommendations, responses and status changes",
        )),
    )))
}

async fn recommendation(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(raw): Path<String>,
) -> Result<Html<String>, PageError> {
    let id = RecommendationId::parse(&raw).map_err(|e| PageError {
        status: StatusCode::NOT_FOUND,
        message: e.to_string(),
    })?;
    // Signed in, a person also sees their organisation's drafts, and what
    // they can do with the record.
    let who =
        s.0.as_ref()
            .map(|s| s.view.principal.clone())
            .unwrap_or(Principal::Anonymous);
    let auth = state.services.as_principal(who.clone());
    let rec = auth.recommendation(&id).await?;
    let feed = format!("/feeds/recommendations/{}.atom", rec.id);
    let endorsements = auth.endorsements_of(&rec).await?;
    let mut body = record_html(&rec, state.services.clock().today());
    if !rec.provenance.is_empty() {
        body.push_str(
            &ProvenanceSection::of(&rec)
                .render()
                .map_err(|e| PageError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    message: format!("the sources of the record could not be shown: {e}"),
                })?,
        );
    }
    body.push_str(&endorsements_html(&endorsements));
    let endorsers: Vec<concord_domain::OrgCode> =
        endorsements.iter().map(|e| e.org.clone()).collect();
    body.push_str(&crate::work_pages::record_actions(
        &auth,
        &rec,
        s.0.as_ref(),
        &endorsers,
    ));
    body.push_str(&crate::related_html::sections(&state.services, who, &rec.id).await);
    Ok(Html(layout_with_feed(
        &format!("{} {}", rec.id, rec.data.title),
        &body,
        Some((&feed, "responses and status changes of this recommendation")),
    )))
}

struct PartRow {
    part: &'static str,
    from: &'static str,
    file: String,
    when: String,
    stand_in: bool,
}

struct VariantRow {
    part: &'static str,
    value: String,
    from: &'static str,
    why: String,
}

/// The record page's "Where this record came from" section.
#[derive(askama::Template)]
#[template(path = "recommendation/provenance.html")]
struct ProvenanceSection {
    id: String,
    parts: Vec<PartRow>,
    variants: Vec<VariantRow>,
}

impl ProvenanceSection {
    fn of(rec: &concord_domain::Recommendation) -> Self {
        let clip = |s: &str| {
            let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.chars().count() > 400 {
                format!("{}…", flat.chars().take(399).collect::<String>())
            } else {
                flat
            }
        };
        ProvenanceSection {
            id: rec.id.to_string(),
            parts: rec
                .provenance
                .parts
                .iter()
                .map(|p| PartRow {
                    part: p.part.label(),
                    from: p.from.label(),
                    file: p.file.clone().unwrap_or_default(),
                    when: p.at.map(uk_time).unwrap_or_default(),
                    stand_in: p.stand_in,
                })
                .collect(),
            variants: rec
                .provenance
                .variants
                .iter()
                .map(|v| VariantRow {
                    part: v.part.label(),
                    value: clip(&v.value),
                    from: v.from.label(),
                    why: v.why.clone(),
                })
                .collect(),
        }
    }
}

struct HistoryRow {
    when: String,
    change: String,
    by: String,
    fields: String,
}

#[derive(askama::Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: crate::layout::Layout,
    id: String,
    title: String,
    events: Vec<HistoryRow>,
}

/// The top-level fields that differ between two versions of a record,
/// in words ("status, addressees"); bookkeeping fields left out.
pub(crate) fn changed_fields(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> String {
    use serde_json::Value;
    const BOOKKEEPING: &[&str] = &["version", "updated_at", "created_at"];
    let empty = serde_json::Map::new();
    let obj = |v: Option<&Value>| v.and_then(Value::as_object).unwrap_or(&empty).clone();
    let (b, a) = (obj(before), obj(after));
    if before.is_none() {
        return "created".into();
    }
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| !BOOKKEEPING.contains(&k.as_str()) && b.get(*k) != a.get(*k))
        .map(|k| words(k))
        .collect();
    if changed.is_empty() {
        "nothing visible".into()
    } else {
        changed.join(", ")
    }
}

/// A time as people in England read it: "14 Mar 2026, 09:05".
fn uk_time(t: chrono::DateTime<chrono::Utc>) -> String {
    let local = if concord_app::clock::is_british_summer_time(t) {
        t + chrono::Duration::hours(1)
    } else {
        t
    };
    local.format("%-d %b %Y, %H:%M").to_string()
}

async fn history(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(raw): Path<String>,
) -> Result<axum::response::Response, PageError> {
    let id = RecommendationId::parse(&raw).map_err(|e| PageError {
        status: StatusCode::NOT_FOUND,
        message: e.to_string(),
    })?;
    let who =
        s.0.as_ref()
            .map(|s| s.view.principal.clone())
            .unwrap_or(Principal::Anonymous);
    let auth = state.services.as_principal(who);
    let rec = auth.recommendation(&id).await?;
    let events = auth.history(&id).await?;
    let rows = events
        .iter()
        .map(|e| HistoryRow {
            when: uk_time(e.at),
            change: words(&e.action),
            by: e.actor.clone(),
            fields: match e.action.as_str() {
                "endorse" | "withdraw_endorsement" => e
                    .after
                    .as_ref()
                    .or(e.before.as_ref())
                    .and_then(|v| v["endorsed_by"].as_str())
                    .map(|org| format!("endorsement by {org}"))
                    .unwrap_or_default(),
                // Shown to someone other than the issuer, the change that
                // published a draft comes without what the draft said.
                _ if e.before.is_none() && e.action != "create" => "published".into(),
                _ => changed_fields(e.before.as_ref(), e.after.as_ref()),
            },
        })
        .collect();
    let title = format!("{} {}", rec.id, rec.data.title);
    Ok(crate::layout::render(&HistoryPage {
        layout: crate::layout::Layout::new(format!("History of {title}")),
        id: rec.id.to_string(),
        title: rec.data.title.clone(),
        events: rows,
    }))
}

/// "Endorsed by": the bodies that stand behind the recommendation.
fn endorsements_html(list: &[concord_domain::Endorsement]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut m = String::from(
        "<section class=\"endorsements\" id=\"endorsed-by\">\n<h2>Endorsed by</h2>\n<ul>\n",
    );
    for e in list {
        let note = e
            .note
            .as_deref()
            .map(|n| format!(": {}", esc(n)))
            .unwrap_or_default();
        let _ = writeln!(
            m,
            "<li><a href=\"/organisations/{code}\">{code}</a>, {}{note}</li>",
            date(e.at.date_naive()),
            code = esc(e.org.as_str())
        );
    }
    m.push_str("</ul>\n</section>\n");
    m
}

/// The body of a recommendation's page.
pub fn record_html(rec: &Recommendation, today: NaiveDate) -> String {
    let d: &RecommendationData = &rec.data;
    let mut m = String::new();
    let _ = writeln!(
        m,
        "<p class=\"concord-id\">{}</p>\n<h1>{}</h1>",
        rec.id,
        esc(&d.title)
    );
    let _ = writeln!(m, "<dl class=\"facts\">");
    let mut fact = |name: &str, value: String| {
        let _ = writeln!(m, "<dt>{}</dt><dd>{value}</dd>", esc(name));
    };
    fact(
        "Issued by",
        format!(
            "<a href=\"/organisations/{code}\">{code}</a>",
            code = esc(d.issuer.as_str())
        ),
    );
    fact("Kind", esc(&words(d.kind.as_str())).to_string());
    fact("Status", esc(&words(d.status.as_str())).to_string());
    fact("Published", opt_date(d.published));
    if let Some(r) = &d.local_ref {
        fact("Issuer's reference", esc(r).to_string());
    }
    if let Some(level) = d.level {
        fact("Aimed at", format!("{} level", esc(level.as_str())));
    }
    if let Some(risk) = d.risk {
        fact("Risk", esc(risk.as_str()).to_string());
    }
    if let Some(deadline) = d.response_deadline {
        fact("Responses due", date(deadline));
    }
    let _ = writeln!(m, "</dl>");

    m.push_str("<h2>Recommendation</h2>\n");
    m.push_str(&paragraphs(&d.text));

    m.push_str("<h2>Addressed to</h2>\n");
    m.push_str(&crate::progress_html::addressees_html(d, today));

    if !d.themes.is_empty() || !d.settings.is_empty() {
        m.push_str("<h2>Themes and settings</h2>\n<dl class=\"facts\">\n");
        for (name, tags) in [("Themes", &d.themes), ("Care settings", &d.settings)] {
            if !tags.is_empty() {
                let list: Vec<String> = if name == "Themes" {
                    tags.iter()
                        .map(|t| {
                            format!(
                                "<a href=\"/themes/{}\">{}</a>",
                                esc(&path_segment(t)),
                                esc(t)
                            )
                        })
                        .collect()
                } else {
                    tags.iter().map(|t| esc(t).to_string()).collect()
                };
                let _ = writeln!(m, "<dt>{name}</dt><dd>{}</dd>", list.join(", "));
            }
        }
        m.push_str("</dl>\n");
    }

    if !d.links.is_empty() {
        m.push_str("<h2>Related recommendations</h2>\n<ul>\n");
        for l in &d.links {
            let target = match Reference::parse(&l.target)
                .ok()
                .and_then(|r| r.concord_id())
            {
                Some(id) => rec_link(&id),
                None => esc(&l.target).to_string(),
            };
            let state = if l.state.as_str() == "confirmed" {
                String::new()
            } else {
                format!(" ({})", esc(l.state.as_str()))
            };
            let _ = writeln!(
                m,
                "<li>{} {target}{state}</li>",
                esc(&words(l.kind.as_str()))
            );
        }
        m.push_str("</ul>\n");
    }

    let mut more = String::new();
    if let Some(src) = &d.source {
        let title = src.title.as_deref().unwrap_or("the issuer's report");
        let shown = match &src.url {
            Some(url) => url_link(url, title),
            None => esc(title).to_string(),
        };
        let when = src
            .date
            .map(|d| format!(", {}", date(d)))
            .unwrap_or_default();
        let r = src
            .local_ref
            .as_deref()
            .map(|r| format!(" ({})", esc(r)))
            .unwrap_or_default();
        let _ = writeln!(more, "<dt>Source</dt><dd>{shown}{r}{when}</dd>");
    }
    if let Some(ev) = &d.evidence {
        let mut parts = Vec::new();
        if let Some(k) = ev.kind {
            parts.push(esc(&words(k.as_str())).to_string());
        }
        if let Some(s) = ev.strength {
            parts.push(format!("strength: {}", esc(s.as_str())));
        }
        for r in &ev.references {
            parts.push(esc(r).to_string());
        }
        let _ = writeln!(more, "<dt>Evidence</dt><dd>{}</dd>", parts.join("; "));
    }
    if let Some(p) = &d.patient_impact {
        let _ = writeln!(more, "<dt>Impact on patients</dt><dd>{}</dd>", esc(p));
    }
    if let Some(c) = &d.cost {
        let mut parts = Vec::new();
        if let Some(v) = c.one_off {
            parts.push(format!("{} one-off", money(&c.currency, v)));
        }
        if let Some(v) = c.recurring {
            parts.push(format!("{} a year", money(&c.currency, v)));
        }
        if let Some(conf) = c.confidence {
            parts.push(format!("{} confidence", esc(conf.as_str())));
        }
        if let Some(ce) = &c.cost_effectiveness {
            parts.push(esc(ce).to_string());
        }
        let _ = writeln!(more, "<dt>Cost</dt><dd>{}</dd>", parts.join("; "));
    }
    if let Some(eq) = &d.equality {
        let mut parts = Vec::new();
        if !eq.groups.is_empty() {
            let groups: Vec<String> = eq.groups.iter().map(|g| esc(g).to_string()).collect();
            parts.push(format!("Groups: {}.", groups.join(", ")));
        }
        parts.push(format!(
            "Effect on inequalities: {}.",
            esc(eq.direction.as_str())
        ));
        if let Some(x) = &eq.mitigation {
            parts.push(format!("Mitigation: {}", esc(x)));
        }
        let _ = writeln!(more, "<dt>Equality</dt><dd>{}</dd>", parts.join(" "));
    }
    if !more.is_empty() {
        let _ = write!(
            m,
            "<h2>Background</h2>\n<dl class=\"facts\">\n{more}</dl>\n"
        );
    }

    let _ = writeln!(
        m,
        "<p class=\"meta\">Version {} · last changed {} · <a href=\"/recommendations/{id}/history\">history of changes</a> · \
         <a href=\"/api/v1/recommendations/{id}\">JSON</a></p>",
        rec.version,
        date(rec.updated_at.date_naive()),
        id = rec.id
    );
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_names_the_fields_a_change_touched() {
        let before =
            serde_json::json!({"title": "a", "status": "draft", "version": 1, "themes": []});
        let after = serde_json::json!({"title": "a", "status": "published", "version": 2, "themes": ["x"], "published": "2026-01-01"});
        assert_eq!(
            changed_fields(Some(&before), Some(&after)),
            "published, status, themes"
        );
        assert_eq!(changed_fields(None, Some(&after)), "created");
        assert_eq!(
            changed_fields(Some(&before), Some(&before)),
            "nothing visible"
        );
        let winter = chrono::DateTime::parse_from_rfc3339("2026-01-05T09:05:00Z").unwrap();
        let summer = chrono::DateTime::parse_from_rfc3339("2026-07-05T09:05:00Z").unwrap();
        assert_eq!(uk_time(winter.to_utc()), "5 Jan 2026, 09:05");
        assert_eq!(uk_time(summer.to_utc()), "5 Jul 2026, 10:05");
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert(1)</script>").to_string(),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            esc("a & b \"c\" 'd'").to_string(),
            "a &amp; b &quot;c&quot; &#39;d&#39;"
        );
        assert_eq!(
            esc("plain – text ünïcode").to_string(),
            "plain – text ünïcode"
        );
        assert_eq!(esc("").to_string(), "");
        assert_eq!(esc("&amp;").to_string(), "&amp;amp;");
    }

    #[test]
    fn amounts_read_as_money() {
        assert_eq!(money("GBP", 6_000_000.0), "£6,000,000");
        assert_eq!(money("EUR", 1250.5), "EUR 1,250.50");
        assert_eq!(money("GBP", 999.0), "£999");
        assert_eq!(money("<b>", 0.0), "&lt;b&gt; 0");
    }

    #[test]
    fn only_web_addresses_become_links() {
        assert!(
            url_link("https://example.org/a?b=1&c=2", "x")
                .contains("href=\"https://example.org/a?b=1&amp;c=2\"")
        );
        assert_eq!(url_link("javascript:alert(1)", "x"), "x");
        assert_eq!(url_link("\" onmouseover=\"x", "<b>"), "&lt;b&gt;");
    }

    #[test]
    fn path_segments_keep_slashes_and_queries_inside() {
        assert_eq!(path_segment("mental health"), "mental%20health");
        assert_eq!(path_segment("../a/b?c#d"), "..%2Fa%2Fb%3Fc%23d");
        assert_eq!(path_segment("A&E"), "A%26E");
        assert_eq!(path_segment("naïve"), "na%C3%AFve");
    }

    #[test]
    fn paragraphs_are_escaped_and_split_on_blank_lines() {
        assert_eq!(
            paragraphs("a<b\n\n\nc"),
            "<p class=\"text\">a&lt;b</p>\n<p class=\"text\">c</p>\n"
        );
    }
}
