//! This machine's own apt state: the agent's offline computation against
//! `apt list --upgradable`, which runs apt's real policy over the same lists.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use rampart_proto::UpdateCategory;

use crate::support::{require, run};

/// (name, candidate, arch, installed) → security?
type Upgrades = BTreeMap<(String, String, String, String), bool>;

/// Runs the real `apt list --upgradable` and compares names, versions, architectures and
/// the security class (a candidate listed from any `-security` suite) with the agent's.
#[test]
fn updates_equal_apt_list_upgradable() {
    if !require("apt") {
        return;
    }
    if !Path::new("/var/lib/apt/lists").is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but apt has no lists"
        );
        eprintln!("skipping: no /var/lib/apt/lists (run apt-get update)");
        return;
    }
    let out = run(Command::new("apt")
        .args(["list", "--upgradable"])
        .env("LC_ALL", "C"));
    let mut expected = Upgrades::new();
    for line in out.lines().filter(|l| l.contains("[upgradable from: ")) {
        // name/suite[,suite…] version arch [upgradable from: installed]
        let (name, rest) = line.split_once('/').expect(line);
        let f: Vec<&str> = rest.split(' ').collect();
        let installed = f.last().expect(line).trim_end_matches(']');
        let security = f[0].split(',').any(|s| s.ends_with("-security"));
        expected.insert(
            (name.into(), f[1].into(), f[2].into(), installed.into()),
            security,
        );
    }
    let inv = rampart_agent::collect::collect(Path::new("/"), 0).expect("root / exists");
    let got: Upgrades = inv
        .state
        .updates
        .iter()
        .map(|u| {
            (
                (
                    u.name.clone(),
                    u.candidate.clone(),
                    u.arch.clone().unwrap_or_default(),
                    u.installed.clone(),
                ),
                u.category == UpdateCategory::Security,
            )
        })
        .collect();
    let only_apt: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let only_agent: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        only_apt.is_empty() && only_agent.is_empty(),
        "only in apt: {only_apt:#?}\nonly in the agent: {only_agent:#?}"
    );
    let class: Vec<_> = expected.iter().filter(|(k, s)| got[*k] != **s).collect();
    assert!(class.is_empty(), "security class differs: {class:#?}");
    let problems: Vec<_> = inv
        .state
        .problems
        .iter()
        .filter(|p| p.collector == "updates")
        .collect();
    assert!(problems.is_empty(), "{problems:#?}");
    eprintln!("{} upgrades agree with apt", expected.len());
}
