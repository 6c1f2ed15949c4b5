//! Decodes a batch of raw messages on all cores, keeping their order.

use crate::source::RawMessage;
use bytes::Bytes;
use rayon::prelude::*;
use schemas::{Message, PartitionId, TimeBounds, decode_event};
use std::sync::atomic::{AtomicBool, Ordering};

/// A decoded batch: every message in order, and the original bytes of the rejected ones (for the
/// dead-letter output), by index into `messages`.
#[derive(Debug, Default)]
pub struct DecodedBatch {
    /// Messages in source order.
    pub messages: Vec<Message>,
    /// `(index into messages, original bytes)` of each rejected message.
    pub rejected_payloads: Vec<(usize, Bytes)>,
}

impl DecodedBatch {
    /// Drops the batch on the decoding threads rather than the caller's. Freeing a batch reads every
    /// message again (each id may own a heap buffer), which a replay's engine thread, the longest path,
    /// would otherwise spend its time on after every micro-batch.
    pub fn release(self) {
        rayon::spawn(move || drop(self));
    }
}

/// Messages as a source read them, before decoding: what [`decode_batch`] needs of them.
pub trait RawBatch: Sync {
    /// How many messages.
    fn len(&self) -> usize;

    /// Returns true if and only if there are no messages.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The partition and offset of message `i`.
    fn position(&self, i: usize) -> (PartitionId, u64);

    /// The bytes of message `i`.
    fn payload(&self, i: usize) -> &[u8];

    /// The bytes of message `i` as a handle of their own, for a rejected message's dead letter.
    fn owned_payload(&self, i: usize) -> Bytes;
}

impl RawBatch for Vec<RawMessage> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn position(&self, i: usize) -> (PartitionId, u64) {
        (self[i].partition, self[i].offset)
    }

    fn payload(&self, i: usize) -> &[u8] {
        &self[i].payload
    }

    fn owned_payload(&self, i: usize) -> Bytes {
        self[i].payload.clone()
    }
}

/// Decodes `raw` in parallel, accepting `occurred_at` within `bounds`.
///
/// Each decoded message is written straight into its place in the batch (no intermediate pairs to move
/// around), and the raw bytes are kept only for the rejected messages.
pub fn decode_batch(raw: impl RawBatch, bounds: impl Into<TimeBounds>) -> DecodedBatch {
    let bounds = bounds.into();
    let mut messages = Vec::with_capacity(raw.len());
    let any_rejected = AtomicBool::new(false);
    (0..raw.len())
        .into_par_iter()
        .with_min_len(1024)
        .map(|i| {
            let (partition, offset) = raw.position(i);
            let decoded = decode_event(raw.payload(i), bounds);
            if decoded.is_err() {
                any_rejected.store(true, Ordering::Relaxed);
            }
            Message {
                partition,
                offset,
                decoded,
            }
        })
        .collect_into_vec(&mut messages);
    // Most batches have no rejected message: they are not read through again to find none.
    let rejected_payloads = if any_rejected.into_inner() {
        messages
            .iter()
            .enumerate()
            .filter(|(_, message)| message.decoded.is_err())
            .map(|(i, _)| (i, raw.owned_payload(i)))
            .collect()
    } else {
        Vec::new()
    };
    DecodedBatch {
        messages,
        rejected_payloads,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(offset: u64, payload: &'static [u8]) -> RawMessage {
        RawMessage {
            partition: 2,
            offset,
            payload: Bytes::from_static(payload),
            produced_at: None,
        }
    }

    #[test]
    fn keeps_the_order_and_the_bytes_of_exactly_the_rejected_messages() {
        let good = br#"{"event_id":"e1","event_type":"login","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","terminal":"pc"}"#;
        let batch = decode_batch(
            vec![
                raw(10, good),
                raw(11, b"{not json"),
                raw(12, good),
                raw(13, b"\xff\xfe"),
            ],
            i64::MAX / 2,
        );
        let summary: Vec<_> = batch
            .messages
            .iter()
            .map(|m| (m.partition, m.offset, m.decoded.is_ok()))
            .collect();
        assert_eq!(
            summary,
            vec![(2, 10, true), (2, 11, false), (2, 12, true), (2, 13, false)]
        );
        assert_eq!(
            batch.rejected_payloads,
            vec![
                (1, Bytes::from_static(b"{not json")),
                (3, Bytes::from_static(b"\xff\xfe"))
            ]
        );
        let clean = decode_batch(vec![raw(0, good)], i64::MAX / 2);
        assert!(clean.rejected_payloads.is_empty());
        assert!(clean.messages[0].decoded.is_ok());
    }
}
