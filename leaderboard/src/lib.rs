//! # leaderboard: the binary's library half
//!
//! The last stage of the pipeline and the only one with a user interface, in four parts:
//! - [`cli`]: the subcommands (`replay`, `rewards`, `simulate`, `serve`, `demo`, `produce`, `sql`);
//! - [`live`]: the live pipeline, its shared state, and the boards the websocket hub pushes;
//! - [`web`]: the HTTP router, its handlers, the websocket and the pages, served under connection limits;
//! - [`sql`]: ad hoc SQL over the archive and the live tables, on the Postgres port and over HTTP.
//!
//! [`service`] runs the live side, the web and the Postgres port together until a stop signal; [`metrics`],
//! [`throttle`], [`accept`] and [`tls`] serve all of them. `main.rs` is a thin clap front end.
#![deny(missing_docs)]

pub mod accept;
pub mod cli;
pub mod live;
pub mod metrics;
pub mod service;
pub mod sql;
#[cfg(test)]
mod test_log;
pub mod throttle;
pub mod tls;
pub mod web;
