//! # analytics: the scoring engine
//!
//! Sits between the sources (`ingest`) and the outputs (`leaderboard`'s CLI, HTTP and websocket). Each
//! micro-batch of decoded messages runs through:
//!
//! ```text
//! messages ──► arrival-order pass ──► entity state ──► fact rows ──► DataFusion GROUP BY ──► keyed counters
//!              (dedupe, per-partition   (registrations,  (integer      (one aggregate per      (month, branch,
//!               watermark, lateness)     tasks, renewals,  deltas)       batch, never over       user)
//!                                        policies …)                     history)
//! ```
//!
//! Scorecards ([`Figures::scorecard`]) and rewards ([`Figures::rewards`]) are computed on demand from the
//! counters and entity state for a month, a quarter or the assessment to date. Every figure is a function of
//! each partition's event order only: batch sizes, restarts and how partitions interleave do not change it.
//!
//! ```
//! # tokio_test_block_on(async {
//! use analytics::{Engine, PeriodSpec};
//! use schemas::Message;
//! use schemas::{Config, Organisation, decode_event};
//! use std::sync::Arc;
//! let org = Organisation::from_csv("branch_id,branch_name,in_scope\nzd,张店支公司,true\n".as_bytes()).unwrap();
//! let mut engine = Engine::new(Arc::new(Config::default()), Arc::new(org));
//! let lines = [
//!     r#"{"event_id":"r1","event_type":"user_registered","occurred_at":"2016-05-20T09:00:00+08:00","branch_id":"zd","user_id":"u1","channel":"direct"}"#,
//!     r#"{"event_id":"q1","event_type":"quote_created","occurred_at":"2016-06-02T09:00:00+08:00","branch_id":"zd","user_id":"u1","terminal":"phone","quote_id":"Q1"}"#,
//!     r#"{"event_id":"l1","event_type":"login","occurred_at":"2016-06-02T09:10:00+08:00","branch_id":"zd","user_id":"u1","terminal":"pc"}"#,
//!     r#"{"event_id":"l2","event_type":"login","occurred_at":"2016-06-02T17:30:00+08:00","branch_id":"zd","user_id":"u1","terminal":"phone"}"#,
//! ];
//! let messages: Vec<Message> = lines.iter().enumerate()
//!     .map(|(i, l)| Message { partition: 0, offset: i as u64, decoded: decode_event(l.as_bytes(), i64::MAX / 2) })
//!     .collect();
//! engine.process(&messages).await.unwrap();
//! let card = engine.scorecard("2016-06".parse().unwrap(), false).unwrap();
//! assert_eq!(card.branches[0].indicators.get(analytics::Indicator::MobileQuotesPerUser), Some(Some(1.0)));
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
#![deny(missing_docs)]

mod aggregate;
mod archive;
mod arrival;
mod at_stake;
mod checkpoint;
mod clearing;
mod daily;
mod engine;
mod entities;
mod error;
mod facts;
mod history;
mod indicators;
mod interner;
mod moments;
mod pace;
mod period;
mod points;
mod ranking;
mod rewards;
mod scorecard;
mod seen_ids;
mod tables;

pub use archive::{
    Archive, ArchiveError, ArchiveFile, ArchiveRows, ArchiveTable, FlushReport, MERGE_AT,
    TableSnapshot,
};
pub use arrival::{ArrivalPass, Fingerprint, PartitionClock, WatermarkRule};
pub use at_stake::{BranchStake, Gap, Margin, RateStep, Stake, TierStep, needed_to_equal};
pub use checkpoint::{
    Checkpoint, CheckpointBytes, CheckpointError, CheckpointStore, read_checkpoint, state_settings,
};
pub use clearing::ClearingRefusal;
pub use daily::{DailyCounters, DailyFootprint, PersonDay};
pub use engine::{Counters, Counts, Disposition, Engine, EngineState, Figures, WARM_AHEAD};
pub use error::EngineError;
pub use history::{History, HistoryDay, PersonToDate};
pub use indicators::{Fraction, Indicator};
pub use moments::{Judging, Moment, Moments, Place, RankedBoard, Unit, make_room};
pub use pace::{
    ActiveOutlook, BEHIND_WITHIN, LoginStatus, MonthProgress, PaceStatus, full_points_at,
};
pub use period::{MonthRange, Period, PeriodSpec, assessment_months};
pub use points::max_points;
pub use ranking::competition_ranks;
pub use rewards::{BranchAward, BranchAwards, RewardReport, SalespersonPayout, SpecialistBonus};
pub use schemas::Message;
pub use scorecard::{
    BranchPace, BranchRow, ByIndicator, Loss, QuarterTotal, Scorecard, UserPace, UserRank, UserRow,
};
pub use tables::{LiveTable, TableError};
