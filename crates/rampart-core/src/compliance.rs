//! Compliance: whether a host meets its project's standard at `now`, and every reason it
//! does not.
//!
//! [`evaluate`] is the one rule. It is pure: the caller gathers the host's facts
//! (findings, pending updates with the time each was first seen pending, packages the
//! software policy refuses) and the exceptions in force, and passes `now`.
//!
//! Decisions, documented once here:
//! - **Two states.** A host is [`State::Compliant`] exactly when there is no reason
//!   against it; otherwise [`State::NonCompliant`]. Nothing is "unknown": a host never
//!   inventoried is non-compliant with [`Reason::NeverInventoried`] (compliance must be
//!   shown, not assumed), and a stale host is non-compliant with [`Reason::Stale`] while
//!   its last known facts are still evaluated, so every other reason stays visible.
//!   [`Compliance::is_stale`] lets views separate "out of policy" from "not reporting".
//! - **When a security update was released.** The agent cannot know, so Rampart takes
//!   the earliest instant it knows the fix existed: the earliest `published` date of
//!   the advisories the update fixes, and the time Rampart first saw the update pending
//!   on this host, whichever is earlier. With no advisory linked (a security update
//!   reported by apt's `-security` suite for something no feed describes) it is the
//!   first-seen time alone. The update is overdue when it has been released for longer
//!   than `max_pending_security_days`.
//! - **Which updates are security updates.** Those the package manager reports as
//!   security and those that fix at least one open finding (Alpine's apk reports no
//!   classes at all).
//! - **Exceptions.** An exception in force ([`crate::exceptions::applies`]) takes its
//!   finding out of the critical count, and an overdue update whose every fixed advisory
//!   is excepted on this host is not a reason either. Both are listed in
//!   [`Compliance::excepted`] so nothing accepted is hidden.
//! - **Last updated.** A host whose installed packages have not changed for longer than
//!   `last_updated_alert_days` is non-compliant with [`Reason::NotUpdated`].
//! - **Several projects.** A host selected by several projects must meet the strictest
//!   of their standards ([`Standard::strictest`]); a host in none meets the defaults.
//!
//! [`Compliance::next_evaluation_at`] is the next instant at which the answer changes
//! with time alone (an update becomes overdue, the host goes stale, an exception
//! expires), so a scheduler re-evaluates exactly when needed.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::exceptions::{Exception, FindingTarget, covering};
use crate::severity::SeverityLevel;

/// Unix milliseconds on the server's clock.
pub type Millis = i64;

/// One day in milliseconds.
pub const DAY: Millis = 86_400_000;

/// What a project demands of its hosts. Defaults: security updates pending at most 7
/// days after release, no critical finding, an alert after 90 days without an update,
/// stale after 3 missed check-ins of 60 s, a full re-evaluation weekly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Standard {
    /// Longest a security update may stay pending after its release, in days.
    pub max_pending_security_days: u32,
    /// Open critical findings (not excepted) a host may have.
    pub critical_findings_allowed: u32,
    /// Days without a package change after which a host is flagged.
    pub last_updated_alert_days: u32,
    /// A host not seen for this many check-in intervals is stale.
    pub stale_after_checkins: u32,
    /// The check-in interval agents are expected to keep, in seconds.
    pub checkin_interval_secs: u32,
    /// How often the project's hosts are fully re-evaluated, in hours.
    pub full_scan_interval_hours: u32,
}

impl Default for Standard {
    fn default() -> Standard {
        Standard {
            max_pending_security_days: 7,
            critical_findings_allowed: 0,
            last_updated_alert_days: 90,
            stale_after_checkins: 3,
            checkin_interval_secs: 60,
            full_scan_interval_hours: 7 * 24,
        }
    }
}

/// Why a standard is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field} must be between {min} and {max}")]
pub struct StandardError {
    pub field: &'static str,
    pub min: u32,
    pub max: u32,
}

impl Standard {
    /// Each field's accepted range (name, min, max), inclusive: the one statement of
    /// the rule, which the API's document repeats and its tests compare.
    pub const LIMITS: [(&'static str, u32, u32); 6] = [
        ("max_pending_security_days", 0, 3650),
        ("critical_findings_allowed", 0, 1_000_000),
        ("last_updated_alert_days", 1, 3650),
        ("stale_after_checkins", 1, 1000),
        ("checkin_interval_secs", 1, 86_400),
        ("full_scan_interval_hours", 1, 24 * 366),
    ];

    /// Checks every field lies in a sensible range (a zero interval would make every
    /// host stale; ten years of pending is no standard).
    pub fn validate(&self) -> Result<(), StandardError> {
        let values = [
            self.max_pending_security_days,
            self.critical_findings_allowed,
            self.last_updated_alert_days,
            self.stale_after_checkins,
            self.checkin_interval_secs,
            self.full_scan_interval_hours,
        ];
        let checks = Self::LIMITS
            .iter()
            .zip(values)
            .map(|(&(field, min, max), value)| (field, value, min, max));
        for (field, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(StandardError { field, min, max });
            }
        }
        Ok(())
    }

