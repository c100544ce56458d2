//! Version ordering for each package family Rampart matches against.
//!
//! Every family module offers the same two functions:
//! - `validate(v)` says whether the family's own tool would accept `v`;
//! - `compare(a, b)` is a total order on *any* pair of strings that agrees exactly with
//!   the family's tool on valid versions and never panics on invalid ones, so the matcher
//!   can compare pre-validated strings without allocating or re-checking.

pub mod apk;
pub mod deb;
pub mod rpm;
pub mod semver;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The version semantics a package or advisory range uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VersionKind {
    /// dpkg (Debian, Ubuntu).
    Deb,
    /// RPM (Red Hat, AlmaLinux, Rocky Linux, SUSE).
    Rpm,
    /// apk-tools (Alpine).
    Apk,
    /// Semantic Versioning 2.0, used by OSV `SEMVER` ranges.
    Semver,
}

/// Why a version string was refused by its family's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} version {version:?}: {reason}")]
pub struct VersionError {
    pub kind: VersionKind,
    pub version: String,
    pub reason: String,
}

impl VersionError {
    pub(crate) fn new(kind: VersionKind, version: &str, reason: impl Into<String>) -> Self {
        VersionError {
            kind,
            version: version.to_owned(),
            reason: reason.into(),
        }
    }
}

impl VersionKind {
    /// Checks `v` against the family's syntax rules.
    pub fn validate(self, v: &str) -> Result<(), VersionError> {
        match self {
            VersionKind::Deb => deb::validate(v),
            VersionKind::Rpm => rpm::validate(v),
            VersionKind::Apk => apk::validate(v),
            VersionKind::Semver => semver::validate(v),
        }
    }

    /// Total order on any two strings; exact on valid versions. Never panics.
    pub fn compare(self, a: &str, b: &str) -> Ordering {
        match self {
            VersionKind::Deb => deb::compare(a, b),
            VersionKind::Rpm => rpm::compare(a, b),
            VersionKind::Apk => apk::compare(a, b),
            VersionKind::Semver => semver::compare(a, b),
        }
    }

    /// Validates both sides, then compares: what `rampart vercmp` uses.
    pub fn compare_checked(self, a: &str, b: &str) -> Result<Ordering, VersionError> {
        self.validate(a)?;
        self.validate(b)?;
        Ok(self.compare(a, b))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VersionKind::Deb => "deb",
            VersionKind::Rpm => "rpm",
            VersionKind::Apk => "apk",
            VersionKind::Semver => "semver",
        }
    }
}

impl fmt::Display for VersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VersionKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "deb" | "dpkg" | "debian" => Ok(VersionKind::Deb),
            "rpm" | "redhat" => Ok(VersionKind::Rpm),
            "apk" | "alpine" => Ok(VersionKind::Apk),
            "semver" => Ok(VersionKind::Semver),
            other => Err(format!(
                "unknown version kind {other:?} (expected deb, rpm or apk)"
            )),
        }
    }
}
