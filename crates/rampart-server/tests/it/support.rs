//! The test harness: an app on a fresh store, a movable clock, request helpers.
//!
//! Each scenario runs through [`each_backend`]: once on a real SQLite database in a
//! temporary directory, and once on the real PostgreSQL server named by
//! `RAMPART_TEST_POSTGRES_URL` in a schema created for the test and dropped after (under
//! `CI` a missing URL fails loudly, as in rampart-store's conformance suite).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use rampart_core::authz::Role;
use rampart_server::{AppState, RandomEnrollmentTokens, ServerConfig};
use rampart_store::Store;
use serde_json::Value;
use sqlx::Connection as _;
use tower::ServiceExt as _;

/// A fixed start time (2026-01-01), moved by tests through [`TestApp::advance`].
pub(crate) const T0: i64 = 1_767_225_600_000;

pub(crate) struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub store: Store,
    pub clock: Arc<AtomicI64>,
    pub bootstrap: Option<String>,
}

/// How a request authenticates.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    None,
    Bearer(String),
    /// Session cookie value, and the CSRF header to send (if any).
    Cookie(String, Option<String>),
}

pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    /// The error code of a JSON error body.
    pub(crate) fn code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or("<no error code>")
    }
}

impl TestApp {
    /// The app with the default settings, except that loopback may be connected to:
    /// the tests' webhook receivers and SMTP server listen there. (The default policy's
    /// refusal of loopback has its own tests in `security.rs`.)
    pub(crate) async fn new(store: Store) -> TestApp {
        let config = ServerConfig {
            egress: loopback_egress(),
            ..ServerConfig::default()
        };
        TestApp::with_config(store, config).await
    }

    pub(crate) async fn with_config(store: Store, config: ServerConfig) -> TestApp {
        let clock = Arc::new(AtomicI64::new(T0));
        let c = clock.clone();
        let (state, bootstrap) = AppState::with_parts(
            store.clone(),
            config,
            Arc::new(move || c.load(Ordering::SeqCst)),
            Arc::new(RandomEnrollmentTokens),
        )
        .await
        .expect("app state");
        TestApp {
            app: rampart_server::app(state.clone()),
            state,
            store,
            clock,
            bootstrap: bootstrap.map(|b| b.0),
        }
    }

    /// Wraps an existing state (a served app's) to call it in-process; its clock is
    /// the state's own, so [`TestApp::advance`] has no effect on it.
    pub(crate) fn wrap(state: AppState, store: Store) -> TestApp {
        TestApp {
            app: rampart_server::app(state.clone()),
            clock: Arc::new(AtomicI64::new(state.now())),
            state,
            store,
            bootstrap: None,
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    pub(crate) fn advance(&self, millis: i64) {
        self.clock.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sends one request through the whole app.
    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> Reply {
        let body = body.map(|b| b.to_string().into_bytes());
        self.raw(method, path, auth, body, "application/json").await
    }

    pub(crate) async fn raw(
        &self,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Vec<u8>>,
        content_type: &str,
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Auth::Cookie(session, csrf) => {
                req = req.header(header::COOKIE, format!("rampart_session={session}"));
                if let Some(csrf) = csrf {
                    req = req.header("x-csrf-token", csrf);
                }
            }
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let res = self.app.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// Uploads the OSV records (`*.json`) of `dir` as one JSON array, named after the
    /// directory, the way `rampart feeds import DIR` hands a directory to the server.
    pub(crate) async fn upload_feed_dir(&self, dir: &std::path::Path, auth: &Auth) -> Reply {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("feed dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        let records: Vec<Value> = files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
            .collect();
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        self.raw(
            Method::POST,
            &format!("/api/v1/feeds/import?name={name}"),
            auth,
            Some(Value::Array(records).to_string().into_bytes()),
            "application/json",
        )
        .await
    }

    pub(crate) async fn get(&self, path: &str, auth: &Auth) -> Reply {
        self.call(Method::GET, path, auth, None).await
    }

    /// Creates a user with `role` directly in the store and an API token for them.
    pub(crate) async fn user_token(&self, name: &str, role: Role) -> String {
        let user = rampart_server::admin::create_user(
            &self.store,
            name,
            role,
            format!("{name}-long-password"),
            self.now(),
        )
        .await
        .expect("create user");
        rampart_server::admin::create_api_token(&self.store, &user, None, &[], None, self.now())
            .await
            .expect("create token")
            .token
    }
}

/// Public addresses and loopback: where the tests' receivers listen.
pub(crate) fn loopback_egress() -> rampart_core::egress::EgressPolicy {
    rampart_core::egress::EgressPolicy::allow([
        "127.0.0.0/8".parse().expect("network"),
        "::1".parse().expect("network"),
    ])
}

/// Runs `case` on SQLite, then on PostgreSQL when configured.
pub(crate) async fn each_backend<F, Fut>(case: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_in_dir(dir.path()).await.expect("open sqlite");
        case(store.clone()).await;
        store.close().await;
    }
    let Some(url) = postgres_url() else { return };
    let schema = format!(
        "rampart_server_test_{}",
        rampart_store::new_id(wall_millis()).replace('-', "")
    );
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to RAMPART_TEST_POSTGRES_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .expect("create schema");
    let sep = if url.contains('?') { '&' } else { '?' };
    let location = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::open(&location).await.expect("open postgres");
    // Run the case as a task so a failing assertion still lets the schema be dropped.
    let result = {
        let fut = case(store.clone());
        futures_catch(fut).await
    };
    store.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&mut admin)
        .await
        .expect("drop schema");
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

async fn futures_catch<Fut: Future<Output = ()>>(
    fut: Fut,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    use std::panic::AssertUnwindSafe;
    use std::pin::pin;
    use std::task::Poll;
    let mut fut = pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(())) => Poll::Ready(Ok(())),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

fn postgres_url() -> Option<String> {
    match std::env::var("RAMPART_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!(
                "RAMPART_TEST_POSTGRES_URL is not set: CI must run the server tests on PostgreSQL too"
            )
        }
        _ => {
            eprintln!("skipping PostgreSQL half: RAMPART_TEST_POSTGRES_URL is not set");
            None
        }
    }
}

fn wall_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
