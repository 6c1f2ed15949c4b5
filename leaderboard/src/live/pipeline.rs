//! The live pipeline: source → decode → dead letters → engine → archive → checkpoint, one micro-batch at a
//! time.
//!
//! The checkpoint's offsets are the truth. A message at an offset the state already holds (or a batch on its
//! way into it holds) is skipped, so a source that delivers a partition again from an earlier offset never
//! counts anything twice.
//!
//! Each applied batch's accepted, late and rejected messages wait in the archive; before every checkpoint
//! the archive is flushed to Parquet files ending at the positions the checkpoint records (see
//! [`analytics::Archive`]), so the archive holds each accepted event exactly once across restarts.
//!
//! Stages overlap: while the engine applies batch n on its own task, batch n+1 is decoded and dead-lettered;
//! batches still enter the engine strictly in order.

use crate::live::Live;
use crate::live::deals::large_deals;
use crate::metrics;
use analytics::{Archive, ArchiveRows, CheckpointStore, Judging, Moments, state_settings};
use anyhow::{Context, Result};
use ingest::kafka::{DeadLetter, DeadLetterProducer};
use ingest::{BatchLimits, DecodedBatch, Positions, RawMessage, Source, decode_batch};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Where rejected messages go.
pub enum DeadLetters {
    /// The dead-letter topic.
    Kafka(DeadLetterProducer),
    /// The log only (the embedded source, whose messages are all well formed).
    Log,
}

/// How the pipeline runs.
pub struct PipelineOptions {
    /// Micro-batch limits.
    pub limits: BatchLimits,
    /// Time between checkpoints.
    pub checkpoint_interval: Duration,
    /// Checkpoints, when the state is kept across restarts.
    pub checkpoints: Option<CheckpointStore>,
    /// The source's name in the checkpoint (e.g. `kafka:activity`).
    pub source_name: String,
    /// Premium from which an issued policy is celebrated on the screens.
    pub large_deal_yuan: f64,
    /// The event archive.
    pub archive: Arc<Archive>,
}

/// The live pipeline over one source.
pub struct Pipeline<S: Source> {
    source: S,
    live: Arc<Live>,
    dead_letters: DeadLetters,
    options: PipelineOptions,
    /// The next offset of each partition in the state.
    positions: Positions,
    /// The next offset of each partition handed to the engine (ahead of `positions` while a batch is applied).
    dispatched: Positions,
    /// Where the moments are judged, used by the batch being applied.
    moments: Arc<tokio::sync::Mutex<Moments>>,
    /// The batch the engine is applying.
    in_flight: Option<tokio::task::JoinHandle<Result<Applied>>>,
    /// Cancelled on SIGTERM/SIGINT.
    shutdown: CancellationToken,
}

/// What applying one batch produced, for the metrics.
struct Applied {
    dispositions: Vec<analytics::Disposition>,
    clocks: std::collections::BTreeMap<schemas::PartitionId, analytics::PartitionClock>,
    positions: Positions,
    /// From taking the batch off the source to the state holding it.
    took: std::time::Duration,
    produce_to_state_ms: Vec<i64>,
}

impl<S: Source> Pipeline<S> {
    /// A pipeline from `source` into `live`'s engine.
    pub fn new(
        source: S,
        live: Arc<Live>,
        dead_letters: DeadLetters,
        options: PipelineOptions,
    ) -> Self {
        let moments = Moments::new(live.config());
        Self {
            source,
            live,
            dead_letters,
            options,
            positions: Positions::new(),
            dispatched: Positions::new(),
            moments: Arc::new(tokio::sync::Mutex::new(moments)),
            in_flight: None,
            shutdown: CancellationToken::new(),
        }
    }

    /// Runs until `shutdown` is cancelled, then writes a last checkpoint.
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<()> {
        self.shutdown = shutdown.clone();
        self.positions = self.live.engine.read().await.state().positions();
        self.dispatched = self.positions.clone();
        self.live.set_started();
        let mut last_checkpoint = Instant::now();
        while !shutdown.is_cancelled() {
            let batch = self.source.next_batch(self.options.limits).await?;
            self.process(batch).await?;
            self.live.set_connected(self.source.is_connected());
            metrics::record_lag(&self.source.lag(&self.positions));
            if last_checkpoint.elapsed() >= self.options.checkpoint_interval {
                self.settle().await?;
                self.checkpoint().await?;
                last_checkpoint = Instant::now();
            }
        }
        self.settle().await?;
        self.checkpoint().await
    }

