//! `/api/v1/search`: ranked full-text search with facet counts.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{RawQuery, State};
use concord_app::{Page, SearchQuery, SearchResults, Sort};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::api::recommendations::ListParams;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

pub const DEFAULT_PER_PAGE: u64 = 20;

/// The query, its sort, and the listing's filters and paging.
#[derive(Debug, Clone, Default, PartialEq, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters, which are read by `SearchParams::parse`
pub struct SearchParamsDoc {
    /// Words, "quoted phrases" and -excluded words; abbreviations (A&E, ICB,
    /// PPH, NEWS2...) also find their long forms; longer words forgive one
    /// typo. At most 1,000 characters. Empty: every record that passes the
    /// filters, newest first.
    #[param(example = "ambulance handover delays")]
    pub q: Option<String>,
    /// `relevance` (default) or `newest`.
    #[param(example = "relevance")]
    pub sort: Option<String>,
    /// Issuing organisation's code (must be registered).
    pub issuer: Option<String>,
    /// An addressee's organisation code, or words of its written name.
    pub addressee: Option<String>,
    pub theme: Option<String>,
    pub setting: Option<String>,
    /// draft, published, closed, withdrawn, superseded.
    pub status: Option<String>,
    /// recommendation, safety_observation, safety_action, concern.
    pub kind: Option<String>,
    /// Published on or after (YYYY-MM-DD).
    pub from: Option<String>,
    /// Published on or before (YYYY-MM-DD).
    pub to: Option<String>,
    /// From 1; page * per_page may not pass 10,000.
    #[param(minimum = 1, default = 1)]
    pub page: Option<u64>,
    #[param(minimum = 1, maximum = 500, default = 20)]
    pub per_page: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchParams {
    pub q: String,
    pub sort: Sort,
    pub list: ListParams,
}

impl SearchParams {
    /// Reads a raw query string: `q` and `sort` here, the rest as the
    /// listing reads them (unknown or repeated parameters are refused).
    pub fn parse(query: &str) -> ApiResult<Self> {
        let mut q: Option<String> = None;
        let mut sort: Option<Sort> = None;
        let mut rest = form_urlencoded::Serializer::new(String::new());
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "q" => {
                    if q.replace(value.into_owned()).is_some() {
                        return Err(ApiError::bad_input("parameter q: is given more than once"));
                    }
                }
                "sort" => {
                    let s = value
                        .parse::<Sort>()
                        .map_err(|e| ApiError::bad_input(format!("parameter sort: {e}")))?;
                    if sort.replace(s).is_some() {
                        return Err(ApiError::bad_input(
                            "parameter sort: is given more than once",
                        ));
                    }
                }
                _ => {
                    rest.append_pair(&key, &value);
                }
            }
        }
        let list = ListParams::parse(&rest.finish()).map_err(|e| {
            if e.message().starts_with("unknown query parameter") {
                ApiError::bad_input(format!("{}, q, sort", e.message()))
            } else {
                e
            }
        })?;
        Ok(SearchParams {
            q: q.unwrap_or_default(),
            sort: sort.unwrap_or_default(),
            list,
        })
    }

    pub fn per_page(&self) -> u64 {
        self.list.per_page.unwrap_or(DEFAULT_PER_PAGE)
    }

    pub fn to_query(&self) -> SearchQuery {
        let per_page = self.per_page();
        SearchQuery {
            text: self.q.clone(),
            filter: self.list.to_filter(),
            page: Page {
                offset: (self.list.page() - 1).saturating_mul(per_page),
                limit: per_page,
            },
            sort: self.sort,
        }
    }
}

/// One hit. `snippet` is safe to put in HTML as it is: the text is escaped
/// and the matched words are wrapped in `<mark>`…`</mark>`, the only markup
/// it contains.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    #[schema(example = "HSSIB-2024-0012")]
    pub id: String,
    pub score: f32,
    pub title: String,
    #[schema(example = "… delays in <mark>ambulance</mark> <mark>handover</mark> …")]
    pub snippet: String,
}

/// Search results, as `concord search --json` prints them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResponse {
    /// Matches over all pages.
    pub total: u64,
    pub hits: Vec<SearchHit>,
    /// For each of issuer, addressee, kind, theme, setting, status, year:
    /// value -> number of matches (the 25 commonest values).
    pub facets: BTreeMap<String, BTreeMap<String, u64>>,
    pub page: u64,
    pub per_page: u64,
    #[schema(example = "relevance")]
    pub sort: String,
    /// True when no record had every word and records with some are shown.
    pub relaxed: bool,
    /// What was done with odd input (an unclosed quote, only common words...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl SearchResponse {
    pub fn new(r: SearchResults, page: u64, per_page: u64, sort: Sort) -> Self {
        SearchResponse {
            total: r.total,
            hits: r
                .hits
                .into_iter()
                .map(|h| SearchHit {
                    id: h.id,
                    score: h.score,
                    title: h.title,
                    snippet: h.snippet,
                })
                .collect(),
            facets: r.facets,
            page,
            per_page,
            sort: match sort {
                Sort::Relevance => "relevance".into(),
                Sort::Newest => "newest".into(),
            },
            relaxed: r.relaxed,
            notes: r.notes,
        }
    }
}

/// Search recommendations.
///
/// Ranked by BM25 (title counts most, then text, themes, source title,
/// addressees, settings, responses) or newest first; with counts by
/// issuer, addressee, kind, theme, setting, status and year over every
/// match. Anonymous callers find what is published; a token also finds its
/// own organisation's drafts.
#[utoipa::path(
    get,
    path = "/search",
    tag = "search",
    operation_id = "search",
    params(SearchParamsDoc),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "One page of hits with facet counts", body = SearchResponse),
        (status = 400, description = "A parameter is not valid (query over 1,000 characters, unknown issuer, bad date, paging past 10,000...); the message names it", body = ErrorBody),
        (status = 401, description = "The token is malformed, unknown or revoked", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<SearchResponse>> {
    let params = SearchParams::parse(query.as_deref().unwrap_or(""))?;
    let results = state
        .services
        .as_principal(principal)
        .search(params.to_query())
        .await?;
    Ok(Json(SearchResponse::new(
        results,
        params.list.page(),
        params.per_page(),
        params.sort,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_q_sort_and_the_listing_filters() {
        let p = SearchParams::parse("q=A%26E+handover&sort=newest&issuer=hssib&page=2&per_page=5")
            .unwrap();
        assert_eq!(p.q, "A&E handover");
        assert_eq!(p.sort, Sort::Newest);
        let q = p.to_query();
        assert_eq!(
            q.page,
            Page {
                offset: 5,
                limit: 5
            }
        );
        assert_eq!(q.filter.issuer.unwrap().as_str(), "HSSIB");
        let d = SearchParams::parse("").unwrap();
        assert_eq!(
            (d.q.as_str(), d.sort, d.per_page()),
            ("", Sort::Relevance, 20)
        );
    }

    #[test]
    fn refuses_bad_parameters_by_name() {
        let msg = |q: &str| SearchParams::parse(q).unwrap_err().message().to_string();
        assert!(msg("sort=oldest").starts_with("parameter sort:"));
        assert!(msg("q=a&q=b").contains("q: is given more than once"));
        assert!(msg("status=maybe").starts_with("parameter status:"));
        assert!(msg("qq=x").contains("unknown query parameter \"qq\""));
        assert!(msg("qq=x").ends_with("q, sort"));
    }
}
