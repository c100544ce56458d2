//! What a report says, independent of how it is rendered. The server (or anything else)
//! maps its own data into these types; every renderer reads only them, so CSV, JSON and
//! PDF always agree. Summaries are computed from the rows by the constructors, so a
//! report's totals cannot disagree with its rows.

use std::collections::BTreeSet;

use rampart_core::severity::SeverityLevel;
use serde::Serialize;

/// Unix milliseconds (the store's and the API's time unit).
pub type Millis = i64;

/// Which hosts a report covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Every host.
    Estate,
    /// The hosts selected by one project.
    Project { id: String, name: String },
}

impl Scope {
    /// For titles: `Estate-wide` or `Project web`.
    pub fn label(&self) -> String {
        match self {
            Scope::Estate => "Estate-wide".to_owned(),
            Scope::Project { name, .. } => format!("Project {name}"),
        }
    }

    /// For file names: `estate` or the project name reduced to `[A-Za-z0-9._-]`, so a
    /// name can never smuggle a path or a header parameter into a download.
    pub fn slug(&self) -> String {
        match self {
            Scope::Estate => "estate".to_owned(),
            Scope::Project { name, .. } => {
                let slug: String = name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let slug = slug.trim_start_matches('.');
                if slug.is_empty() {
                    "project".to_owned()
                } else {
                    format!("project-{slug}")
                }
            }
        }
    }
}

/// A host's compliance verdict. The rules that decide it live in `rampart_core`; reports
/// only carry the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HostState {
    Compliant,
    NonCompliant,
    /// The agent has not checked in for longer than the standard allows.
    Stale,
    /// No verdict: the host was never evaluated.
    Unknown,
}

impl HostState {
    /// The JSON and CSV spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HostState::Compliant => "compliant",
            HostState::NonCompliant => "non_compliant",
            HostState::Stale => "stale",
            HostState::Unknown => "unknown",
        }
    }

    /// For people (PDF).
    pub fn label(self) -> &'static str {
        match self {
            HostState::Compliant => "Compliant",
            HostState::NonCompliant => "Non-compliant",
            HostState::Stale => "Stale",
            HostState::Unknown => "Unknown",
        }
    }
}

/// Open findings per severity level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub unknown: u64,
}

impl SeverityCounts {
    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }

    pub fn get(&self, level: SeverityLevel) -> u64 {
        match level {
            SeverityLevel::Critical => self.critical,
            SeverityLevel::High => self.high,
            SeverityLevel::Medium => self.medium,
            SeverityLevel::Low => self.low,
            SeverityLevel::Unknown => self.unknown,
        }
    }

    fn count(&mut self, level: SeverityLevel, n: u64) {
        match level {
            SeverityLevel::Critical => self.critical += n,
            SeverityLevel::High => self.high += n,
            SeverityLevel::Medium => self.medium += n,
            SeverityLevel::Low => self.low += n,
            SeverityLevel::Unknown => self.unknown += n,
        }
    }

    fn add(&mut self, other: &SeverityCounts) {
        for level in SeverityLevel::ALL {
            self.count(level, other.get(level));
        }
    }
}

/// A risk exception in force: who accepted which advisory until when. Reports show only
/// exceptions active at `generated_at`; the caller leaves out expired or unapproved ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExceptionRef {
    pub id: String,
    /// The advisory it accepts.
    pub advisory: String,
    /// The person who approved it.
    pub approver: String,
    #[serde(serialize_with = "ser_time")]
    pub expires_at: Millis,
}

/// One host of a compliance report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComplianceRow {
    pub hostname: String,
    pub host_id: String,
    /// Names of the projects whose selector selects the host.
    pub projects: Vec<String>,
    /// Operating system as people name it (`Debian GNU/Linux 12 (bookworm)`).
    pub os: String,
    pub state: HostState,
    /// Every reason for the state, one sentence each (empty when compliant).
    pub reasons: Vec<String>,
    /// Open findings by severity (findings covered by an exception included).
    pub findings: SeverityCounts,
    pub pending_updates: u64,
    pub pending_security_updates: u64,
    /// Last check-in.
    #[serde(serialize_with = "ser_opt_time")]
    pub last_seen: Option<Millis>,
    /// Last time the installed packages changed.
    #[serde(serialize_with = "ser_opt_time")]
    pub last_updated: Option<Millis>,
    /// Exceptions in force for this host.
    pub exceptions: Vec<ExceptionRef>,
}

/// The totals of a compliance report, computed from its rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ComplianceSummary {
    pub hosts: u64,
    pub compliant: u64,
    pub non_compliant: u64,
    pub stale: u64,
    pub unknown: u64,
    /// Open findings over all hosts, by severity.
    pub findings: SeverityCounts,
    pub pending_security_updates: u64,
    /// Hosts with at least one exception in force.
    pub hosts_with_exceptions: u64,
}

