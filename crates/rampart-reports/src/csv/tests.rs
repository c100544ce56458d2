use rampart_core::severity::SeverityLevel;

use super::*;
use crate::model::{ComplianceRow, FindingRow, HostState, Scope, SeverityCounts};

fn field(s: &str) -> String {
    let mut buf = String::new();
    push_field(&mut buf, s);
    buf
}

#[test]
fn fields_are_quoted_as_rfc_4180_says() {
    for (input, expected) in [
        ("plain", "plain"),
        ("", ""),
        ("with space", "with space"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("two\nlines", "\"two\nlines\""),
        ("cr\rlf", "\"cr\rlf\""),
        ("ünïcødé", "ünïcødé"),
    ] {
        assert_eq!(field(input), expected, "{input:?}");
    }
}

#[test]
fn cells_a_spreadsheet_would_run_as_formulas_are_guarded() {
    for (input, expected) in [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        // Guarded and quoted: the quote mark goes inside the quotes.
        (
            "=HYPERLINK(\"http://x\",\"y\")",
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
        ),
        ("\r=1", "\"'\r=1\""),
        // Only a leading character counts.
        ("a=b", "a=b"),
        ("1-2", "1-2"),
    ] {
        assert_eq!(field(input), expected, "{input:?}");
    }
}

fn row(hostname: &str) -> ComplianceRow {
    ComplianceRow {
        hostname: hostname.to_owned(),
        host_id: "h1".to_owned(),
        projects: vec!["web".into(), "prod, eu".into()],
        os: "Debian GNU/Linux 12 (bookworm)".into(),
        state: HostState::NonCompliant,
        reasons: vec!["2 critical findings".into(), "update pending".into()],
        findings: SeverityCounts {
            critical: 2,
            high: 1,
            medium: 0,
            low: 4,
            unknown: 0,
        },
        pending_updates: 7,
        pending_security_updates: 3,
        last_seen: Some(1_795_953_600_000),
        last_updated: None,
        exceptions: vec![ExceptionRef {
            id: "EXC-1".into(),
            advisory: "DSA-1-1".into(),
            approver: "alice".into(),
            expires_at: 1_798_675_200_000,
        }],
    }
}

#[test]
fn the_compliance_csv_has_a_header_and_one_line_per_host() {
    let report = ComplianceReport::new(
        Scope::Estate,
        0,
        vec![row("web-1"), row("=cmd|' /C calc'!A0")],
    );
    let mut out = Vec::new();
    write_compliance(&report, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], COMPLIANCE_COLUMNS.join(","));
    assert_eq!(
        lines[1],
        "web-1,h1,\"web; prod, eu\",Debian GNU/Linux 12 (bookworm),non_compliant,\
         2 critical findings; update pending,2,1,0,4,0,7,3,2026-11-29T12:00:00Z,,\
         \"EXC-1 (DSA-1-1, approved by alice, until 2026-12-31)\""
    );
    assert!(
        lines[2].starts_with("'=cmd|' /C calc'!A0,h1,"),
        "{}",
        lines[2]
    );
}

#[test]
fn the_findings_csv_spells_out_the_covering_exception() {
    let finding = FindingRow {
        hostname: "db-1".into(),
        host_id: "h2".into(),
        advisory: "DSA-5000-1".into(),
        aliases: vec!["CVE-2024-1".into(), "CVE-2024-2".into()],
        package: "openssl".into(),
        installed: "3.0.13-1~deb12u1".into(),
        fixed: Some("3.0.15-1~deb12u1".into()),
        severity: SeverityLevel::Critical,
        cvss: Some(9.8),
        first_seen: 1_795_953_600_000,
        exception: Some(ExceptionRef {
            id: "EXC-9".into(),
            advisory: "DSA-5000-1".into(),
            approver: "bob".into(),
            expires_at: 1_798_675_200_000,
        }),
    };
    let unfixed = FindingRow {
        fixed: None,
        cvss: None,
        exception: None,
        severity: SeverityLevel::Unknown,
        ..finding.clone()
    };
    let report = FindingsReport::new(Scope::Estate, None, 0, vec![finding, unfixed]);
    let mut out = Vec::new();
    write_findings(&report, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines[0], FINDINGS_COLUMNS.join(","));
    assert_eq!(
        lines[1],
        "db-1,h2,DSA-5000-1,CVE-2024-1; CVE-2024-2,openssl,3.0.13-1~deb12u1,\
         3.0.15-1~deb12u1,critical,9.8,2026-11-29T12:00:00Z,EXC-9,bob,2026-12-31T00:00:00Z"
    );
    assert_eq!(
        lines[2],
        "db-1,h2,DSA-5000-1,CVE-2024-1; CVE-2024-2,openssl,3.0.13-1~deb12u1,,unknown,,\
         2026-11-29T12:00:00Z,,,"
    );
    assert_eq!(lines.len(), 3);
}
