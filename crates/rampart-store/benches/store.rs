//! Store throughput on both backends: recording ~1500-package inventories (a typical
//! Debian server) and bulk-upserting 100,000 advisories (a full distribution feed).
//!
//! SQLite runs on a file in a temporary directory, opened as the server opens it (WAL).
//! PostgreSQL runs on `RAMPART_TEST_POSTGRES_URL` in a throwaway schema and is skipped
//! when the variable is unset.
//!
//! `cargo bench -p rampart-store --bench store`

use std::cell::Cell;
use std::collections::BTreeMap;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rampart_core::advisory::{Advisory, Affected, Event, Range, RangeKind};
use rampart_core::package::{Package, PackageFormat};
use rampart_core::severity::{Severity, SeverityLevel};
use rampart_proto::{HostFacts, HostState, Inventory, OsFacts};
use rampart_store::{NewAgent, NewHost, Store};
use sqlx::Connection as _;
use tokio::runtime::Runtime;

const PACKAGES: usize = 1500;
const ADVISORIES: usize = 100_000;

fn packages(generation: usize) -> Vec<Package> {
    (0..PACKAGES)
        .map(|i| Package {
            name: format!("lib{i:04}-common"),
            // One package changes per generation, like a routine upgrade.
            version: if i == generation % PACKAGES {
                format!("2.{i}.{generation}-1+deb12u1")
            } else {
                format!("2.{i}.0-1+deb12u1")
            },
            arch: Some("amd64".into()),
            source_name: (i % 4 == 0).then(|| format!("lib{i:04}")),
            source_version: None,
            format: PackageFormat::Deb,
        })
        .collect()
}

fn inventory(hostname: String, packages: Vec<Package>) -> Inventory {
    Inventory {
        protocol: rampart_proto::PROTOCOL_VERSION,
        observed_at: 0,
        uptime_secs: None,
        state: HostState {
            host: HostFacts {
                hostname,
                os: OsFacts {
                    id: "debian".into(),
                    version_id: "12".into(),
                    pretty_name: None,
                    ecosystem: Some("Debian:12".into()),
                },
                ..HostFacts::default()
            },
            packages,
            ..HostState::default()
        },
    }
}

fn advisories(generation: usize) -> Vec<Advisory> {
    (0..ADVISORIES)
        .map(|i| Advisory {
            id: format!("DEBIAN-CVE-2024-{i:06}"),
            aliases: vec![format!("CVE-2024-{i:06}")],
            summary: Some(format!(
                "generation {generation}: a buffer overflow in the parser allows remote attackers to crash"
            )),
            modified: Some("2025-06-01T00:00:00Z".into()),
            severity: Severity {
                level: SeverityLevel::High,
                cvss: Some(7.5),
                vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H".into()),
            },
            affected: vec![Affected {
                ecosystem: "Debian:12".into(),
                release: None,
                package: format!("lib{:04}", i % 3000),
                ranges: vec![Range {
                    kind: RangeKind::Ecosystem,
                    events: vec![
                        Event::Introduced("0".into()),
                        Event::Fixed(format!("2.{i}.1-1")),
                    ],
                }],
                versions: vec![],
                severity: None,
            }],
            ..Advisory::default()
        })
        .collect()
}

/// A PostgreSQL server URL and the benchmark's schema in it, dropped at the end.
type PgCleanup = Option<(String, String)>;

/// A store per backend: (name, store, cleanup).
fn backends(rt: &Runtime) -> Vec<(&'static str, Store, PgCleanup)> {
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let sqlite = rt
        .block_on(Store::open_in_dir(dir.path()))
        .expect("open sqlite");
    let mut out = vec![("sqlite", sqlite, None)];
    match std::env::var("RAMPART_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!("rampart_bench_{}", std::process::id());
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&mut c)
                .await
                .unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut c)
                    .await
                    .unwrap();
            });
            let location = format!("{url}?options=-c%20search_path%3D{schema}");
            let pg = rt.block_on(Store::open(&location)).expect("open postgres");
            out.push(("postgres", pg, Some((url, schema))));
        }
        _ => eprintln!("RAMPART_TEST_POSTGRES_URL unset: PostgreSQL benchmarks skipped"),
    }
    out
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (name, store, cleanup) in backends(&rt) {
        let host = rt
            .block_on(store.enrol_host(
                NewHost {
                    hostname: "bench",
                    machine_id: None,
                    labels: &BTreeMap::new(),
                },
                NewAgent {
                    id: "bench-agent",
                    cert_serial: "1",
                    cert_fingerprint: "fp",
                },
                0,
            ))
            .unwrap()
            .host;
        let generation = Cell::new(0usize);
        let next = || {
            generation.set(generation.get() + 1);
            generation.get()
        };

        let mut group = c.benchmark_group(format!("record_inventory/{name}"));
        group.sample_size(30);
        // Every iteration upgrades one package: a package set never seen before
        // (1500 member rows), the host row, updates and a timeline entry.
        group.bench_function("new_package_set_1500", |b| {
            b.iter_batched(
                || inventory("bench".into(), packages(next())),
                |inv| {
                    rt.block_on(store.record_inventory(&host.id, &inv, 1))
                        .unwrap()
                },
                BatchSize::LargeInput,
            )
        });
        // A changed host state whose 1500 packages are already stored (another host
        // from the same image): only the document and the host row are written.
        let shared = packages(0);
        group.bench_function("known_package_set_1500", |b| {
            b.iter_batched(
                || inventory(format!("bench-{}", next()), shared.clone()),
                |inv| {
                    rt.block_on(store.record_inventory(&host.id, &inv, 1))
                        .unwrap()
                },
                BatchSize::LargeInput,
            )
        });
        // The agent resends what the server already has.
        let same = inventory("bench-same".into(), shared.clone());
        rt.block_on(store.record_inventory(&host.id, &same, 1))
            .unwrap();
        group.bench_function("unchanged_1500", |b| {
            b.iter(|| {
                rt.block_on(store.record_inventory(&host.id, &same, 1))
                    .unwrap()
            })
        });
        group.finish();

        let mut group = c.benchmark_group(format!("advisories/{name}"));
        group.sample_size(10);
        // Every iteration changes every record, so all 100,000 rows are rewritten.
        group.bench_function("upsert_100k_changed", |b| {
            b.iter_batched(
                || advisories(next()),
                |batch| {
                    rt.block_on(store.upsert_advisories("bench", &batch, 1))
                        .unwrap()
                },
                BatchSize::PerIteration,
            )
        });
        // Re-importing an unchanged feed: every row is compared, none written.
        let batch = advisories(usize::MAX);
        rt.block_on(store.upsert_advisories("bench", &batch, 1))
            .unwrap();
        group.bench_function("upsert_100k_unchanged", |b| {
            b.iter(|| {
                rt.block_on(store.upsert_advisories("bench", &batch, 1))
                    .unwrap()
            })
        });
        group.bench_function("load_100k", |b| {
            b.iter(|| rt.block_on(store.load_advisories()).unwrap().len())
        });
        group.finish();

        rt.block_on(store.close());
        if let Some((url, schema)) = cleanup {
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
                    .execute(&mut c)
                    .await
                    .unwrap();
            });
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
