//! Severity from the two places feeds put it: CVSS vectors (scored here, with the
//! RustSec `cvss` crate, so a finding shows a number even when the feed gave only a
//! vector) and a distribution's own rating word (Debian urgency, Ubuntu priority, Red Hat
//! impact).
//!
//! The rule: the level is the distribution's rating when there is one, because it
//! reflects how the package is built and exposed there; otherwise it comes from the
//! highest CVSS score. The score and vector are kept either way for the explanation.

use std::str::FromStr;

use cvss::Cvss;
use rampart_core::severity::{Severity, SeverityLevel};

/// A vector the `cvss` crate could not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid CVSS vector {vector:?}: {reason}")]
pub struct CvssError {
    pub vector: String,
    pub reason: String,
}

/// A scored vector.
#[derive(Clone, Debug, PartialEq)]
pub struct CvssScore {
    /// Base score, one decimal.
    pub score: f64,
    /// The level this score gives under its own CVSS version.
    pub level: SeverityLevel,
    pub vector: String,
    /// CVSS v2 scores are only used when no v3 or v4 vector exists: their scale tops out
    /// at "high" and they overrate many local issues.
    pub legacy: bool,
}

/// Scores a CVSS v2, v3.0, v3.1 or v4.0 vector (v2 vectors carry no `CVSS:` prefix).
pub fn cvss_score(vector: &str) -> Result<CvssScore, CvssError> {
    let vector = vector.trim();
    let parsed = Cvss::from_str(vector).map_err(|e| CvssError {
        vector: vector.to_owned(),
        reason: e.to_string(),
    })?;
    let legacy = matches!(parsed, Cvss::CvssV20(_));
    let required: &[&str] = match parsed {
        Cvss::CvssV20(_) => &["AV", "AC", "Au", "C", "I", "A"],
        Cvss::CvssV40(_) => &[
            "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
        ],
        _ => &["AV", "AC", "PR", "UI", "S", "C", "I", "A"],
    };
    // The crate scores a vector with base metrics missing; such a score means nothing.
    let present: Vec<&str> = vector
        .split('/')
        .filter_map(|m| m.split_once(':').map(|(k, _)| k))
        .collect();
    if let Some(missing) = required.iter().find(|m| !present.contains(m)) {
        return Err(CvssError {
            vector: vector.to_owned(),
            reason: format!("base metric {missing} is missing"),
        });
    }
    let score = (parsed.score() * 10.0).round() / 10.0;
    let level = if legacy {
        // CVSS v2's qualitative scale has no "critical".
        SeverityLevel::from_cvss(score).min(SeverityLevel::High)
    } else {
        SeverityLevel::from_cvss(score)
    };
    Ok(CvssScore {
        score,
        level,
        vector: vector.to_owned(),
        legacy,
    })
}

/// Shorthand for the base score alone.
pub fn cvss_base_score(vector: &str) -> Result<f64, CvssError> {
    cvss_score(vector).map(|s| s.score)
}

/// A distribution rating word as a level; `None` for words Rampart does not know and for
/// "not yet assigned"-style placeholders, which must not hide a CVSS-derived level.
pub fn rating_level(word: &str) -> Option<SeverityLevel> {
    SeverityLevel::from_distro_rating(word).filter(|l| *l != SeverityLevel::Unknown)
}

/// The severity evidence found at one scope (a record, or one affected entry).
#[derive(Clone, Debug, Default)]
pub(crate) struct Evidence {
    rating: Option<SeverityLevel>,
    best: Option<CvssScore>,
}

impl Evidence {
    /// Keeps the first recognised rating: callers offer the most specific source first.
    pub(crate) fn add_rating(&mut self, word: &str) {
        if self.rating.is_none() {
            self.rating = rating_level(word);
        }
    }

    pub(crate) fn add_vector(&mut self, vector: &str) -> Result<(), CvssError> {
        let scored = cvss_score(vector)?;
        let better = match &self.best {
            None => true,
            Some(best) => {
                (best.legacy && !scored.legacy)
                    || (best.legacy == scored.legacy && scored.score > best.score)
            }
        };
        if better {
            self.best = Some(scored);
        }
        Ok(())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rating.is_none() && self.best.is_none()
    }

    /// The severity at this scope, falling back to `outer` (the record's evidence) for
    /// whatever this scope lacks.
    pub(crate) fn resolve(&self, outer: &Evidence) -> Severity {
        let cvss = self.best.as_ref().or(outer.best.as_ref());
        let level = self
            .rating
            .or(outer.rating)
            .or(cvss.map(|c| c.level))
            .unwrap_or(SeverityLevel::Unknown);
        Severity {
            level,
            cvss: cvss.map(|c| c.score),
            vector: cvss.map(|c| c.vector.clone()),
        }
    }
}

#[cfg(test)]
mod tests;
