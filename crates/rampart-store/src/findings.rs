//! Findings: which advisory affects which installed package on which host, as the
//! matcher last computed it. The matcher lives in `core`; this module only keeps its
//! output, replacing a host's findings wholesale while remembering since when each
//! (advisory, package) has been open.

use std::collections::{BTreeMap, HashMap, HashSet};

use rampart_core::matcher::Finding;
use rampart_core::severity::{Severity, SeverityLevel};
use sqlx::QueryBuilder;

use crate::users::affected;
use crate::{
    BeginWrite as _, Error, Millis, Page, Paged, Result, RowExt, Store, from_json, like_contains,
    to_json, with_pool,
};

/// Rows per multi-row INSERT (17 columns): under SQLite's 32 766 bind limit.
const BATCH_ROWS: usize = 1000;

/// A stored finding with its host and its history.
#[derive(Clone, Debug, PartialEq)]
pub struct HostFinding {
    pub host_id: String,
    pub hostname: String,
    pub finding: Finding,
    /// When this (host, advisory, package) was first found; kept across
    /// recomputations while it stays open, even if the installed version changed.
    pub first_seen: Millis,
    /// When it was last recomputed.
    pub updated_at: Millis,
}

/// Which findings [`Store::list_findings`] returns; every field set narrows the result.
#[derive(Clone, Debug, Default)]
pub struct FindingFilter {
    /// Exactly this level.
    pub severity: Option<SeverityLevel>,
    /// This level or worse.
    pub min_severity: Option<SeverityLevel>,
    /// Advisory id or one of its aliases (a CVE id finds the DSA that fixes it).
    pub advisory: Option<String>,
    /// Installed binary package or its source package.
    pub package: Option<String>,
    /// Hosts matching this project's selector.
    pub project_id: Option<String>,
    pub host_id: Option<String>,
}

/// Open findings of one host per severity level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub unknown: u64,
}

impl SeverityCounts {
    /// All open findings.
    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }
}

pub(crate) fn severity_rank(level: SeverityLevel) -> i64 {
    level as i64
}

const FINDING_COLUMNS: &str = "f.host_id, h.hostname, f.advisory_id, f.package, f.installed, \
     f.source, f.advisory_package, f.compared_version, f.aliases, f.fixed, f.severity, f.cvss, \
     f.cvss_vector, f.ecosystem, f.reason, f.first_seen, f.updated_at";

pub(crate) const COUNT_COLUMNS: &str = "COUNT(CASE WHEN severity_rank = 4 THEN 1 END) AS critical, \
     COUNT(CASE WHEN severity_rank = 3 THEN 1 END) AS high, \
     COUNT(CASE WHEN severity_rank = 2 THEN 1 END) AS medium, \
     COUNT(CASE WHEN severity_rank = 1 THEN 1 END) AS low, \
     COUNT(CASE WHEN severity_rank = 0 THEN 1 END) AS unknown";

fn host_finding(row: &impl RowExt) -> Result<HostFinding> {
    let severity = row.text("severity")?;
    Ok(HostFinding {
        host_id: row.text("host_id")?,
        hostname: row.text("hostname")?,
        finding: Finding {
            advisory: row.text("advisory_id")?,
            aliases: from_json("finding aliases", &row.text("aliases")?)?,
            package: row.text("package")?,
            source: row.text("source")?,
            installed: row.text("installed")?,
            compared_version: row.text("compared_version")?,
            advisory_package: row.text("advisory_package")?,
            fixed: row.opt_text("fixed")?,
            severity: Severity {
                level: severity.parse().unwrap_or_default(),
                cvss: row.opt_float("cvss")?,
                vector: row.opt_text("cvss_vector")?,
            },
            ecosystem: row.text("ecosystem")?,
            reason: from_json("finding reason", &row.text("reason")?)?,
        },
        first_seen: row.int("first_seen")?,
        updated_at: row.int("updated_at")?,
    })
}

pub(crate) fn counts(row: &impl RowExt) -> Result<SeverityCounts> {
    Ok(SeverityCounts {
        critical: row.int("critical")? as u64,
        high: row.int("high")? as u64,
        medium: row.int("medium")? as u64,
        low: row.int("low")? as u64,
        unknown: row.int("unknown")? as u64,
    })
}

