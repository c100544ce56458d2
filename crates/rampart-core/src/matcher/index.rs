//! The advisory index: affected entries keyed by (release, package name), with OSV
//! ranges compiled into sorted intervals in the release's version ordering.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{Finding, MatchReason};
use crate::advisory::{Advisory, Affected, Event, RangeKind};
use crate::distro::Release;
use crate::package::Package;
use crate::version::VersionKind;

/// Position of an advisory in its index; stable for the life of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AdvisoryId(pub u32);

/// What a change to the index touches: everything installed under this name on this
/// release needs re-evaluating.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexKey {
    pub release: Release,
    pub package: String,
}

/// One affected entry that matched one version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub advisory: AdvisoryId,
    /// Index into the advisory's `affected`.
    pub affected: u32,
    pub reason: MatchReason,
    pub fixed: Option<String>,
}

#[derive(Clone, Debug)]
enum Upper {
    Fixed(String),
    LastAffected(String),
    Open,
}

#[derive(Clone, Debug)]
struct Interval {
    /// `None` = from the first version (`introduced: "0"`).
    lower: Option<String>,
    upper: Upper,
}

#[derive(Clone, Debug)]
struct CompiledRange {
    kind: RangeKind,
    ordering: VersionKind,
    intervals: Vec<Interval>,
    limits: Vec<String>,
}

#[derive(Clone, Debug)]
struct Entry {
    kind: VersionKind,
    advisory: u32,
    affected: u32,
    listed: Vec<String>,
    ranges: Vec<CompiledRange>,
}

/// All advisories Rampart knows, ready for lookups.
#[derive(Debug, Default)]
pub struct AdvisoryIndex {
    advisories: Vec<Advisory>,
    by_id: HashMap<String, u32>,
    by_release: HashMap<Release, HashMap<String, Vec<Entry>>>,
    generation: u64,
}

impl AdvisoryIndex {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds an index from a feed; records sharing an id are merged as [`insert`] does.
    ///
    /// [`insert`]: AdvisoryIndex::insert
    pub fn from_advisories(advisories: impl IntoIterator<Item = Advisory>) -> Self {
        let mut index = Self::new();
        index.extend(advisories);
        index
    }

    /// Adds many records at once, as [`insert`](AdvisoryIndex::insert) does, without
    /// reporting what changed: for loading a whole feed before anything is evaluated.
    pub fn extend(&mut self, advisories: impl IntoIterator<Item = Advisory>) {
        for a in advisories {
            self.insert_tracked(a, None);
        }
    }

    /// Number of advisory records (withdrawn ones included).
    pub fn len(&self) -> usize {
        self.advisories.len()
    }

    pub fn is_empty(&self) -> bool {
        self.advisories.is_empty()
    }

