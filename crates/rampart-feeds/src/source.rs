//! The one entry point, [`load`]: tells a URL, a directory, a zip, a JSON file and a
//! secdb file apart (by content, not by name, where a name could lie) and hands each to
//! its reader.

use std::fs;
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::feed::{Collector, FeedLoad, Format, LoadOptions, Problem, Unit};
use crate::{archive, download, osv, parallel, secdb};

/// Loads every advisory from `source`:
///
/// - `https://…` (or `http://` on a loopback address): downloaded into
///   [`LoadOptions::cache_dir`] with a conditional request, then read as below;
/// - a directory: every `*.json` (OSV) and `*.yaml`/`*.yml` (secdb) file beneath it,
///   hidden entries and symlinked directories skipped;
/// - a file: a zip of OSV records, one OSV record or a JSON array of them, or an
///   Alpine secdb YAML file, told apart by content.
///
/// Bad records are skipped with a [`Problem`]; an unreadable source is an [`Error`].
pub fn load(source: &str, opts: &LoadOptions<'_>) -> Result<FeedLoad, Error> {
    let trimmed = source.trim();
    let lower = trimmed.get(..8).unwrap_or(trimmed).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return load_url(trimmed, opts);
    }
    let path = Path::new(source);
    let meta = fs::metadata(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => Error::NotFound {
            path: path.to_owned(),
        },
        _ => Error::Io {
            path: path.to_owned(),
            source,
        },
    })?;
    let collector = if meta.is_dir() {
        load_dir(path, opts)?
    } else {
        load_file(path, &path.display().to_string(), opts)?
    };
    Ok(collector.finish())
}

/// Loads one file — a zip of OSV records, an OSV JSON record or array, or an Alpine
/// secdb YAML file — naming it `location` in problems (the server names an uploaded
/// feed by the name it was given, not by its temporary path). Only a regular file is
/// read, at most [`LoadOptions::max_file_bytes`] of it.
pub fn load_file_as(
    path: &Path,
    location: &str,
    opts: &LoadOptions<'_>,
) -> Result<FeedLoad, Error> {
    Ok(load_file(path, location, opts)?.finish())
}

/// Downloads `url` into [`LoadOptions::cache_dir`] (conditionally, like [`load`]) and
/// returns the path of the complete copy, for a client that hands the bytes on (the
/// CLI uploading a feed to the server) rather than reading them itself.
pub fn download_to_cache(url: &str, opts: &LoadOptions<'_>) -> Result<PathBuf, Error> {
    let Some(dir) = &opts.cache_dir else {
        return Err(Error::InvalidUrl {
            url: url.to_owned(),
            reason: "no cache directory to download into".to_owned(),
        });
    };
    match download::fetch(url, opts)?.body {
        download::Body::File(path) => Ok(path),
        download::Body::Memory(_) => Err(Error::Cache {
            path: dir.clone(),
            source: io::Error::other("the download was not written to the cache"),
        }),
    }
}

/// Opens `path` for reading only if it is a regular file, without blocking on a FIFO
/// or a device: the open itself is non-blocking and the check is made on the opened
/// descriptor, so the path cannot be swapped for a pipe in between.
fn open_regular(path: &Path) -> Result<(fs::File, u64), Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let io_error = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if !meta.is_file() {
        return Err(Error::NotRegular {
            path: path.to_owned(),
        });
    }
    Ok((file, meta.len()))
}

/// The whole of a regular file, refusing one larger than `max` (counted while reading,
/// not from the size the file claims: `/proc` files claim 0).
fn read_regular(path: &Path, max: u64) -> Result<Vec<u8>, Error> {
    let (file, len) = open_regular(path)?;
    if len > max {
        return Err(too_large(path, max));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| Error::Io {
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > max {
        return Err(too_large(path, max));
    }
    Ok(bytes)
}

fn too_large(path: &Path, limit: u64) -> Error {
    Error::TooLarge {
        location: path.display().to_string(),
        limit,
    }
}

fn load_url(url: &str, opts: &LoadOptions<'_>) -> Result<FeedLoad, Error> {
    let fetched = download::fetch(url, opts)?;
    let mut collector = match &fetched.body {
        download::Body::File(path) => load_file(path, url, opts)?,
        download::Body::Memory(bytes) if archive::is_zip(bytes) => {
            archive::load_bytes(bytes, url, opts)?
        }
        download::Body::Memory(bytes) => load_bytes(bytes, url, opts)?,
    };
    collector.set_from_cache(fetched.from_cache);
    for problem in fetched.problems {
        collector.problem(problem);
    }
    Ok(collector.finish())
}

fn load_file(path: &Path, location: &str, opts: &LoadOptions<'_>) -> Result<Collector, Error> {
    let (mut file, len) = open_regular(path)?;
    if len > opts.max_file_bytes {
        return Err(too_large(path, opts.max_file_bytes));
    }
    let mut head = [0u8; 4];
    let n = read_head(&mut file, &mut head).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    if archive::is_zip(&head[..n]) {
        file.seek(io::SeekFrom::Start(0))
            .map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?;
        return archive::load_file(file, len, path, location, opts);
    }
    drop(file);
    let bytes = read_regular(path, opts.max_file_bytes)?;
    load_bytes(&bytes, location, opts)
}

fn read_head(file: &mut fs::File, head: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A whole document of unknown kind: JSON (OSV) or secdb YAML.
fn load_bytes(bytes: &[u8], location: &str, opts: &LoadOptions<'_>) -> Result<Collector, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(Error::UnknownFormat {
            location: location.to_owned(),
            detail: "it is empty".to_owned(),
        }),
        Some(b'{' | b'[') => {
            let mut collector = Collector::new(Format::OsvJson);
            for unit in json_units(bytes, location, opts) {
                collector.add(unit);
            }
            Ok(collector)
        }
        Some(_) => {
            let text = std::str::from_utf8(bytes)
                .ok()
                .filter(|t| secdb::looks_like_secdb(t))
                .ok_or_else(|| Error::UnknownFormat {
                    location: location.to_owned(),
                    detail: describe_start(bytes),
                })?;
            let mut collector = Collector::new(Format::Secdb);
            collector.add(Unit::Secdb(secdb::parse(text, location)));
            Ok(collector)
        }
    }
}

