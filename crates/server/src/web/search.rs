//! The public pages built on the search service: `/search` (results with
//! highlights, facets that narrow, paging, sort, dates), its downloads
//! (`/search.csv`, `/search.json`, `/search.xlsx`), `/organisations/{code}`
//! and `/themes/{theme}`. They read the query string with the API's own
//! parser ([`SearchParams`]) and ask the same service as
//! `GET /api/v1/search`: there is one search path.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use concord_app::{
    DashboardRequest, ExportFormat, MAX_DOWNLOAD, Page, Principal, RecommendationFilter,
    SearchQuery, SearchResults, Sort, write_records,
};
use concord_domain::OrgCode;

use crate::AppState;
use crate::api::search::SearchParams;
use crate::web::error::PageError;
use crate::web::filters;
use crate::web::filters::words;
use crate::web::layout::{Layout, render};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search))
        .route("/search.csv", get(|s, q| download(s, q, ExportFormat::Csv)))
        .route("/search.addressees.csv", get(addressee_rows))
        .route(
            "/search.json",
            get(|s, q| download(s, q, ExportFormat::Json)),
        )
        .route(
            "/search.xlsx",
            get(|s, q| download(s, q, ExportFormat::Xlsx)),
        )
        .route("/organisations", get(organisations))
        .route("/organisations/{code}", get(organisation))
        .route("/themes/{theme}", get(theme))
}

/// Results per page on the search page (the API's default too).
const PER_PAGE: u64 = 20;
/// How many records the organisation and theme pages list.
const LISTED: u64 = 10;

/// The facet dimensions, in the order the page shows them, with their
/// headings. `year` narrows by a date range.
const FACETS: &[(&str, &str)] = &[
    ("issuer", "Issued by"),
    ("addressee", "Sent to"),
    ("theme", "Theme"),
    ("setting", "Care setting"),
    ("kind", "Kind"),
    ("status", "Status"),
    ("year", "Year published"),
];

/// The search's parameters as given (in order, empty ones dropped), to
/// build the links that change one of them.
#[derive(Debug, Clone, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn read(raw: &str) -> Self {
        Params(
            form_urlencoded::parse(raw.as_bytes())
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// These parameters with `changes` applied (a `None` removes the key);
    /// paging starts again, since the results change.
    fn with(&self, changes: &[(&str, Option<&str>)]) -> Params {
        let mut out: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k != "page" && !changes.iter().any(|(c, _)| c == k))
            .cloned()
            .collect();
        for (k, v) in changes {
            if let Some(v) = v {
                out.push((k.to_string(), v.to_string()));
            }
        }
        Params(out)
    }

    fn page(&self, page: u64) -> Params {
        let mut p = self.with(&[]);
        if page > 1 {
            p.0.push(("page".into(), page.to_string()));
        }
        p
    }

    fn href(&self, path: &str) -> String {
        if self.0.is_empty() {
            return path.to_string();
        }
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        format!("{path}?{}", s.finish())
    }

    /// Whether anything asks for results (words or a filter).
    fn asks(&self) -> bool {
        self.0
            .iter()
            .any(|(k, _)| !matches!(k.as_str(), "sort" | "page" | "per_page"))
    }
}

struct HitView {
    id: String,
    title: String,
    /// Escaped by the search index, with `<mark>` around matched words.
    snippet: String,
    /// The issuer's name, the day it was published and where it stands
    /// (None when the record could not be read).
    about: Option<HitAbout>,
}

struct HitAbout {
    issuer: String,
    published: Option<chrono::NaiveDate>,
    status: String,
}

struct FacetValue {
    label: String,
    count: u64,
    href: String,
    active: bool,
}

struct FacetView {
    heading: &'static str,
    values: Vec<FacetValue>,
}

struct ActiveFilter {
    heading: &'static str,
    value: String,
    remove_href: String,
}

