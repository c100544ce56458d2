//! Whole roots built by hand: apk and distroless images, symlinks that must stay inside
//! the root, broken input, and roots with nothing to read.

use std::os::unix::fs::symlink;

use rampart_core::distro::Distro;
use rampart_core::package::PackageFormat;
use rampart_inventory::{Error, read_root};

use crate::support::{fixture, write};

#[test]
fn alpine_root() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "lib/apk/db/installed",
        fixture("apk/installed"),
    );
    write(
        root.path(),
        "etc/os-release",
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n",
    );
    let inventory = read_root(root.path()).unwrap();
    assert_eq!(inventory.sources, ["lib/apk/db/installed"]);
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    let release = inventory.os.release().unwrap();
    assert_eq!(
        (release.distro, release.version.as_str()),
        (Distro::Alpine, "3.19")
    );
    let names: Vec<_> = inventory.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "alpine-baselayout-data",
            "busybox",
            "busybox-binsh",
            "ca-certificates-bundle",
            "libcrypto3",
            "libssl3",
            "musl",
            "zlib"
        ]
    );
    let ssl = inventory
        .packages
        .iter()
        .find(|p| p.name == "libssl3")
        .unwrap();
    assert_eq!((ssl.source(), ssl.format), ("openssl", PackageFormat::Apk));
}

/// Distroless images: one control-file stanza per package in `status.d/`, no Status
/// field, with `.md5sums` lists beside them.
#[test]
fn distroless_root() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "usr/lib/os-release",
        "ID=debian\nVERSION_ID=\"12\"\n",
    );
    write(root.path(), "etc/os-release", "");
    std::fs::remove_file(root.path().join("etc/os-release")).unwrap();
    symlink("../usr/lib/os-release", root.path().join("etc/os-release")).unwrap();
    write(
        root.path(),
        "var/lib/dpkg/status.d/libssl3",
        "Package: libssl3\nSource: openssl\nVersion: 3.0.15-1~deb12u1\nArchitecture: amd64\nMaintainer: x\nDescription: d\n more\n",
    );
    write(
        root.path(),
        "var/lib/dpkg/status.d/libssl3.md5sums",
        "d41d8cd98f00b204e9800998ecf8427e  usr/lib/x\n",
    );
    write(
        root.path(),
        "var/lib/dpkg/status.d/tzdata",
        "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
    );
    let inventory = read_root(root.path()).unwrap();
    assert!(inventory.problems.is_empty(), "{:?}", inventory.problems);
    assert_eq!(
        inventory.sources,
        [
            "var/lib/dpkg/status.d/libssl3",
            "var/lib/dpkg/status.d/tzdata"
        ]
    );
    assert_eq!(inventory.os.release().unwrap().to_string(), "Debian:12");
    let got: Vec<_> = inventory
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.source()))
        .collect();
    assert_eq!(got, [("libssl3", "openssl"), ("tzdata", "tzdata")]);
}

/// Absolute symlinks in an image point at the image's own files. Followed on the host
/// they would read this machine's files instead; here the host has no `/opt/image-dpkg`
/// and a different `/usr/lib/os-release`, so only resolution inside the root passes.
#[test]
fn absolute_symlinks_stay_inside_the_root() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "usr/lib/os-release",
        "ID=alpine\nVERSION_ID=3.20.0\n",
    );
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    symlink("/usr/lib/os-release", root.path().join("etc/os-release")).unwrap();
    write(
        root.path(),
        "opt/image-dpkg/status",
        "Package: inside\nStatus: install ok installed\nVersion: 1\n",
    );
    std::fs::create_dir_all(root.path().join("var/lib")).unwrap();
    symlink("/opt/image-dpkg", root.path().join("var/lib/dpkg")).unwrap();
    // A link out of the root to a real host file finds nothing.
    assert!(std::path::Path::new("/etc/passwd").is_file());
    std::fs::create_dir_all(root.path().join("lib/apk/db")).unwrap();
    symlink("/etc/passwd", root.path().join("lib/apk/db/installed")).unwrap();

    let inventory = read_root(root.path()).unwrap();
    assert_eq!(inventory.os.id, "alpine");
    assert_eq!(inventory.sources, ["opt/image-dpkg/status"]);
    let names: Vec<_> = inventory.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["inside"]);
}

#[test]
fn broken_input_becomes_located_problems() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "var/lib/dpkg/status",
        "Package: good\nStatus: install ok installed\nVersion: 1\n\nPackage: bad\nStatus: install ok installed\n\n\u{0}\u{1}junk\n",
    );
    write(
        root.path(),
        "lib/apk/db/installed",
        "P:fine\nV:1-r0\n\n\u{ff}garbage\nmore garbage\n",
    );
    let inventory = read_root(root.path()).unwrap();
    let names: Vec<_> = inventory
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.format))
        .collect();
    assert_eq!(
        names,
        [("fine", PackageFormat::Apk), ("good", PackageFormat::Deb)]
    );
    let locations: Vec<_> = inventory
        .problems
        .iter()
        .map(|p| p.location.as_str())
        .collect();
    assert_eq!(
        locations,
        [
            "etc/os-release or usr/lib/os-release",
            "var/lib/dpkg/status line 5",
            "var/lib/dpkg/status line 8",
            "lib/apk/db/installed line 4"
        ]
    );
    assert!(
        inventory.problems[1].reason.contains("no Version"),
        "{}",
        inventory.problems[1]
    );
}

#[test]
fn roots_with_nothing_to_read_are_errors() {
    let empty = tempfile::tempdir().unwrap();
    write(empty.path(), "etc/os-release", "ID=debian\n");
    let err = read_root(empty.path()).unwrap_err();
    assert!(matches!(err, Error::NoPackageDatabase { .. }));
    assert!(err.to_string().contains("var/lib/dpkg/status"), "{err}");

    let missing = empty.path().join("missing");
    assert!(matches!(read_root(&missing), Err(Error::Root { .. })));

    // RHEL 8: a Berkeley DB rpm database only.
    let rhel8 = tempfile::tempdir().unwrap();
    write(rhel8.path(), "var/lib/rpm/Packages", [0u8; 4096]);
    let err = read_root(rhel8.path()).unwrap_err();
    assert!(matches!(err, Error::Unreadable { .. }));
    assert!(
        err.to_string()
            .contains("var/lib/rpm/Packages (Berkeley DB rpm database, not supported)"),
        "{err}"
    );

    // …next to a database that can be read, the same is a problem.
    write(
        rhel8.path(),
        "var/lib/dpkg/status",
        "Package: a\nStatus: install ok installed\nVersion: 1\n",
    );
    let inventory = read_root(rhel8.path()).unwrap();
    assert!(
        inventory
            .problems
            .iter()
            .any(|p| p.location.contains("Berkeley DB")),
        "{:?}",
        inventory.problems
    );
}

#[test]
fn unreadable_files_are_errors() {
    // A symlink loop where the status file should be: reading it fails, and silently
    // skipping the database would hide its packages.
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("var/lib/dpkg")).unwrap();
    symlink(
        "/var/lib/dpkg/status",
        root.path().join("var/lib/dpkg/status"),
    )
    .unwrap();
    let err = read_root(root.path()).unwrap_err();
    assert!(
        matches!(&err, Error::Read { path, .. } if path == "var/lib/dpkg/status"),
        "{err}"
    );
}
