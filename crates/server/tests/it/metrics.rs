//! Operators' metrics: `GET /metrics` on its own listener, in the
//! Prometheus text format, counting what the public listener answered.

use concord_server::ServerOptions;

use crate::common::{open_services, serve_with};

/// The value of the sample named exactly `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_lag_pool_and_refusals() {
    let (services, dir) = open_services().await;
    let options = ServerOptions::default();
    let app = serve_with(services.clone(), dir, options.clone()).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let metrics_url = format!("http://{}/metrics", listener.local_addr().unwrap());
    tokio::spawn(concord_server::serve_metrics(
        listener,
        services.clone(),
        options,
        std::future::pending(),
    ));

    let c = &app.client;
    for limit in [1, 2] {
        let res = c
            .get(app.url(&format!("/api/v1/recommendations?limit={limit}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    // Two records, one route pattern.
    for id in ["PFD-2020-0001", "PFD-2020-0002"] {
        let res = c
            .get(app.url(&format!("/api/v1/recommendations/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }
    // A wrong password, counted by the services.
    assert!(
        services
            .sign_in("nobody@example.org", "not the password", "192.0.2.1")
            .await
            .is_err()
    );

    // The public listener does not serve the metrics.
    let res = c.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);

    let res = c.get(&metrics_url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = res.text().await.unwrap();
    let get = |s: &str| sample(&text, s).unwrap_or_else(|| panic!("no {s} in:\n{text}"));
    assert_eq!(
        get(
            r#"concord_http_requests_total{route="/api/v1/recommendations",method="GET",status="2xx"}"#
        ),
        2.0
    );
    assert_eq!(
        get(
            r#"concord_http_requests_total{route="/api/v1/recommendations/{id}",method="GET",status="4xx"}"#
        ),
        2.0
    );
    assert_eq!(
        get(
            r#"concord_http_request_duration_seconds_count{route="/api/v1/recommendations",method="GET"}"#
        ),
        2.0
    );
    assert_eq!(
        get(
            r#"concord_http_request_duration_seconds_bucket{route="/api/v1/recommendations",method="GET",le="+Inf"}"#
        ),
        2.0
    );
    assert_eq!(
        get(r#"concord_http_requests_total{route="(no route)",method="GET",status="4xx"}"#),
        1.0
    );
    assert_eq!(get("concord_database_up"), 1.0);
    assert!(get(r#"concord_index_lag{index="vectors"}"#) >= 0.0);
    assert_eq!(
        get(r#"concord_sign_in_refusals_total{reason="wrong_password"}"#),
        1.0
    );
    assert_eq!(
        get(r#"concord_sign_in_refusals_total{reason="throttled"}"#),
        0.0
    );
    assert!(get(r#"concord_db_pool_connections{state="idle"}"#) >= 0.0);

    // Unknown addresses by the hundred add no series: labels come only
    // from the router's patterns.
    let series = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with("concord_http_requests_total{"))
            .count()
    };
    let before = series(&text);
    for n in 0..100 {
        let res = c
            .get(app.url(&format!("/no/such/page/{n}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }
    let text = c
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(series(&text), before, "{text}");
    assert_eq!(
        sample(
            &text,
            r#"concord_http_requests_total{route="(no route)",method="GET",status="4xx"}"#
        ),
        Some(101.0)
    );
}