struct Results {
    total: u64,
    first: u64,
    last: u64,
    hits: Vec<HitView>,
    relaxed: bool,
    notes: Vec<String>,
    facets: Vec<FacetView>,
    active: Vec<ActiveFilter>,
    clear_href: String,
    newest: bool,
    relevance_href: String,
    newest_href: String,
    page: u64,
    pages: u64,
    prev_href: Option<String>,
    next_href: Option<String>,
    csv_href: String,
    /// One row per recommendation and addressee.
    rows_href: String,
    json_href: String,
    xlsx_href: String,
    /// Set when a download holds only the first [`MAX_DOWNLOAD`] results.
    capped: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    from: String,
    to: String,
    newest: bool,
    /// Filters carried by the form (so new words keep them).
    hidden: Vec<(String, String)>,
    error: Option<String>,
    /// The form field the error is about: `q`, `from` or `to`.
    error_field: &'static str,
    results: Option<Results>,
}

/// One of the search form's two dates, with its error if it has one.
struct DateField {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    value: String,
    error: Option<String>,
}

impl SearchPage {
    fn dates(&self) -> Vec<DateField> {
        let field = |name, label, hint, value: &str| DateField {
            name,
            label,
            hint,
            value: value.to_string(),
            error: self.error.clone().filter(|_| self.error_field == name),
        };
        vec![
            field(
                "from",
                "Published on or after",
                "For example, 2024-01-31",
                &self.from,
            ),
            field(
                "to",
                "Published on or before",
                "For example, 2024-12-31",
                &self.to,
            ),
        ]
    }
}

/// A refused search said against the field it is about, in words for the
/// person at the form rather than the API's (`parameter from: "2024-99-01"
/// is not a date in the form YYYY-MM-DD`).
fn search_form_error(message: &str) -> (&'static str, String) {
    if message.starts_with("parameter from:") && message.contains(" is after to") {
        (
            "from",
            "The earliest date must be the same as or before the latest date".into(),
        )
    } else if message.starts_with("parameter from:") {
        (
            "from",
            "Enter the earliest date as year-month-day, for example 2024-01-31".into(),
        )
    } else if message.starts_with("parameter to:") {
        (
            "to",
            "Enter the latest date as year-month-day, for example 2024-12-31".into(),
        )
    } else {
        ("q", message.to_string())
    }
}

async fn search(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let given = Params::read(&raw);
    let mut page = SearchPage {
        layout: Layout::new("Search recommendations").section("/search"),
        q: given.get("q").unwrap_or_default().to_string(),
        from: given.get("from").unwrap_or_default().to_string(),
        to: given.get("to").unwrap_or_default().to_string(),
        newest: given.get("sort") == Some("newest")
            || (given.get("q").unwrap_or_default().trim().is_empty()
                && given.get("sort").is_none()),
        hidden: given
            .0
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "q" | "sort" | "from" | "to" | "page"))
            .cloned()
            .collect(),
        error: None,
        error_field: "q",
        results: None,
    };
    page.layout.query = page.q.clone();
    let status = match search_results(&state, &raw, &given).await {
        Ok(Some(results)) => {
            page.layout.title = match page.q.trim() {
                "" => "Search results".to_string(),
                q => format!("Search results for {q}"),
            };
            page.results = Some(results);
            StatusCode::OK
        }
        Ok(None) => StatusCode::OK,
        Err(e) => {
            let (field, message) = search_form_error(e.message());
            page.layout.error = true;
            page.error = Some(message);
            page.error_field = field;
            e.status()
        }
    };
    (status, render(&page)).into_response()
}

async fn search_results(
    state: &AppState,
    raw: &str,
    given: &Params,
) -> Result<Option<Results>, PageError> {
    let params = SearchParams::parse(raw)
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.message()))?;
    // The search box sent empty lists everything, newest first (as its
    // hint says); only the bare page, asked for nothing, shows no results.
    let sent_box = raw.split('&').any(|p| p == "q" || p.starts_with("q="));
    if !given.asks() && !sent_box {
        return Ok(None);
    }
    let mut query = params.to_query();
    // Nothing to rank by: the newest first.
    if query.text.trim().is_empty() && given.get("sort").is_none() {
        query.sort = Sort::Newest;
    }
    if params.list.per_page.is_none() {
        query.page = Page {
            offset: (params.list.page() - 1).saturating_mul(PER_PAGE),
            limit: PER_PAGE,
        };
    }
    let per_page = query.page.limit;
    let auth = state.services.as_principal(Principal::Anonymous);
    let found = auth.search(query.clone()).await?;
    // Organisations by name, not code; each result with its issuer, date
    // and status (a page of them: one read each).
    let names: HashMap<String, String> = auth
        .organisations()
        .await?
        .into_iter()
        .map(|o| (o.code.to_string(), o.name))
        .collect();
    let mut about = HashMap::new();
    for h in &found.hits {
        let Ok(id) = concord_domain::RecommendationId::parse(&h.id) else {
            continue;
        };
        if let Ok(rec) = auth.recommendation(&id).await {
            let code = rec.data.issuer.to_string();
            about.insert(
                h.id.clone(),
                HitAbout {
                    issuer: names.get(&code).cloned().unwrap_or(code),
                    published: rec.data.published,
                    status: rec.data.status.as_str().to_string(),
                },
            );
        }
    }
    Ok(Some(results_view(
        given, &found, &query, per_page, &names, about,
    )))
}

