//! Shared fixtures for the end-to-end tests in `tests/tests/`: a small scenario builder that writes events
//! as wire JSON (so every test also goes through the real decoder) and feeds them to a real engine.
#![deny(missing_docs)]

pub mod broker;
pub mod browser;
pub mod live;
pub mod pg_wire;
pub mod process;
pub mod proxy;
pub mod ws_client;

use analytics::{BranchRow, Engine, Indicator, PeriodSpec, Scorecard};
use schemas::{Config, Message, Organisation, decode_event};
use serde_json::{Value, json};
use std::sync::Arc;

/// A far-future pipeline clock, so 2016 events are never "in the future".
pub const CLOCK: i64 = i64::MAX / 2;

/// Events for one test, each on a partition, in arrival order.
#[derive(Default)]
pub struct Scenario {
    lines: Vec<(u32, String)>,
    partition: u32,
    next_id: usize,
    taken: usize,
}

impl Scenario {
    /// An empty scenario on partition 0.
    pub fn new() -> Self {
        Self::default()
    }

    /// Subsequent events arrive on `partition`.
    pub fn on(&mut self, partition: u32) -> &mut Self {
        self.partition = partition;
        self
    }

    /// Adds an event with a fresh id; `fields` adds or overrides fields.
    pub fn event(
        &mut self,
        event_type: &str,
        at: &str,
        branch: &str,
        user: Option<&str>,
        fields: Value,
    ) -> &mut Self {
        self.next_id += 1;
        let id = format!("e{}", self.next_id);
        self.event_with_id(&id, event_type, at, branch, user, fields)
    }

    /// Adds an event with the given id.
    pub fn event_with_id(
        &mut self,
        id: &str,
        event_type: &str,
        at: &str,
        branch: &str,
        user: Option<&str>,
        fields: Value,
    ) -> &mut Self {
        let mut e = json!({"event_id": id, "event_type": event_type, "occurred_at": at, "branch_id": branch});
        if let Some(user) = user {
            e["user_id"] = json!(user);
        }
        for (k, v) in fields.as_object().expect("fields are an object") {
            e[k] = v.clone();
        }
        self.lines.push((self.partition, e.to_string()));
        self
    }

    /// `user` joins `branch` at `at`.
    pub fn register(&mut self, user: &str, branch: &str, at: &str) -> &mut Self {
        self.event(
            "user_registered",
            at,
            branch,
            Some(user),
            json!({"channel": "direct"}),
        )
    }

    /// A login.
    pub fn login(&mut self, user: &str, branch: &str, at: &str) -> &mut Self {
        self.event("login", at, branch, Some(user), json!({"terminal": "pc"}))
    }

    /// A quote from `terminal`.
    pub fn quote(&mut self, user: &str, branch: &str, at: &str, terminal: &str) -> &mut Self {
        let n = self.next_id;
        self.event(
            "quote_created",
            at,
            branch,
            Some(user),
            json!({"terminal": terminal, "quote_id": format!("q{n}")}),
        )
    }

    /// A mobile payment.
    pub fn mobile_payment(&mut self, user: &str, branch: &str, at: &str, amount: f64) -> &mut Self {
        let n = self.next_id;
        self.event(
            "payment_completed",
            at,
            branch,
            Some(user),
            json!({"terminal": "phone", "payment_id": format!("pay{n}"), "amount": amount}),
        )
    }

    /// Heartbeat events in `branch` that move the partition's watermark to `at`: as many logins at `at` as
    /// the default watermark rule needs to confirm a jump of any size.
    pub fn tick(&mut self, branch: &str, at: &str) -> &mut Self {
        for _ in 0..Config::default().watermark_confirmations {
            self.event(
                "login",
                at,
                branch,
                Some("clock"),
                json!({"terminal": "pc"}),
            );
        }
        self
    }

    /// The messages, decoded.
    pub fn messages(&self) -> Vec<Message> {
        self.lines
            .iter()
            .enumerate()
            .map(|(i, (partition, line))| Message {
                partition: *partition,
                offset: i as u64,
                decoded: decode_event(line.as_bytes(), CLOCK),
            })
            .collect()
    }

    /// The lines added since the last call: what to produce next.
    pub fn take_new(&mut self) -> Vec<String> {
        let new = self.lines[self.taken..]
            .iter()
            .map(|(_, l)| l.clone())
            .collect();
        self.taken = self.lines.len();
        new
    }

