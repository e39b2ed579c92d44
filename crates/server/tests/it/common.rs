//! The real server on a free loopback port over a fresh SQLite database
//! (or a fresh PostgreSQL database on the test server), shared by the API
//! test files.

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
    /// A PostgreSQL database, dropped (last) with this.
    pg: Option<concord_testkit::PgDatabase>,
}

/// The app on a fresh PostgreSQL database of the test server named by
/// CONCORD_TEST_PG_URL (scripts/test.sh starts one); None, said plainly,
/// when none is given outside CI. In CI a missing server is a failure.
pub async fn spawn_app_on_postgres() -> Option<TestApp> {
    let pg = concord_testkit::PgDatabase::create("concord_server").await?;
    let services = Arc::new(
        Services::open(&pg.url)
            .await
            .expect("open the PostgreSQL database"),
    );
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut app = serve(services, dir).await;
    app.pg = Some(pg);
    Some(app)
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
    serve_with(services, dir, Default::default()).await
}

/// [`serve`] with options (connection limits, a trusted proxy).
pub async fn serve_with(
    services: Arc<Services>,
    dir: TempDir,
    options: concord_server::ServerOptions,
) -> TestApp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(concord_server::serve_with(
        listener,
        services.clone(),
        options,
        async {
            let _ = stopped.await;
        },
    ));
    TestApp {
        base,
        client: Client::new(),
        services,
        dir,
        _stop: stop,
        pg: None,
    }
}

/// Loads the demo data into these services and, with `search`, builds its
/// search index (writer released, as a server would leave it).
pub async fn load_demo(services: &Services, dir: &TempDir, search: bool) {
    services
        .as_principal(operator())
        .operator()
        .unwrap()
        .load_demo()
        .await
        .expect("demo data");
    if search {
        services
            .attach_search(&dir.path().join("t.index"))
            .expect("open the index");
        services.catch_up_search().await.expect("index the demo");
        services.search_index().unwrap().release_writer().await;
    }
}

/// The demo data, indexed for search, served.
pub async fn demo_app() -> TestApp {
    let (services, dir) = open_services().await;
    load_demo(&services, &dir, true).await;
    serve(services, dir).await
}

pub async fn spawn_app() -> TestApp {
    let (services, dir) = open_services().await;
    serve(services, dir).await
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Every row of the database, one line each, as a backup writes them.
    pub async fn backup_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.services
            .as_principal(operator())
            .operator()
            .unwrap()
            .backup(&mut out)
            .await
            .unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Every table but the audit trail and the outbox: what a refused
    /// request must leave as it was.
    pub async fn fingerprint(&self) -> Vec<String> {
        let mut lines = self.backup_lines().await;
        lines.retain(|l| {
            !l.contains("\"table\":\"audit_events\"") && !l.contains("\"table\":\"outbox\"")
        });
        lines
    }

    /// The audit trail's rows.
    pub async fn audit_rows(&self) -> Vec<String> {
        let mut lines = self.backup_lines().await;
        lines.retain(|l| l.contains("\"table\":\"audit_events\""));
        lines
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
