//! Notifications end to end: channels through the API, events through the notifier,
//! deliveries through the dispatcher to a real HTTP receiver started here (axum on
//! 127.0.0.1:0) that records every request and answers what the test scripted — so the
//! signature, the retry after a failure and its backoff are checked on the wire.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, Method, StatusCode};
use rampart_core::authz::Role;
use rampart_core::change_request::{ChangeRequestItem, OverdueUpdate};
use rampart_core::severity::SeverityLevel;
use rampart_notify::event::HostStale;
use rampart_notify::{Event, Payload, RetryPolicy};
use rampart_server::ServerConfig;
use rampart_server::notifier::{self, NotifyConfig};
use serde_json::{Value, json};

use crate::support::{Auth, T0, TestApp, each_backend};

/// What the receiver got.
#[derive(Clone, Debug)]
pub(crate) struct Received {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// A webhook receiver: answers the scripted (status, body) in order, then 200.
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn receiver(script: &[(u16, &str)]) -> Receiver {
    let got: Arc<Mutex<Vec<Received>>> = Arc::default();
    let answers: Arc<Mutex<VecDeque<(u16, String)>>> = Arc::new(Mutex::new(
        script.iter().map(|(s, b)| (*s, (*b).to_owned())).collect(),
    ));
    let record = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let record = record.clone();
            let answers = answers.clone();
            async move {
                record.lock().unwrap().push(Received {
                    headers,
                    body: body.to_vec(),
                });
                let (status, body) = answers
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or((200, String::new()));
                (StatusCode::from_u16(status).unwrap(), body)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Receiver {
        url: format!("http://{addr}/hook"),
        got,
        task,
    }
}

impl Receiver {
    pub(crate) fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing header {name}"))
}

/// An app with a master key and a quick retry policy (1 s base, 3 attempts).
pub(crate) async fn app(store: rampart_store::Store) -> TestApp {
    TestApp::with_config(
        store,
        ServerConfig {
            master_key: Some(rampart_pki::MasterKey::generate().unwrap()),
            notifications: NotifyConfig {
                retry: RetryPolicy {
                    max_attempts: 3,
                    base: Duration::from_secs(1),
                    max_delay: Duration::from_secs(60),
                },
                poll_interval: Duration::from_millis(50),
                ..NotifyConfig::default()
            },
            egress: crate::support::loopback_egress(),
            ..ServerConfig::default()
        },
    )
    .await
}

pub(crate) fn stale_event(now: i64) -> Event {
    Event::new(
        Payload::HostStale(HostStale {
            host_id: "h1".into(),
            hostname: "web-1".into(),
            last_seen_at: Some(now - 3 * 3_600_000),
        }),
        vec![],
        now,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_is_signed_and_retried_after_backoff_with_the_failure_visible() {
    each_backend(|store| async move {
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let hook = receiver(&[(500, "try later")]).await;

        let created = t
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(json!({
                    "name": "siem",
                    "kind": "webhook",
                    "config": {"url": hook.url},
                    "events": ["host.stale"],
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let secret = created.body["generated_secret"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(created.body["has_secret"], true);
        let channel_id = created.body["id"].as_str().unwrap().to_owned();
        // The secret is never shown again, and is not stored in clear.
        let listed = t.get("/api/v1/notification-channels", &auditor).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(!listed.text.contains(&secret));
        let stored = t.store.get_channel(&channel_id).await.unwrap();
        assert!(!stored.secret.as_deref().unwrap().contains(&secret[6..]));
        // The URL's path could be its token: shown as scheme and host only, and sealed
        // at rest like the secret.
        let origin = hook.url.trim_end_matches("/hook");
        let shown = &listed.body["items"][0]["config"]["url"];
        assert_eq!(shown, &json!(format!("{origin}/…")), "{}", listed.text);
        assert!(!listed.text.contains("/hook"), "{}", listed.text);
        assert!(!stored.config.contains("/hook"), "{}", stored.config);

        // Emit: one outbox row for the subscribed channel.
        let event = stale_event(t.now());
        let queued = notifier::emit(&t.store, &event, t.now()).await.unwrap();
        assert_eq!(queued.len(), 1);

        // First attempt: the receiver answers 500.
        assert_eq!(notifier::dispatch_due(&t.state).await.unwrap(), 1);
        let first = &hook.requests()[0];
        let failing = t
            .get("/api/v1/notification-deliveries?status=pending", &auditor)
            .await;
        assert_eq!(failing.body["total"], 1, "{}", failing.text);
        let d = &failing.body["items"][0];
        assert_eq!(d["attempts"], 1);
        assert_eq!(d["channel_name"], "siem");
        assert_eq!(d["last_error"], "HTTP 500: try later");
        let next = d["next_attempt_at"].as_i64().unwrap();
        assert!(
            (t.now() + 500..=t.now() + 1_000).contains(&next),
            "equal-jitter backoff of the 1 s base: {next} vs {}",
            t.now()
        );

        // Not due yet: nothing is sent before the backoff.
        assert_eq!(notifier::dispatch_due(&t.state).await.unwrap(), 0);
        assert_eq!(hook.requests().len(), 1);

        // The config read back and sent again (another field changed) keeps the full
        // URL; a redacted URL that is not this channel's is refused.
        let mut config = t
            .get(
                &format!("/api/v1/notification-channels/{channel_id}"),
                &admin,
            )
            .await
            .body["config"]
            .clone();
        config["timeout_secs"] = json!(10);
        let path = format!("/api/v1/notification-channels/{channel_id}");
        let patched = t
            .call(
                Method::PATCH,
                &path,
                &admin,
                Some(json!({"config": config})),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["config"]["timeout_secs"], 10);
        assert_eq!(patched.body["config"]["url"], config["url"]);
        let foreign = t
            .call(
                Method::PATCH,
                &path,
                &admin,
                Some(json!({"config": {"url": "https://elsewhere.example/…"}})),
            )
            .await;
        assert_eq!(foreign.status, StatusCode::BAD_REQUEST, "{}", foreign.text);
        assert!(foreign.text.contains("redacted"), "{}", foreign.text);

        // After the backoff: the second attempt succeeds.
        t.advance(1_000);
        assert_eq!(notifier::dispatch_due(&t.state).await.unwrap(), 1);
        let requests = hook.requests();
        assert_eq!(requests.len(), 2);
        let second = &requests[1];
        let delivered = t
            .get(
                &format!("/api/v1/notification-deliveries/{}", queued[0].id),
                &auditor,
            )
            .await;
        assert_eq!(delivered.body["status"], "delivered", "{}", delivered.text);
        assert_eq!(delivered.body["attempts"], 2);
        assert_eq!(delivered.body["next_attempt_at"], Value::Null);

        // Both attempts carry the same event and delivery ids, their own attempt
        // number, and a signature over their own timestamp that verifies with the
        // channel's secret.
        for (n, r) in [(1, first), (2, second)] {
            assert_eq!(header(r, "x-rampart-event"), "host.stale");
            assert_eq!(header(r, "x-rampart-event-id"), event.id);
            assert_eq!(header(r, "x-rampart-delivery-id"), queued[0].id);
            assert_eq!(header(r, "x-rampart-delivery-attempt"), n.to_string());
            assert_eq!(header(r, "content-type"), "application/json");
            let sig = header(r, "x-rampart-signature");
            let ts = rampart_notify::signature::verify(
                secret.as_bytes(),
                sig,
                &r.body,
                t.now() / 1000,
                300,
            )
            .unwrap_or_else(|e| panic!("signature {sig}: {e}"));
            let expected = if n == 1 {
                T0 / 1000
            } else {
                (T0 + 1_000) / 1000
            };
            assert_eq!(ts, expected, "signed at the attempt's time");
            // A wrong secret or an altered body does not verify.
            assert!(rampart_notify::signature::verify(b"wrong", sig, &r.body, ts, 300).is_err());
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(body["version"], 1);
            assert_eq!(body["id"], event.id.as_str());
            assert_eq!(body["kind"], "host.stale");
            assert_eq!(body["data"]["hostname"], "web-1");
        }
        assert_eq!(first.body, second.body, "the same body is resent");

        // A delivered notification cannot be retried; anyone but an admin cannot retry.
        let again = t
            .call(
                Method::POST,
                &format!("/api/v1/notification-deliveries/{}/retry", queued[0].id),
                &admin,
                None,
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hopeless_delivery_fails_and_can_be_retried_by_hand() {
    each_backend(|store| async move {
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let operator = Auth::Bearer(t.user_token("otto", Role::Operator).await);
        let hook = receiver(&[(404, "no such hook"), (503, ""), (503, "")]).await;
        let created = t
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(json!({
                    "name": "hook", "kind": "webhook", "secret": "my-signing-secret",
                    "config": {"url": hook.url}, "events": ["host.stale"],
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert!(created.body.get("generated_secret").is_none());
        let queued = notifier::emit(&t.store, &stale_event(t.now()), t.now())
            .await
            .unwrap();
        // 404 is not retryable: failed at once.
        notifier::dispatch_due(&t.state).await.unwrap();
        let failed = t
            .get("/api/v1/notification-deliveries?status=failed", &operator)
            .await;
        assert_eq!(failed.body["total"], 1, "{}", failed.text);
        assert_eq!(
            failed.body["items"][0]["last_error"],
            "HTTP 404: no such hook"
        );
        let sig = header(&hook.requests()[0], "x-rampart-signature").to_owned();
        rampart_notify::signature::verify(
            b"my-signing-secret",
            &sig,
            &hook.requests()[0].body,
            t.now() / 1000,
            300,
        )
        .unwrap();

        // Operators read but may not retry; an admin may.
        let path = format!("/api/v1/notification-deliveries/{}/retry", queued[0].id);
        let refused = t.call(Method::POST, &path, &operator, None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let retried = t.call(Method::POST, &path, &admin, None).await;
        assert_eq!(retried.status, StatusCode::OK, "{}", retried.text);
        assert_eq!(retried.body["status"], "pending");
        // 503 (retryable: pending again), then 503 at the third attempt: out of
        // attempts, failed for good.
        notifier::dispatch_due(&t.state).await.unwrap();
        let d = t.store.get_delivery(&queued[0].id).await.unwrap();
        assert_eq!(
            (d.status, d.attempts),
            (rampart_store::DeliveryStatus::Pending, 2)
        );
        t.advance(2_000);
        notifier::dispatch_due(&t.state).await.unwrap();
        let d = t.store.get_delivery(&queued[0].id).await.unwrap();
        assert_eq!(
            (d.status, d.attempts),
            (rampart_store::DeliveryStatus::Failed, 3)
        );
        assert_eq!(d.last_error.as_deref(), Some("HTTP 503"));
        assert_eq!(hook.requests().len(), 3);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_requests_reach_the_ticketing_webhook_and_record_its_reference() {
    each_backend(|store| async move {
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let operator = Auth::Bearer(t.user_token("otto", Role::Operator).await);
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let tickets = receiver(&[(201, r#"{"external_ref":"OPS-7"}"#)]).await;
        let other = receiver(&[]).await;
        let project = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &admin,
                Some(json!({"name": "web", "selector": {"env": "prod"}})),
            )
            .await;
        let project_id = project.body["id"].as_str().unwrap().to_owned();
        // The ticketing webhook subscribes to nothing; a plain webhook for another
        // event must not receive the change request.
        for (name, config, events) in [
            ("jira", json!({"url": tickets.url, "ticketing": true}), json!([])),
            ("siem", json!({"url": other.url}), json!(["host.stale"])),
        ] {
            let r = t
                .call(
                    Method::POST,
                    "/api/v1/notification-channels",
                    &admin,
                    Some(json!({"name": name, "kind": "webhook", "config": config, "events": events})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        let items = vec![ChangeRequestItem {
            host_id: "h1".into(),
            hostname: "web-1".into(),
            updates: vec![OverdueUpdate {
                package: "openssl".into(),
                installed: "3.0.11-1~deb12u1".into(),
                candidate: "3.0.11-1~deb12u2".into(),
                pending_since: T0 - 10 * 86_400_000,
            }],
        }];
        let cr = notifier::open_or_update_change_request(&t.state, &project_id, &items)
            .await
            .unwrap()
            .unwrap();
        // Unchanged items: no second event.
        notifier::open_or_update_change_request(&t.state, &project_id, &items)
            .await
            .unwrap();
        notifier::dispatch_due(&t.state).await.unwrap();
        assert!(other.requests().is_empty());
        let got = tickets.requests();
        assert_eq!(got.len(), 1);
        let body: Value = serde_json::from_slice(&got[0].body).unwrap();
        assert_eq!(body["kind"], "change_request.opened");
        assert_eq!(body["projects"], json!([project_id]));
        assert_eq!(body["data"]["change_request_id"], cr.id.as_str());
        assert_eq!(body["data"]["project_name"], "web");
        assert_eq!(body["data"]["items"][0]["updates"][0]["package"], "openssl");
        assert_eq!(
            body["data"]["items"][0]["updates"][0]["pending_since"],
            T0 - 10 * 86_400_000
        );

        let listed = t.get("/api/v1/change-requests?status=open", &auditor).await;
        assert_eq!(listed.body["total"], 1, "{}", listed.text);
        assert_eq!(listed.body["items"][0]["external_ref"], "OPS-7");
        assert_eq!(listed.body["items"][0]["items"][0]["hostname"], "web-1");

        let close = format!("/api/v1/change-requests/{}/close", cr.id);
        let refused = t.call(Method::POST, &close, &auditor, None).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        let closed = t.call(Method::POST, &close, &operator, None).await;
        assert_eq!(closed.status, StatusCode::OK, "{}", closed.text);
        assert_eq!(closed.body["status"], "closed");
        let one = t
            .get(&format!("/api/v1/change-requests/{}", cr.id), &auditor)
            .await;
        assert_eq!(one.body["closed_at"], t.now());

        // Overdue again: a new request opens, and its event says so.
        t.advance(1_000);
        let again = notifier::open_or_update_change_request(&t.state, &project_id, &items)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(again.id, cr.id);
        notifier::dispatch_due(&t.state).await.unwrap();
        assert_eq!(tickets.requests().len(), 2);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_critical_findings_are_emitted_once_per_host() {
    each_backend(|store| async move {
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let hook = receiver(&[]).await;
        let r = t
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(
                    json!({"name": "crit", "kind": "webhook", "config": {"url": hook.url},
                            "events": ["finding.critical"]}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let host = enrol(&t.store, "web-1", &[], t.now()).await;

        // A high and a critical finding appear: one event naming the critical one.
        let before = t.store.critical_finding_keys(Some(&host)).await.unwrap();
        t.store
            .replace_findings(
                &host,
                &[
                    finding("DSA-1", "openssl", SeverityLevel::High),
                    finding("DSA-2", "openssl", SeverityLevel::Critical),
                ],
                t.now(),
            )
            .await
            .unwrap();
        assert_eq!(
            notifier::after_findings(&t.store, &before, Some(&host), t.now())
                .await
                .unwrap(),
            1
        );
        // Recomputed with the same findings: nothing new, nothing sent.
        let before = t.store.critical_finding_keys(None).await.unwrap();
        t.store
            .replace_findings(
                &host,
                &[finding("DSA-2", "openssl", SeverityLevel::Critical)],
                t.now(),
            )
            .await
            .unwrap();
        assert_eq!(
            notifier::after_findings(&t.store, &before, None, t.now())
                .await
                .unwrap(),
            0
        );
        notifier::dispatch_due(&t.state).await.unwrap();
        let got = hook.requests();
        assert_eq!(got.len(), 1);
        let body: Value = serde_json::from_slice(&got[0].body).unwrap();
        assert_eq!(body["kind"], "finding.critical");
        assert_eq!(body["data"]["hostname"], "web-1");
        assert_eq!(body["data"]["findings"].as_array().unwrap().len(), 1);
        assert_eq!(body["data"]["findings"][0]["advisory"], "DSA-2");
    })
    .await;
}

/// One OSV record for `package` on Debian 12, fixed just above what the host runs.
fn write_advisory(dir: &std::path::Path, id: &str, package: &str, critical: bool) {
    let severity = if critical {
        json!([{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}])
    } else {
        json!([{"type": "Ubuntu", "score": "high"}])
    };
    let record = json!({
        "id": id, "modified": "2026-01-01T00:00:00Z", "severity": severity,
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.0-1"}]}],
        }],
    });
    std::fs::write(dir.join(format!("{id}.json")), record.to_string()).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_findings_engine_emits_new_critical_findings_after_check_ins_and_imports() {
    each_backend(|store| async move {
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let hook = receiver(&[]).await;
        let project = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &admin,
                Some(json!({"name": "web", "selector": {"env": "prod"}})),
            )
            .await;
        let project_id = project.body["id"].as_str().unwrap().to_owned();
        let r = t
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(
                    json!({"name": "crit", "kind": "webhook", "config": {"url": hook.url},
                            "events": ["finding.critical"], "project_id": project_id}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);

        // A Debian 12 host in the project with two packages, checked in.
        let host = enrol(&t.store, "web-1", &[("env", "prod")], t.now()).await;
        let package = |name: &str| rampart_core::package::Package {
            name: name.into(),
            version: "1.0-1".into(),
            arch: Some("amd64".into()),
            source_name: None,
            source_version: None,
            format: rampart_core::package::PackageFormat::Deb,
        };
        let inventory = rampart_proto::Inventory {
            protocol: rampart_proto::PROTOCOL_VERSION,
            observed_at: 0,
            uptime_secs: None,
            state: rampart_proto::HostState {
                host: rampart_proto::HostFacts {
                    hostname: "web-1".into(),
                    os: rampart_proto::OsFacts {
                        id: "debian".into(),
                        version_id: "12".into(),
                        pretty_name: None,
                        ecosystem: Some("Debian:12".into()),
                    },
                    ..rampart_proto::HostFacts::default()
                },
                packages: vec![package("libfoo"), package("libbar"), package("libbaz")],
                ..rampart_proto::HostState::default()
            },
        };
        let outcome = t
            .store
            .record_inventory(&host, &inventory, t.now())
            .await
            .unwrap();

        // A feed with one critical and one high advisory: one event, the critical one,
        // sent to the channel of the host's project.
        let feed = tempfile::tempdir().unwrap();
        write_advisory(feed.path(), "CRIT-1", "libfoo", true);
        write_advisory(feed.path(), "HIGH-1", "libbar", false);
        let import = async || {
            let r = t.upload_feed_dir(feed.path(), &admin).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        };
        import().await;
        t.state
            .engine()
            .after_inventory(&host, outcome, t.now())
            .await
            .unwrap();
        notifier::dispatch_due(&t.state).await.unwrap();
        let got = hook.requests();
        assert_eq!(got.len(), 1, "one event for one new critical finding");
        let body: Value = serde_json::from_slice(&got[0].body).unwrap();
        assert_eq!(body["kind"], "finding.critical");
        assert_eq!(body["projects"], json!([project_id]));
        assert_eq!(body["data"]["findings"].as_array().unwrap().len(), 1);
        assert_eq!(body["data"]["findings"][0]["advisory"], "CRIT-1");
        assert_eq!(body["data"]["findings"][0]["package"], "libfoo");

        // A second critical advisory: only it is new. Recomputing the host again
        // afterwards (a check-in) finds nothing new.
        write_advisory(feed.path(), "CRIT-2", "libbaz", true);
        t.advance(1_000);
        import().await;
        t.state
            .engine()
            .recompute_host(&host, t.now())
            .await
            .unwrap();
        notifier::dispatch_due(&t.state).await.unwrap();
        let got = hook.requests();
        assert_eq!(
            got.len(),
            2,
            "{:?}",
            got.iter()
                .map(|r| String::from_utf8_lossy(&r.body).into_owned())
                .collect::<Vec<_>>()
        );
        let body: Value = serde_json::from_slice(&got[1].body).unwrap();
        assert_eq!(body["data"]["findings"].as_array().unwrap().len(), 1);
        assert_eq!(body["data"]["findings"][0]["advisory"], "CRIT-2");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compliance_transitions_become_events_for_the_hosts_project() {
    each_backend(|store| async move {
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let hook = receiver(&[]).await;
        let other = receiver(&[]).await;
        let project = t
            .call(Method::POST, "/api/v1/projects", &admin,
                  Some(json!({"name": "web", "selector": {"env": "prod"}})))
            .await;
        let project_id = project.body["id"].as_str().unwrap().to_owned();
        let db = t
            .call(Method::POST, "/api/v1/projects", &admin,
                  Some(json!({"name": "db", "selector": {"env": "db"}})))
            .await;
        for (name, url, project) in [("web-ops", &hook.url, &project_id), ("db-ops", &other.url, &db.body["id"].as_str().unwrap().to_owned())] {
            let r = t
                .call(
                    Method::POST,
                    "/api/v1/notification-channels",
                    &admin,
                    Some(json!({"name": name, "kind": "webhook", "config": {"url": url},
                                "events": ["host.non_compliant", "host.stale", "exception.expiring"],
                                "project_id": project})),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        }
        // The dispatcher listens to the compliance engine from the moment it is made.
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(notifier::run_dispatcher(t.state.clone(), async move {
            let _ = stopped.await;
        }));
        // A host enrolled but never inventoried is non-compliant: the real engine's
        // transition reaches the channel of the host's project only.
        let host = enrol(&t.store, "web-1", &[("env", "prod")], t.now()).await;
        let (_, transitions) = t.state.compliance().evaluate_host(&host, t.now()).await.unwrap();
        assert_eq!(transitions.len(), 1, "{transitions:?}");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while hook.requests().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never delivered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.send(()).unwrap();
        task.await.unwrap();
        let body: Value = serde_json::from_slice(&hook.requests()[0].body).unwrap();
        assert_eq!(body["kind"], "host.non_compliant");
        assert_eq!(body["projects"], json!([project_id]));
        assert_eq!(body["data"]["hostname"], "web-1");
        assert!(!body["data"]["reasons"].as_array().unwrap().is_empty(), "{body}");
        assert!(other.requests().is_empty());

        // The other kinds, from transitions as the engine returns them.
        let emitted = notifier::after_compliance(
            &t.store,
            &[
                rampart_server::ComplianceTransition::BecameStale {
                    host_id: host.clone(),
                    hostname: "web-1".into(),
                    last_seen: T0 - 3_600_000,
                    at: t.now(),
                },
                rampart_server::ComplianceTransition::ExceptionExpiring {
                    exception_id: "x1".into(),
                    advisory: "DSA-1".into(),
                    scope: rampart_core::exceptions::ExceptionScope::Project {
                        project_id: project_id.clone(),
                    },
                    expires_at: T0 + 86_400_000,
                    requested_by: "otto".into(),
                },
                rampart_server::ComplianceTransition::BecameCompliant {
                    host_id: host.clone(),
                    hostname: "web-1".into(),
                    at: t.now(),
                },
            ],
            t.now(),
        )
        .await
        .unwrap();
        assert_eq!(emitted, 2, "no event kind for becoming compliant");
        notifier::dispatch_due(&t.state).await.unwrap();
        let got = hook.requests();
        assert_eq!(got.len(), 3);
        // Emitted in the same millisecond: delivered in either order.
        let mut kinds: Vec<Value> = got[1..]
            .iter()
            .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
            .collect();
        kinds.sort_by_key(|v| v["kind"].as_str().unwrap().to_owned());
        kinds.reverse();
        assert_eq!(kinds[0]["kind"], "host.stale");
        assert_eq!(kinds[0]["data"]["last_seen_at"], "2025-12-31T23:00:00.000Z");
        assert_eq!(kinds[1]["kind"], "exception.expiring");
        assert_eq!(kinds[1]["data"]["scope"], "project");
        assert_eq!(kinds[1]["data"]["requested_by"], "otto");
        assert!(other.requests().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_task_delivers_and_stops_on_shutdown() {
    each_backend(|store| async move {
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let hook = receiver(&[]).await;
        let r = t
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(
                    json!({"name": "h", "kind": "webhook", "config": {"url": hook.url},
                            "events": ["host.stale"]}),
                ),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(notifier::run_dispatcher(t.state.clone(), async move {
            let _ = stopped.await;
        }));
        notifier::emit(&t.store, &stale_event(t.now()), t.now())
            .await
            .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while hook.requests().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never delivered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("the dispatcher stops on shutdown")
            .unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_is_mailed_with_its_attachments_through_the_outbox() {
    each_backend(|store| async move {
        let Some(smtp) = crate::smtp_server::start_smtp() else {
            return;
        };
        let t = app(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let created = t
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(json!({
                    "name": "security-team", "kind": "email",
                    "config": serde_json::to_value(smtp.config()).unwrap(),
                    "secret": crate::smtp_server::PASSWORD,
                    "events": ["report.ready"],
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let stored = t
            .store
            .get_channel(created.body["id"].as_str().unwrap())
            .await
            .unwrap();
        assert!(
            !stored
                .secret
                .unwrap()
                .contains(crate::smtp_server::PASSWORD),
            "the SMTP password is sealed at rest"
        );

        let pdf: Vec<u8> = (0..50_000u32).map(|i| (i % 251) as u8).collect();
        let mut event = Event::new(
            Payload::ReportReady(rampart_notify::event::ReportReady {
                report: "compliance".into(),
                title: "Weekly compliance".into(),
                project_id: None,
                summary: "Hosts: 40\nNon-compliant: 2\n".into(),
                url: None,
            }),
            vec![],
            t.now(),
        );
        event.attachments.push(rampart_notify::Attachment {
            filename: "compliance.pdf".into(),
            content_type: "application/pdf".into(),
            content: pdf.clone(),
        });
        notifier::emit(&t.store, &event, t.now()).await.unwrap();
        assert_eq!(notifier::dispatch_due(&t.state).await.unwrap(), 1);
        let delivered = t
            .get("/api/v1/notification-deliveries?status=delivered", &admin)
            .await;
        assert_eq!(delivered.body["total"], 1, "{}", delivered.text);

        let m = smtp.message(1);
        assert_eq!(m["tls"], true);
        assert_eq!(m["auth_user"], crate::smtp_server::USER);
        assert_eq!(
            m["rcpt_tos"],
            json!(["sec@example.test", "ops@example.test"])
        );
        assert_eq!(m["subject"], "[Rampart] Report ready: Weekly compliance");
        assert!(m["text"].as_str().unwrap().contains("Non-compliant: 2"));
        let att = &m["attachments"][0];
        assert_eq!(att["filename"], "compliance.pdf");
        assert_eq!(std::fs::read(att["path"].as_str().unwrap()).unwrap(), pdf);
        assert_eq!(smtp.count(), 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_api_validates_and_never_returns_secrets() {
    each_backend(|store| async move {
        let t = app(store.clone()).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let post = |body: Value| {
            let t = &t;
            let admin = admin.clone();
            async move {
                t.call(Method::POST, "/api/v1/notification-channels", &admin, Some(body))
                    .await
            }
        };
        let mail = json!({"host": "smtp.example.com", "from": "r@example.com", "to": ["s@example.com"], "username": "r"});
        for (body, needle) in [
            (json!({"name": "x", "kind": "sms", "config": {}}), "unknown channel kind"),
            (json!({"name": "x", "kind": "webhook", "config": {"url": "http://example.com/"}}), "https"),
            (json!({"name": "x", "kind": "email", "config": mail, "events": ["nope"]}), "unknown event kind"),
            (json!({"name": "x", "kind": "email", "config": {"host": "smtp.example.com", "security": "plain", "from": "r@example.com", "to": ["s@example.com"]}}), "loopback"),
            (json!({"name": "x", "kind": "email", "config": {"host": "h", "from": "r@example.com", "to": [], "password": "p"}}), "unknown field"),
        ] {
            let r = post(body).await;
            assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
            assert!(r.text.contains(needle), "{needle}: {}", r.text);
        }
        let created = post(json!({"name": "mail", "kind": "email", "config": mail,
                                  "secret": "smtp-password-123", "events": ["report.ready"]}))
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        assert!(!created.text.contains("smtp-password-123"));
        assert!(created.body.get("generated_secret").is_none());
        let id = created.body["id"].as_str().unwrap().to_owned();
        let patched = t
            .call(
                Method::PATCH,
                &format!("/api/v1/notification-channels/{id}"),
                &admin,
                Some(json!({"secret": null, "enabled": false, "events": ["report.ready", "host.stale"]})),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
        assert_eq!(patched.body["has_secret"], false);
        assert_eq!(patched.body["enabled"], false);
        assert_eq!(patched.body["config"]["host"], "smtp.example.com");
        let dup = post(json!({"name": "mail", "kind": "webhook", "config": {"url": "https://h/x"}})).await;
        assert_eq!(dup.status, StatusCode::CONFLICT);
        let deleted = t
            .call(Method::DELETE, &format!("/api/v1/notification-channels/{id}"), &admin, None)
            .await;
        assert_eq!(deleted.status, StatusCode::NO_CONTENT);

        // Without a master key a secret cannot be stored: 503, nothing written.
        let keyless = TestApp::new(store).await;
        let r = keyless
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(json!({"name": "k", "kind": "webhook", "config": {"url": "https://h/x"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.text);
        assert_eq!(r.code(), "master_key_unavailable");
    })
    .await;
}

/// Enrols a host directly in the store; returns its id.
async fn enrol(
    store: &rampart_store::Store,
    hostname: &str,
    labels: &[(&str, &str)],
    now: i64,
) -> String {
    let labels: rampart_store::Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let agent_id = rampart_store::new_id(now);
    store
        .enrol_host(
            rampart_store::NewHost {
                hostname,
                machine_id: None,
                labels: &labels,
            },
            rampart_store::NewAgent {
                id: &agent_id,
                cert_serial: &format!("serial-{agent_id}"),
                cert_fingerprint: &format!("fp-{agent_id}"),
            },
            now,
        )
        .await
        .expect("enrol host")
        .host
        .id
}

fn finding(advisory: &str, package: &str, level: SeverityLevel) -> rampart_core::matcher::Finding {
    rampart_core::matcher::Finding {
        advisory: advisory.into(),
        aliases: vec![],
        package: package.into(),
        source: package.into(),
        installed: "1.0-1".into(),
        compared_version: "1.0-1".into(),
        advisory_package: package.into(),
        fixed: Some("1.0-2".into()),
        severity: rampart_core::severity::Severity {
            level,
            cvss: Some(9.8),
            vector: None,
        },
        ecosystem: "Debian:12".into(),
        reason: rampart_core::matcher::MatchReason::Listed,
    }
}
