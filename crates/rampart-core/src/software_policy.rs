//! Software policy: which packages a project's hosts may carry, as allow and deny lists
//! of package-name globs.
//!
//! Rules: a name on the deny list is unauthorized, whatever the allow list says (deny
//! wins); when the allow list is non-empty, a name it does not match is unauthorized
//! too; with both lists empty everything is authorized.
//!
//! Globs are matched by a small hand-written matcher (no regex engine, linear memory,
//! `O(pattern × name)` time with one backtrack point): `*` any run of characters, `?`
//! one character, `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) one character of a class, and
//! `\x` the character `x` literally. A `]` right after `[` or `[!` belongs to the class.
//! Matching is case-sensitive, like package names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Longest pattern accepted, in bytes.
pub const MAX_PATTERN_LEN: usize = 256;
/// Most patterns per list.
pub const MAX_PATTERNS: usize = 1000;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `?`
    One,
    /// `*`
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    /// Whether this single-character token accepts `c` (never called on `Star`).
    fn accepts(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::One => true,
            Token::Star => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
            }
        }
    }
}

/// Why a pattern is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("empty pattern")]
    Empty,
    #[error("pattern {pattern:?} is longer than {MAX_PATTERN_LEN} bytes")]
    TooLong { pattern: String },
    #[error("pattern {pattern:?}: unterminated character class")]
    UnterminatedClass { pattern: String },
    #[error("pattern {pattern:?}: empty character class")]
    EmptyClass { pattern: String },
    #[error("pattern {pattern:?}: range {lo}-{hi} is backwards")]
    BackwardsRange { pattern: String, lo: char, hi: char },
    #[error("pattern {pattern:?} ends with an unfinished escape")]
    DanglingEscape { pattern: String },
    #[error("pattern {pattern:?} contains whitespace or a control character")]
    Whitespace { pattern: String },
    #[error("a list holds at most {MAX_PATTERNS} patterns")]
    TooMany,
}

