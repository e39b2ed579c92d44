//! One page per recommendation and its history, each an askama template
//! (`templates/recommendation/`, `templates/history.html`) filled from a
//! view of the record. Links to outside addresses are made only for http(s)
//! URLs.
//!
//! Pages are read as an anonymous visitor unless someone is signed in: then
//! the record page also shows their organisation's drafts and what they
//! can do with the record.

use askama::Template;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::NaiveDate;
use concord_app::{Authorized, Principal};
use concord_domain::account::Role;
use concord_domain::lifecycle::MoveKind;
use concord_domain::{
    AddresseeStatus, Lifecycle, Recommendation, RecommendationData, RecommendationId, Reference,
};

use crate::AppState;
use crate::session::Session;
use crate::web::error::PageError;
use crate::web::extract::MaybeSession;
use crate::web::filters;
use crate::web::filters::words;
use crate::web::layout::Layout;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/recommendations/{id}", get(recommendation))
        .route("/recommendations/{id}/history", get(history))
}

async fn recommendation(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(raw): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, PageError> {
    let id = RecommendationId::parse(&raw)
        .map_err(|e| PageError::new(StatusCode::NOT_FOUND, e.to_string()))?;
    // Signed in, a person also sees their organisation's drafts, and what
    // they can do with the record.
    let who =
        s.0.as_ref()
            .map(|s| s.view.principal.clone())
            .unwrap_or(Principal::Anonymous);
    let auth = state.services.as_principal(who.clone());
    let rec = auth.recommendation(&id).await?;
    let endorsements = auth.endorsements_of(&rec).await?;
    let endorsers: Vec<concord_domain::OrgCode> =
        endorsements.iter().map(|e| e.org.clone()).collect();
    let actions = record_actions(&auth, &rec, s.0.as_ref(), &endorsers);
    let related = crate::web::related::sections(&state.services, who, &rec.id).await;
    let book = auth.rules_in_force().await?;
    let mut layout = Layout::new(format!("{} {}", rec.id, rec.data.title)).feed(
        format!("/feeds/recommendations/{}.atom", rec.id),
        "responses and status changes of this recommendation",
    );
    layout.csrf = s.0.as_ref().map(|s| s.view.csrf.clone());
    // Just published, or just answered: say so, once, at the top.
    let said = |flag: &str| {
        s.0.is_some()
            && query
                .as_deref()
                .is_some_and(|q| q.split('&').any(|p| p == flag))
    };
    let banner = if said("published=1") && rec.data.status == Lifecycle::Published {
        Some(Banner {
            heading: format!("Recommendation {} published", rec.id),
            text: if rec.data.addressees.is_empty() {
                "It is public now.".into()
            } else {
                "It is public now, and each addressee is asked to answer by the date below.".into()
            },
        })
    } else if said("answered=1") {
        Some(Banner {
            heading: "Your answer was sent".into(),
            text: "It is published with the recommendation, below; the issuer assesses it.".into(),
        })
    } else {
        None
    };
    Ok(crate::web::layout::render(&RecommendationPage {
        layout,
        banner,
        r: RecordView::of(&rec, state.services.clock().today(), &book),
        provenance: (!rec.provenance.is_empty()).then(|| ProvenanceSection::of(&rec)),
        endorsements: endorsements
            .iter()
            .map(|e| EndorsementRow {
                org: e.org.to_string(),
                on: e.at.date_naive(),
                note: e.note.clone(),
            })
            .collect(),
        actions,
        related,
    }))
}

#[derive(Template)]
#[template(path = "recommendation/page.html")]
struct RecommendationPage {
    layout: Layout,
    /// What the signed-in person has just done with it, said once.
    banner: Option<Banner>,
    r: RecordView,
    provenance: Option<ProvenanceSection>,
    endorsements: Vec<EndorsementRow>,
    actions: Option<RecordActions>,
    related: crate::web::related::Related,
}

/// A success banner at the top of the page.
struct Banner {
    heading: String,
    text: String,
}

/// A body that stands behind the recommendation.
struct EndorsementRow {
    org: String,
    on: NaiveDate,
    note: Option<String>,
}

/// A link of the record to another one, as the page shows it.
struct LinkRow {
    kind: String,
    /// The other record's id when it is in Concord (then a link).
    concord_id: Option<String>,
    target: String,
    /// Shown unless confirmed.
    state: Option<String>,
}

/// Where the recommendation was published.
struct SourceView {
    url: Option<String>,
    title: String,
    local_ref: Option<String>,
    date: Option<NaiveDate>,
}

/// A recommendation as its page shows it (`templates/recommendation/
/// record.html`).
pub(crate) struct RecordView {
    pub(crate) id: String,
    pub(crate) title: String,
    issuer: String,
    kind: String,
    status: String,
    published: Option<NaiveDate>,
    local_ref: Option<String>,
    level: Option<String>,
    risk: Option<String>,
    response_deadline: Option<NaiveDate>,
    pub(crate) paragraphs: Vec<String>,
    addressees: Vec<crate::web::progress::AddresseeView>,
    themes: Vec<String>,
    settings: Vec<String>,
    links: Vec<LinkRow>,
    source: Option<SourceView>,
    evidence: Option<String>,
    patient_impact: Option<String>,
    cost: Option<String>,
    equality: Option<String>,
    version: i64,
    updated: NaiveDate,
}

impl RecordView {
    pub(crate) fn of(
        rec: &Recommendation,
        today: NaiveDate,
        book: &concord_domain::lifecycle::RulesBook,
    ) -> Self {
        let d: &RecommendationData = &rec.data;
        let evidence = d.evidence.as_ref().map(|ev| {
            let mut parts = Vec::new();
            if let Some(k) = ev.kind {
                parts.push(k.in_words());
            }
            if let Some(s) = ev.strength {
                parts.push(format!("strength: {}", s.as_str()));
            }
            parts.extend(ev.references.iter().cloned());
            parts.join("; ")
        });
        let cost = d.cost.as_ref().map(|c| {
            let mut parts = Vec::new();
            if let Some(v) = c.one_off {
                parts.push(format!("{} one-off", filters::money(&c.currency, v)));
            }
            if let Some(v) = c.recurring {
                parts.push(format!("{} a year", filters::money(&c.currency, v)));
            }
            if let Some(conf) = c.confidence {
                parts.push(format!("{} confidence", conf.as_str()));
            }
            if let Some(ce) = &c.cost_effectiveness {
                parts.push(ce.clone());
            }
            parts.join("; ")
        });
        let equality = d.equality.as_ref().map(|eq| {
            let mut parts = Vec::new();
            if !eq.groups.is_empty() {
                parts.push(format!("Groups: {}.", eq.groups.join(", ")));
            }
            parts.push(format!(
                "Effect on inequalities: {}.",
                eq.direction.as_str()
            ));
            if let Some(x) = &eq.mitigation {
                parts.push(format!("Mitigation: {x}"));
            }
            parts.join(" ")
        });
        RecordView {
            id: rec.id.to_string(),
            title: d.title.clone(),
            issuer: d.issuer.to_string(),
            kind: d.kind.as_str().to_string(),
            status: d.status.as_str().to_string(),
            published: d.published,
            local_ref: d.local_ref.clone(),
            level: d.level.map(|l| l.as_str().to_string()),
            risk: d.risk.map(|r| r.as_str().to_string()),
            response_deadline: d.response_deadline,
            paragraphs: filters::paragraphs(&d.text),
            addressees: crate::web::progress::addressees(d, today, book),
            themes: d.themes.clone(),
            settings: d.settings.clone(),
            links: d
                .links
                .iter()
                .map(|l| LinkRow {
                    kind: l.kind.as_str().to_string(),
                    concord_id: Reference::parse(&l.target)
                        .ok()
                        .and_then(|r| r.concord_id())
                        .map(|id| id.to_string()),
                    target: l.target.clone(),
                    state: (l.state.as_str() != "confirmed").then(|| l.state.as_str().to_string()),
                })
                .collect(),
            source: d.source.as_ref().map(|src| SourceView {
                url: src.url.as_deref().and_then(filters::web_url),
                title: src
                    .title
                    .clone()
                    .unwrap_or_else(|| "the issuer's report".into()),
                local_ref: src.local_ref.clone(),
                date: src.date,
            }),
            evidence,
            patient_impact: d.patient_impact.clone(),
            cost,
            equality,
            version: rec.version,
            updated: rec.updated_at.date_naive(),
        }
    }

    fn has_background(&self) -> bool {
        self.source.is_some()
            || self.evidence.is_some()
            || self.patient_impact.is_some()
            || self.cost.is_some()
            || self.equality.is_some()
    }

    fn any_story(&self) -> bool {
        self.addressees.iter().any(|a| a.story.is_some())
    }
}

struct PartRow {
    part: &'static str,
    from: &'static str,
    file: String,
    when: String,
    stand_in: bool,
}

struct VariantRow {
    part: &'static str,
    value: String,
    from: &'static str,
    why: String,
}

/// The record page's "Where this record came from" section
/// (`templates/recommendation/provenance.html`).
struct ProvenanceSection {
    id: String,
    parts: Vec<PartRow>,
    variants: Vec<VariantRow>,
}

impl ProvenanceSection {
    fn of(rec: &concord_domain::Recommendation) -> Self {
        let clip = |s: &str| {
            let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
            if flat.chars().count() > 400 {
                format!("{}…", flat.chars().take(399).collect::<String>())
            } else {
                flat
            }
        };
        ProvenanceSection {
            id: rec.id.to_string(),
            parts: rec
                .provenance
                .parts
                .iter()
                .map(|p| PartRow {
                    part: p.part.label(),
                    from: p.from.label(),
                    file: p.file.clone().unwrap_or_default(),
                    when: p.at.map(uk_time).unwrap_or_default(),
                    stand_in: p.stand_in,
                })
                .collect(),
            variants: rec
                .provenance
                .variants
                .iter()
                .map(|v| VariantRow {
                    part: v.part.label(),
                    value: clip(&v.value),
                    from: v.from.label(),
                    why: v.why.clone(),
                })
                .collect(),
        }
    }
}

struct HistoryRow {
    when: String,
    change: String,
    by: String,
    fields: String,
}

#[derive(askama::Template)]
#[template(path = "history.html")]
struct HistoryPage {
    layout: crate::web::layout::Layout,
    id: String,
    title: String,
    events: Vec<HistoryRow>,
}

/// The top-level fields that differ between two versions of a record,
/// in words ("status, addressees"); bookkeeping fields left out.
pub(crate) fn changed_fields(
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> String {
    use serde_json::Value;
    const BOOKKEEPING: &[&str] = &["version", "updated_at", "created_at"];
    let empty = serde_json::Map::new();
    let obj = |v: Option<&Value>| v.and_then(Value::as_object).unwrap_or(&empty).clone();
    let (b, a) = (obj(before), obj(after));
    if before.is_none() {
        return "created".into();
    }
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| !BOOKKEEPING.contains(&k.as_str()) && b.get(*k) != a.get(*k))
        .map(|k| words(k))
        .collect();
    if changed.is_empty() {
        "nothing visible".into()
    } else {
        changed.join(", ")
    }
}

/// A time as people in England read it: "14 Mar 2026, 09:05".
fn uk_time(t: chrono::DateTime<chrono::Utc>) -> String {
    let local = if concord_app::clock::is_british_summer_time(t) {
        t + chrono::Duration::hours(1)
    } else {
        t
    };
    local.format("%-d %b %Y, %H:%M").to_string()
}

async fn history(
    State(state): State<AppState>,
    s: MaybeSession,
    Path(raw): Path<String>,
) -> Result<axum::response::Response, PageError> {
    let id = RecommendationId::parse(&raw)
        .map_err(|e| PageError::new(StatusCode::NOT_FOUND, e.to_string()))?;
    let who =
        s.0.as_ref()
            .map(|s| s.view.principal.clone())
            .unwrap_or(Principal::Anonymous);
    let auth = state.services.as_principal(who);
    let rec = auth.recommendation(&id).await?;
    let events = auth.history(&id).await?;
    let rows = events
        .iter()
        .map(|e| HistoryRow {
            when: uk_time(e.at),
            change: words(&e.action),
            by: e.actor.clone(),
            fields: match e.action.as_str() {
                "endorse" | "withdraw_endorsement" => e
                    .after
                    .as_ref()
                    .or(e.before.as_ref())
                    .and_then(|v| v["endorsed_by"].as_str())
                    .map(|org| format!("endorsement by {org}"))
                    .unwrap_or_default(),
                // Shown to someone other than the issuer, the change that
                // published a draft comes without what the draft said.
                _ if e.before.is_none() && e.action != "create" => "published".into(),
                _ => changed_fields(e.before.as_ref(), e.after.as_ref()),
            },
        })
        .collect();
    let title = format!("{} {}", rec.id, rec.data.title);
    Ok(crate::web::layout::render(&HistoryPage {
        layout: crate::web::layout::Layout::new(format!("History of {title}")),
        id: rec.id.to_string(),
        title: rec.data.title.clone(),
        events: rows,
    }))
}

/// What the signed-in organisation can do with a record, on its page
/// (`templates/recommendation/actions.html`): edit its draft, answer or
/// update as an addressee, assess or close as the issuer, endorse another
/// body's recommendation. None for everyone else.
pub(crate) struct RecordActions {
    pub org: String,
    /// (address, what it does)
    pub links: Vec<(String, String)>,
    /// Whether the organisation may endorse the record: Some(true) when it
    /// already does (then it may withdraw).
    pub endorse: Option<bool>,
}

pub(crate) fn record_actions(
    auth: &Authorized<'_>,
    rec: &Recommendation,
    session: Option<&Session>,
    endorsers: &[concord_domain::OrgCode],
) -> Option<RecordActions> {
    let session = session?;
    let org = session.view.org.as_ref()?;
    let roles = session.view.roles();
    let id = &rec.id;
    let mut links: Vec<(String, String)> = Vec::new();
    if rec.data.status == Lifecycle::Draft {
        if &rec.data.issuer == org && roles.contains(Role::Author) {
            links.push((
                format!("/recommendations/{id}/edit"),
                "Edit the draft".into(),
            ));
        }
    } else {
        for (i, a) in rec.data.addressees.iter().enumerate() {
            let base = format!("/recommendations/{id}/addressees/{}", i + 1);
            let received = a.status == AddresseeStatus::ResponseReceived;
            let answered = received || a.status == AddresseeStatus::Assessed;
            let open = !matches!(
                a.status,
                AddresseeStatus::Closed | AddresseeStatus::NotRequired
            );
            // The moves that make sense in this part's state; whether this
            // person may make each is the services' rule.
            let offered = [
                (
                    a.status == AddresseeStatus::AwaitingResponse,
                    MoveKind::Respond,
                    format!("Answer for {}", a.name),
                ),
                (
                    answered,
                    MoveKind::Update,
                    format!("Record {}'s progress", a.name),
                ),
                (
                    answered,
                    MoveKind::AddAction,
                    format!("Add an action to {}'s plan", a.name),
                ),
                (
                    received,
                    MoveKind::Assess,
                    format!("Assess {}'s answer", a.name),
                ),
                (open, MoveKind::Close, format!("Close {}'s part", a.name)),
            ];
            for (fits, mv, label) in offered {
                if fits && auth.may_move(&rec.data, i, mv).is_ok() {
                    links.push((format!("{base}/{mv}"), label));
                }
            }
        }
    }
    // Another body's published recommendation: its approvers may stand
    // behind it (or stop).
    let endorse = auth
        .may_endorse(rec)
        .is_ok()
        .then(|| endorsers.contains(org));
    if links.is_empty() && endorse.is_none() {
        return None;
    }
    Some(RecordActions {
        org: org.to_string(),
        links,
        endorse,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_names_the_fields_a_change_touched() {
        let before =
            serde_json::json!({"title": "a", "status": "draft", "version": 1, "themes": []});
        let after = serde_json::json!({"title": "a", "status": "published", "version": 2, "themes": ["x"], "published": "2026-01-01"});
        assert_eq!(
            changed_fields(Some(&before), Some(&after)),
            "published, status, themes"
        );
        assert_eq!(changed_fields(None, Some(&after)), "created");
        assert_eq!(
            changed_fields(Some(&before), Some(&before)),
            "nothing visible"
        );
        let winter = chrono::DateTime::parse_from_rfc3339("2026-01-05T09:05:00Z").unwrap();
        let summer = chrono::DateTime::parse_from_rfc3339("2026-07-05T09:05:00Z").unwrap();
        assert_eq!(uk_time(winter.to_utc()), "5 Jan 2026, 09:05");
        assert_eq!(uk_time(summer.to_utc()), "5 Jul 2026, 10:05");
    }
}