/// A JSON document as units: one per record, array elements parsed in parallel.
fn json_units(bytes: &[u8], location: &str, opts: &LoadOptions<'_>) -> Vec<Unit> {
    let max = opts.max_record_bytes;
    match osv::split_document(bytes, location) {
        Ok(osv::Document::Array(items)) => {
            let records = parallel::run(
                items.len(),
                opts,
                || (),
                |(), i| osv::parse_element(items[i], location, i, max),
            );
            vec![Unit::Osv(records)]
        }
        Ok(osv::Document::Single) => vec![single_record(bytes, location, max)],
        Err(problem) => vec![Unit::Unreadable(problem)],
    }
}

/// A JSON document as one unit, parsed on the calling thread.
fn json_unit(bytes: &[u8], location: &str, max: u64) -> Unit {
    match osv::split_document(bytes, location) {
        Ok(osv::Document::Array(items)) => Unit::Osv(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| osv::parse_element(item, location, i, max))
                .collect(),
        ),
        Ok(osv::Document::Single) => single_record(bytes, location, max),
        Err(problem) => Unit::Unreadable(problem),
    }
}

fn single_record(bytes: &[u8], location: &str, max: u64) -> Unit {
    if bytes.len() as u64 > max {
        return Unit::Unreadable(osv::too_large(location, bytes.len() as u64, max));
    }
    Unit::Osv(vec![osv::parse_record(bytes, location)])
}

/// What a file that is none of the formats looks like, so the operator recognises an
/// HTML error page or a wrong file at a glance — described, never quoted: the message
/// reaches API clients, and a server's file must not leak through it.
fn describe_start(bytes: &[u8]) -> String {
    let kind = match bytes.iter().copied().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => "it looks like HTML or XML",
        _ if std::str::from_utf8(bytes).is_err() => "it is binary data",
        _ => "it is text in no feed format",
    };
    format!("{kind} ({} bytes)", bytes.len())
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum FileKind {
    Json,
    Yaml,
}

fn load_dir(root: &Path, opts: &LoadOptions<'_>) -> Result<Collector, Error> {
    let mut collector = Collector::new(Format::Directory);
    let mut files = Vec::new();
    walk(root, &mut files, &mut collector, true)?;
    if files.is_empty() {
        return Err(Error::UnknownFormat {
            location: root.display().to_string(),
            detail: "the directory holds no .json, .yaml or .yml files".to_owned(),
        });
    }
    files.sort();
    let units = parallel::run(
        files.len(),
        opts,
        || (),
        |(), i| {
            let (path, kind) = &files[i];
            dir_file(path, *kind, opts)
        },
    );
    for unit in units {
        collector.add(unit);
    }
    Ok(collector)
}

fn walk(
    dir: &Path,
    files: &mut Vec<(PathBuf, FileKind)>,
    collector: &mut Collector,
    root: bool,
) -> Result<(), Error> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(source) if root => {
            return Err(Error::Io {
                path: dir.to_owned(),
                source,
            });
        }
        Err(e) => {
            collector.problem(Problem::new(
                dir.display().to_string(),
                format!("cannot list directory: {e}"),
            ));
            return Ok(());
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                collector.problem(Problem::new(
                    dir.display().to_string(),
                    format!("cannot list directory: {e}"),
                ));
                continue;
            }
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            walk(&path, files, collector, false)?;
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let kind = if lower.ends_with(".json") {
            FileKind::Json
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            FileKind::Yaml
        } else {
            continue;
        };
        // Symlinked files are followed; symlinked directories are not, to avoid cycles.
        // Pipes, sockets and devices are never read (a FIFO would block the import).
        let regular = file_type.is_file()
            || (file_type.is_symlink() && fs::metadata(&path).is_ok_and(|m| m.is_file()));
        if !regular {
            collector.problem(Problem::new(
                path.display().to_string(),
                "not a regular file; skipped",
            ));
            continue;
        }
        files.push((path, kind));
    }
    Ok(())
}

fn dir_file(path: &Path, kind: FileKind, opts: &LoadOptions<'_>) -> Unit {
    let location = path.display().to_string();
    let bytes = match read_regular(path, opts.max_file_bytes) {
        Ok(b) => b,
        Err(e) => return Unit::Unreadable(Problem::new(location, e.to_string())),
    };
    match kind {
        FileKind::Json => json_unit(&bytes, &location, opts.max_record_bytes),
        FileKind::Yaml => match std::str::from_utf8(&bytes) {
            Ok(text) => Unit::Secdb(secdb::parse(text, &location)),
            Err(_) => Unit::Secdb(Err(Problem::new(location, "secdb file is not UTF-8 text"))),
        },
    }
}
