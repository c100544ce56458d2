use proptest::prelude::*;

use super::*;

#[test]
fn repo_files() {
    let text = "# comment\n[main]\ngpgcheck=1\nenabled=0\n\n[baseos]\nname=BaseOS $releasever\n\
                Enabled = 1\npriority= 10\n; other comment\n[crb]\nenabled=False\n[epel]\n\
                enabled=maybe\npriority=high\n[broken\n";
    let (repos, bad) = parse_repo_file(text);
    let r = |id: &str, enabled, priority| RepoConfig {
        id: id.into(),
        enabled,
        priority,
    };
    assert_eq!(
        repos,
        [
            r("baseos", true, 10),
            r("crb", false, 99),
            r("epel", true, 99)
        ]
    );
    assert_eq!(bad.len(), 3, "{bad:?}");
}

#[test]
fn cache_dir_names() {
    assert_eq!(repo_id_of_cache_dir("baseos-3f6b1d3b4e2c7a10"), "baseos");
    assert_eq!(
        repo_id_of_cache_dir("epel-next-0123456789abcdef"),
        "epel-next"
    );
    assert_eq!(repo_id_of_cache_dir("updates"), "updates");
    assert_eq!(repo_id_of_cache_dir("my-repo"), "my-repo");
    assert_eq!(
        repo_id_of_cache_dir("-0123456789abcdef"),
        "-0123456789abcdef"
    );
}

fn installed(name: &str, arch: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        arch: Some(arch.into()),
        source_name: None,
        source_version: None,
        format: PackageFormat::Rpm,
    }
}

fn offer(name: &str, arch: &str, evr: &str) -> RpmPackage {
    RpmPackage {
        name: name.into(),
        arch: arch.into(),
        evr: evr.into(),
    }
}

fn repo(id: &str, priority: i32, packages: Vec<RpmPackage>, advisories: Vec<Advisory>) -> RepoData {
    RepoData {
        id: id.into(),
        priority,
        packages,
        advisories,
    }
}

fn security(id: &str, packages: Vec<RpmPackage>) -> Advisory {
    Advisory {
        id: id.into(),
        kind: "security".into(),
        severity: Some("Moderate".into()),
        packages,
    }
}

/// (name, arch, installed, candidate, origin, security?)
type Row<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str, bool);

