//! `/dashboard`: the oversight dashboard as a page (`templates/dashboard/
//! page.html`). Charts are SVG (`templates/dashboard/chart.html`; no
//! script: the CSP allows none inline), their geometry worked out here,
//! bars told apart by pattern (solid, hatched) as well as by shade and each
//! labelled with its value, so that nothing depends on colour; every chart
//! has the same figures as a table beneath it and a link to them as CSV.

use askama::Template;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use concord_app::{DashboardRequest, Principal};
use concord_domain::dashboard::{Dashboard, Row, Table};

use crate::AppState;
use crate::web::error::PageError;
use crate::web::filters;
use crate::web::layout::Layout;

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(page))
}

/// Rows drawn in a chart (the table beneath has them all).
const CHART_ROWS: usize = 15;

async fn page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let raw = query.unwrap_or_default();
    let typed = FormView::typed(&raw);
    // Pages are read as an anonymous visitor: the dashboard is public.
    let auth = state.services.as_principal(Principal::Anonymous);
    let (req, mut problem) = match crate::api::dashboard::parse(&raw, false) {
        Ok((r, _)) => (r, None),
        Err(e) => (DashboardRequest::default(), Some(e.message().to_string())),
    };
    // Every value each filter can take, from the whole register as of the
    // same day (the choices of the form).
    let everything = DashboardRequest {
        as_of: req.as_of,
        ..Default::default()
    };
    let choices = match auth.dashboard(&everything).await {
        Ok(d) => d,
        Err(e) => return PageError::from(e).into_response(),
    };
    // A value that names nothing would show zeros as if they were figures.
    let known = |rows: &[Row], v: &Option<String>| {
        v.as_ref()
            .is_none_or(|v| rows.iter().any(|r| r.key.eq_ignore_ascii_case(v)))
    };
    if problem.is_none() {
        for (name, rows, value) in [
            ("issuer", &choices.by_issuer, &req.issuer),
            ("theme", &choices.by_theme, &req.theme),
            ("setting", &choices.by_setting, &req.setting),
        ] {
            if !known(rows, value) {
                problem = Some(format!(
                    "There is no {name} called \"{}\" in the register. Choose one from the list.",
                    value.as_deref().unwrap_or_default()
                ));
                break;
            }
        }
    }
    let (d, req) = match problem {
        // Shown unfiltered beneath the error, with what was typed kept.
        Some(_) => (choices.clone(), everything),
        None if req == everything => (choices.clone(), req),
        None => match auth.dashboard(&req).await {
            Ok(d) => (d, req),
            Err(e) if e.http_status() < 500 => {
                problem = Some(e.public_message());
                (choices.clone(), everything)
            }
            Err(e) => return PageError::from(e).into_response(),
        },
    };
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let names: std::collections::HashMap<String, String> = match auth.organisations().await {
        Ok(orgs) => orgs
            .into_iter()
            .map(|o| (o.code.to_string(), o.name))
            .collect(),
        Err(e) => return PageError::from(e).into_response(),
    };
    let as_of = d.as_of.to_string();
    // The oldest overdue answers by title as well as id (at most
    // OLDEST_OVERDUE records read; one that cannot be read keeps its id).
    let mut titles = std::collections::HashMap::new();
    for o in &d.oldest_overdue {
        if let Ok(id) = concord_domain::RecommendationId::parse(&o.id)
            && let Ok(rec) = auth.recommendation(&id).await
        {
            titles.insert(o.id.clone(), rec.data.title);
        }
    }
    let mut page = view(d, &req, &choices);
    page.titles = titles;
    // Issuers by name, as people know them.
    for (code, label) in &mut page.issuers {
        if let Some(name) = names.get(code.as_str()) {
            *label = format!("{name} ({code})");
        }
    }
    page.issuers.sort_by_key(|x| x.1.to_lowercase());
    if let Some(message) = problem {
        page.form = FormView {
            as_of: if typed.as_of.is_empty() {
                as_of
            } else {
                typed.as_of.clone()
            },
            ..typed
        };
        page.error = Some(message);
        page.layout.error = true;
    }
    let mut res = crate::web::layout::render(&page);
    *res.status_mut() = status;
    res
}

fn filters_query(req: &DashboardRequest, as_of: chrono::NaiveDate) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("issuer", &req.issuer),
        ("theme", &req.theme),
        ("setting", &req.setting),
    ] {
        if let Some(v) = v {
            s.append_pair(k, v);
        }
    }
    if let Some(y) = req.year {
        s.append_pair("year", &y.to_string());
    }
    s.append_pair("as_of", &as_of.to_string());
    s.finish()
}

/// What the filters hold, and what each may be set to.
#[derive(Default)]
struct FormView {
    issuer: String,
    theme: String,
    setting: String,
    year: String,
    as_of: String,
}

