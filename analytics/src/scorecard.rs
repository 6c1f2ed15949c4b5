//! The scorecard (docs/scoring.md#scorecard-json) for a month, a quarter or the assessment to date: every branch's indicators,
//! points, total and rank, with month-end pace for a month, and per-user rows when asked.

use crate::at_stake::{BranchExtras, BranchStake, Field};
use crate::engine::Counters;
use crate::engine::Figures;
use crate::error::EngineError;
use crate::facts::{Measure, Measures};
use crate::indicators::{FigureContext, Fraction, Indicator, Membership, TaskValidity, range_mask};
use crate::pace::{
    ActiveOutlook, LoginStatus, MonthProgress, PaceStatus, ProjectionInputs, projected_points,
};
use crate::period::{MonthRange, Period, PeriodSpec};
use crate::points::{RANKED, Scored, max_points, round_points, score, total as total_points};
use crate::ranking::competition_ranks;
use hashbrown::HashMap;
use schemas::{EpochMillis, YearMonth};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// One value per indicator, serialised as a JSON object in the order of docs/scoring.md#indicators.
#[derive(Debug, Clone, PartialEq)]
pub struct ByIndicator<T>(pub Vec<(Indicator, T)>);

impl<T: Serialize> Serialize for ByIndicator<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (indicator, value) in &self.0 {
            map.serialize_entry(indicator.key(), value)?;
        }
        map.end()
    }
}

impl<T: Copy> ByIndicator<T> {
    /// The value for `indicator`, if present.
    pub fn get(&self, indicator: Indicator) -> Option<T> {
        self.0
            .iter()
            .find(|(i, _)| *i == indicator)
            .map(|(_, v)| *v)
    }
}

/// The whole scorecard.
#[derive(Debug, Clone, Serialize)]
pub struct Scorecard {
    /// `2016-06`, `2016-Q3` or `assessment`.
    pub period: String,
    /// The months scored, first and last.
    pub months: [String; 2],
    /// The latest watermark, RFC 3339 in the configured zone: figures are complete up to here.
    pub as_of: String,
    /// Returns true when every month of the period is closed for every partition.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Branches: in-scope ones by rank, then the rest in organisation order.
    pub branches: Vec<BranchRow>,
    /// Per-user rows, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRow>>,
}

/// One branch's line.
#[derive(Debug, Clone, Serialize)]
pub struct BranchRow {
    /// Id.
    pub branch_id: String,
    /// Name from the organisation file (the id for a branch not in it).
    pub branch_name: String,
    /// Ranked and awarded.
    pub in_scope: bool,
    /// Users in the period's last month.
    pub users: usize,
    /// Sum of monthly users over the period: the per-user denominator.
    pub user_months: i64,
    /// Rank by total among in-scope branches.
    pub rank: Option<u32>,
    /// Sum of points (for the assessment: the sum of quarterly totals).
    pub total: f64,
    /// Values; null when the denominator is 0.
    pub indicators: ByIndicator<Option<f64>>,
    /// Points.
    pub points: ByIndicator<f64>,
    /// Numerator and denominator of each value.
    pub fractions: ByIndicator<Fraction>,
    /// Ranks of the ranked indicators.
    pub indicator_ranks: ByIndicator<Option<u32>>,
    /// For the assessment: each quarter's total.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quarter_totals: Vec<QuarterTotal>,
    /// For a month: pace to month end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pace: Option<BranchPace>,
    /// For a month: what the branch can still gain, indicator by indicator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_stake: Option<BranchStake>,
}

/// A quarter's total within the assessment.
#[derive(Debug, Clone, Serialize)]
pub struct QuarterTotal {
    /// First and last month of the (clipped) quarter.
    pub months: [String; 2],
    /// The quarter's total.
    pub total: f64,
}