fn results_view(
    given: &Params,
    found: &SearchResults,
    query: &SearchQuery,
    per_page: u64,
    names: &HashMap<String, String>,
    mut about: HashMap<String, HitAbout>,
) -> Results {
    let label_for = |key: &str, value: &str| label_for(key, value, names);
    let page = query.page.offset / per_page.max(1) + 1;
    // The search engine pages no further than its result window.
    let window = concord_app::MAX_RESULT_WINDOW / per_page.max(1);
    let pages = found.total.div_ceil(per_page.max(1)).min(window).max(1);
    let first = query.page.offset + 1;
    let last = query.page.offset + found.hits.len() as u64;
    let year_of = |from: Option<&str>, to: Option<&str>| -> Option<String> {
        let (f, t) = (from?, to?);
        let y = f.strip_suffix("-01-01")?;
        (t.strip_suffix("-12-31") == Some(y)).then(|| y.to_string())
    };
    let active_year = year_of(given.get("from"), given.get("to"));

    let mut facets = Vec::new();
    let mut active = Vec::new();
    for &(key, heading) in FACETS {
        let chosen: Option<String> = if key == "year" {
            active_year.clone()
        } else {
            given.get(key).map(str::to_string)
        };
        if let Some(value) = &chosen {
            let remove = if key == "year" {
                given.with(&[("from", None), ("to", None)])
            } else {
                given.with(&[(key, None)])
            };
            active.push(ActiveFilter {
                heading,
                value: label_for(key, value),
                remove_href: remove.href("/search"),
            });
        }
        let Some(counts) = found.facets.get(key) else {
            continue;
        };
        let mut values: Vec<(&String, &u64)> = counts.iter().collect();
        if key == "year" {
            // Years in order, the latest first.
            values.sort_by(|a, b| b.0.cmp(a.0));
        } else {
            values.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        }
        let values: Vec<FacetValue> = values
            .into_iter()
            .map(|(value, &count)| {
                let narrowed = if key == "year" {
                    let from = format!("{value}-01-01");
                    let to = format!("{value}-12-31");
                    given.with(&[("from", Some(&from)), ("to", Some(&to))])
                } else {
                    given.with(&[(key, Some(value))])
                };
                FacetValue {
                    label: label_for(key, value),
                    count,
                    href: narrowed.href("/search"),
                    active: chosen
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(value)),
                }
            })
            .collect();
        if !values.is_empty() {
            facets.push(FacetView { heading, values });
        }
    }
    let downloads = given.with(&[("per_page", None)]);
    Results {
        total: found.total,
        first,
        last,
        hits: found
            .hits
            .iter()
            .map(|h| HitView {
                id: h.id.clone(),
                title: h.title.clone(),
                snippet: h.snippet.clone(),
                about: about.remove(&h.id),
            })
            .collect(),
        relaxed: found.relaxed,
        notes: found.notes.clone(),
        facets,
        active,
        clear_href: Params(
            given
                .0
                .iter()
                .filter(|(k, _)| k == "q" || k == "sort")
                .cloned()
                .collect(),
        )
        .href("/search"),
        newest: query.sort == Sort::Newest,
        relevance_href: given.with(&[("sort", None)]).href("/search"),
        newest_href: given.with(&[("sort", Some("newest"))]).href("/search"),
        page,
        pages,
        prev_href: (page > 1).then(|| given.page(page - 1).href("/search")),
        next_href: (page < pages).then(|| given.page(page + 1).href("/search")),
        csv_href: downloads.href("/search.csv"),
        rows_href: downloads.href("/search.addressees.csv"),
        json_href: downloads.href("/search.json"),
        xlsx_href: downloads.href("/search.xlsx"),
        capped: (found.total > MAX_DOWNLOAD).then(|| {
            format!(
                "Downloads hold the first {} of these {} results. Narrow the search to get them all, \
                 or use the API (GET /api/v1/search, page by page).",
                thousands(MAX_DOWNLOAD),
                thousands(found.total)
            )
        }),
    }
}

