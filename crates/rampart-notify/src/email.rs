//! Mail over SMTP (lettre on rustls + ring): the event's subject line, its text summary
//! as the body, and its attachments (the report files).
//!
//! Transport security, per channel:
//! - `starttls` (the default): plain connection upgraded with STARTTLS, which is
//!   *required* — a server that does not offer it fails the delivery rather than
//!   receiving credentials and reports in clear;
//! - `tls`: implicit TLS from the first byte (port 465);
//! - `plain`: no TLS at all, accepted only for a loopback host (a local relay).
//!
//! The server certificate is verified against the Mozilla roots plus, when the channel
//! has one, its `ca_pem` (a private mail server). The password is the channel's sealed
//! secret; it is handed in here and never logged.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment as MailAttachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use rampart_core::egress::EgressPolicy;
use serde::{Deserialize, Serialize};

use crate::{Error, Event, SendError};

/// How the connection to the mail server is protected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    Plain,
}

/// A mail channel's settings (everything but its password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub host: String,
    /// Default: 587 for `starttls`, 465 for `tls`, 25 for `plain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// SMTP AUTH user; the password is the channel's secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `Rampart <rampart@example.com>` or a bare address.
    pub from: String,
    pub to: Vec<String>,
    /// PEM certificate(s) of a CA trusted besides the public roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Name sent in EHLO; default `localhost`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hello_name: Option<String>,
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    30
}

