//! Authentication flows end to end: bootstrap, login with cookie + CSRF, token expiry,
//! revocation, disabled users, token scope and ownership.

use axum::http::{Method, StatusCode, header};
use rampart_core::authz::Role;
use rampart_server::ServerConfig;
use serde_json::json;

use crate::support::{Auth, Reply, TestApp, each_backend};

fn session_cookie(r: &Reply) -> (String, String) {
    let set = r
        .headers
        .get(header::SET_COOKIE)
        .expect("Set-Cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let value = set
        .split(';')
        .next()
        .and_then(|kv| kv.strip_prefix("rampart_session="))
        .expect("rampart_session cookie")
        .to_owned();
    (value, set)
}

#[tokio::test]
async fn bootstrap_creates_the_first_admin_once() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let secret = t
            .bootstrap
            .clone()
            .expect("an empty store gets a bootstrap secret");
        let body =
            |s: &str| json!({"secret": s, "name": "root", "password": "a long admin password"});
        let wrong = t
            .call(
                Method::POST,
                "/api/v1/bootstrap",
                &Auth::None,
                Some(body("nope")),
            )
            .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let short = t
            .call(
                Method::POST,
                "/api/v1/bootstrap",
                &Auth::None,
                Some(json!({"secret": secret, "name": "root", "password": "short"})),
            )
            .await;
        assert_eq!(short.status, StatusCode::BAD_REQUEST, "{}", short.text);
        let ok = t
            .call(
                Method::POST,
                "/api/v1/bootstrap",
                &Auth::None,
                Some(body(&secret)),
            )
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
        assert_eq!(ok.body["role"], "admin");
        assert!(ok.body.get("password_hash").is_none());
        let again = t
            .call(
                Method::POST,
                "/api/v1/bootstrap",
                &Auth::None,
                Some(body(&secret)),
            )
            .await;
        assert_eq!(again.status, StatusCode::CONFLICT);

        // The new admin logs in; a restarted server has no bootstrap secret.
        let login = t
            .call(
                Method::POST,
                "/api/v1/session",
                &Auth::None,
                Some(json!({"name": "root", "password": "a long admin password"})),
            )
            .await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        let restarted = TestApp::new(t.store.clone()).await;
        assert!(restarted.bootstrap.is_none());
    })
    .await;
}

#[tokio::test]
async fn cookie_sessions_need_the_csrf_token_to_change_anything() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        t.user_token("olga", Role::Operator).await;
        let creds = json!({"name": "olga", "password": "olga-long-password"});
        let bad = t
            .call(
                Method::POST,
                "/api/v1/session",
                &Auth::None,
                Some(json!({"name": "olga", "password": "wrong password!"})),
            )
            .await;
        assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
        let nobody = t
            .call(
                Method::POST,
                "/api/v1/session",
                &Auth::None,
                Some(json!({"name": "nobody", "password": "whatever password"})),
            )
            .await;
        assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            bad.body, nobody.body,
            "unknown user and wrong password look alike"
        );

        let login = t
            .call(Method::POST, "/api/v1/session", &Auth::None, Some(creds))
            .await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        let (session, set_cookie) = session_cookie(&login);
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
        assert!(!set_cookie.contains("Secure"), "plain HTTP: {set_cookie}");
        let csrf = login.body["csrf_token"]
            .as_str()
            .expect("csrf token")
            .to_owned();

        let me = t
            .get("/api/v1/session", &Auth::Cookie(session.clone(), None))
            .await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.body["user"]["name"], "olga");
        assert_eq!(me.body["authenticated_by"], "session");

        let project = json!({"name": "web"});
        let no_csrf = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &Auth::Cookie(session.clone(), None),
                Some(project.clone()),
            )
            .await;
        assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
        assert_eq!(no_csrf.code(), "csrf_token_invalid");
        let wrong = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &Auth::Cookie(session.clone(), Some("x".repeat(43))),
                Some(project.clone()),
            )
            .await;
        assert_eq!(wrong.code(), "csrf_token_invalid");
        let ok = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &Auth::Cookie(session.clone(), Some(csrf.clone())),
                Some(project),
            )
            .await;
        assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);

        // Logging out is a write too.
        let out = t
            .call(
                Method::DELETE,
                "/api/v1/session",
                &Auth::Cookie(session.clone(), None),
                None,
            )
            .await;
        assert_eq!(out.code(), "csrf_token_invalid");
        let out = t
            .call(
                Method::DELETE,
                "/api/v1/session",
                &Auth::Cookie(session.clone(), Some(csrf)),
                None,
            )
            .await;
        assert_eq!(out.status, StatusCode::NO_CONTENT);
        let gone = t
            .get("/api/v1/session", &Auth::Cookie(session.clone(), None))
            .await;
        assert_eq!(gone.status, StatusCode::UNAUTHORIZED);

        // Sessions expire.
        let login = t
            .call(
                Method::POST,
                "/api/v1/session",
                &Auth::None,
                Some(json!({"name": "olga", "password": "olga-long-password"})),
            )
            .await;
        let (session, _) = session_cookie(&login);
        t.advance(ServerConfig::default().session_ttl.as_millis() as i64 + 1);
        assert_eq!(
            t.get("/api/v1/session", &Auth::Cookie(session, None))
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    })
    .await;
}

