//! The matcher: which installed packages an advisory index says are vulnerable, and why.
//!
//! Advisories are indexed by (release, package name). Debian, Ubuntu and Alpine
//! advisories name source packages, so a binary package is looked up through its source
//! name and compared with its source version; RPM advisories name binary packages (Red Hat
//! sometimes source RPMs), so RPM packages are looked up by both. OSV ranges are compiled
//! once at insertion into sorted intervals in the release's own version ordering, so a
//! lookup is a handful of comparisons. [`Estate`] evaluates each distinct
//! (release, package) of a whole fleet once and re-evaluates only what a new advisory
//! touches.

mod estate;
mod index;
mod updates;

pub use estate::{Estate, EstateStats, HostId, SetId};
pub use index::{AdvisoryId, AdvisoryIndex, Hit, IndexKey};
pub use updates::{UpdateFixes, update_fixes};

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::advisory::RangeKind;
use crate::distro::Release;
use crate::package::Package;
use crate::severity::Severity;

/// Why a version was found affected, in terms a reader can check against the feed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MatchReason {
    /// The version is listed in the record's `versions[]`.
    Listed,
    /// The version falls in a range: at or above `introduced` (`None` = from the first
    /// version), below `fixed` or at most `last_affected` (both `None` = no fix yet).
    Range {
        kind: RangeKind,
        introduced: Option<String>,
        fixed: Option<String>,
        last_affected: Option<String>,
    },
}

impl fmt::Display for MatchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MatchReason::Listed => f.write_str("listed in versions[]"),
            MatchReason::Range {
                introduced,
                fixed,
                last_affected,
                ..
            } => {
                write!(f, "introduced {}", introduced.as_deref().unwrap_or("0"))?;
                match (fixed, last_affected) {
                    (Some(x), _) => write!(f, ", fixed {x}"),
                    (None, Some(l)) => write!(f, ", last affected {l}"),
                    (None, None) => f.write_str(", no fix yet"),
                }
            }
        }
    }
}

/// One vulnerable installed package, explained.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub advisory: String,
    pub aliases: Vec<String>,
    /// Installed binary package.
    pub package: String,
    /// Its source package (equal to `package` when there is none).
    pub source: String,
    /// Installed binary version.
    pub installed: String,
    /// The version that was compared (the source version for source-matched packages).
    pub compared_version: String,
    /// The name the advisory gave (source or binary).
    pub advisory_package: String,
    /// The first version that fixes it, `None` when no fix is known.
    pub fixed: Option<String>,
    pub severity: Severity,
    /// The feed's ecosystem string for the affected entry that matched.
    pub ecosystem: String,
    pub reason: MatchReason,
}

/// Matches one host's packages. Each distinct (name, version) the advisories are keyed
/// on is evaluated once; findings are sorted by advisory then package and unique per
/// (advisory, package, installed version).
pub fn match_host(index: &AdvisoryIndex, release: &Release, packages: &[Package]) -> Vec<Finding> {
    let mut cache: HashMap<(&str, &str), Vec<Hit>> = HashMap::new();
    for package in packages {
        for key in index::lookup_names(release, package) {
            cache
                .entry(key)
                .or_insert_with(|| index.evaluate(release, key.0, key.1));
        }
    }
    // Order and deduplicate light (hit, package) pairs first and explain only the
    // survivors: a host can have tens of thousands of findings, and sorting the
    // explained findings moved far more memory.
    let mut pairs: Vec<(&str, &Hit, &Package)> = Vec::new();
    for package in packages {
        for key in index::lookup_names(release, package) {
            let hits = cache.get(&key).map(Vec::as_slice).unwrap_or_default();
            pairs.extend(
                hits.iter()
                    .map(|hit| (index.advisory(hit.advisory).id.as_str(), hit, package)),
            );
        }
    }
    fn key<'a>(&(id, _, p): &(&'a str, &Hit, &'a Package)) -> (&'a str, &'a str, &'a str) {
        (id, p.name.as_str(), p.version.as_str())
    }
    pairs.sort_by(|a, b| key(a).cmp(&key(b)));
    pairs.dedup_by(|b, a| key(a) == key(b));
    pairs
        .into_iter()
        .map(|(_, hit, package)| index.finding(hit, package))
        .collect()
}

/// Sorts by (advisory, package, installed) and keeps the first finding of each triple.
pub fn sort_and_dedup(findings: &mut Vec<Finding>) {
    findings.sort_by(|a, b| {
        (
            a.advisory.as_str(),
            a.package.as_str(),
            a.installed.as_str(),
        )
            .cmp(&(
                b.advisory.as_str(),
                b.package.as_str(),
                b.installed.as_str(),
            ))
    });
    findings.dedup_by(|b, a| {
        a.advisory == b.advisory && a.package == b.package && a.installed == b.installed
    });
}

#[cfg(test)]
mod tests;
