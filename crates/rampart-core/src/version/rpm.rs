//! RPM version ordering: `rpmvercmp` for each part and rpm's own EVR split.
//!
//! `[epoch:]version[-release]`: an epoch only when the string starts with digits
//! followed by `:` (a missing epoch is 0), the release after the last `-`. Parts are
//! compared with `rpmvercmp`: alphanumeric segments, digits numerically and above
//! letters, `~` before everything including the end, `^` after the end but before any
//! further segment. When only one side has a release, the side without it sorts first,
//! as python-rpm's `labelCompare`, rpm 4.18's `rpmverCmp` (Lua `rpm.vercmp`) and the
//! shared test vectors do. (rpm's dependency-range matching, `rpmdsCompare`, instead
//! skips the release when one side lacks it; that is a range rule, not an order.)

use std::cmp::Ordering;

use super::{VersionError, VersionKind};

/// The parts of an RPM EVR, borrowed from the original string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpmVersion<'a> {
    /// Digits only; `None` when the string has no epoch (compared as `0`).
    pub epoch: Option<&'a str>,
    pub version: &'a str,
    pub release: Option<&'a str>,
}

/// Splits like rpm's `parseEVR`. Every string splits; `validate` decides acceptance.
pub fn parse(evr: &str) -> RpmVersion<'_> {
    let digits = evr.bytes().take_while(u8::is_ascii_digit).count();
    let after_digits = &evr[digits..];
    let last_dash = after_digits.rfind('-').map(|p| digits + p);
    let (epoch, version_start) = if after_digits.starts_with(':') {
        // rpm reads an empty epoch (":1.0") as "0".
        (
            Some(if digits == 0 { "0" } else { &evr[..digits] }),
            digits + 1,
        )
    } else {
        (None, 0)
    };
    match last_dash {
        Some(d) => RpmVersion {
            epoch,
            version: &evr[version_start..d],
            release: Some(&evr[d + 1..]),
        },
        None => RpmVersion {
            epoch,
            version: &evr[version_start..],
            release: None,
        },
    }
}

/// Refuses what rpm refuses: an empty EVR, and an EVR whose version part is empty
/// (`1:`, `-1`), which `rpmverNew` and so python-rpm's `labelCompare` reject. We also
/// refuse white space and control characters, which no package manager writes and which
/// signal a broken feed or inventory.
pub fn validate(v: &str) -> Result<(), VersionError> {
    let err = |reason: &str| Err(VersionError::new(VersionKind::Rpm, v, reason));
    if v.is_empty() {
        return err("version string is empty");
    }
    if v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return err("white space or control character in version");
    }
    if parse(v).version.is_empty() {
        return err("version part is empty");
    }
    Ok(())
}

/// RPM ordering of two EVR strings. Total on any input.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    compare_parsed(&parse(a), &parse(b))
}

/// Compares two already split EVRs.
pub fn compare_parsed(a: &RpmVersion<'_>, b: &RpmVersion<'_>) -> Ordering {
    rpmvercmp(a.epoch.unwrap_or("0"), b.epoch.unwrap_or("0"))
        .then_with(|| rpmvercmp(a.version, b.version))
        .then_with(|| match (a.release, b.release) {
            (Some(x), Some(y)) => rpmvercmp(x, y),
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Less,
            (Some(_), None) => Ordering::Greater,
        })
}

/// rpm's `rpmvercmp`, on bytes. `isalpha`/`isdigit` are ASCII only, as in rpm.
pub fn rpmvercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let sep = |c: u8| !c.is_ascii_alphanumeric() && c != b'~' && c != b'^';
    loop {
        while i < a.len() && sep(a[i]) {
            i += 1;
        }
        while j < b.len() && sep(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca.is_none() && cb.is_none() {
            return Ordering::Equal;
        }
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            if ca.is_none() {
                return Ordering::Less;
            }
            if cb.is_none() {
                return Ordering::Greater;
            }
            if ca != Some(b'^') {
                return Ordering::Greater;
            }
            if cb != Some(b'^') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            // One side ran out: whichever still has characters wins.
            return if ca.is_some() {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        };
        let is_num = ca.is_ascii_digit();
        let class = |c: u8| {
            if is_num {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let (si, sj) = (i, j);
        while i < a.len() && class(a[i]) {
            i += 1;
        }
        while j < b.len() && class(b[j]) {
            j += 1;
        }
        if sj == j {
            // Segments of different types: numeric is newer than alpha.
            return if is_num {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut sa, mut sb) = (&a[si..i], &b[sj..j]);
        if is_num {
            while let [b'0', rest @ ..] = sa {
                sa = rest;
            }
            while let [b'0', rest @ ..] = sb {
                sb = rest;
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests;
