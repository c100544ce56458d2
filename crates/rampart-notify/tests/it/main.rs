//! Integration tests of rampart-notify against real peers.

mod smtp;
