//! The signed-in pages where the work is done: "Your work" (each queue the
//! person works), drafting a recommendation with the quality criteria and
//! similar recommendations shown as they type (htmx; a "Check the draft"
//! button does the same without JavaScript), publishing through the
//! issuer's gate, and the forms with which an addressee answers and
//! reports progress and an issuer assesses and closes.
//!
//! Every form carries the session's CSRF secret; every change goes through
//! the same services as the API, whose access control decides (these pages
//! only hide what a person could not do anyway).

// A refusal here is a whole page (a `Response`), built once per request;
// boxing it would only add noise.
#![allow(clippy::result_large_err)]

use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concord_app::{AppError, Authorized, NewRecord, Page, Principal, RecordEdit, WorkQueue};
use concord_domain::account::Role;
use concord_domain::lifecycle::{Acceptance, Assessment, ClosureReason, Implementation, MoveKind};
use concord_domain::model::{EqualityDirection, EvidenceKind, EvidenceStrength, Risk};
use concord_domain::{AddresseeStatus, Lifecycle, Recommendation, RecommendationId};
use serde_json::{Map, Value};

use crate::AppState;
use crate::session::Session;
use crate::web::error::field_messages;
use crate::web::error::{error_response, refused};
use crate::web::extract::{Form, MAX_FORM_BYTES, MaybeSession, SignedForm, no_store};
use crate::web::filters;
use crate::web::filters::{sentence, words};
use crate::web::layout::{Layout, render};

