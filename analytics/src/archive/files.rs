//! Archive file names and which files on disk belong to the archive.
//!
//! A file is `<table>/month=YYYY-MM/p<partition>-<from>-<to>.parquet`: the rows of one table, one local
//! month and one source partition whose offsets lie in `[from, to)`. Files are only ever created by a flush
//! that ends at a checkpoint's positions, so a checkpoint at `next` offset `n` for a partition commits
//! exactly the files with `to <= n`; a file with `from >= n` was written by a flush whose checkpoint never
//! landed (a crash in between) and holds rows the source will deliver again. A merged file covers the
//! ranges of the files it replaced, so a file whose range lies inside another's is a merge's leftover. Each
//! file's checksum is `<name>.parquet.xxh3` beside it.

use super::{ArchiveError, checksum};
use schemas::PartitionId;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The archived tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ArchiveTable {
    /// Accepted events.
    Events,
    /// Events that arrived after their month closed.
    LateEvents,
    /// Messages that are not valid events.
    RejectedEvents,
}

impl ArchiveTable {
    /// All tables.
    pub const ALL: [ArchiveTable; 3] = [
        ArchiveTable::Events,
        ArchiveTable::LateEvents,
        ArchiveTable::RejectedEvents,
    ];

    /// The SQL table name, which is also the directory name.
    pub fn name(self) -> &'static str {
        match self {
            ArchiveTable::Events => "events",
            ArchiveTable::LateEvents => "late_events",
            ArchiveTable::RejectedEvents => "rejected_events",
        }
    }

    /// The Arrow schema of its rows.
    pub fn schema(self) -> arrow::datatypes::SchemaRef {
        match self {
            ArchiveTable::Events | ArchiveTable::LateEvents => schemas::event_schema(),
            ArchiveTable::RejectedEvents => schemas::rejected_schema(),
        }
    }
}

/// One archive file and what its name says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// The file.
    pub path: PathBuf,
    /// Its table.
    pub table: ArchiveTable,
    /// Its local month, `YYYY-MM`.
    pub month: String,
    /// Its source partition.
    pub partition: PartitionId,
    /// The first offset of the range it covers.
    pub from: u64,
    /// The offset after the range it covers.
    pub to: u64,
}

/// Where a group of rows goes: table, month and partition.
pub type GroupKey = (ArchiveTable, String, PartitionId);

impl ArchiveFile {
    /// The file of `group` covering `[from, to)` under the archive directory `root`.
    pub fn new(root: &Path, group: &GroupKey, from: u64, to: u64) -> Self {
        let (table, month, partition) = group;
        let path = root
            .join(table.name())
            .join(format!("month={month}"))
            .join(format!("p{partition}-{from:012}-{to:012}.parquet"));
        Self {
            path,
            table: *table,
            month: month.clone(),
            partition: *partition,
            from,
            to,
        }
    }

    /// The group it belongs to.
    pub fn group(&self) -> GroupKey {
        (self.table, self.month.clone(), self.partition)
    }

    /// Reads a file name back; `None` for anything else.
    fn parse(table: ArchiveTable, month_dir: &str, path: PathBuf) -> Option<Self> {
        let month = month_dir.strip_prefix("month=")?.to_string();
        let stem = path.file_name()?.to_str()?.strip_suffix(".parquet")?;
        let mut parts = stem.strip_prefix('p')?.split('-');
        let partition = parts.next()?.parse().ok()?;
        let from = parts.next()?.parse().ok()?;
        let to = parts.next()?.parse().ok()?;
        (parts.next().is_none() && from < to).then_some(Self {
            path,
            table,
            month,
            partition,
            from,
            to,
        })
    }

    /// Whether its range lies inside `other`'s (same group, another file).
    fn inside(&self, other: &ArchiveFile) -> bool {
        self.path != other.path
            && self.group() == other.group()
            && other.from <= self.from
            && self.to <= other.to
    }
}

