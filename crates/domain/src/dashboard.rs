//! The oversight dashboard's figures: open, overdue, answered and
//! implemented counts by issuer, addressee, theme, setting and year;
//! response times; the oldest overdue answers; and the open recommendations
//! (with their cost) landing on each kind of provider.
//!
//! The unit counted is an *item*: one recommendation to one addressee (each
//! addressee has its own answer and status, as in the NTSB's register).
//! Every row also says how many recommendations it covers.
//!
//! [`FactTable`] holds a compact copy of what the figures need (a few dozen
//! bytes per item), so that every figure is one pass over memory. It is
//! derived data: the service layer fills it from the database and keeps it
//! in step from the outbox. Nothing here performs I/O.
//!
//! Definitions (as of a date):
//! - *counted*: every recommendation that is not a draft (drafts never count);
//! - *open*: the recommendation is published and the addressee's status is
//!   open (awaiting response, response received, assessed);
//! - *overdue*: exactly [`crate::lifecycle::overdue_as_of`] (tested against it);
//! - *answered*: a response was received on or before the date (an undated
//!   reply counts as received, as in `overdue_as_of`);
//! - *implemented*: the addressee reported it implemented (or the issuer
//!   verified it), or the issuer closed it as implemented;
//! - *response time*: days from publication to the first dated response, for
//!   answers received by the date.
//!
//! The answer types are in `figures`, the fact table that computes them in
//! `facts` and the CSV tables in `csv`; everything public is re-exported
//! here, so paths are `crate::dashboard::Name`.
//!
//! A [`FactTable`] serializes whole, for a server to keep between runs
//! (read back only by the same build of these rules: [`engine_fingerprint`]).

mod csv;
mod facts;
mod figures;

pub use csv::*;
pub use facts::*;
pub use figures::*;

#[cfg(test)]
mod tests;

/// Changes whenever the code that fills the fact table or reads it does
/// (the figures' definitions, the deadlines, the record's model): a fact
/// table kept between runs is only read back by a build with the same.
pub fn engine_fingerprint() -> u64 {
    const SOURCES: [&str; 5] = [
        include_str!("dashboard.rs"),
        include_str!("dashboard/facts.rs"),
        include_str!("dashboard/figures.rs"),
        include_str!("lifecycle/deadlines.rs"),
        include_str!("model.rs"),
    ];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for src in SOURCES {
        for b in src.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}
