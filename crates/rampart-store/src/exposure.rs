//! Per-package exposure: for every package with open findings, on how many hosts, under
//! how many distinct advisories, and how many findings of each severity — what the
//! dashboard ranks as "most widespread vulnerable packages" and sums into the estate's
//! severity counts. Aggregating that from every finding on each page view grows with the
//! estate (hundreds of milliseconds at 10,000 hosts, see `BENCHMARKS.md`), so the store
//! keeps the figures as counters (`package_advisories`, `package_exposure`, migration
//! 0008) and changes them by one host's delta inside the same transaction that changes
//! that host's findings.
//!
//! Why the counters stay exact under any sequence of replacements and deletions:
//! - findings per (package, severity) and per (package, advisory) are sums over hosts, so
//!   adding `new − old` of the one host that changed keeps them exact;
//! - a package's hosts counts hosts with at least one of its findings; one host's
//!   presence changes by −1, 0 or +1, known from its old and new findings alone;
//! - a package's distinct advisories is its number of `package_advisories` rows, and a
//!   row exists exactly while its count is positive, so the upsert's returned count says
//!   whether an advisory appeared (was 0) or disappeared (is 0) for the package.
//!
//! Invariant for writers: every statement that adds or removes findings rows must apply
//! the [`ExposureDelta`] between the host's old and new findings in its transaction.
//! Today that is `Store::replace_findings` and `Store::delete_host` (the `ON DELETE
//! CASCADE` from `hosts` bypasses this code, so `delete_host` subtracts the host's
//! findings before deleting it). Counters are written in key order in every transaction,
//! so concurrent writers on PostgreSQL wait for each other instead of deadlocking.

use std::collections::{BTreeMap, BTreeSet};

/// Rows per multi-row upsert (at most 9 columns): under SQLite's 32 766 bind limit.
pub(crate) const BATCH_ROWS: usize = 1000;

/// Index into [`PackageDelta::by_rank`] for a stored `severity_rank`: 4 critical, 3 high,
/// 2 medium, 1 low, anything else unknown (as `summary::level` reads it).
fn bucket(rank: i64) -> usize {
    match rank {
        1..=4 => rank as usize,
        _ => 0,
    }
}

/// The change of one package's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct PackageDelta {
    pub(crate) hosts: i64,
    /// Findings per severity bucket: `[unknown, low, medium, high, critical]`.
    pub(crate) by_rank: [i64; 5],
}

impl PackageDelta {
    /// The worst severity rank with a positive count; meaningful for a package's full
    /// counts (a new row), where every entry is non-negative.
    pub(crate) fn worst(&self) -> i64 {
        (1..=4).rev().find(|&r| self.by_rank[r] > 0).unwrap_or(0) as i64
    }
}

/// The change to the exposure counters when one host's findings go from `old` to `new`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ExposureDelta {
    /// (package, advisory) → change in findings; entries that cancel out are dropped.
    pub(crate) pairs: BTreeMap<(String, String), i64>,
    /// package → change in hosts and findings per severity; all-zero entries are dropped.
    pub(crate) packages: BTreeMap<String, PackageDelta>,
}

impl ExposureDelta {
    /// The delta from one host's `old` findings to its `new` ones, each given as
    /// (package, advisory, severity rank), one item per findings row.
    pub(crate) fn between<'a>(
        old: impl IntoIterator<Item = (&'a str, &'a str, i64)>,
        new: impl IntoIterator<Item = (&'a str, &'a str, i64)>,
    ) -> ExposureDelta {
        let mut delta = ExposureDelta::default();
        let had = delta.add(old, -1);
        let has = delta.add(new, 1);
        for package in had.symmetric_difference(&has) {
            let d = delta.packages.entry((*package).to_owned()).or_default();
            d.hosts += if has.contains(package) { 1 } else { -1 };
        }
        delta.pairs.retain(|_, d| *d != 0);
        delta.packages.retain(|_, d| *d != PackageDelta::default());
        delta
    }

    /// Adds `sign` times each row's findings; returns the packages the rows name.
    fn add<'a>(
        &mut self,
        rows: impl IntoIterator<Item = (&'a str, &'a str, i64)>,
        sign: i64,
    ) -> BTreeSet<&'a str> {
        let mut present = BTreeSet::new();
        for (package, advisory, rank) in rows {
            *self
                .pairs
                .entry((package.to_owned(), advisory.to_owned()))
                .or_default() += sign;
            self.packages.entry(package.to_owned()).or_default().by_rank[bucket(rank)] += sign;
            present.insert(package);
        }
        present
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty() && self.packages.is_empty()
    }
}

