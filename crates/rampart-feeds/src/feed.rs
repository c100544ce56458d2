//! What a load is asked to do ([`LoadOptions`]) and what it hands back ([`FeedLoad`]):
//! the advisories, every problem met on the way, and counts an operator can check an
//! import against.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use rampart_core::advisory::Advisory;
use serde::Serialize;

use crate::osv::ParsedRecord;
use crate::secdb::{self, SecdbFile};

/// 64 MiB: far above the largest real OSV record (Ubuntu kernel records list a few
/// hundred versions, well under 1 MiB), low enough that a hostile entry cannot exhaust
/// memory.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 << 20;

/// 4 GiB: the largest published OSV ecosystem zips are a few hundred MiB.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: u64 = 4 << 30;

/// How to read a source. `Default` suits the CLI, which acts for the person at the
/// keyboard; the server passes its own [`LoadOptions::egress`] policy.
#[derive(Clone)]
pub struct LoadOptions<'a> {
    /// Where downloads are kept with their ETag / Last-Modified, so the next sync of an
    /// unchanged feed costs one `304 Not Modified`. Without it, URLs are downloaded to
    /// memory every time.
    pub cache_dir: Option<PathBuf>,
    /// A single record (file, zip entry, array element) larger than this is refused with
    /// a problem instead of being parsed.
    pub max_record_bytes: u64,
    /// A download larger than this is refused.
    pub max_download_bytes: u64,
    /// A file (a feed file, a zip, one file of a directory) larger than this is
    /// refused; reading stops at the limit, so a file that grows while read cannot
    /// exhaust memory either.
    pub max_file_bytes: u64,
    /// Which addresses downloads may connect to (checked on every resolved address).
    pub egress: rampart_core::egress::EgressPolicy,
    /// Time allowed to resolve and connect (TLS included).
    pub connect_timeout: Duration,
    /// Longest silence allowed while receiving, so a stalled server cannot hang a sync.
    pub read_timeout: Duration,
    /// Upper bound on one whole download.
    pub total_timeout: Duration,
    /// Parser threads; `0` uses every available core.
    pub threads: usize,
    /// Called as work advances, from any thread, so a CLI can draw a progress bar.
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        LoadOptions {
            cache_dir: None,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            max_file_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
            egress: rampart_core::egress::EgressPolicy::any(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            total_timeout: Duration::from_secs(30 * 60),
            threads: 0,
            progress: None,
        }
    }
}

impl fmt::Debug for LoadOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("cache_dir", &self.cache_dir)
            .field("max_record_bytes", &self.max_record_bytes)
            .field("max_download_bytes", &self.max_download_bytes)
            .field("max_file_bytes", &self.max_file_bytes)
            .field("egress", &self.egress)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("total_timeout", &self.total_timeout)
            .field("threads", &self.threads)
            .field("progress", &self.progress.map(|_| "callback"))
            .finish()
    }
}

impl LoadOptions<'_> {
    pub(crate) fn thread_count(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    pub(crate) fn report(&self, progress: Progress) {
        if let Some(callback) = self.progress {
            callback(progress);
        }
    }
}

/// How far a load has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Bytes of a download received; `total` when the server sent a length.
    Downloading { received: u64, total: Option<u64> },
    /// Input units parsed (files of a directory, zip entries, elements of a JSON array)
    /// out of `total`. Never decreases during one load.
    Parsing { done: u64, total: u64 },
}

/// Something in a source that could not be used, and where it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file, `archive!entry`, URL, or `file#index` for an element of a JSON array.
    pub location: String,
    pub reason: String,
}

