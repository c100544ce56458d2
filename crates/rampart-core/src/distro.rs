//! Distributions and releases: the key that ties a host to the advisories written for
//! it. A host's `/etc/os-release` and an OSV ecosystem string (`Debian:12`,
//! `Ubuntu:Pro:18.04:LTS`, `Alpine:v3.19`, `Red Hat:enterprise_linux:9::appstream`, …)
//! both normalise to the same [`Release`], so matching is an equality test.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::package::PackageFormat;
use crate::version::VersionKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Distro {
    Debian,
    Ubuntu,
    Alpine,
    AlmaLinux,
    RockyLinux,
    RedHat,
    Suse,
    OpenSuse,
}

impl Distro {
    pub fn package_format(self) -> PackageFormat {
        match self {
            Distro::Debian | Distro::Ubuntu => PackageFormat::Deb,
            Distro::Alpine => PackageFormat::Apk,
            Distro::AlmaLinux
            | Distro::RockyLinux
            | Distro::RedHat
            | Distro::Suse
            | Distro::OpenSuse => PackageFormat::Rpm,
        }
    }

    pub fn version_kind(self) -> VersionKind {
        self.package_format().version_kind()
    }

    /// Whether this distribution's advisories name source packages (so binary packages
    /// are matched through their source name and version).
    pub fn advisories_name_sources(self) -> bool {
        matches!(self, Distro::Debian | Distro::Ubuntu | Distro::Alpine)
    }

    /// The OSV ecosystem prefix.
    pub fn osv_name(self) -> &'static str {
        match self {
            Distro::Debian => "Debian",
            Distro::Ubuntu => "Ubuntu",
            Distro::Alpine => "Alpine",
            Distro::AlmaLinux => "AlmaLinux",
            Distro::RockyLinux => "Rocky Linux",
            Distro::RedHat => "Red Hat",
            Distro::Suse => "SUSE",
            Distro::OpenSuse => "openSUSE",
        }
    }
}

/// A distribution release, optionally narrowed to a support stream (Ubuntu Pro, RHEL
/// EUS, SUSE LTSS…). Hosts are matched against the standard stream (`stream == None`)
/// of their release only: a stream's fixed versions are not installable without it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Release {
    pub distro: Distro,
    /// Normalised release: `12`, `22.04`, `3.19`, `9`, `15.5`, `tumbleweed`.
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.distro {
            Distro::Alpine => write!(f, "Alpine:v{}", self.version)?,
            d => write!(f, "{}:{}", d.osv_name(), self.version)?,
        }
        if let Some(s) = &self.stream {
            write!(f, " ({s})")?;
        }
        Ok(())
    }
}

/// Why a host's release could not be determined.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    #[error("os-release has no ID")]
    MissingId,
    #[error(
        "distribution {0:?} is not supported (supported: debian, ubuntu, alpine, almalinux, rocky, rhel, sles, opensuse-leap, opensuse-tumbleweed)"
    )]
    Unsupported(String),
    #[error("{id} os-release has no usable VERSION_ID or VERSION_CODENAME")]
    MissingVersion { id: String },
}

/// The fields of `/etc/os-release` Rampart uses.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    pub id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_codename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Parses os-release(5) text: `KEY=value` lines, values optionally quoted with shell
    /// escapes; comments and malformed lines are ignored, as systemd does.
    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease::default();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, raw)) = line.split_once('=') else {
                continue;
            };
            let value = unquote(raw.trim());
            match key.trim() {
                "ID" => os.id = value.to_ascii_lowercase(),
                "ID_LIKE" => {
                    os.id_like = value
                        .split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect()
                }
                "VERSION_ID" => os.version_id = Some(value).filter(|v| !v.is_empty()),
                "VERSION_CODENAME" => os.version_codename = Some(value).filter(|v| !v.is_empty()),
                "PRETTY_NAME" => os.pretty_name = Some(value).filter(|v| !v.is_empty()),
                _ => {}
            }
        }
        os
    }

    /// The release whose advisories apply to this host.
    pub fn release(&self) -> Result<Release, ReleaseError> {
        if self.id.is_empty() {
            return Err(ReleaseError::MissingId);
        }
        let missing = || ReleaseError::MissingVersion {
            id: self.id.clone(),
        };
        let version_id = self.version_id.as_deref();
        let (distro, version) = match self.id.as_str() {
            "debian" => {
                let v = match version_id {
                    Some(v) => major(v).to_owned(),
                    None => debian_release_of_codename(
                        self.version_codename.as_deref().ok_or_else(missing)?,
                    )
                    .ok_or_else(missing)?
                    .to_owned(),
                };
                (Distro::Debian, v)
            }
            "ubuntu" => (Distro::Ubuntu, version_id.ok_or_else(missing)?.to_owned()),
            "alpine" => (Distro::Alpine, major_minor(version_id.ok_or_else(missing)?)),
            "almalinux" => (
                Distro::AlmaLinux,
                major(version_id.ok_or_else(missing)?).to_owned(),
            ),
            "rocky" => (
                Distro::RockyLinux,
                major(version_id.ok_or_else(missing)?).to_owned(),
            ),
            "rhel" => (
                Distro::RedHat,
                major(version_id.ok_or_else(missing)?).to_owned(),
            ),
            "sles" | "sled" | "sles_sap" => {
                (Distro::Suse, version_id.ok_or_else(missing)?.to_owned())
            }
            "opensuse-leap" => (Distro::OpenSuse, version_id.ok_or_else(missing)?.to_owned()),
            "opensuse-tumbleweed" => (Distro::OpenSuse, "tumbleweed".to_owned()),
            other => return Err(ReleaseError::Unsupported(other.to_owned())),
        };
        if version.is_empty() {
            return Err(missing());
        }
        Ok(Release {
            distro,
            version,
            stream: None,
        })
    }
}

