//! Pending updates of RPM and Alpine roots built by `roots.rs` from real artefacts,
//! checked against what each root was built to hold and, for RPM, against the real dnf
//! (Debian packages dnf 4) asked about the same root from its own cache.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use rampart_proto::{Inventory, UpdateCategory};

use crate::roots::{ALPINE_TOOLS, ExpectedFacts, ExpectedUpdate, alpine_root, rpm_root};
use crate::support::require;

fn collect(root: &Path) -> Inventory {
    rampart_agent::collect::collect(root, 0).expect("root exists")
}

fn updates_of(inv: &Inventory) -> Vec<ExpectedUpdate> {
    inv.state
        .updates
        .iter()
        .map(|u| ExpectedUpdate {
            name: u.name.clone(),
            arch: u.arch.clone().unwrap_or_default(),
            installed: u.installed.clone(),
            candidate: u.candidate.clone(),
            origin: u.origin.clone(),
            security: u.category == UpdateCategory::Security,
        })
        .collect()
}

fn check_facts(inv: &Inventory, expected: &ExpectedFacts) {
    assert_eq!(inv.state.host.os.id, expected.os_id);
    let mut packages: Vec<_> = inv
        .state
        .packages
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.arch.clone().unwrap_or_default(),
                p.version.clone(),
            )
        })
        .collect();
    packages.sort();
    assert_eq!(packages, expected.packages);
    assert_eq!(updates_of(inv), expected.updates);
    let problems: Vec<_> = inv
        .state
        .problems
        .iter()
        .filter(|p| p.collector == "updates" || p.collector == "packages")
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
}

/// Real rpmbuild / rpm / createrepo_c / modifyrepo_c make the root (see `roots.rs`).
#[test]
fn rpm_root_updates() {
    if !crate::roots::RPM_TOOLS.iter().all(|t| require(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = rpm_root(dir.path());
    let inv = collect(&dir.path().join("root"));
    check_facts(&inv, &expected);
}

/// The same root, with dnf's own cache added by the real `dnf makecache` (a second
/// cache directory per repository, newer than the copied one), then the agent compared
/// with `dnf check-update` (names, arches, candidates, repositories) and with
/// `dnf updateinfo list --security` (which packages get a security fix).
#[test]
fn rpm_root_agrees_with_dnf() {
    if !crate::roots::RPM_TOOLS.iter().all(|t| require(t)) || !require("dnf") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = rpm_root(dir.path());
    let root = dir.path().join("root");
    // Debian's rpm keeps its database in ~/.rpmdb; the root's is in /var/lib/rpm, and
    // dnf reads rpm's macros from $HOME too.
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join(".rpmmacros"), "%_dbpath /var/lib/rpm\n").unwrap();
    let dnf = |args: &[&str]| {
        let out = Command::new("dnf")
            .arg(format!("--installroot={}", root.display()))
            .args(["--releasever=9", "-q"])
            .args(args)
            .env("LC_ALL", "C")
            .env("HOME", &home)
            .output()
            .expect("dnf runs");
        // check-update exits 100 when there are updates.
        assert!(
            matches!(out.status.code(), Some(0 | 100)),
            "dnf {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    dnf(&["makecache"]);
    let caches = std::fs::read_dir(root.join("var/cache/dnf"))
        .unwrap()
        .map(Result::unwrap)
        .filter(|e| {
            e.file_type().unwrap().is_dir()
                && e.file_name()
                    .to_string_lossy()
                    .starts_with("rampart-updates-")
        })
        .count();
    assert_eq!(caches, 2, "dnf made its own cache beside the copied one");

    let inv = collect(&root);
    let got = updates_of(&inv);
    assert_eq!(got, expected.updates);

    // name.arch  evr  repo
    let mut dnf_updates: Vec<(String, String, String, String)> = dnf(&["-C", "check-update"])
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [nevra, evr, repo] = f[..] else {
                return None;
            };
            let (name, arch) = nevra.rsplit_once('.')?;
            Some((name.into(), arch.into(), evr.into(), repo.into()))
        })
        .collect();
    dnf_updates.sort();
    let ours: Vec<_> = got
        .iter()
        .map(|u| {
            (
                u.name.clone(),
                u.arch.clone(),
                u.candidate.clone(),
                u.origin.clone(),
            )
        })
        .collect();
    assert_eq!(ours, dnf_updates, "agent vs dnf check-update");

    // ADVISORY  Severity/Sec.  name-[epoch:]version-release.arch
    let secure: BTreeSet<String> = dnf(&["-C", "updateinfo", "list", "--security"])
        .lines()
        .filter_map(|l| {
            let nevra = l.split_whitespace().nth(2)?;
            let (nvr, _arch) = nevra.rsplit_once('.')?;
            let mut parts = nvr.rsplitn(3, '-');
            let (_release, _version) = (parts.next()?, parts.next()?);
            Some(parts.next()?.to_owned())
        })
        .collect();
    // dnf lists an advisory for any fix above what is installed, even one no repository
    // offers yet (`late`'s 9.0-1); the agent calls an update security only when the
    // update brings the fix, so `late` is the one expected difference.
    let ours_secure: BTreeSet<String> = got
        .iter()
        .filter(|u| u.security)
        .map(|u| u.name.clone())
        .chain(["late".to_owned()])
        .collect();
    assert_eq!(
        ours_secure, secure,
        "agent vs dnf updateinfo list --security"
    );
}

/// apk's index archives made with the real tar and gzip (see `roots.rs`).
#[test]
fn alpine_root_updates() {
    if !ALPINE_TOOLS.iter().all(|t| require(t)) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = alpine_root(dir.path());
    let inv = collect(&dir.path().join("root"));
    check_facts(&inv, &expected);
    // apk cannot tell security updates apart: the agent does not guess.
    assert!(
        inv.state
            .updates
            .iter()
            .all(|u| u.category == UpdateCategory::Unknown),
        "{:?}",
        inv.state.updates
    );
}

/// A root whose package manager never refreshed says so instead of "up to date".
#[test]
fn missing_metadata_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("lib/apk/db")).unwrap();
    std::fs::write(
        root.join("lib/apk/db/installed"),
        "P:musl\nV:1.2.5-r0\nA:x86_64\n\n",
    )
    .unwrap();
    let inv = collect(root);
    assert!(inv.state.updates.is_empty());
    assert!(
        inv.state
            .problems
            .iter()
            .any(|p| p.collector == "updates" && p.message.contains("apk update")),
        "{:?}",
        inv.state.problems
    );
}
