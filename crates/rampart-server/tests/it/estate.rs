//! Hosts and findings with real data: three hosts enrolled through the store, their
//! inventories built from this machine's real dpkg status (read by rampart_inventory),
//! a feed generated from those very packages plus the shared OSV samples imported
//! through the API. Findings must equal `rampart_core::matcher::match_host` on the same
//! packages, and the list filters and pagination must cut them as documented.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use axum::http::{Method, StatusCode};
use rampart_core::authz::Role;
use rampart_core::distro::Release;
use rampart_core::matcher::{AdvisoryIndex, Finding, match_host};
use rampart_core::package::Package;
use rampart_proto::{HostFacts, HostState, Inventory, OsFacts};
use rampart_store::{Labels, NewAgent, NewHost, Store};
use serde_json::{Value, json};

use crate::support::{Auth, TestApp, each_backend};

/// This machine's packages and release. Debian/Ubuntu only: the generated feed speaks
/// dpkg versions.
fn local_inventory() -> Option<(Release, Vec<Package>)> {
    let inv = rampart_inventory::read_root(Path::new("/")).expect("read this machine's packages");
    let release = inv.os.release().ok()?;
    if inv.packages.len() < 20 || !release.distro.advisories_name_sources() {
        return None;
    }
    Some((release, inv.packages))
}

fn inventory(hostname: &str, release: &Release, packages: &[Package]) -> Inventory {
    Inventory {
        protocol: rampart_proto::PROTOCOL_VERSION,
        observed_at: 0,
        uptime_secs: None,
        state: HostState {
            host: HostFacts {
                hostname: hostname.to_owned(),
                os: OsFacts {
                    id: "debian".to_owned(),
                    version_id: release.version.clone(),
                    pretty_name: Some(format!("{release}")),
                    ecosystem: Some(release.to_string()),
                },
                ..HostFacts::default()
            },
            packages: packages.to_vec(),
            ..HostState::default()
        },
    }
}

/// OSV records for every 7th distinct source package of this machine: one
/// affecting it (fixed just above the installed version), severities cycling through
/// critical (CVSS), high, medium, low and unknown; plus one for another release that must
/// not match.
fn write_feed(dir: &Path, release: &Release, packages: &[Package]) -> usize {
    let mut sources: BTreeMap<&str, &str> = BTreeMap::new();
    for p in packages {
        sources.entry(p.source()).or_insert(p.source_version());
    }
    let mut n = 0;
    for (i, (name, version)) in sources.iter().enumerate().filter(|(i, _)| i % 7 == 0) {
        let severity = match n % 5 {
            0 => {
                json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}])
            }
            1 => json!([{"type": "Ubuntu", "score": "high"}]),
            2 => json!([{"type": "Ubuntu", "score": "medium"}]),
            3 => json!([{"type": "Ubuntu", "score": "low"}]),
            _ => json!([]),
        };
        let record = json!({
            "id": format!("TEST-{i:05}"),
            "modified": "2026-01-01T00:00:00Z",
            "aliases": [format!("CVE-2099-{i:05}")],
            "severity": severity,
            "affected": [{
                "package": {"ecosystem": release.to_string(), "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": format!("{version}+rampart1")}]}],
            }],
        });
        std::fs::write(dir.join(format!("TEST-{i:05}.json")), record.to_string()).unwrap();
        n += 1;
    }
    let other = json!({
        "id": "TEST-OTHER-RELEASE",
        "modified": "2026-01-01T00:00:00Z",
        "affected": [{
            "package": {"ecosystem": "Debian:7", "name": sources.keys().next().unwrap()},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }],
    });
    std::fs::write(dir.join("TEST-OTHER.json"), other.to_string()).unwrap();
    n
}

async fn enrol(store: &Store, hostname: &str, labels: &[(&str, &str)], now: i64) -> String {
    let labels: Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let agent_id = rampart_store::new_id(now);
    store
        .enrol_host(
            NewHost {
                hostname,
                machine_id: None,
                labels: &labels,
            },
            NewAgent {
                id: &agent_id,
                cert_serial: &agent_id,
                cert_fingerprint: &agent_id,
            },
            now,
        )
        .await
        .expect("enrol")
        .host
        .id
}

