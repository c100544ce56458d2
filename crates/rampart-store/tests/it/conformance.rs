//! The conformance suite: every case runs unchanged on SQLite and on PostgreSQL, so the
//! two backends behave the same for everything the server relies on.

use std::collections::BTreeMap;

use rampart_core::advisory::{Advisory, Affected};
use rampart_core::matcher::MatchReason;
use rampart_core::severity::SeverityLevel;
use rampart_proto::{PendingUpdate, UpdateCategory};
use rampart_store::{
    Error, FeedImport, FindingFilter, HostFilter, InventoryOutcome, NewApiToken, NewEnrolmentToken,
    NewProject, NewSession, NewUser, Page, ProjectUpdate, ReportScheduleSpec, UpdateClassification,
};
use rampart_store::{HostOrder, HostSort, OsRelease, UpdateAges};

use crate::notifications::{
    change_requests_one_open_per_project, concurrent_claims_are_disjoint,
    notification_channels_crud, outbox_claims_retries_and_leases,
};
use crate::support::{Ctx, enrol, finding, inventory, labels, packages};

/// Declares each case once per backend: `sqlite::<case>` and `postgres::<case>`.
macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::support::run_sqlite(super::$case).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    crate::support::run_postgres(super::$case).await
                }
            )*
        }
    };
}
pub(crate) use conformance;

conformance!(
    migrations_are_idempotent,
    users_and_sessions,
    api_tokens_expire_and_revoke,
    enrolment_tokens_refuse_expired_revoked_and_exhausted,
    enrolment_token_consumption_is_race_free,
    agents_are_found_by_certificate_until_revoked,
    inventory_is_idempotent,
    pending_updates_learn_what_they_fix,
    identical_packages_share_one_set,
    package_sets_no_host_uses_are_collected,
    a_set_being_adopted_is_not_collected,
    findings_replace_keeps_first_seen,
    host_filters_and_pagination,
    finding_filters_and_pagination,
    projects_crud_and_membership,
    advisories_upsert_and_load,
    unicode_and_huge_strings_round_trip,
    unique_violations_are_conflicts,
    report_schedules_are_claimed_once,
    notification_channels_crud,
    outbox_claims_retries_and_leases,
    concurrent_claims_are_disjoint,
    change_requests_one_open_per_project,
    pending_update_counts_per_host,
    estate_summaries,
    host_sorting,
);

const T0: i64 = 1_750_000_000_000;
const HOUR: i64 = 3_600_000;

fn assert_not_found<T: std::fmt::Debug>(r: Result<T, Error>) {
    assert!(
        matches!(r, Err(Error::NotFound { .. })),
        "expected NotFound, got {r:?}"
    );
}

async fn migrations_are_idempotent(ctx: Ctx) {
    let user = ctx
        .store
        .create_user(
            NewUser {
                name: "alice",
                role: "admin",
                password_hash: "$argon2id$x",
            },
            T0,
        )
        .await
        .unwrap();
    // Opening an up-to-date database again runs no migration and keeps the data.
    for _ in 0..2 {
        let again = ctx.reopen().await;
        assert_eq!(again.get_user(&user.id).await.unwrap(), user);
        again.close().await;
    }
}

