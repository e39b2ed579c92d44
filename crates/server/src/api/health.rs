//! `GET /healthz`: the process is up and answering.

/// Liveness only: answers without touching the database, so that a slow
/// query never makes a load balancer take a healthy server out.
pub async fn healthz() -> &'static str {
    "ok"
}