/// How a facet value reads: an organisation by its name (and code),
/// `safety_action` as words, anything else as it is.
fn label_for(key: &str, value: &str, names: &HashMap<String, String>) -> String {
    match key {
        "issuer" | "addressee" => match names.get(&value.to_ascii_uppercase()) {
            Some(name) => format!("{name} ({value})"),
            None => value.to_string(),
        },
        "kind" | "status" => {
            let w = words(value);
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect(),
                None => w,
            }
        }
        _ => value.to_string(),
    }
}

/// `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A download's file name: `concord-` and the words searched for (or
/// `all`), the day, the extension.
fn file_name(params: &SearchParams, today: chrono::NaiveDate, ext: &str) -> String {
    let words: String = params
        .q
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut slug: String = words
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    slug.truncate(40);
    let slug = slug.trim_end_matches('-');
    let slug = if slug.is_empty() { "all" } else { slug };
    format!("concord-{slug}-{today}.{ext}")
}

/// The result set a download asks for (at most [`MAX_DOWNLOAD`] records),
/// as an anonymous visitor sees it.
async fn result_set(
    state: &AppState,
    raw: Option<String>,
) -> Result<(SearchParams, concord_app::ResultSet), PageError> {
    let params = SearchParams::parse(raw.as_deref().unwrap_or_default())
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.message()))?;
    let set = state
        .services
        .as_principal(Principal::Anonymous)
        .search_result_set(params.to_query(), MAX_DOWNLOAD)
        .await?;
    Ok((params, set))
}

/// Columns of the spreadsheet with one row per recommendation and
/// addressee.
const ADDRESSEE_COLUMNS: &[&str] = &[
    "id",
    "title",
    "issuer",
    "published",
    "status",
    "addressee",
    "addressee_code",
    "addressee_status",
    "response_due",
    "acceptance",
    "implementation",
    "assessment",
];

/// A result set as a spreadsheet people can filter: one row per
/// recommendation and addressee (a recommendation with none has one row),
/// the addressee's answer in columns of its own.
async fn addressee_rows(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let (params, set) = match result_set(&state, raw).await {
        Ok(x) => x,
        Err(page) => return page.into_response(),
    };
    let book = match state
        .services
        .as_principal(Principal::Anonymous)
        .rules_in_force()
        .await
    {
        Ok(b) => b,
        Err(e) => return PageError::from(e).into_response(),
    };
    let mut body = concord_domain::text::csv_row(ADDRESSEE_COLUMNS.iter().copied());
    for rec in &set.records {
        let d = &rec.data;
        let rules = book.for_issuer(&d.issuer);
        let head = [
            rec.id.to_string(),
            d.title.clone(),
            d.issuer.to_string(),
            d.published.map(|p| p.to_string()).unwrap_or_default(),
            d.status.as_str().to_string(),
        ];
        let parts: Vec<[String; 7]> = d
            .addressees
            .iter()
            .map(|a| {
                [
                    a.name.clone(),
                    a.org.as_ref().map(|o| o.to_string()).unwrap_or_default(),
                    a.status.as_str().to_string(),
                    concord_domain::lifecycle::due_for(d, a, rules)
                        .map(|x| x.to_string())
                        .unwrap_or_default(),
                    a.acceptance.map(|x| x.to_string()).unwrap_or_default(),
                    a.implementation.map(|x| x.to_string()).unwrap_or_default(),
                    a.assessment
                        .as_ref()
                        .map(|x| x.verdict.to_string())
                        .unwrap_or_default(),
                ]
            })
            .collect();
        let none: [String; 7] = Default::default();
        for part in parts.iter().chain(parts.is_empty().then_some(&none)) {
            body.push_str(&concord_domain::text::csv_row(
                head.iter().chain(part.iter()).map(String::as_str),
            ));
        }
    }
    let name = file_name(&params, state.services.clock().today(), "addressees.csv");
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")).expect("ASCII"),
            ),
        ],
        body,
    )
        .into_response()
}

