//! A message as the engine receives it: where it came from and what decoding made of it.

use crate::decode::Rejection;
use crate::event::Event;

/// A source partition (a Kafka partition; a file is partition 0).
pub type PartitionId = u32;

/// One message from a source after decoding.
#[derive(Debug, Clone)]
pub struct Message {
    /// The source partition.
    pub partition: PartitionId,
    /// The offset within the partition (a file's 0-based line number).
    pub offset: u64,
    /// The event, or why the bytes are not one.
    pub decoded: Result<Event, Box<Rejection>>,
}
