//! `leaderboard`: the command-line front end. Each subcommand is a thin layer over the library crates.

use analytics::{PeriodSpec, Scorecard};
use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use leaderboard::commands::demo::{DemoArgs, demo};
use leaderboard::commands::produce::{LiveTraffic, ProduceArgs, produce, simulate_into_kafka};
use leaderboard::commands::serve::{ServeArgs, serve};
use leaderboard::commands::sql::{SqlArgs, sql};
use leaderboard::replay::{
    DEFAULT_BATCH_SIZE, ReplayOptions, load_engine, replay_file, summary_line,
};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Batches are allocated on one thread and freed on another; mimalloc keeps that cheap on all threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Live KPI scorecards and leaderboards for a sales-system rollout.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score a month, quarter or the assessment to date from an event file.
    Replay(ReplayArgs),
    /// Print the rewards of SPEC §6 (branch awards, specialist bonuses, salesperson payouts) as JSON.
    Rewards(ReplayArgs),
    /// Write realistic synthetic activity as NDJSON (--out), or send it live into Kafka (--brokers).
    Simulate(SimulateArgs),
    /// Consume the activity topic and serve the live scorecards.
    Serve(ServeArgs),
    /// The live pipeline and server on an embedded simulated source: no broker needed.
    Demo(DemoArgs),
    /// Send an NDJSON event file, or a users CSV as user_registered events, to the topic.
    Produce(ProduceArgs),
    /// Run one read-only SQL query on a state directory's archive and last checkpoint (no server needed).
    Sql(SqlArgs),
}

/// How the scorecard is printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// SPEC §8 JSON.
    Json,
    /// An aligned table with branch names, for people.
    Table,
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Organisation file: CSV with header branch_id,branch_name,in_scope.
    #[arg(long)]
    org: PathBuf,
    /// Event file: one JSON event per line.
    #[arg(long)]
    events: PathBuf,
    /// Configuration file (TOML); SPEC defaults when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// YYYY-MM, YYYY-Qn or assessment.
    #[arg(long, value_parser = parse_period)]
    period: PeriodSpec,
    /// Include per-user rows under "users".
    #[arg(long)]
    users: bool,
    /// Write each rejected line with its reason as NDJSON here.
    #[arg(long)]
    rejects: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Keep the state and the event archive here, for `leaderboard sql` (an empty or new directory).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Messages per micro-batch (results never depend on it). Small enough that a batch's decoded messages
    /// (about 3 MiB) are still cached when the engine reads them, and that the first batch's decoding and
    /// the last one's processing, which nothing overlaps, are short; large enough that the per-batch work
    /// (running the aggregate, handing batches between threads) stays a small share (docs/BENCHMARKS.md:
    /// 16,384 against 4,096 to 131,072).
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, hide = true)]
    batch_size: usize,
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// Where to write the events (NDJSON).
    #[arg(long, required_unless_present = "brokers", conflicts_with = "brokers")]
    out: Option<PathBuf>,
    /// Send the events live to Kafka instead, at --rate events per second.
    #[arg(long)]
    brokers: Option<String>,
    /// Topic for --brokers.
    #[arg(long, default_value = "activity", requires = "brokers")]
    topic: String,
    /// Events per second for --brokers.
    #[arg(long, default_value_t = 1000, requires = "brokers")]
    rate: u32,
    /// Partitions of the topic if --brokers has to create it.
    #[arg(long, default_value_t = 3, requires = "brokers")]
    partitions: u32,
    /// Where to write the matching organisation file (CSV).
    #[arg(long)]
    org_out: Option<PathBuf>,
    /// First simulated local day.
    #[arg(long, default_value = "2016-06-01")]
    from: chrono::NaiveDate,
    /// Number of days.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Number of branches (from 12 on, the last two are out of scope).
    #[arg(long, default_value_t = 11)]
    branches: u32,
    /// Users per branch.
    #[arg(long, default_value_t = 50)]
    users_per_branch: u32,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn parse_period(s: &str) -> Result<PeriodSpec, String> {
    s.parse()
}

/// What a replay says when its events cannot be scored (none accepted, or a period outside the
/// assessment), before the engine's reason.
fn scoring_failed(args: &ReplayArgs) -> String {
    format!("cannot score the events of {}", args.events.display())
}

async fn replay(args: &ReplayArgs) -> Result<analytics::Engine> {
    let mut engine = load_engine(args.config.as_deref(), &args.org)?;
    let kept = match &args.state_dir {
        Some(dir) => Some(KeptState::open(dir, &args.events)?),
        None => None,
    };
    let options = ReplayOptions {
        events: args.events.clone(),
        rejects: args.rejects.clone(),
        batch_size: args.batch_size,
        progress: true,
        archive: kept.as_ref().map(|k| k.archive.clone()),
    };
    let counts = replay_file(&mut engine, &options).await?;
    if let Some(kept) = kept {
        kept.save(&engine, &args.events, &args.org)?;
    }
    eprintln!("{}", summary_line(&counts));
    Ok(engine)
}

/// The source name of a replayed event file, in its checkpoint and archive.
fn file_source(events: &std::path::Path) -> String {
    format!("file:{}", events.display())
}

