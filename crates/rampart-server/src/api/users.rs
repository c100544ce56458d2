//! People who log in (admin only, except reading): list, create, change role,
//! disable or re-enable, reset password, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_core::authz::Role;
use rampart_store::User;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{Authorized, UsersCreate, UsersDelete, UsersRead, UsersUpdate};
use crate::secrets::{check_password_policy, hash_password};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
}

/// A user as the API shows it (never the password hash).
#[derive(Serialize, ToSchema)]
pub(crate) struct UserView {
    id: String,
    name: String,
    /// `admin`, `operator` or `auditor`.
    role: String,
    created_at: i64,
    updated_at: i64,
    disabled: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> UserView {
        UserView {
            id: u.id.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
            disabled: u.disabled_at.is_some(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUser {
    #[schema(value_type = super::params::Name)]
    name: String,
    #[schema(value_type = super::params::Role)]
    role: RoleName,
    #[schema(min_length = 12, max_length = 1024)]
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUser {
    #[schema(value_type = Option<super::params::Role>)]
    role: Option<RoleName>,
    disabled: Option<bool>,
    #[schema(min_length = 12, max_length = 1024)]
    password: Option<String>,
}

/// A role name in a request body, refused with the list of valid names.
#[derive(Clone, Copy)]
pub(crate) struct RoleName(pub Role);

impl<'de> Deserialize<'de> for RoleName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<RoleName, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(RoleName).map_err(serde::de::Error::custom)
    }
}

/// Every user.
#[utoipa::path(get, path = "/", tag = "users", responses(
    (status = 200, body = List<UserView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_users(
    _auth: Authorized<UsersRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<UserView>>> {
    let page = query.only(&[])?.page()?;
    let users = state.store().list_users().await?;
    Ok(Json(List::paged(
        users.iter().map(UserView::from).collect(),
        page,
    )))
}

/// Creates a user.
#[utoipa::path(post, path = "/", tag = "users", request_body = CreateUser, responses(
    (status = 201, body = UserView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn create_user(
    auth: Authorized<UsersCreate>,
    State(state): State<AppState>,
    Json(req): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    let user = crate::admin::create_user(
        state.store(),
        &req.name,
        req.role.0,
        req.password,
        state.now(),
    )
    .await?;
    tracing::info!(by = %auth.user.name, user = %user.name, role = %user.role, "user created");
    Ok((StatusCode::CREATED, Json(UserView::from(&user))))
}

/// One user.
#[utoipa::path(get, path = "/{id}", tag = "users", params(("id" = String, Path)), responses(
    (status = 200, body = UserView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_user(
    _auth: Authorized<UsersRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<UserView>> {
    Ok(Json(UserView::from(&state.store().get_user(&id).await?)))
}

/// Changes a user's role, disables or re-enables them, or resets their password.
/// Admins cannot demote, disable or delete themselves, so the last admin cannot lock
/// everyone out by accident.
#[utoipa::path(patch, path = "/{id}", tag = "users", params(("id" = String, Path)), request_body = UpdateUser, responses(
    (status = 200, body = UserView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn update_user(
    auth: Authorized<UsersUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<UpdateUser>,
) -> ApiResult<Json<UserView>> {
    let store = state.store();
    let user = store.get_user(&id).await?;
    let now = state.now();
    let is_self = user.id == auth.user.id;
    // Every refusal before the first write: a rejected request changes nothing.
    if let Some(RoleName(role)) = req.role
        && is_self
        && role != Role::Admin
    {
        return Err(ApiError::Conflict("you cannot change your own role".into()));
    }
    if is_self && req.disabled == Some(true) {
        return Err(ApiError::Conflict(
            "you cannot disable your own account".into(),
        ));
    }
    let hash = match req.password {
        Some(password) => {
            check_password_policy(&password).map_err(ApiError::BadRequest)?;
            Some(hash_password(password).await?)
        }
        None => None,
    };
    if let Some(RoleName(role)) = req.role {
        store.set_user_role(&id, role.as_str(), now).await?;
    }
    if let Some(disabled) = req.disabled {
        // Disabling ends the user's sessions and revokes their API tokens.
        store.set_user_disabled(&id, disabled, now).await?;
    }
    if let Some(hash) = hash {
        // A reset password ends every session and revokes every API token that
        // authenticated with the old one.
        store.set_user_password(&id, &hash, now).await?;
    }
    tracing::info!(by = %auth.user.name, user = %user.name, "user updated");
    Ok(Json(UserView::from(&store.get_user(&id).await?)))
}

/// Deletes a user with their sessions and API tokens.
#[utoipa::path(delete, path = "/{id}", tag = "users", params(("id" = String, Path)), responses(
    (status = 204, description = "deleted"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn delete_user(
    auth: Authorized<UsersDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if id == auth.user.id {
        return Err(ApiError::Conflict(
            "you cannot delete your own account".into(),
        ));
    }
    state.store().delete_user(&id).await?;
    tracing::info!(by = %auth.user.name, user_id = %id, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}
