//! Fleet-wide matching with a cache: each distinct (release, package) is evaluated once,
//! hosts built from one image share one package set, and a change to the advisory index
//! re-evaluates only the packages it touches and moves the per-set counts by the
//! difference.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::index::{AdvisoryIndex, Hit, IndexKey, lookup_names};
use super::{Finding, sort_and_dedup};
use crate::distro::Release;
use crate::package::Package;
use crate::severity::SeverityLevel;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SetId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostId(pub u32);

/// Findings counted by severity level (indexed by `SeverityLevel as usize`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts(pub [u32; 5]);

impl Counts {
    pub fn get(&self, level: SeverityLevel) -> u32 {
        self.0[level as usize]
    }

    pub fn total(&self) -> u32 {
        self.0.iter().sum()
    }

    /// The worst level with at least one finding.
    pub fn worst(&self) -> Option<SeverityLevel> {
        SeverityLevel::ALL.into_iter().find(|l| self.get(*l) > 0)
    }

    fn add(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    fn sub(&mut self, other: &Counts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a -= b;
        }
    }
}

/// What an evaluation did, for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EstateStats {
    pub hosts: usize,
    pub package_sets: usize,
    pub distinct_packages: usize,
    /// Distinct (release, name, version) lookups evaluated by this call.
    pub lookups_evaluated: usize,
    pub vulnerable_hosts: usize,
    pub findings: u64,
}

const NO_KEY: u32 = u32::MAX;

struct StoredPackage {
    package: Package,
    keys: [u32; 2],
    /// Interned (name, version): architectures of one package share it.
    name_version: u32,
}

struct LookupKey {
    release: u32,
    name: String,
    version: String,
}

struct PackageSet {
    /// Every package, for findings.
    packages: Vec<u32>,
    /// One package per (name, version): several architectures of one package are one
    /// finding, as in [`super::match_host`].
    counted: Vec<u32>,
}

/// The matcher's view of a fleet.
#[derive(Default)]
pub struct Estate {
    releases: Vec<Release>,
    release_ids: HashMap<Release, u32>,
    packages: Vec<StoredPackage>,
    /// Hash of (release, package) → candidates; hashing borrowed values keeps interning
    /// allocation-free for the millions of package references a fleet has.
    package_ids: HashMap<u64, Vec<u32>>,
    package_release: Vec<u32>,
    name_versions: HashMap<u64, Vec<(u32, u32)>>,
    name_version_count: u32,
    keys: Vec<LookupKey>,
    key_ids: HashMap<u64, Vec<u32>>,
    keys_by_name: HashMap<(u32, String), Vec<u32>>,
    key_hits: Vec<Vec<Hit>>,
    key_evaluated: Vec<bool>,
    package_counts: Vec<Counts>,
    sets: Vec<PackageSet>,
    set_ids: HashMap<(u32, Vec<u32>), u32>,
    set_counts: Vec<Counts>,
    sets_of_package: Vec<Vec<u32>>,
    hosts: Vec<u32>,
    hosts_of_set: Vec<Vec<u32>>,
}

impl Estate {
    pub fn new() -> Self {
        Self::default()
    }

    fn release_id(&mut self, release: &Release) -> u32 {
        if let Some(&id) = self.release_ids.get(release) {
            return id;
        }
        let id = self.releases.len() as u32;
        self.releases.push(release.clone());
        self.release_ids.insert(release.clone(), id);
        id
    }

    fn key_id(&mut self, release: u32, name: &str, version: &str) -> u32 {
        let h = hash_of(&(release, name, version));
        let found = self.key_ids.get(&h).and_then(|ids| {
            ids.iter().copied().find(|&id| {
                let k = &self.keys[id as usize];
                k.release == release && k.name == name && k.version == version
            })
        });
        if let Some(id) = found {
            return id;
        }
        let id = self.keys.len() as u32;
        self.keys.push(LookupKey {
            release,
            name: name.to_owned(),
            version: version.to_owned(),
        });
        self.keys_by_name
            .entry((release, name.to_owned()))
            .or_default()
            .push(id);
        self.key_ids.entry(h).or_default().push(id);
        self.key_hits.push(Vec::new());
        self.key_evaluated.push(false);
        id
    }

