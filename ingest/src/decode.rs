//! Decodes a batch of raw messages on all cores, keeping their order.

use crate::source::RawMessage;
use rayon::prelude::*;
use schemas::{EpochMillis, Message, decode_event};

/// A decoded batch: every message in order, and the original bytes of the rejected ones (for the
/// dead-letter output), by index into `messages`.
#[derive(Debug, Default)]
pub struct DecodedBatch {
    /// Messages in source order.
    pub messages: Vec<Message>,
    /// `(index into messages, original bytes)` of each rejected message.
    pub rejected_payloads: Vec<(usize, Vec<u8>)>,
}

/// Decodes `raw` in parallel with the pipeline clock `now`.
pub fn decode_batch(raw: Vec<RawMessage>, now: EpochMillis) -> DecodedBatch {
    let decoded: Vec<(Message, Option<Vec<u8>>)> = raw
        .into_par_iter()
        .with_min_len(1024)
        .map(|m| {
            let decoded = decode_event(&m.payload, now);
            let keep = decoded.is_err().then_some(m.payload);
            (
                Message {
                    partition: m.partition,
                    offset: m.offset,
                    decoded,
                },
                keep,
            )
        })
        .collect();
    let mut batch = DecodedBatch {
        messages: Vec::with_capacity(decoded.len()),
        rejected_payloads: Vec::new(),
    };
    for (i, (message, payload)) in decoded.into_iter().enumerate() {
        if let Some(payload) = payload {
            batch.rejected_payloads.push((i, payload));
        }
        batch.messages.push(message);
    }
    batch
}
