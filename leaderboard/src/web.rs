//! The HTTP side: the [`router`] of every endpoint, served over TCP by [`connections`] under its timeouts
//! and connection caps. The handlers share the [`state`] and answer errors with [`error`]: the JSON
//! [`api`], ad hoc [`sql`], the websocket [`ws`] of the wall screens and their [`screens`] list and playlists, the [`pages`] (wall screen, manager
//! view) and the [`catalog`] of indicators and boards they and the OpenAPI document take their lists
//! from, all behind [`access`] tokens.

pub mod access;
pub mod api;
pub mod catalog;
pub mod connections;
pub mod error;
pub mod pages;
pub mod router;
pub mod screens;
pub mod sql;
pub mod state;
pub mod ws;
