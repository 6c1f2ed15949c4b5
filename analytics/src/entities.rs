//! Entity state that is not a plain sum: registrations, WeChat bindings, policies and their cancellation,
//! sales tasks, renewals, reports and clearing scores. Applying an accepted event updates this state in
//! arrival order and emits the fact rows (counter deltas) the event causes.

use crate::facts::{FactBuilder, FactKey, Measure, Measures, NO_USER};
use crate::interner::Interner;
use hashbrown::HashMap;
use schemas::{Channel, DealType, EpochMillis, Event, Id, Payload, YearMonth};
use serde::{Deserialize, Serialize};

/// Converts yuan to integer fen, the unit of every stored amount.
pub fn to_fen(yuan: f64) -> i64 {
    (yuan * 100.0).round() as i64
}

/// A change of one of a user's states at an instant: what `user_registered`, `user_deregistered`,
/// `wechat_bound` and `wechat_unbound` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange<S> {
    /// When, with the event id's fingerprint to order changes at the same instant: the order never
    /// depends on arrival.
    pub first: FirstEvent,
    /// The new state.
    pub state: S,
    /// The months it may change: those still open for its partition when it arrived. A change that arrives
    /// after its own month closed still holds for the open months, and leaves closed ones as they were.
    pub counts_from: OpenFrom,
}

/// A membership change: into a branch (`Some`), or out of the company (`None`).
pub type MembershipChange = StateChange<Option<u32>>;

/// A WeChat binding change: bound (`true`) or unbound.
pub type BindingChange = StateChange<bool>;

impl<S: PartialEq> StateChange<S> {
    /// Adds `change` to `changes`, kept sorted by instant. A copy of a change already there (the same state
    /// at the same instant, such as a users CSV imported twice) adds nothing: it only widens the months
    /// that change may change, each of them open for the partition of one of the copies.
    fn record(changes: &mut Vec<Self>, change: Self) {
        let same = changes
            .iter_mut()
            .find(|c| c.first.at == change.first.at && c.state == change.state);
        match same {
            Some(same) => same.counts_from = same.counts_from.widest(change.counts_from),
            None => {
                let i = changes.partition_point(|c| c.first <= change.first);
                changes.insert(i, change);
            }
        }
    }
}

/// What is known of one user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserRecord {
    /// The latest registration, by `(occurred_at, event id fingerprint)`: the attributes below are its.
    pub latest_registration: Option<FirstEvent>,
    /// From the latest registration.
    pub display_name: Option<String>,
    /// From the latest registration.
    pub channel: Option<Channel>,
    /// From the latest registration.
    pub is_specialist: bool,
    /// Membership changes sorted by `(occurred_at, event id fingerprint)`.
    pub memberships: Vec<MembershipChange>,
    /// WeChat binding changes sorted by `(occurred_at, event id fingerprint)`.
    pub bindings: Vec<BindingChange>,
}

impl UserRecord {
    /// The user's membership intervals `(branch, from, until)` as they hold for `month`, from the changes
    /// that may change it and happened before `before`; `until` is `None` while open.
    pub fn intervals(
        &self,
        month: YearMonth,
        before: EpochMillis,
    ) -> impl Iterator<Item = (u32, EpochMillis, Option<EpochMillis>)> + '_ {
        let mut changes = self
            .memberships
            .iter()
            .filter(move |c| c.counts_from.admits(month) && c.first.at < before)
            .peekable();
        std::iter::from_fn(move || {
            loop {
                let change = changes.next()?;
                let until = changes.peek().map(|next| next.first.at);
                if let Some(branch) = change.state {
                    return Some((branch, change.first.at, until));
                }
            }
        })
    }

    /// The branches the user counts as a user of in `month` (from `start` to `end`), by the changes that
    /// happened before `before`: registered before the month ends and not deregistered (or moved) before it
    /// starts (docs/scoring.md#users-of-a-branch). A branch may come twice.
    pub fn branches_in(
        &self,
        month: YearMonth,
        (start, end): (EpochMillis, EpochMillis),
        before: EpochMillis,
    ) -> impl Iterator<Item = u32> + '_ {
        self.intervals(month, before)
            .filter(move |(_, from, until)| *from < end && until.is_none_or(|u| u >= start))
            .map(|(branch, _, _)| branch)
    }

    /// Returns true if and only if the user was bound to WeChat at `at` (by the latest change at or before
    /// it), as it holds for `month`.
    pub fn bound_at(&self, at: EpochMillis, month: YearMonth) -> bool {
        self.bindings
            .iter()
            .rev()
            .filter(|b| b.counts_from.admits(month))
            .find(|b| b.first.at <= at)
            .is_some_and(|b| b.state)
    }
}

