//! The live pipeline against a real Kafka-protocol broker (tansu): the scorecards equal `leaderboard
//! replay` of the same file, through kill -9 restarts, poison messages and a broker outage.

use rand::{Rng, SeedableRng};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tests::broker::{Broker, free_port};
use tests::process::{Serve, replay_counts, replay_scorecard, run, simulate};
use tests::proxy::Proxy;

/// A simulated dataset on disk.
struct Dataset {
    dir: tempfile::TempDir,
    org: PathBuf,
    events: PathBuf,
    lines: u64,
}

fn dataset(from: &str, days: u32, branches: u32, users: u32, seed: u64) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), from, days, branches, users, seed);
    let lines = std::fs::read_to_string(&events).unwrap().lines().count() as u64;
    Dataset {
        dir,
        org,
        events,
        lines,
    }
}

impl Dataset {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Splits the event file after `numerator/denominator` of its lines into `first.ndjson` and
    /// `second.ndjson`; returns both paths and the first part's line count.
    fn split(&self, numerator: usize, denominator: usize) -> (PathBuf, PathBuf, u64) {
        let text = std::fs::read_to_string(&self.events).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let (first, second) = lines.split_at(lines.len() * numerator / denominator);
        let write = |name: &str, part: &[&str]| {
            let path = self.path(name);
            std::fs::write(&path, part.join("\n") + "\n").unwrap();
            path
        };
        (
            write("first.ndjson", first),
            write("second.ndjson", second),
            first.len() as u64,
        )
    }

    /// A config file with one-second checkpoints.
    fn config(&self) -> PathBuf {
        let path = self.path("leaderboard.toml");
        std::fs::write(&path, "[server]\ncheckpoint_interval_secs = 1\n").unwrap();
        path
    }

