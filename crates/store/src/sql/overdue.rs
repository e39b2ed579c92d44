//! Late answers: every addressee whose response was due before a date and
//! had not arrived by it.
//!
//! The definition is [`concord_domain::lifecycle::overdue_as_of`]; this is the
//! same rule as one portable SQL statement, so that a million records need
//! not be loaded to find the late ones:
//!
//! - the recommendation is published (never a draft, nor closed, withdrawn
//!   or superseded);
//! - the addressee still owes an answer (not `not_required`, `dormant` or
//!   `closed`);
//! - no response of theirs was received on or before the date (an undated
//!   one counts as received: PFD replies are published undated);
//! - the due date — the addressee's own, else the recommendation's deadline,
//!   else publication plus the issuer's period — is before the date (due on
//!   the 1st means late from the 2nd).
//!
//! Dates are `YYYY-MM-DD` text on both backends, so every comparison is a
//! text comparison and no dialect's date arithmetic is needed: "publication
//! plus D days is before `as_of`" is written "publication is before `as_of`
//! minus D", with one such threshold per issuer that has its own period. The
//! due date and the days late are then computed with the domain's own
//! functions, and the rows sorted here (most days late first, then id).

use concord_domain::lifecycle::{Escalation, RulesBook, days_overdue, due_from};
use concord_domain::{AddresseeStatus, Lifecycle, OrgCode, RecommendationId};
use sqlx::{AnyConnection, Row};

use super::codec::{self, Val};
use super::list::like_escape;
use crate::{OverdueFilter, OverdueRow, Result, StoreError};

/// The statement and its parameters (public to the crate for tests).
pub(crate) fn overdue_sql(f: &OverdueFilter, rules: &RulesBook) -> (String, Vec<Val>) {
    let mut params: Vec<Val> = Vec::new();
    let p = |params: &mut Vec<Val>, v: Val| {
        params.push(v);
        format!("${}", params.len())
    };
    let as_of = p(&mut params, Val::text(codec::fmt_date(f.as_of)));
    // Publication on or before the threshold means due before as_of.
    let threshold = |days: u32| codec::fmt_date(due_before(f.as_of, days));
    let mut case = String::from("CASE r.issuer");
    for (issuer, r) in &rules.issuers {
        let i = p(&mut params, Val::text(issuer.as_str()));
        let t = p(&mut params, Val::text(threshold(r.days_to_respond)));
        case.push_str(&format!(" WHEN {i} THEN {t}"));
    }
    let d = p(
        &mut params,
        Val::text(threshold(rules.default.days_to_respond)),
    );
    let case = if rules.issuers.is_empty() {
        d
    } else {
        format!("{case} ELSE {d} END")
    };
    let published = Lifecycle::Published.as_str();
    let closed: Vec<String> = [
        AddresseeStatus::NotRequired,
        AddresseeStatus::Dormant,
        AddresseeStatus::Closed,
    ]
    .iter()
    .map(|s| format!("'{}'", s.as_str()))
    .collect();
    let mut conds = vec![
        format!("r.status = '{published}'"),
        format!("a.status NOT IN ({})", closed.join(", ")),
        format!(
            "(COALESCE(a.due, r.response_deadline) < {as_of} \
             OR (a.due IS NULL AND r.response_deadline IS NULL AND r.published <= {case}))"
        ),
        format!(
            "NOT EXISTS (SELECT 1 FROM responses s WHERE s.rec_id = a.rec_id \
             AND s.addressee_position = a.position \
             AND (s.received IS NULL OR s.received <= {as_of}))"
        ),
    ];
    if let Some(issuer) = &f.issuer {
        let i = p(&mut params, Val::text(issuer.as_str()));
        conds.push(format!("r.issuer = {i}"));
    }
    if let Some(addr) = &f.addressee {
        let t = addr.trim();
        let code = p(&mut params, Val::text(t.to_uppercase()));
        let pat = p(
            &mut params,
            Val::text(format!("%{}%", like_escape(&t.to_lowercase()))),
        );
        conds.push(format!(
            "(a.org = {code} OR a.name_lower LIKE {pat} ESCAPE '\\')"
        ));
    }
    let sql = format!(
        "SELECT r.id, r.title, r.published, r.response_deadline, \
         a.position, a.name, a.org, a.due, a.progress_json \
         FROM addressees a JOIN recommendations r ON r.id = a.rec_id \
         WHERE {}",
        conds.join(" AND ")
    );
    (sql, params)
}

