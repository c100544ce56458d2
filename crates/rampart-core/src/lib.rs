//! Rampart's domain, kept pure so that everything important can be tested without a
//! machine, a database or a network: version ordering for each package family, the
//! advisory model, distribution releases, and the matcher that turns an inventory plus
//! an advisory index into explained findings.
//!
//! Invariant: nothing in this crate does I/O, reads the clock or the environment, or
//! spawns threads. Callers pass `now` and configuration in.

pub mod advisory;
pub mod authz;
pub mod change_request;
pub mod compliance;
pub mod distro;
pub mod egress;
pub mod exceptions;
pub mod matcher;
pub mod package;
pub mod severity;
pub mod software_policy;
pub mod version;