    /// Bumped by every change; caches keyed by it know when they are stale.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn advisory(&self, id: AdvisoryId) -> &Advisory {
        &self.advisories[id.0 as usize]
    }

    pub fn get(&self, id: &str) -> Option<&Advisory> {
        self.by_id.get(id).map(|&i| &self.advisories[i as usize])
    }

    /// Adds or updates a record and returns the keys whose results may have changed.
    ///
    /// A record whose id is already known replaces the old record's affected entries for
    /// the (release, package) pairs it names and keeps the others: distribution feeds
    /// publish one file per release and repository (Alpine's secdb has `v3.19/main` and
    /// `v3.19/community`, each naming the same CVE for different packages), so a record
    /// seen in several files is the union of all. A withdrawn record stays visible but
    /// matches nothing.
    pub fn insert(&mut self, advisory: Advisory) -> Vec<IndexKey> {
        let mut touched = HashSet::new();
        self.insert_tracked(advisory, Some(&mut touched));
        let mut touched: Vec<IndexKey> = touched.into_iter().collect();
        touched.sort();
        touched
    }

    fn insert_tracked(&mut self, advisory: Advisory, mut touched: Option<&mut HashSet<IndexKey>>) {
        self.generation += 1;
        let slot = match self.by_id.get(&advisory.id) {
            Some(&slot) => {
                let old = std::mem::take(&mut self.advisories[slot as usize]);
                self.unindex(slot, &old, touched.as_deref_mut());
                self.advisories[slot as usize] = merge(old, advisory);
                slot
            }
            None => {
                let slot =
                    u32::try_from(self.advisories.len()).expect("fewer than 2^32 advisories");
                self.by_id.insert(advisory.id.clone(), slot);
                self.advisories.push(advisory);
                slot
            }
        };
        self.index(slot, touched);
    }

    fn unindex(&mut self, slot: u32, old: &Advisory, mut touched: Option<&mut HashSet<IndexKey>>) {
        for a in &old.affected {
            let Some(release) = &a.release else { continue };
            if let Some(entries) = self
                .by_release
                .get_mut(release)
                .and_then(|m| m.get_mut(&a.package))
            {
                entries.retain(|e| e.advisory != slot);
            }
            if let Some(t) = touched.as_deref_mut() {
                t.insert(IndexKey {
                    release: release.clone(),
                    package: a.package.clone(),
                });
            }
        }
    }

    fn index(&mut self, slot: u32, mut touched: Option<&mut HashSet<IndexKey>>) {
        let advisory = &self.advisories[slot as usize];
        if advisory.withdrawn.is_some() {
            return;
        }
        for (i, a) in advisory.affected.iter().enumerate() {
            let Some(release) = &a.release else { continue };
            let entry = compile(slot, i as u32, release.distro.version_kind(), a);
            // Look up before inserting: cloning the keys for every entry of a 100,000
            // record feed costs more than the lookups.
            if !self.by_release.contains_key(release) {
                self.by_release.insert(release.clone(), HashMap::new());
            }
            let by_package = self.by_release.get_mut(release).expect("inserted above");
            match by_package.get_mut(&a.package) {
                Some(entries) => entries.push(entry),
                None => {
                    by_package.insert(a.package.clone(), vec![entry]);
                }
            }
            if let Some(t) = touched.as_deref_mut() {
                t.insert(IndexKey {
                    release: release.clone(),
                    package: a.package.clone(),
                });
            }
        }
    }

    /// Every affected entry for `name` on `release` that `version` falls in.
    pub fn evaluate(&self, release: &Release, name: &str, version: &str) -> Vec<Hit> {
        let Some(entries) = self.by_release.get(release).and_then(|m| m.get(name)) else {
            return Vec::new();
        };
        entries.iter().filter_map(|e| e.matches(version)).collect()
    }

    /// Whether any advisory names `name` on `release` (cheap pre-check for caches).
    pub fn has_entries(&self, release: &Release, name: &str) -> bool {
        self.by_release
            .get(release)
            .is_some_and(|m| m.contains_key(name))
    }

    /// Turns a hit on `package` into an explained finding.
    pub fn finding(&self, hit: &Hit, package: &Package) -> Finding {
        let advisory = self.advisory(hit.advisory);
        let affected: &Affected = &advisory.affected[hit.affected as usize];
        let compared_version =
            if affected.package == package.name && affected.package != package.source() {
                package.version.clone()
            } else if affected
                .release
                .as_ref()
                .is_some_and(|r| r.distro.advisories_name_sources())
            {
                package.source_version().to_owned()
            } else {
                package.version.clone()
            };
        Finding {
            advisory: advisory.id.clone(),
            aliases: advisory.aliases.clone(),
            package: package.name.clone(),
            source: package.source().to_owned(),
            installed: package.version.clone(),
            compared_version,
            advisory_package: affected.package.clone(),
            fixed: hit.fixed.clone(),
            severity: affected
                .severity
                .clone()
                .unwrap_or_else(|| advisory.severity.clone()),
            ecosystem: affected.ecosystem.clone(),
            reason: hit.reason.clone(),
        }
    }
}

/// The (name, version) pairs under which advisories may list `package` on `release`.
pub(crate) fn lookup_names<'p>(
    release: &Release,
    package: &'p Package,
) -> impl Iterator<Item = (&'p str, &'p str)> {
    let (first, second) = if release.distro.advisories_name_sources() {
        ((package.source(), package.source_version()), None)
    } else {
        let by_source = package
            .source_name
            .as_deref()
            .filter(|s| *s != package.name);
        (
            (package.name.as_str(), package.version.as_str()),
            by_source.map(|s| (s, package.version.as_str())),
        )
    };
    std::iter::once(first).chain(second)
}

/// Keeps `old`'s entries for (release, package) pairs `new` does not mention, then takes
/// all of `new`.
fn merge(old: Advisory, mut new: Advisory) -> Advisory {
    let covered: HashSet<(&Option<Release>, &str)> = new
        .affected
        .iter()
        .map(|a| (&a.release, a.package.as_str()))
        .collect();
    let kept: Vec<Affected> = old
        .affected
        .into_iter()
        .filter(|a| !covered.contains(&(&a.release, a.package.as_str())))
        .collect();
    new.affected.splice(0..0, kept);
    new
}