    fn package_id(&mut self, release: u32, package: &Package) -> u32 {
        let h = hash_of(&(release, package));
        let found = self.package_ids.get(&h).and_then(|ids| {
            ids.iter().copied().find(|&id| {
                self.package_release[id as usize] == release
                    && self.packages[id as usize].package == *package
            })
        });
        if let Some(id) = found {
            return id;
        }
        let rel = self.releases[release as usize].clone();
        let mut keys = [NO_KEY; 2];
        for (slot, (name, version)) in lookup_names(&rel, package).enumerate() {
            keys[slot] = self.key_id(release, name, version);
        }
        let id = self.packages.len() as u32;
        let name_version = self.name_version_id(package, id);
        self.packages.push(StoredPackage {
            package: package.clone(),
            keys,
            name_version,
        });
        self.package_release.push(release);
        self.package_ids.entry(h).or_default().push(id);
        self.package_counts.push(Counts::default());
        self.sets_of_package.push(Vec::new());
        id
    }

    fn name_version_id(&mut self, package: &Package, new_package: u32) -> u32 {
        let h = hash_of(&(&package.name, &package.version));
        let candidates = self.name_versions.entry(h).or_default();
        for &(nv, example) in candidates.iter() {
            let p = &self.packages[example as usize].package;
            if p.name == package.name && p.version == package.version {
                return nv;
            }
        }
        let nv = self.name_version_count;
        self.name_version_count += 1;
        candidates.push((nv, new_package));
        nv
    }

    /// Interns one host's inventory; identical inventories share one set.
    pub fn add_package_set(&mut self, release: &Release, packages: &[Package]) -> SetId {
        let rel = self.release_id(release);
        let mut ids: Vec<u32> = packages.iter().map(|p| self.package_id(rel, p)).collect();
        ids.sort_unstable();
        ids.dedup();
        if let Some(&id) = self.set_ids.get(&(rel, ids.clone())) {
            return SetId(id);
        }
        let mut by_name: Vec<(u32, u32)> = ids
            .iter()
            .map(|&p| (self.packages[p as usize].name_version, p))
            .collect();
        by_name.sort_unstable();
        by_name.dedup_by_key(|(nv, _)| *nv);
        let by_name: Vec<u32> = by_name.into_iter().map(|(_, p)| p).collect();
        let id = self.sets.len() as u32;
        let mut counts = Counts::default();
        for &p in &by_name {
            self.sets_of_package[p as usize].push(id);
            counts.add(&self.package_counts[p as usize]);
        }
        self.sets.push(PackageSet {
            packages: ids.clone(),
            counted: by_name,
        });
        self.set_ids.insert((rel, ids), id);
        self.set_counts.push(counts);
        self.hosts_of_set.push(Vec::new());
        SetId(id)
    }

    pub fn add_host(&mut self, set: SetId) -> HostId {
        let id = self.hosts.len() as u32;
        self.hosts.push(set.0);
        self.hosts_of_set[set.0 as usize].push(id);
        HostId(id)
    }

    /// Points a host at a new inventory.
    pub fn set_host(&mut self, host: HostId, set: SetId) {
        let old = self.hosts[host.0 as usize];
        self.hosts_of_set[old as usize].retain(|h| *h != host.0);
        self.hosts[host.0 as usize] = set.0;
        self.hosts_of_set[set.0 as usize].push(host.0);
    }

    pub fn host_set(&self, host: HostId) -> SetId {
        SetId(self.hosts[host.0 as usize])
    }