impl FormView {
    /// The filters as the person sent them, even when they are wrong.
    fn typed(raw: &str) -> FormView {
        let mut f = FormView::default();
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let v = v.trim().chars().take(200).collect();
            match k.as_ref() {
                "issuer" => f.issuer = v,
                "theme" => f.theme = v,
                "setting" => f.setting = v,
                "year" => f.year = v,
                "as_of" => f.as_of = v,
                _ => {}
            }
        }
        f
    }
}

/// One choice of a filter: (value, label).
type Choice = (String, String);

/// One table of counts (by issuer, addressee...) and its chart.
struct CountsSection {
    id: &'static str,
    title: &'static str,
    rows: Vec<Row>,
    chart: Option<Chart>,
    csv: String,
    /// For the busiest addressees: how many there are in all, when more
    /// than shown.
    of_total: Option<u64>,
}

/// What lands on one kind of provider, the money already written.
struct LandingView {
    label: String,
    open_recommendations: u64,
    open_items: u64,
    costed: u64,
    one_off: String,
    recurring: String,
}

#[derive(Template)]
#[template(path = "dashboard/page.html")]
struct DashboardPage {
    layout: Layout,
    d: Dashboard,
    /// Titles of the oldest overdue answers' recommendations, by id.
    titles: std::collections::HashMap<String, String>,
    form: FormView,
    /// What was wrong with the filters (then the figures are unfiltered).
    error: Option<String>,
    issuers: Vec<Choice>,
    themes: Vec<Choice>,
    settings: Vec<Choice>,
    years: Vec<Choice>,
    /// Whether any filter narrows the figures.
    filtered: bool,
    sections: Vec<CountsSection>,
    response_chart: Option<Chart>,
    provider_chart: Option<Chart>,
    landing: Vec<LandingView>,
    /// The filters as a query string (for the CSV and JSON links).
    query: String,
    csv_response_times: String,
    csv_oldest_overdue: String,
    csv_provider_kind: String,
}

fn view(d: Dashboard, req: &DashboardRequest, all: &Dashboard) -> DashboardPage {
    let choices = |rows: &[Row]| -> Vec<Choice> {
        let mut c: Vec<Choice> = rows
            .iter()
            .map(|r| {
                let label = if r.label == r.key {
                    r.label.clone()
                } else {
                    format!("{} ({})", r.label, r.key)
                };
                (r.key.clone(), label)
            })
            .collect();
        c.sort_by_key(|x| x.1.to_lowercase());
        c
    };
    let mut years = choices(&all.by_year);
    years.retain(|(k, _)| k.parse::<i32>().is_ok());
    years.reverse();
    let q = filters_query(req, d.as_of);
    let csv = |t: Table| format!("/api/v1/dashboard.csv?table={t}&{q}");
    let sections = [
        ("issuer", "By issuer", &d.by_issuer, Table::Issuer),
        (
            "addressee",
            "By addressee (the busiest)",
            &d.by_addressee,
            Table::Addressee,
        ),
        ("theme", "By theme", &d.by_theme, Table::Theme),
        ("setting", "By care setting", &d.by_setting, Table::Setting),
        ("year", "By year of publication", &d.by_year, Table::Year),
    ]
    .into_iter()
    .map(|(id, title, rows, table)| {
        let bars: Vec<(String, Vec<u64>)> = rows
            .iter()
            .take(CHART_ROWS)
            .map(|r| (r.label.clone(), vec![r.counts.open, r.counts.overdue]))
            .collect();
        CountsSection {
            id,
            title,
            rows: rows.clone(),
            chart: chart(
                id,
                &format!("Open and overdue, {}", title.to_lowercase()),
                &["open", "overdue"],
                &bars,
            ),
            csv: csv(table),
            of_total: (id == "addressee" && d.addressees_total > rows.len() as u64)
                .then_some(d.addressees_total),
        }
    })
    .collect();
    let response_bars: Vec<(String, Vec<u64>)> = d
        .response_times
        .iter()
        .filter(|r| r.answers > 0)
        .take(CHART_ROWS)
        .map(|r| {
            (
                r.key.clone(),
                vec![
                    u64::from(r.median_days.unwrap_or(0)),
                    u64::from(r.p90_days.unwrap_or(0)),
                ],
            )
        })
        .collect();
    let provider_bars: Vec<(String, Vec<u64>)> = d
        .by_provider_kind
        .iter()
        .map(|l| (l.label.clone(), vec![l.open_recommendations, l.costed]))
        .collect();
    let text = |x: &Option<String>| x.clone().unwrap_or_default();
    DashboardPage {
        layout: Layout::new("Oversight dashboard").section("/dashboard"),
        form: FormView {
            issuer: text(&req.issuer),
            theme: text(&req.theme),
            setting: text(&req.setting),
            year: req.year.map(|y| y.to_string()).unwrap_or_default(),
            as_of: d.as_of.to_string(),
        },
        error: None,
        issuers: choices(&all.by_issuer),
        themes: choices(&all.by_theme),
        settings: choices(&all.by_setting),
        years,
        filtered: req.issuer.is_some()
            || req.theme.is_some()
            || req.setting.is_some()
            || req.year.is_some(),
        sections,
        response_chart: chart(
            "response_times",
            "Response times in days by issuer",
            &["median", "90th percentile"],
            &response_bars,
        ),
        provider_chart: chart(
            "provider_kind",
            "Open recommendations by kind of provider",
            &["open recommendations", "of which costed"],
            &provider_bars,
        ),
        landing: d
            .by_provider_kind
            .iter()
            .map(|l| LandingView {
                label: l.label.clone(),
                open_recommendations: l.open_recommendations,
                open_items: l.open_items,
                costed: l.costed,
                one_off: money(l.one_off_gbp),
                recurring: money(l.recurring_gbp),
            })
            .collect(),
        csv_response_times: csv(Table::ResponseTimes),
        csv_oldest_overdue: csv(Table::OldestOverdue),
        csv_provider_kind: csv(Table::ProviderKind),
        query: q.clone(),
        titles: Default::default(),
        d,
    }
}

