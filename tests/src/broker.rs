//! A real Kafka-protocol broker for the tests: a tansu process on a loopback port (installed by
//! `scripts/test.sh`). A missing broker binary is a test failure, never a skip.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running tansu broker.
pub struct Broker {
    child: Child,
    port: u16,
    _workdir: tempfile::TempDir,
}

/// How many ports a broker tries before giving up: another process may take a port between its choice
/// and tansu binding it.
const BROKER_PORT_ATTEMPTS: usize = 5;

/// A free loopback port (bound and released: something else may take it before it is bound again, which
/// [`Broker::start`] detects and survives).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The tansu binary: `$TANSU`, the test script's cache, or `tansu` on the PATH.
pub fn tansu_binary() -> PathBuf {
    let candidates = std::env::var_os("TANSU")
        .map(PathBuf::from)
        .into_iter()
        .chain(
            std::env::var_os("HOME")
                .map(|home| PathBuf::from(home).join(".cache/leaderboard/tansu/bin/tansu")),
        )
        .chain(std::env::var_os("PATH").into_iter().flat_map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("tansu"))
                .collect::<Vec<_>>()
        }));
    for candidate in candidates {
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "the tansu broker is not installed: run `bash scripts/test.sh` (it installs it with \
         `cargo install tansu --locked --features dynostore`) or set TANSU to its path"
    );
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on port {port} after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Broker {
    /// Starts a broker that advertises itself at its own port, on another port if the one chosen was
    /// taken before tansu could bind it.
    pub fn start() -> Self {
        let mut failures = Vec::new();
        for _ in 0..BROKER_PORT_ATTEMPTS {
            let port = free_port();
            match Self::try_start(port, port) {
                Ok(broker) => return broker,
                Err(failure) => failures.push(failure),
            }
        }
        panic!("the tansu broker did not start: {}", failures.join("; "));
    }

    /// Starts a broker listening on `port` that tells clients to connect to `advertised` (a proxy's port).
    pub fn start_advertising(port: u16, advertised: u16) -> Self {
        Self::try_start(port, advertised).unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Starts a broker on `port`; the error says why it is not running (so a port something else took is
    /// never mistaken for the broker's).
    fn try_start(port: u16, advertised: u16) -> Result<Self, String> {
        let workdir = tempfile::tempdir().expect("a temporary directory");
        let mut child = Command::new(tansu_binary())
            .arg("broker")
            .arg("--listener-url")
            .arg(format!("tcp://127.0.0.1:{port}"))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{advertised}"))
            .arg("--storage-engine")
            .arg("memory://tansu/")
            // tansu reads a .env in its working directory and STORAGE_ENGINE & co from the environment.
            .current_dir(workdir.path())
            .env_remove("STORAGE_ENGINE")
            .env_remove("LISTENER_URL")
            .env_remove("ADVERTISED_LISTENER_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the tansu broker");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().expect("the broker's status") {
                return Err(format!("tansu on port {port} exited with {status}"));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                return Err(format!("tansu does not listen on port {port} after 20 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Something accepts connections on the port; if tansu could not bind it, it exits within this
        // (about 150 ms after starting, measured).
        std::thread::sleep(Duration::from_millis(500));
        if let Some(status) = child.try_wait().expect("the broker's status") {
            return Err(format!(
                "tansu on port {port} exited with {status}: something else took the port"
            ));
        }
        Ok(Self {
            child,
            port,
            _workdir: workdir,
        })
    }

    /// The port the broker listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`, for `--brokers`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_something_else_took_is_not_mistaken_for_the_broker() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = taken.local_addr().expect("its address").port();
        let failure = Broker::try_start(port, port)
            .err()
            .expect("tansu cannot listen on a port that is taken");
        assert!(failure.contains("exited"), "{failure}");
        let broker = Broker::start();
        assert_ne!(broker.port(), port);
        assert!(TcpStream::connect(broker.address()).is_ok());
    }
}
