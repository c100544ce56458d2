//! The web UI in-process, on both backends: the set-up and login forms (double-submit
//! token, `next` never leaving the site), session CSRF on every form, security
//! headers, escaping, the dashboard's numbers against the API's, and the host list's
//! filters, sort and pages. The browser itself is exercised by the `rampart` crate's
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
