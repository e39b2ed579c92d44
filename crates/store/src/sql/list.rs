//! Filtered, paged listings.

use concord_domain::Lifecycle;
use sqlx::AnyConnection;

use super::codec::{self, Val};
use crate::{DraftVisibility, ListPage, Page, PartsFilter, RecommendationFilter, Result};

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The WHERE clause (on `recommendations r`) and its parameters.
pub(crate) fn where_clause(f: &RecommendationFilter) -> (String, Vec<Val>) {
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Val> = Vec::new();
    let p = |params: &mut Vec<Val>, v: Val| {
        params.push(v);
        format!("${}", params.len())
    };
    if let Some(issuer) = &f.issuer {
        let a = p(&mut params, Val::text(issuer.as_str()));
        conds.push(format!("r.issuer = {a}"));
    }
    if let Some(addr) = &f.addressee {
        let t = addr.trim();
        let code = p(&mut params, Val::text(t.to_uppercase()));
        let pat = p(
            &mut params,
            Val::text(format!("%{}%", like_escape(&t.to_lowercase()))),
        );
        conds.push(format!(
            "EXISTS (SELECT 1 FROM addressees a WHERE a.rec_id = r.id AND (a.org = {code} OR a.name_lower LIKE {pat} ESCAPE '\\'))"
        ));
    }
    for (kind, value) in [("theme", &f.theme), ("setting", &f.setting)] {
        if let Some(v) = value {
            let a = p(&mut params, Val::text(v.trim().to_lowercase()));
            // Not a correlated EXISTS: SQLite answered that with the
            // (kind, value) index once per record, reading every record
            // with the tag each time (over a minute at a million records);
            // this reads them once.
            conds.push(format!(
                "r.id IN (SELECT t.rec_id FROM rec_tags t WHERE t.tag_kind = '{kind}' AND t.value_lower = {a})"
            ));
        }
    }
    if let Some(s) = f.status {
        let a = p(&mut params, Val::text(s.as_str()));
        conds.push(format!("r.status = {a}"));
    }
    if let Some(k) = f.kind {
        let a = p(&mut params, Val::text(k.as_str()));
        conds.push(format!("r.kind = {a}"));
    }
    if let Some(d) = f.from {
        let a = p(&mut params, Val::text(codec::fmt_date(d)));
        conds.push(format!("r.published >= {a}"));
    }
    if let Some(d) = f.to {
        let a = p(&mut params, Val::text(codec::fmt_date(d)));
        conds.push(format!("r.published <= {a}"));
    }
    let draft = Lifecycle::Draft.as_str();
    match &f.drafts {
        DraftVisibility::None => conds.push(format!("r.status <> '{draft}'")),
        DraftVisibility::OfIssuer(code) => {
            let a = p(&mut params, Val::text(code.as_str()));
            conds.push(format!("(r.status <> '{draft}' OR r.issuer = {a})"));
        }
        DraftVisibility::All => {}
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conds.join(" AND "))
    };
    (sql, params)
}

pub(crate) async fn list(
    conn: &mut AnyConnection,
    f: &RecommendationFilter,
    page: Page,
) -> Result<ListPage> {
    list_with_parts(conn, f, None, page).await
}

/// [`list`], narrowed to records with an addressee part in a given state
/// (and of a given organisation): the work queues of the signed-in pages.
pub(crate) async fn list_with_parts(
    conn: &mut AnyConnection,
    f: &RecommendationFilter,
    parts: Option<&PartsFilter>,
    page: Page,
) -> Result<ListPage> {
    let (mut wh, mut params) = where_clause(f);
    if let Some(parts) = parts {
        let mut marks = Vec::with_capacity(parts.statuses.len());
        for st in &parts.statuses {
            params.push(Val::text(st.as_str()));
            marks.push(format!("${}", params.len()));
        }
        if marks.is_empty() {
            // No state asked for: nothing can match.
            marks.push("NULL".into());
        }
        let mut cond = format!(
            "EXISTS (SELECT 1 FROM addressees a WHERE a.rec_id = r.id AND a.status IN ({})",
            marks.join(", ")
        );
        if let Some(org) = &parts.org {
            params.push(Val::text(org.as_str()));
            cond.push_str(&format!(" AND a.org = ${}", params.len()));
        }
        cond.push(')');
        wh = if wh.is_empty() {
            format!(" WHERE {cond}")
        } else {
            format!("{wh} AND {cond}")
        };
    }
    let row = codec::bind_all(
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM recommendations r{wh}"
        ))),
        params.clone(),
    )
    .fetch_one(&mut *conn)
    .await?;
    let total: i64 = sqlx::Row::try_get(&row, 0)?;
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset).unwrap_or(i64::MAX);
    let items = if limit == 0 {
        Vec::new()
    } else {
        let n = params.len();
        let cols = codec::REC_COLS
            .split(", ")
            .map(|c| format!("r.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM recommendations r{wh} \
             ORDER BY r.published DESC NULLS LAST, r.issuer, r.year, r.seq LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let mut params = params;
        params.push(Val::Int(Some(limit)));
        params.push(Val::Int(Some(offset)));
        codec::fetch_full(conn, &sql, params).await?
    };
    Ok(ListPage {
        total: total.max(0) as u64,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_escape("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    #[test]
    fn default_filter_hides_drafts() {
        let (sql, params) = where_clause(&RecommendationFilter::default());
        assert_eq!(sql, " WHERE r.status <> 'draft'");
        assert!(params.is_empty());
    }
}
