//! THE ROUTER WALK: every route of the app, enumerated from the OpenAPI document that
//! is generated from the same route table as the router, must refuse anonymous callers
//! (401) and refuse an auditor (403) on every route that changes state — except the
//! short, named lists of public and self-service routes. A route added without an
//! `Authorized<P>` extractor fails here.
//!
//! The web UI's pages are walked the same way from their own table (`WEB_ROUTES`, from
//! which the web router is built): anonymous callers are sent to the login form and
//! see no content, auditors get a 403 page on every form that changes state.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode, header};
use rampart_core::authz::Role;
use rampart_server::{AGENT_ROUTES, Access, PUBLIC_ROUTES, SELF_SERVICE_ROUTES, WEB_ROUTES};

use crate::support::{Auth, TestApp, each_backend};

/// Every (method, path template) in the document.
fn routes() -> Vec<(Method, String)> {
    let doc = rampart_server::openapi();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
            (Method::DELETE, &item.delete),
            (Method::HEAD, &item.head),
            (Method::OPTIONS, &item.options),
            (Method::TRACE, &item.trace),
        ] {
            if op.is_some() {
                out.push((method, path.clone()));
            }
        }
    }
    out
}

/// A concrete path for a template: `{id}` becomes an id that exists nowhere.
fn concrete(path: &str) -> String {
    path.replace("{id}", "00000000-0000-7000-8000-000000000000")
}

fn listed(list: &[(&str, &str)], method: &Method, path: &str) -> bool {
    list.iter()
        .any(|(m, p)| *m == method.as_str() && *p == path)
}

#[test]
fn the_document_names_every_resource_and_the_lists_name_real_routes() {
    let routes = routes();
    let paths: BTreeSet<&str> = routes.iter().map(|(_, p)| p.as_str()).collect();
    for expected in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/api/v1/hosts",
        "/api/v1/hosts/{id}",
        "/api/v1/hosts/{id}/packages",
        "/api/v1/hosts/{id}/updates",
        "/api/v1/hosts/{id}/findings",
        "/api/v1/hosts/{id}/labels",
        "/api/v1/findings",
        "/api/v1/advisories/{id}",
        "/api/v1/projects",
        "/api/v1/projects/{id}",
        "/api/v1/api-tokens",
        "/api/v1/api-tokens/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/enrollment-tokens",
        "/api/v1/enrollment-tokens/{id}",
        "/api/v1/feeds",
        "/api/v1/feeds/import",
        "/api/v1/feeds/sync",
        "/api/v1/feeds/sources",
        "/api/v1/reports/compliance",
        "/api/v1/reports/findings",
        "/api/v1/session",
        "/api/v1/bootstrap",
        "/api/v1/notification-channels",
        "/api/v1/notification-channels/{id}",
        "/api/v1/notification-channels/{id}/test",
        "/api/v1/notification-deliveries",
        "/api/v1/notification-deliveries/{id}",
        "/api/v1/notification-deliveries/{id}/retry",
        "/api/v1/change-requests",
        "/api/v1/change-requests/{id}",
        "/api/v1/change-requests/{id}/close",
        "/agent/v1/enroll",
        "/agent/v1/checkin",
    ] {
        assert!(
            paths.contains(expected),
            "{expected} missing from the OpenAPI document: {paths:?}"
        );
    }
    for (m, p) in PUBLIC_ROUTES
        .iter()
        .chain(SELF_SERVICE_ROUTES)
        .chain(AGENT_ROUTES)
    {
        assert!(
            routes.iter().any(|(rm, rp)| rm.as_str() == *m && rp == p),
            "{m} {p} is listed but is no route"
        );
    }
}

#[tokio::test]
async fn every_route_refuses_anonymous_and_auditors_on_writes() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let routes = routes();
        assert!(routes.len() >= 30, "suspiciously few routes: {routes:?}");
        for (method, path) in &routes {
            let uri = concrete(path);
            let public = listed(PUBLIC_ROUTES, method, path);
            let self_service = listed(SELF_SERVICE_ROUTES, method, path);

            let anon = t.call(method.clone(), &uri, &Auth::None, None).await;
            if public {
                assert_ne!(
                    anon.status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} is public"
                );
            } else {
                assert_eq!(
                    anon.status,
                    StatusCode::UNAUTHORIZED,
                    "anonymous {method} {path}: {}",
                    anon.text
                );
                assert_eq!(anon.code(), "unauthenticated", "{method} {path}");
            }

            let bad = t
                .call(
                    method.clone(),
                    &uri,
                    &Auth::Bearer("rpt_not-a-real-token".into()),
                    None,
                )
                .await;
            if !public {
                assert_eq!(
                    bad.status,
                    StatusCode::UNAUTHORIZED,
                    "unknown token {method} {path}"
                );
            }

            let as_auditor = t.call(method.clone(), &uri, &auditor, None).await;
            let is_read = *method == Method::GET;
            if listed(AGENT_ROUTES, method, path) {
                // People never use the agent channel, whatever their role.
                let as_admin = t.call(method.clone(), &uri, &admin, None).await;
                for reply in [&as_auditor, &as_admin] {
                    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
                    assert!(
                        reply.text.contains("only enrolled agents"),
                        "{method} {path}: {}",
                        reply.text
                    );
                }
                continue;
            }
            if !public && !is_read && !self_service {
                assert_eq!(
                    as_auditor.status,
                    StatusCode::FORBIDDEN,
                    "auditor {method} {path}: {}",
                    as_auditor.text
                );
                assert_eq!(as_auditor.code(), "forbidden");
                assert!(
                    as_auditor.body["error"]["message"]
                        .as_str()
                        .unwrap_or("")
                        .contains("audrey may not"),
                    "403 carries the decision's reason: {}",
                    as_auditor.text
                );
            } else if !public {
                assert!(
                    !matches!(
                        as_auditor.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ),
                    "auditor may {method} {path}: {}",
                    as_auditor.text
                );
            }

            // The permissions are not stricter than intended: an admin is never refused.
            if !(public || self_service && *method == Method::DELETE) {
                let as_admin = t.call(method.clone(), &uri, &admin, None).await;
                assert!(
                    !matches!(
                        as_admin.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ),
                    "admin {method} {path}: {}",
                    as_admin.text
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn the_router_serves_exactly_the_documented_methods() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let routes = routes();
        let paths: BTreeSet<&String> = routes.iter().map(|(_, p)| p).collect();
        for path in paths {
            for method in [
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ] {
                let documented = routes.iter().any(|(m, p)| *m == method && p == path);
                if documented {
                    continue;
                }
                let r = t.call(method.clone(), &concrete(path), &admin, None).await;
                assert_eq!(
                    r.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {path} is served but undocumented"
                );
                assert_eq!(r.code(), "method_not_allowed");
            }
        }
        // The document the server serves is the one the walk used.
        let served = t.get("/openapi.json", &Auth::None).await;
        assert_eq!(served.status, StatusCode::OK);
        let doc = serde_json::to_value(rampart_server::openapi()).unwrap();
        assert_eq!(served.body["paths"], doc["paths"]);
    })
    .await;
}