fn money(v: f64) -> String {
    let whole = v.round() as i64;
    let s = whole.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if whole < 0 { format!("-{out}") } else { out }
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// A bar of a chart.
struct Bar {
    x: u64,
    y: u64,
    width: u64,
    height: u64,
    fill: String,
    series: &'static str,
    value: u64,
    text_x: u64,
    text_y: u64,
}

/// One row of a chart: its label and a bar per series.
struct BarGroup {
    label: String,
    short_label: String,
    label_x: u64,
    label_y: u64,
    bars: Vec<Bar>,
}

/// A series in the legend.
struct LegendItem {
    x: u64,
    fill: String,
    name: &'static str,
}

/// A horizontal grouped bar chart, laid out (`templates/dashboard/
/// chart.html` draws it).
struct Chart {
    title: String,
    title_id: String,
    pattern_id: String,
    width: u64,
    height: u64,
    legend: Vec<LegendItem>,
    groups: Vec<BarGroup>,
}

/// Lays out a chart: one group per row, one bar per series; the first
/// series solid, the second hatched. None when there is nothing to draw.
fn chart(
    id: &str,
    title: &str,
    series: &[&'static str],
    rows: &[(String, Vec<u64>)],
) -> Option<Chart> {
    if rows.is_empty() {
        return None;
    }
    const LABEL_W: u64 = 230;
    const BAR_W: u64 = 400;
    const BAR_H: u64 = 14;
    const GAP: u64 = 10;
    const TOP: u64 = 34;
    let group = BAR_H * series.len() as u64 + GAP;
    let max = rows
        .iter()
        .flat_map(|r| r.1.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let safe_id = id.replace(|c: char| !c.is_ascii_alphanumeric(), "-");
    let pattern_id = format!("hatch-{safe_id}");
    let fill = |k: usize| -> String {
        match k {
            0 => "#005eb8".to_string(),
            _ => format!("url(#{pattern_id})"),
        }
    };
    let mut x = LABEL_W;
    let legend = series
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let item = LegendItem {
                x,
                fill: fill(k),
                name,
            };
            x += 40 + 8 * name.len() as u64;
            item
        })
        .collect();
    let groups = rows
        .iter()
        .enumerate()
        .map(|(i, (label, values))| {
            let y0 = TOP + group * i as u64;
            BarGroup {
                label: label.clone(),
                short_label: short(label, 34),
                label_x: LABEL_W - 8,
                label_y: y0 + BAR_H * series.len() as u64 / 2 + 4,
                bars: values
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| {
                        let y = y0 + BAR_H * k as u64;
                        let width = if v == 0 { 0 } else { (v * BAR_W / max).max(1) };
                        Bar {
                            x: LABEL_W,
                            y,
                            width,
                            height: BAR_H - 2,
                            fill: fill(k),
                            series: series.get(k).copied().unwrap_or(""),
                            value: v,
                            text_x: LABEL_W + width + 4,
                            text_y: y + BAR_H - 4,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Some(Chart {
        title: title.to_string(),
        title_id: format!("chart-{safe_id}"),
        width: LABEL_W + BAR_W + 90,
        height: TOP + group * rows.len() as u64 + 4,
        pattern_id,
        legend,
        groups,
    })
}
