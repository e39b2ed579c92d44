//! Bulk import: organisations, records and responses in the caller's one
//! transaction. Ids are settled in memory after locking the id sequences the
//! import touches; records arrive a batch at a time and each batch is written
//! (multi-row inserts) before the next is read, so memory holds one batch.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use concord_domain::provenance::{DataSource, PartOrigin, RecordPart, enrich};
use concord_domain::text::normalise_name;
use concord_domain::{
    Actor, Addressee, AddresseeStatus, DomainError, IdRequest, NewRecommendation, OrgCode,
    Organisation, Recommendation, RecommendationData, RecommendationId, Response,
    ResponseAttachment,
};
use sqlx::AnyConnection;
use sqlx::Row;

use super::codec::{self, RecRows, Val};
use super::{add_organisations, check_request, ids, to_json};
use crate::{
    ImportBatch, ImportFeed, ImportPlan, ImportSummary, ImportVariant, Result, StoreError,
};

/// Records written per round of multi-row inserts.
const CHUNK: usize = 500;

/// What attaching one response did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attached {
    /// Added to the addressee at this position.
    To(usize),
    /// Already recorded for this report.
    Duplicate,
}

/// Attaches a response to the right addressee of a report (pure; see the
/// store's import rules): the addressee whose organisation is the
/// respondent's; else the one whose normalised name equals, then contains or
/// is contained in, the respondent's; else a new addressee named after the
/// respondent. The addressee's status becomes `response_received`.
pub(crate) fn attach(data: &mut RecommendationData, att: &ResponseAttachment) -> Attached {
    let r = &att.response;
    let recorded = data
        .addressees
        .iter()
        .flat_map(|a| a.responses.iter())
        .any(|x| match &r.url {
            Some(url) => x.url.as_ref() == Some(url),
            None => match &r.text {
                Some(text) => x.text.as_ref() == Some(text),
                None => x.url.is_none() && x.text.is_none(),
            },
        });
    if recorded {
        return Attached::Duplicate;
    }
    let respondent = att.respondent.as_deref().or(r.respondent.as_deref());
    let by_org = att.respondent_org.as_ref().and_then(|o| {
        data.addressees
            .iter()
            .position(|a| a.org.as_ref() == Some(o))
    });
    let by_name = || {
        let n = normalise_name(respondent?);
        if n.is_empty() {
            return None;
        }
        let names: Vec<String> = data
            .addressees
            .iter()
            .map(|a| normalise_name(&a.name))
            .collect();
        names.iter().position(|a| *a == n).or_else(|| {
            names
                .iter()
                .position(|a| !a.is_empty() && (a.contains(n.as_str()) || n.contains(a.as_str())))
        })
    };
    let i = match by_org.or_else(by_name) {
        Some(i) => i,
        None => {
            let name = respondent
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .or_else(|| att.respondent_org.as_ref().map(|o| o.to_string()))
                .unwrap_or_else(|| "Unknown respondent".to_string());
            data.addressees.push(Addressee {
                name,
                org: att.respondent_org.clone(),
                status: AddresseeStatus::ResponseReceived,
                due: None,
                responses: Vec::new(),
                ..Default::default()
            });
            data.addressees.len() - 1
        }
    };
    let a = &mut data.addressees[i];
    a.status = AddresseeStatus::ResponseReceived;
    let mut response: Response = r.clone();
    if response.respondent.is_none() {
        response.respondent = att.respondent.clone();
    }
    a.responses.push(response);
    Attached::To(i)
}

fn prefixed(e: DomainError, index: usize) -> StoreError {
    StoreError::ImportRecord {
        index,
        message: e.to_string(),
    }
}

/// In-memory id sequences for the pairs an import touches (locked first).
struct Sequences {
    next: HashMap<(OrgCode, u16), i64>,
    initial: HashMap<(OrgCode, u16), i64>,
}

impl Sequences {
    /// Locks a pair's sequence (PostgreSQL row lock; SQLite holds the write
    /// lock) and reads its next number, once per import.
    async fn lock(&mut self, conn: &mut AnyConnection, issuer: &OrgCode, year: u16) -> Result<()> {
        let pair = (issuer.clone(), year);
        if !self.next.contains_key(&pair) {
            let next = ids::raise(conn, issuer, year, 1).await?;
            self.next.insert(pair.clone(), next);
            self.initial.insert(pair, next);
        }
        Ok(())
    }

    fn entry(&mut self, issuer: &OrgCode, year: u16) -> &mut i64 {
        self.next.entry((issuer.clone(), year)).or_insert(1)
    }

