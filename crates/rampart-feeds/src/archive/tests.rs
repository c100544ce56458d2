//! Unit tests for the reused inflater: size claims that lie, limits, broken streams.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

use super::*;

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn inflates_whatever_size_the_directory_claims() {
    let data: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let mut inflater = Inflater::new();
    for claimed in [0, 1, 100, data.len() as u64, 10 * data.len() as u64] {
        inflater.raw = deflate(&data);
        let out = inflater
            .inflate(claimed, 1 << 30)
            .unwrap_or_else(|_| panic!("claimed {claimed}"));
        assert!(out == data, "claimed {claimed}");
    }
}

#[test]
fn refuses_oversized_and_truncated_streams() {
    let data = vec![b'x'; 100_000];
    let mut inflater = Inflater::new();
    inflater.raw = deflate(&data);
    assert!(matches!(inflater.inflate(10, 50_000), Err(Inflate::TooLarge(n)) if n > 50_000));

    let mut cut = deflate(&data);
    cut.truncate(cut.len() / 2);
    inflater.raw = cut;
    assert!(matches!(
        inflater.inflate(100_000, 1 << 20),
        Err(Inflate::Corrupt(_))
    ));

    inflater.raw = vec![0xff; 64];
    assert!(matches!(
        inflater.inflate(10, 1 << 20),
        Err(Inflate::Corrupt(_))
    ));

    // The state is reset between entries.
    inflater.raw = deflate(b"hello");
    assert_eq!(
        inflater.inflate(5, 100).ok().as_deref(),
        Some(&b"hello"[..])
    );
}
