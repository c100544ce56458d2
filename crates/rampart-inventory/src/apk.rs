//! Alpine's database of installed packages, `lib/apk/db/installed`: records separated by
//! blank lines, one `K:value` line per field with a single-letter key (`P` name,
//! `V` version, `A` architecture, `o` origin, i.e. the source package).

use rampart_core::package::{Package, PackageFormat};

use crate::root::{Found, Root};
use crate::{Error, Parsed, Problem, clip};

const INSTALLED: &str = "lib/apk/db/installed";

/// Parses an apk installed database. A record with a line that is not `K:value`, a
/// repeated key among the ones read, or no name or version is skipped with a problem.
pub fn parse_installed(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut record: Option<Record<'_>> = None;
    for (index, line) in text.split('\n').enumerate() {
        let number = index + 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if let Some(r) = record.take() {
                r.finish(&mut out);
            }
            continue;
        }
        let r = record.get_or_insert_with(|| Record {
            first_line: number,
            ..Record::default()
        });
        if r.broken.is_some() {
            continue;
        }
        let bytes = line.as_bytes();
        if bytes.len() < 2 || bytes[1] != b':' || !bytes[0].is_ascii_alphanumeric() {
            r.broken = Some((
                number,
                format!("expected \"K:value\", found {:?}", clip(line)),
            ));
            continue;
        }
        let value = &line[2..];
        let slot = match bytes[0] {
            b'P' => &mut r.name,
            b'V' => &mut r.version,
            b'A' => &mut r.arch,
            b'o' => &mut r.origin,
            _ => continue,
        };
        if slot.is_some() {
            r.broken = Some((
                number,
                format!("second {}: line (a missing blank line?)", bytes[0] as char),
            ));
            continue;
        }
        *slot = Some(value.trim());
    }
    if let Some(r) = record {
        r.finish(&mut out);
    }
    out
}

#[derive(Default)]
struct Record<'a> {
    first_line: usize,
    name: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    origin: Option<&'a str>,
    broken: Option<(usize, String)>,
}

impl Record<'_> {
    fn finish(self, out: &mut Parsed) {
        let what = match self.name {
            Some(n) if !n.is_empty() => format!("record for {:?}", clip(n)),
            _ => "record".to_owned(),
        };
        let (line, reason) = match (self.broken, self.name, self.version) {
            (Some(broken), _, _) => broken,
            (None, None | Some(""), _) => (self.first_line, "no P: (name) line".to_owned()),
            (None, _, None | Some("")) => (self.first_line, "no V: (version) line".to_owned()),
            (None, Some(name), Some(version)) => {
                let name = name.to_owned();
                out.packages.push(Package {
                    source_name: self
                        .origin
                        .filter(|o| !o.is_empty() && *o != name)
                        .map(str::to_owned),
                    name,
                    version: version.to_owned(),
                    arch: self.arch.filter(|a| !a.is_empty()).map(str::to_owned),
                    source_version: None,
                    format: PackageFormat::Apk,
                });
                return;
            }
        };
        out.problems
            .push(Problem::line(line, format!("{reason}; {what} skipped")));
    }
}

pub(crate) fn read(root: &Root, found: &mut Found) -> Result<(), Error> {
    if let Some((resolved, bytes)) = root.read(INSTALLED).map_err(|e| root.error(INSTALLED, e))? {
        found.add(
            &resolved.inside,
            parse_installed(&String::from_utf8_lossy(&bytes)),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
