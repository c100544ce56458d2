use super::*;

const NOW: Millis = 1_767_225_600_000;
const DAY: Millis = 86_400_000;

fn exception(scope: ExceptionScope, status: ExceptionStatus) -> Exception {
    Exception {
        id: "e1".into(),
        advisory: "CVE-2024-0001".into(),
        scope,
        reason: "compensating control".into(),
        ticket: Some("SEC-1".into()),
        expires_at: NOW + DAY,
        status,
        requested_by: "alice-id".into(),
        requested_at: NOW - DAY,
        decided_by: None,
        decided_at: None,
    }
}

fn target<'a>(
    host: &'a str,
    projects: &'a [String],
    advisory: &'a str,
    aliases: &'a [String],
) -> FindingTarget<'a> {
    FindingTarget {
        host_id: host,
        project_ids: projects,
        advisory,
        aliases,
    }
}

#[test]
fn scopes_select_the_right_findings() {
    let projects = vec!["p1".to_string()];
    let aliases = vec!["CVE-2024-0001".to_string()];
    let on_h1 = target("h1", &projects, "DSA-1-1", &aliases);
    let on_h2 = target("h2", &[], "DSA-1-1", &aliases);
    let host = exception(
        ExceptionScope::Host {
            host_id: "h1".into(),
        },
        ExceptionStatus::Approved,
    );
    let project = exception(
        ExceptionScope::Project {
            project_id: "p1".into(),
        },
        ExceptionStatus::Approved,
    );
    let estate = exception(ExceptionScope::Estate, ExceptionStatus::Approved);
    for (e, h1, h2) in [
        (&host, true, false),
        (&project, true, false),
        (&estate, true, true),
    ] {
        assert_eq!(applies(e, &on_h1, NOW), h1, "{:?}", e.scope);
        assert_eq!(applies(e, &on_h2, NOW), h2, "{:?}", e.scope);
    }
    // The advisory id itself or an alias; another advisory never.
    let direct = target("h1", &[], "CVE-2024-0001", &[]);
    assert!(applies(&estate, &direct, NOW));
    let other = target("h1", &[], "CVE-2024-9999", &[]);
    assert!(!applies(&estate, &other, NOW));
}

#[test]
fn only_approved_unexpired_exceptions_apply() {
    let t = target("h1", &[], "CVE-2024-0001", &[]);
    for status in ExceptionStatus::ALL {
        let e = exception(ExceptionScope::Estate, status);
        assert_eq!(
            applies(&e, &t, NOW),
            status == ExceptionStatus::Approved,
            "{status}"
        );
    }
    let e = exception(ExceptionScope::Estate, ExceptionStatus::Approved);
    assert!(applies(&e, &t, e.expires_at - 1));
    // Expiry is exclusive and needs nobody to act: the same value, a later `now`.
    assert!(!applies(&e, &t, e.expires_at));
    assert!(!applies(&e, &t, e.expires_at + 365 * DAY));
    assert_eq!(e.effective_status(e.expires_at), EffectiveStatus::Expired);
    assert_eq!(e.effective_status(NOW), EffectiveStatus::Approved);
    let denied = exception(ExceptionScope::Estate, ExceptionStatus::Denied);
    assert_eq!(
        denied.effective_status(e.expires_at + 1),
        EffectiveStatus::Denied
    );
}

#[test]
fn the_most_specific_exception_explains_a_finding() {
    let projects = vec!["p1".to_string()];
    let t = target("h1", &projects, "CVE-2024-0001", &[]);
    let mut estate = exception(ExceptionScope::Estate, ExceptionStatus::Approved);
    estate.id = "estate".into();
    estate.expires_at = NOW + 10 * DAY;
    let mut project = exception(
        ExceptionScope::Project {
            project_id: "p1".into(),
        },
        ExceptionStatus::Approved,
    );
    project.id = "project".into();
    let mut host = exception(
        ExceptionScope::Host {
            host_id: "h1".into(),
        },
        ExceptionStatus::Approved,
    );
    host.id = "host".into();
    host.expires_at = NOW + 1;
    let all = [estate.clone(), project.clone(), host.clone()];
    assert_eq!(covering(&all, &t, NOW).map(|e| e.id.as_str()), Some("host"));
    // Once the host exception expires, the project one takes over, then the estate one.
    assert_eq!(
        covering(&all, &t, NOW + 1).map(|e| e.id.as_str()),
        Some("project")
    );
    assert_eq!(
        covering(&all, &t, NOW + DAY).map(|e| e.id.as_str()),
        Some("estate")
    );
    assert_eq!(covering(&all, &t, NOW + 10 * DAY), None);
}

#[test]
fn the_requester_cannot_approve_their_own_exception() {
    let e = exception(ExceptionScope::Estate, ExceptionStatus::Requested);
    assert_eq!(can_approve(&e, "alice-id", NOW), Err(Refusal::SelfApproval));
    assert_eq!(can_approve(&e, "bob-id", NOW), Ok(()));
    assert_eq!(
        can_approve(&e, "bob-id", e.expires_at),
        Err(Refusal::Expired)
    );
    let approved = exception(ExceptionScope::Estate, ExceptionStatus::Approved);
    assert_eq!(
        can_approve(&approved, "bob-id", NOW),
        Err(Refusal::NotPending {
            status: ExceptionStatus::Approved
        })
    );
}

#[test]
fn deny_and_revoke_follow_the_life_cycle() {
    let requested = exception(ExceptionScope::Estate, ExceptionStatus::Requested);
    assert_eq!(can_deny(&requested), Ok(()));
    assert_eq!(can_revoke(&requested), Ok(()));
    let approved = exception(ExceptionScope::Estate, ExceptionStatus::Approved);
    assert!(can_deny(&approved).is_err());
    assert_eq!(can_revoke(&approved), Ok(()));
    for closed in [ExceptionStatus::Denied, ExceptionStatus::Revoked] {
        let e = exception(ExceptionScope::Estate, closed);
        assert_eq!(can_revoke(&e), Err(Refusal::Closed { status: closed }));
        assert!(can_deny(&e).is_err());
    }
}

#[test]
fn requests_are_validated() {
    assert_eq!(
        validate_request("CVE-2024-1", "why", None, NOW + 1, NOW),
        Ok(())
    );
    assert_eq!(
        validate_request("ALSA-2024:1234", "why", Some("T-1"), NOW + 1, NOW),
        Ok(())
    );
    assert_eq!(
        validate_request("", "why", None, NOW + 1, NOW),
        Err(RequestError::Advisory)
    );
    assert_eq!(
        validate_request("CVE%", "why", None, NOW + 1, NOW),
        Err(RequestError::Advisory)
    );
    assert_eq!(
        validate_request("CVE 1", "why", None, NOW + 1, NOW),
        Err(RequestError::Advisory)
    );
    assert_eq!(
        validate_request("CVE-1", "  ", None, NOW + 1, NOW),
        Err(RequestError::Reason)
    );
    assert_eq!(
        validate_request("CVE-1", "why", Some(&"x".repeat(257)), NOW + 1, NOW),
        Err(RequestError::Ticket)
    );
    assert_eq!(
        validate_request("CVE-1", "why", None, NOW, NOW),
        Err(RequestError::ExpiryInPast)
    );
}

#[test]
fn statuses_round_trip() {
    for s in ExceptionStatus::ALL {
        assert_eq!(s.as_str().parse::<ExceptionStatus>(), Ok(s));
    }
    assert!("expired".parse::<ExceptionStatus>().is_err());
}
