//! Whether a clearing score (保单清分工作) posted now would count: the same duplicate and lateness rules
//! the engine applies when the event arrives (docs/scoring.md#clearing-scores), asked before it is sent,
//! so the caller gets a reason instead of an event dropped without a word.

use crate::arrival::Fingerprint;
use crate::engine::Engine;
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

impl Engine {
    /// The time a clearing score is given when the caller names none: the latest watermark plus the
    /// watermark delay (the latest event time the pipeline has seen, so a replay of old data is not pushed
    /// into the future), or `now` before any event.
    pub fn clearing_score_time(&self, now: EpochMillis) -> EpochMillis {
        let delay = self.config().watermark_delay_secs as i64 * 1000;
        self.state()
            .arrival()
            .latest_watermark()
            .map_or(now, |w| w + delay)
    }

    /// Refuses a clearing score for `month` whose month is final, and otherwise an event `event_id` at
    /// `occurred_at` (written `at`) that would be a duplicate or late.
    pub fn check_clearing_score(
        &self,
        month: YearMonth,
        event_id: Option<&str>,
        occurred_at: Option<(EpochMillis, &str)>,
    ) -> Result<(), ClearingRefusal> {
        let arrival = self.state().arrival();
        if arrival.is_final(month) {
            return Err(ClearingRefusal::MonthFinal(month));
        }
        if let Some(id) = event_id
            && arrival.has_seen(Fingerprint::of(id))
        {
            return Err(ClearingRefusal::Duplicate(id.to_string()));
        }
        if let Some((at, text)) = occurred_at {
            let at_month = YearMonth::of_date(self.calendar().local_date(at));
            if arrival.is_final(at_month) {
                return Err(ClearingRefusal::Late {
                    at: text.to_string(),
                    month: at_month,
                });
            }
        }
        Ok(())
    }
}
