//! The pages of the register of ongoing work: `/workstreams` (search box,
//! facet links, results; `templates/workstreams/list.html`) and
//! `/workstreams/{id}` (the workstream and what overlaps it;
//! `templates/workstreams/show.html`), and the form that registers one.
//! Read as an anonymous visitor unless signed in: only public workstreams
//! are shown to the public.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use concord_app::{AppError, DEFAULT_OVERLAPS, NewWorkstream, Principal, parse_workstream_id};
use concord_domain::StoredWorkstream;
use serde_json::{Map, Value};

use crate::session::Session;
use crate::web::error::{error_response, refused};
use crate::web::extract::{Form, MAX_FORM_BYTES, MaybeSession, SignedForm, no_store};
use crate::web::layout::{Layout, render};

use crate::AppState;
use crate::api::workstreams::WorkstreamParams;
use crate::web::filters;

/// Results per page.
const PER_PAGE: u64 = 25;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/workstreams", get(list))
        .route(
            "/workstreams/new",
            get(new_form)
                .post(register)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/workstreams/{id}", get(show))
}

fn page_error(status: StatusCode, message: &str) -> Response {
    (status, crate::web::error::error_page(status, message)).into_response()
}

fn app_error(e: AppError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(detail = %e, "page failed on our side");
    }
    page_error(status, &e.public_message())
}

/// `/workstreams?` with these parameters (empty ones left out).
fn href(params: &[(&str, Option<&str>)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            ser.append_pair(k, v);
        }
    }
    let q = ser.finish();
    if q.is_empty() {
        "/workstreams".into()
    } else {
        format!("/workstreams?{q}")
    }
}

async fn list(State(state): State<AppState>, s: MaybeSession, RawQuery(raw): RawQuery) -> Response {
    let mut params = match WorkstreamParams::parse(raw.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return page_error(StatusCode::BAD_REQUEST, e.message()),
    };
    params.per_page = Some(PER_PAGE);
    let found = match state
        .services
        .as_principal(Principal::Anonymous)
        .workstreams(&params.to_query())
        .await
    {
        Ok(f) => f,
        Err(e) => return app_error(e),
    };
    let status = params.status.map(|s| s.as_str().to_string());
    let current: Vec<(&str, Option<&str>)> = vec![
        ("q", params.q.as_deref()),
        ("lead", params.lead.as_deref()),
        ("theme", params.theme.as_deref()),
        ("setting", params.setting.as_deref()),
        ("status", status.as_deref()),
    ];
    let with = |k: &str, v: Option<&str>| -> String {
        let p: Vec<(&str, Option<&str>)> = current
            .iter()
            .map(|(ck, cv)| if *ck == k { (*ck, v) } else { (*ck, *cv) })
            .collect();
        href(&p)
    };
    let hidden = current
        .iter()
        .skip(1)
        .filter_map(|(k, v)| v.map(|v| (*k, v.to_string())))
        .collect();
    // Filters in force, each with a link that removes it.
    let active = current
        .iter()
        .skip(1)
        .filter_map(|(k, v)| v.map(|v| (*k, v.to_string(), with(k, None))))
        .collect();
    let facets = [
        ("lead", "Lead body"),
        ("status", "Status"),
        ("theme", "Theme"),
        ("setting", "Setting"),
    ]
    .into_iter()
    .filter_map(|(dim, label)| {
        let values = found.facets.get(dim).filter(|v| !v.is_empty())?;
        let mut v: Vec<(&String, &u64)> = values.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        Some(Facet {
            label,
            values: v
                .into_iter()
                .map(|(value, n)| (with(dim, Some(value)), value.clone(), *n))
                .collect(),
        })
    })
    .collect();
    let hits = found
        .items
        .iter()
        .map(|hit| {
            let w = &hit.workstream.workstream;
            WorkstreamHit {
                id: w.id.clone(),
                lead: w.lead.to_string(),
                status: w.status.as_str().to_string(),
                title: w.title.clone(),
                snippet: hit.snippet.clone(),
                start: w.start,
                end: w.expected_end,
            }
        })
        .collect();
    let page = params.page();
    let pages = found.total.div_ceil(PER_PAGE).max(1);
    let page_href = |n: u64| {
        let mut p = current.clone();
        let s = n.to_string();
        p.push(("page", Some(&s)));
        href(&p)
    };
    let pager = (pages > 1).then(|| Pager {
        page,
        pages,
        previous: (page > 1).then(|| page_href(page - 1)),
        next: (page < pages).then(|| page_href(page + 1)),
    });
    render(&ListPage {
        layout: Layout::new("Ongoing work").section("/workstreams"),
        signed_in: s.0.is_some(),
        q: params.q.clone().unwrap_or_default(),
        hidden,
        active,
        total: found.total,
        relaxed: found.relaxed,
        facets,
        hits,
        pager,
    })
}

