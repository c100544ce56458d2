//! Risk exceptions: a finding accepted for a while, with a reason and a ticket, by
//! someone other than the person who asked.
//!
//! An exception names one advisory (its id or one of its aliases, so a CVE id covers
//! the DSA that fixes it) and a scope: one host, the hosts of one project, or the whole
//! estate. It applies only while it is approved and `now` is before its expiry: expiry
//! is judged against the `now` the caller passes, so an expired exception stops
//! applying by itself, without a job flipping a flag. Approval follows the four-eyes
//! rule ([`can_approve`]): the requester can never approve their own exception.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::compliance::Millis;

/// Where an exception applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExceptionScope {
    /// One host.
    Host { host_id: String },
    /// Every host the project's selector selects, now and later.
    Project { project_id: String },
    /// Every host.
    Estate,
}

impl ExceptionScope {
    /// Narrower scopes first: a host exception is the most specific explanation of why
    /// a finding is accepted, so it is the one shown when several apply.
    fn specificity(&self) -> u8 {
        match self {
            ExceptionScope::Host { .. } => 0,
            ExceptionScope::Project { .. } => 1,
            ExceptionScope::Estate => 2,
        }
    }
}

/// Where an exception is in its life. Expiry is not a status: it is a fact about `now`
/// ([`Exception::effective_status`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExceptionStatus {
    Requested,
    Approved,
    Denied,
    Revoked,
}

impl ExceptionStatus {
    pub const ALL: [ExceptionStatus; 4] = [
        ExceptionStatus::Requested,
        ExceptionStatus::Approved,
        ExceptionStatus::Denied,
        ExceptionStatus::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExceptionStatus::Requested => "requested",
            ExceptionStatus::Approved => "approved",
            ExceptionStatus::Denied => "denied",
            ExceptionStatus::Revoked => "revoked",
        }
    }
}

impl std::str::FromStr for ExceptionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<ExceptionStatus, String> {
        ExceptionStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown exception status {s:?} (expected requested, approved, denied or revoked)")
            })
    }
}

impl fmt::Display for ExceptionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status as a person reads it at `now`: an approved or requested exception past its
/// expiry is `Expired`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectiveStatus {
    Requested,
    Approved,
    Denied,
    Revoked,
    Expired,
}

impl EffectiveStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EffectiveStatus::Requested => "requested",
            EffectiveStatus::Approved => "approved",
            EffectiveStatus::Denied => "denied",
            EffectiveStatus::Revoked => "revoked",
            EffectiveStatus::Expired => "expired",
        }
    }
}

/// One exception. People are named by user id (`requested_by`, `decided_by`), so a
/// renamed user cannot approve what they requested under their old name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub id: String,
    /// Advisory id or alias.
    pub advisory: String,
    pub scope: ExceptionScope,
    pub reason: String,
    /// Reference in the organisation's ticketing system.
    pub ticket: Option<String>,
    /// Stops applying at this instant (exclusive).
    pub expires_at: Millis,
    pub status: ExceptionStatus,
    pub requested_by: String,
    pub requested_at: Millis,
    pub decided_by: Option<String>,
    pub decided_at: Option<Millis>,
}

/// The finding an exception is asked about.
#[derive(Clone, Copy, Debug)]
pub struct FindingTarget<'a> {
    pub host_id: &'a str,
    /// Projects whose selector selects the host.
    pub project_ids: &'a [String],
    pub advisory: &'a str,
    pub aliases: &'a [String],
}

impl Exception {
    /// Approved and not yet expired at `now`.
    pub fn is_active(&self, now: Millis) -> bool {
        self.status == ExceptionStatus::Approved && now < self.expires_at
    }

    /// Whether the exception names this finding's advisory and scope, whatever its
    /// status.
    pub fn covers(&self, target: &FindingTarget<'_>) -> bool {
        let advisory = self.advisory == target.advisory || target.aliases.contains(&self.advisory);
        let scope = match &self.scope {
            ExceptionScope::Host { host_id } => host_id == target.host_id,
            ExceptionScope::Project { project_id } => target.project_ids.contains(project_id),
            ExceptionScope::Estate => true,
        };
        advisory && scope
    }

