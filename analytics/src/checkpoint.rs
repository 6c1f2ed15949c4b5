//! Checkpoints: the engine state (with each partition's next offset, watermark and closed months) written
//! atomically to one file. Write to a temporary file, fsync, rename over the previous checkpoint, fsync the
//! directory: a crash at any instant leaves either the old checkpoint or the new one, never a torn file.

use crate::engine::EngineState;
use schemas::EpochMillis;
use serde::{Deserialize, Serialize};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The file's first bytes; the last byte is the format version.
const MAGIC: &[u8; 8] = b"LBCKPT\x00\x04";
/// The checkpoint file name in the state directory.
const FILE_NAME: &str = "checkpoint.bin";

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
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// The configuration that shapes the engine state (calendar, task month base, watermark delay, grace):
/// a checkpoint is only resumed under the same. Targets, weights, tiers and rewards only change how the
/// state is scored and may change freely.
pub fn state_settings(config: &schemas::Config) -> String {
    format!(
        "timezone={} assessment_start={} watermark_delay_secs={} grace_days={}",
        config.timezone.name(),
        config.assessment_start,
        config.watermark_delay_secs,
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
        let mut bytes = MAGIC.to_vec();
        let body = postcard::to_extend(
            &Borrowed {
                source,
                settings,
                saved_at,
                state,
            },
            Vec::new(),
        )
        .expect("engine state serialises");
        bytes.extend_from_slice(&body);
        CheckpointBytes(bytes)
    }

    /// Writes `bytes` atomically (temporary file, fsync, rename, fsync of the directory).
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
        fs::rename(&temp_path, &final_path).map_err(io("cannot rename into", &final_path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("cannot fsync", &self.dir))?;
        Ok(())
    }

    /// Loads the checkpoint, if there is one; it must belong to `source` and have been written under
    /// `settings`.
    pub fn load(
        &self,
        source: &str,
        settings: &str,
    ) -> Result<Option<Checkpoint>, CheckpointError> {
        let path = self.path();
        let Some(checkpoint) = read_checkpoint(&self.dir)? else {
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
/// lock (a running pipeline may hold it; it replaces the file atomically, so the read is whole).
pub fn read_checkpoint(dir: &Path) -> Result<Option<Checkpoint>, CheckpointError> {
    let path = dir.join(FILE_NAME);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CheckpointError::Io {
                action: "cannot read",
                path,
                source,
            });
        }
    };
    let corrupt = |reason: String| CheckpointError::Corrupt {
        path: path.clone(),
        reason,
    };
    let body = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(|| {
        corrupt("unknown header (another program's file or another version)".into())
    })?;
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
    const AFTER: [&str; 2] = [
        r#"{"event_id":"q1","event_type":"quote_created","occurred_at":"2016-06-02T09:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"phone","quote_id":"Q1"}"#,
        r#"{"event_id":"q2","event_type":"quote_created","occurred_at":"2016-06-03T09:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"pc","quote_id":"Q2"}"#,
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
        assert_eq!(restored.state().arrival.positions().get(&0), Some(&4));
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
        ] {
            std::fs::write(store.path(), foreign).unwrap();
            let refused = store
                .load("kafka:a", "grace_days=3")
                .unwrap_err()
                .to_string();
            assert!(refused.contains("unknown header"), "{refused}");
        }
    }
}
