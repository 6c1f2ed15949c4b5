//! # leaderboard: the binary's library half
//!
//! The last stage of the pipeline and the only one with a user interface. [`replay`] feeds an event file
//! through the same engine the live pipeline uses (a file is one source partition); [`table`] renders a
//! scorecard for people. [`pipeline`] runs a live source (Kafka or the embedded simulator) into the engine
//! with dead letters and checkpoints; [`server`] serves the scorecards, status, health and [`metrics`] from
//! the [`live`] state; [`service`] runs both until a stop signal; [`commands`] are `serve`, `demo` and
//! `produce`. `main.rs` is a thin clap front end over these and the `analytics` engine.
#![deny(missing_docs)]

pub mod commands;
pub mod live;
pub mod metrics;
pub mod pipeline;
pub mod replay;
pub mod server;
pub mod service;
pub mod table;
