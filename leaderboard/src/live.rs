//! The live side: the [`pipeline`] runs a source (Kafka or the embedded simulator) into the engine with
//! dead letters and checkpoints, and keeps the [`state`] every reader shares (the engine, its status, the
//! [`deals`] to celebrate). The [`hub`] turns that state into the [`boards`] the wall screens follow;
//! clearing scores posted to the API go back into the source through [`publish`].

pub mod boards;
pub mod deals;
pub mod hub;
pub mod pipeline;
pub mod publish;
pub mod state;

pub use state::Live;