/// A result set as a file: the same records in the same shapes as
/// `concord export`, at most [`MAX_DOWNLOAD`] of them; the
/// `Concord-Result-Set` header says when the cap cut the set short.
async fn download(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    format: ExportFormat,
) -> Response {
    let (params, set) = match result_set(&state, raw).await {
        Ok(x) => x,
        Err(page) => return page.into_response(),
    };
    let mut body = Vec::new();
    if let Err(e) = write_records(format, &set.records, &mut body) {
        return PageError::from(e).into_response();
    }
    let (kind, ext) = match format {
        ExportFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        ExportFormat::Json => ("application/json", "json"),
        ExportFormat::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let summary = if set.capped() {
        format!(
            "the first {} of {} results (downloads stop at {})",
            set.records.len(),
            set.total,
            MAX_DOWNLOAD
        )
    } else {
        format!("all {} results", set.records.len())
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!(
                    "attachment; filename=\"{}\"",
                    file_name(&params, state.services.clock().today(), ext)
                ))
                .expect("ASCII"),
            ),
            (
                HeaderName::from_static("concord-result-set"),
                HeaderValue::from_str(&summary).expect("ASCII"),
            ),
        ],
        body,
    )
        .into_response()
}

/// One listed recommendation on the organisation and theme pages.
struct Listed {
    id: String,
    title: String,
    /// The organisation's own answer status (organisation page, "sent").
    status: Option<String>,
}

struct Count {
    label: String,
    count: u64,
    href: String,
}

#[derive(Template)]
#[template(path = "organisation.html")]
struct OrganisationPage {
    layout: Layout,
    code: String,
    name: String,
    /// Made by an import from addressee names; nobody has confirmed it yet.
    unverified: bool,
    /// The names it was written as, for a reader to judge that.
    written_as: Vec<String>,
    /// A provider: its priority list is linked.
    provider: bool,
    kind: String,
    level: String,
    issued_total: u64,
    issued: Vec<Listed>,
    issued_by_status: Vec<Count>,
    issued_href: String,
    sent_total: u64,
    sent: Vec<Listed>,
    sent_href: String,
    /// (items, open, overdue, answered, implemented) from the dashboard's
    /// figures; None when they could not be had.
    answers: Option<[u64; 5]>,
    /// Whether anything was sent to it at all (the table is left out if not).
    any_sent: bool,
    /// Its answers that are late, the longest overdue first (at most
    /// [`OVERDUE_LISTED`]), and how many there are in all.
    overdue: Vec<OverdueRow>,
    overdue_total: usize,
}

/// How many of an organisation's overdue answers its page lists.
const OVERDUE_LISTED: usize = 20;

/// One late answer on an organisation's page.
struct OverdueRow {
    id: String,
    title: String,
    due: chrono::NaiveDate,
    days: i64,
}

/// One organisation in the A to Z list.
struct OrgEntry {
    code: String,
    name: String,
    kind: String,
}

/// The organisations whose names start with one letter ("#" for the rest).
struct Letter {
    letter: char,
    orgs: Vec<OrgEntry>,
}

#[derive(Template)]
#[template(path = "organisations.html")]
struct OrganisationsPage {
    layout: Layout,
    q: String,
    shown: usize,
    groups: Vec<Letter>,
}

/// Longest search an organisation's name is matched against.
const ORG_QUERY_CHARS: usize = 100;

