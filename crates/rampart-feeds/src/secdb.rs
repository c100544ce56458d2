//! Alpine's native security database (`secdb`): one YAML file per branch and repository
//! (`v3.19/main.yaml`), listing for each origin package the versions that fixed which
//! ids. Alpine publishes it before, and more completely than, its OSV export.
//!
//! Each id becomes advisory `ALPINE-<id>` (alias `<id>`) with, per branch and package, a
//! range from `0` to the fixed version. A fixed version of `0` means the branch was never
//! affected, so it yields no range. Ids are grouped across every file of a load by
//! [`advisories`], because the matcher replaces a record's entries for each release it
//! covers: one advisory must carry all of its (release, package) pairs.
//!
//! The files are hand-maintained, so entries carry comments (`CVE-2018-16301 (was fixed
//! in libpcap)`), several ids (`CVE-2016-9815 XSA-201`, read as an id and its alias) or
//! placeholders (`CVE-????-?????`); comments are dropped, placeholders become problems.

use std::collections::HashMap;
use std::fmt;

use rampart_core::advisory::{Advisory, Affected, Event, Range, RangeKind};
use rampart_core::distro::{Distro, Release};
use rampart_core::version::{VersionKind, apk};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::feed::Problem;

/// One secdb file, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecdbFile {
    pub release: Release,
    /// The OSV spelling of the branch (`Alpine:v3.10`), for explanations.
    pub ecosystem: String,
    /// `main`, `community`, … when the file says.
    pub repo: Option<String>,
    /// Package entries in the file, with or without fixes.
    pub packages: usize,
    pub entries: Vec<SecdbEntry>,
    /// Odd tokens, bad versions, malformed package entries.
    pub problems: Vec<Problem>,
    /// Ids left out because their fixed version is not a valid apk version.
    pub dropped: u64,
}

/// "`package` fixed `id` in `fixed`" (`fixed == "0"`: never affected in this branch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecdbEntry {
    pub id: String,
    /// Further ids written on the same line (`XSA-204` beside its CVE).
    pub aliases: Vec<String>,
    pub package: String,
    pub fixed: String,
}

/// Parses one secdb YAML document. `location` names the file in problems. An error means
/// the file as a whole is unusable (not YAML, no branch); anything smaller is a problem
/// inside the returned file.
pub fn parse(text: &str, location: &str) -> Result<SecdbFile, Problem> {
    let raw: RawDb = serde_yaml_ng::from_str(text)
        .map_err(|e| Problem::new(location, format!("not a valid Alpine secdb file: {e}")))?;
    let branch = match raw.distroversion.0 {
        Scalar::Text(v) => v,
        _ => {
            return Err(Problem::new(
                location,
                "Alpine secdb file has no `distroversion` (such as v3.19)",
            ));
        }
    };
    let branch = branch.trim();
    let release = Release::from_osv_ecosystem(&format!("Alpine:{branch}"))
        .filter(|r| r.distro == Distro::Alpine && r.version.contains('.'))
        .ok_or_else(|| {
            Problem::new(
                location,
                format!("`distroversion` {branch:?} is not an Alpine branch (such as v3.19)"),
            )
        })?;
    let Some(packages) = raw.packages.0 else {
        return Err(Problem::new(
            location,
            "Alpine secdb file has no `packages` list",
        ));
    };
    let ecosystem = format!("Alpine:v{}", release.version);
    let repo = match raw.reponame.0 {
        Scalar::Text(r) => Some(r),
        _ => None,
    };
    let mut file = SecdbFile {
        release,
        ecosystem,
        repo,
        packages: packages.len(),
        entries: Vec::new(),
        problems: Vec::new(),
        dropped: 0,
    };
    for (index, entry) in packages.into_iter().enumerate() {
        read_package(&mut file, entry, index, location);
    }
    Ok(file)
}

