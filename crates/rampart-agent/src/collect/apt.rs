//! apt's view of pending upgrades, computed the way apt's policy does it from the files
//! `apt-get update` left behind, so the agent never touches the network or apt's lock:
//!
//! - `var/lib/apt/lists/*_Packages[.lz4|.gz]`: every version each source offers;
//! - the matching `*_InRelease` / `*_Release`: each source's Origin, Label, Suite,
//!   Codename and NotAutomatic / ButAutomaticUpgrades flags;
//! - `etc/apt/preferences` and `etc/apt/preferences.d/*`: pins.
//!
//! The candidate of an installed package is chosen like `pkgPolicy::GetCandidateVer`:
//! walk its versions (for its name and architecture; `all` counts as the native one)
//! from highest down, keep the first with the highest priority, stop at the installed
//! version unless a pin of 1000 or more allows a downgrade. A version's priority is the
//! first matching package-specific pin, else the highest of its sources' priorities
//! (first matching `Package: *` pin, else 500, 100 for NotAutomatic with
//! ButAutomaticUpgrades, 1 for NotAutomatic; the installed version also has the status
//! file's 100). An update is a package whose candidate differs from what is installed.
//!
//! Category is security exactly when the candidate version is offered by a suite whose
//! Suite or Codename ends in `-security` (Debian's `bookworm-security`, Ubuntu's
//! `jammy-security`).
//!
//! Origin is `Label:archive` (Origin when there is no Label), where archive is the
//! Codename when it carries the same `-suffix` as the Suite (Debian: `bookworm-security`
//! rather than `oldstable-security`, which would change at every Debian release and with
//! it the inventory hash) and the Suite otherwise (Ubuntu's Codename `jammy` lacks
//! `-security`). Example: `Debian-Security:bookworm-security`.
//!
//! Not modelled: `APT::Default-Release` (990), regular-expression pins (reported as a
//! problem and ignored), Ubuntu's phased updates, and `.xz`/`.zst` compressed lists
//! (reported as a problem).

use std::collections::{HashMap, HashSet};
use std::io::Read;

use rampart_core::package::{Package, PackageFormat};
use rampart_core::version::VersionKind;
use rampart_proto::{PendingUpdate, UpdateCategory};

use super::{Context, Problems, clip};

const LISTS: &str = "var/lib/apt/lists";

/// What a source's `Release` / `InRelease` file says about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseInfo {
    pub origin: String,
    pub label: String,
    pub suite: String,
    pub codename: String,
    pub version: String,
    pub not_automatic: bool,
    pub but_automatic_upgrades: bool,
}

impl ReleaseInfo {
    /// apt's default priority for the source when no pin names it.
    pub fn default_priority(&self) -> i32 {
        match (self.not_automatic, self.but_automatic_upgrades) {
            (true, true) => 100,
            (true, false) => 1,
            _ => 500,
        }
    }

    pub fn is_security(&self) -> bool {
        self.suite.ends_with("-security") || self.codename.ends_with("-security")
    }

    /// `Label:archive`, see the module comment.
    pub fn origin_name(&self) -> String {
        let suffix = |s: &str| s.rsplit_once('-').map(|(_, x)| x.to_owned());
        let archive = if !self.codename.is_empty() && suffix(&self.codename) == suffix(&self.suite)
        {
            &self.codename
        } else {
            &self.suite
        };
        let who = if self.label.is_empty() {
            &self.origin
        } else {
            &self.label
        };
        format!("{who}:{archive}")
    }
}

/// Parses a `Release` file, or an `InRelease` file (the same, clear-signed): the first
/// stanza's fields; the checksum lists and the signature are skipped.
pub fn parse_release(text: &str) -> ReleaseInfo {
    let mut info = ReleaseInfo::default();
    let mut lines = text.lines().peekable();
    if lines
        .peek()
        .is_some_and(|l| l.starts_with("-----BEGIN PGP SIGNED MESSAGE"))
    {
        // Armour headers (`Hash: SHA256`) end at the first blank line.
        for l in lines.by_ref() {
            if l.trim().is_empty() {
                break;
            }
        }
    }
    for line in lines {
        if line.is_empty() || line.starts_with("-----BEGIN PGP SIGNATURE") {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim().to_owned();
        match key {
            "Origin" => info.origin = value,
            "Label" => info.label = value,
            "Suite" => info.suite = value,
            "Codename" => info.codename = value,
            "Version" => info.version = value,
            "NotAutomatic" => info.not_automatic = value.eq_ignore_ascii_case("yes"),
            "ButAutomaticUpgrades" => {
                info.but_automatic_upgrades = value.eq_ignore_ascii_case("yes")
            }
            _ => {}
        }
    }
    info
}

/// One stanza of a `Packages` file, reduced to what policy needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Available {
    pub name: String,
    pub version: String,
    pub arch: String,
}

