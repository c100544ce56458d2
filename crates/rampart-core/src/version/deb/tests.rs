//! dpkg ordering and parsing, checked case by case against what `dpkg --compare-versions`
//! (1.21) answers; the integration tests also ask the real tool.

use super::*;
use std::cmp::Ordering::{Equal, Greater, Less};

/// Checks `a <=> b` and its mirror image.
#[track_caller]
fn check(a: &str, b: &str, expected: Ordering) {
    assert_eq!(compare(a, b), expected, "{a:?} vs {b:?}");
    assert_eq!(compare(b, a), expected.reverse(), "{b:?} vs {a:?}");
}

#[test]
fn orders_like_dpkg() {
    let cases = [
        // Numbers compare numerically, leading zeros ignored.
        ("1.0", "1.0", Equal),
        ("1.0", "1.00", Equal),
        ("1.01", "1.1", Equal),
        ("1.9", "1.10", Less),
        ("9", "10", Less),
        ("1.0", "1.0.0", Less),
        ("0001", "1", Equal),
        (
            "99999999999999999999999",
            "99999999999999999999998",
            Greater,
        ),
        (
            "100000000000000000000000",
            "99999999999999999999999",
            Greater,
        ),
        // `~` sorts before everything, even the end of the string.
        ("1.0~rc1", "1.0", Less),
        ("1.0~rc1", "1.0~rc2", Less),
        ("1.0~~", "1.0~", Less),
        ("1.0~~a", "1.0~", Less),
        ("1.0~", "1.0", Less),
        ("1.0~rc1~git1", "1.0~rc1", Less),
        // The end sorts before letters, letters before other characters.
        ("1.0", "1.0a", Less),
        ("1.0a", "1.0b", Less),
        ("1.0Z", "1.0a", Less),
        ("1.0z", "1.0+", Less),
        ("1.0+", "1.0.", Less),
        ("1.0.", "1.0~", Greater),
        ("1.0+dfsg", "1.0", Greater),
        ("1.0+dfsg", "1.0.1", Less),
        ("1.0a", "1.0+", Less),
        ("1.0-1", "1.0+1-1", Less),
        // Digit runs compare as numbers even after different separators.
        ("1.2", "1+2", Greater),
        ("1a2", "1b1", Less),
        // Epochs.
        ("1:0.1", "2.0", Greater),
        ("0:2.0", "2.0", Equal),
        ("00:2.0", "0:2.0", Equal),
        ("+1:2.0", "1:2.0", Equal),
        ("2147483647:1", "2147483646:9", Greater),
        ("1:1.0", "1:1.0-0", Equal),
        // Revisions: the last hyphen splits; an absent revision equals "0".
        ("1.0", "1.0-0", Equal),
        ("1.0", "1.0-00", Equal),
        ("1.0-1", "1.0-1.1", Less),
        ("1.0-1~bpo1", "1.0-1", Less),
        ("1.0-1ubuntu1", "1.0-1+deb9u1", Less),
        ("1-2-3", "1-2-4", Less),
        ("1-2-3", "1-3", Greater),
        ("1:2-3:4", "1:2-3:5", Less),
        // Colons after the epoch belong to the upstream version.
        ("1:2:3", "1:2:4", Less),
        // Surrounding blanks are ignored.
        (" 1.0 ", "1.0", Equal),
        ("\t1.0", "1.0", Equal),
        // dpkg only warns about these, and compares them all the same.
        ("a", "b", Less),
        ("1.0_1", "1.0.1", Greater),
        ("1.0é", "1.0z", Greater),
        ("1.0é", "1.0+", Less),
        // Real-world pairs.
        (
            "2.7.4+reloaded2-13ubuntu1",
            "2.7.4+reloaded2-13+deb9u1",
            Less,
        ),
        ("1:9.18.28-1~deb12u2", "1:9.18.24-1", Greater),
        ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", Less),
        ("3.0.11-1~deb12u2", "3.0.11-1~deb12u2+rpi1", Less),
        ("252.30-1~deb12u2", "252.31-1~deb12u1", Less),
    ];
    for (a, b, expected) in cases {
        check(a, b, expected);
    }
}

