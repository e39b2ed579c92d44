//! `/dashboard`: the oversight dashboard as a page. Charts are SVG drawn
//! here (no script: the CSP allows none inline), bars told apart by pattern
//! (solid, hatched) as well as by shade and each labelled with its value, so
//! that nothing depends on colour; every chart has the same figures as a
//! table beneath it and a link to them as CSV. Every value from the
//! register goes through [`esc`].

use std::fmt::Write;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use concord_app::{DashboardRequest, Principal};
use concord_domain::dashboard::{Dashboard, Row, Table};

use crate::AppState;
use crate::pages::{error_page, esc};

pub fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(page))
}

/// Rows drawn in a chart (the table beneath has them all).
const CHART_ROWS: usize = 15;

async fn page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let (req, _) = match crate::api::dashboard::parse(query.as_deref().unwrap_or(""), false) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                error_page(StatusCode::BAD_REQUEST, e.message()),
            )
                .into_response();
        }
    };
    // Pages are read as an anonymous visitor: the dashboard is public.
    match state
        .services
        .as_principal(Principal::Anonymous)
        .dashboard(&req)
        .await
    {
        Ok(d) => Html(render(&d, &req)).into_response(),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, error_page(status, &e.public_message())).into_response()
        }
    }
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

/// The page's HTML.
pub fn render(d: &Dashboard, req: &DashboardRequest) -> String {
    let q = filters_query(req, d.as_of);
    let csv = |t: Table| format!("/api/v1/dashboard.csv?table={t}&{q}");
    let mut m = String::new();
    let _ = writeln!(
        m,
        "<h1>Oversight dashboard</h1>\n<p class=\"lead\">Published recommendations and where each answer stands, as of {}. \
         Counts are of items: one recommendation to one addressee. Drafts never count.</p>",
        crate::pages::date(d.as_of)
    );
    form(&mut m, req, d);
    let t = &d.totals;
    let _ = writeln!(
        m,
        "<h2 id=\"totals\">In total</h2>\n<table class=\"figures\"><caption>Totals</caption>\n<thead><tr><th scope=\"col\">recommendations</th><th scope=\"col\">items</th><th scope=\"col\">open</th><th scope=\"col\">overdue</th><th scope=\"col\">answered</th><th scope=\"col\">implemented</th></tr></thead>\n\
         <tbody><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr></tbody></table>",
        t.recommendations, t.items, t.open, t.overdue, t.answered, t.implemented
    );
    for (id, title, rows, table) in [
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
    ] {
        counts_section(&mut m, id, title, rows, &csv(table));
        if id == "addressee" && d.addressees_total > rows.len() as u64 {
            let _ = writeln!(
                m,
                "<p>{} of {} addressees shown; <a href=\"{}\">every addressee as CSV</a>.</p>",
                rows.len(),
                d.addressees_total,
                esc(&csv(Table::Addressee))
            );
        }
    }

    // Response times.
    let _ = writeln!(
        m,
        "<h2 id=\"response_times\">Response times</h2>\n<p>Days from publication to the first dated response.</p>"
    );
    let bars: Vec<(String, Vec<u64>)> = d
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
    chart(
        &mut m,
        "response_times",
        "Response times in days by issuer",
        &["median", "90th percentile"],
        &bars,
    );
    let _ = writeln!(
        m,
        "<table class=\"figures\"><caption>Response times (days)</caption>\n<thead><tr><th scope=\"col\">issuer</th><th scope=\"col\">answers</th><th scope=\"col\">median</th><th scope=\"col\">90th percentile</th></tr></thead><tbody>"
    );
    for r in &d.response_times {
        let o = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_else(|| "–".into());
        let _ = writeln!(
            m,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.key),
            r.answers,
            o(r.median_days),
            o(r.p90_days)
        );
    }
    let _ = writeln!(
        m,
        "</tbody></table>\n<p><a href=\"{}\">Response times as CSV</a></p>",
        esc(&csv(Table::ResponseTimes))
    );

    // The oldest overdue.
    let _ = writeln!(
        m,
        "<h2 id=\"oldest_overdue\">The oldest overdue answers</h2>"
    );
    if d.oldest_overdue.is_empty() {
        m.push_str("<p>No answer is overdue.</p>\n");
    } else {
        m.push_str("<table class=\"figures\"><caption>Longest overdue first</caption>\n<thead><tr><th scope=\"col\">recommendation</th><th scope=\"col\">addressee</th><th scope=\"col\">due</th><th scope=\"col\">days overdue</th></tr></thead><tbody>\n");
        for o in &d.oldest_overdue {
            let _ = writeln!(
                m,
                "<tr><td><a href=\"/recommendations/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&o.id),
                esc(&o.id),
                esc(&o.addressee),
                crate::pages::date(o.due),
                o.days_overdue
            );
        }
        m.push_str("</tbody></table>\n");
    }
    let _ = writeln!(
        m,
        "<p><a href=\"{}\">The oldest overdue as CSV</a></p>",
        esc(&csv(Table::OldestOverdue))
    );

    // Landing on each kind of provider.
    let _ = writeln!(
        m,
        "<h2 id=\"provider_kind\">Open recommendations landing on each kind of provider</h2>\n\
         <p>Each open recommendation counts once for every kind of addressee it is open with; its cost (GBP) is added once per kind. \
         The kind is the register's, else inferred from the addressee's name.</p>"
    );
    let bars: Vec<(String, Vec<u64>)> = d
        .by_provider_kind
        .iter()
        .map(|l| (l.label.clone(), vec![l.open_recommendations, l.costed]))
        .collect();
    chart(
        &mut m,
        "provider_kind",
        "Open recommendations by kind of provider",
        &["open recommendations", "of which costed"],
        &bars,
    );
    m.push_str("<table class=\"figures\"><caption>Open recommendations and their cost by kind of provider</caption>\n<thead><tr><th scope=\"col\">kind</th><th scope=\"col\">open recommendations</th><th scope=\"col\">open items</th><th scope=\"col\">costed</th><th scope=\"col\">one-off (£)</th><th scope=\"col\">recurring a year (£)</th></tr></thead><tbody>\n");
    for l in &d.by_provider_kind {
        let _ = writeln!(
            m,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&l.label),
            l.open_recommendations,
            l.open_items,
            l.costed,
            money(l.one_off_gbp),
            money(l.recurring_gbp)
        );
    }
    let _ = writeln!(
        m,
        "</tbody></table>\n<p><a href=\"{}\">By kind of provider as CSV</a> · <a href=\"/api/v1/dashboard?{}\">every figure as JSON</a></p>",
        esc(&csv(Table::ProviderKind)),
        esc(&q)
    );

    // What carries no cost estimate at all.
    let _ = writeln!(
        m,
        "<h2 id=\"uncosted\">Open recommendations with no cost estimate</h2>\n<p>{} open recommendation{} carr{} no cost estimate at all.</p>",
        d.uncosted_total,
        if d.uncosted_total == 1 { "" } else { "s" },
        if d.uncosted_total == 1 { "ies" } else { "y" }
    );
    if !d.uncosted.is_empty() {
        let _ = writeln!(
            m,
            "<table class=\"figures\"><caption>The {} newest</caption>\n<thead><tr><th scope=\"col\">recommendation</th><th scope=\"col\">issuer</th><th scope=\"col\">published</th><th scope=\"col\">lands on</th></tr></thead><tbody>",
            d.uncosted.len()
        );
        for u in &d.uncosted {
            let _ = writeln!(
                m,
                "<tr><td><a href=\"/recommendations/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&u.id),
                esc(&u.id),
                esc(&u.issuer),
                crate::pages::opt_date(u.published),
                esc(&u.lands_on.join(", "))
            );
        }
        m.push_str("</tbody></table>\n");
    }
    crate::pages::layout_in(Some("/dashboard"), "Oversight dashboard", &m, None)
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

