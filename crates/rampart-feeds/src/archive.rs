//! Zip archives in the layout the OSV project publishes per ecosystem (`all.zip`: one
//! JSON record per entry). Entries are read and parsed in parallel; each thread gets its
//! own view of the archive, sharing one parsed central directory, and an archive is read
//! into memory once unless it is very large.
//!
//! Entries are inflated here with one reused decompressor and buffer per thread rather
//! than through the zip crate's reader, which sets up fresh inflate state and buffers for
//! every entry: on 100,000 small records that allocation churn cost more than the
//! inflating itself. The CRC and size in the central directory are checked as the zip
//! crate would.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use flate2::{Decompress, FlushDecompress, Status};
use zip::{CompressionMethod, ZipArchive};

use crate::error::Error;
use crate::feed::{Collector, Format, LoadOptions, Problem, Unit};
use crate::{osv, parallel, secdb};

/// The four bytes every non-empty zip starts with, and those of an empty one.
pub(crate) fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06")
}

/// Archives up to this size are read into memory in one go: an OSV `all.zip` holds
/// 100,000 small entries, and one positioned read per entry cost more in system calls
/// than the inflating. Larger archives are read entry by entry from disk.
const IN_MEMORY_MAX: u64 = 1 << 30;

/// Reads a zip from `file`, a regular file of `len` bytes opened by
/// [`crate::source`] (which refused anything else).
pub(crate) fn load_file(
    file: File,
    len: u64,
    path: &Path,
    location: &str,
    opts: &LoadOptions<'_>,
) -> Result<Collector, Error> {
    let io_error = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if len <= IN_MEMORY_MAX {
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        (&file).read_to_end(&mut bytes).map_err(io_error)?;
        return load_bytes(&bytes, location, opts);
    }
    load(
        SharedFile {
            file: Arc::new(file),
            pos: 0,
            len,
        },
        location,
        opts,
    )
}

pub(crate) fn load_bytes(
    bytes: &[u8],
    location: &str,
    opts: &LoadOptions<'_>,
) -> Result<Collector, Error> {
    load(io::Cursor::new(bytes), location, opts)
}

fn load<R: Read + Seek + Clone + Send + Sync>(
    reader: R,
    location: &str,
    opts: &LoadOptions<'_>,
) -> Result<Collector, Error> {
    let archive = ZipArchive::new(reader).map_err(|e| Error::Zip {
        location: location.to_owned(),
        source: Box::new(e),
    })?;
    let units = parallel::run(
        archive.len(),
        opts,
        || (archive.clone(), Inflater::new()),
        |(archive, inflater), i| entry(archive, inflater, i, location, opts),
    );
    let mut collector = Collector::new(Format::Zip);
    for unit in units {
        collector.add(unit);
    }
    Ok(collector)
}

