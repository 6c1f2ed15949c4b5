//! Checkpoints: the engine state (with each partition's next offset, watermark and closed months) written
//! atomically to one file. Write to a temporary file, fsync, move the current checkpoint to
//! `checkpoint.prev.bin`, rename the new one over `checkpoint.bin`, fsync the directory: a crash at any
//! instant leaves the new checkpoint or the one before, never a torn file.
//!
//! The file is `MAGIC`, the body's length and its XXH3-128 checksum, then the body. A file whose checksum
//! does not match is refused with the reason; the previous checkpoint is then used, and the damaged file
//! is kept beside it (renamed), never deleted.

use crate::engine::EngineState;
use schemas::EpochMillis;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The file's first bytes; the last byte is the format version.
const MAGIC: &[u8; 8] = b"LBCKPT\x00\x06";
/// The header: the magic, the body's length (u64, little-endian) and its XXH3-128 (little-endian).
const HEADER_BYTES: usize = MAGIC.len() + 8 + 16;
/// The checkpoint file name in the state directory.
const FILE_NAME: &str = "checkpoint.bin";
/// The checkpoint before the current one.
const PREVIOUS_FILE_NAME: &str = "checkpoint.prev.bin";

/// A problem reading or writing a checkpoint.
#[derive(Debug, Error)]
pub enum CheckpointError {
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
    /// The file is not a checkpoint of this version, or is damaged.
    #[error("{path} is not a readable checkpoint: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Another process uses the state directory.
    #[error("another leaderboard process uses the state directory {0} (its lock is held)")]
    Locked(PathBuf),
    /// The checkpoint was written under settings that shape the state differently.
    #[error(
        "the checkpoint in {path} was written with {found}, the configuration now says {expected}; the state \
         would mix both: restore those settings or use another --state-dir"
    )]
    OtherSettings {
        /// The file.
        path: PathBuf,
        /// The settings it was written with.
        found: String,
        /// The settings now configured.
        expected: String,
    },
    /// The checkpoint belongs to another source (another topic).
    #[error(
        "the checkpoint in {path} is of source {found:?}, not {expected:?}; use another --state-dir"
    )]
    OtherSource {
        /// The file.
        path: PathBuf,
        /// The source it was written for.
        found: String,
        /// The source now configured.
        expected: String,
    },
}

/// What a checkpoint holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The source the offsets belong to, e.g. `kafka:activity`.
    pub source: String,
    /// The settings that shape the state ([`state_settings`]).
    pub settings: String,
    /// When it was written (Unix milliseconds).
    pub saved_at: EpochMillis,
    /// The engine state, offsets and watermarks included.
    pub state: EngineState,
}

/// The configuration that shapes the engine state (calendar, task month base, watermark rule, grace):
/// a checkpoint is only resumed under the same. Targets, weights, tiers and rewards only change how the
/// state is scored and may change freely.
pub fn state_settings(config: &schemas::Config) -> String {
    format!(
        "timezone={} assessment_start={} watermark_delay_secs={} max_watermark_jump_secs={} \
         watermark_confirmations={} grace_days={}",
        config.timezone.name(),
        config.assessment_start,
        config.watermark_delay_secs,
        config.max_watermark_jump_secs,
        config.watermark_confirmations,
        config.grace_days
    )
}

/// Serialised checkpoint bytes, ready to be written away from the engine's lock.
pub struct CheckpointBytes(Vec<u8>);

impl CheckpointBytes {
    /// The size in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns true if and only if there are no bytes (never, for a real checkpoint).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The checkpoint file of a state directory, locked for this process while the store lives.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    dir: PathBuf,
    _lock: std::sync::Arc<File>,
}

