//! Random secrets, their hashes and password hashing: the primitives behind API
//! tokens, session ids, CSRF tokens, enrolment tokens and the bootstrap secret.
//!
//! Every bearer secret is 32 random bytes from the OS, printed base64url with a short
//! prefix that says what it is (`rpt_` API token, `rpe_` enrolment token), and stored
//! only as the lowercase-hex SHA-256 of the printed string: a leaked database hands out
//! no live credential, and SHA-256 (not a slow hash) is enough because the input has
//! 256 bits of entropy. Passwords, which have little entropy, get Argon2id.

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use base64::Engine as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

/// Prefix of printed API tokens.
pub const API_TOKEN_PREFIX: &str = "rpt_";
/// Prefix of printed enrolment tokens (until the pki format replaces them).
pub const ENROLLMENT_TOKEN_PREFIX: &str = "rpe_";

/// `N` bytes from the operating system's CSPRNG. Without one the server cannot issue a
/// single safe credential, so failing loudly is the only sound answer.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    buf
}

/// 32 random bytes, base64url without padding (43 characters).
pub fn random_secret() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// Lowercase-hex SHA-256 of `secret`: what the store keeps and looks up.
pub fn sha256_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// A freshly generated bearer secret: the text shown once, and the hash stored.
#[derive(Clone)]
pub struct IssuedSecret {
    pub printed: String,
    pub hash: String,
}

impl std::fmt::Debug for IssuedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSecret")
            .field("printed", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

impl IssuedSecret {
    pub fn generate(prefix: &str) -> IssuedSecret {
        let printed = format!("{prefix}{}", random_secret());
        let hash = sha256_hex(&printed);
        IssuedSecret { printed, hash }
    }
}

/// Equality that takes the same time wherever the inputs differ (lengths are not
/// secret: every secret compared here has a fixed length).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Argon2id PHC string of `password` with a fresh 16-byte salt. CPU-heavy (tens of
/// milliseconds): async callers use [`hash_password`].
pub fn hash_password_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = random_bytes::<16>();
    Ok(Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `hash`. An unparsable hash never matches.
pub fn verify_password_blocking(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Argon2 runs allowed at once: each takes about 19 MiB and a core for tens of
/// milliseconds, so a burst of logins queues here instead of exhausting memory and
/// the blocking pool.
/// The permit travels into the blocking task, so a client that disconnects (dropping
/// the request) cannot free it while its hash is still running.
async fn hashing_permit() -> Option<tokio::sync::OwnedSemaphorePermit> {
    static PERMITS: std::sync::OnceLock<std::sync::Arc<tokio::sync::Semaphore>> =
        std::sync::OnceLock::new();
    let permits = PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::sync::Arc::new(tokio::sync::Semaphore::new(cores.clamp(2, 16)))
    });
    permits.clone().acquire_owned().await.ok()
}

/// [`hash_password_blocking`] on the blocking pool, so a login never stalls the
/// runtime's worker threads.
pub async fn hash_password(password: String) -> Result<String, crate::ApiError> {
    let permit = hashing_permit()
        .await
        .ok_or_else(|| crate::ApiError::internal("the hashing semaphore is closed"))?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        hash_password_blocking(&password)
    })
    .await
    .map_err(crate::ApiError::internal)?
    .map_err(crate::ApiError::internal)
}

/// [`verify_password_blocking`] on the blocking pool. With `hash` `None` (unknown
/// user) it still verifies against a dummy hash, so response time does not reveal
/// which user names exist.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let Some(permit) = hashing_permit().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| {
            DUMMY
                .get_or_init(|| hash_password_blocking("not a password").unwrap_or_default())
                .clone()
        });
        verify_password_blocking(&password, &hash) && known
    })
    .await
    .unwrap_or(false)
}

/// The smallest password length accepted for new passwords.
pub const MIN_PASSWORD_LEN: usize = 12;

/// The longest password accepted for new passwords (a pass phrase fits many times).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Refuses passwords too short to resist guessing.
pub fn check_password_policy(password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters long"
        ));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(format!(
            "password must be at most {MAX_PASSWORD_LEN} characters long"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_and_hashed() {
        let t = IssuedSecret::generate(API_TOKEN_PREFIX);
        assert!(t.printed.starts_with("rpt_"));
        assert_eq!(t.printed.len(), 4 + 43);
        assert_eq!(t.hash, sha256_hex(&t.printed));
        assert_eq!(t.hash.len(), 64);
        assert!(!format!("{t:?}").contains(&t.printed));
    }

    #[test]
    fn passwords_round_trip() {
        let h = hash_password_blocking("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password_blocking("correct horse battery", &h));
        assert!(!verify_password_blocking("wrong", &h));
        assert!(!verify_password_blocking("x", "garbage"));
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
