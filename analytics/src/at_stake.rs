//! Points at stake (docs/scoring.md#points-at-stake): for each branch and indicator of a month, what it
//! takes to earn the points still open this month, following the scoring rules exactly, and how close a
//! ranked branch is to dropping a tier.

use crate::indicators::{BranchFigures, Indicator};
use crate::pace::{ActiveOutlook, MonthProgress};
use crate::points::{Scored, indicator_points, max_points, rank_tiers, round_points};
use crate::scorecard::ByIndicator;
use hashbrown::HashMap;
use schemas::Config;
use serde::Serialize;

/// What a branch can still gain this month, indicator by indicator.
#[derive(Debug, Clone, Serialize)]
pub struct BranchStake {
    /// Days left in the month, today included (0 once the month is over).
    pub days_left: u32,
    /// The points the branch gains this month if it closes every gap below.
    pub gainable: f64,
    /// Each indicator's stake.
    pub indicators: ByIndicator<Stake>,
}

impl BranchStake {
    /// Drops the ids of people (who must log in every day left), for a reader who may not see this
    /// branch's people; the counts stay.
    pub fn hide_people(&mut self) {
        for (_, stake) in &mut self.indicators.0 {
            if let Gap::Logins {
                must_login_every_day,
                ..
            } = &mut stake.gap
            {
                must_login_every_day.clear();
            }
        }
    }
}

/// One indicator's stake.
#[derive(Debug, Clone, Serialize)]
pub struct Stake {
    /// Points now.
    pub points: f64,
    /// The most the indicator can earn.
    pub max_points: f64,
    /// Points the branch gains if it closes the gaps of `gap`.
    pub gainable: f64,
    /// What it takes.
    #[serde(flatten)]
    pub gap: Gap,
}

/// What it takes to gain an indicator's open points.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Gap {
    /// Full points: nothing at stake.
    Full,
    /// Nothing the branch does this month changes it: the month is over, or the renewal index after the
    /// month's first day, or a clearing score already given, or no tasks valid.
    Settled,
    /// The clearing score is not given yet (待评): not in the branch's hands, not counted in `gainable`.
    Pending,
    /// Ranked only among in-scope branches: an out-of-scope unit earns no rank points.
    NotRanked,
    /// The branch has no users this month: no per-user value.
    NoUsers,
    /// A proportional volume below target: how much more the branch needs this month for full points.
    Volume {
        /// In total: quotes, proposals, or yuan of deal premium.
        needed: f64,
        /// Per user.
        per_user: f64,
        /// Per day left, today included.
        per_day: f64,
    },
    /// A ranked indicator.
    Ranked {
        /// The branch's rank now.
        rank: u32,
        /// Every better tier, nearest first: what it takes to reach it.
        better: Vec<TierStep>,
        /// The branch just below, and what dropping behind it would cost.
        below: Option<Margin>,
    },
    /// Active users: who can still reach the login-day threshold.
    Logins {
        /// Users who can still reach it (including those who must log in every day left).
        can_reach: u32,
        /// The ids of those who reach it only by logging in on every day left.
        must_login_every_day: Vec<String>,
        /// Users who can no longer reach it.
        cannot_reach: u32,
    },
    /// WeChat binding: how many more users to bind for each better tier.
    Binding {
        /// Users not bound now.
        unbound: u32,
        /// Every better tier, nearest first.
        better: Vec<RateStep>,
    },
    /// Tasks valid this month not acted on yet.
    Tasks {
        /// How many.
        not_acted: i64,
    },
    /// On the month's first day: due renewals not yet assigned to a service manager.
    Renewals {
        /// How many.
        not_assigned: i64,
    },
    /// More accepted reports that count this month.
    Reports {
        /// How many.
        more: u32,
    },
}

/// Reaching a better rank tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierStep {
    /// The tier's worst rank.
    pub rank: u32,
    /// The tier's points.
    pub points: f64,
    /// The branch now at that place in the order (it may share a better rank with ties).
    pub holder: String,
    /// Its value: the value to equal.
    pub value: f64,
    /// The gap per user.
    pub per_user: f64,
    /// The gap in total (mobile quotes, or yuan of mobile payment) with the branch's users now.
    pub needed: f64,
}

