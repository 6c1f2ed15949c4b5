//! The live subcommands: `serve` (Kafka), `demo` (embedded simulator), `produce` and `simulate --brokers`.

pub mod demo;
pub mod produce;
pub mod serve;
