//! Events the API itself creates (clearing scores) go where every other event comes from: the Kafka
//! topic, or the embedded source's queue in the demo. So they are ordered, checkpointed and archived like
//! any other, and a restart never loses one the API acknowledged.

use anyhow::{Context, Result};
use ingest::Injector;
use ingest::kafka::EventProducer;
use tokio::sync::Mutex;

/// Where API-created events go.
pub enum Publisher {
    /// The activity topic.
    Kafka(Mutex<EventProducer>),
    /// The embedded source's partitions.
    Embedded(Injector),
}

impl Publisher {
    /// Sends `payload` (an event of `branch_id`) and waits until the source holds it.
    pub async fn publish(&self, branch_id: &str, payload: Vec<u8>) -> Result<()> {
        match self {
            Publisher::Kafka(producer) => {
                let mut producer = producer.lock().await;
                producer
                    .send(&payload)
                    .await
                    .context("cannot send the event to Kafka")?;
                producer
                    .settle()
                    .await
                    .context("Kafka did not acknowledge the event")
            }
            Publisher::Embedded(injector) => {
                let injector = injector.clone();
                let branch_id = branch_id.to_string();
                tokio::task::spawn_blocking(move || injector.inject_blocking(&branch_id, payload))
                    .await
                    .context("the injecting thread failed")?
                    .context("cannot queue the event")
            }
        }
    }
}
