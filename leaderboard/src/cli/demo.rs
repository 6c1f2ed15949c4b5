//! `leaderboard demo`: the live pipeline and server with no broker, fed by the simulator in real time.

use crate::live::pipeline::{DeadLetters, PipelineOptions};
use crate::live::publish::Publisher;
use crate::service::Service;
use analytics::Engine;
use anyhow::{Context, Result, bail};
use ingest::{EmbeddedSource, Pacing, SimulationSpec};
use schemas::{Config, Organisation};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Flags of `demo`.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Configuration file (TOML); the defaults of docs/configuration.md when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// HTTP listen address.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// First simulated day (default: the assessment's first day).
    #[arg(long)]
    pub from: Option<chrono::NaiveDate>,
    /// Who is simulated.
    #[command(flatten)]
    pub population: crate::cli::simulate::Population,
    /// Seconds in which the first simulated month is replayed.
    #[arg(long, default_value_t = 180)]
    pub catch_up_secs: u64,
    /// Simulated seconds per real second after the first month (1 is real time).
    #[arg(long, default_value_t = 60.0)]
    pub live_speed: f64,
    /// Partitions the embedded source spreads branches over.
    #[arg(long, default_value_t = 3)]
    pub partitions: u32,
}

/// Runs the demo until SIGINT/SIGTERM.
pub async fn demo(args: &DemoArgs) -> Result<()> {
    if args.population.branches == 0
        || args.population.users_per_branch == 0
        || args.partitions == 0
    {
        bail!("--branches, --users-per-branch and --partitions must be at least 1");
    }
    if !(args.live_speed.is_finite() && args.live_speed > 0.0) {
        bail!(
            "--live-speed must be a positive number, got {}",
            args.live_speed
        );
    }
    let config = Config::from_file_or_default(args.config.as_deref())?;
    let from = args.from.unwrap_or(config.assessment_start);
    let days = (config.assessment_end - from).num_days().max(31) as u32 + 1;
    let org =
        Organisation::from_csv(ingest::organisation_csv(args.population.branches).as_bytes())?;
    let spec = SimulationSpec {
        from,
        days,
        branches: args.population.branches,
        users_per_branch: args.population.users_per_branch,
        seed: args.population.seed,
        zone: config.timezone,
    };
    let pacing = Pacing {
        fast_days: 30,
        fast_duration: Duration::from_secs(args.catch_up_secs),
        live_speed: args.live_speed,
    };
    let limits = super::serve::batch_limits(&config);
    let large_deal_yuan = config.live.large_deal_yuan;
    let config = Arc::new(config);
    // The demo keeps no state across runs: its archive lives in a temporary directory.
    let scratch = tempfile::tempdir().context("cannot create the demo's archive directory")?;
    let archive = Arc::new(
        crate::sql::open_archive(scratch.path(), "embedded", &Default::default())?
            .keep_merged_files_for(crate::sql::longest_query(&config.sql)),
    );
    let source = EmbeddedSource::start(spec, args.partitions, pacing);
    let service = Service {
        engine: Engine::new(config, Arc::new(org)),
        publisher: Publisher::Embedded(source.injector()),
        source,
        dead_letters: DeadLetters::Log,
        options: PipelineOptions {
            limits,
            checkpoint_interval: Duration::from_secs(5),
            checkpoints: None,
            source_name: "embedded".into(),
            large_deal_yuan,
            archive,
        },
        listen: args.listen.clone(),
    };
    let catch_up = args.catch_up_secs;
    service
        .run(|base| {
            eprintln!("leaderboard demo: simulating from {from}, the first month in {catch_up} s, then live");
            eprintln!("  wall screen   {base}/screen?rotate=20");
            eprintln!("  manager view  {base}/manager");
            eprintln!("  scorecard  {base}/api/v1/scorecard");
            eprintln!("  users      {base}/api/v1/scorecard?users=true");
            eprintln!("  metrics    {base}/metrics");
            eprintln!("stop with Ctrl-C");
        })
        .await
}
