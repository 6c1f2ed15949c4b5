//! `leaderboard serve`: the Kafka pipeline with checkpoints, dead letters and the HTTP server.

use crate::cli::replay::load_organisation;
use crate::live::pipeline::{DeadLetters, PipelineOptions};
use crate::live::publish::Publisher;
use crate::service::Service;
use analytics::{CheckpointStore, Engine};
use anyhow::{Context, Result};
use ingest::BatchLimits;
use ingest::kafka::{DeadLetterProducer, EventProducer, KafkaSettings, KafkaSource, ensure_topics};
use schemas::Config;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Flags of `serve`; each overrides the configuration file.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); the defaults of docs/configuration.md when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Organisation file (CSV); overrides `server.org`.
    #[arg(long)]
    pub org: Option<PathBuf>,
    /// Kafka bootstrap servers; overrides `kafka.brokers`.
    #[arg(long)]
    pub brokers: Option<String>,
    /// Activity topic; overrides `kafka.topic`.
    #[arg(long)]
    pub topic: Option<String>,
    /// Consumer group; overrides `kafka.group`.
    #[arg(long)]
    pub group: Option<String>,
    /// Checkpoint directory; overrides `server.state_dir`.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// HTTP listen address; overrides `server.listen`.
    #[arg(long)]
    pub listen: Option<String>,
}

impl ServeArgs {
    /// The configuration file with the flags applied.
    pub fn config(&self) -> Result<Config> {
        let mut config = Config::from_file_or_default(self.config.as_deref())?;
        let kafka = &mut config.kafka;
        let server = &mut config.server;
        override_with(&mut kafka.brokers, &self.brokers);
        override_with(&mut kafka.topic, &self.topic);
        override_with(&mut kafka.group, &self.group);
        override_with(&mut server.state_dir, &self.state_dir);
        override_with(&mut server.listen, &self.listen);
        if self.org.is_some() {
            server.org.clone_from(&self.org);
        }
        config.validate()?;
        Ok(config)
    }
}

fn override_with<T: Clone>(value: &mut T, flag: &Option<T>) {
    if let Some(flag) = flag {
        value.clone_from(flag);
    }
}

/// The micro-batch limits of a configuration.
pub fn batch_limits(config: &Config) -> BatchLimits {
    BatchLimits {
        max_messages: config.server.max_batch,
        linger: Duration::from_millis(config.server.linger_ms),
        idle: Duration::from_millis(100),
    }
}

/// Runs the Kafka pipeline until SIGINT/SIGTERM.
pub async fn serve(args: &ServeArgs) -> Result<()> {
    let config = Arc::new(args.config()?);
    let org_path = config
        .server
        .org
        .clone()
        .context("no organisation file: pass --org or set server.org in the config file")?;
    let org = Arc::new(load_organisation(&org_path)?);
    let kafka = &config.kafka;
    let source_name = format!("kafka:{}", kafka.topic);
    let store = CheckpointStore::open(&config.server.state_dir)?;
    let engine = match store.load(&source_name, &analytics::state_settings(&config))? {
        Some(checkpoint) => {
            let positions = checkpoint.state.positions();
            tracing::info!(
                ?positions,
                saved_at = checkpoint.saved_at,
                "resuming from the checkpoint"
            );
            Engine::restore(config.clone(), org, checkpoint.state)
        }
        None => {
            tracing::info!(dir = %config.server.state_dir.display(), "no checkpoint: starting from the beginning of the topic");
            Engine::new(config.clone(), org)
        }
    };
    let archive = Arc::new(
        crate::sql::open_archive(
            &config.server.state_dir,
            &source_name,
            &engine.state().positions(),
        )?
        .keep_merged_files_for(crate::sql::longest_query(&config.sql)),
    );
    crate::sql::keep_organisation(&config.server.state_dir, &org_path)?;
    let dlq_topic = kafka.dead_letter_topic();
    let topics = [
        (kafka.topic.as_str(), kafka.partitions),
        (dlq_topic.as_str(), kafka.partitions),
    ];
    match tokio::time::timeout(
        Duration::from_secs(15),
        ensure_topics(&kafka.brokers, &topics),
    )
    .await
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot create the topics; assuming they exist"),
        Err(_) => {
            tracing::warn!(brokers = %kafka.brokers, "the broker did not answer; consuming once it does")
        }
    }
    let settings = KafkaSettings {
        brokers: kafka.brokers.clone(),
        topic: kafka.topic.clone(),
        group: kafka.group.clone(),
    };
    let limits = batch_limits(&config);
    let source = KafkaSource::connect(&settings, engine.state().positions(), limits)
        .context("cannot create the Kafka consumer")?;
    let dead_letters = DeadLetterProducer::new(&kafka.brokers, &dlq_topic, &kafka.topic)
        .context("cannot create the dead-letter producer")?;
    let service = Service {
        engine,
        source,
        dead_letters: DeadLetters::Kafka(dead_letters),
        options: PipelineOptions {
            limits,
            checkpoint_interval: Duration::from_secs(config.server.checkpoint_interval_secs),
            checkpoints: Some(store),
            source_name,
            large_deal_yuan: config.live.large_deal_yuan,
            archive,
        },
        publisher: Publisher::Kafka(tokio::sync::Mutex::new(
            EventProducer::new(&kafka.brokers, &kafka.topic)
                .context("cannot create the producer of clearing scores")?,
        )),
        listen: config.server.listen.clone(),
    };
    let topic = kafka.topic.clone();
    service
        .run(|base| {
            eprintln!("leaderboard: consuming {topic} (dead letters to {dlq_topic}); serving {base}/api/v1/scorecard");
        })
        .await
}
