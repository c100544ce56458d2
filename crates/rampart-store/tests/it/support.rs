//! Runs a conformance case against each backend, plus fixtures.
//!
//! SQLite: a real database file in a temporary directory, opened exactly as the server
//! opens it. PostgreSQL: the real server named by `RAMPART_TEST_POSTGRES_URL`; each test
//! creates its own uniquely named schema, points the store's `search_path` at it, and
//! drops it afterwards, so parallel tests and repeated runs never collide.

use std::collections::BTreeMap;
use std::future::Future;

use rampart_core::matcher::{Finding, MatchReason};
use rampart_core::package::{Package, PackageFormat};
use rampart_core::severity::{Severity, SeverityLevel};
use rampart_proto::{HostFacts, HostState, Inventory, OsFacts, PendingUpdate, UpdateCategory};
use rampart_store::{EnrolledHost, Labels, NewAgent, NewHost, Store};
use sqlx::Connection as _;

/// What a case gets: an opened store and the location it was opened from, so a case can
/// open the same database again.
pub(crate) struct Ctx {
    pub store: Store,
    pub location: String,
}

impl Ctx {
    pub(crate) async fn reopen(&self) -> Store {
        Store::open(&self.location).await.expect("reopen")
    }
}

/// Runs `case` on a fresh SQLite database in a temporary directory.
pub(crate) async fn run_sqlite<F, Fut>(case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().expect("tempdir");
    let location = dir.path().join("rampart.db").display().to_string();
    let store = Store::open(&location).await.expect("open sqlite");
    let result = tokio::spawn(case(Ctx {
        store: store.clone(),
        location,
    }))
    .await;
    store.close().await;
    drop(dir);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The PostgreSQL server to test against; `None` (with the reason printed) to skip. In
/// CI a missing URL is an error: the PostgreSQL half of the suite must not vanish
/// silently.
fn postgres_url() -> Option<String> {
    match std::env::var("RAMPART_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => panic!(
            "RAMPART_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL conformance \
             suite (e.g. RAMPART_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => {
            eprintln!("skipping PostgreSQL case: RAMPART_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

/// `url` with `search_path` set to `schema` for every connection.
pub(crate) fn with_search_path(url: &str, schema: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options=-c%20search_path%3D{schema}")
}

/// Runs `case` in a new schema of the PostgreSQL test server, dropped afterwards.
pub(crate) async fn run_postgres<F, Fut>(case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = postgres_url() else { return };
    let schema = format!(
        "rampart_test_{}",
        rampart_store::new_id(now_millis()).replace('-', "")
    );
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to RAMPART_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .expect("create test schema");
    let location = with_search_path(&url, &schema);
    let outcome = match Store::open(&location).await {
        Ok(store) => {
            let result = tokio::spawn(case(Ctx {
                store: store.clone(),
                location,
            }))
            .await;
            store.close().await;
            Ok(result)
        }
        Err(e) => Err(e),
    };
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .expect("drop test schema");
    match outcome {
        Err(e) => panic!("open PostgreSQL store in schema {schema}: {e:?}"),
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Ok(Ok(())) => {}
    }
}

/// The wall clock, only for unique names; cases use fixed times.
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<BTreeMap<_, _>>()
}

/// Enrols a host with a unique agent certificate.
pub(crate) async fn enrol(
    store: &Store,
    hostname: &str,
    labels: &Labels,
    now: i64,
) -> EnrolledHost {
    let agent_id = rampart_store::new_id(now);
    store
        .enrol_host(
            NewHost {
                hostname,
                machine_id: None,
                labels,
            },
            NewAgent {
                id: &agent_id,
                cert_serial: &format!("serial-{agent_id}"),
                cert_fingerprint: &format!("fp-{agent_id}"),
            },
            now,
        )
        .await
        .expect("enrol host")
}

/// `n` Debian packages named `pkg-0000…`.
pub(crate) fn packages(n: usize) -> Vec<Package> {
    (0..n)
        .map(|i| Package {
            name: format!("pkg-{i:04}"),
            version: format!("1.{i}-1+deb12u1"),
            arch: Some("amd64".into()),
            source_name: (i % 3 == 0).then(|| format!("src-{i:04}")),
            source_version: None,
            format: PackageFormat::Deb,
        })
        .collect()
}

pub(crate) fn inventory(hostname: &str, os: (&str, &str), packages: Vec<Package>) -> Inventory {
    Inventory {
        protocol: rampart_proto::PROTOCOL_VERSION,
        observed_at: 1_700_000_000,
        uptime_secs: Some(42),
        state: HostState {
            host: HostFacts {
                hostname: hostname.into(),
                machine_id: Some(format!("machine-{hostname}")),
                os: OsFacts {
                    id: os.0.into(),
                    version_id: os.1.into(),
                    pretty_name: Some(format!("{} {}", os.0, os.1)),
                    ecosystem: Some(format!("Debian:{}", os.1)),
                },
                ..HostFacts::default()
            },
            packages,
            updates: vec![PendingUpdate {
                name: "openssl".into(),
                arch: Some("amd64".into()),
                installed: "3.0.11-1~deb12u1".into(),
                candidate: "3.0.11-1~deb12u2".into(),
                origin: "Debian-Security:12/stable-security".into(),
                category: UpdateCategory::Security,
            }],
            ..HostState::default()
        },
    }
}

pub(crate) fn finding(
    advisory: &str,
    package: &str,
    installed: &str,
    level: SeverityLevel,
) -> Finding {
    Finding {
        advisory: advisory.into(),
        aliases: vec![format!("CVE-{advisory}")],
        package: package.into(),
        source: package.into(),
        installed: installed.into(),
        compared_version: installed.into(),
        advisory_package: package.into(),
        fixed: Some("9.9".into()),
        severity: Severity {
            level,
            cvss: Some(7.5),
            vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N".into()),
        },
        ecosystem: "Debian:12".into(),
        reason: MatchReason::Listed,
    }
}
