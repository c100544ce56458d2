//! The web UI: server-rendered HTML pages over the same store, authorisation and
//! decision function as the API. Templates are askama files under `templates/`
//! (compiled and type-checked with the crate, escaping everything by default); the one
//! stylesheet is embedded and served under a content-hashed URL; charts are SVG drawn
//! here. Nothing needs JavaScript.
//!
//! Security model, the same as the API's:
//! - Every page takes [`WebAuthorized<P>`], a thin wrapper over [`Authorized<P>`] that only
//!   changes how a refusal looks: anonymous → 303 to `/login?next=<path>` (`next` is
//!   only ever followed when it is a local path, see [`local_path`]); refused by
//!   `authz::decide` → a 403 page with the decision's reason.
//! - Forms POST the session's CSRF token as the `_csrf` field; [`form_csrf`] moves it
//!   into the `X-CSRF-Token` header before the extractor runs, so the check is the
//!   API's own. The login and set-up forms (no session yet) use a double-submit cookie.
//! - Every HTML response carries a strict CSP (`default-src 'self'`, no inline script
//!   or style), `X-Frame-Options: DENY` / `frame-ancestors 'none'`, `Referrer-Policy:
//!   no-referrer`, `nosniff` and `Cache-Control: no-store` ([`security_headers`]).
//!
//! [`WEB_ROUTES`] is the route table: [`router`] is built from it and the router walk
//! test enumerates it, so a page cannot be added without the walk checking it.

mod advisories;
pub(crate) mod chart;
mod compliance;
mod dashboard;
mod enrollment;
mod exceptions;
mod hosts;
mod projects;
mod session;
mod text;

use std::marker::PhantomData;
use std::sync::OnceLock;

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rampart_core::authz::Permission;

use crate::auth::{Authenticated, Authorized, Caller, RequiredPermission, Via};
use crate::{ApiError, AppState};

/// Who may call a web route; the router walk test holds each entry to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: the login and set-up forms, the stylesheet.
    Public,
    /// Any logged-in person, whatever their role (log out).
    SelfService,
    /// Through [`WebAuthorized<P>`]: a permission decided by `authz::decide`.
    Authorized,
}

/// One entry of [`WEB_ROUTES`].
#[derive(Clone, Debug)]
pub struct WebRoute {
    pub method: Method,
    /// As axum writes it (`/hosts/{id}`).
    pub path: &'static str,
    pub access: Access,
}

/// Declares the route table and builds the router from the same list.
macro_rules! web_routes {
    ($($method:ident $path:literal => $handler:path, $access:ident;)*) => {
        /// Every page and form target of the web UI.
        pub const WEB_ROUTES: &[WebRoute] = &[
            $(WebRoute {
                method: web_routes!(@method $method),
                path: $path,
                access: Access::$access,
            },)*
        ];

        fn routes() -> Router<AppState> {
            Router::new()$(.route($path, axum::routing::$method($handler)))*
        }
    };
    (@method get) => { Method::GET };
    (@method post) => { Method::POST };
}

web_routes! {
    get "/" => dashboard::show, Authorized;
    get "/login" => session::login_form, Public;
    post "/login" => session::login, Public;
    get "/setup" => session::setup_form, Public;
    post "/setup" => session::setup, Public;
    post "/logout" => session::logout, SelfService;
    get "/hosts" => hosts::list, Authorized;
    get "/hosts/{id}" => hosts::show, Authorized;
    get "/advisories/{id}" => advisories::show, Authorized;
    get "/projects" => projects::list, Authorized;
    get "/projects/{id}" => projects::show, Authorized;
    post "/projects/{id}/standard" => projects::set_standard, Authorized;
    post "/projects/{id}/software-policy" => projects::set_software_policy, Authorized;
    get "/exceptions" => exceptions::list, Authorized;
    post "/exceptions" => exceptions::request_form, Authorized;
    post "/exceptions/{id}/approve" => exceptions::approve, Authorized;
    post "/exceptions/{id}/deny" => exceptions::deny, Authorized;
    post "/exceptions/{id}/revoke" => exceptions::revoke, Authorized;
    post "/scans" => compliance::scan_now, Authorized;
    get "/enrollment-tokens" => enrollment::show, Authorized;
    post "/enrollment-tokens" => enrollment::create, Authorized;
    get "/assets/{file}" => stylesheet, Public;
}

/// Largest form body accepted (the forms are a few fields).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// The web UI's routes with their layers; merged into [`crate::app`] beside the API.
pub(crate) fn router() -> Router<AppState> {
    routes()
        .layer(axum::middleware::from_fn(form_csrf))
        .layer(axum::middleware::map_response(security_headers))
}

// ---------------------------------------------------------------------------------
// The stylesheet

const STYLESHEET: &str = include_str!("../assets/app.css");

