//! Which findings a pending update fixes.
//!
//! Package managers say whether an update is a security update only where their
//! repositories carry that metadata (apt's `-security` suites, dnf `updateinfo`, zypper
//! patches). Alpine's apk has none, so Rampart answers from the advisories instead: an
//! update fixes a finding when it replaces the vulnerable package with a version at or
//! past the advisory's fixed version. The same answer also gives every update the
//! severity of the worst finding it closes, whatever its package manager said.

use crate::severity::SeverityLevel;
use crate::version::VersionKind;

use super::Finding;

/// The findings an update closes: their advisory ids (sorted, unique) and the worst
/// severity among them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateFixes {
    pub advisories: Vec<String>,
    pub severity: Option<SeverityLevel>,
}

impl UpdateFixes {
    /// Whether installing the update closes at least one finding.
    pub fn is_security(&self) -> bool {
        !self.advisories.is_empty()
    }
}

/// The findings on binary package `name` whose fixed version is at or before
/// `candidate`, in the host's version ordering `kind`. Findings without a known fix, or
/// whose fix is later than the candidate, stay open after the update and do not count.
pub fn update_fixes<'a>(
    kind: VersionKind,
    name: &str,
    candidate: &str,
    findings: impl IntoIterator<Item = &'a Finding>,
) -> UpdateFixes {
    let mut fixes = UpdateFixes::default();
    for finding in findings {
        let Some(fixed) = finding.fixed.as_deref() else {
            continue;
        };
        if finding.package != name || kind.compare(fixed, candidate).is_gt() {
            continue;
        }
        fixes.advisories.push(finding.advisory.clone());
        fixes.severity = fixes.severity.max(Some(finding.severity.level));
    }
    fixes.advisories.sort_unstable();
    fixes.advisories.dedup();
    fixes
}