    /// How long a host may go unseen before it is stale.
    pub fn stale_after(&self) -> Millis {
        i64::from(self.stale_after_checkins) * i64::from(self.checkin_interval_secs) * 1000
    }

    /// The standard a host selected by several projects must meet: each limit at its
    /// strictest (the shortest staleness window, the shortest full-scan interval).
    /// `None` of them: the defaults.
    pub fn strictest<'a>(standards: impl IntoIterator<Item = &'a Standard>) -> Standard {
        let mut iter = standards.into_iter();
        let Some(first) = iter.next() else {
            return Standard::default();
        };
        iter.fold(*first, |a, b| {
            // The staleness window is a product; keep the pair with the shorter one.
            let (stale_after_checkins, checkin_interval_secs) = if b.stale_after() < a.stale_after()
            {
                (b.stale_after_checkins, b.checkin_interval_secs)
            } else {
                (a.stale_after_checkins, a.checkin_interval_secs)
            };
            Standard {
                max_pending_security_days: a
                    .max_pending_security_days
                    .min(b.max_pending_security_days),
                critical_findings_allowed: a
                    .critical_findings_allowed
                    .min(b.critical_findings_allowed),
                last_updated_alert_days: a.last_updated_alert_days.min(b.last_updated_alert_days),
                stale_after_checkins,
                checkin_interval_secs,
                full_scan_interval_hours: a
                    .full_scan_interval_hours
                    .min(b.full_scan_interval_hours),
            }
        })
    }
}

/// An open finding, as compliance needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingFact {
    pub advisory: String,
    pub aliases: Vec<String>,
    pub package: String,
    pub severity: SeverityLevel,
}

/// A pending update with what the server knows about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingUpdateFact {
    pub name: String,
    pub arch: Option<String>,
    pub installed: String,
    pub candidate: String,
    /// The package manager reports it as a security update.
    pub reported_security: bool,
    /// Advisories of open findings this update fixes (see `matcher` for the rule).
    pub fixes: Vec<String>,
    /// Earliest `published` instant among `fixes`, when the feeds give one.
    pub advisory_published: Option<Millis>,
    /// When Rampart first saw an update for this package pending on this host (server
    /// clock); kept across inventories while the update stays pending.
    pub first_seen_pending: Millis,
}

impl PendingUpdateFact {
    pub fn is_security(&self) -> bool {
        self.reported_security || !self.fixes.is_empty()
    }

    /// The release instant and what it rests on (see the module documentation).
    pub fn released_at(&self) -> (Millis, ReleaseBasis) {
        match self.advisory_published {
            Some(published) if published < self.first_seen_pending => {
                (published, ReleaseBasis::AdvisoryPublished)
            }
            _ => (self.first_seen_pending, ReleaseBasis::FirstSeenPending),
        }
    }
}

/// A package the software policy refuses, as found on the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnauthorizedFact {
    pub name: String,
    pub version: String,
    /// Why, in words (`denied by "telnet*" (project web)`).
    pub rule: String,
    /// When Rampart first saw it on this host (server clock).
    pub first_seen: Millis,
}

/// Everything [`evaluate`] looks at for one host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostFacts {
    pub host_id: String,
    /// Projects whose selector selects the host (exception scopes).
    pub project_ids: Vec<String>,
    pub enrolled_at: Millis,
    /// Last check-in, server clock.
    pub last_seen: Millis,
    /// `None` until the first inventory arrives.
    pub last_inventory_at: Option<Millis>,
    /// Last change of the installed package set.
    pub last_updated_at: Option<Millis>,
    pub findings: Vec<FindingFact>,
    pub pending_updates: Vec<PendingUpdateFact>,
    pub unauthorized: Vec<UnauthorizedFact>,
}

/// Compliant or not; see the module documentation for how stale and never-inventoried
/// hosts map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Compliant,
    NonCompliant,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Compliant => "compliant",
            State::NonCompliant => "non_compliant",
        }
    }
}

