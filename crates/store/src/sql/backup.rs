//! Backup and restore as JSON lines: a header
//! `{"concord_backup":1,"schema":N}`, then one `{"table":..., "row":{...}}`
//! line per row, parents before children. Column values are JSON strings,
//! numbers or null, the same on both backends, so a SQLite backup restores
//! into PostgreSQL and the other way round.

use std::collections::HashSet;

use futures_util::TryStreamExt;
use serde_json::{Map, Value};
use sqlx::AnyConnection;
use sqlx::Row;

use super::codec::{self, Val};
use super::{SqlStore, migrate};
use crate::{Backend, Result, StoreError};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Int,
}

struct Table {
    name: &'static str,
    cols: &'static [(&'static str, Ty)],
    order: &'static str,
    /// A BIGSERIAL column whose sequence must move past restored values.
    serial: Option<&'static str>,
}

use Ty::{Int, Text};

/// Every table, parents before children.
const TABLES: &[Table] = &[
    Table {
        name: "organisations",
        cols: &[
            ("code", Text),
            ("name", Text),
            ("kind", Text),
            ("level", Text),
            ("provider_kind", Text),
            ("region", Text),
            ("aliases_json", Text),
            ("created_at", Text),
            ("status", Text),
        ],
        order: "code",
        serial: None,
    },
    Table {
        name: "recommendations",
        cols: &[
            ("id", Text),
            ("issuer", Text),
            ("year", Int),
            ("seq", Int),
            ("local_ref", Text),
            ("kind", Text),
            ("status", Text),
            ("title", Text),
            ("text", Text),
            ("published", Text),
            ("level", Text),
            ("source_json", Text),
            ("evidence_json", Text),
            ("patient_impact", Text),
            ("cost_json", Text),
            ("equality_json", Text),
            ("risk", Text),
            ("response_deadline", Text),
            ("provenance_json", Text),
            ("import_key", Text),
            ("version", Int),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        order: "issuer, year, seq",
        serial: None,
    },
    Table {
        name: "addressees",
        cols: &[
            ("rec_id", Text),
            ("position", Int),
            ("name", Text),
            ("name_lower", Text),
            ("org", Text),
            ("status", Text),
            ("due", Text),
            ("acceptance", Text),
            ("implementation", Text),
            ("assessment", Text),
            ("closure_reason", Text),
            ("reassess_on", Text),
            ("verified_on", Text),
            ("progress_json", Text),
        ],
        order: "rec_id, position",
        serial: None,
    },
    Table {
        name: "responses",
        cols: &[
            ("rec_id", Text),
            ("addressee_position", Int),
            ("position", Int),
            ("received", Text),
            ("respondent", Text),
            ("url", Text),
            ("text", Text),
            ("acceptance", Text),
            ("reasons", Text),
        ],
        order: "rec_id, addressee_position, position",
        serial: None,
    },
    Table {
        name: "rec_tags",
        cols: &[
            ("rec_id", Text),
            ("tag_kind", Text),
            ("position", Int),
            ("value", Text),
            ("value_lower", Text),
        ],
        order: "rec_id, tag_kind, position",
        serial: None,
    },
    Table {
        name: "links",
        cols: &[
            ("from_id", Text),
            ("position", Int),
            ("kind", Text),
            ("target", Text),
            ("state", Text),
            ("asserted_by", Text),
            ("asserted_at", Text),
        ],
        order: "from_id, position",
        serial: None,
    },
    Table {
        name: "id_sequences",
        cols: &[("issuer", Text), ("year", Int), ("next_seq", Int)],
        order: "issuer, year",
        serial: None,
    },
    Table {
        name: "audit_events",
        cols: &[
            ("seq", Int),
            ("at", Text),
            ("actor", Text),
            ("action", Text),
            ("entity", Text),
            ("entity_id", Text),
            ("before_json", Text),
            ("after_json", Text),
        ],
        order: "seq",
        serial: Some("seq"),
    },
    Table {
        name: "outbox",
        cols: &[
            ("seq", Int),
            ("entity", Text),
            ("entity_id", Text),
            ("op", Text),
            ("at", Text),
        ],
        order: "seq",
        serial: Some("seq"),
    },
    Table {
        name: "api_tokens",
        cols: &[
            ("id", Int),
            ("org", Text),
            ("label", Text),
            ("token_hash", Text),
            ("created_at", Text),
            ("revoked_at", Text),
            ("roles", Text),
            ("expires_at", Text),
        ],
        order: "id",
        serial: Some("id"),
    },
    // Sessions and sign-in attempts are working state, not kept: a restore
    // signs everyone out.
    Table {
        name: "users",
        cols: &[
            ("id", Int),
            ("email", Text),
            ("name", Text),
            ("password_hash", Text),
            ("disabled", Int),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        order: "id",
        serial: Some("id"),
    },
    Table {
        name: "memberships",
        cols: &[
            ("user_id", Int),
            ("org", Text),
            ("roles", Text),
            ("updated_at", Text),
        ],
        order: "user_id, org",
        serial: None,
    },
    Table {
        name: "invitations",
        cols: &[
            ("user_id", Int),
            ("org", Text),
            ("roles", Text),
            ("invited_by", Text),
            ("created_at", Text),
        ],
        order: "user_id, org",
        serial: None,
    },
    Table {
        name: "workstreams",
        cols: &[
            ("id", Text),
            ("lead", Text),
            ("title", Text),
            ("status", Text),
            ("data_json", Text),
            ("version", Int),
            ("created_at", Text),
            ("updated_at", Text),
        ],
        order: "id",
        serial: None,
    },
    Table {
        name: "issuer_criteria",
        cols: &[("org", Text), ("ruleset", Text), ("updated_at", Text)],
        order: "org",
        serial: None,
    },
    Table {
        name: "response_rules",
        cols: &[("org", Text), ("rules_json", Text), ("updated_at", Text)],
        order: "org",
        serial: None,
    },
    Table {
        name: "endorsements",
        cols: &[
            ("rec_id", Text),
            ("org", Text),
            ("note", Text),
            ("actor", Text),
            ("created_at", Text),
        ],
        order: "rec_id, org",
        serial: None,
    },
    Table {
        name: "provider_profiles",
        cols: &[
            ("org", Text),
            ("kind", Text),
            ("profile_json", Text),
            ("updated_at", Text),
        ],
        order: "org",
        serial: None,
    },
    Table {
        name: "organisation_merges",
        cols: &[
            ("id", Int),
            ("from_code", Text),
            ("into_code", Text),
            ("from_json", Text),
            ("into_json", Text),
            ("moved_json", Text),
            ("actor", Text),
            ("at", Text),
            ("undone_at", Text),
        ],
        order: "id",
        serial: Some("id"),
    },
];

fn col_list(t: &Table) -> String {
    t.cols
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

fn io_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("writing the backup failed: {e}"))
}

pub(crate) async fn backup(store: &SqlStore, out: &mut (dyn std::io::Write + Send)) -> Result<u64> {
    let mut tx = store.begin_snapshot().await?;
    let schema = migrate::current(&mut tx).await?;
    writeln!(
        out,
        "{}",
        serde_json::json!({"concord_backup": 1, "schema": schema})
    )
    .map_err(io_err)?;
    let mut n: u64 = 0;
    for t in TABLES {
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            col_list(t),
            t.name,
            t.order
        );
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch(&mut *tx);
        while let Some(row) = rows.try_next().await? {
            let mut obj = Map::with_capacity(t.cols.len());
            for (i, (c, ty)) in t.cols.iter().enumerate() {
                let v = match ty {
                    Text => row.try_get::<Option<String>, _>(i)?.map(Value::String),
                    Int => row.try_get::<Option<i64>, _>(i)?.map(Value::from),
                };
                obj.insert((*c).to_string(), v.unwrap_or(Value::Null));
            }
            let line = serde_json::json!({"table": t.name, "row": Value::Object(obj)});
            serde_json::to_writer(&mut *out, &line).map_err(io_err)?;
            out.write_all(b"\n").map_err(io_err)?;
            n += 1;
        }
    }
    drop(tx);
    out.flush().map_err(io_err)?;
    Ok(n)
}

