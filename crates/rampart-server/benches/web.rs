//! Server-side rendering time of the web UI's two busiest pages with 10,000 hosts in
//! the store, on both backends: the dashboard (`/`) and the first page of the host list
//! (`/hosts`), each a whole request through the in-process app (authentication with a
//! bearer token, the store's queries, the template) — everything but the network.
//! Budget: under 200 ms each (`BENCHMARKS.md`). Then the estate's compliance report
//! through the API (`/api/v1/reports/compliance`), data loading and rendering: budget
//! 2 s as CSV, 10 s as PDF.
//!
//! The estate is seeded through the store's own write path, like agents would: 20
//! package sets of 300-490 packages, three label dimensions, 0-7 pending updates per
//! host, packages last changed over the past 400 days, and 5-62 findings per host
//! (about 330,000 in all) from a pool of 400 advisories with a realistic severity mix.
//!
//! Three projects select the hosts by environment. Before measuring, every host is
//! evaluated once and 90 days of trend rows are written, as a running server's
//! scheduler leaves them: the pages read snapshots, they do not compute them.
//!
//! SQLite runs on a file in a temporary directory; PostgreSQL on
//! `RAMPART_TEST_POSTGRES_URL` in a throwaway schema (skipped when unset), vacuumed and
//! analysed after seeding as autovacuum would do on a running server.
//!
//! `cargo bench -p rampart-server --bench web`

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use criterion::{Criterion, criterion_group, criterion_main};
use rampart_core::authz::Role;
use rampart_core::matcher::{Finding, MatchReason};
use rampart_core::package::{Package, PackageFormat};
use rampart_core::severity::{Severity, SeverityLevel};
use rampart_proto::{HostFacts, HostState, Inventory, OsFacts, PendingUpdate, UpdateCategory};
use rampart_server::{AppState, RandomEnrollmentTokens, ServerConfig};
use rampart_store::{Labels, NewAgent, NewHost, NewProject, Store, TrendPoint};
use sqlx::Connection as _;
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

const HOSTS: usize = 10_000;
const SETS: usize = 20;
const DAY: i64 = 86_400_000;
/// 2026-11-29.
const NOW: i64 = 1_795_910_400_000;

fn package_set(set: usize) -> Vec<Package> {
    (0..300 + set * 10)
        .map(|i| Package {
            name: format!("lib{i:04}"),
            version: format!("{}.{}-{}", i % 7, set % 5, 1 + set % 3),
            arch: Some("amd64".into()),
            source_name: (i % 4 == 0).then(|| format!("src{i:04}")),
            source_version: None,
            format: PackageFormat::Deb,
        })
        .collect()
}

fn findings(set: usize, host: usize) -> Vec<Finding> {
    let n = 5 + (set * 3 + host % 3) % 58;
    (0..n)
        .map(|k| {
            let advisory = (set * 17 + k * 7) % 400;
            let level = match advisory % 20 {
                0 => SeverityLevel::Critical,
                1..=4 => SeverityLevel::High,
                5..=12 => SeverityLevel::Medium,
                13..=16 => SeverityLevel::Low,
                _ => SeverityLevel::Unknown,
            };
            Finding {
                advisory: format!("DSA-{advisory:04}-1"),
                aliases: vec![format!("CVE-2026-{advisory:05}")],
                package: format!("lib{:04}", (k * 5 + set) % 300),
                source: format!("lib{:04}", (k * 5 + set) % 300),
                installed: format!("{}.{}-1", k % 7, set % 5),
                compared_version: format!("{}.{}-1", k % 7, set % 5),
                advisory_package: format!("lib{:04}", (k * 5 + set) % 300),
                fixed: Some("9.9-1".into()),
                severity: Severity {
                    level,
                    cvss: Some(5.0),
                    vector: None,
                },
                ecosystem: "Debian:12".into(),
                reason: MatchReason::Listed,
            }
        })
        .collect()
}

