//! Integration tests for the feed readers: real OSV and secdb samples from the shared test
//! data, zips and directory trees built here, and downloads from a real HTTP server on
//! 127.0.0.1.

mod fuzz;
mod support;

use std::collections::HashMap;
use std::fs;
use std::sync::Mutex;

use rampart_core::advisory::{Advisory, Event, RangeKind};
use rampart_core::distro::{Distro, Release};
use rampart_core::severity::SeverityLevel;
use rampart_feeds::{Error, FeedLoad, Format, LoadOptions, Progress};

use support::{Route, Server, debian_record, load, testdata, zip_bytes};

fn only(load: &FeedLoad) -> &Advisory {
    assert_eq!(load.advisories.len(), 1, "{:#?}", load.advisories);
    &load.advisories[0]
}

fn find<'a>(load: &'a FeedLoad, id: &str) -> &'a Advisory {
    load.advisories
        .iter()
        .find(|a| a.id == id)
        .unwrap_or_else(|| panic!("{id} not loaded"))
}

fn fixed_of(a: &Advisory, release: &str, package: &str) -> Option<String> {
    let entry = a
        .affected
        .iter()
        .find(|e| e.ecosystem == release && e.package == package)?;
    entry
        .ranges
        .iter()
        .flat_map(|r| &r.events)
        .find_map(|e| match e {
            Event::Fixed(v) => Some(v.clone()),
            _ => None,
        })
}

#[test]
fn debian_dsa() {
    let load = load(testdata("osv/DSA-3029-1.json"));
    assert_eq!(load.format, Format::OsvJson);
    assert!(load.problems.is_empty(), "{:?}", load.problems);
    let a = only(&load);
    assert_eq!(a.id, "DSA-3029-1");
    assert_eq!(a.aliases, ["CVE-2014-3616"]);
    assert_eq!(a.summary.as_deref(), Some("nginx - security update"));
    assert_eq!(a.published.as_deref(), Some("2014-09-20T00:00:00Z"));
    assert_eq!(a.affected.len(), 1);
    let e = &a.affected[0];
    assert_eq!(
        e.release,
        Some(Release {
            distro: Distro::Debian,
            version: "7".into(),
            stream: None
        })
    );
    assert_eq!(
        (e.ecosystem.as_str(), e.package.as_str()),
        ("Debian:7", "nginx")
    );
    assert_eq!(e.ranges[0].kind, RangeKind::Ecosystem);
    assert_eq!(
        e.ranges[0].events,
        [
            Event::Introduced("0".into()),
            Event::Fixed("1.2.1-2.2+wheezy3".into())
        ]
    );
    assert_eq!(a.severity.level, SeverityLevel::Unknown);
    assert_eq!(load.stats.records_read, 1);
    assert_eq!(load.stats.advisories, 1);
}

#[test]
fn ubuntu_cve_record_on_a_pro_stream() {
    let load = load(testdata("osv/UBUNTU-CVE-2025-38094.json"));
    assert!(load.problems.is_empty(), "{:?}", load.problems);
    let a = only(&load);
    assert_eq!(a.aliases, ["CVE-2025-38094"], "upstream ids are aliases");
    assert!(
        a.summary
            .as_deref()
            .unwrap()
            .starts_with("In the Linux kernel, the following vulnerability")
    );
    assert_eq!(a.severity.level, SeverityLevel::Medium, "Ubuntu priority");
    assert_eq!(a.severity.cvss, None);
    let e = &a.affected[0];
    assert_eq!(
        e.release,
        Some(Release {
            distro: Distro::Ubuntu,
            version: "14.04".into(),
            stream: Some("pro".into())
        })
    );
    assert_eq!(e.package, "linux");
    assert_eq!(e.versions.len(), 180);
    assert_eq!(e.versions.first().map(String::as_str), Some("3.11.0-12.19"));
    assert_eq!(
        e.versions.last().map(String::as_str),
        Some("3.13.0-206.257")
    );
    assert_eq!(e.ranges[0].events, [Event::Introduced("0".into())]);
}