    pub fn hosts_of_set(&self, set: SetId) -> impl Iterator<Item = HostId> + '_ {
        self.hosts_of_set[set.0 as usize].iter().map(|h| HostId(*h))
    }

    /// Full evaluation: every distinct lookup against `index`, then every count. For
    /// a whole new feed; after one new advisory [`apply`](Estate::apply) is enough, and
    /// after new inventories [`evaluate_pending`](Estate::evaluate_pending).
    pub fn evaluate(&mut self, index: &AdvisoryIndex) -> EstateStats {
        self.key_evaluated.iter_mut().for_each(|e| *e = false);
        self.evaluate_pending(index)
    }

    /// Evaluates only lookups added since the last evaluation (new packages from new
    /// inventories) and brings all counts up to date.
    pub fn evaluate_pending(&mut self, index: &AdvisoryIndex) -> EstateStats {
        let mut evaluated = 0;
        for k in 0..self.keys.len() {
            if !self.key_evaluated[k] {
                self.evaluate_key(index, k);
                evaluated += 1;
            }
        }
        for p in 0..self.packages.len() {
            self.package_counts[p] = self.count_package(index, p);
        }
        for s in 0..self.sets.len() {
            let mut counts = Counts::default();
            for &p in &self.sets[s].counted {
                counts.add(&self.package_counts[p as usize]);
            }
            self.set_counts[s] = counts;
        }
        self.stats(evaluated)
    }

    /// Re-evaluates what `touched` (from [`AdvisoryIndex::insert`]) may have changed and
    /// returns the package sets whose counts moved.
    pub fn apply(&mut self, index: &AdvisoryIndex, touched: &[IndexKey]) -> Vec<SetId> {
        let mut changed_packages = Vec::new();
        for key in touched {
            let Some(&rel) = self.release_ids.get(&key.release) else {
                continue;
            };
            let Some(key_ids) = self.keys_by_name.get(&(rel, key.package.clone())).cloned() else {
                continue;
            };
            for k in key_ids {
                self.evaluate_key(index, k as usize);
            }
        }
        for key in touched {
            let Some(&rel) = self.release_ids.get(&key.release) else {
                continue;
            };
            let Some(key_ids) = self.keys_by_name.get(&(rel, key.package.clone())) else {
                continue;
            };
            for &k in key_ids {
                changed_packages.extend(self.packages_with_key(k));
            }
        }
        changed_packages.sort_unstable();
        changed_packages.dedup();
        let mut changed_sets = Vec::new();
        for p in changed_packages {
            let new = self.count_package(index, p as usize);
            let old = std::mem::replace(&mut self.package_counts[p as usize], new);
            if old == new {
                continue;
            }
            for &s in &self.sets_of_package[p as usize] {
                self.set_counts[s as usize].sub(&old);
                self.set_counts[s as usize].add(&new);
                changed_sets.push(SetId(s));
            }
        }
        changed_sets.sort_unstable();
        changed_sets.dedup();
        changed_sets
    }

    fn packages_with_key(&self, key: u32) -> impl Iterator<Item = u32> + '_ {
        // Packages sharing a lookup are few; a reverse map would cost memory on every
        // package for the rare incremental path, so this scans the package table once.
        self.packages
            .iter()
            .enumerate()
            .filter(move |(_, p)| p.keys.contains(&key))
            .map(|(i, _)| i as u32)
    }

    fn evaluate_key(&mut self, index: &AdvisoryIndex, k: usize) {
        let key = &self.keys[k];
        let release = &self.releases[key.release as usize];
        self.key_hits[k] = index.evaluate(release, &key.name, &key.version);
        self.key_evaluated[k] = true;
    }

    fn count_package(&self, index: &AdvisoryIndex, p: usize) -> Counts {
        let mut counts = Counts::default();
        let keys = self.packages[p].keys;
        let first = &self.key_hits[keys[0] as usize];
        for hit in first {
            counts.0[hit_level(index, hit) as usize] += 1;
        }
        if keys[1] != NO_KEY {
            for hit in &self.key_hits[keys[1] as usize] {
                if !first.iter().any(|h| h.advisory == hit.advisory) {
                    counts.0[hit_level(index, hit) as usize] += 1;
                }
            }
        }
        counts
    }

    pub fn host_counts(&self, host: HostId) -> Counts {
        self.set_counts[self.hosts[host.0 as usize] as usize]
    }

    pub fn set_counts(&self, set: SetId) -> Counts {
        self.set_counts[set.0 as usize]
    }

    /// The explained findings of one host, as [`super::match_host`] would give them.
    pub fn host_findings(&self, index: &AdvisoryIndex, host: HostId) -> Vec<Finding> {
        let set = &self.sets[self.hosts[host.0 as usize] as usize];
        let mut findings = Vec::new();
        for &p in &set.packages {
            let stored = &self.packages[p as usize];
            for &k in stored.keys.iter().filter(|k| **k != NO_KEY) {
                findings.extend(
                    self.key_hits[k as usize]
                        .iter()
                        .map(|h| index.finding(h, &stored.package)),
                );
            }
        }
        sort_and_dedup(&mut findings);
        findings
    }

    fn stats(&self, lookups_evaluated: usize) -> EstateStats {
        let mut vulnerable_hosts = 0;
        let mut findings = 0u64;
        for &s in &self.hosts {
            let t = self.set_counts[s as usize].total();
            if t > 0 {
                vulnerable_hosts += 1;
            }
            findings += u64::from(t);
        }
        EstateStats {
            hosts: self.hosts.len(),
            package_sets: self.sets.len(),
            distinct_packages: self.packages.len(),
            lookups_evaluated,
            vulnerable_hosts,
            findings,
        }
    }
}

fn hash_of(value: &impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

fn hit_level(index: &AdvisoryIndex, hit: &Hit) -> SeverityLevel {
    let a = index.advisory(hit.advisory);
    a.affected[hit.affected as usize]
        .severity
        .as_ref()
        .unwrap_or(&a.severity)
        .level
}
