//! The socket side: accepting connections, TLS (with optional client certificates for
//! operators), connection caps, timeouts and graceful shutdown.
//!
//! * At most `max_connections_per_address` connections from one client address and
//!   `max_connections` in all; a connection over a cap is closed at once, so one client's idle
//!   sockets cannot starve everyone else (or `/v1/health`).
//! * A client must send a request's headers within `header_read_timeout` (slow-header
//!   clients are cut off), and a connection on which no byte moves for `idle_timeout` is
//!   closed (idle keep-alive sockets do not pile up).
//! * With TLS, a client certificate is asked for but not required; when one is presented it
//!   must chain to the operator CA, and handlers see it (an operator credential names it).
//!   TLS handshakes must finish within 10 seconds.
//! * Every request carries a [`PeerInfo`] extension: the client's address and certificate.

use crate::limits::Limits;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tower::ServiceExt;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Who is on the other end of a request's connection.
#[derive(Clone, Debug, Default)]
pub struct PeerInfo {
    /// The client's address as the socket saw it (no proxy headers are trusted).
    pub address: Option<SocketAddr>,
    /// The TLS client certificate (DER), when one was presented and verified.
    pub client_certificate: Option<Arc<Vec<u8>>>,
}

impl PeerInfo {
    /// The client's IP address.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.map(|a| a.ip())
    }
}

/// Open connections per address, and in all.
#[derive(Debug, Default)]
struct ConnectionCounts {
    per_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// Releases a connection's slot when dropped.
struct Slot {
    counts: Arc<Mutex<ConnectionCounts>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut c) = self.counts.lock() {
            c.total = c.total.saturating_sub(1);
            if let Some(n) = c.per_address.get_mut(&self.ip) {
                *n -= 1;
                if *n == 0 {
                    c.per_address.remove(&self.ip);
                }
            }
        }
    }
}

fn take_slot(counts: &Arc<Mutex<ConnectionCounts>>, ip: IpAddr, limits: &Limits) -> Option<Slot> {
    let mut c = counts.lock().ok()?;
    let here = c.per_address.get(&ip).copied().unwrap_or(0);
    if here >= limits.max_connections_per_address || c.total >= limits.max_connections {
        return None;
    }
    c.per_address.insert(ip, here + 1);
    c.total += 1;
    Some(Slot {
        counts: counts.clone(),
        ip,
    })
}

/// A stream that fails with `TimedOut` once no byte was read or written for `timeout` while
/// the other side is waited on. Activity only stamps the time; the one timer is re-armed when
/// it fires early, so a busy connection costs no timer operations per read.
struct IdleTimeout<S> {
    inner: S,
    timeout: Duration,
    last: tokio::time::Instant,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl<S> IdleTimeout<S> {
    fn new(inner: S, timeout: Duration) -> Self {
        IdleTimeout {
            inner,
            timeout,
            last: tokio::time::Instant::now(),
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }

    fn moved(&mut self) {
        self.last = tokio::time::Instant::now();
    }

    fn check(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Error> {
        loop {
            match self.deadline.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => {
                    let due = self.last + self.timeout;
                    if tokio::time::Instant::now() >= due {
                        return Poll::Ready(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "connection idle for too long",
                        ));
                    }
                    // Bytes moved since the timer was armed: wait until the new due time.
                    self.deadline.as_mut().reset(due);
                }
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    self.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending => match self.check(cx) {
                Poll::Ready(e) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.moved();
                }
                Poll::Ready(r)
            }
            Poll::Pending => match self.check(cx) {
                Poll::Ready(e) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A running accept loop.
pub(crate) struct Listener {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    /// Stop accepting, let requests in flight finish (up to `grace`), then close the rest.
    pub(crate) async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.stop.send(true);
        self.task
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Accept connections on `listener` and serve `router` on them until shut down.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    router: Router,
    limits: Limits,
    grace: Duration,
) -> Listener {
    let (stop, mut stopped) = watch::channel(false);
    let task = tokio::spawn(async move {
        let counts = Arc::new(Mutex::new(ConnectionCounts::default()));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .keep_alive(true);
        let http = Arc::new(http);
        loop {
            let (tcp, address) = tokio::select! {
                biased;
                _ = stopped.changed() => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Some(slot) = take_slot(&counts, address.ip(), &limits) else {
                tracing::debug!(%address, "connection refused: too many from this address");
                drop(tcp);
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let tls = tls.clone();
            let router = router.clone();
            let http = http.clone();
            let idle = limits.idle_timeout;
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let _slot = slot;
                let (stream, certificate): (Box<dyn Io>, _) = match tls {
                    None => (Box::new(IdleTimeout::new(tcp, idle)), None),
                    Some(acceptor) => {
                        let accepted =
                            tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await;
                        let Ok(Ok(tls)) = accepted else {
                            return;
                        };
                        let certificate = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .map(|c| Arc::new(c.as_ref().to_vec()));
                        (Box::new(IdleTimeout::new(tls, idle)), certificate)
                    }
                };
                let peer = PeerInfo {
                    address: Some(address),
                    client_certificate: certificate,
                };
                let service =
                    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                        req.extensions_mut().insert(peer.clone());
                        router.clone().oneshot(req)
                    });
                let conn = http.serve_connection(TokioIo::new(stream), service);
                if let Err(e) = watcher.watch(conn).await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            });
        }
        drop(listener);
        tokio::select! {
            _ = graceful.shutdown() => {}
            _ = tokio::time::sleep(grace) => {
                tracing::warn!("some connections were still open after the grace period");
            }
        }
    });
    Listener { stop, task }
}

/// A byte stream a connection can run on.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}
