//! Decodes a batch of raw messages on all cores, keeping their order.

use crate::source::RawMessage;
use bytes::Bytes;
use rayon::prelude::*;
use schemas::{EpochMillis, Message, decode_event};
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

/// Decodes `raw` in parallel with the pipeline clock `now`.
///
/// Each decoded message is written straight into its place in the batch (no intermediate pairs to move
/// around), and the raw bytes are kept only for the rejected messages.
pub fn decode_batch(raw: Vec<RawMessage>, now: EpochMillis) -> DecodedBatch {
    let mut messages = Vec::with_capacity(raw.len());
    let any_rejected = AtomicBool::new(false);
    raw.par_iter()
        .with_min_len(1024)
        .map(|m| {
            let decoded = decode_event(&m.payload, now);
            if decoded.is_err() {
                any_rejected.store(true, Ordering::Relaxed);
            }
            Message {
                partition: m.partition,
                offset: m.offset,
                decoded,
            }
        })
        .collect_into_vec(&mut messages);
    // Most batches have no rejected message: they are not read through again to find none.
    let rejected_payloads = if any_rejected.into_inner() {
        messages
            .iter()
            .zip(raw)
            .enumerate()
            .filter_map(|(i, (message, raw))| message.decoded.is_err().then_some((i, raw.payload)))
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
