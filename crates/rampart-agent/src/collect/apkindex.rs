//! Pending updates of Alpine hosts from the indexes `apk update` left behind:
//! `var/cache/apk/APKINDEX.<hash>.tar.gz` (and `etc/apk/cache/`, where a package cache
//! is configured). An index is a concatenation of gzip streams (the signature's tar
//! segment, then the index's) holding `DESCRIPTION` and `APKINDEX`, whose records are
//! the installed database's format (`P:` name, `V:` version, `A:` arch, `o:` origin),
//! read by the same parser, `rampart_inventory::apk::parse_installed`.
//!
//! The candidate of an installed package is the highest version (apk's order,
//! `rampart_core::version`) offered for its name in its arch or `noarch`; an update
//! when above the installed version, as `apk version -l '<'` lists it.
//!
//! Origin is the repository line of `etc/apk/repositories` (or
//! `etc/apk/repositories.d/*.list`) whose cache name matches the index: apk-tools 2
//! names the cached index after the first four bytes of the SHA-1 of the repository URL
//! (`apk_repo_format_cache_index`; pmbootstrap computes the same name). An index
//! no listed repository matches is read only when none matches at all (then its origin
//! is its `DESCRIPTION`); otherwise it is a stale index of a removed repository and skipped.
//!
//! Category is always `Other`: an APKINDEX carries no security information and Alpine's
//! secdb is not on the host. The server, which holds the secdb advisories, is the place
//! to tell which of these updates fix a vulnerability (a finding whose fixed version is
//! at or below the candidate).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

use rampart_core::package::{Package, PackageFormat};
use rampart_core::version::VersionKind;
use rampart_proto::{PendingUpdate, UpdateCategory};

use super::{Context, Problems, clip};

/// Larger decompressed indexes are refused (Alpine's community index is ~10 MB).
const MAX_INDEX: u64 = 256 << 20;

/// The text files of an index archive.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexArchive {
    pub description: Option<String>,
    pub apkindex: String,
}

/// Reads `APKINDEX.tar.gz`: every gzip member, then the tar entries named `DESCRIPTION`
/// and `APKINDEX`. apk strips the end-of-archive blocks between segments, but zero
/// blocks anywhere are skipped rather than taken as the end.
pub fn read_archive(bytes: &[u8]) -> Result<IndexArchive, String> {
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(MAX_INDEX)
        .read_to_end(&mut tar)
        .map_err(|e| format!("cannot decompress: {e}"))?;
    let mut out = IndexArchive::default();
    let mut found = false;
    let mut at = 0usize;
    while at + 512 <= tar.len() {
        let header = &tar[at..at + 512];
        at += 512;
        if header.iter().all(|b| *b == 0) {
            continue;
        }
        let name_end = header[..100].iter().position(|b| *b == 0).unwrap_or(100);
        let name = String::from_utf8_lossy(&header[..name_end]);
        let size = parse_octal(&header[124..136])
            .ok_or_else(|| format!("tar entry {:?}: unreadable size", clip(&name)))?;
        let Some(end) = usize::try_from(size).ok().and_then(|s| at.checked_add(s)) else {
            return Err(format!("tar entry {:?}: size out of range", clip(&name)));
        };
        if end > tar.len() {
            return Err(format!("tar entry {:?}: truncated", clip(&name)));
        }
        let data = &tar[at..end];
        match (header[156], name.as_ref()) {
            (b'0' | 0, "APKINDEX") => {
                out.apkindex = String::from_utf8_lossy(data).into_owned();
                found = true;
            }
            (b'0' | 0, "DESCRIPTION") => {
                out.description = Some(String::from_utf8_lossy(data).trim().to_owned())
            }
            _ => {}
        }
        at = end.div_ceil(512) * 512;
    }
    if !found {
        return Err("no APKINDEX entry".to_owned());
    }
    Ok(out)
}

/// A tar header number: octal digits, padded with spaces or NULs.
fn parse_octal(field: &[u8]) -> Option<u64> {
    let digits = std::str::from_utf8(field)
        .ok()?
        .trim_matches(|c: char| c == '\0' || c == ' ');
    if digits.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(digits, 8).ok()
}

/// Repository URLs of a `repositories` file: one a line, `#` comments, an optional
/// `@tag ` prefix (pinned repositories; the tag is not part of the URL apk hashes).
pub fn parse_repositories(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let url = if l.starts_with('@') {
                l.split_whitespace().nth(1)?
            } else {
                l.split_whitespace().next()?
            };
            Some(url.to_owned())
        })
        .collect()
}

/// The name apk gives the cached index of `url`: `APKINDEX.<8 hex>.tar.gz`, the hex
/// being the first four bytes of the URL's SHA-1.
pub fn cache_name(url: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, url.as_bytes());
    let hex: String = digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("APKINDEX.{hex}.tar.gz")
}

