//! The live side: the [`pipeline`] runs a source (Kafka or the embedded simulator) into the engine with
//! dead letters and checkpoints, and keeps the [`state`] every reader shares (the engine, its status, the
//! [`deals`] to celebrate). The [`hub`] turns that state into the [`boards`] the wall screens follow;
//! clearing scores posted to the API go back into the source through [`publish`]. The [`screens`] keep
//! the playlists of the managed wall screens and who is connected.

pub mod boards;
pub mod deals;
pub mod hub;
pub mod pipeline;
pub mod publish;
pub mod screens;
pub mod state;

pub use state::Live;
