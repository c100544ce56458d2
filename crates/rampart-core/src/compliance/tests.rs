use proptest::prelude::*;

use super::*;
use crate::exceptions::{ExceptionScope, ExceptionStatus};

const NOW: Millis = 1_767_225_600_000;

fn facts() -> HostFacts {
    HostFacts {
        host_id: "h1".into(),
        project_ids: vec!["p1".into()],
        enrolled_at: NOW - 30 * DAY,
        last_seen: NOW - 1000,
        last_inventory_at: Some(NOW - 1000),
        last_updated_at: Some(NOW - 10 * DAY),
        ..HostFacts::default()
    }
}

fn finding(advisory: &str, package: &str, severity: SeverityLevel) -> FindingFact {
    FindingFact {
        advisory: advisory.into(),
        aliases: vec![format!("{advisory}-alias")],
        package: package.into(),
        severity,
    }
}

fn update(name: &str, security: bool, first_seen: Millis) -> PendingUpdateFact {
    PendingUpdateFact {
        name: name.into(),
        arch: Some("amd64".into()),
        installed: "1.0".into(),
        candidate: "1.1".into(),
        reported_security: security,
        fixes: Vec::new(),
        advisory_published: None,
        first_seen_pending: first_seen,
    }
}

fn approved(advisory: &str, expires_at: Millis) -> Exception {
    Exception {
        id: format!("x-{advisory}"),
        advisory: advisory.into(),
        scope: ExceptionScope::Host {
            host_id: "h1".into(),
        },
        reason: "accepted".into(),
        ticket: None,
        expires_at,
        status: ExceptionStatus::Approved,
        requested_by: "a".into(),
        requested_at: NOW - DAY,
        decided_by: Some("b".into()),
        decided_at: Some(NOW - DAY),
    }
}

fn kinds(c: &Compliance) -> Vec<&'static str> {
    c.reasons.iter().map(Reason::kind).collect()
}

#[test]
fn a_clean_host_is_compliant_and_says_when_to_look_again() {
    let c = evaluate(&Standard::default(), &facts(), &[], NOW);
    assert_eq!(c.state, State::Compliant);
    assert!(c.reasons.is_empty());
    // The host goes stale 3 minutes after it was last seen.
    assert_eq!(c.next_evaluation_at, Some(NOW - 1000 + 180_000 + 1));
}