    pub fn effective_status(&self, now: Millis) -> EffectiveStatus {
        match self.status {
            ExceptionStatus::Denied => EffectiveStatus::Denied,
            ExceptionStatus::Revoked => EffectiveStatus::Revoked,
            _ if now >= self.expires_at => EffectiveStatus::Expired,
            ExceptionStatus::Requested => EffectiveStatus::Requested,
            ExceptionStatus::Approved => EffectiveStatus::Approved,
        }
    }
}

/// Whether `exception` accepts the finding at `now`: approved, unexpired, and covering
/// its advisory and host.
pub fn applies(exception: &Exception, target: &FindingTarget<'_>, now: Millis) -> bool {
    exception.is_active(now) && exception.covers(target)
}

/// The exception that accepts the finding at `now`, if any: the most specific scope
/// first, then the one that lasts longest, then the lowest id (deterministic).
pub fn covering<'e>(
    exceptions: &'e [Exception],
    target: &FindingTarget<'_>,
    now: Millis,
) -> Option<&'e Exception> {
    exceptions
        .iter()
        .filter(|e| applies(e, target, now))
        .min_by(|a, b| {
            a.scope
                .specificity()
                .cmp(&b.scope.specificity())
                .then(b.expires_at.cmp(&a.expires_at))
                .then(a.id.cmp(&b.id))
        })
}

/// Why a decision on an exception is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The four-eyes rule.
    #[error("the requester of an exception cannot approve it; another person must")]
    SelfApproval,
    /// Only a pending request can be approved or denied.
    #[error("the exception is {status}, not requested")]
    NotPending { status: ExceptionStatus },
    /// Approving something already past its expiry would accept nothing.
    #[error("the exception expired; request a new one")]
    Expired,
    /// Denied and revoked exceptions stay as they are, for the record.
    #[error("the exception is already {status}")]
    Closed { status: ExceptionStatus },
}

/// Whether `approver` (a user id) may approve `exception` at `now`.
pub fn can_approve(exception: &Exception, approver: &str, now: Millis) -> Result<(), Refusal> {
    if exception.status != ExceptionStatus::Requested {
        return Err(Refusal::NotPending {
            status: exception.status,
        });
    }
    if now >= exception.expires_at {
        return Err(Refusal::Expired);
    }
    if exception.requested_by == approver {
        return Err(Refusal::SelfApproval);
    }
    Ok(())
}

/// Whether a pending request may be denied. Anyone allowed to decide may deny,
/// the requester included (that is withdrawing the request).
pub fn can_deny(exception: &Exception) -> Result<(), Refusal> {
    match exception.status {
        ExceptionStatus::Requested => Ok(()),
        status => Err(Refusal::NotPending { status }),
    }
}

/// Whether an exception may be revoked: a request or an approval, not a closed one.
pub fn can_revoke(exception: &Exception) -> Result<(), Refusal> {
    match exception.status {
        ExceptionStatus::Requested | ExceptionStatus::Approved => Ok(()),
        status => Err(Refusal::Closed { status }),
    }
}

/// Why a request is malformed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error(
        "advisory must be an advisory id or alias (letters, digits, - : . + / _), at most 128 characters"
    )]
    Advisory,
    #[error("a reason is required (at most 4000 characters)")]
    Reason,
    #[error("the ticket reference is at most 256 characters")]
    Ticket,
    #[error("the expiry must lie in the future")]
    ExpiryInPast,
}

/// An advisory id or alias as feeds spell them: 1–128 letters, digits and `- : . + / _`.
pub fn is_advisory_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.' | '+' | '/' | '_'))
}

/// Checks what a requester typed. Advisory ids are restricted to the characters real
/// ids use, which also keeps them safe inside the store's alias `LIKE` pattern.
pub fn validate_request(
    advisory: &str,
    reason: &str,
    ticket: Option<&str>,
    expires_at: Millis,
    now: Millis,
) -> Result<(), RequestError> {
    if !is_advisory_id(advisory) {
        return Err(RequestError::Advisory);
    }
    if reason.trim().is_empty() || reason.chars().count() > 4000 {
        return Err(RequestError::Reason);
    }
    if ticket.is_some_and(|t| t.chars().count() > 256) {
        return Err(RequestError::Ticket);
    }
    if expires_at <= now {
        return Err(RequestError::ExpiryInPast);
    }
    Ok(())
}

#[cfg(test)]
mod tests;