/// A compiled package-name glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern`; see the module documentation for the syntax.
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        let err_pattern = || pattern.to_owned();
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(GlobError::TooLong {
                pattern: err_pattern(),
            });
        }
        if pattern.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(GlobError::Whitespace {
                pattern: err_pattern(),
            });
        }
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::with_capacity(chars.len());
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => {
                    // Consecutive stars mean the same as one.
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                    i += 1;
                }
                '?' => {
                    tokens.push(Token::One);
                    i += 1;
                }
                '\\' => {
                    let Some(&c) = chars.get(i + 1) else {
                        return Err(GlobError::DanglingEscape {
                            pattern: err_pattern(),
                        });
                    };
                    tokens.push(Token::Literal(c));
                    i += 2;
                }
                '[' => {
                    let (token, next) = parse_class(&chars, i + 1, pattern)?;
                    tokens.push(token);
                    i = next;
                }
                c => {
                    tokens.push(Token::Literal(c));
                    i += 1;
                }
            }
        }
        Ok(Glob {
            pattern: pattern.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `name` matches. Greedy with one backtrack point (the last
    /// `*`): every other token consumes exactly one character, so retrying from the last
    /// star is enough and the time stays `O(pattern × name)`.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let tokens = &self.tokens;
        let (mut t, mut n) = (0usize, 0usize);
        // (token index after the star, name index the star currently stops at)
        let mut backtrack: Option<(usize, usize)> = None;
        while n < name.len() {
            match tokens.get(t) {
                Some(Token::Star) => {
                    backtrack = Some((t + 1, n));
                    t += 1;
                }
                Some(tok) if tok.accepts(name[n]) => {
                    t += 1;
                    n += 1;
                }
                _ => match backtrack {
                    Some((after_star, stop)) => {
                        t = after_star;
                        n = stop + 1;
                        backtrack = Some((after_star, stop + 1));
                    }
                    None => return false,
                },
            }
        }
        tokens[t..].iter().all(|tok| *tok == Token::Star)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// Parses a class whose `[` is at `start - 1`; returns the token and the index after `]`.
fn parse_class(chars: &[char], start: usize, pattern: &str) -> Result<(Token, usize), GlobError> {
    let mut i = start;
    let negated = matches!(chars.get(i), Some('!' | '^'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let first = i;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(GlobError::UnterminatedClass {
                pattern: pattern.to_owned(),
            });
        };
        if c == ']' && i > first {
            break;
        }
        let (lo, after_lo) = class_char(chars, i, pattern)?;
        if chars.get(after_lo) == Some(&'-') && chars.get(after_lo + 1).is_some_and(|&c| c != ']') {
            let (hi, after_hi) = class_char(chars, after_lo + 1, pattern)?;
            if hi < lo {
                return Err(GlobError::BackwardsRange {
                    pattern: pattern.to_owned(),
                    lo,
                    hi,
                });
            }
            ranges.push((lo, hi));
            i = after_hi;
        } else {
            ranges.push((lo, lo));
            i = after_lo;
        }
    }
    if ranges.is_empty() {
        return Err(GlobError::EmptyClass {
            pattern: pattern.to_owned(),
        });
    }
    Ok((Token::Class { negated, ranges }, i + 1))
}

/// One member character of a class at `i` (honouring `\` escapes) and the index after it.
fn class_char(chars: &[char], i: usize, pattern: &str) -> Result<(char, usize), GlobError> {
    match chars.get(i) {
        Some('\\') => match chars.get(i + 1) {
            Some(&c) => Ok((c, i + 2)),
            None => Err(GlobError::DanglingEscape {
                pattern: pattern.to_owned(),
            }),
        },
        Some(&c) => Ok((c, i + 1)),
        None => Err(GlobError::UnterminatedClass {
            pattern: pattern.to_owned(),
        }),
    }
}

/// A project's lists as stored and shown: the patterns as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SoftwarePolicy {
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
}

impl SoftwarePolicy {
    /// Compiles both lists; the first bad pattern is the error.
    pub fn compile(&self) -> Result<CompiledPolicy, GlobError> {
        if self.allow.len() > MAX_PATTERNS || self.deny.len() > MAX_PATTERNS {
            return Err(GlobError::TooMany);
        }
        let compile = |list: &[String]| -> Result<Vec<Glob>, GlobError> {
            list.iter().map(|p| Glob::new(p)).collect()
        };
        Ok(CompiledPolicy {
            allow: compile(&self.allow)?,
            deny: compile(&self.deny)?,
        })
    }

    /// No rule at all: every package is authorized.
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }
}

/// What the policy says about one package name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Authorized,
    /// Matched this deny pattern.
    Denied {
        pattern: String,
    },
    /// The allow list is non-empty and no pattern of it matched.
    NotAllowed,
}

impl Verdict {
    pub fn is_authorized(&self) -> bool {
        matches!(self, Verdict::Authorized)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Authorized => f.write_str("authorized"),
            Verdict::Denied { pattern } => write!(f, "denied by {pattern:?}"),
            Verdict::NotAllowed => f.write_str("not on the allow list"),
        }
    }
}

/// A policy ready to judge names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompiledPolicy {
    allow: Vec<Glob>,
    deny: Vec<Glob>,
}

impl CompiledPolicy {
    /// Deny wins; then a non-empty allow list must match.
    pub fn verdict(&self, name: &str) -> Verdict {
        if let Some(glob) = self.deny.iter().find(|g| g.matches(name)) {
            return Verdict::Denied {
                pattern: glob.as_str().to_owned(),
            };
        }
        if !self.allow.is_empty() && !self.allow.iter().any(|g| g.matches(name)) {
            return Verdict::NotAllowed;
        }
        Verdict::Authorized
    }
}

#[cfg(test)]
mod tests;
