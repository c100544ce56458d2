//! The web UI in-process, on both backends: the set-up and login forms (double-submit
//! token, `next` never leaving the site), session CSRF on every form, security
//! headers, escaping, the dashboard's numbers against the API's, and the host list's
//! filters, sort and pages; the compliance pages (dashboard figures, compliance by
//! project, trends, host compliance and exceptions, the exceptions page's four-eyes
//! refusal and expiry, project standards and software policies, scan now, report
//! links) against the API's; the notifications page against a real webhook receiver
//! (failure, retry, delivery, send test, secrets never shown) and change requests. The
//! browser itself is exercised by the `rampart` crate's
//! Chromium test.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use rampart_core::authz::Role;
use rampart_core::matcher::{Finding, MatchReason};
use rampart_core::severity::{Severity, SeverityLevel};
use rampart_proto::{HostFacts, HostState, Inventory, OsFacts, PendingUpdate, UpdateCategory};
use rampart_store::{Labels, NewAgent, NewHost, Store};
use tower::ServiceExt as _;

use crate::support::{Auth, TestApp, each_backend};

/// A browser-like request: cookies and an optional urlencoded form.
pub(crate) struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Page {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value a `Set-Cookie` header gives `name`.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// The `value` of the first input named `name`.
    pub(crate) fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("no input {name} in {}", self.text))
            + marker.len();
        self.text[start..].split('"').next().unwrap().to_owned()
    }

    /// `data-value` of the dashboard stat `id`.
    pub(crate) fn stat(&self, id: &str) -> u64 {
        let marker = format!("data-stat=\"{id}\" data-value=\"");
        let start = self.text.find(&marker).expect("stat") + marker.len();
        self.text[start..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

pub(crate) async fn browse(
    t: &TestApp,
    method: Method,
    uri: &str,
    cookies: &[(&str, &str)],
    form: Option<&[(&str, &str)]>,
) -> Page {
    let mut req = Request::builder().method(method).uri(uri);
    if !cookies.is_empty() {
        let header: Vec<String> = cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        req = req.header(header::COOKIE, header.join("; "));
    }
    let req = match form {
        Some(fields) => {
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(fields)
                .finish();
            req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
        }
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = t.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Logs `name` in through the form; returns (session cookie, CSRF token).
async fn log_in(t: &TestApp, name: &str) -> (String, String) {
    let form = browse(t, Method::GET, "/login", &[], None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    let token = form.cookie("rampart_form").expect("form cookie");
    let password = format!("{name}-long-password");
    let done = browse(
        t,
        Method::POST,
        "/login",
        &[("rampart_form", &token)],
        Some(&[
            ("_csrf", &token),
            ("name", name),
            ("password", &password),
            ("next", "/"),
        ]),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let session = done.cookie("rampart_session").expect("session cookie");
    let home = browse(t, Method::GET, "/", &[("rampart_session", &session)], None).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    let csrf = home.input("_csrf");
    (session, csrf)
}

fn assert_security_headers(p: &Page) {
    let h = |name: &str| {
        p.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert!(h("content-security-policy").contains("default-src 'self'"));
    assert!(h("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(h("x-frame-options"), "DENY");
    assert_eq!(h("referrer-policy"), "no-referrer");
    assert_eq!(h("x-content-type-options"), "nosniff");
}

#[tokio::test]
async fn the_first_admin_is_created_through_the_setup_form() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let secret = t.bootstrap.clone().expect("bootstrap secret");
        let login = browse(&t, Method::GET, "/login", &[], None).await;
        assert_eq!(
            (login.status, login.location()),
            (StatusCode::SEE_OTHER, "/setup")
        );
        let form = browse(&t, Method::GET, "/setup", &[], None).await;
        assert_eq!(form.status, StatusCode::OK);
        assert_security_headers(&form);
        let token = form.cookie("rampart_form").unwrap();
        assert_eq!(form.input("_csrf"), token);
        let fields = |secret: &'static str| -> Vec<(&'static str, String)> {
            vec![
                ("name", "root".into()),
                ("password", "a long enough password".into()),
                ("password_again", "a long enough password".into()),
                ("secret", secret.into()),
            ]
        };
        let post = |cookie: Option<&str>, csrf: &str, fields: Vec<(&'static str, String)>| {
            let mut all: Vec<(&str, String)> = vec![("_csrf", csrf.to_owned())];
            all.extend(fields);
            let cookie = cookie.map(|c| c.to_owned());
            let t = &t;
            async move {
                let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let cookies: Vec<(&str, &str)> = cookie
                    .iter()
                    .map(|c| ("rampart_form", c.as_str()))
                    .collect();
                browse(t, Method::POST, "/setup", &cookies, Some(&pairs)).await
            }
        };
        // Without the cookie (a cross-site post) the form is refused.
        let forged = post(None, &token, fields("whatever")).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        let wrong = post(Some(&token), &token, fields("not the secret")).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.text);
        assert!(wrong.text.contains("not the set-up secret"));
        let leaked: &'static str = Box::leak(secret.into_boxed_str());
        let done = post(Some(&token), &token, fields(leaked)).await;
        assert_eq!(
            (done.status, done.location()),
            (StatusCode::SEE_OTHER, "/"),
            "{}",
            done.text
        );
        let session = done.cookie("rampart_session").expect("logged in");
        let home = browse(&t, Method::GET, "/", &[("rampart_session", &session)], None).await;
        assert_eq!(home.status, StatusCode::OK);
        assert!(home.text.contains("root"));
        // Once only.
        let again = browse(&t, Method::GET, "/setup", &[], None).await;
        assert_eq!(
            (again.status, again.location()),
            (StatusCode::SEE_OTHER, "/login")
        );
        let replay = post(Some(&token), &token, fields(leaked)).await;
        assert_eq!(
            (replay.status, replay.location()),
            (StatusCode::SEE_OTHER, "/login")
        );
    })
    .await;
}

#[tokio::test]
async fn login_returns_to_local_pages_only_and_logout_ends_the_session() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        t.user_token("olga", Role::Operator).await;
        // Anonymous: a page redirects to the login form, remembering where to return.
        let anon = browse(&t, Method::GET, "/hosts?q=web&page=2", &[], None).await;
        assert_eq!(anon.status, StatusCode::SEE_OTHER);
        assert_eq!(anon.location(), "/login?next=%2Fhosts%3Fq%3Dweb%26page%3D2");
        assert!(anon.text.is_empty());

        for (next, expected) in [
            ("/hosts?q=web&page=2", "/hosts?q=web&page=2"),
            ("//evil.example/x", "/"),
            ("https://evil.example/", "/"),
            ("/\\evil.example", "/"),
        ] {
            let uri = format!(
                "/login?next={}",
                form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            let form = browse(&t, Method::GET, &uri, &[], None).await;
            assert_eq!(form.status, StatusCode::OK);
            assert_eq!(
                form.input("next")
                    .replace("&#38;", "&")
                    .replace("&amp;", "&"),
                expected
            );
            let token = form.cookie("rampart_form").unwrap();
            // Even a forged `next` field is checked again on submission.
            let done = browse(
                &t,
                Method::POST,
                "/login",
                &[("rampart_form", &token)],
                Some(&[
                    ("_csrf", &token),
                    ("name", "olga"),
                    ("password", "olga-long-password"),
                    ("next", next),
                ]),
            )
            .await;
            assert_eq!(done.status, StatusCode::SEE_OTHER);
            assert_eq!(done.location(), expected, "next {next:?}");
        }

        let form = browse(&t, Method::GET, "/login", &[], None).await;
        let token = form.cookie("rampart_form").unwrap();
        let wrong = browse(
            &t,
            Method::POST,
            "/login",
            &[("rampart_form", &token)],
            Some(&[
                ("_csrf", &token),
                ("name", "olga"),
                ("password", "nope nope nope"),
            ]),
        )
        .await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert!(wrong.text.contains("Wrong name or password"));
        assert!(wrong.cookie("rampart_session").is_none());

        let (session, csrf) = log_in(&t, "olga").await;
        let cookie = [("rampart_session", session.as_str())];
        // Logging out needs the session's CSRF token like every other form.
        let forged = browse(&t, Method::POST, "/logout", &cookie, Some(&[])).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert!(
            forged.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let out = browse(
            &t,
            Method::POST,
            "/logout",
            &cookie,
            Some(&[("_csrf", &csrf)]),
        )
        .await;
        assert_eq!(
            (out.status, out.location()),
            (StatusCode::SEE_OTHER, "/login")
        );
        let after = browse(&t, Method::GET, "/", &cookie, None).await;
        assert_eq!(
            (after.status, after.location()),
            (StatusCode::SEE_OTHER, "/login")
        );
    })
    .await;
}

#[tokio::test]
async fn forms_need_the_session_csrf_token_and_show_an_enrolment_token_once() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        t.user_token("olga", Role::Operator).await;
        t.user_token("audrey", Role::Auditor).await;
        let (session, csrf) = log_in(&t, "olga").await;
        let cookie = [("rampart_session", session.as_str())];
        let fields = |csrf: &str| {
            vec![
                ("_csrf".to_owned(), csrf.to_owned()),
                ("labels".to_owned(), "env=prod\nrole=<web>".to_owned()),
                ("hours".to_owned(), "2".to_owned()),
                ("max_uses".to_owned(), "3".to_owned()),
            ]
        };
        let send = |fields: Vec<(String, String)>, cookie: [(&'static str, String); 1]| {
            let t = &t;
            async move {
                let pairs: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let cookies: Vec<(&str, &str)> =
                    cookie.iter().map(|(k, v)| (*k, v.as_str())).collect();
                browse(
                    t,
                    Method::POST,
                    "/enrollment-tokens",
                    &cookies,
                    Some(&pairs),
                )
                .await
            }
        };
        let sess = || [("rampart_session", session.clone())];
        for bad in ["", "wrong"] {
            let r = send(fields(bad), sess()).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "csrf {bad:?}");
            assert!(r.text.contains("did not come from this site"));
        }
        assert!(t.store.list_enrolment_tokens().await.unwrap().is_empty());

        let bad_hours = {
            let mut f = fields(&csrf);
            f[2].1 = "99999".into();
            send(f, sess()).await
        };
        assert_eq!(
            bad_hours.status,
            StatusCode::BAD_REQUEST,
            "{}",
            bad_hours.text
        );
        assert!(bad_hours.text.contains("expires_in must be"));

        let made = send(fields(&csrf), sess()).await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.text);
        assert_eq!(made.headers[header::CACHE_CONTROL], "no-store");
        let start = made.text.find("<pre id=\"token\">").unwrap() + "<pre id=\"token\">".len();
        let token = &made.text[start..start + made.text[start..].find('<').unwrap()];
        assert!(token.starts_with("rpe_"), "{token}");
        let stored = t.store.list_enrolment_tokens().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(
            stored[0].token_hash,
            rampart_server::secrets::sha256_hex(token)
        );
        assert_eq!(stored[0].max_uses, 3);
        assert_eq!(stored[0].labels["role"], "<web>");
        // Listed afterwards, escaped, and never shown again.
        let list = browse(&t, Method::GET, "/enrollment-tokens", &cookie, None).await;
        assert!(
            list.text.contains("role=&#60;web&#62;") || list.text.contains("role=&lt;web&gt;"),
            "{}",
            list.text
        );
        assert!(!list.text.contains(token));

        // An auditor sees the list but no form, and a forged submission is refused by
        // the authorisation decision.
        let (a_session, a_csrf) = log_in(&t, "audrey").await;
        let page = browse(
            &t,
            Method::GET,
            "/enrollment-tokens",
            &[("rampart_session", &a_session)],
            None,
        )
        .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.text.contains("Issue a token"));
        let refused = send(fields(&a_csrf), [("rampart_session", a_session.clone())]).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert!(refused.text.contains("audrey may not"), "{}", refused.text);
    })
    .await;
}

