//! The subcommands behind `main.rs`: [`score`] (`replay`, `rewards`) scores an event file, read by
//! [`replay`] into the engine the live pipeline uses, and [`table`] prints it for people; [`simulate`]
//! makes activity; [`serve`] (Kafka), [`demo`] (embedded simulator) and [`produce`] are the live side;
//! [`sql`] runs one query over a state directory; [`sql_password`] makes a password verifier for the
//! Postgres port.

pub mod demo;
pub mod produce;
pub mod replay;
pub mod score;
pub mod serve;
pub mod simulate;
pub mod sql;
pub mod sql_password;
pub mod table;
