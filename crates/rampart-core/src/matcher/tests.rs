use super::*;
use crate::advisory::{Advisory, Affected, Event, Range, RangeKind};
use crate::distro::{Distro, Release};
use crate::package::{Package, PackageFormat};
use crate::severity::{Severity, SeverityLevel};

fn rel(distro: Distro, version: &str) -> Release {
    Release {
        distro,
        version: version.into(),
        stream: None,
    }
}

fn deb(name: &str, version: &str, source: Option<(&str, Option<&str>)>) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source_name: source.map(|s| s.0.into()),
        source_version: source.and_then(|s| s.1.map(Into::into)),
        format: PackageFormat::Deb,
    }
}

fn rpm(name: &str, version: &str, source: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        arch: Some("x86_64".into()),
        source_name: Some(source.into()),
        source_version: None,
        format: PackageFormat::Rpm,
    }
}

fn affected(eco: &str, package: &str, events: &[Event]) -> Affected {
    Affected {
        ecosystem: eco.into(),
        release: Release::from_osv_ecosystem(eco),
        package: package.into(),
        ranges: vec![Range {
            kind: RangeKind::Ecosystem,
            events: events.to_vec(),
        }],
        versions: vec![],
        severity: None,
    }
}

fn adv(id: &str, affected: Vec<Affected>) -> Advisory {
    Advisory {
        id: id.into(),
        aliases: vec![format!("CVE-{id}")],
        severity: Severity {
            level: SeverityLevel::High,
            cvss: Some(7.5),
            vector: None,
        },
        affected,
        ..Advisory::default()
    }
}

fn intro(v: &str) -> Event {
    Event::Introduced(v.into())
}
fn fixed(v: &str) -> Event {
    Event::Fixed(v.into())
}
fn last(v: &str) -> Event {
    Event::LastAffected(v.into())
}

