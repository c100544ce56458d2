//! SemVer 2.0.0 precedence, including the specification's own examples, and the
//! leniencies OSV's `SEMVER` ranges rely on.

use super::*;
use std::cmp::Ordering::{Equal, Greater, Less};

/// Checks `a <=> b` and its mirror image.
#[track_caller]
fn check(a: &str, b: &str, expected: Ordering) {
    assert_eq!(compare(a, b), expected, "{a:?} vs {b:?}");
    assert_eq!(compare(b, a), expected.reverse(), "{b:?} vs {a:?}");
}

#[test]
fn specification_examples_are_in_order() {
    // semver.org, items 11.2 and 11.4.
    let chain = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.0.0",
        "2.1.0",
        "2.1.1",
    ];
    for (i, a) in chain.iter().enumerate() {
        for (j, b) in chain.iter().enumerate() {
            check(a, b, i.cmp(&j));
        }
    }
}

#[test]
fn precedence() {
    let cases = [
        ("1.2.3", "1.2.3", Equal),
        ("1.9.0", "1.10.0", Less),
        ("1.0.10", "1.0.9", Greater),
        ("10.0.0", "9.99.99", Greater),
        (
            "123456789012345678901234567890.0.0",
            "123456789012345678901234567889.0.0",
            Greater,
        ),
        ("1.0.0-1", "1.0.0-2", Less),
        ("1.0.0-2", "1.0.0-10", Less),
        ("1.0.0-1", "1.0.0-a", Less),
        ("1.0.0-A", "1.0.0-a", Less),
        ("1.0.0-a-b", "1.0.0-a", Greater),
        ("1.0.0-alpha-1", "1.0.0-alpha", Greater),
        ("1.0.0-x.7.z.92", "1.0.0-x.7.z.92", Equal),
        ("1.0.0-rc.1", "1.0.0-rc.1.0", Less),
        // Build metadata never counts.
        ("1.0.0+20130313144700", "1.0.0", Equal),
        ("1.0.0-beta+exp.sha.5114f85", "1.0.0-beta", Equal),
        ("1.0.0+a", "1.0.0+b", Equal),
        ("1.0.0-rc.1+build.1", "1.0.0", Less),
        // OSV leniencies: a leading `v`, missing minor and patch.
        ("v1.2.3", "1.2.3", Equal),
        ("v1.2.3", "1.2.4", Less),
        ("1", "1.0.0", Equal),
        ("1.2", "1.2.0", Equal),
        ("0", "0.0.1", Less),
        ("v2", "1.99.99", Greater),
        ("1.2-rc.1", "1.2.0", Less),
        ("v1.2.0-rc.1", "1.2.0-rc.1", Equal),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
}

/// Strings outside the grammar still get a place, never a panic.
#[test]
fn malformed_strings_are_ordered() {
    let cases = [
        ("", "0", Greater),
        ("1.2.3.4", "1.2.3", Greater),
        ("1.2.3.4", "1.2.4", Less),
        ("1.2.x", "1.2.9", Greater),
        ("1.02.0", "1.2.0", Equal),
        ("1.0.0-01", "1.0.0-1", Equal),
        ("1.0.0-", "1.0.0", Less),
        ("1.0.0-", "1.0.0-0", Greater),
        ("vv1", "v1", Greater),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
    for v in ["", "-", "+", ".", "v", "1..2", "1.-", "é", "1.0.0-+"] {
        assert_eq!(compare(v, v), Equal, "{v:?}");
    }
}

#[test]
fn validate_accepts_semver_with_osv_leniencies() {
    for v in [
        "0.0.0",
        "1.2.3",
        "v1.2.3",
        "1",
        "1.2",
        "v0",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-0.3.7",
        "1.0.0-x.7.z.92",
        "1.0.0-x-y-z.--",
        "1.0.0-alpha+001",
        "1.0.0+20130313144700",
        "1.0.0-beta+exp.sha.5114f85",
        "1.0.0+21AF26D3----117B344092BD",
        "1.0.0+001",
    ] {
        assert_eq!(validate(v), Ok(()), "{v:?}");
    }
}

#[test]
fn validate_refuses_the_rest() {
    let cases = [
        ("", "version string is empty"),
        ("v", "core version part is not a number"),
        ("1.2.3.4", "more than three core numbers"),
        ("1..3", "core version part is not a number"),
        ("1.2.x", "core version part is not a number"),
        ("a.b.c", "core version part is not a number"),
        (" 1.2.3", "core version part is not a number"),
        ("V1.2.3", "core version part is not a number"),
        ("01.2.3", "core version number has a leading zero"),
        ("1.02.3", "core version number has a leading zero"),
        ("1.2.3-", "empty pre-release identifier"),
        ("1.2.3-a..b", "empty pre-release identifier"),
        (
            "1.2.3-01",
            "numeric pre-release identifier has a leading zero",
        ),
        ("1.2.3-a_b", "invalid character in pre-release"),
        ("1.2.3+", "empty build identifier"),
        ("1.2.3+a..b", "empty build identifier"),
        ("1.2.3+a+b", "invalid character in build metadata"),
        ("1.2.3+é", "invalid character in build metadata"),
    ];
    for (v, reason) in cases {
        let err = validate(v).expect_err(v);
        assert_eq!(err.reason, reason, "{v:?}");
        assert_eq!(err.kind, VersionKind::Semver);
    }
}
