//! Rampart's server as a library: the REST API ([`app`]), authentication and
//! authorisation ([`auth`]), the findings engine ([`findings_engine`]) and the listener
//! ([`listener`]). The `rampart server` command builds an [`AppState`] on a
//! [`rampart_store::Store`], hands [`app`] to [`listener::serve`], and stops on a
//! signal; tests drive [`app`] in-process with `tower::ServiceExt::oneshot`.
//!
//! HTTPS: [`pki::ServerPki`] keeps the private CA in the data directory (key sealed
//! with the master key) and builds the listener's rustls configuration;
//! [`listener::serve_tls`] serves [`app`] with it and hands each request the verified
//! client certificate. Agents enrol and check in under `/agent/v1` ([`agent`]), with
//! enrolment tokens in rampart-pki's format ([`pki::PkiEnrollmentTokens`]).

pub mod admin;
pub mod agent;
mod api;
pub mod auth;
pub mod compliance_engine;
mod error;
pub mod findings_engine;
mod gate;
pub mod listener;
pub mod login_throttle;
mod metrics;
pub mod notifier;
pub mod pki;
pub mod rate_limit;
pub mod report_schedules;
pub mod secrets;
mod web;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, Request};
use rampart_store::{Millis, Store};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

pub use api::feeds::{FeedView, ImportResult, SyncResult, sync_configured as sync_feeds};
pub use api::{AGENT_ROUTES, PUBLIC_ROUTES, SELF_SERVICE_ROUTES, openapi};
pub use compliance_engine::{ComplianceEngine, ComplianceTransition};
pub use error::{ApiError, ApiResult};
pub use findings_engine::FindingsEngine;
pub use web::{Access, CONTENT_SECURITY_POLICY, WEB_ROUTES, WebRoute};

/// Settings the server runs with, validated by the binary and handed over by value.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// How long a login session lasts.
    pub session_ttl: Duration,
    /// Mark the session cookie `Secure`; set when serving over TLS.
    pub secure_cookies: bool,
    /// A request that takes longer is answered 408.
    pub request_timeout: Duration,
    /// Largest request body accepted on `/api/v1` (the agent channel sets its own).
    pub max_body_bytes: usize,
    /// Where feeds downloaded from URLs are cached (and uploads spooled).
    pub feed_cache_dir: Option<std::path::PathBuf>,
    /// The only server-side feed sources: URLs of feed providers and local paths the
    /// administrator configured. Requests never name a path or URL the server opens;
    /// they upload a feed's bytes instead.
    pub feed_sources: Vec<String>,
    /// Largest feed upload (and largest feed file read from a configured path); the
    /// upload is streamed to disk, so this bounds disk, not memory.
    pub max_feed_upload_bytes: u64,
    /// Which addresses the server may connect to for feeds, webhooks and mail: public
    /// addresses plus the networks the configuration allows (`outbound_allow`).
    pub egress: rampart_core::egress::EgressPolicy,
    /// Largest check-in body accepted on `/agent/v1` (an inventory of a big host is a
    /// few MiB); tests lower it to exercise the 413 path cheaply.
    pub max_checkin_bytes: usize,
    /// Check-in interval the server asks agents for.
    pub checkin_interval: Duration,
    /// Lifetime of the client certificates signed at enrolment. Long, because
    /// automatic renewal does not exist yet; revocation is instant regardless (it is
    /// checked on every request).
    pub agent_cert_lifetime: Duration,
    /// Seals notification channel secrets at rest (the same key as the CA's). `None`
    /// only in tests of the API alone: creating a channel with a secret then answers
    /// 503.
    pub master_key: Option<rampart_pki::MasterKey>,
    /// The notification dispatcher's settings (retry policy, poll interval, lease).
    pub notifications: notifier::NotifyConfig,
    /// Lifetime of an API token created without an expiry.
    pub api_token_default_lifetime: Duration,
    /// Longest lifetime an API token may have; older tokens (also those made before
    /// this limit existed) stop authenticating.
    pub api_token_max_lifetime: Duration,
    /// Most packages one inventory may list; a larger one is refused (413).
    pub max_inventory_packages: usize,
    /// Sustained rate of inventories accepted per agent: one per this interval, with a
    /// burst of [`INVENTORY_BURST`]; faster ones are answered 429 with `Retry-After`.
    pub inventory_interval: Duration,
    /// Unauthenticated requests (login, bootstrap, enrolment) served at once; more are
    /// answered 503 with `Retry-After` instead of queueing.
    pub max_public_concurrency: usize,
}

