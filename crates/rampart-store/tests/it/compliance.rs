//! Conformance cases of the compliance slice (standards, software policies,
//! unauthorized packages, risk exceptions, pending-since times, snapshots, trend,
//! scans), each run on SQLite and on PostgreSQL like the rest of the suite.

use rampart_core::compliance::{Compliance, Reason, Standard, State};
use rampart_core::exceptions::{ExceptionScope, ExceptionStatus, FindingTarget, Refusal, applies};
use rampart_core::severity::SeverityLevel;
use rampart_core::software_policy::SoftwarePolicy;
use rampart_store::{
    Actor, ComplianceFilter, Error, ExceptionDecision, ExceptionFilter, FindingFilter,
    NewException, NewProject, NewUnauthorized, Page, ScanTrigger, TrendPoint, UnauthorizedFilter,
};

use crate::conformance::conformance;
use crate::support::{Ctx, enrol, finding, inventory, labels, packages};

conformance!(
    standards_default_set_and_cascade,
    software_policies_and_unauthorized_packages,
    exception_life_cycle_and_four_eyes,
    findings_expose_their_covering_exception,
    pending_since_survives_reinventories,
    advisory_publication_dates,
    snapshots_summary_trend_and_scans,
    an_underscore_in_an_exception_id_is_literal,
    a_stale_host_seen_again_becomes_due,
);

const T0: i64 = 1_750_000_000_000;
const DAY: i64 = 86_400_000;

const ALICE: Actor<'static> = Actor {
    id: "alice-id",
    name: "alice",
};
const BOB: Actor<'static> = Actor {
    id: "bob-id",
    name: "bob",
};

async fn project(ctx: &Ctx, name: &str, selector: &[(&str, &str)]) -> String {
    ctx.store
        .create_project(
            NewProject {
                name,
                description: "",
                selector: &labels(selector),
            },
            T0,
        )
        .await
        .expect("project")
        .id
}

async fn standards_default_set_and_cascade(ctx: Ctx) {
    let s = &ctx.store;
    let web = project(&ctx, "web", &[("env", "prod")]).await;
    let got = s.project_standard(&web).await.unwrap();
    assert!(!got.configured);
    assert_eq!(got.standard, Standard::default());
    assert!(s.project_standards().await.unwrap().is_empty());

    let strict = Standard {
        max_pending_security_days: 2,
        critical_findings_allowed: 1,
        last_updated_alert_days: 30,
        stale_after_checkins: 5,
        checkin_interval_secs: 300,
        full_scan_interval_hours: 24,
    };
    let set = s.set_project_standard(&web, &strict, T0 + 1).await.unwrap();
    assert!(set.configured);
    assert_eq!(set.standard, strict);
    assert_eq!(set.updated_at, Some(T0 + 1));
    // Setting again replaces.
    let lax = Standard::default();
    s.set_project_standard(&web, &lax, T0 + 2).await.unwrap();
    assert_eq!(s.project_standard(&web).await.unwrap().standard, lax);
    assert_eq!(s.project_standards().await.unwrap().get(&web), Some(&lax));

    assert!(matches!(
        s.project_standard("nope").await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.set_project_standard("nope", &lax, T0).await,
        Err(Error::NotFound { .. })
    ));
    s.delete_project(&web).await.unwrap();
    assert!(s.project_standards().await.unwrap().is_empty());
}

