//! The Parquet archive of every accepted event (and of late events and rejected messages), partitioned by
//! table, local month and source partition, written with the checkpoints so that a restart neither loses
//! nor duplicates a row.
//!
//! Rows of applied micro-batches wait in memory ([`Archive::append`]); SQL sees them there. Before each
//! checkpoint the pipeline calls [`Archive::flush`] with the positions the checkpoint is about to record:
//! each waiting group becomes one file named after the offset range `[last flush, positions)` (written to
//! a temporary name, fsynced and renamed), and only then is the checkpoint written. After a crash,
//! [`Archive::open`] keeps exactly the files the last checkpoint covers ([`files::committed`]). The files
//! past it (all of them when there is no checkpoint) are moved to `aside/<source>/` under the archive (the
//! source that wrote them, kept in the file `SOURCE`), never deleted: their rows are delivered again from
//! the checkpoint's offsets and archived again, and each file set aside is removed only once the pipeline
//! reads the same source and has archived its offset range again. Files of another source, or whose rows
//! the source no longer holds, stay in `aside/`.
//!
//! Each file has a checksum file next to it ([`checksum`]). Opening the archive reads every committed file
//! back against it: a damaged file is moved to `damaged/` with a warning (never deleted, never read by a
//! query or a merge) and counted in [`FlushReport::damaged`]. The figures do not depend on the archive (the
//! checkpoint holds them); a damaged file's rows are missing from the SQL tables of events until it is
//! restored.
//!
//! Many small files are merged into one per group once there are [`MERGE_AT`] of them; the merged file's
//! range covers the originals', which are deleted at the first flush after
//! [`Archive::keep_merged_files_for`] has passed, so a query that listed them before the merge can still
//! read them until its deadline.

mod checksum;
mod files;
mod rows;

pub use files::{ArchiveFile, ArchiveTable, GroupKey};
pub use rows::ArchiveRows;

use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::properties::WriterProperties;
use schemas::PartitionId;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};
use thiserror::Error;

/// Files of one group from which they are merged into one.
pub const MERGE_AT: usize = 24;

/// Files of this size or more are not merged any more.
const MERGE_MAX_BYTES: u64 = 64 << 20;

/// The folder under the archive root where files a checkpoint does not cover wait, one folder per source.
pub const ASIDE_DIR: &str = "aside";

/// The folder under the archive root where files that do not match their checksums are kept.
pub const DAMAGED_DIR: &str = "damaged";

/// The file under the archive root that names the source whose rows the archive holds.
const SOURCE_FILE: &str = "SOURCE";

/// Rows per Parquet row group.
const ROW_GROUP_ROWS: usize = 1 << 20;

/// A problem reading or writing the archive.
#[derive(Debug, Error)]
pub enum ArchiveError {
    /// The file system refused.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A Parquet file could not be written or read.
    #[error("archive file {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: ParquetError,
    },
    /// Rows could not be converted.
    #[error("archive rows: {0}")]
    Arrow(#[from] ArrowError),
}

impl ArchiveError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// What a table holds at one instant: its committed files and the rows not flushed yet.
#[derive(Debug, Clone, Default)]
pub struct TableSnapshot {
    /// The Parquet files.
    pub files: Vec<PathBuf>,
    /// Rows waiting for the next flush.
    pub batches: Vec<RecordBatch>,
}

/// What a flush wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushReport {
    /// Files written (merges included).
    pub files: usize,
    /// Rows written.
    pub rows: usize,
    /// Files still set aside, waiting for the source to give their rows back.
    pub aside: usize,
    /// Files kept in `damaged/` because their bytes do not match their checksums.
    pub damaged: usize,
}

#[derive(Debug, Default)]
struct Inner {
    committed: Vec<ArchiveFile>,
    pending: BTreeMap<GroupKey, Vec<RecordBatch>>,
    flushed_to: BTreeMap<PartitionId, u64>,
    /// Files merged away and when, deleted by a flush once they are old enough.
    obsolete: Vec<(PathBuf, Instant)>,
    /// Files set aside, until the pipeline has archived their offset ranges again.
    aside: Vec<ArchiveFile>,
    /// Files in `damaged/`.
    damaged: usize,
}