#[test]
fn ubuntu_usn_with_no_affected_entries_keeps_its_cves() {
    let load = load(testdata("osv/USN-6332-1.json"));
    let a = only(&load);
    assert!(a.affected.is_empty());
    assert_eq!(a.aliases.len(), 68);
    assert!(a.aliases.iter().any(|x| x == "CVE-2023-20593"));
    assert!(a.aliases.iter().any(|x| x == "UBUNTU-CVE-2023-4015"));
    assert_eq!(a.summary, None);
    assert_eq!(load.stats.records_outside_distros, 0);
}

/// (file, packages, fix entries, distinct ids)
const SECDB: [(&str, usize, u64, u64); 2] = [
    ("v3.10-main.yaml", 166, 1182, 1111),
    ("v3.11-main.yaml", 175, 1204, 1124),
];

#[test]
fn alpine_secdb_files() {
    for (file, packages, entries, ids) in SECDB {
        let path = testdata(&format!("alpine-secdb/{file}"));
        let text = fs::read_to_string(&path).unwrap();
        let parsed = rampart_feeds::secdb::parse(&text, file).unwrap();
        assert_eq!(parsed.packages, packages, "{file}");
        assert_eq!(parsed.entries.len() as u64, entries, "{file}");

        let load = load(&path);
        assert_eq!(load.format, Format::Secdb);
        assert_eq!(load.stats.records_read, entries, "{file}");
        assert_eq!(load.stats.advisories, ids, "{file}");
        let branch = if file.starts_with("v3.10") {
            "Alpine:v3.10"
        } else {
            "Alpine:v3.11"
        };

        let a = find(&load, "ALPINE-CVE-2019-10206");
        assert_eq!(a.aliases, ["CVE-2019-10206"]);
        assert_eq!(fixed_of(a, branch, "ansible").as_deref(), Some("2.8.4-r0"));
        assert_eq!(
            a.affected[0].release.as_ref().unwrap().version,
            branch.trim_start_matches("Alpine:v")
        );

        let xen = find(&load, "ALPINE-CVE-2016-10013");
        assert_eq!(xen.aliases, ["CVE-2016-10013", "XSA-204"]);
        assert_eq!(fixed_of(xen, branch, "xen").as_deref(), Some("4.7.1-r4"));

        // `CVE-????-?????  XSA-295`: the placeholder is reported, XSA-295 stands alone.
        assert_eq!(
            fixed_of(find(&load, "ALPINE-XSA-295"), branch, "xen").as_deref(),
            Some("4.12.1-r0")
        );
        assert!(load.problems.iter().any(|p| {
            p.reason
                .contains("\"CVE-????-?????\" is not an advisory id")
        }));
        // A comment after the id is not part of it.
        assert_eq!(
            find(&load, "ALPINE-CVE-2018-16301").aliases,
            ["CVE-2018-16301"]
        );
        // curl's old entries have bare upstream versions, kept as written.
        assert_eq!(
            fixed_of(find(&load, "ALPINE-CVE-2017-2629"), branch, "curl").as_deref(),
            Some("7.53.0")
        );
        assert!(
            load.problems
                .iter()
                .all(|p| p.location == path.display().to_string())
        );
    }
}

#[test]
fn secdb_directory_groups_each_id_across_branches() {
    let load = load(testdata("alpine-secdb"));
    assert_eq!(load.format, Format::Directory);
    assert_eq!(load.stats.records_read, 1182 + 1204);
    assert_eq!(load.stats.advisories, 1202);
    let a = find(&load, "ALPINE-CVE-2019-10206");
    let branches: Vec<&str> = a.affected.iter().map(|e| e.ecosystem.as_str()).collect();
    assert_eq!(branches, ["Alpine:v3.10", "Alpine:v3.11"]);
    // v3.11 lists python2's fix as `2.7.16-33`: kept, with a problem.
    let a = find(&load, "ALPINE-CVE-2019-16056");
    assert_eq!(
        fixed_of(a, "Alpine:v3.11", "python2").as_deref(),
        Some("2.7.16-33")
    );
    assert_eq!(
        fixed_of(a, "Alpine:v3.10", "python3").as_deref(),
        Some("3.7.5-r0")
    );
    assert!(
        load.problems
            .iter()
            .any(|p| p.location.ends_with("v3.11-main.yaml") && p.reason.contains("2.7.16-33"))
    );
}