/// The state directory a replay leaves for `leaderboard sql`: the archive and a checkpoint.
struct KeptState {
    dir: PathBuf,
    store: analytics::CheckpointStore,
    archive: std::sync::Arc<analytics::Archive>,
}

impl KeptState {
    fn open(dir: &std::path::Path, events: &std::path::Path) -> Result<Self> {
        let store = analytics::CheckpointStore::open(dir)?;
        if store.path().exists() {
            bail!(
                "{} already holds a checkpoint: a replay starts from nothing, so give it an empty --state-dir",
                dir.display()
            );
        }
        let archive =
            leaderboard::sql::open_archive(dir, &file_source(events), &Default::default())?;
        Ok(Self {
            dir: dir.into(),
            store,
            archive: std::sync::Arc::new(archive),
        })
    }

    fn save(
        self,
        engine: &analytics::Engine,
        events: &std::path::Path,
        org: &std::path::Path,
    ) -> Result<()> {
        let state = engine.state();
        self.archive.flush(&state.arrival.positions())?;
        let bytes = analytics::CheckpointStore::encode(
            &file_source(events),
            &analytics::state_settings(engine.config()),
            state,
            chrono::Utc::now().timestamp_millis(),
        );
        self.store.write(&bytes)?;
        leaderboard::sql::keep_organisation(&self.dir, org)
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(out.flush()?)
}

fn print_scorecard(card: &Scorecard, format: Format) -> Result<()> {
    match format {
        Format::Json => print_json(card),
        Format::Table => {
            print!("{}", leaderboard::table::render(card));
            Ok(())
        }
    }
}

async fn simulate(args: &SimulateArgs) -> Result<()> {
    if args.branches == 0 || args.users_per_branch == 0 || args.days == 0 {
        bail!("--branches, --users-per-branch and --days must be at least 1");
    }
    let spec = ingest::simulate::SimulationSpec {
        from: args.from,
        days: args.days,
        branches: args.branches,
        users_per_branch: args.users_per_branch,
        seed: args.seed,
        zone: chrono_tz::Asia::Shanghai,
    };
    if let Some(org) = &args.org_out {
        std::fs::write(org, ingest::simulate::organisation_csv(args.branches))
            .with_context(|| format!("cannot write {}", org.display()))?;
    }
    match (&args.out, &args.brokers) {
        (Some(out), _) => simulate_to_file(&spec, out),
        (None, Some(brokers)) => {
            let traffic = LiveTraffic {
                brokers: brokers.clone(),
                topic: args.topic.clone(),
                partitions: args.partitions,
                rate: args.rate,
            };
            let sent = simulate_into_kafka(spec, &traffic).await?;
            eprintln!("sent {sent} events to {}", args.topic);
            Ok(())
        }
        (None, None) => bail!("pass --out FILE or --brokers HOST:PORT"),
    }
}

fn simulate_to_file(spec: &ingest::SimulationSpec, out_path: &std::path::Path) -> Result<()> {
    let file = std::fs::File::create(out_path)
        .with_context(|| format!("cannot create {}", out_path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut error = None;
    ingest::simulate::simulate(spec, |event| {
        if error.is_some() {
            return;
        }
        let line = schemas::encode_event(&event, spec.zone);
        if let Err(e) = serde_json::to_writer(&mut out, &line)
            .map_err(anyhow::Error::from)
            .and_then(|_| Ok(out.write_all(b"\n")?))
        {
            error = Some(e);
        }
        written += 1;
    });
    if let Some(e) = error {
        return Err(e.context(format!("writing {}", out_path.display())));
    }
    out.flush()?;
    eprintln!("wrote {written} events to {}", out_path.display());
    Ok(())
}

/// Turns transparent huge pages off for this process. mimalloc gives freed memory back to the kernel in
/// pieces smaller than a huge page, and with THP on the next use of such a range faults in and zeroes a
/// whole fresh 2 MiB page: the Kafka pipeline spent half its time in the kernel zeroing pages and reached
/// 40 % of raw consumption instead of 90 % (docs/BENCHMARKS.md).
fn disable_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
        let status = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        if status != 0 {
            eprintln!(
                "leaderboard: cannot turn transparent huge pages off: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

fn main() -> Result<()> {
    disable_transparent_huge_pages();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // SQL statements are parsed and planned here (then run on the query threads): room for deep ones.
        .thread_stack_size(leaderboard::sql::limits::QUERY_THREAD_STACK_BYTES)
        .build()
        .context("cannot start the async runtime")?
        .block_on(run())
}

async fn run() -> Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,leaderboard=info".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Replay(args) => {
            let engine = replay(&args).await?;
            let card = engine
                .scorecard(args.period, args.users)
                .with_context(|| scoring_failed(&args))?;
            print_scorecard(&card, args.format)
        }
        Command::Rewards(args) => {
            let engine = replay(&args).await?;
            let rewards = engine
                .rewards(args.period)
                .with_context(|| scoring_failed(&args))?;
            print_json(&rewards)
        }
        Command::Simulate(args) => simulate(&args).await,
        Command::Serve(args) => serve(&args).await,
        Command::Demo(args) => demo(&args).await,
        Command::Sql(args) => sql(&args).await,
        Command::Produce(args) => {
            let sent = produce(&args).await?;
            eprintln!("produced {sent} messages to {}", args.topic);
            Ok(())
        }
    }
}
