//! # leaderboard: the binary's library half
//!
//! The last stage of the pipeline and the only one with a user interface. [`replay`] feeds an event file
//! through the same engine the live pipeline uses (a file is one source partition); [`table`] renders a
//! scorecard for people. `main.rs` is a thin clap front end over these and the `analytics` engine.
#![deny(missing_docs)]

pub mod commands;
pub mod live;
pub mod metrics;
pub mod pipeline;
pub mod replay;
pub mod server;
pub mod service;
pub mod table;
