//! Replays an NDJSON event file through the live engine: read in batches on one thread, decoded on all
//! cores, processed in order on the engine; rejected lines optionally written out with their reasons.

use analytics::{Archive, ArchiveRows, Counts, Disposition, Engine};
use anyhow::{Context, Result};
use ingest::{DecodedBatch, NdjsonReader, decode_batch};
use schemas::{Config, Organisation, TimeBounds};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Messages per micro-batch unless `--batch-size` says otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 16_384;

/// How a replay runs.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The event file (NDJSON).
    pub events: PathBuf,
    /// Where to write rejected lines with their reasons, if anywhere.
    pub rejects: Option<PathBuf>,
    /// Messages per micro-batch.
    pub batch_size: usize,
    /// Show progress on stderr when it is a terminal and the replay takes over a second.
    pub progress: bool,
    /// Where to archive the events (for `leaderboard sql`), if anywhere.
    pub archive: Option<Arc<Archive>>,
    /// Where to write the moments (NDJSON), if anywhere.
    pub moments: Option<PathBuf>,
}

/// Rows archived between two flushes of a replay's archive.
const ARCHIVE_FLUSH_ROWS: usize = 2_000_000;

/// Archives a replay's batches on a thread of its own, so the engine does not wait for the conversion.
struct ReplayArchiver {
    batches: std::sync::mpsc::SyncSender<(DecodedBatch, Vec<Disposition>)>,
    thread: std::thread::JoinHandle<Result<()>>,
}

impl ReplayArchiver {
    fn start(archive: Arc<Archive>, calendar: schemas::LocalCalendar) -> Self {
        let (batches, received) =
            std::sync::mpsc::sync_channel::<(DecodedBatch, Vec<Disposition>)>(2);
        let thread = std::thread::spawn(move || {
            let mut dates = schemas::LocalDates::new(calendar);
            let mut waiting = 0;
            for (batch, dispositions) in received {
                let Some(last) = batch.messages.last() else {
                    continue;
                };
                let next = BTreeMap::from([(last.partition, last.offset + 1)]);
                let rows = ArchiveRows::build(
                    &batch.messages,
                    &dispositions,
                    &batch.rejected_payloads,
                    chrono::Utc::now().timestamp_millis(),
                    &mut dates,
                )?;
                waiting += rows.len();
                archive.append(rows);
                if waiting >= ARCHIVE_FLUSH_ROWS {
                    archive.flush(&next)?;
                    waiting = 0;
                }
            }
            Ok(())
        });
        Self { batches, thread }
    }

    fn send(&self, batch: DecodedBatch, dispositions: Vec<Disposition>) -> Result<()> {
        self.batches
            .send((batch, dispositions))
            .map_err(|_| anyhow::anyhow!("the archive thread stopped"))
    }

    fn finish(self) -> Result<()> {
        drop(self.batches);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the archive thread panicked"))?
            .context("cannot write the event archive")
    }
}

/// Builds an engine from an optional config file and the organisation file.
pub fn load_engine(config: Option<&Path>, org: &Path) -> Result<Engine> {
    let config = Config::from_file_or_default(config)?;
    let org = load_organisation(org)?;
    Ok(Engine::new(Arc::new(config), Arc::new(org)))
}

/// Reads the organisation file (docs/operations.md#organisation-file).
pub fn load_organisation(path: &Path) -> Result<Organisation> {
    let file = File::open(path)
        .with_context(|| format!("cannot open organisation file {}", path.display()))?;
    Ok(Organisation::from_csv(file)?)
}

/// Writes each rejected line as `{"line", "kind", "field", "reason", "raw"}`, plus `raw_hex` with the exact
/// bytes when the line is not UTF-8.
struct RejectWriter {
    out: BufWriter<File>,
}

impl RejectWriter {
    fn write(&mut self, batch: &DecodedBatch) -> Result<()> {
        for (i, payload) in &batch.rejected_payloads {
            let message = &batch.messages[*i];
            let Err(rejection) = &message.decoded else {
                continue;
            };
            let mut row = serde_json::json!({
                "line": message.offset + 1,
                "kind": rejection.kind.as_str(),
                "field": rejection.field,
                "reason": rejection.reason,
                "raw": String::from_utf8_lossy(payload),
            });
            if std::str::from_utf8(payload).is_err() {
                // The lossy text cannot give the bytes back; this can.
                row["raw_hex"] = payload
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
                    .into();
            }
            serde_json::to_writer(&mut self.out, &row)?;
            self.out.write_all(b"\n")?;
        }
        Ok(())
    }
}

/// A progress bar that appears only on a terminal, and only once the replay has run for a second.
struct Progress {
    enabled: bool,
    started: Instant,
    total_bytes: u64,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(enabled: bool, total_bytes: u64) -> Self {
        Self {
            enabled: enabled && std::io::stderr().is_terminal(),
            started: Instant::now(),
            total_bytes,
            bar: None,
        }
    }