/// `/assets/app.<first 16 hex of SHA-256>.css`: a new stylesheet gets a new URL, so the
/// old one may be cached for a year.
pub(crate) fn stylesheet_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let hash = crate::secrets::sha256_hex(STYLESHEET);
        format!("/assets/app.{}.css", &hash[..16])
    })
}

async fn stylesheet(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    if stylesheet_href().strip_prefix("/assets/") != Some(file.as_str()) {
        return WebError::NotFound("file".into()).into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        STYLESHEET,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------
// Layers

/// The policy every HTML response carries: only our own origin, no inline script or
/// style, never framed, no form posts elsewhere.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Pages show what the viewer may see: never keep them in a shared or disk cache.
    // Only the content-hashed stylesheet sets its own caching.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Name of the form field carrying the CSRF token.
pub(crate) const CSRF_FIELD: &str = "_csrf";

/// Reads a form POST's body (at most [`MAX_FORM_BYTES`]) and copies its `_csrf` field
/// into the `X-CSRF-Token` header, where [`Authorized`] checks it exactly as for API
/// calls. Copies only: the decision stays in `auth.rs`.
async fn form_csrf(request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return WebError::Status(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The form is larger than the server accepts.".into(),
            )
            .into_response();
        }
    };
    parts.headers.remove(crate::auth::CSRF_HEADER);
    if let Some(token) = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned())
        && let Ok(value) = HeaderValue::from_str(&token)
    {
        parts.headers.insert(crate::auth::CSRF_HEADER, value);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

// ---------------------------------------------------------------------------------
// Extractors

/// The caller of a page, authenticated and allowed `P` by [`Authorized<P>`] — the API's
/// own extractor — with refusals turned into a redirect to the login form (anonymous)
/// or a 403 page (forbidden).
pub(crate) struct WebAuthorized<P> {
    pub(crate) caller: Caller,
    _permission: PhantomData<P>,
}

impl<P: RequiredPermission> FromRequestParts<AppState> for WebAuthorized<P> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        match Authorized::<P>::from_request_parts(parts, state).await {
            Ok(authorized) => Ok(WebAuthorized {
                caller: authorized.caller,
                _permission: PhantomData,
            }),
            Err(e) => Err(WebError::refused(e, parts)),
        }
    }
}

impl<P> WebAuthorized<P> {
    /// The page frame for this caller, with `active` highlighted in the navigation.
    pub(crate) fn chrome(&self, state: &AppState, active: &'static str) -> Chrome {
        Chrome::new(&self.caller, state, active)
    }

    /// Whether the caller also holds `permission` (to offer a form only to those who
    /// may submit it; the submit handler decides again).
    pub(crate) fn may(&self, state: &AppState, permission: Permission) -> bool {
        self.caller.require(permission, state.now()).is_ok()
    }
}

/// [`Authenticated`] with the web's refusals: for acting on one's own session.
pub(crate) struct WebAuthenticated(pub(crate) Caller);

impl FromRequestParts<AppState> for WebAuthenticated {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        match Authenticated::from_request_parts(parts, state).await {
            Ok(Authenticated(caller)) => Ok(WebAuthenticated(caller)),
            Err(e) => Err(WebError::refused(e, parts)),
        }
    }
}

/// A urlencoded form body as ordered pairs.
pub(crate) struct FormData {
    pairs: Vec<(String, String)>,
}

