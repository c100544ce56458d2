//! `rampart scan` of this machine's real root against a feed generated from its real
//! source packages, checked against a brute-force reference: OSV's evaluation rules
//! written out plainly here, with every version comparison made by the real
//! `dpkg --compare-versions` and the installed set read by the real `dpkg-query`.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::support::{rampart, require_tool, shared_testdata, stderr, stdout};

/// One installed binary package as dpkg-query reports it.
#[derive(Clone, Debug)]
struct Installed {
    name: String,
    version: String,
    source: String,
    source_version: String,
}

fn installed_packages() -> Vec<Installed> {
    let out = Command::new("dpkg-query")
        .args([
            "-W",
            "-f",
            "${db:Status-Abbrev}\t${Package}\t${Version}\t${source:Package}\t${source:Version}\n",
        ])
        .output()
        .expect("dpkg-query runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let status = f[0].as_bytes();
            // Installed (second letter `i`) and wanted (`i`nstall or `h`old).
            let installed =
                status.len() >= 2 && matches!(status[0], b'i' | b'h') && status[1] == b'i';
            installed.then(|| Installed {
                name: f[1].into(),
                version: f[2].into(),
                source: f[3].into(),
                source_version: f[4].into(),
            })
        })
        .collect()
}

fn os_release_field(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release").ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix(&format!("{key}="))
            .map(|v| v.trim_matches('"').to_owned())
    })
}

/// dpkg as the oracle: every comparison the reference needs, made once, in parallel.
struct Dpkg {
    cache: Mutex<HashMap<(String, String), Ordering>>,
}

impl Dpkg {
    fn relation(a: &str, op: &str, b: &str) -> bool {
        let s = Command::new("dpkg")
            .args(["--compare-versions", a, op, b])
            .status()
            .expect("dpkg runs");
        match s.code() {
            Some(0) => true,
            Some(1) => false,
            other => panic!("dpkg --compare-versions {a} {op} {b} failed: {other:?}"),
        }
    }

    fn prefetch(&self, pairs: BTreeSet<(String, String)>) {
        let pairs: Vec<(String, String)> = pairs.into_iter().collect();
        let chunks: Vec<&[(String, String)]> =
            pairs.chunks(pairs.len().div_ceil(4).max(1)).collect();
        std::thread::scope(|s| {
            for chunk in chunks {
                s.spawn(move || {
                    for (a, b) in chunk {
                        let o = if Self::relation(a, "lt", b) {
                            Ordering::Less
                        } else if Self::relation(a, "eq", b) {
                            Ordering::Equal
                        } else {
                            Ordering::Greater
                        };
                        self.cache.lock().unwrap().insert((a.clone(), b.clone()), o);
                    }
                });
            }
        });
    }

    fn cmp(&self, a: &str, b: &str) -> Ordering {
        if a == b {
            return Ordering::Equal;
        }
        let cache = self.cache.lock().unwrap();
        if let Some(o) = cache.get(&(a.to_owned(), b.to_owned())) {
            return *o;
        }
        if let Some(o) = cache.get(&(b.to_owned(), a.to_owned())) {
            return o.reverse();
        }
        panic!("comparison {a} vs {b} was not prefetched");
    }
}

