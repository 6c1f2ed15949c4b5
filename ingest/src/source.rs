//! What every source yields: raw message bytes with their partition and offset, in micro-batches.

use bytes::Bytes;
use schemas::{EpochMillis, PartitionId};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

/// One message as read from a source, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The source partition.
    pub partition: PartitionId,
    /// The offset within the partition.
    pub offset: u64,
    /// The bytes (for files, a slice of the buffer the lines were read into).
    pub payload: Bytes,
    /// When the producer wrote the message (Kafka's create time), if the source knows: for latency.
    pub produced_at: Option<EpochMillis>,
}

/// How a live source cuts its stream into micro-batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most messages in a batch.
    pub max_messages: usize,
    /// How long a batch waits for more messages after its first one arrived.
    pub linger: Duration,
    /// How long `next_batch` waits for a first message before it returns an empty batch, so the caller
    /// gets control back regularly (checkpoints, shutdown).
    pub idle: Duration,
}

impl Default for BatchLimits {
    /// 20,000 messages, 20 ms linger, 100 ms idle.
    fn default() -> Self {
        Self {
            max_messages: 20_000,
            linger: Duration::from_millis(20),
            idle: Duration::from_millis(100),
        }
    }
}

/// The next offset to read in each partition.
pub type Positions = BTreeMap<PartitionId, u64>;

/// A live stream of messages: Kafka or the embedded simulator.
pub trait Source: Send {
    /// The next micro-batch in arrival order: empty when nothing arrived within `limits.idle`.
    fn next_batch(
        &mut self,
        limits: BatchLimits,
    ) -> impl Future<Output = Result<Vec<RawMessage>, SourceError>> + Send;

    /// Tells the source how far the durable state has got (after a checkpoint): Kafka commits these
    /// offsets to its consumer group so lag can be watched. They are never read back as the truth.
    fn checkpointed(&mut self, _positions: &Positions) {}

    /// Messages behind the end of each partition, where the source can tell (Kafka), given the positions
    /// already processed.
    fn lag(&self, _positions: &Positions) -> Vec<(PartitionId, u64)> {
        Vec::new()
    }

    /// Whether the source can reach its broker (always true for in-process sources).
    fn is_connected(&self) -> bool {
        true
    }
}

/// Why a source stopped delivering.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The Kafka client reported an error it cannot recover from.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// The state's offsets are outside the topic's log: the topic was recreated or retention deleted
    /// messages the state has not seen. Consuming on would silently skip or recount events.
    #[error(
        "the state's offsets are outside the topic's log ({reason}): the topic was recreated or messages \
         expired before they were read; start with a new --state-dir (or restore the topic)"
    )]
    OffsetOutOfRange {
        /// librdkafka's code and the offsets the state reads from.
        reason: String,
    },
    /// The reader task stopped.
    #[error("the Kafka reader stopped")]
    ReaderStopped,
}
