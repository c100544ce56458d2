//! Bounds the work anonymous callers can make the server do at once. The routes anyone
//! may POST to — login (an Argon2 run), bootstrap, agent enrolment (a CSR signature),
//! the web login and set-up forms — share [`crate::ServerConfig::max_public_concurrency`]
//! permits; a request that finds none within two seconds is answered `503` with
//! `Retry-After`, before its body is read, rather than queueing without end (a long
//! queue would hold every attacker's connection). Authenticated routes are not gated here: they answer 401
//! before reading a body, and their callers are accountable.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, AppState};

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