    fn raise(&mut self, id: &RecommendationId) {
        let e = self.entry(&id.issuer, id.year);
        *e = (*e).max(i64::from(id.seq) + 1);
    }

    /// The next free number: not stored (`taken`), and not asked for by
    /// any row of this import, read yet or not (`plan`).
    fn allocate(
        &mut self,
        issuer: &OrgCode,
        year: u16,
        floor: u32,
        taken: &HashSet<String>,
        plan: &ImportPlan,
    ) -> Result<RecommendationId> {
        let e = self.entry(issuer, year);
        let mut s = (*e).max(i64::from(floor.max(1)));
        loop {
            let seq = u32::try_from(s).map_err(|_| {
                StoreError::Refused(format!("the numbers of {issuer} for {year} are used up"))
            })?;
            let id = RecommendationId::new(issuer.clone(), year, seq)?;
            if !taken.contains(&id.to_string()) && !plan.is_asked(issuer, year, seq) {
                *self.entry(issuer, year) = s + 1;
                return Ok(id);
            }
            s += 1;
        }
    }
}

fn year_of(req: &IdRequest) -> u16 {
    match req {
        IdRequest::Exact(id) | IdRequest::Preferred { id, .. } => id.year,
        IdRequest::Allocate { year, .. } => *year,
    }
}