fn bad(line: u64, message: impl Into<String>) -> StoreError {
    StoreError::BadBackup {
        line,
        message: message.into(),
    }
}

/// Whether the database holds nothing a restore would lose: no records and
/// no organisations beyond the built-in seed list.
async fn is_empty(conn: &mut AnyConnection) -> Result<std::result::Result<(), String>> {
    // Every table a restore replaces, but the organisations (the seeds are
    // always there) and the audit trail and outbox (the seeds' own rows):
    // accounts, tokens and workstreams are as much the installation's as its
    // records, and a restore deletes them.
    for t in TABLES {
        if matches!(t.name, "organisations" | "audit_events" | "outbox") {
            continue;
        }
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {}",
            t.name
        )))
        .fetch_one(&mut *conn)
        .await?;
        if rows > 0 {
            return Ok(Err(format!(
                "the database already holds {rows} {}",
                t.name.replace('_', " ")
            )));
        }
    }
    let seeds: HashSet<String> = concord_domain::seed_organisations()
        .into_iter()
        .map(|o| o.code.to_string())
        .collect();
    let codes: Vec<String> = sqlx::query_scalar("SELECT code FROM organisations")
        .fetch_all(&mut *conn)
        .await?;
    let extra: Vec<&String> = codes.iter().filter(|c| !seeds.contains(*c)).collect();
    if !extra.is_empty() {
        return Ok(Err(format!(
            "the database already holds {} organisations of its own",
            extra.len()
        )));
    }
    Ok(Ok(()))
}

