//! The live subcommands: `serve` (Kafka), `demo` (embedded simulator), `produce` and `simulate --brokers`;
//! and `sql`, over a state directory.

pub mod demo;
pub mod produce;
pub mod serve;
pub mod sql;
