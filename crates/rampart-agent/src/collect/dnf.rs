//! Pending updates of RPM hosts from the repository metadata dnf, dnf5, yum or zypper
//! cached at their last refresh, so the agent needs no network, no lock and no Python:
//!
//! - caches: `var/cache/dnf/<repoid>-<hash>/repodata/` (dnf 4),
//!   `var/cache/libdnf5/<repoid>-<hash>/repodata/` (dnf5),
//!   `var/cache/yum/<basearch>/<releasever>/<repoid>/` (yum 3) and
//!   `var/cache/zypp/raw/<alias>/repodata/` (zypper); when one repository has several
//!   caches (a changed baseurl leaves the old one behind; a host moved from dnf to
//!   dnf5), the one whose `repomd.xml` is newest is read;
//! - configuration: `etc/yum.repos.d/*.repo`, `[sections]` of `etc/dnf/dnf.conf` and
//!   `etc/yum.conf`, `etc/zypp/repos.d/*.repo`. When any repository is configured, only
//!   cached repositories that are configured and enabled are read: dnf ignores a
//!   disabled or removed repository's cache, and so must we.
//!
//! The candidate of an installed (name, arch) — the highest installed version when
//! several are, as for installonly packages like `kernel`, where the newer one is
//! installed alongside — is the highest EVR (rpm's order, `rampart_core::version`)
//! among the available packages of that name whose arch is the installed one or
//! `noarch` (an installed `noarch` package also takes the host's arch: libsolv allows
//! noarch ⇄ arch changes), offered by the repositories of best (lowest) `priority`
//! among those offering it. It is an update when higher than what is installed; that
//! is what `dnf check-update` lists.
//!
//! Category is security exactly when a `security` advisory of updateinfo lists a
//! package with that name and the installed or the candidate's arch whose EVR is above
//! the installed one and not above the candidate: an advisory the upgrade fixes, which
//! is what `dnf updateinfo list --security` and `dnf upgrade --security` consider.
//! Origin is the repository id (`baseos`), of the first repository in id order when
//! several offer the candidate.
//!
//! Not modelled: `excludepkgs`/`includepkgs`, `Obsoletes:` (a renamed package shows no
//! update), modular filtering (packages of disabled module streams count as
//! available), zypper's vendor stickiness, yum 3 caches holding only the SQLite form of
//! primary (reported as a problem), and zchunk/bzip2 metadata (reported).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use rampart_core::package::{Package, PackageFormat};
use rampart_core::version::VersionKind;
use rampart_proto::{PendingUpdate, UpdateCategory};

use super::repodata::{self, Advisory, RpmPackage};
use super::{Context, Problems, clip};

/// dnf's default repository priority; lower wins.
const DEFAULT_PRIORITY: i32 = 99;

/// One `[section]` of a `.repo` file (or of dnf.conf): a repository's id and the two
/// settings that decide whether and how its cache counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoConfig {
    pub id: String,
    pub enabled: bool,
    pub priority: i32,
}

/// Parses a `.repo` file (INI: `[id]` then `key=value`; `#` and `;` comments). The
/// `[main]` section of dnf.conf is not a repository. Unreadable values are problems and
/// leave the default (enabled, priority 99).
pub fn parse_repo_file(text: &str) -> (Vec<RepoConfig>, Vec<String>) {
    let mut out: Vec<RepoConfig> = Vec::new();
    let mut problems = Vec::new();
    let mut in_main = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(section) = line.strip_prefix('[') {
            let Some(id) = section.strip_suffix(']').map(str::trim) else {
                problems.push(format!("line {}: unclosed section {:?}", i + 1, clip(line)));
                continue;
            };
            in_main = id == "main";
            if !in_main {
                out.push(RepoConfig {
                    id: id.to_owned(),
                    enabled: true,
                    priority: DEFAULT_PRIORITY,
                });
            }
            continue;
        }
        let Some(repo) = out.last_mut().filter(|_| !in_main) else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim().to_ascii_lowercase().as_str() {
            "enabled" => match parse_bool(value) {
                Some(b) => repo.enabled = b,
                None => problems.push(format!(
                    "line {}: enabled={:?} is not a boolean",
                    i + 1,
                    clip(value)
                )),
            },
            "priority" => match value.parse() {
                Ok(p) => repo.priority = p,
                Err(_) => problems.push(format!(
                    "line {}: priority={:?} is not a number",
                    i + 1,
                    clip(value)
                )),
            },
            _ => {}
        }
    }
    (out, problems)
}

