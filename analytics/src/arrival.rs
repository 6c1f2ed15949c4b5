//! The arrival-order pass: per-partition watermarks and month closing, and deduplication by `event_id`.
//!
//! Lateness is decided here from each partition's own history only (SPEC §5), so results never depend on
//! how partitions interleave. Dedupe memory is bounded to months that are not yet final everywhere.

use schemas::{Config, EpochMillis, LocalCalendar, YearMonth};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use crate::seen_ids::Fingerprint;
use crate::seen_ids::SeenIds;

pub use schemas::PartitionId;

/// Where one partition stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionClock {
    /// The greatest `occurred_at` delivered, minus the watermark delay.
    pub watermark: Option<EpochMillis>,
    /// The first month not closed for this partition (every earlier month is closed).
    pub open_from: Option<YearMonth>,
    /// The instant after which the watermark closes `open_from` (kept so the per-event check is a compare).
    pub open_month_closes_at: Option<EpochMillis>,
    /// The offset after the last message seen.
    pub next_offset: u64,
}

/// Per-partition clocks and the dedupe set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArrivalPass {
    #[serde(skip, default = "default_calendar")]
    calendar: LocalCalendar,
    delay_ms: i64,
    grace_ms: i64,
    partitions: BTreeMap<PartitionId, PartitionClock>,
    seen: SeenIds,
    /// Months before this are final everywhere and no longer deduplicated.
    pruned_before: Option<YearMonth>,
}

fn default_calendar() -> LocalCalendar {
    LocalCalendar::new(chrono_tz::UTC)
}

impl ArrivalPass {
    /// A pass with the given calendar, watermark delay and grace period.
    pub fn new(calendar: LocalCalendar, delay_ms: i64, grace_ms: i64) -> Self {
        Self {
            calendar,
            delay_ms,
            grace_ms,
            partitions: BTreeMap::new(),
            seen: SeenIds::default(),
            pruned_before: None,
        }
    }

    /// The pass `config` asks for (its watermark delay and grace period) in `calendar`, the calendar of
    /// `config`'s zone.
    pub fn for_config(config: &Config, calendar: LocalCalendar) -> Self {
        Self::new(
            calendar,
            config.watermark_delay_secs as i64 * 1000,
            i64::from(config.grace_days) * 86_400_000,
        )
    }

    /// Puts back the calendar a deserialised pass does not carry.
    pub(crate) fn set_calendar(&mut self, calendar: LocalCalendar) {
        self.calendar = calendar;
    }

    /// The next offset to read in each partition that has delivered anything.
    pub fn positions(&self) -> BTreeMap<PartitionId, u64> {
        self.partitions
            .iter()
            .map(|(p, clock)| (*p, clock.next_offset))
            .collect()
    }

    /// Records the event id with fingerprint `id` (of an event in `month`); returns true if and only if it
    /// was seen before.
    pub fn is_duplicate(&mut self, id: Fingerprint, month: YearMonth) -> bool {
        !self.seen.insert(id, month.ordinal())
    }

    /// Returns true if and only if an event with this id has been seen (and its month is not yet final).
    pub fn has_seen(&self, id: Fingerprint) -> bool {
        self.seen.contains(id)
    }

    /// Loads what deduplicating these ids will read into the cache (a hint: it changes no state).
    pub fn warm(&self, ids: impl IntoIterator<Item = Fingerprint>) {
        self.seen.warm(ids);
    }

    /// Returns true if and only if `month` is closed for `partition`.
    pub fn is_closed(&self, partition: PartitionId, month: YearMonth) -> bool {
        self.partitions
            .get(&partition)
            .and_then(|p| p.open_from)
            .is_some_and(|open_from| month < open_from)
    }

    /// The first month still open for `partition`, if it has delivered anything.
    pub fn open_from(&self, partition: PartitionId) -> Option<YearMonth> {
        self.partitions.get(&partition).and_then(|p| p.open_from)
    }

    /// Notes the offset of a message from `partition`, whatever became of it.
    pub fn saw_offset(&mut self, partition: PartitionId, offset: u64) {
        let clock = self.partitions.entry(partition).or_default();
        clock.next_offset = clock.next_offset.max(offset + 1);
    }

