//! Conditional downloads of feeds into a cache directory, so that a scheduled sync of an
//! unchanged feed costs one `304 Not Modified` rather than hundreds of megabytes.
//!
//! Each URL owns two files in the cache, named from the URL: `<key>.body` (the last
//! complete download) and `<key>.meta.json` (its URL, ETag and Last-Modified). Both are
//! replaced by rename, so a crash mid-download never leaves a truncated body behind. When
//! the server cannot be reached (or fails with a 5xx), the cached copy is used and a
//! problem says so: a feed outage should not blind the matcher.
//!
//! TLS is rustls with the ring provider and the bundled web PKI roots, so the binary
//! needs neither OpenSSL nor the system certificate store.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use ureq::http::Uri;

use crate::error::Error;
use crate::feed::{LoadOptions, Problem, Progress};

/// Where the downloaded feed is.
pub(crate) enum Body {
    File(PathBuf),
    Memory(Vec<u8>),
}

pub(crate) struct Fetched {
    pub(crate) body: Body,
    /// The cached copy was used.
    pub(crate) from_cache: bool,
    /// Why the cached copy had to be used, if the server failed.
    pub(crate) problems: Vec<Problem>,
}

#[derive(Default, Serialize, Deserialize)]
struct Meta {
    url: String,
    #[serde(default)]
    etag: Option<String>,
    #[serde(default)]
    last_modified: Option<String>,
}

struct CachePaths {
    body: PathBuf,
    meta: PathBuf,
}

pub(crate) fn fetch(url: &str, opts: &LoadOptions<'_>) -> Result<Fetched, Error> {
    let loopback = check_url(url)?;
    let cache = match &opts.cache_dir {
        Some(dir) => {
            fs::create_dir_all(dir).map_err(|source| Error::Cache {
                path: dir.clone(),
                source,
            })?;
            let key = cache_key(url);
            Some(CachePaths {
                body: dir.join(format!("{key}.body")),
                meta: dir.join(format!("{key}.meta.json")),
            })
        }
        None => None,
    };
    let cached = cache.as_ref().filter(|c| c.body.is_file());
    let meta = cached.and_then(|c| read_meta(&c.meta, url));

    match download(url, loopback, cache.as_ref(), meta.as_ref(), opts) {
        Ok(Some(body)) => Ok(Fetched {
            body,
            from_cache: false,
            problems: Vec::new(),
        }),
        Ok(None) => match cached {
            Some(c) => Ok(Fetched {
                body: Body::File(c.body.clone()),
                from_cache: true,
                problems: Vec::new(),
            }),
            // Only possible if something between us and the server invents a 304.
            None => Err(Error::HttpStatus {
                url: url.to_owned(),
                status: 304,
            }),
        },
        Err(e) if server_trouble(&e) && cached.is_some() => {
            let c = cached.expect("checked above");
            let problem = Problem::new(
                url,
                format!("{e}; using the copy cached at {}", c.body.display()),
            );
            Ok(Fetched {
                body: Body::File(c.body.clone()),
                from_cache: true,
                problems: vec![problem],
            })
        }
        Err(e) => Err(e),
    }
}

/// Failures a cached copy can stand in for: the network or the server, not our request.
fn server_trouble(e: &Error) -> bool {
    match e {
        Error::Download { .. } => true,
        Error::HttpStatus { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

/// Only `https://`, or `http://` to this machine (tests, a local mirror). Returns whether
/// the host is a loopback address, which is never reached through a proxy.
fn check_url(url: &str) -> Result<bool, Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: url.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = url
        .parse()
        .map_err(|e: ureq::http::uri::InvalidUri| invalid(&e.to_string()))?;
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid("it has no host"))?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("https") => Ok(loopback),
        Some("http") if loopback => Ok(true),
        Some("http") => Err(Error::InsecureUrl {
            url: url.to_owned(),
        }),
        _ => Err(invalid("only https:// URLs are supported")),
    }
}

