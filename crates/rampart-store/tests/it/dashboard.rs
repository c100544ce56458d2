//! Conformance cases for the figures the dashboard reads through shortcuts. The
//! per-package exposure counters (`src/exposure.rs`): after seeded random sequences of
//! `replace_findings` and `delete_host`, they equal both an aggregate computed from
//! scratch in Rust (from what the test wrote) and the aggregate SQL the dashboard used to
//! run over the findings table; migration 0008 backfills the same figures from existing
//! findings. Project membership in compliance queries (a set, not a per-host NOT EXISTS)
//! agrees with the host list's project filter.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rampart_core::compliance::{Compliance, State};
use rampart_core::matcher::Finding;
use rampart_core::severity::SeverityLevel;
use rampart_store::{
    ComplianceFilter, HostFilter, NewProject, Page, SeverityCounts, Store, VulnerablePackage,
};
use sqlx::Connection as _;

use crate::conformance::conformance;
use crate::support::{Ctx, enrol, finding, labels};

conformance!(
    exposure_equals_a_fresh_aggregate_after_random_changes,
    migration_backfills_exposure_from_existing_findings,
    compliance_project_membership_matches_the_host_filter,
);

const T0: i64 = 1_760_000_000_000;

/// One ranked package: name, hosts, findings, distinct advisories, worst severity.
type Ranked = (String, u64, u64, u64, SeverityLevel);

/// xorshift64*: a tiny seeded generator, so a failing sequence replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random complete answer of the matcher for one host: few packages and advisories,
/// so hosts share them; several advisories per package and several installed versions
/// per (advisory, package); exact duplicates (which the store drops) now and then; and
/// the same advisory rated differently on different hosts.
fn random_findings(rng: &mut Rng) -> Vec<Finding> {
    const PACKAGES: [&str; 5] = ["openssl", "zlib", "curl", "libxml2", "bash"];
    const LEVELS: [SeverityLevel; 5] = [
        SeverityLevel::Unknown,
        SeverityLevel::Low,
        SeverityLevel::Medium,
        SeverityLevel::High,
        SeverityLevel::Critical,
    ];
    let n = rng.below(9);
    let mut out: Vec<Finding> = Vec::new();
    for _ in 0..n {
        if !out.is_empty() && rng.below(8) == 0 {
            let again = out[rng.below(out.len())].clone();
            out.push(again);
            continue;
        }
        out.push(finding(
            &format!("DSA-{}", rng.below(6)),
            PACKAGES[rng.below(PACKAGES.len())],
            &format!("1.{}", rng.below(2)),
            LEVELS[rng.below(LEVELS.len())],
        ));
    }
    out
}

/// What the store should hold for a host: its findings after the store's de-duplication
/// on (advisory, package, installed), keeping the first.
fn stored(findings: &[Finding]) -> Vec<Finding> {
    let mut seen = HashSet::new();
    findings
        .iter()
        .filter(|f| seen.insert((f.advisory.clone(), f.package.clone(), f.installed.clone())))
        .cloned()
        .collect()
}

/// The ranking and severity counts computed from scratch over every host's findings,
/// ordered like `Store::top_vulnerable_packages`.
fn expected(hosts: &BTreeMap<String, Vec<Finding>>) -> (Vec<Ranked>, SeverityCounts) {
    #[derive(Default)]
    struct Acc {
        hosts: BTreeSet<String>,
        findings: u64,
        advisories: BTreeSet<String>,
        worst: SeverityLevel,
    }
    let mut by_package: BTreeMap<String, Acc> = BTreeMap::new();
    let mut counts = SeverityCounts::default();
    for (host, findings) in hosts {
        for f in findings {
            let acc = by_package.entry(f.package.clone()).or_default();
            acc.hosts.insert(host.clone());
            acc.findings += 1;
            acc.advisories.insert(f.advisory.clone());
            acc.worst = acc.worst.max(f.severity.level);
            match f.severity.level {
                SeverityLevel::Critical => counts.critical += 1,
                SeverityLevel::High => counts.high += 1,
                SeverityLevel::Medium => counts.medium += 1,
                SeverityLevel::Low => counts.low += 1,
                SeverityLevel::Unknown => counts.unknown += 1,
            }
        }
    }
    let mut ranking: Vec<_> = by_package
        .into_iter()
        .map(|(p, a)| {
            (
                p,
                a.hosts.len() as u64,
                a.findings,
                a.advisories.len() as u64,
                a.worst,
            )
        })
        .collect();
    ranking.sort_by(|a, b| b.1.cmp(&a.1).then(b.4.cmp(&a.4)).then(a.0.cmp(&b.0)));
    (ranking, counts)
}

