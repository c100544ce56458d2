//! How bad a finding is: a coarse level for humans and policies, plus the CVSS base
//! score when the feed gave a vector.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Ordered so that `Critical > High > … > Unknown`; `--fail-on` and compliance
/// thresholds compare levels directly.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum SeverityLevel {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityLevel {
    pub const ALL: [SeverityLevel; 5] = [
        SeverityLevel::Critical,
        SeverityLevel::High,
        SeverityLevel::Medium,
        SeverityLevel::Low,
        SeverityLevel::Unknown,
    ];

    /// The CVSS v3/v4 qualitative rating of a base score.
    pub fn from_cvss(score: f64) -> SeverityLevel {
        match score {
            s if s >= 9.0 => SeverityLevel::Critical,
            s if s >= 7.0 => SeverityLevel::High,
            s if s >= 4.0 => SeverityLevel::Medium,
            s if s > 0.0 => SeverityLevel::Low,
            _ => SeverityLevel::Unknown,
        }
    }

    /// Maps a distribution's own rating word (Debian urgency, Ubuntu priority, Red Hat
    /// and SUSE impact, Alpine has none) to a level. Unrecognised words give `None`.
    pub fn from_distro_rating(word: &str) -> Option<SeverityLevel> {
        let w = word.trim().trim_end_matches('*').to_ascii_lowercase();
        Some(match w.as_str() {
            "critical" | "urgent" => SeverityLevel::Critical,
            "high" | "important" | "emergency" => SeverityLevel::High,
            "medium" | "moderate" => SeverityLevel::Medium,
            "low" | "negligible" | "unimportant" => SeverityLevel::Low,
            "unknown" | "not yet assigned" | "untriaged" | "none" => SeverityLevel::Unknown,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLevel::Unknown => "unknown",
            SeverityLevel::Low => "low",
            SeverityLevel::Medium => "medium",
            SeverityLevel::High => "high",
            SeverityLevel::Critical => "critical",
        }
    }
}

impl fmt::Display for SeverityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SeverityLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "critical" => Ok(SeverityLevel::Critical),
            "high" => Ok(SeverityLevel::High),
            "medium" => Ok(SeverityLevel::Medium),
            "low" => Ok(SeverityLevel::Low),
            "unknown" => Ok(SeverityLevel::Unknown),
            other => Err(format!(
                "unknown severity {other:?} (expected critical, high, medium, low or unknown)"
            )),
        }
    }
}

/// A level and, when known, the CVSS base score it came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Severity {
    pub level: SeverityLevel,
    /// CVSS base score (v3.x or v4.0), one decimal.
    pub cvss: Option<f64>,
    /// The vector the score was computed from, for the finding's explanation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}
