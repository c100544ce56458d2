use std::io::Write;

use proptest::prelude::*;

use super::*;

/// One tar entry (ustar header + data padded to 512 bytes), without end blocks, as apk
/// writes index segments.
fn tar_entry(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    let mut out = header.to_vec();
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).unwrap();
    gz.finish().unwrap()
}

const INDEX: &str = "C:Q1abc=\nP:musl\nV:1.2.5-r1\nA:x86_64\nS:1\nI:2\nT:the C library\no:musl\n\n\
                     P:musl-utils\nV:1.2.5-r1\nA:x86_64\no:musl\n\nP:ca-certificates-bundle\nV:20240705-r0\nA:noarch\no:ca-certificates\n\n";

fn archive() -> Vec<u8> {
    // Signature segment, then the index segment with its end blocks.
    let mut bytes = gzip(&tar_entry(
        ".SIGN.RSA.alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub",
        b"sig",
    ));
    let mut index = tar_entry("DESCRIPTION", b"v3.20.3-1-gabc\n");
    index.extend(tar_entry("APKINDEX", INDEX.as_bytes()));
    index.extend([0u8; 1024]);
    bytes.extend(gzip(&index));
    bytes
}

#[test]
fn archives() {
    let got = read_archive(&archive()).unwrap();
    assert_eq!(got.description.as_deref(), Some("v3.20.3-1-gabc"));
    assert_eq!(got.apkindex, INDEX);
    assert_eq!(
        read_archive(&gzip(&tar_entry("DESCRIPTION", b"x"))).unwrap_err(),
        "no APKINDEX entry"
    );
    let whole = gzip(&tar_entry("APKINDEX", INDEX.as_bytes()));
    assert!(read_archive(&whole[..whole.len() / 2]).is_err());
    let mut bad_size = tar_entry("APKINDEX", b"x");
    bad_size[124..136].copy_from_slice(b"zzzzzzzzzzz\0");
    assert!(read_archive(&gzip(&bad_size)).unwrap_err().contains("size"));
    let mut too_big = tar_entry("APKINDEX", b"x");
    too_big[124..136].copy_from_slice(b"77777777777\0");
    assert!(
        read_archive(&gzip(&too_big))
            .unwrap_err()
            .contains("truncated")
    );
}

#[test]
fn repositories_files() {
    let text = "# main\nhttps://dl-cdn.alpinelinux.org/alpine/v3.20/main\n\n  \
                @edge https://dl-cdn.alpinelinux.org/alpine/edge/testing\n/media/cdrom/apks\n@broken\n";
    assert_eq!(
        parse_repositories(text),
        [
            "https://dl-cdn.alpinelinux.org/alpine/v3.20/main",
            "https://dl-cdn.alpinelinux.org/alpine/edge/testing",
            "/media/cdrom/apks",
        ]
    );
    let name = cache_name("https://dl-cdn.alpinelinux.org/alpine/v3.20/main");
    assert!(
        name.starts_with("APKINDEX.") && name.ends_with(".tar.gz") && name.len() == 24,
        "{name}"
    );
}

fn apk(name: &str, arch: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        arch: Some(arch.into()),
        source_name: None,
        source_version: None,
        format: PackageFormat::Apk,
    }
}

#[test]
fn candidates() {
    let host = [
        apk("musl", "x86_64", "1.2.5-r0"),
        apk("busybox", "x86_64", "1.36.1-r29"),
        apk("ca-certificates-bundle", "x86_64", "20240226-r0"),
        apk("libcrypto3", "x86_64", "3.3.2-r0"),
        apk("rc", "x86_64", "1.0_rc1-r0"),
    ];
    let mut offers: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    let mut add = |n: &str, v: &str, a: &str, o: &str| {
        offers
            .entry(n.into())
            .or_default()
            .push((v.into(), a.into(), o.into()))
    };
    add("musl", "1.2.5-r1", "x86_64", "main");
    add("musl", "1.2.6-r0", "aarch64", "main");
    add("busybox", "1.36.1-r29", "x86_64", "main");
    add("ca-certificates-bundle", "20240705-r0", "noarch", "main");
    add("libcrypto3", "3.3.2-r1", "x86_64", "main");
    add("libcrypto3", "3.3.2-r1", "x86_64", "community");
    add("libcrypto3", "3.3.1-r9", "x86_64", "edge");
    add("rc", "1.0-r0", "x86_64", "main");
    let refs: Vec<&Package> = host.iter().collect();
    let got: Vec<_> = compute(&refs, &offers)
        .into_iter()
        .map(|u| {
            (
                u.name,
                u.arch.unwrap_or_default(),
                u.installed,
                u.candidate,
                u.origin,
            )
        })
        .collect();
    let row = |n: &str, a: &str, i: &str, c: &str, o: &str| {
        (
            n.to_owned(),
            a.to_owned(),
            i.to_owned(),
            c.to_owned(),
            o.to_owned(),
        )
    };
    assert_eq!(
        got,
        [
            row(
                "ca-certificates-bundle",
                "noarch",
                "20240226-r0",
                "20240705-r0",
                "main"
            ),
            row("libcrypto3", "x86_64", "3.3.2-r0", "3.3.2-r1", "community"),
            row("musl", "x86_64", "1.2.5-r0", "1.2.5-r1", "main"),
            row("rc", "x86_64", "1.0_rc1-r0", "1.0-r0", "main"),
        ]
    );
}

proptest! {
    #[test]
    fn archive_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_archive(&bytes);
        let _ = read_archive(&gzip(&bytes));
        let _ = parse_repositories(&String::from_utf8_lossy(&bytes));
    }
}
