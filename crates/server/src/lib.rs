//! Concord over HTTP: the JSON API under `/api/v1` (documented by the
//! OpenAPI document it serves at `/api/v1/openapi.json`, browsable at
//! `/api/docs/`), and the web pages.
//!
//! Layout: `api/<resource>.rs` holds the handlers of one resource, `auth.rs`
//! turns a bearer token into a principal, `error.rs` gives every failure one
//! JSON shape, `web/` renders the pages, `middleware.rs` adds security headers
//! and keeps `/api` errors in JSON. Handlers never check permissions: they
//! hand the principal to the application's access-control wrapper.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use concord_app::Services;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

pub mod api;
pub mod auth;
pub mod connections;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod session;
pub mod web;

pub use error::{ApiError, ErrorBody};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub options: ServerOptions,
}

/// How this server is run.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Mark cookies `Secure` on every response and send HSTS (`concord
    /// serve --secure-cookies`, behind HTTPS); without it only requests that
    /// came with `X-Forwarded-Proto: https` get secure cookies.
    pub secure_cookies: bool,
    /// The reverse proxy in front of this server (`--trusted-proxy IP`):
    /// only requests from it have their client's address taken from
    /// `X-Forwarded-For` (for sign-in throttling). Without it, the peer's
    /// address is the client's.
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// Caps and timeouts on connections.
    pub connections: connections::ConnectionLimits,
    /// The address the public reaches this server at (`--public-url
    /// https://concord.example.nhs.uk`): the start of the absolute links in
    /// feeds, which are cached publicly. Without it they follow the
    /// request's Host header.
    pub public_url: Option<String>,
    /// Requests counted for operators' metrics (shared by the public
    /// router and the metrics listener).
    pub metrics: Arc<metrics::RequestMetrics>,
}

/// Whether cookies are `Secure` when the operator said neither
/// `--secure-cookies` nor `--insecure-cookies`: yes, unless everything says
/// this is one machine's own copy over plain HTTP (listening on loopback, no
/// proxy in front, no https public address), as `concord demo` is. A server
/// others reach sends its session only over HTTPS unless told otherwise.
pub fn secure_cookies_by_default(
    listening: std::net::IpAddr,
    trusted_proxy: Option<std::net::IpAddr>,
    public_url: Option<&str>,
) -> bool {
    !listening.is_loopback()
        || trusted_proxy.is_some()
        || public_url.is_some_and(|u| u.starts_with("https://"))
}

/// The longest a request may take: past it, the answer is 503 rather than
/// a connection held for ever.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The OpenAPI document of everything under `/api/v1`, as served.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().into_openapi()
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).nest("/api/v1", api::routes())
}

/// The whole application: API, API documentation, pages, health check.
pub fn router(services: Arc<Services>) -> Router {
    router_with(services, ServerOptions::default())
}

pub fn router_with(services: Arc<Services>, options: ServerOptions) -> Router {
    let state = AppState { services, options };
    let (api, doc) = api_router().split_for_parts();
    let docs: Router<AppState> = Router::from(
        SwaggerUi::new("/api/docs")
            .url("/api/v1/openapi.json", doc)
            .config(
                utoipa_swagger_ui::Config::default()
                    .validator_url("none")
                    .try_it_out_enabled(true),
            ),
    )
    .layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(middleware::DOCS_CSP),
    ));

    let [nosniff, csp, referrer, frames] = middleware::security_headers();
    Router::new()
        .merge(
            api.layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
                // What a caller sees depends on its token or session (drafts).
                .layer(SetResponseHeaderLayer::appending(
                    header::VARY,
                    HeaderValue::from_static("authorization, cookie"),
                )),
        )
        .merge(docs)
        .merge(web::routes())
        .merge(web::assets::routes())
        .merge(web::feeds::routes())
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        // Every route is counted under its pattern (the fallback counts
        // itself).
        .route_layer(axum::middleware::from_fn_with_state(
            state.options.metrics.clone(),
            metrics::track,
        ))
        .fallback(not_found)
        .with_state(state.clone())
        // Behind HTTPS (secure cookies), browsers are told to come back only
        // over HTTPS for a year.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::strict_transport,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(TraceLayer::new_for_http())
                // Pages, JSON and the design system's stylesheet shrink five to
                // ten times; browsers (and any client that asks) get gzip.
                .layer(CompressionLayer::new().gzip(true))
                .layer(nosniff)
                .layer(csp)
                .layer(referrer)
                .layer(frames)
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(axum::middleware::from_fn(middleware::api_errors_as_json))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    REQUEST_TIMEOUT,
                ))
                // Token or session, once per request; refusals audited.
                .layer(axum::middleware::from_fn_with_state(
                    state,
                    session::authenticate,
                )),
        )
}

