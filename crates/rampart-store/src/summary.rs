//! Estate-wide aggregates: the numbers and rankings a dashboard shows at a glance. Each
//! is one aggregate query, so the dashboard's cost does not grow with the number of
//! rows it summarises more than a scan of them (see `BENCHMARKS.md`).

use rampart_core::severity::SeverityLevel;

use crate::findings::SeverityCounts;
use crate::{Millis, Result, RowExt, Store, with_pool};

const DAY: Millis = 86_400_000;

/// The headline numbers of the estate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EstateSummary {
    pub hosts: u64,
    /// Hosts with at least one open critical finding.
    pub hosts_with_critical: u64,
    /// Open findings per severity, over all hosts.
    pub findings: SeverityCounts,
    /// Pending updates of any category, over all hosts' latest inventories.
    pub pending_updates: u64,
    /// Pending updates the package manager marks as security fixes.
    pub pending_security_updates: u64,
    /// Hosts with at least one pending security update.
    pub hosts_with_security_updates: u64,
}

/// Hosts by whole days since their installed packages last changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateAges {
    /// `counts[i]`: hosts whose age in days is at most `bounds[i]` (and above
    /// `bounds[i - 1]`); the last entry counts the hosts older than every bound.
    pub counts: Vec<u64>,
    /// Hosts that never sent an inventory.
    pub never: u64,
}

/// A package with open findings, ranked by how many hosts it affects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VulnerablePackage {
    /// Binary package name as installed.
    pub package: String,
    pub hosts: u64,
    pub findings: u64,
    /// Distinct advisories naming it.
    pub advisories: u64,
    pub worst: SeverityLevel,
}

/// An operating system release present in the estate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OsRelease {
    /// os-release `ID` and `VERSION_ID` (empty before the first inventory).
    pub os_id: String,
    pub os_version: String,
    pub hosts: u64,
}

fn level(rank: i64) -> SeverityLevel {
    match rank {
        4 => SeverityLevel::Critical,
        3 => SeverityLevel::High,
        2 => SeverityLevel::Medium,
        1 => SeverityLevel::Low,
        _ => SeverityLevel::Unknown,
    }
}

impl Store {
    /// The estate's headline numbers, in one round trip per table.
    pub async fn estate_summary(&self) -> Result<EstateSummary> {
        with_pool!(self, pool => {
            let hosts = sqlx::query(
                "SELECT COUNT(*) AS n,
                        (SELECT COUNT(DISTINCT host_id) FROM findings WHERE severity_rank = 4)
                            AS critical_hosts
                 FROM hosts",
            )
            .fetch_one(pool)
            .await?;
            // One row per level, read from the (severity_rank, host_id) index alone.
            let levels = sqlx::query(
                "SELECT severity_rank, COUNT(*) AS n FROM findings GROUP BY severity_rank",
            )
            .fetch_all(pool)
            .await?;
            let mut findings = SeverityCounts::default();
            for row in &levels {
                let n = row.int("n")? as u64;
                match level(row.int("severity_rank")?) {
                    SeverityLevel::Critical => findings.critical += n,
                    SeverityLevel::High => findings.high += n,
                    SeverityLevel::Medium => findings.medium += n,
                    SeverityLevel::Low => findings.low += n,
                    SeverityLevel::Unknown => findings.unknown += n,
                }
            }
            let updates = sqlx::query(
                "SELECT COUNT(*) AS n,
                        COUNT(CASE WHEN category = 'security' THEN 1 END) AS security,
                        COUNT(DISTINCT CASE WHEN category = 'security' THEN host_id END)
                            AS security_hosts
                 FROM pending_updates",
            )
            .fetch_one(pool)
            .await?;
            Ok(EstateSummary {
                hosts: hosts.int("n")? as u64,
                hosts_with_critical: hosts.int("critical_hosts")? as u64,
                findings,
                pending_updates: updates.int("n")? as u64,
                pending_security_updates: updates.int("security")? as u64,
                hosts_with_security_updates: updates.int("security_hosts")? as u64,
            })
        })
    }

    /// Hosts bucketed by whole days since `last_updated_at` at `now`: bucket `i` holds
    /// ages up to `bounds_days[i]` (ascending), one more bucket the rest. Hosts that
    /// never sent an inventory are counted apart.
    pub async fn hosts_by_update_age(
        &self,
        now: Millis,
        bounds_days: &[i64],
    ) -> Result<UpdateAges> {
        let mut ages = UpdateAges {
            counts: vec![0; bounds_days.len() + 1],
            never: 0,
        };
        with_pool!(self, pool => {
            // One row per distinct age in days: a few hundred at most, bucketed here.
            let rows = sqlx::query(
                "SELECT CASE WHEN last_updated_at IS NULL THEN -1
                             WHEN last_updated_at >= $1 THEN 0
                             ELSE ($1 - last_updated_at) / $2 END AS days,
                        COUNT(*) AS n
                 FROM hosts GROUP BY 1",
            )
            .bind(now)
            .bind(DAY)
            .fetch_all(pool)
            .await?;
            for row in &rows {
                let (days, n) = (row.int("days")?, row.int("n")? as u64);
                if days < 0 {
                    ages.never += n;
                } else {
                    let i = bounds_days
                        .iter()
                        .position(|&b| days <= b)
                        .unwrap_or(bounds_days.len());
                    ages.counts[i] += n;
                }
            }
        });
        Ok(ages)
    }

    /// The `limit` packages with open findings on the most hosts (then worst severity,
    /// then name).
    pub async fn top_vulnerable_packages(&self, limit: u32) -> Result<Vec<VulnerablePackage>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT package, COUNT(DISTINCT host_id) AS hosts, COUNT(*) AS findings,
                        COUNT(DISTINCT advisory_id) AS advisories, MAX(severity_rank) AS worst
                 FROM findings GROUP BY package
                 ORDER BY hosts DESC, worst DESC, package LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(VulnerablePackage {
                        package: row.text("package")?,
                        hosts: row.int("hosts")? as u64,
                        findings: row.int("findings")? as u64,
                        advisories: row.int("advisories")? as u64,
                        worst: level(row.int("worst")?),
                    })
                })
                .collect()
        })
    }

    /// Every (OS, version) in the estate with its number of hosts, by OS then version.
    pub async fn os_releases(&self) -> Result<Vec<OsRelease>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT os_id, os_version, COUNT(*) AS n FROM hosts
                 GROUP BY os_id, os_version ORDER BY os_id, os_version",
            )
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(OsRelease {
                        os_id: row.text("os_id")?,
                        os_version: row.text("os_version")?,
                        hosts: row.int("n")? as u64,
                    })
                })
                .collect()
        })
    }
}
