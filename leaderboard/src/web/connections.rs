//! Serving the HTTP router over TCP (or TLS, when `server.tls_cert` is set) with a header timeout and a cap
//! on open connections.
//!
//! Each connection must send a request's whole header within `server.header_timeout_secs` of opening (of
//! its TLS handshake, which has as long again), and of the previous response when it is kept alive, or it
//! is closed: a silent, half-sent or idle connection does not hold a file descriptor for long. At most `server.max_connections` connections are served at
//! once (websockets included, for as long as they are open), and at most
//! `server.max_connections_per_address` of them from one client address, so one client cannot take every
//! place. Up to [`OVERFLOW_CONNECTIONS`] more are answered at once and closed: `/health` with its usual
//! answer, anything else with a JSON 503 naming the limit. Beyond those a connection is closed as soon as
//! it is accepted. Upgraded websocket connections are not subject
//! to the header timeout; the hub's heartbeats and `live.send_timeout_ms` look after them.

use crate::throttle::Throttled;
use crate::web::error::ApiError;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;

/// Connections over `server.max_connections` that are still answered (then closed).
pub const OVERFLOW_CONNECTIONS: usize = 64;

/// How long a connection over the cap has to send its request's header.
const OVERFLOW_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// Kernel send buffer of each HTTP and websocket connection.
const SEND_BUFFER_BYTES: usize = 64 * 1024;

/// How long a stop waits for open connections (websockets close at once) before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The limits every connection is served under.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest wait for a request's whole header (`server.header_timeout_secs`).
    pub header_timeout: Duration,
    /// Most connections served at once (`server.max_connections`).
    pub max_connections: usize,
    /// Most connections served at once from one address (`server.max_connections_per_address`).
    pub max_per_address: usize,
}

impl Limits {
    /// The limits of the `[server]` section.
    pub fn of(config: &schemas::ServerConfig) -> Self {
        Self {
            header_timeout: Duration::from_secs(config.header_timeout_secs),
            max_connections: config.max_connections,
            max_per_address: config.max_connections_per_address,
        }
    }
}

/// Serves `app` on `listener` under `limits` (over TLS with `tls`: the handshake has the header timeout to
/// finish, then the first request's header has it again) until `shutdown`, then asks every connection to
/// finish its request and waits for them (at most 5 s).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: CancellationToken,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = Addresses::default();
    let overflow = Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS));
    let over_limit = Throttled::default();
    while let Some((tcp, peer)) = crate::accept::accept_until(&listener, &shutdown, "HTTP").await {
        let limit =
            match per_address.take(crate::accept::client_of(peer.ip()), limits.max_per_address) {
                None => Limit::PerAddress,
                Some(address) => match open.clone().try_acquire_owned() {
                    Ok(slot) => {
                        tune(&tcp);
                        let io = Counted {
                            tcp,
                            _slot: slot,
                            _address: Some(address),
                        };
                        let app = app.clone();
                        let shutdown = shutdown.clone();
                        let tls = tls.clone();
                        tokio::spawn(async move {
                            if let Some(io) = secure(io, tls, limits.header_timeout).await {
                                serve_connection(io, app, limits, shutdown).await;
                            }
                        });
                        continue;
                    }
                    Err(_) => Limit::Total,
                },
            };
        let answer = match overflow.clone().try_acquire_owned() {
            Ok(slot) => {
                tune(&tcp);
                let io = Counted {
                    tcp,
                    _slot: slot,
                    _address: None,
                };
                let tls = tls.clone();
                tokio::spawn(async move {
                    let timeout = OVERFLOW_HEADER_TIMEOUT.min(limits.header_timeout);
                    if let Some(io) = secure(io, tls, timeout).await {
                        answer_over_limit(io, limits, limit).await;
                    }
                });
                "quick"
            }
            Err(_) => "closed",
        };
        crate::metrics::record_http_over_limit(answer);
        over_limit.log(|suppressed| {
            tracing::warn!(
                %peer,
                limit = limit.setting(),
                answer,
                not_logged = suppressed,
                "an HTTP connection over a connection limit"
            );
        });
    }
    let everyone = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    if tokio::time::timeout(SHUTDOWN_GRACE, open.acquire_many(everyone))
        .await
        .is_err()
    {
        tracing::warn!(
            "HTTP connections still open after {SHUTDOWN_GRACE:?}: stopping without them"
        );
    }
}

