//! The advisory model every feed is converted into: OSV's shape, reduced to what the
//! matcher and the explanation of a finding need.

use serde::{Deserialize, Serialize};

use crate::distro::Release;
use crate::severity::Severity;

/// One advisory record (a DSA, a USN, an ALSA, a CVE record of a distribution…).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// RFC 3339 timestamps as the feed wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<String>,
    /// Set when the record was withdrawn; a withdrawn advisory never matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<String>,
    /// The record-level severity (best of CVSS and the distribution's rating).
    #[serde(default)]
    pub severity: Severity,
    pub affected: Vec<Affected>,
}

/// One affected package in one ecosystem release.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// The ecosystem string as the feed wrote it, for explanations.
    pub ecosystem: String,
    /// The normalised release; `None` for ecosystems Rampart does not match.
    pub release: Option<Release>,
    /// Package name as the feed names it (a source package for Debian and Ubuntu, an
    /// origin for Alpine, a binary or source RPM name for RPM distributions).
    pub package: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Versions listed one by one as affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// A severity specific to this package (Debian urgency, Ubuntu priority), which
    /// takes precedence over the record's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RangeKind {
    /// Versions in the ecosystem's own ordering (dpkg, RPM, apk).
    Ecosystem,
    /// Semantic versioning.
    Semver,
}

/// An OSV range: events in any order, evaluated in version order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub kind: RangeKind,
    pub events: Vec<Event>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// `"0"` means "since the first version".
    Introduced(String),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

impl Event {
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}
