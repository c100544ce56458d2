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
    OpenApiRouter::new()
        .routes(routes!(bootstrap))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::SMALL_BODY_BYTES,
        ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BootstrapRequest {
    /// The secret the server printed at start.
    #[schema(max_length = 128)]
    secret: String,
    #[schema(value_type = super::params::Name)]
    name: String,
    #[schema(min_length = 12, max_length = 1024)]
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
    let user = create_first_admin(&state, &req.secret, &req.name, req.password).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// Whether the server still waits for its first admin (the login page then offers the
/// set-up form instead). A user created another way meanwhile (`rampart admin
/// create-user`) ends the wait, as it does for the API.
pub(crate) async fn pending(state: &AppState) -> bool {
    let mut slot = state.bootstrap_slot().lock().await;
    if slot.is_none() {
        return false;
    }
    match state.store().list_users().await {
        Ok(users) if !users.is_empty() => {
            *slot = None;
            false
        }
        // Unknown (store down): keep offering the set-up form; submitting it checks again.
        Ok(_) | Err(_) => true,
    }
}

/// Creates the first admin if `secret` is the bootstrap secret and no user exists yet;
/// shared by the API and the web set-up form.
pub(crate) async fn create_first_admin(
    state: &AppState,
    secret: &str,
    name: &str,
    password: String,
) -> ApiResult<rampart_store::User> {
    // Held across the whole operation: two concurrent requests cannot both create an
    // admin. Replicas sharing PostgreSQL each hold their own secret; the user check
    // below refuses whichever comes second.
    let mut slot = state.bootstrap_slot().lock().await;
    let Some(expected) = slot.as_deref() else {
        return Err(ApiError::Conflict("the server is already set up".into()));
    };
    if !constant_time_eq(secret, expected) {
        tracing::warn!("bootstrap attempted with a wrong secret");
        return Err(ApiError::Unauthenticated);
    }
    if !state.store().list_users().await?.is_empty() {
        *slot = None;
        return Err(ApiError::Conflict("the server is already set up".into()));
    }
    let user =
        crate::admin::create_user(state.store(), name, Role::Admin, password, state.now()).await?;
    *slot = None;
    tracing::info!(user = %user.name, "bootstrap: first admin created");
    Ok(user)
}
