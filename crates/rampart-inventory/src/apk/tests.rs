use super::*;

/// (name, version, arch, origin when it differs) of each package, then problem lines.
fn check(text: &str, packages: &[(&str, &str, &str, &str)], problem_lines: &[usize]) {
    let parsed = parse_installed(text);
    let got: Vec<_> = parsed
        .packages
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.arch.as_deref().unwrap_or(""),
                p.source_name.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(got, packages, "packages of {text:?}");
    let lines: Vec<usize> = parsed
        .problems
        .iter()
        .map(|p| {
            p.location
                .strip_prefix("line ")
                .and_then(|n| n.parse().ok())
                .expect("a line location")
        })
        .collect();
    assert_eq!(lines, problem_lines, "{:?}", parsed.problems);
    assert!(
        parsed
            .packages
            .iter()
            .all(|p| p.format == PackageFormat::Apk && p.source_version.is_none())
    );
}

#[test]
fn real_database() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/apk/installed");
    let text = std::fs::read_to_string(path).unwrap();
    check(
        &text,
        &[
            ("musl", "1.2.4_git20230717-r4", "x86_64", ""),
            ("busybox", "1.36.1-r15", "x86_64", ""),
            ("busybox-binsh", "1.36.1-r15", "x86_64", "busybox"),
            ("libcrypto3", "3.1.4-r5", "x86_64", "openssl"),
            ("libssl3", "3.1.4-r5", "x86_64", "openssl"),
            (
                "alpine-baselayout-data",
                "3.4.3-r2",
                "x86_64",
                "alpine-baselayout",
            ),
            (
                "ca-certificates-bundle",
                "20240226-r0",
                "noarch",
                "ca-certificates",
            ),
            ("zlib", "1.3.1-r0", "x86_64", ""),
        ],
        &[],
    );
}

#[test]
fn malformed_records() {
    let text = "\
P:ok1
V:1-r0

P:noversion
A:x86_64

V:2-r0
o:orphan

P:junk
V:1-r0
this is not a field
a:0:0:755

P:twice
V:1-r0
P:again
V:2-r0

:x
P:emptykey
V:1

P:ok2
V:2-r1
A:aarch64
o:";
    check(
        text,
        &[("ok1", "1-r0", "", ""), ("ok2", "2-r1", "aarch64", "")],
        &[4, 7, 12, 17, 20],
    );
}

#[test]
fn edges() {
    check("", &[], &[]);
    check("\n\n", &[], &[]);
    check(
        "P:a\r\nV:1\r\n\r\nP:b\r\nV:2",
        &[("a", "1", "", ""), ("b", "2", "", "")],
        &[],
    );
    check("P:a\nV:1\no:a\n", &[("a", "1", "", "")], &[]);
    check("P:\nV:1\n", &[], &[1]);
}

proptest::proptest! {
    #[test]
    fn never_panics(text in "(.|\n)*", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        parse_installed(&text);
        parse_installed(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn junk_costs_only_its_record(junk in "[^\n]{1,40}") {
        let good = "P:a\nV:1-r0\n";
        let parsed = parse_installed(&format!("{good}\n{junk}\n\n{good}"));
        proptest::prop_assert_eq!(parsed.packages.len(), 2);
    }
}
