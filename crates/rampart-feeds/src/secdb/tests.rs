//! Unit tests for the secdb reader: id lines, odd shapes, grouping across branches.

use super::*;

fn parse_ok(yaml: &str) -> SecdbFile {
    parse(yaml, "t.yaml").unwrap_or_else(|p| panic!("{p}"))
}

fn check_split(text: &str, ids: &[&str], odd: &[&str]) {
    let (got_ids, got_odd) = split_ids(text);
    assert_eq!(
        (got_ids.as_slice(), got_odd.as_slice()),
        (ids, odd),
        "{text:?}"
    );
}

#[test]
fn id_lines() {
    check_split("CVE-2019-10206", &["CVE-2019-10206"], &[]);
    check_split(
        "CVE-2016-10013 XSA-204",
        &["CVE-2016-10013", "XSA-204"],
        &[],
    );
    check_split(
        "CVE-2017-12122 TALOS-2017-0488",
        &["CVE-2017-12122", "TALOS-2017-0488"],
        &[],
    );
    check_split(
        "CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)",
        &["CVE-2018-10103"],
        &[],
    );
    check_split("CVE-2018-14879 (tcpdump -V)", &["CVE-2018-14879"], &[]);
    check_split("CVE-????-?????  XSA-295", &["XSA-295"], &["CVE-????-?????"]);
    check_split("CVE-2017-17434-1", &["CVE-2017-17434-1"], &[]);
    check_split("  ", &[], &[]);
    check_split("(only a comment", &[], &[]);
    check_split("fixed in upstream", &[], &["fixed", "in", "upstream"]);
    check_split("cve-2019-1 CVE-", &[], &["cve-2019-1", "CVE-"]);
    check_split("CVE-2020-1)x(y) z", &[], &["CVE-2020-1)x", "z"]);
}

#[test]
fn a_small_file() {
    let f = parse_ok(
        "---\ndistroversion: v3.19\nreponame: main\npackages:\n  - pkg:\n      name: curl\n      secfixes:\n        8.5.0-r0:\n          - CVE-2023-46218 XSA-1\n          - CVE-2023-46219\n        0:\n          - CVE-2020-1\n        1.10:\n          - CVE-2020-2\n  - pkg:\n      name: nofix\n",
    );
    assert_eq!(f.release.version, "3.19");
    assert_eq!(f.ecosystem, "Alpine:v3.19");
    assert_eq!(f.repo.as_deref(), Some("main"));
    assert_eq!(f.packages, 2);
    let got: Vec<(&str, &str, &str)> = f
        .entries
        .iter()
        .map(|e| (e.id.as_str(), e.package.as_str(), e.fixed.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("CVE-2023-46218", "curl", "8.5.0-r0"),
            ("CVE-2023-46219", "curl", "8.5.0-r0"),
            ("CVE-2020-1", "curl", "0"),
            ("CVE-2020-2", "curl", "1.10"),
        ],
        "versions keep their written text"
    );
    assert_eq!(f.entries[0].aliases, ["XSA-1"]);
    assert!(f.problems.is_empty(), "{:?}", f.problems);
}

#[test]
fn odd_shapes_cost_only_their_package() {
    let f = parse_ok(
        "distroversion: v3.18\npackages:\n  - pkg:\n      name: a\n      secfixes: [1, 2]\n  - just a string\n  - pkg:\n      secfixes: {}\n  - pkg:\n      name: b\n      secfixes:\n        1.0-r0: CVE-2020-5\n        1.1-r0: {x: y}\n        1.2-r0:\n          - [nested]\n          - \n          - CVE-2020-6\n          - 17\n  - pkg:\n      name: c\n      secfixes: ~\n",
    );
    assert_eq!(f.packages, 5);
    let ids: Vec<&str> = f.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2020-5", "CVE-2020-6"]);
    let reasons: Vec<&str> = f.problems.iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(reasons.len(), 7, "{reasons:#?}");
    assert!(reasons[0].contains("a: `secfixes` is not a mapping"));
    assert!(reasons[1].contains("packages[1] has no `pkg`"));
    assert!(reasons[2].contains("packages[2] has no usable `name`"));
    assert!(reasons[3].contains("b 1.1-r0: ids are not a list"));
    assert!(reasons[4].contains("list or mapping"));
    assert!(reasons[5].contains("empty id"));
    assert!(reasons[6].contains("\"17\" is not an advisory id"));
}

