//! `leaderboard`: the command-line front end. Each subcommand is a thin layer over the library crates.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use leaderboard::cli::demo::{DemoArgs, demo};
use leaderboard::cli::produce::{ProduceArgs, produce};
use leaderboard::cli::score::{ReplayArgs, RewardsArgs, replay, rewards};
use leaderboard::cli::serve::{ServeArgs, serve};
use leaderboard::cli::simulate::{SimulateArgs, simulate};
use leaderboard::cli::sql::{SqlArgs, sql};
use leaderboard::cli::sql_password::sql_password;
use std::io::IsTerminal;
use std::process::ExitCode;

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
    /// The rewards of a period from an event file: branch awards, specialist bonuses, salesperson payouts.
    Rewards(RewardsArgs),
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
    /// Print the SCRAM-SHA-256 verifier of the password on stdin, for `password` in [[sql.users]]
    /// (`echo 'the-password' | leaderboard sql-password`).
    SqlPassword,
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

/// Runs the command; a failure is one line on stderr (the error and its causes, never a backtrace: it is
/// the user's to act on) and exit status 1.
fn main() -> ExitCode {
    disable_transparent_huge_pages();
    let cli = Cli::parse();
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // SQL statements are parsed and planned here (then run on the query threads): room for deep ones.
        .thread_stack_size(leaderboard::sql::limits::QUERY_THREAD_STACK_BYTES)
        .build()
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(cli.command)));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leaderboard: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> Result<()> {
    let stderr = std::io::stderr();
    tracing_subscriber::fmt()
        .with_ansi(stderr.is_terminal())
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "warn,leaderboard=info".into()),
        )
        .init();
    match command {
        Command::Replay(args) => replay(&args).await,
        Command::Rewards(args) => rewards(&args).await,
        Command::Simulate(args) => simulate(&args).await,
        Command::Serve(args) => serve(&args).await,
        Command::Demo(args) => demo(&args).await,
        Command::Sql(args) => sql(&args).await,
        Command::SqlPassword => sql_password(),
        Command::Produce(args) => {
            let sent = produce(&args).await?;
            eprintln!("produced {sent} messages to {}", args.topic);
            Ok(())
        }
    }
}