impl EmailConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.security {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::Plain => 25,
        })
    }

    /// Refuses what could never be delivered, or would leak, before it is stored.
    pub fn validate(&self) -> Result<(), Error> {
        if self.host.trim().is_empty() {
            return Err(Error::Config("SMTP host is empty".into()));
        }
        if self.security == SmtpSecurity::Plain && !crate::is_loopback_host(&self.host) {
            return Err(Error::Config(
                "security \"plain\" is allowed only for a loopback SMTP host; use starttls or tls"
                    .into(),
            ));
        }
        self.from
            .parse::<Mailbox>()
            .map_err(|e| Error::Config(format!("from: {e}")))?;
        if self.to.is_empty() {
            return Err(Error::Config("at least one recipient is needed".into()));
        }
        for to in &self.to {
            to.parse::<Mailbox>()
                .map_err(|e| Error::Config(format!("recipient {to:?}: {e}")))?;
        }
        if let Some(name) = &self.hello_name {
            // Sent verbatim in EHLO: a CR or LF would inject SMTP commands.
            let valid = !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
            if !valid {
                return Err(Error::Config(
                    "hello_name must be a host name (letters, digits, '.', '-', '_')".into(),
                ));
            }
        }
        if self.timeout_secs == 0 || self.timeout_secs > 600 {
            return Err(Error::Config("timeout_secs must be 1..=600".into()));
        }
        if let Some(pem) = &self.ca_pem {
            crate::webhook::parse_certs(pem)?;
        }
        Ok(())
    }

    fn tls_parameters(&self) -> Result<TlsParameters, SendError> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(pem) = &self.ca_pem {
            let cert = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| SendError::Config(format!("ca_pem: {e}")))?;
            builder = builder.add_root_certificate(cert);
        }
        builder
            .build_rustls()
            .map_err(|e| SendError::Config(format!("TLS settings: {e}")))
    }

    /// The transport to `address` (the host resolved and checked by the caller); TLS
    /// still verifies the certificate against the configured host name.
    fn transport(
        &self,
        address: std::net::IpAddr,
        password: Option<&str>,
    ) -> Result<AsyncSmtpTransport<Tokio1Executor>, SendError> {
        let tls = match self.security {
            SmtpSecurity::Starttls => Tls::Required(self.tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(self.tls_parameters()?),
            SmtpSecurity::Plain => Tls::None,
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address.to_string())
                .port(self.port())
                .tls(tls)
                .timeout(Some(Duration::from_secs(self.timeout_secs)))
                .hello_name(ClientId::Domain(
                    self.hello_name
                        .clone()
                        .unwrap_or_else(|| "localhost".into()),
                ));
        if let Some(user) = &self.username {
            builder = builder
                .credentials(Credentials::new(
                    user.clone(),
                    password.unwrap_or_default().to_owned(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(builder.build())
    }
}

/// Builds the message for `event`: subject line, text summary, attachments.
pub fn message(config: &EmailConfig, event: &Event) -> Result<Message, SendError> {
    let from: Mailbox = config
        .from
        .parse()
        .map_err(|e| SendError::Config(format!("from: {e}")))?;
    let mut builder = Message::builder().from(from).subject(event.subject());
    for to in &config.to {
        builder = builder.to(to
            .parse()
            .map_err(|e| SendError::Config(format!("recipient {to:?}: {e}")))?);
    }
    let text = SinglePart::plain(event.text_body());
    let message = if event.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for a in &event.attachments {
            let content_type = ContentType::parse(&a.content_type)
                .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
            parts = parts.singlepart(
                MailAttachment::new(a.filename.clone()).body(a.content.clone(), content_type),
            );
        }
        builder.multipart(parts)
    };
    message.map_err(|e| SendError::Config(format!("message: {e}")))
}

/// Sends `event` to the channel's recipients, connecting only to an address of the
/// SMTP host that `egress` allows.
pub async fn send(
    config: &EmailConfig,
    password: Option<&str>,
    event: &Event,
    egress: &EgressPolicy,
) -> Result<(), SendError> {
    config
        .validate()
        .map_err(|e| SendError::Config(e.to_string()))?;
    let message = message(config, event)?;
    let (host, port, policy) = (config.host.clone(), config.port(), egress.clone());
    let address =
        tokio::task::spawn_blocking(move || rampart_egress::resolve(&host, port, &policy))
            .await
            .map_err(|e| SendError::Transport(format!("resolving the SMTP host failed: {e}")))?
            .map_err(|e| match e {
                rampart_egress::ResolveError::Refused(r) => SendError::Config(r.to_string()),
                other => SendError::Transport(other.to_string()),
            })?[0];
    let transport = config.transport(address.ip(), password)?;
    transport.send(message).await.map(|_| ()).map_err(|e| {
        let text = e.to_string();
        if e.is_permanent() {
            SendError::Smtp {
                message: text,
                permanent: true,
            }
        } else if e.is_timeout() {
            SendError::Timeout(text)
        } else {
            SendError::Smtp {
                message: text,
                permanent: false,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> EmailConfig {
        EmailConfig {
            host: "smtp.example.com".into(),
            port: None,
            security: SmtpSecurity::Starttls,
            username: Some("rampart".into()),
            from: "Rampart <rampart@example.com>".into(),
            to: vec!["sec@example.com".into()],
            ca_pem: None,
            hello_name: None,
            timeout_secs: 30,
        }
    }

    #[test]
    fn defaults_and_validation() {
        let c: EmailConfig = serde_json::from_value(serde_json::json!({
            "host": "smtp.example.com", "from": "a@example.com", "to": ["b@example.com"]
        }))
        .unwrap();
        assert_eq!(c.security, SmtpSecurity::Starttls);
        assert_eq!(c.port(), 587);
        assert!(c.validate().is_ok());
        assert!(config().validate().is_ok());

        let mut plain = config();
        plain.security = SmtpSecurity::Plain;
        assert!(plain.validate().is_err());
        plain.host = "127.0.0.1".into();
        assert!(plain.validate().is_ok());
        assert_eq!(plain.port(), 25);

        let mut bad = config();
        bad.to = vec![];
        assert!(bad.validate().is_err());
        bad.to = vec!["not an address".into()];
        assert!(bad.validate().is_err());
        let mut bad = config();
        bad.ca_pem = Some("garbage".into());
        assert!(bad.validate().is_err());
        assert!(
            serde_json::from_value::<EmailConfig>(serde_json::json!({
                "host": "h", "from": "a@b.c", "to": [], "password": "x"
            }))
            .is_err(),
            "unknown keys (a password in the config) are refused"
        );
        for bad in ["evil\r\nRCPT TO:<x@y>", "a b", ""] {
            let mut c = config();
            c.hello_name = Some(bad.into());
            assert!(c.validate().is_err(), "{bad:?}");
        }
        let mut c = config();
        c.hello_name = Some("mail-relay.example.com".into());
        c.validate().unwrap();
    }
}
