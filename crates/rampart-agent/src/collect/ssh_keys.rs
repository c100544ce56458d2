//! SSH `authorized_keys` files of every account with a home: which keys can log in as
//! whom, with which restrictions. Only the key type, its OpenSSH `SHA256:` fingerprint,
//! the comment and the option names leave the host — never the key itself or option
//! values (a `command="…"` can hold secrets).
//!
//! Files are the ones sshd reads: its effective `AuthorizedKeysFile` when `sshd -T` ran,
//! else OpenSSH's default `.ssh/authorized_keys .ssh/authorized_keys2`.

use std::collections::{BTreeMap, HashSet};

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD};
use rampart_proto::AuthorizedKey;
use sha2::{Digest, Sha256};

use super::users::Account;
use super::{Context, Problems, clip};

const DEFAULT_FILES: &[&str] = &[".ssh/authorized_keys", ".ssh/authorized_keys2"];

/// Standard alphabet, padding optional: OpenSSH accepts both.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

pub fn collect(
    ctx: &Context,
    accounts: &[Account],
    sshd: Option<&BTreeMap<String, Vec<String>>>,
    problems: &mut Problems<'_>,
) -> Vec<AuthorizedKey> {
    let patterns: Vec<String> = match sshd.and_then(|s| s.get("authorizedkeysfile")) {
        Some(lines) => lines
            .iter()
            .flat_map(|l| l.split_whitespace())
            .filter(|p| *p != "none")
            .map(str::to_owned)
            .collect(),
        None => DEFAULT_FILES.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    for account in accounts {
        let user = &account.user;
        if user.home.is_empty() {
            continue;
        }
        for pattern in &patterns {
            let path = expand(pattern, &user.home, &user.name);
            let file = path.trim_start_matches('/').to_owned();
            if !seen.insert((user.name.clone(), file.clone())) {
                continue;
            }
            let text = match ctx.read_text(&file) {
                Ok(Some((_, t))) => t,
                Ok(None) => continue,
                Err(e) => {
                    problems.push(format!("{file}: {e}"));
                    continue;
                }
            };
            for (i, line) in text.lines().enumerate() {
                match parse_line(line) {
                    Ok(None) => {}
                    Ok(Some(k)) => keys.push(AuthorizedKey {
                        user: user.name.clone(),
                        file: file.clone(),
                        key_type: k.key_type,
                        fingerprint: k.fingerprint,
                        comment: k.comment,
                        options: k.options,
                    }),
                    Err(why) => problems.push(format!("{file} line {}: {why}", i + 1)),
                }
            }
        }
    }
    keys
}

/// Expands sshd_config's `%h`, `%u` and `%%` tokens; a relative result is taken
/// relative to the home directory, as sshd does.
pub fn expand(pattern: &str, home: &str, user: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('h') => out.push_str(home),
            Some('u') => out.push_str(user),
            Some('%') => out.push('%'),
            Some(other) => {
                out.push('%');
                out.push(other);
            }
            None => out.push('%'),
        }
    }
    if out.starts_with('/') {
        out
    } else {
        format!("{}/{out}", home.trim_end_matches('/'))
    }
}

/// One parsed `authorized_keys` line, without the key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLine {
    pub key_type: String,
    pub fingerprint: String,
    pub comment: String,
    pub options: Vec<String>,
}

/// Parses one line as sshd(8) "AUTHORIZED_KEYS FILE FORMAT" describes it:
/// `[options] keytype base64-key [comment]`. `Ok(None)` for blank and comment lines;
/// `Err` says why a line is unusable.
pub fn parse_line(line: &str) -> Result<Option<KeyLine>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let first = line.split([' ', '\t']).next().unwrap_or_default();
    let (options, rest) = if is_key_type(first) {
        (Vec::new(), line)
    } else if first.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        return Err("SSH protocol 1 key (bits exponent modulus) is not supported".into());
    } else {
        split_options(line)?
    };
    let (key_type, after) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    if !is_key_type(key_type) {
        return Err(format!("unknown key type {:?}", clip(key_type)));
    }
    let after = after.trim_start_matches([' ', '\t']);
    let (blob_text, comment) = after.split_once([' ', '\t']).unwrap_or((after, ""));
    if blob_text.is_empty() {
        return Err(format!("{key_type} key without key data"));
    }
    let blob = BASE64
        .decode(blob_text)
        .map_err(|e| format!("key data is not base64: {e}"))?;
    let embedded = embedded_type(&blob).ok_or("key data too short to hold a key type")?;
    if embedded != key_type.as_bytes() {
        return Err(format!(
            "key data is a {:?} key but the line says {key_type}",
            clip(&String::from_utf8_lossy(embedded))
        ));
    }
    Ok(Some(KeyLine {
        key_type: key_type.to_owned(),
        fingerprint: fingerprint(&blob),
        comment: comment.trim().to_owned(),
        options,
    }))
}

/// OpenSSH's fingerprint: `SHA256:` + unpadded base64 of SHA-256 over the key blob.
pub fn fingerprint(blob: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(blob)))
}

/// The type name an SSH key blob starts with (a uint32 length, then the name).
fn embedded_type(blob: &[u8]) -> Option<&[u8]> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    blob.get(4..4usize.checked_add(len)?)
}

/// Key types sshd accepts in `authorized_keys`, and their certificate forms.
fn is_key_type(s: &str) -> bool {
    const TYPES: &[&str] = &[
        "ssh-ed25519",
        "ssh-rsa",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ecdsa-sha2-nistp256@openssh.com",
        "sk-ssh-ed25519@openssh.com",
        "ssh-xmss@openssh.com",
    ];
    TYPES.contains(&s)
        || s.strip_suffix("-cert-v01@openssh.com").is_some_and(|base| {
            TYPES.contains(&base) || TYPES.contains(&format!("{base}@openssh.com").as_str())
        })
}

/// Splits `options keytype …` at the first blank outside double quotes; returns the
/// option names (lowercase, values dropped) and the rest of the line.
fn split_options(line: &str) -> Result<(Vec<String>, &str), String> {
    let bytes = line.as_bytes();
    let mut names = Vec::new();
    let mut start = 0;
    let mut in_quote = false;
    let mut i = 0;
    let mut end = None;
    while i < bytes.len() {
        let c = bytes[i];
        if in_quote {
            if c == b'\\' && bytes.get(i + 1) == Some(&b'"') {
                i += 2;
                continue;
            }
            if c == b'"' {
                in_quote = false;
            }
        } else if c == b'"' {
            in_quote = true;
        } else if c == b',' || c == b' ' || c == b'\t' {
            names.push(option_name(&line[start..i])?);
            start = i + 1;
            if c != b',' {
                end = Some(i);
                break;
            }
        }
        i += 1;
    }
    if in_quote {
        return Err("unterminated quote in options".into());
    }
    let Some(end) = end else {
        return Err("options but no key".into());
    };
    Ok((names, line[end..].trim_start_matches([' ', '\t'])))
}

/// `name` or `name="value"` → `name`, lowercase (sshd matches option names without
/// regard to case).
fn option_name(option: &str) -> Result<String, String> {
    let name = option.split('=').next().unwrap_or_default();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!("bad option {:?}", clip(option)));
    }
    Ok(name.to_ascii_lowercase())
}

#[cfg(test)]
mod tests;
