//! The dead-letter topic: the original bytes of each rejected message, with headers that say why and where
//! it came from. Delivery is awaited before the batch counts as done, so a crash can repeat a dead letter
//! (consumers can dedupe by `source_partition`/`source_offset`) but never lose one.
//!
//! Headers: `reason`, `kind`, `field`, `source_topic`, `source_partition`, `source_offset`,
//! `original_bytes`, and `payload_truncated: true` when the message was too large to forward whole (Kafka's
//! default limit is 1 MB): then the payload is its first [`MAX_FORWARDED_BYTES`] bytes.

use super::client_config;
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use schemas::{PartitionId, Rejection};

/// The most bytes of a rejected message forwarded; larger ones are cut (and say so in a header) so the
/// dead letter itself fits a broker's default 1 MB message limit.
pub const MAX_FORWARDED_BYTES: usize = 900 * 1024;

/// Writes rejected messages to the dead-letter topic.
pub struct DeadLetterProducer {
    producer: FutureProducer,
    topic: String,
    source_topic: String,
}

/// One rejected message.
#[derive(Debug, Clone, Copy)]
pub struct DeadLetter<'a> {
    /// The original bytes.
    pub payload: &'a [u8],
    /// Why it was rejected.
    pub rejection: &'a Rejection,
    /// Where it was read.
    pub partition: PartitionId,
    /// Its offset there.
    pub offset: u64,
}

impl DeadLetterProducer {
    /// A producer to `topic` for messages read from `source_topic`.
    pub fn new(brokers: &str, topic: &str, source_topic: &str) -> Result<Self, KafkaError> {
        let producer = client_config(brokers)
            // Never give up on a dead letter: the batch waits until the broker has it.
            .set("message.timeout.ms", "0")
            .set("linger.ms", "5")
            .create()?;
        Ok(Self {
            producer,
            topic: topic.into(),
            source_topic: source_topic.into(),
        })
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Sends every letter and waits until the broker has them all.
    pub async fn send_all(&self, letters: &[DeadLetter<'_>]) -> Result<(), KafkaError> {
        let mut pending = Vec::with_capacity(letters.len());
        for letter in letters {
            let partition = letter.partition.to_string();
            let offset = letter.offset.to_string();
            let original_bytes = letter.payload.len().to_string();
            let truncated = letter.payload.len() > MAX_FORWARDED_BYTES;
            let payload = &letter.payload[..letter.payload.len().min(MAX_FORWARDED_BYTES)];
            let mut headers = OwnedHeaders::new_with_capacity(8)
                .insert(Header {
                    key: "reason",
                    value: Some(letter.rejection.reason.as_str()),
                })
                .insert(Header {
                    key: "kind",
                    value: Some(letter.rejection.kind.as_str()),
                })
                .insert(Header {
                    key: "field",
                    value: Some(letter.rejection.field.as_deref().unwrap_or("")),
                })
                .insert(Header {
                    key: "source_topic",
                    value: Some(self.source_topic.as_str()),
                })
                .insert(Header {
                    key: "source_partition",
                    value: Some(partition.as_str()),
                })
                .insert(Header {
                    key: "source_offset",
                    value: Some(offset.as_str()),
                })
                .insert(Header {
                    key: "original_bytes",
                    value: Some(original_bytes.as_str()),
                });
            if truncated {
                headers = headers.insert(Header {
                    key: "payload_truncated",
                    value: Some("true"),
                });
            }
            let key = format!("{}:{partition}:{offset}", self.source_topic);
            let record = FutureRecord::to(&self.topic)
                .key(key.as_str())
                .payload(payload)
                .headers(headers);
            match self.producer.send_result(record) {
                Ok(delivery) => pending.push(delivery),
                Err((_, record)) => {
                    // The local queue is full: wait for this one, the queue drains meanwhile.
                    self.producer
                        .send(record, Timeout::Never)
                        .await
                        .map_err(|(e, _)| e)?;
                }
            }
        }
        for delivery in pending {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(e),
                Err(_) => return Err(KafkaError::Canceled),
            }
        }
        Ok(())
    }
}
