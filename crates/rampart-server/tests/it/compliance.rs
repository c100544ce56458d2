//! Compliance end to end, in-process: a real advisory feed (OSV files written by the
//! test) imported through the API, a host whose inventory is stored as the check-in
//! handler stores it, findings matched by the real engine, then compliance, exceptions,
//! software policy, scans and trend read back over the REST API — on SQLite and on
//! PostgreSQL. Time moves only through the test clock.

use axum::http::{Method, StatusCode};
use rampart_core::authz::Role;
use rampart_core::package::{Package, PackageFormat};
use rampart_proto::{HostFacts, HostState, Inventory, OsFacts, PendingUpdate, UpdateCategory};
use rampart_server::ComplianceTransition;
use rampart_store::{Labels, NewAgent, NewHost};
use serde_json::{Value, json};

use crate::support::{Auth, T0, TestApp, each_backend};

const DAY: i64 = 86_400_000;
const MINUTE: i64 = 60_000;

fn package(name: &str, version: &str) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source_name: Some(name.into()),
        source_version: Some(version.into()),
        format: PackageFormat::Deb,
    }
}

/// Two advisories: DSA-9001 (critical, published ten days before T0) fixed by the
/// pending openssl update; DSA-9002 (high, no date) on curl, with no update pending.
fn write_feed(dir: &std::path::Path) {
    let published = "2025-12-22T00:00:00Z"; // T0 - 10 days
    let records = [
        json!({
            "id": "DSA-9001-1", "modified": "2026-01-01T00:00:00Z", "published": published,
            "aliases": ["CVE-2099-9001"],
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]}],
        }),
        json!({
            "id": "DSA-9002-1", "modified": "2026-01-01T00:00:00Z",
            "aliases": ["CVE-2099-9002"],
            "severity": [{"type": "Ubuntu", "score": "high"}],
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "curl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "7.88.1-10+deb12u6"}]}]}],
        }),
    ];
    for r in records {
        std::fs::write(
            dir.join(format!("{}.json", r["id"].as_str().unwrap())),
            r.to_string(),
        )
        .unwrap();
    }
}

struct Estate {
    t: TestApp,
    admin: Auth,
    host_id: String,
    _feed: tempfile::TempDir,
}

