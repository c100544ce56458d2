//! Why a whole source could not be read.
//!
//! Only a source that cannot be read at all (missing path, HTTP error, not a feed
//! format) is an [`Error`]: one bad record or file inside a readable source becomes a
//! [`Problem`](crate::Problem) and the rest still loads. Each message says what to fix,
//! because it ends up in front of an operator running an import.

use std::io;
use std::path::PathBuf;

/// The boxed cause of an error from a dependency (zip, HTTP), kept out of the public
/// type so callers match on our kinds, not on a library's.
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(
        "{path}: no such file or directory (give an OSV .json file, a directory of them, an OSV all.zip, \
         an Alpine secdb .yaml file, or an https:// URL)"
    )]
    NotFound { path: PathBuf },

    #[error(
        "{path} is not a regular file or directory (devices, pipes and sockets are never read)"
    )]
    NotRegular { path: PathBuf },

    #[error("{url}: refused: {source}")]
    Refused {
        url: String,
        #[source]
        source: rampart_core::egress::EgressRefused,
    },

    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "{location} is not a feed Rampart can read: {detail} (expected an OSV JSON record or array, \
         a zip of OSV records, or an Alpine secdb YAML file)"
    )]
    UnknownFormat { location: String, detail: String },

    #[error("{location} is not a readable zip archive: {source} (is the download complete?)")]
    Zip {
        location: String,
        #[source]
        source: Cause,
    },

    #[error("{url}: not a usable URL: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("{url}: plain http:// is only accepted for loopback addresses; use https://")]
    InsecureUrl { url: String },

    #[error(
        "{url}: download failed: {source} (check the address, the network and any proxy settings)"
    )]
    Download {
        url: String,
        #[source]
        source: Cause,
    },

    #[error("{url}: the server answered HTTP {status}{}", status_hint(*.status))]
    HttpStatus { url: String, status: u16 },

    #[error(
        "{location} is larger than the limit of {limit} bytes (raise the download size limit if this is expected)"
    )]
    TooLarge { location: String, limit: u64 },

    #[error("feed cache {path}: {source} (check that the cache directory exists and is writable)")]
    Cache {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn status_hint(status: u16) -> &'static str {
    match status {
        401 | 403 => " (access denied: check the URL and any credentials it needs)",
        404 | 410 => " (not found: check the URL)",
        429 => " (rate limited: try again later)",
        500..=599 => " (server error: try again later)",
        _ => "",
    }
}
