use super::*;

/// Header blobs copied out of a real rpm 4.18 database (see `test_data/README.md`).
fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/test_data/rpm/{name}.header", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Builds a header blob from (tag, type, count, data) entries laid out in order.
fn blob(entries: &[(u32, u32, u32, &[u8])]) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data = Vec::new();
    for &(tag, kind, count, bytes) in entries {
        if kind == TYPE_INT32 {
            while data.len() % 4 != 0 {
                data.push(0);
            }
        }
        for word in [tag, kind, data.len() as u32, count] {
            index.extend_from_slice(&word.to_be_bytes());
        }
        data.extend_from_slice(bytes);
    }
    let mut out = Vec::new();
    out.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(data);
    out
}

const NVR: [(u32, u32, u32, &[u8]); 3] = [
    (TAG_NAME, TYPE_STRING, 1, b"pkg\0"),
    (TAG_VERSION, TYPE_STRING, 1, b"1.0\0"),
    (TAG_RELEASE, TYPE_STRING, 1, b"2.el9\0"),
];

fn with(extra: &[(u32, u32, u32, &'static [u8])]) -> Vec<u8> {
    let mut entries = NVR.to_vec();
    entries.extend_from_slice(extra);
    blob(&entries)
}

#[test]
fn real_headers() {
    let libbar = parse(&fixture("libbar")).unwrap();
    assert_eq!(
        libbar,
        Header {
            name: "libbar".into(),
            version: "1.2".into(),
            release: "3".into(),
            epoch: Some(2),
            arch: Some("noarch".into()),
            source_rpm: Some("foo-1.2-3.src.rpm".into()),
        }
    );
    let p = libbar.to_package();
    assert_eq!(
        (p.version.as_str(), p.source_name.as_deref(), p.format),
        ("2:1.2-3", Some("foo"), PackageFormat::Rpm)
    );

    let hello = parse(&fixture("hello-tool")).unwrap();
    assert_eq!(hello.epoch, None);
    let p = hello.to_package();
    assert_eq!(
        (p.name.as_str(), p.version.as_str()),
        ("hello-tool", "0.9-1.fc40")
    );
    assert_eq!(
        (p.arch.as_deref(), p.source_name, p.source_version),
        (Some("x86_64"), None, None)
    );
}

#[test]
fn synthetic_headers() {
    let h = parse(&with(&[])).unwrap();
    assert_eq!(
        (h.evr(), h.arch, h.source_rpm),
        ("1.0-2.el9".to_owned(), None, None)
    );
    let h = parse(&with(&[(TAG_EPOCH, TYPE_INT32, 1, &[0, 0, 0, 0])])).unwrap();
    assert_eq!(
        h.evr(),
        "0:1.0-2.el9",
        "an explicit epoch 0 is kept, as rpm -q prints it"
    );
    // Translated and array strings: the first one counts.
    let h = parse(&with(&[(TAG_ARCH, TYPE_STRING_ARRAY, 2, b"aarch64\0x\0")])).unwrap();
    assert_eq!(h.arch.as_deref(), Some("aarch64"));
    // A later entry with the same tag replaces the earlier one.
    let h = parse(&with(&[(TAG_NAME, TYPE_STRING, 1, b"renamed\0")])).unwrap();
    assert_eq!(h.name, "renamed");
    // Unrelated tags of any type are not looked at.
    assert!(parse(&with(&[(1004, 77, u32::MAX, b"\xff")])).is_ok());
}

#[test]
fn source_names() {
    let check = |source_rpm: Option<&str>, expected: Option<&str>| {
        let h = Header {
            name: "n".into(),
            version: "1".into(),
            release: "1".into(),
            epoch: None,
            arch: None,
            source_rpm: source_rpm.map(Into::into),
        };
        assert_eq!(h.source_name(), expected, "{source_rpm:?}");
    };
    check(Some("foo-1.2-3.src.rpm"), Some("foo"));
    check(
        Some("python3-foo-bar-1.0~rc1-1.el9_3.src.rpm"),
        Some("python3-foo-bar"),
    );
    check(Some("kernel-5.14.0-362.el9.nosrc.rpm"), Some("kernel"));
    check(Some("foo-1.2.src.rpm"), None);
    check(Some("-1.2-3.src.rpm"), None);
    check(Some("foo-1.2-3.rpm"), None);
    check(Some(""), None);
    check(None, None);
}

#[test]
fn damaged_headers_are_errors() {
    let check = |bytes: &[u8], expected: &str| {
        let err = parse(bytes).expect_err("damaged").to_string();
        assert!(
            err.contains(expected),
            "{err:?} should mention {expected:?}"
        );
    };
    check(&[], "shorter");
    check(&[0, 0, 0, 1], "shorter");
    check(&[0, 0, 0, 0, 0, 0, 0, 0], "beyond rpm's limits");
    check(&[0, 1, 0, 0, 0, 0, 0, 0], "beyond rpm's limits");
    check(&[0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff], "beyond rpm's limits");
    check(&[0, 0, 0, 1, 0, 0, 0, 0], "shorter");
    let real = fixture("libbar");
    check(&real[..real.len() - 1], "shorter");
    check(&blob(&NVR[1..]), "no NAME");
    check(&blob(&[NVR[0], NVR[2]]), "no VERSION");
    check(&blob(&[NVR[0], NVR[1]]), "no RELEASE");
    check(&with(&[(TAG_NAME, TYPE_STRING, 1, b"\0")]), "empty name");
    check(
        &with(&[(TAG_ARCH, TYPE_STRING, 1, b"x86_64")]),
        "not terminated",
    );
    check(
        &with(&[(TAG_ARCH, TYPE_STRING, 1, b"\xff\xfe\0")]),
        "not UTF-8",
    );
    check(
        &with(&[(TAG_ARCH, TYPE_INT32, 1, &[0, 0, 0, 1])]),
        "not a string",
    );
    check(
        &with(&[(TAG_ARCH, TYPE_STRING, 2, b"a\0b\0")]),
        "not a string",
    );
    check(
        &with(&[(TAG_EPOCH, TYPE_STRING, 1, b"1\0")]),
        "not an integer",
    );
    check(&with(&[(TAG_EPOCH, TYPE_INT32, 0, &[])]), "not an integer");
    check(
        &with(&[(TAG_EPOCH, TYPE_INT32, 1, &[0, 0])]),
        "offset past the data",
    );

    // An offset pointing past the data store, and an unaligned integer.
    let mut past = with(&[]);
    past[8 + 8..8 + 12].copy_from_slice(&1000u32.to_be_bytes());
    check(&past, "offset past the data");
    let mut unaligned = with(&[(TAG_EPOCH, TYPE_INT32, 1, &[0, 0, 0, 1, 0])]);
    let epoch_offset = 8 + 3 * 16 + 8;
    let offset = u32::from_be_bytes(
        unaligned[epoch_offset..epoch_offset + 4]
            .try_into()
            .unwrap(),
    );
    unaligned[epoch_offset..epoch_offset + 4].copy_from_slice(&(offset + 1).to_be_bytes());
    check(&unaligned, "not aligned");
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn damaged_real_header_never_panics(edits in proptest::collection::vec((0usize..1240, proptest::num::u8::ANY), 1..8),
                                        cut in 0usize..1241) {
        let mut bytes = fixture("libbar");
        for (at, byte) in edits {
            bytes[at] = byte;
        }
        let _ = parse(&bytes);
        let _ = parse(&bytes[..cut]);
    }
}