/// The archive under one directory.
#[derive(Debug)]
pub struct Archive {
    root: PathBuf,
    writable: bool,
    keep_merged: Duration,
    inner: Mutex<Inner>,
}

impl Archive {
    /// Opens the archive under `root` for the pipeline that resumes at `positions` (the checkpoint's next
    /// offsets; empty without a checkpoint): files past the checkpoint are set aside, merge leftovers
    /// (whose rows a kept file holds) and temporary files are deleted, and the files kept are read back
    /// against their checksums (damaged ones go to `damaged/`; one without a checksum gets one if its
    /// Parquet footer reads).
    pub fn open(
        root: &Path,
        source: &str,
        positions: &BTreeMap<PartitionId, u64>,
    ) -> Result<Self, ArchiveError> {
        fs::create_dir_all(root).map_err(|e| ArchiveError::io("cannot create", root, e))?;
        let source_file = root.join(SOURCE_FILE);
        let previous_source = fs::read_to_string(&source_file).ok();
        let written_by = previous_source.as_deref().map_or("unknown", str::trim);
        let damaged_root = root.join(DAMAGED_DIR);
        // Damaged files go first: a merge leftover is removed only when the file that holds its rows
        // is intact (with that file gone, the leftover is kept again).
        let (listing, kept, dropped) = loop {
            let listing = files::list(root)?;
            let (kept, dropped) = files::committed(listing.files.clone(), positions);
            let mut moved = false;
            for file in &kept {
                if let Some(reason) = checked(&file.path, true)? {
                    tracing::error!(
                        file = %file.path.display(),
                        damaged = %damaged_root.display(),
                        "an archive file does not match its checksum ({reason}); it is moved aside and \
                         its rows are missing from the SQL tables of events until it is restored"
                    );
                    move_under(root, &file.path, &damaged_root)?;
                    moved = true;
                }
            }
            if !moved {
                break (listing, kept, dropped);
            }
        };
        let (past, leftovers): (Vec<_>, Vec<_>) = dropped
            .into_iter()
            .partition(|f| f.to > positions.get(&f.partition).copied().unwrap_or(0));
        for path in leftovers
            .iter()
            .map(|f| &f.path)
            .chain(listing.debris.iter())
        {
            tracing::info!(file = %path.display(), "removing a merge leftover or temporary archive file");
            remove_archive_file(path)?;
        }
        let aside_root = root.join(ASIDE_DIR).join(folder_name(written_by));
        for file in &past {
            tracing::warn!(
                file = %file.path.display(),
                aside = %aside_root.display(),
                "an archive file past the checkpoint is set aside until the source gives its rows back"
            );
            move_under(root, &file.path, &aside_root)?;
        }
        if previous_source.as_deref().map(str::trim) != Some(source) {
            fs::write(&source_file, source)
                .map_err(|e| ArchiveError::io("cannot write", &source_file, e))?;
        }
        let archive = Self::with(root, true, kept, positions.clone());
        archive.lock().aside = files::list(&root.join(ASIDE_DIR).join(folder_name(source)))?.files;
        archive.lock().damaged = files::list(&damaged_root)?.files.len();
        archive.remove_aside_archived_again()?;
        Ok(archive)
    }

    /// Removes the files set aside whose offset ranges have been archived again; returns how many remain.
    fn remove_aside_archived_again(&self) -> Result<usize, ArchiveError> {
        let (done, waiting) = {
            let mut inner = self.lock();
            if inner.aside.is_empty() {
                return Ok(0);
            }
            let (done, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut inner.aside)
                .into_iter()
                .partition(|f| f.to <= inner.flushed_to.get(&f.partition).copied().unwrap_or(0));
            inner.aside = waiting;
            (done, inner.aside.len())
        };
        for file in &done {
            tracing::info!(file = %file.path.display(), "removing a file set aside: its rows are archived again");
            remove_archive_file(&file.path)?;
        }
        Ok(waiting)
    }