/// Pace of a branch in a month.
#[derive(Debug, Clone, Serialize)]
pub struct BranchPace {
    /// Days elapsed and in the month.
    #[serde(flatten)]
    pub progress: MonthProgress,
    /// Projected month-end values of the volume indicators.
    pub projected: ByIndicator<Option<f64>>,
    /// Who can still become active.
    pub active_users: ActiveOutlook,
    /// Each indicator's projected month-end points (docs/scoring.md#pace).
    pub projected_points: ByIndicator<f64>,
    /// Their sum.
    pub projected_total: f64,
    /// Each indicator's status by the share of its points it is projected to keep.
    pub statuses: ByIndicator<PaceStatus>,
    /// The branch's status by its projected total.
    pub status: PaceStatus,
    /// The indicators projected to lose points, most points first.
    pub losing: Vec<Loss>,
}

/// Points an indicator is projected to lose at month end.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Loss {
    /// The indicator.
    pub indicator: Indicator,
    /// The points.
    pub points: f64,
}

/// One person's line.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    /// Id.
    pub user_id: String,
    /// Name from registration.
    pub display_name: Option<String>,
    /// Branch the counts belong to.
    pub branch_id: String,
    /// Counted in the branch's users for the period.
    pub registered: bool,
    /// This is the person's branch at the end of the period (their latest registration by then): the one
    /// row of a person who moved that city-wide views show.
    pub current: bool,
    /// Quotes.
    pub quotes: i64,
    /// Quotes from mobile terminals.
    pub mobile_quotes: i64,
    /// Proposals.
    pub proposals: i64,
    /// Counted policies (task or system_quote, not cancelled).
    pub deals: i64,
    /// Premium of counted policies, yuan.
    pub deal_premium: f64,
    /// All payments, yuan.
    pub payment: f64,
    /// Mobile payments, yuan.
    pub mobile_payment: f64,
    /// Distinct login days, summed over the period's months.
    pub login_days: u32,
    /// Tasks valid in the period on which the user acted in the period.
    pub tasks_executed: i64,
    /// Policies that earn the 5-yuan salesperson reward.
    pub reward_policies: i64,
    /// Bound to WeChat at the end of the period (now, for the month in progress), as the binding rate
    /// counts it; people not bound are the ones the 专员 chases (脱落人员).
    pub wechat_bound: bool,
    /// Rank by mobile quotes within the branch, and the person's in the city (in-scope branches).
    pub mobile_quotes_rank: UserRank,
    /// Rank by mobile payment within the branch, and the person's in the city (in-scope branches).
    pub mobile_payment_rank: UserRank,
    /// For a month: login outlook and projections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pace: Option<UserPace>,
}

/// A person's rank in the branch and in the city.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct UserRank {
    /// Within the branch, by the person's counts in it.
    pub branch: Option<u32>,
    /// Among all people of in-scope branches, by the person's counts in all of them together (one rank
    /// for a person who moved, on each of their in-scope rows); `None` on an out-of-scope row.
    pub city: Option<u32>,
    /// What the city rank is of: the person's count or amount (yuan) in all in-scope branches together;
    /// `None` on an out-of-scope row.
    pub city_total: Option<f64>,
}

/// A person's pace in a month.
#[derive(Debug, Clone, Serialize)]
pub struct UserPace {
    /// Where the person stands against the login-day threshold.
    pub login_status: LoginStatus,
    /// Projected month-end quotes.
    pub projected_quotes: f64,
    /// Projected month-end mobile quotes.
    pub projected_mobile_quotes: f64,
    /// Projected month-end mobile payment, yuan.
    pub projected_mobile_payment: f64,
}

/// Fen as yuan.
pub(crate) fn fen_to_yuan(fen: i64) -> f64 {
    fen as f64 / 100.0
}

impl Figures {
    /// The month of the latest watermark, or an error when nothing has arrived yet.
    fn latest_month(&self) -> Result<(i64, YearMonth), EngineError> {
        let watermark = self
            .state()
            .arrival
            .latest_watermark()
            .ok_or(EngineError::NoData)?;
        Ok((
            watermark,
            YearMonth::of_date(self.calendar().local_date(watermark)),
        ))
    }

    /// The month of the latest event-time watermark.
    pub fn current_month(&self) -> Option<YearMonth> {
        self.latest_month().ok().map(|(_, month)| month)
    }

