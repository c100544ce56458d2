//! The one error type of the HTTP API. Every failure — a handler's, an extractor's, a
//! middleware's — leaves the server as `{"error":{"code":"…","message":"…"}}`
//! ([`rampart_proto::ErrorBody`]), with a stable `code` clients may match on. Internal
//! detail (database errors, panics) goes to the log; the client gets a generic message.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_proto::{ErrorBody, ErrorDetail};

/// Everything an API request can fail with. One variant per status family; the table
/// in [`ApiError::status_and_code`] is the only place statuses and codes are chosen.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No credentials, or credentials that are unknown, expired, revoked or disabled.
    /// The message never says which, so a guessed token learns nothing.
    #[error("authentication required")]
    Unauthenticated,
    /// Authenticated, but the authorisation decision said no; carries its reason.
    #[error("{0}")]
    Forbidden(String),
    /// A cookie-authenticated state-changing request without the session's CSRF token.
    #[error("missing or wrong X-CSRF-Token header for this session")]
    CsrfFailed,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than the server accepts")]
    PayloadTooLarge,
    /// Too many failed logins for this account or from this address; carries the
    /// seconds until the next attempt is accepted (`Retry-After`).
    #[error("too many failed logins; try again in {0} s")]
    TooManyAttempts(u64),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A caller doing something more often than allowed (429 with `Retry-After`).
    #[error("{message}")]
    RateLimited {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// Something broke on our side; the detail is logged, never returned.
    #[error("internal server error")]
    Internal(String),
    /// A status produced outside the handlers (routing, timeout, panic, a layer)
    /// rewritten into the common shape.
    #[error("{message}")]
    Status {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::BadRequest(message.into())
    }

    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(detail.to_string())
    }

    /// The status and stable machine-readable code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::CsrfFailed => (StatusCode::FORBIDDEN, "csrf_token_invalid"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::RateLimited { code, .. } => (StatusCode::TOO_MANY_REQUESTS, code),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Status { status, code, .. } => (*status, code),
        }
    }

    /// The common error for a bare status (from routing or a middleware layer).
    pub fn from_status(status: StatusCode) -> ApiError {
        let (code, message) = match status {
            StatusCode::NOT_FOUND => ("not_found", "no such route"),
            StatusCode::METHOD_NOT_ALLOWED => {
                ("method_not_allowed", "method not allowed on this route")
            }
            StatusCode::REQUEST_TIMEOUT => ("timeout", "the request took too long"),
            StatusCode::PAYLOAD_TOO_LARGE => (
                "payload_too_large",
                "request body is larger than the server accepts",
            ),
            StatusCode::UNAUTHORIZED => ("unauthenticated", "authentication required"),
            StatusCode::FORBIDDEN => ("forbidden", "forbidden"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ),
            s if s.is_server_error() => ("internal", "internal server error"),
            _ => ("bad_request", "bad request"),
        };
        ApiError::Status {
            status,
            code,
            message: message.to_owned(),
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        ErrorBody {
            error: ErrorDetail {
                code: code.to_owned(),
                message: self.to_string(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        let retry_after = match &self {
            ApiError::TooManyAttempts(secs) => Some(secs.to_string()),
            ApiError::RateLimited {
                retry_after_secs, ..
            } => Some(retry_after_secs.to_string()),
            _ => None,
        };
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(secs) = retry_after.and_then(|s| s.parse().ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs);
        }
        response
    }
}

impl From<rampart_store::Error> for ApiError {
    fn from(e: rampart_store::Error) -> ApiError {
        match e {
            rampart_store::Error::NotFound { entity } => ApiError::NotFound(entity.to_owned()),
            rampart_store::Error::Conflict { entity } => {
                ApiError::Conflict(format!("{entity} already exists"))
            }
            e @ rampart_store::Error::InUse { .. } => ApiError::Conflict(e.to_string()),
            other => ApiError::Internal(format!("store: {}", error_chain(&other))),
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> ApiError {
        use axum::extract::rejection::JsonRejection as J;
        match &r {
            J::MissingJsonContentType(_) => {
                ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
            }
            _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            // serde's message names the field and the position; it holds no server detail.
            J::JsonDataError(e) => {
                ApiError::BadRequest(format!("invalid request body: {}", error_chain(e)))
            }
            J::JsonSyntaxError(e) => {
                ApiError::BadRequest(format!("malformed JSON: {}", error_chain(e)))
            }
            _ => ApiError::from_status(r.status()),
        }
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::BadRequest(r.body_text())
    }
}

/// An error with its sources, `a: b: c`, for logs and serde messages.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = inner.source();
    }
    s
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;
