//! rustls configurations for the three connections Rampart makes:
//!
//! - [`server_config`]: the server's HTTPS listener. One port serves browsers, API
//!   clients and agents: a client certificate is optional, but one that is presented
//!   must chain to Rampart's CA (and carry clientAuth), otherwise the handshake fails.
//!   Whether a route needs an agent is the application's decision, made from
//!   [`crate::agent_identity`] of the peer certificate.
//! - [`agent_client_config`]: an enrolled agent, trusting only Rampart's CA (never the
//!   system roots, so a public CA cannot impersonate the server) and presenting its
//!   client certificate.
//! - [`pinned_bootstrap_config`]: an agent's first contact, before it has the CA: the
//!   server's chain must contain a certificate whose SHA-256 equals the fingerprint from
//!   the enrolment token, and the leaf must verify against that certificate as the only
//!   root (rustls's own `WebPkiServerVerifier` does the verification).
//!
//! Every config is built on the ring provider explicitly, so no process-wide default
//! provider is needed.

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore, ServerConfig,
    SignatureScheme,
};

use crate::{Error, sha256_hex};

/// The one crypto provider: ring.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(pem: &str, what: &'static str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::Pem { expected: what })?;
    if certs.is_empty() {
        return Err(Error::Pem { expected: what });
    }
    Ok(certs)
}

fn key(pem: &str) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| Error::Pem {
        expected: "a PRIVATE KEY",
    })
}

fn roots(ca_pem: &str) -> Result<Arc<RootCertStore>, Error> {
    let mut roots = RootCertStore::empty();
    for cert in certs(ca_pem, "the CA CERTIFICATE")? {
        roots
            .add(cert)
            .map_err(|e| Error::Certificate(e.to_string()))?;
    }
    Ok(Arc::new(roots))
}

fn tls_err(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

/// The HTTPS listener's configuration: presents `server_cert_pem` followed by the CA
/// certificate (so a pinning agent finds the CA in the chain), accepts connections with
/// no client certificate, and verifies any presented one against the CA.
pub fn server_config(
    server_cert_pem: &str,
    server_key_pem: &str,
    ca_pem: &str,
) -> Result<Arc<ServerConfig>, Error> {
    let provider = provider();
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(ca_pem)?, provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(tls_err)?;
    let mut chain = certs(server_cert_pem, "the server CERTIFICATE")?;
    chain.extend(certs(ca_pem, "the CA CERTIFICATE")?);
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key(server_key_pem)?)
        .map_err(tls_err)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// An enrolled agent's configuration: trusts only the CA in `ca_pem`, presents
/// `cert_pem` with `key_pem`.
pub fn agent_client_config(
    ca_pem: &str,
    cert_pem: &str,
    key_pem: &str,
) -> Result<Arc<ClientConfig>, Error> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_root_certificates(roots(ca_pem)?)
        .with_client_auth_cert(certs(cert_pem, "the agent CERTIFICATE")?, key(key_pem)?)
        .map_err(tls_err)?;
    Ok(Arc::new(config))
}

/// The enrolment configuration: trusts a server only if its chain contains the CA with
/// SHA-256 fingerprint `ca_fingerprint` and the leaf verifies against that CA for the
/// server name. No client certificate (the agent has none yet).
pub fn pinned_bootstrap_config(ca_fingerprint: &str) -> Result<Arc<ClientConfig>, Error> {
    let fingerprint = ca_fingerprint.trim().to_ascii_lowercase();
    if fingerprint.len() != 64 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::TokenFingerprint);
    }
    let provider = provider();
    let verifier = PinnedCaVerifier {
        fingerprint,
        provider: provider.clone(),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The handshake failed because the server's chain has no certificate with the pinned
/// fingerprint. Carried inside `rustls::Error::InvalidCertificate(Other(..))`; find it
/// with [`is_pin_mismatch`].
#[derive(Debug, thiserror::Error)]
#[error("server certificate does not match the pinned CA fingerprint in the token")]
pub struct PinMismatch;

/// Whether a rustls error is the pinning verifier's [`PinMismatch`], so callers can say
/// exactly that instead of a generic certificate error.
pub fn is_pin_mismatch(error: &rustls::Error) -> bool {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            other.0.downcast_ref::<PinMismatch>().is_some()
        }
        _ => false,
    }
}

#[derive(Debug)]
struct PinnedCaVerifier {
    fingerprint: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCaVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(ca) = intermediates
            .iter()
            .find(|c| sha256_hex(c) == self.fingerprint)
        else {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                OtherError(Arc::new(PinMismatch)),
            )));
        };
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone().into_owned())?;
        let inner =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        let rest: Vec<CertificateDer<'_>> =
            intermediates.iter().filter(|c| *c != ca).cloned().collect();
        inner.verify_server_cert(end_entity, &rest, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
