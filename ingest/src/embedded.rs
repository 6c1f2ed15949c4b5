//! The embedded source of `leaderboard demo`: the simulator played in (compressed) real time, in process,
//! with no broker. Events are encoded to the same JSON bytes a producer would send and spread over
//! partitions by branch, so they take exactly the path Kafka messages take.

use crate::simulate::{SimulationSpec, simulate};
use crate::source::{BatchLimits, RawMessage, Source, SourceError};
use schemas::{EpochMillis, PartitionId};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How simulated time maps onto wall-clock time: the first `fast_days` play in `fast_duration`, the rest
/// at `live_speed` times real time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    /// Simulated days played fast (a month's catch-up).
    pub fast_days: u32,
    /// Wall-clock time the fast days take.
    pub fast_duration: Duration,
    /// Simulated seconds per wall-clock second afterwards (1.0 is real time).
    pub live_speed: f64,
}

impl Pacing {
    /// Wall-clock time from the start at which an event `sim_elapsed` into the simulation is due.
    fn due(&self, sim_elapsed: Duration) -> Duration {
        let fast_span = Duration::from_secs(u64::from(self.fast_days) * 86_400);
        if sim_elapsed <= fast_span {
            self.fast_duration
                .mul_f64(sim_elapsed.as_secs_f64() / fast_span.as_secs_f64().max(1.0))
        } else {
            self.fast_duration + (sim_elapsed - fast_span).div_f64(self.live_speed.max(1e-3))
        }
    }
}

/// Messages from a simulator thread, paced in wall-clock time.
pub struct EmbeddedSource {
    receiver: mpsc::Receiver<RawMessage>,
    injector: Injector,
}

/// Adds messages to an embedded source's partitions, after whatever the simulator has sent: what a
/// producer to the topic is for a Kafka source.
#[derive(Clone)]
pub struct Injector {
    sender: mpsc::Sender<RawMessage>,
    /// Each partition's next offset; held while a message is queued so offsets stay in queue order.
    next_offsets: Arc<Mutex<Vec<u64>>>,
}

/// The embedded source has stopped taking messages.
#[derive(Debug, thiserror::Error)]
#[error("the embedded source has stopped")]
pub struct InjectorClosed;

impl Injector {
    /// Queues `payload` on the partition of `branch_id`, blocking while the queue is full (call it from a
    /// blocking thread).
    pub fn inject_blocking(&self, branch_id: &str, payload: Vec<u8>) -> Result<(), InjectorClosed> {
        let mut offsets = self.next_offsets.lock().unwrap_or_else(|e| e.into_inner());
        let partition = (xxhash_rust::xxh3::xxh3_64(branch_id.as_bytes()) % offsets.len() as u64)
            as PartitionId;
        let offset = &mut offsets[partition as usize];
        let message = RawMessage {
            partition,
            offset: *offset,
            payload: payload.into(),
            produced_at: Some(chrono::Utc::now().timestamp_millis()),
        };
        self.sender
            .blocking_send(message)
            .map_err(|_| InjectorClosed)?;
        *offset += 1;
        Ok(())
    }
}

impl EmbeddedSource {
    /// Starts the simulator thread for `spec` with `partitions` partitions (by branch), paced by `pacing`.
    pub fn start(spec: SimulationSpec, partitions: u32, pacing: Pacing) -> Self {
        let (sender, receiver) = mpsc::channel(65_536);
        let injector = Injector {
            sender,
            next_offsets: Arc::new(Mutex::new(vec![0; partitions.max(1) as usize])),
        };
        let simulator = injector.clone();
        std::thread::Builder::new()
            .name("embedded-source".into())
            .spawn(move || generate(&spec, pacing, &simulator))
            .expect("spawn the embedded source thread");
        Self { receiver, injector }
    }

    /// A handle that adds messages to this source.
    pub fn injector(&self) -> Injector {
        self.injector.clone()
    }
}

fn generate(spec: &SimulationSpec, pacing: Pacing, injector: &Injector) {
    let started = Instant::now();
    let mut start_at: Option<EpochMillis> = None;
    let mut closed = false;
    simulate(spec, |event| {
        if closed {
            return;
        }
        let first = *start_at.get_or_insert(event.occurred_at);
        let sim_elapsed = Duration::from_millis((event.occurred_at - first).max(0) as u64);
        let due = pacing.due(sim_elapsed);
        let now = started.elapsed();
        if due > now + Duration::from_millis(5) {
            std::thread::sleep(due - now);
        }
        let payload = serde_json::to_vec(&schemas::encode_event(&event, spec.zone))
            .expect("an encoded event serialises");
        closed = injector.inject_blocking(&event.branch_id, payload).is_err();
    });
}

impl Source for EmbeddedSource {
    async fn next_batch(&mut self, limits: BatchLimits) -> Result<Vec<RawMessage>, SourceError> {
        let mut batch = Vec::new();
        let first = tokio::time::timeout(limits.idle, self.receiver.recv()).await;
        match first {
            Ok(Some(message)) => batch.push(message),
            // Timed out, or the simulation is over: nothing more arrives, the server keeps serving.
            Ok(None) => {
                tokio::time::sleep(limits.idle).await;
                return Ok(batch);
            }
            Err(_) => return Ok(batch),
        }
        let deadline = tokio::time::Instant::now() + limits.linger;
        while batch.len() < limits.max_messages {
            let room = limits.max_messages - batch.len();
            match tokio::time::timeout_at(deadline, self.receiver.recv_many(&mut batch, room)).await
            {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_days_fill_the_fast_duration_then_time_runs_at_live_speed() {
        let pacing = Pacing {
            fast_days: 30,
            fast_duration: Duration::from_secs(180),
            live_speed: 60.0,
        };
        assert_eq!(pacing.due(Duration::ZERO), Duration::ZERO);
        assert_eq!(
            pacing.due(Duration::from_secs(15 * 86_400)),
            Duration::from_secs(90)
        );
        assert_eq!(
            pacing.due(Duration::from_secs(30 * 86_400)),
            Duration::from_secs(180)
        );
        assert_eq!(
            pacing.due(Duration::from_secs(30 * 86_400 + 3_600)),
            Duration::from_secs(240)
        );
    }
}