/// Inventories an agent may send back to back before [`ServerConfig::inventory_interval`]
/// applies (an agent re-sends when the server asks for it, and a change right after
/// enrolment is normal).
pub const INVENTORY_BURST: u32 = 5;

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookies: false,
            request_timeout: Duration::from_secs(120),
            max_body_bytes: 1024 * 1024,
            feed_cache_dir: None,
            feed_sources: Vec::new(),
            max_feed_upload_bytes: 2 << 30,
            egress: rampart_core::egress::EgressPolicy::public_only(),
            max_checkin_bytes: rampart_proto::MAX_CHECKIN_BYTES,
            checkin_interval: Duration::from_secs(60),
            agent_cert_lifetime: Duration::from_secs(5 * 365 * 86_400),
            master_key: None,
            notifications: notifier::NotifyConfig::default(),
            api_token_default_lifetime: Duration::from_secs(90 * 86_400),
            api_token_max_lifetime: Duration::from_secs(365 * 86_400),
            max_inventory_packages: 50_000,
            inventory_interval: Duration::from_secs(30),
            max_public_concurrency: 32,
        }
    }
}

/// The server's notion of now, in Unix milliseconds. Injected so tests can move time
/// (token expiry) without sleeping.
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as Millis)
            .unwrap_or(0)
    })
}

/// Makes enrolment tokens. The seam where the pki crate's format (which embeds the
/// server CA's fingerprint so agents can pin it) replaces the plain random secret.
pub trait EnrollmentTokenIssuer: Send + Sync {
    /// A new token: the text shown once to the operator and the hash to store.
    fn issue(&self) -> secrets::IssuedSecret;
    /// The hash to look up for a token an agent presents (must agree with `issue`).
    fn hash_presented(&self, presented: &str) -> String {
        secrets::sha256_hex(presented)
    }
}

/// Today's issuer: `rpe_` + 32 random bytes, stored as SHA-256.
#[derive(Debug, Default)]
pub struct RandomEnrollmentTokens;

impl EnrollmentTokenIssuer for RandomEnrollmentTokens {
    fn issue(&self) -> secrets::IssuedSecret {
        secrets::IssuedSecret::generate(secrets::ENROLLMENT_TOKEN_PREFIX)
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("store: {0}")]
    Store(#[from] rampart_store::Error),
}

/// Shared state of every request: cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    engine: FindingsEngine,
    compliance: ComplianceEngine,
    config: ServerConfig,
    clock: Clock,
    enrollment: Arc<dyn EnrollmentTokenIssuer>,
    /// The CA that signs agent certificates; `None` in tests of the API alone, where
    /// enrolment answers 503.
    ca: Option<Arc<rampart_pki::CertificateAuthority>>,
    /// The one-time bootstrap secret while no user exists; taken when the first admin
    /// is created. A mutex so two bootstrap requests cannot both succeed.
    bootstrap: tokio::sync::Mutex<Option<String>>,
    metrics: metrics::Metrics,
    login_throttle: login_throttle::LoginThrottle,
    /// Permits for unauthenticated requests that do work ([`gate`]).
    public_gate: Arc<tokio::sync::Semaphore>,
    /// Inventories per agent ([`ServerConfig::inventory_interval`]).
    inventory_limit: rate_limit::KeyedBuckets,
    /// One feed import or sync at a time (each rebuilds the index and recomputes every
    /// host's findings).
    feed_work: Arc<tokio::sync::Mutex<()>>,
}

/// The one-time secret that creates the first admin. Shown once by the caller of
/// [`AppState::new`]; never logged by this crate.
pub struct BootstrapSecret(pub String);

impl std::fmt::Debug for BootstrapSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BootstrapSecret(<redacted>)")
    }
}

impl AppState {
    /// Builds the state on the wall clock with random enrolment tokens.
    pub async fn new(
        store: Store,
        config: ServerConfig,
    ) -> Result<(AppState, Option<BootstrapSecret>), StartError> {
        AppState::with_parts(
            store,
            config,
            system_clock(),
            Arc::new(RandomEnrollmentTokens),
        )
        .await
    }

    /// The state of a server with its CA: enrolment tokens in the pki format (they
    /// carry the CA's fingerprint) and agent certificates signed by `ca`.
    pub async fn with_ca(
        store: Store,
        config: ServerConfig,
        clock: Clock,
        ca: Arc<rampart_pki::CertificateAuthority>,
    ) -> Result<(AppState, Option<BootstrapSecret>), StartError> {
        let issuer = Arc::new(pki::PkiEnrollmentTokens::new(&ca));
        AppState::build(store, config, clock, issuer, Some(ca)).await
    }

    /// Builds the state without a CA (agent enrolment unavailable): loads the advisory
    /// index and, when no user exists yet, generates the bootstrap secret, which is
    /// returned so the caller prints it once.
    pub async fn with_parts(
        store: Store,
        config: ServerConfig,
        clock: Clock,
        enrollment: Arc<dyn EnrollmentTokenIssuer>,
    ) -> Result<(AppState, Option<BootstrapSecret>), StartError> {
        AppState::build(store, config, clock, enrollment, None).await
    }

