//! The built-in read-only SQLite reader behind the rpmdb, on an arbitrary file, then
//! the package extraction on whatever it could read.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = rampart_inventory::rpm::sqlite::Database::from_bytes(data.to_vec(), None) {
        let _ = rampart_inventory::rpm::packages(&db);
    }
});
