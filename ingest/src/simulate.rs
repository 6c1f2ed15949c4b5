//! A deterministic synthetic activity generator for tests, demos and benchmarks.
//!
//! [`simulate`] plays the branches of a city company through a run of local days and hands every event of
//! docs/scoring.md#events to a callback, day by day and in time order within each day. Everything (who is diligent, which
//! branch works on phones, which quotes turn into policies) comes from one seeded ChaCha8 stream, so the same
//! [`SimulationSpec`] always produces the same events, and the volume grows linearly with
//! branches × users × days. [`organisation_csv`] writes the matching organisation file (docs/operations.md#organisation-file).

mod daily;
mod monthly;
mod names;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;
use compact_str::format_compact;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use schemas::{Channel, DealType, EpochMillis, Event, Id, Payload, Terminal};
use std::collections::BTreeMap;

/// What to simulate: which days, how big an organisation, and the seed everything is drawn from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationSpec {
    /// The first local day simulated.
    pub from: chrono::NaiveDate,
    /// How many consecutive local days to simulate.
    pub days: u32,
    /// How many branches (`b01`, `b02`, …); with 12 or more, the last two are out of scope.
    pub branches: u32,
    /// How many salespeople each branch starts with (`b01-u001`, …).
    pub users_per_branch: u32,
    /// The seed of every random choice; the same spec gives the same events.
    pub seed: u64,
    /// The zone whose local days and office hours the activity follows.
    pub zone: chrono_tz::Tz,
}

impl Default for SimulationSpec {
    /// June 2016 (30 days from 2016-06-01) for 11 branches of 50 users, seed 42, in `Asia/Shanghai`.
    fn default() -> Self {
        Self {
            from: NaiveDate::from_ymd_opt(2016, 6, 1).expect("valid date"),
            days: 30,
            branches: 11,
            users_per_branch: 50,
            seed: 42,
            zone: chrono_tz::Asia::Shanghai,
        }
    }
}

/// Organisation CSV text (header `branch_id,branch_name,in_scope`) for `branches` branches.
///
/// Ids are `b01`, `b02`, …; the first branches carry Zibo branch names (张店支公司, 淄川支公司, …, 城区三部),
/// later ones `营业部N`. With 12 or more branches the last two are the out-of-scope units 续保拓展部 and 车商.
pub fn organisation_csv(branches: u32) -> String {
    let mut csv = String::from("branch_id,branch_name,in_scope\n");
    for index in 0..branches {
        let (name, in_scope) = names::branch_name(index, branches);
        csv.push_str(&format!("{},{name},{in_scope}\n", names::branch_id(index)));
    }
    csv
}

/// Calls `emit` for every event, in nondecreasing occurred_at order within each local day (day by day), never
/// holding more than one day of events in memory.
///
/// Day 0 registers every user at 08:00 local; activity (logins, quotes, proposals, policies, payments, task
/// actions, WeChat bindings, reports) follows office hours between 08:00 and 21:00 with mid-morning and
/// mid-afternoon peaks. Month starts (and day 0) bring sales tasks, renewals due and report plans; the 2nd of
/// each month brings the clearing score of the previous month when that month overlaps the simulated days.
/// Event ids are `ev-<seed>-<n>` in emission order.
pub fn simulate(spec: &SimulationSpec, mut emit: impl FnMut(schemas::Event)) {
    let mut sim = Sim::new(spec);
    for day in 0..spec.days {
        sim.run_day(day, &mut emit);
    }
}

/// Milliseconds in an hour and a minute, for local times of day (milliseconds since local midnight).
const HOUR: u32 = 3_600_000;
const MINUTE: u32 = 60_000;
/// Office hours: every event falls in `OPEN..=CLOSE`.
const OPEN: u32 = 8 * HOUR;
const CLOSE: u32 = 21 * HOUR;
/// Batch jobs (tasks, renewals) run in `OPEN..BATCH_END`; work on their output starts after.
const BATCH_END: u32 = OPEN + 30 * MINUTE;
/// The chance that a user who does not work on a weekday still logs in (half of it at weekends): with it,
/// a typical branch has about half its people on 20 login days a month, around the threshold.
const LOOK_IN: f64 = 0.4;
/// Mean quotes on a login day of a user of diligence 1.
const QUOTES_AT_FULL_DILIGENCE: f64 = 17.0;

