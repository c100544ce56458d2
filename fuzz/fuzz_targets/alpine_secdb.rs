//! Alpine secdb YAML, arbitrary text, then turned into advisories.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(file) = rampart_feeds::secdb::parse(&text, "fuzz.yaml") {
        let _ = rampart_feeds::secdb::advisories(&[file]);
    }
});