fn form(m: &mut String, req: &DashboardRequest, d: &Dashboard) {
    let v = |x: &Option<String>| x.as_deref().map(|s| esc(s).to_string()).unwrap_or_default();
    let _ = writeln!(
        m,
        "<form method=\"get\" action=\"/dashboard\" class=\"filters\">\n\
         <label>Issuer <input name=\"issuer\" value=\"{}\" size=\"8\"></label>\n\
         <label>Theme <input name=\"theme\" value=\"{}\"></label>\n\
         <label>Setting <input name=\"setting\" value=\"{}\"></label>\n\
         <label>Year <input name=\"year\" value=\"{}\" size=\"5\" inputmode=\"numeric\"></label>\n\
         <label>As of <input name=\"as_of\" type=\"date\" value=\"{}\"></label>\n\
         <button type=\"submit\">Show</button>\n</form>",
        v(&req.issuer),
        v(&req.theme),
        v(&req.setting),
        req.year.map(|y| y.to_string()).unwrap_or_default(),
        d.as_of
    );
}

fn counts_section(m: &mut String, id: &str, title: &str, rows: &[Row], csv: &str) {
    let _ = writeln!(m, "<h2 id=\"{id}\">{}</h2>", esc(title));
    if rows.is_empty() {
        m.push_str("<p>Nothing to count.</p>\n");
        return;
    }
    let bars: Vec<(String, Vec<u64>)> = rows
        .iter()
        .take(CHART_ROWS)
        .map(|r| (r.label.clone(), vec![r.counts.open, r.counts.overdue]))
        .collect();
    chart(
        m,
        id,
        &format!("Open and overdue, {}", title.to_lowercase()),
        &["open", "overdue"],
        &bars,
    );
    let _ = writeln!(
        m,
        "<table class=\"figures\"><caption>{}</caption>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">recommendations</th><th scope=\"col\">items</th><th scope=\"col\">open</th><th scope=\"col\">overdue</th><th scope=\"col\">answered</th><th scope=\"col\">implemented</th></tr></thead><tbody>",
        esc(title),
        esc(id)
    );
    for r in rows {
        let c = &r.counts;
        let _ = writeln!(
            m,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.label),
            c.recommendations,
            c.items,
            c.open,
            c.overdue,
            c.answered,
            c.implemented
        );
    }
    let _ = writeln!(
        m,
        "</tbody></table>\n<p><a href=\"{}\">{} as CSV</a></p>",
        esc(csv),
        esc(title)
    );
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