/// A policy issued in the system. Kept small (a replay holds one per policy): what the issue added to the
/// figures is derived from it ([`IssuedPolicy::counted`]) rather than stored.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct IssuedPolicy {
    /// The `policy_issued` event this issue is: of two issues of one policy, the earlier stands.
    pub first: FirstEvent,
    /// The issue month.
    pub month: YearMonth,
    /// The issue's local day of the month.
    pub day: u8,
    /// Issuing branch.
    pub branch: u32,
    /// Issuing user.
    pub user: u32,
    /// The premium in fen.
    pub premium_fen: i64,
    /// How it was closed: whether it counts at all ([`DealType::counts`]).
    pub deal_type: DealType,
    /// It also has a quote and a proposal, as the salesperson reward asks.
    pub quoted_and_proposed: bool,
}

impl IssuedPolicy {
    /// The deltas the issue added (taken back on cancellation): nothing unless the deal type counts.
    pub fn counted(&self) -> Measures {
        let mut counted = Measures::default();
        if self.deal_type.counts() {
            counted
                .add(Measure::Deals, 1)
                .add(Measure::DealPremiumFen, self.premium_fen)
                .add(Measure::RewardPolicies, self.quoted_and_proposed as i64);
        }
        counted
    }
}

/// A policy's lifecycle. Which issue stands and whether a cancellation takes it out are both worked out from
/// what has arrived, never from the order it arrived in, so two partitions delivering an issue and a
/// cancellation (or two issues) of one policy give the same figures however they interleave.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PolicyRecord {
    /// The standing issue: the earliest `policy_issued` (by `(occurred_at, event id fingerprint)`) that was
    /// not late.
    pub issued: Option<IssuedPolicy>,
    /// The months the cancellations that arrived may change (the widest of their marks): each one takes the
    /// policy out of an issue month its partition still had open, exactly as if every issue had arrived
    /// before it (then a cancellation whose issue month had closed would have been late).
    pub cancelled_from: Option<OpenFrom>,
    /// The local month and day of the earliest cancellation.
    pub cancelled_on: Option<(YearMonth, u8)>,
}

impl PolicyRecord {
    /// What the policy adds to the counters: the standing issue's deltas on its day, and their negation on
    /// the day a cancellation takes it out (docs/scoring.md#day-by-day-history), so the month's sum is
    /// nothing once cancelled. Nothing unless its deal type counts.
    fn contribution(&self) -> [Option<(FactKey, Measures)>; 2] {
        let Some(issued) = self.issued else {
            return [None, None];
        };
        let counted = issued.counted();
        if counted.is_zero() {
            return [None, None];
        }
        let on = |day: u8| FactKey {
            month: issued.month.ordinal(),
            branch: issued.branch,
            user: issued.user,
            day: day.into(),
        };
        let taken_back = self
            .cancelled_from
            .filter(|open| open.admits(issued.month))
            .and(self.cancelled_on)
            .map(|(month, day)| {
                // A cancellation counts from its own day in the issue month, never before the issue, and
                // from the month's last day when it came after the month.
                let day = match month.cmp(&issued.month) {
                    std::cmp::Ordering::Less => issued.day,
                    std::cmp::Ordering::Equal => day.max(issued.day),
                    std::cmp::Ordering::Greater => issued.month.days() as u8,
                };
                (on(day), counted.negated())
            });
        [Some((on(issued.day), counted)), taken_back]
    }