/// Computes the pending updates of the installed `apk` packages.
pub fn pending(
    ctx: &Context,
    installed: &[Package],
    problems: &mut Problems<'_>,
) -> Vec<PendingUpdate> {
    let apks: Vec<&Package> = installed
        .iter()
        .filter(|p| p.format == PackageFormat::Apk)
        .collect();
    let wanted: HashSet<&str> = apks.iter().map(|p| p.name.as_str()).collect();

    let mut urls = Vec::new();
    let mut files = vec!["etc/apk/repositories".to_owned()];
    if let Ok(Some(names)) = ctx.root().list("etc/apk/repositories.d") {
        files.extend(
            names
                .into_iter()
                .filter(|n| n.ends_with(".list"))
                .map(|n| format!("etc/apk/repositories.d/{n}")),
        );
    }
    for f in files {
        match ctx.read_text(&f) {
            Ok(Some((_, text))) => urls.extend(parse_repositories(&text)),
            Ok(None) => {}
            Err(e) => problems.push(format!("{f}: {e}")),
        }
    }
    let by_cache_name: HashMap<String, &str> =
        urls.iter().map(|u| (cache_name(u), u.as_str())).collect();

    // (path, file name), each real file once.
    let mut indexes: Vec<(String, String)> = Vec::new();
    let mut seen = HashSet::new();
    for dir in ["var/cache/apk", "etc/apk/cache"] {
        let Ok(Some(names)) = ctx.root().list(dir) else {
            continue;
        };
        for n in names {
            if !(n.starts_with("APKINDEX.") && n.ends_with(".tar.gz")) {
                continue;
            }
            let path = format!("{dir}/{n}");
            if let Ok(Some(r)) = ctx.root().resolve(&path)
                && seen.insert(r.inside)
            {
                indexes.push((path, n));
            }
        }
    }
    if indexes.is_empty() {
        problems.push("no APKINDEX in var/cache/apk: run `apk update`; updates unknown");
        return Vec::new();
    }
    let any_matches = indexes.iter().any(|(_, n)| by_cache_name.contains_key(n));

    // name → (version, arch, origin)
    let mut offers: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for (path, file) in &indexes {
        let repo = by_cache_name.get(file).copied();
        if any_matches && repo.is_none() {
            continue;
        }
        let bytes = match ctx.root().read(path) {
            Ok(Some((_, b))) => b,
            Ok(None) => continue,
            Err(e) => {
                problems.push(format!("{path}: {e}"));
                continue;
            }
        };
        let archive = match read_archive(&bytes) {
            Ok(a) => a,
            Err(e) => {
                problems.push(format!("{path}: {e}; updates from it are missing"));
                continue;
            }
        };
        let origin = repo
            .map(str::to_owned)
            .or(archive.description.clone())
            .unwrap_or_else(|| file.clone());
        let parsed = rampart_inventory::apk::parse_installed(&archive.apkindex);
        for p in parsed.problems {
            problems.push(format!("{path} APKINDEX {p}"));
        }
        for p in parsed.packages {
            if wanted.contains(p.name.as_str()) {
                offers.entry(p.name).or_default().push((
                    p.version,
                    p.arch.unwrap_or_default(),
                    origin.clone(),
                ));
            }
        }
    }
    compute(&apks, &offers)
}

/// The candidate rule of the module comment over parsed offers (name → version, arch,
/// origin).
pub fn compute(
    installed: &[&Package],
    offers: &HashMap<String, Vec<(String, String, String)>>,
) -> Vec<PendingUpdate> {
    let apk = |a: &str, b: &str| VersionKind::Apk.compare(a, b);
    let mut by_key: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for p in installed {
        let e = by_key
            .entry((p.name.as_str(), p.arch.as_deref().unwrap_or("")))
            .or_insert(&p.version);
        if apk(&p.version, e).is_gt() {
            *e = &p.version;
        }
    }
    let mut updates = Vec::new();
    for ((name, arch), version) in by_key {
        let Some(best) = offers
            .get(name)
            .into_iter()
            .flatten()
            .filter(|(_, a, _)| a == arch || a == "noarch" || arch.is_empty())
            .max_by(|a, b| apk(&a.0, &b.0).then_with(|| b.2.cmp(&a.2)))
        else {
            continue;
        };
        if apk(&best.0, version).is_gt() {
            updates.push(PendingUpdate {
                name: name.to_owned(),
                arch: Some(best.1.clone()).filter(|a| !a.is_empty()),
                installed: version.to_owned(),
                candidate: best.0.clone(),
                origin: best.2.clone(),
                category: UpdateCategory::Unknown,
            });
        }
    }
    updates
}

#[cfg(test)]
mod tests;
