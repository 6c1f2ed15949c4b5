//! The indicators (docs/scoring.md#indicators) for every branch over a run of months: numerators and denominators computed
//! from the keyed counters and entity state, cumulative over several months as the spec defines.

use crate::engine::{Counters, EngineState};
use crate::facts::{Measure, Measures};
use crate::period::MonthRange;
use hashbrown::HashMap;
use schemas::{Config, EpochMillis, LocalCalendar, YearMonth};
use serde::Serialize;

/// The indicators, in the order of docs/scoring.md#indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // each variant's meaning is its `label_zh` and docs/scoring.md#indicators
pub enum Indicator {
    QuotesPerUser,
    ProposalsPerUser,
    DealPremiumPerUser,
    ClearingScore,
    RenewalIndex,
    TaskExecutionRate,
    ActiveUserRate,
    MobileQuotesPerUser,
    WechatBindingRate,
    MobilePaymentPerUser,
    ReportsAccepted,
}

impl Indicator {
    /// All indicators in the order of docs/scoring.md#indicators.
    pub const ALL: [Indicator; 11] = [
        Indicator::QuotesPerUser,
        Indicator::ProposalsPerUser,
        Indicator::DealPremiumPerUser,
        Indicator::ClearingScore,
        Indicator::RenewalIndex,
        Indicator::TaskExecutionRate,
        Indicator::ActiveUserRate,
        Indicator::MobileQuotesPerUser,
        Indicator::WechatBindingRate,
        Indicator::MobilePaymentPerUser,
        Indicator::ReportsAccepted,
    ];

    /// The JSON key.
    pub fn key(self) -> &'static str {
        match self {
            Indicator::QuotesPerUser => "quotes_per_user",
            Indicator::ProposalsPerUser => "proposals_per_user",
            Indicator::DealPremiumPerUser => "deal_premium_per_user",
            Indicator::ClearingScore => "clearing_score",
            Indicator::RenewalIndex => "renewal_index",
            Indicator::TaskExecutionRate => "task_execution_rate",
            Indicator::ActiveUserRate => "active_user_rate",
            Indicator::MobileQuotesPerUser => "mobile_quotes_per_user",
            Indicator::WechatBindingRate => "wechat_binding_rate",
            Indicator::MobilePaymentPerUser => "mobile_payment_per_user",
            Indicator::ReportsAccepted => "reports_accepted",
        }
    }

    /// The name in the city company's assessment scheme.
    pub fn label_zh(self) -> &'static str {
        match self {
            Indicator::QuotesPerUser => "人均报价次数",
            Indicator::ProposalsPerUser => "人均投保次数",
            Indicator::DealPremiumPerUser => "人均成交保费",
            Indicator::ClearingScore => "保单清分工作",
            Indicator::RenewalIndex => "续保管理指数",
            Indicator::TaskExecutionRate => "销售任务执行率",
            Indicator::ActiveUserRate => "用户活跃率",
            Indicator::MobileQuotesPerUser => "人均移动端报价量",
            Indicator::WechatBindingRate => "微信绑定率",
            Indicator::MobilePaymentPerUser => "人均移动支付金额",
            Indicator::ReportsAccepted => "系统推广日常管理",
        }
    }

    /// The name in English.
    pub fn label_en(self) -> &'static str {
        match self {
            Indicator::QuotesPerUser => "Quotes / user",
            Indicator::ProposalsPerUser => "Proposals / user",
            Indicator::DealPremiumPerUser => "Deal premium / user",
            Indicator::ClearingScore => "Clearing score",
            Indicator::RenewalIndex => "Renewal index",
            Indicator::TaskExecutionRate => "Task execution",
            Indicator::ActiveUserRate => "Active users",
            Indicator::MobileQuotesPerUser => "Mobile quotes / user",
            Indicator::WechatBindingRate => "WeChat binding",
            Indicator::MobilePaymentPerUser => "Mobile payment / user",
            Indicator::ReportsAccepted => "Reports accepted",
        }
    }

    /// Returns true if and only if the value is a share between 0 and 1 (shown as a percentage).
    pub fn is_rate(self) -> bool {
        matches!(
            self,
            Indicator::RenewalIndex
                | Indicator::TaskExecutionRate
                | Indicator::ActiveUserRate
                | Indicator::WechatBindingRate
        )
    }

    /// Returns true if and only if the value is an amount of money per user (yuan).
    pub fn is_amount(self) -> bool {
        matches!(
            self,
            Indicator::DealPremiumPerUser | Indicator::MobilePaymentPerUser
        )
    }

    /// Returns true if and only if points follow the branch's rank among in-scope branches.
    pub fn is_ranked(self) -> bool {
        crate::points::RANKED.contains(&self)
    }

    /// Returns true if and only if points are in proportion to a monthly per-user target.
    pub fn has_target(self) -> bool {
        matches!(
            self,
            Indicator::QuotesPerUser | Indicator::ProposalsPerUser | Indicator::DealPremiumPerUser
        )
    }

    /// Returns true if and only if the indicator is a count or amount per user (projected by pace).
    pub fn is_volume(self) -> bool {
        matches!(
            self,
            Indicator::QuotesPerUser
                | Indicator::ProposalsPerUser
                | Indicator::DealPremiumPerUser
                | Indicator::MobileQuotesPerUser
                | Indicator::MobilePaymentPerUser
                | Indicator::ReportsAccepted
        )
    }
}