async fn users_and_sessions(ctx: Ctx) {
    let s = &ctx.store;
    let alice = s
        .create_user(
            NewUser {
                name: "alice",
                role: "admin",
                password_hash: "h1",
            },
            T0,
        )
        .await
        .unwrap();
    let bob = s
        .create_user(
            NewUser {
                name: "bob",
                role: "viewer",
                password_hash: "h2",
            },
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(s.get_user_by_name("bob").await.unwrap(), bob);
    assert_eq!(
        s.list_users()
            .await
            .unwrap()
            .iter()
            .map(|u| u.name.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    s.set_user_role(&bob.id, "operator", T0 + 2).await.unwrap();
    let bob2 = s.get_user(&bob.id).await.unwrap();
    assert_eq!((bob2.role.as_str(), bob2.updated_at), ("operator", T0 + 2));
    s.set_user_password(&bob.id, "h3", T0 + 3).await.unwrap();
    assert_eq!(s.get_user(&bob.id).await.unwrap().password_hash, "h3");

    let session = s
        .create_session(
            NewSession {
                id_hash: "sess-a",
                user_id: &alice.id,
                csrf_token: "csrf",
                expires_at: T0 + HOUR,
            },
            T0,
        )
        .await
        .unwrap();
    let (got, user) = s.get_session("sess-a", T0 + 10).await.unwrap();
    assert_eq!((got, user.id.as_str()), (session, alice.id.as_str()));
    assert_not_found(s.get_session("sess-a", T0 + HOUR).await);
    assert_not_found(s.get_session("nope", T0).await);
    assert_not_found(
        s.create_session(
            NewSession {
                id_hash: "x",
                user_id: "no-such-user",
                csrf_token: "c",
                expires_at: T0 + HOUR,
            },
            T0,
        )
        .await,
    );
    assert_eq!(s.expire_sessions(T0 + HOUR).await.unwrap(), 1);

    // Disabling a user ends their sessions and refuses new lookups.
    s.create_session(
        NewSession {
            id_hash: "sess-b",
            user_id: &alice.id,
            csrf_token: "c",
            expires_at: T0 + HOUR,
        },
        T0,
    )
    .await
    .unwrap();
    s.set_user_disabled(&alice.id, true, T0 + 5).await.unwrap();
    assert_eq!(
        s.get_user(&alice.id).await.unwrap().disabled_at,
        Some(T0 + 5)
    );
    assert_not_found(s.get_session("sess-b", T0 + 6).await);
    s.set_user_disabled(&alice.id, false, T0 + 7).await.unwrap();
    assert_eq!(s.get_user(&alice.id).await.unwrap().disabled_at, None);

    s.delete_user(&bob.id).await.unwrap();
    assert_not_found(s.get_user(&bob.id).await);
    assert_not_found(s.delete_user(&bob.id).await);
    assert_not_found(s.set_user_role("missing", "admin", T0).await);
}

async fn api_tokens_expire_and_revoke(ctx: Ctx) {
    let s = &ctx.store;
    let user = s
        .create_user(
            NewUser {
                name: "ci",
                role: "operator",
                password_hash: "h",
            },
            T0,
        )
        .await
        .unwrap();
    let scopes = vec!["hosts:read".to_string(), "findings:read".to_string()];
    let forever = s
        .create_api_token(
            NewApiToken {
                user_id: &user.id,
                name: "forever",
                token_hash: "hash-forever",
                scopes: &scopes,
                expires_at: None,
            },
            T0,
        )
        .await
        .unwrap();
    let short = s
        .create_api_token(
            NewApiToken {
                user_id: &user.id,
                name: "short",
                token_hash: "hash-short",
                scopes: &[],
                expires_at: Some(T0 + HOUR),
            },
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        s.find_api_token("hash-forever", T0 + 99 * HOUR)
            .await
            .unwrap(),
        forever
    );
    assert_eq!(
        s.find_api_token("hash-short", T0 + HOUR - 1).await.unwrap(),
        short
    );
    assert_not_found(s.find_api_token("hash-short", T0 + HOUR).await);
    assert_not_found(s.find_api_token("unknown", T0).await);

    s.touch_api_token(&forever.id, T0 + 50).await.unwrap();
    s.revoke_api_token(&forever.id, T0 + 60).await.unwrap();
    s.revoke_api_token(&forever.id, T0 + 70).await.unwrap();
    assert_not_found(s.find_api_token("hash-forever", T0 + 61).await);
    let listed = s.list_api_tokens(&user.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    let f = listed.iter().find(|t| t.id == forever.id).unwrap();
    assert_eq!(
        (f.last_used_at, f.revoked_at),
        (Some(T0 + 50), Some(T0 + 60))
    );
    assert_eq!(f.scopes, scopes);

    // A disabled user's tokens are revoked, and re-enabling brings none back.
    s.set_user_disabled(&user.id, true, T0 + 2).await.unwrap();
    assert_not_found(s.find_api_token("hash-short", T0 + 3).await);
    s.set_user_disabled(&user.id, false, T0 + 4).await.unwrap();
    assert_not_found(s.find_api_token("hash-short", T0 + 5).await);
    let short_now = s.list_api_tokens(&user.id).await.unwrap();
    let sh = short_now.iter().find(|t| t.name == "short").unwrap();
    assert_eq!(sh.revoked_at, Some(T0 + 2));
    let f = short_now.iter().find(|t| t.name == "forever").unwrap();
    assert_eq!(
        f.revoked_at,
        Some(T0 + 60),
        "the first revocation time is kept"
    );

    // A password reset revokes every token and ends every session of the user.
    let after = s
        .create_api_token(
            NewApiToken {
                user_id: &user.id,
                name: "after",
                token_hash: "hash-after",
                scopes: &[],
                expires_at: None,
            },
            T0 + 6,
        )
        .await
        .unwrap();
    s.create_session(
        NewSession {
            id_hash: "sess-ci",
            user_id: &user.id,
            csrf_token: "c",
            expires_at: T0 + HOUR,
        },
        T0 + 6,
    )
    .await
    .unwrap();
    assert_eq!(
        s.find_api_token("hash-after", T0 + 7).await.unwrap().id,
        after.id
    );
    s.set_user_password(&user.id, "new-hash", T0 + 8)
        .await
        .unwrap();
    assert_not_found(s.find_api_token("hash-after", T0 + 9).await);
    assert_not_found(s.get_session("sess-ci", T0 + 9).await);
    assert_not_found(s.revoke_api_token("missing", T0).await);
}

async fn enrolment_tokens_refuse_expired_revoked_and_exhausted(ctx: Ctx) {
    let s = &ctx.store;
    let l = labels(&[("environment", "prod"), ("provider", "hetzner")]);
    let token = s
        .create_enrolment_token(
            NewEnrolmentToken {
                token_hash: "enrol-1",
                project_id: None,
                labels: &l,
                expires_at: T0 + HOUR,
                max_uses: 2,
            },
            T0,
        )
        .await
        .unwrap();
    let used = s.consume_enrolment_token("enrol-1", T0 + 1).await.unwrap();
    assert_eq!((used.uses, &used.labels), (1, &l));
    assert_not_found(s.consume_enrolment_token("enrol-1", T0 + HOUR).await);
    s.consume_enrolment_token("enrol-1", T0 + 2).await.unwrap();
    assert_not_found(s.consume_enrolment_token("enrol-1", T0 + 3).await);

    s.create_enrolment_token(
        NewEnrolmentToken {
            token_hash: "enrol-2",
            project_id: None,
            labels: &l,
            expires_at: T0 + HOUR,
            max_uses: 10,
        },
        T0 + 1,
    )
    .await
    .unwrap();
    let listed = s.list_enrolment_tokens().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].id, token.id, "newest first");
    s.revoke_enrolment_token(&listed[0].id, T0 + 5)
        .await
        .unwrap();
    assert_not_found(s.consume_enrolment_token("enrol-2", T0 + 6).await);
    assert_not_found(s.consume_enrolment_token("never-issued", T0).await);
}

async fn enrolment_token_consumption_is_race_free(ctx: Ctx) {
    let s = &ctx.store;
    s.create_enrolment_token(
        NewEnrolmentToken {
            token_hash: "race",
            project_id: None,
            labels: &labels(&[]),
            expires_at: T0 + HOUR,
            max_uses: 3,
        },
        T0,
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.consume_enrolment_token("race", T0 + i).await })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::NotFound { .. }) => {}
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    assert_eq!(ok, 3);
    assert_eq!(s.list_enrolment_tokens().await.unwrap()[0].uses, 3);
}

async fn agents_are_found_by_certificate_until_revoked(ctx: Ctx) {
    let s = &ctx.store;
    let e = enrol(s, "web-1", &labels(&[("environment", "prod")]), T0).await;
    assert_eq!(e.host.labels, labels(&[("environment", "prod")]));
    assert_eq!(s.get_host(&e.host.id).await.unwrap(), e.host);
    let agent = s
        .active_agent_by_fingerprint(&e.agent.cert_fingerprint)
        .await
        .unwrap();
    assert_eq!(agent, e.agent);
    assert_eq!(
        s.agent_by_serial(&e.agent.cert_serial).await.unwrap(),
        e.agent
    );
    s.revoke_agent(&agent.id, T0 + 5).await.unwrap();
    assert_not_found(
        s.active_agent_by_fingerprint(&e.agent.cert_fingerprint)
            .await,
    );
    assert_eq!(
        s.agent_by_serial(&e.agent.cert_serial)
            .await
            .unwrap()
            .revoked_at,
        Some(T0 + 5)
    );
    assert_eq!(s.host_agents(&e.host.id).await.unwrap().len(), 1);

    s.record_checkin(&e.host.id, T0 + 100).await.unwrap();
    s.record_checkin(&e.host.id, T0 + 50).await.unwrap();
    assert_eq!(s.get_host(&e.host.id).await.unwrap().last_seen, T0 + 100);
    assert_not_found(s.record_checkin("missing", T0).await);

    s.set_host_labels(&e.host.id, &labels(&[("region", "fsn1")]))
        .await
        .unwrap();
    assert_eq!(
        s.get_host(&e.host.id).await.unwrap().labels,
        labels(&[("region", "fsn1")])
    );
    s.delete_host(&e.host.id).await.unwrap();
    assert_not_found(s.get_host(&e.host.id).await);
    assert_not_found(s.agent_by_serial(&e.agent.cert_serial).await);
}