    /// The archive under `root` as a checkpoint at `positions` left it, for reading only (another process
    /// may be writing it): nothing is deleted or written, and files that do not match their checksums are
    /// left out with a warning.
    pub fn read_only(
        root: &Path,
        positions: &BTreeMap<PartitionId, u64>,
    ) -> Result<Self, ArchiveError> {
        let (kept, _) = files::committed(files::list(root)?.files, positions);
        let mut intact = Vec::with_capacity(kept.len());
        for file in kept {
            match checked(&file.path, false)? {
                None => intact.push(file),
                Some(reason) => tracing::warn!(
                    file = %file.path.display(),
                    "an archive file does not match its checksum ({reason}); its rows are left out"
                ),
            }
        }
        Ok(Self::with(root, false, intact, positions.clone()))
    }

    fn with(
        root: &Path,
        writable: bool,
        committed: Vec<ArchiveFile>,
        flushed_to: BTreeMap<PartitionId, u64>,
    ) -> Self {
        Self {
            root: root.into(),
            writable,
            keep_merged: Duration::ZERO,
            inner: Mutex::new(Inner {
                committed,
                flushed_to,
                ..Inner::default()
            }),
        }
    }

    /// Keeps files merged away on disk for `keep` (at least; they go at the first flush after it) instead
    /// of deleting them at the next flush: set it to the longest a query may run.
    pub fn keep_merged_files_for(mut self, keep: Duration) -> Self {
        self.keep_merged = keep;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds the rows of an applied micro-batch; they wait for the next flush.
    pub fn append(&self, rows: ArchiveRows) {
        let mut inner = self.lock();
        for (key, batch) in rows.groups {
            if batch.num_rows() > 0 {
                inner.pending.entry(key).or_default().push(batch);
            }
        }
    }

    /// What `table` holds now.
    pub fn snapshot(&self, table: ArchiveTable) -> TableSnapshot {
        let inner = self.lock();
        TableSnapshot {
            files: inner
                .committed
                .iter()
                .filter(|f| f.table == table)
                .map(|f| f.path.clone())
                .collect(),
            batches: inner
                .pending
                .iter()
                .filter(|(key, _)| key.0 == table)
                .flat_map(|(_, batches)| batches.iter().cloned())
                .collect(),
        }
    }

    /// Writes the waiting rows as files ending at `positions` (the next offsets the coming checkpoint
    /// records); call it with no batch in flight, then write the checkpoint. Blocking file I/O.
    pub fn flush(
        &self,
        positions: &BTreeMap<PartitionId, u64>,
    ) -> Result<FlushReport, ArchiveError> {
        if !self.writable {
            return Ok(FlushReport::default());
        }
        let (pending, flushed_to, obsolete) = {
            let mut inner = self.lock();
            let (expired, kept) = std::mem::take(&mut inner.obsolete)
                .into_iter()
                .partition(|(_, merged_at)| merged_at.elapsed() >= self.keep_merged);
            inner.obsolete = kept;
            let expired: Vec<(PathBuf, Instant)> = expired;
            (inner.pending.clone(), inner.flushed_to.clone(), expired)
        };
        for (path, _) in &obsolete {
            remove_archive_file(path)?;
        }
        let mut report = FlushReport::default();
        let mut written = Vec::with_capacity(pending.len());
        let mut dirs = BTreeSet::new();
        for (key, batches) in &pending {
            let from = flushed_to.get(&key.2).copied().unwrap_or(0);
            let to = positions.get(&key.2).copied().unwrap_or(0);
            if to <= from {
                // Cannot happen while flushes follow the pipeline's positions; never write a bad name.
                tracing::error!(
                    ?key,
                    from,
                    to,
                    "archive rows without a new offset range; kept in memory"
                );
                continue;
            }
            let file = ArchiveFile::new(&self.root, key, from, to);
            report.rows += write_parquet(&file.path, key.0, batches.iter().cloned().map(Ok))?;
            report.files += 1;
            dirs.insert(
                file.path
                    .parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
            );
            written.push(file);
        }
        for dir in &dirs {
            sync_dir(dir)?;
        }
        {
            let mut inner = self.lock();
            for file in &written {
                inner.pending.remove(&file.group());
            }
            inner.committed.extend(written);
            for (&partition, &to) in positions {
                let flushed = inner.flushed_to.entry(partition).or_default();
                *flushed = (*flushed).max(to);
            }
        }
        report.files += self.merge_small_files()?;
        report.aside = self.remove_aside_archived_again()?;
        report.damaged = self.lock().damaged;
        Ok(report)
    }

    /// Merges each group's files into one once it has [`MERGE_AT`]; returns the files written.
    fn merge_small_files(&self) -> Result<usize, ArchiveError> {
        let groups: Vec<Vec<ArchiveFile>> = {
            let inner = self.lock();
            let mut by_group: BTreeMap<GroupKey, Vec<ArchiveFile>> = BTreeMap::new();
            for file in &inner.committed {
                by_group.entry(file.group()).or_default().push(file.clone());
            }
            by_group
                .into_values()
                .flat_map(|mut files| {
                    files.sort_by_key(|file| file.from);
                    runs_of_small_files(files)
                })
                .filter(|run| run.len() >= MERGE_AT)
                .collect()
        };
        for files in &groups {
            let from = files.iter().map(|f| f.from).min().unwrap_or(0);
            let to = files.iter().map(|f| f.to).max().unwrap_or(0);
            let merged = ArchiveFile::new(&self.root, &files[0].group(), from, to);
            // Streamed file by file: a merge holds one batch at a time, not the month.
            let batches = files.iter().flat_map(|file| {
                let batches: Box<dyn Iterator<Item = _>> = match parquet_batches(&file.path) {
                    Ok(batches) => Box::new(batches),
                    Err(e) => Box::new(std::iter::once(Err(e))),
                };
                batches
            });
            write_parquet(&merged.path, merged.table, batches)?;
            if let Some(dir) = merged.path.parent() {
                sync_dir(dir)?;
            }
            let mut inner = self.lock();
            inner.committed.retain(|f| !files.contains(f));
            inner.committed.push(merged);
            let merged_at = Instant::now();
            inner
                .obsolete
                .extend(files.iter().map(|f| (f.path.clone(), merged_at)));
        }
        Ok(groups.len())
    }
}

/// The runs of consecutive files (sorted by range) below [`MERGE_MAX_BYTES`]. Files already as large as a
/// merge may make are left alone (merging them again would rewrite the whole month every [`MERGE_AT`]
/// flushes) and end a run: a merged file's range must not cover a file it does not replace.
fn runs_of_small_files(files: Vec<ArchiveFile>) -> Vec<Vec<ArchiveFile>> {
    let mut runs = vec![Vec::new()];
    for file in files {
        let small = fs::metadata(&file.path).is_ok_and(|meta| meta.len() < MERGE_MAX_BYTES);
        match runs.last_mut() {
            Some(run) if small => run.push(file),
            _ => runs.push(Vec::new()),
        }
    }
    runs
}

/// Writes `batches` to `path` through a temporary file, fsynced before the rename, and its checksum file
/// (written first, so a file never lands without one); returns the rows.
fn write_parquet(
    path: &Path,
    table: ArchiveTable,
    batches: impl IntoIterator<Item = Result<RecordBatch, ArchiveError>>,
) -> Result<usize, ArchiveError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir_durably(dir)?;
    let temp = path.with_extension("parquet.tmp");
    let parquet = |source| ArchiveError::Parquet {
        path: path.into(),
        source,
    };
    let file = File::create(&temp).map_err(|e| ArchiveError::io("cannot create", &temp, e))?;
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut writer = ArrowWriter::try_new(
        checksum::Hashing::new(file),
        table.schema(),
        Some(properties),
    )
    .map_err(parquet)?;
    let mut rows = 0;
    for batch in batches {
        let batch = batch?;
        writer.write(&batch).map_err(parquet)?;
        rows += batch.num_rows();
    }
    let (file, digest) = writer.into_inner().map_err(parquet)?.finish();
    file.sync_all()
        .map_err(|e| ArchiveError::io("cannot fsync", &temp, e))?;
    checksum::record(path, digest)?;
    fs::rename(&temp, path).map_err(|e| ArchiveError::io("cannot rename into", path, e))?;
    Ok(rows)
}