/// The branch just below a ranked branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Margin {
    /// Its id.
    pub branch_id: String,
    /// The lead per user (0 when tied).
    pub per_user: f64,
    /// What that branch needs in total (its mobile quotes, or yuan) to pass this one.
    pub to_pass: f64,
    /// This branch's points if it passes.
    pub points_if_passed: f64,
}

/// Reaching a better binding tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateStep {
    /// The tier's least rate.
    pub min_rate: f64,
    /// The tier's points.
    pub points: f64,
    /// More users to bind.
    pub more: u32,
}

/// Everything about a month the stakes are computed from.
pub(crate) struct Field<'a> {
    pub config: &'a Config,
    pub progress: MonthProgress,
    pub figures: &'a HashMap<u32, BranchFigures>,
    pub scored: &'a Scored,
    /// Every branch key with its id and whether it is ranked.
    pub branches: Vec<(u32, String, bool)>,
}

/// What the stakes of one branch read beyond the figures.
pub(crate) struct BranchExtras {
    /// Where the branch's users of the month stand against the login-day threshold.
    pub outlook: ActiveOutlook,
    /// The ids of those who must log in on every day left.
    pub must_login_every_day: Vec<String>,
    /// Whether the month's clearing score is given.
    pub clearing_scored: bool,
}

/// The least `k ≥ 0` with `(numerator + k) / denominator ≥ other_num / other_den`, exactly (integers).
fn to_equal(numerator: i64, denominator: i64, other_num: i64, other_den: i64) -> i64 {
    let (product, by) = (
        i128::from(other_num) * i128::from(denominator),
        i128::from(other_den),
    );
    let need = (product + by - 1) / by;
    (need - i128::from(numerator)).max(0) as i64
}

/// The least `k ≥ 0` with `(numerator + k) / denominator > other_num / other_den`, exactly (integers).
fn to_pass(numerator: i64, denominator: i64, other_num: i64, other_den: i64) -> i64 {
    let need = i128::from(other_num) * i128::from(denominator) / i128::from(other_den) + 1;
    (need - i128::from(numerator)).max(0) as i64
}

/// What a branch at `ours` (numerator, users) needs more in total (mobile quotes, or yuan of mobile
/// payment) for its value of `indicator` to equal the value of `theirs`, exactly in whole quotes or fen.
pub fn needed_to_equal(indicator: Indicator, ours: (f64, f64), theirs: (f64, f64)) -> f64 {
    let more = to_equal(
        units(indicator, ours.0),
        ours.1 as i64,
        units(indicator, theirs.0),
        theirs.1 as i64,
    );
    shown(indicator, more)
}

/// An indicator's numerator in its smallest unit (fen for yuan amounts), as stored.
fn units(indicator: Indicator, numerator: f64) -> i64 {
    (numerator * scale(indicator)).round() as i64
}

/// Smallest units back to what is shown (yuan for amounts).
fn shown(indicator: Indicator, units: i64) -> f64 {
    units as f64 / scale(indicator)
}

/// Smallest units per shown unit: 100 fen a yuan for amounts, 1 for counts.
fn scale(indicator: Indicator) -> f64 {
    if indicator.is_amount() { 100.0 } else { 1.0 }
}

