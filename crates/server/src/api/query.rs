//! Reading a raw query string the same way on every endpoint.

use crate::error::{ApiError, ApiResult};

/// The parameters of a raw query string, each one the endpoint knows and
/// given at most once, trimmed, with empty values (as an HTML form sends
/// them) left out. `aliases` maps another accepted spelling to its name
/// (`limit` for `per_page`). Every refusal names the parameter; `who` names
/// the endpoint in the list of what it accepts ("the list", "overdue").
pub fn known_params(
    query: &str,
    known: &[&'static str],
    aliases: &[(&str, &'static str)],
    who: &str,
) -> ApiResult<Vec<(&'static str, String)>> {
    let mut seen: Vec<&'static str> = Vec::new();
    let mut out = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let name = aliases
            .iter()
            .find(|(a, _)| *a == key)
            .map(|(_, n)| *n)
            .or_else(|| known.iter().copied().find(|n| *n == key));
        let Some(name) = name else {
            return Err(ApiError::bad_input(format!(
                "unknown query parameter {key:?}; {who} accepts: {}",
                known.join(", ")
            )));
        };
        if seen.contains(&name) {
            return Err(ApiError::bad_input(format!(
                "parameter {name}: is given more than once"
            )));
        }
        seen.push(name);
        let v = value.trim();
        if !v.is_empty() {
            out.push((name, v.to_string()));
        }
    }
    Ok(out)
}
