//! The real server on a free loopback port over a fresh SQLite database,
//! shared by the API test files.

#![allow(dead_code)]

use std::sync::Arc;

use concord_app::{Principal, Services};
use concord_domain::OrgCode;
use reqwest::Client;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub client: Client,
    pub services: Arc<Services>,
    pub dir: TempDir,
    _stop: oneshot::Sender<()>,
}

pub fn operator() -> Principal {
    Principal::Operator {
        label: "test".into(),
    }
}

/// A fresh database in a temporary folder, opened (and seeded) but not served.
pub async fn open_services() -> (Arc<Services>, TempDir) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let services = Arc::new(Services::open(&url).await.expect("open the database"));
    (services, dir)
}

/// Serves these services until the returned app is dropped.
pub async fn serve(services: Arc<Services>, dir: TempDir) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(concord_server::serve(listener, services.clone(), async {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        client: Client::new(),
        services,
        dir,
        _stop: stop,
    }
}

pub async fn spawn_app() -> TestApp {
    let (services, dir) = open_services().await;
    serve(services, dir).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A new API token for an organisation.
    pub async fn token(&self, org: &str) -> String {
        self.services
            .as_principal(operator())
            .create_token(&OrgCode::parse(org).unwrap(), "test")
            .await
            .expect("create a token")
            .secret
    }
}

/// True when every `<script` in a page is one of our own script files
/// (served under /assets/): nothing from the register became markup.
#[allow(dead_code)] // not every test binary looks at pages
pub fn only_our_scripts(html: &str) -> bool {
    html.match_indices("<script").all(|(i, _)| {
        let tag = &html[i..];
        tag.starts_with("<script src=\"/assets/")
            || tag.starts_with("<script type=\"module\" src=\"/assets/")
    })
}