/// Matches `packages` on `release` and compares (advisory, package, fixed) triples.
fn check(
    advisories: Vec<Advisory>,
    release: Release,
    packages: &[Package],
    expected: &[(&str, &str, Option<&str>)],
) {
    let index = AdvisoryIndex::from_advisories(advisories);
    let got: Vec<(String, String, Option<String>)> = match_host(&index, &release, packages)
        .into_iter()
        .map(|f| (f.advisory, f.package, f.fixed))
        .collect();
    let expected: Vec<(String, String, Option<String>)> = expected
        .iter()
        .map(|(a, p, f)| (a.to_string(), p.to_string(), f.map(str::to_owned)))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn debian_matches_through_source_name_and_version() {
    let a = adv(
        "DSA-1",
        vec![affected(
            "Debian:12",
            "openssl",
            &[intro("0"), fixed("3.0.13-1~deb12u1")],
        )],
    );
    let pkgs = [
        deb("libssl3", "3.0.11-1~deb12u2", Some(("openssl", None))),
        deb("openssl", "3.0.11-1~deb12u2", None),
        deb("libssl-dev", "3.0.13-1~deb12u1", Some(("openssl", None))),
    ];
    check(
        vec![a],
        rel(Distro::Debian, "12"),
        &pkgs,
        &[
            ("DSA-1", "libssl3", Some("3.0.13-1~deb12u1")),
            ("DSA-1", "openssl", Some("3.0.13-1~deb12u1")),
        ],
    );
}

#[test]
fn binary_version_differs_from_source_version() {
    // Source: gcc-12 (12.2.0-14), binary libgcc-s1 12.2.0-14 vs. a binNMU-style version.
    let a = adv(
        "DSA-2",
        vec![affected("Debian:12", "src", &[intro("0"), fixed("1.5-1")])],
    );
    let pkgs = [deb("bin", "9:1.0-1+b1", Some(("src", Some("1.4-1"))))];
    check(
        vec![a.clone()],
        rel(Distro::Debian, "12"),
        &pkgs,
        &[("DSA-2", "bin", Some("1.5-1"))],
    );
    let pkgs = [deb("bin", "0.1-1", Some(("src", Some("1.5-1"))))];
    check(vec![a], rel(Distro::Debian, "12"), &pkgs, &[]);
}

#[test]
fn epochs_tildes_and_boundaries() {
    let a = adv(
        "E",
        vec![affected("Debian:12", "p", &[intro("0"), fixed("1:2.0-1")])],
    );
    let r = rel(Distro::Debian, "12");
    check(
        vec![a.clone()],
        r.clone(),
        &[deb("p", "3.0-1", None)],
        &[("E", "p", Some("1:2.0-1"))],
    );
    check(
        vec![a.clone()],
        r.clone(),
        &[deb("p", "1:2.0-1", None)],
        &[],
    );
    check(
        vec![a],
        r.clone(),
        &[deb("p", "1:2.0-1~deb12u1", None)],
        &[("E", "p", Some("1:2.0-1"))],
    );
    let b = adv(
        "T",
        vec![affected(
            "Debian:12",
            "p",
            &[intro("1.0~rc1"), fixed("1.0")],
        )],
    );
    check(
        vec![b.clone()],
        r.clone(),
        &[deb("p", "1.0~rc1", None)],
        &[("T", "p", Some("1.0"))],
    );
    check(
        vec![b.clone()],
        r.clone(),
        &[deb("p", "1.0~beta", None)],
        &[],
    );
    check(vec![b], r, &[deb("p", "1.0", None)], &[]);
}

#[test]
fn last_affected_is_inclusive_and_has_no_fix() {
    let a = adv(
        "L",
        vec![affected("Debian:12", "p", &[intro("0"), last("2.0-1")])],
    );
    let r = rel(Distro::Debian, "12");
    check(
        vec![a.clone()],
        r.clone(),
        &[deb("p", "2.0-1", None)],
        &[("L", "p", None)],
    );
    check(vec![a], r, &[deb("p", "2.0-2", None)], &[]);
}

#[test]
fn several_intervals_in_one_range_in_any_event_order() {
    let a = adv(
        "M",
        vec![affected(
            "Debian:12",
            "p",
            &[fixed("3.0"), intro("2.5"), fixed("2.0"), intro("1.0")],
        )],
    );
    let r = rel(Distro::Debian, "12");
    for (v, expect) in [
        ("0.9", None),
        ("1.0", Some("2.0")),
        ("1.9", Some("2.0")),
        ("2.0", None),
        ("2.7", Some("3.0")),
        ("3.0", None),
    ] {
        let exp: Vec<(&str, &str, Option<&str>)> =
            expect.map(|f| ("M", "p", Some(f))).into_iter().collect();
        check(vec![a.clone()], r.clone(), &[deb("p", v, None)], &exp);
    }
}

#[test]
fn withdrawn_and_other_releases_never_match() {
    let mut w = adv(
        "W",
        vec![affected("Debian:12", "p", &[intro("0"), fixed("9")])],
    );
    w.withdrawn = Some("2024-01-01T00:00:00Z".into());
    let other = adv(
        "O",
        vec![affected("Debian:11", "p", &[intro("0"), fixed("9")])],
    );
    let pro = adv(
        "P",
        vec![affected(
            "Ubuntu:Pro:22.04:LTS",
            "p",
            &[intro("0"), fixed("9")],
        )],
    );
    let std_ubuntu = adv(
        "U",
        vec![affected("Ubuntu:22.04:LTS", "p", &[intro("0"), fixed("9")])],
    );
    check(
        vec![w, other],
        rel(Distro::Debian, "12"),
        &[deb("p", "1", None)],
        &[],
    );
    check(
        vec![pro, std_ubuntu],
        rel(Distro::Ubuntu, "22.04"),
        &[deb("p", "1", None)],
        &[("U", "p", Some("9"))],
    );
}

#[test]
fn listed_versions_and_their_next_fix() {
    let mut a = affected(
        "Ubuntu:22.04:LTS",
        "linux",
        &[intro("5.0"), fixed("5.15.0-100.110")],
    );
    a.versions = vec!["5.15.0-91.101".into(), "4.0-1".into()];
    let r = rel(Distro::Ubuntu, "22.04");
    let index = AdvisoryIndex::from_advisories([adv("K", vec![a])]);
    let f = match_host(
        &index,
        &r,
        &[deb("linux-image", "4.0-1", Some(("linux", None)))],
    );
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].reason, MatchReason::Listed);
    assert_eq!(f[0].fixed.as_deref(), Some("5.15.0-100.110"));
    assert_eq!(f[0].source, "linux");
}