/// The last publication date whose period of `days` ends before `as_of`.
fn due_before(as_of: chrono::NaiveDate, days: u32) -> chrono::NaiveDate {
    as_of - chrono::Duration::days(i64::from(days) + 1)
}

/// Only the escalations, from the addressee's progress document.
#[derive(serde::Deserialize, Default)]
struct Escalations {
    #[serde(default)]
    escalations: Vec<Escalation>,
}

pub(crate) async fn overdue(
    conn: &mut AnyConnection,
    f: &OverdueFilter,
    rules: &RulesBook,
) -> Result<Vec<OverdueRow>> {
    let (sql, params) = overdue_sql(f, rules);
    let rows = codec::bind_all(sqlx::query(sqlx::AssertSqlSafe(sql)), params)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id_s: String = row.try_get("id")?;
        let corrupt = |what: &str, e: String| StoreError::Corrupt(format!("{id_s}: {what}: {e}"));
        let id = RecommendationId::parse(&id_s).map_err(|e| corrupt("id", e.to_string()))?;
        let date = |col: &str| -> Result<Option<chrono::NaiveDate>> {
            row.try_get::<Option<String>, _>(col)?
                .map(|s| codec::parse_date(&s))
                .transpose()
        };
        let published = date("published")?;
        let due = date("due")?
            .or(date("response_deadline")?)
            .or_else(|| published.map(|p| due_from(p, rules.for_issuer(&id.issuer))));
        // The statement already asked for this; the domain has the last word.
        let Some(due) = due else { continue };
        let Some(days) = days_overdue(due, f.as_of) else {
            continue;
        };
        let escalations = match row.try_get::<Option<String>, _>("progress_json")? {
            Some(s) => {
                serde_json::from_str::<Escalations>(&s)
                    .map_err(|e| corrupt("addressee progress", e.to_string()))?
                    .escalations
            }
            None => Vec::new(),
        };
        let position: i64 = row.try_get("position")?;
        out.push(OverdueRow {
            title: row.try_get("title")?,
            published,
            position: usize::try_from(position)
                .map_err(|e| corrupt("addressee position", e.to_string()))?,
            addressee: row.try_get("name")?,
            org: row
                .try_get::<Option<String>, _>("org")?
                .map(|o| OrgCode::parse(&o).map_err(|e| corrupt("addressee org", e.to_string())))
                .transpose()?,
            due,
            days_overdue: days,
            escalations,
            id,
        });
    }
    out.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.position.cmp(&b.position))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn thresholds_agree_with_the_domain() {
        // Published on the threshold: due the day before as_of, one day late.
        let rules = RulesBook::builtin();
        let pfd = rules.for_issuer(&OrgCode::parse("PFD").unwrap());
        let as_of = d("2024-04-07");
        let t = due_before(as_of, pfd.days_to_respond);
        assert_eq!(days_overdue(due_from(t, pfd), as_of), Some(1));
        assert_eq!(
            days_overdue(due_from(t.succ_opt().unwrap(), pfd), as_of),
            None
        );
    }

    #[test]
    fn filters_become_parameters() {
        let rules = RulesBook::builtin();
        let (sql, params) = overdue_sql(
            &OverdueFilter {
                as_of: d("2024-04-07"),
                issuer: Some(OrgCode::parse("PFD").unwrap()),
                addressee: Some("50%".into()),
            },
            &rules,
        );
        assert!(sql.contains("r.status = 'published'"), "{sql}");
        assert!(sql.contains("a.status NOT IN ('not_required', 'dormant', 'closed')"));
        // as_of, one (code, threshold) per issuer, the default, issuer, addressee twice.
        assert_eq!(params.len(), 1 + 2 * rules.issuers.len() + 1 + 1 + 2);
        assert_eq!(params.last(), Some(&Val::text("%50\\%%")));
        assert!(
            !sql.contains("50%"),
            "values are bound, not written in: {sql}"
        );
    }
}