/// One dimension to narrow the list by: (link, value, how many).
struct Facet {
    label: &'static str,
    values: Vec<(String, String, u64)>,
}

struct WorkstreamHit {
    id: String,
    lead: String,
    status: String,
    title: String,
    /// Escaped text with `<mark>` around the words found (the search
    /// engine's snippet).
    snippet: String,
    start: Option<chrono::NaiveDate>,
    end: Option<chrono::NaiveDate>,
}

struct Pager {
    page: u64,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "workstreams/list.html")]
struct ListPage {
    layout: Layout,
    signed_in: bool,
    q: String,
    /// The other filters, kept by the search box.
    hidden: Vec<(&'static str, String)>,
    /// (filter, value, the address without it)
    active: Vec<(&'static str, String, String)>,
    total: u64,
    relaxed: bool,
    facets: Vec<Facet>,
    hits: Vec<WorkstreamHit>,
    pager: Option<Pager>,
}

/// A workstream as its page shows it.
struct WorkstreamView {
    id: String,
    title: String,
    aim: Vec<String>,
    lead: String,
    lead_href: String,
    partners: Vec<String>,
    status: String,
    start: Option<chrono::NaiveDate>,
    end: Option<chrono::NaiveDate>,
    /// (link to the list narrowed by it, the value)
    themes: Vec<(String, String)>,
    settings: Vec<(String, String)>,
    contact: String,
    version: i64,
    recommendations: Vec<String>,
}

struct OverlapRow {
    kind: &'static str,
    /// `workstreams` or `recommendations`: where its page is.
    path: &'static str,
    id: String,
    title: String,
    body: String,
    score: f64,
    reason: String,
}

#[derive(Template)]
#[template(path = "workstreams/show.html")]
struct ShowPage {
    layout: Layout,
    w: WorkstreamView,
    overlaps: Vec<OverlapRow>,
}

fn show_page(s: &StoredWorkstream, overlaps: &[concord_app::Overlap]) -> ShowPage {
    let w = &s.workstream;
    let links = |kind: &str, values: &[String]| {
        values
            .iter()
            .map(|v| (href(&[(kind, Some(v))]), v.clone()))
            .collect()
    };
    ShowPage {
        layout: Layout::new(format!("{} {}", w.id, w.title)),
        w: WorkstreamView {
            id: w.id.clone(),
            title: w.title.clone(),
            aim: w
                .aim
                .as_deref()
                .map(filters::paragraphs)
                .unwrap_or_default(),
            lead: w.lead.to_string(),
            lead_href: href(&[("lead", Some(w.lead.as_str()))]),
            partners: w.partners.iter().map(|p| p.to_string()).collect(),
            status: w.status.as_str().to_string(),
            start: w.start,
            end: w.expected_end,
            themes: links("theme", &w.themes),
            settings: links("setting", &w.settings),
            contact: w.contact.clone().unwrap_or_else(|| "not given".into()),
            version: s.version,
            recommendations: w.recommendations.iter().map(|r| r.to_string()).collect(),
        },
        overlaps: overlaps
            .iter()
            .map(|o| OverlapRow {
                kind: o.kind,
                path: if o.kind == "workstream" {
                    "workstreams"
                } else {
                    "recommendations"
                },
                id: o.id.clone(),
                title: o.title.clone(),
                body: o.body.clone(),
                score: o.score,
                reason: o.reason.clone(),
            })
            .collect(),
    }
}

async fn show(State(state): State<AppState>, s: MaybeSession, Path(raw): Path<String>) -> Response {
    // Signed in, a body also sees its own work that is not public.
    let principal =
        s.0.as_ref()
            .map(|s| s.view.principal.clone())
            .unwrap_or(Principal::Anonymous);
    let svc = state.services.as_principal(principal);
    let found = match parse_workstream_id(&raw) {
        Ok(id) => svc.workstream(&id).await,
        Err(e) => Err(e),
    };
    let ws = match found {
        Ok(ws) => ws,
        Err(AppError::BadInput(m)) => return page_error(StatusCode::NOT_FOUND, &m),
        Err(e) => return app_error(e),
    };
    let overlaps = match svc.overlaps_for(&ws.workstream, DEFAULT_OVERLAPS).await {
        Ok(o) => o,
        Err(e) => return app_error(e),
    };
    render(&show_page(&ws, &overlaps))
}

// ------------------------------------------------------------ register form

/// One text field of the registration form.
struct FormField {
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    /// `text`, `date`, `email` or `textarea`.
    kind: &'static str,
    value: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "workstream_new.html")]
struct NewWorkstreamPage {
    layout: Layout,
    lead: String,
    fields: Vec<FormField>,
    statuses: Vec<(&'static str, bool)>,
    status_error: Option<String>,
    public: bool,
    /// The error summary: (field id, message).
    summary: Vec<(String, String)>,
}

/// (name, label, hint, kind) of the text fields, in the form's order.
const FIELDS: &[(&str, &str, &str, &str)] = &[
    (
        "title",
        "Title",
        "A short name for the work, as people would search for it.",
        "text",
    ),
    (
        "aim",
        "Aim",
        "What the work sets out to find or change.",
        "textarea",
    ),
    (
        "partners",
        "Partner bodies",
        "The codes of the other bodies taking part, separated by commas, for example CQC, NICE.",
        "text",
    ),
    (
        "themes",
        "Themes",
        "Separated by commas, for example sepsis, deterioration.",
        "text",
    ),
    (
        "settings",
        "Settings",
        "Where care happens, separated by commas, for example acute hospital, ambulance.",
        "text",
    ),
    ("start", "Start", "For example 2026-03-01.", "date"),
    (
        "expected_end",
        "Expected end",
        "On or after the start.",
        "date",
    ),
    (
        "contact",
        "Contact",
        "An email address or team people can ask about the work.",
        "text",
    ),
];

const STATUSES: &[&str] = &["planned", "active", "paused", "completed", "stopped"];

/// What a signed-in person may not register with, or None if they may.
fn may_register(session: &Session) -> Option<&'static str> {
    let v = &session.view;
    if v.org.is_none() {
        Some("You are not a member of any organisation, so you cannot register work.")
    } else if concord_app::permit(&v.principal, concord_app::Action::RegisterWork, None).is_err() {
        Some(
            "You need the author role in your organisation to register work. \
             Ask your organisation's Concord administrator.",
        )
    } else {
        None
    }
}

#[derive(Template)]
#[template(path = "workstreams/sign_in.html")]
struct SignInToRegister {
    layout: Layout,
}

fn sign_in_to_register() -> Response {
    let mut res = render(&SignInToRegister {
        layout: Layout::new("Sign in to register work").section("/workstreams"),
    });
    *res.status_mut() = StatusCode::UNAUTHORIZED;
    res
}

/// The form, filled from `form` (what was typed) with `errors` by field.
fn register_page(
    session: &Session,
    form: Option<&Form>,
    errors: Vec<(String, String)>,
    status: StatusCode,
) -> Response {
    let v = &session.view;
    let value = |n: &str| form.map(|f| f.text(n)).unwrap_or_default();
    let error_of = |n: &str| {
        let e: Vec<&str> = errors
            .iter()
            .filter(|(f, _)| f == n)
            .map(|(_, m)| m.as_str())
            .collect();
        (!e.is_empty()).then(|| e.join("; "))
    };
    let fields = FIELDS
        .iter()
        .map(|&(name, label, hint, kind)| FormField {
            name,
            label,
            hint,
            kind,
            value: value(name),
            error: error_of(name),
        })
        .collect();
    let chosen = form
        .and_then(|f| f.get("status"))
        .unwrap_or("active")
        .to_string();
    let mut layout = Layout::new("Register a workstream").section("/workstreams");
    layout.csrf = Some(v.csrf.clone());
    layout.error = !errors.is_empty();
    let summary = errors
        .iter()
        .map(|(f, m)| {
            let label = FIELDS
                .iter()
                .find(|x| x.0 == f)
                .map(|x| x.1)
                .unwrap_or(if f == "status" {
                    "Status"
                } else {
                    "The workstream"
                });
            let anchor = if label == "The workstream" {
                "title"
            } else {
                f
            };
            (anchor.to_string(), format!("{label} {m}"))
        })
        .collect();
    let page = NewWorkstreamPage {
        layout,
        lead: v.org.as_ref().map(|o| o.to_string()).unwrap_or_default(),
        fields,
        statuses: STATUSES.iter().map(|s| (*s, *s == chosen)).collect(),
        status_error: error_of("status"),
        public: form.and_then(|f| f.get("public")) != Some("no"),
        summary,
    };
    let mut res = no_store(render(&page));
    *res.status_mut() = status;
    res
}

async fn new_form(s: MaybeSession) -> Response {
    let Some(session) = &s.0 else {
        return sign_in_to_register();
    };
    if let Some(why) = may_register(session) {
        return refused(StatusCode::FORBIDDEN, why);
    }
    register_page(session, None, Vec::new(), StatusCode::OK)
}

/// A comma-separated list as a JSON array (blanks dropped).
fn comma_list(text: &str) -> Value {
    Value::Array(
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_string()))
            .collect(),
    )
}

