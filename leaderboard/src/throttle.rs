//! Log lines for events a client can repeat at will, at most one a second per kind.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most one log line a second for a kind of event that a client can repeat at will.
#[derive(Default)]
pub struct Throttled {
    /// When the last line was logged, and how many events were not logged since.
    state: Mutex<Option<(Instant, u64)>>,
}

impl Throttled {
    /// Calls `log` with the number of events not logged since the last line, unless a line was logged
    /// less than a second ago.
    pub fn log(&self, log: impl FnOnce(u64)) {
        let now = Instant::now();
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &mut *state {
            Some((last, suppressed)) if now.duration_since(*last) < Duration::from_secs(1) => {
                *suppressed += 1;
            }
            Some((last, suppressed)) => {
                log(*suppressed);
                *last = now;
                *suppressed = 0;
            }
            None => {
                log(0);
                *state = Some((now, 0));
            }
        }
    }
}
