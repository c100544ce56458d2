//! Every failure has the one JSON shape, including extractor rejections and errors made
//! outside the handlers.

use axum::http::{Method, StatusCode};
use rampart_core::authz::Role;
use serde_json::json;

use crate::support::{Auth, TestApp, each_backend};

#[tokio::test]
async fn malformed_and_oversized_bodies_answer_in_the_error_shape() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let op = Auth::Bearer(t.user_token("otto", Role::Operator).await);

        let r = t
            .raw(
                Method::POST,
                "/api/v1/projects",
                &op,
                Some(b"{\"name\": ".to_vec()),
                "application/json",
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
        assert_eq!(r.code(), "bad_request");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("malformed JSON"),
            "{}",
            r.text
        );

        let r = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &op,
                Some(json!({"name": 5})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("name"),
            "names the field: {}",
            r.text
        );

        let r = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &op,
                Some(json!({"name": "x", "colour": "red"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.text.contains("colour"), "{}", r.text);

        let r = t
            .raw(
                Method::POST,
                "/api/v1/projects",
                &op,
                Some(b"{}".to_vec()),
                "text/plain",
            )
            .await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(r.code(), "unsupported_media_type");

        let big = format!("{{\"name\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
        let r = t
            .raw(
                Method::POST,
                "/api/v1/projects",
                &op,
                Some(big.into_bytes()),
                "application/json",
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{}",
            &r.text[..r.text.len().min(200)]
        );
        assert_eq!(r.code(), "payload_too_large");

        let r = t.get("/api/v1/nothing-here", &op).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.code(), "not_found");

        let r = t.get("/api/v1/hosts?colour=red", &op).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert!(r.text.contains("colour"));

        let r = t.get("/api/v1/hosts?limit=100000", &op).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);

        let r = t.get("/api/v1/hosts/does-not-exist", &op).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.code(), "not_found");

        let r = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &op,
                Some(json!({"name": "dup"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
        let r = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &op,
                Some(json!({"name": "dup"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        assert_eq!(r.code(), "conflict");

        // Every response carries a request id.
        assert!(r.headers.contains_key("x-request-id"));
    })
    .await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        assert_eq!(t.get("/healthz", &Auth::None).await.status, StatusCode::OK);
        assert_eq!(t.get("/readyz", &Auth::None).await.status, StatusCode::OK);
        t.get("/api/v1/hosts", &auditor).await;
        let m = t.get("/metrics", &auditor).await;
        assert_eq!(m.status, StatusCode::OK);
        assert!(m.text.contains("rampart_http_requests_total{method=\"GET\",route=\"/api/v1/hosts\",status=\"200\"} 1"), "{}", m.text);
        assert!(m.text.contains("rampart_hosts 0"));
        assert!(m.text.contains("rampart_findings{severity=\"critical\"} 0"));
        assert!(m.text.contains("rampart_http_request_duration_seconds_bucket"));
        t.store.close().await;
        let r = t.get("/readyz", &Auth::None).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.code(), "not_ready");
    })
    .await;
}
