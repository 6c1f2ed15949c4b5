//! What every source yields: raw message bytes with their partition and offset.

use schemas::PartitionId;

/// One message as read from a source, before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawMessage {
    /// The source partition.
    pub partition: PartitionId,
    /// The offset within the partition.
    pub offset: u64,
    /// The bytes.
    pub payload: Vec<u8>,
}