fn inventory(host: usize, packages: Vec<Package>) -> Inventory {
    Inventory {
        protocol: rampart_proto::PROTOCOL_VERSION,
        observed_at: 0,
        uptime_secs: None,
        state: HostState {
            host: HostFacts {
                hostname: format!("host-{host:05}"),
                os: OsFacts {
                    id: "debian".into(),
                    version_id: if host.is_multiple_of(5) { "11" } else { "12" }.into(),
                    pretty_name: None,
                    ecosystem: Some("Debian:12".into()),
                },
                ..HostFacts::default()
            },
            packages,
            updates: (0..host % 8)
                .map(|u| PendingUpdate {
                    name: format!("lib{u:04}"),
                    arch: None,
                    installed: "1".into(),
                    candidate: "2".into(),
                    origin: "Debian".into(),
                    category: if u.is_multiple_of(2) {
                        UpdateCategory::Security
                    } else {
                        UpdateCategory::Other
                    },
                })
                .collect(),
            ..HostState::default()
        },
    }
}

async fn seed_one(store: &Store, sets: &[Vec<Package>], host: usize) {
    let set = host % SETS;
    let labels: Labels = [
        ("env", ["prod", "staging", "dev"][host % 3]),
        ("region", ["fsn1", "nbg1", "hel1"][host % 3 / 2 + host % 2]),
        ("role", ["web", "db", "cache", "queue", "batch"][host % 5]),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let agent = rampart_store::new_id(NOW);
    let hostname = format!("host-{host:05}");
    let enrolled = store
        .enrol_host(
            NewHost {
                hostname: &hostname,
                machine_id: None,
                labels: &labels,
            },
            NewAgent {
                id: &agent,
                cert_serial: &format!("s-{agent}"),
                cert_fingerprint: &format!("f-{agent}"),
            },
            NOW - 500 * DAY,
        )
        .await
        .unwrap();
    let id = enrolled.host.id;
    let at = NOW - (host as i64 % 400) * DAY;
    store
        .record_inventory(&id, &inventory(host, sets[set].clone()), at)
        .await
        .unwrap();
    store
        .replace_findings(&id, &findings(set, host), at)
        .await
        .unwrap();
}

/// Seeds the estate, eight hosts at a time (PostgreSQL takes them concurrently; SQLite
/// queues its writers).
async fn seed(store: &Store) {
    let sets: Arc<Vec<Vec<Package>>> = Arc::new((0..SETS).map(package_set).collect());
    let started = std::time::Instant::now();
    let mut next = 0;
    while next < HOSTS {
        let batch: Vec<usize> = (next..(next + 8).min(HOSTS)).collect();
        next += batch.len();
        let mut tasks = Vec::new();
        for host in batch {
            let store = store.clone();
            let sets = sets.clone();
            tasks.push(tokio::spawn(async move {
                seed_one(&store, &sets, host).await;
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    eprintln!("seeded {HOSTS} hosts in {:?}", started.elapsed());
}

/// Does what autovacuum does on a real server soon after a bulk load: `ANALYZE` for the
/// planner's statistics and `VACUUM` for the visibility map that index-only scans need.
/// Right after seeding the tables have neither, so without this the benchmark would
/// measure a state a running server leaves within a minute, not the steady state.
async fn settle_postgres(url: &str, schema: &str) {
    let mut c = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT tablename::text FROM pg_tables WHERE schemaname = $1")
            .bind(schema)
            .fetch_all(&mut c)
            .await
            .unwrap();
    let list = tables
        .iter()
        .map(|(t,)| format!("{schema}.{t}"))
        .collect::<Vec<_>>()
        .join(", ");
    let started = std::time::Instant::now();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("VACUUM (ANALYZE) {list}")))
        .execute(&mut c)
        .await
        .unwrap();
    eprintln!(
        "VACUUM (ANALYZE) of {} tables in {:?}",
        tables.len(),
        started.elapsed()
    );
}

/// Three projects by label (one per environment), so the dashboard's per-project
/// panel has rows to compute, as on a real estate.
async fn seed_projects(store: &Store) {
    for env in ["prod", "staging", "dev"] {
        let selector: Labels = [("env".to_string(), env.to_string())].into_iter().collect();
        store
            .create_project(
                NewProject {
                    name: env,
                    description: "",
                    selector: &selector,
                },
                NOW - 400 * DAY,
            )
            .await
            .unwrap();
    }
}

/// What a running server has before anyone opens the dashboard: every host's
/// compliance snapshot (the scheduler's first round evaluates the estate) and 90 days
/// of trend rows for the estate and each project.
async fn settle_compliance(state: &AppState) {
    let started = std::time::Instant::now();
    let (evaluated, _) = state.compliance().evaluate_all(None, NOW).await.unwrap();
    eprintln!("evaluated {evaluated} hosts in {:?}", started.elapsed());
    let store = state.store();
    let mut scopes = vec![None];
    scopes.extend(
        store
            .list_projects()
            .await
            .unwrap()
            .into_iter()
            .map(|p| Some(p.id)),
    );
    for scope in &scopes {
        let today = store.compliance_summary(scope.as_deref()).await.unwrap();
        for back in (1..=90u64).rev() {
            let point = TrendPoint {
                day: NOW / DAY - back as i64,
                hosts: today.hosts,
                non_compliant: today.non_compliant + back * 3 % 17,
                critical: today.critical + back * 11 % 97,
                high: today.high + back * 7 % 53,
                pending_security: today.pending_security + back % 13,
            };
            store
                .record_trend(scope.as_deref(), &point, NOW - (back as i64) * DAY)
                .await
                .unwrap();
        }
    }
    state.compliance().record_trend(NOW).await.unwrap();
}

async fn app(store: Store) -> (axum::Router, String) {
    let (state, _) = AppState::with_parts(
        store.clone(),
        ServerConfig::default(),
        Arc::new(|| NOW),
        Arc::new(RandomEnrollmentTokens),
    )
    .await
    .unwrap();
    settle_compliance(&state).await;
    let user = rampart_server::admin::create_user(
        &store,
        "bench",
        Role::Auditor,
        "a long bench password".into(),
        NOW,
    )
    .await
    .unwrap();
    let token = rampart_server::admin::create_api_token(&store, &user, None, &[], None, NOW)
        .await
        .unwrap()
        .token;
    (rampart_server::app(state), token)
}

async fn render(app: &axum::Router, token: &str, path: &str) -> usize {
    let req = Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .len()
}

/// A backend to measure: its name, the store, the PostgreSQL (URL, schema) to drop
/// afterwards, and the directory holding the SQLite file.
type Backend = (
    &'static str,
    Store,
    Option<(String, String)>,
    tempfile::TempDir,
);

fn backends(rt: &Runtime) -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let sqlite = rt
        .block_on(Store::open_in_dir(dir.path()))
        .expect("open sqlite");
    out.push(("sqlite", sqlite, None, dir));
    match std::env::var("RAMPART_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let schema = format!("rampart_bench_web_{}", std::process::id());
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                    .execute(&mut c)
                    .await
                    .unwrap();
            });
            let sep = if url.contains('?') { '&' } else { '?' };
            let location = format!("{url}{sep}options=-c%20search_path%3D{schema}");
            let pg = rt.block_on(Store::open(&location)).expect("open postgres");
            out.push((
                "postgres",
                pg,
                Some((url, schema)),
                tempfile::tempdir().unwrap(),
            ));
        }
        _ => eprintln!("RAMPART_TEST_POSTGRES_URL unset: PostgreSQL benchmarks skipped"),
    }
    out
}

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (name, store, pg, _dir) in backends(&rt) {
        rt.block_on(seed_projects(&store));
        rt.block_on(seed(&store));
        let (app, token) = rt.block_on(app(store.clone()));
        if let Some((url, schema)) = &pg {
            rt.block_on(settle_postgres(url, schema));
        }
        let mut group = c.benchmark_group(format!("web/{name}"));
        group.sample_size(20);
        for (page, path) in [("dashboard", "/"), ("hosts_first_page", "/hosts")] {
            let bytes = rt.block_on(render(&app, &token, path));
            eprintln!("{name} {path}: {bytes} bytes");
            group.bench_function(page, |b| {
                b.iter(|| rt.block_on(render(&app, &token, path)));
            });
        }
        group.finish();
        // The full compliance report of the estate through the API: reading every
        // host's snapshot, findings, updates and exceptions, then rendering.
        let mut group = c.benchmark_group(format!("report/{name}"));
        group.sample_size(10);
        for format in ["csv", "pdf"] {
            let path = format!("/api/v1/reports/compliance?format={format}");
            let bytes = rt.block_on(render(&app, &token, &path));
            eprintln!("{name} {path}: {bytes} bytes");
            group.bench_function(format!("compliance_{format}"), |b| {
                b.iter(|| rt.block_on(render(&app, &token, &path)));
            });
        }
        group.finish();
        rt.block_on(store.close());
        if let Some((url, schema)) = pg {
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

criterion_group!(benches, pages);
criterion_main!(benches);
