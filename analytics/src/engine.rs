//! The engine: one micro-batch at a time, decoded messages go through the arrival-order pass (dedupe,
//! watermark, lateness), accepted events update entity state and emit fact rows, DataFusion aggregates the
//! fact rows into keyed deltas, and the deltas merge into the keyed counters the scorecards read.
//!
//! The live pipeline and `leaderboard replay` both feed this same engine; only the source differs.

use crate::aggregate::{CounterKey, DeltaAggregator};
use crate::arrival::{ArrivalPass, Fingerprint, WatermarkRule};
use crate::daily::DailyCounters;
use crate::entities::{Entities, KnownKeys, Placement};
use crate::error::EngineError;
use crate::facts::{FactBuilder, Measures};
use chrono::Datelike;
use hashbrown::HashMap;
use schemas::{Config, LocalCalendar, LocalDates, Message, Organisation, YearMonth};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Messages whose lookups (their branches' and users' keys, and the dedupe set's lines loaded into the
/// cache) are made together before they are classified: enough misses to overlap, few enough lines to stay
/// in the core's cache.
pub const WARM_AHEAD: usize = 256;

/// What the engine looks up for a decoded message before it applies any message of the chunk.
#[derive(Debug, Clone, Copy)]
struct Lookup {
    /// The fingerprint of the event's id.
    id: Fingerprint,
    /// The keys its branch and user had when the chunk was looked up.
    known: KnownKeys,
}

/// What became of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Counted in the figures.
    Accepted,
    /// A second event with an id already seen: dropped.
    Duplicate,
    /// Arrived after a month it would change closed for its partition: archived, changes nothing.
    Late,
    /// Not a valid event: dead-lettered.
    Rejected,
}

/// Running totals of dispositions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Accepted events.
    pub accepted: u64,
    /// Duplicates dropped.
    pub duplicate: u64,
    /// Late events.
    pub late: u64,
    /// Rejected messages.
    pub rejected: u64,
}

impl Counts {
    /// Adds one message's disposition.
    pub fn record(&mut self, d: Disposition) {
        match d {
            Disposition::Accepted => self.accepted += 1,
            Disposition::Duplicate => self.duplicate += 1,
            Disposition::Late => self.late += 1,
            Disposition::Rejected => self.rejected += 1,
        }
    }
}

/// The keyed counters: per `(month, branch, user)` and rolled up per `(month, branch)`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counters {
    /// Per user (and the key `u32::MAX` for rows without one, such as reports without a user).
    pub by_user: HashMap<CounterKey, Measures>,
    /// Per branch.
    pub by_branch: HashMap<(i32, u32), Measures>,
}

impl Counters {
    /// A copy of the counters of one month (its ordinal).
    pub fn month(&self, month: i32) -> Counters {
        Counters {
            by_user: of_month(&self.by_user, month, |k| k.0),
            by_branch: of_month(&self.by_branch, month, |k| k.0),
        }
    }

    fn merge(&mut self, key: CounterKey, delta: &Measures) {
        merge_into(&mut self.by_user, key, delta);
        let mut branch_delta = *delta;
        branch_delta.login_days = 0; // login days only mean something per user
        merge_into(&mut self.by_branch, (key.0, key.1), &branch_delta);
    }
}

/// A copy of the entries of `map` whose key is of `month` (`month_of` reads it from a key).
pub(crate) fn of_month<K: Copy + Eq + std::hash::Hash, V: Clone>(
    map: &HashMap<K, V>,
    month: i32,
    month_of: fn(&K) -> i32,
) -> HashMap<K, V> {
    map.iter()
        .filter(|(k, _)| month_of(k) == month)
        .map(|(k, v)| (*k, v.clone()))
        .collect()
}

/// Adds `delta` to the counter of `key`. A counter that comes to nothing is removed (an issue taken back by
/// its cancellation or by an earlier issue of the same policy), so a key is held exactly when there is
/// something to count, whatever the order the deltas came in: a person who is not a member of a branch gets
/// a row there only then.
fn merge_into<K: std::hash::Hash + Eq>(
    counters: &mut HashMap<K, Measures>,
    key: K,
    delta: &Measures,
) {
    match counters.entry(key) {
        hashbrown::hash_map::Entry::Occupied(mut counter) => {
            counter.get_mut().merge(delta);
            if counter.get().is_zero() {
                counter.remove();
            }
        }
        hashbrown::hash_map::Entry::Vacant(slot) => {
            if !delta.is_zero() {
                slot.insert(*delta);
            }
        }
    }
}