/// Appends ` AND …` conditions for `filter` to a query over `findings f JOIN hosts h`.
pub(crate) fn push_finding_filter<DB: sqlx::Database>(
    qb: &mut QueryBuilder<DB>,
    filter: &FindingFilter,
) where
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(level) = filter.severity {
        qb.push(" AND f.severity_rank = ")
            .push_bind(severity_rank(level));
    }
    if let Some(level) = filter.min_severity {
        qb.push(" AND f.severity_rank >= ")
            .push_bind(severity_rank(level));
    }
    if let Some(advisory) = &filter.advisory {
        qb.push(" AND (f.advisory_id = ")
            .push_bind(advisory.clone())
            .push(" OR f.aliases LIKE ")
            .push_bind(like_contains(&to_json(advisory)))
            .push(" ESCAPE '\\')");
    }
    if let Some(package) = &filter.package {
        qb.push(" AND (f.package = ")
            .push_bind(package.clone())
            .push(" OR f.source = ")
            .push_bind(package.clone())
            .push(")");
    }
    if let Some(host_id) = &filter.host_id {
        qb.push(" AND f.host_id = ").push_bind(host_id.clone());
    }
    if let Some(project) = &filter.project_id {
        qb.push(" AND EXISTS (SELECT 1 FROM projects p WHERE p.id = ")
            .push_bind(project.clone())
            .push(
                " AND NOT EXISTS (SELECT 1 FROM project_selectors s WHERE s.project_id = p.id \
                 AND NOT EXISTS (SELECT 1 FROM host_labels l WHERE l.host_id = h.id \
                 AND l.key = s.key AND l.value = s.value)))",
            );
    }
}