/// A counter would leave its range: findings rows were added or removed without their
/// delta (by hand, or by a write path that forgot it). Failing the write keeps the error
/// visible instead of ranking packages on figures that drifted.
pub(crate) fn inconsistent(table: &str, package: &str) -> crate::Error {
    crate::Error::Database {
        source: format!(
            "{table} counters for package {package:?} disagree with the findings table \
             (see src/exposure.rs)"
        )
        .into(),
    }
}

/// Applies an [`ExposureDelta`] inside the open transaction `$tx` (a `Transaction`
/// of either backend), within a `with_pool!` arm. A macro rather than a function so each
/// backend's expansion uses its own native types, like `with_pool!` itself.
macro_rules! apply_exposure {
    ($tx:ident, $delta:expr) => {{
        use $crate::RowExt as _;
        let delta: &$crate::exposure::ExposureDelta = $delta;
        // Distinct advisories per package appear and disappear with their rows.
        let mut advisories: std::collections::BTreeMap<String, i64> =
            std::collections::BTreeMap::new();
        let pairs: Vec<(&(String, String), &i64)> = delta.pairs.iter().collect();
        for chunk in pairs.chunks($crate::exposure::BATCH_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO package_advisories AS a (package, advisory_id, findings) ",
            );
            qb.push_values(chunk, |mut b, ((package, advisory), n)| {
                b.push_bind(package.clone())
                    .push_bind(advisory.clone())
                    .push_bind(**n);
            });
            qb.push(
                " ON CONFLICT (package, advisory_id) DO UPDATE \
                 SET findings = a.findings + excluded.findings \
                 RETURNING package, advisory_id, findings",
            );
            let rows = qb.build().fetch_all(&mut *$tx).await?;
            let mut gone = Vec::new();
            for row in &rows {
                let key = (row.text("package")?, row.text("advisory_id")?);
                let after = row.int("findings")?;
                if after < 0 {
                    return Err($crate::exposure::inconsistent("package_advisories", &key.0));
                }
                let before = after - delta.pairs.get(&key).copied().unwrap_or(0);
                if before == 0 {
                    *advisories.entry(key.0.clone()).or_default() += 1;
                }
                if after == 0 {
                    *advisories.entry(key.0.clone()).or_default() -= 1;
                    gone.push(key);
                }
            }
            if !gone.is_empty() {
                let mut qb = sqlx::QueryBuilder::new(
                    "DELETE FROM package_advisories WHERE findings = 0 AND package IN (",
                );
                let mut list = qb.separated(", ");
                for (package, _) in &gone {
                    list.push_bind(package.clone());
                }
                qb.push(")");
                qb.build().execute(&mut *$tx).await?;
            }
        }

        let mut packages: std::collections::BTreeMap<&str, ($crate::exposure::PackageDelta, i64)> =
            delta
                .packages
                .iter()
                .map(|(p, d)| (p.as_str(), (*d, 0)))
                .collect();
        for (package, n) in &advisories {
            if *n != 0 {
                packages.entry(package.as_str()).or_default().1 += n;
            }
        }
        let packages: Vec<(&str, ($crate::exposure::PackageDelta, i64))> =
            packages.into_iter().collect();
        for chunk in packages.chunks($crate::exposure::BATCH_ROWS) {
            let mut qb = sqlx::QueryBuilder::new(
                "INSERT INTO package_exposure AS e (package, hosts, advisories, critical, \
                 high, medium, low, unknown, worst) ",
            );
            qb.push_values(chunk, |mut b, (package, (d, advisories))| {
                b.push_bind((*package).to_owned())
                    .push_bind(d.hosts)
                    .push_bind(*advisories)
                    .push_bind(d.by_rank[4])
                    .push_bind(d.by_rank[3])
                    .push_bind(d.by_rank[2])
                    .push_bind(d.by_rank[1])
                    .push_bind(d.by_rank[0])
                    .push_bind(d.worst());
            });
            qb.push(
                " ON CONFLICT (package) DO UPDATE SET \
                 hosts = e.hosts + excluded.hosts, \
                 advisories = e.advisories + excluded.advisories, \
                 critical = e.critical + excluded.critical, \
                 high = e.high + excluded.high, \
                 medium = e.medium + excluded.medium, \
                 low = e.low + excluded.low, \
                 unknown = e.unknown + excluded.unknown, \
                 worst = CASE WHEN e.critical + excluded.critical > 0 THEN 4 \
                              WHEN e.high + excluded.high > 0 THEN 3 \
                              WHEN e.medium + excluded.medium > 0 THEN 2 \
                              WHEN e.low + excluded.low > 0 THEN 1 ELSE 0 END \
                 RETURNING package, hosts, advisories, critical, high, medium, low, unknown",
            );
            let rows = qb.build().fetch_all(&mut *$tx).await?;
            let mut gone = Vec::new();
            for row in &rows {
                let package = row.text("package")?;
                let mut findings = 0;
                for column in ["critical", "high", "medium", "low", "unknown"] {
                    let n = row.int(column)?;
                    if n < 0 {
                        return Err($crate::exposure::inconsistent("package_exposure", &package));
                    }
                    findings += n;
                }
                let (hosts, advisories) = (row.int("hosts")?, row.int("advisories")?);
                // A package has findings exactly when it is on a host and under an advisory.
                if (hosts > 0) != (findings > 0) || (advisories > 0) != (findings > 0) {
                    return Err($crate::exposure::inconsistent("package_exposure", &package));
                }
                if findings == 0 {
                    gone.push(package);
                }
            }
            if !gone.is_empty() {
                let mut qb = sqlx::QueryBuilder::new(
                    "DELETE FROM package_exposure \
                     WHERE critical + high + medium + low + unknown = 0 AND package IN (",
                );
                let mut list = qb.separated(", ");
                for package in gone {
                    list.push_bind(package);
                }
                qb.push(")");
                qb.build().execute(&mut *$tx).await?;
            }
        }
    }};
}
pub(crate) use apply_exposure;

