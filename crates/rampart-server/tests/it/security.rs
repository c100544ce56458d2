//! Regressions of the security review (issue "Close what a security review found"):
//! each case failed before its fix.

use axum::http::{Method, StatusCode};
use rampart_core::authz::Role;
use rampart_server::ServerConfig;
use serde_json::json;

use crate::support::{Auth, TestApp, each_backend};

fn record(id: &str) -> serde_json::Value {
    json!({
        "id": id, "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1"}]}]}],
    })
}

/// The old import named a server path in `{"source": …}` and the server opened it: an
/// operator read `master.key` and `/etc/shadow` through the error message. Now the body
/// *is* the feed: a path in it is just a malformed record, never opened.
#[tokio::test]
async fn a_feed_import_never_opens_a_path_named_in_the_request() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let op = Auth::Bearer(t.user_token("olga", Role::Operator).await);
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret.json");
        std::fs::write(&secret, record("SECRET-ADVISORY-1").to_string()).unwrap();
        let key = dir.path().join("master.key");
        std::fs::write(&key, "0123456789abcdef0123456789abcdef0123456789abcdef").unwrap();

        for path in [&secret, &key] {
            let r = t
                .call(
                    Method::POST,
                    "/api/v1/feeds/import",
                    &op,
                    Some(json!({"source": path.to_str().unwrap()})),
                )
                .await;
            assert!(
                !r.text.contains("SECRET-ADVISORY") && !r.text.contains("0123456789abcdef"),
                "{}",
                r.text
            );
            if r.status == StatusCode::OK {
                assert_eq!(r.body["feed"]["record_count"], 0, "{}", r.text);
            }
        }
        let r = t.get("/api/v1/advisories/SECRET-ADVISORY-1", &op).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);

        // What is not a feed is described, never quoted.
        let r = t
            .raw(
                Method::POST,
                "/api/v1/feeds/import?name=shadow",
                &op,
                Some(b"root:$6$SECRETSALT$x:19000:0:99999:7:::\n".to_vec()),
                "application/octet-stream",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.text.contains("text in no feed format"), "{}", r.text);
        assert!(
            !r.text.contains("SECRETSALT") && !r.text.contains("/tmp"),
            "{}",
            r.text
        );

        // An uploaded feed is imported under its name.
        let r = t
            .raw(
                Method::POST,
                "/api/v1/feeds/import?name=debian-local",
                &op,
                Some(json!([record("DSA-1-1")]).to_string().into_bytes()),
                "application/json",
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["feed"]["source"], "upload:debian-local");
        assert_eq!(r.body["feed"]["record_count"], 1);

        // Other media types and names with control characters are refused.
        let r = t
            .raw(
                Method::POST,
                "/api/v1/feeds/import",
                &op,
                Some(b"[]".to_vec()),
                "text/html",
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.text);
        let r = t
            .raw(
                Method::POST,
                "/api/v1/feeds/import?name=a%0Ab",
                &op,
                Some(b"[]".to_vec()),
                "application/json",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    })
    .await;
}

/// Uploads are streamed under their own limit, not the API's 1 MiB and not unbounded.
#[tokio::test]
async fn a_feed_upload_over_the_limit_is_refused() {
    each_backend(|store| async move {
        let config = ServerConfig {
            max_feed_upload_bytes: 4096,
            ..ServerConfig::default()
        };
        let t = TestApp::with_config(store, config).await;
        let op = Auth::Bearer(t.user_token("olga", Role::Operator).await);
        let big: Vec<_> = (0..100).map(|i| record(&format!("DSA-{i}-1"))).collect();
        let r = t
            .raw(
                Method::POST,
                "/api/v1/feeds/import",
                &op,
                Some(json!(big).to_string().into_bytes()),
                "application/json",
            )
            .await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
        assert!(r.text.contains("4096"), "{}", r.text);
    })
    .await;
}

/// Server-side sources come only from the configuration; URLs are held to the egress
/// policy on the resolved address, so a configured loopback URL is refused unless its
/// network is allowed.
#[tokio::test]
async fn configured_sources_sync_and_internal_urls_are_refused() {
    each_backend(|store| async move {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.json"), record("DSA-7-1").to_string()).unwrap();
        let config = ServerConfig {
            feed_sources: vec![
                dir.path().to_str().unwrap().to_owned(),
                "http://127.0.0.1:9/all.zip".to_owned(),
                "https://[::ffff:169.254.169.254]/latest/meta-data".to_owned(),
            ],
            ..ServerConfig::default()
        };
        let t = TestApp::with_config(store, config).await;
        let op = Auth::Bearer(t.user_token("olga", Role::Operator).await);
        let sources = t.get("/api/v1/feeds/sources", &op).await;
        assert_eq!(
            sources.body.as_array().unwrap().len(),
            3,
            "{}",
            sources.text
        );
        assert_eq!(sources.body[0]["kind"], "path");
        assert_eq!(sources.body[1]["kind"], "url");

        let r = t.call(Method::POST, "/api/v1/feeds/sync", &op, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body[0]["import"]["feed"]["record_count"], 1, "{}", r.text);
        for i in [1, 2] {
            let error = r.body[i]["error"].as_str().unwrap_or_default();
            assert!(error.contains("internal address"), "{i}: {}", r.text);
        }
        assert!(r.text.contains("resolves to 127.0.0.1"), "{}", r.text);
        assert!(r.text.contains("169.254.169.254"), "{}", r.text);

        // Auditors read, never sync.
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let r = t
            .call(Method::POST, "/api/v1/feeds/sync", &auditor, None)
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    })
    .await;
}

/// A webhook channel aimed at the server's own loopback (or any internal address) is
/// never delivered to under the default policy: the attempt fails for good, saying why,
/// and no byte reaches the listener.
#[tokio::test]
async fn webhooks_to_internal_addresses_are_refused_by_default() {
    each_backend(|store| async move {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let config = ServerConfig {
            master_key: Some(rampart_pki::MasterKey::generate().unwrap()),
            ..ServerConfig::default()
        };
        let t = TestApp::with_config(store, config).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let created = t
            .call(
                Method::POST,
                "/api/v1/notification-channels",
                &admin,
                Some(json!({
                    "name": "internal", "kind": "webhook",
                    "config": {"url": format!("http://localhost:{port}/admin")},
                    "events": ["host.stale"],
                })),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.body["id"].as_str().unwrap();
        let r = t
            .call(
                Method::POST,
                &format!("/api/v1/notification-channels/{id}/test"),
                &admin,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        rampart_server::notifier::dispatch_due(&t.state)
            .await
            .unwrap();
        let failed = t
            .get("/api/v1/notification-deliveries?status=failed", &admin)
            .await;
        assert_eq!(failed.body["total"], 1, "{}", failed.text);
        let error = failed.body["items"][0]["last_error"].as_str().unwrap();
        assert!(error.contains("internal address"), "{error}");
        assert!(
            listener.accept().is_err(),
            "nothing may connect to the listener"
        );
    })
    .await;
}