/// An indicator's value as a fraction, so screens can show both parts and cumulative values stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Fraction {
    /// The numerator (yuan for amounts).
    pub numerator: f64,
    /// The denominator; 0 makes the value null.
    pub denominator: f64,
}

impl Fraction {
    /// `numerator / denominator`, or `None` when the denominator is 0.
    pub fn value(self) -> Option<f64> {
        (self.denominator != 0.0).then(|| self.numerator / self.denominator)
    }

    fn ratio(numerator: i64, denominator: i64) -> Self {
        Self {
            numerator: numerator as f64,
            denominator: denominator as f64,
        }
    }

    /// An amount in fen over a count, kept as one exact division (fen / (100 × count)).
    fn yuan_ratio(fen: i64, denominator: i64) -> Self {
        Self {
            numerator: fen as f64 / 100.0,
            denominator: denominator as f64,
        }
    }
}

/// Each indicator's fraction for one branch and run of months.
#[derive(Debug, Clone, PartialEq)]
pub struct BranchFigures {
    /// Fractions by indicator.
    pub fractions: HashMap<Indicator, Fraction>,
    /// Users of the last month.
    pub users_last_month: usize,
    /// The sum over months of users: the per-user denominator.
    pub user_months: i64,
}

impl BranchFigures {
    /// The value of `indicator`, `None` when its denominator is 0.
    pub fn value(&self, indicator: Indicator) -> Option<f64> {
        match indicator {
            // Exact: fen / (100 × users), one rounding, so equal ratios give equal values.
            Indicator::DealPremiumPerUser | Indicator::MobilePaymentPerUser => {
                let f = self.fractions[&indicator];
                (f.denominator != 0.0)
                    .then(|| (f.numerator * 100.0).round() / (100.0 * f.denominator))
            }
            _ => self.fractions[&indicator].value(),
        }
    }
}

/// Who counts as a user of each branch in each month: `users(b, M)` of docs/scoring.md#users-of-a-branch.
pub struct Membership {
    by_month_branch: HashMap<(i32, u32), Vec<u32>>,
}

impl Membership {
    /// Computes `users(b, M)` for every branch and every month of `range`, from the registrations and
    /// deregistrations that happened before `before` (`EpochMillis::MAX`: all of them).
    pub fn compute(
        state: &EngineState,
        calendar: &LocalCalendar,
        range: MonthRange,
        before: EpochMillis,
    ) -> Self {
        let bounds: Vec<_> = range
            .months()
            .map(|m| (m, calendar.month_start(m), calendar.month_end(m)))
            .collect();
        let mut by_month_branch: HashMap<(i32, u32), Vec<u32>> = HashMap::new();
        for (user, record) in state.entities.users.iter().enumerate() {
            for &(month, start, end) in &bounds {
                for branch in record.branches_in(month, (start, end), before) {
                    by_month_branch
                        .entry((month.ordinal(), branch))
                        .or_default()
                        .push(user as u32);
                }
            }
        }
        for users in by_month_branch.values_mut() {
            users.sort_unstable();
            users.dedup();
        }
        Self { by_month_branch }
    }