#[test]
fn rpm_matches_binary_and_source_names_once() {
    let a = adv(
        "ALSA-1",
        vec![
            affected(
                "AlmaLinux:9",
                "openssl",
                &[intro("0"), fixed("1:3.0.7-25.el9_3")],
            ),
            affected(
                "AlmaLinux:9",
                "openssl-libs",
                &[intro("0"), fixed("1:3.0.7-25.el9_3")],
            ),
        ],
    );
    let pkgs = [
        rpm("openssl-libs", "1:3.0.7-24.el9", "openssl"),
        rpm("openssl", "1:3.0.7-25.el9_3", "openssl"),
    ];
    check(
        vec![a],
        rel(Distro::AlmaLinux, "9"),
        &pkgs,
        &[("ALSA-1", "openssl-libs", Some("1:3.0.7-25.el9_3"))],
    );
}

#[test]
fn explanation_names_everything() {
    let a = adv(
        "DSA-9",
        vec![affected(
            "Debian:12",
            "openssl",
            &[intro("0"), fixed("3.0.13-1")],
        )],
    );
    let index = AdvisoryIndex::from_advisories([a]);
    let f = &match_host(
        &index,
        &rel(Distro::Debian, "12"),
        &[deb("libssl3", "3.0.11-1", Some(("openssl", None)))],
    )[0];
    assert_eq!(f.aliases, vec!["CVE-DSA-9"]);
    assert_eq!(
        (f.installed.as_str(), f.compared_version.as_str()),
        ("3.0.11-1", "3.0.11-1")
    );
    assert_eq!(f.advisory_package, "openssl");
    assert_eq!(f.ecosystem, "Debian:12");
    assert_eq!(f.reason.to_string(), "introduced 0, fixed 3.0.13-1");
    assert_eq!(f.severity.level, SeverityLevel::High);
}

#[test]
fn same_id_from_two_release_files_is_merged_and_updates_replace() {
    let mut index = AdvisoryIndex::new();
    index.insert(adv(
        "ALPINE-CVE-1",
        vec![affected(
            "Alpine:v3.10",
            "p",
            &[intro("0"), fixed("1.0-r1")],
        )],
    ));
    index.insert(adv(
        "ALPINE-CVE-1",
        vec![affected(
            "Alpine:v3.11",
            "p",
            &[intro("0"), fixed("1.1-r0")],
        )],
    ));
    assert_eq!(index.len(), 1);
    let apk = |v: &str| Package {
        format: PackageFormat::Apk,
        ..deb("p", v, None)
    };
    assert_eq!(
        match_host(&index, &rel(Distro::Alpine, "3.10"), &[apk("1.0-r0")]).len(),
        1
    );
    assert_eq!(
        match_host(&index, &rel(Distro::Alpine, "3.11"), &[apk("1.0-r5")]).len(),
        1
    );
    // An update for 3.11 that moves the fix down replaces only the 3.11 entry.
    let touched = index.insert(adv(
        "ALPINE-CVE-1",
        vec![affected(
            "Alpine:v3.11",
            "p",
            &[intro("0"), fixed("1.0-r2")],
        )],
    ));
    // Every release of the record is reported: its record-level severity may have moved.
    assert_eq!(touched.len(), 2);
    assert!(match_host(&index, &rel(Distro::Alpine, "3.11"), &[apk("1.0-r5")]).is_empty());
    assert_eq!(
        match_host(&index, &rel(Distro::Alpine, "3.10"), &[apk("1.0-r0")]).len(),
        1
    );
    // The same id from another repository file of the same release (community after
    // main) adds its package without dropping the first one.
    index.insert(adv(
        "ALPINE-CVE-1",
        vec![affected(
            "Alpine:v3.11",
            "q",
            &[intro("0"), fixed("2.0-r0")],
        )],
    ));
    let q = Package {
        name: "q".into(),
        ..apk("1.9-r0")
    };
    let found = match_host(&index, &rel(Distro::Alpine, "3.11"), &[apk("1.0-r1"), q]);
    let names: Vec<&str> = found.iter().map(|f| f.package.as_str()).collect();
    assert_eq!(names, ["p", "q"]);
}

