//! End-to-end tests of the `rampart` binary, run as a real process.

mod agents;
mod browser;
mod cli;
mod notifications;
// The RPM and Alpine test roots are built by the agent's own recipes: one file, shared.
mod report_schedules;
mod reports;
#[path = "../../../rampart-agent/tests/it/roots.rs"]
mod roots;
mod scan;
mod schemathesis;
mod server;
mod support;
mod vercmp;
mod webdriver;