impl ComplianceSummary {
    fn of(rows: &[ComplianceRow]) -> ComplianceSummary {
        let mut s = ComplianceSummary {
            hosts: rows.len() as u64,
            ..ComplianceSummary::default()
        };
        for row in rows {
            match row.state {
                HostState::Compliant => s.compliant += 1,
                HostState::NonCompliant => s.non_compliant += 1,
                HostState::Stale => s.stale += 1,
                HostState::Unknown => s.unknown += 1,
            }
            s.findings.add(&row.findings);
            s.pending_security_updates += row.pending_security_updates;
            s.hosts_with_exceptions += u64::from(!row.exceptions.is_empty());
        }
        s
    }

    /// Hosts per state, in display order.
    pub fn by_state(&self) -> [(HostState, u64); 4] {
        [
            (HostState::Compliant, self.compliant),
            (HostState::NonCompliant, self.non_compliant),
            (HostState::Stale, self.stale),
            (HostState::Unknown, self.unknown),
        ]
    }
}

/// The compliance report: one row per host in scope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComplianceReport {
    pub scope: Scope,
    #[serde(serialize_with = "ser_time")]
    pub generated_at: Millis,
    pub summary: ComplianceSummary,
    pub hosts: Vec<ComplianceRow>,
}

impl ComplianceReport {
    /// A report of `hosts` in the order given; the summary is computed from them.
    pub fn new(scope: Scope, generated_at: Millis, hosts: Vec<ComplianceRow>) -> ComplianceReport {
        ComplianceReport {
            scope,
            generated_at,
            summary: ComplianceSummary::of(&hosts),
            hosts,
        }
    }
}

/// One vulnerable package on one host.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingRow {
    pub hostname: String,
    pub host_id: String,
    pub advisory: String,
    /// Other ids of the same vulnerability (CVE ids of a DSA).
    pub aliases: Vec<String>,
    pub package: String,
    pub installed: String,
    /// The first fixed version; `None` when no fix is published.
    pub fixed: Option<String>,
    pub severity: SeverityLevel,
    pub cvss: Option<f64>,
    /// When Rampart first found it open on this host.
    #[serde(serialize_with = "ser_time")]
    pub first_seen: Millis,
    /// The exception in force that accepts it, if any.
    pub exception: Option<ExceptionRef>,
}

/// The totals of a findings report, computed from its rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FindingsSummary {
    pub findings: u64,
    pub by_severity: SeverityCounts,
    /// Distinct hosts with at least one finding.
    pub hosts: u64,
    /// Distinct advisories.
    pub advisories: u64,
    /// Findings covered by an exception in force.
    pub excepted: u64,
}

impl FindingsSummary {
    fn of(rows: &[FindingRow]) -> FindingsSummary {
        let mut s = FindingsSummary {
            findings: rows.len() as u64,
            ..FindingsSummary::default()
        };
        let mut hosts = BTreeSet::new();
        let mut advisories = BTreeSet::new();
        for row in rows {
            s.by_severity.count(row.severity, 1);
            hosts.insert(row.host_id.as_str());
            advisories.insert(row.advisory.as_str());
            s.excepted += u64::from(row.exception.is_some());
        }
        s.hosts = hosts.len() as u64;
        s.advisories = advisories.len() as u64;
        s
    }
}

/// The findings report: one row per (host, advisory, package), worst first as given.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FindingsReport {
    pub scope: Scope,
    /// The severity filter applied, if any (shown in the title).
    pub severity: Option<SeverityLevel>,
    #[serde(serialize_with = "ser_time")]
    pub generated_at: Millis,
    pub summary: FindingsSummary,
    pub findings: Vec<FindingRow>,
}

impl FindingsReport {
    /// A report of `findings` in the order given; the summary is computed from them.
    pub fn new(
        scope: Scope,
        severity: Option<SeverityLevel>,
        generated_at: Millis,
        findings: Vec<FindingRow>,
    ) -> FindingsReport {
        FindingsReport {
            scope,
            severity,
            generated_at,
            summary: FindingsSummary::of(&findings),
            findings,
        }
    }
}

/// `2026-11-29T14:03:00Z`: RFC 3339 in UTC, to the second.
pub fn timestamp(ms: Millis) -> String {
    let (y, m, d, hh, mm, ss) = civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// `2026-11-29 14:03 UTC`, for people.
pub fn human_time(ms: Millis) -> String {
    let (y, m, d, hh, mm, _) = civil(ms);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

/// `2026-11-29`.
pub fn date(ms: Millis) -> String {
    let (y, m, d, ..) = civil(ms);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `20261129T140300Z`, for file names.
pub fn compact_timestamp(ms: Millis) -> String {
    let (y, m, d, hh, mm, ss) = civil(ms);
    format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
}

/// UTC calendar fields of a Unix millisecond time (Howard Hinnant's days-to-civil).
pub(crate) fn civil(ms: Millis) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

fn ser_time<S: serde::Serializer>(ms: &Millis, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&timestamp(*ms))
}

fn ser_opt_time<S: serde::Serializer>(ms: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_str(&timestamp(*ms)),
        None => s.serialize_none(),
    }
}
