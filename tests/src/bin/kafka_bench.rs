//! Kafka benchmark (docs/BENCHMARKS.md, Kafka pipeline), one run, same broker, same data:
//!
//! 1. raw consumption: a bare rdkafka consumer in a group reads the whole topic, no processing;
//! 2. pipeline: `leaderboard serve` from an empty state until the scorecards hold every event;
//! 3. latency: `leaderboard simulate --brokers --rate R` into a fresh topic while `serve` is caught up;
//!    produce-to-state p50/p99 from the pipeline's own summary (Kafka create time → state updated).
//!
//! `cargo run --release -p tests --bin kafka_bench -- [EVENTS_DAYS] [RATE] [LATENCY_SECS]`

use rdkafka::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use std::time::{Duration, Instant};
use tests::broker::Broker;
use tests::process::{Serve, leaderboard_binary, run, simulate};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let days: u32 = args.first().and_then(|a| a.parse().ok()).unwrap_or(30);
    let rate: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let latency_secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(30);
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), "2016-06-01", days, 11, 50, 5);
    let total = std::fs::read_to_string(&events).unwrap().lines().count() as u64;
    let started = Instant::now();
    run(&[
        "produce",
        "--brokers",
        &broker.address(),
        "--topic",
        "bench",
        events.to_str().unwrap(),
    ]);
    let produce_secs = started.elapsed().as_secs_f64();
    println!(
        "events: {total}; produced in {produce_secs:.1} s ({:.0}/s)",
        total as f64 / produce_secs
    );

    let (raw_secs, raw_sustained) = raw_consume(&broker.address(), "bench", total);
    println!(
        "raw consumer: {raw_secs:.2} s = {:.0} events/s overall, {raw_sustained:.0} events/s sustained \
         (10 % to 90 % of the messages)",
        total as f64 / raw_secs
    );

    let serve_args = |topic: &str, state: &str| {
        [
            "--org",
            org.to_str().unwrap(),
            "--brokers",
            &broker.address(),
            "--topic",
            topic,
            "--group",
            &format!("{topic}-pipeline"),
            "--state-dir",
            dir.path().join(state).to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let started = Instant::now();
    let serve = Serve::start(&serve_args("bench", "state-throughput"));
    let at_10 = wait_until(&serve, total / 10);
    let at_90 = wait_until(&serve, total * 9 / 10);
    serve.wait_for_total(total, Duration::from_secs(3600));
    let pipeline_secs = started.elapsed().as_secs_f64();
    let pipeline_sustained = (total * 8 / 10) as f64 / (at_90 - at_10).as_secs_f64();
    println!(
        "pipeline: {pipeline_secs:.2} s = {:.0} events/s overall from process start ({:.0} % of raw), \
         {pipeline_sustained:.0} events/s sustained ({:.0} % of raw sustained)",
        total as f64 / pipeline_secs,
        100.0 * raw_secs / pipeline_secs,
        100.0 * pipeline_sustained / raw_sustained
    );
    drop(serve);

    let serve = Serve::start(&serve_args("latency", "state-latency"));
    let mut simulate = std::process::Command::new(leaderboard_binary())
        .args([
            "simulate",
            "--brokers",
            &broker.address(),
            "--topic",
            "latency",
            "--rate",
            &rate.to_string(),
            "--from",
            "2016-06-01",
            "--days",
            "200",
            "--branches",
            "11",
            "--users-per-branch",
            "50",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(latency_secs));
    let metrics = serve.metrics();
    simulate.kill().unwrap();
    let _ = simulate.wait();
    let counts = serve.counts().unwrap();
    println!("latency phase: {latency_secs} s at {rate}/s offered; state counts {counts}");
    for line in metrics.lines().filter(|l| {
        l.starts_with("leaderboard_produce_to_state_seconds")
            || l.starts_with("leaderboard_batch_seconds")
    }) {
        println!("  {line}");
    }
}

/// When the state of `serve` first holds at least `n` messages (polled every 10 ms).
fn wait_until(serve: &Serve, n: u64) -> Instant {
    while serve.messages_seen() < n {
        std::thread::sleep(Duration::from_millis(10));
    }
    Instant::now()
}

/// Seconds for a bare consumer in a fresh group to read `total` messages of `topic`, and its sustained rate
/// (events/s between 10 % and 90 % of the messages).
fn raw_consume(brokers: &str, topic: &str, total: u64) -> (f64, f64) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let consumer: StreamConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("group.id", "bench-raw")
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("fetch.wait.max.ms", "20")
            .create()
            .unwrap();
        let started = Instant::now();
        consumer.subscribe(&[topic]).unwrap();
        let mut seen = 0u64;
        let mut bytes = 0usize;
        let (mut at_10, mut at_90) = (started, started);
        while seen < total {
            let message = consumer.recv().await.unwrap();
            bytes += rdkafka::Message::payload(&message).map_or(0, <[u8]>::len);
            seen += 1;
            if seen == total / 10 {
                at_10 = Instant::now();
            }
            if seen == total * 9 / 10 {
                at_90 = Instant::now();
            }
        }
        std::hint::black_box(bytes);
        let sustained = (total * 8 / 10) as f64 / (at_90 - at_10).as_secs_f64();
        (started.elapsed().as_secs_f64(), sustained)
    })
}