/// A recommendation's text may be long; its form is still bounded.
const MAX_DRAFT_FORM_BYTES: usize = 256 * 1024;
/// Items per queue on "Your work", and per page of one queue.
const QUEUE_PREVIEW: u64 = 5;
const QUEUE_PAGE: u64 = 25;
/// How many similar recommendations the drafting page shows.
const SIMILAR_SHOWN: usize = 8;
/// How long the drafting page waits for the similarity index's first build.
const FIRST_BUILD_WAIT: Duration = Duration::from_secs(3);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/work", get(work))
        .route("/work/{queue}", get(queue_page))
        .route(
            "/recommendations/new",
            get(new_draft)
                .post(create_draft)
                .layer(DefaultBodyLimit::max(MAX_DRAFT_FORM_BYTES)),
        )
        .route(
            "/recommendations/feedback",
            post(feedback).layer(DefaultBodyLimit::max(MAX_DRAFT_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/edit",
            get(edit_draft)
                .post(save_draft)
                .layer(DefaultBodyLimit::max(MAX_DRAFT_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/publish",
            get(check_publish)
                .post(publish)
                .layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/endorse",
            post(endorse).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route(
            "/recommendations/{id}/addressees/{n}/{move}",
            get(move_form).post(make_move).layer(DefaultBodyLimit::max(
                MAX_DRAFT_FORM_BYTES.max(MAX_FORM_BYTES),
            )),
        )
}

fn sign_in_first() -> Response {
    no_store(Redirect::to("/sign-in").into_response())
}

fn services<'a>(state: &'a AppState, session: &Session) -> Authorized<'a> {
    state.services.as_principal(session.view.principal.clone())
}

fn signed_in_layout(title: &str, session: &Session) -> Layout {
    let mut layout = Layout::new(title).section("/work");
    layout.csrf = Some(session.view.csrf.clone());
    layout
}

// ------------------------------------------------------------------ fields

/// One field of a form, as `templates/form_fields.html` shows it.
pub(crate) struct FormField {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: String,
    /// text, textarea, date, number, url, select or radios.
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
    /// (value, label) of a select or of radios.
    pub options: Vec<(String, String)>,
    pub rows: u8,
    /// What to say when nothing is chosen, for a question that must be
    /// answered ("Select ...", in the service manual's words).
    pub required: Option<&'static str>,
}

impl FormField {
    pub(crate) fn new(
        name: &'static str,
        label: &'static str,
        kind: &'static str,
        hint: &str,
    ) -> Self {
        FormField {
            name,
            label,
            hint: hint.to_string(),
            kind,
            value: String::new(),
            error: None,
            options: Vec::new(),
            rows: if name == "text" { 8 } else { 4 },
            required: None,
        }
    }

    /// Radios of a vocabulary, none chosen until the person chooses: for
    /// questions whose answer must not lean on a default (an addressee's
    /// position, an assessment). `required` is what to say when none is.
    pub(crate) fn radios(
        name: &'static str,
        label: &'static str,
        hint: &str,
        values: impl IntoIterator<Item = &'static str>,
        required: &'static str,
    ) -> Self {
        let mut f = FormField::choice(name, label, hint, values, None);
        f.kind = "radios";
        f.required = Some(required);
        f
    }

    /// A select of a vocabulary; `blank` is the label of "none chosen".
    pub(crate) fn choice(
        name: &'static str,
        label: &'static str,
        hint: &str,
        values: impl IntoIterator<Item = &'static str>,
        blank: Option<&str>,
    ) -> Self {
        let mut f = FormField::new(name, label, "select", hint);
        if let Some(b) = blank {
            f.options.push((String::new(), b.to_string()));
        }
        f.options.extend(
            values
                .into_iter()
                .map(|v| (v.to_string(), sentence(&words(v)))),
        );
        f
    }

    /// The ids of the hint and the error, if any (for `aria-describedby`).
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

/// Fills the fields from a posted form and attaches each error to its
/// field; returns the error summary (anchor, message).
pub(crate) fn fill(
    fields: &mut [FormField],
    form: Option<&Form>,
    errors: &[(String, String)],
) -> Vec<(String, String)> {
    if let Some(form) = form {
        for f in fields.iter_mut() {
            f.value = form.text(f.name);
        }
    }
    let mut summary = Vec::new();
    for (name, message) in errors {
        let field = fields.iter_mut().find(|f| f.name == name);
        let (anchor, shown) = match field {
            Some(f) => {
                f.error = Some(match &f.error {
                    Some(e) => format!("{e}; {message}"),
                    None => message.clone(),
                });
                (f.name.to_string(), format!("{}: {message}", f.label))
            }
            // Not a field of this form: the summary points at the first one.
            None => (
                fields.first().map(|f| f.name).unwrap_or("").to_string(),
                message.clone(),
            ),
        };
        summary.push((anchor, shown));
    }
    summary
}

/// A refusal's field errors as (form field, message) pairs, through
/// `rename` (a JSON path to a form field).
fn field_errors(e: &AppError, rename: fn(&str) -> &'static str) -> Vec<(String, String)> {
    field_messages(e)
        .into_iter()
        .map(|(path, m)| match (path.as_str(), rename(&path)) {
            ("", _) => (String::new(), sentence(&m)),
            (path, "") => (String::new(), format!("{}: {m}", words(path))),
            (_, field) => (field.to_string(), sentence(&m)),
        })
        .collect()
}

/// Lines of a textarea, trimmed, blanks dropped.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn comma_list(text: &str) -> Vec<Value> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Value::String(s.to_string()))
        .collect()
}

// ------------------------------------------------------------ "your work"

struct WorkItem {
    id: String,
    title: String,
    /// Where each part stands: (what, due by, days overdue), joined by "; ".
    state: Vec<(String, Option<chrono::NaiveDate>, Option<i64>)>,
    actions: Vec<(String, String)>,
}

struct QueueView {
    name: &'static str,
    heading: &'static str,
    about: String,
    empty: &'static str,
    total: u64,
    items: Vec<WorkItem>,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    layout: Layout,
    org: String,
    can_draft: bool,
    queues: Vec<QueueView>,
    respondent: bool,
    oversight: bool,
    admin: bool,
}

#[derive(Template)]
#[template(path = "work_queue.html")]
struct WorkQueuePage {
    layout: Layout,
    q: QueueView,
    page: u64,
    prev: Option<String>,
    next: Option<String>,
}

fn queue_texts(q: WorkQueue, org: &str) -> (&'static str, String, &'static str) {
    match q {
        WorkQueue::Drafts => (
            "Drafts",
            format!("Recommendations {org} is writing. Only {org} can see them."),
            "There are no drafts.",
        ),
        WorkQueue::ToAnswer => (
            "Waiting for your answer",
            format!("Published recommendations addressed to {org} that it has not answered yet."),
            "Nothing is waiting for an answer.",
        ),
        WorkQueue::Answered => (
            "Answered: keep the progress up to date",
            format!(
                "Recommendations {org} has answered. Record the action plan and progress until the issuer closes them."
            ),
            "Nothing answered is still open.",
        ),
        WorkQueue::ToAssess => (
            "Responses to assess",
            format!("Answers to recommendations {org} issued that wait for its assessment."),
            "No response is waiting for assessment.",
        ),
    }
}

fn addressee_state(status: AddresseeStatus) -> String {
    sentence(&status.in_words())
}

/// One row of a queue: where the organisation's part stands and the links
/// to what it can do next.
fn work_item(
    rec: &Recommendation,
    q: WorkQueue,
    org: &str,
    today: chrono::NaiveDate,
    book: &concord_domain::lifecycle::RulesBook,
) -> WorkItem {
    let rules = book.for_issuer(&rec.data.issuer);
    let id = rec.id.to_string();
    let mut actions = Vec::new();
    let mut state = Vec::new();
    match q {
        WorkQueue::Drafts => {
            state.push((format!("Draft, version {}", rec.version), None, None));
            actions.push((
                format!("/recommendations/{id}/edit"),
                "Edit the draft".into(),
            ));
        }
        _ => {
            for (i, a) in rec.data.addressees.iter().enumerate() {
                let n = i + 1;
                let ours = a.org.as_ref().is_some_and(|o| o.as_str() == org);
                let wanted = match q {
                    WorkQueue::ToAnswer => ours && a.status == AddresseeStatus::AwaitingResponse,
                    WorkQueue::Answered => {
                        ours && matches!(
                            a.status,
                            AddresseeStatus::ResponseReceived | AddresseeStatus::Assessed
                        )
                    }
                    WorkQueue::ToAssess => a.status == AddresseeStatus::ResponseReceived,
                    WorkQueue::Drafts => false,
                };
                if !wanted {
                    continue;
                }
                state.push((
                    format!("{}: {}", a.name, addressee_state(a.status)),
                    concord_domain::lifecycle::due_for(&rec.data, a, rules),
                    concord_domain::lifecycle::overdue_as_of(&rec.data, a, rules, today)
                        .map(|(_, days)| days),
                ));
                let base = format!("/recommendations/{id}/addressees/{n}");
                match q {
                    WorkQueue::ToAnswer => {
                        actions.push((format!("{base}/respond"), format!("Answer for {}", a.name)))
                    }
                    WorkQueue::Answered => {
                        actions.push((format!("{base}/update"), "Record progress".into()));
                        actions.push((format!("{base}/add_action"), "Add an action".into()));
                    }
                    WorkQueue::ToAssess => actions.push((
                        format!("{base}/assess"),
                        format!("Assess {}'s answer", a.name),
                    )),
                    WorkQueue::Drafts => {}
                }
            }
        }
    }
    WorkItem {
        id,
        title: rec.data.title.clone(),
        state,
        actions,
    }
}

async fn load_queue(
    auth: &Authorized<'_>,
    q: WorkQueue,
    org: &str,
    page: Page,
    today: chrono::NaiveDate,
) -> Result<QueueView, AppError> {
    let list = auth.work_queue(q, page).await?;
    let book = auth.rules_in_force().await?;
    let (heading, about, empty) = queue_texts(q, org);
    Ok(QueueView {
        name: q.as_str(),
        heading,
        about,
        empty,
        total: list.total,
        items: list
            .items
            .iter()
            .map(|r| work_item(r, q, org, today, &book))
            .collect(),
    })
}

async fn work(State(state): State<AppState>, s: MaybeSession) -> Response {
    let Some(session) = &s.0 else {
        return sign_in_first();
    };
    let auth = services(&state, session);
    let Some(org) = session.view.org.as_ref().map(|o| o.to_string()) else {
        return refused(
            StatusCode::FORBIDDEN,
            "You are not a member of any organisation yet, so there is no work to show. \
             Ask an administrator of your organisation to add you.",
        );
    };
    let mut queues = Vec::new();
    for q in auth.work_queues() {
        match load_queue(
            &auth,
            q,
            &org,
            Page {
                offset: 0,
                limit: QUEUE_PREVIEW,
            },
            state.services.clock().today(),
        )
        .await
        {
            Ok(v) => queues.push(v),
            Err(e) => return error_response(e),
        }
    }
    let roles = session.view.roles();
    no_store(render(&WorkPage {
        layout: signed_in_layout("Your work", session),
        org,
        can_draft: roles.contains(Role::Author),
        queues,
        respondent: roles.contains(Role::Respondent),
        oversight: roles.contains(Role::Oversight),
        admin: roles.contains(Role::Administrator),
    }))
}

async fn queue_page(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(session) = &s.0 else {
        return sign_in_first();
    };
    let Some(q) = WorkQueue::parse(&name) else {
        return refused(StatusCode::NOT_FOUND, "There is no such list of work.");
    };
    let org = session
        .view
        .org
        .as_ref()
        .map(|o| o.to_string())
        .unwrap_or_default();
    let page: u64 = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .filter(|p| (1..=100_000).contains(p))
        .unwrap_or(1);
    let auth = services(&state, session);
    let view = match load_queue(
        &auth,
        q,
        &org,
        Page {
            offset: (page - 1) * QUEUE_PAGE,
            limit: QUEUE_PAGE,
        },
        state.services.clock().today(),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return error_response(e),
    };
    let pages = view.total.div_ceil(QUEUE_PAGE).max(1);
    let at = |p: u64| format!("/work/{}?page={p}", q.as_str());
    no_store(render(&WorkQueuePage {
        layout: signed_in_layout(view.heading, session),
        prev: (page > 1).then(|| at(page - 1)),
        next: (page < pages).then(|| at(page + 1)),
        page,
        q: view,
    }))
}

// --------------------------------------------------------------- drafting

/// The drafting form's fields, in order.
fn draft_fields() -> Vec<FormField> {
    vec![
        FormField::new(
            "title",
            "Title",
            "text",
            "A short name for the recommendation, as it will be listed.",
        ),
        FormField::new(
            "text",
            "The recommendation",
            "textarea",
            "Say who should do what, by when, and how anyone will know it has been done.",
        ),
        FormField::new(
            "addressees",
            "Addressed to",
            "textarea",
            "One organisation per line: its Concord code (for example NHSE) or its name.",
        ),
        FormField::new(
            "response_deadline",
            "Answers due by",
            "date",
            "Leave it blank to use your organisation's rule (for example 56 days for a coroner's report).",
        ),
        FormField::new(
            "themes",
            "Themes",
            "text",
            "Separated by commas, for example: sepsis, deterioration.",
        ),
        FormField::new(
            "settings",
            "Care settings",
            "text",
            "Separated by commas, for example: emergency department, acute hospital.",
        ),
        FormField::choice(
            "risk",
            "Risk to patients if nothing is done",
            "",
            Risk::ALL.iter().map(|r| r.as_str()),
            Some("Not stated"),
        ),
        FormField::new(
            "patient_impact",
            "Impact on patients",
            "textarea",
            "Who will benefit and how, in a sentence or two.",
        ),
        FormField::choice(
            "evidence_kind",
            "Kind of evidence",
            "",
            EvidenceKind::ALL.iter().map(|r| r.as_str()),
            Some("Not stated"),
        ),
        FormField::choice(
            "evidence_strength",
            "Strength of the evidence",
            "",
            EvidenceStrength::ALL.iter().map(|r| r.as_str()),
            Some("Not stated"),
        ),
        FormField::new(
            "evidence_references",
            "Evidence references",
            "textarea",
            "One per line: the report, study or guideline it rests on.",
        ),
        FormField::new(
            "cost_one_off",
            "One-off cost, in pounds",
            "number",
            "Your estimate of what it costs to put in place, for example 250000.",
        ),
        FormField::new(
            "cost_recurring",
            "Recurring cost each year, in pounds",
            "number",
            "",
        ),
        FormField::choice(
            "equality_direction",
            "Effect on health inequalities",
            "",
            EqualityDirection::ALL.iter().map(|r| r.as_str()),
            Some("Not stated"),
        ),
        FormField::new(
            "equality_groups",
            "Groups affected",
            "text",
            "Separated by commas, for example: people with a learning disability.",
        ),
    ]
}

/// A service's JSON path to the drafting form's field.
fn draft_field_of(path: &str) -> &'static str {
    let head = path.split(['[', '.']).next().unwrap_or(path);
    match head {
        "title" => "title",
        "text" => "text",
        "addressees" => "addressees",
        "response_deadline" => "response_deadline",
        "themes" => "themes",
        "settings" => "settings",
        "risk" => "risk",
        "patient_impact" => "patient_impact",
        "evidence" if path.contains("strength") => "evidence_strength",
        "evidence" if path.contains("references") => "evidence_references",
        "evidence" => "evidence_kind",
        "cost" if path.contains("recurring") => "cost_recurring",
        "cost" => "cost_one_off",
        "equality" if path.contains("groups") => "equality_groups",
        "equality" => "equality_direction",
        _ => "",
    }
}

/// An amount in pounds as typed ("£250,000" too); an error names the field.
fn amount(form: &Form, name: &str, errors: &mut Vec<(String, String)>) -> Option<f64> {
    let raw = form.text(name);
    let t: String = raw
        .trim()
        .trim_start_matches('£')
        .chars()
        .filter(|c| *c != ',')
        .collect();
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
        _ => {
            errors.push((
                name.to_string(),
                format!("{raw:?} is not an amount in pounds (for example 250000)"),
            ));
            None
        }
    }
}