fn read_package(file: &mut SecdbFile, entry: PkgEntry, index: usize, location: &str) {
    let mut problem = |reason: String| file.problems.push(Problem::new(location, reason));
    let Some(pkg) = entry.0 else {
        problem(format!("packages[{index}] has no `pkg` mapping; skipped"));
        return;
    };
    let name = match pkg.name {
        Scalar::Text(n) if !n.trim().is_empty() && n.len() <= 1024 => n.trim().to_owned(),
        _ => {
            problem(format!("packages[{index}] has no usable `name`; skipped"));
            return;
        }
    };
    let fixes = match pkg.secfixes {
        Secfixes::Fixes(fixes) => fixes,
        Secfixes::Odd => {
            problem(format!(
                "{name}: `secfixes` is not a mapping of version to ids; skipped"
            ));
            return;
        }
    };
    for (version, ids) in fixes {
        let version = version.trim();
        let ids = match ids {
            IdList::Ids(ids) => ids,
            IdList::Odd => {
                problem(format!("{name} {version}: ids are not a list; skipped"));
                continue;
            }
        };
        if version != "0" {
            let refused = match VersionKind::Apk.validate(version) {
                Err(e) => Some(e.to_string()),
                Ok(()) if version.len() > 1024 => Some(format!("{} bytes long", version.len())),
                Ok(()) => None,
            };
            if let Some(reason) = refused {
                problem(format!(
                    "{name}: fixed version {version:?} refused ({reason}); its {} ids skipped",
                    ids.len()
                ));
                file.dropped += ids.len() as u64;
                continue;
            }
            if !apk::is_well_formed(version) {
                // Kept: apk compares it anyway, and dropping it would lose the fix.
                problem(format!(
                    "{name}: fixed version {version:?} is not well-formed for apk-tools; kept as written"
                ));
            }
        }
        for item in ids {
            let text = match item {
                Scalar::Text(t) => t,
                Scalar::Null => {
                    problem(format!("{name} {version}: empty id"));
                    continue;
                }
                Scalar::Odd => {
                    problem(format!(
                        "{name} {version}: an id is a list or mapping, not text"
                    ));
                    continue;
                }
            };
            let (ids, odd) = split_ids(&text);
            for token in odd {
                problem(format!(
                    "{name} {version}: {token:?} is not an advisory id; ignored"
                ));
            }
            let mut ids = ids.into_iter();
            let Some(id) = ids.next() else {
                if text.trim().is_empty() {
                    problem(format!("{name} {version}: empty id"));
                }
                continue;
            };
            file.entries.push(SecdbEntry {
                id: id.to_owned(),
                aliases: ids.map(str::to_owned).collect(),
                package: name.clone(),
                fixed: version.to_owned(),
            });
        }
    }
}

/// Splits an id line into identifiers and odd tokens, dropping `(comments)`.
fn split_ids(text: &str) -> (Vec<&str>, Vec<&str>) {
    let mut ids = Vec::new();
    let mut odd = Vec::new();
    let mut depth = 0usize;
    let mut start = None;
    let mut flush = |from: Option<usize>, to: usize| {
        if let Some(from) = from {
            let token = &text[from..to];
            if looks_like_id(token) {
                ids.push(token)
            } else {
                odd.push(token)
            }
        }
    };
    for (i, c) in text.char_indices() {
        match c {
            '(' => {
                flush(start.take(), i);
                depth += 1;
            }
            ')' if depth > 0 => depth -= 1,
            c if c.is_whitespace() => flush(start.take(), i),
            _ if depth == 0 && start.is_none() => start = Some(i),
            _ => {}
        }
    }
    flush(start, text.len());
    (ids, odd)
}

