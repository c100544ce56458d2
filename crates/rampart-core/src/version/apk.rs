//! apk-tools (Alpine) version ordering, as apk-tools 3 compares versions.
//!
//! A well-formed version is `digits{.digits}[letter]{_suffix[digits]}[~hash][-rN]`. apk
//! reads it as a sequence of tokens and compares two versions token by token: numbers
//! numerically (a non-initial number with a leading zero compares as a string, so
//! `1.01 < 1.1`), the letter by byte, suffixes in the order `_alpha < _beta < _pre < _rc
//! < (none) < _cvs < _svn < _git < _hg < _p`, the commit hash as a string, the revision
//! numerically. When one version runs out or changes token kind first, the kinds decide:
//! a pre-release suffix is older than anything, then the end of the version, then a
//! revision, a hash, a suffix number, a post-release suffix, a letter and a further
//! number, in that order (so `1.0 < 1.0-r0 < 1.0.1` and `1.0_rc1 < 1.0 < 1.0_p1`).
//!
//! apk compares malformed versions too (`apk version -t` takes any two strings). This
//! module follows apk-tools 3 there as well, with three refinements that the shared test
//! vectors (`alpine-versions.txt`) require and that keep `compare` a total order:
//! - when both versions turn malformed at the same token, apk calls them equal; here the
//!   unreadable rest of each string is compared byte by byte (`.2 > .1`, `0..8 > 0...8`);
//! - a trailing `-r` with no number reads as `-r0`, as apk-tools 2 read it;
//! - a revision part that is not exactly `-r<digits>` (`-r0-1`, `-ruff`, `--r1`) is one
//!   malformed token at the revision's place, valued by the number after `-r` if any:
//!   it sorts below the end of the version (`1 > 1-ruff`, `1-r-0 < 1-r0`) and equal to any
//!   other malformed revision with the same number (`1-r0-1 = 1-r-2`).
//!
//! Numbers wrap at 2^64 as apk's `uint64_t` parsing does.

use std::cmp::Ordering;

use super::{VersionError, VersionKind};

/// `apk version -t` compares any two strings, so only what cannot reach apk at all is
/// refused: the empty string (apk answers `?` for it) and a NUL byte (no command-line
/// argument can carry one). Use [`is_well_formed`] to ask whether apk's own syntax check
/// (`apk version -c`) accepts a version.
pub fn validate(v: &str) -> Result<(), VersionError> {
    if v.is_empty() {
        return Err(VersionError::new(
            VersionKind::Apk,
            v,
            "version string is empty",
        ));
    }
    if v.contains('\0') {
        return Err(VersionError::new(
            VersionKind::Apk,
            v,
            "version string contains a NUL byte",
        ));
    }
    Ok(())
}

/// Whether apk-tools 3's `apk_version_validate` accepts `v`, i.e. `apk version -c`
/// reports nothing for it.
pub fn is_well_formed(v: &str) -> bool {
    let mut tokens = Tokens::new(v);
    loop {
        let token = tokens.next_token();
        match token.kind {
            Kind::End => return true,
            Kind::BodyGarbage | Kind::RevisionGarbage => return false,
            // apk-tools 3 wants at least one digit after `-r`.
            Kind::Revision if token.text.is_empty() => return false,
            _ => {}
        }
    }
}

/// apk's ordering. Total on any input; exact on well-formed versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut ta, mut tb) = (Tokens::new(a), Tokens::new(b));
    loop {
        let (x, y) = (ta.next_token(), tb.next_token());
        match x.cmp(&y) {
            Ordering::Equal if x.kind.is_terminal() => return Ordering::Equal,
            Ordering::Equal => {}
            decided => return decided,
        }
    }
}

/// Token kinds in the order they sort when two versions differ in kind at one place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// `_alpha`, `_beta`, `_pre`, `_rc`: older than anything.
    PreSuffix,
    /// Something apk cannot read before the revision; ends the version.
    BodyGarbage,
    /// A revision part that is not `-r<digits>`; ends the version.
    RevisionGarbage,
    End,
    Revision,
    Hash,
    SuffixNumber,
    /// `_cvs`, `_svn`, `_git`, `_hg`, `_p`.
    PostSuffix,
    Letter,
    Digits,
    InitialDigits,
}

impl Kind {
    fn is_terminal(self) -> bool {
        matches!(self, Kind::End | Kind::BodyGarbage | Kind::RevisionGarbage)
    }
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    /// Numbers, the suffix rank, the letter's byte, the malformed revision's number.
    number: u64,
    /// The digits of a number, the hash, or the unread rest after body garbage.
    text: &'a [u8],
}

impl Token<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.kind.cmp(&other.kind).then_with(|| match self.kind {
            Kind::End => Ordering::Equal,
            Kind::Hash | Kind::BodyGarbage => self.text.cmp(other.text),
            // A number with a leading zero compares as a string, as in Gentoo.
            Kind::Digits
                if self.text.first() == Some(&b'0') || other.text.first() == Some(&b'0') =>
            {
                self.text.cmp(other.text)
            }
            _ => self.number.cmp(&other.number),
        })
    }
}

