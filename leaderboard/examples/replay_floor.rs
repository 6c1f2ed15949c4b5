//! The least a replay costs with the present reader, decoder and event type: the replay's own reading and
//! decoding ([`DecodedFile`], as `leaderboard replay` runs it), with the engine replaced by nothing
//! (`decode`) or by the engine's arrival pass alone (`arrival`: offsets, watermarks and month closing, and
//! the dedupe set with the engine's look-ahead; every event deduplicated in its own month, where the engine
//! moves a late state change to the first open one), so no entity state, fact rows or aggregate. docs/BENCHMARKS.md (Replay) compares it with DuckDB's five-column query.
//!
//!     cargo run --release --example replay_floor -- EVENTS.ndjson decode|arrival

use analytics::{ArrivalPass, Fingerprint, WARM_AHEAD};
use anyhow::{Context, Result, bail};
use leaderboard::cli::replay::{DEFAULT_BATCH_SIZE, DecodedFile};
use schemas::{Config, LocalCalendar, LocalDates, YearMonth};
use std::fs::File;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(mode)) = (args.next(), args.next()) else {
        bail!("usage: replay_floor EVENTS.ndjson decode|arrival");
    };
    let arrival_too = match mode.as_str() {
        "decode" => false,
        "arrival" => true,
        other => bail!("the mode is decode or arrival, not {other}"),
    };
    let file = File::open(&path).with_context(|| format!("cannot open {path}"))?;
    let config = Config::default();
    let mut decoded = DecodedFile::start(file, DEFAULT_BATCH_SIZE, &config);
    let calendar = LocalCalendar::new(config.timezone);
    let mut dates = LocalDates::new(calendar);
    let mut arrival = ArrivalPass::for_config(&config, calendar);
    let (mut events, mut duplicates) = (0u64, 0u64);
    let mut ids = Vec::with_capacity(WARM_AHEAD);
    while let Some(next) = decoded.batches.blocking_recv() {
        let (batch, _) = next.with_context(|| format!("reading {path}"))?;
        for chunk in batch.messages.chunks(WARM_AHEAD) {
            events += chunk.iter().filter(|m| m.decoded.is_ok()).count() as u64;
            if !arrival_too {
                continue;
            }
            // As the engine does: the chunk's fingerprints first, their lines loaded together.
            ids.clear();
            ids.extend(chunk.iter().map(|m| {
                m.decoded
                    .as_ref()
                    .ok()
                    .map(|event| Fingerprint::of(&event.event_id))
            }));
            arrival.warm(ids.iter().flatten().copied());
            for (message, id) in chunk.iter().zip(&ids) {
                arrival.saw_offset(message.partition, message.offset);
                let (Ok(event), Some(id)) = (&message.decoded, id) else {
                    continue;
                };
                let month = YearMonth::of_date(dates.local_date(event.occurred_at));
                if arrival.is_duplicate(*id, month) {
                    duplicates += 1;
                }
                arrival.advance(message.partition, event.occurred_at);
            }
        }
        batch.release();
    }
    decoded.finish()?;
    eprintln!("events={events} duplicates={duplicates}");
    Ok(())
}