#[test]
fn zip_with_good_and_bad_entries() {
    let mut entries: Vec<(String, Vec<u8>)> = (0..300)
        .map(|i| {
            (
                format!("DSA-{i}.json"),
                debian_record(&format!("DSA-{i}"), &format!("pkg{i}"), "1.0-1").into_bytes(),
            )
        })
        .collect();
    entries.insert(
        100,
        (
            "DSA-TRUNCATED.json".into(),
            br#"{"id":"DSA-T","affected":[{"package":"#.to_vec(),
        ),
    );
    entries.insert(
        200,
        (
            "DSA-WRONG.json".into(),
            br#"{"id":"DSA-W","affected":{"package":"nginx"}}"#.to_vec(),
        ),
    );
    entries.push(("README.txt".into(), b"not a record".to_vec()));
    entries.push((
        "nested/extra.json".into(),
        debian_record("DSA-N", "n", "2.0-1").into_bytes(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.zip");
    fs::write(&path, zip_bytes(&entries)).unwrap();

    for threads in [1, 2, 5] {
        let opts = LoadOptions {
            threads,
            ..LoadOptions::default()
        };
        let load = rampart_feeds::load(path.to_str().unwrap(), &opts).unwrap();
        assert_eq!(load.format, Format::Zip);
        assert_eq!(load.advisories.len(), 301);
        let ids: Vec<&str> = load.advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids[..3], ["DSA-0", "DSA-1", "DSA-2"], "entry order is kept");
        assert_eq!(ids[300], "DSA-N");
        assert_eq!(load.stats.records_read, 303);
        assert_eq!(load.stats.records_skipped, 2);
        let problems: Vec<(&str, &str)> = load
            .problems
            .iter()
            .map(|p| (p.location.as_str(), p.reason.as_str()))
            .collect();
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert_eq!(
            problems[0].0,
            format!("{}!DSA-TRUNCATED.json", path.display())
        );
        assert!(problems[0].1.contains("EOF"), "{}", problems[0].1);
        assert_eq!(problems[1].0, format!("{}!DSA-WRONG.json", path.display()));
        assert!(
            problems[1].1.contains("invalid type: map"),
            "{}",
            problems[1].1
        );
    }
}

#[test]
fn stored_entries_load_and_corrupt_ones_are_problems() {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, id) in [("good.json", "STORED-GOOD"), ("bad.json", "STORED-BAD")] {
        zip.start_file(name, stored).unwrap();
        std::io::Write::write_all(&mut zip, debian_record(id, "p", "1-1").as_bytes()).unwrap();
    }
    let mut bytes = zip.finish().unwrap().into_inner();
    let at = bytes.windows(10).position(|w| w == b"STORED-BAD").unwrap();
    bytes[at] = b'Z';
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stored.zip");
    fs::write(&path, bytes).unwrap();

    let load = load(&path);
    assert_eq!(only(&load).id, "STORED-GOOD");
    assert_eq!(load.problems.len(), 1);
    assert_eq!(
        load.problems[0].location,
        format!("{}!bad.json", path.display())
    );
    assert!(
        load.problems[0].reason.contains("CRC"),
        "{}",
        load.problems[0].reason
    );
}

#[test]
fn oversized_records_are_refused_with_a_problem() {
    let big = debian_record("DSA-BIG", &"x".repeat(5000), "1.0-1").into_bytes();
    let entries = vec![
        ("big.json".to_owned(), big.clone()),
        (
            "ok.json".to_owned(),
            debian_record("DSA-OK", "a", "1-1").into_bytes(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("all.zip");
    fs::write(&zip, zip_bytes(&entries)).unwrap();
    let single = dir.path().join("big.json");
    fs::write(&single, &big).unwrap();
    let array = dir.path().join("array.json");
    fs::write(
        &array,
        format!(
            "[{}, {}]",
            String::from_utf8(big).unwrap(),
            debian_record("DSA-OK", "a", "1-1")
        ),
    )
    .unwrap();

    let opts = LoadOptions {
        max_record_bytes: 4096,
        ..LoadOptions::default()
    };
    for (path, location) in [
        (&zip, format!("{}!big.json", zip.display())),
        (&single, single.display().to_string()),
        (&array, format!("{}#0", array.display())),
    ] {
        let load = rampart_feeds::load(path.to_str().unwrap(), &opts).unwrap();
        assert_eq!(load.problems.len(), 1, "{:?}", load.problems);
        assert_eq!(load.problems[0].location, location);
        assert!(
            load.problems[0]
                .reason
                .contains("over the per-record limit of 4096 bytes")
        );
        assert_eq!(load.stats.records_skipped, 1);
    }
}

#[test]
fn directory_tree() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::create_dir_all(root.join("debian/2024")).unwrap();
    fs::create_dir_all(root.join("alpine")).unwrap();
    fs::create_dir_all(root.join(".git")).unwrap();
    fs::write(
        root.join("debian/2024/DSA-1.json"),
        debian_record("DSA-1", "a", "1-1"),
    )
    .unwrap();
    fs::write(
        root.join("debian/2024/DSA-2.JSON"),
        debian_record("DSA-2", "b", "1-1"),
    )
    .unwrap();
    fs::write(
        root.join("debian/array.json"),
        format!(
            "[{},{}]",
            debian_record("DSA-3", "c", "1-1"),
            debian_record("DSA-4", "d", "1-1")
        ),
    )
    .unwrap();
    fs::write(root.join("debian/broken.json"), "{ nope").unwrap();
    fs::write(root.join("debian/README.md"), "# not a feed").unwrap();
    fs::write(
        root.join(".git/config.json"),
        debian_record("HIDDEN", "h", "1-1"),
    )
    .unwrap();
    fs::copy(
        testdata("alpine-secdb/v3.10-main.yaml"),
        root.join("alpine/v3.10-main.yaml"),
    )
    .unwrap();
    fs::copy(
        testdata("osv/DSA-3029-1.json"),
        root.join("DSA-3029-1.json"),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("debian"), root.join("alpine/loop")).unwrap();

    let load = load(root);
    assert_eq!(load.format, Format::Directory);
    let osv: Vec<&str> = load
        .advisories
        .iter()
        .map(|a| a.id.as_str())
        .filter(|id| !id.starts_with("ALPINE-"))
        .collect();
    assert_eq!(
        osv,
        ["DSA-3029-1", "DSA-1", "DSA-2", "DSA-3", "DSA-4"],
        "sorted by path, hidden and symlinked folders skipped"
    );
    assert_eq!(load.advisories.len(), 5 + 1111);
    assert_eq!(load.stats.records_skipped, 1);
    let broken = load
        .problems
        .iter()
        .find(|p| p.location.ends_with("broken.json"))
        .expect("broken.json reported");
    assert!(
        broken.reason.contains("not a valid OSV record"),
        "{}",
        broken.reason
    );
}

#[test]
fn cvss_vectors_score_through_the_loader() {
    let cases = [
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            9.8,
            SeverityLevel::Critical,
        ),
        (
            "CVSS_V3",
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
            8.8,
            SeverityLevel::High,
        ),
        (
            "CVSS_V3",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            6.1,
            SeverityLevel::Medium,
        ),
        (
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
            9.3,
            SeverityLevel::Critical,
        ),
        (
            "CVSS_V4",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
            6.9,
            SeverityLevel::Medium,
        ),
        (
            "CVSS_V2",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
            7.5,
            SeverityLevel::High,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (kind, vector, score, level) in cases {
        let path = dir.path().join("r.json");
        fs::write(
            &path,
            format!(r#"{{"id":"X","severity":[{{"type":"{kind}","score":"{vector}"}}]}}"#),
        )
        .unwrap();
        let load = load(&path);
        let s = &only(&load).severity;
        assert_eq!(
            (s.cvss, s.level, s.vector.as_deref()),
            (Some(score), level, Some(vector)),
            "{vector}"
        );
    }
}

#[test]
fn withdrawn_git_and_bad_versions_are_counted() {
    let records = [
        r#"{"id":"W-1","withdrawn":"2024-02-01T00:00:00Z","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1-1"}]}]}]}"#,
        r#"{"id":"G-1","affected":[{"package":{"ecosystem":"Alpine:v3.19","name":"b"},"ranges":[{"type":"GIT","repo":"r","events":[{"introduced":"0"}]},{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2-r0"}]}]},{"ranges":[{"type":"GIT","repo":"r","events":[{"fixed":"abc"}]}]}]}"#,
        r#"{"id":"V-1","affected":[{"package":{"ecosystem":"Red Hat:enterprise_linux:9::appstream","name":"c"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"0:1.0-1.el9"}]}]},{"package":{"ecosystem":"Debian:12","name":"c"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0 bad"}]}]}]}"#,
        r#"{"id":"PYSEC-1","affected":[{"package":{"ecosystem":"PyPI","name":"django"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"4.2"}]}]}]}"#,
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.json");
    fs::write(&path, format!("[{}]", records.join(","))).unwrap();
    let load = load(&path);
    let ids: Vec<&str> = load.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        ["W-1", "G-1", "V-1"],
        "the PyPI-only record is left out"
    );
    assert_eq!(
        find(&load, "W-1").withdrawn.as_deref(),
        Some("2024-02-01T00:00:00Z")
    );
    assert_eq!(find(&load, "G-1").affected[0].ranges.len(), 1);
    let v = find(&load, "V-1");
    assert_eq!(v.affected.len(), 1, "only the bad Debian entry is dropped");
    assert_eq!(
        v.affected[0].release.as_ref().unwrap().distro,
        Distro::RedHat
    );
    let s = &load.stats;
    assert_eq!(
        (
            s.records_read,
            s.advisories,
            s.withdrawn,
            s.git_ranges_ignored,
            s.affected_outside_distros,
            s.records_outside_distros,
            s.affected_dropped,
            s.records_skipped
        ),
        (4, 3, 1, 2, 2, 1, 1, 0)
    );
    assert_eq!(load.problems.len(), 1);
    assert_eq!(load.problems[0].location, format!("{}#2", path.display()));
    assert!(
        load.problems[0]
            .reason
            .contains("V-1: affected[1] dropped: Debian:12 c"),
        "{}",
        load.problems[0].reason
    );
}

#[test]
fn unreadable_sources_are_errors_that_say_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let check = |source: &str, matches: fn(&Error) -> bool, says: &str| {
        let err = rampart_feeds::load(source, &LoadOptions::default()).expect_err(source);
        assert!(matches(&err), "{source}: {err:?}");
        assert!(err.to_string().contains(says), "{source}: {err}");
    };
    let missing = dir.path().join("nope.zip");
    check(
        missing.to_str().unwrap(),
        |e| matches!(e, Error::NotFound { .. }),
        "no such file or directory (give an OSV",
    );

    let html = dir.path().join("page.html");
    fs::write(&html, "<!DOCTYPE html><html>rate limited</html>").unwrap();
    check(
        html.to_str().unwrap(),
        |e| matches!(e, Error::UnknownFormat { .. }),
        "it looks like HTML or XML (40 bytes)",
    );

    let empty = dir.path().join("empty.json");
    fs::write(&empty, "  \n").unwrap();
    check(
        empty.to_str().unwrap(),
        |e| matches!(e, Error::UnknownFormat { .. }),
        "it is empty",
    );

    let zip = dir.path().join("cut.zip");
    let mut bytes = zip_bytes(&[("a.json".into(), debian_record("A", "a", "1-1").into_bytes())]);
    bytes.truncate(bytes.len() - 30);
    fs::write(&zip, bytes).unwrap();
    check(
        zip.to_str().unwrap(),
        |e| matches!(e, Error::Zip { .. }),
        "not a readable zip archive",
    );

    let nothing = dir.path().join("nothing");
    fs::create_dir(&nothing).unwrap();
    fs::write(nothing.join("notes.txt"), "x").unwrap();
    check(
        nothing.to_str().unwrap(),
        |e| matches!(e, Error::UnknownFormat { .. }),
        "no .json, .yaml or .yml files",
    );

    check(
        "http://example.org/all.zip",
        |e| matches!(e, Error::InsecureUrl { .. }),
        "use https://",
    );
    check(
        "https://",
        |e| matches!(e, Error::InvalidUrl { .. }),
        "not a usable URL",
    );
}

#[test]
fn progress_reports_reach_the_total() {
    let entries: Vec<(String, Vec<u8>)> = (0..250)
        .map(|i| {
            (
                format!("R-{i}.json"),
                debian_record(&format!("R-{i}"), "p", "1-1").into_bytes(),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.zip");
    fs::write(&path, zip_bytes(&entries)).unwrap();
    let seen = Mutex::new(Vec::new());
    let record = |p: Progress| seen.lock().unwrap().push(p);
    let opts = LoadOptions {
        progress: Some(&record),
        threads: 2,
        ..LoadOptions::default()
    };
    rampart_feeds::load(path.to_str().unwrap(), &opts).unwrap();
    let seen = seen.into_inner().unwrap();
    // The folder entry counts as a unit too.
    assert_eq!(
        seen.last(),
        Some(&Progress::Parsing {
            done: 251,
            total: 251
        })
    );
}

/// Starts a real HTTP server on 127.0.0.1 (a std TcpListener thread) because the
/// conditional-download logic lives in the exchange of headers with a server.
#[test]
fn url_source_downloads_once_then_revalidates_from_cache() {
    let entries: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| {
            (
                format!("DSA-{i}.json"),
                debian_record(&format!("DSA-{i}"), "p", "1-1").into_bytes(),
            )
        })
        .collect();
    let secdb = fs::read(testdata("alpine-secdb/v3.10-main.yaml")).unwrap();
    let mut routes = HashMap::new();
    routes.insert(
        "/Debian/all.zip".to_owned(),
        Route {
            body: zip_bytes(&entries),
            etag: Some("\"v1\"".into()),
            status: 200,
        },
    );
    routes.insert(
        "/one.json".to_owned(),
        Route {
            body: debian_record("DSA-1", "a", "1-1").into_bytes(),
            etag: None,
            status: 200,
        },
    );
    routes.insert(
        "/v3.10/main.yaml".to_owned(),
        Route {
            body: secdb,
            etag: None,
            status: 200,
        },
    );
    routes.insert(
        "/html".to_owned(),
        Route {
            body: b"<html>captive portal</html>".to_vec(),
            etag: None,
            status: 200,
        },
    );
    routes.insert(
        "/broken".to_owned(),
        Route {
            body: Vec::new(),
            etag: None,
            status: 503,
        },
    );
    let server = Server::start(routes);
    let cache = tempfile::tempdir().unwrap();
    let downloads = Mutex::new(0u32);
    let on_progress = |p: Progress| {
        if matches!(p, Progress::Downloading { received: 0, .. }) {
            *downloads.lock().unwrap() += 1;
        }
    };
    let opts = LoadOptions {
        cache_dir: Some(cache.path().to_owned()),
        progress: Some(&on_progress),
        ..LoadOptions::default()
    };
    let url = server.url("/Debian/all.zip");

    // The server's policy refuses this loopback address before a byte is sent.
    let guarded = LoadOptions {
        egress: rampart_core::egress::EgressPolicy::public_only(),
        ..opts.clone()
    };
    let err = rampart_feeds::load(&url, &guarded).unwrap_err();
    assert!(matches!(err, Error::Refused { .. }), "{err:?}");
    assert!(err.to_string().contains("resolves to 127.0.0.1"), "{err}");
    assert_eq!(*downloads.lock().unwrap(), 0);

    let first = rampart_feeds::load(&url, &opts).unwrap();
    assert_eq!(first.format, Format::Zip);
    assert_eq!(first.advisories.len(), 40);
    assert!(!first.stats.from_cache);
    assert!(first.problems.is_empty(), "{:?}", first.problems);

    let second = rampart_feeds::load(&url, &opts).unwrap();
    assert!(
        second.stats.from_cache,
        "second load revalidated, not downloaded"
    );
    assert_eq!(second.advisories, first.advisories);
    assert_eq!(
        *downloads.lock().unwrap(),
        1,
        "the body was transferred once"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.path == "/Debian/all.zip"));
    assert_eq!(requests[0].headers.get("if-none-match"), None);
    assert_eq!(
        requests[1].headers.get("if-none-match").map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(
        requests[1]
            .headers
            .get("if-modified-since")
            .map(String::as_str),
        Some("Mon, 01 Jan 2024 00:00:00 GMT")
    );

    // JSON and secdb bodies are sniffed; no cache directory means a download to memory.
    let no_cache = LoadOptions::default();
    let json = rampart_feeds::load(&server.url("/one.json"), &no_cache).unwrap();
    assert_eq!((json.format, json.advisories.len()), (Format::OsvJson, 1));
    let yaml = rampart_feeds::load(&server.url("/v3.10/main.yaml"), &no_cache).unwrap();
    assert_eq!((yaml.format, yaml.stats.advisories), (Format::Secdb, 1111));

    let err = rampart_feeds::load(&server.url("/missing.zip"), &opts).unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("not found: check the URL"),
        "{err}"
    );
    let err = rampart_feeds::load(&server.url("/html"), &opts).unwrap_err();
    assert!(
        err.to_string().contains("it looks like HTML or XML"),
        "{err}"
    );
    assert!(
        !err.to_string().contains("captive portal"),
        "never quoted: {err}"
    );
    let err = rampart_feeds::load(&server.url("/broken"), &opts).unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 503, .. }),
        "no cached copy to fall back on: {err:?}"
    );

    let small = LoadOptions {
        cache_dir: Some(cache.path().join("other")),
        max_download_bytes: 100,
        ..LoadOptions::default()
    };
    let err = rampart_feeds::load(&url, &small).unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 100, .. }), "{err:?}");

    // With the server gone, the cached copy stands in and a problem says why.
    drop(server);
    let offline = rampart_feeds::load(&url, &opts).unwrap();
    assert!(offline.stats.from_cache);
    assert_eq!(offline.advisories.len(), 40);
    assert_eq!(offline.problems.len(), 1, "{:?}", offline.problems);
    assert_eq!(offline.problems[0].location, url);
    assert!(
        offline.problems[0]
            .reason
            .contains("using the copy cached at"),
        "{}",
        offline.problems[0].reason
    );
}