fn unquote(v: &str) -> String {
    let inner = match v.as_bytes() {
        [q @ (b'"' | b'\''), .., last] if last == q && v.len() >= 2 => &v[1..v.len() - 1],
        _ => v,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

fn major_minor(v: &str) -> String {
    let v = v.trim_start_matches('v');
    let mut parts = v
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty());
    match (parts.next(), parts.next()) {
        (Some(a), Some(b)) => format!("{a}.{b}"),
        (Some(a), None) => a.to_owned(),
        _ => String::new(),
    }
}

/// Debian testing and unstable carry no VERSION_ID; OSV files them under the number the
/// release will get.
fn debian_release_of_codename(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "duke" => "15",
        _ => return None,
    })
}

impl Release {
    /// Normalises an OSV ecosystem string. `None` for ecosystems that are not a Linux
    /// distribution Rampart matches (PyPI, npm, …) or that it cannot place.
    pub fn from_osv_ecosystem(ecosystem: &str) -> Option<Release> {
        let (name, rest) = ecosystem.split_once(':')?;
        let rest = rest.trim();
        let plain = |distro: Distro, version: String| {
            (!version.is_empty()).then_some(Release {
                distro,
                version,
                stream: None,
            })
        };
        match name.trim() {
            "Debian" => plain(Distro::Debian, major(rest).to_owned()),
            "Ubuntu" => {
                // Ubuntu:22.04:LTS, Ubuntu:24.10, Ubuntu:Pro:18.04:LTS, Ubuntu:Pro:FIPS:20.04:LTS
                let parts: Vec<&str> = rest.split(':').collect();
                let pos = parts
                    .iter()
                    .position(|p| p.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
                let stream: Vec<String> = parts[..pos]
                    .iter()
                    .map(|s| s.to_ascii_lowercase())
                    .collect();
                Some(Release {
                    distro: Distro::Ubuntu,
                    version: parts[pos].to_owned(),
                    stream: (!stream.is_empty()).then(|| stream.join("-")),
                })
            }
            "Alpine" => plain(Distro::Alpine, major_minor(rest)),
            "AlmaLinux" => plain(Distro::AlmaLinux, major(rest).to_owned()),
            "Rocky Linux" => plain(Distro::RockyLinux, major(rest).to_owned()),
            "Red Hat" => {
                // Red Hat:enterprise_linux:9::appstream, Red Hat:rhel_eus:9.2::baseos
                let mut parts = rest.split(':');
                let product = parts.next()?;
                let version = parts.next()?;
                let stream =
                    (product != "enterprise_linux").then(|| format!("{product}:{version}"));
                Some(Release {
                    distro: Distro::RedHat,
                    version: major(version).to_owned(),
                    stream,
                })
            }
            "SUSE" => suse_release(Distro::Suse, rest),
            "openSUSE" => {
                if rest.eq_ignore_ascii_case("Tumbleweed") {
                    return plain(Distro::OpenSuse, "tumbleweed".to_owned());
                }
                suse_release(Distro::OpenSuse, rest)
            }
            _ => None,
        }
    }
}

/// `Linux Enterprise Server 15 SP5` → 15.5; `Leap 15.5` → 15.5. Products other than
/// the base server, desktop and their modules become streams.
fn suse_release(distro: Distro, product: &str) -> Option<Release> {
    let words: Vec<&str> = product.split_whitespace().collect();
    let num_at = words
        .iter()
        .rposition(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let base = words[num_at];
    let mut version = base.to_owned();
    let mut tail = &words[num_at + 1..];
    if let Some(sp) = tail.first().and_then(|w| w.strip_prefix("SP")) {
        let (n, extra) = sp.split_once('-').unwrap_or((sp, ""));
        version = format!("{base}.{n}");
        tail = &tail[1..];
        if !extra.is_empty() {
            let stream = format!("{} {}", words[..num_at].join(" "), extra);
            return Some(Release {
                distro,
                version,
                stream: Some(stream),
            });
        }
    } else if !base.contains('.') && distro == Distro::Suse {
        version = format!("{base}.0");
    }
    let name = words[..num_at].join(" ");
    let standard = distro == Distro::OpenSuse && name == "Leap"
        || name == "Linux Enterprise Server"
        || name == "Linux Enterprise Desktop"
        || name.starts_with("Linux Enterprise Module for ");
    let stream = (!standard || !tail.is_empty())
        .then(|| format!("{name} {}", tail.join(" ")).trim().to_owned());
    Some(Release {
        distro,
        version,
        stream,
    })
}

#[cfg(test)]
mod tests;