#[tokio::test]
async fn headers_and_the_stylesheet() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let token = t.user_token("ada", Role::Admin).await;
        let bearer = Auth::Bearer(token);
        let home = t.get("/", &bearer).await;
        assert_eq!(home.status, StatusCode::OK);
        assert_eq!(home.headers[header::CACHE_CONTROL], "no-store");
        assert!(
            home.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let page = Page {
            status: home.status,
            headers: home.headers.clone(),
            text: home.text.clone(),
        };
        assert_security_headers(&page);
        assert!(!home.text.contains("<script"), "no JavaScript is needed");
        let href = home
            .text
            .split("rel=\"stylesheet\" href=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(
            href.starts_with("/assets/app.") && href.ends_with(".css"),
            "{href}"
        );
        let css = t.get(href, &Auth::None).await;
        assert_eq!(css.status, StatusCode::OK);
        assert_eq!(
            css.headers[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert!(
            css.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/css")
        );
        assert!(css.text.contains(":root"));
        let stale = t.get("/assets/app.0000000000000000.css", &Auth::None).await;
        assert_eq!(stale.status, StatusCode::NOT_FOUND);
        assert!(
            stale.headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        // A missing host is an HTML 404, not the API's JSON.
        let missing = t
            .get("/hosts/00000000-0000-7000-8000-000000000000", &bearer)
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(missing.text.contains("No such host"));
    })
    .await;
}

fn package(name: &str, version: &str) -> rampart_core::package::Package {
    rampart_core::package::Package {
        name: name.into(),
        version: version.into(),
        arch: Some("amd64".into()),
        source_name: None,
        source_version: None,
        format: rampart_core::package::PackageFormat::Deb,
    }
}

fn finding(advisory: &str, package: &str, level: SeverityLevel) -> Finding {
    Finding {
        advisory: advisory.into(),
        aliases: vec![format!("CVE-{advisory}")],
        package: package.into(),
        source: package.into(),
        installed: "1.0-1".into(),
        compared_version: "1.0-1".into(),
        advisory_package: package.into(),
        fixed: Some("1.0-2".into()),
        severity: Severity {
            level,
            cvss: Some(9.8),
            vector: None,
        },
        ecosystem: "Debian:12".into(),
        reason: MatchReason::Range {
            kind: rampart_core::advisory::RangeKind::Ecosystem,
            introduced: Some("0".into()),
            fixed: Some("1.0-2".into()),
            last_affected: None,
        },
    }
}

/// Enrols `hostname` with `labels` and an inventory with one pending security update
/// per `security_updates`, then stores `findings` for it.
pub(crate) async fn seed_host(
    store: &Store,
    hostname: &str,
    labels: &[(&str, &str)],
    security_updates: usize,
    findings: &[Finding],
    now: i64,
) -> String {
    let labels: Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let agent_id = rampart_store::new_id(now);
    let host = store
        .enrol_host(
            NewHost {
                hostname,
                machine_id: None,
                labels: &labels,
            },
            NewAgent {
                id: &agent_id,
                cert_serial: &format!("s-{agent_id}"),
                cert_fingerprint: &format!("f-{agent_id}"),
            },
            now,
        )
        .await
        .unwrap()
        .host;
    let inventory = Inventory {
        protocol: rampart_proto::PROTOCOL_VERSION,
        observed_at: now / 1000,
        uptime_secs: None,
        state: HostState {
            host: HostFacts {
                hostname: hostname.into(),
                os: OsFacts {
                    id: "debian".into(),
                    version_id: "12".into(),
                    pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
                    ecosystem: Some("Debian:12".into()),
                },
                ..HostFacts::default()
            },
            packages: vec![package("openssl", "1.0-1"), package("zlib1g", "1.0-1")],
            updates: (0..security_updates)
                .map(|i| PendingUpdate {
                    name: format!("pkg{i}"),
                    arch: None,
                    installed: "1".into(),
                    candidate: "2".into(),
                    origin: "Debian-Security".into(),
                    category: UpdateCategory::Security,
                })
                .chain(std::iter::once(PendingUpdate {
                    name: "other".into(),
                    arch: None,
                    installed: "1".into(),
                    candidate: "2".into(),
                    origin: "Debian".into(),
                    category: UpdateCategory::Other,
                }))
                .collect(),
            ..HostState::default()
        },
    };
    store
        .record_inventory(&host.id, &inventory, now)
        .await
        .unwrap();
    store
        .replace_findings(&host.id, findings, now)
        .await
        .unwrap();
    host.id
}

#[tokio::test]
async fn dashboard_numbers_equal_the_api_and_the_host_list_filters_sorts_and_pages() {
    each_backend(|store| async move {
        let t = TestApp::new(store.clone()).await;
        let bearer = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let now = t.now();
        use SeverityLevel::*;
        for i in 0..57usize {
            let findings = match i % 3 {
                0 => vec![
                    finding("DSA-1", "openssl", Critical),
                    finding("DSA-2", "zlib1g", High),
                ],
                1 => vec![finding("DSA-2", "zlib1g", High)],
                _ => vec![],
            };
            let env = if i % 2 == 0 { "prod" } else { "staging" };
            seed_host(
                &store,
                &format!("web-{i:02}"),
                &[("env", env)],
                i % 4,
                &findings,
                now - i as i64 * 86_400_000,
            )
            .await;
        }
        seed_host(
            &store,
            "<script>alert(1)</script>",
            &[("x", "\"><b>")],
            0,
            &[],
            now,
        )
        .await;
        // What check-ins leave behind: every host evaluated (the seed wrote the store
        // directly; pages refresh only a few due hosts themselves).
        t.state.compliance().evaluate_all(None, now).await.unwrap();

        let home = t.get("/", &bearer).await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.text);
        let page = Page {
            status: home.status,
            headers: home.headers,
            text: home.text,
        };
        let total = |path: &str| {
            let t = &t;
            let bearer = bearer.clone();
            let path = path.to_owned();
            async move { t.get(&path, &bearer).await.body["total"].as_u64().unwrap() }
        };
        assert_eq!(page.stat("hosts"), total("/api/v1/hosts").await);
        assert_eq!(page.stat("hosts"), 58);
        assert_eq!(
            page.stat("critical"),
            total("/api/v1/findings?severity=critical").await
        );
        assert_eq!(
            page.stat("high"),
            total("/api/v1/findings?severity=high").await
        );
        assert_eq!(
            page.stat("hosts_with_critical"),
            total("/api/v1/hosts?has_critical=true").await
        );
        let mut security = 0;
        for h in t.get("/api/v1/hosts?limit=1000", &bearer).await.body["items"]
            .as_array()
            .unwrap()
        {
            let updates = t
                .get(
                    &format!("/api/v1/hosts/{}/updates", h["id"].as_str().unwrap()),
                    &bearer,
                )
                .await;
            security += updates.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|u| u["category"] == "security")
                .count() as u64;
        }
        assert_eq!(page.stat("security_updates"), security);
        assert!(page.text.contains("<svg"), "the update-age chart is drawn");
        assert!(page.text.contains("data-label=\"never\""));
        assert!(page.text.contains("openssl") && page.text.contains("zlib1g"));

        let hosts = t.get("/hosts", &bearer).await;
        assert_eq!(hosts.text.matches("<tr data-host=").count(), 50);
        assert!(
            hosts
                .text
                .contains("1–50 of <span class=\"total\">58</span>"),
            "pager"
        );
        assert!(hosts.text.contains("href=\"/hosts?page=2\""));
        assert!(!hosts.text.contains("<script>alert"), "escaped");
        assert!(hosts.text.contains("&#60;script&#62;") || hosts.text.contains("&lt;script&gt;"));
        let second = t.get("/hosts?page=2", &bearer).await;
        assert_eq!(second.text.matches("<tr data-host=").count(), 8);
        let critical = t.get("/hosts?critical=1", &bearer).await;
        assert_eq!(critical.text.matches("<tr data-host=").count(), 19);
        let prod = t.get("/hosts?label=env%3Dprod&critical=1", &bearer).await;
        assert_eq!(
            prod.text.matches("<tr data-host=").count(),
            10,
            "{}",
            prod.text
        );
        let search = t.get("/hosts?q=web-1", &bearer).await;
        assert_eq!(search.text.matches("<tr data-host=").count(), 10);
        // Sorted by last update, oldest first: web-56 was updated 56 days ago.
        let oldest = t.get("/hosts?sort=updated&dir=asc", &bearer).await;
        let first = oldest.text.split("<tr data-host=\"").nth(1).unwrap();
        assert!(first.starts_with("web-56\""), "{}", &first[..40]);
        // Links keep the filters and sort.
        assert!(
            oldest
                .text
                .contains("href=\"/hosts?sort=updated&#38;dir=asc&#38;page=2\"")
                || oldest
                    .text
                    .contains("href=\"/hosts?sort=updated&amp;dir=asc&amp;page=2\""),
            "pager keeps the sort"
        );

        let id = t.get("/api/v1/hosts?q=web-00", &bearer).await.body["items"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let host = t.get(&format!("/hosts/{id}"), &bearer).await;
        assert_eq!(host.status, StatusCode::OK);
        assert!(host.text.contains("DSA-1") && host.text.contains("introduced 0, fixed 1.0-2"));
        assert!(host.text.contains("Debian GNU/Linux 12 (bookworm)"));
        assert!(host.text.contains("Inventory timeline (1)"));
        let advisory_missing = t.get("/advisories/DSA-1", &bearer).await;
        assert_eq!(
            advisory_missing.status,
            StatusCode::NOT_FOUND,
            "no advisory record imported"
        );
    })
    .await;
}

