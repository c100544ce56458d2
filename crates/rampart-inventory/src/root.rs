//! The root being scanned, and [`read_root`], which reads every package database in it.
//!
//! Paths are resolved inside the root the way a chroot would see them: an absolute
//! symlink (`etc/os-release -> /usr/lib/os-release`, which every systemd distribution
//! ships) is followed relative to the root, and `..` never climbs above it. Following
//! such a link on the host instead would silently read the scanning machine's own files
//! and report its packages as the image's.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use crate::{Error, Inventory, Problem, apk, dpkg, os, rpm};

/// The databases [`read_root`] looks for, for messages.
pub(crate) const DATABASES: &[&str] = &[
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/*",
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "lib/apk/db/installed",
];

/// Linux gives up after 40 symlinks in one lookup (ELOOP); so do we.
const MAX_SYMLINKS: usize = 40;

/// Reads the os-release and every package database present under `root`.
///
/// Packages come back sorted by (name, arch, version). Records that cannot be parsed
/// become [`Problem`]s and the rest is still returned; a database file that exists but
/// cannot be read at all is an [`Error`], as is a root with no package database.
pub fn read_root(root: &Path) -> Result<Inventory, Error> {
    let root = Root::new(root).map_err(|source| Error::Root {
        path: root.to_owned(),
        source,
    })?;
    let mut found = Found::default();
    let os = os::read(&root, &mut found)?;
    dpkg::read(&root, &mut found)?;
    rpm::read(&root, &mut found)?;
    apk::read(&root, &mut found)?;

    if found.sources.is_empty() {
        return Err(if found.unreadable.is_empty() {
            Error::NoPackageDatabase {
                root: root.path.clone(),
            }
        } else {
            Error::Unreadable {
                root: root.path.clone(),
                found: found.unreadable,
            }
        });
    }
    for db in found.unreadable {
        found.problems.push(Problem::new(
            db,
            "package database not read; its packages are missing",
        ));
    }
    let mut packages = found.packages;
    packages.sort_by(|a, b| {
        (
            &a.name,
            &a.arch,
            &a.version,
            a.format,
            &a.source_name,
            &a.source_version,
        )
            .cmp(&(
                &b.name,
                &b.arch,
                &b.version,
                b.format,
                &b.source_name,
                &b.source_version,
            ))
    });
    // The same stanza in `status` and `status.d/` is one package, not two.
    packages.dedup();
    Ok(Inventory {
        os,
        packages,
        problems: found.problems,
        sources: found.sources,
    })
}

/// What the readers have found so far; each reader appends to it.
#[derive(Default)]
pub(crate) struct Found {
    pub(crate) packages: Vec<rampart_core::package::Package>,
    pub(crate) problems: Vec<Problem>,
    pub(crate) sources: Vec<String>,
    /// Databases present but not read, each with why (`path (reason)`).
    pub(crate) unreadable: Vec<String>,
}

impl Found {
    /// Records a parsed database: its packages, and its problems located in `file`.
    pub(crate) fn add(&mut self, file: &str, parsed: crate::Parsed) {
        self.sources.push(file.to_owned());
        self.packages.extend(parsed.packages);
        self.problems
            .extend(parsed.problems.into_iter().map(|p| p.in_file(file)));
    }
}

/// A directory treated as `/` for every lookup.
#[derive(Clone, Debug)]
pub struct Root {
    path: PathBuf,
}

/// A path found inside a [`Root`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Where it is on this machine, every symlink already followed.
    pub host: PathBuf,
    /// Where it is inside the root, without symlinks (`usr/lib/os-release`): the name
    /// reported to users and used to notice two paths naming the same file.
    pub inside: String,
}

impl Root {
    /// Fails unless `path` is a directory.
    pub fn new(path: &Path) -> io::Result<Root> {
        if !fs::metadata(path)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "not a directory",
            ));
        }
        Ok(Root {
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Resolves `path` (taken relative to the root even when absolute) as a process
    /// chrooted into the root would: `Ok(None)` when it does not exist there.
    pub fn resolve(&self, path: &str) -> io::Result<Option<Resolved>> {
        // Components still to walk, last first; symlink targets are spliced in here.
        let mut pending: Vec<OsString> = Vec::new();
        push_components(&mut pending, Path::new(path));
        let mut inside: Vec<OsString> = Vec::new();
        let mut host = self.path.clone();
        let mut links = 0;
        while let Some(name) = pending.pop() {
            if name == ".." {
                if inside.pop().is_some() {
                    host.pop();
                }
                continue;
            }
            host.push(&name);
            let meta = match fs::symlink_metadata(&host) {
                Ok(meta) => meta,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(e),
            };
            if meta.file_type().is_symlink() {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(io::Error::other(format!(
                        "too many levels of symbolic links resolving {path} inside the root"
                    )));
                }
                let target = fs::read_link(&host)?;
                host.pop();
                if target.is_absolute() {
                    inside.clear();
                    host.clone_from(&self.path);
                }
                push_components(&mut pending, &target);
                continue;
            }
            if !pending.is_empty() && !meta.is_dir() {
                return Ok(None);
            }
            inside.push(name);
        }
        let inside = inside
            .iter()
            .map(|c| c.to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        Ok(Some(Resolved { host, inside }))
    }

    /// Reads a regular file inside the root; `Ok(None)` when there is none.
    pub fn read(&self, path: &str) -> io::Result<Option<(Resolved, Vec<u8>)>> {
        let Some(resolved) = self.resolve(path)? else {
            return Ok(None);
        };
        if !fs::metadata(&resolved.host)?.is_file() {
            return Ok(None);
        }
        let bytes = fs::read(&resolved.host)?;
        Ok(Some((resolved, bytes)))
    }

    /// Names in a directory inside the root, sorted; `Ok(None)` when there is none.
    pub fn list(&self, path: &str) -> io::Result<Option<Vec<String>>> {
        let Some(resolved) = self.resolve(path)? else {
            return Ok(None);
        };
        if !fs::metadata(&resolved.host)?.is_dir() {
            return Ok(None);
        }
        let mut names = Vec::new();
        for entry in fs::read_dir(&resolved.host)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(Some(names))
    }

    pub(crate) fn error(&self, path: &str, source: io::Error) -> Error {
        Error::Read {
            root: self.path.clone(),
            path: path.to_owned(),
            source,
        }
    }
}

/// Pushes the walkable components of `path` onto `pending` so the first pops first.
fn push_components(pending: &mut Vec<OsString>, path: &Path) {
    let start = pending.len();
    for component in path.components() {
        match component {
            Component::Normal(name) => pending.push(name.to_owned()),
            Component::ParentDir => pending.push(OsString::from("..")),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    pending[start..].reverse();
}

/// Keeps one of several paths that resolve to the same file (Fedora links
/// `var/lib/rpm` to `usr/lib/sysimage/rpm`), so a database is never read twice.
pub(crate) fn first_of_each(paths: Vec<Resolved>) -> Vec<Resolved> {
    let mut seen = HashSet::new();
    paths
        .into_iter()
        .filter(|p| seen.insert(p.inside.clone()))
        .collect()
}

#[cfg(test)]
mod tests;