/// Parses a `Packages` file, keeping stanzas whose name `wanted` accepts (a host has
/// a few hundred packages installed; a Debian main list has tens of thousands).
/// Stanzas missing Package, Version or Architecture are counted as problems.
pub fn parse_packages(text: &str, wanted: impl Fn(&str) -> bool) -> (Vec<Available>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let (mut name, mut version, mut arch) = (None, None, None);
    let mut start_line = 1;
    let mut finish =
        |n: usize, name: &mut Option<&str>, version: &mut Option<&str>, arch: &mut Option<&str>| {
            match (name.take(), version.take(), arch.take()) {
                (None, None, None) => {}
                (Some(n), Some(v), Some(a)) => {
                    if wanted(n) {
                        out.push(Available {
                            name: n.to_owned(),
                            version: v.to_owned(),
                            arch: a.to_owned(),
                        });
                    }
                }
                (n_, _, _) => problems.push(format!(
                    "stanza at line {n} ({}) lacks Package, Version or Architecture",
                    clip(n_.unwrap_or("?"))
                )),
            }
        };
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            finish(start_line, &mut name, &mut version, &mut arch);
            start_line = i + 2;
            continue;
        }
        match line.as_bytes()[0] {
            b'P' => {
                if let Some(v) = line.strip_prefix("Package:") {
                    name = Some(v.trim());
                }
            }
            b'V' => {
                if let Some(v) = line.strip_prefix("Version:") {
                    version = Some(v.trim());
                }
            }
            b'A' => {
                if let Some(v) = line.strip_prefix("Architecture:") {
                    arch = Some(v.trim());
                }
            }
            _ => {}
        }
    }
    finish(start_line, &mut name, &mut version, &mut arch);
    (out, problems)
}

/// Which packages a pin applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinPackages {
    /// `Package: *`: changes the priority of whole sources.
    All,
    /// Names or globs: a package-specific pin.
    Names(Vec<String>),
}

/// What a pin selects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PinTarget {
    /// `release a=…, n=…, o=…, l=…, c=…, v=…`: every given key must match.
    Release(Vec<(char, String)>),
    /// `origin host`: sources downloaded from that host (`""` for local ones).
    Origin(String),
    /// `version 1.2*`.
    Version(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pin {
    pub packages: PinPackages,
    pub target: PinTarget,
    pub priority: i32,
}

/// Parses apt_preferences(5) text: stanzas of `Package`, `Pin`, `Pin-Priority`
/// (`Explanation` and comments ignored). Regular-expression pins and stanzas missing
/// a field become problems.
pub fn parse_preferences(text: &str) -> (Vec<Pin>, Vec<String>) {
    let mut pins = Vec::new();
    let mut problems = Vec::new();
    let mut line_problems = Vec::new();
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut start = 1;
    let mut finish = |start: usize, fields: &mut HashMap<String, String>| {
        if fields.is_empty() {
            return;
        }
        let f = std::mem::take(fields);
        let (Some(package), Some(pin), Some(priority)) =
            (f.get("package"), f.get("pin"), f.get("pin-priority"))
        else {
            if f.keys().any(|k| k != "explanation") {
                problems.push(format!(
                    "stanza at line {start}: needs Package, Pin and Pin-Priority"
                ));
            }
            return;
        };
        let Ok(priority) = priority.parse::<i32>() else {
            problems.push(format!(
                "stanza at line {start}: Pin-Priority {priority:?} is not a number"
            ));
            return;
        };
        let names: Vec<String> = package.split_whitespace().map(str::to_owned).collect();
        if names
            .iter()
            .any(|n| n.starts_with('/') || n.starts_with("src:"))
        {
            problems.push(format!(
                "stanza at line {start}: regular-expression and source pins are not evaluated; pin ignored"
            ));
            return;
        }
        let packages = if names.len() == 1 && names[0] == "*" {
            PinPackages::All
        } else {
            PinPackages::Names(names)
        };
        let (kind, arg) = pin.split_once(char::is_whitespace).unwrap_or((pin, ""));
        let arg = arg.trim();
        let target = match kind {
            "release" => {
                let mut keys = Vec::new();
                for part in arg.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    match part.split_once('=') {
                        Some((k, v)) if k.trim().len() == 1 => {
                            keys.push((k.trim().chars().next().unwrap_or('?'), v.trim().to_owned()))
                        }
                        Some(_) => {
                            problems.push(format!(
                                "stanza at line {start}: bad release pin {:?}",
                                clip(part)
                            ));
                            return;
                        }
                        None if part.starts_with(|c: char| c.is_ascii_digit()) => {
                            keys.push(('v', part.to_owned()))
                        }
                        None => keys.push(('a', part.to_owned())),
                    }
                }
                PinTarget::Release(keys)
            }
            "origin" => PinTarget::Origin(arg.trim_matches('"').to_owned()),
            "version" => PinTarget::Version(arg.to_owned()),
            other => {
                problems.push(format!(
                    "stanza at line {start}: unknown pin type {:?}",
                    clip(other)
                ));
                return;
            }
        };
        if let PinTarget::Release(keys) = &target
            && keys.iter().any(|(_, v)| v.starts_with('/'))
        {
            problems.push(format!(
                "stanza at line {start}: regular-expression pins are not evaluated; pin ignored"
            ));
            return;
        }
        pins.push(Pin {
            packages,
            target,
            priority,
        });
    };
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') {
            continue;
        }
        if trimmed.is_empty() {
            finish(start, &mut fields);
            start = i + 2;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) => {
                fields.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
            }
            None => line_problems.push(format!("line {}: not a field: {:?}", i + 1, clip(line))),
        }
    }
    finish(start, &mut fields);
    problems.extend(line_problems);
    (pins, problems)
}

