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

/// `/agent/v1/enroll` took 32 MiB bodies from anyone: 48 parallel requests held over a
/// gigabyte. Each anonymous route now has the limit it needs.
#[tokio::test]
async fn anonymous_routes_refuse_large_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let store = rampart_store::Store::open_in_dir(dir.path()).await.unwrap();
    let t = TestApp::new(store).await;
    for (path, size, limit) in [
        ("/agent/v1/enroll", 100 * 1024, "65536"),
        ("/api/v1/session", 32 * 1024, "16384"),
        ("/api/v1/bootstrap", 32 * 1024, "16384"),
    ] {
        let body = format!("{{\"name\":\"{}\"}}", "x".repeat(size)).into_bytes();
        let r = t
            .raw(
                Method::POST,
                path,
                &Auth::None,
                Some(body),
                "application/json",
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            r.text
        );
        if path.starts_with("/agent") {
            assert!(r.text.contains(limit), "{path}: {}", r.text);
        }
    }
}

/// Callers that trickle their bodies hold no permit of the anonymous routes: with
/// the bound at 2 and two connections stalled mid-body, a login is still answered at
/// once, and the stalled ones get 408 after the body deadline (a real socket, since the
/// stall is a half-sent body). The shedding itself is tested in `gate.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_anonymous_bodies_hold_no_permit() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    let dir = tempfile::tempdir().unwrap();
    let store = rampart_store::Store::open_in_dir(dir.path()).await.unwrap();
    let config = ServerConfig {
        max_public_concurrency: 2,
        ..ServerConfig::default()
    };
    let t = TestApp::with_config(store, config).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, t.app.clone()).into_future());

    let stall = async || {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(
            b"POST /agent/v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"tok",
        )
        .await
        .unwrap();
        s
    };
    let answer = async |s: &mut tokio::net::TcpStream, within: u64| {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(std::time::Duration::from_secs(within), s.read(&mut buf))
            .await
            .expect("answered in time")
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let (mut a, mut b) = (stall().await, stall().await);
    let mut login = tokio::net::TcpStream::connect(addr).await.unwrap();
    login
        .write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        .await
        .unwrap();
    let reply = answer(&mut login, 5).await;
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    for s in [&mut a, &mut b] {
        let reply = answer(s, 15).await;
        assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    }
}

/// Answers carry `nosniff` and `no-store` (a new token must not land in a cache), HSTS
/// over TLS, and the web login's 429 says when to come back.
#[tokio::test]
async fn answers_carry_the_transport_security_headers() {
    use axum::http::header;
    let dir = tempfile::tempdir().unwrap();
    let store = rampart_store::Store::open_in_dir(dir.path()).await.unwrap();
    let config = ServerConfig {
        secure_cookies: true,
        ..ServerConfig::default()
    };
    let t = TestApp::with_config(store, config).await;
    let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
    let created = t
        .call(
            Method::POST,
            "/api/v1/api-tokens",
            &admin,
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    for r in [
        &created,
        &t.get("/api/v1/hosts", &admin).await,
        &t.get("/api/v1/no-such-route", &admin).await,
        &t.get("/healthz", &Auth::None).await,
    ] {
        let h = &r.headers;
        assert_eq!(
            h.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff",
            "{h:?}"
        );
        assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store", "{h:?}");
        assert_eq!(
            h.get(header::STRICT_TRANSPORT_SECURITY).unwrap(),
            "max-age=31536000",
            "{h:?}"
        );
    }

    // The web login form, locked after five failures: 429 with Retry-After.
    let form = crate::web::browse(&t, Method::GET, "/login", &[], None).await;
    let token = form.cookie("rampart_form").expect("form cookie");
    let mut last = None;
    for _ in 0..6 {
        last = Some(
            crate::web::browse(
                &t,
                Method::POST,
                "/login",
                &[("rampart_form", &token)],
                Some(&[
                    ("_csrf", &token),
                    ("name", "ada"),
                    ("password", "not her password"),
                    ("next", "/"),
                ]),
            )
            .await,
        );
    }
    let locked = last.unwrap();
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    assert_eq!(locked.headers.get(header::RETRY_AFTER).unwrap(), "30");
}

/// Other users' API tokens (even metadata) are for admins; everyone sees their own.
#[tokio::test]
async fn only_admins_list_other_users_tokens() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let op = Auth::Bearer(t.user_token("otto", Role::Operator).await);
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let ada_id = t.get("/api/v1/session", &admin).await.body["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let path = format!("/api/v1/api-tokens?user_id={ada_id}");
        for who in [&op, &auditor] {
            let r = t.get(&path, who).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
            let own = t.get("/api/v1/api-tokens", who).await;
            assert_eq!(own.status, StatusCode::OK, "{}", own.text);
            assert_eq!(own.body["total"], 1);
        }
        let r = t.get(&path, &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    })
    .await;
}

/// Tokens get a default lifetime and cannot exceed the maximum; a token issued without
/// an expiry (offline, or before the limit existed) stops at the maximum too.
#[tokio::test]
async fn tokens_have_a_default_and_a_maximum_lifetime() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let admin_token = t.user_token("ada", Role::Admin).await;
        let admin = Auth::Bearer(admin_token);
        let day = 86_400_000i64;
        let r = t
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                &admin,
                Some(json!({"name": "ci"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        assert_eq!(r.body["expires_at"], t.now() + 90 * day, "{}", r.text);
        let r = t
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                &admin,
                Some(json!({"name": "forever", "expires_in": 366 * 86_400})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert!(r.text.contains("at most 31536000 seconds"), "{}", r.text);

        // `user_token` stores a token without an expiry, as the offline CLI could.
        t.advance(364 * day);
        assert_eq!(t.get("/api/v1/hosts", &admin).await.status, StatusCode::OK);
        t.advance(2 * day);
        assert_eq!(
            t.get("/api/v1/hosts", &admin).await.status,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

/// A password reset revokes the user's API tokens, and disabling does too, so
/// re-enabling the user brings no old token back.
#[tokio::test]
async fn a_password_reset_or_disable_revokes_tokens_for_good() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        for change in [
            json!({"password": "a brand new long password"}),
            json!({"disabled": true}),
        ] {
            let name = format!(
                "u{}",
                change.as_object().unwrap().len() + rand_suffix(&change)
            );
            let token = Auth::Bearer(t.user_token(&name, Role::Operator).await);
            let id = t.get("/api/v1/session", &token).await.body["user"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let r = t
                .call(
                    Method::PATCH,
                    &format!("/api/v1/users/{id}"),
                    &admin,
                    Some(change.clone()),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            let r = t
                .call(
                    Method::PATCH,
                    &format!("/api/v1/users/{id}"),
                    &admin,
                    Some(json!({"disabled": false})),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            assert_eq!(
                t.get("/api/v1/hosts", &token).await.status,
                StatusCode::UNAUTHORIZED,
                "after {change}"
            );
        }

        // A refused change writes nothing: a too-short password leaves the role alone.
        let op = Auth::Bearer(t.user_token("olga", Role::Operator).await);
        let id = t.get("/api/v1/session", &op).await.body["user"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = t
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{id}"),
                &admin,
                Some(json!({"role": "admin", "password": "short"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        let user = t.get(&format!("/api/v1/users/{id}"), &admin).await;
        assert_eq!(user.body["role"], "operator", "{}", user.text);
    })
    .await;
}

fn rand_suffix(change: &serde_json::Value) -> usize {
    if change.get("password").is_some() {
        1
    } else {
        2
    }
}