impl CheckpointStore {
    /// The store in `dir` (created when missing); fails if another process holds the directory.
    pub fn open(dir: &Path) -> Result<Self, CheckpointError> {
        fs::create_dir_all(dir).map_err(|source| CheckpointError::Io {
            action: "cannot create state directory",
            path: dir.into(),
            source,
        })?;
        let lock_path = dir.join("lock");
        let lock = File::create(&lock_path).map_err(|source| CheckpointError::Io {
            action: "cannot create",
            path: lock_path.clone(),
            source,
        })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(CheckpointError::Locked(dir.into())),
            Err(fs::TryLockError::Error(source)) => {
                return Err(CheckpointError::Io {
                    action: "cannot lock",
                    path: lock_path,
                    source,
                });
            }
        }
        Ok(Self {
            dir: dir.into(),
            _lock: std::sync::Arc::new(lock),
        })
    }

    /// The checkpoint file.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Serialises `state` for `source` under `settings` (call while holding the engine; it is fast).
    pub fn encode(
        source: &str,
        settings: &str,
        state: &EngineState,
        saved_at: EpochMillis,
    ) -> CheckpointBytes {
        #[derive(Serialize)]
        struct Borrowed<'a> {
            source: &'a str,
            settings: &'a str,
            saved_at: EpochMillis,
            state: &'a EngineState,
        }
        let mut bytes = vec![0; HEADER_BYTES];
        let mut bytes = postcard::to_extend(
            &Borrowed {
                source,
                settings,
                saved_at,
                state,
            },
            std::mem::take(&mut bytes),
        )
        .expect("engine state serialises");
        let body = &bytes[HEADER_BYTES..];
        let (length, checksum) = (body.len() as u64, xxhash_rust::xxh3::xxh3_128(body));
        bytes[..MAGIC.len()].copy_from_slice(MAGIC);
        bytes[MAGIC.len()..MAGIC.len() + 8].copy_from_slice(&length.to_le_bytes());
        bytes[MAGIC.len() + 8..HEADER_BYTES].copy_from_slice(&checksum.to_le_bytes());
        CheckpointBytes(bytes)
    }

    /// Writes `bytes` atomically (temporary file, fsync, the current checkpoint kept as the previous one,
    /// rename, fsync of the directory).
    pub fn write(&self, bytes: &CheckpointBytes) -> Result<(), CheckpointError> {
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| CheckpointError::Io {
                action,
                path,
                source,
            }
        };
        let final_path = self.path();
        let temp_path = self.dir.join(format!("{FILE_NAME}.tmp"));
        let mut file = File::create(&temp_path).map_err(io("cannot create", &temp_path))?;
        file.write_all(&bytes.0)
            .map_err(io("cannot write", &temp_path))?;
        file.sync_all().map_err(io("cannot fsync", &temp_path))?;
        drop(file);
        let previous = self.dir.join(PREVIOUS_FILE_NAME);
        match fs::rename(&final_path, &previous) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("cannot rename into", &previous)(e)),
        }
        fs::rename(&temp_path, &final_path).map_err(io("cannot rename into", &final_path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("cannot fsync", &self.dir))?;
        Ok(())
    }

    /// Loads the checkpoint, if there is one; it must belong to `source` and have been written under
    /// `settings`. A damaged checkpoint is renamed aside (`checkpoint.damaged-<millis>.bin`) with a
    /// warning, and the previous one is loaded instead; when both are damaged, that is the error.
    pub fn load(
        &self,
        source: &str,
        settings: &str,
    ) -> Result<Option<Checkpoint>, CheckpointError> {
        let loaded = read_checkpoint_with(&self.dir, |damaged, reason| {
            let aside = self.dir.join(format!(
                "checkpoint.damaged-{}.bin",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis())
            ));
            tracing::warn!(
                file = %damaged.display(), %reason, kept_as = %aside.display(),
                "the checkpoint is damaged: resuming from the previous one"
            );
            eprintln!(
                "leaderboard: {} is damaged ({reason}); it is kept as {} and the previous checkpoint is used",
                damaged.display(),
                aside.display()
            );
            fs::rename(damaged, &aside).map_err(|source| CheckpointError::Io {
                action: "cannot set aside the damaged checkpoint",
                path: damaged.to_path_buf(),
                source,
            })
        })?;
        let Some((checkpoint, path)) = loaded else {
            return Ok(None);
        };
        if checkpoint.source != source {
            return Err(CheckpointError::OtherSource {
                path,
                found: checkpoint.source,
                expected: source.into(),
            });
        }
        if checkpoint.settings != settings {
            return Err(CheckpointError::OtherSettings {
                path,
                found: checkpoint.settings,
                expected: settings.into(),
            });
        }
        Ok(Some(checkpoint))
    }
}

