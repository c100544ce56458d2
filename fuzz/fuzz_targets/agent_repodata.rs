//! RPM repository metadata XML (repomd, primary, updateinfo), arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_agent::collect::repodata;

fuzz_target!(|data: &[u8]| {
    let _ = repodata::parse_repomd(data);
    let _ = repodata::parse_primary(data, |_| true);
    let _ = repodata::parse_updateinfo(data, |_| true);
});
