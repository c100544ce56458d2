//! Property tests: no input, however broken, panics the parsers. The same functions are
//! what fuzz targets would call.

use proptest::prelude::*;
use rampart_feeds::{osv, secdb};

use crate::support::testdata;

fn samples() -> Vec<Vec<u8>> {
    [
        "osv/DSA-3029-1.json",
        "osv/UBUNTU-CVE-2025-38094.json",
        "osv/USN-6332-1.json",
    ]
    .iter()
    .map(|f| std::fs::read(testdata(f)).unwrap())
    .collect()
}

fn secdb_sample() -> Vec<u8> {
    // The first 200 lines keep each case fast while covering every shape in the file.
    let text = std::fs::read_to_string(testdata("alpine-secdb/v3.11-main.yaml")).unwrap();
    text.lines()
        .take(200)
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

/// Flips, deletes or inserts bytes of a valid input.
fn mutate(mut bytes: Vec<u8>, edits: &[(usize, u8, u8)]) -> Vec<u8> {
    for &(at, op, byte) in edits {
        if bytes.is_empty() {
            bytes.push(byte);
            continue;
        }
        let at = at % bytes.len();
        match op % 3 {
            0 => bytes[at] = byte,
            1 => {
                bytes.remove(at);
            }
            _ => bytes.insert(at, byte),
        }
    }
    bytes
}

/// Bytes that matter to JSON and YAML, so mutations hit structure more often than text.
fn structural_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        Just(b'{'),
        Just(b'}'),
        Just(b'['),
        Just(b']'),
        Just(b'"'),
        Just(b':'),
        Just(b','),
        Just(b'-'),
        Just(b'\n'),
        Just(b' '),
        Just(b'0'),
        Just(b'n'),
        Just(b'&'),
        Just(b'*'),
        Just(b'!'),
        any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = osv::parse_record(&bytes, "fuzz");
        let _ = osv::parse_document(&bytes, "fuzz", 1 << 20);
        let _ = secdb::parse(&String::from_utf8_lossy(&bytes), "fuzz");
    }

    #[test]
    fn mutated_osv_records_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), structural_byte()), 1..8),
    ) {
        let bytes = mutate(samples().swap_remove(which), &edits);
        let _ = osv::parse_record(&bytes, "fuzz");
        let _ = osv::parse_document(&bytes, "fuzz", 1 << 20);
    }

    #[test]
    fn mutated_secdb_never_panics(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), structural_byte()), 1..8),
    ) {
        let bytes = mutate(secdb_sample(), &edits);
        if let Ok(file) = secdb::parse(&String::from_utf8_lossy(&bytes), "fuzz") {
            let _ = secdb::advisories(std::slice::from_ref(&file));
        }
    }
}
