//! dpkg's database of installed packages: `var/lib/dpkg/status`, and the one-file-per-
//! package `var/lib/dpkg/status.d/` that distroless images ship instead.
//!
//! The status file is a list of RFC 822-style stanzas separated by blank lines, with
//! continuation lines starting with a space or tab. Only the fields that identify an
//! installed package are read; everything else (descriptions, conffiles…) is skipped
//! without being copied, which keeps a 20,000-line status file well under a millisecond.

use rampart_core::package::{Package, PackageFormat};

use crate::root::{Found, Root};
use crate::{Error, Parsed, Problem, clip};

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d";

/// Parses a dpkg status file. A stanza counts only when its `Status:` is
/// `install ok installed` or `hold ok installed` (held packages are installed, only
/// frozen): half-installed, unpacked, config-files and deinstall stanzas describe
/// packages whose files are not, or soon will not be, the installed version.
pub fn parse_status(text: &str) -> Parsed {
    parse(text, MissingStatus::NotInstalled)
}

/// Parses one file of `status.d/`. Those are written by image builders from the
/// package's control file, which has no `Status:`; the file's presence is what says
/// the package is installed, so a stanza without `Status:` counts as installed.
pub fn parse_status_d(text: &str) -> Parsed {
    parse(text, MissingStatus::Installed)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum MissingStatus {
    Installed,
    NotInstalled,
}

/// The fields of one stanza that matter, borrowed from the input.
#[derive(Default)]
struct Stanza<'a> {
    first_line: usize,
    package: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    status: Option<&'a str>,
    source: Option<&'a str>,
    /// The first thing wrong with it, by line; a broken stanza is skipped whole.
    broken: Option<(usize, String)>,
    /// Whether the field being continued is one of ours (and so must be one line).
    in_our_field: bool,
    in_field: bool,
}

fn parse(text: &str, missing_status: MissingStatus) -> Parsed {
    let mut out = Parsed::default();
    let mut stanza: Option<Stanza<'_>> = None;
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if let Some(s) = stanza.take() {
                finish(s, missing_status, &mut out);
            }
            continue;
        }
        let s = stanza.get_or_insert_with(|| Stanza {
            first_line: number,
            ..Stanza::default()
        });
        if s.broken.is_some() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if !s.in_field {
                s.broken = Some((number, "continuation line before any field".to_owned()));
            } else if s.in_our_field {
                s.broken = Some((
                    number,
                    "continuation line in a single-line field".to_owned(),
                ));
            }
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            s.broken = Some((
                number,
                format!("expected \"Field: value\", found {:?}", clip(line)),
            ));
            continue;
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            s.broken = Some((number, format!("invalid field name {:?}", clip(name))));
            continue;
        }
        s.in_field = true;
        let slot = if name.eq_ignore_ascii_case("Package") {
            &mut s.package
        } else if name.eq_ignore_ascii_case("Version") {
            &mut s.version
        } else if name.eq_ignore_ascii_case("Architecture") {
            &mut s.arch
        } else if name.eq_ignore_ascii_case("Status") {
            &mut s.status
        } else if name.eq_ignore_ascii_case("Source") {
            &mut s.source
        } else {
            s.in_our_field = false;
            continue;
        };
        s.in_our_field = true;
        if slot.is_some() {
            s.broken = Some((number, format!("duplicate {name} field")));
            continue;
        }
        *slot = Some(value.trim());
    }
    if let Some(s) = stanza {
        finish(s, missing_status, &mut out);
    }
    out
}

