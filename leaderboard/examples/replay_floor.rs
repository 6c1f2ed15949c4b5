//! The least a replay costs with the present reader, decoder and event type: the replay's own reading and
//! decoding (the same threads, batch size and hand-over as `leaderboard replay`), with the engine replaced
//! by nothing (`decode`) or by the engine's arrival pass alone (`arrival`: offsets, watermarks and month
//! closing, and the dedupe set, exactly as the engine calls them), so no entity state, fact rows or
//! aggregate. docs/BENCHMARKS.md (session 21) compares it with DuckDB's query of issue 2.
//!
//!     cargo run --release --example replay_floor -- EVENTS.ndjson decode|arrival

use analytics::{ArrivalPass, Fingerprint};
use anyhow::{Context, Result, bail};
use ingest::{NdjsonReader, decode_batch};
use schemas::{Config, LocalCalendar, LocalDates, YearMonth};
use std::fs::File;

/// Messages per micro-batch, as `leaderboard replay` reads them by default.
const BATCH: usize = 16_384;

/// Messages whose dedupe lines are loaded together, as the engine's look-ahead does.
const WARM_AHEAD: usize = 256;

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
    let (batches, received) = std::sync::mpsc::sync_channel(2);
    let reader = std::thread::spawn(move || -> std::io::Result<()> {
        // SAFETY: a benchmark input nobody writes to while it runs.
        let mut reader = unsafe { NdjsonReader::mapped(file, 0) };
        loop {
            let raw = reader.next_batch(BATCH)?;
            if raw.is_empty() || batches.send(decode_batch(raw, i64::MAX / 2)).is_err() {
                return Ok(());
            }
        }
    });
    // The arrival pass as `Engine::new` makes it from the default configuration.
    let config = Config::default();
    let calendar = LocalCalendar::new(config.timezone);
    let mut dates = LocalDates::new(calendar);
    let mut arrival = ArrivalPass::new(
        calendar,
        config.watermark_delay_secs as i64 * 1000,
        i64::from(config.grace_days) * 86_400_000,
    );
    let (mut events, mut duplicates) = (0u64, 0u64);
    let mut ids = Vec::with_capacity(WARM_AHEAD);
    for batch in received {
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
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?
        .with_context(|| format!("reading {path}"))?;
    eprintln!("events={events} duplicates={duplicates}");
    Ok(())
}