#[test]
fn equal_strings_compare_equal_even_when_invalid() {
    for v in [
        "",
        " ",
        "1 2",
        ":",
        "-",
        "a:b",
        "1:",
        "\u{0}",
        "-1:1",
        "99999999999:1",
    ] {
        assert_eq!(compare(v, v), Equal, "{v:?}");
    }
}

#[test]
fn parse_splits_epoch_upstream_revision() {
    let cases = [
        ("1.0", 0, "1.0", ""),
        ("1:1.0", 1, "1.0", ""),
        ("1.0-1", 0, "1.0", "1"),
        ("1:1.0-1-2", 1, "1.0-1", "2"),
        ("0:1", 0, "1", ""),
        ("00:1", 0, "1", ""),
        ("-0:1", 0, "1", ""),
        ("+5:1", 5, "1", ""),
        ("\n7:1", 7, "1", ""),
        ("1:2:3-4", 1, "2:3", "4"),
        ("  2:1.0-1\t", 2, "1.0", "1"),
        ("2147483647:1", 2_147_483_647, "1", ""),
    ];
    for (v, epoch, upstream, revision) in cases {
        let parsed = parse(v).unwrap_or_else(|e| panic!("{v:?}: {e}"));
        assert_eq!(
            parsed,
            DebVersion {
                epoch,
                upstream,
                revision
            },
            "{v:?}"
        );
    }
}

/// `validate` refuses exactly what dpkg refuses, with dpkg's own message.
#[test]
fn validate_refuses_with_dpkg_messages() {
    let cases = [
        ("", "version string is empty"),
        ("   ", "version string is empty"),
        ("\t", "version string is empty"),
        ("1 2", "version string has embedded spaces"),
        ("1.0 -1", "version string has embedded spaces"),
        (":1", "epoch in version is empty"),
        ("+:1", "epoch in version is empty"),
        ("-:1", "epoch in version is empty"),
        ("a:1", "epoch in version is empty"),
        ("1.0:", "epoch in version is not number"),
        ("1+:1", "epoch in version is not number"),
        ("1a:1", "epoch in version is not number"),
        ("1 :1", "version string has embedded spaces"),
        ("-1:1", "epoch in version is negative"),
        ("-99999999999999999999:1", "epoch in version is negative"),
        ("2147483648:1", "epoch in version is too big"),
        ("99999999999999999999:1", "epoch in version is too big"),
        ("1:", "nothing after colon in version number"),
        ("1-", "revision number is empty"),
        ("1:1-", "revision number is empty"),
        ("-", "revision number is empty"),
        ("-1", "version number is empty"),
        ("1:-1", "version number is empty"),
    ];
    for (v, reason) in cases {
        let err = validate(v).expect_err(v);
        assert_eq!(err.reason, reason, "{v:?}");
        assert_eq!(err.kind, VersionKind::Deb);
        assert_eq!(err.version, v);
    }
}

/// What dpkg only warns about is accepted, as `dpkg --compare-versions` accepts it.
#[test]
fn validate_accepts_what_dpkg_only_warns_about() {
    for v in [
        "1.0",
        "0:1",
        "00:1",
        "-0:1",
        "+1:1",
        "1:2:3",
        "1.0-1-2",
        "a",
        "1.0_1",
        "1.0-a_b",
        "1.0é",
        " 1.0 ",
        "2147483647:1",
        "\n1:2",
    ] {
        assert_eq!(validate(v), Ok(()), "{v:?}");
    }
}

#[test]
fn compare_parsed_matches_compare() {
    let versions = [
        "1.0",
        "1:0.9",
        "1.0-1",
        "1.0~rc1",
        "1.0+b1",
        "2:1",
        "1.0-1~bpo1",
    ];
    for a in versions {
        for b in versions {
            let parsed = compare_parsed(&parse(a).unwrap(), &parse(b).unwrap());
            assert_eq!(parsed, compare(a, b), "{a:?} vs {b:?}");
        }
    }
}