    /// The month live screens and the default scorecard show: the current month while the assessment
    /// runs, its last month once it is over (so screens keep the final standings instead of going blank).
    /// Before any event, and before the assessment starts, there is none.
    pub fn live_month(&self) -> Result<YearMonth, EngineError> {
        let assessment = crate::period::assessment_months(self.config());
        let (_, latest) = self.latest_month()?;
        if latest < assessment.first {
            return Err(EngineError::NotStarted {
                starts: assessment.first,
                latest,
            });
        }
        Ok(latest.min(assessment.last))
    }

    /// Resolves `spec` against the assessment and the data so far.
    pub fn resolve_period(&self, spec: PeriodSpec) -> Result<Period, EngineError> {
        let (_, latest) = self.latest_month()?;
        Period::resolve(spec, self.config(), latest)
    }

    /// All branch keys: the organisation's in file order, then branches seen only in events by id (never
    /// by arrival, which would depend on how partitions interleave).
    pub(crate) fn branch_keys(&self) -> Vec<u32> {
        let branches = &self.state().entities.branches;
        let known = self.org().branches.len() as u32;
        let mut others: Vec<u32> = (known..branches.len() as u32).collect();
        others.sort_by(|a, b| branches.name(*a).cmp(branches.name(*b)));
        (0..known).chain(others).collect()
    }

    /// Each branch key's place in [`Self::branch_keys`].
    pub(crate) fn branch_order(&self) -> HashMap<u32, usize> {
        self.branch_keys()
            .into_iter()
            .enumerate()
            .map(|(i, b)| (b, i))
            .collect()
    }

    /// The name of the branch `id` in the organisation file, or `id` when it is not there.
    pub fn branch_name(&self, id: &str) -> String {
        self.org()
            .branch(id)
            .map_or_else(|| id.to_string(), |br| br.branch_name.clone())
    }

    /// The branches events named that the organisation file does not, sorted: they are scored as out of
    /// scope.
    pub fn unknown_branches(&self) -> Vec<String> {
        let branches = &self.state().entities.branches;
        let known = self.org().branches.len() as u32;
        let mut unknown: Vec<String> = (known..branches.len() as u32)
            .map(|b| branches.name(b).to_string())
            .collect();
        unknown.sort();
        unknown
    }

    /// Whether the branch with key `b` is in scope (unknown branches are not).
    pub fn in_scope(&self, b: u32) -> bool {
        let id = self.state().entities.branches.name(b);
        self.org().branch(id).is_some_and(|br| br.in_scope)
    }

    /// Scores `range` as one block: cumulative values, points and ranks, from `counters` and what happened
    /// before `before` (`EpochMillis::MAX` for everything).
    pub(crate) fn score_range(
        &self,
        range: MonthRange,
        counters: &Counters,
        before: EpochMillis,
    ) -> (
        HashMap<u32, crate::indicators::BranchFigures>,
        Scored,
        Membership,
    ) {
        let ctx = FigureContext {
            state: self.state(),
            counters,
            before,
            config: self.config(),
            calendar: self.calendar(),
        };
        let membership = Membership::compute(self.state(), self.calendar(), range, before);
        let branches = self.branch_keys();
        let figures = ctx.figures(&branches, range, &membership);
        let ordered: Vec<_> = branches.iter().map(|b| (*b, &figures[b])).collect();
        let scored = score(self.config(), &ordered, &|b| self.in_scope(b));
        (figures, scored, membership)
    }

    /// How far into `month` the data reaches.
    pub(crate) fn progress(&self, month: YearMonth) -> Result<MonthProgress, EngineError> {
        let (watermark, latest) = self.latest_month()?;
        let over = latest > month || self.state().arrival.is_final(month);
        let days_in_month = month.days();
        let days_elapsed = if over {
            days_in_month
        } else {
            chrono::Datelike::day(&self.calendar().local_date(watermark))
        };
        Ok(MonthProgress {
            days_elapsed,
            days_in_month,
            over,
        })
    }

