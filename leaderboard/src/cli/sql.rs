//! `leaderboard sql "SELECT …"`: one query over a state directory's archive and last checkpoint, with no
//! server running (a running one may keep writing; the query sees its last checkpoint).

use crate::cli::replay::load_organisation;
use crate::live::Live;
use crate::sql::{SqlEngine, archive_dir, encode, organisation_copy};
use analytics::{Archive, Engine, read_checkpoint, state_settings};
use anyhow::{Context, Result, bail};
use schemas::Config;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// How the result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlFormat {
    /// An aligned table, for people.
    Table,
    /// CSV with a header line.
    Csv,
    /// `{"columns", "rows", "row_count"}`, as `POST /api/v1/sql` answers.
    Json,
}

/// Flags of `sql`.
#[derive(Debug, Clone, clap::Args)]
pub struct SqlArgs {
    /// One read-only statement (SELECT, EXPLAIN, SHOW or DESCRIBE).
    pub query: String,
    /// State directory (checkpoint and archive); overrides `server.state_dir`.
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Configuration file (TOML); the defaults of docs/configuration.md when absent.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Organisation file; default `server.org`, else the copy the pipeline keeps in the state directory.
    #[arg(long)]
    pub org: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SqlFormat::Table)]
    pub format: SqlFormat,
}

/// Runs the query and prints the result on stdout.
pub async fn sql(args: &SqlArgs) -> Result<()> {
    let config = Config::from_file_or_default(args.config.as_deref())?;
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| config.server.state_dir.clone());
    let engine = open_offline(config, &state_dir, args.org.clone())?;
    // On a worker thread, whose stack has room for deep statements (the main thread's has not).
    let query = args.query.clone();
    let result = tokio::spawn(async move { engine.query(&query, usize::MAX).await })
        .await
        .context("the query task failed")??;
    let bytes = match args.format {
        SqlFormat::Table => {
            let mut text = arrow::util::pretty::pretty_format_batches(&result.batches)?.to_string();
            text.push('\n');
            text.into_bytes()
        }
        SqlFormat::Csv => encode::encode_csv(&result)?,
        SqlFormat::Json => {
            let mut json = encode::encode_json(&result)?;
            json.push(b'\n');
            json
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    Ok(out.flush()?)
}

/// The SQL engine over `state_dir`'s last checkpoint and archive, as `leaderboard sql` queries it. The
/// organisation file is `org`, else `server.org`, else the copy the pipeline keeps in the state directory.
pub fn open_offline(
    config: Config,
    state_dir: &std::path::Path,
    org: Option<PathBuf>,
) -> Result<Arc<SqlEngine>> {
    let Some(checkpoint) = read_checkpoint(state_dir)? else {
        bail!(
            "no checkpoint in {}: nothing to query (run `leaderboard serve` or `leaderboard replay --state-dir` first, or pass --state-dir)",
            state_dir.display()
        );
    };
    let settings = state_settings(&config);
    if checkpoint.settings != settings {
        bail!(
            "the checkpoint in {} was written with {}, the configuration says {settings}: pass the --config it was written with",
            state_dir.display(),
            checkpoint.settings
        );
    }
    let org_path = org
        .or_else(|| config.server.org.clone())
        .unwrap_or_else(|| organisation_copy(state_dir));
    let org = load_organisation(&org_path)?;
    let config = Arc::new(config);
    let engine = Engine::restore(config.clone(), Arc::new(org), checkpoint.state);
    let archive = Arc::new(
        Archive::read_only(&archive_dir(state_dir), &engine.state().positions())
            .context("cannot read the event archive")?,
    );
    let live = Arc::new(Live::new(engine));
    Ok(Arc::new(SqlEngine::new(&config.sql, &live, &archive)?))
}
