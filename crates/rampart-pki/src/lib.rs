//! Rampart's private PKI: the certificate authority that signs the HTTPS listener's
//! certificate and every agent's client certificate, the enrolment token that lets a new
//! agent pin that CA before it trusts anything, sealing of secrets at rest, and the
//! rustls configurations both sides build from these.
//!
//! Boundary: no async, no files, no environment, no network. Callers hand in PEM text,
//! bytes and keys and store what comes back; the server decides where (sealed) keys live,
//! the agent where its state directory is. The clock is read only by rustls (certificate
//! validity during a handshake) and by [`Validity::starting_now`], a convenience for
//! callers that do not pass their own `now`.
//!
//! One crypto backend: rustls and rcgen run on `ring`; the aws-lc-rs provider is never
//! compiled in, so nothing here needs a C toolchain beyond ring's own and no process ever
//! has two rustls providers to choose between.
//!
//! Revocation: there are no CRLs or OCSP. A revoked agent's certificate still completes
//! the TLS handshake; the server looks up [`AgentIdentity::serial_hex`] on every agent
//! request and refuses revoked serials at the application layer (403 `agent_revoked`). That keeps revocation instant and shared across server replicas through
//! the database, without distributing lists.

mod ca;
mod seal;
mod tls;
mod token;

pub use ca::{
    AgentCertificate, AgentIdentity, AgentKey, CertificateAuthority, IssuedCertificate, Validity,
    agent_identity, agent_uri, issue_server_cert, sign_agent_csr,
};
pub use seal::{MasterKey, open, seal};
pub use tls::{
    PinMismatch, agent_client_config, is_pin_mismatch, pinned_bootstrap_config, provider,
    server_config,
};
pub use token::EnrollmentToken;

/// Everything that can go wrong in this crate. Callers match on the kind; the text is for
/// people and never contains key material or token secrets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Key generation or certificate encoding failed inside rcgen/ring.
    #[error("generating a key or certificate: {0}")]
    Generate(#[source] rcgen::Error),
    /// A PEM input held nothing usable of the expected kind.
    #[error("invalid PEM: expected {expected}")]
    Pem { expected: &'static str },
    /// A private key could not be loaded.
    #[error("invalid private key: {0}")]
    Key(String),
    /// A certificate could not be parsed, or is not what the caller said it is.
    #[error("invalid certificate: {0}")]
    Certificate(String),
    /// The CSR is not a well-formed PKCS#10 request (or asks for extensions we do not
    /// understand).
    #[error("malformed certificate signing request: {0}")]
    CsrMalformed(String),
    /// The CSR's self-signature does not verify: whoever sent it does not hold the key.
    #[error("the certificate signing request's signature does not verify")]
    CsrSignature,
    /// The CSR's key is of a type we do not issue for (only ECDSA P-256/P-384 and
    /// Ed25519: what rustls+ring verify and what an HSM-less agent generates cheaply).
    #[error("unsupported key type in certificate signing request: {0}")]
    UnsupportedKey(String),
    /// A client certificate is validly signed but does not name an agent.
    #[error("not an agent certificate: {0}")]
    NotAnAgent(String),
    /// The agent id cannot be written into a certificate (empty, or characters outside
    /// `[A-Za-z0-9._-]`).
    #[error("invalid agent id: {0}")]
    AgentId(String),
    /// An enrolment token does not start with `rpe1_`.
    #[error("not a Rampart enrolment token (expected it to start with `rpe1_`)")]
    TokenPrefix,
    /// The token's CA fingerprint part is not 64 lowercase hex digits.
    #[error("enrolment token: the CA fingerprint part is not 64 hex digits")]
    TokenFingerprint,
    /// The token's secret part is missing, truncated or not base64url.
    #[error("enrolment token: the secret part is missing, truncated or damaged")]
    TokenSecret,
    /// A master key is not exactly 32 bytes (or its text form does not decode).
    #[error("master key: {0}")]
    MasterKey(String),
    /// A sealed blob has an unknown version or is too short to be one.
    #[error("sealed secret: unknown format or truncated")]
    SealFormat,
    /// Opening failed authentication: the blob was altered, the master key is wrong, or
    /// it was sealed for another purpose. Deliberately one kind: AEAD cannot tell them
    /// apart, and guessing would help an attacker.
    #[error("sealed secret does not open: wrong master key, wrong purpose, or tampered")]
    SealOpen,
    /// Building a rustls configuration failed.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// The operating system's random generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// SHA-256 of `bytes` as 64 lowercase hex digits: the one fingerprint format in Rampart
/// (CA pins, certificate fingerprints, token secret hashes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    use ring::rand::SecureRandom;
    let mut out = [0u8; N];
    ring::rand::SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| Error::Random)?;
    Ok(out)
}

#[cfg(test)]
mod tests;