#[test]
fn whole_file_failures() {
    for (yaml, expect) in [
        ("packages: []\n", "no `distroversion`"),
        (
            "distroversion: edge\npackages: []\n",
            "not an Alpine branch",
        ),
        ("distroversion: v3.19\n", "no `packages` list"),
        (
            "distroversion: v3.19\npackages: {a: b}\n",
            "no `packages` list",
        ),
        ("- a\n- b\n", "not a valid Alpine secdb"),
        ("distroversion: [v3.19\n", "not a valid Alpine secdb"),
        ("", "no `distroversion`"),
    ] {
        let err = parse(yaml, "t.yaml").expect_err(yaml);
        assert!(err.reason.contains(expect), "{yaml:?}: {}", err.reason);
        assert_eq!(err.location, "t.yaml");
    }
}

#[test]
fn grouping_across_files_keeps_the_higher_fix_and_skips_never_affected() {
    let a = parse_ok(
        "distroversion: v3.10\npackages:\n  - pkg:\n      name: xen\n      secfixes:\n        4.1-r0:\n          - CVE-1 XSA-1\n        4.2-r0:\n          - CVE-1\n        0:\n          - CVE-2\n",
    );
    let b = parse_ok(
        "distroversion: v3.11\npackages:\n  - pkg:\n      name: xen\n      secfixes:\n        4.3-r0:\n          - CVE-1 XSA-1\n          - CVE-2\n  - pkg:\n      name: other\n      secfixes:\n        1-r0:\n          - CVE-1\n",
    );
    let adv = advisories(&[a, b]);
    let ids: Vec<&str> = adv.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["ALPINE-CVE-1", "ALPINE-CVE-2"]);
    assert_eq!(adv[0].aliases, ["CVE-1", "XSA-1"]);
    let entries: Vec<(String, &str, &Event)> = adv[0]
        .affected
        .iter()
        .map(|a| {
            (
                a.release.as_ref().unwrap().version.clone(),
                a.package.as_str(),
                a.ranges[0].events.last().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("3.10".to_owned(), "xen", &Event::Fixed("4.2-r0".into())),
            ("3.11".to_owned(), "xen", &Event::Fixed("4.3-r0".into())),
            ("3.11".to_owned(), "other", &Event::Fixed("1-r0".into())),
        ]
    );
    assert_eq!(
        adv[1].affected.len(),
        1,
        "v3.10 was never affected by CVE-2"
    );
    assert_eq!(adv[1].affected[0].ecosystem, "Alpine:v3.11");
}

#[test]
fn versions_apk_would_not_write_are_kept_with_a_problem() {
    let f = parse_ok(
        "distroversion: v3.11\npackages:\n  - pkg:\n      name: python2\n      secfixes:\n        2.7.16-33:\n          - CVE-2019-16056\n        \"\":\n          - CVE-2019-1\n",
    );
    let got: Vec<(&str, &str)> = f
        .entries
        .iter()
        .map(|e| (e.id.as_str(), e.fixed.as_str()))
        .collect();
    assert_eq!(got, [("CVE-2019-16056", "2.7.16-33")]);
    assert_eq!(f.dropped, 1);
    assert_eq!(f.problems.len(), 2, "{:?}", f.problems);
    assert!(
        f.problems[0]
            .reason
            .contains("\"2.7.16-33\" is not well-formed")
    );
    assert!(
        f.problems[1].reason.contains("refused") && f.problems[1].reason.contains("1 ids skipped")
    );
}
