//! The "Also said by", "Contradicted by" and "Similar recommendations"
//! sections of a recommendation's page: stored links and the similarity
//! engine's matches combined (`Authorized::related`), dismissed pairs never
//! shown, suggestions marked as such. Every value is escaped; no scripts.

use std::fmt::Write;
use std::sync::Arc;

use concord_app::{Principal, RelatedItem, Services};
use concord_domain::{LinkState, RecommendationId};

use crate::pages::esc;

fn item(m: &mut String, i: &RelatedItem) {
    let score = i
        .score
        .map(|s| format!(" <span class=\"score\">{s:.2}</span>"))
        .unwrap_or_default();
    let state = match i.state {
        LinkState::Confirmed => "confirmed",
        _ => "suggested",
    };
    let _ = writeln!(
        m,
        "<li class=\"related {state}\"><a href=\"/recommendations/{id}\">{id}</a> \
         <span class=\"issuer\">{issuer}</span> {title} <span class=\"kind\">({kind}, {state})</span>{score}\
         <br><span class=\"reason\">{reason}</span></li>",
        id = esc(&i.id),
        issuer = esc(&i.issuer),
        title = esc(&i.title),
        kind = esc(&i.kind.as_str().replace('_', " ")),
        reason = esc(&i.reason),
    );
}

/// How long a page waits for the similarity index's first build.
const FIRST_BUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The sections for one record, as the visitor may see them; empty when
/// nothing relates to it (or the engine cannot answer: the page still shows).
pub(crate) async fn sections(
    services: &Arc<Services>,
    who: Principal,
    id: &RecommendationId,
) -> String {
    let view = if services.similar_built() {
        services.as_principal(who).related(id).await
    } else {
        // The first question builds the similarity index: milliseconds on a
        // small register, minutes at a million records. The build runs on
        // its own task (a page that stops waiting does not cancel it) and
        // the page waits a little for it, then shows itself without.
        let (svc, id2) = (services.clone(), id.clone());
        let task = tokio::spawn(async move { svc.as_principal(who).related(&id2).await });
        match tokio::time::timeout(FIRST_BUILD_WAIT, task).await {
            Ok(Ok(view)) => view,
            _ => {
                return "<section class=\"similar\">\n<h2>Similar recommendations</h2>\n\
                        <p>Duplicates, contradictions and similar recommendations are \
                        still being worked out for the whole register. Reload this page \
                        in a few minutes to see them.</p>\n</section>\n"
                    .to_string();
            }
        }
    };
    let Ok(view) = view else {
        return String::new();
    };
    let mut m = String::new();
    for (heading, class, list) in [
        ("Also said by", "also-said-by", &view.also_said_by),
        ("Contradicted by", "contradicted-by", &view.contradicted_by),
        ("Similar recommendations", "similar", &view.related),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(m, "<section class=\"{class}\">\n<h2>{heading}</h2>\n<ul>");
        for i in list {
            item(&mut m, i);
        }
        m.push_str("</ul>\n</section>\n");
    }
    m
}
