//! rampart-core's integration tests: the shared version vectors, order properties on
//! generated strings, and differential runs against the real dpkg and rpm.

mod differential;
mod properties;
mod support;
mod vectors;
