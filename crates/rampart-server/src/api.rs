//! The REST API: one module per resource, each returning its own router nested under
//! `/api/v1/<resource>`, built with utoipa-axum so the OpenAPI document is generated from
//! the same handler list that builds the router — a route cannot exist undocumented,
//! and the router walk test can enumerate every route from the document.
//!
//! Shared here: the list envelope, the JSON body and query extractors (their
//! rejections use [`ApiError`]'s shape), and the layer that rewrites every other error
//! response (404 route, 405, timeout, panic) into that shape.

mod advisories;
mod api_tokens;
pub(crate) mod bootstrap;
pub(crate) mod change_requests;
pub(crate) mod compliance;
pub(crate) mod enrollment_tokens;
pub(crate) mod exceptions;
pub(crate) mod feeds;
pub(crate) mod findings;
pub(crate) mod hosts;
pub(crate) mod notifications;
pub(crate) mod params;
mod projects;
mod report_schedules;
pub(crate) mod reports;
pub(crate) mod session;
mod strict_json;
mod system;
mod users;

use std::sync::OnceLock;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rampart_store::Page;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::{ApiError, ApiResult, AppState};

/// Routes anyone may call: (method, path as in the OpenAPI document).
pub const PUBLIC_ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/openapi.json"),
    ("POST", "/api/v1/session"),
    ("POST", "/api/v1/bootstrap"),
    // The enrolment token in the body is the credential (checked by the handler).
    ("POST", "/agent/v1/enroll"),
];

/// Routes only enrolled agents may call (client certificate, `decide(agent,
/// AgentChannel)`): people are refused with 403 whatever their role, anonymous callers
/// with 401.
pub const AGENT_ROUTES: &[(&str, &str)] = &[("POST", "/agent/v1/checkin")];

/// Routes every authenticated person may call whatever their role, because they act
/// only on the caller's own session (`Authenticated` instead of `Authorized<P>`).
pub const SELF_SERVICE_ROUTES: &[(&str, &str)] =
    &[("GET", "/api/v1/session"), ("DELETE", "/api/v1/session")];

/// THE route table: every `/api/v1` resource router. Both the served router and the
/// OpenAPI document are built from it.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .nest("/api/v1/hosts", hosts::router())
        .nest("/api/v1/findings", findings::router())
        .nest("/api/v1/advisories", advisories::router())
        .nest("/api/v1/projects", projects::router())
        .nest("/api/v1/api-tokens", api_tokens::router())
        .nest("/api/v1/users", users::router())
        .nest("/api/v1/enrollment-tokens", enrollment_tokens::router())
        .nest("/api/v1/feeds", feeds::router())
        .nest("/api/v1/reports", reports::router())
        .nest("/api/v1/report-schedules", report_schedules::router())
        .nest("/api/v1/session", session::router())
        .nest("/api/v1/bootstrap", bootstrap::router())
        .nest(
            "/api/v1/notification-channels",
            notifications::channels_router(),
        )
        .nest(
            "/api/v1/notification-deliveries",
            notifications::deliveries_router(),
        )
        .nest("/api/v1/change-requests", change_requests::router())
        .nest("/api/v1/compliance", compliance::router())
        .nest("/api/v1/exceptions", exceptions::router())
        .nest("/api/v1/scans", compliance::scans_router())
        .merge(compliance::nested_routes())
}

/// Largest body of the unauthenticated routes that take one (login, bootstrap): a name
/// and a password, with room to spare. Refusing more before anything is buffered keeps
/// anonymous callers from making the server hold megabytes.
pub(crate) const SMALL_BODY_BYTES: usize = 16 * 1024;

/// Every route of the app, each part with its body limit: the API's (lowered on the
/// unauthenticated routes, lifted on the streamed feed upload, which counts itself),
/// and the agent channel's larger one (inventories).
pub(crate) fn router(state: &AppState) -> OpenApiRouter<AppState> {
    let limit = state.config().max_body_bytes;
    let api = api_routes()
        // The extractor enforces the limit while buffering, so an oversized body is a
        // JSON 413 from `Json`, and a lying Content-Length is caught too. Routes with
        // a limit of their own set it in their router, inside this layer.
        .layer(axum::extract::DefaultBodyLimit::max(limit));
    let agent_limit = state.config().max_checkin_bytes;
    // Only the extractor's limit here: the handlers read the body themselves and answer
    // 413 naming the limit (the layer's bare 413 could not say which limit).
    let agent = agent_routes().layer(axum::extract::DefaultBodyLimit::max(agent_limit));
    OpenApiRouter::new()
        .merge(system::router())
        .merge(api)
        .merge(agent)
}

/// The agent channel, part of the route table so the router walk covers it.
fn agent_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().nest("/agent/v1", crate::agent::router())
}

/// The OpenAPI document of every route ([`crate::app`] serves it at `/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = OpenApiRouter::<AppState>::new()
        .merge(system::router())
        .merge(api_routes())
        .merge(agent_routes())
        .split_for_parts();
    doc.info = utoipa::openapi::InfoBuilder::new()
        .title("Rampart API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Authenticate with `Authorization: Bearer rpt_…` or the `rampart_session` cookie \
             (plus `X-CSRF-Token` on writes). Errors: `{\"error\":{\"code\",\"message\"}}`.",
        ))
        .build();
    // Every route outside PUBLIC_ROUTES needs one of these.
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
    };
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, schema) in params::parameter_components() {
        components.schemas.entry(name).or_insert(schema);
    }
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some("API token `rpt_…`"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::auth::SESSION_COOKIE,
            "login session; writes also need the X-CSRF-Token header",
        ))),
    );
    doc.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::new("session", Vec::<String>::new()),
    ]);
    doc
}

