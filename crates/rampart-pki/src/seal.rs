//! Sealing secrets at rest (the CA key, later the job-signing key and integration
//! credentials) under a 32-byte master key with AES-256-GCM.
//!
//! Envelope (version 1): `0x01 || nonce (12 bytes) || ciphertext || tag (16 bytes)`.
//! The associated data is `rampart-seal-v1\0<purpose>`, so a blob sealed as one secret
//! (`rampart:ca-key`) cannot be substituted for another even under the same master key,
//! and the version byte cannot be changed without failing authentication. Nonces are
//! random: 96 bits is safe for the handful of secrets a server ever seals under one key.
//!
//! Where the master key comes from (environment, file) is the server's configuration's
//! business; this module only takes bytes.

use base64::Engine as _;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::{Error, hex, random_bytes};

const VERSION: u8 = 1;
const AAD_PREFIX: &[u8] = b"rampart-seal-v1\0";

/// The key that seals every secret at rest. Never printed: `Debug` shows nothing.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Result<MasterKey, Error> {
        Ok(MasterKey(random_bytes()?))
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, Error> {
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| Error::MasterKey(format!("{} bytes, expected 32", bytes.len())))?;
        Ok(MasterKey(key))
    }

    /// 64 hex digits (either case), surrounding whitespace ignored: the form for a file.
    pub fn from_hex(text: &str) -> Result<MasterKey, Error> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::MasterKey("expected 64 hex digits".into()));
        }
        let bytes: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).expect("checked hex"))
            .collect();
        MasterKey::from_bytes(&bytes)
    }

    /// Standard base64 (padded or not), surrounding whitespace ignored: the form for an
    /// environment variable.
    pub fn from_base64(text: &str) -> Result<MasterKey, Error> {
        let text = text.trim().trim_end_matches('=');
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(text)
            .map_err(|_| Error::MasterKey("not base64".into()))?;
        MasterKey::from_bytes(&bytes)
    }

    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    fn aead_key(&self) -> LessSafeKey {
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).expect("32-byte AES-256 key"))
    }
}

fn aad(purpose: &str) -> Vec<u8> {
    [AAD_PREFIX, purpose.as_bytes()].concat()
}

/// Encrypts and authenticates `plaintext` for `purpose` (a fixed name such as
/// `rampart:ca-key`; not secret). Returns the versioned envelope.
pub fn seal(master: &MasterKey, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let nonce_bytes: [u8; NONCE_LEN] = random_bytes()?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + 16);
    out.push(VERSION);
    out.extend_from_slice(&nonce_bytes);
    let mut body = plaintext.to_vec();
    master
        .aead_key()
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(aad(purpose)),
            &mut body,
        )
        .map_err(|_| Error::SealOpen)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Reverses [`seal`]; fails with [`Error::SealOpen`] on a wrong key, a wrong purpose or
/// any altered byte, [`Error::SealFormat`] on an unknown version or a truncated blob.
pub fn open(master: &MasterKey, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, Error> {
    let (&version, rest) = sealed.split_first().ok_or(Error::SealFormat)?;
    if version != VERSION || rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
        return Err(Error::SealFormat);
    }
    let (nonce, body) = rest.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| Error::SealFormat)?;
    let mut body = body.to_vec();
    let plain = master
        .aead_key()
        .open_in_place(nonce, Aad::from(aad(purpose)), &mut body)
        .map_err(|_| Error::SealOpen)?;
    Ok(plain.to_vec())
}
