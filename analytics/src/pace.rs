//! Mid-month pace (docs/scoring.md#pace): how far into the month the data is, month-end projections of volumes, and who
//! can still reach the active-user threshold.

use crate::indicators::Indicator;
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

/// Whether a projected month-end value reaches its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaceStatus {
    /// The projection reaches the target.
    OnTrack,
    /// The projection reaches at least [`BEHIND_FROM`] of the target.
    Behind,
    /// The projection falls short of [`BEHIND_FROM`] of the target (or there are no users to measure).
    AtRisk,
}

/// The share of a target below which a projection is at risk rather than behind.
pub const BEHIND_FROM: f64 = 0.8;

impl PaceStatus {
    /// The status of `projected` against `target`.
    pub fn of(projected: Option<f64>, target: f64) -> Self {
        match projected {
            Some(v) if v >= target => PaceStatus::OnTrack,
            Some(v) if v >= target * BEHIND_FROM => PaceStatus::Behind,
            _ => PaceStatus::AtRisk,
        }
    }
}

/// The value at which `indicator` earns its full points, for the volume indicators with a per-user target
/// (reports come once a month or so: projecting them from the days elapsed says nothing).
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
    fn pace_status_against_a_target() {
        assert_eq!(PaceStatus::of(Some(30.0), 30.0), PaceStatus::OnTrack);
        assert_eq!(PaceStatus::of(Some(24.0), 30.0), PaceStatus::Behind);
        assert_eq!(PaceStatus::of(Some(23.9), 30.0), PaceStatus::AtRisk);
        assert_eq!(PaceStatus::of(None, 30.0), PaceStatus::AtRisk);
        let config = Config::default();
        assert_eq!(
            full_points_at(&config, Indicator::QuotesPerUser),
            Some(30.0)
        );
        assert_eq!(
            full_points_at(&config, Indicator::MobileQuotesPerUser),
            None
        );
    }
}