/// Everything the engine keeps between batches: what a checkpoint saves.
///
/// Entities, counters and the day-by-day counters are shared with snapshots ([`Engine::snapshot`]) and
/// copied only when the engine changes them while a snapshot still holds them.
#[derive(Debug, Serialize, Deserialize)]
pub struct EngineState {
    /// Watermarks, closed months, offsets and the dedupe set.
    pub(crate) arrival: ArrivalPass,
    /// Entity state.
    pub(crate) entities: Arc<Entities>,
    /// Keyed counters.
    pub(crate) counters: Arc<Counters>,
    /// What each day of each month added to the counters.
    pub(crate) daily: Arc<DailyCounters>,
    /// Disposition totals.
    pub(crate) counts: Counts,
}

impl EngineState {
    /// Watermarks, closed months, offsets and the dedupe set.
    pub fn arrival(&self) -> &ArrivalPass {
        &self.arrival
    }

    /// What is known of users, policies, tasks, renewals, reports and clearing scores.
    pub fn entities(&self) -> &Entities {
        &self.entities
    }

    /// The keyed counters, per user and per branch of each month.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// What each day of each month added to the counters.
    pub fn daily(&self) -> &DailyCounters {
        &self.daily
    }

    /// Each partition's next offset: where a source resumes.
    pub fn positions(&self) -> std::collections::BTreeMap<schemas::PartitionId, u64> {
        self.arrival.positions()
    }

    /// A copy for readers: the clocks without the dedupe set, the rest shared.
    fn snapshot(&self) -> EngineState {
        EngineState {
            arrival: self.arrival.without_ids(),
            entities: self.entities.clone(),
            counters: self.counters.clone(),
            daily: self.daily.clone(),
            counts: self.counts,
        }
    }
}

/// What the figures are made from: the configuration, the organisation and the engine's state. Scorecards,
/// history and rewards are computed from it; [`Engine`] dereferences to its own, and
/// [`Engine::snapshot`] gives a copy that readers use without holding the engine.
#[derive(Debug)]
pub struct Figures {
    config: Arc<Config>,
    org: Arc<Organisation>,
    calendar: LocalCalendar,
    state: EngineState,
}

impl Figures {
    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The organisation file.
    pub fn org(&self) -> &Organisation {
        &self.org
    }

    /// The calendar of the configured zone.
    pub fn calendar(&self) -> &LocalCalendar {
        &self.calendar
    }

    /// The state the figures are read from (a snapshot's holds no dedupe set).
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// Disposition totals so far.
    pub fn counts(&self) -> Counts {
        self.state.counts
    }
}

/// The scoring engine: its figures, and what turns batches into them.
pub struct Engine {
    figures: Figures,
    aggregator: DeltaAggregator,
    facts: FactBuilder,
    dates: LocalDates,
    /// The assessment's first month: the base of the task month bits.
    base_month: YearMonth,
    /// Keep the day-by-day counters (docs/scoring.md#day-by-day-history).
    day_history: bool,
}

impl Engine {
    /// An empty engine for `config` and `org`; the organisation's branches are known from the start.
    pub fn new(config: Arc<Config>, org: Arc<Organisation>) -> Self {
        let calendar = LocalCalendar::new(config.timezone);
        let arrival = ArrivalPass::for_config(&config, calendar);
        let base_month = crate::period::assessment_months(&config).first;
        let mut entities = Entities::default();
        for branch in &org.branches {
            entities.branches.intern(&branch.branch_id);
        }
        Self {
            figures: Figures {
                config,
                org,
                calendar,
                state: EngineState {
                    arrival,
                    entities: Arc::new(entities),
                    counters: Arc::default(),
                    daily: Arc::default(),
                    counts: Counts::default(),
                },
            },
            aggregator: DeltaAggregator::new(),
            facts: FactBuilder::default(),
            dates: LocalDates::new(calendar),
            base_month,
            day_history: true,
        }
    }

    /// An engine that continues from `state` (a checkpoint's).
    pub fn restore(config: Arc<Config>, org: Arc<Organisation>, mut state: EngineState) -> Self {
        let mut engine = Self::new(config, org);
        state
            .arrival
            .configure(engine.calendar, WatermarkRule::for_config(&engine.config));
        let entities = Arc::make_mut(&mut state.entities);
        for branch in &engine.org.branches {
            entities.branches.intern(&branch.branch_id);
        }
        engine.figures.state = state;
        engine
    }

    /// Keeps no day-by-day history from now on: fact rows carry no day, and [`Figures::history`] shows
    /// nothing before the month's last day. Only for measuring what the history costs; the scorecards
    /// are the same.
    pub fn keep_no_day_history(&mut self) {
        self.day_history = false;
        self.facts.keep_no_days();
    }