/// The batches of the Parquet file at `path`, read as they are consumed.
fn parquet_batches(
    path: &Path,
) -> Result<impl Iterator<Item = Result<RecordBatch, ArchiveError>> + use<>, ArchiveError> {
    let parquet = |source| ArchiveError::Parquet {
        path: path.into(),
        source,
    };
    let file = File::open(path).map_err(|e| ArchiveError::io("cannot open", path, e))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(parquet)?
        .build()
        .map_err(parquet)?;
    Ok(reader.map(|batch| batch.map_err(ArchiveError::from)))
}

/// Creates `dir` and the directories above it that are missing, each fsynced into its parent, so a new
/// month's directory survives a power loss along with the checkpoint that counts its files.
fn create_dir_durably(dir: &Path) -> Result<(), ArchiveError> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    let parent = dir.parent().unwrap_or(Path::new("."));
    create_dir_durably(parent)?;
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(ArchiveError::io("cannot create", dir, e)),
    }
    sync_dir(if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    })
}

/// The folder of `source` under `aside/`: its name with every character but letters, digits, `-` and `.`
/// written as `_`.
fn folder_name(source: &str) -> String {
    source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Checks the archive file at `path` against its checksum: `None` when it is intact, else why not. A file
/// without a checksum (a file of an older archive) is accepted when its Parquet footer reads, and its
/// checksum is recorded when `record` is set.
fn checked(path: &Path, record: bool) -> Result<Option<String>, ArchiveError> {
    match checksum::verify(path)? {
        checksum::Verdict::Intact => Ok(None),
        checksum::Verdict::Damaged(reason) => Ok(Some(reason)),
        checksum::Verdict::Unrecorded => {
            let footer = File::open(path)
                .map_err(|e| ArchiveError::io("cannot open", path, e))
                .map(ParquetRecordBatchReaderBuilder::try_new);
            match footer? {
                Err(e) => Ok(Some(format!(
                    "no checksum, and its Parquet footer is unreadable: {e}"
                ))),
                Ok(_) if record => {
                    tracing::info!(file = %path.display(), "recording the checksum of an archive file written without one");
                    checksum::record(path, checksum::digest(path)?)?;
                    Ok(None)
                }
                Ok(_) => Ok(None),
            }
        }
    }
}

/// Moves the archive file at `path` (under `root`) and its checksum file to the same place under `to`.
fn move_under(root: &Path, path: &Path, to: &Path) -> Result<(), ArchiveError> {
    let target = to.join(path.strip_prefix(root).unwrap_or(path));
    if let Some(dir) = target.parent() {
        create_dir_durably(dir)?;
    }
    fs::rename(path, &target).map_err(|e| ArchiveError::io("cannot move", path, e))?;
    // After the file: a crash in between leaves a checksum without its file, which the next open removes.
    let sum = checksum::path_of(path);
    match fs::rename(&sum, checksum::path_of(&target)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(ArchiveError::io("cannot move", &sum, e))
        }
        _ => Ok(()),
    }
}

