//! Advisory feed readers: OSV records (one file, a directory tree, the per-ecosystem
//! `all.zip` the OSV project publishes, or any of these behind an `https://` URL with a
//! conditional-download cache) and Alpine's native secdb YAML, turned into
//! [`rampart_core::advisory::Advisory`] values.
//!
//! One entry point, [`load`], tells the source kind apart, so the CLI and the server's
//! feed sync take a single string from the operator. A bad record never sinks the feed:
//! it is skipped with a [`Problem`] naming the file or zip entry, and [`LoadStats`]
//! counts everything left out. Only a source that cannot be read at all is an
//! [`Error`].
//!
//! The pure parsers ([`osv::parse_record`], [`osv::parse_document`], [`secdb::parse`])
//! are public so fuzz targets and property tests can drive them directly.

mod archive;
mod download;
mod error;
mod feed;
pub mod osv;
mod parallel;
pub mod secdb;
pub mod severity;
mod source;

pub use error::Error;
pub use feed::{
    DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_RECORD_BYTES, FeedLoad, Format, LoadOptions, LoadStats,
    Problem, Progress,
};
pub use source::{download_to_cache, load, load_file_as};