impl Problem {
    pub fn new(location: impl Into<String>, reason: impl Into<String>) -> Problem {
        Problem {
            location: location.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// What the source turned out to be.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// One OSV record or a JSON array of them.
    #[default]
    OsvJson,
    /// A zip of OSV records, as the OSV project publishes per ecosystem.
    Zip,
    /// An Alpine secdb YAML file.
    Secdb,
    /// A directory tree of OSV JSON and secdb YAML files.
    Directory,
}

/// Counts to check an import against.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LoadStats {
    /// OSV records plus secdb fix entries (one per id listed under a fixed version).
    pub records_read: u64,
    /// Advisories in [`FeedLoad::advisories`].
    pub advisories: u64,
    /// Records or files that could not be used at all (each has a problem).
    pub records_skipped: u64,
    /// Advisories carrying a `withdrawn` date (kept, but the matcher ignores them).
    pub withdrawn: u64,
    /// Affected entries left out because their ecosystem is not a distribution release
    /// Rampart matches (PyPI, npm, …).
    pub affected_outside_distros: u64,
    /// Records left out because every affected entry was outside those distributions.
    pub records_outside_distros: u64,
    /// Affected entries dropped for a bad version (each has a problem).
    pub affected_dropped: u64,
    /// OSV `GIT` ranges ignored: Rampart matches packages, not commits.
    pub git_ranges_ignored: u64,
    /// The source was a URL whose cached copy was used (the server said 304 Not
    /// Modified, or could not be reached and a problem says so).
    pub from_cache: bool,
}

/// The result of [`load`](crate::load).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FeedLoad {
    pub format: Format,
    pub advisories: Vec<Advisory>,
    pub problems: Vec<Problem>,
    pub stats: LoadStats,
}

/// What one input unit (file, zip entry, array) produced.
pub(crate) enum Unit {
    Osv(Vec<Result<ParsedRecord, Problem>>),
    Secdb(Result<SecdbFile, Problem>),
    /// The unit could not even be read.
    Unreadable(Problem),
    /// Not a feed file (a README in a directory, a folder entry in a zip).
    Ignored,
}

/// Assembles units in input order into a [`FeedLoad`]; secdb entries are grouped by id
/// at the end so one advisory carries every (release, package) of the load.
pub(crate) struct Collector {
    load: FeedLoad,
    secdb: Vec<SecdbFile>,
}

impl Collector {
    pub(crate) fn new(format: Format) -> Collector {
        Collector {
            load: FeedLoad {
                format,
                ..FeedLoad::default()
            },
            secdb: Vec::new(),
        }
    }

    pub(crate) fn problem(&mut self, problem: Problem) {
        self.load.problems.push(problem);
    }

    pub(crate) fn set_from_cache(&mut self, from_cache: bool) {
        self.load.stats.from_cache = from_cache;
    }

    pub(crate) fn add(&mut self, unit: Unit) {
        let stats = &mut self.load.stats;
        match unit {
            Unit::Osv(records) => {
                for record in records {
                    stats.records_read += 1;
                    match record {
                        Ok(parsed) => {
                            let notes = parsed.notes;
                            stats.affected_outside_distros += u64::from(notes.affected_outside);
                            stats.affected_dropped += u64::from(notes.affected_dropped);
                            stats.git_ranges_ignored += u64::from(notes.git_ranges);
                            self.load.problems.extend(notes.problems);
                            if notes.outside_distros {
                                stats.records_outside_distros += 1;
                                continue;
                            }
                            if parsed.advisory.withdrawn.is_some() {
                                stats.withdrawn += 1;
                            }
                            self.load.advisories.push(parsed.advisory);
                        }
                        Err(problem) => {
                            stats.records_skipped += 1;
                            self.load.problems.push(problem);
                        }
                    }
                }
            }
            Unit::Secdb(Ok(mut file)) => {
                stats.records_read += file.entries.len() as u64;
                stats.affected_dropped += file.dropped;
                self.load.problems.append(&mut file.problems);
                self.secdb.push(file);
            }
            Unit::Secdb(Err(problem)) | Unit::Unreadable(problem) => {
                stats.records_skipped += 1;
                self.load.problems.push(problem);
            }
            Unit::Ignored => {}
        }
    }

    pub(crate) fn finish(mut self) -> FeedLoad {
        if !self.secdb.is_empty() {
            self.load.advisories.extend(secdb::advisories(&self.secdb));
        }
        self.load.stats.advisories = self.load.advisories.len() as u64;
        self.load
    }
}
