//! Websocket benchmark (docs/BENCHMARKS.md): CLIENTS wall screens on one `leaderboard demo` instance while its
//! embedded source keeps events flowing. Reports the delivery lag of patches (server `updated_at` →
//! client receipt), the server's resident memory per connection and the CPU both processes used.
//!
//! With HEAVY_QUERIES, that many clients keep SQL queries over the live table `user_monthly` running over
//! HTTP for the whole window, and the patch intervals (a screen's wait from one patch to the next, the
//! push interval when nothing holds the hub up) show whether building the tables delays the screens.
//!
//! `cargo run --release -p tests --bin ws_bench -- [CLIENTS] [SECONDS] [PUSH_INTERVAL_MS] [HEAVY_QUERIES]
//! [BRANCHES] [USERS_PER_BRANCH]` (default 10000, 60, the configured default of 250, 0, 13, 100)

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::broker::{free_port, wait_until_listening};
use tests::process::{cpu_seconds, get_json, leaderboard_binary};
use tests::ws_client::WsClient;

/// Boards the screens follow: most show the branch rankings, some one branch's people.
const BOARDS: [&str; 5] = [
    "board=branch_mobile_quotes",
    "board=branch_mobile_quotes",
    "board=branch_total_score",
    "board=branch_mobile_payment",
    "board=user_mobile_quotes&branch=b03",
];

/// The heavy query: a join of `user_monthly` with itself, so each query builds the table twice.
const HEAVY_QUERY: &str = "SELECT count(*), sum(a.quotes * b.quotes) FROM user_monthly a \
    JOIN user_monthly b ON a.month = b.month AND a.branch_id = b.branch_id";

