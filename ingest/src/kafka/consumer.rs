//! The Kafka source. The checkpoint's offsets are the truth: the consumer assigns itself every partition of
//! the topic (no group rebalancing, so a restarted instance starts consuming at once rather than after the
//! group has expired the instance that died) and starts each at the position the pipeline's state has
//! reached, or at the partition's beginning. Offsets are committed to the consumer group only so Kafka's
//! tools can show the lag; they are never read back.

use super::{KafkaSettings, client_config};
use crate::source::{BatchLimits, Positions, RawMessage, Source, SourceError};
use rdkafka::ClientContext;
use rdkafka::consumer::{CommitMode, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use schemas::PartitionId;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// What the consumer shares with its background health thread.
#[derive(Default)]
struct Shared {
    /// The topic's partitions as the broker last described them.
    partitions: Mutex<Vec<i32>>,
    /// The end of each partition (high watermark), refreshed by the health thread.
    high_watermarks: Mutex<BTreeMap<PartitionId, u64>>,
    /// Whether the last metadata request reached the broker.
    connected: AtomicBool,
    /// Tells the health thread to stop.
    stopping: AtomicBool,
}

/// Notices when every broker is down.
struct HealthContext {
    shared: Arc<Shared>,
}

impl ClientContext for HealthContext {
    fn error(&self, error: KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(RDKafkaErrorCode::AllBrokersDown) {
            self.shared.connected.store(false, Ordering::Relaxed);
        }
        tracing::warn!(%error, reason, "kafka client error");
    }
}

impl ConsumerContext for HealthContext {}

/// The activity topic, every partition, from the state's positions. A reader task consumes ahead into a
/// small queue of batches, so reading the next batch overlaps processing the current one.
pub struct KafkaSource {
    consumer: Arc<StreamConsumer<HealthContext>>,
    settings: KafkaSettings,
    shared: Arc<Shared>,
    batches: mpsc::Receiver<Result<Vec<RawMessage>, SourceError>>,
    reader: tokio::task::JoinHandle<()>,
}

/// Batches the reader task may run ahead of processing.
const READ_AHEAD_BATCHES: usize = 2;

/// The reader task's own state: what is assigned and where each partition is read up to.
struct Reader {
    consumer: Arc<StreamConsumer<HealthContext>>,
    topic: String,
    shared: Arc<Shared>,
    limits: BatchLimits,
    /// The partitions currently assigned.
    assigned: Vec<i32>,
    /// The next offset to read in each partition: the state's at the start, then what was read.
    read_to: Positions,
    /// The state had no positions at the start (no checkpoint): every partition is read from offset 0.
    from_nothing: bool,
    last_error_log: Option<Instant>,
}

impl KafkaSource {
    /// A consumer of the topic whose partitions will start at `resume` (the checkpoint's offsets) or at
    /// their beginning. Works with the broker down: consumption starts once it answers.
    ///
    /// Must be called within a Tokio runtime (the reader is a task); `limits` cut the stream into batches.
    pub fn connect(
        settings: &KafkaSettings,
        resume: Positions,
        limits: BatchLimits,
    ) -> Result<Self, KafkaError> {
        let shared = Arc::new(Shared::default());
        let context = HealthContext {
            shared: shared.clone(),
        };
        let consumer: StreamConsumer<HealthContext> = client_config(&settings.brokers)
            .set("group.id", &settings.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Never jump silently: a start offset outside the log is an error (see SourceError).
            .set("auto.offset.reset", "error")
            .set("fetch.wait.max.ms", "20")
            .set("fetch.message.max.bytes", "4000000")
            .create_with_context(context)?;
        let consumer = Arc::new(consumer);
        spawn_health_thread(consumer.clone(), settings.topic.clone(), shared.clone());
        let (sender, batches) = mpsc::channel(READ_AHEAD_BATCHES);
        let reader = Reader {
            consumer: consumer.clone(),
            topic: settings.topic.clone(),
            shared: shared.clone(),
            limits,
            assigned: Vec::new(),
            from_nothing: resume.is_empty(),
            read_to: resume,
            last_error_log: None,
        };
        let reader = tokio::spawn(reader.run(sender));
        Ok(Self {
            consumer,
            settings: settings.clone(),
            shared,
            batches,
            reader,
        })
    }
}

impl Reader {
    /// Reads batches until the source is dropped.
    async fn run(mut self, sender: mpsc::Sender<Result<Vec<RawMessage>, SourceError>>) {
        loop {
            let batch = match self.read_batch().await {
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => batch,
                Err(e) => {
                    let _ = sender.send(Err(e)).await;
                    return;
                }
            };
            for message in &batch {
                self.read_to.insert(message.partition, message.offset + 1);
            }
            if sender.send(Ok(batch)).await.is_err() {
                return; // the source was dropped
            }
        }
    }

    /// One batch by the limits; empty when nothing arrived within `limits.idle`.
    async fn read_batch(&mut self) -> Result<Vec<RawMessage>, SourceError> {
        let limits = self.limits;
        self.assign_partitions();
        let mut batch = Vec::new();
        if self.assigned.is_empty() {
            // The topic is not known yet (or the broker is away): wait for the health thread.
            tokio::time::sleep(limits.idle).await;
            return Ok(batch);
        }
        let mut deadline = Instant::now() + limits.idle;
        while batch.len() < limits.max_messages {
            let received = tokio::time::timeout_at(deadline, self.consumer.recv()).await;
            let message = match received {
                Err(_) => break,
                Ok(Err(KafkaError::MessageConsumption(
                    code @ (RDKafkaErrorCode::OffsetOutOfRange | RDKafkaErrorCode::AutoOffsetReset),
                ))) => {
                    let reason = if self.from_nothing {
                        format!(
                            "{code}; the topic no longer starts at offset 0 and there is no checkpoint, so \
                             figures rebuilt from it would miss its expired messages"
                        )
                    } else {
                        format!("{code}; the state reads from {:?}", self.read_to)
                    };
                    return Err(SourceError::OffsetOutOfRange { reason });
                }
                Ok(Err(e)) => {
                    self.log_error(&e);
                    continue;
                }
                Ok(Ok(message)) => message,
            };
            if batch.is_empty() {
                deadline = Instant::now() + limits.linger;
            }
            batch.push(RawMessage {
                partition: message.partition() as PartitionId,
                offset: message.offset() as u64,
                payload: bytes::Bytes::copy_from_slice(message.payload().unwrap_or_default()),
                produced_at: message.timestamp().to_millis(),
            });
        }
        if !batch.is_empty() {
            self.shared.connected.store(true, Ordering::Relaxed);
        }
        Ok(batch)
    }

    /// Assigns every partition the broker reports, each at its resume position, when the set changed.
    fn assign_partitions(&mut self) {
        let partitions = self
            .shared
            .partitions
            .lock()
            .expect("partitions lock")
            .clone();
        if partitions.is_empty() || partitions == self.assigned {
            return;
        }
        let mut assignment = TopicPartitionList::new();
        for partition in &partitions {
            // A partition the state has not read starts at offset 0, not at "the beginning": a topic whose
            // first messages have expired is then an error (OffsetOutOfRange), not figures silently
            // rebuilt from part of its history.
            let next = self.read_to.get(&(*partition as PartitionId)).copied();
            let offset = Offset::Offset(next.unwrap_or(0) as i64);
            if let Err(e) = assignment.add_partition_offset(&self.topic, *partition, offset) {
                tracing::error!(partition, error = %e, "cannot set a start offset");
                return;
            }
        }
        match self.consumer.assign(&assignment) {
            Ok(()) => {
                tracing::info!(?partitions, from = ?self.read_to, "partitions assigned at the state's offsets");
                self.assigned = partitions;
            }
            Err(e) => tracing::error!(error = %e, "cannot assign partitions"),
        }
    }

    fn log_error(&mut self, error: &KafkaError) {
        // A broker outage produces a stream of errors; one line a second is enough.
        if self
            .last_error_log
            .is_none_or(|at| at.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(%error, "kafka consumer error (retrying)");
            self.last_error_log = Some(Instant::now());
        }
    }
}

impl Drop for KafkaSource {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Relaxed);
        self.reader.abort();
    }
}

