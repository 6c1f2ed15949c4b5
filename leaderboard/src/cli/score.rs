//! `leaderboard replay` and `leaderboard rewards`: an event file scored by the engine the live pipeline
//! uses, printed as JSON or as a table for people.

use crate::cli::replay::{
    DEFAULT_BATCH_SIZE, ReplayOptions, load_engine, replay_file, summary_line,
};
use crate::cli::table;
use analytics::{Engine, PeriodSpec};
use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a result is printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// JSON.
    Json,
    /// Aligned tables with names, for people.
    Table,
}

/// What both commands score: the files, the period, and where to keep what they read.
#[derive(clap::Args)]
pub struct ScoreInput {
    /// Organisation file: CSV with header branch_id,branch_name,in_scope.
    #[arg(long)]
    pub org: PathBuf,
    /// Event file: one JSON event per line.
    #[arg(long)]
    pub events: PathBuf,
    /// Configuration file (TOML); the defaults of docs/configuration.md when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// YYYY-MM, YYYY-Qn or assessment.
    #[arg(long, value_parser = parse_period)]
    pub period: PeriodSpec,
    /// Write each rejected line with its reason as NDJSON here.
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Keep the state and the event archive here, for `leaderboard sql` (an empty or new directory).
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Write the moments the wall screens would have shown (overtakes, tiers, login days, quote targets,
    /// months closing) here, one JSON object per line, in order (docs/websocket.md#moments).
    #[arg(long)]
    pub moments: Option<PathBuf>,
    /// Messages per micro-batch (results never depend on it). Small enough that a batch's decoded messages
    /// (about 3 MiB) are still cached when the engine reads them, and that the first batch's decoding and
    /// the last one's processing, which nothing overlaps, are short; large enough that the per-batch work
    /// (running the aggregate, handing batches between threads) stays a small share (docs/BENCHMARKS.md:
    /// 16,384 against 4,096 to 131,072).
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, hide = true)]
    pub batch_size: usize,
    /// Keep no day-by-day history (its cost is measured this way in docs/BENCHMARKS.md; the scorecard is the
    /// same).
    #[arg(long, hide = true)]
    pub without_day_history: bool,
}

/// The arguments of `replay`.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The files and the period.
    #[command(flatten)]
    pub input: ScoreInput,
    /// Include per-user rows under "users".
    #[arg(long)]
    pub users: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// The arguments of `rewards`.
#[derive(clap::Args)]
pub struct RewardsArgs {
    /// The files and the period.
    #[command(flatten)]
    pub input: ScoreInput,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

fn parse_period(s: &str) -> Result<PeriodSpec, String> {
    s.parse()
}

/// Runs `replay`: prints the period's scorecard.
pub async fn replay(args: &ReplayArgs) -> Result<()> {
    let engine = score(&args.input).await?;
    let card = engine
        .scorecard(args.input.period, args.users)
        .with_context(|| scoring_failed(&args.input))?;
    match args.format {
        Format::Json => print_json(&card),
        Format::Table => print_text(&table::render(&card)),
    }
}

/// Runs `rewards`: prints the rewards of the period's months and the assessment's branch awards.
pub async fn rewards(args: &RewardsArgs) -> Result<()> {
    let engine = score(&args.input).await?;
    let rewards = engine
        .rewards(args.input.period)
        .with_context(|| scoring_failed(&args.input))?;
    match args.format {
        Format::Json => print_json(&rewards),
        Format::Table => print_text(&table::render_rewards(&rewards)),
    }
}

/// What a replay says when its events cannot be scored (none accepted, or a period outside the
/// assessment), before the engine's reason.
fn scoring_failed(input: &ScoreInput) -> String {
    format!("cannot score the events of {}", input.events.display())
}

/// Replays the event file into a new engine; prints the summary line and a warning for each branch the
/// organisation file does not name.
async fn score(input: &ScoreInput) -> Result<Engine> {
    let mut engine = load_engine(input.config.as_deref(), &input.org)?;
    if input.without_day_history {
        engine.keep_no_day_history();
    }
    let kept = match &input.state_dir {
        Some(dir) => Some(KeptState::open(dir, &input.events)?),
        None => None,
    };
    let options = ReplayOptions {
        events: input.events.clone(),
        rejects: input.rejects.clone(),
        batch_size: input.batch_size,
        progress: true,
        archive: kept.as_ref().map(|k| k.archive.clone()),
        moments: input.moments.clone(),
    };
    let counts = replay_file(&mut engine, &options).await?;
    if let Some(kept) = kept {
        kept.save(&engine, &input.events, &input.org)?;
    }
    eprintln!("{}", summary_line(&counts));
    for branch in engine.unknown_branches() {
        eprintln!(
            "warning: branch {branch} is not in {}: its events are scored as out of scope (不参评)",
            input.org.display()
        );
    }
    Ok(engine)
}

/// The source name of a replayed event file, in its checkpoint and archive.
fn file_source(events: &Path) -> String {
    format!("file:{}", events.display())
}

/// The state directory a replay leaves for `leaderboard sql`: the archive and a checkpoint.
struct KeptState {
    dir: PathBuf,
    store: analytics::CheckpointStore,
    archive: Arc<analytics::Archive>,
}

impl KeptState {
    fn open(dir: &Path, events: &Path) -> Result<Self> {
        let store = analytics::CheckpointStore::open(dir)?;
        if store.path().exists() {
            bail!(
                "{} already holds a checkpoint: a replay starts from nothing, so give it an empty --state-dir",
                dir.display()
            );
        }
        let archive = crate::sql::open_archive(dir, &file_source(events), &Default::default())?;
        Ok(Self {
            dir: dir.into(),
            store,
            archive: Arc::new(archive),
        })
    }

    fn save(self, engine: &Engine, events: &Path, org: &Path) -> Result<()> {
        let state = engine.state();
        self.archive.flush(&state.positions())?;
        let bytes = analytics::CheckpointStore::encode(
            &file_source(events),
            &analytics::state_settings(engine.config()),
            state,
            chrono::Utc::now().timestamp_millis(),
        );
        self.store.write(&bytes)?;
        crate::sql::keep_organisation(&self.dir, org)
    }
}

fn print_json(value: &impl serde::Serialize) -> Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(out.flush()?)
}

fn print_text(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    Ok(out.flush()?)
}