fn entry<R: Read + Seek>(
    archive: &mut ZipArchive<R>,
    inflater: &mut Inflater,
    index: usize,
    location: &str,
    opts: &LoadOptions<'_>,
) -> Unit {
    let max = opts.max_record_bytes;
    let mut file = match archive.by_index_raw(index) {
        Ok(f) => f,
        Err(e) => {
            return Unit::Unreadable(Problem::new(
                format!("{location}!#{index}"),
                format!("unreadable zip entry: {e}"),
            ));
        }
    };
    let name = String::from_utf8_lossy(file.name_raw()).into_owned();
    let here = format!("{location}!{name}");
    if file.is_dir() {
        return Unit::Ignored;
    }
    let lower = name.to_ascii_lowercase();
    let is_json = lower.ends_with(".json");
    let is_yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
    if !is_json && !is_yaml {
        return Unit::Ignored;
    }
    if file.size() > max {
        return Unit::Unreadable(osv::too_large(&here, file.size(), max));
    }
    if file.encrypted() {
        return Unit::Unreadable(Problem::new(here, "zip entry is encrypted; skipped"));
    }
    let (method, size, crc) = (file.compression(), file.size(), file.crc32());
    // A deflate stream is never much larger than its content; the slack covers headers.
    let raw_limit = max.saturating_add(64 << 10);
    inflater.raw.clear();
    if let Err(e) = (&mut file).take(raw_limit).read_to_end(&mut inflater.raw) {
        return Unit::Unreadable(Problem::new(here, format!("cannot read zip entry: {e}")));
    }
    let bytes = match method {
        CompressionMethod::Stored => std::mem::take(&mut inflater.raw),
        CompressionMethod::Deflated => match inflater.inflate(size, max) {
            Ok(bytes) => bytes,
            Err(Inflate::TooLarge(n)) => return Unit::Unreadable(osv::too_large(&here, n, max)),
            Err(Inflate::Corrupt(e)) => {
                return Unit::Unreadable(Problem::new(here, format!("zip entry is corrupt: {e}")));
            }
        },
        other => {
            return Unit::Unreadable(Problem::new(
                here,
                format!(
                    "zip entry uses compression {other}, which Rampart does not read (OSV zips use deflate)"
                ),
            ));
        }
    };
    if bytes.len() as u64 > max {
        return Unit::Unreadable(osv::too_large(&here, bytes.len() as u64, max));
    }
    if bytes.len() as u64 != size || crc32fast::hash(&bytes) != crc {
        return Unit::Unreadable(Problem::new(
            here,
            "zip entry is corrupt: its size or CRC does not match the archive's directory",
        ));
    }
    if is_json {
        Unit::Osv(osv::parse_document(&bytes, &here, max))
    } else {
        match String::from_utf8(bytes) {
            Ok(text) => Unit::Secdb(secdb::parse(&text, &here)),
            Err(_) => Unit::Secdb(Err(Problem::new(here, "secdb file is not UTF-8 text"))),
        }
    }
}

/// One thread's inflate state and compressed-bytes buffer, reused across entries.
struct Inflater {
    state: Decompress,
    raw: Vec<u8>,
}

enum Inflate {
    /// The content grew past the limit; the size reached.
    TooLarge(u64),
    Corrupt(String),
}

impl Inflater {
    fn new() -> Inflater {
        Inflater {
            state: Decompress::new(false),
            raw: Vec::new(),
        }
    }

    /// Inflates `self.raw` (raw deflate, as zip stores it), expecting `size` bytes and
    /// refusing more than `max`.
    fn inflate(&mut self, size: u64, max: u64) -> Result<Vec<u8>, Inflate> {
        self.state.reset(false);
        let cap = |n: u64| usize::try_from(n.min(max.saturating_add(1))).unwrap_or(usize::MAX);
        let mut out = Vec::with_capacity(cap(size.max(64)));
        loop {
            let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
            let input = usize::try_from(before_in)
                .ok()
                .and_then(|i| self.raw.get(i..))
                .unwrap_or_default();
            let status = self
                .state
                .decompress_vec(input, &mut out, FlushDecompress::Finish)
                .map_err(|e| Inflate::Corrupt(e.to_string()))?;
            if status == Status::StreamEnd {
                return Ok(out);
            }
            if out.len() as u64 > max {
                return Err(Inflate::TooLarge(out.len() as u64));
            }
            if out.len() == out.capacity() {
                // The directory understated the size: grow, but never past the limit.
                let more = cap((out.capacity() as u64).saturating_mul(2))
                    .saturating_sub(out.len())
                    .max(1);
                out.reserve(more);
                continue;
            }
            if self.state.total_in() == before_in && self.state.total_out() == before_out {
                return Err(Inflate::Corrupt("the deflate stream ends early".to_owned()));
            }
        }
    }
}

/// A file read with positioned reads, so clones have independent cursors over one open
/// file and threads never race on a shared offset.
#[derive(Clone)]
struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(&self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
mod tests;
