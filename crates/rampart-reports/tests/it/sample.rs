//! Synthetic but realistic reports for the tests and the benchmarks: hostnames, projects,
//! OS names, reasons and advisories shaped like a real estate's, counts from a fixed
//! pseudo-random sequence so every run sees the same report.

use rampart_core::severity::SeverityLevel;
use rampart_reports::{
    ComplianceReport, ComplianceRow, ExceptionRef, FindingRow, FindingsReport, HostState, Scope,
    SeverityCounts,
};

/// 2026-11-29T12:00:00Z.
pub(crate) const GENERATED_AT: i64 = 1_795_953_600_000;
const DAY: i64 = 86_400_000;

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const OSES: [&str; 4] = [
    "Debian GNU/Linux 12 (bookworm)",
    "Ubuntu 24.04.1 LTS",
    "Rocky Linux 9.4 (Blue Onyx)",
    "Alpine Linux v3.20",
];
const ROLES: [&str; 5] = ["web", "db", "cache", "batch", "edge"];
const PACKAGES: [(&str, &str, &str); 6] = [
    ("openssl", "3.0.13-1~deb12u1", "3.0.15-1~deb12u1"),
    ("libxml2", "2.9.14+dfsg-1.3", "2.9.14+dfsg-1.3~deb12u1"),
    ("linux-image-6.1.0-18-amd64", "6.1.76-1", "6.1.112-1"),
    ("curl", "7.88.1-10+deb12u5", "7.88.1-10+deb12u8"),
    ("glibc", "2.36-9+deb12u4", "2.36-9+deb12u7"),
    ("sudo", "1.9.13p3-1+deb12u1", ""),
];

pub(crate) fn hostname(i: usize) -> String {
    format!(
        "{}-{i:05}.{}.eu-west-1.example.com",
        ROLES[i % ROLES.len()],
        if i.is_multiple_of(3) {
            "staging"
        } else {
            "prod"
        }
    )
}

fn host_id(i: usize) -> String {
    format!("0193a5f0-0000-7000-8000-{i:012}")
}

/// A compliance report of `hosts` hosts.
pub(crate) fn compliance(hosts: usize) -> ComplianceReport {
    let mut rng = Rng(7);
    let rows = (0..hosts)
        .map(|i| {
            let roll = rng.below(100);
            let state = match roll {
                0..70 => HostState::Compliant,
                70..90 => HostState::NonCompliant,
                90..97 => HostState::Stale,
                _ => HostState::Unknown,
            };
            let findings = SeverityCounts {
                critical: if state == HostState::NonCompliant {
                    rng.below(3)
                } else {
                    0
                },
                high: rng.below(6),
                medium: rng.below(15),
                low: rng.below(20),
                unknown: rng.below(3),
            };
            let mut reasons = Vec::new();
            if state == HostState::NonCompliant {
                if findings.critical > 0 {
                    reasons.push(format!(
                        "{} critical findings open (the standard allows 0)",
                        findings.critical
                    ));
                }
                reasons.push(format!(
                    "security update for {} pending for {} days (the standard allows 7)",
                    PACKAGES[i % PACKAGES.len()].0,
                    8 + rng.below(40)
                ));
            }
            if state == HostState::Stale {
                reasons.push(format!(
                    "last check-in {} hours ago (stale after 3 intervals)",
                    4 + rng.below(100)
                ));
            }
            let pending_security_updates = rng.below(5);
            let exceptions = if rng.below(20) == 0 {
                vec![ExceptionRef {
                    id: format!("EXC-{i}"),
                    advisory: format!("DSA-{}-1", 5000 + i % 700),
                    approver: "alice".to_owned(),
                    expires_at: GENERATED_AT + 30 * DAY,
                }]
            } else {
                Vec::new()
            };
            ComplianceRow {
                hostname: hostname(i),
                host_id: host_id(i),
                projects: vec![
                    ROLES[i % ROLES.len()].to_owned(),
                    if i % 3 == 0 { "staging" } else { "production" }.to_owned(),
                ],
                os: OSES[i % OSES.len()].to_owned(),
                state,
                reasons,
                findings,
                pending_updates: pending_security_updates + rng.below(30),
                pending_security_updates,
                last_seen: Some(GENERATED_AT - rng.below(DAY as u64) as i64),
                last_updated: if i % 50 == 0 {
                    None
                } else {
                    Some(GENERATED_AT - rng.below(120) as i64 * DAY)
                },
                exceptions,
            }
        })
        .collect();
    ComplianceReport::new(Scope::Estate, GENERATED_AT, rows)
}

/// A findings report of `per_host` findings on each of `hosts` hosts, worst first.
pub(crate) fn findings(hosts: usize, per_host: usize) -> FindingsReport {
    let mut rng = Rng(11);
    let mut rows = Vec::with_capacity(hosts * per_host);
    for i in 0..hosts {
        for k in 0..per_host {
            let (package, installed, fixed) = PACKAGES[(i + k) % PACKAGES.len()];
            let severity = SeverityLevel::ALL[rng.below(5) as usize];
            let n = 5000 + rng.below(900);
            rows.push(FindingRow {
                hostname: hostname(i),
                host_id: host_id(i),
                advisory: format!("DSA-{n}-1"),
                aliases: (0..1 + rng.below(3))
                    .map(|a| format!("CVE-2024-{}", 10_000 + n * 3 + a))
                    .collect(),
                package: package.to_owned(),
                installed: installed.to_owned(),
                fixed: (!fixed.is_empty()).then(|| fixed.to_owned()),
                severity,
                cvss: (severity != SeverityLevel::Unknown).then(|| (rng.below(100) as f64) / 10.0),
                first_seen: GENERATED_AT - rng.below(200) as i64 * DAY,
                exception: (rng.below(25) == 0).then(|| ExceptionRef {
                    id: format!("EXC-{i}-{k}"),
                    advisory: format!("DSA-{n}-1"),
                    approver: "bob".to_owned(),
                    expires_at: GENERATED_AT + 14 * DAY,
                }),
            });
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.severity));
    FindingsReport::new(Scope::Estate, None, GENERATED_AT, rows)
}
