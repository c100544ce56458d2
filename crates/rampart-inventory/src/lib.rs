//! What is installed under a root directory: the os-release and every package database
//! (dpkg, RPM, apk), read as files without the package managers, so a container image
//! unpacked on disk, a mounted disk and the running system (`/`) all scan alike.
//!
//! Shared by the offline `rampart scan --root DIR` and the lean `rampart-agent`, so it
//! stays synchronous and links no database engine: the RPM SQLite database is read by a
//! small file-format reader in [`rpm::sqlite`].
//!
//! The file-format parsers are pure functions over bytes or text ([`dpkg::parse_status`],
//! [`apk::parse_installed`], [`rpm::header::parse`], [`rpm::sqlite::Database`]) so fuzz
//! targets and property tests can drive them directly. Like every Rampart parser they
//! collect what they could read plus a list of [`Problem`]s instead of failing the whole
//! input for one bad record.

use std::fmt;
use std::io;
use std::path::PathBuf;

use rampart_core::distro::OsRelease;
use rampart_core::package::Package;
use serde::Serialize;

pub mod apk;
pub mod dpkg;
pub mod os;
pub mod root;
pub mod rpm;

pub use root::read_root;

/// Everything [`read_root`] learnt about one root.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Inventory {
    /// Parsed os-release; [`OsRelease::default`] (with a problem) when the root has none.
    pub os: OsRelease,
    /// Installed packages from every database read, sorted by (name, arch, version).
    pub packages: Vec<Package>,
    /// Records and files that could not be read; the rest of the inventory stands.
    pub problems: Vec<Problem>,
    /// The package databases read, as paths relative to the root
    /// (`var/lib/dpkg/status`, `usr/lib/sysimage/rpm/rpmdb.sqlite`, …).
    pub sources: Vec<String>,
}

/// Output of one pure parser: what it could read and what it had to skip.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub packages: Vec<Package>,
    pub problems: Vec<Problem>,
}

/// Something that could not be read. Problems are for people (the scan prints them),
/// so they are text; callers branch on [`Error`] kinds, never on problems.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Problem {
    /// Where: `line 12` or `record 7` from a pure parser, prefixed with the file
    /// relative to the root by [`read_root`] (`var/lib/dpkg/status line 12`).
    pub location: String,
    /// What was wrong and what was done about it.
    pub reason: String,
}

impl Problem {
    pub(crate) fn new(location: impl Into<String>, reason: impl Into<String>) -> Problem {
        Problem {
            location: location.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn line(line: usize, reason: impl Into<String>) -> Problem {
        Problem::new(format!("line {line}"), reason)
    }

    /// Prefixes the location with the file the parser was reading.
    pub(crate) fn in_file(mut self, file: &str) -> Problem {
        self.location = if self.location.is_empty() {
            file.to_owned()
        } else {
            format!("{file} {}", self.location)
        };
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// Why a root could not be inventoried at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The root itself is missing or not a readable directory.
    #[error("{}: {source}", path.display())]
    Root {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// None of the package databases Rampart reads exists under the root. Reported as an
    /// error rather than an empty inventory so a wrong `--root` never reads as "nothing
    /// vulnerable".
    #[error(
        "no package database under {} (looked for {})",
        root.display(),
        root::DATABASES.join(", ")
    )]
    NoPackageDatabase { root: PathBuf },
    /// Package databases exist but none could be read: formats this crate does not
    /// read (RPM Berkeley DB, ndb) or files too damaged to open. An empty inventory
    /// would wrongly read as "nothing installed".
    #[error("{}: package databases found but none could be read: {}", root.display(), found.join("; "))]
    Unreadable { root: PathBuf, found: Vec<String> },
    /// A file that exists could not be read (permissions, I/O error, symlink loop).
    /// Fatal because silently leaving out a whole database would hide its packages.
    #[error("reading {path} under {}: {source}", root.display())]
    Read {
        root: PathBuf,
        path: String,
        #[source]
        source: io::Error,
    },
}

/// Keeps quoted input short in problems: a junk line can be arbitrarily long.
pub(crate) fn clip(s: &str) -> &str {
    match s.char_indices().nth(60) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
