//! Integration tests: whole inventories of this machine and of fake roots built from its
//! real files, checked against what the real tools (apt, dpkg-query, ssh-keygen) say;
//! pending updates of RPM and Alpine roots made with real rpm tooling (and compared with
//! the real dnf); and enrolment and check-in of the real binary against a real-TLS fixture server.

mod agent_protocol;
mod apt_host;
mod apt_root;
mod fake_root;
mod roots;
mod support;
mod tls_server;
mod updates;
