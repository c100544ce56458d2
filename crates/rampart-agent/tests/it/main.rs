//! Integration tests: whole inventories of this machine and of fake roots built from its
//! real files, checked against what the real tools (apt, dpkg-query, ssh-keygen) say.

mod apt_host;
mod apt_root;
mod fake_root;
mod support;
