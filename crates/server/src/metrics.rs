//! Operators' metrics in the Prometheus text format (`GET /metrics` on the
//! listener `concord serve --metrics-addr` opens, never on the public one):
//! requests and their latency by route, how far each derived index lags
//! the outbox, the database pool, sign-in refusals.
//!
//! Labels come only from fixed sets (the router's route patterns, a few
//! methods, status classes), so no caller can grow the table: an unknown
//! address is counted under the fallback's one label.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The label of a request no route matched.
const UNMATCHED: &str = "(no route)";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RouteKey {
    route: String,
    method: &'static str,
    /// "2xx" … "5xx".
    status: &'static str,
}

#[derive(Debug, Default, Clone)]
struct RouteStats {
    count: u64,
    seconds: f64,
    /// Requests at or under each bucket's bound (cumulative, as Prometheus
    /// wants them).
    buckets: [u64; BUCKETS.len()],
}

/// Requests counted since start, by route, method and status class.
#[derive(Debug)]
pub struct RequestMetrics {
    started: Instant,
    routes: Mutex<BTreeMap<RouteKey, RouteStats>>,
}

impl Default for RequestMetrics {
    fn default() -> Self {
        RequestMetrics {
            started: Instant::now(),
            routes: Mutex::new(BTreeMap::new()),
        }
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_label(s: StatusCode) -> &'static str {
    match s.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl RequestMetrics {
    fn record(&self, route: &str, method: &Method, status: StatusCode, seconds: f64) {
        let key = RouteKey {
            route: route.to_string(),
            method: method_label(method),
            status: status_label(status),
        };
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let stats = routes.entry(key).or_default();
        stats.count += 1;
        stats.seconds += seconds;
        for (bound, n) in BUCKETS.iter().zip(stats.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
    }

    fn snapshot(&self) -> Vec<(RouteKey, RouteStats)> {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
    }
}

/// Middleware (a route layer, so the matched route is known): counts the
/// request under its route pattern once the response is ready.
pub async fn track(
    State(metrics): State<Arc<RequestMetrics>>,
    req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_string();
    let method = req.method().clone();
    let response = next.run(req).await;
    metrics.record(
        &route,
        &method,
        response.status(),
        start.elapsed().as_secs_f64(),
    );
    response
}

impl RequestMetrics {
    /// Counts an answer to an address no route matched (the fallback's
    /// answer is immediate; its time is not worth a histogram).
    pub fn count_unmatched(&self, method: &Method, status: StatusCode) {
        self.record(UNMATCHED, method, status, 0.0);
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn seconds(x: f64) -> String {
    // Prometheus reads plain decimals; enough places for a microsecond.
    format!("{x:.6}")
}

/// A metric's `# HELP` and `# TYPE` lines.
fn head(w: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(w, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A gauge of one sample, with its head.
fn gauge(w: &mut String, name: &str, help: &str, value: impl std::fmt::Display) {
    head(w, name, "gauge", help);
    let _ = writeln!(w, "{name} {value}");
}

/// The text of `GET /metrics`.
pub async fn render(state: &crate::AppState) -> String {
    let m = &state.options.metrics;
    let svc = &state.services;
    let mut out = String::new();
    let w = &mut out;

    gauge(w, "concord_up", "Whether the process is serving.", 1);
    gauge(
        w,
        "concord_uptime_seconds",
        "Seconds since the process started serving.",
        seconds(m.started.elapsed().as_secs_f64()),
    );

    let routes = m.snapshot();
    head(
        w,
        "concord_http_requests_total",
        "counter",
        "Requests answered, by route pattern, method and status class.",
    );
    for (k, s) in &routes {
        let _ = writeln!(
            w,
            "concord_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}",
            escape(&k.route),
            k.method,
            k.status,
            s.count
        );
    }
    // One histogram per route and method (status classes summed).
    let mut by_route: BTreeMap<(&str, &str), RouteStats> = BTreeMap::new();
    for (k, s) in &routes {
        let e = by_route.entry((&k.route, k.method)).or_default();
        e.count += s.count;
        e.seconds += s.seconds;
        for (a, b) in e.buckets.iter_mut().zip(s.buckets) {
            *a += b;
        }
    }
    let name = "concord_http_request_duration_seconds";
    head(
        w,
        name,
        "histogram",
        "Time to answer, by route pattern and method.",
    );
    for ((route, method), s) in &by_route {
        let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
        for (bound, n) in BUCKETS.iter().zip(s.buckets) {
            let _ = writeln!(w, "{name}_bucket{{{labels},le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(w, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", s.count);
        let _ = writeln!(w, "{name}_sum{{{labels}}} {}", seconds(s.seconds));
        let _ = writeln!(w, "{name}_count{{{labels}}} {}", s.count);
    }

    let up = "Whether the database answered the readiness query.";
    match svc.readiness().await {
        Ok(r) => {
            gauge(w, "concord_database_up", up, 1);
            gauge(
                w,
                "concord_ready",
                "Whether every derived index has caught up (as /readyz).",
                u8::from(r.ready),
            );
            gauge(
                w,
                "concord_outbox_seq",
                "The last outbox row written.",
                r.outbox_seq,
            );
            head(
                w,
                "concord_index_lag",
                "gauge",
                "Outbox rows a derived index has not applied yet.",
            );
            if let Some(s) = &r.search {
                let _ = writeln!(w, "concord_index_lag{{index=\"search\"}} {}", s.lag);
            }
            let _ = writeln!(
                w,
                "concord_index_lag{{index=\"vectors\"}} {}",
                r.vectors_lag
            );
            gauge(
                w,
                "concord_similarity_built",
                "Whether the similarity index has been built.",
                u8::from(r.similarity_built),
            );
        }
        Err(e) => {
            tracing::warn!("metrics: readiness: {e}");
            gauge(w, "concord_database_up", up, 0);
        }
    }

    let pool = svc.pool_status();
    head(
        w,
        "concord_db_pool_connections",
        "gauge",
        "Database connections open, by state.",
    );
    let _ = writeln!(
        w,
        "concord_db_pool_connections{{state=\"idle\"}} {}",
        pool.idle
    );
    let _ = writeln!(
        w,
        "concord_db_pool_connections{{state=\"in_use\"}} {}",
        pool.open.saturating_sub(pool.idle)
    );

    let (from_index, from_database) = svc.listing_sources();
    head(
        w,
        "concord_listings_total",
        "counter",
        "Listing pages served since start: from the search index, or from the database (the index lagging, or a page past its window).",
    );
    for (source, n) in [("index", from_index), ("database", from_database)] {
        let _ = writeln!(w, "concord_listings_total{{source=\"{source}\"}} {n}");
    }

    let refusals = svc.sign_in_refusals();
    head(
        w,
        "concord_sign_in_refusals_total",
        "counter",
        "Sign-ins refused since start: a wrong password, or throttled unchecked.",
    );
    for (reason, n) in [
        ("wrong_password", refusals.wrong_password),
        ("throttled", refusals.throttled),
    ] {
        let _ = writeln!(
            w,
            "concord_sign_in_refusals_total{{reason=\"{reason}\"}} {n}"
        );
    }
    out
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<crate::AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&state).await,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_labels_bounded() {
        let m = RequestMetrics::default();
        m.record("/api/v1/search", &Method::GET, StatusCode::OK, 0.003);
        m.record("/api/v1/search", &Method::GET, StatusCode::OK, 0.3);
        m.record(
            "/api/v1/search",
            &Method::from_bytes(b"BREW").unwrap(),
            StatusCode::IM_A_TEAPOT,
            20.0,
        );
        let snap = m.snapshot();
        assert_eq!(snap.len(), 2, "{snap:?}");
        let (k, s) = &snap[0];
        assert_eq!((k.method, k.status), ("GET", "2xx"));
        assert_eq!(s.count, 2);
        // 0.003 s is under 0.005 and every bound above; 0.3 s under 0.5.
        assert_eq!(s.buckets[0], 0);
        assert_eq!(s.buckets[1], 1);
        assert_eq!(s.buckets[BUCKETS.len() - 1], 2);
        let (k, s) = &snap[1];
        assert_eq!((k.method, k.status), ("other", "4xx"));
        // Slower than every bound: only in +Inf (the count).
        assert_eq!(s.buckets.iter().sum::<u64>(), 0);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
