//! Change requests: the record Rampart opens for a project when security updates stay
//! pending beyond its standard. The patch workflow works from it and an external
//! ticketing system may mirror it. Only the shape lives here (shared by the store, the
//! notifier and the compliance engine); deciding what is overdue is the compliance
//! engine's business.

use serde::{Deserialize, Serialize};

/// One host's overdue security updates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequestItem {
    pub host_id: String,
    pub hostname: String,
    pub updates: Vec<OverdueUpdate>,
}

/// A security update pending longer than the project allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverdueUpdate {
    /// Binary package name.
    pub package: String,
    pub installed: String,
    pub candidate: String,
    /// When Rampart first saw the update pending (Unix milliseconds, server clock).
    pub pending_since: i64,
}

/// Whether a change request still asks for work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeRequestStatus {
    Open,
    Closed,
}

impl ChangeRequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeRequestStatus::Open => "open",
            ChangeRequestStatus::Closed => "closed",
        }
    }
}

impl std::str::FromStr for ChangeRequestStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<ChangeRequestStatus, String> {
        match s {
            "open" => Ok(ChangeRequestStatus::Open),
            "closed" => Ok(ChangeRequestStatus::Closed),
            _ => Err(format!(
                "unknown change request status {s:?} (expected open or closed)"
            )),
        }
    }
}
