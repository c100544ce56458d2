//! Login sessions for browsers: log in (sets the cookie, returns the CSRF token), who
//! am I, log out.

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rampart_store::NewSession;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Json;
use super::users::UserView;
use crate::auth::{Authenticated, ClientAddr, SESSION_COOKIE, Via};
use crate::secrets::{random_secret, sha256_hex, verify_password};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login, me, logout))
        .layer(axum::extract::DefaultBodyLimit::max(
            super::SMALL_BODY_BYTES,
        ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    #[schema(max_length = 256)]
    name: String,
    #[schema(max_length = 1024)]
    password: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SessionView {
    user: UserView,
    /// Send as `X-CSRF-Token` on every state-changing request made with the cookie.
    #[serde(skip_serializing_if = "Option::is_none")]
    csrf_token: Option<String>,
    /// `session` or `api_token`.
    authenticated_by: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<i64>,
}

/// Logs in with a name and password; sets the `rampart_session` cookie.
#[utoipa::path(post, path = "/", tag = "session", request_body = LoginRequest, responses(
    (status = 200, body = SessionView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn login(
    State(state): State<AppState>,
    client: ClientAddr,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Response> {
    let user = check_password(&state, &req.name, req.password, client).await?;
    let started = start(&state, &user).await?;
    let body = SessionView {
        user: UserView::from(&user),
        csrf_token: Some(started.csrf_token),
        authenticated_by: "session",
        expires_at: Some(started.expires_at),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&started.cookie).map_err(ApiError::internal)?,
    );
    Ok(response)
}

/// The user `name` if `password` is theirs and they are not disabled; otherwise 401
/// without saying which part was wrong. Shared by the API and the login form.
pub(crate) async fn check_password(
    state: &AppState,
    name: &str,
    password: String,
    client: ClientAddr,
) -> ApiResult<rampart_store::User> {
    let throttle = state.login_throttle();
    let attempt = match throttle.begin(name, client.0, state.now()) {
        Ok(attempt) => attempt,
        Err(wait) => {
            tracing::warn!(name = ?name, client = ?client.0, "login refused: too many failures");
            return Err(ApiError::TooManyAttempts((wait as u64).div_ceil(1000)));
        }
    };
    let user = match state.store().get_user_by_name(name).await {
        Ok(user) => Some(user),
        Err(rampart_store::Error::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let ok = verify_password(password, user.as_ref().map(|u| u.password_hash.clone())).await;
    match user {
        Some(user) if ok && user.disabled_at.is_none() => {
            throttle.succeeded(attempt, state.now());
            Ok(user)
        }
        _ => {
            tracing::info!(name = ?name, client = ?client.0, "failed login");
            Err(ApiError::Unauthenticated)
        }
    }
}

/// A session just created: the `Set-Cookie` value and the CSRF token to hand out.
pub(crate) struct Started {
    pub(crate) cookie: String,
    pub(crate) csrf_token: String,
    pub(crate) expires_at: i64,
}

/// Creates a login session for `user` (the store keeps only the id's hash).
pub(crate) async fn start(state: &AppState, user: &rampart_store::User) -> ApiResult<Started> {
    let now = state.now();
    let session_id = random_secret();
    let csrf_token = random_secret();
    let ttl = state.config().session_ttl;
    let expires_at = now + ttl.as_millis() as i64;
    state
        .store()
        .create_session(
            NewSession {
                id_hash: &sha256_hex(&session_id),
                user_id: &user.id,
                csrf_token: &csrf_token,
                expires_at,
            },
            now,
        )
        .await?;
    tracing::info!(user = ?user.name, "logged in");
    let cookie = format!(
        "{SESSION_COOKIE}={session_id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        ttl.as_secs(),
        if state.config().secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    Ok(Started {
        cookie,
        csrf_token,
        expires_at,
    })
}

/// Ends the session named by `id_hash` (already gone is fine); returns the
/// `Set-Cookie` value that clears the cookie.
pub(crate) async fn end(state: &AppState, id_hash: &str) -> ApiResult<String> {
    match state.store().delete_session(id_hash).await {
        Ok(()) | Err(rampart_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    ))
}

/// Who the caller is and how they authenticated.
#[utoipa::path(get, path = "/", tag = "session", responses(
    (status = 200, body = SessionView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn me(Authenticated(caller): Authenticated) -> Json<SessionView> {
    let (by, csrf) = match &caller.via {
        Via::Session { csrf_token, .. } => ("session", Some(csrf_token.clone())),
        Via::ApiToken { .. } => ("api_token", None),
    };
    Json(SessionView {
        user: UserView::from(&caller.user),
        csrf_token: csrf,
        authenticated_by: by,
        expires_at: None,
    })
}

/// Logs out: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/", tag = "session", responses(
    (status = 204, description = "logged out"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn logout(
    State(state): State<AppState>,
    Authenticated(caller): Authenticated,
) -> ApiResult<Response> {
    let Via::Session { id_hash, .. } = &caller.via else {
        // A well-formed request that conflicts with how the caller is authenticated.
        return Err(ApiError::Conflict(
            "this request is authenticated by an API token, not a session; revoke the token instead"
                .into(),
        ));
    };
    let clear = end(&state, id_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(ApiError::internal)?,
    );
    Ok(response)
}
