//! Points (docs/scoring.md#points): proportional to target, capped scores, rank tiers and rate tiers.

use crate::indicators::{BranchFigures, Indicator};
use crate::ranking::competition_ranks;
use hashbrown::HashMap;
use schemas::{Config, RankTier, RateTier};

/// Rounds points to 4 decimals so totals compare and print stably.
pub fn round_points(p: f64) -> f64 {
    (p * 10_000.0).round() / 10_000.0
}

fn rank_tier_points(tiers: &[RankTier], rank: Option<u32>) -> f64 {
    rank.and_then(|r| tiers.iter().find(|t| r <= t.max_rank))
        .map_or(0.0, |t| t.points)
}

fn rate_tier_points(tiers: &[RateTier], rate: Option<f64>) -> f64 {
    rate.and_then(|r| tiers.iter().find(|t| r >= t.min_rate))
        .map_or(0.0, |t| t.points)
}

/// Points per indicator, and the rank of each ranked indicator, for a set of branches scored together.
pub struct Scored {
    /// Points by branch key and indicator.
    pub points: HashMap<u32, HashMap<Indicator, f64>>,
    /// Ranks of the ranked indicators by branch key (in-scope branches with a value only).
    pub indicator_ranks: HashMap<u32, HashMap<Indicator, u32>>,
}

/// The indicators scored by rank among in-scope branches.
pub const RANKED: [Indicator; 2] = [
    Indicator::MobileQuotesPerUser,
    Indicator::MobilePaymentPerUser,
];

/// Scores `figures` (one entry per branch); `in_scope` says which branches are ranked.
pub fn score(
    config: &Config,
    figures: &[(u32, &BranchFigures)],
    in_scope: &dyn Fn(u32) -> bool,
) -> Scored {
    let mut indicator_ranks: HashMap<u32, HashMap<Indicator, u32>> = HashMap::new();
    for indicator in RANKED {
        let values: Vec<Option<f64>> = figures
            .iter()
            .map(|(b, f)| {
                if in_scope(*b) {
                    f.value(indicator)
                } else {
                    None
                }
            })
            .collect();
        for ((b, _), rank) in figures.iter().zip(competition_ranks(&values)) {
            if let Some(rank) = rank {
                indicator_ranks
                    .entry(*b)
                    .or_default()
                    .insert(indicator, rank);
            }
        }
    }
    let (w, t) = (&config.weights, &config.targets);
    let proportional = |value: Option<f64>, target: f64, weight: f64| {
        value.map_or(0.0, |v| weight * (v / target).min(1.0))
    };
    let points = figures
        .iter()
        .map(|(b, f)| {
            let ranks = indicator_ranks.get(b);
            let rank_of = |i| ranks.and_then(|r| r.get(&i)).copied();
            let p = Indicator::ALL.map(|i| {
                let v = f.value(i);
                let raw = match i {
                    Indicator::QuotesPerUser => {
                        proportional(v, t.quotes_per_user, w.quotes_per_user)
                    }
                    Indicator::ProposalsPerUser => {
                        proportional(v, t.proposals_per_user, w.proposals_per_user)
                    }
                    Indicator::DealPremiumPerUser => {
                        proportional(v, t.deal_premium_per_user, w.deal_premium_per_user)
                    }
                    Indicator::ClearingScore => v.map_or(0.0, |v| v.min(w.clearing_score)),
                    Indicator::RenewalIndex => v.map_or(0.0, |v| w.renewal_index * v),
                    Indicator::TaskExecutionRate => v.map_or(0.0, |v| w.task_execution_rate * v),
                    Indicator::ActiveUserRate => v.map_or(0.0, |v| w.active_user_rate * v),
                    Indicator::MobileQuotesPerUser => {
                        rank_tier_points(&config.tiers.mobile_quotes_per_user, rank_of(i))
                    }
                    Indicator::WechatBindingRate => {
                        rate_tier_points(&config.tiers.wechat_binding_rate, v)
                    }
                    Indicator::MobilePaymentPerUser => {
                        rank_tier_points(&config.tiers.mobile_payment_per_user, rank_of(i))
                    }
                    Indicator::ReportsAccepted => v.map_or(0.0, |v| v.min(w.reports_accepted)),
                };
                (i, round_points(raw))
            });
            (*b, HashMap::from_iter(p))
        })
        .collect();
    Scored {
        points,
        indicator_ranks,
    }
}

/// The sum of a branch's points.
pub fn total(points: &HashMap<Indicator, f64>) -> f64 {
    round_points(Indicator::ALL.iter().map(|i| points[i]).sum())
}