/// A horizontal grouped bar chart: one group per row, one bar per series;
/// the first series solid, the second hatched, each bar labelled with its
/// value, a legend naming the patterns.
pub fn chart(m: &mut String, id: &str, title: &str, series: &[&str], rows: &[(String, Vec<u64>)]) {
    if rows.is_empty() {
        return;
    }
    const LABEL_W: u64 = 230;
    const BAR_W: u64 = 400;
    const BAR_H: u64 = 14;
    const GAP: u64 = 10;
    const TOP: u64 = 34;
    let width = LABEL_W + BAR_W + 90;
    let group = BAR_H * series.len() as u64 + GAP;
    let height = TOP + group * rows.len() as u64 + 4;
    let max = rows
        .iter()
        .flat_map(|r| r.1.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let pid = format!(
        "hatch-{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let tid = format!(
        "chart-{}",
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let fill = |k: usize| -> String {
        match k {
            0 => "#005eb8".to_string(),
            _ => format!("url(#{pid})"),
        }
    };
    let _ = writeln!(
        m,
        "<figure class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-labelledby=\"{tid}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <title id=\"{tid}\">{}</title>\n\
         <defs><pattern id=\"{pid}\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/><path d=\"M0,6 L6,0 M-1,1 L1,-1 M5,7 L7,5\" stroke=\"#212b32\" stroke-width=\"1.5\"/></pattern></defs>",
        esc(title)
    );
    // Legend.
    let mut x = LABEL_W;
    for (k, s) in series.iter().enumerate() {
        let _ = writeln!(
            m,
            "<rect x=\"{x}\" y=\"8\" width=\"14\" height=\"14\" fill=\"{}\" stroke=\"#212b32\"/><text x=\"{}\" y=\"19\">{}</text>",
            fill(k),
            x + 20,
            esc(s)
        );
        x += 40 + 8 * s.len() as u64;
    }
    for (i, (label, values)) in rows.iter().enumerate() {
        let y0 = TOP + group * i as u64;
        let _ = writeln!(
            m,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LABEL_W - 8,
            y0 + BAR_H * series.len() as u64 / 2 + 4,
            esc(&short(label, 34))
        );
        for (k, v) in values.iter().enumerate() {
            let y = y0 + BAR_H * k as u64;
            let w = if *v == 0 { 0 } else { (v * BAR_W / max).max(1) };
            let _ = writeln!(
                m,
                "<rect x=\"{LABEL_W}\" y=\"{y}\" width=\"{w}\" height=\"{}\" fill=\"{}\" stroke=\"#212b32\" stroke-width=\"0.5\"><title>{}: {} {v}</title></rect>\
                 <text x=\"{}\" y=\"{}\">{v} {}</text>",
                BAR_H - 2,
                fill(k),
                esc(label),
                esc(series.get(k).copied().unwrap_or("")),
                LABEL_W + w + 4,
                y + BAR_H - 4,
                esc(series.get(k).copied().unwrap_or(""))
            );
        }
    }
    let _ = writeln!(m, "</svg><figcaption>{}</figcaption></figure>", esc(title));
}