    fn update(&mut self, bytes: u64) {
        if !self.enabled || self.started.elapsed() < Duration::from_secs(1) {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(self.total_bytes);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("valid template"),
            );
            bar
        });
        bar.set_position(bytes);
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The front end of a replay: the event file read in batches on a thread of its own, each batch decoded on
/// the decoding pool as it is read, handed over in file order with the bytes read so far.
pub struct DecodedFile {
    /// The decoded batches, in file order, with the bytes read when each was; an error ends them.
    pub batches: tokio::sync::mpsc::Receiver<std::io::Result<(DecodedBatch, u64)>>,
    thread: std::thread::JoinHandle<()>,
}

impl DecodedFile {
    /// Starts reading `file` in batches of `batch_size` lines (at least one), accepting the `occurred_at`
    /// that `config` finds plausible. The file is mapped, so nobody may write to or truncate it while the
    /// batches are read (docs/operations.md#replay).
    pub fn start(file: File, batch_size: usize, config: &Config) -> Self {
        let earliest = config.time_bounds(0).earliest;
        let (tx, batches) = tokio::sync::mpsc::channel(2);
        let batch_size = batch_size.max(1);
        let thread = std::thread::spawn(move || {
            // SAFETY: the event file is the operator's own input, which a replay documents must not be
            // written to or truncated while it runs (docs/operations.md#replay); a pipe or other stream is read
            // instead.
            let mut reader = unsafe { NdjsonReader::mapped(file, 0) };
            loop {
                let raw = match reader.next_batch(batch_size) {
                    Ok(raw) => raw,
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                };
                if raw.is_empty() {
                    return;
                }
                let bounds = TimeBounds {
                    earliest,
                    now: chrono::Utc::now().timestamp_millis(),
                };
                if tx
                    .blocking_send(Ok((decode_batch(raw, bounds), reader.bytes_read())))
                    .is_err()
                {
                    return;
                }
            }
        });
        Self { batches, thread }
    }

    /// Waits for the reading thread once the batches are taken (or given up on).
    pub fn finish(self) -> Result<()> {
        drop(self.batches);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the file reader thread panicked"))
    }
}

/// Feeds the file through `engine`; returns the counts of this replay.
pub async fn replay_file(engine: &mut Engine, options: &ReplayOptions) -> Result<Counts> {
    let file = File::open(&options.events)
        .with_context(|| format!("cannot open event file {}", options.events.display()))?;
    let total_bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut rejects = match &options.rejects {
        Some(path) => Some(RejectWriter {
            out: BufWriter::new(
                File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
            ),
        }),
        None => None,
    };
    let mut decoded = DecodedFile::start(file, options.batch_size, engine.config());
    let archiver = options
        .archive
        .clone()
        .map(|archive| ReplayArchiver::start(archive, *engine.calendar()));
    let mut moments = match &options.moments {
        Some(path) => Some(MomentWriter::create(path, engine.config())?),
        None => None,
    };
    let mut counts = Counts::default();
    let mut progress = Progress::new(options.progress, total_bytes);
    while let Some(next) = decoded.batches.recv().await {
        let (batch, bytes) =
            next.with_context(|| format!("reading {}", options.events.display()))?;
        if let Some(rejects) = &mut rejects {
            rejects.write(&batch)?;
        }
        let dispositions = match &mut moments {
            Some(moments) => moments.process(engine, &batch.messages).await?,
            None => engine.process(&batch.messages).await?,
        };
        for disposition in &dispositions {
            counts.record(*disposition);
        }
        match &archiver {
            Some(archiver) => archiver.send(batch, dispositions)?,
            None => batch.release(),
        }
        progress.update(bytes);
    }
    if let Some(archiver) = archiver {
        archiver.finish()?;
    }
    progress.finish();
    decoded.finish()?;
    if let Some(mut rejects) = rejects {
        rejects.out.flush()?;
    }
    if let Some(moments) = moments {
        moments.finish()?;
    }
    Ok(counts)
}

/// Judges the moments of a replay at every step and writes them out, one JSON object per line.
struct MomentWriter {
    moments: analytics::Moments,
    path: PathBuf,
    out: BufWriter<File>,
}

impl MomentWriter {
    fn create(path: &Path, config: &Config) -> Result<Self> {
        let out =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self {
            moments: analytics::Moments::new(config),
            path: path.to_path_buf(),
            out: BufWriter::new(out),
        })
    }

    /// Processes a batch into the engine, writing the moments it makes.
    async fn process(
        &mut self,
        engine: &mut Engine,
        messages: &[schemas::Message],
    ) -> Result<Vec<Disposition>> {
        let (dispositions, moments) = self
            .moments
            .process(engine, messages, analytics::Judging::EveryStep)
            .await?;
        for moment in &moments {
            let mut line = serde_json::to_vec(moment).context("cannot encode a moment")?;
            line.push(b'\n');
            self.out
                .write_all(&line)
                .with_context(|| format!("cannot write to {}", self.path.display()))?;
        }
        Ok(dispositions)
    }

    fn finish(mut self) -> Result<()> {
        self.out
            .flush()
            .with_context(|| format!("cannot write to {}", self.path.display()))
    }
}

/// The one-line summary printed on stderr after a replay.
pub fn summary_line(counts: &Counts) -> String {
    format!(
        "accepted={} duplicate={} late={} rejected={}",
        counts.accepted, counts.duplicate, counts.late, counts.rejected
    )
}
