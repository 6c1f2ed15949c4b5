//! Serving the HTTP router over TCP with a header timeout and a cap on open connections.
//!
//! Each connection must send a request's whole header within `server.header_timeout_secs` of opening, and
//! of the previous response when it is kept alive, or it is closed: a silent, half-sent or idle connection
//! does not hold a file descriptor for long. At most `server.max_connections` connections are served at
//! once (websockets included, for as long as they are open). Up to [`OVERFLOW_CONNECTIONS`] more are
//! answered at once and closed: `/health` with its usual answer, anything else with a JSON 503. Beyond
//! those a connection is closed as soon as it is accepted. Upgraded websocket connections are not subject
//! to the header timeout; the hub's heartbeats and `live.send_timeout_ms` look after them.

use crate::server::ApiError;
use crate::throttle::Throttled;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
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
}

impl Limits {
    /// The limits of the `[server]` section.
    pub fn of(config: &schemas::ServerConfig) -> Self {
        Self {
            header_timeout: Duration::from_secs(config.header_timeout_secs),
            max_connections: config.max_connections,
        }
    }
}

/// The next connection `listener` accepts, or `None` once `shutdown` is cancelled. A failed accept (out of
/// file descriptors, most likely) is logged, naming the `protocol`, and retried after the open
/// connections have had a moment to end.
pub async fn accept_until(
    listener: &TcpListener,
    shutdown: &CancellationToken,
    protocol: &str,
) -> Option<(TcpStream, std::net::SocketAddr)> {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return None,
        };
        match accepted {
            Ok(accepted) => return Some(accepted),
            Err(e) => {
                tracing::warn!(error = %e, protocol, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Serves `app` on `listener` under `limits` until `shutdown`, then asks every connection to finish its
/// request and waits for them (at most [`SHUTDOWN_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: CancellationToken,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let overflow = Arc::new(Semaphore::new(OVERFLOW_CONNECTIONS));
    let over_limit = Throttled::default();
    while let Some((tcp, peer)) = accept_until(&listener, &shutdown, "HTTP").await {
        tune(&tcp);
        if let Ok(slot) = open.clone().try_acquire_owned() {
            let io = Counted { tcp, _slot: slot };
            tokio::spawn(serve_connection(io, app.clone(), limits, shutdown.clone()));
            continue;
        }
        let answer = match overflow.clone().try_acquire_owned() {
            Ok(slot) => {
                tokio::spawn(answer_over_limit(Counted { tcp, _slot: slot }, limits));
                "quick"
            }
            Err(_) => "closed",
        };
        crate::metrics::record_http_over_limit(answer);
        over_limit.log(|suppressed| {
            tracing::warn!(
                %peer,
                max_connections = limits.max_connections,
                answer,
                not_logged = suppressed,
                "an HTTP connection over server.max_connections"
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

/// Serves one connection: requests kept alive under the header timeout, and the websocket it may become.
async fn serve_connection(io: Counted, app: Router, limits: Limits, shutdown: CancellationToken) {
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

/// Answers one connection over the cap and closes it: `/health` as usual, anything else 503.
async fn answer_over_limit(io: Counted, limits: Limits) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| async move {
        let response = if request.uri().path() == "/health" {
            crate::api::health().await.into_response()
        } else {
            let mut response = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "too many open HTTP connections: {} are open (server.max_connections); try again \
                     shortly",
                    limits.max_connections
                ),
            )
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

/// A connection that holds its slot of the cap until it is closed, also as an upgraded websocket.
struct Counted {
    tcp: TcpStream,
    _slot: OwnedSemaphorePermit,
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
