//! An addressee's moves, each a form: answering a recommendation (checked
//! before it is sent), adding an action, recording progress, and the
//! issuer's assessing and closing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use concord_app::AppError;
use concord_domain::Recommendation;
use concord_domain::lifecycle::{Acceptance, Assessment, ClosureReason, Implementation, MoveKind};
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

pub(super) async fn move_form(
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

pub(super) async fn make_move(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