    fn serve_args(&self, brokers: &str, topic: &str) -> Vec<String> {
        [
            "--config",
            self.config().to_str().unwrap(),
            "--org",
            self.org.to_str().unwrap(),
            "--brokers",
            brokers,
            "--topic",
            topic,
            "--group",
            &format!("{topic}-group"),
            "--state-dir",
            self.path("state").to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    }

    /// Asserts that the live scorecards of `periods` equal `leaderboard replay` of `events`.
    fn assert_matches_replay(&self, serve: &Serve, events: &Path, periods: &[&str]) {
        for period in periods {
            let live = serve.scorecard(period);
            let replayed = replay_scorecard(&self.org, events, None, period);
            assert!(
                !live["branches"].as_array().unwrap().is_empty(),
                "no branches in {period}"
            );
            assert_eq!(
                live, replayed,
                "the live {period} scorecard differs from the replay"
            );
        }
    }
}

fn produce(brokers: &str, topic: &str, file: &Path) {
    run(&[
        "produce",
        "--brokers",
        brokers,
        "--topic",
        topic,
        "--partitions",
        "3",
        file.to_str().unwrap(),
    ]);
}

#[test]
fn a_dataset_produced_into_kafka_scores_exactly_like_the_replay() {
    let broker = Broker::start();
    let data = dataset("2016-06-24", 12, 5, 8, 3);
    produce(&broker.address(), "activity-a", &data.events);
    let mut serve = Serve::start(&data.serve_args(&broker.address(), "activity-a"));
    let counts = serve.wait_for_total(data.lines, Duration::from_secs(180));
    assert_eq!(counts, replay_counts(&data.org, &data.events));
    data.assert_matches_replay(&serve, &data.events, &["2016-06", "2016-07", "assessment"]);

    // Checkpoints are written every second (the config above).
    let deadline = Instant::now() + Duration::from_secs(10);
    while serve.get("/api/v1/status").1["checkpoint_saved_at"].is_null() {
        assert!(Instant::now() < deadline, "no checkpoint after 10 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    let metrics = serve.metrics();
    let accepted = format!(
        "leaderboard_events_total{{disposition=\"accepted\"}} {}",
        counts["accepted"]
    );
    for name in [
        accepted.as_str(),
        "leaderboard_consumer_lag{partition=\"0\"}",
        "leaderboard_watermark_seconds{partition=\"2\"}",
        "leaderboard_batch_seconds{quantile=\"0.99\"}",
        "leaderboard_produce_to_state_seconds{quantile=\"0.5\"}",
        "leaderboard_checkpoint_age_seconds",
    ] {
        assert!(metrics.contains(name), "/metrics lacks {name}:\n{metrics}");
    }
    let (status, ready) = serve.get("/ready");
    assert_eq!(
        (status, ready["ready"].as_bool()),
        (200, Some(true)),
        "{ready}"
    );
    let (status, error) = serve.get("/api/v1/scorecard?period=2016-13");
    assert_eq!(status, 400, "{error}");
    assert!(
        error["error"].as_str().unwrap().contains("2016-13"),
        "{error}"
    );

    // SIGTERM writes a last checkpoint; a restart resumes from it without reading anything again.
    let before = serve.scorecard("2016-06");
    serve.terminate();
    assert!(data.path("state/checkpoint.bin").is_file());
    serve.restart();
    let again = serve.wait_for_total(data.lines, Duration::from_secs(60));
    assert_eq!(again, counts);
    assert_eq!(serve.scorecard("2016-06"), before);
}

#[test]
fn kill_9_at_random_points_loses_nothing_and_counts_nothing_twice() {
    let broker = Broker::start();
    let (days, branches, users, seed) = (30, 11, 10, 11);
    let data = dataset("2016-06-01", days, branches, users, seed);
    // The same simulation, sent live at a steady rate so the stream flows through all the kills.
    let rate = (data.lines / 45).max(500);
    let simulator = std::process::Command::new(tests::process::leaderboard_binary())
        .args([
            "simulate",
            "--brokers",
            &broker.address(),
            "--topic",
            "activity-k",
            "--rate",
        ])
        .arg(rate.to_string())
        .args([
            "--from",
            "2016-06-01",
            "--days",
            &days.to_string(),
            "--branches",
        ])
        .arg(branches.to_string())
        .args([
            "--users-per-branch",
            &users.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut serve = Serve::start(&data.serve_args(&broker.address(), "activity-k"));
    let kill_seed: u64 = std::env::var("KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    eprintln!("kill points from KILL_SEED={kill_seed}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(kill_seed);
    let accepted = |serve: &Serve| {
        serve
            .counts()
            .map_or(0, |c| c["accepted"].as_u64().unwrap_or(0))
    };
    let mut killed_at = Vec::new();
    for _ in 0..5 {
        // Kill only once this incarnation is consuming: its count moved past the restored one.
        let restored = accepted(&serve);
        let deadline = Instant::now() + Duration::from_secs(60);
        while accepted(&serve) <= restored {
            assert!(
                Instant::now() < deadline,
                "the restarted pipeline made no progress"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(rng.random_range(0..1500)));
        killed_at.push(accepted(&serve));
        serve.restart(); // SIGKILL, then start again on the same state directory
    }
    eprintln!("killed at accepted counts {killed_at:?} of {}", data.lines);
    assert!(
        killed_at
            .iter()
            .filter(|n| **n < data.lines * 9 / 10)
            .count()
            >= 4,
        "the kills did not hit a flowing stream: {killed_at:?}"
    );
    let status = simulator.wait_with_output().unwrap().status;
    assert!(status.success(), "the live simulator failed: {status}");
    let counts = serve.wait_for_total(data.lines, Duration::from_secs(300));
    assert_eq!(counts, replay_counts(&data.org, &data.events));
    data.assert_matches_replay(&serve, &data.events, &["2016-06", "2016-Q2", "assessment"]);

    // The Parquet archive, written across the same five kills, holds every accepted event exactly once.
    serve.terminate();
    let output = run(&[
        "sql",
        "SELECT count(*) AS n, count(DISTINCT event_id) AS ids, \
         count(DISTINCT concat(source_partition, ':', source_offset)) AS positions FROM events",
        "--state-dir",
        data.path("state").to_str().unwrap(),
        "--format",
        "json",
    ]);
    let archived: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let row = &archived["rows"][0];
    assert_eq!(row["n"], counts["accepted"], "{archived}");
    assert_eq!(row["ids"], counts["accepted"], "{archived}");
    assert_eq!(row["positions"], counts["accepted"], "{archived}");
}

/// A producer that accepts messages over 1 MiB (the broker is told nothing; tansu takes them).
fn raw_producer(brokers: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("message.max.bytes", "4000000")
        .create()
        .unwrap()
}

fn send_raw(producer: &FutureProducer, topic: &str, payload: &[u8]) {
    let record = FutureRecord::<str, [u8]>::to(topic)
        .payload(payload)
        .key("zz");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(producer.send(record, Timeout::After(Duration::from_secs(30))))
        .map_err(|(e, _)| e)
        .unwrap();
}

/// Every message of `topic` (all partitions, from the beginning) until `count` arrived.
fn consume_all(
    brokers: &str,
    topic: &str,
    count: usize,
) -> Vec<(Vec<u8>, BTreeMap<String, String>)> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("reader-{}", free_port()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.message.max.bytes", "4000000")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut messages = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while messages.len() < count && Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let message = message.unwrap();
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        (
                            h.key.to_string(),
                            String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        messages.push((message.payload().unwrap_or_default().to_vec(), headers));
    }
    messages
}

#[test]
fn poison_messages_land_in_the_dead_letter_topic_while_good_events_flow() {
    let broker = Broker::start();
    let data = dataset("2016-06-28", 6, 3, 5, 5);
    let topic = "activity-p";
    let (first, second, _) = data.split(1, 2);
    produce(&broker.address(), topic, &first);
    let big = format!(
        r#"{{"event_id":"big","event_type":"login","occurred_at":"2016-06-29T09:00:00+08:00","branch_id":"b01","user_id":"b01-u001","terminal":"pc","pad":"{}"}}"#,
        "x".repeat(1_100_000)
    );
    let poison: Vec<(&str, Vec<u8>)> = vec![
        ("not_json", b"this is not json".to_vec()),
        ("not_utf8", vec![b'{', 0xff, 0xfe, b'}']),
        ("too_large", big.into_bytes()),
        (
            "amount",
            br#"{"event_id":"neg","event_type":"payment_completed","occurred_at":"2016-06-29T09:00:00+08:00","branch_id":"b01","user_id":"b01-u001","terminal":"phone","payment_id":"p","amount":-50}"#.to_vec(),
        ),
        (
            "event_type",
            br#"{"event_id":"odd","event_type":"teleported","occurred_at":"2016-06-29T09:00:00+08:00","branch_id":"b01","user_id":"b01-u001"}"#.to_vec(),
        ),
    ];
    let producer = raw_producer(&broker.address());
    for (_, payload) in &poison {
        send_raw(&producer, topic, payload);
    }
    produce(&broker.address(), topic, &second);

    let serve = Serve::start(&data.serve_args(&broker.address(), topic));
    let total = data.lines + poison.len() as u64;
    let counts = serve.wait_for_total(total, Duration::from_secs(180));
    let mut expected = replay_counts(&data.org, &data.events);
    expected["rejected"] = (poison.len() as u64).into();
    assert_eq!(counts, expected);
    data.assert_matches_replay(&serve, &data.events, &["2016-06", "2016-07"]);

    let letters = consume_all(&broker.address(), &format!("{topic}.dlq"), poison.len());
    assert_eq!(
        letters.len(),
        poison.len(),
        "dead letters: {:?}",
        letters.iter().map(|l| &l.1).collect::<Vec<_>>()
    );
    for (name, original) in &poison {
        let (payload, headers) = letters
            .iter()
            .find(|(payload, headers)| {
                original.starts_with(payload)
                    && headers.get("original_bytes").map(String::as_str)
                        == Some(original.len().to_string().as_str())
            })
            .unwrap_or_else(|| panic!("no dead letter carries the {name} message"));
        assert_eq!(headers["source_topic"], topic);
        assert!(
            headers["source_offset"].parse::<u64>().is_ok(),
            "{headers:?}"
        );
        assert!(
            headers["source_partition"].parse::<u32>().is_ok(),
            "{headers:?}"
        );
        let reason = &headers["reason"];
        assert!(!reason.is_empty(), "{name}: {headers:?}");
        match *name {
            "too_large" => {
                assert!(
                    reason.contains("MiB") || reason.contains("bytes"),
                    "{reason}"
                );
                assert_eq!(headers["payload_truncated"], "true");
                assert!(payload.len() < original.len());
            }
            _ => {
                assert_eq!(
                    payload, original,
                    "{name}: the dead letter must carry the original bytes"
                );
                if *name == "amount" || *name == "event_type" {
                    assert!(reason.contains(name), "{name}: {reason}");
                }
            }
        }
    }
    let metrics = serve.metrics();
    assert!(
        metrics.contains("leaderboard_dead_letters_total{kind="),
        "{metrics}"
    );
}

#[test]
fn a_broker_outage_of_ten_seconds_is_survived_without_a_restart() {
    // The proxy takes a port of its own choosing (asking for a free port and binding it later raced with
    // the other tests' connections, which could take it meanwhile), and the broker advertises it. The
    // broker's own port is chosen before tansu binds it and cannot be chosen again (the proxy forwards
    // to it): should something take it meanwhile, starting the broker fails and says so.
    let broker_port = free_port();
    let proxy = Proxy::start(broker_port);
    let broker = Broker::start_advertising(broker_port, proxy.port());
    assert_eq!(broker.port(), broker_port);
    let brokers = format!("127.0.0.1:{}", proxy.port());
    let data = dataset("2016-06-20", 16, 5, 8, 9);
    let topic = "activity-o";
    let (first_path, second_path, first_lines) = data.split(2, 3);

    produce(&brokers, topic, &first_path);
    let serve = Serve::start(&data.serve_args(&brokers, topic));
    serve.wait_for_total(first_lines, Duration::from_secs(180));

    proxy.down();
    let went_down = Instant::now();
    let mut reported_not_ready = false;
    while went_down.elapsed() < Duration::from_secs(10) {
        let (status, body) = serve.get("/ready");
        if status == 503 && body["ready"] == Value::Bool(false) {
            reported_not_ready = true;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        reported_not_ready,
        "/ready never said not ready while the broker was away"
    );
    proxy.up();

    produce(&brokers, topic, &second_path);
    let counts = serve.wait_for_total(data.lines, Duration::from_secs(180));
    assert_eq!(counts, replay_counts(&data.org, &data.events));
    let deadline = Instant::now() + Duration::from_secs(30);
    while serve.get("/ready").0 != 200 {
        assert!(Instant::now() < deadline, "/ready did not recover");
        std::thread::sleep(Duration::from_millis(200));
    }
    data.assert_matches_replay(&serve, &data.events, &["2016-06", "2016-07"]);
}

#[test]
fn a_users_csv_produced_into_kafka_registers_the_salespeople() {
    let broker = Broker::start();
    let dir = tempfile::tempdir().unwrap();
    let org = dir.path().join("org.csv");
    std::fs::write(&org, "branch_id,branch_name,in_scope\nzd,张店支公司,true\n").unwrap();
    let users = dir.path().join("users.csv");
    std::fs::write(
        &users,
        "user_id,branch_id,channel,display_name,registered_at\n\
         u1,zd,direct,张三,2016-05-20T09:00:00+08:00\n\
         u2,zd,rural_network,,2016-05-21T09:00:00+08:00\n",
    )
    .unwrap();
    let events = dir.path().join("events.ndjson");
    let quote = |id: &str, user: &str, day: u32| {
        format!(
            r#"{{"event_id":"{id}","event_type":"quote_created","occurred_at":"2016-06-{day:02}T10:00:00+08:00","branch_id":"zd","user_id":"{user}","terminal":"phone","quote_id":"{id}"}}"#
        )
    };
    let lines = [
        quote("q1", "u1", 2),
        quote("q2", "u2", 3),
        quote("q3", "u1", 4),
    ];
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    // Importing the same CSV twice registers nobody twice: the ids derive from user and time.
    produce(&broker.address(), "activity-u", &users);
    produce(&broker.address(), "activity-u", &users);
    produce(&broker.address(), "activity-u", &events);

    let state = dir.path().join("state");
    let serve = Serve::start(
        &[
            "--org",
            org.to_str().unwrap(),
            "--brokers",
            &broker.address(),
            "--topic",
            "activity-u",
            "--state-dir",
            state.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let counts = serve.wait_for_total(7, Duration::from_secs(120));
    assert_eq!(counts["accepted"], 5, "{counts}");
    assert_eq!(counts["duplicate"], 2, "{counts}");
    let card = serve.scorecard("2016-06");
    let branch = &card["branches"][0];
    assert_eq!(branch["users"], 2, "{branch}");
    assert_eq!(
        branch["indicators"]["mobile_quotes_per_user"], 1.5,
        "{branch}"
    );
    let names: Vec<&str> = card["users"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["display_name"].as_str())
        .collect();
    assert!(names.contains(&"张三"), "{names:?}");
}

/// Parquet files under `dir`, at any depth.
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            found.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_wrong_clock_closes_no_month_and_a_lost_checkpoint_deletes_no_archive_file() {
    let broker = Broker::start();
    let data = dataset("2016-07-20", 9, 4, 6, 5);
    // One quote stamped 2016-11-15 in the middle of the stream, in a branch of its own partition.
    let text = std::fs::read_to_string(&data.events).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let middle = lines.len() / 2;
    let quote = lines[middle..]
        .iter()
        .find(|l| l.contains("\"event_type\":\"quote_created\""))
        .expect("a quote in the second half")
        .clone();
    let mut wrong: Value = serde_json::from_str(&quote).unwrap();
    wrong["event_id"] = "wrong-clock".into();
    wrong["occurred_at"] = "2016-11-15T10:00:00+08:00".into();
    lines.insert(middle, wrong.to_string());
    let skewed = data.path("skewed.ndjson");
    std::fs::write(&skewed, lines.join("\n") + "\n").unwrap();
    produce(&broker.address(), "activity-w", &skewed);

    let mut serve = Serve::start(&data.serve_args(&broker.address(), "activity-w"));
    let counts = serve.wait_for_total(data.lines + 1, Duration::from_secs(180));
    let replayed = replay_counts(&data.org, &data.events);
    assert_eq!(
        counts["accepted"].as_u64().unwrap(),
        replayed["accepted"].as_u64().unwrap() + 1
    );
    assert_eq!(counts["late"], replayed["late"]);
    // July's figures (and as_of) equal the replay without the wrong clock.
    data.assert_matches_replay(&serve, &data.events, &["2016-07"]);
    let (_, status) = serve.get("/api/v1/status");
    let partitions = status["partitions"].as_object().unwrap();
    let outliers: u64 = partitions
        .values()
        .map(|p| p["watermark_outliers"].as_u64().unwrap())
        .sum();
    assert_eq!(outliers, 1, "{status}");
    assert!(
        partitions
            .values()
            .any(|p| p["last_outlier_at"] == "2016-11-15T02:00:00+00:00"),
        "{status}"
    );
    // /metrics follows the state once the pipeline has settled its last batch.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = serve.metrics();
        if metrics.contains("leaderboard_watermark_outliers{partition=") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outliers are not on /metrics:\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The checkpoints are lost and the pipeline restarts on a topic that no longer holds the events: the
    // archive is set aside, not deleted.
    serve.terminate();
    let state = data.path("state");
    let archived = parquet_files(&state.join("archive"));
    assert!(!archived.is_empty());
    for name in ["checkpoint.bin", "checkpoint.prev.bin"] {
        let _ = std::fs::remove_file(state.join(name));
    }
    let mut elsewhere = data.serve_args(&broker.address(), "activity-w");
    let topic = elsewhere.iter().position(|a| a == "activity-w").unwrap();
    elsewhere[topic] = "activity-empty".into();
    let mut empty = Serve::start(&elsewhere);
    let aside = parquet_files(&state.join("archive/aside/kafka_activity-w"));
    assert_eq!(
        aside.len(),
        archived.len(),
        "every archive file waits aside, under the topic that wrote it: {aside:?}"
    );
    // Another topic, whatever its offsets, removes none of them.
    let deadline = Instant::now() + Duration::from_secs(20);
    while empty.get("/api/v1/status").1["checkpoint_saved_at"].is_null() {
        assert!(Instant::now() < deadline, "no checkpoint after 20 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    empty.terminate();
    assert_eq!(
        parquet_files(&state.join("archive/aside/kafka_activity-w")).len(),
        archived.len()
    );

    // Back on the topic that holds them: once every row is archived again, nothing waits aside and the
    // archive holds each accepted event once.
    for name in ["checkpoint.bin", "checkpoint.prev.bin"] {
        let _ = std::fs::remove_file(state.join(name));
    }
    let mut serve = Serve::start(&data.serve_args(&broker.address(), "activity-w"));
    let again = serve.wait_for_total(data.lines + 1, Duration::from_secs(180));
    assert_eq!(again, counts);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !parquet_files(&state.join("archive/aside")).is_empty() {
        assert!(Instant::now() < deadline, "files still wait aside");
        std::thread::sleep(Duration::from_millis(200));
    }
    serve.terminate();
    let output = run(&[
        "sql",
        "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM events",
        "--state-dir",
        state.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows["rows"][0]["n"], counts["accepted"], "{rows}");
    assert_eq!(rows["rows"][0]["ids"], counts["accepted"], "{rows}");
}