#[test]
fn every_reason_is_returned_at_once() {
    let mut f = facts();
    f.last_seen = NOW - 10 * 60_000;
    f.last_updated_at = Some(NOW - 100 * DAY);
    f.findings = vec![
        finding("DSA-2", "openssl", SeverityLevel::Critical),
        finding("DSA-1", "openssl", SeverityLevel::Critical),
        finding("DSA-3", "curl", SeverityLevel::High),
    ];
    let mut overdue = update("openssl", false, NOW - 20 * DAY);
    overdue.fixes = vec!["DSA-1".into()];
    f.pending_updates = vec![overdue, update("bash", false, NOW - 20 * DAY)];
    f.unauthorized = vec![UnauthorizedFact {
        name: "telnetd".into(),
        version: "0.17".into(),
        rule: "denied by \"telnet*\"".into(),
        first_seen: NOW - DAY,
    }];
    let c = evaluate(&Standard::default(), &f, &[], NOW);
    assert_eq!(c.state, State::NonCompliant);
    assert_eq!(
        kinds(&c),
        [
            "stale",
            "critical_findings",
            "overdue_security_update",
            "not_updated",
            "unauthorized_package"
        ]
    );
    assert!(c.is_stale());
    assert_eq!(
        c.reasons[1],
        Reason::CriticalFindings {
            count: 2,
            allowed: 0,
            advisories: vec!["DSA-1".into(), "DSA-2".into()],
        }
    );
    match &c.reasons[2] {
        Reason::OverdueSecurityUpdate {
            package,
            days,
            basis,
            fixes,
            ..
        } => {
            assert_eq!(package, "openssl");
            assert_eq!(*days, 20);
            assert_eq!(*basis, ReleaseBasis::FirstSeenPending);
            assert_eq!(fixes, &["DSA-1".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!((c.critical, c.high, c.pending_security), (2, 1, 1));
    // Every reason explains itself in words.
    assert!(c.reasons.iter().all(|r| !r.to_string().is_empty()));
}

#[test]
fn a_host_never_inventoried_is_non_compliant_not_unknown() {
    let mut f = facts();
    f.last_inventory_at = None;
    f.findings = vec![finding("DSA-1", "x", SeverityLevel::Critical)];
    let c = evaluate(&Standard::default(), &f, &[], NOW);
    assert_eq!(c.state, State::NonCompliant);
    assert_eq!(kinds(&c), ["never_inventoried"]);
}

#[test]
fn staleness_follows_the_check_in_window() {
    let standard = Standard::default();
    let mut f = facts();
    f.last_seen = NOW - standard.stale_after();
    assert!(
        !evaluate(&standard, &f, &[], NOW).is_stale(),
        "exactly at the window"
    );
    f.last_seen -= 1;
    assert!(evaluate(&standard, &f, &[], NOW).is_stale());
    let slow = Standard {
        checkin_interval_secs: 3600,
        ..standard
    };
    assert!(!evaluate(&slow, &f, &[], NOW).is_stale());
}

#[test]
fn critical_findings_within_the_allowance_pass() {
    let mut f = facts();
    f.findings = vec![
        finding("DSA-1", "a", SeverityLevel::Critical),
        finding("DSA-2", "b", SeverityLevel::Critical),
    ];
    let lenient = Standard {
        critical_findings_allowed: 2,
        ..Standard::default()
    };
    assert_eq!(evaluate(&lenient, &f, &[], NOW).state, State::Compliant);
    let strict = Standard::default();
    assert_eq!(evaluate(&strict, &f, &[], NOW).state, State::NonCompliant);
}

#[test]
fn exceptions_remove_findings_until_they_expire() {
    let mut f = facts();
    f.findings = vec![finding("DSA-1", "openssl", SeverityLevel::Critical)];
    let expires = NOW + DAY;
    // Named through an alias.
    let exceptions = [approved("DSA-1-alias", expires)];
    let c = evaluate(&Standard::default(), &f, &exceptions, NOW);
    assert_eq!(c.state, State::Compliant);
    assert_eq!(c.critical, 0);
    assert_eq!(c.excepted.len(), 1);
    assert_eq!(c.excepted[0].exception_id, "x-DSA-1-alias");
    assert!(c.next_evaluation_at.unwrap() <= expires);
    // The same exception, judged later: nothing changed but `now`.
    let mut later = f.clone();
    later.last_seen = expires;
    let c = evaluate(&Standard::default(), &later, &exceptions, expires);
    assert_eq!(c.state, State::NonCompliant);
    assert_eq!(kinds(&c), ["critical_findings"]);
    assert!(c.excepted.is_empty());
    // A requested (not approved) exception accepts nothing.
    let mut requested = approved("DSA-1", expires);
    requested.status = ExceptionStatus::Requested;
    let c = evaluate(&Standard::default(), &f, &[requested], NOW);
    assert_eq!(c.state, State::NonCompliant);
}

#[test]
fn an_overdue_update_fixing_only_excepted_advisories_is_accepted() {
    let mut f = facts();
    f.findings = vec![finding("DSA-1", "openssl", SeverityLevel::High)];
    let mut u = update("openssl", false, NOW - 30 * DAY);
    u.fixes = vec!["DSA-1".into()];
    f.pending_updates = vec![u];
    let c = evaluate(&Standard::default(), &f, &[], NOW);
    assert_eq!(kinds(&c), ["overdue_security_update"]);
    let c = evaluate(
        &Standard::default(),
        &f,
        &[approved("DSA-1", NOW + DAY)],
        NOW,
    );
    assert_eq!(c.state, State::Compliant);
}

#[test]
fn release_time_is_the_earliest_known_instant() {
    let mut u = update("openssl", true, NOW - 2 * DAY);
    assert_eq!(
        u.released_at(),
        (NOW - 2 * DAY, ReleaseBasis::FirstSeenPending)
    );
    u.advisory_published = Some(NOW - 9 * DAY);
    assert_eq!(
        u.released_at(),
        (NOW - 9 * DAY, ReleaseBasis::AdvisoryPublished)
    );
    // An advisory published after Rampart already saw the fix pending does not move it.
    u.advisory_published = Some(NOW - DAY);
    assert_eq!(
        u.released_at(),
        (NOW - 2 * DAY, ReleaseBasis::FirstSeenPending)
    );

    let mut f = facts();
    let mut u = update("openssl", true, NOW - 2 * DAY);
    u.advisory_published = Some(NOW - 9 * DAY);
    f.pending_updates = vec![u];
    let c = evaluate(&Standard::default(), &f, &[], NOW);
    assert_eq!(
        kinds(&c),
        ["overdue_security_update"],
        "published 9 days ago, 7 allowed"
    );
}

#[test]
fn only_security_updates_become_overdue_at_the_deadline() {
    let standard = Standard::default();
    let mut f = facts();
    f.pending_updates = vec![update("bash", false, NOW - 100 * DAY)];
    let c = evaluate(&standard, &f, &[], NOW);
    assert_eq!(c.state, State::Compliant, "not a security update");
    f.pending_updates = vec![update("openssl", true, NOW - 7 * DAY)];
    let c = evaluate(&standard, &f, &[], NOW);
    assert_eq!(c.state, State::Compliant, "exactly 7 days is still allowed");
    assert_eq!(c.pending_security, 1);
    assert_eq!(c.next_evaluation_at, Some(NOW + 1));
    let c = evaluate(&standard, &f, &[], NOW + 1);
    assert_eq!(kinds(&c), ["overdue_security_update"]);
}

#[test]
fn not_updated_uses_the_last_package_change() {
    let mut f = facts();
    f.last_updated_at = Some(NOW - 91 * DAY);
    let c = evaluate(&Standard::default(), &f, &[], NOW);
    assert_eq!(
        c.reasons,
        [Reason::NotUpdated {
            last_updated_at: NOW - 91 * DAY,
            days: 91,
            threshold_days: 90
        }]
    );
    f.last_updated_at = None;
    f.last_inventory_at = Some(NOW - 91 * DAY);
    assert_eq!(
        kinds(&evaluate(&Standard::default(), &f, &[], NOW)),
        ["not_updated"]
    );
}

#[test]
fn the_strictest_standard_wins() {
    let a = Standard {
        max_pending_security_days: 3,
        critical_findings_allowed: 5,
        stale_after_checkins: 10,
        checkin_interval_secs: 10,
        ..Standard::default()
    };
    let b = Standard {
        max_pending_security_days: 14,
        critical_findings_allowed: 1,
        last_updated_alert_days: 30,
        ..Standard::default()
    };
    let s = Standard::strictest([&a, &b]);
    assert_eq!(s.max_pending_security_days, 3);
    assert_eq!(s.critical_findings_allowed, 1);
    assert_eq!(s.last_updated_alert_days, 30);
    assert_eq!(s.stale_after(), 100_000, "10 × 10 s beats 3 × 60 s");
    assert_eq!(Standard::strictest([]), Standard::default());
}

#[test]
fn standards_are_validated() {
    assert_eq!(Standard::default().validate(), Ok(()));
    let bad = Standard {
        checkin_interval_secs: 0,
        ..Standard::default()
    };
    assert_eq!(bad.validate().unwrap_err().field, "checkin_interval_secs");
    let zero_days = Standard {
        max_pending_security_days: 0,
        ..Standard::default()
    };
    assert_eq!(zero_days.validate(), Ok(()));
}

#[test]
fn rfc3339_dates() {
    for (text, expected) in [
        ("1970-01-01T00:00:00Z", Some(0)),
        ("1970-01-01", Some(0)),
        ("2024-02-29T12:00:00Z", Some(1_709_208_000_000)),
        ("2024-02-29T12:00:00.5Z", Some(1_709_208_000_500)),
        ("2024-02-29T12:00:00.123456Z", Some(1_709_208_000_123)),
        ("2024-02-29T14:00:00+02:00", Some(1_709_208_000_000)),
        ("2024-02-29T10:00:00-02:00", Some(1_709_208_000_000)),
        ("2026-01-01T00:00:00Z", Some(NOW)),
        ("2023-02-29T00:00:00Z", None),
        ("2024-13-01T00:00:00Z", None),
        ("2024-01-01T24:00:00Z", None),
        ("2024-01-01T00:00:00", None),
        ("yesterday", None),
        ("", None),
    ] {
        assert_eq!(parse_rfc3339(text), expected, "{text}");
    }
}

proptest! {
    #[test]
    fn compliant_exactly_when_no_reason(
        seen_ago in 0i64..10 * DAY,
        updated_ago in 0i64..200 * DAY,
        criticals in 0usize..4,
        allowed in 0u32..4,
        pending_ago in proptest::collection::vec((0i64..30 * DAY, any::<bool>()), 0..4),
    ) {
        let mut f = facts();
        f.last_seen = NOW - seen_ago;
        f.last_updated_at = Some(NOW - updated_ago);
        f.findings = (0..criticals)
            .map(|i| finding(&format!("DSA-{i}"), "p", SeverityLevel::Critical))
            .collect();
        f.pending_updates = pending_ago
            .iter()
            .enumerate()
            .map(|(i, (ago, sec))| update(&format!("u{i}"), *sec, NOW - ago))
            .collect();
        let standard = Standard { critical_findings_allowed: allowed, ..Standard::default() };
        let c = evaluate(&standard, &f, &[], NOW);
        prop_assert_eq!(c.state == State::Compliant, c.reasons.is_empty());
        prop_assert_eq!(
            c.reasons.iter().any(|r| r.kind() == "critical_findings"),
            criticals as u32 > allowed
        );
        // Nothing changes before the announced next evaluation.
        if let Some(next) = c.next_evaluation_at {
            prop_assert!(next > NOW);
            let just_before = evaluate(&standard, &f, &[], next - 1);
            prop_assert_eq!(kinds(&just_before), kinds(&c));
        }
    }

    #[test]
    fn rfc3339_round_trips_whole_days(days in -100_000i64..100_000) {
        // Build the date text from the day count with the inverse algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        prop_assume!((1000..=9999).contains(&y));
        let text = format!("{y:04}-{m:02}-{d:02}T00:00:00Z");
        prop_assert_eq!(parse_rfc3339(&text), Some(days * DAY));
    }

    #[test]
    fn rfc3339_never_panics(s in "\\PC{0,40}") {
        let _ = parse_rfc3339(&s);
    }
}