#[cfg(test)]
mod tests {
    use super::*;

    fn pd(hosts: i64, by_rank: [i64; 5]) -> PackageDelta {
        PackageDelta { hosts, by_rank }
    }

    #[test]
    fn a_new_host_adds_one_host_per_package_whatever_its_advisories() {
        let d = ExposureDelta::between(
            [],
            [
                ("openssl", "DSA-1", 4),
                ("openssl", "DSA-2", 2),
                ("zlib", "DSA-3", 1),
            ],
        );
        assert_eq!(
            d.packages,
            BTreeMap::from([
                ("openssl".to_owned(), pd(1, [0, 0, 1, 0, 1])),
                ("zlib".to_owned(), pd(1, [0, 1, 0, 0, 0])),
            ])
        );
        assert_eq!(d.pairs.len(), 3);
        assert_eq!(d.packages["openssl"].worst(), 4);
    }

    #[test]
    fn unchanged_findings_change_nothing() {
        let rows = [("openssl", "DSA-1", 4), ("openssl", "DSA-1", 4)];
        assert!(ExposureDelta::between(rows, rows).is_empty());
    }

    #[test]
    fn a_package_leaving_a_host_removes_that_host_once() {
        let d = ExposureDelta::between(
            [
                ("openssl", "DSA-1", 4),
                ("openssl", "DSA-2", 3),
                ("zlib", "DSA-3", 9),
            ],
            [("zlib", "DSA-3", 9), ("zlib", "DSA-4", 2)],
        );
        assert_eq!(
            d.packages,
            BTreeMap::from([
                ("openssl".to_owned(), pd(-1, [0, 0, 0, -1, -1])),
                ("zlib".to_owned(), pd(0, [0, 0, 1, 0, 0])),
            ])
        );
        assert_eq!(
            d.pairs,
            BTreeMap::from([
                (("openssl".to_owned(), "DSA-1".to_owned()), -1),
                (("openssl".to_owned(), "DSA-2".to_owned()), -1),
                (("zlib".to_owned(), "DSA-4".to_owned()), 1),
            ])
        );
    }
}
