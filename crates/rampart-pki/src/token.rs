//! Enrolment tokens: one copy-pasteable string that both authorises an agent to enrol
//! and tells it which CA to trust.
//!
//! Format: `rpe1_<CA fingerprint, 64 lowercase hex>_<secret, 32 bytes base64url without
//! padding>`. `rpe1` = Rampart enrolment, format 1; the prefix makes leaked tokens easy
//! to find with secret scanners. The fingerprint is not secret; the secret is 256 random
//! bits. The server stores only [`EnrollmentToken::secret_hash`], never the token, so a
//! database leak does not leak usable tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{Error, sha256_hex};

const PREFIX: &str = "rpe1_";
const SECRET_LEN: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct EnrollmentToken {
    /// The CA the agent pins, as [`crate::CertificateAuthority::fingerprint`].
    pub ca_fingerprint: String,
    secret: [u8; SECRET_LEN],
}

impl std::fmt::Debug for EnrollmentToken {
    // The secret never appears in logs or panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentToken")
            .field("ca_fingerprint", &self.ca_fingerprint)
            .finish_non_exhaustive()
    }
}

impl EnrollmentToken {
    /// A new token for the CA with fingerprint `ca_fingerprint` (64 hex digits).
    pub fn generate(ca_fingerprint: &str) -> Result<EnrollmentToken, Error> {
        let ca_fingerprint = parse_fingerprint(ca_fingerprint)?;
        Ok(EnrollmentToken {
            ca_fingerprint,
            secret: crate::random_bytes()?,
        })
    }

    /// Parses a token as an operator pasted it (surrounding whitespace ignored). Never
    /// panics, whatever the input.
    pub fn parse(text: &str) -> Result<EnrollmentToken, Error> {
        let rest = text.trim().strip_prefix(PREFIX).ok_or(Error::TokenPrefix)?;
        let (fp, secret) = match rest.split_once('_') {
            Some(parts) => parts,
            None if rest.len() <= 64 => (rest, ""),
            None => return Err(Error::TokenFingerprint),
        };
        let ca_fingerprint = parse_fingerprint(fp)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(secret)
            .map_err(|_| Error::TokenSecret)?;
        let secret = bytes.try_into().map_err(|_| Error::TokenSecret)?;
        Ok(EnrollmentToken {
            ca_fingerprint,
            secret,
        })
    }

    /// The token as text: what the operator copies. Contains the secret: show it once,
    /// never log it.
    pub fn encode(&self) -> String {
        format!(
            "{PREFIX}{}_{}",
            self.ca_fingerprint,
            URL_SAFE_NO_PAD.encode(self.secret)
        )
    }

    /// SHA-256 of the secret bytes, lowercase hex: what the server stores and compares.
    /// A fast hash is enough because the secret has 256 bits of entropy.
    pub fn secret_hash(&self) -> String {
        sha256_hex(&self.secret)
    }
}

fn parse_fingerprint(fp: &str) -> Result<String, Error> {
    if fp.len() == 64 && fp.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(fp.to_ascii_lowercase())
    } else {
        Err(Error::TokenFingerprint)
    }
}