impl std::str::FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<State, String> {
        match s {
            "compliant" => Ok(State::Compliant),
            "non_compliant" => Ok(State::NonCompliant),
            _ => Err(format!(
                "unknown compliance state {s:?} (expected compliant or non_compliant)"
            )),
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a security update's release time rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseBasis {
    /// The `published` date of an advisory the update fixes.
    AdvisoryPublished,
    /// The time Rampart first saw it pending.
    FirstSeenPending,
}

/// One reason a host is out of policy, with the details a person needs to act.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// Enrolled, but no inventory ever arrived: nothing can be judged.
    NeverInventoried { enrolled_at: Millis },
    /// Not seen for longer than the standard's window.
    Stale {
        last_seen: Millis,
        stale_after_secs: i64,
    },
    /// More open critical findings (exceptions excluded) than allowed.
    CriticalFindings {
        count: u64,
        allowed: u32,
        /// Their advisory ids, sorted, unique.
        advisories: Vec<String>,
    },
    /// A security update pending for longer than allowed after its release.
    OverdueSecurityUpdate {
        package: String,
        arch: Option<String>,
        installed: String,
        candidate: String,
        /// When Rampart first saw it pending on this host.
        pending_since: Millis,
        released_at: Millis,
        basis: ReleaseBasis,
        /// Whole days since `released_at`.
        days: i64,
        max_days: u32,
        /// Advisories it fixes.
        fixes: Vec<String>,
    },
    /// The installed packages have not changed for longer than the alert threshold.
    NotUpdated {
        last_updated_at: Millis,
        days: i64,
        threshold_days: u32,
    },
    /// A package the software policy refuses.
    UnauthorizedPackage {
        package: String,
        version: String,
        rule: String,
        first_seen: Millis,
    },
}

impl Reason {
    /// The stable kind word (`stale`, `critical_findings`, …), for filters and counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::NeverInventoried { .. } => "never_inventoried",
            Reason::Stale { .. } => "stale",
            Reason::CriticalFindings { .. } => "critical_findings",
            Reason::OverdueSecurityUpdate { .. } => "overdue_security_update",
            Reason::NotUpdated { .. } => "not_updated",
            Reason::UnauthorizedPackage { .. } => "unauthorized_package",
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NeverInventoried { .. } => f.write_str("no inventory received yet"),
            Reason::Stale {
                stale_after_secs, ..
            } => write!(f, "agent not seen for more than {stale_after_secs} s"),
            Reason::CriticalFindings {
                count,
                allowed,
                advisories,
            } => write!(
                f,
                "{count} critical finding(s), {allowed} allowed: {}",
                advisories.join(", ")
            ),
            Reason::OverdueSecurityUpdate {
                package,
                candidate,
                days,
                max_days,
                ..
            } => write!(
                f,
                "security update {package} {candidate} released {days} day(s) ago, {max_days} allowed"
            ),
            Reason::NotUpdated {
                days,
                threshold_days,
                ..
            } => write!(
                f,
                "not updated for {days} day(s) (alert after {threshold_days})"
            ),
            Reason::UnauthorizedPackage {
                package,
                version,
                rule,
                ..
            } => write!(f, "unauthorized package {package} {version}: {rule}"),
        }
    }
}

/// Something that would count against the host but is accepted by an exception.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Excepted {
    pub advisory: String,
    pub package: String,
    pub severity: SeverityLevel,
    pub exception_id: String,
    pub expires_at: Millis,
}

/// The answer of [`evaluate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compliance {
    pub state: State,
    /// Every reason, in a stable order (staleness, inventory, findings, updates, age,
    /// software).
    pub reasons: Vec<Reason>,
    /// Findings accepted by an exception in force.
    pub excepted: Vec<Excepted>,
    /// Open findings per level, exceptions excluded (what the trend counts).
    pub critical: u64,
    pub high: u64,
    /// Pending security updates (overdue or not).
    pub pending_security: u64,
    /// The next instant the answer can change with time alone; `None` when nothing is
    /// pending in time.
    pub next_evaluation_at: Option<Millis>,
}

impl Compliance {
    pub fn is_stale(&self) -> bool {
        self.reasons
            .iter()
            .any(|r| matches!(r, Reason::Stale { .. }))
    }
}

/// Whole days from `since` to `now` (0 when `since` is in the future).
pub fn days_between(since: Millis, now: Millis) -> i64 {
    (now - since).max(0) / DAY
}

