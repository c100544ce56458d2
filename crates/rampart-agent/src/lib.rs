//! `rampart-agent` as a library: everything the binary does, so the integration tests
//! and the benchmark drive the same code the binary runs. `main.rs` only parses the
//! command line and prints.
//!
//! The agent stays lean on purpose — no async runtime, no database, no network in the
//! collectors — because it runs on every host, including small ones.

pub mod collect;
pub mod enroll;
pub mod run;
pub mod spool;
pub mod state;
pub mod transport;
