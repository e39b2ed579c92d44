//! What callers ask the register to write, as types: a new recommendation,
//! an edit of one, a workstream to register and an edit of one. Each edge (the API, the
//! pages, the command line) reads its request into one of these; the
//! services never pick a version or an override out of a JSON body.
//!
//! The fields themselves stay named as the caller sent them
//! ([`Fields`]): a create or an edit names any subset of a record's fields
//! (an edit is a merge, where `null` clears a field), and the services
//! validate them into the domain's type in one place, naming each bad field.

use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

/// A record's fields by name, as sent.
pub type Fields = Map<String, Value>;

/// A recommendation to create: a draft, or published at once when its
/// `status` says so.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewRecord {
    pub fields: Fields,
    /// An operator's reason to publish despite the issuer's quality gate
    /// (recorded in the audit trail).
    pub override_gate: Option<String>,
}

/// A change to a stored recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordEdit {
    /// The version the caller last saw: nothing is written if the record
    /// has moved on since (safe concurrent edits).
    pub version: i64,
    /// The fields to replace.
    pub fields: Fields,
    pub override_gate: Option<String>,
}

/// A workstream to register: its fields (`lead` may be left out by an
/// organisation, which leads its own work).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewWorkstream {
    pub fields: Fields,
}

/// A change to a stored workstream.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkstreamEdit {
    pub version: i64,
    /// The fields to replace.
    pub fields: Fields,
}

impl NewRecord {
    /// Reads a JSON body: an object of fields, with `override_gate`.
    pub fn from_json(body: Value) -> AppResult<NewRecord> {
        let mut fields = object(body)?;
        let override_gate = take_override(&mut fields)?;
        Ok(NewRecord {
            fields,
            override_gate,
        })
    }
}

impl RecordEdit {
    /// Reads a JSON body: `version`, the fields to change and
    /// `override_gate`.
    pub fn from_json(body: Value) -> AppResult<RecordEdit> {
        let mut fields = object(body)?;
        let override_gate = take_override(&mut fields)?;
        let version = take_version(&mut fields)?;
        Ok(RecordEdit {
            version,
            fields,
            override_gate,
        })
    }
}

impl NewWorkstream {
    /// Reads a JSON body: an object of fields.
    pub fn from_json(body: Value) -> AppResult<NewWorkstream> {
        Ok(NewWorkstream {
            fields: object(body)?,
        })
    }
}

impl WorkstreamEdit {
    /// Reads a JSON body: `version` and the fields to change (the times a
    /// caller read back with the workstream are not fields it may set, and
    /// are left out).
    pub fn from_json(body: Value) -> AppResult<WorkstreamEdit> {
        let mut fields = object(body)?;
        let version = take_version(&mut fields)?;
        for f in ["created_at", "updated_at"] {
            fields.remove(f);
        }
        Ok(WorkstreamEdit { version, fields })
    }
}

fn object(body: Value) -> AppResult<Fields> {
    match body {
        Value::Object(fields) => Ok(fields),
        _ => Err(AppError::BadInput("the body must be a JSON object".into())),
    }
}

fn take_override(fields: &mut Fields) -> AppResult<Option<String>> {
    match fields.remove("override_gate") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(Some(s)),
        Some(_) => Err(AppError::invalid_field(
            "override_gate",
            "must be the reason for publishing despite the gate, as text",
        )),
    }
}

fn take_version(fields: &mut Fields) -> AppResult<i64> {
    match fields.remove("version") {
        Some(Value::Number(n)) if n.as_i64().is_some() => Ok(n.as_i64().unwrap_or_default()),
        Some(_) => Err(AppError::invalid_field("version", "must be a whole number")),
        None => Err(AppError::invalid_field(
            "version",
            "is required (the version you are editing, for safe concurrent edits)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edit_reads_its_version_and_override_out_of_the_fields() {
        let e =
            RecordEdit::from_json(json!({"version": 3, "title": "T", "override_gate": "urgent"}))
                .unwrap();
        assert_eq!(e.version, 3);
        assert_eq!(e.override_gate.as_deref(), Some("urgent"));
        assert_eq!(e.fields.keys().collect::<Vec<_>>(), ["title"]);
    }

    #[test]
    fn bad_envelopes_name_their_field() {
        for (body, field) in [
            (json!({"title": "T"}), "version"),
            (json!({"version": "3"}), "version"),
            (json!({"version": 1.5}), "version"),
            (json!({"version": 1, "override_gate": 7}), "override_gate"),
            (
                json!({"version": 1, "override_gate": "  "}),
                "override_gate",
            ),
        ] {
            let e = RecordEdit::from_json(body.clone()).unwrap_err();
            assert_eq!(e.field_errors()[0].field, field, "{body}");
        }
        assert!(matches!(
            NewRecord::from_json(json!(["not", "an", "object"])),
            Err(AppError::BadInput(_))
        ));
        // A blank or null override is no override.
        let n = NewRecord::from_json(json!({"title": "T", "override_gate": null})).unwrap();
        assert_eq!(n.override_gate, None);
    }

    #[test]
    fn a_workstream_edit_leaves_out_the_times_read_back() {
        let e = WorkstreamEdit::from_json(
            json!({"version": 2, "aim": "A", "created_at": "x", "updated_at": "y"}),
        )
        .unwrap();
        assert_eq!(e.version, 2);
        assert_eq!(e.fields.keys().collect::<Vec<_>>(), ["aim"]);
    }
}
