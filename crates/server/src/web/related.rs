//! The "Also said by", "Contradicted by" and "Similar recommendations"
//! sections of a recommendation's page (`templates/recommendation/
//! related.html`): stored links and the similarity engine's matches
//! combined (`Authorized::related`), dismissed pairs never shown,
//! suggestions marked as such.

use std::sync::Arc;

use concord_app::{Principal, RelatedItem, Services};
use concord_domain::{LinkKind, LinkState, RecommendationId};

/// One related record, as the page shows it.
pub(crate) struct RelatedRow {
    pub id: String,
    pub issuer: String,
    pub title: String,
    /// How it relates, in words ("says the same", "contradicts it", ...).
    pub relation: &'static str,
    /// `confirmed` or `suggested` (also its class).
    pub state: &'static str,
    pub reason: String,
}

pub(crate) struct RelatedSection {
    pub heading: &'static str,
    pub class: &'static str,
    pub items: Vec<RelatedRow>,
}

/// What the page shows of related records.
#[derive(Default)]
pub(crate) struct Related {
    /// The similarity index is still being built for the first time.
    pub pending: bool,
    /// Only the sections with something in them.
    pub sections: Vec<RelatedSection>,
}

fn row(i: &RelatedItem) -> RelatedRow {
    RelatedRow {
        id: i.id.clone(),
        issuer: i.issuer.clone(),
        title: i.title.clone(),
        relation: match i.kind {
            LinkKind::Duplicates => "says the same",
            LinkKind::Supports => "supports it",
            LinkKind::Contradicts => "contradicts it",
            LinkKind::Supersedes => "supersedes it",
            LinkKind::BuildsOn => "builds on it",
            LinkKind::Related => "is related",
        },
        state: match i.state {
            LinkState::Confirmed => "confirmed",
            _ => "suggested",
        },
        reason: i.reason.clone(),
    }
}

/// How long a page waits for the similarity index's first build.
const FIRST_BUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// The sections for one record, as the visitor may see them; none when
/// nothing relates to it (or the engine cannot answer: the page still shows).
pub(crate) async fn sections(
    services: &Arc<Services>,
    who: Principal,
    id: &RecommendationId,
) -> Related {
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
                return Related {
                    pending: true,
                    sections: Vec::new(),
                };
            }
        }
    };
    let Ok(view) = view else {
        return Related::default();
    };
    let sections = [
        ("Also said by", "also-said-by", &view.also_said_by),
        ("Contradicted by", "contradicted-by", &view.contradicted_by),
        ("Similar recommendations", "similar", &view.related),
    ]
    .into_iter()
    .filter(|(_, _, list)| !list.is_empty())
    .map(|(heading, class, list)| RelatedSection {
        heading,
        class,
        items: list.iter().map(row).collect(),
    })
    .collect();
    Related {
        pending: false,
        sections,
    }
}