/// One salesperson and the traits drawn for them.
struct User {
    id: Id,
    branch: usize,
    diligence: f64,
    channel: Channel,
    name: String,
    specialist: bool,
    active: bool,
    /// Indices into [`Sim::tasks`] of the tasks this user owns this month.
    tasks: Vec<usize>,
    bind_day: Option<u32>,
    unbind_day: Option<u32>,
    leave_day: Option<u32>,
    move_to: Option<(u32, usize)>,
}

/// One branch and its traits.
struct Branch {
    id: Id,
    mobile_share: f64,
    /// Share of renewals assigned by the end of their month's first day.
    on_time: f64,
    /// Quality of back-office work: clearing scores and accepted reports.
    quality: f64,
    /// The users currently registered here.
    members: Vec<usize>,
    specialist: usize,
}

/// A sales task of the current month.
struct Task {
    id: Id,
    subject: Id,
    owner: usize,
    acted: bool,
    cancelled: bool,
}

/// Something decided earlier that happens on a later day; kept as a few ids, not as events.
enum Later {
    Policy {
        user: usize,
        quote_id: Id,
        proposal_id: Id,
        premium: f64,
        deal_type: DealType,
    },
    Cancel {
        user: usize,
        policy_id: Id,
    },
    Assign {
        branch: usize,
        user: usize,
        policy_id: Id,
    },
    Report {
        branch: usize,
    },
}

/// An event of the current day before it gets its id.
struct Draft {
    at: EpochMillis,
    branch: usize,
    user: Option<usize>,
    terminal: Option<Terminal>,
    payload: Payload,
}

/// The generator's state between days.
struct Sim<'a> {
    spec: &'a SimulationSpec,
    rng: ChaCha8Rng,
    branches: Vec<Branch>,
    users: Vec<User>,
    tasks: Vec<Task>,
    later: BTreeMap<u32, Vec<Later>>,
    today: Vec<Draft>,
    date: NaiveDate,
    serial: u64,
    events: u64,
}

impl<'a> Sim<'a> {
    fn new(spec: &'a SimulationSpec) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
        let (days, branch_count, per_branch) =
            (spec.days, spec.branches as usize, spec.users_per_branch);
        let mut branches = Vec::with_capacity(branch_count);
        let mut users = Vec::with_capacity(branch_count * per_branch as usize);
        for b in 0..branch_count {
            let mean_diligence: f64 = rng.random_range(0.45..0.75);
            let specialist = if per_branch > 0 {
                users.len() + rng.random_range(0..per_branch) as usize
            } else {
                0
            };
            let mut branch = Branch {
                id: names::branch_id(b as u32),
                mobile_share: rng.random_range(0.1..0.8),
                on_time: rng.random_range(0.5..0.95),
                quality: rng.random::<f64>(),
                members: Vec::new(),
                specialist,
            };
            for n in 1..=per_branch {
                let index = users.len();
                let is_specialist = index == specialist;
                let diligence = if !is_specialist && rng.random::<f64>() < 0.05 {
                    rng.random_range(0.05..0.15)
                } else {
                    (mean_diligence + rng.random_range(-0.3..0.3)).clamp(0.2, 1.0)
                };
                let channel = if is_specialist {
                    Channel::Direct
                } else {
                    names::channel(&mut rng)
                };
                let bind = rng.random::<f64>();
                let bind_day = if bind < 0.06 {
                    None
                } else if bind < 0.9 {
                    Some(rng.random_range(0..days.clamp(1, 5)))
                } else {
                    Some(rng.random_range(0..days.max(1)))
                };
                let unbind_day = bind_day
                    .filter(|&d| d + 1 < days && rng.random::<f64>() < 0.04)
                    .map(|d| rng.random_range(d + 1..days));
                branch.members.push(index);
                users.push(User {
                    id: format_compact!("{}-u{n:03}", branch.id),
                    branch: b,
                    diligence,
                    channel,
                    name: names::person_name(&mut rng),
                    specialist: is_specialist,
                    active: true,
                    tasks: Vec::new(),
                    bind_day,
                    unbind_day,
                    leave_day: None,
                    move_to: None,
                });
            }
            branches.push(branch);
        }
        // About 1 % of the users (at least one of each, specialists never) leave, and as many move branch.
        let mut candidates: Vec<usize> =
            (0..users.len()).filter(|&u| !users[u].specialist).collect();
        let fated = (users.len().div_ceil(100)).min(candidates.len() / 2);
        for i in 0..fated * 2 {
            let pick = rng.random_range(i..candidates.len());
            candidates.swap(i, pick);
        }
        if days >= 2 {
            for &u in &candidates[..fated] {
                users[u].leave_day = Some(rng.random_range((days / 3).max(1)..days));
            }
            for &u in candidates[fated..fated * 2]
                .iter()
                .filter(|_| branch_count >= 2)
            {
                let day = rng.random_range((days / 4).max(1)..(days * 3 / 4).clamp(2, days));
                let other = (users[u].branch + rng.random_range(1..branch_count)) % branch_count;
                users[u].move_to = Some((day, other));
            }
        }
        Self {
            spec,
            rng,
            branches,
            users,
            tasks: Vec::new(),
            later: BTreeMap::new(),
            today: Vec::new(),
            date: spec.from,
            serial: 0,
            events: 0,
        }
    }

