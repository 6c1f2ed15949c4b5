//! What the day-by-day history (docs/scoring.md#day-by-day-history) costs in memory and what answering it
//! costs in time, after replaying an event file: the person-days and branch-days held and their bytes, per
//! active person-day (a day a person logged in or had something counted), and how long
//! `Figures::history` takes for each month, alone and with its JSON (what `GET /api/v1/history` does). docs/BENCHMARKS.md (Day-by-day history) reports it.
//!
//!     cargo run --release --example history_cost -- ORG.csv EVENTS.ndjson

use anyhow::{Result, bail};
use leaderboard::cli::replay::{DEFAULT_BATCH_SIZE, ReplayOptions, load_engine, replay_file};
use std::path::PathBuf;
use std::time::Instant;

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(org), Some(events)) = (args.next(), args.next()) else {
        bail!("usage: history_cost ORG.csv EVENTS.ndjson");
    };
    let mut engine = load_engine(None, &PathBuf::from(org))?;
    let options = ReplayOptions {
        events: PathBuf::from(events),
        rejects: None,
        batch_size: DEFAULT_BATCH_SIZE,
        progress: false,
        archive: None,
        moments: None,
    };
    replay_file(&mut engine, &options).await?;
    let state = engine.state();
    let footprint = state.daily().footprint();
    // Active person-days: the days of each person-month with a login or something counted.
    let mut active = 0u64;
    for (key, counter) in &state.counters().by_user {
        let mut days = counter.login_days;
        for day in state.daily().by_user.get(key).into_iter().flatten() {
            days |= 1 << (day.day - 1);
        }
        active += u64::from(days.count_ones());
    }
    for (key, person_days) in &state.daily().by_user {
        if !state.counters().by_user.contains_key(key) {
            active += person_days.len() as u64;
        }
    }
    println!(
        "person-days held {}, {:.1} MiB; active person-days {active}: {:.1} bytes each",
        footprint.person_days,
        footprint.person_bytes as f64 / (1 << 20) as f64,
        footprint.person_bytes as f64 / active as f64
    );
    println!(
        "branch-days held {}, {:.1} KiB",
        footprint.branch_days,
        footprint.branch_bytes as f64 / 1024.0
    );
    let months = engine
        .resolve_period(analytics::PeriodSpec::Assessment)?
        .range;
    for month in months.months() {
        let (mut times, mut with_json) = (Vec::new(), Vec::new());
        let (mut people, mut bytes) = (0, 0);
        for _ in 0..5 {
            let start = Instant::now();
            let history = engine.history(month, None)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            bytes = serde_json::to_vec(&history)?.len();
            with_json.push(start.elapsed().as_secs_f64() * 1000.0);
            people = history.days.last().map_or(0, |d| d.users.len());
        }
        times.sort_by(f64::total_cmp);
        with_json.sort_by(f64::total_cmp);
        println!(
            "history {month}: {people} people, median of 5 {:.1} ms, {:.1} ms with its JSON ({:.1} MiB)",
            times[2],
            with_json[2],
            bytes as f64 / (1 << 20) as f64
        );
    }
    Ok(())
}
