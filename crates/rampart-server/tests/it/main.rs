//! Integration tests of rampart-server: the whole app driven in-process with
//! `tower::ServiceExt::oneshot` on a real store — SQLite in a temporary directory and,
//! where `RAMPART_TEST_POSTGRES_URL` names one, PostgreSQL in a schema of its own.

mod agent_channel;
mod auth;
mod boundaries;
mod compliance;
mod errors;
mod estate;
mod reports;
mod router_walk;
mod support;
mod web;