/// `/organisations`: every organisation A to Z, or those whose name, code
/// or other names hold `q`.
async fn organisations(
    State(state): State<AppState>,
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    let q: String = params
        .get("q")
        .map(|s| s.trim().chars().take(ORG_QUERY_CHARS).collect())
        .unwrap_or_default();
    let needle = q.to_lowercase();
    let mut all = state
        .services
        .as_principal(Principal::Anonymous)
        .organisations()
        .await?;
    all.retain(|o| {
        needle.is_empty()
            || o.name.to_lowercase().contains(&needle)
            || o.code.as_str().to_lowercase().contains(&needle)
            || o.aliases.iter().any(|a| a.to_lowercase().contains(&needle))
    });
    all.sort_by_key(|o| o.name.to_lowercase());
    let shown = all.len();
    // By first letter; names that start with a digit, a sign or a letter
    // outside A to Z are listed last, under "#".
    let mut by_letter: BTreeMap<(bool, char), Vec<OrgEntry>> = BTreeMap::new();
    for o in all {
        let first = o
            .name
            .chars()
            .next()
            .map(|c| c.to_ascii_uppercase())
            .filter(char::is_ascii_alphabetic)
            .unwrap_or('#');
        by_letter
            .entry((first == '#', first))
            .or_default()
            .push(OrgEntry {
                code: o.code.to_string(),
                name: o.name.clone(),
                kind: o.kind.in_words(),
            });
    }
    let groups = by_letter
        .into_iter()
        .map(|((_, letter), orgs)| Letter { letter, orgs })
        .collect();
    Ok(render(&OrganisationsPage {
        layout: Layout::new("Organisations"),
        q,
        shown,
        groups,
    }))
}

async fn organisation(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let code = OrgCode::parse(&raw).map_err(|_| {
        PageError::new(
            StatusCode::NOT_FOUND,
            "There is no organisation with this code.",
        )
    })?;
    let auth = state.services.as_principal(Principal::Anonymous);
    let org = auth.organisation(&code).await?;
    let newest = |filter: RecommendationFilter| SearchQuery {
        text: String::new(),
        filter,
        page: Page {
            offset: 0,
            limit: LISTED,
        },
        sort: Sort::Newest,
    };
    let issued = auth
        .search(newest(RecommendationFilter {
            issuer: Some(code.clone()),
            ..Default::default()
        }))
        .await?;
    let sent = auth
        .search_result_set(
            newest(RecommendationFilter {
                addressee: Some(code.to_string()),
                ..Default::default()
            }),
            LISTED,
        )
        .await?;
    let answers = match auth
        .dashboard(&DashboardRequest {
            all_addressees: true,
            ..Default::default()
        })
        .await
    {
        Ok(d) => d
            .by_addressee
            .iter()
            .find(|r| r.key.eq_ignore_ascii_case(code.as_str()))
            .map(|r| {
                let c = &r.counts;
                [c.items, c.open, c.overdue, c.answered, c.implemented]
            })
            .or(Some([0; 5])),
        Err(e) => {
            tracing::warn!(detail = %e, "organisation page without the dashboard's figures");
            None
        }
    };
    // The same list as GET /api/v1/overdue?addressee=CODE, longest first.
    let late = auth
        .overdue(None, None, Some(code.to_string()))
        .await?
        .items
        .into_iter()
        .filter(|i| i.org.as_ref() == Some(&code))
        .collect::<Vec<_>>();
    let by_issuer = Params(vec![("issuer".into(), code.to_string())]);
    let issued_by_status = counts(&issued.facets, "status", &by_issuer, "status");
    let page = OrganisationPage {
        layout: Layout::new(format!("{} ({})", org.name, code)),
        code: code.to_string(),
        name: org.name.clone(),
        unverified: org.status == concord_domain::OrgStatus::Unverified,
        written_as: org.aliases.clone(),
        provider: org.provider_kind.is_some() || org.kind.as_str() == "provider",
        kind: org.kind.in_words(),
        level: org.level.in_words(),
        issued_total: issued.total,
        issued: issued
            .hits
            .iter()
            .map(|h| Listed {
                id: h.id.clone(),
                title: h.title.clone(),
                status: None,
            })
            .collect(),
        issued_by_status,
        issued_href: by_issuer.href("/search"),
        sent_total: sent.total,
        sent: sent
            .records
            .iter()
            .map(|r| Listed {
                id: r.id.to_string(),
                title: r.data.title.clone(),
                status: r
                    .data
                    .addressees
                    .iter()
                    .find(|a| a.org.as_ref() == Some(&code))
                    .map(|a| a.status.in_words()),
            })
            .collect(),
        sent_href: Params(vec![("addressee".into(), code.to_string())]).href("/search"),
        any_sent: answers.is_some_and(|a| a[0] > 0),
        answers,
        overdue_total: late.len(),
        overdue: late
            .into_iter()
            .take(OVERDUE_LISTED)
            .map(|i| OverdueRow {
                id: i.id,
                title: i.title,
                due: i.due,
                days: i.days_overdue,
            })
            .collect(),
    };
    Ok(render(&page))
}

