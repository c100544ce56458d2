//! dpkg version ordering, byte for byte what `dpkg --compare-versions` does.
//!
//! A version is `[epoch:]upstream[-revision]`: the epoch ends at the first `:`, the
//! revision starts after the last `-` of what follows. Within upstream and revision,
//! non-digit runs compare character by character with `~` before the end of the string,
//! the end before letters and letters before everything else; digit runs compare as
//! numbers. `validate` refuses what dpkg refuses with an error; what dpkg only warns
//! about (a version not starting with a digit, unusual characters) is compared as dpkg
//! compares it.

use std::cmp::Ordering;

use super::{VersionError, VersionKind};

/// The three parts of a dpkg version, borrowed from the original string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebVersion<'a> {
    pub epoch: u32,
    pub upstream: &'a str,
    pub revision: &'a str,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// What C's `isspace` skips before `strtol` reads the epoch.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// Parses like dpkg's `parseversion`, returning dpkg's error text on failure.
pub fn parse(v: &str) -> Result<DebVersion<'_>, VersionError> {
    let err = |reason: &str| VersionError::new(VersionKind::Deb, v, reason);
    let bytes = v.as_bytes();
    // dpkg skips leading blanks before it looks for an empty string.
    let Some(start) = bytes.iter().position(|&b| !is_blank(b)) else {
        return Err(err("version string is empty"));
    };
    let end = bytes[start..]
        .iter()
        .position(|&b| is_blank(b))
        .map_or(bytes.len(), |p| start + p);
    if bytes[end..].iter().any(|&b| !is_blank(b)) {
        return Err(err("version string has embedded spaces"));
    }
    let s = &v[start..end];
    let (epoch, rest) = match s.find(':') {
        Some(colon) => {
            let epoch = parse_epoch(&s[..colon]).map_err(err)?;
            let rest = &s[colon + 1..];
            if rest.is_empty() {
                return Err(err("nothing after colon in version number"));
            }
            (epoch, rest)
        }
        None => (0, s),
    };
    let (upstream, revision) = match rest.rfind('-') {
        Some(h) => {
            if h + 1 == rest.len() {
                return Err(err("revision number is empty"));
            }
            (&rest[..h], &rest[h + 1..])
        }
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return Err(err("version number is empty"));
    }
    Ok(DebVersion {
        epoch,
        upstream,
        revision,
    })
}

/// `strtol(s, &end, 10)` followed by dpkg's checks that the number filled `s` exactly.
fn parse_epoch(s: &str) -> Result<u32, &'static str> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        negative = b[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == digits_start {
        return Err("epoch in version is empty");
    }
    if i != b.len() {
        return Err("epoch in version is not number");
    }
    // Only digits remain; an epoch of zeros ("0", "00", "-0") is 0 and fine.
    let digits = s[digits_start..].trim_start_matches('0');
    if negative && !digits.is_empty() {
        return Err("epoch in version is negative");
    }
    match digits.parse::<u64>() {
        Err(_) if digits.is_empty() => Ok(0),
        Ok(n) if n <= i32::MAX as u64 => Ok(n as u32),
        _ => Err("epoch in version is too big"),
    }
}

/// Refuses exactly what `dpkg --compare-versions` refuses with an error.
pub fn validate(v: &str) -> Result<(), VersionError> {
    parse(v).map(|_| ())
}

/// Splits any string the way `parse` splits a valid one (for those the result is the
/// same), reading a malformed epoch as "no epoch", so `compare` needs no validation pass
/// and stays a total order on invalid input.
fn split_lenient(v: &str) -> DebVersion<'_> {
    let bytes = v.as_bytes();
    let s = match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if is_blank(first) || is_blank(last) => {
            v.trim_matches([' ', '\t'])
        }
        _ => v,
    };
    let b = s.as_bytes();
    let (epoch, rest) = if b.first().is_some_and(u8::is_ascii_digit) {
        // The usual case. When leading digits are not followed by ':', the first colon (if
        // any) comes after a non-digit, so dpkg would call the epoch "not number".
        let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
        match b.get(digits) {
            Some(b':') => match parse_epoch_digits(&b[..digits]) {
                Some(e) => (e, &s[digits + 1..]),
                None => (0, s),
            },
            _ => (0, s),
        }
    } else {
        match s.find(':') {
            Some(colon) => match parse_epoch(&s[..colon]) {
                Ok(e) => (e, &s[colon + 1..]),
                Err(_) => (0, s),
            },
            None => (0, s),
        }
    };
    match rest.as_bytes().iter().rposition(|&c| c == b'-') {
        Some(h) => DebVersion {
            epoch,
            upstream: &rest[..h],
            revision: &rest[h + 1..],
        },
        None => DebVersion {
            epoch,
            upstream: rest,
            // Empty, but inside `v`, so `compare` can locate it.
            revision: &rest[rest.len()..],
        },
    }
}

