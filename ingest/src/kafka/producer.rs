//! Produces events to the activity topic, keyed by `branch_id` (docs/scoring.md#events), for `leaderboard produce`, live
//! simulation and the tests.

use super::client_config;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use std::time::Duration;

/// A producer to one topic that keeps many messages in flight.
pub struct EventProducer {
    producer: FutureProducer,
    topic: String,
    in_flight: Vec<rdkafka::producer::DeliveryFuture>,
    sent: u64,
}

/// How many deliveries are awaited together.
const MAX_IN_FLIGHT: usize = 10_000;

/// The `branch_id` of a JSON event, if it has one: the message key.
fn branch_key(payload: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Key {
        branch_id: String,
    }
    serde_json::from_slice::<Key>(payload)
        .ok()
        .map(|k| k.branch_id)
}

impl EventProducer {
    /// A producer to `topic` on `brokers`.
    pub fn new(brokers: &str, topic: &str) -> Result<Self, KafkaError> {
        let producer = client_config(brokers)
            .set("linger.ms", "5")
            .set("batch.num.messages", "10000")
            .set("queue.buffering.max.messages", "200000")
            .set("message.timeout.ms", "60000")
            // Ordered and never duplicated on retries (a partition's order decides lateness).
            .set("enable.idempotence", "true")
            // Oversized lines are sent anyway: the pipeline dead-letters them with a reason.
            .set("message.max.bytes", "4000000")
            .create()?;
        Ok(Self {
            producer,
            topic: topic.into(),
            in_flight: Vec::new(),
            sent: 0,
        })
    }

    /// Queues one message keyed by its `branch_id` (unkeyed when it has none, e.g. a malformed one).
    pub async fn send(&mut self, payload: &[u8]) -> Result<(), KafkaError> {
        let key = branch_key(payload);
        loop {
            let mut record = FutureRecord::<str, [u8]>::to(&self.topic).payload(payload);
            if let Some(key) = key.as_deref() {
                record = record.key(key);
            }
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    self.in_flight.push(delivery);
                    self.sent += 1;
                    break;
                }
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    self.settle().await?;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err((e, _)) => return Err(e),
            }
        }
        if self.in_flight.len() >= MAX_IN_FLIGHT {
            self.settle().await?;
        }
        Ok(())
    }

    /// Waits for every queued message to be acknowledged by the broker.
    pub async fn settle(&mut self) -> Result<(), KafkaError> {
        for delivery in self.in_flight.drain(..) {
            match delivery.await {
                Ok(Ok(_)) => {}
                Ok(Err((e, _))) => return Err(e),
                Err(_) => return Err(KafkaError::Canceled),
            }
        }
        Ok(())
    }

    /// Waits for every message, then flushes the client.
    pub async fn finish(mut self) -> Result<u64, KafkaError> {
        self.settle().await?;
        self.producer
            .flush(Timeout::After(Duration::from_secs(30)))?;
        Ok(self.sent)
    }
}