/// Reads the checkpoint of the state directory `dir`, if there is one, without taking the directory's
/// lock (a running pipeline may hold it; it replaces the file atomically, so the read is whole). A damaged
/// checkpoint is passed over for the previous one, with a warning; nothing is renamed.
pub fn read_checkpoint(dir: &Path) -> Result<Option<Checkpoint>, CheckpointError> {
    let loaded = read_checkpoint_with(dir, |damaged, reason| {
        tracing::warn!(file = %damaged.display(), %reason, "the checkpoint is damaged: reading the previous one");
        Ok(())
    })?;
    Ok(loaded.map(|(checkpoint, _)| checkpoint))
}

/// The checkpoint of `dir` and the file it came from: `checkpoint.bin`, or `checkpoint.prev.bin` when that
/// is missing (a crash between the two renames of a write) or damaged, in which case `on_damaged` is
/// called with the damaged file and the reason first.
fn read_checkpoint_with(
    dir: &Path,
    on_damaged: impl FnOnce(&Path, &str) -> Result<(), CheckpointError>,
) -> Result<Option<(Checkpoint, PathBuf)>, CheckpointError> {
    let current = dir.join(FILE_NAME);
    let previous = dir.join(PREVIOUS_FILE_NAME);
    let damage = match read_file(&current) {
        Ok(Some(checkpoint)) => return Ok(Some((checkpoint, current))),
        Ok(None) => None,
        Err(CheckpointError::Corrupt { reason, .. }) => Some(reason),
        Err(e) => return Err(e),
    };
    match (read_file(&previous), damage) {
        (Ok(Some(checkpoint)), damage) => {
            match damage {
                Some(reason) => on_damaged(&current, &reason)?,
                None => tracing::warn!(
                    file = %previous.display(),
                    "no current checkpoint (a write was cut between its renames): resuming from the previous one"
                ),
            }
            Ok(Some((checkpoint, previous)))
        }
        (Ok(None), None) => Ok(None),
        (Ok(None), Some(reason)) => Err(CheckpointError::Corrupt {
            path: current,
            reason: format!("{reason}; there is no previous checkpoint to resume from"),
        }),
        (Err(CheckpointError::Corrupt { reason: older, .. }), Some(reason)) => {
            Err(CheckpointError::Corrupt {
                path: current,
                reason: format!(
                    "{reason}; the previous checkpoint {} is damaged too: {older}",
                    previous.display()
                ),
            })
        }
        (Err(e), _) => Err(e),
    }
}

