//! What happens to a recommendation after it is published, one addressee at
//! a time: the response (acceptance), the action plan and progress
//! (implementation), the issuer's assessment, closure, dormancy,
//! reassessment, verification and the escalation of late answers.
//!
//! Every move is a pure function from the record as it stands to the record
//! as it will be, checked against who is asking ([`Standing`]) and today's
//! date in England. The service layer loads, applies and stores; nothing
//! here touches a database or a clock.
//!
//! The record types are in `records` (a leaf, which the model imports), the
//! moves in `moves` and the deadline rules in `deadlines`; everything public
//! is re-exported here, so paths are `crate::lifecycle::Name`.

mod deadlines;
mod moves;
pub(crate) mod records;

pub use deadlines::*;
pub use moves::*;
pub use records::*;

#[cfg(test)]
mod tests;