    /// The users of `branch` in `month`.
    pub fn users(&self, month: YearMonth, branch: u32) -> &[u32] {
        self.by_month_branch
            .get(&(month.ordinal(), branch))
            .map_or(&[], Vec::as_slice)
    }
}

/// Computes every branch's figures over `range`, from what happened before `before`: the figures as they
/// stood at that instant (docs/scoring.md#day-by-day-history), or all of them with `EpochMillis::MAX`.
pub struct FigureContext<'a> {
    /// Engine state.
    pub state: &'a EngineState,
    /// The counters to read: the state's, or a month's as of a day.
    pub counters: &'a Counters,
    /// Only what happened before this instant counts.
    pub before: EpochMillis,
    /// Configuration.
    pub config: &'a Config,
    /// Calendar of the configured zone.
    pub calendar: &'a LocalCalendar,
}

impl FigureContext<'_> {
    /// The figures of every branch key in `branches` over `range`.
    pub fn figures(
        &self,
        branches: &[u32],
        range: MonthRange,
        membership: &Membership,
    ) -> HashMap<u32, BranchFigures> {
        let (renewals, tasks) = (self.renewal_counts(range), self.task_counts(range));
        let counters = self.counters;
        let zero = Measures::default();
        let months: Vec<YearMonth> = range.months().collect();
        let month_count = months.len() as f64;
        let binding_at = self.calendar.month_end(range.last).min(self.before) - 1;
        branches
            .iter()
            .map(|&b| {
                let mut sum = Measures::default();
                let (mut user_months, mut active, mut clearing) = (0i64, 0i64, 0.0);
                for &m in &months {
                    sum.merge(counters.by_branch.get(&(m.ordinal(), b)).unwrap_or(&zero));
                    let users = membership.users(m, b);
                    user_months += users.len() as i64;
                    active += users
                        .iter()
                        .filter(|&&u| {
                            let days = counters
                                .by_user
                                .get(&(m.ordinal(), b, u))
                                .map_or(0, |c| c.login_days.count_ones());
                            days >= self.config.active_login_days
                        })
                        .count() as i64;
                    clearing += self
                        .state
                        .entities
                        .clearing
                        .get(&(b, m.ordinal()))
                        .filter(|c| c.first_at < self.before)
                        .map_or(0.0, |c| c.score);
                }
                let last_users = membership.users(range.last, b);
                let bound = last_users
                    .iter()
                    .filter(|&&u| {
                        self.state.entities.users[u as usize].bound_at(binding_at, range.last)
                    })
                    .count() as i64;
                let (renewed, due) = renewals.get(&b).copied().unwrap_or_default();
                let (executed, valid) = tasks.get(&b).copied().unwrap_or_default();
                let per_user = |measure| Fraction::ratio(sum.get(measure), user_months);
                let per_user_yuan = |measure| Fraction::yuan_ratio(sum.get(measure), user_months);
                let average = |total: f64| Fraction {
                    numerator: total,
                    denominator: month_count,
                };
                let fractions = HashMap::from_iter([
                    (Indicator::QuotesPerUser, per_user(Measure::Quotes)),
                    (Indicator::ProposalsPerUser, per_user(Measure::Proposals)),
                    (
                        Indicator::DealPremiumPerUser,
                        per_user_yuan(Measure::DealPremiumFen),
                    ),
                    (Indicator::ClearingScore, average(clearing)),
                    (Indicator::RenewalIndex, Fraction::ratio(renewed, due)),
                    (
                        Indicator::TaskExecutionRate,
                        Fraction::ratio(executed, valid),
                    ),
                    (
                        Indicator::ActiveUserRate,
                        Fraction::ratio(active, user_months),
                    ),
                    (
                        Indicator::MobileQuotesPerUser,
                        per_user(Measure::MobileQuotes),
                    ),
                    (
                        Indicator::WechatBindingRate,
                        Fraction::ratio(bound, last_users.len() as i64),
                    ),
                    (
                        Indicator::MobilePaymentPerUser,
                        per_user_yuan(Measure::MobilePaymentFen),
                    ),
                    (
                        Indicator::ReportsAccepted,
                        average(sum.get(Measure::Reports) as f64),
                    ),
                ]);
                (
                    b,
                    BranchFigures {
                        fractions,
                        users_last_month: last_users.len(),
                        user_months,
                    },
                )
            })
            .collect()
    }

    /// Per branch: `(assigned by the end of day 1, due)` for counted renewals due in `range`.
    fn renewal_counts(&self, range: MonthRange) -> HashMap<u32, (i64, i64)> {
        let mut out: HashMap<u32, (i64, i64)> = HashMap::new();
        for renewal in self.state.entities.renewals.values() {
            let Some((due_month, true)) = renewal.due else {
                continue;
            };
            if !range.contains(due_month) || renewal.due_first.at >= self.before {
                continue;
            }
            let first_day = due_month.first_day();
            let day_one_ends = self
                .calendar
                .start_of(first_day.succ_opt().expect("dates stay in range"));
            let entry = out.entry(renewal.branch).or_default();
            entry.1 += 1;
            entry.0 += renewal.assigned_at().is_some_and(|at| at < day_one_ends) as i64;
        }
        out
    }

    /// Per branch: `(executed, valid)` tasks in `range`, set-based over the whole range.
    fn task_counts(&self, range: MonthRange) -> HashMap<u32, (i64, i64)> {
        let mut out: HashMap<u32, (i64, i64)> = HashMap::new();
        let mask = range_mask(range, crate::period::assessment_months(self.config).first);
        let validity = TaskValidity::new(range, self.calendar, self.before);
        for task in self.state.entities.tasks.values() {
            if !validity.admits(task) {
                continue;
            }
            let entry = out.entry(task.branch).or_default();
            entry.1 += 1;
            entry.0 += task.acted_in(mask, self.before) as i64;
        }
        out
    }
}

