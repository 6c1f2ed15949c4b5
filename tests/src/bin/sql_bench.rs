//! Times the ad hoc queries of `scripts/sql-bench-queries.sql` on a state directory's event archive
//! through the same SQL engine `psql` and `POST /api/v1/sql` use (limits included), and prints one line
//! per query: its name, the median of RUNS runs and the rows returned.
//!
//! Usage: `sql_bench STATE_DIR QUERIES_FILE [RUNS]` (default 5 runs).

use anyhow::{Context, Result};
use std::time::Instant;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (state_dir, queries) = match (args.get(1), args.get(2)) {
        (Some(state), Some(queries)) => (state.clone(), queries.clone()),
        _ => anyhow::bail!("usage: sql_bench STATE_DIR QUERIES_FILE [RUNS]"),
    };
    let runs: usize = args.get(3).map_or(Ok(5), |r| r.parse())?;
    let text = std::fs::read_to_string(&queries).with_context(|| format!("reading {queries}"))?;
    let mut config = schemas::Config::default();
    config.sql.timeout_secs = 600;
    config.sql.memory_limit_mb = 4096;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let engine =
            leaderboard::cli::sql::open_offline(config, std::path::Path::new(&state_dir), None)?;
        for (name, sql) in split_queries(&text) {
            let mut times = Vec::with_capacity(runs);
            let mut rows = 0;
            for _ in 0..runs {
                let started = Instant::now();
                let result = engine.query(&sql, usize::MAX).await?;
                times.push(started.elapsed().as_secs_f64());
                rows = result.batches.iter().map(|b| b.num_rows()).sum::<usize>();
            }
            times.sort_by(f64::total_cmp);
            let shown: Vec<String> = times.iter().map(|t| format!("{t:.3}")).collect();
            println!(
                "leaderboard {name}: median {:.3}s of {} (runs {}), {rows} rows",
                times[times.len() / 2],
                runs,
                shown.join(" ")
            );
        }
        Ok(())
    })
}

/// `(name, statement)` of each `-- name` comment and the statement after it, up to its `;`.
fn split_queries(text: &str) -> Vec<(String, String)> {
    let mut queries = Vec::new();
    let mut name = String::new();
    let mut sql = String::new();
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("-- ") {
            name = comment.trim().to_string();
            continue;
        }
        sql.push_str(line);
        sql.push('\n');
        if line.trim_end().ends_with(';') {
            let statement = sql.trim().trim_end_matches(';').to_string();
            queries.push((std::mem::take(&mut name), statement));
            sql.clear();
        }
    }
    queries
}
