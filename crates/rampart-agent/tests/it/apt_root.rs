//! apt's lists in a fake root: compression, Release matching, default priorities and pins
//! in one small, readable scenario (the host test covers scale against real apt).

use std::fs;
use std::io::Write;
use std::path::Path;

use rampart_proto::{PendingUpdate, UpdateCategory};

fn write(root: &Path, path: &str, bytes: &[u8]) {
    let p = root.join(path);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, bytes).unwrap();
}

fn status(name: &str, version: &str, arch: &str) -> String {
    format!(
        "Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: {arch}\n\n"
    )
}

#[test]
fn apt_policy_over_a_fake_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let installed = [
        status("dpkg", "1.21", "amd64"),
        status("a", "1.0", "amd64"),
        status("b", "1.0", "all"),
        status("c", "2.0", "amd64"),
        status("d", "1.0", "amd64"),
    ]
    .concat();
    write(root, "var/lib/dpkg/status", installed.as_bytes());
    let lists = "var/lib/apt/lists/deb.example.org_debian";
    write(
        root,
        &format!("{lists}_dists_bookworm_InRelease"),
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nOrigin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\n\n-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n",
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(
        b"Package: a\nVersion: 1.1\nArchitecture: amd64\n\nPackage: b\nVersion: 1.1\nArchitecture: all\n\n\
          Package: c\nVersion: 1.0\nArchitecture: amd64\n\nPackage: d\nVersion: 1.0\nArchitecture: amd64\n",
    )
    .unwrap();
    write(
        root,
        &format!("{lists}_dists_bookworm_main_binary-amd64_Packages.gz"),
        &gz.finish().unwrap(),
    );
    let sec = "var/lib/apt/lists/security.example.org_debian-security";
    write(
        root,
        &format!("{sec}_dists_bookworm-security_Release"),
        b"Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\nCodename: bookworm-security\n",
    );
    write(
        root,
        &format!("{sec}_dists_bookworm-security_main_binary-amd64_Packages"),
        b"Package: a\nVersion: 1.1\nArchitecture: amd64\n",
    );
    let bpo = "var/lib/apt/lists/deb.example.org_debian_dists_bookworm-backports";
    write(
        root,
        &format!("{bpo}_Release"),
        b"Origin: Debian Backports\nLabel: Debian Backports\nSuite: stable-backports\nCodename: bookworm-backports\nNotAutomatic: yes\nButAutomaticUpgrades: yes\n",
    );
    write(
        root,
        &format!("{bpo}_main_binary-amd64_Packages"),
        b"Package: b\nVersion: 9.0\nArchitecture: all\n\nPackage: d\nVersion: 2.0\nArchitecture: amd64\n",
    );
    write(
        root,
        &format!("{bpo}_contrib_binary-amd64_Packages.xz"),
        b"not read",
    );
    write(
        root,
        "etc/apt/preferences.d/downgrade-c",
        b"Package: c\nPin: version 1.0\nPin-Priority: 1001\n",
    );
    write(
        root,
        "etc/apt/preferences.d/ignored.disabled",
        b"Package: *\nPin: release a=stable-backports\nPin-Priority: 990\n",
    );

    let inv = rampart_agent::collect::collect(root, 0).unwrap();
    let update =
        |name: &str, arch: &str, installed: &str, candidate: &str, origin: &str, security: bool| {
            PendingUpdate {
                name: name.into(),
                arch: Some(arch.into()),
                installed: installed.into(),
                candidate: candidate.into(),
                origin: origin.into(),
                category: if security {
                    UpdateCategory::Security
                } else {
                    UpdateCategory::Other
                },
            }
        };
    assert_eq!(
        inv.state.updates,
        [
            // Offered by the security suite too: security, named by it.
            update(
                "a",
                "amd64",
                "1.0",
                "1.1",
                "Debian-Security:bookworm-security",
                true
            ),
            // Backports (100) never beat stable (500); the `.disabled` pin file is skipped.
            update("b", "all", "1.0", "1.1", "Debian:bookworm", false),
            // A pin of 1000 or more downgrades.
            update("c", "amd64", "2.0", "1.0", "Debian:bookworm", false),
        ]
    );
    let problems: Vec<&str> = inv
        .state
        .problems
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("Packages.xz") && p.contains("not read")),
        "{problems:?}"
    );
}
