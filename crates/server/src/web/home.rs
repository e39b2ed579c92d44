//! The home page (`templates/home.html`): what the register holds and the
//! newest published recommendations, read as an anonymous visitor.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use concord_app::{Page, Principal, RecommendationFilter};
use concord_domain::Lifecycle;

use crate::AppState;
use crate::web::error::PageError;
use crate::web::filters;
use crate::web::layout::Layout;

/// How many of the newest recommendations the home page lists.
pub const RECENT: u64 = 20;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(home))
}

async fn home(State(state): State<AppState>) -> Result<Response, PageError> {
    let auth = state.services.as_principal(Principal::Anonymous);
    let filter = RecommendationFilter {
        status: Some(Lifecycle::Published),
        ..Default::default()
    };
    let first = Page {
        offset: 0,
        limit: RECENT,
    };
    // The services answer from the search index when it has caught up
    // (milliseconds at a million records), else from the database.
    let recent = auth.recommendations(filter, first).await?;
    let mut layout = Layout::new("NHS patient-safety recommendations").section("/");
    layout = layout.feed(
        "/feeds/recommendations.atom",
        "new recommendations, responses and status changes",
    );
    Ok(crate::web::layout::render(&HomePage {
        layout,
        total: recent.total,
        recent: recent
            .items
            .iter()
            .map(|r| RecentRow {
                id: r.id.to_string(),
                issuer: r.data.issuer.to_string(),
                title: r.data.title.clone(),
                published: r.data.published,
            })
            .collect(),
    }))
}

struct RecentRow {
    id: String,
    issuer: String,
    title: String,
    published: Option<NaiveDate>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    /// Published recommendations in the register.
    total: u64,
    recent: Vec<RecentRow>,
}