/// A facet's counts as links that narrow `base` by `param`.
fn counts(
    facets: &BTreeMap<String, BTreeMap<String, u64>>,
    key: &str,
    base: &Params,
    param: &str,
) -> Vec<Count> {
    let mut out: Vec<Count> = facets
        .get(key)
        .map(|m| {
            m.iter()
                .map(|(v, &n)| Count {
                    label: label_for(key, v, &HashMap::new()),
                    count: n,
                    href: base.with(&[(param, Some(v))]).href("/search"),
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
    out
}

#[derive(Template)]
#[template(path = "theme.html")]
struct ThemePage {
    layout: Layout,
    theme: String,
    total: u64,
    listed: Vec<Listed>,
    by_issuer: Vec<Count>,
    by_setting: Vec<Count>,
    search_href: String,
}

async fn theme(
    State(state): State<AppState>,
    Path(theme): Path<String>,
) -> Result<Response, PageError> {
    let theme = theme.trim().to_string();
    if theme.is_empty() || theme.chars().count() > 200 || theme.chars().any(char::is_control) {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "There is no theme with this name.",
        ));
    }
    let found = state
        .services
        .as_principal(Principal::Anonymous)
        .search(SearchQuery {
            text: String::new(),
            filter: RecommendationFilter {
                theme: Some(theme.clone()),
                ..Default::default()
            },
            page: Page {
                offset: 0,
                limit: LISTED,
            },
            sort: Sort::Newest,
        })
        .await?;
    if found.total == 0 {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "No published recommendation has this theme.",
        ));
    }
    let base = Params(vec![("theme".into(), theme.clone())]);
    let page = ThemePage {
        layout: Layout::new(format!("Theme: {theme}")),
        total: found.total,
        listed: found
            .hits
            .iter()
            .map(|h| Listed {
                id: h.id.clone(),
                title: h.title.clone(),
                status: None,
            })
            .collect(),
        by_issuer: counts(&found.facets, "issuer", &base, "issuer"),
        by_setting: counts(&found.facets, "setting", &base, "setting"),
        search_href: base.href("/search"),
        theme,
    };
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_change_one_parameter_and_start_paging_again() {
        let p = Params::read("q=sepsis+%26+falls&theme=&issuer=HSSIB&page=3");
        assert_eq!(p.get("theme"), None, "empty values are dropped");
        assert_eq!(
            p.with(&[("theme", Some("maternity"))]).href("/search"),
            "/search?q=sepsis+%26+falls&issuer=HSSIB&theme=maternity"
        );
        assert_eq!(
            p.with(&[("issuer", None)]).href("/search"),
            "/search?q=sepsis+%26+falls"
        );
        assert_eq!(
            p.page(2).href("/s"),
            "/s?q=sepsis+%26+falls&issuer=HSSIB&page=2"
        );
        assert_eq!(Params::default().href("/search"), "/search");
        assert!(p.asks());
        assert!(!Params::read("sort=newest&page=2").asks());
    }

    #[test]
    fn numbers_and_labels_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        let none = HashMap::new();
        assert_eq!(label_for("kind", "safety_action", &none), "Safety action");
        assert_eq!(label_for("issuer", "HSSIB", &none), "HSSIB");
        let names = HashMap::from([("HSSIB".to_string(), "Health Services Safety".to_string())]);
        assert_eq!(
            label_for("issuer", "HSSIB", &names),
            "Health Services Safety (HSSIB)"
        );
        assert_eq!(label_for("theme", "HSSIB", &names), "HSSIB");
    }
}
