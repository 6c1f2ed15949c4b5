//! A real Kafka-protocol broker for the tests: a tansu process on a loopback port (installed by
//! `scripts/test.sh`). A missing broker binary is a test failure, never a skip.

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

/// How long a broker may take to listen.
const BROKER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// A free loopback port (bound and released: something else may take it before it is bound again).
/// [`wait_until_listening`] notices when that happens, and [`Broker::start`] then tries another port.
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

/// Waits until `child` itself listens on `127.0.0.1:port`; the error says why it does not. Only the
/// child's own socket counts, so a port something else took after [`free_port`] chose it is never mistaken
/// for the child's, and a child that exits (it could not bind the port, or failed to start) is reported at
/// once with its status. A child that fails is killed and reaped.
pub fn wait_until_listening(child: &mut Child, port: u16, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    while !listens_on(child.id(), port) {
        let failure = match child.try_wait() {
            Ok(Some(status)) => format!("the process meant for port {port} exited with {status}"),
            Err(e) => format!("cannot watch the process meant for port {port}: {e}"),
            Ok(None) if Instant::now() >= deadline => {
                format!("nothing of ours listens on port {port} after {timeout:?}")
            }
            Ok(None) => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let _ = child.kill();
        let _ = child.wait();
        return Err(failure);
    }
    Ok(())
}

impl Broker {
    /// Starts a broker that advertises itself at its own port, on another port if the one chosen was
    /// taken before tansu could bind it.
    pub fn start() -> Self {
        Self::start_on((0..BROKER_PORT_ATTEMPTS).map(|_| free_port()))
    }

    /// Starts a broker on the first of `ports` it can listen on.
    fn start_on(ports: impl IntoIterator<Item = u16>) -> Self {
        let mut failures = Vec::new();
        for port in ports {
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

    /// Starts a broker on `port` and waits until it listens there; the error says why it does not (a port
    /// something else took is never mistaken for the broker's: the listening socket must be tansu's own).
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
        wait_until_listening(&mut child, port, BROKER_START_TIMEOUT)
            .map_err(|failure| format!("tansu: {failure}"))?;
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

/// Returns true if and only if process `pid` holds the socket listening on `127.0.0.1:port` (from
/// `/proc/net/tcp` and the process's open files).
fn listens_on(pid: u32, port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    // Columns: slot, local address (hex, little-endian IPv4), remote address, state (0A: listening), …,
    // inode (the tenth).
    let local = format!("0100007F:{port:04X}");
    let sockets: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|row| {
            let columns: Vec<&str> = row.split_whitespace().collect();
            (columns.get(1) == Some(&local.as_str()) && columns.get(3) == Some(&"0A"))
                .then(|| columns.get(9).map(|inode| format!("socket:[{inode}]")))
                .flatten()
        })
        .collect();
    let Ok(files) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    files.flatten().any(|file| {
        std::fs::read_link(file.path())
            .is_ok_and(|target| sockets.iter().any(|s| target.as_os_str() == s.as_str()))
    })
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
        assert!(listens_on(std::process::id(), port));
        let failure = Broker::try_start(port, port)
            .err()
            .expect("tansu cannot listen on a port that is taken");
        assert!(failure.contains("exited"), "{failure}");
        let other = free_port();
        let broker = Broker::start_on([port, other]);
        assert_eq!(broker.port(), other, "the next port is tried");
        assert!(listens_on(broker.child.id(), other));
    }
}
