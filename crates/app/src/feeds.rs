//! The public feeds: new recommendations, responses and status changes for
//! everything, one organisation, one theme or one recommendation.
//!
//! The store gives the audit events newest first; the domain
//! ([`concord_domain::feed`]) decides which become entries and words them.
//! Feeds show only what is public, whoever asks: drafts never appear.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use concord_domain::feed::{EntryKind, FeedEntry, FeedEvent, OrgNames, clip, entries_for};
use concord_domain::{AuditEvent, OrgCode, Recommendation, RecommendationId};
use concord_store::FeedScope;

use crate::access::Authorized;
use crate::error::{AppError, AppResult};
use crate::services::Services;

/// The most entries a feed holds.
pub const FEED_ENTRIES: usize = 50;
/// Events read per query while filling a feed.
const BATCH: u32 = 200;
/// The most events read for one feed: past them the feed holds what was
/// found (edits that change nothing public make no entries, so a feed can
/// need more events than entries).
const MAX_EVENTS: usize = 10_000;
/// The longest theme a feed may follow, in characters.
const MAX_THEME_CHARS: usize = 200;

/// Which feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedRequest {
    All,
    /// An organisation's code, as given in the address.
    Organisation(String),
    Theme(String),
    /// A recommendation's id, as given in the address.
    Recommendation(String),
}

/// A feed, ready to be written out.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub title: String,
    /// The feed's own address (path), e.g. `/feeds/organisations/NHSE.atom`.
    pub path: String,
    /// The page it follows (path), e.g. `/organisations/NHSE`.
    pub page: String,
    /// Newest first, at most [`FEED_ENTRIES`].
    pub entries: Vec<FeedEntry>,
}

impl Feed {
    /// When the newest entry happened (None for an empty feed). Event feeds
    /// are newest first; a priority feed is in rank order.
    pub fn updated(&self) -> Option<DateTime<Utc>> {
        self.entries.iter().map(|e| e.at).max()
    }

    /// A stable identifier for the feed (RFC 4151 tag URI).
    pub fn tag_uri(&self) -> String {
        format!("tag:concord,2025:{}", self.path.trim_start_matches('/'))
    }
}