async fn pending_updates_learn_what_they_fix(ctx: Ctx) {
    let s = &ctx.store;
    let e = enrol(s, "alpine-1", &labels(&[]), T0).await;
    let mut inv = inventory("alpine-1", ("alpine", "3.20"), packages(3));
    let update = |name: &str, candidate: &str, category| PendingUpdate {
        name: name.into(),
        arch: Some("x86_64".into()),
        installed: "1.0-r0".into(),
        candidate: candidate.into(),
        origin: "https://dl-cdn.alpinelinux.org/alpine/v3.20/main".into(),
        category,
    };
    inv.state.updates = vec![
        update("musl", "1.2.5-r1", UpdateCategory::Unknown),
        update("zlib", "1.3.1-r1", UpdateCategory::Unknown),
        update("curl", "8.9.0-r0", UpdateCategory::Security),
    ];
    s.record_inventory(&e.host.id, &inv, T0 + 10).await.unwrap();
    let classes = |s: Vec<rampart_store::HostUpdate>| {
        s.into_iter()
            .map(|u| {
                (
                    u.update.name,
                    u.update.category,
                    u.reported_category,
                    u.fixes,
                    u.severity,
                )
            })
            .collect::<Vec<_>>()
    };
    // Before anything is known, an unknown class is shown as other.
    assert_eq!(
        classes(s.host_updates(&e.host.id).await.unwrap()),
        [
            (
                "musl".into(),
                UpdateCategory::Other,
                UpdateCategory::Unknown,
                vec![],
                None
            ),
            (
                "zlib".into(),
                UpdateCategory::Other,
                UpdateCategory::Unknown,
                vec![],
                None
            ),
            (
                "curl".into(),
                UpdateCategory::Security,
                UpdateCategory::Security,
                vec![],
                None
            ),
        ]
    );
    let class =
        |name: &str, arch: &str, candidate: &str, fixes: &[&str], severity| UpdateClassification {
            name: name.into(),
            arch: Some(arch.into()),
            candidate: candidate.into(),
            fixes: fixes.iter().map(|f| f.to_string()).collect(),
            severity,
        };
    s.classify_host_updates(
        &e.host.id,
        &[
            class(
                "musl",
                "x86_64",
                "1.2.5-r1",
                &["CVE-A", "CVE-B"],
                Some(SeverityLevel::High),
            ),
            // A stale classification (another candidate) lands nowhere.
            class(
                "zlib",
                "x86_64",
                "1.3.1-r0",
                &["CVE-C"],
                Some(SeverityLevel::Low),
            ),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        classes(s.host_updates(&e.host.id).await.unwrap()),
        [
            (
                "musl".into(),
                UpdateCategory::Security,
                UpdateCategory::Unknown,
                vec!["CVE-A".into(), "CVE-B".into()],
                Some(SeverityLevel::High)
            ),
            (
                "zlib".into(),
                UpdateCategory::Other,
                UpdateCategory::Unknown,
                vec![],
                None
            ),
            (
                "curl".into(),
                UpdateCategory::Security,
                UpdateCategory::Security,
                vec![],
                None
            ),
        ]
    );
    // The findings went away: back to what the package manager said.
    s.classify_host_updates(&e.host.id, &[]).await.unwrap();
    let after = classes(s.host_updates(&e.host.id).await.unwrap());
    assert_eq!(after[0].1, UpdateCategory::Other);
    assert_eq!(after[0].3, Vec::<String>::new());
    assert_eq!(after[2].1, UpdateCategory::Security);
}

async fn inventory_is_idempotent(ctx: Ctx) {
    let s = &ctx.store;
    let e = enrol(s, "db-1", &labels(&[]), T0).await;
    let inv = inventory("db-1", ("debian", "12"), packages(50));
    let first = s.record_inventory(&e.host.id, &inv, T0 + 10).await.unwrap();
    assert_eq!(
        first,
        InventoryOutcome::Stored {
            packages_changed: true,
            new_package_set: true
        }
    );
    let stats = s.package_set_stats().await.unwrap();
    assert_eq!(stats, (1, 50));

    // The agent resends the same inventory (e.g. after a crash): nothing new is stored.
    let again = s.record_inventory(&e.host.id, &inv, T0 + 20).await.unwrap();
    assert_eq!(again, InventoryOutcome::Unchanged);
    assert_eq!(s.package_set_stats().await.unwrap(), stats);
    assert_eq!(
        s.inventory_history(&e.host.id, Page::default())
            .await
            .unwrap()
            .total,
        1
    );
    assert_eq!(s.host_updates(&e.host.id).await.unwrap().len(), 1);
    let host = s.get_host(&e.host.id).await.unwrap();
    assert_eq!(
        (host.last_inventory_at, host.last_updated_at),
        (Some(T0 + 20), Some(T0 + 10))
    );
    assert_eq!(
        (host.os_id.as_str(), host.os_version.as_str()),
        ("debian", "12")
    );
    assert_eq!(host.ecosystem.as_deref(), Some("Debian:12"));
    assert_eq!(
        s.host_packages(&e.host.id).await.unwrap(),
        inv.state.packages
    );
    assert_eq!(
        s.host_inventory(&e.host.id).await.unwrap(),
        Some(inv.clone())
    );

    // Only the uptime changed: a new state but the same packages.
    let mut uptime_only = inv.clone();
    uptime_only.state.host.reboot_required = true;
    assert_eq!(
        s.record_inventory(&e.host.id, &uptime_only, T0 + 30)
            .await
            .unwrap(),
        InventoryOutcome::Stored {
            packages_changed: false,
            new_package_set: false
        }
    );
    assert_eq!(
        s.get_host(&e.host.id).await.unwrap().last_updated_at,
        Some(T0 + 10)
    );

    // An upgrade: a new package set; the old one goes, as no host uses it any more
    // (the history keeps its hash).
    let upgraded = inventory("db-1", ("debian", "12"), packages(51));
    s.record_inventory(&e.host.id, &upgraded, T0 + 40)
        .await
        .unwrap();
    assert_eq!(s.package_set_stats().await.unwrap(), (1, 51));
    let history = s
        .inventory_history(&e.host.id, Page::default())
        .await
        .unwrap();
    assert_eq!(history.total, 3);
    assert_eq!(history.items[0].received_at, T0 + 40);
    assert_eq!(
        s.get_host(&e.host.id).await.unwrap().last_updated_at,
        Some(T0 + 40)
    );
    assert_not_found(s.record_inventory("missing", &inv, T0).await);
}

async fn identical_packages_share_one_set(ctx: Ctx) {
    let s = &ctx.store;
    let a = enrol(s, "a", &labels(&[]), T0).await;
    let b = enrol(s, "b", &labels(&[]), T0).await;
    let pk = packages(200);
    s.record_inventory(
        &a.host.id,
        &inventory("a", ("debian", "12"), pk.clone()),
        T0 + 1,
    )
    .await
    .unwrap();
    let outcome = s
        .record_inventory(
            &b.host.id,
            &inventory("b", ("debian", "12"), pk.clone()),
            T0 + 2,
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        InventoryOutcome::Stored {
            packages_changed: true,
            new_package_set: false
        }
    );
    assert_eq!(s.package_set_stats().await.unwrap(), (1, 200));
    let (ha, hb) = (
        s.get_host(&a.host.id).await.unwrap(),
        s.get_host(&b.host.id).await.unwrap(),
    );
    assert_eq!(ha.package_set_hash, hb.package_set_hash);
    assert_ne!(ha.state_hash, hb.state_hash);
    assert_eq!(s.host_packages(&b.host.id).await.unwrap(), pk);
    assert_eq!(
        s.package_set(ha.package_set_hash.as_deref().unwrap())
            .await
            .unwrap()
            .len(),
        200
    );
}

async fn findings_replace_keeps_first_seen(ctx: Ctx) {
    use SeverityLevel::*;
    let s = &ctx.store;
    let e = enrol(s, "h", &labels(&[]), T0).await;
    let id = &e.host.id;
    s.replace_findings(
        id,
        &[
            finding("DSA-1", "openssl", "3.0.1", High),
            finding("DSA-2", "curl", "7.88", Critical),
        ],
        T0 + 10,
    )
    .await
    .unwrap();
    // Recomputed later: DSA-1 persists on a newer (still vulnerable) openssl, DSA-2 was
    // fixed, DSA-3 is new. The duplicate entry is ignored.
    let mut ranged = finding("DSA-3", "zlib", "1.2", Low);
    ranged.reason = MatchReason::Range {
        kind: rampart_core::advisory::RangeKind::Ecosystem,
        introduced: Some("0".into()),
        fixed: Some("1.3".into()),
        last_affected: None,
    };
    ranged.severity.cvss = None;
    ranged.fixed = None;
    s.replace_findings(
        id,
        &[
            finding("DSA-1", "openssl", "3.0.2", High),
            ranged.clone(),
            ranged.clone(),
        ],
        T0 + 20,
    )
    .await
    .unwrap();
    let found = s.host_findings(id).await.unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].finding.advisory, "DSA-1");
    assert_eq!(
        (found[0].first_seen, found[0].updated_at),
        (T0 + 10, T0 + 20)
    );
    assert_eq!(found[0].finding.installed, "3.0.2");
    assert_eq!(found[1].finding, ranged);
    assert_eq!(found[1].first_seen, T0 + 20);
    assert_eq!(found[1].hostname, "h");
    let counts = s.host_severity_counts(id).await.unwrap();
    assert_eq!(
        (counts.high, counts.low, counts.critical, counts.total()),
        (1, 1, 0, 2)
    );

    s.replace_findings(id, &[], T0 + 30).await.unwrap();
    assert!(s.host_findings(id).await.unwrap().is_empty());
    assert_not_found(s.replace_findings("missing", &[], T0).await);
}