/// Every second: is the broker reachable, which partitions does the topic have, where does each end?
fn spawn_health_thread(
    consumer: Arc<StreamConsumer<HealthContext>>,
    topic: String,
    shared: Arc<Shared>,
) {
    std::thread::Builder::new()
        .name("kafka-health".into())
        .spawn(move || {
            while !shared.stopping.load(Ordering::Relaxed) {
                let timeout = Duration::from_secs(1);
                match consumer.fetch_metadata(Some(&topic), timeout) {
                    Ok(metadata) => {
                        shared.connected.store(true, Ordering::Relaxed);
                        let mut partitions: Vec<i32> = metadata
                            .topics()
                            .iter()
                            .filter(|t| t.name() == topic && t.error().is_none())
                            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
                            .collect();
                        partitions.sort_unstable();
                        for partition in &partitions {
                            if let Ok((_, high)) =
                                consumer.fetch_watermarks(&topic, *partition, timeout)
                            {
                                shared
                                    .high_watermarks
                                    .lock()
                                    .expect("watermark lock")
                                    .insert(*partition as PartitionId, high.max(0) as u64);
                            }
                        }
                        *shared.partitions.lock().expect("partitions lock") = partitions;
                    }
                    Err(_) => shared.connected.store(false, Ordering::Relaxed),
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
        .expect("spawn the kafka health thread");
}

impl Source for KafkaSource {
    async fn next_batch(&mut self, limits: BatchLimits) -> Result<Vec<RawMessage>, SourceError> {
        match tokio::time::timeout(limits.idle, self.batches.recv()).await {
            Ok(Some(batch)) => batch,
            Ok(None) => Err(SourceError::ReaderStopped),
            Err(_) => Ok(Vec::new()),
        }
    }

    fn checkpointed(&mut self, positions: &Positions) {
        let mut offsets = TopicPartitionList::new();
        for (partition, next) in positions {
            if let Err(e) = offsets.add_partition_offset(
                &self.settings.topic,
                *partition as i32,
                Offset::Offset(*next as i64),
            ) {
                tracing::warn!(error = %e, "cannot list an offset to commit");
            }
        }
        if let Err(e) = self.consumer.commit(&offsets, CommitMode::Async) {
            tracing::debug!(error = %e, "cannot commit offsets for lag monitoring");
        }
    }

    fn lag(&self, positions: &Positions) -> Vec<(PartitionId, u64)> {
        let highs = self.shared.high_watermarks.lock().expect("watermark lock");
        highs
            .iter()
            .map(|(p, high)| {
                (
                    *p,
                    high.saturating_sub(positions.get(p).copied().unwrap_or(0)),
                )
            })
            .collect()
    }

    fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Relaxed)
    }
}