    /// The scorecard of `spec`; per-user rows too when `with_users`. A month's branches come with their
    /// outlook (`pace`, `at_stake`).
    pub fn scorecard(&self, spec: PeriodSpec, with_users: bool) -> Result<Scorecard, EngineError> {
        self.scorecard_with(spec, with_users, true)
    }

    /// The scorecard of `spec` without the month's outlook (`pace` and `at_stake` are `None`): the figures,
    /// points and ranks that boards, rewards and most tables show, for less work.
    pub fn standings(&self, spec: PeriodSpec, with_users: bool) -> Result<Scorecard, EngineError> {
        self.scorecard_with(spec, with_users, false)
    }

    /// The standings of `spec` as if `last` were the latest month with data: the assessment through a
    /// month, without the months after it.
    pub(crate) fn standings_through(
        &self,
        spec: PeriodSpec,
        last: YearMonth,
    ) -> Result<Scorecard, EngineError> {
        let period = Period::resolve(spec, self.config(), last)?;
        self.scorecard_of(spec, period, false, false)
    }

    fn scorecard_with(
        &self,
        spec: PeriodSpec,
        with_users: bool,
        outlook: bool,
    ) -> Result<Scorecard, EngineError> {
        self.scorecard_of(spec, self.resolve_period(spec)?, with_users, outlook)
    }

    fn scorecard_of(
        &self,
        spec: PeriodSpec,
        period: Period,
        with_users: bool,
        outlook: bool,
    ) -> Result<Scorecard, EngineError> {
        let (watermark, _) = self.latest_month()?;
        let counters = self.state().counters();
        let (figures, scored, membership) =
            self.score_range(period.range, counters, EpochMillis::MAX);
        let branches = self.branch_keys();

        // The assessment's points are the sums of its quarters' points.
        let quarterly: Vec<(MonthRange, Scored)> = match spec {
            PeriodSpec::Assessment => period
                .quarters
                .iter()
                .map(|q| (*q, self.score_range(*q, counters, EpochMillis::MAX).1))
                .collect(),
            _ => Vec::new(),
        };
        let points_of = |b: u32| -> HashMap<Indicator, f64> {
            if quarterly.is_empty() {
                return scored.points[&b].clone();
            }
            Indicator::ALL
                .iter()
                .map(|i| {
                    (
                        *i,
                        round_points(quarterly.iter().map(|(_, s)| s.points[&b][i]).sum()),
                    )
                })
                .collect()
        };
        let progress = match spec {
            PeriodSpec::Month(m) => Some(self.progress(m)?),
            _ => None,
        };
        let user_rows = with_users.then(|| self.user_rows(period.range, &membership, progress));
        let mut rows = self.branch_rows(&branches, &figures, &scored, &points_of);
        let field = progress.filter(|_| outlook).map(|progress| Field {
            config: self.config(),
            progress,
            figures: &figures,
            scored: &scored,
            branches: branches
                .iter()
                .map(|&b| {
                    let id = self.state().entities.branches.name(b).to_string();
                    (b, id, self.in_scope(b))
                })
                .collect(),
        });
        for (b, row) in &mut rows {
            if let Some(field) = &field {
                let (pace, stake) = self.month_outlook(*b, period.range.last, field, &membership);
                row.pace = Some(pace);
                row.at_stake = Some(stake);
            }
            row.quarter_totals = quarterly
                .iter()
                .map(|(q, s)| QuarterTotal {
                    months: [q.first.to_string(), q.last.to_string()],
                    total: total_points(&s.points[b]),
                })
                .collect();
        }
        let rows = rows.into_iter().map(|(_, row)| row).collect();
        Ok(Scorecard {
            period: spec.to_string(),
            months: [
                period.range.first.to_string(),
                period.range.last.to_string(),
            ],
            as_of: self.calendar().rfc3339(watermark),
            is_final: period
                .range
                .months()
                .all(|m| self.state().arrival.is_final(m)),
            branches: rows,
            users: user_rows,
        })
    }

