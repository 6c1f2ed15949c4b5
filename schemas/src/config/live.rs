//! The `[live]` section: how rankings are pushed to wall screens.

use serde::Deserialize;

/// Websocket pushes, staleness and celebrations.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Shortest time between two patches of one board, in milliseconds (default 250: at most 4 a second).
    pub push_interval_ms: u64,
    /// Longest wait for a client to take a frame before it is disconnected, in milliseconds (default 5000).
    pub send_timeout_ms: u64,
    /// How many recent patches a board keeps for clients that reconnect (default 256).
    pub patch_ring: usize,
    /// Seconds without the event-time watermark advancing before screens show the stale-data banner
    /// (default 600).
    pub stale_after_secs: u64,
    /// Premium, in yuan, from which an issued policy is celebrated on the wall screens (default 7000).
    pub large_deal_yuan: f64,
    /// Most celebrations a second, over all screens (default 3).
    pub celebrations_per_sec: u32,
    /// Days at the start of a month during which the screens alternate last month's final standings with
    /// the new month's (default 3: the 1st to the 3rd; 0 never).
    pub last_month_days: u32,
    /// Mobile quotes of the new month, city-wide, that end those days early (default 500; 0: the days
    /// alone decide).
    pub last_month_until_quotes: u64,
    /// Seconds of event time between two judgements of the moments (overtakes, tiers, login days, quote
    /// targets, a month closing) (default 300).
    pub moment_step_secs: u64,
    /// Shortest time between two moments on the screens, in seconds (default 8); more wait their turn.
    pub moment_gap_secs: u64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            push_interval_ms: 250,
            send_timeout_ms: 5000,
            patch_ring: 256,
            stale_after_secs: 600,
            large_deal_yuan: 7000.0,
            celebrations_per_sec: 3,
            last_month_days: 3,
            last_month_until_quotes: 500,
            moment_step_secs: 300,
            moment_gap_secs: 8,
        }
    }
}

impl LiveConfig {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<(), String> {
        if !(20..=1000).contains(&self.push_interval_ms) {
            return Err(format!(
                "live.push_interval_ms must be 20..=1000 (screens update within a second), got {}",
                self.push_interval_ms
            ));
        }
        if self.send_timeout_ms == 0 || self.patch_ring == 0 || self.stale_after_secs == 0 {
            return Err(
                "live.send_timeout_ms, live.patch_ring and live.stale_after_secs must be at least 1"
                    .into(),
            );
        }
        if !(1..=3).contains(&self.celebrations_per_sec) {
            return Err(format!(
                "live.celebrations_per_sec must be 1..=3 (flashing faster is unsafe), got {}",
                self.celebrations_per_sec
            ));
        }
        if !(10..=3600).contains(&self.moment_step_secs)
            || !(1..=600).contains(&self.moment_gap_secs)
        {
            return Err(format!(
                "live.moment_step_secs must be 10..=3600 and live.moment_gap_secs 1..=600, got {} and {}",
                self.moment_step_secs, self.moment_gap_secs
            ));
        }
        if self.last_month_days > 27 {
            return Err(format!(
                "live.last_month_days must be 0..=27 (a month has at least 28 days), got {}",
                self.last_month_days
            ));
        }
        if !(self.large_deal_yuan.is_finite() && self.large_deal_yuan > 0.0) {
            return Err("live.large_deal_yuan must be a positive number".into());
        }
        Ok(())
    }
}