fn compile(advisory: u32, affected: u32, kind: VersionKind, a: &Affected) -> Entry {
    let ranges = a
        .ranges
        .iter()
        .map(|r| {
            let ordering = match r.kind {
                RangeKind::Ecosystem => kind,
                RangeKind::Semver => VersionKind::Semver,
            };
            let mut events: Vec<&Event> = r.events.iter().collect();
            events.sort_by(|x, y| event_order(ordering, x, y));
            let mut intervals = Vec::new();
            let mut limits = Vec::new();
            let mut open: Option<Option<String>> = None;
            for e in events {
                match e {
                    Event::Introduced(v) if open.is_none() => {
                        open = Some((v != "0").then(|| v.clone()));
                    }
                    Event::Fixed(v) => {
                        if let Some(lower) = open.take() {
                            intervals.push(Interval {
                                lower,
                                upper: Upper::Fixed(v.clone()),
                            });
                        }
                    }
                    Event::LastAffected(v) => {
                        if let Some(lower) = open.take() {
                            intervals.push(Interval {
                                lower,
                                upper: Upper::LastAffected(v.clone()),
                            });
                        }
                    }
                    Event::Limit(v) if v != "*" => limits.push(v.clone()),
                    _ => {}
                }
            }
            if let Some(lower) = open {
                intervals.push(Interval {
                    lower,
                    upper: Upper::Open,
                });
            }
            CompiledRange {
                kind: r.kind,
                ordering,
                intervals,
                limits,
            }
        })
        .collect();
    Entry {
        kind,
        advisory,
        affected,
        listed: a.versions.clone(),
        ranges,
    }
}

/// Events in version order; `introduced: "0"` first; at equal versions an introduction
/// comes before the event that closes it, so `[v, v)` stays empty.
fn event_order(kind: VersionKind, a: &Event, b: &Event) -> Ordering {
    let zero = |e: &Event| matches!(e, Event::Introduced(v) if v == "0");
    match (zero(a), zero(b)) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        _ => {}
    }
    let rank = |e: &Event| match e {
        Event::Introduced(_) => 0,
        Event::LastAffected(_) => 1,
        Event::Fixed(_) => 2,
        Event::Limit(_) => 3,
    };
    kind.compare(a.version(), b.version())
        .then(rank(a).cmp(&rank(b)))
}

impl Entry {
    fn matches(&self, version: &str) -> Option<Hit> {
        for range in &self.ranges {
            let k = range.ordering;
            if range
                .limits
                .iter()
                .any(|l| k.compare(version, l) != Ordering::Less)
            {
                continue;
            }
            for iv in &range.intervals {
                let above_lower = iv
                    .lower
                    .as_deref()
                    .is_none_or(|lo| k.compare(version, lo) != Ordering::Less);
                let below_upper = match &iv.upper {
                    Upper::Fixed(f) => k.compare(version, f) == Ordering::Less,
                    Upper::LastAffected(l) => k.compare(version, l) != Ordering::Greater,
                    Upper::Open => true,
                };
                if above_lower && below_upper {
                    let (fixed, last_affected) = match &iv.upper {
                        Upper::Fixed(f) => (Some(f.clone()), None),
                        Upper::LastAffected(l) => (None, Some(l.clone())),
                        Upper::Open => (None, None),
                    };
                    return Some(self.hit(
                        MatchReason::Range {
                            kind: range.kind,
                            introduced: iv.lower.clone(),
                            fixed: fixed.clone(),
                            last_affected,
                        },
                        fixed,
                    ));
                }
            }
        }
        let listed = self
            .listed
            .iter()
            .any(|v| self.kind.compare(v, version) == Ordering::Equal);
        listed.then(|| self.hit(MatchReason::Listed, self.next_fix(version)))
    }

    /// The lowest fixed version above `version`, for a version listed explicitly.
    fn next_fix(&self, version: &str) -> Option<String> {
        self.ranges
            .iter()
            .flat_map(|r| r.intervals.iter().map(move |iv| (r.ordering, iv)))
            .filter_map(|(k, iv)| match &iv.upper {
                Upper::Fixed(f) if k.compare(version, f) == Ordering::Less => Some((k, f)),
                _ => None,
            })
            .min_by(|(k, a), (_, b)| k.compare(a, b))
            .map(|(_, f)| f.clone())
    }

    fn hit(&self, reason: MatchReason, fixed: Option<String>) -> Hit {
        Hit {
            advisory: AdvisoryId(self.advisory),
            affected: self.affected,
            reason,
            fixed,
        }
    }
}