/// A parsed `Packages` list: its stanzas and its problems.
type Parsed = (Vec<Available>, Vec<String>);

/// One `Packages` file and where it comes from.
#[derive(Clone, Debug, Default)]
pub struct Source {
    pub release: ReleaseInfo,
    /// Host part of the list's file name (`deb.debian.org`); empty for local files.
    pub host: String,
    /// Component from the file name (`main`).
    pub component: String,
}

impl Pin {
    fn applies_to(&self, name: &str) -> bool {
        match &self.packages {
            PinPackages::All => true,
            PinPackages::Names(names) => names.iter().any(|n| glob(n, name)),
        }
    }

    fn matches(&self, version: &str, source: Option<&Source>) -> bool {
        match (&self.target, source) {
            (PinTarget::Version(v), _) => glob(v, version),
            (PinTarget::Origin(host), Some(s)) => host == &s.host,
            (PinTarget::Release(keys), Some(s)) => keys.iter().all(|(k, v)| {
                let r = &s.release;
                let field = match k {
                    'a' => &r.suite,
                    'n' => &r.codename,
                    'o' => &r.origin,
                    'l' => &r.label,
                    'v' => &r.version,
                    'c' => &s.component,
                    _ => return false,
                };
                glob(v, field)
            }),
            (_, None) => false,
        }
    }
}

/// fnmatch-style `*` and `?` matching, as apt uses for pin values.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// One version of an installed package offered somewhere.
#[derive(Clone, Debug)]
struct Offer {
    version: String,
    arch: String,
    /// Indexes into the source list.
    sources: Vec<usize>,
}

