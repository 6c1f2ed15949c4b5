//! `leaderboard produce` (an NDJSON file or a users CSV into the topic) and `leaderboard simulate
//! --brokers` (live synthetic traffic at a steady rate).

use anyhow::{Context, Result, bail};
use ingest::kafka::{EventProducer, ensure_topics};
use ingest::{NdjsonReader, SimulationSpec};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Flags of `produce`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProduceArgs {
    /// Kafka bootstrap servers.
    #[arg(long, default_value = "localhost:9092")]
    pub brokers: String,
    /// Activity topic (created with --partitions partitions when missing).
    #[arg(long, default_value = "activity")]
    pub topic: String,
    /// Partitions of the topic if it has to be created.
    #[arg(long, default_value_t = 3)]
    pub partitions: u32,
    /// NDJSON events (every line is sent as is, keyed by its branch_id), or a users CSV (`.csv`, docs/operations.md#users-csv)
    /// sent as user_registered events.
    pub file: PathBuf,
}

/// Produces the file; returns how many messages were sent.
pub async fn produce(args: &ProduceArgs) -> Result<u64> {
    let is_csv = args
        .file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let registrations = if is_csv {
        let file = open(&args.file)?;
        Some(ingest::users_csv::registrations(file)?)
    } else {
        None
    };
    ensure_topics(&args.brokers, &[(args.topic.as_str(), args.partitions)])
        .await
        .with_context(|| format!("cannot reach the broker at {}", args.brokers))?;
    let mut producer = EventProducer::new(&args.brokers, &args.topic)?;
    match registrations {
        Some(events) => {
            for event in &events {
                producer.send(event).await?;
            }
        }
        None => {
            let mut reader = NdjsonReader::new(open(&args.file)?, 0);
            loop {
                let batch = reader.next_batch(10_000)?;
                if batch.is_empty() {
                    break;
                }
                for (_, line) in batch.iter() {
                    producer.send(line).await?;
                }
            }
        }
    }
    Ok(producer.finish().await?)
}

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

/// Where `simulate --brokers` sends its events, and how fast.
#[derive(Debug, Clone)]
pub struct LiveTraffic {
    /// Kafka bootstrap servers.
    pub brokers: String,
    /// Activity topic.
    pub topic: String,
    /// Partitions of the topic if it has to be created.
    pub partitions: u32,
    /// Events per second.
    pub rate: u32,
}

/// Produces the simulation at `traffic.rate` events per second; returns how many were sent.
pub async fn simulate_into_kafka(spec: SimulationSpec, traffic: &LiveTraffic) -> Result<u64> {
    if traffic.rate == 0 {
        bail!("--rate must be at least 1 event per second");
    }
    ensure_topics(
        &traffic.brokers,
        &[(traffic.topic.as_str(), traffic.partitions)],
    )
    .await
    .with_context(|| format!("cannot reach the broker at {}", traffic.brokers))?;
    let mut producer = EventProducer::new(&traffic.brokers, &traffic.topic)?;
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<u8>>(4096);
    let zone = spec.zone;
    let generator = std::thread::spawn(move || {
        ingest::simulate::simulate(&spec, |event| {
            let line = serde_json::to_vec(&schemas::encode_event(&event, zone))
                .expect("an encoded event serialises");
            // The receiver only goes away on an error, which the caller reports.
            let _ = sender.blocking_send(line);
        });
    });
    let started = Instant::now();
    let mut sent = 0u64;
    while let Some(line) = receiver.recv().await {
        producer.send(&line).await?;
        sent += 1;
        // Pace: the n-th event is due n / rate seconds after the start.
        let due = Duration::from_secs_f64(sent as f64 / f64::from(traffic.rate));
        let elapsed = started.elapsed();
        if due > elapsed + Duration::from_millis(2) {
            tokio::time::sleep(due - elapsed).await;
        }
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("the simulator thread panicked"))?;
    Ok(producer.finish().await?)
}