    /// Applies `change` to the record and pushes onto `facts` what it changes in the counters: what the
    /// policy added before, taken back, and what it adds now.
    fn change(&mut self, facts: &mut FactBuilder, change: impl FnOnce(&mut Self)) {
        let before = self.contribution();
        change(self);
        let after = self.contribution();
        if after != before {
            for (key, m) in before.into_iter().flatten() {
                facts.push(key, &m.negated());
            }
            for (key, m) in after.into_iter().flatten() {
                facts.push(key, &m);
            }
        }
    }
}

/// The first month a partition still had open when an event arrived (`None`: nothing closed yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFrom(pub Option<YearMonth>);

impl OpenFrom {
    /// Returns true if and only if `month` was still open.
    pub fn admits(self, month: YearMonth) -> bool {
        self.0.is_none_or(|open_from| month >= open_from)
    }

    /// The mark that admits every month either admits (so the arrival order of two marks never matters).
    pub fn widest(self, other: OpenFrom) -> OpenFrom {
        match (self.0, other.0) {
            (Some(a), Some(b)) => OpenFrom(Some(a.min(b))),
            _ => OpenFrom(None),
        }
    }
}

/// The event that decides which branch an entity belongs to: the earliest by `(occurred_at, event id
/// fingerprint)`, so the owner never depends on how partitions interleave.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FirstEvent {
    /// When.
    pub at: EpochMillis,
    /// Tie-break between events at the same instant.
    pub id_hash: u64,
}

impl FirstEvent {
    fn of(event: &Event) -> Self {
        Self {
            at: event.occurred_at,
            id_hash: xxhash_rust::xxh3::xxh3_64(event.event_id.as_bytes()),
        }
    }
}

/// A task's validity window, set by its (first) `task_created`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TaskWindow {
    /// First valid local date.
    pub valid_from: chrono::NaiveDate,
    /// Last valid local date.
    pub valid_until: chrono::NaiveDate,
    /// The first month whose figures the task may change: months already closed when it was created keep
    /// their figures.
    pub counts_from: YearMonth,
    /// When the `task_created` that set the window happened.
    pub created_at: EpochMillis,
}

/// A user's actions on a task in one month.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TaskActing {
    /// The acting user.
    pub user: u32,
    /// The month, as months since the assessment's first (0..64).
    pub month: u8,
    /// The user's earliest action on the task in that month.
    pub first_at: EpochMillis,
}

/// A sales task.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The branch of the task's first event.
    pub branch: u32,
    /// The task's first event.
    pub first: FirstEvent,
    /// Validity, once created (and not ignored as a second task for its subject).
    pub window: Option<TaskWindow>,
    /// The earliest cancellation.
    pub cancelled_at: Option<EpochMillis>,
    /// Who acted on the task in which month, and when first.
    pub actions: Vec<TaskActing>,
}

impl TaskRecord {
    /// The users who acted on the task in a month of `months` (bit i = the month `base + i`, base = the
    /// assessment's first month) before `before`, each once.
    pub fn acting_users(&self, months: u64, before: EpochMillis) -> impl Iterator<Item = u32> + '_ {
        let acted = move |a: &TaskActing| months & (1 << a.month) != 0 && a.first_at < before;
        self.actions
            .iter()
            .enumerate()
            .filter(move |(i, a)| {
                acted(a)
                    && !self.actions[..*i]
                        .iter()
                        .any(|b| b.user == a.user && acted(b))
            })
            .map(|(_, a)| a.user)
    }

    /// Returns true if and only if someone acted on the task in a month of `months` before `before`.
    pub fn acted_in(&self, months: u64, before: EpochMillis) -> bool {
        self.acting_users(months, before).next().is_some()
    }
}

