//! apk ordering case by case: apk-tools 3's own rules, then how malformed versions sort.
//! The whole shared vector file is checked by the integration tests.

use super::*;
use std::cmp::Ordering::{Equal, Greater, Less};

/// Checks `a <=> b` and its mirror image.
#[track_caller]
fn check(a: &str, b: &str, expected: Ordering) {
    assert_eq!(compare(a, b), expected, "{a:?} vs {b:?}");
    assert_eq!(compare(b, a), expected.reverse(), "{b:?} vs {a:?}");
}

#[test]
fn numbers_letters_and_dots() {
    let cases = [
        ("1.0", "1.0", Equal),
        ("1.0", "1.1", Less),
        ("1.9", "1.10", Less),
        ("1.0", "1.0.0", Less),
        ("1.2.3", "1.2", Greater),
        ("1.2.12.1", "1.2.13", Less),
        ("20060720", "3.0.20060720", Greater),
        // The initial number ignores leading zeros; later ones compare as strings.
        ("006", "1.0.0", Greater),
        ("021109", "20060512", Less),
        ("1.01", "1.1", Less),
        ("1.0", "1.00", Less),
        ("8.2.0", "8.2.001", Less),
        ("8.2.0015", "8.2.002", Less),
        ("1.02", "1.1", Less),
        ("1.10", "1.09", Greater),
        // One lower-case letter after the numbers.
        ("1.0", "1.0a", Less),
        ("1.0a", "1.0b", Less),
        ("1.2.3b", "1.2.0d", Greater),
        ("1.0a", "1.0.1", Less),
        ("2.5.1-r8", "2.5.1a-r1", Less),
        // Numbers wrap at 2^64 like apk's uint64_t parsing.
        ("18446744073709551616", "0", Equal),
        ("18446744073709551617", "1", Equal),
        ("1.18446744073709551616", "1.1", Less),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
}

#[test]
fn suffixes() {
    let cases = [
        ("1.0_alpha", "1.0_beta", Less),
        ("1.0_beta", "1.0_pre", Less),
        ("1.0_pre", "1.0_rc", Less),
        ("1.0_rc", "1.0", Less),
        ("1.0", "1.0_cvs", Less),
        ("1.0_cvs", "1.0_svn", Less),
        ("1.0_svn", "1.0_git", Less),
        ("1.0_git", "1.0_hg", Less),
        ("1.0_hg", "1.0_p", Less),
        ("1.0_alpha", "1.0_alpha1", Less),
        ("1.0_alpha1", "1.0_alpha2", Less),
        ("1.0_alpha10", "1.0_alpha9", Greater),
        ("1.0_rc1", "1.0.1_alpha", Less),
        ("1.0_p1", "1.0.1", Less),
        ("1.0_p1", "1.0a", Less),
        ("0.1.0_alpha_pre2", "0.1.0_alpha", Less),
        ("0.1_p1_pre2", "0.1_p1", Less),
        ("0.1_p1_p2", "0.1_p1", Greater),
        ("6.0_pre1", "6.0", Less),
        ("6.0_p1", "6.0", Greater),
        (
            "1.0.0_pre20191002222144-r0",
            "1.0.0_pre20210530193627-r0",
            Less,
        ),
        ("1.3_pre1-r1", "1.3.2", Less),
        ("1.0_p10-r0", "1.0_p9-r0", Greater),
        ("1.2_svn2", "1.2_git1", Less),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
}

#[test]
fn hashes_and_revisions() {
    let cases = [
        ("1.0~1234", "1.0~2345", Less),
        ("1.0~1234-r1", "1.0~2345-r0", Less),
        ("1.0~1234-r1", "1.0~1234-r0", Greater),
        ("1.0~abc", "1.0~abd", Less),
        ("1.0~ab", "1.0~abc", Less),
        ("1.0~ff", "1.0", Greater),
        ("1.0~ff", "1.0-r0", Greater),
        ("1.0~ff", "1.0_p1", Less),
        ("1.0_rc1~ff", "1.0_rc1", Greater),
        ("1.0-r1", "1.0-r2", Less),
        ("1.0-r10", "1.0-r9", Greater),
        ("1-r1", "1-r01", Equal),
        ("1.0", "1.0-r0", Less),
        ("1.0-r5", "1.0.1", Less),
        ("1.0-r5", "1.0_p1", Less),
        ("1.0_rc1-r5", "1.0", Less),
        ("4.5_p1-r1", "4.5_p1", Greater),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
}

/// Malformed versions: apk-tools 3 where it decides, the refinements in the module
/// documentation where it calls two different strings equal.
#[test]
fn malformed_versions() {
    let cases = [
        // Something unreadable sorts below the end and above a pre-release suffix.
        ("1.0", "1.0bc", Less),
        ("1.2", "1.2_blah", Greater),
        ("1.2_rc1", "1.2_blah", Less),
        ("1.2_cvs1", "1.2_blah", Greater),
        ("1.2.0A", "1.2.0d", Less),
        ("0.r1", "0r2", Less),
        ("6.6.2p1", "6.6.2p2", Less),
        ("6.6.2p1", "6.6.2_p1", Greater),
        (".1", "1", Less),
        ("", "0", Less),
        ("1.0", "1.0.", Greater),
        ("1.0~", "1.0", Less),
        ("1.0~ABC", "1.0", Less),
        // Two malformed rests at the same place compare as bytes.
        (".2", ".1", Greater),
        ("a", "b", Less),
        ("0..8", "0...8", Greater),
        ("0.8.21.r2", "0.8.21.r1", Greater),
        ("1.0_foo", "1.0_bar", Greater),
        ("", "a", Less),
        // `-r` alone is `-r0`; any other revision part is one malformed revision.
        ("1-r", "1-r0", Equal),
        ("1 ", "1", Less),
        ("1-r-0", "1-r0", Less),
        ("1-r2", "1-r-1", Greater),
        ("1", "1-ruff", Greater),
        ("1-r0-1", "1-r-2", Equal),
        ("1-r0-1", "1-r0-2", Equal),
        ("1-ruff2", "1--ruff1", Equal),
        ("1-r5x", "1-r3", Less),
        ("1-r5x", "1-r3y", Greater),
        ("1-r5x", "1", Less),
        ("1.0-foo", "1.0_alpha", Greater),
        ("1.0-foo", "1.0.x", Greater),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
}

/// apk-tools 3's own list (test/unit/version.data) of what `apk version -c` accepts.
#[test]
fn well_formed_like_apk_version_check() {
    for v in [
        "1.2",
        "0.1_pre2",
        "0.1_pre2~1234abcd",
        "0.1_p1_pre2",
        "0.1_alpha1_pre2",
        "0.1_git20240101_pre1",
        "1.0-r0",
        "2.3.0b-r1",
        "1.0~0-r1",
        "006",
    ] {
        assert!(is_well_formed(v), "{v:?} should be well formed");
    }
    for v in [
        "",
        "0.1bc",
        "0.1bc1",
        "0.1a1",
        "0.1a.1",
        "0.1_pre2~",
        "0.1_pre2~1234xbcd",
        "0.1_pre2~1234abcd_pre1",
        "0.1_pre2-r1~1234xbcd",
        "0.1_foobar",
        "0.1_foobar1",
        "0.1-pre1.1",
        "0.1-r",
        "0.1-r2_pre1",
        "0.1-r2_p3_pre1",
        "0.1-r2-r3",
        "0.1-r2.1",
        ".1",
        "a",
        "_pre1",
        "-r1",
        "0.1_",
        "0.1_-r0",
        "0.1__alpha",
        "0.1_1_alpha",
        "1.0~ABCD",
        "1.0A",
        "1.0 ",
    ] {
        assert!(!is_well_formed(v), "{v:?} should be malformed");
    }
}

#[test]
fn validate_refuses_only_what_cannot_reach_apk() {
    assert_eq!(validate("").unwrap_err().reason, "version string is empty");
    assert_eq!(
        validate("1.0\0").unwrap_err().reason,
        "version string contains a NUL byte"
    );
    for v in ["1.0-r0", ".1", "a", "1-ruff", "1.0 beta", "é"] {
        assert_eq!(validate(v), Ok(()), "{v:?}");
    }
}