    /// A copy of the figures as they are now, for reading without holding the engine: it shares the
    /// entities and counters until the engine next changes them, and has the clocks but no dedupe set.
    pub fn snapshot(&self) -> Figures {
        Figures {
            config: self.figures.config.clone(),
            org: self.figures.org.clone(),
            calendar: self.figures.calendar,
            state: self.figures.state.snapshot(),
        }
    }

    /// Processes one micro-batch in arrival order; returns each message's disposition, in order.
    ///
    /// The figures after any sequence of batches equal those of feeding the same messages one at a time.
    pub async fn process(&mut self, messages: &[Message]) -> Result<Vec<Disposition>, EngineError> {
        let mut dispositions = Vec::with_capacity(messages.len());
        let mut lookups = Vec::with_capacity(WARM_AHEAD);
        let state = &mut self.figures.state;
        let mut batch = Arrivals {
            arrival: &mut state.arrival,
            // Taken from snapshots once for the batch (copied only if one still holds them).
            entities: Arc::make_mut(&mut state.entities),
            facts: &mut self.facts,
            dates: &mut self.dates,
            base_month: self.base_month,
        };
        for chunk in messages.chunks(WARM_AHEAD) {
            // What can be looked up before any of the chunk is applied, for all of it at once: the
            // lookups are independent, so their cache misses overlap.
            lookups.clear();
            lookups.extend(chunk.iter().map(|m| {
                m.decoded.as_ref().ok().map(|event| Lookup {
                    id: Fingerprint::of(&event.event_id),
                    known: batch.entities.known_keys(event),
                })
            }));
            batch
                .arrival
                .warm(lookups.iter().flatten().map(|lookup| lookup.id));
            for (message, lookup) in chunk.iter().zip(&lookups) {
                let d = batch.classify_and_apply(message, *lookup);
                state.counts.record(d);
                dispositions.push(d);
            }
        }
        if !self.facts.is_empty() {
            let facts = self.facts.finish();
            let deltas = self.aggregator.aggregate(facts.clone()).await?;
            self.facts.recycle(facts);
            let state = &mut self.figures.state;
            let counters = Arc::make_mut(&mut state.counters);
            let mut daily = self.day_history.then(|| Arc::make_mut(&mut state.daily));
            for (key, delta) in &deltas {
                counters.merge((key.month, key.branch, key.user), delta);
                if let Some(daily) = daily.as_mut() {
                    daily.merge(*key, delta);
                }
            }
        }
        Ok(dispositions)
    }
}

/// What the arrival-order pass of one batch reads and changes, borrowed from the engine.
struct Arrivals<'a> {
    arrival: &'a mut ArrivalPass,
    entities: &'a mut Entities,
    facts: &'a mut FactBuilder,
    dates: &'a mut LocalDates,
    base_month: YearMonth,
}

impl Arrivals<'_> {
    /// The arrival-order decision for one message, and its effect on entity state and fact rows.
    /// `lookup` is what was looked up for it ahead (`None` for a rejected message).
    fn classify_and_apply(&mut self, message: &Message, lookup: Option<Lookup>) -> Disposition {
        let arrival = &mut *self.arrival;
        arrival.saw_offset(message.partition, message.offset);
        let (Ok(event), Some(Lookup { id, known })) = (&message.decoded, lookup) else {
            return Disposition::Rejected;
        };
        let date = self.dates.local_date(event.occurred_at);
        let month = YearMonth::of_date(date);
        // A state change (registration, deregistration, WeChat binding) holds from its instant on, so one
        // whose own month has closed still changes the open months (the change remembers which), and its id
        // is remembered with the first of them, as long as a copy could change something.
        let state_change = event.is_state_change();
        let open_from = arrival.open_from(message.partition);
        let dedupe_month = match open_from {
            Some(open_from) if state_change => month.max(open_from),
            _ => month,
        };
        if arrival.is_duplicate(id, dedupe_month) {
            return Disposition::Duplicate;
        }
        let target = self.entities.target_month(event);
        let own_month_late = arrival.is_closed(message.partition, month) && !state_change;
        let late =
            own_month_late || target.is_some_and(|m| arrival.is_closed(message.partition, m));
        arrival.advance(message.partition, event.occurred_at);
        if late {
            return Disposition::Late;
        }
        let placement = Placement {
            month,
            day: date.day(),
            open_from,
            base_month: self.base_month,
            known,
        };
        self.entities.apply(event, placement, self.facts);
        Disposition::Accepted
    }
}

impl std::ops::Deref for Engine {
    type Target = Figures;

    fn deref(&self) -> &Figures {
        &self.figures
    }
}