/// The fields of a frame the benchmark reads.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    updated_at: Option<&'a str>,
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn accepted(port: u16) -> u64 {
    let (_, status) = get_json(&format!("http://127.0.0.1:{port}/api/v1/status"));
    status["counts"]["accepted"].as_u64().unwrap_or(0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let clients: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(60);
    let push_ms: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(250);
    let heavy: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(0);
    let branches: String = args.get(4).cloned().unwrap_or_else(|| "13".into());
    let users: String = args.get(5).cloned().unwrap_or_else(|| "100".into());
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bench.toml");
    // Every client comes from loopback: room for all of them, in all and from one address.
    let places = clients + 100;
    std::fs::write(
        &config,
        format!(
            "[live]\npush_interval_ms = {push_ms}\n[server]\nmax_connections = {places}\n\
             max_connections_per_address = {places}\n"
        ),
    )
    .unwrap();
    let port = free_port();
    println!("push interval: {push_ms} ms");
    let mut server = Command::new(leaderboard_binary())
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--config", config.to_str().unwrap()])
        .args(["--branches", &branches, "--users-per-branch", &users])
        .args(["--catch-up-secs", "1800"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start leaderboard demo");
    wait_until_listening(&mut server, port, Duration::from_secs(30))
        .unwrap_or_else(|failure| panic!("leaderboard demo: {failure}"));
    std::thread::sleep(Duration::from_secs(5));
    let base_rss = rss_kib(server.id());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (stop, _) = tokio::sync::watch::channel(false);
    let connect_started = Instant::now();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(256));
    let tasks: Vec<_> = (0..clients)
        .map(|i| {
            let url = format!("ws://127.0.0.1:{port}/ws?{}", BOARDS[i % BOARDS.len()]);
            let mut stop = stop.subscribe();
            let ready = ready_tx.clone();
            let limit = limit.clone();
            rt.spawn(async move {
                let permit = limit.acquire_owned().await.unwrap();
                let mut client = WsClient::connect(&url).await.expect("connect");
                drop(permit);
                let mut lags_ms: Vec<f64> = Vec::new();
                let mut gaps_ms: Vec<f64> = Vec::new();
                let mut last_patch: Option<Instant> = None;
                let mut snapshots = 0u32;
                loop {
                    tokio::select! {
                        _ = stop.changed() => return (lags_ms, gaps_ms, snapshots),
                        frame = client.next_text(Duration::from_secs(120)) => {
                            let Ok(Some(text)) = frame else { return (lags_ms, gaps_ms, snapshots) };
                            // Only what the measurement needs: a screen would apply the rows too.
                            let Ok(frame) = serde_json::from_str::<Head<'_>>(&text) else { continue };
                            match Some(frame.kind) {
                                Some("snapshot") => {
                                    snapshots += 1;
                                    if snapshots == 1 {
                                        let _ = ready.send(());
                                    }
                                }
                                Some("patch") => {
                                    let now = Instant::now();
                                    if let Some(last) = last_patch.replace(now) {
                                        gaps_ms.push(now.duration_since(last).as_secs_f64() * 1000.0);
                                    }
                                    if let Some(made) = frame.updated_at
                                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                                    {
                                        let lag = chrono::Utc::now().signed_duration_since(made);
                                        lags_ms.push(lag.num_microseconds().unwrap_or(0) as f64 / 1000.0);
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            })
        })
        .collect();
    drop(ready_tx);
    rt.block_on(async {
        for _ in 0..clients {
            ready_rx.recv().await.expect("every client gets a snapshot");
        }
    });
    let connect_secs = connect_started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2));
    let connected_rss = rss_kib(server.id());
    let pid = server.id().to_string();
    let (server_cpu0, client_cpu0, events0) =
        (cpu_seconds(&pid), cpu_seconds("self"), accepted(port));
    let querying = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let queries: Vec<_> = (0..heavy)
        .map(|_| {
            let querying = querying.clone();
            std::thread::spawn(move || {
                let (mut answered, mut refused) = (0u32, 0u32);
                while querying.load(std::sync::atomic::Ordering::Relaxed) {
                    let sent = ureq::post(&format!("http://127.0.0.1:{port}/api/v1/sql"))
                        .header("Content-Type", "text/plain")
                        .config()
                        .http_status_as_error(false)
                        .build()
                        .send(HEAVY_QUERY);
                    match sent {
                        Ok(r) if r.status() == 200 => answered += 1,
                        Ok(mut r) if refused == 0 && r.status() != 503 => {
                            let body = r.body_mut().read_to_string().unwrap_or_default();
                            panic!("the heavy query failed: {} {body}", r.status());
                        }
                        _ => refused += 1,
                    }
                }
                (answered, refused)
            })
        })
        .collect();
    let window = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    querying.store(false, std::sync::atomic::Ordering::Relaxed);
    let (answered, refused) = queries
        .into_iter()
        .map(|q| q.join().expect("query thread"))
        .fold((0, 0), |(a, r), (qa, qr)| (a + qa, r + qr));
    let elapsed = window.elapsed().as_secs_f64();
    let (server_cpu, client_cpu, events) = (
        cpu_seconds(&pid) - server_cpu0,
        cpu_seconds("self") - client_cpu0,
        accepted(port) - events0,
    );
    let window_rss = rss_kib(server.id());
    let _ = stop.send(true);
    let results: Vec<(Vec<f64>, Vec<f64>, u32)> = rt.block_on(async {
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("client task"));
        }
        out
    });
    let metrics = ureq::get(&format!("http://127.0.0.1:{port}/metrics"))
        .call()
        .ok()
        .and_then(|mut r| r.body_mut().read_to_string().ok())
        .unwrap_or_default();
    let _ = server.kill();
    let _ = server.wait();
    let mut lags: Vec<f64> = results
        .iter()
        .flat_map(|(l, _, _)| l.iter().copied())
        .collect();
    lags.sort_by(f64::total_cmp);
    let mut gaps: Vec<f64> = results
        .iter()
        .flat_map(|(_, g, _)| g.iter().copied())
        .collect();
    gaps.sort_by(f64::total_cmp);
    let resnapshots: u32 = results.iter().map(|(_, _, s)| s.saturating_sub(1)).sum();
    println!("clients: {clients}, all holding a snapshot after {connect_secs:.1} s");
    println!(
        "window: {elapsed:.0} s, {events} events accepted ({:.0}/s), {} patches delivered",
        events as f64 / elapsed,
        lags.len()
    );
    println!(
        "delivery lag ms: p50 {:.1}, p90 {:.1}, p99 {:.1}, p99.9 {:.1}, max {:.1}",
        percentile(&lags, 0.5),
        percentile(&lags, 0.9),
        percentile(&lags, 0.99),
        percentile(&lags, 0.999),
        lags.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "patch interval ms: p50 {:.1}, p99 {:.1}, p99.9 {:.1}, max {:.1}",
        percentile(&gaps, 0.5),
        percentile(&gaps, 0.99),
        percentile(&gaps, 0.999),
        gaps.last().copied().unwrap_or(f64::NAN)
    );
    if heavy > 0 {
        println!("heavy queries: {heavy} at a time, {answered} answered, {refused} refused (busy)");
    }
    println!(
        "server RSS: {} MiB before, {} MiB with the clients, {} MiB at the end: {:.1} KiB per connection",
        base_rss / 1024,
        connected_rss / 1024,
        window_rss / 1024,
        (connected_rss.saturating_sub(base_rss)) as f64 / clients as f64
    );
    println!(
        "CPU over the window: server {:.0} % of one core, benchmark clients {:.0} %",
        server_cpu / elapsed * 100.0,
        client_cpu / elapsed * 100.0
    );
    println!("snapshots after the first (resyncs): {resnapshots}");
    for line in metrics
        .lines()
        .filter(|l| l.starts_with("leaderboard_ws_") || l.starts_with("leaderboard_push_seconds{"))
    {
        println!("  {line}");
    }
}