/// Turns a complete stanza into a package, a problem, or nothing (not installed).
fn finish(s: Stanza<'_>, missing_status: MissingStatus, out: &mut Parsed) {
    let what = match s.package {
        Some(p) if !p.is_empty() => format!("stanza for {p:?}"),
        _ => "stanza".to_owned(),
    };
    if let Some((line, reason)) = s.broken {
        out.problems
            .push(Problem::line(line, format!("{reason}; {what} skipped")));
        return;
    }
    let installed = match s.status {
        None if missing_status == MissingStatus::Installed => true,
        None => {
            out.problems.push(Problem::line(
                s.first_line,
                format!("no Status field; {what} skipped"),
            ));
            return;
        }
        Some(status) => match status.split_whitespace().collect::<Vec<_>>()[..] {
            [want, flag, state] => {
                matches!((want, flag, state), ("install" | "hold", "ok", "installed"))
            }
            _ => {
                let reason =
                    format!("Status {status:?} is not \"want flag status\"; {what} skipped");
                out.problems.push(Problem::line(s.first_line, reason));
                return;
            }
        },
    };
    if !installed {
        return;
    }
    match package(&s) {
        Ok(p) => out.packages.push(p),
        Err(reason) => out.problems.push(Problem::line(
            s.first_line,
            format!("{reason}; {what} skipped"),
        )),
    }
}

fn package(s: &Stanza<'_>) -> Result<Package, String> {
    let name = match s.package {
        Some(n) if is_token(n) => n,
        Some(n) => return Err(format!("invalid Package {:?}", clip(n))),
        None => return Err("no Package field".to_owned()),
    };
    let version = match s.version {
        Some(v) if is_token(v) => v,
        Some(v) => return Err(format!("invalid Version {:?}", clip(v))),
        None => return Err("no Version field".to_owned()),
    };
    let arch = match s.arch {
        Some(a) if is_token(a) => Some(a.to_owned()),
        Some("") | None => None,
        Some(a) => return Err(format!("invalid Architecture {:?}", clip(a))),
    };
    let (source_name, source_version) = match s.source {
        None | Some("") => (None, None),
        Some(source) => {
            let (src, src_version) = parse_source(source)?;
            (
                (src != name).then(|| src.to_owned()),
                src_version.filter(|v| *v != version).map(str::to_owned),
            )
        }
    };
    Ok(Package {
        name: name.to_owned(),
        version: version.to_owned(),
        arch,
        source_name,
        source_version,
        format: PackageFormat::Deb,
    })
}

/// `Source: name` or `Source: name (version)`; the version is given only when the
/// binary was built with a different one (binNMUs, `dpkg-gencontrol -v`).
fn parse_source(value: &str) -> Result<(&str, Option<&str>), String> {
    let invalid = || format!("invalid Source {:?}", clip(value));
    match value.split_once(char::is_whitespace) {
        None => Ok((value, None)),
        Some((name, rest)) => {
            let version = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .map(str::trim);
            match version {
                Some(v) if is_token(v) => Ok((name, Some(v))),
                _ => Err(invalid()),
            }
        }
    }
}

/// A non-empty value without whitespace: names, versions and architectures are single
/// words, so anything else means the stanza was mangled.
fn is_token(value: &str) -> bool {
    !value.is_empty() && !value.contains(char::is_whitespace)
}

/// Reads `status` and every file of `status.d/` (except the `.md5sums` lists that
/// distroless keeps beside them).
pub(crate) fn read(root: &Root, found: &mut Found) -> Result<(), Error> {
    if let Some((resolved, bytes)) = root.read(STATUS).map_err(|e| root.error(STATUS, e))? {
        found.add(
            &resolved.inside,
            parse_status(&String::from_utf8_lossy(&bytes)),
        );
    }
    let names = root
        .list(STATUS_D)
        .map_err(|e| root.error(STATUS_D, e))?
        .unwrap_or_default();
    for name in names {
        if name.starts_with('.') || name.ends_with(".md5sums") {
            continue;
        }
        let path = format!("{STATUS_D}/{name}");
        if let Some((resolved, bytes)) = root.read(&path).map_err(|e| root.error(&path, e))? {
            found.add(
                &resolved.inside,
                parse_status_d(&String::from_utf8_lossy(&bytes)),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