impl Store {
    /// Replaces all findings of a host with `findings` (the matcher's complete answer
    /// for it), atomically. A finding whose (advisory, package) was already open keeps
    /// its `first_seen`; new ones get `now`; ones not in `findings` are gone. Duplicate
    /// (advisory, package, installed) entries keep the first.
    pub async fn replace_findings(
        &self,
        host_id: &str,
        findings: &[Finding],
        now: Millis,
    ) -> Result<()> {
        let mut seen = HashSet::new();
        let findings: Vec<&Finding> = findings
            .iter()
            .filter(|f| seen.insert((&f.advisory, &f.package, &f.installed)))
            .collect();
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("UPDATE hosts SET hostname = hostname WHERE id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            affected("host", done.rows_affected())?;
            let rows = sqlx::query(
                "SELECT advisory_id, package, MIN(first_seen) AS first_seen FROM findings
                 WHERE host_id = $1 GROUP BY advisory_id, package",
            )
            .bind(host_id)
            .fetch_all(&mut *tx)
            .await?;
            let mut first_seen = HashMap::with_capacity(rows.len());
            for row in &rows {
                first_seen.insert(
                    (row.text("advisory_id")?, row.text("package")?),
                    row.int("first_seen")?,
                );
            }
            sqlx::query("DELETE FROM findings WHERE host_id = $1")
                .bind(host_id)
                .execute(&mut *tx)
                .await?;
            for chunk in findings.chunks(BATCH_ROWS) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO findings (host_id, advisory_id, package, installed, source, \
                     advisory_package, compared_version, aliases, fixed, severity, \
                     severity_rank, cvss, cvss_vector, ecosystem, reason, first_seen, \
                     updated_at) ",
                );
                qb.push_values(chunk, |mut b, f| {
                    let since = first_seen
                        .get(&(f.advisory.clone(), f.package.clone()))
                        .copied()
                        .unwrap_or(now);
                    b.push_bind(host_id.to_owned())
                        .push_bind(f.advisory.clone())
                        .push_bind(f.package.clone())
                        .push_bind(f.installed.clone())
                        .push_bind(f.source.clone())
                        .push_bind(f.advisory_package.clone())
                        .push_bind(f.compared_version.clone())
                        .push_bind(to_json(&f.aliases))
                        .push_bind(f.fixed.clone())
                        .push_bind(f.severity.level.as_str())
                        .push_bind(severity_rank(f.severity.level))
                        .push_bind(f.severity.cvss)
                        .push_bind(f.severity.vector.clone())
                        .push_bind(f.ecosystem.clone())
                        .push_bind(to_json(&f.reason))
                        .push_bind(since)
                        .push_bind(now);
                });
                qb.build().execute(&mut *tx).await.map_err(Error::on_write("finding"))?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Findings across the estate matching `filter`, worst first (severity, CVSS), then
    /// by advisory, host and package; one page plus the total.
    pub async fn list_findings(
        &self,
        filter: &FindingFilter,
        page: Page,
    ) -> Result<Paged<HostFinding>> {
        with_pool!(self, pool => {
            let mut count = QueryBuilder::new(
                "SELECT COUNT(*) AS n FROM findings f JOIN hosts h ON h.id = f.host_id WHERE 1 = 1",
            );
            push_finding_filter(&mut count, filter);
            let total = count.build().fetch_one(pool).await?.int("n")?;

            let mut list = QueryBuilder::new(format!(
                "SELECT {FINDING_COLUMNS} FROM findings f JOIN hosts h ON h.id = f.host_id WHERE 1 = 1"
            ));
            push_finding_filter(&mut list, filter);
            list.push(
                " ORDER BY f.severity_rank DESC, COALESCE(f.cvss, -1) DESC, f.advisory_id, \
                 h.hostname, f.host_id, f.package, f.installed LIMIT ",
            )
            .push_bind(i64::from(page.limit))
            .push(" OFFSET ")
            .push_bind(i64::try_from(page.offset).unwrap_or(i64::MAX));
            let rows = list.build().fetch_all(pool).await?;
            let items = rows.iter().map(host_finding).collect::<Result<Vec<_>>>()?;
            Ok(Paged { items, total: total as u64 })
        })
    }

    /// All open findings of one host, worst first.
    pub async fn host_findings(&self, host_id: &str) -> Result<Vec<HostFinding>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FINDING_COLUMNS} FROM findings f JOIN hosts h ON h.id = f.host_id
             WHERE f.host_id = $1
             ORDER BY f.severity_rank DESC, COALESCE(f.cvss, -1) DESC, f.advisory_id,
                      f.package, f.installed"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).bind(host_id).fetch_all(pool).await?;
            rows.iter().map(host_finding).collect()
        })
    }

    /// Open findings per severity level of one host.
    pub async fn host_severity_counts(&self, host_id: &str) -> Result<SeverityCounts> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COUNT_COLUMNS} FROM findings WHERE host_id = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(host_id).fetch_one(pool).await?;
            counts(&row)
        })
    }

    /// Open findings per severity level of the given hosts (one page of a listing), in
    /// one query per thousand ids; hosts without findings are absent.
    pub async fn severity_counts_for_hosts(
        &self,
        host_ids: &[String],
    ) -> Result<BTreeMap<String, SeverityCounts>> {
        let mut out = BTreeMap::new();
        for chunk in host_ids.chunks(1000) {
            with_pool!(self, pool => {
                let mut qb = QueryBuilder::new(format!(
                    "SELECT host_id, {COUNT_COLUMNS} FROM findings WHERE host_id IN ("
                ));
                let mut ids = qb.separated(", ");
                for id in chunk {
                    ids.push_bind(id.clone());
                }
                qb.push(") GROUP BY host_id");
                for row in qb.build().fetch_all(pool).await? {
                    out.insert(row.text("host_id")?, counts(&row)?);
                }
            });
        }
        Ok(out)
    }

    /// Open findings per severity level of every host that has any, keyed by host id
    /// (hosts without findings are absent).
    pub async fn severity_counts_by_host(&self) -> Result<BTreeMap<String, SeverityCounts>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT host_id, {COUNT_COLUMNS} FROM findings GROUP BY host_id"
        ));
        with_pool!(self, pool => {
            let rows = sqlx::query(sql).fetch_all(pool).await?;
            rows.iter().map(|row| Ok((row.text("host_id")?, counts(row)?))).collect()
        })
    }
}
