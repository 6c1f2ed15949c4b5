//! Kafka through rdkafka: the consumer-group source the live pipeline reads, the dead-letter producer, the
//! event producer behind `leaderboard produce` and `simulate --brokers`, and topic creation.

mod admin;
mod consumer;
mod dead_letter;
mod producer;

pub use admin::ensure_topics;
pub use consumer::KafkaSource;
pub use dead_letter::{DeadLetter, DeadLetterProducer};
pub use producer::EventProducer;

use rdkafka::ClientConfig;

/// Where to find the activity topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSettings {
    /// Bootstrap servers, `host:port[,host:port…]`.
    pub brokers: String,
    /// The activity topic.
    pub topic: String,
    /// The consumer group (offsets committed there for lag monitoring only).
    pub group: String,
}

/// A client configuration with the settings every client of ours shares.
fn client_config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("client.id", "leaderboard")
        // Reconnect quickly when the broker comes back.
        .set("reconnect.backoff.ms", "100")
        .set("reconnect.backoff.max.ms", "1000");
    config
}