impl FormData {
    /// The first value of `key`, trimmed; empty counts as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `key` untrimmed (passwords), empty counts as absent.
    pub(crate) fn raw(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = WebError;

    async fn from_request(req: Request, state: &S) -> Result<Self, WebError> {
        let is_form = req.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
            v.as_bytes()
                .starts_with(b"application/x-www-form-urlencoded")
        });
        if !is_form {
            return Err(WebError::Status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Expected a form submission.".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| WebError::BadRequest("The form could not be read.".into()))?;
        Ok(FormData {
            pairs: form_urlencoded::parse(&bytes).into_owned().collect(),
        })
    }
}

/// The query string as ordered pairs; unknown keys are ignored (links stay usable
/// after a filter is renamed), malformed values fall back to defaults.
pub(crate) struct QueryPairs(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, WebError> {
        let query = parts.uri.query().unwrap_or("");
        Ok(QueryPairs(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl QueryPairs {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The 1-based page number (`page`), default 1.
    pub(crate) fn page_number(&self) -> u64 {
        self.get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|&p| p >= 1)
            .unwrap_or(1)
    }
}

// ---------------------------------------------------------------------------------
// The page frame

/// One navigation entry.
pub(crate) struct NavItem {
    pub(crate) href: &'static str,
    pub(crate) label: &'static str,
    pub(crate) active: bool,
}

/// What every logged-in page's frame shows: navigation, who is logged in, the logout
/// form (with the CSRF token, for session logins).
pub(crate) struct Chrome {
    pub(crate) css: &'static str,
    pub(crate) nav: Vec<NavItem>,
    pub(crate) user: String,
    pub(crate) role: String,
    /// The session's CSRF token; empty for API-token callers (no forms to post).
    pub(crate) csrf: String,
}

const NAV: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/hosts", "Hosts"),
    ("/projects", "Projects"),
    ("/exceptions", "Exceptions"),
    ("/enrollment-tokens", "Enrolment"),
];

impl Chrome {
    fn new(caller: &Caller, _state: &AppState, active: &'static str) -> Chrome {
        Chrome {
            css: stylesheet_href(),
            nav: NAV
                .iter()
                .map(|&(href, label)| NavItem {
                    href,
                    label,
                    active: href == active,
                })
                .collect(),
            user: caller.user.name.clone(),
            role: caller.user.role.clone(),
            csrf: match &caller.via {
                Via::Session { csrf_token, .. } => csrf_token.clone(),
                Via::ApiToken { .. } => String::new(),
            },
        }
    }
}

// ---------------------------------------------------------------------------------
// Errors and rendering

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    css: &'static str,
    status: u16,
    title: &'static str,
    message: String,
}

/// Everything a page can fail with, rendered as an HTML page (or a redirect).
#[derive(Debug)]
pub(crate) enum WebError {
    /// Not logged in: 303 to the login form, coming back to `next` afterwards.
    Login {
        next: Option<String>,
    },
    Forbidden(String),
    NotFound(String),
    BadRequest(String),
    Status(StatusCode, String),
    /// Logged; the page says only that something failed.
    Internal(String),
}

impl WebError {
    /// How a refusal of the API's extractor looks on a page.
    fn refused(e: ApiError, parts: &Parts) -> WebError {
        match e {
            ApiError::Unauthenticated => WebError::Login {
                // Only a page can be returned to; a form target would answer 405.
                next: (parts.method == Method::GET)
                    .then(|| parts.uri.path_and_query().map(|pq| pq.as_str().to_owned()))
                    .flatten(),
            },
            ApiError::CsrfFailed => WebError::Forbidden(
                "The form was out of date or did not come from this site. Reload the page \
                 and try again."
                    .into(),
            ),
            other => other.into(),
        }
    }
}

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> WebError {
        match e {
            ApiError::Unauthenticated => WebError::Login { next: None },
            ApiError::Forbidden(reason) => WebError::Forbidden(reason),
            ApiError::CsrfFailed => WebError::Forbidden("Invalid form token.".into()),
            ApiError::NotFound(what) => WebError::NotFound(what),
            ApiError::BadRequest(message) => WebError::BadRequest(message),
            ApiError::Internal(detail) => WebError::Internal(detail),
            other => {
                let (status, _) = other.status_and_code();
                WebError::Status(status, other.to_string())
            }
        }
    }
}

impl From<rampart_store::Error> for WebError {
    fn from(e: rampart_store::Error) -> WebError {
        ApiError::from(e).into()
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, title, message) = match self {
            WebError::Login { next } => {
                let target = match next.as_deref().and_then(local_path) {
                    Some(next) if next != "/" => format!(
                        "/login?next={}",
                        form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    ),
                    _ => "/login".to_owned(),
                };
                return see_other(&target);
            }
            WebError::Forbidden(reason) => (StatusCode::FORBIDDEN, "Not allowed", reason),
            WebError::NotFound(what) => (
                StatusCode::NOT_FOUND,
                "Not found",
                format!("No such {what}."),
            ),
            WebError::BadRequest(message) => (StatusCode::BAD_REQUEST, "Bad request", message),
            WebError::Status(status, message) => (status, "Request refused", message),
            WebError::Internal(detail) => {
                tracing::error!(error = %detail, "page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not show this page; the details are in its log.".into(),
                )
            }
        };
        let page = ErrorPage {
            css: stylesheet_href(),
            status: status.as_u16(),
            title,
            message,
        };
        (status, Html(page)).into_response()
    }
}

/// Shorthand for page handlers.
pub(crate) type WebResult<T> = Result<T, WebError>;

/// A rendered template as a `text/html` response.
pub(crate) struct Html<T>(pub(crate) T);

impl<T: Template> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        match self.0.render() {
            Ok(body) => {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
            }
            Err(e) => {
                tracing::error!(error = %e, "template failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                    "<!doctype html><title>Error</title><p>The page could not be rendered.",
                )
                    .into_response()
            }
        }
    }
}

/// 303 See Other to a local `target`.
pub(crate) fn see_other(target: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(target) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `next` if it is a path on this site, `None` otherwise. What a login redirect may
/// follow: it must start with one `/` (not `//host` or `/\host`, which browsers
/// treat as another site), contain no backslash or control character, and name no
/// scheme.
pub(crate) fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.chars().any(|c| c == '\\' || c.is_control())
        && next.len() <= 2048;
    ok.then_some(next)
}

#[cfg(test)]
mod tests;
