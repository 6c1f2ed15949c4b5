//! The `leaderboard` binary as the tests run it: one-shot commands and a `serve` process that can be
//! killed with SIGKILL and started again on the same state directory.

use crate::broker::{free_port, wait_until_listening};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `leaderboard` binary of the same build as the running executable (a test in
/// `target/<profile>/deps/`, or a tool in `target/<profile>/`).
pub fn leaderboard_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the running executable");
    let dir = exe.parent().expect("the executable's directory");
    [dir, dir.parent().unwrap_or(dir)]
        .iter()
        .map(|d| d.join("leaderboard"))
        .find(|b| b.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no leaderboard binary next to {}: build it with `cargo build --release -p leaderboard`",
                exe.display()
            )
        })
}

/// Runs `leaderboard <args>`; panics with its stderr unless it succeeds.
pub fn run(args: &[&str]) -> Output {
    let output = Command::new(leaderboard_binary())
        .args(args)
        .output()
        .expect("run leaderboard");
    assert!(
        output.status.success(),
        "leaderboard {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// `leaderboard simulate` into `dir`: returns the event file (`events.ndjson`) and the organisation file
/// (`org.csv`), for `days` days from `from` (YYYY-MM-DD).
pub fn simulate(
    dir: &Path,
    from: &str,
    days: u32,
    branches: u32,
    users_per_branch: u32,
    seed: u64,
) -> (PathBuf, PathBuf) {
    let events = dir.join("events.ndjson");
    let org = dir.join("org.csv");
    let (days, branches, users, seed) = (
        days.to_string(),
        branches.to_string(),
        users_per_branch.to_string(),
        seed.to_string(),
    );
    run(&[
        "simulate",
        "--out",
        events.to_str().expect("UTF-8 path"),
        "--org-out",
        org.to_str().expect("UTF-8 path"),
        "--from",
        from,
        "--days",
        &days,
        "--branches",
        &branches,
        "--users-per-branch",
        &users,
        "--seed",
        &seed,
    ]);
    (events, org)
}

/// `leaderboard replay … --period P --users` as JSON.
pub fn replay_scorecard(org: &Path, events: &Path, config: Option<&Path>, period: &str) -> Value {
    let mut args = vec![
        "replay".to_string(),
        "--org".into(),
        org.display().to_string(),
        "--events".into(),
        events.display().to_string(),
        "--period".into(),
        period.into(),
        "--users".into(),
    ];
    if let Some(config) = config {
        args.extend(["--config".into(), config.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    serde_json::from_slice(&run(&args).stdout).expect("replay prints JSON")
}

/// The counts `leaderboard replay` reports on stderr for `events`, as the status endpoint's JSON object.
pub fn replay_counts(org: &Path, events: &Path) -> Value {
    let output = run(&[
        "replay",
        "--org",
        org.to_str().expect("UTF-8 path"),
        "--events",
        events.to_str().expect("UTF-8 path"),
        "--period",
        "assessment",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary = stderr
        .lines()
        .find(|l| l.starts_with("accepted="))
        .unwrap_or_else(|| panic!("no summary line in {stderr}"));
    let mut counts = serde_json::Map::new();
    for pair in summary.split_whitespace() {
        let (key, value) = pair.split_once('=').expect("key=value");
        counts.insert(key.into(), value.parse::<u64>().expect("a count").into());
    }
    Value::Object(counts)
}

/// Sends `method` to `url` with an optional bearer `token` and JSON `body`: the status and the answer as
/// JSON (a body that is not JSON comes back as a string).
pub fn request(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = match (method, body) {
        (method @ ("POST" | "PUT"), Some(body)) => {
            let mut r = if method == "PUT" {
                agent.put(url)
            } else {
                agent.post(url)
            }
            .header("content-type", "application/json");
            if let Some(t) = token {
                r = r.header("authorization", &format!("Bearer {t}"));
            }
            r.send(body.to_string())
        }
        ("DELETE", None) => agent.delete(url).call(),
        _ => {
            let mut r = agent.get(url);
            if let Some(t) = token {
                r = r.header("authorization", &format!("Bearer {t}"));
            }
            r.call()
        }
    }
    .expect("the server answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// GET `url` as JSON (a body that is not JSON comes back as a string), with its status code; status 0 when
/// nothing answered.
pub fn get_json(url: &str) -> (u16, Value) {
    let response = ureq::get(url)
        .config()
        .http_status_as_error(false)
        .build()
        .call();
    match response {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let body = response.body_mut().read_to_string().unwrap_or_default();
            (
                status,
                serde_json::from_str(&body).unwrap_or(Value::String(body)),
            )
        }
        Err(e) => (0, Value::String(e.to_string())),
    }
}

/// The sum of the disposition counts of a status `counts` object.
fn total_of(counts: &Value) -> u64 {
    ["accepted", "duplicate", "late", "rejected"]
        .iter()
        .map(|k| counts[k].as_u64().unwrap_or(0))
        .sum()
}

/// A `leaderboard serve` process.
pub struct Serve {
    args: Vec<String>,
    port: u16,
    child: Option<Child>,
    token: Option<String>,
}

impl Serve {
    /// Starts `leaderboard serve` on a free port with `args` (which must not include `--listen`).
    pub fn start(args: &[String]) -> Self {
        let mut serve = Self {
            args: args.to_vec(),
            port: free_port(),
            child: None,
            token: None,
        };
        serve.spawn();
        serve
    }

    fn spawn(&mut self) {
        let child = Command::new(leaderboard_binary())
            .arg("serve")
            .args(&self.args)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start leaderboard serve");
        let child = self.child.insert(child);
        wait_until_listening(child, self.port, Duration::from_secs(30))
            .unwrap_or_else(|failure| panic!("leaderboard serve: {failure}"));
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    /// The HTTP port it listens on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGKILL: no checkpoint, no goodbye.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill -9");
            child.wait().expect("reap");
        }
    }

    /// SIGTERM, then waits for a clean exit (which writes a last checkpoint).
    pub fn terminate(&mut self) {
        if let Some(mut child) = self.child.take() {
            let status = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status()
                .expect("kill -TERM");
            assert!(status.success());
            let exit = child.wait().expect("wait");
            assert!(exit.success(), "serve exited with {exit} after SIGTERM");
        }
    }

    /// Starts the process again with the same flags and state directory.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Sends `token` with the fixture's own requests (for servers with `[access]` tokens).
    pub fn use_token(&mut self, token: &str) {
        self.token = Some(token.to_string());
    }

    /// GET `path` as JSON, with its status code (and the fixture's token, if any).
    pub fn get(&self, path: &str) -> (u16, Value) {
        match &self.token {
            Some(token) => {
                let joint = if path.contains('?') { '&' } else { '?' };
                get_json(&self.url(&format!("{path}{joint}token={token}")))
            }
            None => get_json(&self.url(path)),
        }
    }

    /// GET `/metrics` as text.
    pub fn metrics(&self) -> String {
        ureq::get(&self.url("/metrics"))
            .call()
            .expect("GET /metrics")
            .body_mut()
            .read_to_string()
            .expect("metrics text")
    }

    /// The state's disposition totals, once `/api/v1/status` answers.
    pub fn counts(&self) -> Option<Value> {
        let (status, body) = self.get("/api/v1/status");
        (status == 200).then(|| body["counts"].clone())
    }

    /// Messages the state has taken, whatever became of them (0 until the server answers).
    pub fn messages_seen(&self) -> u64 {
        self.counts().as_ref().map_or(0, total_of)
    }

    /// Waits until the state has taken `total` messages (every disposition), then returns the counts.
    pub fn wait_for_total(&self, total: u64, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let counts = self.counts();
            if let Some(counts) = &counts {
                let seen = total_of(counts);
                assert!(
                    seen <= total,
                    "the state counted {seen} messages of {total}: {counts}"
                );
                if seen == total {
                    return counts.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "the state did not reach {total} messages in {timeout:?}; last counts {counts:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The live scorecard of `period` with per-user rows.
    pub fn scorecard(&self, period: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/scorecard?period={period}&users=true"));
        assert_eq!(status, 200, "scorecard {period}: {body}");
        body
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// User + system CPU seconds of the process `pid` (a number, or `self`).
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // utime and stime, in clock ticks (100 a second), are the 12th and 13th fields after the command name.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}