    /// Every branch's row of a block scored by [`Figures::score_range`], its points given by `points_of`,
    /// with its key: in-scope branches by rank, then the rest, in `branches` order where equal. Without
    /// pace or quarter totals.
    pub(crate) fn branch_rows(
        &self,
        branches: &[u32],
        figures: &HashMap<u32, crate::indicators::BranchFigures>,
        scored: &Scored,
        points_of: &dyn Fn(u32) -> HashMap<Indicator, f64>,
    ) -> Vec<(u32, BranchRow)> {
        let totals: Vec<f64> = branches
            .iter()
            .map(|b| total_points(&points_of(*b)))
            .collect();
        let ranks = competition_ranks(
            &branches
                .iter()
                .zip(&totals)
                .map(|(b, t)| self.in_scope(*b).then_some(*t))
                .collect::<Vec<_>>(),
        );
        let mut rows: Vec<(u32, BranchRow)> = branches
            .iter()
            .zip(totals.iter().zip(&ranks))
            .map(|(&b, (&total, &rank))| {
                let f = &figures[&b];
                let points = points_of(b);
                let id = self.state().entities.branches.name(b).to_string();
                let row = BranchRow {
                    branch_name: self.branch_name(&id),
                    branch_id: id,
                    in_scope: self.in_scope(b),
                    users: f.users_last_month,
                    user_months: f.user_months,
                    rank,
                    total,
                    indicators: ByIndicator(
                        Indicator::ALL.iter().map(|i| (*i, f.value(*i))).collect(),
                    ),
                    points: ByIndicator(Indicator::ALL.iter().map(|i| (*i, points[i])).collect()),
                    fractions: ByIndicator(
                        Indicator::ALL
                            .iter()
                            .map(|i| (*i, f.fractions[i]))
                            .collect(),
                    ),
                    indicator_ranks: ByIndicator(
                        RANKED
                            .iter()
                            .map(|i| {
                                (
                                    *i,
                                    scored
                                        .indicator_ranks
                                        .get(&b)
                                        .and_then(|r| r.get(i))
                                        .copied(),
                                )
                            })
                            .collect(),
                    ),
                    quarter_totals: Vec::new(),
                    pace: None,
                    at_stake: None,
                };
                (b, row)
            })
            .collect();
        // In-scope by rank, then the rest; file order (key order) breaks ties.
        rows.sort_by_key(|(_, r)| (r.rank.is_none(), r.rank));
        rows
    }

    /// Branch `b`'s pace and points at stake in `month`.
    fn month_outlook(
        &self,
        b: u32,
        month: YearMonth,
        field: &Field,
        membership: &Membership,
    ) -> (BranchPace, BranchStake) {
        let progress = field.progress;
        let threshold = self.config().active_login_days;
        let mut active_users = ActiveOutlook::default();
        let mut projected_active = 0;
        let mut must_login_every_day = Vec::new();
        for &u in membership.users(month, b) {
            let (status, days) = self.login_status(month, b, u, progress);
            active_users.add(status);
            projected_active += u32::from(progress.projected_active(days, status, threshold));
            if status == LoginStatus::MustLoginEveryDay {
                must_login_every_day.push(self.state().entities.user_ids.name(u).to_string());
            }
        }
        let clearing_scored = self
            .state()
            .entities
            .clearing
            .contains_key(&(b, month.ordinal()));
        let f = &field.figures[&b];
        let points = projected_points(
            self.config(),
            progress,
            f,
            &field.scored.points[&b],
            &ProjectionInputs {
                projected_active,
                clearing_scored,
            },
        );
        let projected_total = round_points(points.iter().map(|(_, p)| p).sum());
        // Rank points an out-of-scope unit can never earn are not lost.
        let in_scope = self.in_scope(b);
        let max = |i: Indicator| {
            if i.is_ranked() && !in_scope {
                0.0
            } else {
                max_points(self.config(), i)
            }
        };
        let mut losing: Vec<Loss> = points
            .iter()
            .map(|&(indicator, p)| Loss {
                indicator,
                points: round_points(max(indicator) - p),
            })
            .filter(|l| l.points > 0.0)
            .collect();
        losing.sort_by(|a, b| b.points.total_cmp(&a.points));
        let pace = BranchPace {
            progress,
            projected: ByIndicator(
                Indicator::ALL
                    .iter()
                    .filter(|i| i.is_volume())
                    .map(|i| (*i, f.value(*i).map(|v| progress.project(v))))
                    .collect(),
            ),
            active_users,
            statuses: ByIndicator(
                points
                    .iter()
                    .map(|&(i, p)| (i, PaceStatus::of_indicator(p, max(i))))
                    .collect(),
            ),
            projected_points: ByIndicator(points),
            projected_total,
            status: PaceStatus::of_loss(losing.iter().map(|l| l.points).sum(), self.config()),
            losing,
        };
        let stake = field.stake(
            b,
            &BranchExtras {
                outlook: active_users,
                must_login_every_day,
                clearing_scored,
            },
        );
        (pace, stake)
    }