/// Removes the archive file at `path` and its checksum file.
fn remove_archive_file(path: &Path) -> Result<(), ArchiveError> {
    remove_file(path)?;
    remove_file(&checksum::path_of(path))
}

fn sync_dir(dir: &Path) -> Result<(), ArchiveError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ArchiveError::io("cannot fsync", dir, e))
}

fn remove_file(path: &Path) -> Result<(), ArchiveError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ArchiveError::io("cannot remove", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Disposition;
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;
    use schemas::{LocalCalendar, LocalDates, Message, decode_event};

    fn quote(offset: u64) -> Message {
        let line = format!(
            r#"{{"event_id":"q{offset}","event_type":"quote_created","occurred_at":"2016-06-02T09:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"phone","quote_id":"Q{offset}"}}"#
        );
        Message {
            partition: 0,
            offset,
            decoded: decode_event(line.as_bytes(), i64::MAX / 2),
        }
    }

    fn rows(offsets: std::ops::Range<u64>) -> ArchiveRows {
        let messages: Vec<Message> = offsets.map(quote).collect();
        let dispositions = vec![Disposition::Accepted; messages.len()];
        let mut dates = LocalDates::new(LocalCalendar::new(chrono_tz::Asia::Shanghai));
        ArchiveRows::build(
            &messages,
            &dispositions,
            &[] as &[(usize, Vec<u8>)],
            0,
            &mut dates,
        )
        .unwrap()
    }

    /// Every archived offset of `events`, files and waiting rows together, sorted.
    fn archived_offsets(archive: &Archive) -> Vec<i64> {
        let snapshot = archive.snapshot(ArchiveTable::Events);
        let mut batches = snapshot.batches;
        for file in &snapshot.files {
            batches.extend(parquet_batches(file).unwrap().map(Result::unwrap));
        }
        let mut offsets: Vec<i64> = batches
            .iter()
            .flat_map(|b| {
                b.column_by_name(schemas::OFFSET_COLUMN)
                    .unwrap()
                    .as_primitive::<Int64Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        offsets.sort();
        offsets
    }

    /// An archive of kafka:a under `root` with two flushed files, of offsets 0..3 and 3..6.
    fn two_files(root: &Path) -> Archive {
        let archive = Archive::open(root, "kafka:a", &BTreeMap::new()).unwrap();
        for range in [0..3, 3..6] {
            let end = range.end;
            archive.append(rows(range));
            archive.flush(&BTreeMap::from([(0, end)])).unwrap();
        }
        archive
    }

    #[test]
    fn a_crash_between_flush_and_checkpoint_neither_loses_nor_duplicates_rows() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        let archive = Archive::open(&root, "kafka:a", &BTreeMap::new()).unwrap();
        archive.append(rows(0..3));
        assert_eq!(
            archived_offsets(&archive),
            [0, 1, 2],
            "waiting rows are visible"
        );
        let checkpointed = BTreeMap::from([(0, 3)]);
        let report = archive.flush(&checkpointed).unwrap();
        assert_eq!(
            report,
            FlushReport {
                files: 1,
                rows: 3,
                aside: 0,
                damaged: 0,
            }
        );
        assert_eq!(
            archived_offsets(&archive),
            [0, 1, 2],
            "flushed once, not twice"
        );
        // The next flush lands, its checkpoint does not.
        archive.append(rows(3..5));
        archive.flush(&BTreeMap::from([(0, 5)])).unwrap();
        drop(archive);

        let restarted = Archive::open(&root, "kafka:a", &checkpointed).unwrap();
        assert_eq!(archived_offsets(&restarted), [0, 1, 2]);
        let aside = files::list(&root.join(ASIDE_DIR).join("kafka_a"))
            .unwrap()
            .files;
        assert_eq!(aside.len(), 1, "the file past the checkpoint is set aside");
        // The source delivers 3 and 4 again from the checkpoint's offsets.
        restarted.append(rows(3..5));
        let report = restarted.flush(&BTreeMap::from([(0, 5)])).unwrap();
        assert_eq!(report.aside, 0, "archived again, so no longer kept aside");
        assert!(!aside[0].path.exists());
        assert_eq!(archived_offsets(&restarted), [0, 1, 2, 3, 4]);
        let reader = Archive::read_only(&root, &BTreeMap::from([(0, 5)])).unwrap();
        assert_eq!(archived_offsets(&reader), [0, 1, 2, 3, 4]);
        let files = reader.snapshot(ArchiveTable::Events).files;
        assert!(
            files[1].ends_with("events/month=2016-06/p0-000000000003-000000000005.parquet"),
            "{files:?}"
        );
    }

    #[test]
    fn without_a_checkpoint_the_archive_is_set_aside_until_the_source_gives_every_row_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        drop(two_files(&root));

        // The checkpoint is lost: nothing is deleted, everything waits aside.
        let fresh = Archive::open(&root, "kafka:a", &BTreeMap::new()).unwrap();
        assert!(archived_offsets(&fresh).is_empty());
        let aside_root = root.join(ASIDE_DIR).join("kafka_a");
        assert_eq!(files::list(&aside_root).unwrap().files.len(), 2);
        fresh.append(rows(0..4));
        let report = fresh.flush(&BTreeMap::from([(0, 4)])).unwrap();
        assert_eq!(report.aside, 1, "offsets 4 and 5 have not come back yet");
        drop(fresh);

        // A second restart without a checkpoint keeps both the new files and the old one aside.
        let again = Archive::open(&root, "kafka:a", &BTreeMap::new()).unwrap();
        assert_eq!(files::list(&aside_root).unwrap().files.len(), 2);
        again.append(rows(0..6));
        let report = again.flush(&BTreeMap::from([(0, 6)])).unwrap();
        assert_eq!(report.aside, 0);
        assert!(files::list(&aside_root).unwrap().files.is_empty());
        assert_eq!(archived_offsets(&again), [0, 1, 2, 3, 4, 5]);
        drop(again);

        // Another source (a recreated topic) reaching the same offsets removes none of the first one's files.
        let other = Archive::open(&root, "kafka:b", &BTreeMap::new()).unwrap();
        other.append(rows(0..9));
        let report = other.flush(&BTreeMap::from([(0, 9)])).unwrap();
        assert_eq!(report.aside, 0, "nothing of kafka:b waits");
        assert_eq!(
            files::list(&aside_root).unwrap().files.len(),
            1,
            "kafka:a's file stays"
        );
    }

    #[test]
    fn a_damaged_file_is_kept_out_of_queries_and_moved_aside_never_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        let archive = two_files(&root);
        let files = archive.snapshot(ArchiveTable::Events).files;
        drop(archive);
        let checkpointed = BTreeMap::from([(0, 6)]);

        // A file written without a checksum is given one; a file with a flipped bit is refused.
        fs::remove_file(checksum::path_of(&files[0])).unwrap();
        let mut bytes = fs::read(&files[1]).unwrap();
        bytes[40] ^= 0x10;
        fs::write(&files[1], &bytes).unwrap();
        let reader = Archive::read_only(&root, &checkpointed).unwrap();
        assert_eq!(
            archived_offsets(&reader),
            [0, 1, 2],
            "the reader leaves it out"
        );
        assert!(
            !checksum::path_of(&files[0]).exists(),
            "a reader writes nothing"
        );

        let reopened = Archive::open(&root, "kafka:a", &checkpointed).unwrap();
        assert_eq!(archived_offsets(&reopened), [0, 1, 2]);
        assert_eq!(
            checksum::verify(&files[0]).unwrap(),
            checksum::Verdict::Intact
        );
        let damaged = root
            .join(DAMAGED_DIR)
            .join(files[1].strip_prefix(&root).unwrap());
        assert_eq!(fs::read(&damaged).unwrap(), bytes, "kept as it was found");
        assert!(checksum::path_of(&damaged).exists());
        reopened.append(rows(6..7));
        let report = reopened.flush(&BTreeMap::from([(0, 7)])).unwrap();
        assert_eq!(report.damaged, 1);
        assert_eq!(archived_offsets(&reopened), [0, 1, 2, 6]);
    }

    #[test]
    fn small_files_are_merged_and_a_merge_interrupted_before_the_cleanup_counts_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        let archive = Archive::open(&root, "kafka:a", &BTreeMap::new()).unwrap();
        let n = MERGE_AT as u64;
        for i in 0..n {
            archive.append(rows(i..i + 1));
            archive.flush(&BTreeMap::from([(0, i + 1)])).unwrap();
        }
        let expected: Vec<i64> = (0..n as i64).collect();
        assert_eq!(archive.snapshot(ArchiveTable::Events).files.len(), 1);
        assert_eq!(archived_offsets(&archive), expected);
        // The originals are still on disk (deleted at the next flush): a restart now must skip them.
        let on_disk = files::list(&root).unwrap().files.len();
        assert_eq!(on_disk, MERGE_AT + 1);
        drop(archive);
        let restarted = Archive::open(&root, "kafka:a", &BTreeMap::from([(0, n)])).unwrap();
        assert_eq!(archived_offsets(&restarted), expected);
        assert_eq!(files::list(&root).unwrap().files.len(), 1);
    }

    #[test]
    fn the_originals_of_a_damaged_merge_are_kept_in_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        let archive = Archive::open(&root, "kafka:a", &BTreeMap::new()).unwrap();
        let n = MERGE_AT as u64;
        for i in 0..n {
            archive.append(rows(i..i + 1));
            archive.flush(&BTreeMap::from([(0, i + 1)])).unwrap();
        }
        let merged = archive.snapshot(ArchiveTable::Events).files.remove(0);
        drop(archive);
        let mut bytes = fs::read(&merged).unwrap();
        bytes[20] ^= 0x01;
        fs::write(&merged, bytes).unwrap();
        let restarted = Archive::open(&root, "kafka:a", &BTreeMap::from([(0, n)])).unwrap();
        let expected: Vec<i64> = (0..n as i64).collect();
        assert_eq!(
            archived_offsets(&restarted),
            expected,
            "the originals stand in"
        );
        assert_eq!(files::list(&root.join(DAMAGED_DIR)).unwrap().files.len(), 1);
    }

    #[test]
    fn merged_away_files_stay_for_queries_until_their_time_is_up() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        let archive = Archive::open(&root, "kafka:a", &BTreeMap::new())
            .unwrap()
            .keep_merged_files_for(Duration::from_millis(300));
        let n = MERGE_AT as u64;
        for i in 0..n {
            archive.append(rows(i..i + 1));
            archive.flush(&BTreeMap::from([(0, i + 1)])).unwrap();
        }
        // A query listed the originals just before the merge.
        let listed_before = files::list(&root).unwrap().files;
        archive.append(rows(n..n + 1));
        archive.flush(&BTreeMap::from([(0, n + 1)])).unwrap();
        assert_eq!(files::list(&root).unwrap().files.len(), MERGE_AT + 2);
        assert!(listed_before.iter().all(|f| f.path.exists()));
        std::thread::sleep(Duration::from_millis(350));
        archive.append(rows(n + 1..n + 2));
        archive.flush(&BTreeMap::from([(0, n + 2)])).unwrap();
        assert_eq!(files::list(&root).unwrap().files.len(), 3);
        let expected: Vec<i64> = (0..n as i64 + 2).collect();
        assert_eq!(archived_offsets(&archive), expected);
    }

    #[test]
    fn a_file_too_large_to_merge_ends_a_run_so_no_merge_covers_it() {
        let dir = tempfile::tempdir().unwrap();
        let group: GroupKey = (ArchiveTable::Events, "2016-06".into(), 0);
        let files: Vec<ArchiveFile> = [(0, 10), (10, 20), (20, 30), (30, 40)]
            .into_iter()
            .map(|(from, to)| ArchiveFile::new(dir.path(), &group, from, to))
            .collect();
        for (i, file) in files.iter().enumerate() {
            fs::create_dir_all(file.path.parent().unwrap()).unwrap();
            let size = if i == 2 { MERGE_MAX_BYTES } else { 100 };
            File::create(&file.path).unwrap().set_len(size).unwrap();
        }
        let runs = runs_of_small_files(files.clone());
        let ranges: Vec<Vec<(u64, u64)>> = runs
            .iter()
            .map(|run| run.iter().map(|f| (f.from, f.to)).collect())
            .collect();
        assert_eq!(ranges, [vec![(0, 10), (10, 20)], vec![(30, 40)]]);
    }
}