/// Computes apt's pending upgrades for the installed `deb` packages.
pub fn pending(
    ctx: &Context,
    installed: &[Package],
    native_arch: Option<&str>,
    problems: &mut Problems<'_>,
) -> Vec<PendingUpdate> {
    let names = match ctx.root().list(LISTS) {
        Ok(Some(n)) => n,
        Ok(None) => {
            problems.push(format!(
                "no {LISTS}: apt-get update never ran here; updates unknown"
            ));
            return Vec::new();
        }
        Err(e) => {
            problems.push(format!("{LISTS}: {e}"));
            return Vec::new();
        }
    };
    let native = native_arch.unwrap_or("");
    let arch_key = |a: &str| {
        if a == "all" {
            native.to_owned()
        } else {
            a.to_owned()
        }
    };
    let debs: Vec<&Package> = installed
        .iter()
        .filter(|p| p.format == PackageFormat::Deb)
        .collect();
    let wanted: HashSet<&str> = debs.iter().map(|p| p.name.as_str()).collect();

    let releases: Vec<(String, ReleaseInfo)> = names
        .iter()
        .filter_map(|n| {
            let prefix = n
                .strip_suffix("InRelease")
                .or_else(|| n.strip_suffix("Release"))?;
            let (_, text) = ctx.read_text(&format!("{LISTS}/{n}")).ok()??;
            Some((prefix.to_owned(), parse_release(&text)))
        })
        .collect();
    let lists: Vec<&String> = names
        .iter()
        .filter(|n| list_compression(n).is_some())
        .collect();
    let sources: Vec<Source> = lists
        .iter()
        .map(|n| {
            let release = releases
                .iter()
                .filter(|(prefix, _)| n.starts_with(prefix.as_str()))
                .max_by_key(|(prefix, _)| prefix.len())
                .map(|(_, r)| r.clone());
            if release.is_none() {
                problems.push(format!(
                    "{LISTS}/{n}: no Release file; treated as priority 500"
                ));
            }
            Source {
                release: release.unwrap_or_default(),
                host: n.split('_').next().unwrap_or_default().to_owned(),
                component: n
                    .split_once("_binary-")
                    .and_then(|(head, _)| head.rsplit('_').next())
                    .unwrap_or_default()
                    .to_owned(),
            }
        })
        .collect();

    // Each list is read and parsed on its own thread: the lists are large and
    // independent, and the agent's inventory is on the path of every check-in.
    let parsed: Vec<Result<Parsed, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = lists
            .iter()
            .map(|n| {
                let wanted = &wanted;
                scope.spawn(move || {
                    let path = format!("{LISTS}/{n}");
                    let text = read_list(ctx, &path)?;
                    Ok(parse_packages(&text, |name| wanted.contains(name)))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("parser thread panicked".into()))
            })
            .collect()
    });

    let mut offers: HashMap<(String, String), Vec<Offer>> = HashMap::new();
    for (index, result) in parsed.into_iter().enumerate() {
        let (entries, bad) = match result {
            Ok(r) => r,
            Err(why) => {
                problems.push(why);
                continue;
            }
        };
        for b in bad {
            problems.push(format!("{LISTS}/{} {b}", lists[index]));
        }
        for e in entries {
            let list = offers.entry((e.name, arch_key(&e.arch))).or_default();
            match list.iter_mut().find(|o| o.version == e.version) {
                Some(o) => o.sources.push(index),
                None => list.push(Offer {
                    version: e.version,
                    arch: e.arch,
                    sources: vec![index],
                }),
            }
        }
    }

    let mut pins = Vec::new();
    for (file, text) in preference_files(ctx, problems) {
        let (p, bad) = parse_preferences(&text);
        for b in bad {
            problems.push(format!("{file} {b}"));
        }
        pins.extend(p);
    }

    let mut updates = Vec::new();
    for pkg in debs {
        let arch = pkg.arch.as_deref().unwrap_or(native);
        let Some(offered) = offers.get(&(pkg.name.clone(), arch_key(arch))) else {
            continue;
        };
        if let Some(c) = candidate(&pkg.name, pkg, offered, &sources, &pins)
            && c.version != pkg.version
        {
            let from: Vec<&Source> = c.sources.iter().map(|i| &sources[*i]).collect();
            let security = from.iter().find(|s| s.release.is_security());
            let shown = security.or(from.first()).map(|s| &s.release);
            updates.push(PendingUpdate {
                name: pkg.name.clone(),
                arch: Some(c.arch.clone()).filter(|a| !a.is_empty()),
                installed: pkg.version.clone(),
                candidate: c.version,
                origin: shown.map(ReleaseInfo::origin_name).unwrap_or_default(),
                category: if security.is_some() {
                    UpdateCategory::Security
                } else {
                    UpdateCategory::Other
                },
            });
        }
    }
    updates.sort_by(|a, b| (&a.name, &a.arch).cmp(&(&b.name, &b.arch)));
    updates
}