/// The drafting form as the JSON body the services take (the same as the
/// API's), with the errors found before any service sees it. Addressees
/// written as a registered organisation's code or name are recognised.
async fn draft_body(
    auth: &Authorized<'_>,
    form: &Form,
    issuer: &str,
) -> (Map<String, Value>, Vec<(String, String)>) {
    let mut errors = Vec::new();
    for (name, missing) in [
        ("title", "Enter a title"),
        ("text", "Enter the recommendation"),
    ] {
        if form.text(name).trim().is_empty() {
            errors.push((name.to_string(), missing.to_string()));
        }
    }
    let mut body = Map::new();
    body.insert("issuer".into(), Value::String(issuer.to_string()));
    body.insert(
        "title".into(),
        Value::String(form.text("title").trim().into()),
    );
    body.insert(
        "text".into(),
        Value::String(form.text("text").trim().into()),
    );
    let orgs = auth.organisations().await.unwrap_or_default();
    let addressees: Vec<Value> = lines(&form.text("addressees"))
        .into_iter()
        .map(|line| {
            let known = orgs.iter().find(|o| {
                o.code.as_str().eq_ignore_ascii_case(&line) || o.name.eq_ignore_ascii_case(&line)
            });
            match known {
                Some(o) => serde_json::json!({"name": o.name, "org": o.code.as_str()}),
                None => serde_json::json!({ "name": line }),
            }
        })
        .collect();
    body.insert("addressees".into(), Value::Array(addressees));
    for (name, key) in [("themes", "themes"), ("settings", "settings")] {
        body.insert(key.into(), Value::Array(comma_list(&form.text(name))));
    }
    let deadline = form.text("response_deadline");
    let deadline = deadline.trim();
    if !deadline.is_empty() && chrono::NaiveDate::parse_from_str(deadline, "%Y-%m-%d").is_err() {
        errors.push((
            "response_deadline".into(),
            format!(
                "{deadline:?} is not a date: give it as year-month-day, for example 2027-03-31"
            ),
        ));
    }
    for key in ["response_deadline", "risk", "patient_impact"] {
        let v = form.text(key);
        if !v.trim().is_empty() {
            body.insert(key.into(), Value::String(v.trim().into()));
        }
    }
    let refs = lines(&form.text("evidence_references"));
    let kind = form.text("evidence_kind");
    let strength = form.text("evidence_strength");
    if !refs.is_empty() || !kind.is_empty() || !strength.is_empty() {
        let mut ev = Map::new();
        if !kind.is_empty() {
            ev.insert("kind".into(), Value::String(kind));
        }
        if !strength.is_empty() {
            ev.insert("strength".into(), Value::String(strength));
        }
        ev.insert(
            "references".into(),
            Value::Array(refs.into_iter().map(Value::String).collect()),
        );
        body.insert("evidence".into(), Value::Object(ev));
    }
    let one_off = amount(form, "cost_one_off", &mut errors);
    let recurring = amount(form, "cost_recurring", &mut errors);
    if one_off.is_some() || recurring.is_some() {
        body.insert(
            "cost".into(),
            serde_json::json!({"one_off": one_off, "recurring": recurring, "currency": "GBP"}),
        );
    }
    let direction = form.text("equality_direction");
    let groups = comma_list(&form.text("equality_groups"));
    if !direction.is_empty() {
        body.insert(
            "equality".into(),
            serde_json::json!({"direction": direction, "groups": groups}),
        );
    } else if !groups.is_empty() {
        errors.push((
            "equality_direction".into(),
            "Say whether it reduces or widens them, leaves them as they are, or that it is unknown"
                .into(),
        ));
    }
    (body, errors)
}