    async fn build(
        store: Store,
        config: ServerConfig,
        clock: Clock,
        enrollment: Arc<dyn EnrollmentTokenIssuer>,
        ca: Option<Arc<rampart_pki::CertificateAuthority>>,
    ) -> Result<(AppState, Option<BootstrapSecret>), StartError> {
        let engine = FindingsEngine::load(store.clone()).await?;
        let secret = store
            .list_users()
            .await?
            .is_empty()
            .then(secrets::random_secret);
        let compliance = ComplianceEngine::new(store.clone());
        let public_gate = Arc::new(tokio::sync::Semaphore::new(
            config.max_public_concurrency.max(1),
        ));
        let inventory_limit = rate_limit::KeyedBuckets::new(
            INVENTORY_BURST,
            i64::try_from(config.inventory_interval.as_millis()).unwrap_or(i64::MAX),
        );
        let state = AppState {
            inner: Arc::new(Inner {
                compliance,
                store,
                engine,
                config,
                clock,
                enrollment,
                ca,
                bootstrap: tokio::sync::Mutex::new(secret.clone()),
                metrics: metrics::Metrics::default(),
                login_throttle: login_throttle::LoginThrottle::default(),
                public_gate,
                inventory_limit,
                feed_work: Arc::default(),
            }),
        };
        Ok((state, secret.map(BootstrapSecret)))
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn engine(&self) -> &FindingsEngine {
        &self.inner.engine
    }

    /// Compliance evaluation, scans and the transitions notifications consume.
    pub fn compliance(&self) -> &ComplianceEngine {
        &self.inner.compliance
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    pub fn enrollment_issuer(&self) -> &dyn EnrollmentTokenIssuer {
        &*self.inner.enrollment
    }

    /// The CA that signs agent certificates, when the server has one.
    pub fn ca(&self) -> Option<&rampart_pki::CertificateAuthority> {
        self.inner.ca.as_deref()
    }

    /// Now, in Unix milliseconds, on the server's clock.
    pub fn now(&self) -> Millis {
        (self.inner.clock)()
    }

    pub(crate) fn bootstrap_slot(&self) -> &tokio::sync::Mutex<Option<String>> {
        &self.inner.bootstrap
    }

    pub(crate) fn login_throttle(&self) -> &login_throttle::LoginThrottle {
        &self.inner.login_throttle
    }

    pub(crate) fn metrics(&self) -> &metrics::Metrics {
        &self.inner.metrics
    }

    pub(crate) fn feed_work(&self) -> &Arc<tokio::sync::Mutex<()>> {
        &self.inner.feed_work
    }

    pub(crate) fn inventory_limit(&self) -> &rate_limit::KeyedBuckets {
        &self.inner.inventory_limit
    }

    pub(crate) fn public_gate(&self) -> &Arc<tokio::sync::Semaphore> {
        &self.inner.public_gate
    }
}

/// Headers every answer carries, whatever produced it (a handler, a rejection, a
/// timeout): `nosniff`, `no-store` unless the handler chose its caching (API answers
/// carry tokens, secrets and what the caller may see), and HSTS when served over TLS.
async fn transport_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.config().secure_cookies {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

async fn drop_unsafe_request_id(
    mut request: Request<axum::body::Body>,
) -> Request<axum::body::Body> {
    let safe = |v: &axum::http::HeaderValue| {
        let b = v.as_bytes();
        (1..=64).contains(&b.len())
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
    };
    let headers = request.headers_mut();
    if headers.get("x-request-id").is_some_and(|v| !safe(v)) {
        headers.remove("x-request-id");
    }
    request
}

/// Request ids are UUIDv7: unique across replicas and sortable by time in the logs.
#[derive(Clone, Copy, Debug, Default)]
struct MakeUuidV7;

impl MakeRequestId for MakeUuidV7 {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        uuid::Uuid::now_v7()
            .to_string()
            .parse()
            .ok()
            .map(RequestId::new)
    }
}

/// The whole HTTP application: `/api/v1/*`, `/agent/v1/*`, health, metrics, the
/// OpenAPI document and the web UI ([`WEB_ROUTES`]), with the cross-cutting layers. See the crate docs for the seams.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let sensitive: Arc<[HeaderName]> = Arc::new([
        axum::http::header::AUTHORIZATION,
        axum::http::header::COOKIE,
        axum::http::header::SET_COOKIE,
        HeaderName::from_static(auth::CSRF_HEADER),
    ]);
    let (api, _) = api::router(&state).split_for_parts();
    api.merge(web::router())
        // Innermost first: everything below sees the final response of the ones above.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.config().request_timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::shed_anonymous_overload,
        ))
        .layer(axum::middleware::map_response(api::normalise_error))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            transport_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                )
                .make_span_with(|req: &Request<axum::body::Body>| {
                    let id = req
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    // The path only: a query string could carry something secret.
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %req.uri().path(),
                        request_id = %id,
                        user = tracing::field::Empty,
                    )
                }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeUuidV7))
        // Outermost: a client's X-Request-Id is kept (to correlate with its own logs)
        // only when it is a plain token; anything else is replaced by a fresh id, so
        // it cannot forge log fields or smuggle control characters.
        .layer(axum::middleware::map_request(drop_unsafe_request_id))
        .layer(tower_http::sensitive_headers::SetSensitiveHeadersLayer::from_shared(sensitive))
        .with_state(state)
}
