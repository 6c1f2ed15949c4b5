//! A live `leaderboard serve` on a real broker, with a producer for its topic: the fixture of the
//! websocket, browser and API tests.

use crate::broker::Broker;
use crate::process::Serve;
use ingest::kafka::EventProducer;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A broker, a topic and a server consuming it.
pub struct LiveServer {
    /// The server process.
    pub serve: Serve,
    /// The topic.
    pub topic: String,
    broker: Broker,
    dir: tempfile::TempDir,
    produced: u64,
}

impl LiveServer {
    /// Starts a broker and `leaderboard serve` with `org_csv` and the config file text `config`; the
    /// fixture's own requests carry the config's `admin_token` when it has one.
    pub fn start(org_csv: &str, config: &str) -> Self {
        let broker = Broker::start();
        let dir = tempfile::tempdir().expect("a temp dir");
        let org = dir.path().join("org.csv");
        std::fs::write(&org, org_csv).expect("write the org file");
        let config_path = dir.path().join("leaderboard.toml");
        std::fs::write(&config_path, config).expect("write the config");
        let topic = "activity".to_string();
        let args: Vec<String> = [
            "--config",
            path(&config_path),
            "--org",
            path(&org),
            "--brokers",
            &broker.address(),
            "--topic",
            &topic,
            "--state-dir",
            path(&dir.path().join("state")),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut serve = Serve::start(&args);
        let parsed = schemas::Config::from_toml(config, "test config").expect("a valid config");
        if let Some(token) = &parsed.access.admin_token {
            serve.use_token(token);
        }
        Self {
            serve,
            topic,
            broker,
            dir,
            produced: 0,
        }
    }

    /// The broker's address.
    pub fn brokers(&self) -> String {
        self.broker.address()
    }

    /// A directory that lives as long as the fixture.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Produces `lines` (JSON events, keyed by branch) and waits until the server's state has taken them.
    pub fn produce(&mut self, lines: &[String]) {
        self.produce_async(lines);
        self.serve
            .wait_for_total(self.produced, Duration::from_secs(60));
    }

    /// Produces every line of the NDJSON file `events` and waits until the server's state has taken them.
    pub fn produce_file(&mut self, events: &Path) {
        let lines: Vec<String> = std::fs::read_to_string(events)
            .expect("read the events")
            .lines()
            .map(String::from)
            .collect();
        self.produce(&lines);
    }

    /// Produces `lines` without waiting for the server.
    pub fn produce_async(&mut self, lines: &[String]) {
        let brokers = self.brokers();
        let topic = self.topic.clone();
        let lines = lines.to_vec();
        let sent = std::thread::spawn(move || {
            crate::block_on(async move {
                let mut producer = EventProducer::new(&brokers, &topic).expect("a producer");
                for line in &lines {
                    producer.send(line.as_bytes()).await.expect("send");
                }
                producer.finish().await.expect("delivered")
            })
        })
        .join()
        .expect("the producer thread");
        self.produced += sent;
    }

    /// Messages produced so far.
    pub fn produced(&self) -> u64 {
        self.produced
    }

    /// `GET path` as JSON, asserting a 200.
    pub fn get(&self, path: &str) -> Value {
        let (status, body) = self.serve.get(path);
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// `ws://127.0.0.1:<port>` + `path`.
    pub fn ws_url(&self, path: &str) -> String {
        self.serve.url(path).replacen("http://", "ws://", 1)
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Polls `check` every 50 ms until it returns `Some`, or panics with `what` after `timeout`.
pub fn eventually<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A directory under the workspace's own `target/` (created), whatever `CARGO_TARGET_DIR` says: where
/// tests leave artefacts for people, such as screenshots.
pub fn target_dir(sub: &str) -> PathBuf {
    let dir = crate::workspace_dir().join("target").join(sub);
    std::fs::create_dir_all(&dir).expect("create the artefact directory");
    dir
}