/// The message of a file in no feed format describes it and never quotes it: it
/// reaches API clients, and the first bytes of a key or `/etc/shadow` must not.
#[test]
fn errors_never_echo_file_contents() {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in [
        (
            "shadow",
            &b"root:$6$SECRETSALT$hash:19000:0:99999:7:::\n"[..],
        ),
        ("master.key", &b"\x8f\x01SECRET\xffkeybytes"[..]),
        ("environ", &b"RAMPART_MASTER_KEY=SECRET\0PATH=/bin"[..]),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, content).unwrap();
        let err = rampart_feeds::load(path.to_str().unwrap(), &LoadOptions::default())
            .expect_err(name)
            .to_string();
        assert!(
            !err.contains("SECRET") && !err.contains("root:"),
            "{name}: {err}"
        );
    }
}

/// Devices and pipes are refused without being opened for a blocking read: `/dev/zero`
/// would fill memory, a FIFO would hang the import forever.
#[test]
fn only_regular_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("feed.json");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    for source in [fifo.to_str().unwrap(), "/dev/zero"] {
        let err = rampart_feeds::load(source, &LoadOptions::default()).expect_err(source);
        assert!(matches!(err, Error::NotRegular { .. }), "{source}: {err:?}");
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
    // In a directory, the FIFO is a problem and the good file still loads.
    fs::write(
        dir.path().join("good.json"),
        support::debian_record("DSA-1-1", "curl", "7.88.1-10"),
    )
    .unwrap();
    let load = rampart_feeds::load(dir.path().to_str().unwrap(), &LoadOptions::default()).unwrap();
    assert_eq!(load.advisories.len(), 1);
    assert!(
        load.problems
            .iter()
            .any(|p| p.location.ends_with("feed.json") && p.reason.contains("not a regular file")),
        "{:?}",
        load.problems
    );
}

/// A file over the size limit is refused, whatever size it claims.
#[test]
fn files_over_the_size_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.json");
    fs::write(
        &path,
        format!("[{}]", support::debian_record("DSA-1-1", "curl", "1")),
    )
    .unwrap();
    let small = LoadOptions {
        max_file_bytes: 16,
        ..LoadOptions::default()
    };
    let err = rampart_feeds::load(path.to_str().unwrap(), &small).unwrap_err();
    assert!(matches!(err, Error::TooLarge { limit: 16, .. }), "{err:?}");
}