/// libdnf's boolean spellings.
fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Some(true),
        "0" | "no" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// A repository's cache found under the root.
#[derive(Clone, Debug)]
struct Cache {
    id: String,
    /// Directory holding `repodata/` (or, for yum 3, `repomd.xml` itself).
    dir: String,
    repomd: String,
    modified: SystemTime,
}

/// The repository id of a dnf/dnf5 cache directory name `<repoid>-<16 hex>`.
pub fn repo_id_of_cache_dir(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((id, hash))
            if !id.is_empty()
                && hash.len() == 16
                && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            id
        }
        _ => name,
    }
}

fn find_caches(ctx: &Context, problems: &mut Problems<'_>) -> Vec<Cache> {
    let mut dirs: Vec<(String, String)> = Vec::new();
    for base in ["var/cache/dnf", "var/cache/libdnf5", "var/cache/zypp/raw"] {
        for name in list(ctx, base, problems) {
            let id = if base.ends_with("raw") {
                name.as_str()
            } else {
                repo_id_of_cache_dir(&name)
            };
            dirs.push((id.to_owned(), format!("{base}/{name}")));
        }
    }
    for arch in list(ctx, "var/cache/yum", problems) {
        for release in list(ctx, &format!("var/cache/yum/{arch}"), problems) {
            for id in list(ctx, &format!("var/cache/yum/{arch}/{release}"), problems) {
                dirs.push((id.clone(), format!("var/cache/yum/{arch}/{release}/{id}")));
            }
        }
    }
    let mut seen = HashSet::new();
    let mut caches = Vec::new();
    for (id, dir) in dirs {
        for repomd in [
            format!("{dir}/repodata/repomd.xml"),
            format!("{dir}/repomd.xml"),
        ] {
            let Ok(Some(resolved)) = ctx.root().resolve(&repomd) else {
                continue;
            };
            let Ok(meta) = std::fs::metadata(&resolved.host) else {
                continue;
            };
            // EL8's var/cache/yum may link to var/cache/dnf: one cache, read once.
            if meta.is_file() && seen.insert(resolved.inside.clone()) {
                caches.push(Cache {
                    id: id.clone(),
                    dir: dir.clone(),
                    repomd,
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
                break;
            }
        }
    }
    caches
}

/// Directory names under `path` inside the root, empty when there is none.
fn list(ctx: &Context, path: &str, problems: &mut Problems<'_>) -> Vec<String> {
    match ctx.root().list(path) {
        Ok(Some(names)) => names,
        Ok(None) => Vec::new(),
        Err(e) => {
            problems.push(format!("{path}: {e}"));
            Vec::new()
        }
    }
}

/// Every repository configured under the root, by id (a later definition wins).
fn configured(ctx: &Context, problems: &mut Problems<'_>) -> BTreeMap<String, RepoConfig> {
    let mut files = vec!["etc/dnf/dnf.conf".to_owned(), "etc/yum.conf".to_owned()];
    for dir in ["etc/yum.repos.d", "etc/zypp/repos.d"] {
        for name in list(ctx, dir, problems) {
            if name.ends_with(".repo") {
                files.push(format!("{dir}/{name}"));
            }
        }
    }
    let mut repos = BTreeMap::new();
    for file in files {
        match ctx.read_text(&file) {
            Ok(Some((_, text))) => {
                let (found, bad) = parse_repo_file(&text);
                for b in bad {
                    problems.push(format!("{file} {b}"));
                }
                for r in found {
                    repos.insert(r.id.clone(), r);
                }
            }
            Ok(None) => {}
            Err(e) => problems.push(format!("{file}: {e}")),
        }
    }
    repos
}

/// What one repository offers, as far as the installed names go.
#[derive(Debug, Default)]
pub struct RepoData {
    pub id: String,
    pub priority: i32,
    pub packages: Vec<RpmPackage>,
    pub advisories: Vec<Advisory>,
}

/// Reads one cache's primary and updateinfo.
fn read_cache(
    ctx: &Context,
    cache: &Cache,
    priority: i32,
    wanted: &HashSet<&str>,
) -> (RepoData, Vec<String>) {
    let mut problems = Vec::new();
    let mut data = RepoData {
        id: cache.id.clone(),
        priority,
        ..RepoData::default()
    };
    let repomd = match ctx.root().read(&cache.repomd) {
        Ok(Some((_, bytes))) => match repodata::parse_repomd(&bytes) {
            Ok(m) => m,
            Err(e) => {
                problems.push(format!("{}: {e}; repository not read", cache.repomd));
                return (data, problems);
            }
        },
        Ok(None) => return (data, problems),
        Err(e) => {
            problems.push(format!("{}: {e}", cache.repomd));
            return (data, problems);
        }
    };
    // dnf keeps `repodata/<file>` as the href says; yum 3 keeps the file's base name
    // beside repomd.xml.
    let read = |href: &str| -> Result<(String, Vec<u8>), String> {
        let base = href.rsplit('/').next().unwrap_or(href);
        for path in [
            format!("{}/{href}", cache.dir),
            format!("{}/{base}", cache.dir),
        ] {
            match ctx.root().read(&path) {
                Ok(Some((_, bytes))) => return Ok((path, bytes)),
                Ok(None) => {}
                Err(e) => return Err(format!("{path}: {e}")),
            }
        }
        Err(format!(
            "{}/{href}: named by repomd.xml but not cached",
            cache.dir
        ))
    };
    match (&repomd.primary, &repomd.primary_db) {
        (Some(href), _) => match read(href) {
            Ok((path, bytes)) => match repodata::decompressed(&path, &bytes) {
                Ok(input) => {
                    let (packages, bad) =
                        repodata::parse_primary(input, |n| wanted.contains(n));
                    data.packages = packages;
                    problems.extend(bad.into_iter().map(|b| format!("{path}: {b}")));
                }
                Err(e) => problems.push(format!("{e}; updates from {} are missing", cache.id)),
            },
            Err(e) => problems.push(format!("{e}; updates from {} are missing", cache.id)),
        },
        (None, Some(_)) => problems.push(format!(
            "{}: only the SQLite form of primary is cached (yum 3), which is not read; updates from {} are missing",
            cache.dir, cache.id
        )),
        (None, None) => problems.push(format!(
            "{}: names no primary metadata; updates from {} are missing",
            cache.repomd, cache.id
        )),
    }
    // dnf fetches updateinfo lazily on some versions: a missing file is not news.
    if let Some(href) = &repomd.updateinfo
        && let Ok((path, bytes)) = read(href)
    {
        match repodata::decompressed(&path, &bytes) {
            Ok(input) => {
                let (advisories, bad) = repodata::parse_updateinfo(input, |n| wanted.contains(n));
                data.advisories = advisories;
                problems.extend(bad.into_iter().map(|b| format!("{path}: {b}")));
            }
            Err(e) => problems.push(format!("{e}; security class from {} unknown", cache.id)),
        }
    }
    (data, problems)
}

/// Computes the pending updates of the installed `rpm` packages from the cached
/// metadata. A host with RPM packages but no cache at all gets a problem saying so,
/// never an empty list that would read as "up to date".
pub fn pending(
    ctx: &Context,
    installed: &[Package],
    native_arch: Option<&str>,
    problems: &mut Problems<'_>,
) -> Vec<PendingUpdate> {
    let rpms: Vec<&Package> = installed
        .iter()
        .filter(|p| p.format == PackageFormat::Rpm)
        .collect();
    let wanted: HashSet<&str> = rpms.iter().map(|p| p.name.as_str()).collect();
    let config = configured(ctx, problems);
    let mut chosen: BTreeMap<String, Cache> = BTreeMap::new();
    for cache in find_caches(ctx, problems) {
        if !config.is_empty() && !config.get(&cache.id).is_some_and(|r| r.enabled) {
            continue;
        }
        match chosen.get(&cache.id) {
            Some(c) if c.modified >= cache.modified => {}
            _ => {
                chosen.insert(cache.id.clone(), cache);
            }
        }
    }
    if chosen.is_empty() {
        problems.push(
            "no cached repository metadata (var/cache/dnf, var/cache/libdnf5, var/cache/yum, \
             var/cache/zypp/raw): run `dnf makecache`; updates unknown",
        );
        return Vec::new();
    }
    // Each repository is decompressed and parsed on its own thread, like apt's lists.
    let repos: Vec<RepoData> = std::thread::scope(|scope| {
        let handles: Vec<_> = chosen
            .values()
            .map(|cache| {
                let priority = config
                    .get(&cache.id)
                    .map_or(DEFAULT_PRIORITY, |r| r.priority);
                let wanted = &wanted;
                scope.spawn(move || read_cache(ctx, cache, priority, wanted))
            })
            .collect();
        handles
            .into_iter()
            .zip(chosen.values())
            .map(|(h, cache)| {
                let (data, bad) = h.join().unwrap_or_else(|_| {
                    (
                        RepoData::default(),
                        vec![format!("{}: parser thread panicked", cache.dir)],
                    )
                });
                for b in bad {
                    problems.push(b);
                }
                data
            })
            .collect()
    });
    compute(&rpms, &repos, native_arch)
}

/// The candidate and category rules of the module comment, over parsed repositories.
pub fn compute(
    installed: &[&Package],
    repos: &[RepoData],
    native_arch: Option<&str>,
) -> Vec<PendingUpdate> {
    let rpm = |a: &str, b: &str| VersionKind::Rpm.compare(a, b);
    // Highest installed version of each (name, arch).
    let mut highest: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for p in installed {
        let key = (p.name.as_str(), p.arch.as_deref().unwrap_or(""));
        let e = highest.entry(key).or_insert(&p.version);
        if rpm(&p.version, e).is_gt() {
            *e = &p.version;
        }
    }
    let mut offers: HashMap<&str, Vec<(&RpmPackage, &RepoData)>> = HashMap::new();
    for repo in repos {
        for p in &repo.packages {
            offers.entry(p.name.as_str()).or_default().push((p, repo));
        }
    }
    let mut updates = Vec::new();
    for ((name, arch), version) in highest {
        let Some(all) = offers.get(name) else {
            continue;
        };
        let fits =
            |a: &str| a == arch || a == "noarch" || (arch == "noarch" && Some(a) == native_arch);
        let fitting: Vec<&(&RpmPackage, &RepoData)> =
            all.iter().filter(|(p, _)| fits(&p.arch)).collect();
        let Some(best_priority) = fitting.iter().map(|(_, r)| r.priority).min() else {
            continue;
        };
        let Some((candidate, from)) = fitting
            .iter()
            .filter(|(_, r)| r.priority == best_priority)
            .max_by(|(a, ra), (b, rb)| {
                // Highest EVR; on a tie the first repository id wins (max_by keeps the
                // last maximum, so ids compare reversed).
                rpm(&a.evr, &b.evr).then_with(|| rb.id.cmp(&ra.id))
            })
            .map(|(p, r)| (*p, *r))
        else {
            continue;
        };
        if !rpm(&candidate.evr, version).is_gt() {
            continue;
        }
        let security = repos.iter().flat_map(|r| &r.advisories).any(|adv| {
            adv.is_security()
                && adv.packages.iter().any(|p| {
                    p.name == name
                        && (p.arch == arch || p.arch == candidate.arch)
                        && rpm(&p.evr, version).is_gt()
                        && !rpm(&p.evr, &candidate.evr).is_gt()
                })
        });
        updates.push(PendingUpdate {
            name: name.to_owned(),
            arch: Some(candidate.arch.clone()),
            installed: version.to_owned(),
            candidate: candidate.evr.clone(),
            origin: from.id.clone(),
            category: if security {
                UpdateCategory::Security
            } else {
                UpdateCategory::Other
            },
        });
    }
    updates
}

#[cfg(test)]
mod tests;
