//! Integration tests over real TLS: each test starts a real rustls server on a loopback
//! port (a std `TcpListener` and `rustls::StreamOwned` in a thread, see `support.rs`)
//! and connects real rustls clients with the configurations this crate builds, because
//! what matters is what a handshake accepts and refuses, which no mock can show.

mod support;
mod tls;