/// A renewal of a policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RenewalRecord {
    /// The branch of the renewal's first event.
    pub branch: u32,
    /// The renewal's first event.
    pub first: FirstEvent,
    /// The due month, and whether the renewal counts (family private car, not e-commerce direct), as the
    /// earliest `renewal_due` for the policy (by `(occurred_at, event id fingerprint)`) says: which of two
    /// differing ones stands never depends on arrival order.
    pub due: Option<(YearMonth, bool)>,
    /// The `renewal_due` event that gave [`RenewalRecord::due`].
    pub due_first: FirstEvent,
    /// Assignments of a service manager: when, and which months their partition still had open (an
    /// assignment counts only for a due month that was open, as if the due event had arrived first).
    pub assignments: Vec<(EpochMillis, OpenFrom)>,
}

impl RenewalRecord {
    /// The due month `event` (a `renewal_due` for this policy) would move the renewal out of: the standing
    /// one, if `event` is earlier than the event that set it.
    fn due_replaced_by(&self, event: &Event) -> Option<YearMonth> {
        let (month, _) = self.due?;
        (FirstEvent::of(event) < self.due_first).then_some(month)
    }

    /// The earliest assignment that may count for the due month, if any.
    pub fn assigned_at(&self) -> Option<EpochMillis> {
        let (due_month, _) = self.due?;
        self.assignments
            .iter()
            .filter(|(_, open)| open.admits(due_month))
            .map(|(at, _)| *at)
            .min()
    }
}

/// Returns the record for `key`, created with owner `branch`, after letting `event` claim ownership if it is
/// earlier than the current first event.
fn owned<'m, R: Default + Owned>(
    map: &'m mut HashMap<Id, R>,
    key: &str,
    branch: u32,
    event: &Event,
) -> &'m mut R {
    let first = FirstEvent::of(event);
    let record = map
        .entry_ref(key)
        .or_insert_with(|| R::new_owned(branch, first));
    if first < record.first() {
        record.set_owner(branch, first);
    }
    record
}

/// An entity owned by the branch of its first event.
trait Owned {
    fn new_owned(branch: u32, first: FirstEvent) -> Self;
    fn first(&self) -> FirstEvent;
    fn set_owner(&mut self, branch: u32, first: FirstEvent);
}

macro_rules! impl_owned {
    ($t:ty) => {
        impl Owned for $t {
            fn new_owned(branch: u32, first: FirstEvent) -> Self {
                Self {
                    branch,
                    first,
                    ..Default::default()
                }
            }
            fn first(&self) -> FirstEvent {
                self.first
            }
            fn set_owner(&mut self, branch: u32, first: FirstEvent) {
                self.branch = branch;
                self.first = first;
            }
        }
    };
}
impl_owned!(TaskRecord);
impl_owned!(RenewalRecord);

/// The standing clearing score of a branch and month: the latest by `(occurred_at, event_id)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClearingRecord {
    /// When it was given.
    pub at: EpochMillis,
    /// Tie-break between scores given at the same instant.
    pub event_id: Id,
    /// The score, 0..=10.
    pub score: f64,
    /// When the first score for the branch and month was given: the day-by-day history counts the
    /// standing score from then on.
    pub first_at: EpochMillis,
}

/// Where an accepted event lands.
#[derive(Debug, Clone, Copy)]
pub struct Placement {
    /// The event's local month.
    pub month: YearMonth,
    /// The event's local day of month, 1..=31.
    pub day: u32,
    /// The first month still open for the event's partition before it arrived (`None`: nothing closed).
    pub open_from: Option<YearMonth>,
    /// The assessment's first month (base of task month bits).
    pub base_month: YearMonth,
    /// The keys of the event's branch and user that the caller looked up before applying it.
    pub known: KnownKeys,
}