/// What is on disk: the files of the archive (their checksum files aside), and what is not (temporary files
/// of an interrupted write, checksums whose file is gone).
#[derive(Debug, Default)]
pub struct Listing {
    /// The archive files.
    pub files: Vec<ArchiveFile>,
    /// Temporary and unrecognised files.
    pub debris: Vec<PathBuf>,
}

/// Lists the archive under `root` (a missing directory is an empty archive).
pub fn list(root: &Path) -> Result<Listing, ArchiveError> {
    let mut listing = Listing::default();
    for table in ArchiveTable::ALL {
        let table_dir = root.join(table.name());
        for month_dir in read_dir(&table_dir)? {
            let Some(month_name) = month_dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let month_name = month_name.to_string();
            let paths = read_dir(&month_dir)?;
            for path in &paths {
                let checksum_of_a_file = path
                    .to_str()
                    .and_then(|p| p.strip_suffix(&format!(".{}", checksum::EXTENSION)))
                    .is_some_and(|file| paths.iter().any(|p| p.as_os_str() == file));
                if checksum_of_a_file {
                    continue;
                }
                match ArchiveFile::parse(table, &month_name, path.clone()) {
                    Some(file) => listing.files.push(file),
                    None => listing.debris.push(path.clone()),
                }
            }
        }
    }
    listing.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(listing)
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, ArchiveError> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|source| ArchiveError::io("cannot list", dir, source)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(source) => Err(ArchiveError::io("cannot list", dir, source)),
    }
}

/// Splits `files` into those a checkpoint at `positions` has committed, and the rest: files written after
/// it (their rows will be delivered again) and merge leftovers (their rows are in a merged file).
pub fn committed(
    files: Vec<ArchiveFile>,
    positions: &BTreeMap<PartitionId, u64>,
) -> (Vec<ArchiveFile>, Vec<ArchiveFile>) {
    let (landed, unlanded): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| f.to <= positions.get(&f.partition).copied().unwrap_or(0));
    let (leftovers, kept): (Vec<_>, Vec<_>) = landed
        .iter()
        .cloned()
        .partition(|f| landed.iter().any(|other| f.inside(other)));
    let mut dropped = unlanded;
    dropped.extend(leftovers);
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(partition: u32, from: u64, to: u64) -> ArchiveFile {
        ArchiveFile::new(
            Path::new("/a"),
            &(ArchiveTable::Events, "2016-06".into(), partition),
            from,
            to,
        )
    }

    #[test]
    fn names_carry_table_month_partition_and_range() {
        let f = file(3, 1042, 2099);
        assert_eq!(
            f.path,
            Path::new("/a/events/month=2016-06/p3-000000001042-000000002099.parquet")
        );
        let parsed =
            ArchiveFile::parse(ArchiveTable::Events, "month=2016-06", f.path.clone()).unwrap();
        assert_eq!(parsed, f);
        let tmp = f.path.with_extension("parquet.tmp");
        assert!(ArchiveFile::parse(ArchiveTable::Events, "month=2016-06", tmp).is_none());
    }

    #[test]
    fn only_files_inside_the_checkpoint_and_not_merged_away_are_committed() {
        let positions = BTreeMap::from([(0, 300), (1, 50)]);
        let files = vec![
            file(0, 0, 100),
            file(0, 100, 200),
            file(0, 0, 200), // a merge of the two above
            file(0, 200, 300),
            file(0, 300, 400), // written after the checkpoint
            file(1, 0, 50),
            file(2, 0, 10), // a partition the checkpoint has not reached
        ];
        let (kept, dropped) = committed(files, &positions);
        let ranges = |v: &[ArchiveFile]| -> Vec<(u32, u64, u64)> {
            v.iter().map(|f| (f.partition, f.from, f.to)).collect()
        };
        assert_eq!(ranges(&kept), [(0, 0, 200), (0, 200, 300), (1, 0, 50)]);
        assert_eq!(
            ranges(&dropped),
            [(0, 300, 400), (2, 0, 10), (0, 0, 100), (0, 100, 200)]
        );
    }
}
