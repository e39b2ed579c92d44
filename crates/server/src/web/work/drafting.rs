//! Drafting a recommendation: the form (new, and editing an own draft),
//! the live feedback beside it (the quality criteria and similar
//! recommendations), and the check before publishing through the issuer's
//! gate.

use std::time::Duration;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use concord_app::{AppError, Authorized, NewRecord, Principal, RecordEdit};
use concord_domain::account::Role;
use concord_domain::model::{EqualityDirection, EvidenceKind, EvidenceStrength, Risk};
use concord_domain::{Lifecycle, Recommendation, RecommendationId};
use serde_json::{Map, Value};

use super::common::{parse_id, services, sign_in_first, signed_in_layout};
use super::fields::{FormField, field_errors, fill, lines};
use crate::AppState;
use crate::session::Session;
use crate::web::error::{error_response, refused};
use crate::web::extract::{Form, MaybeSession, SignedForm, no_store};
use crate::web::filters;
use crate::web::filters::{sentence, words};
use crate::web::layout::{Layout, render};

/// How many similar recommendations the drafting page shows.
const SIMILAR_SHOWN: usize = 8;
/// How long the drafting page waits for the similarity index's first build.
const FIRST_BUILD_WAIT: Duration = Duration::from_secs(3);

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

fn comma_list(text: &str) -> Vec<Value> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Value::String(s.to_string()))
        .collect()
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

pub(super) async fn new_draft(State(state): State<AppState>, s: MaybeSession) -> Response {
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

pub(super) async fn create_draft(
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

pub(super) async fn edit_draft(
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

pub(super) async fn save_draft(
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

pub(super) async fn check_publish(
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
pub(super) async fn publish(
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
pub(super) async fn feedback(
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
}
