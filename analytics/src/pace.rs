//! Mid-month pace (docs/scoring.md#pace): how far into the month the data is, month-end projections of volumes, and who
//! can still reach the active-user threshold.

use crate::indicators::{BranchFigures, Indicator};
use crate::points::{indicator_points, max_points};
use schemas::Config;
use serde::Serialize;

/// How far into a month the data reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MonthProgress {
    /// Days of the month with data, counting the current day (all of them once the month is over).
    pub days_elapsed: u32,
    /// Days in the month.
    pub days_in_month: u32,
    /// Returns true when the watermark has left the month.
    #[serde(skip)]
    pub over: bool,
}

impl MonthProgress {
    /// Days left in the month, today included; 0 once the month is over.
    pub fn days_left(self) -> u32 {
        if self.over {
            0
        } else {
            self.days_in_month - self.days_elapsed + 1
        }
    }

    /// The month-end projection of a volume: `value × days in month / days elapsed`.
    pub fn project(self, value: f64) -> f64 {
        value * f64::from(self.days_in_month) / f64::from(self.days_elapsed.max(1))
    }

    /// Where a user with `login_days` stands against `threshold`, given whether they logged in today.
    pub fn login_status(
        self,
        login_days: u32,
        logged_in_today: bool,
        threshold: u32,
    ) -> LoginStatus {
        if login_days >= threshold {
            return LoginStatus::Reached;
        }
        let still_possible = if self.over {
            0
        } else {
            self.days_in_month - self.days_elapsed + u32::from(!logged_in_today)
        };
        match (login_days + still_possible).cmp(&threshold) {
            std::cmp::Ordering::Less => LoginStatus::CannotReach,
            std::cmp::Ordering::Equal => LoginStatus::MustLoginEveryDay,
            std::cmp::Ordering::Greater => LoginStatus::CanReach,
        }
    }
}

impl MonthProgress {
    /// Returns true if a user with `login_days` so far, standing at `status`, is projected to reach
    /// `threshold` at the pace of their logins so far.
    pub fn projected_active(self, login_days: u32, status: LoginStatus, threshold: u32) -> bool {
        match status {
            LoginStatus::Reached => true,
            LoginStatus::CannotReach => false,
            LoginStatus::CanReach | LoginStatus::MustLoginEveryDay => {
                self.project(f64::from(login_days)) >= f64::from(threshold)
            }
        }
    }
}

/// A user's standing against the active-user threshold (20 login days by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginStatus {
    /// Already active this month.
    Reached,
    /// Can still reach it with days to spare.
    CanReach,
    /// Reaches it only by logging in on every remaining day.
    MustLoginEveryDay,
    /// Can no longer reach it this month.
    CannotReach,
}

/// How many of a branch's users stand where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ActiveOutlook {
    /// Already active.
    pub reached: u32,
    /// Can still reach it (including those who must log in every remaining day).
    pub can_reach: u32,
    /// Of `can_reach`, those who must log in every remaining day.
    pub must_login_every_day: u32,
    /// Can no longer reach it.
    pub cannot_reach: u32,
}

impl ActiveOutlook {
    /// Counts one user.
    pub fn add(&mut self, status: LoginStatus) {
        match status {
            LoginStatus::Reached => self.reached += 1,
            LoginStatus::CanReach => self.can_reach += 1,
            LoginStatus::MustLoginEveryDay => {
                self.can_reach += 1;
                self.must_login_every_day += 1;
            }
            LoginStatus::CannotReach => self.cannot_reach += 1,
        }
    }
}

/// How a branch's month is going, judged by the points it is projected to lose at month end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceStatus {
    /// For a branch: projected to lose no more points than a branch may and still reach the specialist
    /// bonus's line (`rewards.specialist_min_total`, 90: 10 of 100). For an indicator: projected to keep
    /// all but a twentieth of its points.
    OnTrack,
    /// For a branch: projected to lose at most [`BEHIND_WITHIN`] points more than that. For an indicator:
    /// projected to keep at least half its points.
    Behind,
    /// Below both.
    AtRisk,
}

/// How many points beyond those a branch may lose and still reach the specialist bonus's line leave it
/// behind rather than at risk.
pub const BEHIND_WITHIN: f64 = 20.0;

impl PaceStatus {
    /// The status of a branch projected to lose `lost` points at month end. A branch may lose the points
    /// of all indicators above the specialist bonus's line (10 of 100); points an out-of-scope unit can
    /// never earn (rank points) are not counted as lost.
    pub fn of_loss(lost: f64, config: &Config) -> Self {
        let max_total: f64 = Indicator::ALL.iter().map(|i| max_points(config, *i)).sum();
        let allowed = max_total - config.rewards.specialist_min_total;
        if lost <= allowed + 1e-9 {
            PaceStatus::OnTrack
        } else if lost <= allowed + BEHIND_WITHIN + 1e-9 {
            PaceStatus::Behind
        } else {
            PaceStatus::AtRisk
        }
    }