async fn host_filters_and_pagination(ctx: Ctx) {
    let s = &ctx.store;
    let mut ids = Vec::new();
    for i in 0..25 {
        let env = if i % 5 == 0 { "staging" } else { "prod" };
        let region = if i < 10 { "fsn1" } else { "nbg1" };
        let e = enrol(
            s,
            &format!("web-{i:02}"),
            &labels(&[("environment", env), ("region", region)]),
            T0 + i,
        )
        .await;
        let os = if i % 2 == 0 {
            ("debian", "12")
        } else {
            ("ubuntu", "24.04")
        };
        s.record_inventory(
            &e.host.id,
            &inventory(&format!("web-{i:02}"), os, packages(5)),
            T0 + 100,
        )
        .await
        .unwrap();
        ids.push(e.host.id);
    }
    s.replace_findings(
        &ids[3],
        &[finding("DSA-9", "openssl", "1", SeverityLevel::Critical)],
        T0,
    )
    .await
    .unwrap();
    s.replace_findings(
        &ids[4],
        &[finding("DSA-8", "openssl", "1", SeverityLevel::High)],
        T0,
    )
    .await
    .unwrap();

    let all = s
        .list_hosts(
            &HostFilter::default(),
            Page {
                limit: 10,
                offset: 20,
            },
        )
        .await
        .unwrap();
    assert_eq!((all.total, all.items.len()), (25, 5));
    assert_eq!(all.items[0].hostname, "web-20");
    assert_eq!(all.items[0].labels.len(), 2);

    let prod = HostFilter {
        labels: labels(&[("environment", "prod")]),
        ..HostFilter::default()
    };
    let page = s
        .list_hosts(
            &prod,
            Page {
                limit: 7,
                offset: 0,
            },
        )
        .await
        .unwrap();
    assert_eq!((page.total, page.items.len()), (20, 7));

    let check = |filter: HostFilter, expected: u64| async move {
        let got = s.list_hosts(&filter, Page::default()).await.unwrap();
        assert_eq!(got.total, expected, "{filter:?}");
        assert_eq!(got.items.len() as u64, expected);
    };
    check(
        HostFilter {
            labels: labels(&[("environment", "prod"), ("region", "fsn1")]),
            ..HostFilter::default()
        },
        8,
    )
    .await;
    check(
        HostFilter {
            os_id: Some("debian".into()),
            os_version: Some("12".into()),
            ..HostFilter::default()
        },
        13,
    )
    .await;
    check(
        HostFilter {
            text: Some("WEB-1".into()),
            ..HostFilter::default()
        },
        10,
    )
    .await;
    check(
        HostFilter {
            text: Some("nbg".into()),
            ..HostFilter::default()
        },
        15,
    )
    .await;
    check(
        HostFilter {
            text: Some("%".into()),
            ..HostFilter::default()
        },
        0,
    )
    .await;
    check(
        HostFilter {
            has_critical: Some(true),
            ..HostFilter::default()
        },
        1,
    )
    .await;
    check(
        HostFilter {
            has_critical: Some(false),
            ..HostFilter::default()
        },
        24,
    )
    .await;
    check(
        HostFilter {
            advisory: Some("CVE-DSA-8".into()),
            ..HostFilter::default()
        },
        1,
    )
    .await;

    let project = s
        .create_project(
            NewProject {
                name: "staging",
                description: "",
                selector: &labels(&[("environment", "staging")]),
            },
            T0,
        )
        .await
        .unwrap();
    check(
        HostFilter {
            project_id: Some(project.id.clone()),
            ..HostFilter::default()
        },
        5,
    )
    .await;
    check(
        HostFilter {
            project_id: Some("no-such-project".into()),
            ..HostFilter::default()
        },
        0,
    )
    .await;
    let by_host = s.severity_counts_by_host().await.unwrap();
    assert_eq!(by_host.len(), 2);
    assert_eq!(by_host[&ids[3]].critical, 1);
    // The same counts for a chosen page of hosts; hosts without findings are absent.
    let page: Vec<String> = ids.iter().skip(2).cloned().collect();
    let for_page = s.severity_counts_for_hosts(&page).await.unwrap();
    let expected: BTreeMap<_, _> = by_host
        .iter()
        .filter(|(id, _)| page.contains(id))
        .map(|(id, c)| (id.clone(), *c))
        .collect();
    assert_eq!(for_page, expected);
    assert!(s.severity_counts_for_hosts(&[]).await.unwrap().is_empty());
}

