//! The frame every page shares (`templates/base.html`): what it needs to
//! know about the page it wraps. Each page's template struct holds a
//! [`Layout`] in a field named `layout`.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::session::SignedInHeader;
use crate::web::asset_files;

/// An Atom feed the page can be followed by.
#[derive(Debug, Clone)]
pub struct Feed {
    pub path: String,
    /// What the feed tells, e.g. "responses and status changes".
    pub about: String,
}

/// One entry of the header's menu.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The menu, in order: (address, label).
const NAV: &[(&str, &str)] = &[
    ("/", "Home"),
    ("/search", "Search"),
    ("/dashboard", "Dashboard"),
    ("/workstreams", "Ongoing work"),
];

#[derive(Debug, Clone)]
pub struct Layout {
    /// The page's own title (" – Concord" follows it in the browser's tab).
    pub title: String,
    /// The assets' version, part of their addresses.
    pub assets: &'static str,
    /// What the header's search box shows (the current search, if any).
    pub query: String,
    pub feed: Option<Feed>,
    /// The menu entry this page belongs to (its address).
    pub section: Option<&'static str>,
    /// The form token of a signed-in session, for `templates/csrf.html`.
    pub csrf: Option<String>,
    /// An error page: the title says so first, as the design system asks.
    pub error: bool,
    /// Who is signed in (the header's account links and sign-out button).
    pub signed_in: Option<SignedInHeader>,
}

impl Layout {
    pub fn new(title: impl Into<String>) -> Self {
        Layout {
            title: title.into(),
            assets: asset_files::VERSION,
            query: String::new(),
            feed: None,
            section: None,
            csrf: None,
            error: false,
            signed_in: crate::session::signed_in(),
        }
    }

    pub fn section(mut self, href: &'static str) -> Self {
        self.section = Some(href);
        self
    }

    pub fn feed(mut self, path: impl Into<String>, about: impl Into<String>) -> Self {
        self.feed = Some(Feed {
            path: path.into(),
            about: about.into(),
        });
        self
    }

    pub fn nav(&self) -> Vec<NavItem> {
        let mut items: Vec<(&'static str, &'static str)> = NAV.to_vec();
        match &self.signed_in {
            // Signed out: the way in.
            None => items.push(("/sign-in", "Sign in")),
            Some(s) if s.has_work => items.push(("/work", "Your work")),
            Some(_) => {}
        }
        items
            .into_iter()
            .map(|(href, label)| NavItem {
                href,
                label,
                current: self.section == Some(href),
            })
            .collect()
    }
}

/// Renders a template as a page. A template that fails to render is a bug
/// of ours: it is logged and the visitor gets a plain error page.
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(detail = %e, "a page template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(
                    "<!DOCTYPE html><html lang=\"en-GB\"><title>Error – Concord</title>\
                     <h1>Sorry, there is a problem with the service</h1></html>",
                ),
            )
                .into_response()
        }
    }
}
