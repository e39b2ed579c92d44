//! `GET /healthz`: the process is up and answering; `GET /readyz`: its
//! derived indexes have caught up.

/// Liveness only: answers without touching the database, so that a slow
/// query never makes a load balancer take a healthy server out.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when every derived index (search, similarity, the
/// passage vectors) has caught up with the outbox, 503 before; the body
/// lists each with its lag. One indexed query on the database, no lock
/// waited for: a load balancer may ask it often.
pub async fn readyz(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.services.readiness().await {
        Ok(r) => {
            let status = if r.ready {
                axum::http::StatusCode::OK
            } else {
                axum::http::StatusCode::SERVICE_UNAVAILABLE
            };
            (status, axum::Json(r)).into_response()
        }
        Err(e) => {
            tracing::warn!("readiness: {e}");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(
                    serde_json::json!({"ready": false, "error": "the database did not answer"}),
                ),
            )
                .into_response()
        }
    }
}
