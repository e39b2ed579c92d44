//! Identifier allocation. `id_sequences.next_seq` is the smallest number that
//! may still be handed out for an issuer and year: it only ever goes up, and
//! it is above every number used (allocated or taken exactly), so a number is
//! never handed out twice.
//!
//! The first statement of every write transaction that needs an id is an
//! upsert on the issuer's row: on PostgreSQL it locks that row until commit,
//! so concurrent writers for the same issuer and year queue up; on SQLite the
//! transaction already holds the write lock (`BEGIN IMMEDIATE`).

use concord_domain::{IdRequest, OrgCode, RecommendationId};
use sqlx::AnyConnection;

use crate::{Result, StoreError};

/// Raises `next_seq` to at least `at_least`; returns the new value.
pub(crate) async fn raise(
    conn: &mut AnyConnection,
    issuer: &OrgCode,
    year: u16,
    at_least: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO id_sequences (issuer, year, next_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (issuer, year) DO UPDATE SET next_seq = \
         CASE WHEN id_sequences.next_seq > excluded.next_seq THEN id_sequences.next_seq ELSE excluded.next_seq END \
         RETURNING next_seq",
    )
    .bind(issuer.as_str())
    .bind(i64::from(year))
    .bind(at_least)
    .fetch_one(&mut *conn)
    .await?)
}

/// Hands out the next number at or above `floor`.
pub(crate) async fn allocate(
    conn: &mut AnyConnection,
    issuer: &OrgCode,
    year: u16,
    floor: u32,
) -> Result<u32> {
    let floor = i64::from(floor.max(1));
    let next: i64 = sqlx::query_scalar(
        "INSERT INTO id_sequences (issuer, year, next_seq) VALUES ($1, $2, $3) \
         ON CONFLICT (issuer, year) DO UPDATE SET next_seq = \
         CASE WHEN id_sequences.next_seq > $4 THEN id_sequences.next_seq + 1 ELSE excluded.next_seq END \
         RETURNING next_seq",
    )
    .bind(issuer.as_str())
    .bind(i64::from(year))
    .bind(floor + 1)
    .bind(floor)
    .fetch_one(&mut *conn)
    .await?;
    seq_from(next - 1, issuer, year)
}

fn seq_from(n: i64, issuer: &OrgCode, year: u16) -> Result<u32> {
    u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
        StoreError::Refused(format!("the numbers of {issuer} for {year} are used up"))
    })
}

async fn taken(conn: &mut AnyConnection, id: &RecommendationId) -> Result<bool> {
    Ok(sqlx::query("SELECT id FROM recommendations WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

/// Settles the id a request asks for, inside the caller's write transaction.
pub(crate) async fn resolve(conn: &mut AnyConnection, req: &IdRequest) -> Result<RecommendationId> {
    match req {
        IdRequest::Exact(id) => {
            raise(conn, &id.issuer, id.year, i64::from(id.seq) + 1).await?;
            if taken(conn, id).await? {
                return Err(StoreError::Duplicate(format!("{id} already exists")));
            }
            Ok(id.clone())
        }
        IdRequest::Allocate {
            issuer,
            year,
            floor,
        } => {
            let seq = allocate(conn, issuer, *year, *floor).await?;
            Ok(RecommendationId::new(issuer.clone(), *year, seq)?)
        }
        IdRequest::Preferred { id, fallback_floor } => {
            // Lock the row first (a no-op raise), then look.
            raise(conn, &id.issuer, id.year, 1).await?;
            if taken(conn, id).await? {
                let seq = allocate(conn, &id.issuer, id.year, *fallback_floor).await?;
                Ok(RecommendationId::new(id.issuer.clone(), id.year, seq)?)
            } else {
                raise(conn, &id.issuer, id.year, i64::from(id.seq) + 1).await?;
                Ok(id.clone())
            }
        }
    }
}
