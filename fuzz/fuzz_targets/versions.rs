//! Version comparators: any two strings, every family. Checks the total-order contract
//! (antisymmetry, reflexivity) and that validate/compare_checked never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_core::version::VersionKind;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    for kind in [VersionKind::Deb, VersionKind::Rpm, VersionKind::Apk, VersionKind::Semver] {
        let ab = kind.compare(a, b);
        assert_eq!(ab, kind.compare(b, a).reverse(), "{kind:?} {a:?} {b:?}");
        assert!(kind.compare(a, a).is_eq());
        let _ = kind.validate(a);
        let _ = kind.compare_checked(a, b);
    }
});
