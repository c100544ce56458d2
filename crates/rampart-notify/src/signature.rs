//! The webhook signature, so a receiver knows a body came from this Rampart and can
//! refuse replays.
//!
//! Header (the scheme Stripe made familiar):
//! ```text
//! X-Rampart-Signature: t=<unix seconds>,v1=<lowercase hex HMAC-SHA256>
//! ```
//! where the HMAC key is the channel's secret (its UTF-8 bytes) and the signed message
//! is `<t>` + `.` + the raw request body. A receiver recomputes the HMAC over the body
//! bytes exactly as received, compares in constant time, and refuses a `t` further
//! than its tolerance (five minutes is usual) from its own clock: a captured request
//! cannot be replayed later, and the event id header lets it drop duplicates within
//! the window. More `v1=` entries may appear during a secret rotation; any match is
//! enough. Unknown keys are ignored so later schemes can be added beside `v1`.

use ring::hmac;

use crate::hex;

/// Name of the signature header.
pub const SIGNATURE_HEADER: &str = "X-Rampart-Signature";

/// The header value for `body` signed with `secret` at `timestamp` (Unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        hex(mac(secret, timestamp, body).as_ref())
    )
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> hmac::Tag {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    ctx.sign()
}

/// Why a signature was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the signature is {age_secs} s away from now, beyond the tolerance")]
    Stale { age_secs: i64 },
    #[error("no signature matches")]
    Mismatch,
}

/// What a receiver does: checks `header` against `body` and `secret`, with the
/// timestamp within `tolerance_secs` of `now` (Unix seconds). Returns the timestamp.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<i64, VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => {
                timestamp = Some(v.parse::<i64>().map_err(|_| VerifyError::Malformed)?)
            }
            Some(("v1", v)) => signatures.push(unhex(v).ok_or(VerifyError::Malformed)?),
            Some(_) => {}
            None => return Err(VerifyError::Malformed),
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let age_secs = now - timestamp;
    if age_secs.abs() > tolerance_secs {
        return Err(VerifyError::Stale { age_secs });
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    if signatures
        .iter()
        .any(|sig| hmac::verify(&key, &message, sig).is_ok())
    {
        Ok(timestamp)
    } else {
        Err(VerifyError::Mismatch)
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector() {
        // printf '%s' '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec
        assert_eq!(
            sign(b"whsec", 1_700_000_000, br#"{"a":1}"#),
            format!(
                "t=1700000000,v1={}",
                hex(mac(b"whsec", 1_700_000_000, br#"{"a":1}"#).as_ref())
            )
        );
        let h = sign(b"whsec", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(h.len(), "t=1700000000,v1=".len() + 64);
    }

    #[test]
    fn verifies_and_refuses() {
        let body = br#"{"id":"e1"}"#;
        let h = sign(b"s3cret", 1_000, body);
        assert_eq!(verify(b"s3cret", &h, body, 1_100, 300), Ok(1_000));
        assert_eq!(
            verify(b"other", &h, body, 1_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"s3cret", &h, br#"{"id":"e2"}"#, 1_100, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(b"s3cret", &h, body, 2_000, 300),
            Err(VerifyError::Stale { age_secs: 1_000 })
        );
        // A rotated secret: either signature may match.
        let both = format!("{h},v1={}", "00".repeat(32));
        assert_eq!(verify(b"s3cret", &both, body, 1_000, 300), Ok(1_000));
        assert_eq!(
            verify(b"s3cret", "v1=zz", body, 0, 1),
            Err(VerifyError::Malformed)
        );
        assert_eq!(
            verify(b"s3cret", "t=1", body, 1, 1),
            Err(VerifyError::Malformed)
        );
    }
}