/// apk's suffixes in their order; `NONE_RANK` sits between the pre- and post-releases.
const SUFFIXES: [&[u8]; 9] = [
    b"alpha", b"beta", b"pre", b"rc", b"cvs", b"svn", b"git", b"hg", b"p",
];
const NONE_RANK: usize = 4;

/// apk's tokenizer states, in apk's order: which token may follow which.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    Start,
    Initial,
    Digit,
    Letter,
    Suffix,
    SuffixNumber,
    Hash,
    Done,
}

struct Tokens<'a> {
    s: &'a [u8],
    pos: usize,
    state: State,
}

impl<'a> Tokens<'a> {
    fn new(v: &'a str) -> Self {
        Tokens {
            s: v.as_bytes(),
            pos: 0,
            state: State::Start,
        }
    }

    fn token(kind: Kind, number: u64, text: &'a [u8]) -> Token<'a> {
        Token { kind, number, text }
    }

    fn next_token(&mut self) -> Token<'a> {
        let start = self.pos;
        let token = self.read();
        if token.kind.is_terminal() {
            self.state = State::Done;
            if token.kind == Kind::BodyGarbage {
                return Token {
                    text: &self.s[start..],
                    ..token
                };
            }
        }
        token
    }

    fn read(&mut self) -> Token<'a> {
        let s = self.s;
        let garbage = Self::token(Kind::BodyGarbage, 0, b"");
        match self.state {
            State::Done => return Self::token(Kind::End, 0, b""),
            State::Start => {
                let (number, digits) = self.digits();
                self.state = State::Initial;
                return if digits.is_empty() {
                    garbage
                } else {
                    Self::token(Kind::InitialDigits, number, digits)
                };
            }
            _ => {}
        }
        let Some(&c) = s.get(self.pos) else {
            return Self::token(Kind::End, 0, b"");
        };
        match c {
            b'a'..=b'z' if self.state <= State::Digit => {
                self.pos += 1;
                self.state = State::Letter;
                Self::token(Kind::Letter, u64::from(c), b"")
            }
            b'.' if self.state <= State::Digit => {
                self.pos += 1;
                let (number, digits) = self.digits();
                self.state = State::Digit;
                if digits.is_empty() {
                    garbage
                } else {
                    Self::token(Kind::Digits, number, digits)
                }
            }
            b'0'..=b'9' if self.state == State::Suffix => {
                let (number, digits) = self.digits();
                self.state = State::SuffixNumber;
                Self::token(Kind::SuffixNumber, number, digits)
            }
            b'_' if self.state <= State::SuffixNumber => {
                let name_start = self.pos + 1;
                let name_len = s[name_start..]
                    .iter()
                    .take_while(|c| c.is_ascii_lowercase())
                    .count();
                let name = &s[name_start..name_start + name_len];
                let Some(rank) = SUFFIXES.iter().position(|&known| known == name) else {
                    return garbage;
                };
                self.pos = name_start + name_len;
                self.state = State::Suffix;
                let kind = if rank < NONE_RANK {
                    Kind::PreSuffix
                } else {
                    Kind::PostSuffix
                };
                Self::token(kind, rank as u64, b"")
            }
            b'~' if self.state < State::Hash => {
                let hash_start = self.pos + 1;
                let hash_len = s[hash_start..]
                    .iter()
                    .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
                    .count();
                if hash_len == 0 {
                    return garbage;
                }
                self.pos = hash_start + hash_len;
                self.state = State::Hash;
                Self::token(Kind::Hash, 0, &s[hash_start..self.pos])
            }
            b'-' => self.revision(),
            _ => garbage,
        }
    }

    /// A revision ends the version: either exactly `-r<digits>` up to the end (an empty
    /// number reads as 0), or a malformed revision valued by whatever number follows `-r`.
    fn revision(&mut self) -> Token<'a> {
        let rest = &self.s[self.pos..];
        self.pos = self.s.len();
        let Some(after_r) = rest.strip_prefix(b"-r") else {
            return Self::token(Kind::RevisionGarbage, 0, b"");
        };
        let digits_len = after_r.iter().take_while(|c| c.is_ascii_digit()).count();
        let number = parse_u64(&after_r[..digits_len]);
        let kind = if digits_len == after_r.len() {
            Kind::Revision
        } else {
            Kind::RevisionGarbage
        };
        Self::token(kind, number, &after_r[..digits_len])
    }

    /// Reads a run of digits at the cursor.
    fn digits(&mut self) -> (u64, &'a [u8]) {
        let s = self.s;
        let start = self.pos;
        while self.pos < s.len() && s[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        let digits = &s[start..self.pos];
        (parse_u64(digits), digits)
    }
}

/// apk's `apk_blob_pull_uint`: decimal into a `uint64_t`, wrapping on overflow.
fn parse_u64(digits: &[u8]) -> u64 {
    digits.iter().fold(0u64, |n, &d| {
        n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
    })
}

#[cfg(test)]
mod tests;
