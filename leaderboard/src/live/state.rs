//! What the pipeline shares with the HTTP server: the engine behind a lock, and the pipeline's status.

use crate::live::deals::Deal;
use analytics::{Engine, Figures, Moment, make_room};
use schemas::{Config, Organisation};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tokio::sync::{RwLock, watch};

/// Most large deals waiting for the hub; more in one push interval are dropped (screens flash at most a few).
const PENDING_DEALS: usize = 64;

/// Most moments waiting for the hub; beyond them the oldest give way ([`make_room`]).
const PENDING_MOMENTS: usize = 256;

/// The live engine and the status `/ready` and `/metrics` report.
pub struct Live {
    config: Arc<Config>,
    org: Arc<Organisation>,
    /// The engine: the pipeline writes one micro-batch at a time, the server reads between batches.
    pub engine: RwLock<Engine>,
    connected: AtomicBool,
    /// The source lost its broker after reaching it, and has not reached it again.
    lost: AtomicBool,
    started: AtomicBool,
    /// Unix milliseconds of the last checkpoint written (0: none yet).
    checkpoint_saved_at: AtomicI64,
    /// Counts the batches applied: the hub wakes on each change.
    version: watch::Sender<u64>,
    /// Large deals of the batches applied since the hub last looked.
    deals: Mutex<Vec<Deal>>,
    /// Moments of the batches applied since the hub last looked.
    moments: Mutex<VecDeque<Moment>>,
}

impl Live {
    /// Shares `engine`; not ready until the pipeline has started and reached its source.
    pub fn new(engine: Engine) -> Self {
        Self {
            config: Arc::new(engine.config().clone()),
            org: Arc::new(engine.org().clone()),
            engine: RwLock::new(engine),
            connected: AtomicBool::new(false),
            lost: AtomicBool::new(false),
            started: AtomicBool::new(false),
            checkpoint_saved_at: AtomicI64::new(0),
            version: watch::Sender::new(0),
            deals: Mutex::new(Vec::new()),
            moments: Mutex::new(VecDeque::new()),
        }
    }

    /// The figures as they are now, to read without holding the engine: the pipeline goes on while a
    /// reader computes a scorecard, history or table from them.
    pub async fn figures(&self) -> Figures {
        self.engine.read().await.snapshot()
    }

    /// Records that a batch has changed the state, with the large deals it held and the moments it made.
    pub fn batch_applied(&self, deals: Vec<Deal>, moments: Vec<Moment>) {
        if !deals.is_empty() {
            let mut pending = self.deals.lock().unwrap_or_else(|e| e.into_inner());
            let room = PENDING_DEALS.saturating_sub(pending.len());
            pending.extend(deals.into_iter().take(room));
        }
        if !moments.is_empty() {
            let mut pending = self.moments.lock().unwrap_or_else(|e| e.into_inner());
            pending.extend(moments);
            make_room(&mut pending, PENDING_MOMENTS);
        }
        self.version.send_modify(|v| *v += 1);
    }

    /// Wakes whenever a batch has been applied.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    /// Takes the large deals recorded since the last call.
    pub fn take_deals(&self) -> Vec<Deal> {
        std::mem::take(&mut *self.deals.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Takes the moments recorded since the last call.
    pub fn take_moments(&self) -> Vec<Moment> {
        let mut pending = self.moments.lock().unwrap_or_else(|e| e.into_inner());
        pending.drain(..).collect()
    }

    /// The configuration the engine runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The organisation file.
    pub fn org(&self) -> &Organisation {
        &self.org
    }

    /// Records whether the source reaches its broker; a loss of the broker, and its recovery, are logged
    /// once each.
    pub fn set_connected(&self, connected: bool) {
        let was = self.connected.swap(connected, Ordering::Relaxed);
        if was && !connected {
            self.lost.store(true, Ordering::Relaxed);
            tracing::warn!(
                "the source cannot reach its broker: the figures stand still until it can"
            );
        } else if !was && connected && self.lost.swap(false, Ordering::Relaxed) {
            tracing::warn!("the source reaches its broker again: consuming");
        }
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

#[cfg(test)]
mod tests {
    use super::Live;
    use analytics::Engine;
    use schemas::{Config, Organisation};
    use std::sync::Arc;

    #[test]
    fn losing_and_reaching_the_broker_again_are_logged_once_each() {
        let org =
            Organisation::from_csv("branch_id,branch_name,in_scope\nzd,张店,true\n".as_bytes())
                .unwrap();
        let live = Live::new(Engine::new(Arc::new(Config::default()), Arc::new(org)));
        let ((), log) = crate::test_log::logged(|| {
            for connected in [true, true, false, false, false, true, true] {
                live.set_connected(connected);
            }
        });
        assert_eq!(log.matches("cannot reach its broker").count(), 1, "{log}");
        assert_eq!(log.matches("reaches its broker again").count(), 1, "{log}");
        assert!(
            log.find("cannot reach").unwrap() < log.find("again").unwrap(),
            "{log}"
        );
        assert!(live.is_connected());
    }
}