/// A valid epoch made of digits only, as `parse_epoch` reads it.
#[inline]
fn parse_epoch_digits(digits: &[u8]) -> Option<u32> {
    if digits.len() <= 9 {
        return Some(digits.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')));
    }
    // Ten digits or more: leading zeros and the INT_MAX limit need the full rules.
    parse_epoch(std::str::from_utf8(digits).ok()?).ok()
}

/// dpkg's ordering. Total on any input; exact on what `validate` accepts.
pub fn compare(a: &str, b: &str) -> Ordering {
    let shared = common_prefix(a.as_bytes(), b.as_bytes());
    if shared == a.len() && shared == b.len() {
        return Ordering::Equal;
    }
    let (x, y) = (split_lenient(a), split_lenient(b));
    // A part that starts at the same offset in both strings shares what the whole strings
    // share, so its common prefix need not be measured again.
    let part_prefix = |pa: &str, pb: &str| {
        let offset = (pa.as_ptr() as usize).checked_sub(a.as_ptr() as usize)?;
        let same_offset = (pb.as_ptr() as usize).checked_sub(b.as_ptr() as usize) == Some(offset);
        (same_offset && offset <= shared).then(|| (shared - offset).min(pa.len()).min(pb.len()))
    };
    x.epoch
        .cmp(&y.epoch)
        .then_with(|| {
            verrevcmp_from(
                x.upstream.as_bytes(),
                y.upstream.as_bytes(),
                part_prefix(x.upstream, y.upstream),
            )
        })
        .then_with(|| {
            verrevcmp_from(
                x.revision.as_bytes(),
                y.revision.as_bytes(),
                part_prefix(x.revision, y.revision),
            )
        })
}

/// Compares two already split versions.
pub fn compare_parsed(a: &DebVersion<'_>, b: &DebVersion<'_>) -> Ordering {
    a.epoch
        .cmp(&b.epoch)
        .then_with(|| verrevcmp(a.upstream.as_bytes(), b.upstream.as_bytes()))
        .then_with(|| verrevcmp(a.revision.as_bytes(), b.revision.as_bytes()))
}

/// How many leading bytes `a` and `b` share, eight at a time.
#[inline]
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().expect("eight bytes"));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
        if x != y {
            return i + ((x ^ y).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Index of the end of a string in [`WEIGHT`] and [`STOP`].
const END: usize = 256;

/// dpkg's character weight, by byte, then the end of the string: `~` lowest, then the
/// end (and digits, which never meet this table in a comparison), then letters, then
/// everything else. Bytes above 0x7f count as negative `char`s, as in C on x86, so they
/// sort after the letters but before the other ASCII characters.
static WEIGHT: [i16; 257] = {
    let mut table = [0i16; 257];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        table[i] = if c.is_ascii_digit() {
            0
        } else if c.is_ascii_alphabetic() {
            c as i16
        } else if c == b'~' {
            -1
        } else {
            c as i8 as i16 + 256
        };
        i += 1;
    }
    table
};

/// Where a run of non-digits stops: at a digit or the end.
static STOP: [bool; 257] = {
    let mut table = [false; 257];
    let mut i = 0;
    while i < 256 {
        table[i] = (i as u8).is_ascii_digit();
        i += 1;
    }
    table[END] = true;
    table
};

#[inline(always)]
fn at(s: &[u8], i: usize) -> usize {
    if i < s.len() { usize::from(s[i]) } else { END }
}

/// dpkg's `verrevcmp`, on bytes.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    verrevcmp_from(a, b, None)
}

/// `verrevcmp`, given how many leading bytes `a` and `b` share when that is known.
fn verrevcmp_from(a: &[u8], b: &[u8], shared: Option<usize>) -> Ordering {
    // Identical leading bytes compare equal, so start at the first difference, backed up
    // to the start of any digit run it falls in (numbers compare as a whole).
    let mut start = shared.unwrap_or_else(|| common_prefix(a, b));
    if start == a.len() && start == b.len() {
        return Ordering::Equal;
    }
    while start > 0 && a[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let (a, b) = (&a[start..], &b[start..]);
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        // A run of non-digits, character by character.
        loop {
            let (ca, cb) = (at(a, i), at(b, j));
            if STOP[ca] && STOP[cb] {
                break;
            }
            if WEIGHT[ca] != WEIGHT[cb] {
                return WEIGHT[ca].cmp(&WEIGHT[cb]);
            }
            i += 1;
            j += 1;
        }
        if i >= a.len() && j >= b.len() {
            return Ordering::Equal;
        }
        // A run of digits, as a number: without leading zeros, longer is larger.
        while i < a.len() && a[i] == b'0' {
            i += 1;
        }
        while j < b.len() && b[j] == b'0' {
            j += 1;
        }
        let (sa, sb) = (i, j);
        while i < a.len() && a[i].is_ascii_digit() {
            i += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let (na, nb) = (&a[sa..i], &b[sb..j]);
        match na.len().cmp(&nb.len()).then_with(|| na.cmp(nb)) {
            Ordering::Equal => {}
            decided => return decided,
        }
    }
}

#[cfg(test)]
mod tests;