/// The form as the body the API takes; the lead is the session's
/// organisation (the service fills it in).
fn form_body(form: &Form) -> NewWorkstream {
    let mut body = Map::new();
    body.insert("title".into(), Value::String(form.text("title")));
    for (name, _, _, _) in FIELDS {
        let text = form.text(name);
        let text = text.trim();
        match *name {
            "title" => {}
            "partners" | "themes" | "settings" => {
                body.insert((*name).into(), comma_list(text));
            }
            _ if text.is_empty() => {}
            _ => {
                body.insert((*name).into(), Value::String(text.to_string()));
            }
        }
    }
    body.insert(
        "status".into(),
        Value::String(form.get("status").unwrap_or("active").to_string()),
    );
    body.insert(
        "public".into(),
        Value::Bool(form.get("public") != Some("no")),
    );
    NewWorkstream { fields: body }
}

/// A refusal's field errors ("expected_end", "partners[0]") as (form
/// field, message) pairs.
fn field_errors(e: &AppError) -> Vec<(String, String)> {
    crate::web::error::field_messages(e)
        .into_iter()
        .map(|(path, m)| {
            let name = path.split('[').next().unwrap_or(&path);
            (name.to_string(), m)
        })
        .collect()
}

async fn register(
    State(state): State<AppState>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    if let Some(why) = may_register(session) {
        return refused(StatusCode::FORBIDDEN, why);
    }
    // The same service as POST /api/v1/workstreams.
    match state
        .services
        .as_principal(session.view.principal.clone())
        .register_workstream(&form_body(&form))
        .await
    {
        Ok(done) => {
            Redirect::to(&format!("/workstreams/{}", done.workstream.workstream.id)).into_response()
        }
        Err(e @ AppError::Invalid(_)) => register_page(
            session,
            Some(&form),
            field_errors(&e),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => error_response(e),
    }
}