/// The app with the feed imported and one inventoried host labelled `env=prod`.
async fn estate(store: rampart_store::Store) -> Estate {
    let t = TestApp::new(store).await;
    let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
    let feed = tempfile::tempdir().unwrap();
    write_feed(feed.path());
    let r = t.upload_feed_dir(feed.path(), &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    let labels: Labels = [("env".to_string(), "prod".to_string())].into();
    let host_id = t
        .store
        .enrol_host(
            NewHost {
                hostname: "web-1",
                machine_id: None,
                labels: &labels,
            },
            NewAgent {
                id: "agent-1",
                cert_serial: "serial-1",
                cert_fingerprint: "fp-1",
            },
            t.now(),
        )
        .await
        .unwrap()
        .host
        .id;
    let inventory = Inventory {
        protocol: rampart_proto::PROTOCOL_VERSION,
        // The agent observed it 30 s before the server received it.
        observed_at: t.now() / 1000 - 30,
        uptime_secs: None,
        state: HostState {
            host: HostFacts {
                hostname: "web-1".into(),
                os: OsFacts {
                    id: "debian".into(),
                    version_id: "12".into(),
                    pretty_name: None,
                    ecosystem: Some("Debian:12".into()),
                },
                ..HostFacts::default()
            },
            packages: vec![
                package("openssl", "3.0.11-1~deb12u1"),
                package("curl", "7.88.1-10+deb12u5"),
                package("telnetd", "0.17-44"),
            ],
            // Not reported as security: the advisories make it one.
            updates: vec![PendingUpdate {
                name: "openssl".into(),
                arch: Some("amd64".into()),
                installed: "3.0.11-1~deb12u1".into(),
                candidate: "3.0.11-1~deb12u2".into(),
                origin: "Debian:12/stable".into(),
                category: UpdateCategory::Other,
            }],
            ..HostState::default()
        },
    };
    // Exactly what the check-in handler does with an inventory.
    let now = t.now();
    let outcome = t
        .store
        .record_inventory(&host_id, &inventory, now)
        .await
        .unwrap();
    t.state
        .engine()
        .after_inventory(&host_id, outcome, now)
        .await
        .unwrap();
    t.state
        .compliance()
        .after_inventory(&host_id, outcome, now)
        .await
        .unwrap();
    Estate {
        t,
        admin,
        host_id,
        _feed: feed,
    }
}

fn kinds(compliance: &Value) -> Vec<&str> {
    compliance["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn reasons_for_an_overdue_security_update_a_critical_finding_and_staleness() {
    each_backend(|store| async move {
        let Estate { t, admin, host_id, .. } = estate(store).await;
        let path = format!("/api/v1/hosts/{host_id}/compliance");
        let c = t.get(&path, &admin).await;
        assert_eq!(c.status, StatusCode::OK, "{}", c.text);
        assert_eq!(c.body["state"], "non_compliant");
        assert_eq!(kinds(&c.body), ["critical_findings", "overdue_security_update"]);
        let critical = &c.body["reasons"][0];
        assert_eq!(critical["count"], 1);
        assert_eq!(critical["allowed"], 0);
        assert_eq!(critical["advisories"], json!(["DSA-9001-1"]));
        let overdue = &c.body["reasons"][1];
        assert_eq!(overdue["package"], "openssl");
        assert_eq!(overdue["candidate"], "3.0.11-1~deb12u2");
        assert_eq!(overdue["basis"], "advisory_published");
        assert_eq!(overdue["released_at"], T0 - 10 * DAY);
        assert_eq!(overdue["pending_since"], T0);
        assert_eq!(overdue["days"], 10);
        assert_eq!(overdue["max_days"], 7);
        assert_eq!(overdue["fixes"], json!(["DSA-9001-1"]));
        assert!(overdue["message"].as_str().unwrap().contains("openssl"));
        assert_eq!(c.body["critical"], 1);
        assert_eq!(c.body["high"], 1);
        assert_eq!(c.body["pending_security_updates"], 1);
        assert_eq!(c.body["stale"], false);

        // Three missed one-minute check-ins later the host is stale; the scheduler's
        // refresh sees it is due and announces it once.
        let mut events = t.state.compliance().subscribe();
        t.advance(3 * MINUTE + 1);
        let (_, transitions) = t.state.compliance().refresh_due(t.now(), 100).await.unwrap();
        assert!(
            matches!(&transitions[..], [ComplianceTransition::BecameStale { host_id: h, last_seen, .. }] if *h == host_id && *last_seen == T0),
            "{transitions:?}"
        );
        assert_eq!(events.try_recv().unwrap(), transitions[0]);
        let c = t.get(&path, &admin).await;
        assert_eq!(kinds(&c.body), ["stale", "critical_findings", "overdue_security_update"]);
        assert_eq!(c.body["stale"], true);
        let summary = t.get("/api/v1/compliance", &admin).await;
        assert_eq!(summary.body["estate"]["stale"], 1, "{}", summary.text);
        assert_eq!(summary.body["estate"]["non_compliant"], 1);

        // The agent checks in again: no longer stale (no transition to stale again).
        t.store.record_checkin(&host_id, t.now()).await.unwrap();
        let (_, transitions) = t.state.compliance().refresh_due(t.now(), 100).await.unwrap();
        assert!(transitions.is_empty(), "{transitions:?}");
        let c = t.get(&path, &admin).await;
        assert_eq!(c.body["stale"], false);
        assert_eq!(kinds(&c.body), ["critical_findings", "overdue_security_update"]);

        let missing = t.get("/api/v1/hosts/nope/compliance", &admin).await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn exceptions_need_a_second_person_and_expire_by_themselves() {
    each_backend(|store| async move {
        let Estate { t, admin, host_id, .. } = estate(store).await;
        let alice = Auth::Bearer(t.user_token("alice", Role::Operator).await);
        let bob = Auth::Bearer(t.user_token("bob", Role::Operator).await);
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let expires_at = T0 + 3_600_000;
        let request = json!({
            // An alias names the DSA's finding.
            "advisory": "CVE-2099-9001",
            "scope": {"kind": "host", "host_id": host_id},
            "reason": "not reachable: service bound to loopback",
            "ticket": "SEC-123",
            "expires_at": expires_at,
        });
        let r = t.call(Method::POST, "/api/v1/exceptions", &auditor, Some(request.clone())).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let bad = t
            .call(Method::POST, "/api/v1/exceptions", &alice, Some(json!({
                "advisory": "CVE-1", "scope": {"kind": "estate"}, "reason": "x", "expires_at": T0 - 1,
            })))
            .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
        let created = t.call(Method::POST, "/api/v1/exceptions", &alice, Some(request)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert_eq!(created.body["status"], "requested");
        assert_eq!(created.body["requested_by"], "alice");
        let id = created.body["id"].as_str().unwrap().to_owned();

        // Requested is not approved: the finding still counts.
        let c = t.get(&format!("/api/v1/hosts/{host_id}/compliance"), &admin).await;
        assert_eq!(c.body["state"], "non_compliant");

        // The requester cannot approve their own.
        let own = t
            .call(Method::POST, &format!("/api/v1/exceptions/{id}/approve"), &alice, None)
            .await;
        assert_eq!(own.status, StatusCode::FORBIDDEN, "{}", own.text);
        assert_eq!(own.code(), "forbidden");
        assert!(own.text.contains("another person"), "{}", own.text);
        let approved = t
            .call(Method::POST, &format!("/api/v1/exceptions/{id}/approve"), &bob, None)
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        assert_eq!(approved.body["status"], "approved");
        assert_eq!(approved.body["decided_by"], "bob");
        assert_eq!(approved.body["active"], true);
        let again = t
            .call(Method::POST, &format!("/api/v1/exceptions/{id}/approve"), &bob, None)
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);

        // The finding shows its exception; counts leave it out; the host complies (the
        // overdue update fixes only the excepted advisory).
        let findings = t.get(&format!("/api/v1/findings?host={host_id}"), &admin).await;
        let dsa = findings.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["advisory"] == "DSA-9001-1")
            .unwrap()
            .clone();
        assert_eq!(dsa["exception"]["id"], id.as_str());
        assert_eq!(dsa["exception"]["ticket"], "SEC-123");
        let host_findings = t.get(&format!("/api/v1/hosts/{host_id}/findings"), &admin).await;
        assert!(host_findings.text.contains(&id));
        let counts = t.get(&format!("/api/v1/findings/counts?host={host_id}"), &admin).await;
        assert_eq!(counts.body, json!({"excepted": 1, "critical": 0, "high": 1, "medium": 0, "low": 0, "unknown": 0}));
        let summary = t.get("/api/v1/compliance", &admin).await;
        assert_eq!(summary.body["estate"]["compliant"], 1, "{}", summary.text);
        assert_eq!(summary.body["estate"]["critical"], 0);
        let c = t.get(&format!("/api/v1/hosts/{host_id}/compliance"), &admin).await;
        assert_eq!(c.body["state"], "compliant", "{}", c.text);
        assert_eq!(c.body["excepted"][0]["exception_id"], id.as_str());
        assert_eq!(c.body["next_evaluation_at"], T0 + 3 * MINUTE + 1, "stale before expiry");

        // Its coming expiry is announced once.
        let notices = t.state.compliance().expiring_exceptions(t.now(), 7 * DAY).await.unwrap();
        assert!(matches!(&notices[..], [ComplianceTransition::ExceptionExpiring { exception_id, .. }] if *exception_id == id));
        assert!(t.state.compliance().expiring_exceptions(t.now(), 7 * DAY).await.unwrap().is_empty());

        // An hour later, with nobody acting (the agent keeps checking in): the
        // exception no longer applies anywhere.
        t.advance(3_600_000);
        t.store.record_checkin(&host_id, t.now()).await.unwrap();
        let findings = t.get(&format!("/api/v1/findings?host={host_id}&advisory=DSA-9001-1"), &admin).await;
        assert_eq!(findings.body["items"][0]["exception"], Value::Null);
        let counts = t.get(&format!("/api/v1/findings/counts?host={host_id}"), &admin).await;
        assert_eq!(counts.body["excepted"], 0);
        assert_eq!(counts.body["critical"], 1);
        let summary = t.get("/api/v1/compliance", &admin).await;
        assert_eq!(summary.body["estate"]["non_compliant"], 1, "{}", summary.text);
        let shown = t.get(&format!("/api/v1/exceptions/{id}"), &admin).await;
        assert_eq!(shown.body["status"], "approved");
        assert_eq!(shown.body["effective_status"], "expired");
        assert_eq!(shown.body["active"], false);
        let active = t.get("/api/v1/exceptions?active=true", &admin).await;
        assert_eq!(active.body["total"], 0);
        let all = t.get("/api/v1/exceptions?status=approved", &admin).await;
        assert_eq!(all.body["total"], 1);

        // Revoking a closed one is a conflict; an unknown id 404.
        let r = t.call(Method::POST, &format!("/api/v1/exceptions/{id}/revoke"), &bob, None).await;
        assert_eq!(r.status, StatusCode::OK);
        let r = t.call(Method::POST, &format!("/api/v1/exceptions/{id}/revoke"), &bob, None).await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = t.call(Method::POST, "/api/v1/exceptions/nope/approve", &bob, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    })
    .await;
}

/// A decision that makes hosts due reaches their snapshots through the running
/// scheduler at once, with no read asking for it and long before its next round.
#[tokio::test]
async fn the_scheduler_evaluates_hosts_as_soon_as_a_change_marks_them_due() {
    each_backend(|store| async move {
        let Estate { t, host_id, .. } = estate(store).await;
        let alice = Auth::Bearer(t.user_token("alice", Role::Operator).await);
        let bob = Auth::Bearer(t.user_token("bob", Role::Operator).await);
        let before = t.store.host_compliance(&host_id).await.unwrap().unwrap();
        assert_eq!(before.state, rampart_core::compliance::State::NonCompliant);
        // Rounds an hour apart: only the first runs during the test.
        let scheduler = tokio::spawn(rampart_server::compliance_engine::run_scheduler(
            t.state.clone(),
            std::time::Duration::from_secs(3600),
        ));
        // Its first round (at once) scans the estate; wait for it, so what follows can
        // only be the wake-up's doing.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while t.store.last_finished_scan(None).await.unwrap().is_none() {
            assert!(
                std::time::Instant::now() < deadline,
                "the first round never scanned"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let scanned = t.store.host_compliance(&host_id).await.unwrap().unwrap();
        assert_eq!(scanned.state, rampart_core::compliance::State::NonCompliant);

        let created = t
            .call(
                Method::POST,
                "/api/v1/exceptions",
                &alice,
                Some(json!({
                    "advisory": "DSA-9001-1",
                    "scope": {"kind": "host", "host_id": host_id},
                    "reason": "not reachable",
                    "expires_at": T0 + 30 * DAY,
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_str().unwrap();
        let approved = t
            .call(
                Method::POST,
                &format!("/api/v1/exceptions/{id}/approve"),
                &bob,
                None,
            )
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);

        // Read the store's snapshot directly: the API's reads would refresh it themselves.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let now = t.store.host_compliance(&host_id).await.unwrap().unwrap();
            if now.state == rampart_core::compliance::State::Compliant {
                assert_eq!(now.excepted.len(), 1, "{now:?}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never re-evaluated: {now:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        scheduler.abort();
    })
    .await;
}

/// A new server's first round scans the estate once and records each project's scan
/// from it (same instant, the project's own counts) instead of scanning again.
#[tokio::test]
async fn the_first_round_scans_the_estate_once_and_records_each_project() {
    each_backend(|store| async move {
        let Estate { t, admin, .. } = estate(store).await;
        for (name, env) in [("prod", "prod"), ("dev", "dev")] {
            let r = t
                .call(
                    Method::POST,
                    "/api/v1/projects",
                    &admin,
                    Some(json!({"name": name, "selector": {"env": env}})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let report = t
            .state
            .compliance()
            .tick(t.state.engine(), t.now())
            .await
            .unwrap();
        assert_eq!(report.scans.len(), 3, "{:?}", report.scans);
        let prod = t.store.get_project_by_name("prod").await.unwrap().id;
        let dev = t.store.get_project_by_name("dev").await.unwrap().id;
        let by_scope = |id: Option<&str>| {
            report
                .scans
                .iter()
                .find(|s| s.project_id.as_deref() == id)
                .unwrap_or_else(|| panic!("no scan of {id:?}: {:?}", report.scans))
        };
        for (scope, hosts, non_compliant) in [
            (None, 1, 1),
            (Some(prod.as_str()), 1, 1),
            (Some(dev.as_str()), 0, 0),
        ] {
            let run = by_scope(scope);
            assert_eq!(
                (run.hosts, run.non_compliant),
                (hosts, non_compliant),
                "{run:?}"
            );
            assert_eq!(run.finished_at, Some(t.now()));
            assert_eq!(run.error, None);
        }
        // All three are fresh: the next round scans nothing.
        let again = t
            .state
            .compliance()
            .tick(t.state.engine(), t.now())
            .await
            .unwrap();
        assert!(again.scans.is_empty(), "{:?}", again.scans);
        let listed = t.get("/api/v1/scans", &admin).await;
        assert_eq!(listed.body["total"], 3, "{}", listed.text);
    })
    .await;
}

#[tokio::test]
async fn standards_software_policy_scans_and_trend() {
    each_backend(|store| async move {
        let Estate {
            t, admin, host_id, ..
        } = estate(store).await;
        let r = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &admin,
                Some(json!({"name": "web", "selector": {"env": "prod"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let std_path = "/api/v1/projects/web/standard";
        let r = t.get(std_path, &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["configured"], false);
        assert_eq!(r.body["max_pending_security_days"], 7);
        assert_eq!(r.body["full_scan_interval_hours"], 168);
        let lenient = json!({
            "max_pending_security_days": 30, "critical_findings_allowed": 1,
            "last_updated_alert_days": 90, "stale_after_checkins": 3,
            "checkin_interval_secs": 60, "full_scan_interval_hours": 24,
        });
        let mut bad = lenient.clone();
        bad["checkin_interval_secs"] = json!(0);
        let r = t.call(Method::PUT, std_path, &admin, Some(bad)).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.text.contains("checkin_interval_secs"));
        let r = t.call(Method::PUT, std_path, &admin, Some(lenient)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["configured"], true);
        let c = t
            .get(&format!("/api/v1/hosts/{host_id}/compliance"), &admin)
            .await;
        assert_eq!(c.body["state"], "compliant", "{}", c.text);

        // Deny telnet*: the host now carries an unauthorized package.
        let pol = "/api/v1/projects/web/software-policy";
        let r = t
            .call(Method::PUT, pol, &admin, Some(json!({"deny": ["[bad"]})))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        let r = t
            .call(Method::PUT, pol, &admin, Some(json!({"deny": ["telnet*"]})))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(t.get(pol, &admin).await.body["deny"], json!(["telnet*"]));
        let summary = t.get("/api/v1/compliance?project=web", &admin).await;
        assert_eq!(summary.body["projects"][0]["name"], "web");
        assert_eq!(
            summary.body["projects"][0]["non_compliant"], 1,
            "{}",
            summary.text
        );
        let c = t
            .get(&format!("/api/v1/hosts/{host_id}/compliance"), &admin)
            .await;
        assert_eq!(kinds(&c.body), ["unauthorized_package"]);
        assert_eq!(c.body["reasons"][0]["package"], "telnetd");
        assert!(
            c.body["reasons"][0]["rule"]
                .as_str()
                .unwrap()
                .contains("telnet*")
        );
        let u = t
            .get("/api/v1/compliance/unauthorized?project=web", &admin)
            .await;
        assert_eq!(u.body["total"], 1, "{}", u.text);
        assert_eq!(u.body["items"][0]["package"], "telnetd");
        assert_eq!(u.body["items"][0]["first_seen"], T0);
        assert_eq!(u.body["items"][0]["time_to_detect_ms"], 30_000);
        let per_host = t
            .get(&format!("/api/v1/hosts/{host_id}/unauthorized"), &admin)
            .await;
        assert_eq!(per_host.body["total"], 1);

        // Allow-list only lib*: everything else is unauthorized.
        let r = t
            .call(Method::PUT, pol, &admin, Some(json!({"allow": ["lib*"]})))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let u = t.get("/api/v1/compliance/unauthorized", &admin).await;
        assert_eq!(u.body["total"], 3, "{}", u.text);

        // Scan now, then the trend.
        let op = Auth::Bearer(t.user_token("otto", Role::Operator).await);
        let r = t
            .call(
                Method::POST,
                "/api/v1/scans",
                &op,
                Some(json!({"project": "web"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["hosts"], 1);
        assert_eq!(r.body["non_compliant"], 1);
        assert_eq!(r.body["trigger"], "manual");
        assert_eq!(r.body["requested_by"], "otto");
        let scans = t.get("/api/v1/scans", &admin).await;
        assert_eq!(scans.body["total"], 1);
        let trend = t
            .get("/api/v1/compliance/trend?days=30&project=web", &admin)
            .await;
        assert_eq!(trend.status, StatusCode::OK, "{}", trend.text);
        assert_eq!(trend.body["points"][0]["date"], "2026-01-01");
        assert_eq!(trend.body["points"][0]["hosts"], 1);
        assert_eq!(trend.body["points"][0]["non_compliant"], 1);
        let estate_trend = t.get("/api/v1/compliance/trend?days=90", &admin).await;
        assert_eq!(estate_trend.body["points"].as_array().unwrap().len(), 1);
        let r = t.get("/api/v1/compliance/trend?days=0", &admin).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        // The scheduler: the estate was never scanned, the project's scan is fresh.
        let report = t
            .state
            .compliance()
            .tick(t.state.engine(), t.now())
            .await
            .unwrap();
        assert_eq!(report.scans.len(), 1);
        assert_eq!(report.scans[0].project_id, None);
        let report = t
            .state
            .compliance()
            .tick(t.state.engine(), t.now())
            .await
            .unwrap();
        assert!(report.scans.is_empty());
        // A day later the project's 24-hour schedule runs it again; the estate's weekly
        // one does not.
        t.advance(DAY);
        t.store.record_checkin(&host_id, t.now()).await.unwrap();
        let report = t
            .state
            .compliance()
            .tick(t.state.engine(), t.now())
            .await
            .unwrap();
        assert_eq!(report.scans.len(), 1);
        assert!(report.scans[0].project_id.is_some());
        let trend = t.get("/api/v1/compliance/trend?days=30", &admin).await;
        assert_eq!(trend.body["points"].as_array().unwrap().len(), 2);

        let listed = t
            .get("/api/v1/compliance/hosts?state=non_compliant", &admin)
            .await;
        assert_eq!(listed.body["total"], 1, "{}", listed.text);
        assert_eq!(listed.body["items"][0]["hostname"], "web-1");
    })
    .await;
}

/// A project whose hosts have security updates pending past its standard gets one open
/// change request listing them; the scheduler keeps it in step and closes it when
/// nothing is overdue any more.
#[tokio::test]
async fn overdue_updates_open_and_close_the_projects_change_request() {
    each_backend(|store| async move {
        let Estate {
            t, admin, host_id, ..
        } = estate(store).await;
        let created = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &admin,
                Some(json!({"name": "prod", "description": "", "selector": {"env": "prod"}})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let project_id = created.body["id"].as_str().unwrap().to_owned();

        rampart_server::compliance_engine::scheduler_round(&t.state, t.now())
            .await
            .unwrap();
        let open = t.get("/api/v1/change-requests?status=open", &admin).await;
        assert_eq!(open.body["total"], 1, "{}", open.text);
        let cr = &open.body["items"][0];
        assert_eq!(cr["project_id"], project_id.as_str());
        assert_eq!(cr["items"][0]["host_id"], host_id.as_str());
        assert_eq!(cr["items"][0]["hostname"], "web-1");
        let update = &cr["items"][0]["updates"][0];
        assert_eq!(update["package"], "openssl");
        assert_eq!(update["candidate"], "3.0.11-1~deb12u2");
        assert_eq!(update["pending_since"], T0);
        let id = cr["id"].as_str().unwrap().to_owned();

        // Another round with nothing new: the same request, unchanged.
        t.advance(MINUTE);
        t.store.record_checkin(&host_id, t.now()).await.unwrap();
        rampart_server::compliance_engine::scheduler_round(&t.state, t.now())
            .await
            .unwrap();
        let again = t.get("/api/v1/change-requests", &admin).await;
        assert_eq!(again.body["total"], 1, "{}", again.text);
        assert_eq!(again.body["items"][0]["id"], id.as_str());

        // The host installs the update: nothing is overdue, the request closes.
        let mut inventory = t.store.host_inventory(&host_id).await.unwrap().unwrap();
        inventory.state.updates.clear();
        for p in &mut inventory.state.packages {
            if p.name == "openssl" {
                p.version = "3.0.11-1~deb12u2".into();
            }
        }
        let now = t.now();
        let outcome = t
            .store
            .record_inventory(&host_id, &inventory, now)
            .await
            .unwrap();
        t.state
            .engine()
            .after_inventory(&host_id, outcome, now)
            .await
            .unwrap();
        t.state
            .compliance()
            .after_inventory(&host_id, outcome, now)
            .await
            .unwrap();
        rampart_server::compliance_engine::scheduler_round(&t.state, t.now())
            .await
            .unwrap();
        let closed = t
            .get(&format!("/api/v1/change-requests/{id}"), &admin)
            .await;
        assert_eq!(closed.body["status"], "closed", "{}", closed.text);
        let open = t.get("/api/v1/change-requests?status=open", &admin).await;
        assert_eq!(open.body["total"], 0, "{}", open.text);
    })
    .await;
}
