//! Mid-month pace (SPEC §5): how far into the month the data is, month-end projections of volumes, and who
//! can still reach the active-user threshold.

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
}
