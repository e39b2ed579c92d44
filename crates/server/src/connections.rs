//! Accepting connections so that no one client can take the server away
//! from the others: a cap on open connections, in total and from one
//! address; a time limit on reading a request's headers, which also closes
//! a kept-alive connection that sends nothing; and a graceful stop.
//!
//! HTTP/1.1 only: Concord runs behind a reverse proxy that speaks HTTP/2 to
//! browsers (docs/deploy.md), and HTTP/1's header timeout is what bounds an
//! idle connection.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

/// Limits on connections (see [`crate::ServerOptions`]).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Connections open at once; past it a new one is closed at once.
    pub max_open: usize,
    /// Connections open at once from one address.
    pub max_per_address: usize,
    /// How long a client has to send a request's headers, and how long a
    /// kept-alive connection may wait for its next request.
    pub header_read: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            // Well under the usual 20,000 (or 1,024) file descriptors, with
            // room left for the database, the search index and the logs.
            max_open: 4096,
            max_per_address: 256,
            header_read: Duration::from_secs(10),
        }
    }
}

/// One admitted connection as the table of open ones sees it.
struct Slot {
    ip: IpAddr,
    opened: Instant,
    /// Requests being answered on it now: 0 is idle, which may be closed
    /// to make room.
    busy: Arc<AtomicUsize>,
    /// Asks the connection to close once its request in flight is answered.
    close: Arc<tokio::sync::Notify>,
}

/// Who holds which connections now.
#[derive(Default)]
struct Open {
    next: u64,
    slots: HashMap<u64, Slot>,
    by_address: HashMap<IpAddr, usize>,
}

impl Open {
    fn forget(&mut self, id: u64) {
        if let Some(slot) = self.slots.remove(&id)
            && let Some(n) = self.by_address.get_mut(&slot.ip)
        {
            *n -= 1;
            if *n == 0 {
                self.by_address.remove(&slot.ip);
            }
        }
    }
}

/// One admitted connection; leaving gives its place back.
struct Admitted {
    open: Arc<Mutex<Open>>,
    id: u64,
    busy: Arc<AtomicUsize>,
    close: Arc<tokio::sync::Notify>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|p| p.into_inner());
        o.forget(self.id);
    }
}

/// A place for a new connection from `ip`: refused when that address holds
/// its share already; when every place is taken, the connection idle the
/// longest is closed to make room (so that a crowd of connections that
/// send nothing cannot keep anyone else out), and refused only if every
/// connection is answering a request.
fn admit(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: &ConnectionLimits) -> Option<Admitted> {
    let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
    if o.by_address.get(&ip).copied().unwrap_or(0) >= limits.max_per_address {
        return None;
    }
    if o.slots.len() >= limits.max_open {
        let idle = o
            .slots
            .iter()
            .filter(|(_, s)| s.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, s)| s.opened)
            .map(|(id, _)| *id)?;
        if let Some(slot) = o.slots.get(&idle) {
            slot.close.notify_one();
        }
        o.forget(idle);
    }
    let id = o.next;
    o.next += 1;
    let busy = Arc::new(AtomicUsize::new(0));
    let close = Arc::new(tokio::sync::Notify::new());
    o.slots.insert(
        id,
        Slot {
            ip,
            opened: Instant::now(),
            busy: busy.clone(),
            close: close.clone(),
        },
    );
    *o.by_address.entry(ip).or_insert(0) += 1;
    Some(Admitted {
        open: open.clone(),
        id,
        busy,
        close,
    })
}

/// Counts a request as in flight on its connection until it is answered.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn start(busy: &Arc<AtomicUsize>) -> Self {
        busy.fetch_add(1, Ordering::AcqRel);
        InFlight(busy.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish (each is bounded by the request timeout).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let open: Arc<Mutex<Open>> = Arc::default();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut refused_logged = std::time::Instant::now() - Duration::from_secs(60);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (or another passing failure):
                    // wait a moment rather than spin, and keep serving.
                    tracing::warn!("could not accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(admitted) = admit(&open, peer.ip(), &limits) else {
            // Closed at once: its descriptor is free again.
            if refused_logged.elapsed() > Duration::from_secs(10) {
                tracing::warn!(
                    "connection limit reached: refusing connections (from {} among others)",
                    peer.ip()
                );
                refused_logged = std::time::Instant::now();
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let busy = admitted.busy.clone();
        let router = app.clone();
        let service = tower::service_fn(move |mut req: axum::http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            let in_flight = InFlight::start(&busy);
            let answer = router.clone().oneshot(req.map(axum::body::Body::new));
            async move {
                let res = answer.await;
                drop(in_flight);
                res
            }
        });
        let mut stop = stop_rx.clone();
        let close = admitted.close.clone();
        tokio::spawn(async move {
            let _admitted = admitted;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read)
                .keep_alive(true);
            let conn =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!("connection from {peer} ended: {e}");
                    }
                }
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
                _ = close.notified() => {
                    // Made room for another: it was idle, so this closes it.
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    // Stop accepting; ask every connection to finish its request and close.
    drop(listener);
    let _ = stop_tx.send(true);
    let deadline = tokio::time::Instant::now() + crate::REQUEST_TIMEOUT + Duration::from_secs(1);
    while open.lock().map(|o| o.slots.len()).unwrap_or(0) > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_the_longest_idle_makes_room() {
        let open: Arc<Mutex<Open>> = Arc::default();
        let limits = ConnectionLimits {
            max_open: 3,
            max_per_address: 2,
            header_read: Duration::from_secs(1),
        };
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.1".parse().unwrap();
        let a1 = admit(&open, a, &limits).unwrap();
        let a2 = admit(&open, a, &limits).unwrap();
        assert!(admit(&open, a, &limits).is_none(), "per address");
        let b1 = admit(&open, b, &limits).unwrap();
        // Every place taken: the longest idle (a1) makes room.
        let _busy = [InFlight::start(&a2.busy), InFlight::start(&b1.busy)];
        let b2 = admit(&open, b, &limits).expect("room made");
        assert!(
            !open.lock().unwrap().slots.contains_key(&a1.id),
            "a1 closed"
        );
        // Every one busy now: refused.
        let _also = InFlight::start(&b2.busy);
        assert!(admit(&open, b, &limits).is_none(), "nobody idle");
        drop(a1);
        assert_eq!(open.lock().unwrap().by_address.get(&a), Some(&1));
        drop(_busy);
        assert!(admit(&open, "127.0.0.3".parse().unwrap(), &limits).is_some());
    }
}
