//! Bounds the work anonymous callers can make the server do at once. The routes anyone
//! may POST to — login (an Argon2 run), bootstrap, agent enrolment (a CSR signature),
//! the web login and set-up forms — share [`crate::ServerConfig::max_public_concurrency`]
//! permits; a request that finds none within two seconds is answered `503` with
//! `Retry-After` rather than queueing without end. The body is read before a permit is
//! taken, within five seconds and 64 KiB, so a caller trickling its body holds nothing
//! that others need. Authenticated routes are not gated here: they answer 401
//! before reading a body, and their callers are accountable.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

/// How long an anonymous caller has to send its whole body.
const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(5);

/// The largest body any gated route takes (enrolment's; login takes less and its own
/// limit still applies).
const GATED_BODY_MAX: usize = crate::agent::ENROLL_BODY_BYTES;

/// How long a request waits for a permit before it is shed.
const QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// (method, path) of the unauthenticated routes that do work.
pub(crate) const GATED_ROUTES: &[(&str, &str)] = &[
    ("POST", "/api/v1/session"),
    ("POST", "/api/v1/bootstrap"),
    ("POST", "/agent/v1/enroll"),
    ("POST", "/login"),
    ("POST", "/setup"),
];

fn gated(method: &Method, path: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    GATED_ROUTES
        .iter()
        .any(|(m, p)| method.as_str() == *m && path == *p)
}

pub(crate) async fn shed_anonymous_overload(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !gated(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    // The body first, outside the permits, in bounded time and size: a caller that
    // trickles its body must not sit on a permit (32 of them would shut everyone out).
    let (parts, body) = request.into_parts();
    let bytes =
        match tokio::time::timeout(BODY_DEADLINE, axum::body::to_bytes(body, GATED_BODY_MAX)).await
        {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(e)) => {
                let too_large = std::error::Error::source(&e)
                    .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
                return if too_large {
                    ApiError::Status {
                        status: StatusCode::PAYLOAD_TOO_LARGE,
                        code: "payload_too_large",
                        message: format!(
                            "the body exceeds this route's limit of {GATED_BODY_MAX} bytes"
                        ),
                    }
                } else {
                    ApiError::bad_request(format!("reading the request body: {e}"))
                }
                .into_response();
            }
            Err(_) => {
                return ApiError::Status {
                    status: StatusCode::REQUEST_TIMEOUT,
                    code: "timeout",
                    message: format!(
                        "the request body did not arrive within {} s",
                        BODY_DEADLINE.as_secs()
                    ),
                }
                .into_response();
            }
        };
    let request = Request::from_parts(parts, axum::body::Body::from(bytes));
    // A short wait absorbs a legitimate burst (a fleet enrolling at once) without
    // letting callers queue up behind permits held by slow bodies.
    let permit = tokio::time::timeout(QUEUE_WAIT, state.public_gate().clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok);
    let Some(permit) = permit else {
        tracing::warn!(
            path = request.uri().path(),
            "refused an unauthenticated request: too many at once"
        );
        let mut response = ApiError::Status {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "overloaded",
            message: "too many unauthenticated requests at once; retry in a second".into(),
        }
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    };
    let response = next.run(request).await;
    drop(permit);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt as _;

    /// With every permit taken, an anonymous login waits its two seconds and is shed
    /// with 503 + `Retry-After`; once a permit is free, it is served.
    #[tokio::test]
    async fn requests_beyond_the_bound_are_shed_after_a_short_wait() {
        let dir = tempfile::tempdir().unwrap();
        let store = rampart_store::Store::open_in_dir(dir.path()).await.unwrap();
        let config = crate::ServerConfig {
            max_public_concurrency: 1,
            ..crate::ServerConfig::default()
        };
        let (state, _) = AppState::with_parts(
            store,
            config,
            crate::system_clock(),
            std::sync::Arc::new(crate::RandomEnrollmentTokens),
        )
        .await
        .unwrap();
        let app = crate::app(state.clone());
        let login = || {
            axum::http::Request::post("/api/v1/session")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap()
        };
        let held = state.public_gate().clone().try_acquire_owned().unwrap();
        let started = std::time::Instant::now();
        let shed = app.clone().oneshot(login()).await.unwrap();
        assert_eq!(shed.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(shed.headers()[header::RETRY_AFTER], "1");
        assert!(started.elapsed() >= QUEUE_WAIT);
        drop(held);
        let served = app.oneshot(login()).await.unwrap();
        assert_eq!(served.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn only_the_anonymous_work_routes_are_gated() {
        assert!(gated(&Method::POST, "/agent/v1/enroll"));
        assert!(gated(&Method::POST, "/api/v1/session/"));
        assert!(gated(&Method::POST, "/login"));
        assert!(!gated(&Method::GET, "/login"));
        assert!(!gated(&Method::DELETE, "/api/v1/session"));
        assert!(!gated(&Method::POST, "/agent/v1/checkin"));
        assert!(!gated(&Method::GET, "/healthz"));
    }
}