async fn finding_filters_and_pagination(ctx: Ctx) {
    use SeverityLevel::*;
    let s = &ctx.store;
    let prod = enrol(s, "prod-1", &labels(&[("environment", "prod")]), T0).await;
    let dev = enrol(s, "dev-1", &labels(&[("environment", "dev")]), T0).await;
    let mut many = Vec::new();
    for i in 0..30 {
        let level = [Critical, High, Medium, Low, Unknown][i % 5];
        many.push(finding(
            &format!("DSA-{i:02}"),
            &format!("p{i}"),
            "1",
            level,
        ));
    }
    s.replace_findings(&prod.host.id, &many, T0).await.unwrap();
    s.replace_findings(&dev.host.id, &many[..10], T0)
        .await
        .unwrap();

    let check = |filter: FindingFilter, page: Page, total: u64, len: usize| async move {
        let got = s.list_findings(&filter, page).await.unwrap();
        assert_eq!((got.total, got.items.len()), (total, len), "{filter:?}");
        got
    };
    let first = check(
        FindingFilter::default(),
        Page {
            limit: 15,
            offset: 0,
        },
        40,
        15,
    )
    .await;
    assert!(
        first
            .items
            .iter()
            .take(8)
            .all(|f| f.finding.severity.level == Critical)
    );
    check(
        FindingFilter::default(),
        Page {
            limit: 15,
            offset: 30,
        },
        40,
        10,
    )
    .await;
    check(
        FindingFilter {
            severity: Some(Critical),
            ..FindingFilter::default()
        },
        Page::default(),
        8,
        8,
    )
    .await;
    check(
        FindingFilter {
            min_severity: Some(High),
            ..FindingFilter::default()
        },
        Page::default(),
        16,
        16,
    )
    .await;
    let by_alias = check(
        FindingFilter {
            advisory: Some("CVE-DSA-03".into()),
            ..FindingFilter::default()
        },
        Page::default(),
        2,
        2,
    )
    .await;
    assert_eq!(by_alias.items[0].hostname, "dev-1", "ordered by hostname");
    check(
        FindingFilter {
            advisory: Some("DSA-03".into()),
            package: Some("p3".into()),
            ..FindingFilter::default()
        },
        Page::default(),
        2,
        2,
    )
    .await;
    let project = s
        .create_project(
            NewProject {
                name: "prod",
                description: "production",
                selector: &labels(&[("environment", "prod")]),
            },
            T0,
        )
        .await
        .unwrap();
    check(
        FindingFilter {
            project_id: Some(project.id),
            min_severity: Some(Critical),
            ..FindingFilter::default()
        },
        Page::default(),
        6,
        6,
    )
    .await;
    check(
        FindingFilter {
            host_id: Some(dev.host.id.clone()),
            ..FindingFilter::default()
        },
        Page::default(),
        10,
        10,
    )
    .await;
}

