//! `concord serve`: the web pages and the API, until stopped.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use concord_app::Services;

use crate::commands::{Context, search, similar};

/// Where and how `concord serve` listens.
#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Mark cookies Secure on every response and send HSTS. The default
    /// when the server listens beyond loopback, has a --trusted-proxy or
    /// an https --public-url; otherwise only requests that came with
    /// X-Forwarded-Proto: https get Secure cookies.
    #[arg(long)]
    pub secure_cookies: bool,
    /// Never mark cookies Secure by default (a server others reach over
    /// plain HTTP, on a closed network): sessions then travel unencrypted.
    #[arg(long, conflicts_with = "secure_cookies")]
    pub insecure_cookies: bool,
    /// The reverse proxy's address (e.g. 127.0.0.1 for nginx on the same
    /// machine): only its requests have the client's address read from
    /// X-Forwarded-For, for sign-in throttling.
    #[arg(long, value_name = "IP")]
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// The address the public reaches Concord at (e.g.
    /// https://concord.example.nhs.uk): the start of the links in feeds,
    /// whatever Host a request names.
    #[arg(long, value_name = "URL", value_parser = public_url)]
    pub public_url: Option<String>,
    /// Also listen here for operators: GET /metrics (Prometheus text
    /// format: requests and latency by route, index lag, database pool,
    /// sign-in refusals), /healthz and /readyz. Keep it off the public
    /// network (e.g. 127.0.0.1:9180).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
}

pub async fn run(ctx: &Context, args: ServeArgs) -> anyhow::Result<()> {
    let ServeArgs {
        addr,
        secure_cookies,
        insecure_cookies,
        trusted_proxy,
        public_url,
        metrics_addr,
    } = args;
    let services = Arc::new(ctx.open().await?);
    search::attach(&services, &ctx.db, ctx.index_dir())?;
    eprintln!(
        "{}",
        similar::attach_derived(&services, &ctx.db, ctx.index_dir())
    );
    let options = concord_server::ServerOptions {
        secure_cookies,
        trusted_proxy,
        public_url,
        ..Default::default()
    };
    let cookies = match (secure_cookies, insecure_cookies) {
        (true, _) => Cookies::Secure,
        (_, true) => Cookies::Insecure,
        _ => Cookies::ByDefault,
    };
    if let Some(m) = metrics_addr {
        let listener = tokio::net::TcpListener::bind(&m)
            .await
            .with_context(|| format!("cannot listen on {m} (--metrics-addr)"))?;
        eprintln!("metrics on http://{}/metrics", listener.local_addr()?);
        let (services, options) = (services.clone(), options.clone());
        tokio::spawn(async move {
            // Ends with the process: the public listener's stop ends it.
            let forever = std::future::pending::<()>();
            if let Err(e) =
                concord_server::serve_metrics(listener, services, options, forever).await
            {
                eprintln!("the metrics listener stopped: {e}");
            }
        });
    }
    listen(services, &addr, options, cookies).await
}

/// What the operator said about Secure cookies.
pub(crate) enum Cookies {
    Secure,
    Insecure,
    /// Neither: decided by where the server listens (see
    /// `concord_server::secure_cookies_by_default`).
    ByDefault,
}

/// Listens on `addr` and serves until a stop signal.
pub(crate) async fn listen(
    services: Arc<Services>,
    addr: &str,
    mut options: concord_server::ServerOptions,
    cookies: Cookies,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    options.secure_cookies = match cookies {
        Cookies::Secure => true,
        Cookies::Insecure => false,
        Cookies::ByDefault => concord_server::secure_cookies_by_default(
            local.ip(),
            options.trusted_proxy,
            options.public_url.as_deref(),
        ),
    };
    eprintln!(
        "{}",
        if options.secure_cookies {
            "cookies are marked Secure and HSTS is sent: sign-in works only over HTTPS"
        } else {
            "cookies are not marked Secure (a local copy over plain HTTP)"
        }
    );
    // Scripts read this first line to learn the port.
    println!("listening on http://{local}");
    std::io::stdout().flush()?;
    concord_server::serve_with(listener, services, options, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// `--public-url`: an http(s) address with a host and nothing a link
/// could be broken out of.
fn public_url(text: &str) -> Result<String, String> {
    let t = text.trim().trim_end_matches('/');
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or("must start with https:// (or http://)")?;
    if rest.is_empty()
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'/' | b'_'))
    {
        return Err("must be a plain address such as https://concord.example.nhs.uk".into());
    }
    Ok(t.to_string())
}