/// Rows of one table waiting to be inserted, with the line of the first.
struct Pending {
    table: usize,
    first_line: u64,
    vals: Vec<Val>,
    rows: usize,
}

async fn flush(conn: &mut AnyConnection, p: &mut Option<Pending>) -> Result<()> {
    let Some(p) = p.take() else { return Ok(()) };
    let t = &TABLES[p.table];
    codec::insert_rows(conn, t.name, &col_list(t), p.vals)
        .await
        .map_err(|e| {
            bad(
                p.first_line,
                format!(
                    "{} rows of {} from this line could not be loaded: {e}",
                    p.rows, t.name
                ),
            )
        })
}

pub(crate) async fn restore(
    store: &SqlStore,
    input: &mut (dyn std::io::BufRead + Send),
) -> Result<u64> {
    let mut tx = store.begin_write().await?;
    if let Err(why) = is_empty(&mut tx).await? {
        return Err(StoreError::Refused(format!(
            "restore needs an empty database: {why}"
        )));
    }
    let mut line = String::new();
    let mut lineno: u64 = 0;
    let read = |input: &mut (dyn std::io::BufRead + Send),
                line: &mut String,
                lineno: u64|
     -> Result<usize> {
        line.clear();
        input
            .read_line(line)
            .map_err(|e| bad(lineno, format!("cannot read: {e}")))
    };
    // Header.
    loop {
        lineno += 1;
        if read(input, &mut line, lineno)? == 0 {
            return Err(bad(
                lineno,
                "the file is empty; expected a Concord backup header",
            ));
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let header: Value =
        serde_json::from_str(line.trim()).map_err(|e| bad(lineno, format!("not JSON: {e}")))?;
    if header.get("concord_backup").and_then(Value::as_i64) != Some(1) {
        return Err(bad(
            lineno,
            "not a Concord backup (expected {\"concord_backup\":1,...})",
        ));
    }
    let schema = header
        .get("schema")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad(lineno, "the header has no schema"))?;
    let ours = migrate::latest(store.backend);
    if schema > ours || schema < 1 {
        return Err(bad(
            lineno,
            format!("schema {schema} cannot be restored by this build (schema {ours})"),
        ));
    }

    // Start from nothing (the seed organisations and their audit rows go;
    // the backup carries its own).
    for t in TABLES.iter().rev() {
        sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {}", t.name)))
            .execute(&mut *tx)
            .await?;
    }

    let mut pending: Option<Pending> = None;
    let mut n: u64 = 0;
    loop {
        lineno += 1;
        if read(input, &mut line, lineno)? == 0 {
            break;
        }
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad(lineno, format!("not JSON: {e}")))?;
        let name = v
            .get("table")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(lineno, "no \"table\""))?;
        let ti = TABLES
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| bad(lineno, format!("unknown table {name:?}")))?;
        let t = &TABLES[ti];
        let row = v
            .get("row")
            .and_then(Value::as_object)
            .ok_or_else(|| bad(lineno, "no \"row\" object"))?;
        if let Some(k) = row.keys().find(|k| !t.cols.iter().any(|(c, _)| c == k)) {
            return Err(bad(lineno, format!("{name} has no column {k:?}")));
        }
        if pending
            .as_ref()
            .is_some_and(|p| p.table != ti || p.rows >= 2000)
        {
            flush(&mut tx, &mut pending).await?;
        }
        let p = pending.get_or_insert_with(|| Pending {
            table: ti,
            first_line: lineno,
            vals: Vec::new(),
            rows: 0,
        });
        // Backups from before an organisation had a status (schema < 11).
        let verified = Value::String("verified".into());
        for (c, ty) in t.cols {
            let val = match row.get(*c) {
                Some(v) => v,
                None if t.name == "organisations" && *c == "status" => &verified,
                None => &Value::Null,
            };
            p.vals.push(match (ty, val) {
                (Text, Value::Null) => Val::Text(None),
                (Text, Value::String(s)) => Val::Text(Some(s.clone())),
                (Int, Value::Null) => Val::Int(None),
                (Int, Value::Number(num)) if num.as_i64().is_some() => Val::Int(num.as_i64()),
                _ => {
                    return Err(bad(
                        lineno,
                        format!(
                            "{name}.{c}: {val} is not a {}",
                            if *ty == Text {
                                "string"
                            } else {
                                "whole number"
                            }
                        ),
                    ));
                }
            });
        }
        p.rows += 1;
        n += 1;
    }
    flush(&mut tx, &mut pending).await?;

    if store.backend == Backend::Postgres {
        for t in TABLES {
            if let Some(col) = t.serial {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{0}', '{1}'), COALESCE((SELECT MAX({1}) FROM {0}), 0) + 1, false)",
                    t.name, col
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut *tx)
                    .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(n)
}
