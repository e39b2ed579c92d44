//! `/api/v1/dashboard` (JSON) and `/api/v1/dashboard.csv` (one table as
//! CSV): the oversight dashboard's figures.

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use concord_app::DashboardRequest;
use concord_domain::dashboard::{Dashboard, Table};
use utoipa::IntoParams;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};

/// The filters (all optional; unknown or repeated parameters are refused;
/// empty values are ignored, as an HTML form sends them).
#[derive(Debug, Clone, Default, PartialEq, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the parameters, which are read by `parse`
pub struct DashboardParams {
    /// Only recommendations from this issuer (a registered organisation's code).
    #[param(example = "PFD")]
    pub issuer: Option<String>,
    /// Only recommendations with this theme (any case).
    #[param(example = "sepsis")]
    pub theme: Option<String>,
    /// Only recommendations with this care setting (any case).
    pub setting: Option<String>,
    /// Only recommendations published in this year.
    #[param(example = 2024)]
    pub year: Option<i32>,
    /// Overdue and answered as of the end of this day (YYYY-MM-DD); default: today in England.
    #[param(example = "2024-06-01")]
    pub as_of: Option<NaiveDate>,
}

/// The CSV's table, and the same filters.
#[derive(Debug, Clone, Default, PartialEq, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DashboardCsvParams {
    /// issuer, addressee (every addressee, not only the busiest 50), theme,
    /// setting, year, response_times, oldest_overdue, provider_kind.
    #[param(example = "issuer")]
    pub table: String,
    pub issuer: Option<String>,
    pub theme: Option<String>,
    pub setting: Option<String>,
    pub year: Option<i32>,
    pub as_of: Option<NaiveDate>,
}

const PARAMS: &[&str] = &["issuer", "theme", "setting", "year", "as_of"];

/// Reads a raw query string; `table` only when `with_table`.
pub fn parse(query: &str, with_table: bool) -> ApiResult<(DashboardRequest, Option<Table>)> {
    let mut req = DashboardRequest::default();
    let mut table = None;
    let mut seen: Vec<String> = Vec::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        let known = PARAMS.contains(&key.as_ref()) || (with_table && key == "table");
        if !known {
            let mut names = PARAMS.to_vec();
            if with_table {
                names.insert(0, "table");
            }
            return Err(ApiError::bad_input(format!(
                "unknown query parameter {key:?}; the dashboard accepts: {}",
                names.join(", ")
            )));
        }
        if seen.iter().any(|s| *s == key) {
            return Err(ApiError::bad_input(format!(
                "parameter {key}: is given more than once"
            )));
        }
        seen.push(key.to_string());
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        let bad = |msg: String| ApiError::bad_input(format!("parameter {key}: {msg}"));
        match key.as_ref() {
            "issuer" => req.issuer = Some(v.to_string()),
            "theme" => req.theme = Some(v.to_string()),
            "setting" => req.setting = Some(v.to_string()),
            "year" => {
                req.year = Some(
                    v.parse::<i32>()
                        .map_err(|_| bad(format!("{v:?} is not a year such as 2024")))?,
                )
            }
            "as_of" => {
                req.as_of = Some(
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .ok()
                        .filter(|_| v.len() == 10)
                        .ok_or_else(|| bad(format!("{v:?} is not a date (YYYY-MM-DD)")))?,
                )
            }
            "table" => table = Some(v.parse::<Table>().map_err(bad)?),
            _ => unreachable!("every known name is handled"),
        }
    }
    if with_table && table.is_none() {
        return Err(ApiError::bad_input(format!(
            "parameter table: is required, one of: {}",
            Table::allowed()
        )));
    }
    if table == Some(Table::Addressee) {
        req.all_addressees = true;
    }
    Ok((req, table))
}

/// The oversight dashboard.
///
/// Open, overdue, answered and implemented counts by issuer, addressee (the
/// busiest 50), theme, setting and year of publication; response times
/// (median and 90th percentile, in days, overall and by issuer); the 20
/// oldest overdue answers; and the open recommendations, with their cost,
/// landing on each kind of provider. Counts are of items (one recommendation
/// to one addressee), with the number of recommendations beside them.
/// Public: drafts never count. The kind of an addressee is the register's
/// (organisation kind and provider kind), else inferred from its name.
#[utoipa::path(
    get,
    path = "/dashboard",
    tag = "dashboard",
    operation_id = "dashboard",
    params(DashboardParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Every figure", body = Dashboard),
        (status = 400, description = "A parameter is not valid (unknown issuer, bad year or date, unknown parameter); the message names it", body = ErrorBody),
    )
)]
pub async fn dashboard(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Json<Dashboard>> {
    let (req, _) = parse(query.as_deref().unwrap_or(""), false)?;
    let d = state
        .services
        .as_principal(principal)
        .dashboard(&req)
        .await?;
    Ok(Json(d))
}

/// One table of the dashboard as CSV.
///
/// The same figures as `/dashboard`, one table at a time (`table=`), with a
/// header row. The addressee table lists every addressee. Cells that a
/// spreadsheet would read as a formula start with an apostrophe.
#[utoipa::path(
    get,
    path = "/dashboard.csv",
    tag = "dashboard",
    operation_id = "dashboard_csv",
    params(DashboardCsvParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The table as CSV", content_type = "text/csv", body = String),
        (status = 400, description = "A parameter is not valid, or table is missing; the message names it", body = ErrorBody),
    )
)]
pub async fn dashboard_csv(
    State(state): State<AppState>,
    Caller(principal): Caller,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let (req, table) = parse(query.as_deref().unwrap_or(""), true)?;
    let table = table.unwrap_or(Table::Issuer);
    let d = state
        .services
        .as_principal(principal)
        .dashboard(&req)
        .await?;
    let name = format!(
        "attachment; filename=\"dashboard-{}-{}.csv\"",
        table, d.as_of
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&name)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        d.csv(table),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_refuses_parameters_by_name() {
        let (r, t) = parse(
            "issuer=pfd&theme=Sepsis&year=2024&as_of=2024-06-01&setting=",
            false,
        )
        .unwrap();
        assert_eq!(r.issuer.as_deref(), Some("pfd"));
        assert_eq!(r.year, Some(2024));
        assert_eq!(r.setting, None);
        assert_eq!(t, None);
        let msg = |q: &str, t: bool| parse(q, t).unwrap_err().message().to_string();
        assert!(msg("year=twenty", false).starts_with("parameter year:"));
        assert!(msg("as_of=2024-6-1", false).starts_with("parameter as_of:"));
        assert!(msg("table=issuer", false).contains("unknown query parameter \"table\""));
        assert!(msg("year=1&year=2", false).contains("more than once"));
        assert!(msg("", true).starts_with("parameter table: is required"));
        assert!(msg("table=nope", true).starts_with("parameter table:"));
        let (r, t) = parse("table=addressee", true).unwrap();
        assert_eq!((r.all_addressees, t), (true, Some(Table::Addressee)));
    }
}
