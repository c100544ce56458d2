//! Order properties of every family's `compare` on generated strings: reflexive,
//! antisymmetric, transitive, equal elements interchangeable, and no panic on arbitrary
//! Unicode. The generators build strings from the pieces each family treats specially.

use std::cmp::Ordering;

use proptest::prelude::*;
use proptest::sample::select;
use rampart_core::version::VersionKind;

const DEB_PIECES: &[&str] = &[
    "0", "1", "2", "9", "10", "01", "00", "123", "a", "b", "z", "A", "Z", "~", "~~", "+", ".", "-",
    ":", "_", "^", "0:", "1:", "2:", "-1", "-0", "rc", "dfsg", "é", " ",
];
const RPM_PIECES: &[&str] = &[
    "0", "1", "2", "9", "10", "01", "00", "123", "a", "b", "z", "A", "Z", "~", "^", "^^", "+", ".",
    "-", ":", "_", "0:", "1:", ":", "-1", "el9", "rc", "git", "α",
];
const APK_PIECES: &[&str] = &[
    "0", "1", "2", "9", "10", "01", "00", "123", ".", "..", "a", "b", "z", "A", "_alpha", "_beta",
    "_pre", "_rc", "_cvs", "_svn", "_git", "_hg", "_p", "_foo", "_", "~", "~0", "~abc", "~1f",
    "-r", "-r0", "-r1", "-r01", "-r10", "-", "--", "r", " ",
];
const SEMVER_PIECES: &[&str] = &[
    "0", "1", "2", "9", "10", "01", "00", "123", ".", "-", "+", "v", "alpha", "beta", "rc", "a",
    "A", "-rc.1", "-0", "+build.1", "é",
];

/// Strings of 0 to 8 pieces, sometimes with an arbitrary character mixed in.
fn version(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    let piece = prop_oneof![9 => select(pieces).prop_map(str::to_owned), 1 => any::<char>().prop_map(String::from)];
    proptest::collection::vec(piece, 0..8).prop_map(|parts| parts.concat())
}

fn family(kind: VersionKind) -> impl Strategy<Value = String> {
    version(match kind {
        VersionKind::Deb => DEB_PIECES,
        VersionKind::Rpm => RPM_PIECES,
        VersionKind::Apk => APK_PIECES,
        VersionKind::Semver => SEMVER_PIECES,
    })
}

fn kinds() -> impl Strategy<Value = VersionKind> {
    select(
        &[
            VersionKind::Deb,
            VersionKind::Rpm,
            VersionKind::Apk,
            VersionKind::Semver,
        ][..],
    )
}

/// A family and three strings built from its pieces.
fn triple() -> impl Strategy<Value = (VersionKind, String, String, String)> {
    kinds().prop_flat_map(|kind| (Just(kind), family(kind), family(kind), family(kind)))
}

/// A family and a handful of strings built from its pieces.
fn many() -> impl Strategy<Value = (VersionKind, Vec<String>)> {
    kinds().prop_flat_map(|kind| (Just(kind), proptest::collection::vec(family(kind), 2..12)))
}

fn check_pair(kind: VersionKind, a: &str, b: &str) -> Result<(), TestCaseError> {
    let ab = kind.compare(a, b);
    prop_assert_eq!(
        ab,
        kind.compare(b, a).reverse(),
        "{} not antisymmetric on {:?}, {:?}",
        kind,
        a,
        b
    );
    prop_assert_eq!(
        kind.compare(a, a),
        Ordering::Equal,
        "{} not reflexive on {:?}",
        kind,
        a
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn antisymmetric_and_reflexive((kind, a, b, _c) in triple()) {
        check_pair(kind, &a, &b)?;
    }

    #[test]
    fn transitive((kind, a, b, c) in triple()) {
        let (ab, bc, ac) = (kind.compare(&a, &b), kind.compare(&b, &c), kind.compare(&a, &c));
        if ab != Ordering::Greater && bc != Ordering::Greater {
            prop_assert_ne!(ac, Ordering::Greater, "{}: {:?} <= {:?} <= {:?} but not a <= c", kind, a, b, c);
        }
        if ab == Ordering::Equal {
            // Equal elements are interchangeable.
            prop_assert_eq!(ac, bc, "{}: {:?} = {:?} but they differ against {:?}", kind, a, b, c);
        }
    }

    /// Sorting must succeed and leave every pair in order: transitivity on whole sets.
    #[test]
    fn sorts_consistently((kind, mut versions) in many()) {
        versions.sort_by(|a, b| kind.compare(a, b));
        for (i, a) in versions.iter().enumerate() {
            for b in &versions[i + 1..] {
                prop_assert_ne!(kind.compare(a, b), Ordering::Greater, "{}: {:?} sorted before {:?}", kind, a, b);
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_unicode(kind in kinds(), a in any::<String>(), b in any::<String>()) {
        let _ = kind.validate(&a);
        let _ = kind.validate(&b);
        check_pair(kind, &a, &b)?;
    }
}