/// Reads and checks one checkpoint file; `None` when there is none.
fn read_file(path: &Path) -> Result<Option<Checkpoint>, CheckpointError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CheckpointError::Io {
                action: "cannot read",
                path: path.into(),
                source,
            });
        }
    };
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.into(),
        reason,
    };
    let Some(header) = bytes.get(..HEADER_BYTES).filter(|h| h.starts_with(MAGIC)) else {
        return Err(corrupt(
            "unknown header (another program's file or another version)".into(),
        ));
    };
    let length = u64::from_le_bytes(
        header[MAGIC.len()..MAGIC.len() + 8]
            .try_into()
            .expect("8 bytes"),
    );
    let checksum = u128::from_le_bytes(header[MAGIC.len() + 8..].try_into().expect("16 bytes"));
    let body = &bytes[HEADER_BYTES..];
    if body.len() as u64 != length {
        return Err(corrupt(format!(
            "the body is {} bytes, the header says {length} (a truncated or damaged file)",
            body.len()
        )));
    }
    if xxhash_rust::xxh3::xxh3_128(body) != checksum {
        return Err(corrupt(
            "the checksum does not match the contents (a damaged file)".into(),
        ));
    }
    postcard::from_bytes(body)
        .map(Some)
        .map_err(|e| corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;
    use schemas::{Config, Message, Organisation, decode_event};
    use std::sync::Arc;

    fn engine() -> Engine {
        let org = Organisation::from_csv(
            "branch_id,branch_name,in_scope\nzd,张店支公司,true\n".as_bytes(),
        )
        .unwrap();
        Engine::new(Arc::new(Config::default()), Arc::new(org))
    }

    fn messages(from: u64, lines: &[&str]) -> Vec<Message> {
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| Message {
                partition: 0,
                offset: from + i as u64,
                decoded: decode_event(line.as_bytes(), i64::MAX / 2),
            })
            .collect()
    }

    const BEFORE: [&str; 2] = [
        r#"{"event_id":"r1","event_type":"user_registered","occurred_at":"2016-05-20T09:00:00+08:00","branch_id":"zd","user_id":"u1","channel":"direct"}"#,
        r#"{"event_id":"q1","event_type":"quote_created","occurred_at":"2016-06-02T09:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"phone","quote_id":"Q1"}"#,
    ];
    const AFTER: [&str; 3] = [
        r#"{"event_id":"q1","event_type":"quote_created","occurred_at":"2016-06-02T09:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"phone","quote_id":"Q1"}"#,
        r#"{"event_id":"q2","event_type":"quote_created","occurred_at":"2016-06-03T09:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"pc","quote_id":"Q2"}"#,
        r#"{"event_id":"q3","event_type":"quote_created","occurred_at":"2016-06-03T10:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"pad","quote_id":"Q3"}"#,
    ];

    #[tokio::test]
    async fn a_restored_engine_continues_exactly_like_the_one_that_was_saved() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(&dir.path().join("state")).unwrap();
        assert!(store.load("kafka:t", "s").unwrap().is_none());
        let locked = CheckpointStore::open(&dir.path().join("state"))
            .unwrap_err()
            .to_string();
        assert!(locked.contains("another leaderboard process"), "{locked}");

        let mut original = engine();
        original.process(&messages(0, &BEFORE)).await.unwrap();
        store
            .write(&CheckpointStore::encode(
                "kafka:t",
                "s",
                original.state(),
                42,
            ))
            .unwrap();
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("state"))
            .unwrap()
            .collect();
        assert_eq!(
            leftovers.len(),
            2,
            "only the checkpoint and the lock remain: {leftovers:?}"
        );

        let checkpoint = store.load("kafka:t", "s").unwrap().unwrap();
        assert_eq!(checkpoint.saved_at, 42);
        assert_eq!(checkpoint.state.arrival.positions().get(&0), Some(&2));
        let engine_config = original.config().clone();
        let org = original.org().clone();
        let mut restored =
            Engine::restore(Arc::new(engine_config), Arc::new(org), checkpoint.state);

        // The same continuation on both: the duplicate q1 is still known after the restore.
        let after = messages(2, &AFTER);
        assert_eq!(
            original.process(&after).await.unwrap(),
            restored.process(&after).await.unwrap()
        );
        assert_eq!(restored.counts().duplicate, 1);
        let period = "2016-06".parse().unwrap();
        assert_eq!(
            serde_json::to_value(original.scorecard(period, true).unwrap()).unwrap(),
            serde_json::to_value(restored.scorecard(period, true).unwrap()).unwrap()
        );
        let history = |engine: &Engine| {
            let month = "2016-06".parse().unwrap();
            serde_json::to_value(engine.history(month, None).unwrap()).unwrap()
        };
        assert_eq!(history(&original), history(&restored));
        assert!(
            !restored.state().daily().by_user.is_empty(),
            "the day-by-day counters are in the checkpoint"
        );
        assert_eq!(restored.state().arrival.positions().get(&0), Some(&5));
    }

    #[test]
    fn a_checkpoint_of_another_source_or_a_damaged_file_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        store
            .write(&CheckpointStore::encode(
                "kafka:a",
                "grace_days=3",
                engine().state(),
                1,
            ))
            .unwrap();
        let other = store
            .load("kafka:b", "grace_days=3")
            .unwrap_err()
            .to_string();
        assert!(
            other.contains("kafka:a") && other.contains("--state-dir"),
            "{other}"
        );
        let settings = store
            .load("kafka:a", "grace_days=5")
            .unwrap_err()
            .to_string();
        assert!(
            settings.contains("grace_days=3") && settings.contains("grace_days=5"),
            "{settings}"
        );

        std::fs::write(store.path(), [MAGIC.as_slice(), b"garbage"].concat()).unwrap();
        let damaged = store
            .load("kafka:a", "grace_days=3")
            .unwrap_err()
            .to_string();
        assert!(damaged.contains("not a readable checkpoint"), "{damaged}");
        for foreign in [
            &b"{}"[..],
            b"LBCKPT\x00\x01 an older format",
            b"LBCKPT\x00\x02 policies with their deltas stored",
            b"LBCKPT\x00\x03 the first issue of a policy standing",
            b"LBCKPT\x00\x05 counters without days",
        ] {
            std::fs::write(store.path(), foreign).unwrap();
            let refused = store
                .load("kafka:a", "grace_days=3")
                .unwrap_err()
                .to_string();
            assert!(refused.contains("unknown header"), "{refused}");
        }
    }

    /// The bytes `state` encodes to (what a checkpoint of it holds), for comparing states.
    fn encoded(state: &EngineState) -> Vec<u8> {
        CheckpointStore::encode("kafka:a", "s", state, 7).0
    }

    #[tokio::test]
    async fn every_flipped_bit_of_a_checkpoint_is_refused_and_the_previous_one_used() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        let mut engine = engine();
        engine.process(&messages(0, &BEFORE)).await.unwrap();
        let previous = CheckpointStore::encode("kafka:a", "s", engine.state(), 7);
        store.write(&previous).unwrap();
        engine.process(&messages(2, &AFTER)).await.unwrap();
        let current = CheckpointStore::encode("kafka:a", "s", engine.state(), 7);
        store.write(&current).unwrap();
        assert_ne!(previous.0, current.0);

        let bits = current.0.len() * 8;
        let mut position = 12_345usize;
        for _ in 0..400 {
            position = (position.wrapping_mul(1_103_515_245).wrapping_add(12_345)) % bits;
            let mut damaged = current.0.clone();
            damaged[position / 8] ^= 1 << (position % 8);
            std::fs::write(store.path(), &damaged).unwrap();
            let loaded = read_checkpoint(dir.path())
                .unwrap()
                .expect("the previous checkpoint is there");
            // Every flip is detected: the previous checkpoint is loaded, never a changed state.
            assert_eq!(
                encoded(&loaded.state),
                previous.0,
                "bit {position}: the damage went unnoticed"
            );
        }
    }

    #[tokio::test]
    async fn a_damaged_checkpoint_is_kept_aside_and_the_previous_one_resumed() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path()).unwrap();
        let mut engine = engine();
        engine.process(&messages(0, &BEFORE)).await.unwrap();
        store
            .write(&CheckpointStore::encode("kafka:a", "s", engine.state(), 1))
            .unwrap();
        engine.process(&messages(2, &AFTER)).await.unwrap();
        store
            .write(&CheckpointStore::encode("kafka:a", "s", engine.state(), 2))
            .unwrap();
        assert_eq!(store.load("kafka:a", "s").unwrap().unwrap().saved_at, 2);

        // A crash between the write's two renames leaves only the previous checkpoint.
        let current = std::fs::read(store.path()).unwrap();
        std::fs::rename(store.path(), dir.path().join("moved")).unwrap();
        assert_eq!(store.load("kafka:a", "s").unwrap().unwrap().saved_at, 1);

        let mut damaged = current.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x10;
        std::fs::write(store.path(), &damaged).unwrap();
        let resumed = store.load("kafka:a", "s").unwrap().unwrap();
        assert_eq!(resumed.saved_at, 1, "the previous checkpoint is used");
        assert_eq!(resumed.state.arrival.positions().get(&0), Some(&2));
        let kept: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.starts_with("checkpoint.damaged-"))
            .collect();
        assert_eq!(kept.len(), 1, "the damaged file is kept: {kept:?}");
        assert_eq!(std::fs::read(dir.path().join(&kept[0])).unwrap(), damaged);

        // The next write keeps the good previous checkpoint as the one before it.
        store
            .write(&CheckpointStore::encode("kafka:a", "s", engine.state(), 3))
            .unwrap();
        std::fs::write(store.path(), b"LBCKPT\x00\x06 torn").unwrap();
        assert_eq!(store.load("kafka:a", "s").unwrap().unwrap().saved_at, 1);

        // Both damaged: an error that names both, never a fresh start.
        std::fs::write(store.path(), &damaged).unwrap();
        std::fs::write(dir.path().join(PREVIOUS_FILE_NAME), &damaged).unwrap();
        let refused = store.load("kafka:a", "s").unwrap_err().to_string();
        assert!(
            refused.contains("checksum") && refused.contains("damaged too"),
            "{refused}"
        );
    }
}
