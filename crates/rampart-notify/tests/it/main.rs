//! Integration tests of rampart-notify against real peers.

mod smtp;
pub(crate) mod smtp_server;
mod webhook_tls;