pub(crate) fn openapi_json() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| openapi().to_json().unwrap_or_else(|_| "{}".to_owned()))
}

/// The error shape, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorResponse {
    error: ErrorDetailSchema,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetailSchema {
    /// Stable machine-readable code (`unauthenticated`, `forbidden`, `not_found`, …).
    code: String,
    message: String,
}

/// One page of a listing.
#[derive(Serialize, ToSchema)]
pub(crate) struct List<T> {
    pub items: Vec<T>,
    /// Rows matching the filter, over all pages.
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

impl<T> List<T> {
    pub(crate) fn new(items: Vec<T>, total: u64, page: Page) -> List<T> {
        List {
            items,
            total,
            limit: page.limit,
            offset: page.offset,
        }
    }

    /// A listing the store returns whole, paged here.
    pub(crate) fn paged(all: Vec<T>, page: Page) -> List<T> {
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
            .take(page.limit as usize)
            .collect();
        List::new(items, total, page)
    }
}

/// A JSON body or response. Rejections become [`ApiError`]s: malformed JSON and
/// wrong fields are 400 naming the problem, an oversized body 413.
pub(crate) struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(mut value) =
            axum::Json::<serde_json::Value>::from_request(req, state).await?;
        integral_floats_as_integers(&mut value);
        serde_path_to_error::deserialize(strict_json::Strict(value))
            .map(Json)
            .map_err(|e| {
                // Name the field (`selector.env: invalid type …`) unless it is the body.
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path == "." {
                    ApiError::bad_request(format!("invalid request body: {inner}"))
                } else {
                    ApiError::bad_request(format!("invalid request body: {path}: {inner}"))
                }
            })
    }
}

/// `42.0` as `42`: JSON Schema (and so the OpenAPI document) counts a number with no
/// fractional part as an integer, serde's integer types do not. Converting before
/// decoding makes the document's `integer` mean the same to both.
fn integral_floats_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0) {
                if f >= 0.0 && f < u64::MAX as f64 {
                    *value = Value::from(f as u64);
                } else if f < 0.0 && f >= i64::MIN as f64 {
                    *value = Value::from(f as i64);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// The query string as ordered pairs: filters such as `label=k:v` repeat, which
/// serde's flat structs cannot express. Handlers name the keys they accept, so a
/// misspelt filter is an error rather than silently ignored.
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let pairs = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        Ok(Query { pairs })
    }
}

/// The `advisory` filter: an advisory id or alias, as the document's pattern says.
pub(crate) fn advisory_filter(query: &Query) -> ApiResult<Option<String>> {
    let advisory = query.one("advisory")?;
    if let Some(a) = &advisory
        && !rampart_core::exceptions::is_advisory_id(a)
    {
        return Err(ApiError::bad_request(
            "advisory must be an advisory id or alias (letters, digits, - : . + / _), at most 128 characters",
        ));
    }
    Ok(advisory)
}

/// Largest page a listing returns.
pub(crate) const MAX_LIMIT: u32 = 1000;

impl Query {
    /// Refuses keys not in `allowed` (`limit` and `offset` are always allowed).
    pub(crate) fn only(self, allowed: &[&str]) -> ApiResult<Query> {
        if let Some((key, _)) = self
            .pairs
            .iter()
            .find(|(k, _)| !allowed.contains(&k.as_str()) && k != "limit" && k != "offset")
        {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter {key:?} (accepted: {})",
                allowed.join(", ")
            )));
        }
        Ok(self)
    }

    /// The value of a key given at most once. An empty value is a value (`status=`
    /// is refused by the parser like any other unknown status), not an absent key.
    pub(crate) fn one(&self, key: &str) -> ApiResult<Option<String>> {
        let mut values = self.pairs.iter().filter(|(k, _)| k == key);
        let first = values.next().map(|(_, v)| v.clone());
        if values.next().is_some() {
            return Err(ApiError::bad_request(format!(
                "query parameter {key:?} given twice"
            )));
        }
        Ok(first)
    }

    pub(crate) fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn parsed<T: std::str::FromStr>(&self, key: &str) -> ApiResult<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.one(key)?
            .map(|v| {
                v.parse::<T>()
                    .map_err(|e| ApiError::bad_request(format!("query parameter {key}: {e}")))
            })
            .transpose()
    }

    /// `limit` (default 100, at most [`MAX_LIMIT`]) and `offset` (default 0).
    pub(crate) fn page(&self) -> ApiResult<Page> {
        let limit = self.parsed::<u32>("limit")?.unwrap_or(100);
        if limit > MAX_LIMIT {
            return Err(ApiError::bad_request(format!(
                "limit must be at most {MAX_LIMIT}"
            )));
        }
        let offset = self.parsed::<u64>("offset")?.unwrap_or(0);
        if offset > i64::MAX as u64 {
            return Err(ApiError::bad_request(format!(
                "offset must be at most {}",
                i64::MAX
            )));
        }
        Ok(Page { limit, offset })
    }
}

/// Rewrites any error response that is not already ours (axum's 404/405, the timeout
/// layer's 408, a caught panic's 500, the body limit's 413) into the common JSON shape,
/// keeping headers such as `Allow`.
pub(crate) async fn normalise_error(response: Response) -> Response {
    let status = response.status();
    // JSON errors are already ours; HTML ones are the web UI's own error pages.
    let is_ours = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| {
            v.as_bytes().starts_with(b"application/json") || v.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_ours {
        return response;
    }
    if status.is_server_error() {
        tracing::error!(%status, "request failed outside a handler");
    }
    let (mut parts, _) = response.into_parts();
    let mut fresh = ApiError::from_status(status).into_response();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    std::mem::swap(fresh.headers_mut(), &mut parts.headers);
    fresh
}