    /// Moves `partition`'s watermark for an event at `occurred_at`, closing months it passes.
    pub fn advance(&mut self, partition: PartitionId, occurred_at: EpochMillis) {
        let candidate = occurred_at - self.delay_ms;
        let clock = self.partitions.entry(partition).or_default();
        if clock.watermark.is_some_and(|w| w >= candidate) {
            return;
        }
        clock.watermark = Some(candidate);
        if clock
            .open_month_closes_at
            .is_some_and(|closes_at| candidate <= closes_at)
        {
            return; // the common case: no month closes
        }
        let mut open_from = clock.open_from.unwrap_or_else(|| {
            // Start a few months back; the loop below closes whatever the watermark has passed.
            let lookback = 2 + (self.grace_ms / (28 * 86_400_000)) as i32;
            YearMonth::of_date(self.calendar.local_date(candidate)).plus(-lookback)
        });
        let (calendar, grace_ms) = (self.calendar, self.grace_ms);
        let closes_at = |month| calendar.month_end(month) + grace_ms;
        while closes_at(open_from) < candidate {
            open_from = open_from.plus(1);
        }
        let closed_more = clock.open_from != Some(open_from);
        clock.open_from = Some(open_from);
        clock.open_month_closes_at = Some(closes_at(open_from));
        if closed_more {
            self.prune();
        }
    }

    /// Forgets ids of months that are final everywhere: a copy arriving now would be late anyway (or, for
    /// a state change such as a registration, set the same state at the same instant again).
    fn prune(&mut self) {
        let Some(final_before) = self.final_before() else {
            return;
        };
        if self.pruned_before.is_some_and(|p| p >= final_before) {
            return;
        }
        self.pruned_before = Some(final_before);
        let keep_from = final_before.ordinal();
        self.seen.retain_from(keep_from);
    }

    /// The first month not final: every earlier month is closed for every partition that delivered events.
    pub fn final_before(&self) -> Option<YearMonth> {
        self.partitions.values().filter_map(|p| p.open_from).min()
    }

    /// Returns true if and only if `month` is closed for every partition that has delivered events.
    pub fn is_final(&self, month: YearMonth) -> bool {
        self.final_before().is_some_and(|f| month < f)
    }

    /// The greatest watermark of any partition.
    pub fn latest_watermark(&self) -> Option<EpochMillis> {
        self.partitions.values().filter_map(|p| p.watermark).max()
    }

    /// The clocks of all partitions.
    pub fn partitions(&self) -> &BTreeMap<PartitionId, PartitionClock> {
        &self.partitions
    }

    /// How many event ids the dedupe set holds.
    pub fn remembered_ids(&self) -> usize {
        self.seen.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn at(s: &str) -> EpochMillis {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    fn pass() -> ArrivalPass {
        ArrivalPass::new(
            LocalCalendar::new(chrono_tz::Asia::Shanghai),
            300_000,
            3 * 86_400_000,
        )
    }

    #[test]
    fn june_closes_three_days_and_five_minutes_after_it_ends() {
        let june: YearMonth = "2016-06".parse().unwrap();
        let mut p = pass();
        p.advance(0, at("2016-07-04T00:05:00+08:00"));
        assert!(
            !p.is_closed(0, june),
            "watermark exactly at the close instant does not pass it"
        );
        p.advance(0, at("2016-07-04T00:05:01+08:00"));
        assert!(p.is_closed(0, june));
        assert!(!p.is_closed(1, june), "another partition is unaffected");
        assert!(!p.is_final(june) || p.partitions().len() == 1);
        p.advance(1, at("2016-06-20T00:00:00+08:00"));
        assert!(!p.is_final(june), "partition 1 has not closed June");
    }

    #[test]
    fn duplicates_are_found_until_their_month_is_final() {
        let june: YearMonth = "2016-06".parse().unwrap();
        let mut p = pass();
        assert!(!p.is_duplicate(Fingerprint::of("a"), june));
        assert!(p.is_duplicate(Fingerprint::of("a"), june));
        p.advance(0, at("2016-08-01T00:00:00+08:00"));
        assert_eq!(
            p.remembered_ids(),
            0,
            "June is final, its ids are forgotten"
        );
    }
}
