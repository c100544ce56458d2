//! Rampart's notifications, as a library without storage: the [`Event`] and its
//! versioned JSON body ([`event`]), signed webhook delivery ([`webhook`],
//! [`signature`]), mail over SMTP ([`email`]) and the pure [`retry`] policy. The server
//! keeps the outbox (rampart-store) and runs the dispatcher; this crate only knows how
//! to send one attempt and how to judge its failure.

pub mod email;
pub mod event;
pub mod retry;
pub mod signature;
pub mod webhook;

pub use email::{EmailConfig, SmtpSecurity};
pub use event::{Attachment, Event, EventKind, Payload};
pub use retry::{Failure, Next, RetryPolicy};
pub use webhook::{WebhookConfig, WebhookResponse};

use std::time::Duration;

/// A channel's settings are unusable.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Config(String),
}

/// Why one delivery attempt failed. [`SendError::failure`] says whether to retry.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The channel's settings cannot work (retrying will not help).
    #[error("configuration: {0}")]
    Config(String),
    /// Connecting, TLS or the exchange failed.
    #[error("transport: {0}")]
    Transport(String),
    #[error("timed out: {0}")]
    Timeout(String),
    /// The webhook answered with a status other than 2xx.
    #[error("HTTP {status}{}", if body.is_empty() { String::new() } else { format!(": {body}") })]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        body: String,
    },
    /// The mail server refused; `permanent` for a 5xx reply.
    #[error("SMTP: {message}")]
    Smtp { message: String, permanent: bool },
}

impl SendError {
    /// How the retry policy sees this error.
    pub fn failure(&self) -> Failure {
        let (retryable, retry_after) = match self {
            SendError::Config(_) => (false, None),
            SendError::Transport(_) | SendError::Timeout(_) => (true, None),
            SendError::Status {
                status,
                retry_after,
                ..
            } => (retry::http_status_retryable(*status), *retry_after),
            SendError::Smtp { permanent, .. } => (!permanent, None),
        };
        Failure {
            retryable,
            retry_after,
            message: self.to_string(),
        }
    }
}

/// Whether `host` (a name or an address, IPv6 without brackets) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_classify() {
        let status = |s| SendError::Status {
            status: s,
            retry_after: None,
            body: String::new(),
        };
        assert!(status(503).failure().retryable);
        assert!(!status(404).failure().retryable);
        assert_eq!(status(500).failure().message, "HTTP 500");
        assert!(!SendError::Config("x".into()).failure().retryable);
        assert!(SendError::Timeout("x".into()).failure().retryable);
        assert!(
            !SendError::Smtp {
                message: "550".into(),
                permanent: true
            }
            .failure()
            .retryable
        );
    }

    #[test]
    fn loopback_hosts() {
        for h in ["localhost", "127.0.0.1", "127.5.5.5", "::1", "[::1]"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["example.com", "10.0.0.1", "0.0.0.0", ""] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
