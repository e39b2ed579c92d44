//! A provider's priority list as a page (`/organisations/{code}/priorities`,
//! public like its API twin), and the form with which the provider's own
//! people say what it is (kind of provider, care settings, region).

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use concord_app::{AppError, Principal};
use concord_domain::OrgCode;
use concord_domain::ProviderKind;
use concord_domain::priority::ProviderProfile;

use crate::AppState;
use crate::session::Session;
use crate::web::error::{error_response, refused};
use crate::web::extract::{Form, MAX_FORM_BYTES, MaybeSession, SignedForm};
use crate::web::filters;
use crate::web::filters::words;
use crate::web::layout::{Layout, render};
use crate::web::work::{FormField, fill};

/// Items on a page of the list; the pages and the downloads go as far as
/// the service's longest list.
const SHOWN: usize = 50;
const MAX_PAGES: usize = concord_app::MAX_PRIORITIES.div_ceil(SHOWN);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/organisations/{code}/priorities", get(page))
        .route(
            "/organisations/{code}/profile",
            post(save_profile).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
}

struct ItemView {
    first: String,
    ids: Vec<String>,
    others: Vec<String>,
    title: String,
    score: String,
    reach: String,
    issuers: String,
    endorsed_by: String,
    why: Vec<String>,
    /// When the provider's own answer fell due, if it is overdue.
    overdue_since: Option<chrono::NaiveDate>,
}