fn tuples(top: Vec<VulnerablePackage>) -> Vec<Ranked> {
    top.into_iter()
        .map(|p| (p.package, p.hosts, p.findings, p.advisories, p.worst))
        .collect()
}

/// A plain connection to the case's database beside the store, for SQL the store does
/// not offer: the from-scratch aggregate and undoing migration 0008.
enum Raw {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Raw {
    async fn connect(location: &str) -> Raw {
        if location.starts_with("postgres") {
            Raw::Postgres(sqlx::PgConnection::connect(location).await.unwrap())
        } else {
            Raw::Sqlite(
                sqlx::SqliteConnection::connect(&format!("sqlite:{location}"))
                    .await
                    .unwrap(),
            )
        }
    }

    async fn execute(&mut self, sql: &'static str) {
        match self {
            Raw::Sqlite(c) => {
                sqlx::raw_sql(sql).execute(c).await.unwrap();
            }
            Raw::Postgres(c) => {
                sqlx::raw_sql(sql).execute(c).await.unwrap();
            }
        }
    }

    /// The per-package aggregate over every findings row, exactly as the dashboard
    /// computed it before the counters existed.
    async fn aggregate(&mut self) -> Vec<Ranked> {
        const SQL: &str = "SELECT package, COUNT(DISTINCT host_id), COUNT(*), \
             COUNT(DISTINCT advisory_id), MAX(severity_rank) FROM findings GROUP BY package \
             ORDER BY 2 DESC, 5 DESC, package";
        let rows: Vec<(String, i64, i64, i64, i64)> = match self {
            Raw::Sqlite(c) => sqlx::query_as(SQL).fetch_all(c).await.unwrap(),
            Raw::Postgres(c) => sqlx::query_as(SQL).fetch_all(c).await.unwrap(),
        };
        rows.into_iter()
            .map(|(p, h, f, a, w)| {
                let worst = SeverityLevel::ALL
                    .into_iter()
                    .find(|l| *l as i64 == w)
                    .unwrap();
                (p, h as u64, f as u64, a as u64, worst)
            })
            .collect()
    }
}

/// Asserts that the store's figures equal the model's and the findings table's.
async fn check(s: &Store, raw: &mut Raw, model: &BTreeMap<String, Vec<Finding>>, step: &str) {
    let (ranking, counts) = expected(model);
    let top = tuples(s.top_vulnerable_packages(u32::MAX).await.unwrap());
    assert_eq!(top, ranking, "ranking after {step}");
    assert_eq!(raw.aggregate().await, ranking, "SQL aggregate after {step}");
    assert_eq!(
        s.estate_summary().await.unwrap().findings,
        counts,
        "severity counts after {step}"
    );
    let top3 = tuples(s.top_vulnerable_packages(3).await.unwrap());
    assert_eq!(top3, ranking[..ranking.len().min(3)], "top 3 after {step}");
}

/// Random replace/delete sequences under several seeds; the figures are compared after
/// every step, so the first divergent step is named.
async fn exposure_equals_a_fresh_aggregate_after_random_changes(ctx: Ctx) {
    let s = &ctx.store;
    let mut raw = Raw::connect(&ctx.location).await;
    let mut model: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    let mut hosts: Vec<String> = Vec::new();
    let mut enrolled = 0;
    for seed in [1_u64, 0x5eed, 0xdead_beef] {
        let mut rng = Rng(seed);
        for step in 0..60 {
            let now = T0 + step;
            let label = format!("seed {seed:#x} step {step}");
            match rng.below(10) {
                // Enrol another host (up to eight at a time).
                0 | 1 if hosts.len() < 8 => {
                    enrolled += 1;
                    let e = enrol(s, &format!("h{enrolled}"), &labels(&[]), now).await;
                    hosts.push(e.host.id);
                }
                // Delete a host: its findings go through the cascade.
                2 if !hosts.is_empty() => {
                    let id = hosts.swap_remove(rng.below(hosts.len()));
                    s.delete_host(&id).await.unwrap();
                    model.remove(&id);
                }
                // Clear a host's findings.
                3 if !hosts.is_empty() => {
                    let id = hosts[rng.below(hosts.len())].clone();
                    s.replace_findings(&id, &[], now).await.unwrap();
                    model.remove(&id);
                }
                // Recompute a host's findings unchanged.
                4 if !hosts.is_empty() => {
                    let id = hosts[rng.below(hosts.len())].clone();
                    let same = model.get(&id).cloned().unwrap_or_default();
                    s.replace_findings(&id, &same, now).await.unwrap();
                }
                _ if !hosts.is_empty() => {
                    let id = hosts[rng.below(hosts.len())].clone();
                    let new = random_findings(&mut rng);
                    s.replace_findings(&id, &new, now).await.unwrap();
                    let kept = stored(&new);
                    if kept.is_empty() {
                        model.remove(&id);
                    } else {
                        model.insert(id, kept);
                    }
                }
                _ => continue,
            }
            check(s, &mut raw, &model, &label).await;
        }
    }
    // The sequences left something to compare, and removing everything empties it.
    assert!(!model.is_empty());
    for id in hosts {
        s.delete_host(&id).await.unwrap();
    }
    check(s, &mut raw, &BTreeMap::new(), "deleting every host").await;
}

/// Migration 0008 fills the counters from the findings already stored: undo it (drop
/// what it creates, restore the index it drops, forget it ran), reopen so it runs again.
async fn migration_backfills_exposure_from_existing_findings(ctx: Ctx) {
    let s = &ctx.store;
    let mut raw = Raw::connect(&ctx.location).await;
    let mut rng = Rng(42);
    let mut model = BTreeMap::new();
    for i in 0..12 {
        let e = enrol(s, &format!("h{i}"), &labels(&[]), T0).await;
        let new = random_findings(&mut rng);
        s.replace_findings(&e.host.id, &new, T0).await.unwrap();
        let kept = stored(&new);
        if !kept.is_empty() {
            model.insert(e.host.id, kept);
        }
    }
    check(s, &mut raw, &model, "seeding").await;
    raw.execute(
        "DROP TABLE package_exposure;
         DROP TABLE package_advisories;
         DROP INDEX pending_updates_category_host;
         DROP INDEX hosts_last_updated;
         CREATE INDEX findings_package_host
             ON findings(package, host_id, severity_rank, advisory_id);
         DELETE FROM _sqlx_migrations WHERE version = 8;",
    )
    .await;
    let again = ctx.reopen().await;
    check(&again, &mut raw, &model, "re-running migration 0008").await;
    again.close().await;
}

/// Projects with two selectors, one, none, and an unknown project id: the compliance
/// summary and listing count exactly the hosts the host list's project filter returns.
async fn compliance_project_membership_matches_the_host_filter(ctx: Ctx) {
    let s = &ctx.store;
    let hosts = [
        ("a", &[("env", "prod"), ("role", "web")][..]),
        ("b", &[("env", "prod"), ("role", "db")][..]),
        ("c", &[("env", "dev"), ("role", "web")][..]),
        ("d", &[("role", "web")][..]),
        ("e", &[][..]),
    ];
    for (name, l) in hosts {
        let host = enrol(s, name, &labels(l), T0).await.host;
        // Every host evaluated (compliant, nothing pending), so the listing counts too.
        let snapshot = Compliance {
            state: State::Compliant,
            reasons: Vec::new(),
            excepted: Vec::new(),
            critical: 0,
            high: 0,
            pending_security: 0,
            next_evaluation_at: None,
        };
        s.record_host_compliance(&host.id, &snapshot, T0)
            .await
            .unwrap();
    }
    let mut cases = Vec::new();
    for (name, selector, expected) in [
        ("prod-web", &[("env", "prod"), ("role", "web")][..], 1),
        ("prod", &[("env", "prod")][..], 2),
        ("web", &[("role", "web")][..], 3),
        ("everything", &[][..], 5),
    ] {
        let project = s
            .create_project(
                NewProject {
                    name,
                    description: "",
                    selector: &labels(selector),
                },
                T0,
            )
            .await
            .unwrap();
        cases.push((project.id, expected));
    }
    cases.push(("no-such-project".to_owned(), 0));
    for (id, expected) in cases {
        let listed = s
            .list_hosts(
                &HostFilter {
                    project_id: Some(id.clone()),
                    ..HostFilter::default()
                },
                Page::default(),
            )
            .await
            .unwrap()
            .total;
        assert_eq!(listed, expected, "host list of {id}");
        let summary = s.compliance_summary(Some(&id)).await.unwrap();
        assert_eq!(summary.hosts, expected, "compliance summary of {id}");
        let snapshots = s
            .list_host_compliance(
                &ComplianceFilter {
                    project_id: Some(id.clone()),
                    ..ComplianceFilter::default()
                },
                Page::default(),
            )
            .await
            .unwrap();
        assert_eq!(snapshots.total, expected, "compliance listing of {id}");
        assert_eq!(summary.compliant, expected, "compliant hosts of {id}");
    }
}