    /// Generates and emits every event of day `day`.
    fn run_day(&mut self, day: u32, emit: &mut impl FnMut(Event)) {
        self.date = self.spec.from + Duration::days(day.into());
        if day == 0 {
            for u in 0..self.users.len() {
                self.register(u);
            }
        }
        self.arrivals_and_departures(day);
        if day == 0 || self.date.day() == 1 {
            self.start_month(day);
        }
        if self.date.day() == 2 {
            self.score_clearing();
        }
        for later in self.later.remove(&day).unwrap_or_default() {
            self.happen(later);
        }
        self.cancel_some_tasks();
        let weekend = matches!(self.date.weekday(), Weekday::Sat | Weekday::Sun);
        for u in 0..self.users.len() {
            if self.users[u].active {
                self.wechat(u, day);
                self.work(u, weekend);
            }
        }
        self.flush(emit);
    }

    /// A fresh business id: `<prefix>-<seed>-<serial>`, unique across every kind of id.
    fn next_id(&mut self, prefix: &str) -> Id {
        self.serial += 1;
        format_compact!("{prefix}-{}-{}", self.spec.seed, self.serial)
    }

    /// The instant of local time of day `tod` (milliseconds after midnight) on the current day.
    fn instant(&self, tod: u32) -> EpochMillis {
        let local = self.date.and_hms_opt(0, 0, 0).expect("midnight exists")
            + Duration::milliseconds(tod.into());
        let zone: Tz = self.spec.zone;
        zone.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                zone.from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    /// Records an event of the current day at local time of day `tod`.
    fn push(
        &mut self,
        tod: u32,
        branch: usize,
        user: Option<usize>,
        terminal: Option<Terminal>,
        payload: Payload,
    ) {
        let at = self.instant(tod.clamp(OPEN, CLOSE));
        self.today.push(Draft {
            at,
            branch,
            user,
            terminal,
            payload,
        });
    }

    /// Records an event of user `u` in the branch they are in now.
    fn push_user(&mut self, tod: u32, u: usize, terminal: Option<Terminal>, payload: Payload) {
        let branch = self.users[u].branch;
        self.push(tod, branch, Some(u), terminal, payload);
    }

    /// A local time of day in office hours, peaking mid-morning and mid-afternoon.
    fn time_of_day(&mut self) -> u32 {
        for _ in 0..8 {
            let pick = self.rng.random::<f64>();
            let (centre, spread) = match pick {
                p if p < 0.42 => (10.0, 1.1),
                p if p < 0.84 => (15.0, 1.4),
                _ => break,
            };
            // A sum of four uniforms, scaled to unit variance: close enough to a normal for a daily rhythm.
            let z = ((0..4).map(|_| self.rng.random::<f64>()).sum::<f64>() - 2.0) * 3f64.sqrt();
            let hours = centre + z * spread;
            if hours > 8.0 && hours < 21.0 {
                return ((hours * f64::from(HOUR)) as u32).clamp(OPEN + 1, CLOSE - 1);
            }
        }
        self.rng.random_range(OPEN + 1..CLOSE)
    }

    /// A local time of day in office hours after `earliest`.
    fn time_after(&mut self, earliest: u32) -> u32 {
        let tod = self.time_of_day();
        if tod > earliest {
            tod
        } else if earliest + 1 < CLOSE {
            self.rng.random_range(earliest + 1..CLOSE)
        } else {
            CLOSE
        }
    }

    /// A time `min..max` minutes after `tod`, or some time before closing if that is later.
    fn minutes_after(&mut self, tod: u32, min: u32, max: u32) -> u32 {
        let later = tod + self.rng.random_range(min * MINUTE..max * MINUTE);
        if later <= CLOSE {
            later
        } else {
            self.rng.random_range(tod.min(CLOSE)..=CLOSE)
        }
    }

    /// A yuan amount in `range`, in whole cents.
    fn yuan(&mut self, range: std::ops::Range<f64>) -> f64 {
        (self.rng.random_range(range) * 100.0).round() / 100.0
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random::<f64>() < p
    }

    /// A terminal drawn by branch `b`'s mobile share.
    fn terminal(&mut self, b: usize) -> Terminal {
        let share = self.branches[b].mobile_share;
        names::terminal(&mut self.rng, share)
    }

    fn schedule(&mut self, day: u32, later: Later) {
        if day < self.spec.days {
            self.later.entry(day).or_default().push(later);
        }
    }

    /// The index of `date` among the simulated days (negative before the first).
    fn day_index(&self, date: NaiveDate) -> i64 {
        (date - self.spec.from).num_days()
    }

    /// Sorts the day's events by time, numbers them and hands them over.
    fn flush(&mut self, emit: &mut impl FnMut(Event)) {
        self.today.sort_by_key(|draft| draft.at);
        for draft in self.today.drain(..) {
            self.events += 1;
            emit(Event {
                event_id: format_compact!("ev-{}-{}", self.spec.seed, self.events),
                occurred_at: draft.at,
                branch_id: self.branches[draft.branch].id.clone(),
                user_id: draft.user.map(|u| self.users[u].id.clone()),
                terminal: draft.terminal,
                payload: draft.payload,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::{EventType, LocalCalendar, Organisation, decode_event, encode_event};
    use std::collections::{HashMap, HashSet};

    /// Two months and a bit, so month starts, renewals, reports and clearing scores all occur.
    fn spec(seed: u64) -> SimulationSpec {
        SimulationSpec {
            from: NaiveDate::from_ymd_opt(2016, 6, 1).unwrap(),
            days: 65,
            branches: 3,
            users_per_branch: 12,
            seed,
            zone: chrono_tz::Asia::Shanghai,
        }
    }

    fn collect(spec: &SimulationSpec) -> Vec<Event> {
        let mut events = Vec::new();
        simulate(spec, |e| events.push(e));
        events
    }

    fn encoded_head(events: &[Event], zone: Tz) -> Vec<String> {
        events
            .iter()
            .take(1000)
            .map(|e| encode_event(e, zone).to_string())
            .collect()
    }

    #[test]
    fn same_seed_same_events_other_seed_other_events() {
        let (a, b, c) = (collect(&spec(7)), collect(&spec(7)), collect(&spec(8)));
        let zone = chrono_tz::Asia::Shanghai;
        assert_eq!(a.len(), b.len());
        assert_eq!(encoded_head(&a, zone), encoded_head(&b, zone));
        assert_eq!(a, b);
        assert_ne!(encoded_head(&a, zone), encoded_head(&c, zone));
    }

    #[test]
    fn every_event_round_trips_through_the_wire_format() {
        let spec = spec(3);
        let events = collect(&spec);
        assert!(events.len() > 10_000, "{}", events.len());
        for event in &events {
            let bytes = serde_json::to_vec(&encode_event(event, spec.zone)).unwrap();
            let decoded = decode_event(&bytes, i64::MAX / 2)
                .unwrap_or_else(|r| panic!("{r}: {}", String::from_utf8_lossy(&bytes)));
            assert_eq!(&decoded, event);
        }
        let types: HashSet<EventType> = events.iter().map(Event::event_type).collect();
        assert_eq!(types.len(), EventType::ALL.len(), "missing types: {:?}", {
            let all: HashSet<EventType> = EventType::ALL.iter().copied().collect();
            all.difference(&types).copied().collect::<Vec<_>>()
        });
    }

    #[test]
    fn days_are_in_order_in_office_hours_with_unique_ids() {
        check_order_hours_and_ids(&spec(11));
        // A zone with daylight saving time, across the March 2016 change.
        check_order_hours_and_ids(&SimulationSpec {
            from: NaiveDate::from_ymd_opt(2016, 3, 20).unwrap(),
            days: 20,
            zone: chrono_tz::Europe::Berlin,
            ..spec(12)
        });
    }

    fn check_order_hours_and_ids(spec: &SimulationSpec) {
        let calendar = LocalCalendar::new(spec.zone);
        let (mut last_day, mut last_at) = (spec.from, i64::MIN);
        let mut ids = HashSet::new();
        let mut business_ids: HashMap<Id, EventType> = HashMap::new();
        simulate(spec, |e| {
            let day = calendar.local_date(e.occurred_at);
            assert!(day >= last_day, "{} went back to {day}", last_day);
            if day == last_day {
                assert!(e.occurred_at >= last_at, "out of order within {day}: {e:?}");
            }
            let hour = chrono::DateTime::from_timestamp_millis(e.occurred_at)
                .unwrap()
                .with_timezone(&spec.zone);
            let tod = hour.time();
            assert!(
                tod >= chrono::NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
                "{e:?}"
            );
            assert!(
                tod <= chrono::NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
                "{e:?}"
            );
            (last_day, last_at) = (day, e.occurred_at);
            assert!(
                ids.insert(e.event_id.clone()),
                "duplicate event id {}",
                e.event_id
            );
            let created = match &e.payload {
                Payload::QuoteCreated { quote_id, .. } => Some(quote_id),
                Payload::ProposalCreated { proposal_id, .. } => Some(proposal_id),
                Payload::PolicyIssued { policy_id, .. } => Some(policy_id),
                Payload::PaymentCompleted { payment_id, .. } => Some(payment_id),
                Payload::TaskCreated { task_id, .. } => Some(task_id),
                Payload::RenewalDue { policy_id, .. } => Some(policy_id),
                Payload::ReportSubmitted { report_id, .. } => Some(report_id),
                _ => None,
            };
            if let Some(id) = created {
                assert!(
                    business_ids.insert(id.clone(), e.event_type()).is_none(),
                    "id {id} reused"
                );
            }
        });
        assert_eq!(
            last_day,
            spec.from + Duration::days(i64::from(spec.days) - 1)
        );
    }

    #[test]
    fn day_zero_registers_everyone_with_one_specialist_per_branch() {
        let spec = spec(5);
        let events = collect(&spec);
        let mut specialists: HashMap<&str, usize> = HashMap::new();
        let mut registered = HashSet::new();
        for e in events
            .iter()
            .take_while(|e| e.occurred_at < events[0].occurred_at + 1)
        {
            if let Payload::UserRegistered { is_specialist, .. } = e.payload {
                registered.insert(e.user_id.clone().unwrap());
                *specialists.entry(&e.branch_id).or_default() += usize::from(is_specialist);
            }
        }
        assert_eq!(registered.len(), 36);
        assert!(registered.contains("b03-u012"));
        assert_eq!(
            specialists,
            HashMap::from([("b01", 1), ("b02", 1), ("b03", 1)])
        );
    }

    #[test]
    fn organisation_csv_parses_with_out_of_scope_units_last() {
        let org = Organisation::from_csv(organisation_csv(13).as_bytes()).unwrap();
        assert_eq!(org.branches.len(), 13);
        assert_eq!(org.branches[0].branch_id, "b01");
        assert_eq!(org.branches[0].branch_name, "张店支公司");
        assert_eq!(org.branches[11].branch_name, "续保拓展部");
        assert_eq!(org.branches[12].branch_name, "车商");
        let in_scope: Vec<bool> = org.branches.iter().map(|b| b.in_scope).collect();
        assert_eq!(in_scope, [vec![true; 11], vec![false; 2]].concat());
        let small = Organisation::from_csv(organisation_csv(11).as_bytes()).unwrap();
        assert!(small.branches.iter().all(|b| b.in_scope));
    }

    #[test]
    fn volume_scales_with_users_and_days() {
        let count = |branches, users_per_branch, days| {
            let mut n = 0usize;
            simulate(
                &SimulationSpec {
                    branches,
                    users_per_branch,
                    days,
                    ..SimulationSpec::default()
                },
                |_| n += 1,
            );
            n as f64
        };
        // Branch traits vary, so more branches scale linearly only on average: compare many branches.
        let base = count(10, 20, 28);
        for scaled in [count(20, 20, 28), count(10, 40, 28), count(10, 20, 56)] {
            let ratio = scaled / base / 2.0;
            assert!(
                (0.85..1.15).contains(&ratio),
                "base {base}, scaled {scaled}"
            );
        }
    }

    /// The default spec (11 branches × 50 users × 30 days) lands in the intended volume.
    #[test]
    fn default_volume() {
        let mut n = 0usize;
        simulate(&SimulationSpec::default(), |_| n += 1);
        println!("default spec: {n} events");
        assert!((150_000..=300_000).contains(&n), "{n}");
    }
}
