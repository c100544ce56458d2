//! Webhook delivery: one signed JSON POST per attempt.
//!
//! Request: `POST <url>` with the event's wire body ([`crate::Event::wire_body`]) and
//! the headers `Content-Type: application/json`, `User-Agent: rampart/<version>`,
//! `X-Rampart-Event` (kind), `X-Rampart-Event-Id` (the same for every delivery and
//! retry of one event: receivers deduplicate on it), `X-Rampart-Delivery-Id` (one
//! delivery = one channel × one event, the same across its retries),
//! `X-Rampart-Delivery-Attempt` (1, 2, …) and, when the channel has a secret,
//! [`crate::signature::SIGNATURE_HEADER`]. Any 2xx is success. Redirects are not
//! followed. The client is ureq on rustls + ring, run on tokio's blocking pool (a
//! webhook is one short request; an async HTTP stack would add a second TLS client
//! for no gain). Public endpoints are verified against the Mozilla roots; a channel
//! with `ca_pem` trusts only that CA (a private ticketing system).

use std::sync::Arc;
use std::time::Duration;

use rampart_core::egress::EgressPolicy;
use serde::{Deserialize, Serialize};

use crate::{Error, SendError, signature};

/// Largest part of a response body kept (for the ticket reference and error messages).
const MAX_RESPONSE_BYTES: u64 = 64 * 1024;

/// A webhook channel's settings (everything but its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `https://…`; `http://` only to a loopback address.
    pub url: String,
    /// PEM certificate(s) of the CA to trust instead of the public roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// A ticketing system: receives change-request events without subscribing, and
    /// the `external_ref` string in its JSON answer is recorded on the change request.
    #[serde(default)]
    pub ticketing: bool,
    /// Whole-request deadline, connect and TLS included.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    15
}

impl WebhookConfig {
    /// Refuses what could never be delivered, before it is stored.
    pub fn validate(&self) -> Result<(), Error> {
        let rest = if let Some(rest) = self.url.strip_prefix("https://") {
            rest
        } else if let Some(rest) = self.url.strip_prefix("http://") {
            if !crate::is_loopback_host(authority_host(rest)) {
                return Err(Error::Config(
                    "webhook URL must be https:// (http:// only to a loopback address)".into(),
                ));
            }
            rest
        } else {
            return Err(Error::Config("webhook URL must start with https://".into()));
        };
        if authority_host(rest).is_empty() {
            return Err(Error::Config("webhook URL has no host".into()));
        }
        if self.timeout_secs == 0 || self.timeout_secs > 300 {
            return Err(Error::Config("timeout_secs must be 1..=300".into()));
        }
        if let Some(pem) = &self.ca_pem {
            parse_certs(pem)?;
        }
        Ok(())
    }
}

/// The host of `authority[/path…]`, without port or brackets.
fn authority_host(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// The certificates in `pem`; at least one, or a configuration error.
pub(crate) fn parse_certs(pem: &str) -> Result<Vec<ureq::tls::Certificate<'static>>, Error> {
    let certs: Vec<_> = ureq::tls::parse_pem(pem.as_bytes())
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(Ok(c)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()
        .map_err(|e| Error::Config(format!("ca_pem: {e}")))?;
    if certs.is_empty() {
        return Err(Error::Config("ca_pem holds no certificate".into()));
    }
    Ok(certs)
}

/// One attempt's identity, for the headers.
#[derive(Clone, Debug)]
pub struct WebhookRequest<'a> {
    pub event_id: &'a str,
    pub event_kind: &'a str,
    pub delivery_id: &'a str,
    pub attempt: u32,
    /// Unix seconds, signed into the signature header.
    pub timestamp: i64,
    pub body: &'a [u8],
}

/// A 2xx answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookResponse {
    pub status: u16,
    /// The first 64 KiB of the body, lossily decoded.
    pub body: String,
}

impl WebhookResponse {
    /// The `external_ref` a ticketing system answered with (`{"external_ref":"OPS-42"}`).
    pub fn external_ref(&self) -> Option<String> {
        let v: serde_json::Value = serde_json::from_str(&self.body).ok()?;
        let r = v.get("external_ref")?.as_str()?.trim();
        (!r.is_empty() && r.len() <= 200).then(|| r.to_owned())
    }
}

