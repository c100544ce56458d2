//! First start: with no user in the database the server generates a one-time secret
//! and prints it once; presenting it here creates the first admin. Afterwards (or
//! once any user exists) the route answers 409.

use axum::extract::State;
use axum::http::StatusCode;
use rampart_core::authz::Role;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Json;
use super::users::UserView;
use crate::secrets::constant_time_eq;
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(bootstrap))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BootstrapRequest {
    /// The secret the server printed at start.
    secret: String,
    name: String,
    password: String,
}

/// Creates the first admin with the one-time bootstrap secret.
#[utoipa::path(post, path = "/", tag = "bootstrap", request_body = BootstrapRequest, responses(
    (status = 201, body = UserView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn bootstrap(
    State(state): State<AppState>,
    Json(req): Json<BootstrapRequest>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    // Held across the whole operation: two concurrent requests cannot both create an
    // admin. Replicas sharing PostgreSQL each hold their own secret; the user check
    // below refuses whichever comes second.
    let mut slot = state.bootstrap_slot().lock().await;
    let Some(secret) = slot.as_deref() else {
        return Err(ApiError::Conflict("the server is already set up".into()));
    };
    if !constant_time_eq(&req.secret, secret) {
        tracing::warn!("bootstrap attempted with a wrong secret");
        return Err(ApiError::Unauthenticated);
    }
    if !state.store().list_users().await?.is_empty() {
        *slot = None;
        return Err(ApiError::Conflict("the server is already set up".into()));
    }
    let user = crate::admin::create_user(
        state.store(),
        &req.name,
        Role::Admin,
        req.password,
        state.now(),
    )
    .await?;
    *slot = None;
    tracing::info!(user = %user.name, "bootstrap: first admin created");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}