    /// A user's standing against the login-day threshold in `month`, and their login days so far.
    fn login_status(
        &self,
        month: YearMonth,
        b: u32,
        u: u32,
        progress: MonthProgress,
    ) -> (LoginStatus, u32) {
        let days = self
            .state()
            .counters
            .by_user
            .get(&(month.ordinal(), b, u))
            .map_or(0, |c| c.login_days);
        let today_bit = 1i64 << (progress.days_elapsed.max(1) - 1);
        let count = days.count_ones();
        let status = progress.login_status(
            count,
            days & today_bit != 0,
            self.config().active_login_days,
        );
        (status, count)
    }

    /// Per-user rows for `range`, with pace when `progress` is given (a month).
    fn user_rows(
        &self,
        range: MonthRange,
        membership: &Membership,
        progress: Option<MonthProgress>,
    ) -> Vec<UserRow> {
        let state = self.state();
        let mut totals: HashMap<(u32, u32), (Measures, u32)> = HashMap::new();
        for m in range.months() {
            for b in self.branch_keys() {
                for &u in membership.users(m, b) {
                    totals.entry((b, u)).or_default();
                }
            }
        }
        for (&(month, b, u), c) in &state.counters.by_user {
            if u == crate::facts::NO_USER || !range.contains(YearMonth::from_ordinal(month)) {
                continue;
            }
            let entry = totals.entry((b, u)).or_default();
            entry.0.merge(&Measures {
                login_days: 0,
                ..*c
            });
            entry.1 += c.login_days.count_ones();
        }
        let executed = self.tasks_executed(range, EpochMillis::MAX);
        let branch_order = self.branch_order();
        let mut keys: Vec<(u32, u32)> = totals.keys().copied().collect();
        keys.sort_by(|a, b| {
            (branch_order[&a.0], state.entities.user_ids.name(a.1))
                .cmp(&(branch_order[&b.0], state.entities.user_ids.name(b.1)))
        });
        let rank_by = |measure: Measure, value: fn(i64) -> f64| {
            self.rank_people(&keys, &|k| totals[&k].0.get(measure), value)
        };
        let quote_ranks = rank_by(Measure::MobileQuotes, |count| count as f64);
        let payment_ranks = rank_by(Measure::MobilePaymentFen, fen_to_yuan);
        let period_end = self.calendar().month_end(range.last);
        let current_branch = |u: u32| {
            state.entities.users[u as usize]
                .intervals(range.last, EpochMillis::MAX)
                .take_while(|(_, from, _)| *from < period_end)
                .last()
                .map(|(branch, _, _)| branch)
        };
        keys.iter()
            .map(|&(b, u)| {
                let (c, login_days) = totals[&(b, u)];
                let registered = range
                    .months()
                    .any(|m| membership.users(m, b).binary_search(&u).is_ok());
                let pace = progress.map(|p| UserPace {
                    login_status: self.login_status(range.last, b, u, p).0,
                    projected_quotes: p.project(c.get(Measure::Quotes) as f64),
                    projected_mobile_quotes: p.project(c.get(Measure::MobileQuotes) as f64),
                    projected_mobile_payment: p
                        .project(fen_to_yuan(c.get(Measure::MobilePaymentFen))),
                });
                let record = &state.entities.users[u as usize];
                UserRow {
                    user_id: state.entities.user_ids.name(u).to_string(),
                    display_name: record.display_name.clone(),
                    branch_id: state.entities.branches.name(b).to_string(),
                    registered,
                    current: current_branch(u) == Some(b),
                    quotes: c.get(Measure::Quotes),
                    mobile_quotes: c.get(Measure::MobileQuotes),
                    proposals: c.get(Measure::Proposals),
                    deals: c.get(Measure::Deals),
                    deal_premium: fen_to_yuan(c.get(Measure::DealPremiumFen)),
                    payment: fen_to_yuan(c.get(Measure::PaymentFen)),
                    mobile_payment: fen_to_yuan(c.get(Measure::MobilePaymentFen)),
                    login_days,
                    tasks_executed: executed.get(&(b, u)).copied().unwrap_or(0),
                    reward_policies: c.get(Measure::RewardPolicies),
                    wechat_bound: record.bound_at(period_end - 1, range.last),
                    mobile_quotes_rank: quote_ranks[&(b, u)],
                    mobile_payment_rank: payment_ranks[&(b, u)],
                    pace,
                }
            })
            .collect()
    }