    /// Waits for the batch in the engine, if any, and records its metrics.
    async fn settle(&mut self) -> Result<()> {
        let Some(task) = self.in_flight.take() else {
            return Ok(());
        };
        let applied = task.await.context("the engine task failed")??;
        self.positions = applied.positions;
        metrics::record_batch(
            &applied.dispositions,
            applied.took,
            applied.produce_to_state_ms.into_iter(),
            &applied.clocks,
        );
        Ok(())
    }

    /// Decodes, dead-letters and applies one micro-batch.
    async fn process(&mut self, mut raw: Vec<RawMessage>) -> Result<()> {
        if raw.is_empty() {
            // Idle: let the metrics and positions catch up with the batch in the engine.
            return self.settle().await;
        }
        let started = Instant::now();
        let dispatched = &mut self.dispatched;
        raw.retain(|m| {
            let next = dispatched.entry(m.partition).or_insert(0);
            let fresh = m.offset >= *next;
            if fresh {
                *next = m.offset + 1;
            }
            fresh
        });
        if raw.is_empty() {
            return Ok(());
        }
        let produced_at: Vec<i64> = raw.iter().filter_map(|m| m.produced_at).collect();
        let now = chrono::Utc::now().timestamp_millis();
        let bounds = self.live.config().time_bounds(now);
        let decoded = tokio::task::spawn_blocking(move || decode_batch(raw, bounds))
            .await
            .context("the decoder thread failed")?;
        if !self.dead_letter(&decoded).await? {
            return Ok(()); // stopping: this batch is not applied, a restart reads it again
        }
        self.settle().await?;
        let judging = self.judging(decoded.messages.len());
        let moments = self.moments.clone();
        let live = self.live.clone();
        let large_deal_yuan = self.options.large_deal_yuan;
        let archive = self.options.archive.clone();
        self.in_flight = Some(tokio::spawn(async move {
            let mut engine = live.engine.write().await;
            let branches_before = engine.state().entities().branches.len();
            let (dispositions, moments) = moments
                .lock()
                .await
                .process(&mut engine, &decoded.messages, judging)
                .await?;
            log_unknown_branches(&engine, branches_before);
            let mut dates = schemas::LocalDates::new(*engine.calendar());
            let arrival = engine.state().arrival();
            let done = chrono::Utc::now().timestamp_millis();
            let applied = Applied {
                clocks: arrival.partitions().clone(),
                positions: arrival.positions(),
                took: started.elapsed(),
                produce_to_state_ms: produced_at.iter().map(|at| (done - at).max(0)).collect(),
                dispositions,
            };
            drop(engine);
            let rows = ArchiveRows::build(
                &decoded.messages,
                &applied.dispositions,
                &decoded.rejected_payloads,
                now,
                &mut dates,
            )
            .context("cannot convert the batch for the archive")?;
            archive.append(rows);
            live.batch_applied(
                large_deals(&decoded.messages, &applied.dispositions, large_deal_yuan),
                moments,
            );
            Ok(applied)
        }));
        Ok(())
    }

    /// How a batch of `messages` is judged for moments: at every step while the pipeline is at the end of
    /// its log, only the months closing while it catches up (the batch filled up, or the source is more
    /// than a full batch behind).
    fn judging(&self, messages: usize) -> Judging {
        let behind: u64 = self
            .source
            .lag(&self.dispatched)
            .iter()
            .map(|(_, n)| n)
            .sum();
        judging(messages, behind, self.options.limits.max_messages)
    }

