//! Operational endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Authorized, SystemRead};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
}

/// The process is alive and serving. Touches nothing, so a slow database never gets a
/// healthy process restarted.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses((status = 200, description = "alive")))]
async fn healthz() -> &'static str {
    "ok"
}

/// The store answers: the replica can take traffic.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()), responses(
    (status = 200, description = "ready"),
    (status = 503, description = "store unreachable", body = super::ErrorResponse),
))]
async fn readyz(State(state): State<AppState>) -> ApiResult<&'static str> {
    match state.store().advisory_count().await {
        Ok(_) => Ok("ready"),
        Err(e) => {
            tracing::warn!(error = %crate::error::error_chain(&e), "readiness check failed");
            Err(ApiError::Status {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "not_ready",
                message: "the database is unreachable".to_owned(),
            })
        }
    }
}

/// Prometheus text exposition: requests by route and status, hosts, findings by
/// severity. Authenticated (estate size is not public): scrape with an API token.
#[utoipa::path(get, path = "/metrics", tag = "system", responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn metrics(
    _auth: Authorized<SystemRead>,
    State(state): State<AppState>,
) -> ApiResult<impl IntoResponse> {
    let body = crate::metrics::render(&state).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    ))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "system", security(()), responses((status = 200, description = "OpenAPI 3.1 document")))]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi_json(),
    )
}