/// apt's candidate among `offered` for a package with `installed` installed (see the
/// module comment). `None` when nothing is installable.
fn candidate(
    name: &str,
    installed: &Package,
    offered: &[Offer],
    sources: &[Source],
    pins: &[Pin],
) -> Option<Offer> {
    let mut versions: Vec<Offer> = offered.to_vec();
    if !versions.iter().any(|o| o.version == installed.version) {
        // Installed but no longer offered anywhere: still a version apt walks past.
        versions.push(Offer {
            version: installed.version.clone(),
            arch: installed.arch.clone().unwrap_or_default(),
            sources: Vec::new(),
        });
    }
    versions.sort_by(|a, b| VersionKind::Deb.compare(&b.version, &a.version));
    let priorities: Vec<i32> = versions
        .iter()
        .map(|o| version_priority(name, o, o.version == installed.version, sources, pins))
        .collect();
    // apt_preferences(5): a priority of 1000 or more installs a version even when that
    // is a downgrade, so then the walk goes past the installed version.
    let downgrade = priorities.iter().any(|p| *p >= 1000);
    let mut best = None;
    let mut max = 0;
    for (offer, priority) in versions.into_iter().zip(priorities) {
        let is_installed = offer.version == installed.version;
        if priority > max {
            best = Some(offer);
            max = priority;
        }
        // Versions below the installed one are never candidates otherwise.
        if is_installed && !downgrade {
            break;
        }
    }
    best
}

fn version_priority(
    name: &str,
    offer: &Offer,
    is_installed: bool,
    sources: &[Source],
    pins: &[Pin],
) -> i32 {
    let specific = pins.iter().find(|p| {
        p.packages != PinPackages::All
            && p.applies_to(name)
            && offer
                .sources
                .iter()
                .any(|i| p.matches(&offer.version, Some(&sources[*i])))
    });
    if let Some(pin) = specific {
        return pin.priority;
    }
    let from_sources = offer.sources.iter().map(|i| {
        let source = &sources[*i];
        pins.iter()
            .find(|p| p.packages == PinPackages::All && p.matches(&offer.version, Some(source)))
            .map_or(source.release.default_priority(), |p| p.priority)
    });
    // The dpkg status file is a source of priority 100 for the installed version.
    from_sources
        .chain(is_installed.then_some(100))
        .max()
        .unwrap_or(0)
}

/// The compression of a `Packages` list from its name, `None` when it is not one.
fn list_compression(name: &str) -> Option<&str> {
    let (_, ext) = name.rsplit_once("_Packages")?;
    Some(ext)
}

/// Reads and decompresses one list.
fn read_list(ctx: &Context, path: &str) -> Result<String, String> {
    let bytes = match ctx.root().read(path) {
        Ok(Some((_, b))) => b,
        Ok(None) => return Err(format!("{path}: vanished while reading")),
        Err(e) => return Err(format!("{path}: {e}")),
    };
    let ext = list_compression(path).unwrap_or_default();
    let raw = match ext {
        "" => bytes,
        ".lz4" => decompress(lz4_flex::frame::FrameDecoder::new(&bytes[..]), path)?,
        ".gz" => decompress(flate2::read::GzDecoder::new(&bytes[..]), path)?,
        other => {
            return Err(format!(
                "{path}: {other} compressed lists are not read; updates from it are missing"
            ));
        }
    };
    String::from_utf8(raw).map_err(|_| format!("{path}: not UTF-8"))
}

fn decompress(mut reader: impl Read, path: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    reader
        .read_to_end(&mut out)
        .map_err(|e| format!("{path}: cannot decompress: {e}"))?;
    Ok(out)
}

/// `etc/apt/preferences` then `etc/apt/preferences.d/*` in name order, skipping names
/// apt skips (anything but letters, digits, `_`, `-`, `.`, or an extension other than
/// `.pref`).
fn preference_files(ctx: &Context, problems: &mut Problems<'_>) -> Vec<(String, String)> {
    let mut paths = vec!["etc/apt/preferences".to_owned()];
    if let Ok(Some(names)) = ctx.root().list("etc/apt/preferences.d") {
        for n in names {
            let valid = n
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
            let ext_ok = match n.rsplit_once('.') {
                None => true,
                Some((_, ext)) => ext == "pref",
            };
            if valid && ext_ok {
                paths.push(format!("etc/apt/preferences.d/{n}"));
            }
        }
    }
    let mut out = Vec::new();
    for p in paths {
        match ctx.read_text(&p) {
            Ok(Some((_, text))) => out.push((p, text)),
            Ok(None) => {}
            Err(e) => problems.push(format!("{p}: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests;