    /// Sends the batch's rejected messages to the dead-letter topic and waits for the broker to have them;
    /// returns false if the pipeline is stopping before they were all delivered (the batch must not count).
    async fn dead_letter(&self, batch: &DecodedBatch) -> Result<bool> {
        let letters: Vec<DeadLetter<'_>> = batch
            .rejected_payloads
            .iter()
            .filter_map(|(i, payload)| {
                let message = &batch.messages[*i];
                let rejection = message.decoded.as_ref().err()?;
                Some(DeadLetter {
                    payload,
                    rejection,
                    partition: message.partition,
                    offset: message.offset,
                })
            })
            .collect();
        if letters.is_empty() {
            return Ok(true);
        }
        match &self.dead_letters {
            DeadLetters::Kafka(producer) => {
                // The broker may be away: keep /ready current and stay stoppable while waiting.
                let send = producer.send_all(&letters);
                tokio::pin!(send);
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                loop {
                    tokio::select! {
                        sent = &mut send => {
                            sent.with_context(|| {
                                format!("cannot write to the dead-letter topic {}", producer.topic())
                            })?;
                            metrics::record_dead_letters(&letters);
                            return Ok(true);
                        }
                        _ = self.shutdown.cancelled() => return Ok(false),
                        _ = tick.tick() => self.live.set_connected(self.source.is_connected()),
                    }
                }
            }
            DeadLetters::Log => {
                for letter in &letters {
                    tracing::warn!(
                        partition = letter.partition,
                        offset = letter.offset,
                        reason = %letter.rejection.reason,
                        "rejected message"
                    );
                }
                metrics::record_dead_letters(&letters);
                Ok(true)
            }
        }
    }

    /// Flushes the archive up to the state's positions, writes the state atomically, then tells the source
    /// (which commits group offsets for monitoring). Call with no batch in flight.
    async fn checkpoint(&mut self) -> Result<()> {
        let saved_at = chrono::Utc::now().timestamp_millis();
        let (bytes, positions) = {
            let engine = self.live.engine.read().await;
            let state = engine.state();
            let bytes = self.options.checkpoints.as_ref().map(|_| {
                CheckpointStore::encode(
                    &self.options.source_name,
                    &state_settings(engine.config()),
                    state,
                    saved_at,
                )
            });
            (bytes, state.positions())
        };
        let archive = self.options.archive.clone();
        let archive_to = positions.clone();
        let flushed = tokio::task::spawn_blocking(move || archive.flush(&archive_to))
            .await
            .context("the archive writer failed")?
            .context("cannot write the event archive")?;
        metrics::record_archive_flush(&flushed);
        let (Some(store), Some(bytes)) = (self.options.checkpoints.clone(), bytes) else {
            return Ok(());
        };
        let size = bytes.len();
        tokio::task::spawn_blocking(move || store.write(&bytes))
            .await
            .context("the checkpoint writer failed")??;
        self.source.checkpointed(&positions);
        self.live.set_checkpoint_saved_at(saved_at);
        tracing::debug!(bytes = size, ?positions, "checkpoint written");
        Ok(())
    }
}

/// Logs each branch the batch just applied named first (the engine had `before` branches) that the
/// organisation file does not name: its events are scored as out of scope. The organisation's branches are
/// the first keys, so those are the keys from `before` (or the organisation's count) on.
fn log_unknown_branches(engine: &analytics::Engine, before: usize) {
    let branches = &engine.state().entities().branches;
    for b in before.max(engine.org().branches.len())..branches.len() {
        tracing::warn!(
            branch = branches.name(b as u32),
            "a branch not in the organisation file: its events are scored as out of scope"
        );
    }
}

/// How a batch of `messages` is judged when `behind` more wait in the log and batches hold at most
/// `max_messages`.
fn judging(messages: usize, behind: u64, max_messages: usize) -> Judging {
    if messages >= max_messages || behind >= max_messages as u64 {
        Judging::ClosesOnly
    } else {
        Judging::EveryStep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_judged_at_every_step_only_at_the_end_of_the_log() {
        assert_eq!(judging(400, 0, 20_000), Judging::EveryStep);
        assert_eq!(judging(19_999, 19_999, 20_000), Judging::EveryStep);
        // A full batch: more were waiting.
        assert_eq!(judging(20_000, 0, 20_000), Judging::ClosesOnly);
        // A small batch with a backlog behind it (e.g. the first after a restart).
        assert_eq!(judging(5, 20_000, 20_000), Judging::ClosesOnly);
    }
}