/// The keys an event's branch and user have already, looked up before the event is applied
/// ([`Entities::known_keys`]); [`Entities::apply`] adds a branch or user that had none.
#[derive(Debug, Clone, Copy, Default)]
pub struct KnownKeys {
    branch: Option<u32>,
    user: Option<u32>,
}

/// All entity state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Entities {
    /// Branch ids.
    pub branches: Interner,
    /// User ids.
    pub user_ids: Interner,
    /// Per user key.
    pub users: Vec<UserRecord>,
    /// By policy id.
    pub policies: HashMap<Id, PolicyRecord>,
    /// By task id.
    pub tasks: HashMap<Id, TaskRecord>,
    /// Each subject's task: the earliest `task_created` for it by `(occurred_at, event id fingerprint)`, so
    /// which of two tasks for one subject counts never depends on arrival order.
    pub task_subjects: HashMap<Id, (FirstEvent, Id)>,
    /// By policy id.
    pub renewals: HashMap<Id, RenewalRecord>,
    /// Accepted reports counted, by `(month, branch, report_id)`: the day and user they count on.
    pub reports: HashMap<(i32, u32, Id), (u8, u32)>,
    /// By `(branch, month)`.
    pub clearing: HashMap<(u32, i32), ClearingRecord>,
}

impl Entities {
    /// The key of `user_id`, with a record.
    fn user(&mut self, user_id: &str) -> u32 {
        let key = self.user_ids.intern(user_id);
        self.with_record(key)
    }

    /// `key`, after making sure it has a record (a restored state may hold fewer records than keys).
    fn with_record(&mut self, key: u32) -> u32 {
        if key as usize >= self.users.len() {
            self.users
                .resize_with(key as usize + 1, UserRecord::default);
        }
        key
    }

    /// The keys `event`'s branch and user have already. The engine looks up a whole chunk of a micro-batch
    /// this way before applying any of it: the lookups do not depend on each other, so the processor
    /// overlaps their cache misses, where one lookup per applied event waits for each miss in turn. Keys
    /// are never removed, so a key found ahead is still the event's when it is applied.
    pub fn known_keys(&self, event: &Event) -> KnownKeys {
        KnownKeys {
            branch: self.branches.get(&event.branch_id),
            user: event.user_id.as_deref().and_then(|u| self.user_ids.get(u)),
        }
    }

    /// The months other than its own whose figures `event` would change; a closed one makes it late.
    pub fn target_month(&self, event: &Event) -> Option<YearMonth> {
        match &event.payload {
            Payload::ClearingScored { month, .. } => Some(*month),
            // Both the new due month and the one a renewal would move out of must be open: the earlier.
            Payload::RenewalDue {
                policy_id,
                due_month,
                ..
            } => {
                let replaced = self
                    .renewals
                    .get(policy_id.as_str())
                    .and_then(|r| r.due_replaced_by(event));
                Some(replaced.map_or(*due_month, |m| m.min(*due_month)))
            }
            // An assignment counts only for a due month its partition had open (its mark), so it needs no
            // check of the due month, which an earlier `renewal_due` may still move; unless it would make
            // the renewal its branch's, which changes the figures of the standing due month.
            Payload::RenewalAssigned { policy_id } => self
                .renewals
                .get(policy_id.as_str())
                .filter(|r| FirstEvent::of(event) < r.first)
                .and_then(|r| r.due)
                .map(|(m, _)| m),
            Payload::PolicyCancelled { policy_id } => self
                .policies
                .get(policy_id.as_str())
                .and_then(|p| p.issued)
                .map(|p| p.month),
            _ => None,
        }
    }

