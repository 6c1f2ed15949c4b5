//! # schemas: what flows through the leaderboard pipeline
//!
//! The first stop of every message. This crate defines the activity events (docs/scoring.md#events) as Rust types,
//! decodes and validates raw message bytes into them ([`decode_event`], every rejection with a reason a
//! producer can act on), writes them back to wire JSON ([`encode_event`]), describes them as Arrow
//! ([`event_schema`]), and holds the configuration file ([`Config`]), the organisation file
//! ([`Organisation`]) and the calendar arithmetic ([`LocalCalendar`], [`YearMonth`]) that every later stage
//! shares. It does no I/O beyond parsing what it is given.
//!
//! ```
//! use schemas::{decode_event, EventType};
//! let line = br#"{"event_id":"e1","event_type":"login","occurred_at":"2016-06-01T09:00:00+08:00",
//!                 "branch_id":"zd","user_id":"u1","terminal":"phone"}"#;
//! let event = decode_event(line, i64::MAX / 2).unwrap();
//! assert_eq!(event.event_type(), EventType::Login);
//! assert!(event.is_mobile());
//!
//! let bad = br#"{"event_id":"e2","event_type":"payment_completed","occurred_at":"2016-06-01T09:00:00+08:00",
//!                "branch_id":"zd","user_id":"u1","terminal":"phone","payment_id":"p","amount":-50}"#;
//! assert_eq!(decode_event(bad, i64::MAX / 2).unwrap_err().reason, "payment_completed.amount must be > 0 and <= 1e10, got -50");
//! ```
#![deny(missing_docs)]

mod arrow_schema;
mod config;
mod decode;
mod encode;
mod event;
mod excerpt;
mod message;
mod org;
mod time;

pub use arrow_schema::{
    LOCAL_DATE_COLUMN, LOCAL_MONTH_COLUMN, OFFSET_COLUMN, PARTITION_COLUMN, RejectedRow,
    event_schema, events_to_batch, rejected_schema, rejections_to_batch,
};
pub use config::{
    AccessConfig, Config, ConfigError, KafkaConfig, KioskToken, LiveConfig, MAX_PLAYLIST_BOARDS,
    MAX_TICKER_CHARS, MIN_ITERATIONS, MIN_PASSWORD_CHARS, PlaylistItem, Prize, RankTier, RateTier,
    Rewards, SCRAM_PREFIX, ScramVerifier, ScreenConfig, ServerConfig, SqlAuth, SqlConfig, SqlUser,
    Targets, Tiers, Weights, validate_screens,
};
pub use decode::{
    Checked, MAX_AMOUNT_YUAN, MAX_DAYS_BEFORE_ASSESSMENT, MAX_EVENT_ID_CHARS, MAX_FUTURE_MILLIS,
    MAX_MESSAGE_BYTES, RejectKind, Rejection, TimeBounds, decode_event,
};
pub use encode::encode_event;
pub use event::{
    Channel, DealType, Event, EventType, Id, Payload, ProposalKind, ReportType, TaskActionKind,
    Terminal,
};
pub use excerpt::{MAX_MESSAGE_CHARS, MAX_QUOTED_CHARS, bounded_message, excerpt};
pub use message::{Message, PartitionId};
pub use org::{Branch, OrgError, Organisation};
pub use time::{EpochMillis, LocalCalendar, LocalDates, YearMonth};