async fn software_policies_and_unauthorized_packages(ctx: Ctx) {
    let s = &ctx.store;
    let web = project(&ctx, "web", &[("env", "prod")]).await;
    assert_eq!(
        s.software_policy(&web).await.unwrap().policy,
        SoftwarePolicy::default()
    );
    let policy = SoftwarePolicy {
        allow: vec!["lib*".into(), "openssh-*".into()],
        deny: vec!["telnet*".into()],
    };
    let set = s.set_software_policy(&web, &policy, T0).await.unwrap();
    assert_eq!(set.policy, policy);
    assert_eq!(set.updated_at, Some(T0));
    assert_eq!(s.software_policies().await.unwrap().len(), 1);
    assert!(matches!(
        s.set_software_policy("nope", &policy, T0).await,
        Err(Error::NotFound { .. })
    ));

    let prod = enrol(s, "prod-1", &labels(&[("env", "prod")]), T0)
        .await
        .host;
    let dev = enrol(s, "dev-1", &labels(&[("env", "dev")]), T0).await.host;
    let item = |name: &str, version: &str| NewUnauthorized {
        package: name.into(),
        version: version.into(),
        project_id: Some(web.clone()),
        rule: format!("{name} denied"),
    };
    // Observed by the agent 5 s before the server stored it.
    let new = s
        .replace_unauthorized(
            &prod.id,
            &[item("telnetd", "0.17"), item("nmap", "7")],
            Some(T0 + 5_000),
            T0 + 10_000,
        )
        .await
        .unwrap();
    assert_eq!(new, ["telnetd", "nmap"]);
    s.replace_unauthorized(&dev.id, &[item("nmap", "7")], None, T0 + 10_000)
        .await
        .unwrap();
    // A later inventory: telnetd upgraded (keeps its first sighting), nmap removed.
    let new = s
        .replace_unauthorized(
            &prod.id,
            &[item("telnetd", "0.18")],
            Some(T0 + DAY),
            T0 + DAY,
        )
        .await
        .unwrap();
    assert!(new.is_empty());
    let all = s
        .list_unauthorized(&UnauthorizedFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2);
    let telnetd = all.items.iter().find(|u| u.package == "telnetd").unwrap();
    assert_eq!(telnetd.version, "0.18");
    assert_eq!(telnetd.first_seen, T0 + 10_000);
    assert_eq!(telnetd.observed_at, Some(T0 + 5_000));
    assert_eq!(telnetd.time_to_detect(), Some(5_000));
    assert_eq!(telnetd.updated_at, T0 + DAY);
    assert_eq!(telnetd.hostname, "prod-1");

    let in_project = s
        .list_unauthorized(
            &UnauthorizedFilter {
                project_id: Some(web.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(in_project.items.len(), 1);
    assert_eq!(in_project.items[0].host_id, prod.id);
    let by_package = s
        .list_unauthorized(
            &UnauthorizedFilter {
                package: Some("nmap".into()),
                host_id: Some(dev.id.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(by_package.total, 1);
    assert_eq!(by_package.items[0].time_to_detect(), None);
    // Nothing refused any more on dev: its row goes, prod's stays.
    assert!(
        s.replace_unauthorized(&dev.id, &[], None, T0 + DAY)
            .await
            .unwrap()
            .is_empty()
    );
    let left = s
        .list_unauthorized(&UnauthorizedFilter::default(), Page::default())
        .await
        .unwrap();
    assert_eq!(left.total, 1);
    assert_eq!(left.items[0].host_id, prod.id);
    assert!(matches!(
        s.replace_unauthorized("nope", &[], None, T0).await,
        Err(Error::NotFound { .. })
    ));
}

async fn exception_life_cycle_and_four_eyes(ctx: Ctx) {
    let s = &ctx.store;
    let host = enrol(s, "h1", &labels(&[]), T0).await.host;
    let scope = ExceptionScope::Host {
        host_id: host.id.clone(),
    };
    let request = |advisory: &'static str, expires_at: i64| NewException {
        advisory,
        scope: &scope,
        reason: "compensating firewall rule",
        ticket: Some("SEC-42"),
        expires_at,
    };
    let e = s
        .request_exception(request("CVE-2024-1", T0 + 30 * DAY), ALICE, T0)
        .await
        .unwrap();
    assert_eq!(e.exception.status, ExceptionStatus::Requested);
    assert_eq!(e.requested_by_name, "alice");
    assert_eq!(e.exception.ticket.as_deref(), Some("SEC-42"));
    assert_eq!(e.exception.scope, scope);

    // The requester cannot approve; nothing is written.
    let refused = s
        .decide_exception(&e.exception.id, ExceptionDecision::Approve, ALICE, T0 + 1)
        .await
        .unwrap();
    assert_eq!(refused, Err(Refusal::SelfApproval));
    assert_eq!(
        s.get_exception(&e.exception.id)
            .await
            .unwrap()
            .exception
            .status,
        ExceptionStatus::Requested
    );
    assert!(s.active_exceptions(T0 + 1).await.unwrap().is_empty());

    let approved = s
        .decide_exception(&e.exception.id, ExceptionDecision::Approve, BOB, T0 + 2)
        .await
        .unwrap()
        .expect("another person approves");
    assert_eq!(approved.exception.status, ExceptionStatus::Approved);
    assert_eq!(approved.exception.decided_by.as_deref(), Some("bob-id"));
    assert_eq!(approved.decided_by_name.as_deref(), Some("bob"));
    assert_eq!(approved.exception.decided_at, Some(T0 + 2));
    assert_eq!(
        s.decide_exception(&e.exception.id, ExceptionDecision::Approve, BOB, T0 + 3)
            .await
            .unwrap(),
        Err(Refusal::NotPending {
            status: ExceptionStatus::Approved
        })
    );
    assert!(
        s.decide_exception(&e.exception.id, ExceptionDecision::Deny, BOB, T0 + 3)
            .await
            .unwrap()
            .is_err()
    );

    // In force until it expires, with nobody acting.
    assert_eq!(s.active_exceptions(T0 + 3).await.unwrap().len(), 1);
    assert!(s.active_exceptions(T0 + 30 * DAY).await.unwrap().is_empty());
    let active = ExceptionFilter {
        active_at: Some(T0 + 30 * DAY - 1),
        ..Default::default()
    };
    assert_eq!(
        s.list_exceptions(&active, Page::default())
            .await
            .unwrap()
            .total,
        1
    );
    let later = ExceptionFilter {
        active_at: Some(T0 + 30 * DAY),
        ..Default::default()
    };
    assert_eq!(
        s.list_exceptions(&later, Page::default())
            .await
            .unwrap()
            .total,
        0
    );

    // Expiry warnings go out once.
    let expiring = s.exceptions_expiring(T0 + 25 * DAY, 7 * DAY).await.unwrap();
    assert_eq!(expiring.len(), 1);
    assert!(s.exceptions_expiring(T0, 7 * DAY).await.unwrap().is_empty());
    assert!(
        s.mark_exception_expiry_warned(&e.exception.id, T0 + 25 * DAY)
            .await
            .unwrap()
    );
    assert!(
        !s.mark_exception_expiry_warned(&e.exception.id, T0 + 25 * DAY)
            .await
            .unwrap()
    );
    assert!(
        s.exceptions_expiring(T0 + 25 * DAY, 7 * DAY)
            .await
            .unwrap()
            .is_empty()
    );

    // Revoke ends it at once; revoking twice is refused.
    let revoked = s
        .decide_exception(&e.exception.id, ExceptionDecision::Revoke, ALICE, T0 + 4)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revoked.exception.status, ExceptionStatus::Revoked);
    assert!(s.active_exceptions(T0 + 5).await.unwrap().is_empty());
    assert_eq!(
        s.decide_exception(&e.exception.id, ExceptionDecision::Revoke, ALICE, T0 + 5)
            .await
            .unwrap(),
        Err(Refusal::Closed {
            status: ExceptionStatus::Revoked
        })
    );

    // A request past its expiry cannot be approved; one can still be denied.
    let stale = s
        .request_exception(request("CVE-2024-2", T0 + DAY), ALICE, T0)
        .await
        .unwrap();
    assert_eq!(
        s.decide_exception(
            &stale.exception.id,
            ExceptionDecision::Approve,
            BOB,
            T0 + DAY
        )
        .await
        .unwrap(),
        Err(Refusal::Expired)
    );
    let denied = s
        .decide_exception(&stale.exception.id, ExceptionDecision::Deny, BOB, T0 + DAY)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(denied.exception.status, ExceptionStatus::Denied);

    // Filters and order (newest request first).
    let by_status = ExceptionFilter {
        status: Some(ExceptionStatus::Denied),
        ..Default::default()
    };
    let got = s
        .list_exceptions(&by_status, Page::default())
        .await
        .unwrap();
    assert_eq!(got.total, 1);
    assert_eq!(got.items[0].exception.advisory, "CVE-2024-2");
    let by_host = ExceptionFilter {
        host_id: Some(host.id.clone()),
        ..Default::default()
    };
    assert_eq!(
        s.list_exceptions(&by_host, Page::default())
            .await
            .unwrap()
            .total,
        2
    );
    let by_advisory = ExceptionFilter {
        advisory: Some("CVE-2024-1".into()),
        ..Default::default()
    };
    assert_eq!(
        s.list_exceptions(&by_advisory, Page::default())
            .await
            .unwrap()
            .total,
        1
    );

    // Unknown scope targets and decisions on unknown ids.
    let ghost = ExceptionScope::Host {
        host_id: "no-such-host".into(),
    };
    assert!(matches!(
        s.request_exception(
            NewException {
                scope: &ghost,
                ..request("CVE-1", T0 + DAY)
            },
            ALICE,
            T0
        )
        .await,
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        s.decide_exception("nope", ExceptionDecision::Approve, BOB, T0)
            .await,
        Err(Error::NotFound { .. })
    ));
    // Deleting the host takes its exceptions with it.
    s.delete_host(&host.id).await.unwrap();
    assert_eq!(
        s.list_exceptions(&ExceptionFilter::default(), Page::default())
            .await
            .unwrap()
            .total,
        0
    );
}

async fn findings_expose_their_covering_exception(ctx: Ctx) {
    let s = &ctx.store;
    let web = project(&ctx, "web", &[("env", "prod")]).await;
    let prod = enrol(s, "prod-1", &labels(&[("env", "prod")]), T0)
        .await
        .host;
    let dev = enrol(s, "dev-1", &labels(&[("env", "dev")]), T0).await.host;
    for h in [&prod, &dev] {
        s.replace_findings(
            &h.id,
            &[
                finding("DSA_1", "openssl", "3.0", SeverityLevel::Critical),
                finding("DSA-2", "curl", "8.0", SeverityLevel::High),
                finding("DSA-3", "bash", "5.2", SeverityLevel::Critical),
            ],
            T0,
        )
        .await
        .unwrap();
    }
    let approve = async |advisory: &'static str, scope: ExceptionScope, expires_at: i64| {
        let e = s
            .request_exception(
                NewException {
                    advisory,
                    scope: &scope,
                    reason: "accepted",
                    ticket: None,
                    expires_at,
                },
                ALICE,
                T0,
            )
            .await
            .unwrap();
        s.decide_exception(&e.exception.id, ExceptionDecision::Approve, BOB, T0)
            .await
            .unwrap()
            .unwrap()
            .exception
    };
    // By alias (the fixture's aliases are `CVE-<id>`), on the project: prod only.
    let project_wide = approve(
        "CVE-DSA_1",
        ExceptionScope::Project {
            project_id: web.clone(),
        },
        T0 + DAY,
    )
    .await;
    // Estate-wide on DSA-2, expiring later.
    let estate = approve("DSA-2", ExceptionScope::Estate, T0 + 2 * DAY).await;
    // Already expired when inserted: never applies.
    approve(
        "DSA-3",
        ExceptionScope::Host {
            host_id: prod.id.clone(),
        },
        T0 + 1,
    )
    .await;
    // `_` in an id is literal: "DSAX1" must not be covered by the DSA_1 exception, and a
    // denied exception covers nothing.
    let pending = s
        .request_exception(
            NewException {
                advisory: "DSA-3",
                scope: &ExceptionScope::Estate,
                reason: "r",
                ticket: None,
                expires_at: T0 + DAY,
            },
            ALICE,
            T0,
        )
        .await
        .unwrap();
    let _ = pending;

    let now = T0 + 10;
    let all = s
        .list_findings_covered(&FindingFilter::default(), Page::default(), now)
        .await
        .unwrap();
    assert_eq!(all.total, 6);
    let projects = s
        .host_project_ids(&[prod.id.clone(), dev.id.clone()])
        .await
        .unwrap();
    assert_eq!(projects[&prod.id], std::slice::from_ref(&web));
    assert!(projects[&dev.id].is_empty());
    for covered in &all.items {
        let f = &covered.finding;
        let expected = match (f.finding.advisory.as_str(), f.host_id == prod.id) {
            ("DSA_1", true) => Some(project_wide.id.as_str()),
            ("DSA-2", _) => Some(estate.id.as_str()),
            _ => None,
        };
        assert_eq!(
            covered.exception.as_ref().map(|e| e.id.as_str()),
            expected,
            "{} on {}",
            f.finding.advisory,
            f.hostname
        );
        // The store's answer agrees with the pure rule.
        if let Some(e) = &covered.exception {
            assert!(applies(
                e,
                &FindingTarget {
                    host_id: &f.host_id,
                    project_ids: &projects[&f.host_id],
                    advisory: &f.finding.advisory,
                    aliases: &f.finding.aliases,
                },
                now
            ));
        }
    }
    // SQL counts agree with the per-finding answer.
    let counts = s
        .finding_counts(&FindingFilter::default(), now)
        .await
        .unwrap();
    assert_eq!(counts.excepted, 3);
    assert_eq!(counts.open.critical, 3, "DSA_1 on dev, DSA-3 on both");
    assert_eq!(counts.open.high, 0);
    let prod_only = FindingFilter {
        host_id: Some(prod.id.clone()),
        ..Default::default()
    };
    let c = s.finding_counts(&prod_only, now).await.unwrap();
    assert_eq!((c.excepted, c.open.critical, c.open.high), (2, 1, 0));

    // A day later the project exception has expired: nothing was written, yet it no
    // longer applies, and the counts follow.
    let later = T0 + DAY;
    let c = s.finding_counts(&prod_only, later).await.unwrap();
    assert_eq!((c.excepted, c.open.critical, c.open.high), (1, 2, 0));
    let covered = s
        .list_findings_covered(&prod_only, Page::default(), later)
        .await
        .unwrap();
    assert!(
        covered
            .items
            .iter()
            .all(|c| c.finding.finding.advisory == "DSA-2" || c.exception.is_none())
    );
    let c = s
        .finding_counts(&FindingFilter::default(), T0 + 3 * DAY)
        .await
        .unwrap();
    assert_eq!((c.excepted, c.open.critical, c.open.high), (0, 4, 2));
}

async fn pending_since_survives_reinventories(ctx: Ctx) {
    let s = &ctx.store;
    let host = enrol(s, "h1", &labels(&[]), T0).await.host;
    let mut inv = inventory("h1", ("debian", "12"), packages(3));
    s.record_inventory(&host.id, &inv, T0).await.unwrap();
    s.sync_pending_since(&host.id, T0).await.unwrap();
    let key = ("openssl".to_string(), "amd64".to_string());
    assert_eq!(
        s.pending_since(&host.id).await.unwrap().get(&key),
        Some(&T0)
    );

    // A different inventory (more packages) with the update still pending, candidate
    // moved on: the pending-since time stays.
    inv.state.packages = packages(4);
    inv.state.updates[0].candidate = "3.0.11-1~deb12u3".into();
    s.record_inventory(&host.id, &inv, T0 + DAY).await.unwrap();
    s.sync_pending_since(&host.id, T0 + DAY).await.unwrap();
    s.sync_pending_since(&host.id, T0 + 2 * DAY).await.unwrap();
    assert_eq!(
        s.pending_since(&host.id).await.unwrap().get(&key),
        Some(&T0)
    );

    // Installed: forgotten; pending again later: a new start.
    inv.state.updates.clear();
    s.record_inventory(&host.id, &inv, T0 + 3 * DAY)
        .await
        .unwrap();
    s.sync_pending_since(&host.id, T0 + 3 * DAY).await.unwrap();
    assert!(s.pending_since(&host.id).await.unwrap().is_empty());
    inv = inventory("h1", ("debian", "12"), packages(5));
    s.record_inventory(&host.id, &inv, T0 + 4 * DAY)
        .await
        .unwrap();
    s.sync_pending_since(&host.id, T0 + 4 * DAY).await.unwrap();
    assert_eq!(
        s.pending_since(&host.id).await.unwrap().get(&key),
        Some(&(T0 + 4 * DAY))
    );
}

fn compliance(state: State, stale: bool, critical: u64, next: Option<i64>) -> Compliance {
    let mut reasons = Vec::new();
    if stale {
        reasons.push(Reason::Stale {
            last_seen: T0,
            stale_after_secs: 180,
        });
    }
    if state == State::NonCompliant && !stale {
        reasons.push(Reason::CriticalFindings {
            count: critical,
            allowed: 0,
            advisories: vec!["DSA-1".into()],
        });
    }
    Compliance {
        state,
        reasons,
        excepted: Vec::new(),
        critical,
        high: 1,
        pending_security: 2,
        next_evaluation_at: next,
    }
}

async fn snapshots_summary_trend_and_scans(ctx: Ctx) {
    let s = &ctx.store;
    let web = project(&ctx, "web", &[("env", "prod")]).await;
    let a = enrol(s, "a", &labels(&[("env", "prod")]), T0).await.host;
    let b = enrol(s, "b", &labels(&[("env", "dev")]), T0).await.host;
    let c = enrol(s, "c", &labels(&[("env", "prod")]), T0).await.host;

    // Nothing evaluated: every host is due.
    assert_eq!(s.hosts_due_for_compliance(T0, 100).await.unwrap().len(), 3);
    assert_eq!(
        s.record_host_compliance(
            &a.id,
            &compliance(State::Compliant, false, 0, Some(T0 + 100)),
            T0
        )
        .await
        .unwrap(),
        None
    );
    s.record_host_compliance(&b.id, &compliance(State::NonCompliant, false, 2, None), T0)
        .await
        .unwrap();
    let prev = s
        .record_host_compliance(
            &a.id,
            &compliance(State::NonCompliant, true, 1, None),
            T0 + 50,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(prev.state, State::Compliant);
    assert!(!prev.stale);
    let snap = s.host_compliance(&a.id).await.unwrap().unwrap();
    assert_eq!(snap.state, State::NonCompliant);
    assert!(snap.stale);
    assert_eq!(snap.state_since, T0 + 50);
    assert_eq!(snap.evaluated_at, T0 + 50);
    assert_eq!(snap.reasons.len(), 1);
    assert_eq!(snap.hostname, "a");
    // Same state again: state_since stays.
    s.record_host_compliance(
        &a.id,
        &compliance(State::NonCompliant, true, 1, None),
        T0 + 60,
    )
    .await
    .unwrap();
    assert_eq!(
        s.host_compliance(&a.id).await.unwrap().unwrap().state_since,
        T0 + 50
    );
    assert_eq!(s.host_compliance(&c.id).await.unwrap(), None);

    // Due: c (never evaluated); a once seen after its stale snapshot.
    assert_eq!(
        s.hosts_due_for_compliance(T0 + 60, 100).await.unwrap(),
        std::slice::from_ref(&c.id)
    );
    s.record_checkin(&a.id, T0 + 70).await.unwrap();
    let mut due = s.hosts_due_for_compliance(T0 + 70, 100).await.unwrap();
    due.sort();
    let mut expected = vec![a.id.clone(), c.id.clone()];
    expected.sort();
    assert_eq!(due, expected);

    let estate = s.compliance_summary(None).await.unwrap();
    assert_eq!(
        (
            estate.hosts,
            estate.evaluated,
            estate.compliant,
            estate.non_compliant,
            estate.stale
        ),
        (3, 2, 0, 2, 1)
    );
    assert_eq!(
        (estate.critical, estate.high, estate.pending_security),
        (3, 2, 4)
    );
    let in_web = s.compliance_summary(Some(&web)).await.unwrap();
    assert_eq!((in_web.hosts, in_web.evaluated, in_web.critical), (2, 1, 1));

    let listed = s
        .list_host_compliance(
            &ComplianceFilter {
                state: Some(State::NonCompliant),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    let stale_only = s
        .list_host_compliance(
            &ComplianceFilter {
                stale: Some(true),
                project_id: Some(web.clone()),
                ..Default::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(stale_only.items.len(), 1);
    assert_eq!(stale_only.items[0].host_id, a.id);

    // Trend: one row per (scope, day), overwritten within the day.
    let day = T0 / DAY;
    let point = |d: i64, nc: u64| TrendPoint {
        day: d,
        hosts: 3,
        non_compliant: nc,
        critical: 3,
        high: 2,
        pending_security: 4,
    };
    s.record_trend(None, &point(day - 1, 1), T0).await.unwrap();
    s.record_trend(None, &point(day, 1), T0).await.unwrap();
    s.record_trend(None, &point(day, 2), T0 + 1).await.unwrap();
    s.record_trend(Some(&web), &point(day, 1), T0)
        .await
        .unwrap();
    let trend = s.trend(None, day - 30).await.unwrap();
    assert_eq!(trend, [point(day - 1, 1), point(day, 2)]);
    assert_eq!(s.trend(None, day).await.unwrap().len(), 1);
    assert_eq!(
        s.trend(Some(&web), day - 30).await.unwrap(),
        [point(day, 1)]
    );

    // Scans.
    assert_eq!(s.last_finished_scan(Some(&web)).await.unwrap(), None);
    let run = s
        .start_scan(Some(&web), ScanTrigger::Manual, Some("alice"), T0)
        .await
        .unwrap();
    assert_eq!(run.finished_at, None);
    assert_eq!(s.last_finished_scan(Some(&web)).await.unwrap(), None);
    let done = s.finish_scan(&run.id, 2, 1, None, T0 + 5).await.unwrap();
    assert_eq!(
        (done.hosts, done.non_compliant, done.finished_at),
        (2, 1, Some(T0 + 5))
    );
    assert_eq!(done.trigger, ScanTrigger::Manual);
    assert_eq!(
        s.last_finished_scan(Some(&web)).await.unwrap(),
        Some(done.clone())
    );
    assert_eq!(s.last_finished_scan(None).await.unwrap(), None);
    let estate_run = s
        .start_scan(None, ScanTrigger::Schedule, None, T0 + 6)
        .await
        .unwrap();
    s.finish_scan(&estate_run.id, 3, 2, Some("boom"), T0 + 7)
        .await
        .unwrap();
    assert_eq!(
        s.last_finished_scan(None).await.unwrap(),
        None,
        "failed scans do not count"
    );
    let scans = s.list_scans(Page::default()).await.unwrap();
    assert_eq!(scans.total, 2);
    assert_eq!(scans.items[0].id, estate_run.id);

    // Marking due: one host, a project's hosts, everything.
    assert_eq!(
        s.mark_compliance_due(Some(&b.id), None, T0 + 80)
            .await
            .unwrap(),
        1
    );
    assert!(
        s.hosts_due_for_compliance(T0 + 80, 100)
            .await
            .unwrap()
            .contains(&b.id)
    );
    assert_eq!(
        s.mark_compliance_due(None, Some(&web), T0 + 80)
            .await
            .unwrap(),
        1,
        "a (c has no snapshot)"
    );
    assert_eq!(s.mark_compliance_due(None, None, T0 + 80).await.unwrap(), 2);

    // Deleting a host drops its snapshot.
    s.delete_host(&b.id).await.unwrap();
    assert_eq!(s.compliance_summary(None).await.unwrap().hosts, 2);
}

async fn advisory_publication_dates(ctx: Ctx) {
    let s = &ctx.store;
    let doc = |id: &str, published: Option<&str>| rampart_core::advisory::Advisory {
        id: id.into(),
        published: published.map(str::to_owned),
        ..Default::default()
    };
    s.upsert_advisories(
        "test",
        &[
            doc("DSA-1", Some("2026-01-01T00:00:00Z")),
            doc("DSA-2", None),
            doc("DSA-3", Some("not a date")),
        ],
        T0,
    )
    .await
    .unwrap();
    let got = s
        .advisories_published(&[
            "DSA-1".into(),
            "DSA-2".into(),
            "DSA-3".into(),
            "DSA-4".into(),
        ])
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got["DSA-1"], 1_767_225_600_000);
}

async fn an_underscore_in_an_exception_id_is_literal(ctx: Ctx) {
    // `_` is a LIKE wildcard; the alias match must not let "A_1" cover "AX1".
    let s = &ctx.store;
    let host = enrol(s, "h1", &labels(&[]), T0).await.host;
    s.replace_findings(
        &host.id,
        &[
            finding("A_1", "openssl", "3.0", SeverityLevel::Critical),
            finding("AX1", "curl", "8.0", SeverityLevel::Critical),
        ],
        T0,
    )
    .await
    .unwrap();
    let e = s
        .request_exception(
            NewException {
                advisory: "CVE-A_1",
                scope: &ExceptionScope::Estate,
                reason: "r",
                ticket: None,
                expires_at: T0 + DAY,
            },
            ALICE,
            T0,
        )
        .await
        .unwrap();
    s.decide_exception(&e.exception.id, ExceptionDecision::Approve, BOB, T0)
        .await
        .unwrap()
        .unwrap();
    let counts = s
        .finding_counts(&FindingFilter::default(), T0)
        .await
        .unwrap();
    assert_eq!((counts.excepted, counts.open.critical), (1, 1));
    let covered = s
        .list_findings_covered(&FindingFilter::default(), Page::default(), T0)
        .await
        .unwrap();
    for c in &covered.items {
        assert_eq!(c.exception.is_some(), c.finding.finding.advisory == "A_1");
    }
}

/// A stale snapshot becomes due when its host shows up again, by check-in or by an
/// inventory (even one equal to the last), and only then; a fresh snapshot does not.
async fn a_stale_host_seen_again_becomes_due(ctx: Ctx) {
    let s = &ctx.store;
    let stale = enrol(s, "stale", &labels(&[]), T0).await.host;
    let fresh = enrol(s, "fresh", &labels(&[]), T0).await.host;
    let inv = inventory("stale", ("debian", "12"), packages(3));
    s.record_inventory(&stale.id, &inv, T0).await.unwrap();
    assert_eq!(
        s.host_inventory(&stale.id)
            .await
            .unwrap()
            .unwrap()
            .state
            .packages
            .len(),
        3,
        "the document is kept apart from the host row and read back whole"
    );
    assert_eq!(s.host_inventory(&fresh.id).await.unwrap(), None);
    s.record_host_compliance(
        &stale.id,
        &compliance(State::NonCompliant, true, 0, None),
        T0 + 10,
    )
    .await
    .unwrap();
    s.record_host_compliance(
        &fresh.id,
        &compliance(State::Compliant, false, 0, None),
        T0 + 10,
    )
    .await
    .unwrap();
    assert!(
        s.hosts_due_for_compliance(T0 + 20, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // The fresh host checking in changes nothing; the stale one's unchanged inventory
    // makes it due at that instant.
    s.record_checkin(&fresh.id, T0 + 30).await.unwrap();
    assert!(
        s.hosts_due_for_compliance(T0 + 30, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let outcome = s.record_inventory(&stale.id, &inv, T0 + 40).await.unwrap();
    assert_eq!(outcome, rampart_store::InventoryOutcome::Unchanged);
    assert!(
        s.hosts_due_for_compliance(T0 + 39, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.hosts_due_for_compliance(T0 + 40, 10).await.unwrap(),
        std::slice::from_ref(&stale.id)
    );
    // Re-evaluated as fresh: due no more, and later check-ins leave it alone.
    s.record_host_compliance(
        &stale.id,
        &compliance(State::Compliant, false, 0, None),
        T0 + 50,
    )
    .await
    .unwrap();
    s.record_checkin(&stale.id, T0 + 60).await.unwrap();
    assert!(
        s.hosts_due_for_compliance(T0 + 60, 10)
            .await
            .unwrap()
            .is_empty()
    );
}
