use rampart_core::severity::SeverityLevel;
use serde_json::{Value, json};

use super::*;
use crate::model::{ComplianceRow, ExceptionRef, FindingRow, HostState, Scope, SeverityCounts};

fn parse(bytes: Vec<u8>) -> Value {
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn the_compliance_json_has_the_documented_shape() {
    let row = ComplianceRow {
        hostname: "web-1".into(),
        host_id: "h1".into(),
        projects: vec!["web".into()],
        os: "Debian GNU/Linux 12 (bookworm)".into(),
        state: HostState::Stale,
        reasons: vec!["last check-in 5 hours ago".into()],
        findings: SeverityCounts {
            critical: 1,
            high: 2,
            medium: 3,
            low: 4,
            unknown: 5,
        },
        pending_updates: 9,
        pending_security_updates: 2,
        last_seen: Some(1_795_953_600_000),
        last_updated: None,
        exceptions: vec![ExceptionRef {
            id: "EXC-1".into(),
            advisory: "DSA-1-1".into(),
            approver: "alice".into(),
            expires_at: 1_798_675_200_000,
        }],
    };
    let report = ComplianceReport::new(
        Scope::Project {
            id: "p1".into(),
            name: "web".into(),
        },
        1_795_953_600_000,
        vec![row],
    );
    let mut out = Vec::new();
    write_compliance(&report, &mut out).unwrap();
    assert_eq!(
        parse(out),
        json!({
            "report": "compliance",
            "format_version": 1,
            "scope": {"kind": "project", "id": "p1", "name": "web"},
            "generated_at": "2026-11-29T12:00:00Z",
            "summary": {
                "hosts": 1, "compliant": 0, "non_compliant": 0, "stale": 1, "unknown": 0,
                "findings": {"critical": 1, "high": 2, "medium": 3, "low": 4, "unknown": 5},
                "pending_security_updates": 2,
                "hosts_with_exceptions": 1
            },
            "hosts": [{
                "hostname": "web-1",
                "host_id": "h1",
                "projects": ["web"],
                "os": "Debian GNU/Linux 12 (bookworm)",
                "state": "stale",
                "reasons": ["last check-in 5 hours ago"],
                "findings": {"critical": 1, "high": 2, "medium": 3, "low": 4, "unknown": 5},
                "pending_updates": 9,
                "pending_security_updates": 2,
                "last_seen": "2026-11-29T12:00:00Z",
                "last_updated": null,
                "exceptions": [{
                    "id": "EXC-1", "advisory": "DSA-1-1", "approver": "alice",
                    "expires_at": "2026-12-31T00:00:00Z"
                }]
            }]
        })
    );
}

#[test]
fn the_findings_json_has_the_documented_shape() {
    let finding = FindingRow {
        hostname: "db-1".into(),
        host_id: "h2".into(),
        advisory: "DSA-5000-1".into(),
        aliases: vec!["CVE-2024-1".into()],
        package: "openssl".into(),
        installed: "3.0.13-1".into(),
        fixed: None,
        severity: SeverityLevel::High,
        cvss: Some(7.5),
        first_seen: 0,
        exception: None,
    };
    let report = FindingsReport::new(
        Scope::Estate,
        Some(SeverityLevel::High),
        1_795_953_600_000,
        vec![finding],
    );
    let mut out = Vec::new();
    write_findings(&report, &mut out).unwrap();
    assert_eq!(
        parse(out),
        json!({
            "report": "findings",
            "format_version": 1,
            "scope": {"kind": "estate"},
            "severity": "high",
            "generated_at": "2026-11-29T12:00:00Z",
            "summary": {
                "findings": 1,
                "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 0, "unknown": 0},
                "hosts": 1,
                "advisories": 1,
                "excepted": 0
            },
            "findings": [{
                "hostname": "db-1",
                "host_id": "h2",
                "advisory": "DSA-5000-1",
                "aliases": ["CVE-2024-1"],
                "package": "openssl",
                "installed": "3.0.13-1",
                "fixed": null,
                "severity": "high",
                "cvss": 7.5,
                "first_seen": "1970-01-01T00:00:00Z",
                "exception": null
            }]
        })
    );
}