/// `href="…"` of the first element carrying `attr` (e.g. `data-report="compliance-csv"`),
/// unescaped.
fn href_of(text: &str, attr: &str) -> String {
    let at = text.find(attr).unwrap_or_else(|| panic!("no {attr}"));
    let tag_start = text[..at].rfind('<').unwrap();
    let tag = &text[tag_start..at + text[at..].find('>').unwrap()];
    let start = tag.find("href=\"").expect("href") + 6;
    tag[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The `value` of a `data-…` attribute right after `marker`.
fn attr_after(text: &str, marker: &str, attr: &str) -> String {
    let at = text.find(marker).unwrap_or_else(|| panic!("no {marker}"));
    let rest = &text[at..];
    let start = rest.find(&format!("{attr}=\"")).expect("attribute") + attr.len() + 2;
    rest[start..].split('"').next().unwrap().to_owned()
}

/// The date (`YYYY-MM-DD`) `days` after the test clock's `now`.
fn date_in(now: i64, days: i64) -> String {
    let day = (now / 86_400_000) + days;
    // Inverse of days-from-civil, as the API's trend dates.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The dashboard's compliance figures against `GET /api/v1/compliance`.
async fn assert_dashboard_equals_api(
    t: &TestApp,
    session: &str,
    bearer: &Auth,
) -> serde_json::Value {
    let home = browse(t, Method::GET, "/", &[("rampart_session", session)], None).await;
    assert_eq!(home.status, StatusCode::OK, "{}", home.text);
    let api = t.get("/api/v1/compliance", bearer).await.body;
    let estate = &api["estate"];
    for (stat, field) in [
        ("non_compliant", "non_compliant"),
        ("critical", "critical"),
        ("high", "high"),
        ("hosts", "hosts"),
    ] {
        assert_eq!(
            home.stat(stat),
            estate[field].as_u64().unwrap(),
            "{stat}: {estate}"
        );
    }
    let hosts = t
        .get("/api/v1/compliance/hosts?limit=1000", bearer)
        .await
        .body;
    let over = hosts["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| {
            h["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["kind"] == "not_updated")
        })
        .count() as u64;
    assert_eq!(home.stat("over_threshold"), over);
    // Compliance by project: one row per project with the API's figures.
    for p in api["projects"].as_array().unwrap() {
        let id = p["project_id"].as_str().unwrap();
        let row_start = home
            .text
            .find(&format!("href=\"/projects/{id}\""))
            .expect("project row");
        let row = &home.text[row_start..];
        let row = &row[..row.find("</tr>").unwrap()];
        let cells: Vec<String> = row
            .split("<td")
            .skip(1)
            .map(|c| {
                let inner = c.split("</td>").next().unwrap();
                let text: String = inner
                    .split('<')
                    .map(|s| s.split_once('>').map_or(s, |(_, t)| t))
                    .collect();
                text.trim().to_owned()
            })
            .collect();
        let expected: Vec<String> = ["hosts", "compliant", "non_compliant", "stale", "critical"]
            .iter()
            .map(|f| p[f].as_u64().unwrap().to_string())
            .collect();
        assert_eq!(cells, expected, "{row}");
    }
    api
}

#[tokio::test]
async fn compliance_pages_equal_the_api_and_exceptions_need_a_second_person() {
    each_backend(|store| async move {
        let t = TestApp::new(store.clone()).await;
        let bearer = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        t.user_token("olga", Role::Operator).await;
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let now = t.now();
        use SeverityLevel::*;
        let mut ids = Vec::new();
        for i in 0..6usize {
            let findings = match i % 3 {
                0 => vec![
                    finding("DSA-1", "openssl", Critical),
                    finding("DSA-2", "zlib1g", High),
                ],
                1 => vec![finding("DSA-2", "zlib1g", High)],
                _ => vec![],
            };
            let env = if i < 3 { "prod" } else { "staging" };
            ids.push(
                seed_host(
                    &store,
                    &format!("app-{i}"),
                    &[("env", env)],
                    0,
                    &findings,
                    // app-5's packages last changed 120 days ago: over the threshold.
                    now - if i == 5 { 120 } else { i as i64 } * 86_400_000,
                )
                .await,
            );
        }
        // Hosts checked in just now (app-5 too), so only the update age tells.
        for id in &ids {
            store.record_checkin(id, now).await.unwrap();
        }
        let r = t
            .call(
                Method::POST,
                "/api/v1/projects",
                &bearer,
                Some(serde_json::json!({"name": "prod", "selector": {"env": "prod"}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
        let project_id = r.body["id"].as_str().unwrap().to_owned();
        // Today's trend row, from evaluated snapshots (as the scheduler's tick does).
        t.state.compliance().refresh_due(now, 100).await.unwrap();
        t.state.compliance().record_trend(now).await.unwrap();

        let (ada, ada_csrf) = log_in(&t, "ada").await;
        let (olga, olga_csrf) = log_in(&t, "olga").await;
        let api = assert_dashboard_equals_api(&t, &ada, &bearer).await;
        assert!(api["estate"]["critical"].as_u64().unwrap() == 2);
        assert!(api["estate"]["non_compliant"].as_u64().unwrap() >= 3);
        let home = browse(&t, Method::GET, "/", &[("rampart_session", &ada)], None).await;
        assert_eq!(home.stat("over_threshold"), 1, "app-5");
        // The trends are drawn from the recorded day.
        for id in ["trend_30", "trend_90"] {
            let last = attr_after(&home.text, &format!("id=\"{id}\""), "data-last");
            assert_eq!(last, api["estate"]["non_compliant"].to_string(), "{id}");
        }
        // Report downloads and "scan now" are offered; the links are the API's and a
        // session cookie is enough to fetch them.
        let csv = href_of(&home.text, "data-report=\"compliance-csv\"");
        assert_eq!(csv, "/api/v1/reports/compliance?format=csv");
        let report = browse(&t, Method::GET, &csv, &[("rampart_session", &ada)], None).await;
        assert_eq!(report.status, StatusCode::OK);
        assert_eq!(report.text.lines().count(), 1 + 6, "{}", report.text);
        // Auditors see no scan button.
        let audited = t.get("/", &auditor).await;
        assert!(!audited.text.contains("action=\"/scans\""));

        // Hosts list: the compliance filter equals the API's listing.
        for (filter, api_path) in [
            (
                "non_compliant",
                "/api/v1/compliance/hosts?state=non_compliant",
            ),
            ("compliant", "/api/v1/compliance/hosts?state=compliant"),
            ("stale", "/api/v1/compliance/hosts?stale=true"),
        ] {
            let page = t.get(&format!("/hosts?compliance={filter}"), &bearer).await;
            let api_total = t.get(api_path, &bearer).await.body["total"]
                .as_u64()
                .unwrap();
            assert_eq!(
                page.text.matches("<tr data-host=").count() as u64,
                api_total,
                "{filter}"
            );
        }
        let all = t.get("/hosts", &bearer).await;
        assert_eq!(all.text.matches("data-compliance=").count(), 6);

        // Host page: the state and every reason, as the API words them.
        let host = &ids[0];
        let api_host = t
            .get(&format!("/api/v1/hosts/{host}/compliance"), &bearer)
            .await
            .body;
        let page = t.get(&format!("/hosts/{host}"), &bearer).await;
        assert!(
            page.text.contains("data-state=\"non-compliant\""),
            "{}",
            page.text
        );
        let reasons = api_host["reasons"].as_array().unwrap();
        assert!(!reasons.is_empty());
        for r in reasons {
            let message = r["message"].as_str().unwrap();
            assert!(
                page.text.contains(&format!("<li>{message}</li>")),
                "{message}"
            );
        }
        assert!(page.text.contains("Exceptions in force (0)"));
        // Operators may request: the finding links to the prefilled form.
        let olga_host = browse(
            &t,
            Method::GET,
            &format!("/hosts/{host}"),
            &[("rampart_session", &olga)],
            None,
        )
        .await;
        let request_href = href_of(&olga_host.text, "class=\"request\"");
        assert!(
            request_href.contains("advisory=DSA-")
                && request_href.contains(&format!("host={host}"))
        );
        let audited = t.get(&format!("/hosts/{host}"), &auditor).await;
        assert!(
            !audited.text.contains("class=\"request\""),
            "auditors may not request"
        );
        let form = browse(
            &t,
            Method::GET,
            "/exceptions?advisory=DSA-1&scope=host&host=x",
            &[("rampart_session", &olga)],
            None,
        )
        .await;
        assert!(form.text.contains("id=\"req-advisory\" value=\"DSA-1\""));

        // Olga requests an exception for DSA-1 on the host through the form.
        let expires = date_in(now, 10);
        let fields = |advisory: &'static str, expires: &str| -> Vec<(&'static str, String)> {
            vec![
                ("_csrf", olga_csrf.clone()),
                ("advisory", advisory.into()),
                ("scope", "host".into()),
                ("host", host.clone()),
                ("reason", "vendor fix scheduled".into()),
                ("ticket", "CHG-42".into()),
                ("expires", expires.into()),
            ]
        };
        let post = |fields: Vec<(&'static str, String)>, session: String| {
            let t = &t;
            async move {
                let pairs: Vec<(&str, &str)> =
                    fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                browse(
                    t,
                    Method::POST,
                    "/exceptions",
                    &[("rampart_session", &session)],
                    Some(&pairs),
                )
                .await
            }
        };
        let bad = post(fields("DSA-1", "2020-01-01"), olga.clone()).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(
            bad.text.contains("expiry must lie in the future"),
            "{}",
            bad.text
        );
        assert!(bad.text.contains("value=\"CHG-42\""), "the form is echoed");
        let done = post(fields("DSA-1", &expires), olga.clone()).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
        let exception_id = done
            .location()
            .split("id=")
            .nth(1)
            .unwrap()
            .split('#')
            .next()
            .unwrap()
            .to_owned();
        let listed = browse(
            &t,
            Method::GET,
            done.location(),
            &[("rampart_session", &olga)],
            None,
        )
        .await;
        assert!(
            listed
                .text
                .contains("requested. Another person must approve it")
        );
        assert!(listed.text.contains(&format!(
            "data-exception=\"{exception_id}\" data-status=\"requested\""
        )));

        // The requester cannot approve it: a refusal page that says why.
        let approve = format!("/exceptions/{exception_id}/approve");
        let own = browse(
            &t,
            Method::POST,
            &approve,
            &[("rampart_session", &olga)],
            Some(&[("_csrf", &olga_csrf)]),
        )
        .await;
        assert_eq!(own.status, StatusCode::FORBIDDEN);
        assert!(
            own.text
                .contains("requester of an exception cannot approve it"),
            "{}",
            own.text
        );
        let still = t
            .get(&format!("/api/v1/exceptions/{exception_id}"), &bearer)
            .await;
        assert_eq!(still.body["status"], "requested");
        // Auditors may not decide at all.
        let r = t
            .raw(
                Method::POST,
                &approve,
                &auditor,
                Some(b"_csrf=x".to_vec()),
                "application/x-www-form-urlencoded",
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        // A second person approves.
        let ok = browse(
            &t,
            Method::POST,
            &approve,
            &[("rampart_session", &ada)],
            Some(&[("_csrf", &ada_csrf)]),
        )
        .await;
        assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.text);
        assert_eq!(
            t.get(&format!("/api/v1/exceptions/{exception_id}"), &bearer)
                .await
                .body["status"],
            "approved"
        );
        let again = browse(
            &t,
            Method::POST,
            &approve,
            &[("rampart_session", &ada)],
            Some(&[("_csrf", &ada_csrf)]),
        )
        .await;
        assert_eq!(again.status, StatusCode::CONFLICT);

        // In force: on the host page, on the finding, and out of the dashboard's count.
        let page = t.get(&format!("/hosts/{host}"), &bearer).await;
        assert!(page.text.contains("Exceptions in force (1)"));
        assert!(
            page.text
                .contains(&format!("<tr data-exception=\"{exception_id}\""))
        );
        assert!(
            page.text
                .contains(&format!("data-exception=\"{exception_id}\">accepted</a>"))
        );
        let api = assert_dashboard_equals_api(&t, &ada, &bearer).await;
        assert_eq!(
            api["estate"]["critical"], 1,
            "one critical finding accepted"
        );
        let active = t.get("/exceptions?status=active", &bearer).await;
        assert!(active.text.contains(&format!(
            "data-exception=\"{exception_id}\" data-status=\"approved\""
        )));

        // Expired: eleven days on it no longer applies, with nothing done.
        t.advance(11 * 86_400_000);
        let page = t.get(&format!("/hosts/{host}"), &bearer).await;
        assert!(page.text.contains("Exceptions in force (0)"), "expired");
        assert!(
            !page
                .text
                .contains(&format!("data-exception=\"{exception_id}\">accepted"))
        );
        let expired = t.get("/exceptions?status=expired", &bearer).await;
        assert!(expired.text.contains(&format!(
            "data-exception=\"{exception_id}\" data-status=\"expired\""
        )));
        assert!(
            !expired.text.contains("class=\"revoke"),
            "nothing left to revoke"
        );
        let active = t.get("/exceptions?status=active", &bearer).await;
        assert!(!active.text.contains(&exception_id));
        // Sessions lasted; log in again after the jump to be safe about their lifetime.
        let (ada, ada_csrf) = log_in(&t, "ada").await;
        let api = assert_dashboard_equals_api(&t, &ada, &bearer).await;
        assert_eq!(api["estate"]["critical"], 2, "the finding counts again");

        // Projects: standard and software policy through the forms, as the API reads them.
        let projects = t.get("/projects", &bearer).await;
        assert!(projects.text.contains("data-project=\"prod\""));
        assert!(
            projects
                .text
                .contains("updates ≤ 7 d, 0 critical allowed, alert after 90 d")
        );
        let project_page = format!("/projects/{project_id}");
        let p = browse(
            &t,
            Method::GET,
            &project_page,
            &[("rampart_session", &ada)],
            None,
        )
        .await;
        assert!(p.text.contains("Compliance standard (defaults)"));
        assert_eq!(
            href_of(&p.text, "data-report=\"findings-pdf\""),
            format!("/api/v1/reports/findings?project={project_id}&format=pdf")
        );
        let prod = &t.get("/api/v1/compliance?project=prod", &bearer).await.body["projects"][0];
        assert!(p.text.contains(&format!(
            "data-count=\"non_compliant\">{}</a>",
            prod["non_compliant"]
        )));
        assert!(
            p.text
                .contains(&format!("data-count=\"hosts\">{}</dd>", prod["hosts"]))
        );
        let std_fields = [
            ("_csrf", ada_csrf.as_str()),
            ("max_pending_security_days", "14"),
            ("critical_findings_allowed", "1"),
            ("last_updated_alert_days", "60"),
            ("stale_after_checkins", "5"),
            ("checkin_interval_secs", "120"),
            ("full_scan_interval_hours", "24"),
        ];
        let saved = browse(
            &t,
            Method::POST,
            &format!("{project_page}/standard"),
            &[("rampart_session", &ada)],
            Some(&std_fields),
        )
        .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text);
        let std = t
            .get(&format!("/api/v1/projects/{project_id}/standard"), &bearer)
            .await
            .body;
        assert_eq!(
            (
                std["configured"].clone(),
                std["critical_findings_allowed"].clone(),
                std["last_updated_alert_days"].clone()
            ),
            (
                serde_json::json!(true),
                serde_json::json!(1),
                serde_json::json!(60)
            )
        );
        let mut bad_std = std_fields.to_vec();
        bad_std[5] = ("checkin_interval_secs", "0");
        let refused = browse(
            &t,
            Method::POST,
            &format!("{project_page}/standard"),
            &[("rampart_session", &ada)],
            Some(&bad_std),
        )
        .await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
        assert!(refused.text.contains("role=\"alert\""));
        let policy = browse(
            &t,
            Method::POST,
            &format!("{project_page}/software-policy"),
            &[("rampart_session", &ada)],
            Some(&[
                ("_csrf", &ada_csrf),
                ("allow", ""),
                ("deny", "telnet*\nnetcat-*"),
            ]),
        )
        .await;
        assert_eq!(policy.status, StatusCode::SEE_OTHER, "{}", policy.text);
        let api_policy = t
            .get(
                &format!("/api/v1/projects/{project_id}/software-policy"),
                &bearer,
            )
            .await
            .body;
        assert_eq!(
            api_policy["deny"],
            serde_json::json!(["telnet*", "netcat-*"])
        );
        let bad_policy = browse(
            &t,
            Method::POST,
            &format!("{project_page}/software-policy"),
            &[("rampart_session", &ada)],
            Some(&[("_csrf", &ada_csrf), ("deny", "[unclosed")]),
        )
        .await;
        assert_eq!(
            bad_policy.status,
            StatusCode::BAD_REQUEST,
            "{}",
            bad_policy.text
        );
        // Auditors read the standard and the policy, without forms.
        let audited = t.get(&project_page, &auditor).await;
        assert!(
            audited
                .text
                .contains("data-field=\"critical_findings_allowed\">1</dd>")
        );
        assert!(!audited.text.contains("id=\"save-standard\""));
        assert!(audited.text.contains("telnet*"));
        // Scan now for the project returns to the project page with the result.
        let scan = browse(
            &t,
            Method::POST,
            "/scans",
            &[("rampart_session", &ada)],
            Some(&[("_csrf", &ada_csrf), ("project", &project_id)]),
        )
        .await;
        assert!(
            scan.location()
                .starts_with(&format!("{project_page}?scan=")),
            "{}",
            scan.location()
        );
        let after = browse(
            &t,
            Method::GET,
            scan.location(),
            &[("rampart_session", &ada)],
            None,
        )
        .await;
        assert!(after.text.contains("Scan finished"), "{}", after.text);
        // Scan now for the estate (it re-matches findings against the advisories: none
        // were imported, so the seeded findings close) returns to the dashboard.
        let home = browse(&t, Method::GET, "/", &[("rampart_session", &ada)], None).await;
        assert!(home.text.contains("action=\"/scans\""));
        let scan = browse(
            &t,
            Method::POST,
            "/scans",
            &[("rampart_session", &ada)],
            Some(&[("_csrf", &ada_csrf)]),
        )
        .await;
        assert_eq!(scan.status, StatusCode::SEE_OTHER, "{}", scan.text);
        assert!(scan.location().starts_with("/?scan="));
        let after = browse(
            &t,
            Method::GET,
            scan.location(),
            &[("rampart_session", &ada)],
            None,
        )
        .await;
        assert!(after.text.contains("Scan finished"), "{}", after.text);
        // Without the form token the scan is refused.
        let forged = browse(
            &t,
            Method::POST,
            "/scans",
            &[("rampart_session", &ada)],
            Some(&[]),
        )
        .await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);
        assert_dashboard_equals_api(&t, &ada, &bearer).await;
    })
    .await;
}

/// `data-<attr>` of the delivery row `id`.
fn delivery_attr(page: &Page, id: &str, attr: &str) -> String {
    attr_after(&page.text, &format!("data-delivery=\"{id}\""), attr)
}

/// The delivery row `id` as text (from its `<tr` to its `</tr>`).
fn delivery_row<'a>(page: &'a Page, id: &str) -> &'a str {
    let start = page
        .text
        .find(&format!("id=\"d-{id}\""))
        .unwrap_or_else(|| panic!("no delivery {id} in {}", page.text));
    let end = start + page.text[start..].find("</tr>").unwrap();
    &page.text[start..end]
}

// A real webhook receiver (axum on 127.0.0.1:0, `notifications::receiver`) answers 500
// first, then 200: the dispatcher's real attempts are what the page must show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notification_failures_show_and_retry_from_the_page_and_change_requests_close() {
    each_backend(|store| async move {
        let t = crate::notifications::app(store).await;
        t.user_token("ada", Role::Admin).await;
        t.user_token("olga", Role::Operator).await;
        t.user_token("audrey", Role::Auditor).await;
        let (ada, csrf) = log_in(&t, "ada").await;
        let (audrey, a_csrf) = log_in(&t, "audrey").await;
        let admin = [("rampart_session", ada.as_str())];
        let auditor = [("rampart_session", audrey.as_str())];
        let hook = crate::notifications::receiver(&[(500, "receiver down")]).await;
        const SIGNING: &str = "signing-secret-never-shown";
        const PASSWORD: &str = "smtp-password-never-shown";
        let mut shown = Vec::new();

        // The form refuses what the API refuses, with the reason, and keeps no secret.
        let bad = browse(
            &t,
            Method::POST,
            "/notifications/channels",
            &admin,
            Some(&[
                ("_csrf", &csrf),
                ("name", "bad"),
                ("kind", "webhook"),
                ("url", "ftp://example.org/x"),
                ("secret", SIGNING),
            ]),
        )
        .await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
        assert!(bad.text.contains("id=\"error\""), "{}", bad.text);
        assert!(bad.text.contains("ftp://example.org/x"));
        shown.push(bad);
        assert!(t.store.list_channels().await.unwrap().is_empty());

        // A webhook with its own secret, an email channel with a password, and a
        // webhook whose secret the server generates and shows once.
        let made = browse(
            &t,
            Method::POST,
            "/notifications/channels",
            &admin,
            Some(&[
                ("_csrf", &csrf),
                ("name", "siem"),
                ("kind", "webhook"),
                ("url", &hook.url),
                ("secret", SIGNING),
                ("events", "host.stale"),
                ("events", "finding.critical"),
            ]),
        )
        .await;
        assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text);
        assert!(made.location().contains("done=created"));
        let mail = browse(
            &t,
            Method::POST,
            "/notifications/channels",
            &admin,
            Some(&[
                ("_csrf", &csrf),
                ("name", "mail"),
                ("kind", "email"),
                ("host", "127.0.0.1"),
                ("port", "2525"),
                ("security", "plain"),
                ("username", "rampart"),
                ("password", PASSWORD),
                ("from", "rampart@example.org"),
                ("to", "ops@example.org, sec@example.org"),
                ("events", "report.ready"),
            ]),
        )
        .await;
        assert_eq!(mail.status, StatusCode::SEE_OTHER, "{}", mail.text);
        let generated = browse(
            &t,
            Method::POST,
            "/notifications/channels",
            &admin,
            Some(&[
                ("_csrf", &csrf),
                ("name", "tickets"),
                ("kind", "webhook"),
                ("url", &hook.url),
                ("ticketing", "1"),
            ]),
        )
        .await;
        assert_eq!(generated.status, StatusCode::CREATED, "{}", generated.text);
        let start = generated
            .text
            .find("<pre id=\"generated-secret\">")
            .unwrap()
            + "<pre id=\"generated-secret\">".len();
        let secret =
            generated.text[start..start + generated.text[start..].find('<').unwrap()].to_owned();
        assert!(secret.starts_with("whsec_"), "{secret}");
        let channels = t.store.list_channels().await.unwrap();
        assert_eq!(channels.len(), 3);
        let siem = channels.iter().find(|c| c.name == "siem").unwrap().clone();
        let tickets = channels
            .iter()
            .find(|c| c.name == "tickets")
            .unwrap()
            .clone();
        assert_eq!(siem.events, ["host.stale", "finding.critical"]);
        assert!(siem.secret.as_deref().is_some_and(|s| !s.contains(SIGNING)));
        assert!(channels.iter().all(|c| c.secret.is_some()));

        // One dispatch round against the failing receiver: the page shows the failure,
        // its error and attempt count, and the row stands out; so does the dashboard.
        let queued = rampart_server::notifier::emit(
            &t.store,
            &crate::notifications::stale_event(t.now()),
            t.now(),
        )
        .await
        .unwrap();
        assert_eq!(queued.len(), 1);
        let id = queued[0].id.clone();
        assert_eq!(
            rampart_server::notifier::dispatch_due(&t.state)
                .await
                .unwrap(),
            1
        );
        let page = browse(&t, Method::GET, "/notifications", &admin, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        assert_security_headers(&page);
        assert_eq!(delivery_attr(&page, &id, "data-status"), "pending");
        assert_eq!(delivery_attr(&page, &id, "data-attempts"), "1");
        let row = delivery_row(&page, &id);
        assert!(row.contains("class=\"trouble\""), "{row}");
        assert!(row.contains("HTTP 500: receiver down"), "{row}");
        assert!(row.contains("host.stale"), "{row}");
        assert!(row.contains(&format!("/notifications/deliveries/{id}/retry")));
        assert!(page.text.contains("delivery-retrying"), "{}", page.text);
        for (filter, listed) in [("failed", false), ("pending", true), ("delivered", false)] {
            let p = browse(
                &t,
                Method::GET,
                &format!("/notifications?status={filter}"),
                &admin,
                None,
            )
            .await;
            assert_eq!(
                p.text.contains(&format!("id=\"d-{id}\"")),
                listed,
                "{filter}"
            );
        }
        let home = browse(&t, Method::GET, "/", &admin, None).await;
        assert!(
            home.text.contains("id=\"failing-deliveries\""),
            "{}",
            home.text
        );
        assert!(home.text.contains("0 failed, 1 retrying"), "{}", home.text);
        shown.push(page);
        shown.push(home);

        // Auditors read the page but get no forms, and every POST is refused.
        let seen = browse(&t, Method::GET, "/notifications", &auditor, None).await;
        assert_eq!(seen.status, StatusCode::OK);
        assert!(seen.text.contains("HTTP 500: receiver down"));
        assert!(
            !seen
                .text
                .contains("method=\"post\" action=\"/notifications")
        );
        assert!(!seen.text.contains("Add a channel"));
        let siem_path = format!("/notifications/channels/{}", siem.id);
        for path in [
            format!("/notifications/deliveries/{id}/retry"),
            format!("{siem_path}/test"),
            format!("{siem_path}/enabled"),
            format!("{siem_path}/delete"),
            "/notifications/channels".to_owned(),
        ] {
            let r = browse(
                &t,
                Method::POST,
                &path,
                &auditor,
                Some(&[
                    ("_csrf", &a_csrf),
                    ("name", "x"),
                    ("kind", "webhook"),
                    ("url", &hook.url),
                    ("enabled", "0"),
                ]),
            )
            .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
            assert!(r.text.contains("audrey may not"), "{}", r.text);
        }
        shown.push(seen);
        assert_eq!(t.store.list_channels().await.unwrap().len(), 3);

        // "Retry" makes it due now; the receiver answers 200 at the next round.
        let retried = browse(
            &t,
            Method::POST,
            &format!("/notifications/deliveries/{id}/retry"),
            &admin,
            Some(&[("_csrf", &csrf)]),
        )
        .await;
        assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.text);
        let d = t.store.get_delivery(&id).await.unwrap();
        assert_eq!(d.next_attempt_at, t.now());
        let after = browse(&t, Method::GET, retried.location(), &admin, None).await;
        assert!(after.text.contains("is due again"), "{}", after.text);
        assert_eq!(
            rampart_server::notifier::dispatch_due(&t.state)
                .await
                .unwrap(),
            1
        );
        assert_eq!(hook.requests().len(), 2);
        let page = browse(&t, Method::GET, "/notifications", &admin, None).await;
        assert_eq!(delivery_attr(&page, &id, "data-status"), "delivered");
        assert_eq!(delivery_attr(&page, &id, "data-attempts"), "2");
        let row = delivery_row(&page, &id);
        assert!(!row.contains("trouble") && !row.contains("/retry"), "{row}");
        let home = browse(&t, Method::GET, "/", &admin, None).await;
        assert!(!home.text.contains("failing-deliveries"));
        shown.push(page);

        // "Send test" delivers at once and says so; disable and delete.
        let tested = browse(
            &t,
            Method::POST,
            &format!("/notifications/channels/{}/test", tickets.id),
            &admin,
            Some(&[("_csrf", &csrf)]),
        )
        .await;
        assert_eq!(tested.status, StatusCode::SEE_OTHER, "{}", tested.text);
        let told = browse(&t, Method::GET, tested.location(), &admin, None).await;
        assert!(told.text.contains("delivered."), "{}", told.text);
        assert_eq!(hook.requests().len(), 3);
        shown.push(told);
        let off = browse(
            &t,
            Method::POST,
            &format!("{siem_path}/enabled"),
            &admin,
            Some(&[("_csrf", &csrf), ("enabled", "0")]),
        )
        .await;
        assert_eq!(off.status, StatusCode::SEE_OTHER, "{}", off.text);
        assert!(!t.store.get_channel(&siem.id).await.unwrap().enabled);
        let gone = browse(
            &t,
            Method::POST,
            &format!("{siem_path}/delete"),
            &admin,
            Some(&[("_csrf", &csrf)]),
        )
        .await;
        assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.text);
        assert!(t.store.get_channel(&siem.id).await.is_err());

        // Change requests: items shown; auditors cannot close, an operator can.
        let selector: Labels = [("role".to_owned(), "web".to_owned())].into();
        let project = t
            .store
            .create_project(
                rampart_store::NewProject {
                    name: "web",
                    description: "",
                    selector: &selector,
                },
                t.now(),
            )
            .await
            .unwrap();
        let items = vec![rampart_core::change_request::ChangeRequestItem {
            host_id: "h1".into(),
            hostname: "web-1".into(),
            updates: vec![rampart_core::change_request::OverdueUpdate {
                package: "openssl".into(),
                installed: "3.0.11-1~deb12u1".into(),
                candidate: "3.0.11-1~deb12u2".into(),
                pending_since: t.now() - 10 * 86_400_000,
            }],
        }];
        let cr =
            rampart_server::notifier::open_or_update_change_request(&t.state, &project.id, &items)
                .await
                .unwrap()
                .unwrap();
        let list = browse(&t, Method::GET, "/change-requests", &auditor, None).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        assert!(list.text.contains("openssl"));
        assert!(list.text.contains("3.0.11-1~deb12u1 → 3.0.11-1~deb12u2"));
        assert!(list.text.contains("data-status=\"open\""));
        assert!(!list.text.contains("/close"));
        let close = format!("/change-requests/{}/close", cr.id);
        let refused = browse(
            &t,
            Method::POST,
            &close,
            &auditor,
            Some(&[("_csrf", &a_csrf)]),
        )
        .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.text);
        let (olga, o_csrf) = log_in(&t, "olga").await;
        let operator = [("rampart_session", olga.as_str())];
        let list = browse(
            &t,
            Method::GET,
            "/change-requests?status=open",
            &operator,
            None,
        )
        .await;
        assert!(list.text.contains(&close), "{}", list.text);
        let closed = browse(
            &t,
            Method::POST,
            &close,
            &operator,
            Some(&[("_csrf", &o_csrf)]),
        )
        .await;
        assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.text);
        let list = browse(&t, Method::GET, closed.location(), &operator, None).await;
        assert!(
            list.text.contains("data-status=\"closed\""),
            "{}",
            list.text
        );
        assert!(list.text.contains("closed."), "{}", list.text);
        let open = browse(
            &t,
            Method::GET,
            "/change-requests?status=open",
            &operator,
            None,
        )
        .await;
        assert!(open.text.contains("No change request matches"));

        // Secrets never reach a page (the generated one only in its creation answer).
        shown.push(browse(&t, Method::GET, "/notifications", &admin, None).await);
        for page in &shown {
            for s in [SIGNING, PASSWORD, secret.as_str()] {
                assert!(!page.text.contains(s), "secret shown: {}", page.text);
            }
        }
    })
    .await;
}