/// A generated OSV record, kept in the plain form the reference evaluates.
struct Record {
    id: String,
    ecosystem: String,
    name: String,
    /// (event kind, version) in the order written to the file.
    events: Vec<(&'static str, String)>,
    versions: Vec<String>,
    withdrawn: bool,
}

impl Record {
    fn new(id: String, ecosystem: &str, name: &str, events: &[(&'static str, &str)]) -> Self {
        Record {
            id,
            ecosystem: ecosystem.into(),
            name: name.into(),
            events: events.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            versions: vec![],
            withdrawn: false,
        }
    }

    fn to_json(&self) -> Value {
        let events: Vec<Value> = self.events.iter().map(|(k, v)| json!({ *k: v })).collect();
        let mut rec = json!({
            "schema_version": "1.6.0",
            "id": self.id,
            "modified": "2026-11-01T00:00:00Z",
            "aliases": [format!("CVE-2099-{}", self.id.len())],
            "affected": [{
                "package": {"ecosystem": self.ecosystem, "name": self.name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                "versions": self.versions,
            }],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        });
        if self.withdrawn {
            rec["withdrawn"] = json!("2026-11-02T00:00:00Z");
        }
        rec
    }

    /// OSV's evaluation, as the schema's pseudo-code states it, for one installed version:
    /// whether it is affected and the fix a reader should install.
    fn evaluate(&self, dpkg: &Dpkg, v: &str) -> Option<Option<String>> {
        let mut sorted = self.events.clone();
        sorted.sort_by(|a, b| {
            match (
                a.1 == "0" && a.0 == "introduced",
                b.1 == "0" && b.0 == "introduced",
            ) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => dpkg.cmp(&a.1, &b.1),
            }
        });
        let mut affected = false;
        for (kind, ev) in &sorted {
            match *kind {
                "introduced" if ev == "0" || dpkg.cmp(v, ev) != Ordering::Less => affected = true,
                "fixed" if dpkg.cmp(v, ev) != Ordering::Less => affected = false,
                "last_affected" if dpkg.cmp(v, ev) == Ordering::Greater => affected = false,
                _ => {}
            }
        }
        if affected {
            // The fix is the first event above v that closes the range, if it is a fix.
            let close = sorted.iter().find(|(k, ev)| match *k {
                "fixed" => dpkg.cmp(v, ev) == Ordering::Less,
                "last_affected" => dpkg.cmp(v, ev) != Ordering::Greater,
                _ => false,
            });
            return Some(
                close
                    .filter(|(k, _)| *k == "fixed")
                    .map(|(_, ev)| ev.clone()),
            );
        }
        if self
            .versions
            .iter()
            .any(|x| dpkg.cmp(x, v) == Ordering::Equal)
        {
            let next_fix = sorted
                .iter()
                .filter(|(k, ev)| *k == "fixed" && dpkg.cmp(v, ev) == Ordering::Less)
                .map(|(_, ev)| ev.clone())
                .next();
            return Some(next_fix);
        }
        None
    }
}

/// Versions around `v` for the generated ranges.
fn above(v: &str, n: u32) -> String {
    format!("{v}+rt{n}")
}
fn below(v: &str, n: u32) -> String {
    format!("{v}~rt{n}")
}
fn bump_epoch(v: &str) -> String {
    match v.split_once(':') {
        Some((e, rest)) => format!("{}:{rest}", e.parse::<u32>().unwrap() + 1),
        None => format!("1:{v}"),
    }
}

fn generate(
    sources: &[(String, String)],
    binaries_not_sources: &[String],
    eco: &str,
    other_eco: &str,
) -> Vec<Record> {
    let mut recs = Vec::new();
    for (i, (s, v)) in sources.iter().enumerate() {
        let id = |tag: &str| format!("RT-{i:03}-{tag}");
        recs.push(Record::new(
            id("fix-above"),
            eco,
            s,
            &[("introduced", "0"), ("fixed", &above(v, 1))],
        ));
        recs.push(Record::new(
            id("fix-equal"),
            eco,
            s,
            &[("introduced", "0"), ("fixed", v)],
        ));
        recs.push(Record::new(
            id("fix-tilde"),
            eco,
            s,
            &[("introduced", "0"), ("fixed", &below(v, 1))],
        ));
        recs.push(Record::new(
            id("epoch"),
            eco,
            s,
            &[("introduced", "0"), ("fixed", &bump_epoch(v))],
        ));
        recs.push(Record::new(
            id("intro-above"),
            eco,
            s,
            &[("introduced", &above(v, 1)), ("fixed", &above(v, 2))],
        ));
        recs.push(Record::new(
            id("intro-equal"),
            eco,
            s,
            &[("introduced", v), ("fixed", &above(v, 2))],
        ));
        recs.push(Record::new(
            id("last-equal"),
            eco,
            s,
            &[("introduced", "0"), ("last_affected", v)],
        ));
        recs.push(Record::new(
            id("last-below"),
            eco,
            s,
            &[("introduced", "0"), ("last_affected", &below(v, 1))],
        ));
        recs.push(Record::new(
            id("open"),
            eco,
            s,
            &[("introduced", &below(v, 3))],
        ));
        // Two intervals, written out of order; v sits in the second.
        recs.push(Record::new(
            id("multi"),
            eco,
            s,
            &[
                ("fixed", &above(v, 1)),
                ("introduced", &below(v, 2)),
                ("fixed", &below(v, 1)),
                ("introduced", "0"),
            ],
        ));
        let mut w = Record::new(
            id("withdrawn"),
            eco,
            s,
            &[("introduced", "0"), ("fixed", &above(v, 1))],
        );
        w.withdrawn = true;
        recs.push(w);
        recs.push(Record::new(
            id("other-release"),
            other_eco,
            s,
            &[("introduced", "0"), ("fixed", &above(v, 1))],
        ));
        let mut l = Record::new(
            id("listed"),
            eco,
            s,
            &[("introduced", "0"), ("fixed", &below(v, 5))],
        );
        l.versions = vec![below(v, 9), v.clone()];
        recs.push(l);
    }
    for (i, b) in binaries_not_sources.iter().enumerate() {
        // Debian advisories name source packages: a record naming only a binary package
        // must not match that binary.
        recs.push(Record::new(
            format!("RT-BIN-{i:03}"),
            eco,
            b,
            &[("introduced", "0"), ("fixed", "99999:1")],
        ));
    }
    recs
}

#[test]
fn scan_of_this_machine_agrees_with_a_dpkg_brute_force() {
    if !require_tool(
        "dpkg-query",
        "the reference reads the installed set with it",
    ) || !require_tool("dpkg", "the reference compares versions with it")
    {
        return;
    }
    if os_release_field("ID").as_deref() != Some("debian") {
        assert!(std::env::var_os("CI").is_none(), "CI runs on Debian");
        eprintln!("skipping: this test scans a Debian host");
        return;
    }
    let version_id = os_release_field("VERSION_ID").expect("Debian os-release has VERSION_ID");
    let eco = format!("Debian:{version_id}");
    let other_eco = format!(
        "Debian:{}",
        version_id.parse::<u32>().expect("numeric VERSION_ID") - 1
    );

    let installed = installed_packages();
    assert!(
        installed.len() > 50,
        "a Debian system has more than 50 packages"
    );
    let mut by_source: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    for p in &installed {
        by_source
            .entry(&p.source)
            .or_default()
            .insert(&p.source_version);
    }
    // Every source whose binaries differ in name or version, every epoch, and a spread
    // of the rest.
    let mut sources: BTreeSet<(String, String)> = BTreeSet::new();
    let mut names: Vec<&&str> = by_source.keys().collect();
    names.sort();
    for (i, s) in names.iter().enumerate() {
        let interesting = installed
            .iter()
            .any(|p| p.source == ***s && (p.name != p.source || p.version != p.source_version))
            || by_source[**s].iter().any(|v| v.contains(':'));
        if interesting && sources.len() < 80 || i % 6 == 0 {
            let v = by_source[**s].iter().next().unwrap();
            sources.insert((s.to_string(), v.to_string()));
        }
    }
    let sources: Vec<(String, String)> = sources.into_iter().collect();
    let binary_only: Vec<String> = installed
        .iter()
        .filter(|p| p.name != p.source && !by_source.contains_key(p.name.as_str()))
        .map(|p| p.name.clone())
        .take(20)
        .collect();
    let records = generate(&sources, &binary_only, &eco, &other_eco);

    let feed = tempfile::tempdir().unwrap();
    for (i, r) in records.iter().enumerate() {
        let dir = feed.path().join(format!("d{}", i % 7));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(format!("{}.json", r.id)),
            serde_json::to_vec_pretty(&r.to_json()).unwrap(),
        )
        .unwrap();
    }

    // The reference.
    let relevant: Vec<&Record> = records
        .iter()
        .filter(|r| r.ecosystem == eco && !r.withdrawn)
        .collect();
    let by_name: HashMap<&str, Vec<&Record>> = relevant.iter().fold(HashMap::new(), |mut m, r| {
        m.entry(r.name.as_str()).or_default().push(*r);
        m
    });
    let mut pairs = BTreeSet::new();
    for p in &installed {
        for r in by_name.get(p.source.as_str()).into_iter().flatten() {
            for (_, e) in &r.events {
                pairs.insert((p.source_version.clone(), e.clone()));
                for (_, f) in &r.events {
                    pairs.insert((e.clone(), f.clone()));
                }
            }
            for x in &r.versions {
                pairs.insert((x.clone(), p.source_version.clone()));
            }
        }
    }
    pairs.retain(|(a, b)| a != b && a != "0" && b != "0");
    let dpkg = Dpkg {
        cache: Mutex::new(HashMap::new()),
    };
    dpkg.prefetch(pairs);
    let mut expected: BTreeSet<(String, String, String, Option<String>)> = BTreeSet::new();
    for p in &installed {
        for r in by_name.get(p.source.as_str()).into_iter().flatten() {
            if let Some(fixed) = r.evaluate(&dpkg, &p.source_version) {
                expected.insert((r.id.clone(), p.name.clone(), p.version.clone(), fixed));
            }
        }
    }

    let out = rampart(
        &[
            "scan",
            "--root",
            "/",
            "--feed",
            feed.path().to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    assert!(out.status.success(), "scan failed: {}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("scan prints JSON");
    assert_eq!(report["os"]["id"], "debian");
    assert_eq!(report["os"]["version_id"], version_id.as_str());
    assert_eq!(report["os"]["ecosystem"], eco.as_str());
    assert_eq!(
        report["packages"].as_u64().unwrap() as usize,
        installed.len(),
        "package count equals dpkg-query's"
    );
    let findings = report["findings"].as_array().expect("findings array");
    let got: BTreeSet<(String, String, String, Option<String>)> = findings
        .iter()
        .map(|f| {
            (
                f["advisory"].as_str().unwrap().to_owned(),
                f["package"].as_str().unwrap().to_owned(),
                f["installed"].as_str().unwrap().to_owned(),
                f["fixed"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(got.len(), findings.len(), "no duplicate findings");
    let missing: Vec<_> = expected.difference(&got).take(10).collect();
    let extra: Vec<_> = got.difference(&expected).take(10).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );

    // The reference found each kind of case, so the comparison above proves something.
    let tags: HashSet<&str> = expected
        .iter()
        .map(|e| e.0.rsplit('-').next().unwrap())
        .collect();
    for tag in ["above", "epoch", "equal", "multi", "listed", "open"] {
        assert!(tags.contains(tag), "reference found a {tag} case");
    }
    for tag in ["withdrawn", "release", "tilde", "below"] {
        assert!(!tags.contains(tag), "{tag} records never match");
    }
    assert!(
        expected
            .iter()
            .any(|e| sources.iter().all(|(s, _)| *s != e.1)),
        "some findings came through a source name"
    );

    // Contract: sorted by advisory then package, exact keys, severity from CVSS.
    let order: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["advisory"].as_str().unwrap().into(),
                f["package"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    let keys: BTreeSet<&str> = findings[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "advisory",
            "aliases",
            "package",
            "source",
            "installed",
            "fixed",
            "severity"
        ])
    );
    assert_eq!(
        findings[0]["severity"],
        json!({"level": "critical", "cvss": 9.8})
    );

    // CSV: same rows; --fail-on: exit 3 at or above the threshold only.
    let csv = rampart(
        &[
            "scan",
            "--feed",
            feed.path().to_str().unwrap(),
            "--format",
            "csv",
        ],
        "",
    );
    assert!(csv.status.success());
    assert_eq!(stdout(&csv).lines().count(), findings.len() + 1);
    assert!(
        stdout(&csv).starts_with("advisory,aliases,package,source,installed,fixed,severity,cvss\n")
    );
    let fail = rampart(
        &[
            "scan",
            "--feed",
            feed.path().to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
        "",
    );
    assert_eq!(fail.status.code(), Some(3));
    let table = rampart(&["scan", "--feed", feed.path().to_str().unwrap()], "");
    assert!(table.status.success());
    assert!(
        stdout(&table).contains("CRITICAL ("),
        "table groups by severity: {}",
        stdout(&table)
    );
}

#[test]
fn scan_of_an_alpine_root_with_the_real_secdb() {
    let secdb = shared_testdata().join("alpine-secdb/v3.11-main.yaml");
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        "etc/os-release",
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.11.13\n",
    );
    // apk's installed database: ansible fixed CVE-2019-14904 in 2.9.3-r0; apache2's
    // subpackage apache2-utils reaches apache2's advisories through its origin.
    write(
        root.path(),
        "lib/apk/db/installed",
        "C:Q1abc=\nP:ansible\nV:2.9.2-r0\nA:noarch\no:ansible\n\nP:apache2-utils\nV:2.4.41-r0\nA:x86_64\no:apache2\n\nP:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n",
    );
    let out = rampart(
        &[
            "scan",
            "--root",
            root.path().to_str().unwrap(),
            "--feed",
            secdb.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["os"]["ecosystem"], "Alpine:v3.11");
    assert_eq!(report["packages"], 3);
    let hits: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["advisory"].as_str().unwrap().into(),
                f["package"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        hits.contains(&("ALPINE-CVE-2019-14904".into(), "ansible".into())),
        "{hits:?}"
    );
    assert!(
        !hits.iter().any(|(a, _)| a == "ALPINE-CVE-2019-10206"),
        "fixed in 2.8.4-r0, below the installed 2.9.2-r0"
    );
    assert!(
        !hits.iter().any(|(_, p)| p == "apache2-utils"),
        "2.4.41-r0 is apache2's latest fix in 3.11: {hits:?}"
    );
}

#[test]
fn scan_errors_say_what_to_fix() {
    let root = tempfile::tempdir().unwrap();
    let o = rampart(
        &[
            "scan",
            "--root",
            root.path().to_str().unwrap(),
            "--feed",
            "/nonexistent/feed.zip",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("error"), "{}", stderr(&o));
    let o = rampart(&["scan"], "");
    assert_eq!(o.status.code(), Some(2), "--feed is required");
    assert!(stderr(&o).contains("--feed"));
    write(
        root.path(),
        "etc/os-release",
        "ID=alpine\nVERSION_ID=3.19.0\n",
    );
    write(
        root.path(),
        "lib/apk/db/installed",
        "P:musl\nV:1.2.4-r2\no:musl\n\n",
    );
    let o = rampart(
        &[
            "scan",
            "--root",
            root.path().to_str().unwrap(),
            "--feed",
            "/nonexistent/feed.zip",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/feed.zip"),
        "names the feed: {}",
        stderr(&o)
    );
    let o = rampart(
        &[
            "scan",
            "--root",
            root.path().to_str().unwrap(),
            "--feed",
            "x",
            "--fail-on",
            "severe",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2));
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}
