//! Integration tests of rampart-store: one conformance suite, every case run against
//! SQLite (a temporary directory) and PostgreSQL (a fresh schema per test).

mod compliance;
mod conformance;
mod notifications;
mod support;
