//! Concord's domain: the register's types, identifiers and rules.
//!
//! Nothing here performs I/O; every function is deterministic given its
//! inputs (the current date is always passed in), so the rules are cheap to
//! unit-test.

pub mod account;
pub mod dashboard;
pub mod error;
pub mod feed;
pub mod ids;
pub mod lifecycle;
pub mod model;
pub mod organisation;
pub mod priority;
pub mod provenance;
pub mod quality;
pub mod text;
pub mod workstream;

pub use error::{DomainError, FieldError};
pub use ids::{OrgCode, RecommendationId, Reference, find_references};
pub use model::*;
pub use organisation::{
    OrgKind, OrgLevel, OrgStatus, Organisation, OrganisationDirectory, ProviderKind,
    seed_organisations,
};
pub use provenance::{DataSource, Enrichment, PartOrigin, Provenance, RecordPart, Variant};
pub use workstream::{StoredWorkstream, WorkstreamId};