/// The task month bits of `range` (bit i = month `base + i`).
pub fn range_mask(range: MonthRange, base: YearMonth) -> u64 {
    range
        .months()
        .map(|m| m.months_since(base))
        .filter(|i| (0..64).contains(i))
        .fold(0u64, |mask, i| mask | (1 << i))
}

/// Which tasks count as valid in a run of months, from what happened before an instant.
#[derive(Debug, Clone, Copy)]
pub struct TaskValidity {
    range: MonthRange,
    first_day: chrono::NaiveDate,
    last_day: chrono::NaiveDate,
    starts: EpochMillis,
    before: EpochMillis,
}

impl TaskValidity {
    /// Tasks valid in `range` as known before `before`.
    pub fn new(range: MonthRange, calendar: &LocalCalendar, before: EpochMillis) -> Self {
        Self {
            range,
            first_day: range.first.first_day(),
            last_day: range.last.last_day(),
            starts: calendar.month_start(range.first),
            before,
        }
    }

    /// Returns true if and only if `task` was created before the instant, its validity overlaps the months
    /// (from the first month it may change) and it was not cancelled before they start.
    pub fn admits(&self, task: &crate::entities::TaskRecord) -> bool {
        let Some(window) = task.window.filter(|w| w.created_at < self.before) else {
            return false;
        };
        // The validity from the later of its first day and the first day of its first month that may change.
        window.valid_from <= self.last_day
            && window.counts_from <= self.range.last
            && window.valid_until >= self.first_day
            && window.valid_from <= window.valid_until
            && window.counts_from <= YearMonth::of_date(window.valid_until)
            && task.cancelled_at.is_none_or(|c| c >= self.starts)
    }
}
