//! This machine's own dpkg database, read by `read_root("/")` and by dpkg-query.

use std::process::Command;

use rampart_core::distro::OsRelease;
use rampart_core::package::PackageFormat;

use crate::support::{Row, require, rows, run};

/// Runs the real dpkg-query over the real `/var/lib/dpkg/status`: the oracle for what
/// is installed, including the source fields.
#[test]
fn host_status_matches_dpkg_query() {
    if !require("dpkg-query") {
        return;
    }
    let format = "${db:Status-Abbrev} ${Package} ${Architecture} ${Version} ${source:Package} ${source:Version}\n";
    let out = run(Command::new("dpkg-query").args(["-W", "-f", format]));
    let mut expected: Vec<Row> = out
        .lines()
        // The abbreviation is three characters: want, status, error flag (space if none).
        .filter(|line| line.starts_with("ii ") || line.starts_with("hi "))
        .map(|line| {
            let f: Vec<&str> = line[3..].split_whitespace().collect();
            let [name, arch, version, source, source_version] = f[..] else {
                panic!("{line:?}")
            };
            (
                name.to_owned(),
                arch.to_owned(),
                version.to_owned(),
                if source == name {
                    String::new()
                } else {
                    source.to_owned()
                },
                if source_version == version {
                    String::new()
                } else {
                    source_version.to_owned()
                },
            )
        })
        .collect();
    expected.sort();
    assert!(
        expected.len() > 50,
        "a Debian machine has more than {} packages",
        expected.len()
    );

    let inventory = rampart_inventory::read_root("/".as_ref()).expect("reading this machine");
    assert!(
        inventory.sources.iter().any(|s| s == "var/lib/dpkg/status"),
        "{:?}",
        inventory.sources
    );
    let dpkg_problems: Vec<_> = inventory
        .problems
        .iter()
        .filter(|p| p.location.starts_with("var/lib/dpkg"))
        .collect();
    assert!(dpkg_problems.is_empty(), "{dpkg_problems:?}");
    let got = rows(&inventory.packages, PackageFormat::Deb);
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);

    // Sorted by (name, arch, version) as documented.
    let keys: Vec<_> = inventory
        .packages
        .iter()
        .map(|p| (&p.name, &p.arch, &p.version))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] <= w[1]));

    let os = OsRelease::parse(&std::fs::read_to_string("/etc/os-release").unwrap());
    assert_eq!(inventory.os, os);
}
