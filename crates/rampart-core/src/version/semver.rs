//! Semantic Versioning 2.0.0 precedence, for OSV `SEMVER` ranges.
//!
//! `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, read leniently as OSV does: a leading `v` is
//! allowed and a missing minor or patch is 0 (`v1.2` is `1.2.0`); build metadata never
//! affects precedence. Core numbers compare numerically (any length); a version with a
//! pre-release is lower than the same version without one; pre-release identifiers
//! compare one by one, numeric ones as numbers and below alphanumeric ones, which compare
//! as ASCII, and a longer list of equal identifiers is higher.
//!
//! `compare` orders any string: it splits off the build at the first `+` and the
//! pre-release at the first `-` after the core, and compares what it finds with the same
//! rules, a non-numeric core part counting as higher than any number and extra core
//! parts as higher than none.

use std::cmp::Ordering;

use super::{VersionError, VersionKind};

/// Accepts SemVer 2.0.0 with OSV's leniencies (leading `v`, missing minor or patch).
/// Everything else the specification forbids is refused, leading zeros included.
pub fn validate(v: &str) -> Result<(), VersionError> {
    check(v).map_err(|reason| VersionError::new(VersionKind::Semver, v, reason))
}

fn check(v: &str) -> Result<(), &'static str> {
    if v.is_empty() {
        return Err("version string is empty");
    }
    let (rest, build) = split_once_opt(strip_v(v), '+');
    let (core, pre) = split_once_opt(rest, '-');
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() > 3 {
        return Err("more than three core numbers");
    }
    for part in parts {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err("core version part is not a number");
        }
        if part.len() > 1 && part.starts_with('0') {
            return Err("core version number has a leading zero");
        }
    }
    if let Some(pre) = pre {
        for id in pre.split('.') {
            check_identifier(id, "pre-release")?;
            if id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()) {
                return Err("numeric pre-release identifier has a leading zero");
            }
        }
    }
    if let Some(build) = build {
        for id in build.split('.') {
            check_identifier(id, "build")?;
        }
    }
    Ok(())
}

fn check_identifier(id: &str, what: &'static str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err(if what == "build" {
            "empty build identifier"
        } else {
            "empty pre-release identifier"
        });
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(if what == "build" {
            "invalid character in build metadata"
        } else {
            "invalid character in pre-release"
        });
    }
    Ok(())
}

fn strip_v(v: &str) -> &str {
    v.strip_prefix('v').unwrap_or(v)
}

fn split_once_opt(s: &str, sep: char) -> (&str, Option<&str>) {
    match s.split_once(sep) {
        Some((head, tail)) => (head, Some(tail)),
        None => (s, None),
    }
}

/// SemVer precedence. Total on any input; exact on what `validate` accepts.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a_rest, _) = split_once_opt(strip_v(a), '+');
    let (b_rest, _) = split_once_opt(strip_v(b), '+');
    let (a_core, a_pre) = split_once_opt(a_rest, '-');
    let (b_core, b_pre) = split_once_opt(b_rest, '-');
    compare_core(a_core, b_core).then_with(|| match (a_pre, b_pre) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => compare_identifiers(x, y),
    })
}

/// Core parts, padded with zeros to three: numbers numerically, then longer is higher.
fn compare_core(a: &str, b: &str) -> Ordering {
    let (mut xs, mut ys) = (a.split('.'), b.split('.'));
    for _ in 0..3 {
        match compare_identifier(xs.next().unwrap_or("0"), ys.next().unwrap_or("0")) {
            Ordering::Equal => {}
            decided => return decided,
        }
    }
    compare_lists(xs, ys)
}

/// Dot-separated pre-release identifiers; a longer list of equal ones is higher.
fn compare_identifiers(a: &str, b: &str) -> Ordering {
    compare_lists(a.split('.'), b.split('.'))
}

fn compare_lists<'a>(
    mut xs: impl Iterator<Item = &'a str>,
    mut ys: impl Iterator<Item = &'a str>,
) -> Ordering {
    loop {
        match (xs.next(), ys.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match compare_identifier(x, y) {
                Ordering::Equal => {}
                decided => return decided,
            },
        }
    }
}

/// Numeric identifiers compare as numbers of any length and sort below the others,
/// which compare as ASCII.
fn compare_identifier(a: &str, b: &str) -> Ordering {
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (numeric(a), numeric(b)) {
        (true, true) => {
            let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            a.len().cmp(&b.len()).then_with(|| a.cmp(b))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests;