#[derive(Template)]
#[template(path = "priorities.html")]
struct PrioritiesPage {
    layout: Layout,
    code: String,
    name: String,
    kind_words: String,
    settings: String,
    stored: bool,
    as_of: chrono::NaiveDate,
    considered: usize,
    /// Items in the whole list, and which of them this page shows (from
    /// 1, inclusive).
    ranked: usize,
    first_shown: usize,
    last_shown: usize,
    /// How far pages and downloads go, and whether the list goes on past it.
    listed: usize,
    cut: bool,
    page: usize,
    pages: usize,
    prev_href: Option<String>,
    next_href: Option<String>,
    items: Vec<ItemView>,
    can_edit: bool,
    fields: Vec<FormField>,
    summary: Vec<(String, String)>,
    /// What the score is made of: (what, its share in percent), largest
    /// first.
    weights: Vec<(&'static str, u32)>,
}

/// The page of an organisation that has not said what kind of provider it
/// is, so that no list can be made for it yet.
#[derive(Template)]
#[template(path = "priorities_unknown_kind.html")]
struct UnknownKindPage {
    layout: Layout,
    code: String,
    name: String,
    can_edit: bool,
    fields: Vec<FormField>,
    summary: Vec<(String, String)>,
}

/// The parts of an item's score in words, with their weights.
fn weights() -> Vec<(&'static str, u32)> {
    let w = concord_domain::priority::PriorityRules::builtin().weights;
    let pct = |x: f64| (x * 100.0).round() as u32;
    let mut v = vec![
        (
            "how directly it reaches you (addressed to you by name, to your kind of provider, or to your care settings nationally)",
            pct(w.reach),
        ),
        ("the risk to patients the issuer gave it", pct(w.risk)),
        (
            "how soon an answer is due, and whether it is overdue",
            pct(w.deadline),
        ),
        (
            "how many bodies say the same or stand behind it",
            pct(w.support),
        ),
        (
            "whether it says what changes for patients",
            pct(w.patient_impact),
        ),
        ("the strength of the evidence behind it", pct(w.evidence)),
        ("what it would cost, when that is given", pct(w.cost)),
    ];
    v.sort_by_key(|x| std::cmp::Reverse(x.1));
    v
}

/// Whether this person may say what the organisation is (its respondents,
/// as for the API).
fn may_edit(session: Option<&Session>, code: &OrgCode) -> bool {
    session.is_some_and(|s| {
        concord_app::permit(
            &s.view.principal,
            concord_app::Action::DescribeProvider,
            Some(code),
        )
        .is_ok()
    })
}

/// The profile form, filled from `p` (or blank, the kind not chosen, for a
/// provider that has not said what it is).
fn profile_fields(p: Option<&ProviderProfile>) -> Vec<FormField> {
    let mut kind = FormField::choice(
        "kind",
        "Kind of provider",
        "",
        ProviderKind::ALL.iter().map(|k| k.as_str()),
        p.is_none().then_some("Choose the kind of provider"),
    );
    let mut settings = FormField::new(
        "settings",
        "Care settings it runs",
        "text",
        "Separated by commas, for example: emergency department, maternity unit. Leave it blank for the usual settings of its kind.",
    );
    let mut region = FormField::new(
        "region",
        "Region",
        "text",
        "For example: North East and Yorkshire.",
    );
    if let Some(p) = p {
        kind.value = p.kind.as_str().to_string();
        settings.value = p.settings.join(", ");
        region.value = p.region.clone().unwrap_or_default();
    }
    vec![kind, settings, region]
}

async fn render_page(
    state: &AppState,
    session: Option<&Session>,
    code: &OrgCode,
    page: usize,
    form: Option<&Form>,
    errors: Vec<(String, String)>,
    status: StatusCode,
) -> Response {
    let who = session
        .map(|s| s.view.principal.clone())
        .unwrap_or(Principal::Anonymous);
    let auth = state.services.as_principal(who);
    let page = page.clamp(1, MAX_PAGES);
    let can_edit = may_edit(session, code);
    let list = match auth.priorities(code, page * SHOWN).await {
        Ok(l) => l,
        // An organisation that is no known kind of provider and has not
        // said what it is has no list yet (the one refusal `priorities`
        // makes for a known organisation): the page says so and offers its
        // own people the form (the API's answer names the command and the
        // call).
        Err(AppError::Invalid(_)) => {
            let known = match auth.organisation(code).await {
                Ok(o) => o,
                Err(e) => return error_response(e),
            };
            let mut fields = profile_fields(None);
            let summary = if can_edit {
                fill(&mut fields, form, &errors)
            } else {
                Vec::new()
            };
            let mut layout = Layout::new(format!("Priorities for {}", known.name));
            if let Some(s) = session {
                layout.csrf = Some(s.view.csrf.clone());
            }
            layout.error = !summary.is_empty();
            let mut res = render(&UnknownKindPage {
                layout,
                code: code.to_string(),
                name: known.name,
                can_edit,
                fields,
                summary,
            });
            *res.status_mut() = status;
            return res;
        }
        Err(e) => return error_response(e),
    };
    let listed = list.ranked.min(concord_app::MAX_PRIORITIES);
    let pages = listed.div_ceil(SHOWN).max(1);
    // A page past the end shows the last one.
    let page = page.min(pages);
    let href = |p: usize| format!("/organisations/{code}/priorities?page={p}");
    let mut fields = profile_fields(Some(&list.profile));
    let summary = if can_edit {
        fill(&mut fields, form, &errors)
    } else {
        Vec::new()
    };
    let items: Vec<ItemView> = list
        .items
        .iter()
        .skip((page - 1) * SHOWN)
        .map(|i| ItemView {
            first: i.ids.first().cloned().unwrap_or_default(),
            others: i.ids.iter().skip(1).cloned().collect(),
            ids: i.ids.clone(),
            title: i.title.clone(),
            score: format!("{:.2}", i.score),
            reach: match i.reach.as_str() {
                "direct" => "addressed to it".to_string(),
                "same_kind" => "addressed to providers of its kind".to_string(),
                "setting" => "about its care settings".to_string(),
                other => words(other),
            },
            issuers: i.issuers.join(", "),
            endorsed_by: i.endorsed_by.join(", "),
            why: i.why.clone(),
            overdue_since: i.overdue_since,
        })
        .collect();
    let first_shown = (page - 1) * SHOWN + 1;
    let last_shown = first_shown + items.len().saturating_sub(1);
    let mut layout = Layout::new(format!("Priorities for {}", list.name)).feed(
        format!("/feeds/organisations/{code}/priorities.atom"),
        "changes to this priority list",
    );
    if let Some(s) = session {
        layout.csrf = Some(s.view.csrf.clone());
    }
    layout.error = !summary.is_empty();
    let mut res = render(&PrioritiesPage {
        layout,
        code: code.to_string(),
        name: list.name.clone(),
        kind_words: list.profile.kind.in_words(),
        settings: list.profile.settings.join(", "),
        stored: list.profile_stored,
        as_of: list.as_of,
        considered: list.considered,
        ranked: list.ranked,
        first_shown,
        last_shown,
        listed,
        cut: list.ranked > listed,
        page,
        pages,
        prev_href: (page > 1).then(|| href(page - 1)),
        next_href: (page < pages).then(|| href(page + 1)),
        items,
        can_edit,
        fields,
        summary,
        weights: weights(),
    });
    *res.status_mut() = status;
    res
}

fn parse_code(raw: &str) -> Option<OrgCode> {
    OrgCode::parse(raw).ok()
}

fn no_such_organisation() -> Response {
    refused(
        StatusCode::NOT_FOUND,
        "There is no organisation with this code.",
    )
}

#[derive(serde::Deserialize)]
struct PageQuery {
    /// Kept as text: a page number that is not one shows the first page.
    page: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let Some(code) = parse_code(&raw) else {
        return no_such_organisation();
    };
    let page = q
        .page
        .and_then(|p| p.trim().parse::<usize>().ok())
        .unwrap_or(1);
    render_page(
        &state,
        s.0.as_ref(),
        &code,
        page,
        None,
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

async fn save_profile(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    SignedForm(session, form): SignedForm,
) -> Response {
    let session = &session;
    let Some(code) = parse_code(&raw) else {
        return no_such_organisation();
    };
    let kind = match form.text("kind").parse::<ProviderKind>() {
        Ok(k) => k,
        Err(_) => {
            return render_page(
                &state,
                Some(session),
                &code,
                1,
                Some(&form),
                vec![("kind".into(), "Choose one of the options".into())],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let region = form.text("region").trim().to_string();
    let profile = ProviderProfile {
        org: code.clone(),
        kind,
        settings: form
            .text("settings")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        region: (!region.is_empty()).then_some(region),
    };
    // The same service as PUT /api/v1/organisations/{code}/profile.
    match state
        .services
        .as_principal(session.view.principal.clone())
        .set_provider_profile(profile)
        .await
    {
        Ok(_) => Redirect::to(&format!("/organisations/{code}/priorities")).into_response(),
        Err(e @ AppError::Invalid(_)) => {
            let (field, message) = match e.field_errors().first() {
                Some(f) if f.field.contains("region") => ("region", f.message.clone()),
                Some(f) => ("settings", f.message.clone()),
                None => ("settings", e.public_message()),
            };
            render_page(
                &state,
                Some(session),
                &code,
                1,
                Some(&form),
                vec![(field.into(), message)],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => error_response(e),
    }
}
