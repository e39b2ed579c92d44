//! "Your work": each queue the person works, a few items of each, and one
//! queue page by page.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use concord_app::{AppError, Authorized, Page, WorkQueue};
use concord_domain::account::Role;
use concord_domain::{AddresseeStatus, Recommendation};

use super::common::{services, sign_in_first, signed_in_layout};
use crate::AppState;
use crate::web::error::{error_response, refused};
use crate::web::extract::{MaybeSession, no_store};
use crate::web::filters;
use crate::web::filters::sentence;
use crate::web::layout::{Layout, render};

/// Items per queue on "Your work", and per page of one queue.
const QUEUE_PREVIEW: u64 = 5;
const QUEUE_PAGE: u64 = 25;

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

pub(super) async fn work(State(state): State<AppState>, s: MaybeSession) -> Response {
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

pub(super) async fn queue_page(
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
