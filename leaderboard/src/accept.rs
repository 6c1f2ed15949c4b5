//! Accepting TCP connections until the service stops, for the HTTP and Postgres listeners alike.

use std::net::IpAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

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

/// The client an address stands for, as the connection and login limits count it: the address, or for
/// IPv6 its /64 network (what one host is usually given).
pub fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(network.into())
        }
        v4 => v4,
    }
}
