//! What the pipeline shares with the HTTP server: the engine behind a lock, and the pipeline's status.

use analytics::Engine;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tokio::sync::RwLock;

/// The live engine and the status `/ready` and `/metrics` report.
pub struct Live {
    /// The engine: the pipeline writes one micro-batch at a time, the server reads between batches.
    pub engine: RwLock<Engine>,
    connected: AtomicBool,
    started: AtomicBool,
    /// Unix milliseconds of the last checkpoint written (0: none yet).
    checkpoint_saved_at: AtomicI64,
}

impl Live {
    /// Shares `engine`; not ready until the pipeline has started and reached its source.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine: RwLock::new(engine),
            connected: AtomicBool::new(false),
            started: AtomicBool::new(false),
            checkpoint_saved_at: AtomicI64::new(0),
        }
    }

    /// Records whether the source reaches its broker.
    pub fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Relaxed);
    }

    /// Whether the source reached its broker at the last look.
    pub fn is_connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Records that the pipeline has loaded its checkpoint and is consuming.
    pub fn set_started(&self) {
        self.started.store(true, Ordering::Relaxed);
    }

    /// Records a checkpoint written at `at` (Unix milliseconds).
    pub fn set_checkpoint_saved_at(&self, at: i64) {
        self.checkpoint_saved_at.store(at, Ordering::Relaxed);
    }

    /// Unix milliseconds of the last checkpoint, if any.
    pub fn checkpoint_saved_at(&self) -> Option<i64> {
        Some(self.checkpoint_saved_at.load(Ordering::Relaxed)).filter(|at| *at > 0)
    }

    /// `Ok` when serving live data, else why not.
    pub fn readiness(&self) -> Result<(), &'static str> {
        if !self.started.load(Ordering::Relaxed) {
            Err("the pipeline is starting")
        } else if !self.connected.load(Ordering::Relaxed) {
            Err("the broker is unreachable; the figures are not advancing")
        } else {
            Ok(())
        }
    }
}