/// `CVE-2019-10206`, `XSA-204`, `TALOS-2017-0488`, `GHSA-xxxx-…`: an upper-case prefix,
/// a dash, and a tail with a digit and nothing that could be a placeholder.
fn looks_like_id(token: &str) -> bool {
    let Some((prefix, tail)) = token.split_once('-') else {
        return false;
    };
    (3..=64).contains(&token.len())
        && prefix.starts_with(|c: char| c.is_ascii_uppercase())
        && prefix
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && !tail.is_empty()
        && tail.chars().any(|c| c.is_ascii_digit())
        && tail
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

/// Groups the entries of every file by id into advisories, in first-seen order. For an
/// id listed under two fixed versions of one package in one branch, the higher version
/// is kept: a second listing means the first fix was incomplete.
pub fn advisories(files: &[SecdbFile]) -> Vec<Advisory> {
    let mut slots: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<Advisory> = Vec::new();
    for file in files {
        for e in &file.entries {
            let slot = *slots.entry(e.id.as_str()).or_insert_with(|| {
                out.push(Advisory {
                    id: format!("ALPINE-{}", e.id),
                    aliases: vec![e.id.clone()],
                    ..Advisory::default()
                });
                out.len() - 1
            });
            let advisory = &mut out[slot];
            for alias in &e.aliases {
                if !advisory.aliases.contains(alias) {
                    advisory.aliases.push(alias.clone());
                }
            }
            if e.fixed == "0" {
                continue;
            }
            let existing = advisory
                .affected
                .iter_mut()
                .find(|a| a.package == e.package && a.release.as_ref() == Some(&file.release));
            match existing {
                Some(a) => {
                    if let Some(Event::Fixed(v)) =
                        a.ranges.first_mut().and_then(|r| r.events.last_mut())
                        && VersionKind::Apk.compare(&e.fixed, v).is_gt()
                    {
                        v.clone_from(&e.fixed);
                    }
                }
                None => advisory.affected.push(Affected {
                    ecosystem: file.ecosystem.clone(),
                    release: Some(file.release.clone()),
                    package: e.package.clone(),
                    ranges: vec![Range {
                        kind: RangeKind::Ecosystem,
                        events: vec![
                            Event::Introduced("0".to_owned()),
                            Event::Fixed(e.fixed.clone()),
                        ],
                    }],
                    versions: Vec::new(),
                    severity: None,
                }),
            }
        }
    }
    out
}

/// Whether `text` looks like a secdb document, for sniffing a download or a file of
/// unknown extension.
pub(crate) fn looks_like_secdb(text: &str) -> bool {
    text.lines().take(64).any(|l| {
        l.starts_with("distroversion:") || l.starts_with("packages:") || l.starts_with("reponame:")
    })
}

// ---------------------------------------------------------------------------------------
// The wire shape. Every node is read with a visitor that accepts any YAML shape, so a
// malformed package costs that package only. Versions that key `secfixes` are read as
// their raw text: `1.10` must not become the float 1.1.

#[derive(Deserialize)]
struct RawDb {
    #[serde(default)]
    distroversion: AnyScalar,
    #[serde(default)]
    reponame: AnyScalar,
    #[serde(default)]
    packages: Packages,
}

#[derive(Default)]
enum Scalar {
    Text(String),
    #[default]
    Null,
    /// A list or mapping where text was expected.
    Odd,
}

#[derive(Default)]
struct AnyScalar(Scalar);

impl<'de> Deserialize<'de> for AnyScalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor).map(AnyScalar)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_string()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Odd)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Odd)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Scalar, A::Error> {
        // A tagged node (`!foo bar`): read what is under the tag, keep nothing.
        let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
        de::VariantAccess::newtype_variant::<IgnoredAny>(variant)?;
        Ok(Scalar::Odd)
    }
}