#[test]
fn estate_agrees_with_match_host_and_updates_incrementally() {
    let r = rel(Distro::Debian, "12");
    let mut index = AdvisoryIndex::from_advisories([
        adv(
            "A",
            vec![affected(
                "Debian:12",
                "openssl",
                &[intro("0"), fixed("3.0.13-1")],
            )],
        ),
        adv(
            "B",
            vec![affected(
                "Debian:12",
                "zlib",
                &[intro("0"), fixed("1:1.2.13.dfsg-2")],
            )],
        ),
    ]);
    let i386 = Package {
        arch: Some("i386".into()),
        ..deb("zlib1g", "1:1.2.13.dfsg-1", Some(("zlib", None)))
    };
    let image = vec![
        deb("libssl3", "3.0.11-1", Some(("openssl", None))),
        deb("zlib1g", "1:1.2.13.dfsg-1", Some(("zlib", None))),
        i386,
        deb("bash", "5.2.15-2+b2", None),
    ];
    let mut drifted = image.clone();
    drifted[0].version = "3.0.13-1".into();
    let mut estate = Estate::new();
    let s1 = estate.add_package_set(&r, &image);
    let s2 = estate.add_package_set(&r, &drifted);
    assert_eq!(
        estate.add_package_set(&r, &image),
        s1,
        "identical inventories share a set"
    );
    let hosts = [
        estate.add_host(s1),
        estate.add_host(s2),
        estate.add_host(s1),
    ];
    let stats = estate.evaluate(&index);
    assert_eq!(
        (
            stats.hosts,
            stats.package_sets,
            stats.vulnerable_hosts,
            stats.findings
        ),
        (3, 2, 3, 5)
    );
    for (h, pkgs) in hosts.iter().zip([&image, &drifted, &image]) {
        assert_eq!(
            estate.host_findings(&index, *h),
            match_host(&index, &r, pkgs)
        );
        assert_eq!(
            estate.host_counts(*h).total() as usize,
            match_host(&index, &r, pkgs).len()
        );
    }
    let touched = index.insert(adv(
        "C",
        vec![affected(
            "Debian:12",
            "bash",
            &[intro("0"), fixed("5.2.15-3")],
        )],
    ));
    let changed = estate.apply(&index, &touched);
    assert_eq!(changed, vec![s1, s2]);
    assert_eq!(estate.host_counts(hosts[1]).total(), 2);
    assert_eq!(estate.host_counts(hosts[0]).get(SeverityLevel::High), 3);
    for (h, pkgs) in hosts.iter().zip([&image, &drifted, &image]) {
        assert_eq!(
            estate.host_findings(&index, *h),
            match_host(&index, &r, pkgs)
        );
    }
}

fn alpine_finding(id: &str, package: &str, fixed: Option<&str>, level: SeverityLevel) -> Finding {
    Finding {
        advisory: id.into(),
        aliases: vec![],
        package: package.into(),
        source: package.into(),
        installed: "1.2.3-r0".into(),
        compared_version: "1.2.3-r0".into(),
        advisory_package: package.into(),
        fixed: fixed.map(Into::into),
        severity: Severity {
            level,
            cvss: None,
            vector: None,
        },
        ecosystem: "Alpine:v3.20".into(),
        reason: MatchReason::Listed,
    }
}

#[test]
fn an_update_fixes_the_findings_whose_fix_it_reaches() {
    let findings = [
        alpine_finding("CVE-1", "openssl", Some("1.2.4-r0"), SeverityLevel::Medium),
        alpine_finding(
            "CVE-2",
            "openssl",
            Some("1.2.5-r0"),
            SeverityLevel::Critical,
        ),
        alpine_finding("CVE-3", "openssl", None, SeverityLevel::High),
        alpine_finding("CVE-4", "zlib", Some("1.0-r0"), SeverityLevel::High),
        alpine_finding("CVE-1", "openssl", Some("1.2.4-r0"), SeverityLevel::Medium),
    ];
    let apk = crate::version::VersionKind::Apk;
    // Reaches CVE-1's fix only: CVE-2 needs a later version, CVE-3 has no fix, CVE-4 is
    // another package; the duplicate counts once.
    let f = update_fixes(apk, "openssl", "1.2.4-r1", &findings);
    assert_eq!(f.advisories, ["CVE-1"]);
    assert_eq!(f.severity, Some(SeverityLevel::Medium));
    assert!(f.is_security());
    // Exactly at the later fix: both, worst severity wins.
    let f = update_fixes(apk, "openssl", "1.2.5-r0", &findings);
    assert_eq!(f.advisories, ["CVE-1", "CVE-2"]);
    assert_eq!(f.severity, Some(SeverityLevel::Critical));
    // Before any fix (apk ordering: _rc sorts before the release).
    let f = update_fixes(apk, "openssl", "1.2.4_rc1-r0", &findings);
    assert!(!f.is_security());
    assert_eq!(f.severity, None);
}
