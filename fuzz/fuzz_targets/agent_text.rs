//! The agent's text parsers of files under a scanned root: apt lists, Release files and
//! pins, passwd, authorized_keys lines, `sshd -T` output, /proc/net/tcp, .repo files,
//! apk repositories.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_agent::collect::{apkindex, apt, dnf, listening, ssh_keys, sshd, users};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = apt::parse_release(&text);
    let _ = apt::parse_packages(&text, |_| true);
    let _ = apt::parse_preferences(&text);
    let _ = users::parse_passwd(&text);
    for line in text.lines() {
        let _ = ssh_keys::parse_line(line);
    }
    let _ = sshd::parse(&text);
    let _ = listening::parse_proc_net(&text, "tcp6");
    let _ = dnf::parse_repo_file(&text);
    let _ = apkindex::parse_repositories(&text);
});