/// Evaluates one host against `standard` at `now`. `exceptions` may hold any
/// exceptions (all statuses, any scope): only those applying to this host at `now`
/// count.
pub fn evaluate(
    standard: &Standard,
    facts: &HostFacts,
    exceptions: &[Exception],
    now: Millis,
) -> Compliance {
    let mut reasons = Vec::new();
    let mut excepted = Vec::new();
    let mut next: Option<Millis> = None;
    let mut soonest = |at: Millis| {
        if at > now {
            next = Some(next.map_or(at, |n: Millis| n.min(at)));
        }
    };

    let stale_at = facts.last_seen.saturating_add(standard.stale_after());
    if now > stale_at {
        reasons.push(Reason::Stale {
            last_seen: facts.last_seen,
            stale_after_secs: standard.stale_after() / 1000,
        });
    } else {
        soonest(stale_at + 1);
    }

    let Some(last_inventory_at) = facts.last_inventory_at else {
        reasons.push(Reason::NeverInventoried {
            enrolled_at: facts.enrolled_at,
        });
        return Compliance {
            state: State::NonCompliant,
            reasons,
            excepted,
            critical: 0,
            high: 0,
            pending_security: 0,
            next_evaluation_at: next,
        };
    };

    // Findings: which are accepted, which count.
    let mut critical_advisories = Vec::new();
    let (mut critical, mut high) = (0u64, 0u64);
    let mut excepted_advisories: Vec<&str> = Vec::new();
    for finding in &facts.findings {
        let target = FindingTarget {
            host_id: &facts.host_id,
            project_ids: &facts.project_ids,
            advisory: &finding.advisory,
            aliases: &finding.aliases,
        };
        if let Some(exception) = covering(exceptions, &target, now) {
            soonest(exception.expires_at);
            excepted_advisories.push(&finding.advisory);
            excepted.push(Excepted {
                advisory: finding.advisory.clone(),
                package: finding.package.clone(),
                severity: finding.severity,
                exception_id: exception.id.clone(),
                expires_at: exception.expires_at,
            });
            continue;
        }
        match finding.severity {
            SeverityLevel::Critical => {
                critical += 1;
                critical_advisories.push(finding.advisory.clone());
            }
            SeverityLevel::High => high += 1,
            _ => {}
        }
    }
    if critical > u64::from(standard.critical_findings_allowed) {
        critical_advisories.sort_unstable();
        critical_advisories.dedup();
        reasons.push(Reason::CriticalFindings {
            count: critical,
            allowed: standard.critical_findings_allowed,
            advisories: critical_advisories,
        });
    }

    // Security updates pending too long.
    let mut pending_security = 0;
    let max_pending = i64::from(standard.max_pending_security_days) * DAY;
    for update in facts.pending_updates.iter().filter(|u| u.is_security()) {
        pending_security += 1;
        let (released_at, basis) = update.released_at();
        let deadline = released_at.saturating_add(max_pending);
        if now <= deadline {
            soonest(deadline + 1);
            continue;
        }
        let all_excepted = !update.fixes.is_empty()
            && update
                .fixes
                .iter()
                .all(|a| excepted_advisories.contains(&a.as_str()));
        if all_excepted {
            continue;
        }
        reasons.push(Reason::OverdueSecurityUpdate {
            package: update.name.clone(),
            arch: update.arch.clone(),
            installed: update.installed.clone(),
            candidate: update.candidate.clone(),
            pending_since: update.first_seen_pending,
            released_at,
            basis,
            days: days_between(released_at, now),
            max_days: standard.max_pending_security_days,
            fixes: update.fixes.clone(),
        });
    }

    let last_updated_at = facts.last_updated_at.unwrap_or(last_inventory_at);
    let alert_at =
        last_updated_at.saturating_add(i64::from(standard.last_updated_alert_days) * DAY);
    if now > alert_at {
        reasons.push(Reason::NotUpdated {
            last_updated_at,
            days: days_between(last_updated_at, now),
            threshold_days: standard.last_updated_alert_days,
        });
    } else {
        soonest(alert_at + 1);
    }

    for package in &facts.unauthorized {
        reasons.push(Reason::UnauthorizedPackage {
            package: package.name.clone(),
            version: package.version.clone(),
            rule: package.rule.clone(),
            first_seen: package.first_seen,
        });
    }

    Compliance {
        state: if reasons.is_empty() {
            State::Compliant
        } else {
            State::NonCompliant
        },
        reasons,
        excepted,
        critical,
        high,
        pending_security,
        next_evaluation_at: next,
    }
}

/// Parses an RFC 3339 timestamp (`2024-03-01T12:00:00Z`, fractional seconds and
/// offsets allowed, a date alone read as midnight UTC) into Unix milliseconds, for
/// advisory `published` dates. `None` for anything else.
pub fn parse_rfc3339(s: &str) -> Option<Millis> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut millis = days_from_civil(year, month, day) * DAY;
    if b.len() == 10 {
        return Some(millis);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    millis += ((hour * 60 + minute) * 60 + second.min(59)) * 1000;
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = &s[start..i.min(start + 3)];
        let scale = 10i64.pow(3 - frac.len() as u32);
        millis += frac.parse::<i64>().ok()? * scale;
    }
    match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => Some(millis),
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let offset = (oh * 60 + om) * 60_000;
            Some(if sign == b'+' {
                millis - offset
            } else {
                millis + offset
            })
        }
        _ => None,
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