async fn projects_crud_and_membership(ctx: Ctx) {
    let s = &ctx.store;
    let selector = labels(&[("environment", "prod"), ("provider", "aws")]);
    let p = s
        .create_project(
            NewProject {
                name: "shop",
                description: "web shop",
                selector: &selector,
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(s.get_project(&p.id).await.unwrap(), p);
    assert_eq!(s.get_project_by_name("shop").await.unwrap(), p);
    enrol(
        s,
        "in",
        &labels(&[("environment", "prod"), ("provider", "aws"), ("x", "y")]),
        T0,
    )
    .await;
    enrol(s, "half", &labels(&[("environment", "prod")]), T0).await;
    let members = |id: String| async move {
        s.list_hosts(
            &HostFilter {
                project_id: Some(id),
                ..HostFilter::default()
            },
            Page::default(),
        )
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|h| h.hostname)
        .collect::<Vec<_>>()
    };
    assert_eq!(members(p.id.clone()).await, ["in"]);

    let updated = s
        .update_project(
            &p.id,
            ProjectUpdate {
                description: Some("all prod"),
                selector: Some(&labels(&[("environment", "prod")])),
                ..ProjectUpdate::default()
            },
            T0 + 1,
        )
        .await
        .unwrap();
    assert_eq!(
        (updated.name.as_str(), updated.description.as_str()),
        ("shop", "all prod")
    );
    assert_eq!(updated.updated_at, T0 + 1);
    assert_eq!(members(p.id.clone()).await, ["half", "in"]);

    let everything = s
        .create_project(
            NewProject {
                name: "all",
                description: "",
                selector: &BTreeMap::new(),
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(members(everything.id.clone()).await.len(), 2);
    let listed = s.list_projects().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[1].selector, labels(&[("environment", "prod")]));

    // Deleting a project clears it from enrolment tokens.
    s.create_enrolment_token(
        NewEnrolmentToken {
            token_hash: "t",
            project_id: Some(&p.id),
            labels: &selector,
            expires_at: T0 + HOUR,
            max_uses: 1,
        },
        T0,
    )
    .await
    .unwrap();
    s.delete_project(&p.id).await.unwrap();
    assert_not_found(s.get_project(&p.id).await);
    assert_eq!(s.list_enrolment_tokens().await.unwrap()[0].project_id, None);
    assert_not_found(s.delete_project(&p.id).await);
    assert_not_found(
        s.update_project("missing", ProjectUpdate::default(), T0)
            .await,
    );
}

fn advisory(id: &str, summary: &str) -> Advisory {
    Advisory {
        id: id.into(),
        aliases: vec![format!("CVE-{id}")],
        summary: Some(summary.into()),
        modified: Some("2025-01-01T00:00:00Z".into()),
        affected: vec![Affected {
            ecosystem: "Debian:12".into(),
            release: None,
            package: "openssl".into(),
            ranges: vec![],
            versions: vec!["1.0".into()],
            severity: None,
        }],
        ..Advisory::default()
    }
}

async fn advisories_upsert_and_load(ctx: Ctx) {
    let s = &ctx.store;
    let batch: Vec<Advisory> = (0..2500)
        .map(|i| advisory(&format!("DSA-{i:05}"), "first"))
        .collect();
    assert_eq!(
        s.upsert_advisories("osv-debian", &batch, T0).await.unwrap(),
        2500
    );
    // Re-importing identical records rewrites nothing.
    assert_eq!(
        s.upsert_advisories("osv-debian", &batch, T0 + 1)
            .await
            .unwrap(),
        0
    );
    // One changed record, given twice: the later one wins.
    let changed = [
        advisory("DSA-00007", "second"),
        advisory("DSA-00007", "third"),
        advisory("NEW-1", "new"),
    ];
    assert_eq!(
        s.upsert_advisories("osv-debian", &changed, T0 + 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(s.advisory_count().await.unwrap(), 2501);
    assert_eq!(
        s.get_advisory("DSA-00007")
            .await
            .unwrap()
            .summary
            .as_deref(),
        Some("third")
    );
    let all = s.load_advisories().await.unwrap();
    assert_eq!(all.len(), 2501);
    assert_eq!(all[0], batch[0]);
    assert_not_found(s.get_advisory("nope").await);

    let first = s
        .record_feed_import(
            FeedImport {
                source: "osv-debian",
                records: 2500,
                problems: 3,
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(first.generation, 1);
    let second = s
        .record_feed_import(
            FeedImport {
                source: "osv-debian",
                records: 2501,
                problems: 0,
            },
            T0 + HOUR,
        )
        .await
        .unwrap();
    assert_eq!(
        (second.generation, second.record_count, second.imported_at),
        (2, 2501, T0 + HOUR)
    );
    assert_eq!(s.list_feeds().await.unwrap(), vec![second]);
}

async fn unicode_and_huge_strings_round_trip(ctx: Ctx) {
    let s = &ctx.store;
    let name = "Zoë 山田 🛡️ \u{202e}rtl 'quote\" ; DROP TABLE users; --";
    let user = s
        .create_user(
            NewUser {
                name,
                role: "viewer",
                password_hash: "h",
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(s.get_user_by_name(name).await.unwrap(), user);

    let huge = "ä🦀x".repeat(300_000); // 2.4 MB of UTF-8
    let p = s
        .create_project(
            NewProject {
                name: "größe",
                description: &huge,
                selector: &labels(&[("ключ", "значение 🌍")]),
            },
            T0,
        )
        .await
        .unwrap();
    assert_eq!(s.get_project(&p.id).await.unwrap(), p);

    let host_labels = labels(&[("owner", "José Müller"), ("notes", &"é".repeat(100_000))]);
    let e = enrol(s, "サーバー-1", &host_labels, T0).await;
    let got = s.get_host(&e.host.id).await.unwrap();
    assert_eq!(
        (got.hostname.as_str(), &got.labels),
        ("サーバー-1", &host_labels)
    );
    let found = s
        .list_hosts(
            &HostFilter {
                text: Some("josé".into()),
                ..HostFilter::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(found.total, 1);

    let mut pk = packages(3);
    pk[0].name = "lib\u{00e9}\u{0301}-ñ".into();
    pk[1].version = "v".repeat(50_000);
    let inv = inventory("サーバー-1", ("debian", "12"), pk.clone());
    s.record_inventory(&e.host.id, &inv, T0 + 1).await.unwrap();
    assert_eq!(s.host_packages(&e.host.id).await.unwrap(), pk);
    assert_eq!(s.host_inventory(&e.host.id).await.unwrap(), Some(inv));

    let mut a = advisory("UNICODE-1", &huge);
    a.aliases.push("ÆØÅ-🦀".into());
    s.upsert_advisories("src", std::slice::from_ref(&a), T0)
        .await
        .unwrap();
    assert_eq!(s.get_advisory("UNICODE-1").await.unwrap(), a);
}

async fn unique_violations_are_conflicts(ctx: Ctx) {
    let s = &ctx.store;
    let new = NewUser {
        name: "dup",
        role: "viewer",
        password_hash: "h",
    };
    let user = s.create_user(new.clone(), T0).await.unwrap();
    assert!(matches!(
        s.create_user(new, T0).await,
        Err(Error::Conflict { entity: "user" })
    ));
    let token = |name: &'static str, hash: &'static str| NewApiToken {
        user_id: &user.id,
        name,
        token_hash: hash,
        scopes: &[],
        expires_at: None,
    };
    s.create_api_token(token("a", "h1"), T0).await.unwrap();
    assert!(matches!(
        s.create_api_token(token("a", "h2"), T0).await,
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        s.create_api_token(token("b", "h1"), T0).await,
        Err(Error::Conflict { .. })
    ));
    let e = enrol(s, "h", &labels(&[]), T0).await;
    let again = s
        .enrol_host(
            rampart_store::NewHost {
                hostname: "h2",
                machine_id: None,
                labels: &labels(&[]),
            },
            rampart_store::NewAgent {
                id: "other",
                cert_serial: &e.agent.cert_serial,
                cert_fingerprint: "fp-other",
            },
            T0,
        )
        .await;
    assert!(matches!(again, Err(Error::Conflict { entity: "agent" })));
    // The failed enrolment left no half-created host behind.
    assert_eq!(
        s.list_hosts(&HostFilter::default(), Page::default())
            .await
            .unwrap()
            .total,
        1
    );
    let project = NewProject {
        name: "p",
        description: "",
        selector: &BTreeMap::new(),
    };
    s.create_project(project.clone(), T0).await.unwrap();
    assert!(matches!(
        s.create_project(project, T0).await,
        Err(Error::Conflict { entity: "project" })
    ));
}

async fn report_schedules_are_claimed_once(ctx: Ctx) {
    let s = &ctx.store;
    let project = s
        .create_project(
            NewProject {
                name: "web",
                description: "",
                selector: &labels(&[("role", "web")]),
            },
            T0,
        )
        .await
        .unwrap();
    let channels = vec!["channel-mail".to_owned(), "channel-hook".to_owned()];
    let spec = |name, next| ReportScheduleSpec {
        name,
        report: "compliance",
        project_id: Some(&project.id),
        format: "pdf",
        cron: "0 7 * * MON",
        timezone: "Europe/Berlin",
        channel_ids: &channels,
        enabled: true,
        next_run_at: next,
    };
    let weekly = s
        .create_report_schedule(spec("weekly", Some(T0 + HOUR)), "user-1", T0)
        .await
        .unwrap();
    assert_eq!(weekly.channel_ids, channels);
    assert_eq!(weekly.project_id.as_deref(), Some(project.id.as_str()));
    assert!(matches!(
        s.create_report_schedule(spec("weekly", None), "user-1", T0)
            .await,
        Err(Error::Conflict { .. })
    ));
    let mut bad = spec("orphan", None);
    bad.project_id = Some("missing");
    assert_not_found(s.create_report_schedule(bad, "user-1", T0).await);
    let mut off = spec("paused", None);
    off.enabled = false;
    s.create_report_schedule(off, "user-1", T0).await.unwrap();
    // A channel the schedules send through cannot be deleted; the refusal names them.
    match s.delete_channel("channel-hook").await {
        Err(Error::InUse { by, .. }) => {
            assert!(by.contains("\"paused\", \"weekly\""), "{by}")
        }
        other => panic!("expected InUse, got {other:?}"),
    }
    // An id that is only part of a listed one is not in use (nor does it exist).
    assert_not_found(s.delete_channel("channel").await);

    // Nothing is due before its time; disabled schedules never are.
    assert!(s.due_report_schedules(T0).await.unwrap().is_empty());
    let due = s.due_report_schedules(T0 + 2 * HOUR).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].id, weekly.id);

    // Two replicas race for the same occurrence: one wins.
    let (a, b) = tokio::join!(
        s.claim_report_schedule(&weekly.id, T0 + HOUR, Some(T0 + 169 * HOUR), T0 + 2 * HOUR),
        s.claim_report_schedule(&weekly.id, T0 + HOUR, Some(T0 + 169 * HOUR), T0 + 2 * HOUR),
    );
    let runs: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "running");
    assert!(
        s.due_report_schedules(T0 + 2 * HOUR)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.get_report_schedule(&weekly.id).await.unwrap().next_run_at,
        Some(T0 + 169 * HOUR)
    );

    let failed = s
        .finish_report_run(
            &runs[0].id,
            Err("pdf: font missing"),
            None,
            None,
            T0 + 3 * HOUR,
        )
        .await
        .unwrap();
    assert_eq!(
        (failed.status.as_str(), failed.error.as_deref()),
        ("failed", Some("pdf: font missing"))
    );
    let manual = s.start_report_run(&weekly.id, T0 + 4 * HOUR).await.unwrap();
    let sent = s
        .finish_report_run(
            &manual.id,
            Ok("event-1"),
            Some(12_345),
            Some("12 hosts, 3 non-compliant"),
            T0 + 5 * HOUR,
        )
        .await
        .unwrap();
    assert_eq!(
        (sent.status.as_str(), sent.bytes, sent.event_id.as_deref()),
        ("queued", Some(12_345), Some("event-1"))
    );
    let listed = s
        .list_report_runs(&weekly.id, Page::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 2);
    assert_eq!(listed.items[0].id, manual.id, "newest first");

    // Editing replaces the settings; deleting the project deletes its schedules.
    let mut edited = spec("weekly", Some(T0 + 10 * HOUR));
    edited.format = "csv";
    let weekly = s
        .update_report_schedule(&weekly.id, edited, T0 + 6 * HOUR)
        .await
        .unwrap();
    assert_eq!(
        (weekly.format.as_str(), weekly.created_by.as_str()),
        ("csv", "user-1")
    );
    assert_eq!(s.list_report_schedules().await.unwrap().len(), 2);
    s.delete_project(&project.id).await.unwrap();
    assert_eq!(s.list_report_schedules().await.unwrap().len(), 0);
    assert_not_found(s.get_report_run(&manual.id).await);
}

async fn pending_update_counts_per_host(ctx: Ctx) {
    let s = &ctx.store;
    let a = enrol(s, "a", &labels(&[]), T0).await.host.id;
    let b = enrol(s, "b", &labels(&[]), T0).await.host.id;
    let c = enrol(s, "c", &labels(&[]), T0).await.host.id;
    let mut inv = inventory("a", ("debian", "12"), packages(5));
    let mut other = inv.state.updates[0].clone();
    other.category = rampart_proto::UpdateCategory::Other;
    for name in ["curl", "zlib1g"] {
        inv.state.updates.push(rampart_proto::PendingUpdate {
            name: name.into(),
            ..other.clone()
        });
    }
    s.record_inventory(&a, &inv, T0 + 1).await.unwrap();
    s.record_inventory(&b, &inventory("b", ("debian", "12"), packages(5)), T0 + 1)
        .await
        .unwrap();
    let counts = s.pending_update_counts_by_host().await.unwrap();
    let get = |id: &str| counts.get(id).map(|u| (u.total, u.security));
    assert_eq!(get(&a), Some((3, 1)));
    assert_eq!(get(&b), Some((1, 1)));
    assert_eq!(get(&c), None, "no inventory, no entry");
    s.delete_host(&b).await.unwrap();
    assert_eq!(s.pending_update_counts_by_host().await.unwrap().len(), 1);
}

/// The dashboard's aggregates equal what the per-host listings say.
async fn estate_summaries(ctx: Ctx) {
    let s = &ctx.store;
    let empty = s.estate_summary().await.unwrap();
    assert_eq!(empty, rampart_store::EstateSummary::default());
    let day = 24 * HOUR;
    let now = T0 + 400 * day;
    let mut ids = Vec::new();
    for i in 0..6 {
        let name = format!("db-{i}");
        let e = enrol(s, &name, &labels(&[]), T0).await;
        if i < 5 {
            let os = if i < 3 {
                ("debian", "12")
            } else {
                ("ubuntu", "24.04")
            };
            // Inventories at 0, 1, 10, 100 and 300 days before `now`; every one carries
            // one pending security update (see `support::inventory`).
            let age = [0, 1, 10, 100, 300][i];
            s.record_inventory(
                &e.host.id,
                &inventory(&name, os, packages(3 + i)),
                now - age * day,
            )
            .await
            .unwrap();
        }
        ids.push(e.host.id);
    }
    use SeverityLevel::*;
    s.replace_findings(
        &ids[0],
        &[
            finding("DSA-1", "openssl", "1", Critical),
            finding("DSA-2", "openssl", "1", High),
            finding("DSA-3", "zlib", "1", Medium),
        ],
        now,
    )
    .await
    .unwrap();
    s.replace_findings(
        &ids[1],
        &[
            finding("DSA-1", "openssl", "1", Critical),
            finding("DSA-4", "curl", "2", Low),
        ],
        now,
    )
    .await
    .unwrap();
    s.replace_findings(&ids[2], &[finding("DSA-3", "zlib", "1", Medium)], now)
        .await
        .unwrap();
    s.replace_findings(&ids[3], &[finding("DSA-3", "zlib", "1", Medium)], now)
        .await
        .unwrap();

    let sum = s.estate_summary().await.unwrap();
    assert_eq!(sum.hosts, 6);
    assert_eq!(sum.hosts_with_critical, 2);
    assert_eq!(
        (
            sum.findings.critical,
            sum.findings.high,
            sum.findings.medium,
            sum.findings.low
        ),
        (2, 1, 3, 1)
    );
    assert_eq!(sum.findings.total(), 7);
    assert_eq!(sum.pending_updates, 5);
    assert_eq!(sum.pending_security_updates, 5);
    assert_eq!(sum.hosts_with_security_updates, 5);
    // The same numbers through the listings the API serves.
    let critical = s
        .list_findings(
            &FindingFilter {
                severity: Some(Critical),
                ..FindingFilter::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(critical.total, sum.findings.critical);
    let with_critical = s
        .list_hosts(
            &HostFilter {
                has_critical: Some(true),
                ..HostFilter::default()
            },
            Page::default(),
        )
        .await
        .unwrap();
    assert_eq!(with_critical.total, sum.hosts_with_critical);

    let ages = s.hosts_by_update_age(now, &[0, 7, 30, 90]).await.unwrap();
    assert_eq!(
        ages,
        UpdateAges {
            counts: vec![1, 1, 1, 0, 2],
            never: 1
        }
    );
    // An inventory stamped after `now` (another replica's clock) counts as today.
    let ages = s.hosts_by_update_age(now - 5 * day, &[0]).await.unwrap();
    assert_eq!(
        ages,
        UpdateAges {
            counts: vec![2, 3],
            never: 1
        }
    );

    let top = s.top_vulnerable_packages(2).await.unwrap();
    let got: Vec<(&str, u64, u64, u64, SeverityLevel)> = top
        .iter()
        .map(|p| {
            (
                p.package.as_str(),
                p.hosts,
                p.findings,
                p.advisories,
                p.worst,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![("zlib", 3, 3, 1, Medium), ("openssl", 2, 3, 2, Critical)]
    );
    assert_eq!(s.top_vulnerable_packages(10).await.unwrap().len(), 3);

    let os = s.os_releases().await.unwrap();
    let release = |id: &str, v: &str, n| OsRelease {
        os_id: id.into(),
        os_version: v.into(),
        hosts: n,
    };
    assert_eq!(
        os,
        vec![
            release("", "", 1),
            release("debian", "12", 3),
            release("ubuntu", "24.04", 2)
        ]
    );
}

/// Every sort order pages without overlap and puts the expected host first.
async fn host_sorting(ctx: Ctx) {
    let s = &ctx.store;
    let day = 24 * HOUR;
    let mut ids = Vec::new();
    for (i, name) in ["charlie", "alpha", "echo", "bravo", "delta"]
        .iter()
        .enumerate()
    {
        let e = enrol(s, name, &labels(&[]), T0).await;
        if *name != "delta" {
            let os = if i % 2 == 0 {
                ("debian", "12")
            } else {
                ("alpine", "3.20")
            };
            s.record_inventory(
                &e.host.id,
                &inventory(name, os, packages(2 + i)),
                T0 + (i as i64) * day,
            )
            .await
            .unwrap();
        }
        ids.push(e.host.id);
    }
    // delta checks in without an inventory, after everyone else's.
    s.record_checkin(&ids[4], T0 + 10 * day).await.unwrap();
    use SeverityLevel::*;
    // echo: 1 critical; bravo: 1 critical + 1 high; alpha: 2 high.
    s.replace_findings(&ids[2], &[finding("A-1", "p", "1", Critical)], T0)
        .await
        .unwrap();
    s.replace_findings(
        &ids[3],
        &[
            finding("A-1", "p", "1", Critical),
            finding("A-2", "q", "1", High),
        ],
        T0,
    )
    .await
    .unwrap();
    s.replace_findings(
        &ids[1],
        &[
            finding("A-2", "q", "1", High),
            finding("A-3", "r", "1", High),
        ],
        T0,
    )
    .await
    .unwrap();

    let names = |sort, descending| async move {
        let mut out = Vec::new();
        for offset in [0, 2, 4] {
            let page = s
                .list_hosts_ordered(
                    &HostFilter::default(),
                    HostOrder { sort, descending },
                    Page { limit: 2, offset },
                )
                .await
                .unwrap();
            assert_eq!(page.total, 5);
            out.extend(page.items.into_iter().map(|h| h.hostname));
        }
        out
    };
    assert_eq!(
        names(HostSort::Hostname, false).await,
        ["alpha", "bravo", "charlie", "delta", "echo"]
    );
    assert_eq!(
        names(HostSort::Hostname, true).await,
        ["echo", "delta", "charlie", "bravo", "alpha"]
    );
    // delta has no inventory: empty OS sorts first, then alpine, then debian by name.
    assert_eq!(
        names(HostSort::Os, false).await,
        ["delta", "alpha", "bravo", "charlie", "echo"]
    );
    // Last seen: charlie day 0, alpha 1, echo 2, bravo 3 (inventories), delta 10.
    assert_eq!(
        names(HostSort::LastSeen, true).await,
        ["delta", "bravo", "echo", "alpha", "charlie"]
    );
    // Never updated (delta) is the oldest.
    assert_eq!(
        names(HostSort::LastUpdated, false).await,
        ["delta", "charlie", "alpha", "echo", "bravo"]
    );
    assert_eq!(
        names(HostSort::Critical, true).await,
        ["bravo", "echo", "alpha", "charlie", "delta"]
    );
    // Sorting composes with filters.
    let debian = s
        .list_hosts_ordered(
            &HostFilter {
                os_id: Some("debian".into()),
                ..HostFilter::default()
            },
            HostOrder {
                sort: HostSort::LastUpdated,
                descending: true,
            },
            Page::default(),
        )
        .await
        .unwrap();
    let got: Vec<&str> = debian.items.iter().map(|h| h.hostname.as_str()).collect();
    assert_eq!(got, ["echo", "charlie"]);
}

/// One agent sending ever new package lists grew the database without bound: a set is
/// now kept only while a host uses it, and the history per host is capped.
async fn package_sets_no_host_uses_are_collected(ctx: Ctx) {
    let s = &ctx.store;
    let a = enrol(s, "a", &labels(&[]), T0).await;
    let b = enrol(s, "b", &labels(&[]), T0).await;
    let (old, new) = (packages(30), packages(31));
    for (host, at) in [(&a, 1), (&b, 2)] {
        s.record_inventory(
            &host.host.id,
            &inventory("x", ("debian", "12"), old.clone()),
            T0 + at,
        )
        .await
        .unwrap();
    }
    assert_eq!(s.package_set_stats().await.unwrap(), (1, 30));
    // a moves on; b still uses the old set, so it stays.
    s.record_inventory(
        &a.host.id,
        &inventory("a", ("debian", "12"), new.clone()),
        T0 + 3,
    )
    .await
    .unwrap();
    assert_eq!(s.package_set_stats().await.unwrap(), (2, 61));
    // b moves on too: the old set goes with its members.
    s.record_inventory(
        &b.host.id,
        &inventory("b", ("debian", "12"), new.clone()),
        T0 + 4,
    )
    .await
    .unwrap();
    assert_eq!(s.package_set_stats().await.unwrap(), (1, 31));
    // A deleted host's set is swept up.
    let c = enrol(s, "c", &labels(&[]), T0).await;
    s.record_inventory(
        &c.host.id,
        &inventory("c", ("debian", "12"), packages(5)),
        T0 + 5,
    )
    .await
    .unwrap();
    s.delete_host(&c.host.id).await.unwrap();
    assert_eq!(s.collect_unused_package_sets().await.unwrap(), 1);
    assert_eq!(s.package_set_stats().await.unwrap(), (1, 31));
    assert_eq!(s.collect_unused_package_sets().await.unwrap(), 0);

    // The history keeps the newest HISTORY_KEPT entries of a host.
    let kept = rampart_store::HISTORY_KEPT as usize;
    for i in 0..kept + 3 {
        let inv = inventory(&format!("a-{i}"), ("debian", "12"), packages(1));
        s.record_inventory(&a.host.id, &inv, T0 + 10 + i as i64)
            .await
            .unwrap();
    }
    let history = s
        .inventory_history(&a.host.id, Page::default())
        .await
        .unwrap();
    assert_eq!(history.total as usize, kept);
    assert_eq!(history.items[0].received_at, T0 + 10 + (kept + 2) as i64);
    assert_eq!(s.package_set_stats().await.unwrap(), (2, 32));
}

/// One host leaves a set while another adopts it, at the same time, over and over:
/// neither check-in fails and the adopter's packages are always there (PostgreSQL locks
/// the set's row; SQLite serialises the writers).
async fn a_set_being_adopted_is_not_collected(ctx: Ctx) {
    let s = &ctx.store;
    let a = enrol(s, "a", &labels(&[]), T0).await;
    let b = enrol(s, "b", &labels(&[]), T0).await;
    for round in 0..12i64 {
        let shared = packages(20 + round as usize);
        let next = packages(60 + round as usize);
        s.record_inventory(
            &a.host.id,
            &inventory("a", ("debian", "12"), shared.clone()),
            T0 + round * 10,
        )
        .await
        .unwrap();
        let (a_next, b_shared) = (
            inventory("a", ("debian", "12"), next),
            inventory("b", ("debian", "12"), shared.clone()),
        );
        let leave = s.record_inventory(&a.host.id, &a_next, T0 + round * 10 + 1);
        let adopt = s.record_inventory(&b.host.id, &b_shared, T0 + round * 10 + 2);
        let (left, adopted) = tokio::join!(leave, adopt);
        left.unwrap();
        adopted.unwrap();
        assert_eq!(
            s.host_packages(&b.host.id).await.unwrap(),
            shared,
            "round {round}"
        );
        assert_eq!(
            s.collect_unused_package_sets().await.unwrap(),
            0,
            "round {round}"
        );
    }
}