/// What an import carries from one batch to the next: bounded by the
/// sequences, the reports enriched and the responses, never by the records.
struct Run<'a> {
    actor: &'a Actor,
    now: DateTime<Utc>,
    plan: &'a ImportPlan,
    seqs: Sequences,
    /// Stored reports already enriched by a row of this import (one row
    /// enriches a stored report at most).
    claimed: HashSet<String>,
    /// Responses not yet attached, by their report's import key.
    by_key: HashMap<String, Vec<ResponseAttachment>>,
    summary: ImportSummary,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn import(
    conn: &mut AnyConnection,
    actor: &Actor,
    orgs: &[Organisation],
    plan: &ImportPlan,
    feed: &mut ImportFeed,
    responses: Vec<ResponseAttachment>,
    now: DateTime<Utc>,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportSummary> {
    let mut run = Run {
        actor,
        now,
        plan,
        seqs: Sequences {
            next: HashMap::new(),
            initial: HashMap::new(),
        },
        claimed: HashSet::new(),
        by_key: HashMap::new(),
        summary: ImportSummary::default(),
    };

    // 1. Lock the id sequences this import touches, in a fixed order, before
    //    anything else.
    for (issuer, year) in &plan.pairs {
        run.seqs.lock(conn, issuer, *year).await?;
    }

    // 2. Organisations whose code is new.
    let orgs_added = add_organisations(conn, actor, orgs, now).await?;

    for r in responses {
        run.by_key.entry(r.parent_key.clone()).or_default().push(r);
    }

    // 3. Records, a batch at a time: each batch is written before the next
    //    is read, so the next one's lookups see it.
    let mut handled: u64 = 0;
    while let Some(batch) = feed.recv().await {
        let batch = batch.map_err(StoreError::ImportSource)?;
        handled += batch.len() as u64;
        import_batch(conn, &mut run, batch).await?;
        progress(handled);
    }
    let Run {
        seqs,
        by_key,
        mut summary,
        ..
    } = run;

    // 4. The id sequences move past every number used.
    for (pair, next) in &seqs.next {
        if seqs.initial.get(pair) != Some(next) {
            sqlx::query("UPDATE id_sequences SET next_seq = $1 WHERE issuer = $2 AND year = $3 AND next_seq < $1")
                .bind(*next)
                .bind(pair.0.as_str())
                .bind(i64::from(pair.1))
                .execute(&mut *conn)
                .await?;
        }
    }

    // 5. Responses to reports already in the register.
    attach_to_stored(conn, actor, by_key, now, &mut summary).await?;
    summary.responses_unmatched.sort_unstable();

    // 6. One summary row for the whole import, when it changed anything.
    if summary.imported > 0
        || summary.enriched > 0
        || summary.responses_attached > 0
        || !orgs_added.is_empty()
    {
        let after = serde_json::json!({
            "imported": summary.imported,
            "enriched": summary.enriched,
            "skipped": summary.skipped,
            "responses_attached": summary.responses_attached,
            "responses_skipped": summary.responses_skipped,
            "responses_unmatched": summary.responses_unmatched.len(),
            "organisations_added": orgs_added,
        });
        super::write_audit(
            conn,
            codec::audit_vals(
                now,
                actor,
                "import",
                "import",
                "import",
                None,
                Some(to_json(&after)?),
            ),
        )
        .await?;
    }
    Ok(summary)
}

/// One batch: what of it is already stored, then its new records (with
/// their responses) and the stored reports it enriches, written.
async fn import_batch(
    conn: &mut AnyConnection,
    run: &mut Run<'_>,
    records: ImportBatch,
) -> Result<()> {
    let now = run.now;
    let actor = run.actor;
    // A record the plan did not note (it cannot happen through the
    // importer, but the sequence must be locked all the same).
    for (_, r) in &records {
        run.seqs.lock(conn, r.id.issuer(), year_of(&r.id)).await?;
    }

    // What is already there (earlier batches of this import included).
    let keys: Vec<String> = records
        .iter()
        .filter_map(|(_, r)| r.import_key.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut seen_keys = codec::existing(conn, "import_key", &keys).await?;
    let wanted: Vec<String> = records
        .iter()
        .filter_map(|(_, r)| match &r.id {
            IdRequest::Exact(id) | IdRequest::Preferred { id, .. } => Some(id.to_string()),
            IdRequest::Allocate { .. } => None,
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut taken = codec::existing(conn, "id", &wanted).await?;
    // A record whose exact id is already stored is skipped only if it is the
    // same record (re-importing an export); a different record under a taken
    // id is refused, never dropped and never written over.
    let clashing: Vec<String> = records
        .iter()
        .filter_map(|(_, r)| match &r.id {
            IdRequest::Exact(id) if taken.contains(&id.to_string()) => Some(id.to_string()),
            _ => None,
        })
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let stored: HashMap<String, RecommendationData> = codec::load_many(conn, &clashing)
        .await?
        .into_iter()
        .map(|r| (r.id.to_string(), r.data))
        .collect();

    // Reports already in the register, by address, else by reference:
    // a second source enriches them instead of being skipped.
    let known: Vec<String> = records
        .iter()
        .filter_map(|(_, r)| r.import_key.clone())
        .filter(|k| seen_keys.contains(k))
        .collect();
    let mut stored_by_key = load_by_keys(conn, &known).await?;
    let mut by_reference: HashMap<usize, Recommendation> = HashMap::new();
    // A stored report is enriched by one row at most: the row with its
    // address, else the first row that names it by reference.
    for r in stored_by_key.values() {
        run.claimed.insert(r.id.to_string());
    }
    for (i, r) in &records {
        if r.import_key.as_ref().is_some_and(|k| seen_keys.contains(k)) {
            continue;
        }
        if let Some(rec) = match_by_reference(conn, r).await.map_err(|e| match e {
            StoreError::Refused(message) => StoreError::ImportRecord { index: *i, message },
            e => e,
        })? && run.claimed.insert(rec.id.to_string())
        {
            by_reference.insert(*i, rec);
        }
    }
    let mut enriched: Vec<Recommendation> = Vec::new();
    let summary = &mut run.summary;

    let mut rows = RecRows::default();
    for (i, mut new) in records {
        // Only a source that says where its parts come from (the PFD files)
        // enriches; our own exports are skipped or refused as before.
        let known = if new.provenance.parts.is_empty() {
            None
        } else {
            match new
                .import_key
                .as_ref()
                .and_then(|k| stored_by_key.remove(k))
            {
                Some(rec) => Some(rec),
                None => by_reference.remove(&i),
            }
        };
        if let Some(mut rec) = known {
            let incoming = new.data.clone().validate().map_err(|e| prefixed(e, i))?;
            let before = rec.clone();
            let e = enrich(
                &mut rec.data,
                &mut rec.provenance,
                &incoming,
                &new.provenance,
            );
            if e.changed() {
                rec.provenance.stamp(now);
                rec.data = rec.data.validate().map_err(|e| prefixed(e, i))?;
                rec.version += 1;
                rec.updated_at = now;
                for v in &e.variants {
                    summary.variants.push(ImportVariant {
                        index: i,
                        id: rec.id.to_string(),
                        part: v.part,
                        kept: concord_domain::provenance::value_of(&rec.data, v.part),
                        other: v.value.clone(),
                        other_from: v.from,
                    });
                }
                rows.audit.extend(codec::audit_vals(
                    now,
                    actor,
                    "enrich",
                    "recommendation",
                    &rec.id.to_string(),
                    Some(to_json(&before)?),
                    Some(to_json(&rec)?),
                ));
                rows.outbox
                    .extend(codec::outbox_vals(&rec.id.to_string(), now));
                enriched.push(rec);
                summary.enriched += 1;
            } else {
                summary.skipped += 1;
            }
            if let Some(k) = &new.import_key {
                seen_keys.insert(k.clone());
            }
            continue;
        }
        let skip = new
            .import_key
            .as_ref()
            .is_some_and(|k| seen_keys.contains(k))
            || matches!(&new.id, IdRequest::Exact(id) if taken.contains(&id.to_string()));
        if skip {
            if let IdRequest::Exact(id) = &new.id
                && let Some(existing) = stored.get(&id.to_string())
            {
                let incoming = new.data.clone().validate().map_err(|e| prefixed(e, i))?;
                if *existing != incoming {
                    return Err(StoreError::ImportRecord {
                        index: i,
                        message: format!(
                            "{id} is already in the register with different content; it was not overwritten (edit it instead, or give this record no id)"
                        ),
                    });
                }
            }
            summary.skipped += 1;
        } else {
            if let Some(list) = new.import_key.as_ref().and_then(|k| run.by_key.remove(k)) {
                for att in &list {
                    match attach(&mut new.data, att) {
                        Attached::To(_) => summary.responses_attached += 1,
                        Attached::Duplicate => summary.responses_skipped += 1,
                    }
                }
            }
            check_request(&new).map_err(|e| prefixed(e, i))?;
            let NewRecommendation {
                id: request,
                data,
                import_key,
                version,
                created_at,
                updated_at,
                mut provenance,
            } = new;
            provenance.stamp(now);
            let data = data.validate().map_err(|e| prefixed(e, i))?;
            let seqs = &mut run.seqs;
            let id = match request {
                IdRequest::Exact(id) => {
                    seqs.raise(&id);
                    id
                }
                IdRequest::Allocate {
                    issuer,
                    year,
                    floor,
                } => seqs.allocate(&issuer, year, floor, &taken, run.plan)?,
                IdRequest::Preferred { id, fallback_floor } => {
                    if taken.contains(&id.to_string()) {
                        seqs.allocate(&id.issuer, id.year, fallback_floor, &taken, run.plan)?
                    } else {
                        seqs.raise(&id);
                        id
                    }
                }
            };
            let id_s = id.to_string();
            if let Some(k) = &import_key {
                seen_keys.insert(k.clone());
            }
            let created_at = created_at.unwrap_or(now);
            let rec = Recommendation {
                id,
                data,
                version: version.unwrap_or(1),
                created_at,
                updated_at: updated_at.unwrap_or(created_at),
                import_key,
                provenance,
            };
            rows.push(&rec)?;
            rows.audit.extend(codec::audit_vals(
                now,
                actor,
                "import",
                "recommendation",
                &id_s,
                None,
                None,
            ));
            rows.outbox.extend(codec::outbox_vals(&id_s, now));
            taken.insert(id_s);
            summary.imported += 1;
            if rows.len_records() >= CHUNK {
                rows.flush(conn).await?;
            }
        }
    }
    rows.flush(conn).await?;
    // The enriched reports: main row, children, in chunks.
    for chunk in enriched.chunks(CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|r| r.id.to_string()).collect();
        for rec in chunk {
            codec::update_main(conn, rec, rec.version - 1).await?;
        }
        codec::delete_children(conn, &ids).await?;
        let mut child_rows = RecRows::default();
        for rec in chunk {
            child_rows.push_children(rec)?;
        }
        child_rows.flush(conn).await?;
    }
    Ok(())
}

async fn attach_to_stored(
    conn: &mut AnyConnection,
    actor: &Actor,
    mut by_key: HashMap<String, Vec<ResponseAttachment>>,
    now: DateTime<Utc>,
    summary: &mut ImportSummary,
) -> Result<()> {
    if by_key.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<String> = by_key.keys().cloned().collect();
    keys.sort();
    let id_of = ids_by_import_key(conn, &keys).await?;
    let mut targets: Vec<(String, Vec<ResponseAttachment>)> = Vec::new();
    for key in keys {
        let list = by_key.remove(&key).unwrap_or_default();
        match id_of.get(&key) {
            Some(id) => targets.push((id.clone(), list)),
            None => summary
                .responses_unmatched
                .extend(list.iter().map(|r| r.row)),
        }
    }
    for chunk in targets.chunks(CHUNK) {
        let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
        let recs = codec::load_many(conn, &ids).await?;
        let mut by_id: HashMap<String, Recommendation> =
            recs.into_iter().map(|r| (r.id.to_string(), r)).collect();
        let mut rows = RecRows::default();
        let mut changed: Vec<String> = Vec::new();
        for (id, list) in chunk {
            let Some(before) = by_id.remove(id) else {
                continue;
            };
            let mut after = before.clone();
            let mut any = false;
            for att in list {
                match attach(&mut after.data, att) {
                    Attached::To(_) => {
                        summary.responses_attached += 1;
                        any = true;
                    }
                    Attached::Duplicate => summary.responses_skipped += 1,
                }
            }
            if !any {
                continue;
            }
            let rows_named = list
                .iter()
                .map(|r| r.row.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            after.data = after.data.validate().map_err(|e| {
                StoreError::Invalid(DomainError::invalid(
                    format!("responses (rows {rows_named}) for {id}"),
                    e.to_string(),
                ))
            })?;
            after.version += 1;
            after.updated_at = now;
            if !after.provenance.parts.is_empty() {
                after.provenance.set_origin(PartOrigin {
                    part: RecordPart::Responses,
                    from: DataSource::PfdToolkitResponses,
                    file: None,
                    at: Some(now),
                    stand_in: false,
                });
            }
            rows.push_children(&after)?;
            rows.audit.extend(codec::audit_vals(
                now,
                actor,
                "attach_responses",
                "recommendation",
                id,
                Some(to_json(&before)?),
                Some(to_json(&after)?),
            ));
            rows.outbox.extend(codec::outbox_vals(id, now));
            changed.push(id.clone());
        }
        if changed.is_empty() {
            continue;
        }
        for part in changed.chunks(codec::IN_CHUNK) {
            let sql = format!(
                "UPDATE recommendations SET version = version + 1, updated_at = $1 WHERE id IN ({})",
                codec::placeholders(2, part.len())
            );
            let params = std::iter::once(Val::text(codec::fmt_ts(now)))
                .chain(part.iter().map(|s| Val::text(s.clone())));
            codec::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params)
                .execute(&mut *conn)
                .await?;
        }
        codec::delete_children(conn, &changed).await?;
        rows.flush(conn).await?;
    }
    Ok(())
}

/// The id of each stored record holding one of these import keys.
async fn ids_by_import_key(
    conn: &mut AnyConnection,
    keys: &[String],
) -> Result<HashMap<String, String>> {
    let mut id_of = HashMap::new();
    for chunk in keys.chunks(codec::IN_CHUNK) {
        let sql = format!(
            "SELECT id, import_key FROM recommendations WHERE import_key IN ({})",
            codec::placeholders(1, chunk.len())
        );
        let found = codec::bind_all(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            chunk.iter().map(|k| Val::text(k.clone())),
        )
        .fetch_all(&mut *conn)
        .await?;
        for r in found {
            id_of.insert(r.try_get("import_key")?, r.try_get("id")?);
        }
    }
    Ok(id_of)
}

/// The stored records holding these import keys, by key.
async fn load_by_keys(
    conn: &mut AnyConnection,
    keys: &[String],
) -> Result<HashMap<String, Recommendation>> {
    let ids: Vec<String> = ids_by_import_key(conn, keys).await?.into_values().collect();
    Ok(codec::load_many(conn, &ids)
        .await?
        .into_iter()
        .filter_map(|r| r.import_key.clone().map(|k| (k, r)))
        .collect())
}

/// A report from a second source whose address is not in the register may
/// still be there under its reference (a coroner's `YYYY-NNNN`): the one
/// stored report with that reference and the same date. Two such reports
/// are refused rather than guessed between.
async fn match_by_reference(
    conn: &mut AnyConnection,
    new: &NewRecommendation,
) -> Result<Option<Recommendation>> {
    let IdRequest::Preferred { id, .. } = &new.id else {
        return Ok(None);
    };
    if new.provenance.parts.is_empty() {
        return Ok(None);
    }
    let canonical = format!("{:04}-{:04}", id.year, id.seq);
    let written = new
        .data
        .local_ref
        .clone()
        .unwrap_or_else(|| canonical.clone());
    let rows = sqlx::query(
        // Two lookups, each on an index (one OR across the columns read
        // every record of the issuer).
        "SELECT id FROM recommendations WHERE id = $2 AND issuer = $1 \
         UNION SELECT id FROM recommendations WHERE issuer = $1 AND local_ref IN ($3, $4)",
    )
    .bind(id.issuer.as_str().to_string())
    .bind(id.to_string())
    .bind(canonical)
    .bind(written)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<std::result::Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(None);
    }
    let mut same: Vec<Recommendation> = codec::load_many(conn, &ids)
        .await?
        .into_iter()
        .filter(|r| {
            let coroner = |d: &RecommendationData| {
                d.source
                    .as_ref()
                    .and_then(|s| s.title.as_deref())
                    .map(normalise_name)
            };
            r.data.published.is_some()
                && r.data.published == new.data.published
                && coroner(&r.data) == coroner(&new.data)
                && !r.provenance.parts.is_empty()
        })
        .collect();
    match same.len() {
        0 => Ok(None),
        1 => Ok(same.pop()),
        _ => Err(StoreError::Refused(format!(
            "its reference {} and date match {} reports in the register ({}) and its address matches none, so it cannot be told which one it is; it was not merged into either",
            new.data.local_ref.as_deref().unwrap_or("?"),
            same.len(),
            same.iter()
                .map(|r| r.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use concord_domain::{Lifecycle, RecKind};

    fn data(addressees: &[(&str, Option<&str>)]) -> RecommendationData {
        RecommendationData {
            local_ref: None,
            kind: RecKind::Concern,
            issuer: OrgCode::parse("PFD").unwrap(),
            source: None,
            title: "t".into(),
            text: "x".into(),
            published: None,
            status: Lifecycle::Published,
            level: None,
            addressees: addressees
                .iter()
                .map(|(n, o)| Addressee {
                    name: n.to_string(),
                    org: o.map(|o| OrgCode::parse(o).unwrap()),
                    status: AddresseeStatus::AwaitingResponse,
                    due: None,
                    responses: vec![],
                    ..Default::default()
                })
                .collect(),
            themes: vec![],
            settings: vec![],
            evidence: None,
            patient_impact: None,
            cost: None,
            equality: None,
            risk: None,
            response_deadline: None,
            links: vec![],
        }
    }

    fn att(
        respondent: Option<&str>,
        org: Option<&str>,
        url: Option<&str>,
        text: Option<&str>,
    ) -> ResponseAttachment {
        ResponseAttachment {
            row: 1,
            parent_key: "k".into(),
            respondent: respondent.map(String::from),
            respondent_org: org.map(|o| OrgCode::parse(o).unwrap()),
            response: Response {
                received: None,
                respondent: None,
                url: url.map(String::from),
                text: text.map(String::from),
                ..Default::default()
            },
        }
    }

    #[test]
    fn attaches_by_org_then_name_then_appends() {
        let mut d = data(&[
            ("Chief Executive, NHS England", Some("NHSE")),
            ("Northmoor Hospitals NHS Trust", None),
        ]);
        assert_eq!(
            attach(
                &mut d,
                &att(Some("NHS England"), Some("NHSE"), Some("u1"), None)
            ),
            Attached::To(0)
        );
        assert_eq!(d.addressees[0].status, AddresseeStatus::ResponseReceived);
        assert_eq!(d.addressees[1].status, AddresseeStatus::AwaitingResponse);
        assert_eq!(
            attach(
                &mut d,
                &att(Some("Northmoor Hospitals"), None, Some("u2"), None)
            ),
            Attached::To(1)
        );
        assert_eq!(
            attach(
                &mut d,
                &att(Some("The Royal College of Nursing"), None, Some("u3"), None)
            ),
            Attached::To(2)
        );
        assert_eq!(d.addressees[2].name, "The Royal College of Nursing");
        assert_eq!(d.addressees[2].status, AddresseeStatus::ResponseReceived);
        assert_eq!(
            d.addressees[0].responses[0].respondent.as_deref(),
            Some("NHS England")
        );
    }

    #[test]
    fn the_same_response_twice_is_skipped() {
        let mut d = data(&[("NHS England", Some("NHSE"))]);
        assert_eq!(
            attach(&mut d, &att(None, Some("NHSE"), Some("u1"), Some("a"))),
            Attached::To(0)
        );
        assert_eq!(
            attach(&mut d, &att(None, None, Some("u1"), Some("b"))),
            Attached::Duplicate
        );
        assert_eq!(
            attach(&mut d, &att(None, Some("NHSE"), None, Some("plain"))),
            Attached::To(0)
        );
        assert_eq!(
            attach(&mut d, &att(None, Some("NHSE"), None, Some("plain"))),
            Attached::Duplicate
        );
        assert_eq!(d.addressees[0].responses.len(), 2);
    }
}
