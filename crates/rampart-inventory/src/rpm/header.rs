//! The RPM header blob, as the RPM database stores one per installed package: a count of
//! index entries and the length of the data store (both big-endian `u32`), then the
//! entries (tag, type, offset, count; 16 bytes each), then the data store they point
//! into. Only the tags that identify a package are read, each bounds-checked: the blob
//! comes from the image being scanned and may be hostile.

use rampart_core::package::{Package, PackageFormat};

/// rpm refuses headers with more entries than this (`hdrchkTags`); so do we.
const MAX_ENTRIES: u32 = 0xffff;
/// rpm refuses data stores larger than 256 MiB (`hdrchkData`).
const MAX_DATA: u32 = 0x0fff_ffff;
const ENTRY_LEN: usize = 16;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// Why a header blob could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("header blob of {len} bytes is shorter than the {needed} bytes it declares")]
    Truncated { len: usize, needed: usize },
    #[error("header declares {entries} entries and {data} data bytes, beyond rpm's limits")]
    TooLarge { entries: u32, data: u32 },
    #[error("header tag {tag}: {reason}")]
    BadEntry { tag: u32, reason: String },
    #[error("header has no {0} tag")]
    Missing(&'static str),
}

/// The identifying tags of one package header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub version: String,
    pub release: String,
    pub epoch: Option<u32>,
    /// Absent from `gpg-pubkey` pseudo-packages.
    pub arch: Option<String>,
    /// `name-version-release.src.rpm` of the source package it was built from.
    pub source_rpm: Option<String>,
}

impl Header {
    /// `epoch:version-release`, without `epoch:` when the package has none: the form
    /// `rpm -q` prints and advisories use.
    pub fn evr(&self) -> String {
        match self.epoch {
            Some(epoch) => format!("{epoch}:{}-{}", self.version, self.release),
            None => format!("{}-{}", self.version, self.release),
        }
    }

    /// The source package name, from `name-version-release.src.rpm`; `None` when the
    /// header has no SOURCERPM or it is not of that form.
    pub fn source_name(&self) -> Option<&str> {
        let file = self.source_rpm.as_deref()?;
        let base = file
            .strip_suffix(".src.rpm")
            .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
        let mut parts = base.rsplitn(3, '-');
        let (_release, _version, name) = (parts.next()?, parts.next()?, parts.next()?);
        (!name.is_empty()).then_some(name)
    }

    /// The header as an installed package.
    pub fn to_package(&self) -> Package {
        Package {
            name: self.name.clone(),
            version: self.evr(),
            arch: self.arch.clone(),
            source_name: self
                .source_name()
                .filter(|s| *s != self.name)
                .map(str::to_owned),
            source_version: None,
            format: PackageFormat::Rpm,
        }
    }
}

/// Parses a header blob as stored in the RPM database (no lead, no magic).
pub fn parse(blob: &[u8]) -> Result<Header, Error> {
    let (Some(entries), Some(data_len)) = (be32(blob, 0), be32(blob, 4)) else {
        return Err(Error::Truncated {
            len: blob.len(),
            needed: 8,
        });
    };
    if entries == 0 || entries > MAX_ENTRIES || data_len > MAX_DATA {
        return Err(Error::TooLarge {
            entries,
            data: data_len,
        });
    }
    let index_len = entries as usize * ENTRY_LEN;
    let needed = 8 + index_len + data_len as usize;
    if blob.len() < needed {
        return Err(Error::Truncated {
            len: blob.len(),
            needed,
        });
    }
    let index = &blob[8..8 + index_len];
    let data = &blob[8 + index_len..needed];

    let mut fields = Fields::default();
    for entry in index.chunks_exact(ENTRY_LEN) {
        let tag = be32(entry, 0).expect("16-byte entry");
        let slot = match tag {
            TAG_NAME => &mut fields.name,
            TAG_VERSION => &mut fields.version,
            TAG_RELEASE => &mut fields.release,
            TAG_EPOCH => &mut fields.epoch,
            TAG_ARCH => &mut fields.arch,
            TAG_SOURCERPM => &mut fields.source_rpm,
            _ => continue,
        };
        // Entries appended after the package's signed region replace earlier ones with
        // the same tag, as rpm's own header import does: the last one wins.
        *slot = Some(Entry {
            tag,
            kind: be32(entry, 4).expect("16-byte entry"),
            offset: be32(entry, 8).expect("16-byte entry"),
            count: be32(entry, 12).expect("16-byte entry"),
        });
    }
    let required = |entry: Option<Entry>, name: &'static str| match entry {
        Some(e) => e.string(data),
        None => Err(Error::Missing(name)),
    };
    let name = required(fields.name, "NAME")?;
    let version = required(fields.version, "VERSION")?;
    let release = required(fields.release, "RELEASE")?;
    if name.is_empty() {
        return Err(Error::BadEntry {
            tag: TAG_NAME,
            reason: "empty name".to_owned(),
        });
    }
    Ok(Header {
        name,
        version,
        release,
        epoch: fields.epoch.map(|e| e.int32(data)).transpose()?,
        arch: fields.arch.map(|e| e.string(data)).transpose()?,
        source_rpm: fields.source_rpm.map(|e| e.string(data)).transpose()?,
    })
}

#[derive(Default)]
struct Fields {
    name: Option<Entry>,
    version: Option<Entry>,
    release: Option<Entry>,
    epoch: Option<Entry>,
    arch: Option<Entry>,
    source_rpm: Option<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    tag: u32,
    kind: u32,
    offset: u32,
    count: u32,
}

impl Entry {
    fn bad(&self, reason: impl Into<String>) -> Error {
        Error::BadEntry {
            tag: self.tag,
            reason: reason.into(),
        }
    }

    /// A string value; the first of an array or translation table.
    fn string(&self, data: &[u8]) -> Result<String, Error> {
        match self.kind {
            TYPE_STRING if self.count == 1 => {}
            TYPE_STRING_ARRAY | TYPE_I18NSTRING if self.count >= 1 => {}
            kind => {
                return Err(self.bad(format!(
                    "type {kind} with count {} is not a string",
                    self.count
                )));
            }
        }
        let start = self.offset as usize;
        let rest = data
            .get(start..)
            .filter(|r| !r.is_empty())
            .ok_or_else(|| self.bad("offset past the data"))?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| self.bad("string not terminated"))?;
        String::from_utf8(rest[..end].to_vec()).map_err(|_| self.bad("string is not UTF-8"))
    }

    fn int32(&self, data: &[u8]) -> Result<u32, Error> {
        if self.kind != TYPE_INT32 || self.count == 0 {
            return Err(self.bad(format!(
                "type {} with count {} is not an integer",
                self.kind, self.count
            )));
        }
        if !self.offset.is_multiple_of(4) {
            return Err(self.bad("integer not aligned"));
        }
        be32(data, self.offset as usize).ok_or_else(|| self.bad("offset past the data"))
    }
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

#[cfg(test)]
mod tests;
