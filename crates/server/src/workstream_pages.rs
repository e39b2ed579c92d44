//! The pages of the register of ongoing work: `/workstreams` (search box,
//! facet links, results) and `/workstreams/{id}` (the workstream and what
//! overlaps it). Plain HTML without scripts, every value escaped, read as an
//! anonymous visitor: only public workstreams are shown.

use std::fmt::Write;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use concord_app::{AppError, DEFAULT_OVERLAPS, Principal};
use concord_domain::StoredWorkstream;
use serde_json::{Map, Value};

use crate::layout::{Layout, render};
use crate::session::Session;
use crate::sign_in_pages::{
    Form, MAX_FORM_BYTES, MaybeSession, SignedForm, error_response, no_store, refused,
};

use crate::AppState;
use crate::api::workstreams::WorkstreamParams;
use crate::pages::{esc, layout_with_feed, opt_date, words};

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
    (status, crate::pages::error_page(status, message)).into_response()
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
    let mut m = String::new();
    m.push_str(
        "<h1>Ongoing work</h1>
<p class=\"lead\">What the bodies that make recommendations to the NHS are working on now:
investigations, reviews and programmes, with who leads them and who takes part, so that related
work is joined up instead of repeated.</p>\n",
    );
    if s.0.is_some() {
        m.push_str("<p><a class=\"nhsuk-button\" href=\"/workstreams/new\">Register a workstream</a></p>\n");
    }
    let _ = write!(
        m,
        "<form class=\"search\" method=\"get\" action=\"/workstreams\" role=\"search\">
<label for=\"q\">Search ongoing work</label>
<input type=\"search\" id=\"q\" name=\"q\" value=\"{}\">\n",
        esc(params.q.as_deref().unwrap_or(""))
    );
    for (k, v) in current.iter().skip(1) {
        if let Some(v) = v {
            let _ = writeln!(
                m,
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                esc(k),
                esc(v)
            );
        }
    }
    m.push_str("<button type=\"submit\">Search</button>\n</form>\n");
    // Filters in force, each with a link that removes it.
    let active: Vec<String> = current
        .iter()
        .skip(1)
        .filter_map(|(k, v)| {
            v.map(|v| {
                format!(
                    "<li>{}: {} <a href=\"{}\">remove</a></li>",
                    esc(k),
                    esc(v),
                    esc(&with(k, None))
                )
            })
        })
        .collect();
    if !active.is_empty() {
        let _ = writeln!(
            m,
            "<ul class=\"filters\" aria-label=\"Filters\">{}</ul>",
            active.join("")
        );
    }
    let _ = writeln!(
        m,
        "<p>{} workstream{}{}.</p>",
        found.total,
        if found.total == 1 { "" } else { "s" },
        if found.relaxed {
            " (none had every word: those with some of them are shown)"
        } else {
            ""
        }
    );
    m.push_str("<div class=\"results\">\n<nav class=\"facets\" aria-label=\"Narrow the list\">\n");
    for (dim, label) in [
        ("lead", "Lead body"),
        ("status", "Status"),
        ("theme", "Theme"),
        ("setting", "Setting"),
    ] {
        let Some(values) = found.facets.get(dim).filter(|v| !v.is_empty()) else {
            continue;
        };
        let mut v: Vec<(&String, &u64)> = values.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let _ = writeln!(m, "<h2>{}</h2>\n<ul>", esc(label));
        for (value, n) in v {
            let _ = writeln!(
                m,
                "<li><a href=\"{}\">{}</a> ({n})</li>",
                esc(&with(dim, Some(value))),
                esc(&words(value))
            );
        }
        m.push_str("</ul>\n");
    }
    m.push_str("</nav>\n");
    if found.items.is_empty() {
        m.push_str("<p>No ongoing work matches.</p>\n");
    } else {
        m.push_str("<ol class=\"hits\">\n");
        for hit in &found.items {
            let w = &hit.workstream.workstream;
            let _ = writeln!(
                m,
                "<li><p class=\"id\"><a href=\"/workstreams/{id}\">{id}</a> · led by {lead} · {status}</p>\n\
                 <h3><a href=\"/workstreams/{id}\">{title}</a></h3>\n<p class=\"snippet\">{snippet}</p>\n\
                 <p class=\"dates\">{start} to {end}</p></li>",
                id = esc(&w.id),
                lead = esc(w.lead.as_str()),
                status = esc(w.status.as_str()),
                title = esc(&w.title),
                // HTML-safe by construction: escaped text and <mark> only.
                snippet = hit.snippet,
                start = opt_date(w.start),
                end = opt_date(w.expected_end),
            );
        }
        m.push_str("</ol>\n");
    }
    m.push_str("</div>\n");
    let page = params.page();
    let pages = found.total.div_ceil(PER_PAGE).max(1);
    if pages > 1 {
        let page_s = |n: u64| {
            let mut p = current.clone();
            let s = n.to_string();
            p.push(("page", Some(&s)));
            href(&p)
        };
        m.push_str("<nav class=\"pages\" aria-label=\"Pages\">");
        if page > 1 {
            let _ = write!(m, "<a href=\"{}\">Previous</a> ", esc(&page_s(page - 1)));
        }
        let _ = write!(m, "Page {page} of {pages}");
        if page < pages {
            let _ = write!(m, " <a href=\"{}\">Next</a>", esc(&page_s(page + 1)));
        }
        m.push_str("</nav>\n");
    }
    m.push_str(
        "<p>As JSON: <a href=\"/api/v1/workstreams\">/api/v1/workstreams</a>. \
         Bodies register work with <code>POST /api/v1/workstreams</code> or \
         <code>concord workstream add</code>.</p>\n",
    );
    Html(crate::pages::layout_in(
        Some("/workstreams"),
        "Ongoing work",
        &m,
        None,
    ))
    .into_response()
}