/// Sends one attempt. `secret` signs the body when present. The connection is made
/// only to an address `egress` allows (checked on every resolved address).
pub async fn send(
    config: &WebhookConfig,
    secret: Option<&[u8]>,
    request: WebhookRequest<'_>,
    egress: &EgressPolicy,
) -> Result<WebhookResponse, SendError> {
    config
        .validate()
        .map_err(|e| SendError::Config(e.to_string()))?;
    let mut headers = vec![
        ("Content-Type", "application/json".to_owned()),
        ("X-Rampart-Event", request.event_kind.to_owned()),
        ("X-Rampart-Event-Id", request.event_id.to_owned()),
        ("X-Rampart-Delivery-Id", request.delivery_id.to_owned()),
        ("X-Rampart-Delivery-Attempt", request.attempt.to_string()),
    ];
    if let Some(secret) = secret {
        headers.push((
            signature::SIGNATURE_HEADER,
            signature::sign(secret, request.timestamp, request.body),
        ));
    }
    let agent = agent(config, egress).map_err(|e| SendError::Config(e.to_string()))?;
    let url = config.url.clone();
    let body = request.body.to_vec();
    let egress = egress.clone();
    tokio::task::spawn_blocking(move || {
        // Through a proxy the target is checked here; otherwise at every connection.
        rampart_egress::check_target(&url, agent.config(), &egress).map_err(|e| match e {
            rampart_egress::ResolveError::Refused(r) => SendError::Config(r.to_string()),
            other => SendError::Transport(other.to_string()),
        })?;
        post(&agent, &url, &headers, &body)
    })
    .await
    .map_err(|e| SendError::Transport(format!("webhook task failed: {e}")))?
}

fn agent(config: &WebhookConfig, egress: &EgressPolicy) -> Result<ureq::Agent, Error> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(pem) = &config.ca_pem {
        tls = tls.root_certs(ureq::tls::RootCerts::Specific(Arc::new(parse_certs(pem)?)));
    }
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(config.timeout_secs)))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls.build())
        .build();
    Ok(rampart_egress::agent(config, egress.clone()))
}

fn post(
    agent: &ureq::Agent,
    url: &str,
    headers: &[(&'static str, String)],
    body: &[u8],
) -> Result<WebhookResponse, SendError> {
    let mut req = agent.post(url);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let mut resp = req.send(body).map_err(transport_error)?;
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(MAX_RESPONSE_BYTES)
        .read_to_vec()
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&bytes).into_owned();
    if (200..300).contains(&status) {
        Ok(WebhookResponse { status, body })
    } else {
        Err(SendError::Status {
            status,
            retry_after,
            body: body.chars().take(200).collect(),
        })
    }
}

fn transport_error(e: ureq::Error) -> SendError {
    if let Some(refused) = rampart_egress::refusal(&e) {
        return SendError::Config(refused.to_string());
    }
    match e {
        ureq::Error::Timeout(t) => SendError::Timeout(t.to_string()),
        ureq::Error::BadUri(m) => SendError::Config(format!("bad URL: {m}")),
        ureq::Error::HostNotFound => SendError::Transport("host not found".into()),
        ureq::Error::ConnectionFailed => SendError::Transport("connection failed".into()),
        ureq::Error::Io(e) => SendError::Transport(format!("i/o: {e}")),
        other => SendError::Transport(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> WebhookConfig {
        WebhookConfig {
            url: url.into(),
            ca_pem: None,
            ticketing: false,
            timeout_secs: 15,
        }
    }

    #[test]
    fn urls_are_https_or_loopback_http() {
        for ok in [
            "https://hooks.example.com/x",
            "http://127.0.0.1:8080/hook",
            "http://localhost/hook",
            "http://[::1]:9/x",
        ] {
            assert!(config(ok).validate().is_ok(), "{ok}");
        }
        for bad in [
            "http://hooks.example.com/x",
            "http://10.0.0.1/x",
            "ftp://x",
            "https:///x",
            "hooks.example.com",
        ] {
            assert!(config(bad).validate().is_err(), "{bad}");
        }
        let mut c = config("https://h/");
        c.ca_pem = Some("not a pem".into());
        assert!(c.validate().is_err());
        c.ca_pem = None;
        c.timeout_secs = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn external_ref_is_read_from_the_answer() {
        let r = |body: &str| {
            WebhookResponse {
                status: 201,
                body: body.into(),
            }
            .external_ref()
        };
        assert_eq!(r(r#"{"external_ref":"OPS-42"}"#), Some("OPS-42".into()));
        assert_eq!(r(r#"{"external_ref":""}"#), None);
        assert_eq!(r(r#"{"id":1}"#), None);
        assert_eq!(r("ok"), None);
    }
}
