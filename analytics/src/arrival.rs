//! The arrival-order pass: per-partition watermarks and month closing, and deduplication by `event_id`.
//!
//! Lateness is decided here from each partition's own history only, so results never depend on how
//! partitions interleave. Dedupe memory is bounded to months that are not yet final everywhere.
//!
//! **The watermark rule.** A partition's watermark is the greatest `occurred_at` it has delivered minus the
//! watermark delay, except that no single event moves it far: an event more than `max_watermark_jump_secs`
//! ahead of the watermark moves it only when it and the events just before it (`watermark_confirmations`
//! in a row) are all that far ahead, and then only to the earliest of them. So one event stamped by a wrong
//! clock is counted in its own month's figures but closes no month; a partition that resumes after days of
//! silence moves on after a few events; a partition's watermark starts once it has delivered that many
//! events. An event that leaves the window of recent events still beyond the bound is an **outlier**:
//! counted per partition, with the time of the latest, in `/api/v1/status` and the metrics.

use schemas::{Config, EpochMillis, LocalCalendar, YearMonth};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

pub use crate::seen_ids::Fingerprint;
use crate::seen_ids::SeenIds;

pub use schemas::PartitionId;

/// How watermarks follow event times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatermarkRule {
    /// How far a watermark trails the event times that move it, in milliseconds.
    pub delay_ms: i64,
    /// How far ahead of the watermark one event may move it on its own, in milliseconds.
    pub max_jump_ms: i64,
    /// Events in a row, all beyond the jump bound, that move the watermark to the earliest of them (1 lets
    /// every event move it).
    pub confirmations: usize,
}

impl WatermarkRule {
    /// The rule `config` sets.
    pub fn for_config(config: &Config) -> Self {
        Self {
            delay_ms: config.watermark_delay_secs as i64 * 1000,
            max_jump_ms: config.max_watermark_jump_secs as i64 * 1000,
            confirmations: config.watermark_confirmations.max(1) as usize,
        }
    }
}

impl Default for WatermarkRule {
    fn default() -> Self {
        Self::for_config(&Config::default())
    }
}

/// Where one partition stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionClock {
    /// The watermark: the event time (minus the watermark delay) the partition has reached.
    pub watermark: Option<EpochMillis>,
    /// The first month not closed for this partition (every earlier month is closed).
    pub open_from: Option<YearMonth>,
    /// The instant after which the watermark closes `open_from` (kept so the per-event check is a compare).
    pub open_month_closes_at: Option<EpochMillis>,
    /// The offset after the last message seen.
    pub next_offset: u64,
    /// The watermark candidates (`occurred_at` minus the delay) of the partition's latest events, oldest
    /// first: the window that confirms a jump.
    pub recent: VecDeque<EpochMillis>,
    /// Events that left the window still beyond the jump bound: their clocks moved no watermark.
    pub outliers: u64,
    /// The `occurred_at` of the latest outlier.
    pub last_outlier: Option<EpochMillis>,
}

impl PartitionClock {
    /// Returns true if and only if the partition has delivered an event that counts for its clock.
    fn has_events(&self) -> bool {
        self.watermark.is_some() || !self.recent.is_empty()
    }
}