/// Unknown addresses: JSON under `/api`, a page elsewhere.
async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    method: axum::http::Method,
    uri: Uri,
) -> Response {
    state
        .options
        .metrics
        .count_unmatched(&method, StatusCode::NOT_FOUND);
    if middleware::is_api_path(uri.path()) {
        ApiError::not_found(format!("there is no API endpoint at {}", uri.path())).into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            web::error::error_page(StatusCode::NOT_FOUND, "There is no page at this address."),
        )
            .into_response()
    }
}

/// The operators' listener (`concord serve --metrics-addr`): `/metrics`,
/// with `/healthz` and `/readyz` beside it. Never merged into the public
/// router: what it shows is for the people who run the service.
pub fn metrics_router(services: Arc<Services>, options: ServerOptions) -> Router {
    Router::new()
        .route("/metrics", get(metrics::metrics))
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .with_state(AppState { services, options })
}

/// Serves [`metrics_router`] on a listener the caller has bound, until
/// `shutdown` completes.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    services: Arc<Services>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(services, options))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the application on a listener the caller has bound, until
/// `shutdown` completes; requests in flight are then allowed to finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    services: Arc<Services>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, services, ServerOptions::default(), shutdown).await
}

/// [`serve`] with options.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    services: Arc<Services>,
    options: ServerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The one search indexer of this process (if a search index is
    // attached): it follows the outbox until the server stops.
    let (stop_indexer, indexer_stopped) = tokio::sync::oneshot::channel::<()>();
    let indexer = services.start_search_indexer(async {
        let _ = indexer_stopped.await;
    });
    // The meaning signal's vectors, when embeddings are on: computed in the
    // background, kept in step from the outbox.
    let (stop_vectors, vectors_stopped) = tokio::sync::oneshot::channel::<()>();
    let vectors = services.start_vector_worker(async {
        let _ = vectors_stopped.await;
    });
    // The corpus-wide lists (duplicates, contradictions), swept in the
    // background after changes and served from memory.
    let (stop_sweeper, sweeper_stopped) = tokio::sync::oneshot::channel::<()>();
    let sweeper = services.start_corpus_sweeper(async {
        let _ = sweeper_stopped.await;
    });
    // Build the dashboard's figures and the similarity index now, in the
    // background, so that the first visitor does not wait for them (at a
    // million records they take minutes to build). Failures are only logged:
    // the first request tries again and reports the error.
    let warm = services.clone();
    let warming = tokio::spawn(async move {
        let anon = warm.as_principal(concord_app::Principal::Anonymous);
        if let Err(e) = anon.dashboard(&Default::default()).await {
            tracing::warn!("could not build the dashboard's figures at start: {e}");
        }
        if let Err(e) = anon.similar_warm().await {
            tracing::warn!("could not build the similarity index at start: {e}");
        }
    });
    // Old sign-in attempts and expired sessions, hourly.
    let pruner = services.clone();
    let pruning = tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match pruner.prune_sign_ins().await {
                Ok((attempts, sessions)) if attempts + sessions > 0 => tracing::info!(
                    "pruned {attempts} old sign-in attempts and {sessions} expired sessions"
                ),
                Ok(_) => {}
                Err(e) => tracing::warn!("could not prune sign-in attempts and sessions: {e}"),
            }
        }
    });
    let limits = options.connections;
    let app = router_with(services, options);
    let served = connections::serve(listener, app, limits, shutdown).await;
    pruning.abort();
    let _ = stop_sweeper.send(());
    let _ = sweeper.await;
    let _ = stop_indexer.send(());
    let _ = stop_vectors.send(());
    warming.abort();
    if let Some(task) = vectors {
        // Stops between two chunks of vectors; what was computed is saved.
        let _ = task.await;
    }
    if let Some(task) = indexer {
        let _ = task.await;
    }
    served
}

#[cfg(test)]
mod tests {
    use super::secure_cookies_by_default as secure;
    use std::net::IpAddr;

    #[test]
    fn cookies_are_secure_unless_everything_says_local() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let lo6: IpAddr = "::1".parse().unwrap();
        let any: IpAddr = "0.0.0.0".parse().unwrap();
        let lan: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(!secure(lo, None, None));
        assert!(!secure(lo6, None, None));
        assert!(!secure(lo, None, Some("http://localhost:8080")));
        assert!(secure(any, None, None));
        assert!(secure(lan, None, None));
        assert!(secure(lo, Some(lo), None));
        assert!(secure(lo, None, Some("https://concord.example.nhs.uk")));
    }
}
