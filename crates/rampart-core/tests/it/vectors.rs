//! Every line of the shared version vectors, in both directions.

use rampart_core::version::VersionKind;

use crate::support::{ordering_symbol, read_vectors};

/// Checks one vector file; returns how many vectors it held.
fn check_file(file: &str, kind: VersionKind) -> usize {
    let vectors = read_vectors(file);
    let mut failures = Vec::new();
    for v in &vectors {
        let forward = kind.compare(&v.a, &v.b);
        let backward = kind.compare(&v.b, &v.a);
        if forward != v.expected || backward != v.expected.reverse() {
            failures.push(format!(
                "{file}:{}: {} {} {} expected; got {} forward, {} backward",
                v.line,
                v.a,
                ordering_symbol(v.expected),
                v.b,
                ordering_symbol(forward),
                ordering_symbol(backward)
            ));
        }
    }
    println!(
        "{file}: checked {} {kind} vectors, both directions",
        vectors.len()
    );
    assert!(!vectors.is_empty(), "{file} holds no vectors");
    assert!(
        failures.is_empty(),
        "{} of {} vectors disagree:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
    vectors.len()
}

#[test]
fn debian_vectors() {
    check_file("debian-versions.txt", VersionKind::Deb);
}

#[test]
fn redhat_vectors() {
    check_file("redhat-versions.txt", VersionKind::Rpm);
}

#[test]
fn alpine_vectors() {
    check_file("alpine-versions.txt", VersionKind::Apk);
}