/// Frames are written whole: send them at once rather than waiting for the last one's ack. Screens take
/// small frames: a small, fixed send buffer bounds the memory a stuck client pins in the kernel and makes
/// the websocket send timeout notice it within seconds.
fn tune(tcp: &TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "cannot set TCP_NODELAY");
    }
    if let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(SEND_BUFFER_BYTES) {
        tracing::debug!(error = %e, "cannot set the socket send buffer");
    }
}

/// A connection as served: in clear, or over TLS when `server.tls_cert` is set.
type Stream = Either<Counted, Box<TlsStream<Counted>>>;

/// `io` over TLS when `tls` is set, once its handshake is done within `timeout`; `None` when it fails.
async fn secure(io: Counted, tls: Option<TlsAcceptor>, timeout: Duration) -> Option<Stream> {
    let Some(tls) = tls else {
        return Some(Either::Left(io));
    };
    match tokio::time::timeout(timeout, tls.accept(io)).await {
        Ok(Ok(stream)) => Some(Either::Right(Box::new(stream))),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!("TLS handshake did not finish within the header timeout");
            None
        }
    }
}

/// Serves one connection: requests kept alive under the header timeout, and the websocket it may become.
async fn serve_connection(io: Stream, app: Router, limits: Limits, shutdown: CancellationToken) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let service = TowerToHyperService::new(app);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => ended(result),
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            ended(connection.await);
        }
    }
}

/// Which connection limit a connection met.
#[derive(Debug, Clone, Copy)]
enum Limit {
    /// `server.max_connections`.
    Total,
    /// `server.max_connections_per_address`.
    PerAddress,
}

impl Limit {
    fn setting(self) -> &'static str {
        match self {
            Limit::Total => "server.max_connections",
            Limit::PerAddress => "server.max_connections_per_address",
        }
    }

    fn message(self, limits: Limits) -> String {
        match self {
            Limit::Total => format!(
                "too many open HTTP connections: {} are open (server.max_connections); try again shortly",
                limits.max_connections
            ),
            Limit::PerAddress => format!(
                "too many open HTTP connections from your address: {} are open \
                 (server.max_connections_per_address); close some or try again shortly",
                limits.max_per_address
            ),
        }
    }
}

/// The connections being served, counted per client ([`crate::accept::client_of`]: an address, or an
/// IPv6 /64).
#[derive(Default, Clone)]
struct Addresses(Arc<Mutex<HashMap<IpAddr, usize>>>);

impl Addresses {
    /// A place for one more connection from `ip`, or `None` when it has `max` already.
    fn take(&self, ip: IpAddr, max: usize) -> Option<AddressSlot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(AddressSlot {
            addresses: self.clone(),
            ip,
        })
    }
}

/// One connection's place among its address's; given back when dropped.
struct AddressSlot {
    addresses: Addresses,
    ip: IpAddr,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.addresses.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Answers one connection over a limit and closes it: `/health` as usual, anything else 503.
async fn answer_over_limit(io: Stream, limits: Limits, limit: Limit) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| async move {
        let response = if request.uri().path() == "/health" {
            crate::web::api::health().await.into_response()
        } else {
            let mut response =
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, limit.message(limits))
                    .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        };
        Ok::<_, std::convert::Infallible>(response)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(OVERFLOW_HEADER_TIMEOUT.min(limits.header_timeout))
        .keep_alive(false)
        .serve_connection(TokioIo::new(io), service);
    ended(connection.await);
}

/// Logs how a connection ended when it was not the client closing or the header timeout.
fn ended(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "HTTP connection ended with an error");
    }
}

/// A connection that holds its slot of the cap (and of its address's, when served) until it is closed,
/// also as an upgraded websocket.
struct Counted {
    tcp: TcpStream,
    _slot: OwnedSemaphorePermit,
    _address: Option<AddressSlot>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
