//! Whether a clearing score (保单清分工作) posted now would count (docs/scoring.md#clearing-scores), asked
//! before it is sent, so the caller gets a reason instead of an event dropped without a word. The check
//! sees the engine as it is now: a duplicate id, or a month final on every partition. A month closed on
//! the partition the event will reach but not yet on all of them passes here and is late there.

use crate::arrival::Fingerprint;
use crate::engine::{Engine, Figures};
use schemas::{EpochMillis, YearMonth};
use thiserror::Error;

/// Why a clearing score would change nothing.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClearingRefusal {
    /// The month it scores is final.
    #[error("{0} is final: a clearing score can no longer change it")]
    MonthFinal(YearMonth),
    /// An event with its id was seen already.
    #[error("event_id {0:?} is already used: the event would be a duplicate")]
    Duplicate(String),
    /// It occurs in a month that is final, so it would be late.
    #[error(
        "occurred_at {at} is in {month}, which is final: the event would be late and change nothing"
    )]
    Late {
        /// The event time as given.
        at: String,
        /// Its local month.
        month: YearMonth,
    },
}

impl Figures {
    /// The time a clearing score is given when the caller names none: the latest watermark plus the
    /// watermark delay (about the latest event time that moved a watermark, so a replay of old data is not
    /// pushed into the future), or `now` before any event.
    pub fn clearing_score_time(&self, now: EpochMillis) -> EpochMillis {
        let delay = self.config().watermark_delay_secs as i64 * 1000;
        self.state()
            .arrival()
            .latest_watermark()
            .map_or(now, |w| w + delay)
    }
}

impl Engine {
    /// Refuses a clearing score for `month` when that month is final, and an event `event_id` at
    /// `occurred_at` (written `at`) that would be a duplicate or late.
    pub fn check_clearing_score(
        &self,
        month: YearMonth,
        event_id: &str,
        occurred_at: EpochMillis,
        at: &str,
    ) -> Result<(), ClearingRefusal> {
        let arrival = self.state().arrival();
        if arrival.is_final(month) {
            return Err(ClearingRefusal::MonthFinal(month));
        }
        if arrival.has_seen(Fingerprint::of(event_id)) {
            return Err(ClearingRefusal::Duplicate(event_id.to_string()));
        }
        let at_month = YearMonth::of_date(self.calendar().local_date(occurred_at));
        if arrival.is_final(at_month) {
            return Err(ClearingRefusal::Late {
                at: at.to_string(),
                month: at_month,
            });
        }
        Ok(())
    }
}
