//! Concord's domain: the register's types, identifiers and rules.
//!
//! Nothing here performs I/O; every function is deterministic given its
//! inputs (the current date is always passed in), so the rules are cheap to
//! unit-test.

pub mod error;
pub mod ids;
pub mod lifecycle;
pub mod model;
pub mod organisation;
pub mod quality;
pub mod text;

pub use error::{DomainError, FieldError};
pub use ids::{OrgCode, RecommendationId, Reference, find_references};
pub use model::*;
pub use organisation::{
    OrgKind, OrgLevel, Organisation, OrganisationDirectory, ProviderKind, seed_organisations,
};