/// Percent-encodes a path segment (everything but unreserved characters).
fn segment(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn parse_record(v: &serde_json::Value) -> Option<Recommendation> {
    serde_json::from_value(v.clone()).ok()
}

impl Authorized<'_> {
    /// A feed, as anyone may read it.
    pub async fn feed(&self, req: &FeedRequest) -> AppResult<Feed> {
        let svc = self.services();
        let (scope, title, path, page) = match req {
            FeedRequest::All => (
                FeedScope::All,
                "Concord: new recommendations, responses and status changes".to_string(),
                "/feeds/recommendations.atom".to_string(),
                "/".to_string(),
            ),
            FeedRequest::Organisation(raw) => {
                let not_found =
                    || AppError::NotFound(format!("organisation {} was not found", clip(raw, 60)));
                let code = OrgCode::parse(raw).map_err(|_| not_found())?;
                let org = svc
                    .store()
                    .organisation(&code)
                    .await?
                    .ok_or_else(not_found)?;
                (
                    FeedScope::Organisation(code.clone()),
                    format!(
                        "Concord: recommendations issued by or addressed to {} ({code})",
                        org.name
                    ),
                    format!("/feeds/organisations/{code}.atom"),
                    format!("/organisations/{code}"),
                )
            }
            FeedRequest::Theme(raw) => {
                let theme = raw.trim();
                if theme.is_empty() {
                    return Err(AppError::NotFound(
                        "give a theme to follow: /feeds/themes/THEME.atom".into(),
                    ));
                }
                if theme.chars().count() > MAX_THEME_CHARS {
                    return Err(AppError::BadInput(format!(
                        "theme: longer than {MAX_THEME_CHARS} characters"
                    )));
                }
                (
                    FeedScope::Theme(theme.to_string()),
                    format!("Concord: recommendations on the theme {theme}"),
                    format!("/feeds/themes/{}.atom", segment(&theme.to_lowercase())),
                    format!("/search?theme={}", segment(theme)),
                )
            }
            FeedRequest::Recommendation(raw) => {
                let not_found = || {
                    AppError::NotFound(format!("recommendation {} was not found", clip(raw, 60)))
                };
                let id = RecommendationId::parse(raw).map_err(|_| not_found())?;
                let rec = match svc.store().get(&id).await? {
                    Some(r) if Services::visible_to(&r, None, false) => r,
                    _ => return Err(not_found()),
                };
                (
                    FeedScope::Recommendation(id.clone()),
                    format!("Concord: {id} {}", clip(&rec.data.title, 120)),
                    format!("/feeds/recommendations/{id}.atom"),
                    format!("/recommendations/{id}"),
                )
            }
        };
        let names: OrgNames = svc
            .store()
            .organisations()
            .await?
            .into_iter()
            .map(|o| (o.code.to_string(), o.name))
            .collect();
        let entries = self.feed_entries(&scope, &names).await?;
        Ok(Feed {
            title,
            path,
            page,
            entries,
        })
    }

    async fn feed_entries(&self, scope: &FeedScope, names: &OrgNames) -> AppResult<Vec<FeedEntry>> {
        let store = self.services().store();
        let mut entries = Vec::new();
        let mut before = None;
        let mut read = 0usize;
        // Records as they are now, for imports that no later event describes.
        let mut current: HashMap<String, Option<Recommendation>> = HashMap::new();
        'pages: loop {
            let events = store.feed_events(scope, before, BATCH).await?;
            for ev in &events {
                before = Some(ev.seq);
                read += 1;
                let Some(fe) = self.feed_event(ev, &mut current).await? else {
                    continue;
                };
                entries.extend(entries_for(&fe, names).into_iter().rev());
                if entries.len() >= FEED_ENTRIES {
                    break 'pages;
                }
            }
            if events.len() < BATCH as usize || read >= MAX_EVENTS {
                break;
            }
        }
        entries.truncate(FEED_ENTRIES);
        Ok(entries)
    }

    /// The event with its records read; None when a record cannot be read
    /// (an audit row from an older shape of the data), which is skipped.
    async fn feed_event(
        &self,
        ev: &AuditEvent,
        current: &mut HashMap<String, Option<Recommendation>>,
    ) -> AppResult<Option<FeedEvent>> {
        let before = match &ev.before {
            None => None,
            Some(v) => match parse_record(v) {
                Some(r) => Some(r),
                None => {
                    tracing::warn!(seq = ev.seq, "feed: an audit record could not be read");
                    return Ok(None);
                }
            },
        };
        let after = match &ev.after {
            Some(v) => parse_record(v),
            None => {
                if !current.contains_key(&ev.entity_id) {
                    let rec = match RecommendationId::parse(&ev.entity_id) {
                        Ok(id) => self.services().store().get(&id).await?,
                        Err(_) => None,
                    };
                    current.insert(ev.entity_id.clone(), rec);
                }
                current.get(&ev.entity_id).cloned().flatten()
            }
        };
        let Some(after) = after else {
            tracing::warn!(seq = ev.seq, "feed: an audit record could not be read");
            return Ok(None);
        };
        Ok(Some(FeedEvent {
            seq: ev.seq,
            at: ev.at,
            action: ev.action.clone(),
            before,
            after,
        }))
    }
}

impl Authorized<'_> {
    /// A provider's priority list as a feed: its best [`FEED_ENTRIES`]
    /// items in rank order, each titled with its place and saying why it is
    /// there, dated by the last change to any recommendation behind it, so
    /// that a feed reader shows what entered the list or changed. What
    /// anyone may see: published recommendations only.
    pub async fn priority_feed(&self, raw: &str) -> AppResult<Feed> {
        let not_found =
            || AppError::NotFound(format!("organisation {} was not found", clip(raw, 60)));
        let code = OrgCode::parse(raw).map_err(|_| not_found())?;
        let list = self.priorities(&code, FEED_ENTRIES).await?;
        let mut entries = Vec::with_capacity(list.items.len());
        for (rank, item) in list.items.iter().enumerate() {
            let Some(lead) = item.ids.first() else {
                continue;
            };
            let behind = if item.ids.len() > 1 {
                format!(" (with {} more saying the same)", item.ids.len() - 1)
            } else {
                String::new()
            };
            entries.push(FeedEntry {
                seq: 0,
                part: rank,
                at: item.changed,
                kind: EntryKind::Priority,
                rec_id: lead.clone(),
                title: format!("{}. {}: {}{behind}", rank + 1, lead, item.title),
                author: item.issuers.join(", "),
                summary: clip(
                    &format!("Score {:.2}. {}", item.score, item.why.join("; ")),
                    2_000,
                ),
                happened_on: item.published,
                list_of: Some(code.to_string()),
            });
        }
        Ok(Feed {
            title: format!("Concord: priorities for {} ({code})", list.name),
            path: format!("/feeds/organisations/{code}/priorities.atom"),
            page: format!("/organisations/{code}"),
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(segment("sepsis"), "sepsis");
        assert_eq!(segment("A&E / <x>"), "A%26E%20%2F%20%3Cx%3E");
        assert_eq!(segment("é"), "%C3%A9");
    }
}