/// The form's values from a stored recommendation (to edit a draft).
fn draft_form_of(rec: &Recommendation) -> Form {
    let d = &rec.data;
    let mut v: Vec<(String, String)> = vec![
        ("title".into(), d.title.clone()),
        ("text".into(), d.text.clone()),
        (
            "addressees".into(),
            d.addressees
                .iter()
                .map(|a| {
                    a.org
                        .as_ref()
                        .map(|o| o.to_string())
                        .unwrap_or_else(|| a.name.clone())
                })
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        (
            "response_deadline".into(),
            d.response_deadline
                .map(|x| x.to_string())
                .unwrap_or_default(),
        ),
        ("themes".into(), d.themes.join(", ")),
        ("settings".into(), d.settings.join(", ")),
        (
            "risk".into(),
            d.risk.map(|r| r.as_str().to_string()).unwrap_or_default(),
        ),
        (
            "patient_impact".into(),
            d.patient_impact.clone().unwrap_or_default(),
        ),
    ];
    if let Some(ev) = &d.evidence {
        v.push((
            "evidence_kind".into(),
            ev.kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
        ));
        v.push((
            "evidence_strength".into(),
            ev.strength
                .map(|k| k.as_str().to_string())
                .unwrap_or_default(),
        ));
        v.push(("evidence_references".into(), ev.references.join("\n")));
    }
    if let Some(c) = &d.cost {
        let num = |x: Option<f64>| x.map(|x| format!("{x}")).unwrap_or_default();
        v.push(("cost_one_off".into(), num(c.one_off)));
        v.push(("cost_recurring".into(), num(c.recurring)));
    }
    if let Some(eq) = &d.equality {
        v.push((
            "equality_direction".into(),
            eq.direction.as_str().to_string(),
        ));
        v.push(("equality_groups".into(), eq.groups.join(", ")));
    }
    v.push(("version".into(), rec.version.to_string()));
    Form::from_pairs(v)
}

struct CheckView {
    criterion: String,
    result: &'static str,
    colour: &'static str,
    message: String,
    suggestion: Option<String>,
}

struct ReportView {
    score: u8,
    ruleset: String,
    gate_failures: Vec<String>,
    checks: Vec<CheckView>,
}

impl ReportView {
    /// Criteria the draft fails, though the gate may let it through.
    fn failing(&self) -> usize {
        self.checks.iter().filter(|c| c.result == "fail").count()
    }
}

struct MatchView {
    id: String,
    title: String,
    relation: String,
    colour: &'static str,
    score: String,
    reason: String,
}

/// The right-hand panel of the drafting page.
pub(crate) struct Feedback {
    /// One line for screen readers, announced when it changes.
    status: String,
    report: Option<ReportView>,
    note: String,
    similar: Vec<MatchView>,
    similar_note: String,
    has_duplicate: bool,
}

impl Feedback {
    fn waiting(note: &str) -> Feedback {
        Feedback {
            status: String::new(),
            report: None,
            note: note.to_string(),
            similar: Vec::new(),
            similar_note: "Similar recommendations will show here.".into(),
            has_duplicate: false,
        }
    }
}

#[derive(Template)]
#[template(path = "draft_feedback.html")]
struct FeedbackFragment {
    feedback: Feedback,
}

/// What Concord makes of a draft: the criteria's verdicts (the issuer's own
/// set and gate) and the existing recommendations close to it.
/// What Concord makes of a draft; `saved` is the draft's own record, when
/// it has one, left out of the comparison.
async fn judge(
    state: &AppState,
    principal: Principal,
    body: &Map<String, Value>,
    saved: Option<&RecommendationId>,
) -> Feedback {
    let text = body
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if text.trim().is_empty() {
        return Feedback::waiting(
            "Write the recommendation to see how it meets the quality criteria.",
        );
    }
    let services = state.services.clone();
    let draft = Value::Object(body.clone());
    let built = services.similar_built();
    // The similarity index's first build can take minutes on a large
    // register; it runs on its own task and the page does not wait long.
    let saved = saved.cloned();
    let task = tokio::spawn(async move {
        let auth = services.as_principal(principal);
        let report = auth.check_draft_of(&draft, None, saved.as_ref()).await;
        let similar = auth
            .similar_answer_for_text(&text, SIMILAR_SHOWN + 1)
            .await
            .map(|mut a| {
                a.matches
                    .retain(|m| saved.as_ref().is_none_or(|id| m.id != id.to_string()));
                a.matches.truncate(SIMILAR_SHOWN);
                a
            });
        let mut titled = Vec::new();
        if let Ok(answer) = &similar {
            for m in &answer.matches {
                let title = match RecommendationId::parse(&m.id) {
                    Ok(id) => auth
                        .recommendation(&id)
                        .await
                        .map(|r| r.data.title)
                        .unwrap_or_default(),
                    Err(_) => String::new(),
                };
                titled.push((m.clone(), title));
            }
        }
        (report, similar.map(|_| titled))
    });
    let (report, similar) = if built {
        match task.await {
            Ok(r) => r,
            Err(_) => return Feedback::waiting("The draft could not be checked. Try again."),
        }
    } else {
        match tokio::time::timeout(FIRST_BUILD_WAIT, task).await {
            Ok(Ok(r)) => r,
            _ => {
                return Feedback::waiting(
                    "Concord is still reading the whole register to compare drafts with it. \
                     Check the draft again in a few minutes.",
                );
            }
        }
    };
    let mut fb = Feedback::waiting("");
    match report {
        Ok(mut reports) if !reports.is_empty() => {
            let r = reports.remove(0);
            let met = r
                .checks
                .iter()
                .filter(|c| c.result.as_str() == "pass")
                .count();
            fb.status = format!(
                "Checked: {met} of {} criteria met, score {} out of 100{}.",
                r.checks.len(),
                r.score,
                if r.gate_failures.is_empty() {
                    ", can be published"
                } else {
                    ", publishing is blocked"
                }
            );
            fb.report = Some(ReportView {
                score: r.score,
                ruleset: r.ruleset,
                gate_failures: r.gate_failures,
                checks: r
                    .checks
                    .into_iter()
                    .map(|c| CheckView {
                        criterion: sentence(&words(&c.criterion)),
                        result: c.result.as_str(),
                        colour: match c.result.as_str() {
                            "pass" => "green",
                            "warn" => "yellow",
                            _ => "red",
                        },
                        message: c.message,
                        suggestion: c.suggestion,
                    })
                    .collect(),
            });
        }
        Ok(_) => fb.note = "The draft could not be checked.".into(),
        // A field the criteria cannot read (a bad date, an unknown risk):
        // the form shows it when saved; here, the reason.
        Err(e @ (AppError::Invalid(_) | AppError::BadInput(_))) => {
            fb.note = format!("The draft cannot be checked yet: {e}.")
        }
        Err(e) => {
            tracing::warn!(detail = %e, "checking a draft failed");
            fb.note = "The draft could not be checked. Try again.".into();
        }
    }
    match similar {
        Ok(found) => {
            fb.has_duplicate = found.iter().any(|(m, _)| m.relation == "duplicate");
            fb.similar = found
                .into_iter()
                .map(|(m, title)| {
                    let relation = m.relation.to_string();
                    MatchView {
                        colour: match relation.as_str() {
                            "duplicate" => "orange",
                            "contradicts" => "red",
                            "supports" => "green",
                            _ => "grey",
                        },
                        id: m.id,
                        title,
                        relation,
                        score: format!("{:.2}", m.score),
                        reason: m.reason,
                    }
                })
                .collect();
            fb.similar_note = "No existing recommendation is close to this draft.".into();
            if !fb.similar.is_empty() {
                fb.status.push_str(&format!(
                    " {} similar recommendation{} found.",
                    fb.similar.len(),
                    if fb.similar.len() == 1 { "" } else { "s" }
                ));
            }
        }
        Err(_) => {
            fb.similar_note = "This text cannot be compared with the register yet.".into();
        }
    }
    fb
}

#[derive(Template)]
#[template(path = "draft_form.html")]
struct DraftPage {
    layout: Layout,
    heading: String,
    issuer: String,
    action: String,
    version: Option<i64>,
    /// The draft's own record, once saved (left out of what the live
    /// feedback compares it with).
    saved: Option<String>,
    fields: Vec<FormField>,
    summary: Vec<(String, String)>,
    notice: Option<String>,
    can_publish: bool,
    feedback: Feedback,
}

/// The organisation a person drafts for, or why they cannot.
fn drafting_org(session: &Session) -> Result<String, Response> {
    let Some(org) = session.view.org.as_ref() else {
        return Err(refused(
            StatusCode::FORBIDDEN,
            "Drafting is done for an organisation, and you are not a member of one.",
        ));
    };
    if !session.view.roles().contains(Role::Author) {
        return Err(refused(
            StatusCode::FORBIDDEN,
            &format!("Drafting a recommendation needs the author role in {org}."),
        ));
    }
    Ok(org.to_string())
}

#[allow(clippy::too_many_arguments)]
async fn draft_page(
    state: &AppState,
    session: &Session,
    issuer: &str,
    editing: Option<(&RecommendationId, i64)>,
    form: Option<&Form>,
    errors: Vec<(String, String)>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let mut fields = draft_fields();
    let summary = fill(&mut fields, form, &errors);
    let auth = services(state, session);
    let feedback = match form {
        Some(f) => {
            let (body, _) = draft_body(&auth, f, issuer).await;
            judge(
                state,
                session.view.principal.clone(),
                &body,
                editing.map(|(id, _)| id),
            )
            .await
        }
        None => {
            Feedback::waiting("Write the recommendation to see how it meets the quality criteria.")
        }
    };
    let (heading, action, version) = match editing {
        Some((id, v)) => (
            format!("Edit draft {id}"),
            format!("/recommendations/{id}/edit"),
            Some(v),
        ),
        None => (
            "Draft a recommendation".to_string(),
            "/recommendations/new".to_string(),
            None,
        ),
    };
    let mut layout = signed_in_layout(&heading, session);
    layout.error = !summary.is_empty();
    let page = render(&DraftPage {
        layout,
        heading,
        issuer: issuer.to_string(),
        action,
        version,
        saved: editing.map(|(id, _)| id.to_string()),
        fields,
        summary,
        notice,
        can_publish: session.view.roles().contains(Role::Approver),
        feedback,
    });
    let mut res = no_store(page);
    *res.status_mut() = status;
    res
}

async fn new_draft(State(state): State<AppState>, s: MaybeSession) -> Response {
    let Some(session) = &s.0 else {
        return sign_in_first();
    };
    let org = match drafting_org(session) {
        Ok(o) => o,
        Err(r) => return r,
    };
    draft_page(
        &state,
        session,
        &org,
        None,
        None,
        Vec::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A refusal of the services as the form's errors (422/409), or as a page.
fn form_failure(e: AppError) -> Result<(Vec<(String, String)>, StatusCode), Response> {
    match e {
        e @ (AppError::Invalid(_) | AppError::BadInput(_)) => Ok((
            field_errors(&e, draft_field_of),
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        AppError::Refused(m) => Ok((
            vec![(
                String::new(),
                format!(
                    "It was not published: {m}. It is saved as it was; fix what is listed and try again."
                ),
            )],
            StatusCode::CONFLICT,
        )),
        AppError::Conflict(_) => Ok((
            vec![(
                String::new(),
                "Someone changed this draft after you opened it, so your changes were not saved. \
                 Open the draft again to see theirs, then make yours."
                    .to_string(),
            )],
            StatusCode::CONFLICT,
        )),
        other => Err(error_response(other)),
    }
}

async fn create_draft(
    State(state): State<AppState>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let org = match drafting_org(session) {
        Ok(o) => o,
        Err(r) => return r,
    };
    submit_draft(&state, session, &org, None, &form).await
}

/// What both drafting forms do with a post: check it (the button, or
/// errors found in the form), or save it — a new draft, or an edit of the
/// version the person was editing — publishing it through the issuer's gate
/// when asked (the services check the approver role and the gate).
async fn submit_draft(
    state: &AppState,
    session: &Session,
    org: &str,
    editing: Option<(&RecommendationId, i64)>,
    form: &Form,
) -> Response {
    let auth = services(state, session);
    let (mut json, errors) = draft_body(&auth, form, org).await;
    let action = form.get("action").unwrap_or("save");
    let again = |errors, status| {
        draft_page(
            state,
            session,
            org,
            editing,
            Some(form),
            errors,
            None,
            status,
        )
    };
    if action == "check" || !errors.is_empty() {
        let status = if errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return again(errors, status).await;
    }
    // Publishing goes by way of a check: the draft is saved, then shown
    // as it will be published, with one button that makes it public.
    if action == "publish"
        && let Err(e) = auth.permit(concord_app::Action::Publish, None)
    {
        return error_response(e);
    }
    let done = match editing {
        None => {
            auth.create_draft(NewRecord {
                fields: json,
                override_gate: None,
            })
            .await
        }
        Some((id, version)) => {
            json.remove("issuer");
            let edit = RecordEdit {
                version,
                fields: json,
                override_gate: None,
            };
            auth.edit(id, edit).await
        }
    };
    match done {
        Ok(rec) if rec.data.status == Lifecycle::Draft && action == "publish" => {
            Redirect::to(&format!("/recommendations/{}/publish", rec.id)).into_response()
        }
        Ok(rec) if rec.data.status == Lifecycle::Draft => {
            Redirect::to(&format!("/recommendations/{}/edit?saved=1", rec.id)).into_response()
        }
        Ok(rec) => Redirect::to(&format!("/recommendations/{}", rec.id)).into_response(),
        Err(e) => match form_failure(e) {
            Ok((errors, status)) => again(errors, status).await,
            Err(page) => page,
        },
    }
}

fn parse_id(raw: &str) -> Result<RecommendationId, Response> {
    RecommendationId::parse(raw).map_err(|e| refused(StatusCode::NOT_FOUND, &e.to_string()))
}

/// A draft of the session's organisation, or the page that says why not.
async fn own_draft(
    state: &AppState,
    session: &Session,
    raw: &str,
) -> Result<(String, Recommendation), Response> {
    let org = drafting_org(session)?;
    let id = parse_id(raw)?;
    let rec = services(state, session)
        .recommendation(&id)
        .await
        .map_err(error_response)?;
    if rec.data.issuer.as_str() != org {
        return Err(refused(
            StatusCode::FORBIDDEN,
            &format!(
                "{org} cannot edit recommendations issued by {}.",
                rec.data.issuer
            ),
        ));
    }
    if rec.data.status != Lifecycle::Draft {
        return Err(refused(
            StatusCode::CONFLICT,
            &format!(
                "{id} is {}, not a draft: published recommendations are changed through the API, \
                 with the change recorded in their history.",
                rec.data.status.in_words()
            ),
        ));
    }
    Ok((org, rec))
}

async fn edit_draft(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let Some(session) = &s.0 else {
        return sign_in_first();
    };
    let (org, rec) = match own_draft(&state, session, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let notice = q
        .as_deref()
        .is_some_and(|q| q.contains("saved=1"))
        .then(|| format!("Draft {} saved. Only {org} can see it.", rec.id));
    let form = draft_form_of(&rec);
    draft_page(
        &state,
        session,
        &org,
        Some((&rec.id, rec.version)),
        Some(&form),
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

async fn save_draft(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let (org, rec) = match own_draft(&state, session, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let version = form_version(&form);
    submit_draft(&state, session, &org, Some((&rec.id, version)), &form).await
}

/// The version the person was looking at, not the one stored now: a change
/// made by someone else in between is a conflict, never overwritten (0:
/// none given, which is always a conflict).
fn form_version(form: &Form) -> i64 {
    form.get("version")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0)
}

#[derive(Template)]
#[template(path = "recommendation/check_publish.html")]
struct CheckPublishPage {
    layout: Layout,
    r: crate::web::recommendation::RecordView,
    addressees: Vec<String>,
    issuer: String,
    /// The day it will be published (today, unless the draft names one).
    published: Option<chrono::NaiveDate>,
    /// When its answers will fall due.
    due: Option<chrono::NaiveDate>,
    version: i64,
    feedback: Feedback,
    summary: Vec<(String, String)>,
}

/// The check page of an own draft, for a person who may publish it.
async fn check_publish_page(
    state: &AppState,
    session: &Session,
    rec: &Recommendation,
    summary: Vec<(String, String)>,
    status: StatusCode,
) -> Response {
    let auth = services(state, session);
    if let Err(e) = auth.permit(concord_app::Action::Publish, None) {
        return error_response(e);
    }
    let today = state.services.clock().today();
    let book = match auth.rules_in_force().await {
        Ok(b) => b,
        Err(e) => return error_response(e),
    };
    // As publishing will settle them (`lifecycle::settle_publication`,
    // `settle_deadline`).
    let published = rec.data.published.unwrap_or(today);
    let due = rec.data.response_deadline.unwrap_or_else(|| {
        concord_domain::lifecycle::due_from(published, book.for_issuer(&rec.data.issuer))
    });
    let org = rec.data.issuer.to_string();
    let (body, _) = draft_body(&auth, &draft_form_of(rec), &org).await;
    let feedback = judge(state, session.view.principal.clone(), &body, Some(&rec.id)).await;
    let mut layout = signed_in_layout("Check the recommendation before you publish it", session);
    layout.error = !summary.is_empty();
    let mut res = no_store(render(&CheckPublishPage {
        layout,
        r: crate::web::recommendation::RecordView::of(rec, today, &book),
        addressees: rec
            .data
            .addressees
            .iter()
            .map(crate::web::progress::who)
            .collect(),
        issuer: org,
        published: Some(published),
        // Nobody to answer: nothing falls due.
        due: (!rec.data.addressees.is_empty()).then_some(due),
        version: rec.version,
        feedback,
        summary,
    }));
    *res.status_mut() = status;
    res
}

async fn check_publish(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(raw): Path<String>,
) -> Response {
    let Some(session) = &s.0 else {
        return sign_in_first();
    };
    match own_draft(&state, session, &raw).await {
        Ok((_, rec)) => check_publish_page(&state, session, &rec, Vec::new(), StatusCode::OK).await,
        Err(r) => r,
    }
}

/// Publishes an own draft, as checked: the version the person saw.
async fn publish(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let (_, rec) = match own_draft(&state, session, &raw).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let version = form_version(&form);
    let mut fields = Map::new();
    fields.insert("status".into(), Value::from("published"));
    let edit = RecordEdit {
        version,
        fields,
        override_gate: None,
    };
    match services(&state, session).edit(&rec.id, edit).await
    {
        Ok(done) => {
            Redirect::to(&format!("/recommendations/{}?published=1", done.id)).into_response()
        }
        Err(AppError::Conflict(_)) => {
            check_publish_page(
                &state,
                session,
                &rec,
                vec![(
                    "version".into(),
                    "Someone changed the draft since you checked it. Check it again before you publish it.".into(),
                )],
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => match form_failure(e) {
            Ok((errors, status)) => {
                check_publish_page(&state, session, &rec, errors, status).await
            }
            Err(page) => page,
        },
    }
}

/// The htmx request of the drafting form: the feedback panel again.
async fn feedback(
    State(state): State<AppState>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let org = match drafting_org(session) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let auth = services(&state, session);
    let (json, _) = draft_body(&auth, &form, &org).await;
    // The form of a saved draft names it (a hint only: it can leave out
    // nothing but what the caller may see anyway).
    let saved = form
        .get("saved")
        .and_then(|v| RecommendationId::parse(v.trim()).ok());
    let fb = judge(
        &state,
        session.view.principal.clone(),
        &json,
        saved.as_ref(),
    )
    .await;
    no_store(render(&FeedbackFragment { feedback: fb }))
}

// ------------------------------------------------------------------ moves

/// The moves these pages offer (who may make each is the services' rule).
const PAGE_MOVES: &[MoveKind] = &[
    MoveKind::Respond,
    MoveKind::AddAction,
    MoveKind::Update,
    MoveKind::Assess,
    MoveKind::Close,
];
/// The move a page's address names, if these pages offer it.
fn page_move(name: &str) -> Option<MoveKind> {
    MoveKind::named(name).filter(|k| PAGE_MOVES.contains(k))
}

fn no_such_move() -> Response {
    refused(StatusCode::NOT_FOUND, "There is no such page.")
}

struct MoveTexts {
    heading: String,
    about: &'static str,
    button: &'static str,
}

fn move_texts(mv: MoveKind, addressee: &str) -> MoveTexts {
    match mv {
        MoveKind::Respond => MoveTexts {
            heading: format!("Answer for {addressee}"),
            about: "Say whether you accept the recommendation and what you will do. \
                    The issuer assesses your answer; it is published with the recommendation.",
            button: "Send the answer",
        },
        MoveKind::AddAction => MoveTexts {
            heading: format!("Add an action to {addressee}'s plan"),
            about: "One step of your action plan: what, who owns it and by when.",
            button: "Add the action",
        },
        MoveKind::Update => MoveTexts {
            heading: format!("Record {addressee}'s progress"),
            about: "How far you have got with what you accepted, overall or on one action.",
            button: "Record the progress",
        },
        MoveKind::Assess => MoveTexts {
            heading: format!("Assess {addressee}'s answer"),
            about: "Your judgement of the answer. It is published with the recommendation.",
            button: "Record the assessment",
        },
        _ => MoveTexts {
            heading: format!("Close {addressee}'s part"),
            about: "Closing says why nothing more is expected from this addressee.",
            button: "Close it",
        },
    }
}

fn move_fields(mv: MoveKind, rec: &Recommendation, index: usize) -> Vec<FormField> {
    match mv {
        MoveKind::Respond => vec![
            FormField::radios(
                "acceptance",
                "Do you accept the recommendation?",
                "",
                Acceptance::ALL.iter().map(|a| a.as_str()),
                "Select whether you accept the recommendation",
            ),
            FormField::new(
                "text",
                "Your answer",
                "textarea",
                "What you will do, or why not. It is published.",
            ),
            FormField::new(
                "reasons",
                "Reasons",
                "textarea",
                "Needed if you do not accept it or support another recommendation instead.",
            ),
            FormField::new(
                "received",
                "Date of the answer",
                "date",
                "Leave it blank for today.",
            ),
            FormField::new(
                "url",
                "Link to the published answer",
                "url",
                "If the answer is also published elsewhere, its web address.",
            ),
        ],
        MoveKind::AddAction => vec![
            FormField::new("title", "The action", "text", "What will be done."),
            FormField::new("owner", "Owner", "text", "Who is responsible for it."),
            FormField::new("due", "Due by", "date", ""),
            FormField::new(
                "evidence",
                "Evidence",
                "textarea",
                "Web addresses of evidence, one per line.",
            ),
        ],
        MoveKind::Update => {
            let mut action = FormField::new("action", "Which action", "select", "");
            action
                .options
                .push((String::new(), "The recommendation as a whole".into()));
            if let Some(a) = rec.data.addressees.get(index) {
                for (i, act) in a.actions.iter().enumerate() {
                    action
                        .options
                        .push(((i + 1).to_string(), format!("{}. {}", i + 1, act.title)));
                }
            }
            vec![
                FormField::radios(
                    "implementation",
                    "How far has it got?",
                    "",
                    Implementation::ALL
                        .iter()
                        .filter(|i| **i != Implementation::Verified)
                        .map(|a| a.as_str()),
                    "Select how far it has got",
                ),
                action,
                FormField::new("note", "What has happened", "textarea", ""),
                FormField::new(
                    "evidence",
                    "Evidence",
                    "textarea",
                    "Web addresses of evidence, one per line.",
                ),
            ]
        }
        MoveKind::Assess => vec![
            FormField::radios(
                "verdict",
                "Your assessment of the answer",
                "",
                Assessment::ALL.iter().map(|a| a.as_str()),
                "Select your assessment of the answer",
            ),
            FormField::new(
                "comment",
                "Why",
                "textarea",
                "It is published with the assessment.",
            ),
        ],
        _ => vec![
            FormField::choice(
                "reason",
                "Why is it closed?",
                "",
                ClosureReason::ALL.iter().map(|a| a.as_str()),
                None,
            ),
            FormField::new("note", "Note", "textarea", ""),
        ],
    }
}

/// The fields of each move's form, in order (see [`move_fields`]).
fn move_field_names(mv: MoveKind) -> &'static [&'static str] {
    match mv {
        MoveKind::Respond => &["acceptance", "text", "reasons", "received", "url"],
        MoveKind::AddAction => &["title", "owner", "due", "evidence"],
        MoveKind::Update => &["implementation", "action", "note", "evidence"],
        MoveKind::Assess => &["verdict", "comment"],
        _ => &["reason", "note"],
    }
}

/// The move form as the body of the move (the same as the API's).
fn move_body(mv: MoveKind, form: &Form) -> Value {
    let mut body = Map::new();
    for &name in move_field_names(mv) {
        let v = form.text(name);
        let v = v.trim();
        if name == "evidence" {
            body.insert(
                name.into(),
                Value::Array(lines(v).into_iter().map(Value::String).collect()),
            );
        } else if name == "action" {
            if let Ok(n) = v.parse::<u64>() {
                body.insert("action".into(), Value::from(n));
            }
        } else if !v.is_empty() {
            body.insert(name.into(), Value::String(v.to_string()));
        }
    }
    Value::Object(body)
}

fn move_field_of(path: &str) -> &'static str {
    let head = path.split(['[', '.']).next().unwrap_or(path);
    PAGE_MOVES
        .iter()
        .flat_map(|&m| move_field_names(m).iter())
        .find(|n| **n == head)
        .copied()
        .unwrap_or("")
}

#[derive(Template)]
#[template(path = "move_form.html")]
struct MovePage {
    layout: Layout,
    id: String,
    title: String,
    text: String,
    heading: String,
    about: &'static str,
    button: &'static str,
    action: String,
    fields: Vec<FormField>,
    summary: Vec<(String, String)>,
    /// On the assessment form: the answer being assessed.
    answer: Option<AnswerQuote>,
}

/// The addressee's latest answer, quoted where the issuer judges it.
struct AnswerQuote {
    addressee: String,
    received: Option<chrono::NaiveDate>,
    position: Option<String>,
    paragraphs: Vec<String>,
    reasons: Option<String>,
}

/// The record, the addressee's index and name, or the page that says why
/// this person cannot make this move on it.
async fn move_target(
    state: &AppState,
    session: &Session,
    raw: &str,
    n: &str,
    mv: MoveKind,
) -> Result<(Recommendation, usize, String), Response> {
    let id = parse_id(raw)?;
    let auth = services(state, session);
    let rec = auth.recommendation(&id).await.map_err(error_response)?;
    let index = concord_app::find_addressee(&rec.data, n).map_err(error_response)?;
    // The services' rule (role and standing), asked before the form is
    // offered; the move itself is checked again when it is made.
    auth.may_move(&rec.data, index, mv)
        .map_err(error_response)?;
    let addressee = &rec.data.addressees[index];
    let name = addressee.name.clone();
    Ok((rec, index, name))
}

#[allow(clippy::too_many_arguments)]
fn move_page(
    session: &Session,
    rec: &Recommendation,
    index: usize,
    addressee: &str,
    mv: MoveKind,
    form: Option<&Form>,
    errors: Vec<(String, String)>,
    status: StatusCode,
) -> Response {
    let texts = move_texts(mv, addressee);
    let mut fields = move_fields(mv, rec, index);
    let summary = fill(&mut fields, form, &errors);
    let mut layout = signed_in_layout(&texts.heading, session);
    layout.error = !summary.is_empty();
    let mut res = no_store(render(&MovePage {
        layout,
        id: rec.id.to_string(),
        title: rec.data.title.clone(),
        text: rec.data.text.clone(),
        heading: texts.heading,
        about: texts.about,
        button: texts.button,
        action: format!("/recommendations/{}/addressees/{}/{mv}", rec.id, index + 1),
        fields,
        summary,
        answer: (mv == MoveKind::Assess)
            .then(|| rec.data.addressees.get(index))
            .flatten()
            .and_then(|a| {
                a.responses.last().map(|r| AnswerQuote {
                    addressee: a.name.clone(),
                    received: r.received,
                    position: r.acceptance.map(|x| sentence(&x.in_words())),
                    paragraphs: r
                        .text
                        .as_deref()
                        .map(filters::paragraphs)
                        .unwrap_or_default(),
                    reasons: r.reasons.clone(),
                })
            }),
    }));
    *res.status_mut() = status;
    res
}

async fn move_form(
    State(state): State<AppState>,
    s: MaybeSession,
    Path((raw, n, mv)): Path<(String, String, String)>,
) -> Response {
    let Some(session) = &s.0 else {
        return sign_in_first();
    };
    let Some(mv) = page_move(&mv) else {
        return no_such_move();
    };
    match move_target(&state, session, &raw, &n, mv).await {
        Ok((rec, index, name)) => move_page(
            session,
            &rec,
            index,
            &name,
            mv,
            None,
            Vec::new(),
            StatusCode::OK,
        ),
        Err(r) => r,
    }
}

async fn make_move(
    State(state): State<AppState>,
    Path((raw, n, mv)): Path<(String, String, String)>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let Some(mv) = page_move(&mv) else {
        return no_such_move();
    };
    let (rec, index, name) = match move_target(&state, session, &raw, &n, mv).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let again = |errors: Vec<(String, String)>, status| {
        move_page(session, &rec, index, &name, mv, Some(&form), errors, status)
    };
    // What the form itself can tell: a date that is not one, a choice that
    // is not offered.
    let mut errors = Vec::new();
    for f in move_fields(mv, &rec, index) {
        let v = form.text(f.name);
        let v = v.trim();
        if f.kind == "date"
            && !v.is_empty()
            && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_err()
        {
            errors.push((
                f.name.to_string(),
                format!("{v:?} is not a date: give it as year-month-day, for example 2027-03-31"),
            ));
        }
        if let Some(say) = f.required.filter(|_| v.is_empty()) {
            errors.push((f.name.to_string(), say.to_string()));
        } else if matches!(f.kind, "select" | "radios") && !f.options.iter().any(|(o, _)| o == v) {
            errors.push((f.name.to_string(), "Choose one of the options".to_string()));
        }
    }
    if !errors.is_empty() {
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let parsed = match crate::api::lifecycle::parse_move(mv, move_body(mv, &form)) {
        Ok(m) => m,
        Err(e) => {
            // serde's message names the field: "unknown variant `x`,
            // expected one of ...", "missing field `text`".
            let m = e.message().to_string();
            let field = m
                .split('`')
                .nth(1)
                .map(move_field_of)
                .filter(|f| !f.is_empty())
                .unwrap_or("");
            let field = if field.is_empty() {
                move_fields(mv, &rec, index)
                    .first()
                    .map(|f| f.name)
                    .unwrap_or("")
            } else {
                field
            };
            let shown = if m.contains("missing field") {
                required_message(mv, field)
            } else {
                sentence(&m)
            };
            return again(
                vec![(field.to_string(), shown)],
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
    };
    // An answer is public, in the addressee's name: it is shown to be
    // checked before it is sent ("change" goes back to the form), once the
    // services would accept it.
    let auth = services(&state, session);
    let addressee = (index + 1).to_string();
    let checking = mv == MoveKind::Respond && form.get("confirm") != Some("yes");
    if checking && form.get("confirm") == Some("change") {
        return again(Vec::new(), StatusCode::OK);
    }
    let done = if checking {
        auth.check_move(&rec.id, &addressee, &parsed)
            .await
            .map(|()| None)
    } else {
        auth.apply_move(&rec.id, &addressee, &parsed)
            .await
            .map(Some)
    };
    match done {
        Ok(None) => answer_check_page(session, &rec, index, &name, mv, &form),
        Ok(Some(done)) if mv == MoveKind::Respond => {
            Redirect::to(&format!("/recommendations/{}?answered=1", done.id)).into_response()
        }
        Ok(Some(done)) => Redirect::to(&format!("/recommendations/{}", done.id)).into_response(),

        Err(e @ (AppError::Invalid(_) | AppError::BadInput(_))) => again(
            field_errors(&e, move_field_of),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(AppError::Refused(m)) => again(vec![(String::new(), sentence(&m))], StatusCode::CONFLICT),
        Err(AppError::Conflict(_)) => again(
            vec![(
                String::new(),
                "The recommendation changed while you were filling in the form. Nothing was saved; try again."
                    .into(),
            )],
            StatusCode::CONFLICT,
        ),
        Err(e) => error_response(e),
    }
}

#[derive(Template)]
#[template(path = "answer_check.html")]
struct AnswerCheckPage {
    layout: Layout,
    id: String,
    title: String,
    addressee: String,
    position: String,
    answer: Vec<String>,
    reasons: Option<String>,
    received: Option<chrono::NaiveDate>,
    url: Option<String>,
    action: String,
    /// The form's fields, carried to the send (or back to the form).
    carried: Vec<(&'static str, String)>,
}

/// The answer as it will be sent, to be checked (a valid form).
fn answer_check_page(
    session: &Session,
    rec: &Recommendation,
    index: usize,
    addressee: &str,
    mv: MoveKind,
    form: &Form,
) -> Response {
    let text = |n: &str| Some(form.text(n).trim().to_string()).filter(|v| !v.is_empty());
    let layout = signed_in_layout("Check your answer before you send it", session);
    no_store(render(&AnswerCheckPage {
        layout,
        id: rec.id.to_string(),
        title: rec.data.title.clone(),
        addressee: addressee.to_string(),
        position: sentence(&words(&form.text("acceptance"))),
        answer: filters::paragraphs(&form.text("text")),
        reasons: text("reasons"),
        received: text("received")
            .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        url: text("url"),
        action: format!("/recommendations/{}/addressees/{}/{mv}", rec.id, index + 1),
        carried: move_field_names(mv)
            .iter()
            .map(|&n| (n, form.text(n)))
            .collect(),
    }))
}

/// What to say when a required field of a move is left empty, in the
/// service manual's words ("Enter ...", "Select ...").
fn required_message(mv: MoveKind, field: &str) -> String {
    match (mv, field) {
        (MoveKind::Respond, "text") => "Enter your answer".into(),
        (MoveKind::AddAction, "title") => "Enter the action".into(),
        (MoveKind::Assess, "comment") => "Enter why you judge the answer so".into(),
        (MoveKind::Close, "reason") => "Select why this part is closed".into(),
        (_, "") => "Enter the missing answer".into(),
        (_, other) => format!("Enter the {}", words(other)),
    }
}

// ----------------------------------------------------- the record's page

/// The endorse / withdraw form of a recommendation's page.
async fn endorse(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let auth = services(&state, session);
    let done = if form.get("action") == Some("withdraw") {
        auth.withdraw_endorsement(&id).await
    } else {
        let note = form.text("note");
        auth.endorse(&id, Some(&note)).await.map(|_| ())
    };
    match done {
        Ok(()) => Redirect::to(&format!("/recommendations/{id}#endorsed-by")).into_response(),
        Err(e) => error_response(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_errors_land_on_their_fields() {
        use concord_domain::FieldError;
        let e = field_errors(
            &AppError::invalid_fields(vec![
                FieldError::new("cost.one_off", "must be a number"),
                FieldError::new("addressees[1].name", "is empty"),
            ]),
            draft_field_of,
        );
        assert_eq!(e[0].0, "cost_one_off");
        assert_eq!(e[1], ("addressees".into(), "Is empty".into()));
        let e = field_errors(
            &AppError::invalid_field("colour", "unknown"),
            draft_field_of,
        );
        assert_eq!(e, vec![(String::new(), "colour: unknown".into())]);
        let e = field_errors(&AppError::invalid("the draft has no text"), draft_field_of);
        assert_eq!(e, vec![(String::new(), "The draft has no text".into())]);
        // A request that cannot be read at all is one problem of the whole.
        let e = field_errors(
            &AppError::BadInput("the body is not JSON".into()),
            draft_field_of,
        );
        assert_eq!(e, vec![(String::new(), "The body is not JSON".into())]);
    }

    #[test]
    fn a_move_form_becomes_the_move() {
        let form = Form::from_pairs(vec![
            ("acceptance".into(), "accepted".into()),
            ("text".into(), "  We will.  ".into()),
            ("reasons".into(), "".into()),
            ("csrf".into(), "x".into()),
        ]);
        let body = move_body(MoveKind::Respond, &form);
        assert_eq!(
            body,
            serde_json::json!({"acceptance": "accepted", "text": "We will."})
        );
        let form = Form::from_pairs(vec![
            ("implementation".into(), "in_progress".into()),
            ("action".into(), "2".into()),
            (
                "evidence".into(),
                "https://a.example\n\n https://b.example ".into(),
            ),
        ]);
        assert_eq!(
            move_body(MoveKind::Update, &form),
            serde_json::json!({"implementation": "in_progress", "action": 2,
                "evidence": ["https://a.example", "https://b.example"]})
        );
    }

    #[test]
    fn each_move_form_has_the_fields_its_body_reads() {
        let rec: Recommendation = serde_json::from_value(serde_json::json!({
            "id": "CQC-2024-0001", "issuer": "CQC", "kind": "recommendation",
            "status": "published", "title": "t", "text": "x", "version": 1,
            "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"
        }))
        .unwrap();
        for &mv in PAGE_MOVES {
            let shown: Vec<&str> = move_fields(mv, &rec, 0).iter().map(|f| f.name).collect();
            assert_eq!(shown, move_field_names(mv), "{mv}");
        }
        assert_eq!(move_field_of("evidence[2]"), "evidence");
        assert_eq!(move_field_of("colour"), "");
    }

    #[test]
    fn fields_describe_their_hint_and_error() {
        let mut f = FormField::new("text", "Text", "textarea", "hint");
        assert_eq!(f.described_by(), "text-hint");
        f.error = Some("bad".into());
        assert_eq!(f.described_by(), "text-hint text-error");
        f.hint = String::new();
        f.error = None;
        assert_eq!(f.described_by(), "");
        assert_eq!(sentence("accepted in principle"), "Accepted in principle");
    }
}
