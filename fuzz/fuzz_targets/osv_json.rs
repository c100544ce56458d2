//! OSV JSON: one record or an array of records, arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rampart_feeds::osv::parse_record(data, "fuzz.json");
    let _ = rampart_feeds::osv::parse_document(data, "fuzz.json", 1 << 20);
});
