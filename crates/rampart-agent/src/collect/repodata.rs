//! rpm-md repository metadata, the format dnf, dnf5, yum and zypper cache after a
//! refresh: `repodata/repomd.xml` names the other files, `primary` lists every package
//! (name, arch, epoch/version/release) and `updateinfo` lists advisories (id, type,
//! severity, the fixed packages).
//!
//! Read with quick-xml as a stream of events, keeping only packages whose name the
//! caller wants: Fedora's primary is ~100 MB of XML for ~70,000 packages, a host has a
//! few hundred installed, so nothing else is kept. Malformed XML ends the file with a
//! problem and keeps what was read before it; nothing here panics on any input.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Cursor, Read, Write};

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// A decompressed file larger than this is refused: no real repository comes close, and
/// a compressed bomb must not take the host's memory.
const MAX_DECOMPRESSED: u64 = 2 << 30;

/// The files `repomd.xml` names, as `location href`s relative to the repository
/// directory (`repodata/…-primary.xml.zst`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepoMd {
    pub primary: Option<String>,
    /// yum 3 (EL7) downloads the SQLite form of primary instead of the XML one.
    pub primary_db: Option<String>,
    pub updateinfo: Option<String>,
}

/// One package of a repository, or one package an advisory names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    pub arch: String,
    /// `epoch:version-release`, the epoch omitted when it is 0, as dnf prints it.
    pub evr: String,
}

/// One `<update>` of updateinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advisory {
    pub id: String,
    /// `security`, `bugfix`, `enhancement`, `newpackage`, … (`type` attribute).
    pub kind: String,
    pub severity: Option<String>,
    /// The listed packages the caller wanted.
    pub packages: Vec<RpmPackage>,
}

impl Advisory {
    pub fn is_security(&self) -> bool {
        self.kind == "security"
    }
}

/// Builds an EVR string the way dnf prints it: `[epoch:]version-release`.
pub fn evr(epoch: &str, version: &str, release: &str) -> String {
    let mut s = String::new();
    if !epoch.is_empty() && epoch.bytes().any(|b| b != b'0') {
        s += epoch;
        s.push(':');
    }
    s += version;
    if !release.is_empty() {
        s.push('-');
        s += release;
    }
    s
}