/// Password guessing is slowed: after five failures the account is locked out (even
/// for the right password) with 429 and `Retry-After`, for 30 s and doubling; other
/// accounts are unaffected; a success clears the count.
#[tokio::test]
async fn repeated_failed_logins_lock_the_account_out_for_a_while() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        t.user_token("olga", Role::Operator).await;
        t.user_token("pavel", Role::Operator).await;
        let login = |name: &str, password: &str| {
            let body = json!({"name": name, "password": password});
            let t = &t;
            async move {
                t.call(Method::POST, "/api/v1/session", &Auth::None, Some(body))
                    .await
            }
        };
        for _ in 0..5 {
            let r = login("olga", "wrong password!").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        let locked = login("olga", "olga-long-password").await;
        assert_eq!(
            locked.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{}",
            locked.text
        );
        assert_eq!(locked.body["error"]["code"], "too_many_attempts");
        assert_eq!(
            locked.headers.get(header::RETRY_AFTER).unwrap(),
            "30",
            "{:?}",
            locked.headers
        );
        let other = login("pavel", "pavel-long-password").await;
        assert_eq!(other.status, StatusCode::OK, "{}", other.text);

        t.advance(31_000);
        let ok = login("olga", "olga-long-password").await;
        assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
        // The success cleared the count: one new failure does not lock.
        assert_eq!(
            login("olga", "wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            login("olga", "olga-long-password").await.status,
            StatusCode::OK
        );
    })
    .await;
}

#[tokio::test]
async fn secure_cookies_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let store = rampart_store::Store::open_in_dir(dir.path()).await.unwrap();
    let config = ServerConfig {
        secure_cookies: true,
        ..ServerConfig::default()
    };
    let t = TestApp::with_config(store, config).await;
    t.user_token("sam", Role::Auditor).await;
    let login = t
        .call(
            Method::POST,
            "/api/v1/session",
            &Auth::None,
            Some(json!({"name": "sam", "password": "sam-long-password"})),
        )
        .await;
    let (_, set_cookie) = session_cookie(&login);
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
}