fn check(installed: &[Package], repos: &[RepoData], expected: &[Row<'_>]) {
    let refs: Vec<&Package> = installed.iter().collect();
    let got = compute(&refs, repos, Some("x86_64"));
    let got: Vec<Row<'_>> = got
        .iter()
        .map(|u| {
            (
                u.name.as_str(),
                u.arch.as_deref().unwrap_or(""),
                u.installed.as_str(),
                u.candidate.as_str(),
                u.origin.as_str(),
                u.category == UpdateCategory::Security,
            )
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn candidates() {
    let host = [
        installed("bash", "x86_64", "5.2.26-3.fc40"),
        installed("glibc", "x86_64", "2.39-5.fc40"),
        installed("glibc", "i686", "2.39-5.fc40"),
        installed("tool", "x86_64", "1:1.0-1"),
        installed("data", "noarch", "1.0-1"),
        installed("moved", "x86_64", "1.0-1"),
        installed("kernel", "x86_64", "6.8.5-301.fc40"),
        installed("kernel", "x86_64", "6.8.9-300.fc40"),
        installed("tilde", "x86_64", "1.0-1"),
        installed("same", "x86_64", "0:3.0-1"),
    ];
    let fedora = repo(
        "fedora",
        99,
        vec![
            offer("bash", "x86_64", "5.2.26-3.fc40"),
            offer("glibc", "x86_64", "2.39-5.fc40"),
            // A higher version without an epoch loses to the installed epoch 1.
            offer("tool", "x86_64", "9.0-1"),
            offer("data", "x86_64", "1.1-1"),
            offer("moved", "noarch", "1.1-1"),
            offer("kernel", "x86_64", "6.8.5-301.fc40"),
            // `~` sorts before the release it precedes.
            offer("tilde", "x86_64", "1.0~rc1-1"),
            offer("same", "x86_64", "3.0-1"),
        ],
        vec![],
    );
    let updates = repo(
        "updates",
        99,
        vec![
            offer("bash", "x86_64", "5.2.32-1.fc40"),
            offer("bash", "aarch64", "5.3-1.fc40"),
            offer("glibc", "x86_64", "2.39-17.fc40"),
            offer("glibc", "i686", "2.39-17.fc40"),
            offer("tool", "x86_64", "1:1.1-1"),
            offer("kernel", "x86_64", "6.10.3-200.fc40"),
        ],
        vec![],
    );
    check(
        &host,
        &[fedora, updates],
        &[
            (
                "bash",
                "x86_64",
                "5.2.26-3.fc40",
                "5.2.32-1.fc40",
                "updates",
                false,
            ),
            ("data", "x86_64", "1.0-1", "1.1-1", "fedora", false),
            (
                "glibc",
                "i686",
                "2.39-5.fc40",
                "2.39-17.fc40",
                "updates",
                false,
            ),
            (
                "glibc",
                "x86_64",
                "2.39-5.fc40",
                "2.39-17.fc40",
                "updates",
                false,
            ),
            (
                "kernel",
                "x86_64",
                "6.8.9-300.fc40",
                "6.10.3-200.fc40",
                "updates",
                false,
            ),
            ("moved", "noarch", "1.0-1", "1.1-1", "fedora", false),
            ("tool", "x86_64", "1:1.0-1", "1:1.1-1", "updates", false),
        ],
    );
}

#[test]
fn priorities_and_duplicates() {
    let host = [
        installed("a", "x86_64", "1-1"),
        installed("b", "x86_64", "1-1"),
    ];
    // The same package in two repositories of equal priority: the first id names it.
    check(
        &host,
        &[
            repo("zeta", 99, vec![offer("a", "x86_64", "2-1")], vec![]),
            repo("alpha", 99, vec![offer("a", "x86_64", "2-1")], vec![]),
        ],
        &[("a", "x86_64", "1-1", "2-1", "alpha", false)],
    );
    // A repository of better priority hides a higher version elsewhere.
    check(
        &host,
        &[
            repo("pinned", 10, vec![offer("a", "x86_64", "1.5-1")], vec![]),
            repo(
                "other",
                99,
                vec![offer("a", "x86_64", "3-1"), offer("b", "x86_64", "2-1")],
                vec![],
            ),
        ],
        &[
            ("a", "x86_64", "1-1", "1.5-1", "pinned", false),
            ("b", "x86_64", "1-1", "2-1", "other", false),
        ],
    );
}

#[test]
fn security_class_needs_a_fix_between_installed_and_candidate() {
    let host = [
        installed("a", "x86_64", "1.0-1"),
        installed("b", "x86_64", "1.0-1"),
        installed("c", "x86_64", "1.0-1"),
        installed("d", "x86_64", "1.0-1"),
        installed("e", "x86_64", "1.0-1"),
        installed("f", "x86_64", "1.0-1"),
    ];
    let packages = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|n| offer(n, "x86_64", "1.2-1"))
        .collect();
    let advisories = vec![
        // Fixed at an intermediate version: the upgrade includes the fix.
        security("A", vec![offer("a", "x86_64", "1.1-1")]),
        // Fixed exactly at the candidate.
        security("B", vec![offer("b", "x86_64", "1.2-1")]),
        // Fixed only after the candidate: not this update.
        security("C", vec![offer("c", "x86_64", "1.3-1")]),
        // Already fixed in what is installed.
        security("D", vec![offer("d", "x86_64", "1.0-1")]),
        // Another arch.
        security("E", vec![offer("e", "i686", "1.2-1")]),
        // Not a security advisory.
        Advisory {
            kind: "bugfix".into(),
            ..security("F", vec![offer("f", "x86_64", "1.2-1")])
        },
    ];
    check(
        &host,
        &[
            repo("r", 99, packages, vec![]),
            repo("u", 99, vec![], advisories),
        ],
        &[
            ("a", "x86_64", "1.0-1", "1.2-1", "r", true),
            ("b", "x86_64", "1.0-1", "1.2-1", "r", true),
            ("c", "x86_64", "1.0-1", "1.2-1", "r", false),
            ("d", "x86_64", "1.0-1", "1.2-1", "r", false),
            ("e", "x86_64", "1.0-1", "1.2-1", "r", false),
            ("f", "x86_64", "1.0-1", "1.2-1", "r", false),
        ],
    );
}

proptest! {
    #[test]
    fn repo_file_parser_never_panics(text in "\\PC{0,300}") {
        let _ = parse_repo_file(&text);
        let _ = repo_id_of_cache_dir(&text);
    }
}