    /// Per `(branch, user)`: the tasks valid in `range` the user acted on in it, from what happened before
    /// `before`.
    pub(crate) fn tasks_executed(
        &self,
        range: MonthRange,
        before: EpochMillis,
    ) -> HashMap<(u32, u32), i64> {
        let mask = range_mask(range, crate::period::assessment_months(self.config()).first);
        let validity = TaskValidity::new(range, self.calendar(), before);
        let mut executed: HashMap<(u32, u32), i64> = HashMap::new();
        for task in self
            .state()
            .entities
            .tasks
            .values()
            .filter(|t| validity.admits(t))
        {
            for u in task.acting_users(mask, before) {
                *executed.entry((task.branch, u)).or_default() += 1;
            }
        }
        executed
    }

    /// Each person's rank by `count` (a stored sum; `value` turns it into what is shown, fen into yuan)
    /// within their branch, and in the city among the people of in-scope branches by their counts in all of
    /// them together. `keys` are `(branch, user)`.
    pub(crate) fn rank_people(
        &self,
        keys: &[(u32, u32)],
        count: &dyn Fn((u32, u32)) -> i64,
        value: fn(i64) -> f64,
    ) -> HashMap<(u32, u32), UserRank> {
        let mut people: HashMap<u32, i64> = HashMap::new();
        for k in keys.iter().filter(|k| self.in_scope(k.0)) {
            *people.entry(k.1).or_default() += count(*k);
        }
        let people: Vec<(u32, i64)> = people.into_iter().collect();
        let values: Vec<Option<f64>> = people.iter().map(|p| Some(p.1 as f64)).collect();
        let city: HashMap<u32, (Option<u32>, i64)> = people
            .iter()
            .zip(competition_ranks(&values))
            .map(|(&(user, total), rank)| (user, (rank, total)))
            .collect();
        let mut out: HashMap<(u32, u32), UserRank> = HashMap::new();
        for k in keys {
            let person = city.get(&k.1).filter(|_| self.in_scope(k.0));
            out.insert(
                *k,
                UserRank {
                    branch: None,
                    city: person.and_then(|p| p.0),
                    city_total: person.map(|p| value(p.1)),
                },
            );
        }
        let mut by_branch: HashMap<u32, Vec<(u32, u32)>> = HashMap::new();
        for k in keys {
            by_branch.entry(k.0).or_default().push(*k);
        }
        for members in by_branch.values() {
            let values: Vec<Option<f64>> = members.iter().map(|k| Some(count(*k) as f64)).collect();
            for (k, rank) in members.iter().zip(competition_ranks(&values)) {
                out.get_mut(k).expect("inserted above").branch = rank;
            }
        }
        out
    }
}
