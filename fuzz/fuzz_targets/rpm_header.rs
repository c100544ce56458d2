//! RPM header blobs as stored in the rpmdb, arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rampart_inventory::rpm::header::parse(data);
});