/// Parses `repomd.xml`. Only a `<data>` whose `type` is exactly `primary`,
/// `primary_db` or `updateinfo` counts (`updateinfo_zck` is a zchunk variant).
pub fn parse_repomd(xml: &[u8]) -> Result<RepoMd, String> {
    let mut out = RepoMd::default();
    let mut reader = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut kind: Option<String> = None;
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "data" => kind = attr(&e, "type"),
                "location" => {
                    let slot = match kind.as_deref() {
                        Some("primary") => &mut out.primary,
                        Some("primary_db") => &mut out.primary_db,
                        Some("updateinfo") => &mut out.updateinfo,
                        _ => continue,
                    };
                    if let Some(href) = attr(&e, "href") {
                        *slot = Some(href);
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "data" => kind = None,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(out)
}

/// Parses `primary.xml`, keeping packages whose name `wanted` accepts. Returns them and
/// the problems met (a package lacking name, arch or version; malformed XML, which ends
/// the parse).
pub fn parse_primary(
    input: impl BufRead,
    wanted: impl Fn(&str) -> bool,
) -> (Vec<RpmPackage>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    // Depth of the open elements; a package's fields are its direct children.
    let mut depth = 0usize;
    let mut package_depth = None;
    let (mut name, mut arch, mut version) = (None::<String>, None::<String>, None::<String>);
    let mut text: Option<(Field, String)> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!(
                    "malformed XML at byte {}: {e}; the rest is not read",
                    reader.error_position()
                ));
                break;
            }
        };
        match event {
            Event::Start(e) => {
                depth += 1;
                let local = e.local_name();
                if package_depth.is_none() && local.as_ref() == "package" {
                    package_depth = Some(depth);
                    (name, arch, version) = (None, None, None);
                } else if package_depth == Some(depth - 1) {
                    match local.as_ref() {
                        "name" => text = Some((Field::Name, String::new())),
                        "arch" => text = Some((Field::Arch, String::new())),
                        "version" => version = Some(version_attrs(&e)),
                        _ => {}
                    }
                }
            }
            Event::Empty(e)
                if package_depth == Some(depth) && e.local_name().as_ref() == "version" =>
            {
                version = Some(version_attrs(&e));
            }
            Event::Text(t) => {
                if let Some((_, s)) = &mut text {
                    s.push_str(&t.html_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, s)) = &mut text {
                    s.push_str(&t.html_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, s)) = &mut text {
                    push_reference(s, &r);
                }
            }
            Event::End(_) => {
                if let Some((field, s)) = text.take() {
                    let s = s.trim().to_owned();
                    match field {
                        Field::Name => name = Some(s),
                        Field::Arch => arch = Some(s),
                    }
                } else if package_depth == Some(depth) {
                    package_depth = None;
                    match (name.take(), arch.take(), version.take()) {
                        (Some(n), Some(a), Some(v))
                            if !n.is_empty() && !a.is_empty() && !v.is_empty() =>
                        {
                            if wanted(&n) {
                                out.push(RpmPackage {
                                    name: n,
                                    arch: a,
                                    evr: v,
                                });
                            }
                        }
                        (n, _, _) => problems.push(format!(
                            "package {:?} lacks name, arch or version; skipped",
                            super::clip(n.as_deref().unwrap_or("?"))
                        )),
                    }
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    (out, problems)
}

#[derive(Clone, Copy)]
enum Field {
    Name,
    Arch,
}

/// Parses `updateinfo.xml`, keeping in each advisory the packages whose name `wanted`
/// accepts (advisories left with none are dropped).
pub fn parse_updateinfo(
    input: impl BufRead,
    wanted: impl Fn(&str) -> bool,
) -> (Vec<Advisory>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut current: Option<Advisory> = None;
    // Text being collected: the element's local name and its text so far.
    let mut text: Option<(&'static str, String)> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!(
                    "malformed XML at byte {}: {e}; the rest is not read",
                    reader.error_position()
                ));
                break;
            }
        };
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "update" => {
                    current = Some(Advisory {
                        id: String::new(),
                        kind: attr(&e, "type").unwrap_or_default(),
                        severity: None,
                        packages: Vec::new(),
                    });
                }
                "id" if current.is_some() => text = Some(("id", String::new())),
                "severity" if current.is_some() => text = Some(("severity", String::new())),
                "package" => {
                    if let Some(adv) = &mut current {
                        let (n, a) = (attr(&e, "name"), attr(&e, "arch"));
                        let v = attr(&e, "version");
                        match (n, a, v) {
                            (Some(n), Some(a), Some(v)) if !n.is_empty() && !v.is_empty() => {
                                if wanted(&n) {
                                    let epoch = attr(&e, "epoch").unwrap_or_default();
                                    let release = attr(&e, "release").unwrap_or_default();
                                    adv.packages.push(RpmPackage {
                                        name: n,
                                        arch: a,
                                        evr: evr(&epoch, &v, &release),
                                    });
                                }
                            }
                            (n, _, _) => problems.push(format!(
                                "advisory {:?}: package {:?} lacks name, arch or version; skipped",
                                super::clip(&adv.id),
                                super::clip(n.as_deref().unwrap_or("?"))
                            )),
                        }
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                if let Some((_, s)) = &mut text {
                    s.push_str(&t.html_content());
                }
            }
            Event::CData(t) => {
                if let Some((_, s)) = &mut text {
                    s.push_str(&t.html_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some((_, s)) = &mut text {
                    push_reference(s, &r);
                }
            }
            Event::End(e) => {
                if let Some((field, s)) = text.take()
                    && let Some(adv) = &mut current
                {
                    let s = s.trim().to_owned();
                    match field {
                        "id" => adv.id = s,
                        _ => adv.severity = Some(s).filter(|s| !s.is_empty()),
                    }
                } else if e.local_name().as_ref() == "update"
                    && let Some(adv) = current.take()
                    && !adv.packages.is_empty()
                {
                    out.push(adv);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    (out, problems)
}

/// An attribute's unescaped value; `None` when absent or unreadable.
fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(Cow::into_owned)
        })
}

/// `<version epoch="0" ver="1.2" rel="3.fc40"/>` as an EVR string.
fn version_attrs(e: &BytesStart<'_>) -> String {
    let get = |k: &str| attr(e, k).unwrap_or_default();
    let ver = get("ver");
    if ver.is_empty() {
        return String::new();
    }
    evr(&get("epoch"), &ver, &get("rel"))
}

/// Appends what `&name;` stands for: the five predefined entities and character
/// references; anything else is kept as written.
fn push_reference(s: &mut String, r: &quick_xml::events::BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        s.push(c);
        return;
    }
    let name: &str = r;
    match name {
        "amp" => s.push('&'),
        "lt" => s.push('<'),
        "gt" => s.push('>'),
        "quot" => s.push('"'),
        "apos" => s.push('\''),
        _ => {
            s.push('&');
            s.push_str(name);
            s.push(';');
        }
    }
}

/// The compression of a metadata file from its name: `""` for plain XML.
fn compression(path: &str) -> &str {
    for ext in [".gz", ".xz", ".zst", ".bz2", ".zck"] {
        if path.ends_with(ext) {
            return ext;
        }
    }
    ""
}

/// A reader over the decompressed content of a metadata file. gzip, xz and zstd are
/// read (pure-Rust decoders); bzip2 (yum's SQLite files) and zchunk are refused with a
/// reason, so the caller can say which repository went unread.
pub fn decompressed<'a>(path: &str, bytes: &'a [u8]) -> Result<Box<dyn BufRead + 'a>, String> {
    let limited = |r: Box<dyn Read + 'a>| -> Box<dyn BufRead + 'a> {
        Box::new(BufReader::with_capacity(
            64 * 1024,
            r.take(MAX_DECOMPRESSED),
        ))
    };
    match compression(path) {
        "" => Ok(Box::new(Cursor::new(bytes))),
        ".gz" => Ok(limited(Box::new(flate2::read::MultiGzDecoder::new(bytes)))),
        ".zst" => {
            let decoder = ruzstd::decoding::StreamingDecoder::new(bytes)
                .map_err(|e| format!("{path}: not zstd: {e}"))?;
            Ok(limited(Box::new(decoder)))
        }
        ".xz" => {
            let mut out = Limited(Vec::new());
            lzma_rs::xz_decompress(&mut Cursor::new(bytes), &mut out)
                .map_err(|e| format!("{path}: cannot decompress xz: {e}"))?;
            Ok(Box::new(Cursor::new(out.0)))
        }
        other => Err(format!("{path}: {other} compressed metadata is not read")),
    }
}

/// A `Vec` that refuses to grow past [`MAX_DECOMPRESSED`].
struct Limited(Vec<u8>);

impl Write for Limited {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() as u64 + buf.len() as u64 > MAX_DECOMPRESSED {
            return Err(std::io::Error::other("decompressed size over the limit"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