    /// The raw lines (for writing files).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.lines.iter().map(|(_, l)| l.as_str())
    }

    /// Runs the scenario through a fresh engine in one batch.
    pub fn run(&self, org: &str, config: Config) -> Engine {
        let mut engine = Engine::new(Arc::new(config), Arc::new(org_file(org)));
        let messages = self.messages();
        for m in &messages {
            if let Err(r) = &m.decoded {
                panic!("fixture event rejected: {r}");
            }
        }
        block_on(engine.process(&messages)).expect("engine processes");
        engine
    }
}

/// The workspace's root directory, as it is where the tests run. Read when the tests run rather than baked
/// in when they were compiled: a shared `CARGO_TARGET_DIR` reuses test binaries built from a checkout
/// somewhere else, and their compile-time `CARGO_MANIFEST_DIR` would point there.
pub fn workspace_dir() -> std::path::PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    manifest_dir
        .parent()
        .expect("the tests crate is inside the workspace")
        .to_path_buf()
}

/// An organisation from `id:name:in_scope` triples separated by commas, e.g. `a:甲:true,b:乙:false`.
pub fn org_file(spec: &str) -> Organisation {
    let mut csv = String::from("branch_id,branch_name,in_scope\n");
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let fields: Vec<&str> = part.split(':').collect();
        csv.push_str(&format!("{},{},{}\n", fields[0], fields[1], fields[2]));
    }
    Organisation::from_csv(csv.as_bytes()).expect("valid org")
}

/// Runs a future to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A program the test command installs: the path in `$env`, else `default`; panics saying how to get it
/// (`what` the command installs) when it is not there, so a missing component fails, never skips.
pub fn installed(env: &str, default: &str, what: &str) -> std::path::PathBuf {
    let path = std::env::var_os(env)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(default));
    assert!(
        path.is_file(),
        "{} is not installed: run `bash scripts/test.sh` (it installs {what}) or set {env}",
        path.display()
    );
    path
}

/// The Python of the test command's virtualenv, with SQLAlchemy, psycopg2, psycopg 3 and pandas.
pub fn python_with_drivers() -> std::path::PathBuf {
    let home = std::env::var("HOME").unwrap_or_default();
    installed(
        "LEADERBOARD_PYTHON",
        &format!("{home}/.cache/leaderboard/py/bin/python"),
        "SQLAlchemy, psycopg2, psycopg 3 and pandas in a virtualenv there",
    )
}

/// Runs `sql` with a Python driver over `conninfo` (`tests/py/connect.py`): `psycopg2` (libpq 16, the simple
/// protocol) or `psycopg` (psycopg 3, libpq 17, a prepared statement with binary results). Its rows as
/// tab-separated lines, or the driver's message.
pub fn python_query(driver: &str, conninfo: &str, sql: &str) -> Result<String, String> {
    let output = std::process::Command::new(python_with_drivers())
        .arg(workspace_dir().join("tests/py/connect.py"))
        .args([driver, conninfo, sql])
        .output()
        .expect("run python");
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// The configuration of the hand-computed tests: the defaults with round monthly targets (30 quotes, 10
/// proposals, 10,000 yuan of deal premium per user), so that points work out by hand.
pub fn hand_config() -> Config {
    let mut config = Config::default();
    config.targets.quotes_per_user = 30.0;
    config.targets.proposals_per_user = 10.0;
    config.targets.deal_premium_per_user = 10_000.0;
    config
}

/// The scorecard of `period` (e.g. `2016-06`).
pub fn card(engine: &Engine, period: &str) -> Scorecard {
    engine
        .scorecard(period.parse::<PeriodSpec>().expect("period"), true)
        .expect("scorecard")
}

/// The row of `branch`.
pub fn row<'a>(card: &'a Scorecard, branch: &str) -> &'a BranchRow {
    card.branches
        .iter()
        .find(|b| b.branch_id == branch)
        .unwrap_or_else(|| panic!("no branch {branch}"))
}

/// The value of `indicator` for `branch`.
pub fn value(card: &Scorecard, branch: &str, indicator: Indicator) -> Option<f64> {
    row(card, branch)
        .indicators
        .get(indicator)
        .expect("every indicator is present")
}

/// The points of `indicator` for `branch`.
pub fn points(card: &Scorecard, branch: &str, indicator: Indicator) -> f64 {
    row(card, branch)
        .points
        .get(indicator)
        .expect("every indicator is present")
}
