//! Concord's application services: one place for every use case, used by
//! the command line and HTTP alike.
//!
//! [`Services`] holds the store and the clock; its use cases are reached only
//! through [`Authorized`], the access-control wrapper, so that no handler
//! checks permissions by hand.

mod access;
mod accounts;
pub mod clock;
mod dashboard;
pub mod demo;
mod derived;
pub use derived::snapshot::{dashboard_snapshot_beside, similarity_snapshot_beside};
mod endorsements;
mod error;
mod feeds;
mod guards;
mod imports;
mod input;
mod lifecycle;
mod links;
mod meaning;
mod overdue;
mod oversight;
mod principal;
mod priorities;
mod quality;
mod readiness;
mod register;
mod result_set;
mod rules;
mod search;
mod services;
mod similar;
mod work;
mod workstreams;

pub use access::{Action, Authorized, Needs, Operator, permit};
pub use accounts::{
    Added, NewUser, PASSWORD_RESET_HOURS, SessionView, SignInRefusals, SignedIn,
    TOKEN_LIFETIME_DAYS, WRONG_EMAIL_OR_PASSWORD, hash_password, secrets_match, verify_password,
};
pub use clock::{Clock, FixedClock, SystemClock};
pub use concord_ingest::Format;
pub use concord_search::{Hit, MAX_RESULT_WINDOW, SearchIndex, SearchResults, Sort, index_dir_for};
pub use concord_similar::{Group as DuplicateGroup, Match as SimilarMatch};
pub use concord_store::{DraftVisibility, ListPage, Page, PoolStatus, RecommendationFilter};
pub use dashboard::{DashboardRequest, DashboardStats};
pub use endorsements::MAX_ENDORSEMENT_NOTE;
pub use error::{AppError, AppResult};
pub use feeds::{FEED_ENTRIES, Feed, FeedRequest};
pub use imports::{ExportFormat, ImportOptions, ImportReport, RejectedRow};
pub use input::{Fields, NewRecord, NewWorkstream, RecordEdit, WorkstreamEdit};
pub use lifecycle::find_addressee;
pub use meaning::{
    EmbeddingsStatus, SimilarAnswer, SimilarMethod, VECTOR_POLL, VectorsProgress,
    vectors_path_beside,
};
pub use overdue::{EscalationTaken, NextEscalation, OverdueItem, OverdueReport};
pub use oversight::{RelatedItem, RelatedView, SuspectedPair};
pub use principal::{Principal, hash_token, new_token_secret, public_actor};
pub use priorities::{MAX_PRIORITIES, PriorityList};
pub use quality::{RulesetSource, parse_ruleset};
pub use readiness::{IndexLag, Readiness};
pub use register::MAX_CHECK_DRAFTS;
pub use result_set::{MAX_DOWNLOAD, ResultSet, write_records};
pub use rules::{IssuerRule, RULES_FRESH, RuleChange, RuleOrigin, RulesView};
pub use search::SearchQuery;
pub use services::{NewToken, Services};
pub use work::WorkQueue;
pub use workstreams::{
    DEFAULT_OVERLAPS, MAX_OVERLAPS, Overlap, Registered, WorkstreamHit, WorkstreamQuery,
    WorkstreamResults, parse_workstream_id,
};