impl Field<'_> {
    /// The stakes of branch `b`.
    pub fn stake(&self, b: u32, extras: &BranchExtras) -> BranchStake {
        let days_left = self.progress.days_left();
        let stakes: Vec<(Indicator, Stake)> = Indicator::ALL
            .iter()
            .map(|&i| (i, self.indicator_stake(b, i, extras, days_left)))
            .collect();
        BranchStake {
            days_left,
            gainable: round_points(stakes.iter().map(|(_, s)| s.gainable).sum()),
            indicators: ByIndicator(stakes),
        }
    }

    fn indicator_stake(
        &self,
        b: u32,
        indicator: Indicator,
        extras: &BranchExtras,
        days_left: u32,
    ) -> Stake {
        let points = self.scored.points[&b][&indicator];
        let max = max_points(self.config, indicator);
        let settled = |gap| Stake {
            points,
            max_points: max,
            gainable: 0.0,
            gap,
        };
        let f = &self.figures[&b];
        let fraction = f.fractions[&indicator];
        let in_scope = self.branches.iter().any(|(k, _, s)| *k == b && *s);
        let ranked = indicator.is_ranked();
        // A ranked branch with full points still has a margin to keep.
        if ranked
            && in_scope
            && days_left > 0
            && let Some(stake) = self.ranked(b, indicator, points, max)
        {
            return stake;
        }
        if points >= max {
            return settled(Gap::Full);
        }
        let gap = match indicator {
            Indicator::ClearingScore if !extras.clearing_scored => return settled(Gap::Pending),
            _ if ranked && !in_scope => return settled(Gap::NotRanked),
            _ if days_left == 0 => return settled(Gap::Settled),
            Indicator::ClearingScore => return settled(Gap::Settled),
            // Every indicator counted over the branch's users.
            _ if (indicator.has_target()
                || ranked
                || matches!(
                    indicator,
                    Indicator::ActiveUserRate | Indicator::WechatBindingRate
                ))
                && fraction.denominator == 0.0 =>
            {
                return settled(Gap::NoUsers);
            }
            _ if indicator.has_target() => {
                let Some(target) = crate::pace::full_points_at(self.config, indicator) else {
                    return settled(Gap::Settled);
                };
                // The least whole count (or fen) reaching target × users: a tiny tolerance so that
                // 10 × 3 is 30, not 31.
                let target_units = (target * fraction.denominator * scale(indicator) - 1e-6).ceil();
                let needed = shown(
                    indicator,
                    (target_units as i64 - units(indicator, fraction.numerator)).max(0),
                );
                Gap::Volume {
                    needed,
                    per_user: needed / fraction.denominator,
                    per_day: needed / f64::from(days_left),
                }
            }
            // A ranked indicator of an in-scope branch that has no rank: no value to rank.
            _ if ranked => return settled(Gap::NoUsers),
            Indicator::ActiveUserRate => {
                let can_reach = extras.outlook.can_reach;
                let value = (fraction.numerator + f64::from(can_reach)) / fraction.denominator;
                return Stake {
                    points,
                    max_points: max,
                    gainable: round_points(
                        indicator_points(self.config, indicator, Some(value), None) - points,
                    ),
                    gap: Gap::Logins {
                        can_reach,
                        must_login_every_day: extras.must_login_every_day.clone(),
                        cannot_reach: extras.outlook.cannot_reach,
                    },
                };
            }
            Indicator::WechatBindingRate => {
                let (bound, users) = (fraction.numerator, fraction.denominator);
                let better: Vec<RateStep> = self
                    .config
                    .tiers
                    .wechat_binding_rate
                    .iter()
                    .rev()
                    .filter(|t| t.points > points)
                    .map(|t| RateStep {
                        min_rate: t.min_rate,
                        points: t.points,
                        // The least whole number of users reaching the rate (a tiny tolerance so 0.9 × 10
                        // is 9, not 10).
                        more: ((t.min_rate * users - 1e-9).ceil() - bound).max(0.0) as u32,
                    })
                    .collect();
                Gap::Binding {
                    unbound: (users - bound) as u32,
                    better,
                }
            }
            Indicator::TaskExecutionRate => {
                if fraction.denominator == 0.0 {
                    return settled(Gap::Settled);
                }
                Gap::Tasks {
                    not_acted: (fraction.denominator - fraction.numerator) as i64,
                }
            }
            Indicator::RenewalIndex => {
                if fraction.denominator == 0.0 || self.progress.days_elapsed > 1 {
                    return settled(Gap::Settled);
                }
                Gap::Renewals {
                    not_assigned: (fraction.denominator - fraction.numerator) as i64,
                }
            }
            Indicator::ReportsAccepted => Gap::Reports {
                more: (max - fraction.numerator).ceil().max(0.0) as u32,
            },
            Indicator::QuotesPerUser
            | Indicator::ProposalsPerUser
            | Indicator::DealPremiumPerUser
            | Indicator::MobileQuotesPerUser
            | Indicator::MobilePaymentPerUser => return settled(Gap::Settled),
        };
        Stake {
            points,
            max_points: max,
            gainable: round_points(max - points),
            gap,
        }
    }

    /// The stake of a ranked indicator for an in-scope branch, if it has a rank (a value to rank).
    fn ranked(&self, b: u32, indicator: Indicator, points: f64, max: f64) -> Option<Stake> {
        let rank = *self.scored.indicator_ranks.get(&b)?.get(&indicator)?;
        let ours = self.figures[&b].fractions[&indicator];
        let our_units = units(indicator, ours.numerator);
        let our_users = ours.denominator as i64;
        let our_value = self.figures[&b].value(indicator)?;
        // The other in-scope branches with a value, best first.
        let mut others: Vec<(&str, i64, i64, f64)> = self
            .branches
            .iter()
            .filter(|(k, _, in_scope)| *k != b && *in_scope)
            .filter_map(|(k, id, _)| {
                let f = &self.figures[k];
                let v = f.value(indicator)?;
                let fr = f.fractions[&indicator];
                Some((
                    id.as_str(),
                    units(indicator, fr.numerator),
                    fr.denominator as i64,
                    v,
                ))
            })
            .collect();
        others.sort_by(|a, c| c.3.total_cmp(&a.3));
        let tiers = rank_tiers(self.config, indicator);
        let better: Vec<TierStep> = tiers
            .iter()
            .rev()
            .filter(|t| t.points > points && t.max_rank < rank)
            .filter_map(|t| {
                // Equalling the value of the branch now at the tier's worst rank gives that rank (ties share
                // the better rank).
                let (holder, num, den, value) =
                    *others.get((t.max_rank as usize).checked_sub(1)?)?;
                let needed = shown(indicator, to_equal(our_units, our_users, num, den));
                Some(TierStep {
                    rank: t.max_rank,
                    points: t.points,
                    holder: holder.to_string(),
                    value,
                    per_user: value - our_value,
                    needed,
                })
            })
            .collect();
        // The best branch not above this one: passing it moves this branch down one rank.
        let below = others
            .iter()
            .find(|o| o.3 <= our_value)
            .map(|&(id, num, den, value)| {
                let to_pass = to_pass(num, den, our_units, our_users);
                Margin {
                    branch_id: id.to_string(),
                    per_user: our_value - value,
                    to_pass: shown(indicator, to_pass),
                    points_if_passed: indicator_points(
                        self.config,
                        indicator,
                        None,
                        Some(rank + 1),
                    ),
                }
            });
        let gainable = better.iter().map(|s| s.points).fold(points, f64::max) - points;
        Some(Stake {
            points,
            max_points: max,
            gainable: round_points(gainable),
            gap: Gap::Ranked {
                rank,
                better,
                below,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_people_keeps_the_counts_and_drops_the_ids() {
        let logins = Stake {
            points: 0.0,
            max_points: 10.0,
            gainable: 10.0,
            gap: Gap::Logins {
                can_reach: 3,
                must_login_every_day: vec!["u1".into(), "u2".into()],
                cannot_reach: 1,
            },
        };
        let mut stake = BranchStake {
            days_left: 5,
            gainable: 10.0,
            indicators: ByIndicator(vec![(Indicator::ActiveUserRate, logins)]),
        };
        stake.hide_people();
        assert_eq!(
            stake.indicators.0[0].1.gap,
            Gap::Logins {
                can_reach: 3,
                must_login_every_day: vec![],
                cannot_reach: 1,
            }
        );
    }

    #[test]
    fn exact_gaps_between_fractions() {
        // 12 / 2 = 6 per user against 16 / 2 = 8: 4 more to equal, 5 to pass.
        assert_eq!(to_equal(12, 2, 16, 2), 4);
        assert_eq!(to_pass(12, 2, 16, 2), 5);
        // 7 / 3 against 5 / 2 = 2.5, i.e. 7.5 of 3: 8 both equals and passes it (1 more).
        assert_eq!(to_equal(7, 3, 5, 2), 1);
        assert_eq!(to_pass(7, 3, 5, 2), 1);
        // Already ahead: nothing.
        assert_eq!(to_equal(30, 3, 5, 1), 0);
    }
}