#[tokio::test]
async fn tokens_expire_are_revocable_and_die_with_their_user() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let op_token = t.user_token("otto", Role::Operator).await;
        let op = Auth::Bearer(op_token.clone());

        // A short-lived token of the operator's own.
        let created = t
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                &op,
                Some(json!({"name": "ci", "expires_in": 60})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let short = Auth::Bearer(created.body["token"].as_str().unwrap().to_owned());
        assert!(created.body["token"].as_str().unwrap().starts_with("rpt_"));
        assert_eq!(t.get("/api/v1/hosts", &short).await.status, StatusCode::OK);
        t.advance(60_001);
        let expired = t.get("/api/v1/hosts", &short).await;
        assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
        assert_eq!(expired.code(), "unauthenticated");

        // Scope narrows: an auditor-scoped token of an operator cannot write; a scope
        // wider than the owner's roles is refused.
        let wide = t
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                &op,
                Some(json!({"roles": ["admin"]})),
            )
            .await;
        assert_eq!(wide.status, StatusCode::FORBIDDEN, "{}", wide.text);

        // Revocation: the operator revokes its own token; the admin's is not theirs.
        let mine = t
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                &op,
                Some(json!({"name": "laptop"})),
            )
            .await;
        let mine_id = mine.body["id"].as_str().unwrap().to_owned();
        let mine_auth = Auth::Bearer(mine.body["token"].as_str().unwrap().to_owned());
        let admins = t.get("/api/v1/api-tokens", &admin).await;
        let admin_token_id = admins.body["items"][0]["id"].as_str().unwrap().to_owned();
        let not_mine = t
            .call(
                Method::DELETE,
                &format!("/api/v1/api-tokens/{admin_token_id}"),
                &op,
                None,
            )
            .await;
        assert_eq!(not_mine.status, StatusCode::FORBIDDEN);
        let other_list = t
            .get(
                &format!(
                    "/api/v1/api-tokens?user_id={}",
                    admins.body["items"][0]["user_id"].as_str().unwrap()
                ),
                &op,
            )
            .await;
        assert_eq!(
            other_list.status,
            StatusCode::FORBIDDEN,
            "other people's tokens are for admins only: {}",
            other_list.text
        );
        let revoked = t
            .call(
                Method::DELETE,
                &format!("/api/v1/api-tokens/{mine_id}"),
                &op,
                None,
            )
            .await;
        assert_eq!(revoked.status, StatusCode::NO_CONTENT);
        assert_eq!(
            t.get("/api/v1/hosts", &mine_auth).await.status,
            StatusCode::UNAUTHORIZED
        );

        // The admin issues a token for the operator, then disables the operator: every
        // credential of theirs stops working.
        let users = t.get("/api/v1/users", &admin).await;
        let otto = users.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"] == "otto")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let for_otto = t
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                &admin,
                Some(json!({"user_id": otto, "name": "given"})),
            )
            .await;
        assert_eq!(for_otto.status, StatusCode::CREATED, "{}", for_otto.text);
        assert_eq!(for_otto.body["user_id"], otto.as_str());
        let disabled = t
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{otto}"),
                &admin,
                Some(json!({"disabled": true})),
            )
            .await;
        assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.text);
        assert_eq!(
            t.get("/api/v1/hosts", &op).await.status,
            StatusCode::UNAUTHORIZED
        );

        // Re-enabling brings no old token back: disabling revoked them.
        t.call(
            Method::PATCH,
            &format!("/api/v1/users/{otto}"),
            &admin,
            Some(json!({"disabled": false})),
        )
        .await;
        assert_eq!(
            t.get("/api/v1/hosts", &op).await.status,
            StatusCode::UNAUTHORIZED
        );

        // Role changes apply to live tokens at once, and a token never gains rights it
        // was not issued with: a token scoped to operator holds no role at all once
        // otto is an auditor.
        let scoped = t
            .call(
                Method::POST,
                "/api/v1/api-tokens",
                &admin,
                Some(json!({"user_id": otto, "name": "scoped", "roles": ["operator"]})),
            )
            .await;
        assert_eq!(scoped.status, StatusCode::CREATED, "{}", scoped.text);
        let op = Auth::Bearer(scoped.body["token"].as_str().unwrap().to_owned());
        t.call(
            Method::PATCH,
            &format!("/api/v1/users/{otto}"),
            &admin,
            Some(json!({"role": "auditor"})),
        )
        .await;
        let demoted = t.get("/api/v1/hosts", &op).await;
        assert_eq!(demoted.status, StatusCode::FORBIDDEN, "{}", demoted.text);
        t.call(
            Method::PATCH,
            &format!("/api/v1/users/{otto}"),
            &admin,
            Some(json!({"role": "operator"})),
        )
        .await;
        assert_eq!(t.get("/api/v1/hosts", &op).await.status, StatusCode::OK);
        // Admins cannot lock themselves out.
        let me = t.get("/api/v1/session", &admin).await;
        let ada = me.body["user"]["id"].as_str().unwrap().to_owned();
        let r = t
            .call(
                Method::PATCH,
                &format!("/api/v1/users/{ada}"),
                &admin,
                Some(json!({"role": "auditor"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
        let r = t
            .call(
                Method::DELETE,
                &format!("/api/v1/users/{ada}"),
                &admin,
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT);
    })
    .await;
}

#[tokio::test]
async fn enrollment_tokens_are_issued_hashed_and_revocable() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let op = Auth::Bearer(t.user_token("otto", Role::Operator).await);
        t.call(Method::POST, "/api/v1/projects", &op, Some(json!({"name": "web", "selector": {"env": "prod"}}))).await;
        let r = t
            .call(Method::POST, "/api/v1/enrollment-tokens", &op, Some(json!({"project": "web", "labels": {"env": "prod"}, "expires_in": 3600, "max_uses": 5})))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let token = r.body["token"].as_str().unwrap();
        assert!(token.starts_with("rpe_"));
        assert_eq!(r.body["max_uses"], 5);
        // Only the hash is stored, and it is the one an agent's presentation finds.
        let hash = t.state.enrollment_issuer().hash_presented(token);
        let used = t.store.consume_enrolment_token(&hash, t.now()).await.expect("usable");
        assert_eq!(used.uses, 1);
        let list = t.get("/api/v1/enrollment-tokens", &op).await;
        assert_eq!(list.body["total"], 1);
        assert!(!list.text.contains(token));
        let id = r.body["id"].as_str().unwrap();
        let del = t.call(Method::DELETE, &format!("/api/v1/enrollment-tokens/{id}"), &op, None).await;
        assert_eq!(del.status, StatusCode::NO_CONTENT);
        assert!(t.store.consume_enrolment_token(&hash, t.now()).await.is_err());
    })
    .await;
}