    /// The status of an indicator projected to earn `projected` of its `max` points.
    pub fn of_indicator(projected: f64, max: f64) -> Self {
        if projected >= max * 0.95 {
            PaceStatus::OnTrack
        } else if projected >= max * 0.5 {
            PaceStatus::Behind
        } else {
            PaceStatus::AtRisk
        }
    }
}

/// What a month-end projection of a branch's points reads beyond its figures.
pub(crate) struct ProjectionInputs {
    /// Users projected to reach the login-day threshold: already there, or logging in at a pace that gets
    /// them there in the days left.
    pub projected_active: u32,
    /// Whether the month's clearing score is given.
    pub clearing_scored: bool,
}

/// Each indicator's projected month-end points: volumes, reports and tasks acted on at the month's pace so
/// far; active users at each person's login pace; a clearing score not yet given at full points while the
/// month runs (not held against the branch); the rest (ranks, binding, renewals) as they stand. Once the
/// month is over, every projection is the figure as it stands.
pub(crate) fn projected_points(
    config: &Config,
    progress: MonthProgress,
    figures: &BranchFigures,
    points_now: &hashbrown::HashMap<Indicator, f64>,
    inputs: &ProjectionInputs,
) -> Vec<(Indicator, f64)> {
    Indicator::ALL
        .iter()
        .map(|&i| {
            let fraction = figures.fractions[&i];
            let value = match i {
                Indicator::QuotesPerUser
                | Indicator::ProposalsPerUser
                | Indicator::DealPremiumPerUser
                | Indicator::ReportsAccepted => figures.value(i).map(|v| progress.project(v)),
                Indicator::TaskExecutionRate => {
                    fraction.value().map(|v| progress.project(v).min(1.0))
                }
                Indicator::ActiveUserRate => (fraction.denominator > 0.0)
                    .then(|| f64::from(inputs.projected_active) / fraction.denominator),
                Indicator::ClearingScore if !inputs.clearing_scored && !progress.over => {
                    return (i, max_points(config, i));
                }
                _ => return (i, points_now[&i]),
            };
            (i, indicator_points(config, i, value, None))
        })
        .collect()
}

/// The monthly per-user target at which `indicator` earns its full points, for the indicators that have one
/// ([`Indicator::has_target`]).
pub fn full_points_at(config: &Config, indicator: Indicator) -> Option<f64> {
    match indicator {
        Indicator::QuotesPerUser => Some(config.targets.quotes_per_user),
        Indicator::ProposalsPerUser => Some(config.targets.proposals_per_user),
        Indicator::DealPremiumPerUser => Some(config.targets.deal_premium_per_user),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_outlook_on_june_20() {
        let p = MonthProgress {
            days_elapsed: 20,
            days_in_month: 30,
            over: false,
        };
        assert_eq!(p.login_status(20, true, 20), LoginStatus::Reached);
        // 9 days logged, not yet today: today + 10 more days = 20 exactly.
        assert_eq!(p.login_status(9, false, 20), LoginStatus::MustLoginEveryDay);
        assert_eq!(p.login_status(9, true, 20), LoginStatus::CannotReach);
        assert_eq!(p.login_status(10, true, 20), LoginStatus::MustLoginEveryDay);
        assert_eq!(p.login_status(15, false, 20), LoginStatus::CanReach);
        assert_eq!(p.project(10.0), 15.0);
        let over = MonthProgress {
            days_elapsed: 30,
            days_in_month: 30,
            over: true,
        };
        assert_eq!(over.login_status(19, false, 20), LoginStatus::CannotReach);
    }

    #[test]
    fn pace_status_by_points_projected() {
        let config = Config::default();
        assert_eq!(PaceStatus::of_loss(10.0, &config), PaceStatus::OnTrack);
        assert_eq!(PaceStatus::of_loss(10.1, &config), PaceStatus::Behind);
        assert_eq!(PaceStatus::of_loss(30.0, &config), PaceStatus::Behind);
        assert_eq!(PaceStatus::of_loss(30.1, &config), PaceStatus::AtRisk);
        assert_eq!(PaceStatus::of_indicator(9.5, 10.0), PaceStatus::OnTrack);
        assert_eq!(PaceStatus::of_indicator(5.0, 10.0), PaceStatus::Behind);
        assert_eq!(PaceStatus::of_indicator(4.9, 10.0), PaceStatus::AtRisk);
        let p = MonthProgress {
            days_elapsed: 10,
            days_in_month: 30,
            over: false,
        };
        // 7 of 10 days: 21 at month end; 6 of 10: 18.
        assert!(p.projected_active(7, LoginStatus::CanReach, 20));
        assert!(!p.projected_active(6, LoginStatus::CanReach, 20));
        assert!(!p.projected_active(19, LoginStatus::CannotReach, 20));
        assert_eq!(
            full_points_at(&config, Indicator::QuotesPerUser),
            Some(200.0)
        );
        assert_eq!(
            full_points_at(&config, Indicator::MobileQuotesPerUser),
            None
        );
    }
}
