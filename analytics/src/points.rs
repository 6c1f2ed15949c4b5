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
    let points = figures
        .iter()
        .map(|(b, f)| {
            let ranks = indicator_ranks.get(b);
            let p = Indicator::ALL.map(|i| {
                let rank = ranks.and_then(|r| r.get(&i)).copied();
                (i, indicator_points(config, i, f.value(i), rank))
            });
            (*b, HashMap::from_iter(p))
        })
        .collect();
    Scored {
        points,
        indicator_ranks,
    }
}

/// The points `indicator` earns with `value` (and `rank`, for a ranked indicator), rounded.
pub fn indicator_points(
    config: &Config,
    indicator: Indicator,
    value: Option<f64>,
    rank: Option<u32>,
) -> f64 {
    let (w, t) = (&config.weights, &config.targets);
    let proportional =
        |target: f64, weight: f64| value.map_or(0.0, |v| weight * (v / target).min(1.0));
    let raw = match indicator {
        Indicator::QuotesPerUser => proportional(t.quotes_per_user, w.quotes_per_user),
        Indicator::ProposalsPerUser => proportional(t.proposals_per_user, w.proposals_per_user),
        Indicator::DealPremiumPerUser => {
            proportional(t.deal_premium_per_user, w.deal_premium_per_user)
        }
        Indicator::ClearingScore => value.map_or(0.0, |v| v.min(w.clearing_score)),
        Indicator::RenewalIndex => value.map_or(0.0, |v| w.renewal_index * v),
        Indicator::TaskExecutionRate => value.map_or(0.0, |v| w.task_execution_rate * v),
        Indicator::ActiveUserRate => value.map_or(0.0, |v| w.active_user_rate * v),
        Indicator::MobileQuotesPerUser => {
            rank_tier_points(&config.tiers.mobile_quotes_per_user, rank)
        }
        Indicator::WechatBindingRate => rate_tier_points(&config.tiers.wechat_binding_rate, value),
        Indicator::MobilePaymentPerUser => {
            rank_tier_points(&config.tiers.mobile_payment_per_user, rank)
        }
        Indicator::ReportsAccepted => value.map_or(0.0, |v| v.min(w.reports_accepted)),
    };
    round_points(raw)
}

/// The most points `indicator` can earn.
pub fn max_points(config: &Config, indicator: Indicator) -> f64 {
    let w = &config.weights;
    let best_rank = |tiers: &[RankTier]| tiers.iter().map(|t| t.points).fold(0.0, f64::max);
    match indicator {
        Indicator::QuotesPerUser => w.quotes_per_user,
        Indicator::ProposalsPerUser => w.proposals_per_user,
        Indicator::DealPremiumPerUser => w.deal_premium_per_user,
        Indicator::ClearingScore => w.clearing_score,
        Indicator::RenewalIndex => w.renewal_index,
        Indicator::TaskExecutionRate => w.task_execution_rate,
        Indicator::ActiveUserRate => w.active_user_rate,
        Indicator::MobileQuotesPerUser => best_rank(&config.tiers.mobile_quotes_per_user),
        Indicator::WechatBindingRate => config
            .tiers
            .wechat_binding_rate
            .iter()
            .map(|t| t.points)
            .fold(0.0, f64::max),
        Indicator::MobilePaymentPerUser => best_rank(&config.tiers.mobile_payment_per_user),
        Indicator::ReportsAccepted => w.reports_accepted,
    }
}

/// The rank tiers of a ranked indicator.
pub fn rank_tiers(config: &Config, indicator: Indicator) -> &[RankTier] {
    match indicator {
        Indicator::MobileQuotesPerUser => &config.tiers.mobile_quotes_per_user,
        Indicator::MobilePaymentPerUser => &config.tiers.mobile_payment_per_user,
        _ => &[],
    }
}

/// The sum of a branch's points.
pub fn total(points: &HashMap<Indicator, f64>) -> f64 {
    round_points(Indicator::ALL.iter().map(|i| points[i]).sum())
}
