//! The work queues of a signed-in organisation: its drafts, what is waiting
//! for its answer, what it has answered, and the responses to its own
//! recommendations that wait for its assessment. Each queue needs the role
//! that does the work (author, respondent, assessor).

use concord_domain::account::Role;
use concord_domain::{AddresseeStatus, Lifecycle, OrgCode};
use concord_store::{ListPage, Page, PartsFilter, RecommendationFilter};

use crate::access::Authorized;
use crate::error::{AppError, AppResult};

/// One queue of the "Your work" page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkQueue {
    /// The organisation's drafts (authors and approvers).
    Drafts,
    /// Recommendations addressed to it that it has not answered.
    ToAnswer,
    /// Its answers, for progress updates until the issuer closes them.
    Answered,
    /// Responses to its recommendations waiting for its assessment.
    ToAssess,
}

impl WorkQueue {
    pub const ALL: &'static [WorkQueue] = &[
        WorkQueue::Drafts,
        WorkQueue::ToAnswer,
        WorkQueue::Answered,
        WorkQueue::ToAssess,
    ];

    /// Its name in addresses (`/work/{name}`).
    pub fn as_str(self) -> &'static str {
        match self {
            WorkQueue::Drafts => "drafts",
            WorkQueue::ToAnswer => "to-answer",
            WorkQueue::Answered => "answered",
            WorkQueue::ToAssess => "to-assess",
        }
    }

    pub fn parse(s: &str) -> Option<WorkQueue> {
        WorkQueue::ALL.iter().copied().find(|q| q.as_str() == s)
    }

    /// Whoever holds one of these roles works this queue.
    pub fn roles(self) -> &'static [Role] {
        match self {
            WorkQueue::Drafts => &[Role::Author, Role::Approver],
            WorkQueue::ToAnswer | WorkQueue::Answered => &[Role::Respondent],
            WorkQueue::ToAssess => &[Role::Assessor],
        }
    }

    /// The store's question for `org`.
    fn query(self, org: &OrgCode) -> (RecommendationFilter, Option<PartsFilter>) {
        let own_parts = |statuses: Vec<AddresseeStatus>| {
            Some(PartsFilter {
                statuses,
                org: Some(org.clone()),
            })
        };
        match self {
            WorkQueue::Drafts => (
                RecommendationFilter {
                    issuer: Some(org.clone()),
                    status: Some(Lifecycle::Draft),
                    drafts: concord_store::DraftVisibility::OfIssuer(org.clone()),
                    ..Default::default()
                },
                None,
            ),
            WorkQueue::ToAnswer => (
                RecommendationFilter {
                    status: Some(Lifecycle::Published),
                    ..Default::default()
                },
                own_parts(vec![AddresseeStatus::AwaitingResponse]),
            ),
            WorkQueue::Answered => (
                RecommendationFilter {
                    status: Some(Lifecycle::Published),
                    ..Default::default()
                },
                own_parts(vec![
                    AddresseeStatus::ResponseReceived,
                    AddresseeStatus::Assessed,
                ]),
            ),
            WorkQueue::ToAssess => (
                RecommendationFilter {
                    issuer: Some(org.clone()),
                    status: Some(Lifecycle::Published),
                    ..Default::default()
                },
                Some(PartsFilter {
                    statuses: vec![AddresseeStatus::ResponseReceived],
                    org: None,
                }),
            ),
        }
    }
}

impl Authorized<'_> {
    /// The queues this caller works, in the order of [`WorkQueue::ALL`]:
    /// an organisation's member with the queue's role.
    pub fn work_queues(&self) -> Vec<WorkQueue> {
        let p = self.principal();
        if p.org().is_none() {
            return Vec::new();
        }
        WorkQueue::ALL
            .iter()
            .copied()
            .filter(|q| q.roles().iter().any(|r| p.has_role(*r)))
            .collect()
    }

    /// One page of one queue of the caller's organisation.
    pub async fn work_queue(&self, queue: WorkQueue, page: Page) -> AppResult<ListPage> {
        self.permit(crate::access::Action::Change, None)?;
        let Some(org) = self.principal().org().cloned() else {
            return Err(AppError::Forbidden(
                "work queues belong to an organisation; act for one first".into(),
            ));
        };
        if !self.work_queues().contains(&queue) {
            let roles: Vec<&str> = queue.roles().iter().map(|r| r.as_str()).collect();
            return Err(AppError::Forbidden(format!(
                "the {} queue needs the {} role",
                queue.as_str(),
                roles.join(" or ")
            )));
        }
        let (filter, parts) = queue.query(&org);
        let store = self.services().store();
        let (filter, parts) = (&filter, &parts);
        let list = |page| async move {
            Ok::<_, AppError>(match parts {
                Some(parts) => store.list_with_parts(filter, parts, page).await?,
                None => store.list(filter, page).await?,
            })
        };
        if queue != WorkQueue::ToAnswer {
            return list(page).await;
        }
        // What waits for an answer is worked through by when it is due,
        // the most overdue first. A queue longer than this keeps the
        // store's order (newest first) rather than read it all.
        let whole = list(Page {
            offset: 0,
            limit: ANSWER_QUEUE_SORTED,
        })
        .await?;
        if whole.total > ANSWER_QUEUE_SORTED {
            return list(page).await;
        }
        let book = self.services().rules_book().await?;
        let due = |rec: &concord_domain::Recommendation| {
            let rules = book.for_issuer(&rec.data.issuer);
            rec.data
                .addressees
                .iter()
                .filter(|a| a.org.as_ref() == Some(&org))
                .filter_map(|a| concord_domain::lifecycle::due_for(&rec.data, a, rules))
                .min()
        };
        let mut items = whole.items;
        // Undated last; the same day by publication, oldest first.
        items.sort_by_cached_key(|r| {
            let d = due(r);
            (d.is_none(), d, r.data.published)
        });
        Ok(ListPage {
            total: whole.total,
            items: items
                .into_iter()
                .skip(page.offset as usize)
                .take(page.limit as usize)
                .collect(),
        })
    }
}

/// The longest "waiting for your answer" queue ordered by due date.
const ANSWER_QUEUE_SORTED: u64 = 2_000;
