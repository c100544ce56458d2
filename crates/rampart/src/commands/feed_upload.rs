//! `rampart feeds import`: turns what the operator names — a file, a directory, a URL —
//! into the bytes the server's upload route takes. The server never opens a path or
//! fetches a URL a client names (that let any operator read the server's files), so
//! the CLI does it on the operator's own machine: a file is sent as it is, a directory
//! is zipped into a temporary file (only its feed files), a URL is downloaded into the
//! local feed cache first.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::client::Client;

/// A feed ready to upload.
pub(crate) struct PreparedFeed {
    file: File,
    /// Keeps a zipped directory alive until the upload ends.
    _temp: Option<tempfile::NamedTempFile>,
    pub(crate) len: u64,
    /// The default label: the file or directory name, or the URL's last segment.
    pub(crate) name: String,
}

pub(crate) fn prepare(source: &str, cache_dir: Option<PathBuf>) -> anyhow::Result<PreparedFeed> {
    let lower = source.get(..8).unwrap_or(source).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return download(source, cache_dir);
    }
    let path = Path::new(source);
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {source}"))?;
    let name = label(path);
    if meta.is_dir() {
        let temp = zip_dir(path)?;
        let file = temp.reopen().context("reopening the zipped directory")?;
        let len = file.metadata()?.len();
        return Ok(PreparedFeed {
            file,
            _temp: Some(temp),
            len,
            name,
        });
    }
    if !meta.is_file() {
        bail!("{source} is not a regular file or directory");
    }
    Ok(PreparedFeed {
        file: File::open(path).with_context(|| format!("cannot open {source}"))?,
        _temp: None,
        len: meta.len(),
        name,
    })
}

impl PreparedFeed {
    /// Streams the feed to `POST /api/v1/feeds/import?name=…`, with a progress bar on
    /// a terminal.
    pub(crate) fn upload(self, client: &Client, name: &str) -> anyhow::Result<Value> {
        let bar = super::scan::progress_bar(name);
        bar.set_length(self.len);
        bar.set_message(format!("uploading {name}"));
        let mut reader = bar.wrap_read(self.file);
        let result = client.upload(
            "/api/v1/feeds/import",
            &[("name", name.to_owned())],
            "application/octet-stream",
            &mut reader,
        );
        bar.finish_and_clear();
        result
    }
}

fn label(path: &Path) -> String {
    path.canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "upload".to_owned())
}

fn download(url: &str, cache_dir: Option<PathBuf>) -> anyhow::Result<PreparedFeed> {
    let bar = super::scan::progress_bar(url);
    bar.set_message(format!("downloading {url}"));
    let on_progress = |p: rampart_feeds::Progress| {
        if let rampart_feeds::Progress::Downloading { received, total } = p {
            bar.set_length(total.unwrap_or(0));
            bar.set_position(received);
        }
    };
    let opts = rampart_feeds::LoadOptions {
        cache_dir: Some(cache_dir.unwrap_or_else(super::scan::default_cache_dir)),
        progress: Some(&on_progress),
        ..rampart_feeds::LoadOptions::default()
    };
    let path = rampart_feeds::download_to_cache(url, &opts)
        .with_context(|| format!("downloading {url}"))?;
    bar.finish_and_clear();
    let file = File::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let len = file.metadata()?.len();
    let name = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .trim_end_matches('/')
        .rsplit('/')
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("/");
    Ok(PreparedFeed {
        file,
        _temp: None,
        len,
        name: if name.is_empty() {
            "upload".into()
        } else {
            name
        },
    })
}

/// Zips the feed files under `root` (`*.json`, `*.yaml`, `*.yml`; hidden entries,
/// symlinked directories and anything but regular files skipped), as the server reads
/// a directory.
fn zip_dir(root: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut files = Vec::new();
    collect(root, root, &mut files)?;
    if files.is_empty() {
        bail!("{} holds no .json, .yaml or .yml files", root.display());
    }
    files.sort();
    let temp = tempfile::Builder::new()
        .prefix("rampart-feed-")
        .suffix(".zip")
        .tempfile()
        .context("creating a temporary zip")?;
    let mut zip = zip::ZipWriter::new(io::BufWriter::new(temp.reopen()?));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(false);
    let mut buf = Vec::new();
    for (rel, path) in &files {
        buf.clear();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .with_context(|| format!("reading {}", path.display()))?;
        zip.start_file(rel.as_str(), options)
            .with_context(|| format!("zipping {rel}"))?;
        zip.write_all(&buf)?;
    }
    zip.finish()
        .context("writing the zip")?
        .flush()
        .context("writing the zip")?;
    Ok(temp)
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() {
            collect(root, &path, files)?;
            continue;
        }
        let lower = name.to_ascii_lowercase();
        let feed_file = [".json", ".yaml", ".yml"]
            .iter()
            .any(|e| lower.ends_with(e));
        let regular = ty.is_file()
            || (ty.is_symlink() && std::fs::metadata(&path).is_ok_and(|m| m.is_file()));
        if feed_file && regular {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            files.push((rel, path));
        }
    }
    Ok(())
}
