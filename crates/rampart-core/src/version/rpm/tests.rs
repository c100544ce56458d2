//! RPM ordering and EVR splitting, case by case as rpm 4.18's `rpmvercmp` and python-rpm's
//! `labelCompare` answer; the integration tests also ask the real tools.

use super::*;
use std::cmp::Ordering::{Equal, Greater, Less};

/// Checks `a <=> b` and its mirror image.
#[track_caller]
fn check(a: &str, b: &str, expected: Ordering) {
    assert_eq!(compare(a, b), expected, "{a:?} vs {b:?}");
    assert_eq!(compare(b, a), expected.reverse(), "{b:?} vs {a:?}");
}

#[test]
fn rpmvercmp_segments() {
    let cases = [
        ("1.0", "1.0", Equal),
        ("1.0", "2.0", Less),
        ("2.0.1", "2.0", Greater),
        ("2.0.1a", "2.0.1", Greater),
        ("5.5p1", "5.5p2", Less),
        ("5.5p10", "5.5p1", Greater),
        ("10xyz", "10.1xyz", Less),
        ("xyz10", "xyz10.1", Less),
        ("xyz.4", "xyz.4", Equal),
        ("xyz.4", "8", Less),
        ("xyz.4", "2", Less),
        ("5.5p2", "5.6p1", Less),
        ("6.0.rc1", "6.0", Greater),
        ("6.0.rc1", "6.0.1", Less),
        ("10b2", "10a1", Greater),
        ("1.0aa", "1.0a", Greater),
        ("10a2", "10b2", Less),
        ("1.0a", "1.0", Greater),
        ("a", "1", Less),
        ("1a", "1.1", Less),
        // Leading zeros are ignored; long numbers never overflow.
        ("1.01", "1.1", Equal),
        ("1.001", "1.1", Equal),
        ("1.0010", "1.010", Equal),
        (
            "123456789012345678901234567890",
            "123456789012345678901234567889",
            Greater,
        ),
        // Separators only separate: their kind and count do not matter.
        ("1.0", "1_0", Equal),
        ("1..0", "1.0", Equal),
        ("1.0", "1.0.", Equal),
        ("1.1.α", "1.1.β", Equal),
        ("1.1.α", "1.1.a", Less),
        // `~` sorts before everything, the end of the string included.
        ("1.0~rc1", "1.0", Less),
        ("1.0~rc1", "1.0~rc2", Less),
        ("1.0~rc1~git123", "1.0~rc1", Less),
        ("1.0~~", "1.0~", Less),
        // `^` sorts after the end but before any further segment.
        ("1.0^", "1.0", Greater),
        ("1.0^git1", "1.0", Greater),
        ("1.0^git1", "1.0.1", Less),
        ("1.0^git1", "1.01", Less),
        ("1.0^20160101^git1", "1.0^20160102", Less),
        ("1.0~rc1^git1", "1.0~rc1", Greater),
        ("1.0^git1~pre", "1.0^git1", Less),
        ("1.0^^", "1.0^", Greater),
        ("1.0^a", "1.0^1", Less),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
        assert_eq!(rpmvercmp(a, b), expected, "rpmvercmp {a:?} vs {b:?}");
    }
}

#[test]
fn epochs_and_releases() {
    let cases = [
        ("0:1.0", "1.0", Equal),
        (":1.0", "1.0", Equal),
        (":1.0", "0:1.0", Equal),
        ("00:1.0", "0:1.0", Equal),
        ("1:1.0", "2.0", Greater),
        ("1:1.0", "2:0.1", Less),
        ("10:1", "9:2", Greater),
        // A colon that does not follow leading digits is part of the version.
        ("a:1", "a:1", Equal),
        ("a:1", "b:1", Less),
        ("1.m+e2:1", "4.m+e1:1", Less),
        // The release is what follows the last hyphen, compared only after the version.
        ("1.0-1", "1.0-2", Less),
        ("1.0-10", "1.0-9", Greater),
        ("1.0-1.el7", "1.0-1.el7_9", Less),
        ("2.0-1", "1.0-9", Greater),
        ("1-2-3", "1-2-4", Less),
        ("1-2-3", "1-3", Greater),
        // A missing release sorts before any release, even an empty one.
        ("1.0", "1.0-0", Less),
        ("1.0", "1.0-", Less),
        ("1.0-", "1.0-", Equal),
        ("1.0-1.", "1.0-1", Equal),
        // Real-world pairs.
        ("0:3.10.0-229.el7", "0:3.10.0-229.1.2.ael7b", Less),
        ("0:2.4.21-9.EL", "0:2.4.21-9.0.1.EL", Less),
        ("1:1.1.1k-12.el8_9", "1:1.1.1k-9.el8_7", Greater),
        ("3.0.7-27.el9", "1:3.0.7-25.el9", Less),
        ("5.14.0-427.13.1.el9_4", "5.14.0-427.el9", Greater),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
}

#[test]
fn parse_splits_like_parse_evr() {
    let cases = [
        ("1.0", None, "1.0", None),
        ("1:1.0", Some("1"), "1.0", None),
        ("1.0-1", None, "1.0", Some("1")),
        ("2:1.0-1.el9", Some("2"), "1.0", Some("1.el9")),
        (":1.0", Some("0"), "1.0", None),
        ("007:1", Some("007"), "1", None),
        ("a:1-2", None, "a:1", Some("2")),
        ("1-2-3", None, "1-2", Some("3")),
        ("12-3", None, "12", Some("3")),
        ("1:", Some("1"), "", None),
        ("-1", None, "", Some("1")),
        ("1.0-", None, "1.0", Some("")),
        ("", None, "", None),
    ];
    for (evr, epoch, version, release) in cases {
        assert_eq!(
            parse(evr),
            RpmVersion {
                epoch,
                version,
                release
            },
            "{evr:?}"
        );
    }
}

#[test]
fn validate_refuses_empty_versions_and_blanks() {
    for (v, reason) in [
        ("", "version string is empty"),
        ("1 0", "white space or control character in version"),
        ("1.0\n", "white space or control character in version"),
        ("1.0\u{0}", "white space or control character in version"),
        ("-", "version part is empty"),
        ("-1", "version part is empty"),
        (":", "version part is empty"),
        ("1:", "version part is empty"),
        ("1:-1", "version part is empty"),
    ] {
        let err = validate(v).expect_err(v);
        assert_eq!(err.reason, reason, "{v:?}");
        assert_eq!(err.kind, VersionKind::Rpm);
    }
    for v in [
        "1.0",
        "1:1.0-1.el9",
        "1.0~rc1^git1",
        "a:1",
        "1.1.α",
        "1.0-",
        "~",
        "^",
        ":1-",
    ] {
        assert_eq!(validate(v), Ok(()), "{v:?}");
    }
}

#[test]
fn equal_strings_compare_equal() {
    for v in ["", "-", ":", "~", "^", "1:", "a-b-c", "\u{0}"] {
        assert_eq!(compare(v, v), Equal, "{v:?}");
    }
}