/// `Ok(None)` means 304 Not Modified.
fn download(
    url: &str,
    loopback: bool,
    cache: Option<&CachePaths>,
    meta: Option<&Meta>,
    opts: &LoadOptions<'_>,
) -> Result<Option<Body>, Error> {
    let failed = |e: ureq::Error| match rampart_egress::refusal(&e) {
        Some(refused) => Error::Refused {
            url: url.to_owned(),
            source: refused.clone(),
        },
        None => Error::Download {
            url: url.to_owned(),
            source: Box::new(e),
        },
    };
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        // No redirect may downgrade a feed download to plain http.
        .https_only(!loopback)
        .timeout_connect(Some(opts.connect_timeout))
        .timeout_recv_response(Some(opts.read_timeout))
        .timeout_per_read(Some(opts.read_timeout))
        .timeout_global(Some(opts.total_timeout))
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")));
    if loopback {
        config = config.proxy(None);
    }
    let agent = rampart_egress::agent(config.build(), opts.egress.clone());
    // Through a proxy the target is checked here; otherwise at every connection.
    rampart_egress::check_target(url, agent.config(), &opts.egress).map_err(|e| match e {
        rampart_egress::ResolveError::Refused(source) => Error::Refused {
            url: url.to_owned(),
            source,
        },
        rampart_egress::ResolveError::Lookup { source, .. } => Error::Download {
            url: url.to_owned(),
            source: Box::new(source),
        },
    })?;
    let mut request = agent.get(url);
    if let Some(meta) = meta {
        if let Some(etag) = &meta.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(date) = &meta.last_modified {
            request = request.header("If-Modified-Since", date);
        }
    }
    let response = request.call().map_err(failed)?;
    let status = response.status().as_u16();
    if status == 304 && meta.is_some() {
        return Ok(None);
    }
    if !(200..300).contains(&status) {
        return Err(Error::HttpStatus {
            url: url.to_owned(),
            status,
        });
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .filter(|v| !v.is_empty())
    };
    let fresh = Meta {
        url: url.to_owned(),
        etag: header("etag"),
        last_modified: header("last-modified"),
    };
    let max = opts.max_download_bytes;
    let total = response.body().content_length();
    if total.is_some_and(|t| t > max) {
        return Err(Error::TooLarge {
            location: url.to_owned(),
            limit: max,
        });
    }
    let mut reader = response.into_body().into_with_config().reader();

    let Some(cache) = cache else {
        let mut bytes = Vec::new();
        copy(&mut reader, &mut bytes, url, total, opts)?;
        return Ok(Some(Body::Memory(bytes)));
    };
    let partial = temp_path(&cache.body);
    let result = (|| {
        let cache_error = |source| Error::Cache {
            path: partial.clone(),
            source,
        };
        let mut file = io::BufWriter::new(fs::File::create(&partial).map_err(cache_error)?);
        copy(&mut reader, &mut file, url, total, opts)?;
        file.into_inner()
            .map_err(|e| cache_error(e.into_error()))?
            .sync_all()
            .map_err(cache_error)?;
        fs::rename(&partial, &cache.body).map_err(|source| Error::Cache {
            path: cache.body.clone(),
            source,
        })
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&partial);
        return Err(e);
    }
    write_meta(&cache.meta, &fresh)?;
    Ok(Some(Body::File(cache.body.clone())))
}

/// Copies the body, refusing more than the download limit and reporting progress about
/// every megabyte.
fn copy(
    reader: &mut impl Read,
    out: &mut impl Write,
    url: &str,
    total: Option<u64>,
    opts: &LoadOptions<'_>,
) -> Result<(), Error> {
    let max = opts.max_download_bytes;
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0u64;
    let mut reported = 0u64;
    opts.report(Progress::Downloading { received: 0, total });
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::Download {
                    url: url.to_owned(),
                    source: Box::new(e),
                });
            }
        };
        received += n as u64;
        if received > max {
            return Err(Error::TooLarge {
                location: url.to_owned(),
                limit: max,
            });
        }
        out.write_all(&buf[..n]).map_err(|source| Error::Cache {
            path: PathBuf::from(url),
            source,
        })?;
        if received - reported >= 1 << 20 {
            reported = received;
            opts.report(Progress::Downloading { received, total });
        }
    }
    opts.report(Progress::Downloading { received, total });
    Ok(())
}

fn read_meta(path: &Path, url: &str) -> Option<Meta> {
    let meta: Meta = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    // A hash collision between two URLs must not let one validate the other's body.
    (meta.url == url).then_some(meta)
}

fn write_meta(path: &Path, meta: &Meta) -> Result<(), Error> {
    let temp = temp_path(path);
    let json = serde_json::to_vec_pretty(meta).expect("plain strings serialise");
    fs::write(&temp, json)
        .and_then(|()| fs::rename(&temp, path))
        .map_err(|source| Error::Cache {
            path: path.to_owned(),
            source,
        })
}

/// A name no concurrent load in this or another process will pick.
fn temp_path(final_path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = final_path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.{n}.partial", std::process::id()));
    final_path.with_file_name(name)
}

/// A readable, filesystem-safe name for the URL's cache files: its last path segment
/// plus a 64-bit FNV-1a hash of the whole URL.
pub(crate) fn cache_key(url: &str) -> String {
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let readable: String = last
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(48)
        .collect();
    let readable = readable.trim_start_matches('.');
    if readable.is_empty() {
        format!("feed-{hash:016x}")
    } else {
        format!("{readable}-{hash:016x}")
    }
}

#[cfg(test)]
mod tests;