/// Per-partition clocks and the dedupe set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArrivalPass {
    #[serde(skip, default = "default_calendar")]
    calendar: LocalCalendar,
    #[serde(skip)]
    rule: WatermarkRule,
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
    /// A pass with the given calendar, watermark rule and grace period.
    pub fn new(calendar: LocalCalendar, rule: WatermarkRule, grace_ms: i64) -> Self {
        Self {
            calendar,
            rule,
            grace_ms,
            partitions: BTreeMap::new(),
            seen: SeenIds::default(),
            pruned_before: None,
        }
    }

    /// The pass `config` asks for (its watermark rule and grace period) in `calendar`, the calendar of
    /// `config`'s zone.
    pub fn for_config(config: &Config, calendar: LocalCalendar) -> Self {
        Self::new(
            calendar,
            WatermarkRule::for_config(config),
            i64::from(config.grace_days) * 86_400_000,
        )
    }

    /// Puts back what a deserialised pass does not carry: the calendar and the watermark rule (state-shaping
    /// settings, the same as the checkpoint's: `state_settings`).
    pub(crate) fn configure(&mut self, calendar: LocalCalendar, rule: WatermarkRule) {
        self.calendar = calendar;
        self.rule = rule;
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

    /// Moves `partition`'s watermark for an event at `occurred_at` (by the rule of the module docs),
    /// closing months it passes.
    pub fn advance(&mut self, partition: PartitionId, occurred_at: EpochMillis) {
        let rule = self.rule;
        let candidate = occurred_at - rule.delay_ms;
        let clock = self.partitions.entry(partition).or_default();
        clock.recent.push_back(candidate);
        let left = (clock.recent.len() > rule.confirmations)
            .then(|| clock.recent.pop_front())
            .flatten();
        let within_bound = clock
            .watermark
            .is_some_and(|w| candidate <= w.saturating_add(rule.max_jump_ms));
        let reached = if within_bound {
            Some(candidate)
        } else if clock.recent.len() == rule.confirmations {
            // An event within the bound moves the watermark up to itself, so when the earliest of the
            // window is past the watermark, every event of it was beyond the bound when it came: together
            // they confirm the earliest of their times.
            clock.recent.iter().copied().min()
        } else {
            None
        };
        let moved = match reached {
            Some(reached) if clock.watermark.is_none_or(|w| w < reached) => {
                clock.watermark = Some(reached);
                true
            }
            _ => false,
        };
        if let (Some(left), Some(watermark)) = (left, clock.watermark)
            && left > watermark.saturating_add(rule.max_jump_ms)
        {
            clock.outliers += 1;
            clock.last_outlier = Some(left + rule.delay_ms);
        }
        if moved {
            self.close_months(partition);
        }
    }

    /// Closes the months `partition`'s watermark has passed by the grace period.
    fn close_months(&mut self, partition: PartitionId) {
        let (calendar, grace_ms) = (self.calendar, self.grace_ms);
        let clock = self.partitions.entry(partition).or_default();
        let Some(watermark) = clock.watermark else {
            return;
        };
        if clock
            .open_month_closes_at
            .is_some_and(|closes_at| watermark <= closes_at)
        {
            return; // the common case: no month closes
        }
        let mut open_from = clock.open_from.unwrap_or_else(|| {
            // Start a few months back; the loop below closes whatever the watermark has passed.
            let lookback = 2 + (grace_ms / (28 * 86_400_000)) as i32;
            YearMonth::of_date(calendar.local_date(watermark)).plus(-lookback)
        });
        let closes_at = |month| calendar.month_end(month) + grace_ms;
        while closes_at(open_from) < watermark {
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

    /// The first month not final: every earlier month is closed for every partition that delivered events
    /// (`None` while one of them has no watermark yet).
    pub fn final_before(&self) -> Option<YearMonth> {
        self.partitions
            .values()
            .filter(|p| p.has_events())
            .map(|p| p.open_from)
            .min()
            .flatten()
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

    /// Outliers over all partitions: events whose clocks moved no watermark.
    pub fn outliers(&self) -> u64 {
        self.partitions.values().map(|p| p.outliers).sum()
    }

    /// A copy of the clocks with an empty dedupe set: what readers of a snapshot need (watermarks, closed
    /// and final months), without copying the ids.
    pub(crate) fn without_ids(&self) -> ArrivalPass {
        ArrivalPass {
            calendar: self.calendar,
            rule: self.rule,
            grace_ms: self.grace_ms,
            partitions: self.partitions.clone(),
            seen: SeenIds::default(),
            pruned_before: self.pruned_before,
        }
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
            WatermarkRule {
                delay_ms: 300_000,
                max_jump_ms: 6 * 3_600_000,
                confirmations: 3,
            },
            3 * 86_400_000,
        )
    }

    /// Three events at `time` on `partition`: enough to confirm any jump.
    fn reach(p: &mut ArrivalPass, partition: PartitionId, time: &str) {
        for _ in 0..3 {
            p.advance(partition, at(time));
        }
    }

    #[test]
    fn june_closes_three_days_and_five_minutes_after_it_ends() {
        let june: YearMonth = "2016-06".parse().unwrap();
        let mut p = pass();
        reach(&mut p, 0, "2016-07-04T00:05:00+08:00");
        assert!(
            !p.is_closed(0, june),
            "watermark exactly at the close instant does not pass it"
        );
        p.advance(0, at("2016-07-04T00:05:01+08:00"));
        assert!(p.is_closed(0, june));
        assert!(!p.is_closed(1, june), "another partition is unaffected");
        assert!(
            p.is_final(june),
            "the only partition with events closed June"
        );
        p.advance(1, at("2016-06-20T00:00:00+08:00"));
        assert!(
            !p.is_final(june),
            "partition 1 has delivered an event and has not closed June (it has no watermark yet)"
        );
        assert!(!p.is_closed(1, june));
    }

    #[test]
    fn one_event_far_ahead_closes_nothing_and_is_counted_as_an_outlier() {
        let july: YearMonth = "2016-07".parse().unwrap();
        let mut p = pass();
        reach(&mut p, 0, "2016-07-30T10:00:00+08:00");
        let before = p.partitions()[&0].watermark;
        p.advance(0, at("2016-11-15T10:00:00+08:00")); // a device whose clock is months ahead
        assert_eq!(p.partitions()[&0].watermark, before, "the watermark stays");
        for time in ["2016-07-30T10:01:00+08:00", "2016-07-30T10:02:00+08:00"] {
            p.advance(0, at(time));
        }
        assert_eq!(p.outliers(), 0, "still in the window");
        p.advance(0, at("2016-07-30T10:03:00+08:00"));
        assert!(!p.is_closed(0, july));
        assert_eq!(p.outliers(), 1, "left the window unconfirmed");
        assert_eq!(
            p.partitions()[&0].last_outlier,
            Some(at("2016-11-15T10:00:00+08:00"))
        );
        assert_eq!(
            p.partitions()[&0].watermark,
            Some(at("2016-07-30T10:03:00+08:00") - 300_000)
        );
        // Two wrong clocks in a row confirm nothing either, and a small step ahead moves the watermark at once.
        p.advance(0, at("2016-11-15T10:00:00+08:00"));
        p.advance(0, at("2016-11-16T10:00:00+08:00"));
        p.advance(0, at("2016-07-30T15:00:00+08:00"));
        assert_eq!(
            p.partitions()[&0].watermark,
            Some(at("2016-07-30T15:00:00+08:00") - 300_000)
        );
        assert!(!p.is_closed(0, july));
    }

    #[test]
    fn a_partition_that_resumes_after_days_of_silence_moves_on_after_the_confirmations() {
        let june: YearMonth = "2016-06".parse().unwrap();
        let mut p = pass();
        reach(&mut p, 0, "2016-06-28T18:00:00+08:00");
        p.advance(0, at("2016-07-06T09:00:00+08:00"));
        p.advance(0, at("2016-07-06T09:30:00+08:00"));
        assert!(!p.is_closed(0, june), "two events do not confirm a jump");
        p.advance(0, at("2016-07-06T09:10:00+08:00"));
        assert!(p.is_closed(0, june), "three in a row do");
        assert_eq!(
            p.partitions()[&0].watermark,
            Some(at("2016-07-06T09:00:00+08:00") - 300_000),
            "to the earliest of them"
        );
        assert_eq!(p.outliers(), 0);
    }

    #[test]
    fn a_wrong_first_event_does_not_start_the_watermark() {
        let july: YearMonth = "2016-07".parse().unwrap();
        let mut p = pass();
        p.advance(0, at("2016-11-15T10:00:00+08:00"));
        p.advance(0, at("2016-07-10T10:00:00+08:00"));
        assert_eq!(p.partitions()[&0].watermark, None);
        p.advance(0, at("2016-07-10T11:00:00+08:00"));
        assert_eq!(
            p.partitions()[&0].watermark,
            Some(at("2016-07-10T10:00:00+08:00") - 300_000)
        );
        assert!(!p.is_closed(0, july));
    }

    #[test]
    fn one_confirmation_lets_every_event_move_the_watermark() {
        let june: YearMonth = "2016-06".parse().unwrap();
        let rule = WatermarkRule {
            delay_ms: 300_000,
            max_jump_ms: 0,
            confirmations: 1,
        };
        let mut p = ArrivalPass::new(
            LocalCalendar::new(chrono_tz::Asia::Shanghai),
            rule,
            3 * 86_400_000,
        );
        p.advance(0, at("2016-08-01T00:00:00+08:00"));
        assert!(p.is_closed(0, june));
    }

    #[test]
    fn duplicates_are_found_until_their_month_is_final() {
        let june: YearMonth = "2016-06".parse().unwrap();
        let mut p = pass();
        assert!(!p.is_duplicate(Fingerprint::of("a"), june));
        assert!(p.is_duplicate(Fingerprint::of("a"), june));
        reach(&mut p, 0, "2016-08-01T00:00:00+08:00");
        assert_eq!(
            p.remembered_ids(),
            0,
            "June is final, its ids are forgotten"
        );
    }
}
