//! The App faces the internet: slow or idle clients must not stop it. Its own
//! accept loop over hyper's HTTP/1 connections, with
//!
//! - a header-read timeout ([`HEADERS`]): a client that has not sent its whole
//!   request head by then is cut off; it also closes idle keep-alive
//!   connections, whose wait for the next head is the same read;
//! - a body timeout ([`BODY`], [`read_body`]) and a lifetime for each
//!   connection ([`LIFETIME`]): a client trickling its body or holding a
//!   keep-alive connection open is cut off too;
//! - a cap on open connections ([`Limits`]): above it, new connections are
//!   closed at once, so descriptors never run out and the listen queue keeps
//!   moving;
//! - the descriptor soft limit raised to the hard one at start, so the cap can
//!   be high where the system allows it.
//!
//! GitHub waits 10 s for an answer to a delivery; with 1,100 clients trickling
//! headers, a signed delivery is still answered at once.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

/// Time a client has to send its request head (and, on a kept-alive
/// connection, the next one).
pub const HEADERS: Duration = Duration::from_secs(10);
/// Time a client has to send a request's body.
pub const BODY: Duration = Duration::from_secs(10);
/// Longest a connection stays open, however busy.
pub const LIFETIME: Duration = Duration::from_secs(60);
/// Most connections open at once, where descriptors allow.
pub const MAX_CONNECTIONS: usize = 4096;
/// Descriptors kept for everything else: the KV, GitHub, ServiceNow, logs.
const RESERVED_FDS: u64 = 128;
/// How long shutdown waits for the connections still open.
const DRAIN: Duration = Duration::from_secs(15);

/// The connection cap, chosen once at start.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub connections: usize,
}

impl Limits {
    /// Raises the descriptor soft limit to the hard one and caps connections
    /// at [`MAX_CONNECTIONS`] or what the descriptors allow, whichever is less.
    pub fn at_start() -> Limits {
        let fds = raise_nofile();
        let room = fds.saturating_sub(RESERVED_FDS).max(16);
        Limits { connections: MAX_CONNECTIONS.min(usize::try_from(room).unwrap_or(usize::MAX)) }
    }
}

/// Sets `RLIMIT_NOFILE`'s soft limit to its hard limit; the soft limit now.
#[cfg(unix)]
fn raise_nofile() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    // `rlim_t` is u64 on Linux, not everywhere.
    #[allow(clippy::unnecessary_cast)]
    let (before, max) = (lim.rlim_cur as u64, lim.rlim_max as u64);
    if before >= max {
        return before;
    }
    let want = libc::rlimit { rlim_cur: lim.rlim_max, rlim_max: lim.rlim_max };
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } != 0 {
        return before;
    }
    tracing::info!(from = before, to = max, "raised the open-files limit");
    max
}

#[cfg(not(unix))]
fn raise_nofile() -> u64 {
    MAX_CONNECTIONS as u64 + RESERVED_FDS
}

/// Reads a request body of at most `limit` bytes within [`BODY`]; `None` when
/// it is larger, slower or broken.
pub async fn read_body(body: Body, limit: usize) -> Option<Bytes> {
    match tokio::time::timeout(BODY, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(b)) => Some(b),
        Ok(Err(_)) | Err(_) => None,
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets the open
/// connections finish (at most [`DRAIN`]).
pub async fn serve(listener: TcpListener, router: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let permits = Arc::new(Semaphore::new(limits.connections));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut full_since: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors or a connection reset before accept:
                // wait a moment instead of spinning.
                tracing::warn!(error = %e, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            if full_since.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(max = limits.connections, "too many open connections: closing new ones");
                full_since = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(router.clone());
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            connection(stream, service, stop).await;
            drop(permit);
        });
    }
    let _ = stop_tx.send(true);
    let all = u32::try_from(limits.connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(DRAIN, permits.acquire_many(all)).await.is_err() {
        tracing::warn!("connections still open after {}s; closing them", DRAIN.as_secs());
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    service: TowerToHyperService<Router>,
    mut stop: watch::Receiver<bool>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(HEADERS);
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let run = async {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.changed() => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.as_mut().await;
    };
    // Past its lifetime the connection is dropped, whatever it was doing.
    let _ = tokio::time::timeout(LIFETIME, run).await;
}
