//! Integration tests: `read_root` over whole roots, checked against what the real
//! package managers (dpkg-query, rpm) and SQLite say about the same databases.

mod dpkg_host;
mod roots;
mod rpm_db;
mod support;
