//! Synthetic fleet and feed for benchmarks, built from this machine's real package list:
//! ~20 images that differ from the base by a few removed or older packages, hosts that
//! drift from their image by a few updated packages, and advisories over the real source
//! package names with ranges around the installed versions (some affect them, most not).
//! Deterministic: the same machine gives the same estate on every run.
//!
//! Shared by the estate bench and the feed-writing example; each uses part of it.
#![allow(dead_code)]

use rampart_core::advisory::{Advisory, Affected, Event, Range, RangeKind};
use rampart_core::distro::Release;
use rampart_core::package::Package;
use rampart_core::severity::{Severity, SeverityLevel};

/// splitmix64: small, fast and reproducible; no dependency for a benchmark's dice.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// This machine's release and installed packages.
pub(crate) fn base() -> (Release, Vec<Package>) {
    let inv = rampart_inventory::read_root(std::path::Path::new("/"))
        .expect("this machine's package database");
    let release = inv
        .os
        .release()
        .expect("this machine's release is supported");
    (release, inv.packages)
}

/// `count` images: the base with ~2% of packages removed and ~4% at an older version.
pub(crate) fn images(base: &[Package], count: usize, rng: &mut Rng) -> Vec<Vec<Package>> {
    (0..count)
        .map(|i| {
            let mut image = Vec::with_capacity(base.len());
            for p in base {
                if rng.chance(2) {
                    continue;
                }
                let mut p = p.clone();
                if rng.chance(4) {
                    p.source_version = Some(format!("{}~img{}", p.source_version(), i % 5));
                    p.version = format!("{}~img{}", p.version, i % 5);
                }
                image.push(p);
            }
            image
        })
        .collect()
}

/// One host: its image plus `drift` packages updated to one of a few newer builds.
pub(crate) fn host(image: &[Package], drift: usize, rng: &mut Rng) -> Vec<Package> {
    let mut host = image.to_vec();
    for _ in 0..drift {
        let i = rng.below(host.len());
        let n = 1 + rng.below(5);
        let p = &mut host[i];
        p.source_version = Some(format!("{}+u{n}", p.source_version()));
        p.version = format!("{}+u{n}", p.version);
    }
    host
}

/// Distinct (source name, source version) pairs of a package list.
pub(crate) fn sources(packages: &[Package]) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = packages
        .iter()
        .map(|p| (p.source().to_owned(), p.source_version().to_owned()))
        .collect();
    s.sort();
    s.dedup_by(|a, b| a.0 == b.0);
    s
}

/// Advisory number `k` about one of `sources`.
pub(crate) fn advisory(
    release: &Release,
    sources: &[(String, String)],
    k: usize,
    rng: &mut Rng,
) -> Advisory {
    let (name, v) = &sources[rng.below(sources.len())];
    let r = rng.below(9);
    let events = match rng.below(10) {
        0..=3 => vec![
            Event::Introduced("0".into()),
            Event::Fixed(format!("{v}+f{r}")),
        ],
        4..=7 => vec![
            Event::Introduced("0".into()),
            Event::Fixed(format!("{v}~f{r}")),
        ],
        8 => vec![
            Event::Introduced("0".into()),
            Event::LastAffected(v.clone()),
        ],
        _ => vec![
            Event::Introduced(format!("{v}+x{r}")),
            Event::Fixed(format!("{v}+y{r}")),
        ],
    };
    let level = SeverityLevel::ALL[rng.below(5)];
    let cvss = (rng.below(100) as f64) / 10.0;
    Advisory {
        id: format!("SYN-{k:06}"),
        aliases: vec![format!("CVE-2090-{k:06}")],
        summary: Some(format!("{name}: synthetic advisory {k}")),
        modified: Some("2026-11-01T00:00:00Z".into()),
        severity: Severity {
            level,
            cvss: Some(cvss),
            vector: None,
        },
        affected: vec![Affected {
            ecosystem: release.to_string(),
            release: Some(release.clone()),
            package: name.clone(),
            ranges: vec![Range {
                kind: RangeKind::Ecosystem,
                events,
            }],
            versions: vec![],
            severity: None,
        }],
        ..Advisory::default()
    }
}

/// The same advisory as an OSV record, for feeds written to disk.
pub(crate) fn osv_json(a: &Advisory) -> serde_json::Value {
    let affected: Vec<serde_json::Value> = a
        .affected
        .iter()
        .map(|af| {
            let events: Vec<serde_json::Value> = af.ranges[0]
                .events
                .iter()
                .map(|e| match e {
                    Event::Introduced(v) => serde_json::json!({ "introduced": v }),
                    Event::Fixed(v) => serde_json::json!({ "fixed": v }),
                    Event::LastAffected(v) => serde_json::json!({ "last_affected": v }),
                    Event::Limit(v) => serde_json::json!({ "limit": v }),
                })
                .collect();
            serde_json::json!({
                "package": { "ecosystem": af.ecosystem, "name": af.package },
                "ranges": [{ "type": "ECOSYSTEM", "events": events }],
                "ecosystem_specific": { "urgency": a.severity.level.as_str() },
            })
        })
        .collect();
    serde_json::json!({
        "schema_version": "1.6.0",
        "id": a.id,
        "aliases": a.aliases,
        "summary": a.summary,
        "modified": a.modified,
        "affected": affected,
    })
}