fn list_links(kind: &str, values: &[String]) -> String {
    if values.is_empty() {
        return "none given".into();
    }
    values
        .iter()
        .map(|v| {
            format!(
                "<a href=\"{}\">{}</a>",
                esc(&href(&[(kind, Some(v))])),
                esc(v)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The body of a workstream's page.
pub fn workstream_html(s: &StoredWorkstream, overlaps: &[concord_app::Overlap]) -> String {
    let w = &s.workstream;
    let mut m = String::new();
    let _ = writeln!(
        m,
        "<p class=\"id\">{}</p>\n<h1>{}</h1>",
        esc(&w.id),
        esc(&w.title)
    );
    if let Some(aim) = &w.aim {
        let _ = writeln!(m, "<h2>Aim</h2>\n{}", crate::pages::paragraphs(aim));
    }
    let partners: Vec<String> = w.partners.iter().map(|p| p.to_string()).collect();
    let _ = writeln!(
        m,
        "<dl class=\"facts\">
<dt>Lead</dt><dd><a href=\"{lead_href}\">{lead}</a></dd>
<dt>Partners</dt><dd>{partners}</dd>
<dt>Status</dt><dd>{status}</dd>
<dt>Start</dt><dd>{start}</dd>
<dt>Expected end</dt><dd>{end}</dd>
<dt>Themes</dt><dd>{themes}</dd>
<dt>Settings</dt><dd>{settings}</dd>
<dt>Contact</dt><dd>{contact}</dd>
<dt>Version</dt><dd>{version}</dd>
</dl>",
        lead_href = esc(&href(&[("lead", Some(w.lead.as_str()))])),
        lead = esc(w.lead.as_str()),
        partners = if partners.is_empty() {
            "none".to_string()
        } else {
            esc(&partners.join(", ")).to_string()
        },
        status = esc(w.status.as_str()),
        start = opt_date(w.start),
        end = opt_date(w.expected_end),
        themes = list_links("theme", &w.themes),
        settings = list_links("setting", &w.settings),
        contact = esc(w.contact.as_deref().unwrap_or("not given")),
        version = s.version,
    );
    m.push_str("<h2>Recommendations it answers</h2>\n");
    if w.recommendations.is_empty() {
        m.push_str("<p>None named.</p>\n");
    } else {
        m.push_str("<ul>\n");
        for r in &w.recommendations {
            let _ = writeln!(m, "<li><a href=\"/recommendations/{r}\">{r}</a></li>");
        }
        m.push_str("</ul>\n");
    }
    m.push_str("<h2>Overlapping work</h2>\n");
    if overlaps.is_empty() {
        m.push_str("<p>No published work overlaps this one.</p>\n");
    } else {
        m.push_str(
            "<table>\n<thead><tr><th scope=\"col\">Kind</th><th scope=\"col\">Identifier</th>\
             <th scope=\"col\">Title</th><th scope=\"col\">Body</th><th scope=\"col\">Score</th>\
             <th scope=\"col\">Why</th></tr></thead>\n<tbody>\n",
        );
        for o in overlaps {
            let path = if o.kind == "workstream" {
                "workstreams"
            } else {
                "recommendations"
            };
            let _ = writeln!(
                m,
                "<tr><td>{}</td><td><a href=\"/{path}/{}\">{}</a></td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>",
                esc(o.kind),
                esc(&o.id),
                esc(&o.id),
                esc(&o.title),
                esc(&o.body),
                o.score,
                esc(&o.reason)
            );
        }
        m.push_str("</tbody>\n</table>\n");
    }
    m
}

async fn show(State(state): State<AppState>, s: MaybeSession, Path(raw): Path<String>) -> Response {
    // Signed in, a body also sees its own work that is not public.
    let principal =
        s.0.as_ref()
            .map(|s| s.view.principal.clone())
            .unwrap_or(Principal::Anonymous);
    let svc = state.services.as_principal(principal);
    let ws = match svc.workstream(&raw).await {
        Ok(ws) => ws,
        Err(AppError::BadInput(m)) => return page_error(StatusCode::NOT_FOUND, &m),
        Err(e) => return app_error(e),
    };
    let overlaps = match svc.overlaps_for(&ws.workstream, DEFAULT_OVERLAPS).await {
        Ok(o) => o,
        Err(e) => return app_error(e),
    };
    Html(layout_with_feed(
        &format!("{} {}", ws.workstream.id, ws.workstream.title),
        &workstream_html(&ws, &overlaps),
        None,
    ))
    .into_response()
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

fn sign_in_to_register() -> Response {
    let body = "<h1>Sign in to register work</h1>\n<p>Bodies register their ongoing work \
                when signed in. <a href=\"/sign-in\">Sign in</a> to register a workstream.</p>\n";
    (
        StatusCode::UNAUTHORIZED,
        Html(crate::layout::wrap(
            Layout::new("Sign in to register work").section("/workstreams"),
            body,
        )),
    )
        .into_response()
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
fn form_body(form: &Form) -> Value {
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
    Value::Object(body)
}

/// "field expected_end: is before the start; field partners[0]: ..." as
/// (form field, message) pairs.
fn field_errors(message: &str) -> Vec<(String, String)> {
    message
        .split("; ")
        .map(|part| {
            let part = part.strip_prefix("field ").unwrap_or(part);
            match part.split_once(": ") {
                Some((name, m)) => (
                    name.split('[').next().unwrap_or(name).to_string(),
                    m.to_string(),
                ),
                None => (String::new(), part.to_string()),
            }
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
        Err(AppError::Invalid(m)) => register_page(
            session,
            Some(&form),
            field_errors(&m),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => error_response(e),
    }
}