/// Implements the "anything else is odd" half of a visitor whose good shape is a map
/// (or, with `seq`, a list): every other node is consumed and reported as `$odd`.
macro_rules! tolerate_scalars {
    ($value:ty, $odd:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$value, E> {
            Ok($odd)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$value, E> {
            Ok($odd)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$value, E> {
            Ok($odd)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$value, E> {
            Ok($odd)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$value, E> {
            Ok($odd)
        }
        fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<$value, A::Error> {
            let (IgnoredAny, variant) = data.variant::<IgnoredAny>()?;
            de::VariantAccess::newtype_variant::<IgnoredAny>(variant)?;
            Ok($odd)
        }
    };
}

/// `packages:`, `None` when it is not a list.
#[derive(Default)]
struct Packages(Option<Vec<PkgEntry>>);

impl<'de> Deserialize<'de> for Packages {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PackagesVisitor)
    }
}

struct PackagesVisitor;

impl<'de> Visitor<'de> for PackagesVisitor {
    type Value = Packages;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of packages")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Packages, A::Error> {
        let mut out = Vec::new();
        while let Some(p) = seq.next_element::<PkgEntry>()? {
            out.push(p);
        }
        Ok(Packages(Some(out)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Packages, E> {
        Ok(Packages(Some(Vec::new())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Packages, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Packages(None))
    }

    tolerate_scalars!(Packages, Packages(None));
}

/// `- pkg: {…}`, `None` when the entry has no `pkg` mapping.
struct PkgEntry(Option<Pkg>);

impl<'de> Deserialize<'de> for PkgEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PkgEntryVisitor)
    }
}

struct PkgEntryVisitor;

impl<'de> Visitor<'de> for PkgEntryVisitor {
    type Value = PkgEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a package entry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PkgEntry, A::Error> {
        let mut pkg = None;
        while let Some(AnyScalar(key)) = map.next_key::<AnyScalar>()? {
            match key {
                Scalar::Text(k) if k == "pkg" => pkg = map.next_value::<MaybePkg>()?.0,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(PkgEntry(pkg))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PkgEntry, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(PkgEntry(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<PkgEntry, E> {
        Ok(PkgEntry(None))
    }

    tolerate_scalars!(PkgEntry, PkgEntry(None));
}

struct Pkg {
    name: Scalar,
    secfixes: Secfixes,
}

struct MaybePkg(Option<Pkg>);

impl<'de> Deserialize<'de> for MaybePkg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(PkgVisitor)
    }
}

struct PkgVisitor;

impl<'de> Visitor<'de> for PkgVisitor {
    type Value = MaybePkg;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a package mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MaybePkg, A::Error> {
        let mut pkg = Pkg {
            name: Scalar::Null,
            secfixes: Secfixes::Fixes(Vec::new()),
        };
        while let Some(AnyScalar(key)) = map.next_key::<AnyScalar>()? {
            match key {
                Scalar::Text(k) if k == "name" => pkg.name = map.next_value::<AnyScalar>()?.0,
                Scalar::Text(k) if k == "secfixes" => {
                    pkg.secfixes = map.next_value::<Secfixes>()?
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(MaybePkg(Some(pkg)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<MaybePkg, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(MaybePkg(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<MaybePkg, E> {
        Ok(MaybePkg(None))
    }

    tolerate_scalars!(MaybePkg, MaybePkg(None));
}

/// `secfixes:` as (raw version text, ids) pairs in file order, duplicates kept.
enum Secfixes {
    Fixes(Vec<(String, IdList)>),
    Odd,
}

impl<'de> Deserialize<'de> for Secfixes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecfixesVisitor)
    }
}

struct SecfixesVisitor;

impl<'de> Visitor<'de> for SecfixesVisitor {
    type Value = Secfixes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping of fixed version to ids")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secfixes, A::Error> {
        let mut out = Vec::new();
        while let Some(version) = map.next_key_seed(RawText)? {
            out.push((version, map.next_value::<IdList>()?));
        }
        Ok(Secfixes::Fixes(out))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Secfixes, E> {
        Ok(Secfixes::Fixes(Vec::new()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Secfixes, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Secfixes::Odd)
    }

    tolerate_scalars!(Secfixes, Secfixes::Odd);
}

/// A scalar read as the text written in the file (`1.10` stays `1.10`).
struct RawText;

impl<'de> DeserializeSeed<'de> for RawText {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(RawTextVisitor)
    }
}

struct RawTextVisitor;

impl<'de> Visitor<'de> for RawTextVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a version")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Ok(String::new())
    }
}

/// The ids under one fixed version.
enum IdList {
    Ids(Vec<Scalar>),
    Odd,
}

impl<'de> Deserialize<'de> for IdList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdListVisitor)
    }
}

struct IdListVisitor;

impl<'de> Visitor<'de> for IdListVisitor {
    type Value = IdList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of ids")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdList, A::Error> {
        let mut out = Vec::new();
        while let Some(AnyScalar(s)) = seq.next_element::<AnyScalar>()? {
            out.push(s);
        }
        Ok(IdList::Ids(out))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<IdList, E> {
        Ok(IdList::Ids(vec![Scalar::Text(v.to_owned())]))
    }

    fn visit_unit<E: de::Error>(self) -> Result<IdList, E> {
        Ok(IdList::Ids(Vec::new()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<IdList, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(IdList::Odd)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<IdList, E> {
        Ok(IdList::Odd)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<IdList, E> {
        Ok(IdList::Odd)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<IdList, E> {
        Ok(IdList::Odd)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<IdList, E> {
        Ok(IdList::Odd)
    }
}

#[cfg(test)]
mod tests;
