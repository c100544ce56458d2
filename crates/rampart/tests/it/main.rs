//! End-to-end tests of the `rampart` binary, run as a real process.

mod agents;
mod cli;
mod roots;
mod scan;
mod server;
mod support;
mod vercmp;