fn key(v: &Value) -> (String, String, String) {
    (
        v["advisory"].as_str().unwrap().to_owned(),
        v["package"].as_str().unwrap().to_owned(),
        v["installed"].as_str().unwrap().to_owned(),
    )
}

fn keys_of(findings: &[Finding]) -> BTreeSet<(String, String, String)> {
    findings
        .iter()
        .map(|f| (f.advisory.clone(), f.package.clone(), f.installed.clone()))
        .collect()
}

async fn all_items(t: &TestApp, auth: &Auth, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let r = t.get(&format!("{path}{sep}limit=1000"), auth).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    assert!(
        r.body["total"].as_u64().unwrap() <= 1000,
        "test expects one page"
    );
    r.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn findings_equal_the_matcher_and_filters_cut_them() {
    let Some((release, packages)) = local_inventory() else {
        // The generated feed needs a dpkg-based machine; CI's is one.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run on a Debian-family machine with dpkg"
        );
        eprintln!("skipping: this machine has no dpkg package database");
        return;
    };
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/osv");
    assert!(
        shared.is_dir(),
        "{} is missing: the shared test data must be beside the project",
        shared.display()
    );
    let feed_dir = tempfile::tempdir().unwrap();
    let generated = write_feed(feed_dir.path(), &release, &packages);
    assert!(generated >= 3);

    // The oracle: the pure matcher over the same advisories and packages.
    let mut advisories = Vec::new();
    for src in [feed_dir.path(), shared.as_path()] {
        advisories.extend(
            rampart_feeds::load(src.to_str().unwrap(), &Default::default())
                .unwrap()
                .advisories,
        );
    }
    let index = AdvisoryIndex::from_advisories(advisories);
    let half = &packages[..packages.len() / 2];
    let expect_full = keys_of(&match_host(&index, &release, &packages));
    let expect_half = keys_of(&match_host(&index, &release, half));
    assert!(!expect_full.is_empty() && expect_half.len() < expect_full.len());

    each_backend(|store| {
        let (release, packages, expect_full, expect_half) = (
            release.clone(),
            packages.clone(),
            expect_full.clone(),
            expect_half.clone(),
        );
        let feed_dir = feed_dir.path().to_owned();
        let shared = shared.clone();
        async move {
            let t = TestApp::new(store).await;
            let op = Auth::Bearer(t.user_token("otto", Role::Operator).await);
            let now = t.now();
            let web1 = enrol(&t.store, "web-1", &[("env", "prod"), ("role", "web")], now).await;
            let web2 = enrol(&t.store, "web-2", &[("env", "prod"), ("role", "db")], now).await;
            let dev = enrol(&t.store, "dev-1", &[("env", "dev")], now).await;
            let half = &packages[..packages.len() / 2];
            for (id, name, pkgs) in [
                (&web1, "web-1", &packages[..]),
                (&web2, "web-2", &packages[..]),
                (&dev, "dev-1", half),
            ] {
                let outcome = t
                    .store
                    .record_inventory(id, &inventory(name, &release, pkgs), now)
                    .await
                    .unwrap();
                // The check-in seam: nothing matches yet (no advisories), but it runs.
                t.state
                    .engine()
                    .after_inventory(id, outcome, now)
                    .await
                    .unwrap();
            }

            for src in [&feed_dir, &shared] {
                let r = t.upload_feed_dir(src, &op).await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            }
            let feeds = t.get("/api/v1/feeds", &op).await;
            assert_eq!(feeds.body["total"], 2);

            // Per host: exactly what the matcher says.
            for (id, expect) in [
                (&web1, &expect_full),
                (&web2, &expect_full),
                (&dev, &expect_half),
            ] {
                let got: BTreeSet<_> = all_items(&t, &op, &format!("/api/v1/hosts/{id}/findings"))
                    .await
                    .iter()
                    .map(key)
                    .collect();
                assert_eq!(&got, expect, "host {id}");
            }
            // The host's own recompute (check-in path) agrees with the estate-wide one.
            t.state
                .engine()
                .recompute_host(&dev, t.now())
                .await
                .unwrap();
            let again: BTreeSet<_> = all_items(&t, &op, &format!("/api/v1/hosts/{dev}/findings"))
                .await
                .iter()
                .map(key)
                .collect();
            assert_eq!(again, expect_half);

            // Estate-wide findings and their filters.
            let all = all_items(&t, &op, "/api/v1/findings").await;
            assert_eq!(all.len(), 2 * expect_full.len() + expect_half.len());
            let rank = |s: &str| {
                ["unknown", "low", "medium", "high", "critical"]
                    .iter()
                    .position(|x| *x == s)
                    .unwrap()
            };
            assert!(
                all.windows(2)
                    .all(|w| rank(w[0]["severity"].as_str().unwrap())
                        >= rank(w[1]["severity"].as_str().unwrap())),
                "worst first"
            );
            for level in ["critical", "high", "medium", "low", "unknown"] {
                let want = all.iter().filter(|f| f["severity"] == level).count();
                let got = t
                    .get(&format!("/api/v1/findings?severity={level}&limit=0"), &op)
                    .await;
                assert_eq!(
                    got.body["total"].as_u64().unwrap() as usize,
                    want,
                    "{level}"
                );
            }
            assert!(
                all.iter()
                    .any(|f| f["severity"] == "critical" && f["cvss"].as_f64() == Some(9.8))
            );
            let high_plus = t
                .get("/api/v1/findings?min_severity=high&limit=0", &op)
                .await;
            let want = all
                .iter()
                .filter(|f| f["severity"] == "critical" || f["severity"] == "high")
                .count();
            assert_eq!(high_plus.body["total"].as_u64().unwrap() as usize, want);
            let sample = &all[0];
            let by_adv = all_items(
                &t,
                &op,
                &format!(
                    "/api/v1/findings?advisory={}",
                    sample["advisory"].as_str().unwrap()
                ),
            )
            .await;
            assert!(
                !by_adv.is_empty() && by_adv.iter().all(|f| f["advisory"] == sample["advisory"])
            );
            let by_alias = all_items(
                &t,
                &op,
                &format!(
                    "/api/v1/findings?advisory={}",
                    sample["aliases"][0].as_str().unwrap()
                ),
            )
            .await;
            assert_eq!(by_alias.len(), by_adv.len());
            let by_pkg = all_items(
                &t,
                &op,
                &format!(
                    "/api/v1/findings?package={}",
                    sample["package"].as_str().unwrap()
                ),
            )
            .await;
            assert!(
                by_pkg
                    .iter()
                    .all(|f| f["package"] == sample["package"] || f["source"] == sample["package"])
            );
            assert!(!by_pkg.is_empty());

            // Projects select by labels, for hosts and findings alike.
            let p = t
                .call(
                    Method::POST,
                    "/api/v1/projects",
                    &op,
                    Some(json!({"name": "prod", "selector": {"env": "prod"}})),
                )
                .await;
            assert_eq!(p.status, StatusCode::CREATED);
            let in_prod = all_items(&t, &op, "/api/v1/findings?project=prod").await;
            assert_eq!(in_prod.len(), 2 * expect_full.len());
            assert!(in_prod.iter().all(|f| f["host_id"] != dev.as_str()));

            // Host filters and pagination.
            let names = |items: &[Value]| {
                items
                    .iter()
                    .map(|h| h["hostname"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                names(&all_items(&t, &op, "/api/v1/hosts").await),
                ["dev-1", "web-1", "web-2"]
            );
            assert_eq!(
                names(&all_items(&t, &op, "/api/v1/hosts?label=env:prod").await),
                ["web-1", "web-2"]
            );
            assert_eq!(
                names(&all_items(&t, &op, "/api/v1/hosts?label=env:prod&label=role:db").await),
                ["web-2"]
            );
            assert_eq!(
                names(&all_items(&t, &op, "/api/v1/hosts?project=prod").await),
                ["web-1", "web-2"]
            );
            assert_eq!(
                names(&all_items(&t, &op, "/api/v1/hosts?q=WEB").await),
                ["web-1", "web-2"]
            );
            assert_eq!(
                names(
                    &all_items(
                        &t,
                        &op,
                        &format!("/api/v1/hosts?os=debian:{}", release.version)
                    )
                    .await
                )
                .len(),
                3
            );
            assert!(
                all_items(&t, &op, "/api/v1/hosts?os=alpine")
                    .await
                    .is_empty()
            );
            let crit_full = !expect_full.is_empty()
                && all
                    .iter()
                    .any(|f| f["severity"] == "critical" && f["host_id"] == web1.as_str());
            let crit_dev = all
                .iter()
                .any(|f| f["severity"] == "critical" && f["host_id"] == dev.as_str());
            let with_crit = names(&all_items(&t, &op, "/api/v1/hosts?has_critical=true").await);
            assert_eq!(with_crit.contains(&"web-1".to_owned()), crit_full);
            assert_eq!(with_crit.contains(&"dev-1".to_owned()), crit_dev);
            let page = t.get("/api/v1/hosts?limit=1&offset=1", &op).await;
            assert_eq!(page.body["total"], 3);
            assert_eq!(page.body["limit"], 1);
            assert_eq!(page.body["offset"], 1);
            assert_eq!(names(page.body["items"].as_array().unwrap()), ["web-1"]);
            let fpage = t.get("/api/v1/findings?limit=2&offset=3", &op).await;
            assert_eq!(fpage.body["items"].as_array().unwrap().len(), 2);
            assert_eq!(fpage.body["items"][0], all[3]);

            // One host: counts, packages, labels.
            let h = t.get(&format!("/api/v1/hosts/{web1}"), &op).await;
            assert_eq!(
                h.body["findings"]["total"].as_u64().unwrap() as usize,
                expect_full.len()
            );
            assert_eq!(h.body["ecosystem"], release.to_string());
            let pk = t
                .get(&format!("/api/v1/hosts/{dev}/packages?limit=5"), &op)
                .await;
            assert_eq!(pk.body["total"].as_u64().unwrap() as usize, half.len());
            assert_eq!(pk.body["items"].as_array().unwrap().len(), 5);
            let up = t.get(&format!("/api/v1/hosts/{dev}/updates"), &op).await;
            assert_eq!(up.status, StatusCode::OK);
            let l = t
                .call(
                    Method::PUT,
                    &format!("/api/v1/hosts/{dev}/labels"),
                    &op,
                    Some(json!({"env": "prod"})),
                )
                .await;
            assert_eq!(l.status, StatusCode::OK, "{}", l.text);
            assert_eq!(
                names(&all_items(&t, &op, "/api/v1/hosts?project=prod").await),
                ["dev-1", "web-1", "web-2"]
            );

            // An advisory with the hosts it affects.
            let adv = sample["advisory"].as_str().unwrap();
            let a = t.get(&format!("/api/v1/advisories/{adv}"), &op).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
            assert_eq!(a.body["advisory"]["id"], adv);
            let affected: BTreeSet<_> = by_adv
                .iter()
                .map(|f| f["host_id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                a.body["affected_hosts"]["total"].as_u64().unwrap() as usize,
                affected.len()
            );

            // Metrics see the estate.
            let m = t.get("/metrics", &op).await;
            assert!(m.text.contains("rampart_hosts 3"), "{}", m.text);

            // Deleting a host removes its findings.
            let d = t
                .call(Method::DELETE, &format!("/api/v1/hosts/{dev}"), &op, None)
                .await;
            assert_eq!(d.status, StatusCode::NO_CONTENT);
            assert_eq!(
                all_items(&t, &op, "/api/v1/findings").await.len(),
                2 * expect_full.len()
            );
        }
    })
    .await;
}