    /// Applies an accepted event, pushing the counter deltas it causes onto `facts`.
    pub fn apply(&mut self, event: &Event, at: Placement, facts: &mut FactBuilder) {
        debug_assert!(
            {
                let now = self.known_keys(event);
                let agrees = |ahead: Option<u32>, now: Option<u32>| ahead.is_none() || ahead == now;
                agrees(at.known.branch, now.branch) && agrees(at.known.user, now.user)
            },
            "the keys looked up ahead are the event's own"
        );
        let branch = at
            .known
            .branch
            .unwrap_or_else(|| self.branches.intern(&event.branch_id));
        let user = match at.known.user {
            Some(known) => Some(self.with_record(known)),
            None => event.user_id.as_deref().map(|u| self.user(u)),
        };
        let e = Applying {
            event,
            at,
            branch,
            user: user.unwrap_or(NO_USER),
        };
        let counted = match &event.payload {
            Payload::UserRegistered {
                channel,
                display_name,
                is_specialist,
            } => {
                self.register(&e, *channel, display_name, *is_specialist);
                None
            }
            Payload::UserDeregistered => {
                self.record_membership(&e, None);
                None
            }
            Payload::WechatBound | Payload::WechatUnbound => {
                self.record_binding(&e);
                None
            }
            Payload::Login => Some(Measures {
                login_days: 1 << (at.day - 1),
                ..Measures::default()
            }),
            Payload::QuoteCreated { .. } => Some(
                *Measures::default()
                    .add(Measure::Quotes, 1)
                    .add(Measure::MobileQuotes, event.is_mobile() as i64),
            ),
            Payload::ProposalCreated { .. } => {
                Some(*Measures::default().add(Measure::Proposals, 1))
            }
            Payload::PaymentCompleted { amount, .. } => {
                let fen = to_fen(*amount);
                let mobile = if event.is_mobile() { fen } else { 0 };
                Some(
                    *Measures::default()
                        .add(Measure::PaymentFen, fen)
                        .add(Measure::MobilePaymentFen, mobile),
                )
            }
            Payload::PolicyIssued {
                policy_id,
                premium,
                deal_type,
                quote_id,
                proposal_id,
            } => {
                let issued = IssuedPolicy {
                    first: FirstEvent::of(event),
                    month: at.month,
                    day: at.day as u8,
                    branch,
                    user: e.user,
                    premium_fen: to_fen(*premium),
                    deal_type: *deal_type,
                    quoted_and_proposed: quote_id.is_some() && proposal_id.is_some(),
                };
                self.issue_policy(policy_id, issued, facts);
                None
            }
            Payload::PolicyCancelled { policy_id } => {
                self.cancel_policy(policy_id, &e, facts);
                None
            }
            Payload::TaskCreated {
                task_id,
                subject_id,
                valid_from,
                valid_until,
            } => {
                self.create_task(&e, task_id, subject_id, *valid_from, *valid_until);
                None
            }
            Payload::TaskAction { task_id, .. } => {
                self.record_task_action(&e, task_id);
                Some(*Measures::default().add(Measure::TaskActions, 1))
            }
            Payload::TaskCancelled { task_id } => {
                let record = owned(&mut self.tasks, task_id, branch, event);
                let t = event.occurred_at;
                record.cancelled_at = Some(record.cancelled_at.map_or(t, |c| c.min(t)));
                None
            }
            Payload::RenewalDue {
                policy_id,
                due_month,
                vehicle_use,
                ecommerce_direct,
            } => {
                let counts = vehicle_use == "family_private" && !ecommerce_direct;
                self.record_renewal_due(&e, policy_id, *due_month, counts);
                None
            }
            Payload::RenewalAssigned { policy_id } => {
                let record = owned(&mut self.renewals, policy_id, branch, event);
                record
                    .assignments
                    .push((event.occurred_at, OpenFrom(at.open_from)));
                None
            }
            Payload::ReportSubmitted {
                report_id,
                accepted,
                ..
            } => {
                if *accepted {
                    self.count_report(&e, report_id, facts);
                }
                None
            }
            Payload::ClearingScored {
                month: scored_month,
                score,
            } => {
                self.record_clearing_score(&e, *scored_month, *score);
                None
            }
        };
        if let Some(m) = counted {
            let key = FactKey {
                month: at.month.ordinal(),
                branch,
                user: e.user,
                day: at.day,
            };
            facts.push(key, &m);
        }
    }

