//! # leaderboard: the binary's library half
//!
//! The last stage of the pipeline and the only one with a user interface. [`replay`] feeds an event file
//! through the same engine the live pipeline uses (a file is one source partition); [`table`] renders a
//! scorecard for people. [`pipeline`] runs a live source (Kafka or the embedded simulator) into the engine
//! with dead letters and checkpoints; [`server`] routes the JSON [`api`], the websocket [`ws`] fed by the
//! [`hub`] (which turns the [`live`] state into [`boards`]), the [`pages`] of the wall screen and the manager
//! view, and [`metrics`], all behind [`access`] tokens, served over TCP by [`connections`] under its
//! timeouts and connection cap; clearing scores posted to the API go back into the source through
//! [`publish`]; [`service`] runs it all until a stop signal; [`commands`] are `serve`,
//! `demo` and `produce`. `main.rs` is a thin clap front end over these and the `analytics` engine.
#![deny(missing_docs)]

pub mod access;
pub mod api;
pub mod boards;
pub mod commands;
pub mod connections;
pub mod hub;
pub mod live;
pub mod metrics;
pub mod pages;
pub mod pipeline;
pub mod publish;
pub mod replay;
pub mod server;
pub mod service;
pub mod sql;
pub mod table;
#[cfg(test)]
mod test_log;
pub mod throttle;
pub mod ws;
