//! The table of embedded assets written by `build.rs` (name, content type,
//! bytes) and the version that changes with any byte of them. Apart from
//! the routes that serve them (`assets.rs`), so that the page layout can
//! name the version without depending on the serving (whose 404 is a page).

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The bytes and content type of an asset, by its name under the version.
pub fn find(name: &str) -> Option<(&'static str, &'static [u8])> {
    FILES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, kind, bytes)| (kind, bytes))
}