    /// A registration: the latest one gives the user's attributes; each is a membership change.
    fn register(
        &mut self,
        e: &Applying<'_>,
        channel: Channel,
        display_name: &Option<String>,
        is_specialist: bool,
    ) {
        let record = &mut self.users[e.user as usize];
        let this = FirstEvent::of(e.event);
        if record
            .latest_registration
            .is_none_or(|latest| this > latest)
        {
            record.latest_registration = Some(this);
            record.channel = Some(channel);
            record.display_name.clone_from(display_name);
            record.is_specialist = is_specialist;
        }
        self.record_membership(e, Some(e.branch));
    }

    /// A change of the user's branch (`None`: deregistered).
    fn record_membership(&mut self, e: &Applying<'_>, branch: Option<u32>) {
        StateChange::record(
            &mut self.users[e.user as usize].memberships,
            StateChange {
                first: FirstEvent::of(e.event),
                state: branch,
                counts_from: OpenFrom(e.at.open_from),
            },
        );
    }

    /// A WeChat binding or unbinding.
    fn record_binding(&mut self, e: &Applying<'_>) {
        StateChange::record(
            &mut self.users[e.user as usize].bindings,
            StateChange {
                first: FirstEvent::of(e.event),
                state: matches!(e.event.payload, Payload::WechatBound),
                counts_from: OpenFrom(e.at.open_from),
            },
        );
    }

    /// An issued policy: the earliest issue of a policy stands. What the policy added to the counters is
    /// taken back on `facts` and what it adds now is pushed, whenever this issue changes which one stands.
    fn issue_policy(&mut self, policy_id: &str, issued: IssuedPolicy, facts: &mut FactBuilder) {
        let record = self.policies.entry_ref(policy_id).or_default();
        if record
            .issued
            .is_some_and(|standing| standing.first <= issued.first)
        {
            return; // an issue of the same policy at least as early stands: this changes nothing
        }
        // This issue is the earliest so far: it replaces the one that stood, whose month is not before
        // this one's and so still open for this event's partition.
        record.change(facts, |record| record.issued = Some(issued));
    }

    /// A cancellation: the issue it cancels stops counting, from the first open month on, from the day of
    /// the earliest cancellation.
    fn cancel_policy(&mut self, policy_id: &str, e: &Applying<'_>, facts: &mut FactBuilder) {
        let mark = OpenFrom(e.at.open_from);
        let on = (e.at.month, e.at.day as u8);
        self.policies
            .entry_ref(policy_id)
            .or_default()
            .change(facts, |record| {
                record.cancelled_from =
                    Some(record.cancelled_from.map_or(mark, |m| m.widest(mark)));
                record.cancelled_on = Some(record.cancelled_on.map_or(on, |c| c.min(on)));
            });
    }

