//! Integration tests of rampart-server: the whole app driven in-process with
//! `tower::ServiceExt::oneshot` on a real store — SQLite in a temporary directory and,
//! where `RAMPART_TEST_POSTGRES_URL` names one, PostgreSQL in a schema of its own.

mod agent_channel;
mod auth;
mod boundaries;
mod compliance;
mod errors;
mod estate;
mod notifications;
mod report_schedules;
mod reports;
mod router_walk;
mod security;
// The real SMTP server (aiosmtpd) the notify crate's tests start: one file, shared.
#[path = "../../../rampart-notify/tests/it/smtp_server.rs"]
mod smtp_server;
mod support;
mod web;
