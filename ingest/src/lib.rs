//! # ingest: where messages come from
//!
//! The first stage of the pipeline. Sources yield raw message bytes with their partition and offset:
//! Kafka and the embedded simulator as [`RawMessage`]s, an NDJSON file ([`NdjsonReader`], one partition)
//! as [`LineBatch`]es, its lines as ranges of the buffers they were read into. The deterministic synthetic
//! activity generator ([`simulate`], with the matching organisation file) is used by `leaderboard
//! simulate`, the demo, the tests and the benchmarks. [`decode_batch`] turns either kind of batch
//! ([`RawBatch`]) into validated [`schemas::Message`]s on all cores, keeping order and the bytes of
//! rejected messages for the dead-letter output. The `analytics` engine consumes the result.
#![deny(missing_docs)]

mod decode;
mod embedded;
mod file;
pub mod kafka;
pub mod simulate;
mod source;
pub mod users_csv;

pub use decode::{DecodedBatch, RawBatch, decode_batch};
pub use embedded::{EmbeddedSource, Injector, InjectorClosed, Pacing};
pub use file::{LineBatch, NdjsonReader};
pub use simulate::{SimulationSpec, organisation_csv};
pub use source::{BatchLimits, Positions, RawMessage, Source, SourceError};
