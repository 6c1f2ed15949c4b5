//! Decodes a batch of raw messages on all cores, keeping their order.

use crate::source::RawMessage;
use bytes::Bytes;
use rayon::prelude::*;
use schemas::{EpochMillis, Message, decode_event};

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
pub fn decode_batch(raw: Vec<RawMessage>, now: EpochMillis) -> DecodedBatch {
    let (messages, kept): (Vec<Message>, Vec<Option<Bytes>>) = raw
        .into_par_iter()
        .with_min_len(1024)
        .map(|m| {
            let decoded = decode_event(&m.payload, now);
            let keep = decoded.is_err().then_some(m.payload);
            let message = Message {
                partition: m.partition,
                offset: m.offset,
                decoded,
            };
            (message, keep)
        })
        .unzip();
    let rejected_payloads = kept
        .into_iter()
        .enumerate()
        .filter_map(|(i, payload)| Some((i, payload?)))
        .collect();
    DecodedBatch {
        messages,
        rejected_payloads,
    }
}
