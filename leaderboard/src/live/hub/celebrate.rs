//! Large deals, rate-limited and named for the screens.

use crate::live::deals::Deal;
use schemas::Id;
use serde::Serialize;
use std::time::Instant;

/// A deal as the screens show it.
#[derive(Debug, Clone, Serialize)]
pub struct CelebratedDeal {
    /// The branch.
    pub branch_id: Id,
    /// Its name.
    pub branch_name: String,
    /// The salesperson.
    pub user_id: Option<Id>,
    /// Their display name, when known.
    pub name: Option<String>,
    /// The policy.
    pub policy_id: Id,
    /// Premium in yuan.
    pub premium: f64,
    /// Event time (RFC 3339).
    pub occurred_at: String,
}

/// A token bucket: at most `per_sec` celebrations a second, bursts included.
#[derive(Debug)]
pub struct CelebrationLimiter {
    per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl CelebrationLimiter {
    /// A full bucket of `per_sec` tokens.
    pub fn new(per_sec: u32) -> Self {
        Self {
            per_sec: f64::from(per_sec),
            tokens: f64::from(per_sec),
            last: Instant::now(),
        }
    }

    /// Keeps the largest deals the bucket allows at `now` and drops the rest.
    pub fn admit(&mut self, mut deals: Vec<Deal>, now: Instant) -> Vec<Deal> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.per_sec);
        deals.sort_by(|a, b| b.premium.total_cmp(&a.premium));
        deals.truncate(self.tokens.floor() as usize);
        self.tokens -= deals.len() as f64;
        deals
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn deal(premium: f64) -> Deal {
        Deal {
            branch_id: "zd".into(),
            user_id: Some("u1".into()),
            policy_id: format!("P{premium}").into(),
            premium,
            occurred_at: 0,
        }
    }

    #[test]
    fn never_more_than_the_rate_in_any_second() {
        let start = Instant::now();
        let mut limiter = CelebrationLimiter::new(3);
        let first = limiter.admit((1..=10).map(|i| deal(i as f64 * 1000.0)).collect(), start);
        assert_eq!(
            first.iter().map(|d| d.premium).collect::<Vec<_>>(),
            [10000.0, 9000.0, 8000.0]
        );
        // A third of a second later one more token has come back.
        let soon = limiter.admit(
            vec![deal(1.0), deal(2.0)],
            start + Duration::from_millis(340),
        );
        assert_eq!(soon.len(), 1);
        let mut admitted = 0;
        for tick in 1..=100u64 {
            admitted += limiter
                .admit(
                    vec![deal(1.0); 5],
                    start + Duration::from_millis(340 + tick * 10),
                )
                .len();
        }
        assert!(admitted <= 3, "{admitted} in one second");
    }
}