    /// An accepted report: a report counts once in its month and branch, on the earliest day it was
    /// accepted (an earlier copy arriving later moves it there).
    fn count_report(&mut self, e: &Applying<'_>, report_id: &Id, facts: &mut FactBuilder) {
        let day = e.at.day as u8;
        let month = e.at.month.ordinal();
        let one = |(day, user): (u8, u32), n: i64| {
            let key = FactKey {
                month,
                branch: e.branch,
                user,
                day: day.into(),
            };
            (key, *Measures::default().add(Measure::Reports, n))
        };
        match self.reports.entry((month, e.branch, report_id.clone())) {
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert((day, e.user));
                let (key, m) = one((day, e.user), 1);
                facts.push(key, &m);
            }
            hashbrown::hash_map::Entry::Occupied(mut counted) if counted.get().0 > day => {
                let (key, m) = one(*counted.get(), -1);
                facts.push(key, &m);
                counted.insert((day, e.user));
                let (key, m) = one((day, e.user), 1);
                facts.push(key, &m);
            }
            hashbrown::hash_map::Entry::Occupied(_) => {}
        }
    }

    /// A sales task: the earliest task created for a subject holds it; a later one is ignored.
    fn create_task(
        &mut self,
        e: &Applying<'_>,
        task_id: &Id,
        subject_id: &Id,
        valid_from: chrono::NaiveDate,
        valid_until: chrono::NaiveDate,
    ) {
        if owned(&mut self.tasks, task_id, e.branch, e.event)
            .window
            .is_some()
        {
            return; // this task was already created
        }
        let claim = (FirstEvent::of(e.event), task_id.clone());
        match self.task_subjects.entry(subject_id.clone()) {
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(claim);
            }
            hashbrown::hash_map::Entry::Occupied(mut holder) => {
                if holder.get().0 <= claim.0 {
                    return; // an earlier task holds the subject: this one is ignored
                }
                let displaced = std::mem::replace(holder.get_mut(), claim).1;
                if let Some(task) = self.tasks.get_mut(&displaced) {
                    task.window = None;
                }
            }
        }
        let from_month = YearMonth::of_date(valid_from);
        self.tasks
            .get_mut(task_id.as_str())
            .expect("created above")
            .window = Some(TaskWindow {
            valid_from,
            valid_until,
            counts_from: e.at.open_from.map_or(from_month, |o| o.max(from_month)),
            created_at: e.event.occurred_at,
        });
    }

    /// An action on a task: each user's earliest action on it in each month.
    fn record_task_action(&mut self, e: &Applying<'_>, task_id: &str) {
        let record = owned(&mut self.tasks, task_id, e.branch, e.event);
        let offset = e.at.month.months_since(e.at.base_month);
        if !(0..64).contains(&offset) {
            return;
        }
        let (month, at) = (offset as u8, e.event.occurred_at);
        match record
            .actions
            .iter_mut()
            .find(|a| a.user == e.user && a.month == month)
        {
            Some(acting) => acting.first_at = acting.first_at.min(at),
            None => record.actions.push(TaskActing {
                user: e.user,
                month,
                first_at: at,
            }),
        }
    }

    /// A renewal falling due: the earliest such event of a policy stands.
    fn record_renewal_due(
        &mut self,
        e: &Applying<'_>,
        policy_id: &str,
        due_month: YearMonth,
        counts: bool,
    ) {
        let record = owned(&mut self.renewals, policy_id, e.branch, e.event);
        let this = FirstEvent::of(e.event);
        if record.due.is_none() || this < record.due_first {
            record.due = Some((due_month, counts));
            record.due_first = this;
        }
    }

    /// A clearing score: the latest by (time, event id) for a branch and month stands.
    fn record_clearing_score(&mut self, e: &Applying<'_>, month: YearMonth, score: f64) {
        let at = e.event.occurred_at;
        let candidate = ClearingRecord {
            at,
            event_id: e.event.event_id.clone(),
            score,
            first_at: at,
        };
        match self.clearing.entry((e.branch, month.ordinal())) {
            hashbrown::hash_map::Entry::Occupied(mut current) => {
                let c = current.get_mut();
                c.first_at = c.first_at.min(at);
                if (candidate.at, candidate.event_id.as_str()) > (c.at, c.event_id.as_str()) {
                    *c = ClearingRecord {
                        first_at: c.first_at,
                        ..candidate
                    };
                }
            }
            hashbrown::hash_map::Entry::Vacant(slot) => {
                slot.insert(candidate);
            }
        }
    }
}

/// An accepted event being applied: where it falls, and its branch's and user's keys
/// ([`NO_USER`] without a user).
struct Applying<'a> {
    event: &'a Event,
    at: Placement,
    branch: u32,
    user: u32,
}
