//! Personal API tokens: everyone who may change things manages their own; managing
//! another user's tokens needs the `api_tokens` permission (admins).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_core::authz::{Action, Permission, Resource};
use rampart_store::ApiToken;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::users::RoleName;
use super::{Json, List, Query};
use crate::auth::{Authorized, OwnApiTokensCreate, OwnApiTokensDelete, OwnApiTokensRead};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ApiTokenView {
    id: String,
    user_id: String,
    name: String,
    /// Roles the token is limited to.
    scopes: Vec<String>,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl From<&ApiToken> for ApiTokenView {
    fn from(t: &ApiToken) -> ApiTokenView {
        ApiTokenView {
            id: t.id.clone(),
            user_id: t.user_id.clone(),
            name: t.name.clone(),
            scopes: t.scopes.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            last_used_at: t.last_used_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    /// A label for the token; generated when absent.
    #[schema(value_type = Option<super::params::Name>)]
    name: Option<String>,
    /// Roles to limit the token to (a subset of the owner's); default the owner's.
    #[serde(default)]
    #[schema(value_type = Vec<super::params::Role>)]
    roles: Vec<RoleName>,
    /// Lifetime in seconds; absent: the server's default (90 days unless configured).
    /// At most the server's maximum (365 days unless configured).
    #[schema(minimum = 1, maximum = 31536000)]
    expires_in: Option<u64>,
    /// Owner (user id); default the caller. Another user needs the api_tokens permission.
    user_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    /// The token, shown this once: `Authorization: Bearer <token>`.
    token: String,
    #[serde(flatten)]
    record: ApiTokenView,
}

/// The caller's tokens, or with `user_id=` another user's (admins only: other people's
/// credentials are not for operators or auditors to browse).
#[utoipa::path(get, path = "/", tag = "api-tokens", params(("user_id" = Option<String>, Query)), responses(
    (status = 200, body = List<ApiTokenView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_tokens(
    auth: Authorized<OwnApiTokensRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<ApiTokenView>>> {
    let query = query.only(&["user_id"])?;
    let page = query.page()?;
    let user_id = match query.one("user_id")? {
        Some(other) if other != auth.user.id => {
            auth.require(
                Permission::new(Resource::ApiTokens, Action::Read),
                state.now(),
            )?;
            other
        }
        _ => auth.user.id.clone(),
    };
    let tokens = state.store().list_api_tokens(&user_id).await?;
    Ok(Json(List::paged(
        tokens.iter().map(ApiTokenView::from).collect(),
        page,
    )))
}

/// Issues a token; the response holds the secret, shown once.
#[utoipa::path(post, path = "/", tag = "api-tokens", request_body = CreateToken, responses(
    (status = 201, body = CreatedToken),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn create_token(
    auth: Authorized<OwnApiTokensCreate>,
    State(state): State<AppState>,
    Json(req): Json<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let now = state.now();
    let owner = match &req.user_id {
        Some(id) if *id != auth.user.id => {
            auth.require(Permission::new(Resource::ApiTokens, Action::Create), now)?;
            state.store().get_user(id).await?
        }
        _ => auth.user.clone(),
    };
    let roles: Vec<_> = req.roles.iter().map(|r| r.0).collect();
    let config = state.config();
    let max = config.api_token_max_lifetime.as_secs();
    let lifetime = match req.expires_in {
        Some(0) => return Err(ApiError::bad_request("expires_in must be positive")),
        Some(s) if s > max => {
            return Err(ApiError::bad_request(format!(
                "expires_in must be at most {max} seconds (the server's maximum token lifetime)"
            )));
        }
        Some(s) => s,
        None => config.api_token_default_lifetime.as_secs().min(max),
    };
    let expires_at = i64::try_from(lifetime)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .and_then(|ms| now.checked_add(ms))
        .ok_or_else(|| ApiError::bad_request("expires_in is too large"))?;
    let expires_at = Some(expires_at);
    let issued = crate::admin::create_api_token(
        state.store(),
        &owner,
        req.name.as_deref(),
        &roles,
        expires_at,
        now,
    )
    .await?;
    tracing::info!(by = %auth.user.name, owner = %owner.name, token_id = %issued.record.id, "API token issued");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            record: ApiTokenView::from(&issued.record),
            token: issued.token,
        }),
    ))
}

/// Revokes a token (the caller's own, or anyone's with the api_tokens permission).
#[utoipa::path(delete, path = "/{id}", tag = "api-tokens", params(("id" = String, Path)), responses(
    (status = 204, description = "revoked"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn revoke_token(
    auth: Authorized<OwnApiTokensDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let now = state.now();
    let own = state
        .store()
        .list_api_tokens(&auth.user.id)
        .await?
        .iter()
        .any(|t| t.id == id);
    if !own {
        // Someone else's token, or none: only callers who may manage every token learn
        // which.
        auth.require(Permission::new(Resource::ApiTokens, Action::Delete), now)?;
    }
    state.store().revoke_api_token(&id, now).await?;
    tracing::info!(by = %auth.user.name, token_id = %id, "API token revoked");
    Ok(StatusCode::NO_CONTENT)
}