#[tokio::test]
async fn operators_are_refused_user_management() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let op = Auth::Bearer(t.user_token("otto", Role::Operator).await);
        let r = t
            .call(Method::POST, "/api/v1/users", &op, Some(serde_json::json!({"name": "x", "role": "admin", "password": "long enough password"})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = t.call(Method::POST, "/api/v1/projects", &op, Some(serde_json::json!({"name": "web"}))).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    })
    .await;
}

/// The headers every web response carries, whatever its status.
fn assert_web_headers(method: &Method, path: &str, headers: &axum::http::HeaderMap) {
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(
        csp,
        rampart_server::CONTENT_SECURITY_POLICY,
        "{method} {path}"
    );
    assert_eq!(headers["x-frame-options"], "DENY", "{method} {path}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{method} {path}");
}

#[tokio::test]
async fn every_web_route_sends_anonymous_to_login_and_refuses_auditors_on_writes() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        assert!(WEB_ROUTES.len() >= 12, "suspiciously few web routes");
        for route in WEB_ROUTES {
            let method = &route.method;
            let path = route.path;
            let uri = concrete(path);
            let form = (*method == Method::POST).then(|| b"_csrf=x&name=x".to_vec());
            let call = |auth: Auth| {
                let t = &t;
                let form = form.clone();
                let uri = uri.clone();
                async move {
                    t.raw(
                        method.clone(),
                        &uri,
                        &auth,
                        form,
                        "application/x-www-form-urlencoded",
                    )
                    .await
                }
            };
            let anon = call(Auth::None).await;
            assert_web_headers(method, path, &anon.headers);
            let to_login = |r: &crate::support::Reply| {
                r.status == StatusCode::SEE_OTHER
                    && r.headers[header::LOCATION]
                        .to_str()
                        .unwrap()
                        .starts_with("/login")
            };
            if route.access == Access::Public {
                // (The set-up form sends to the login form once set up: that is no
                // refusal, and carries no `next`.)
                let refused = to_login(&anon)
                    && anon.headers[header::LOCATION]
                        .to_str()
                        .unwrap()
                        .contains("next=");
                assert!(
                    !refused && anon.status != StatusCode::UNAUTHORIZED,
                    "{method} {path} is public: {} {:?}",
                    anon.status,
                    anon.headers
                );
                continue;
            }
            assert!(
                to_login(&anon),
                "anonymous {method} {path}: {} {}",
                anon.status,
                anon.text
            );
            assert!(
                anon.text.is_empty(),
                "a redirect shows no content: {method} {path}"
            );
            if *method == Method::GET {
                let expected = format!(
                    "/login?next={}",
                    form_urlencoded::byte_serialize(uri.as_bytes()).collect::<String>()
                );
                let location = anon.headers[header::LOCATION].to_str().unwrap();
                assert!(
                    location == expected || uri == "/" && location == "/login",
                    "{location}"
                );
            }
            let unknown = call(Auth::Bearer("rpt_not-a-real-token".into())).await;
            assert!(to_login(&unknown), "unknown token {method} {path}");

            let as_auditor = call(auditor.clone()).await;
            assert_web_headers(method, path, &as_auditor.headers);
            if *method == Method::POST && route.access == Access::Authorized {
                assert_eq!(
                    as_auditor.status,
                    StatusCode::FORBIDDEN,
                    "auditor {method} {path}"
                );
                assert!(
                    as_auditor.headers[header::CONTENT_TYPE]
                        .to_str()
                        .unwrap()
                        .starts_with("text/html"),
                    "a 403 page, not JSON: {method} {path}"
                );
                assert!(
                    as_auditor.text.contains("audrey may not"),
                    "{}",
                    as_auditor.text
                );
            } else {
                assert!(
                    !matches!(
                        as_auditor.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ) && !to_login(&as_auditor),
                    "auditor may {method} {path}: {} {}",
                    as_auditor.status,
                    as_auditor.text
                );
            }
            let as_admin = call(admin.clone()).await;
            assert!(
                !matches!(
                    as_admin.status,
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ) && !to_login(&as_admin),
                "admin {method} {path}: {} {}",
                as_admin.status,
                as_admin.text
            );
            if as_admin.status == StatusCode::OK {
                assert_eq!(
                    as_admin.headers[header::CACHE_CONTROL],
                    "no-store",
                    "{method} {path}"
                );
            }
        }
    })
    .await;
}
