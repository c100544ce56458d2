//! Enrolment tokens: what an operator hands to new hosts so their agents can enrol.
//! The token text comes from the state's [`crate::EnrollmentTokenIssuer`] (the seam
//! where the pki format plugs in); only its hash is stored.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_store::{EnrolmentToken, NewEnrolmentToken};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{
    Authorized, EnrollmentTokensCreate, EnrollmentTokensDelete, EnrollmentTokensRead,
};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

/// Default lifetime of an enrolment token: one day.
const DEFAULT_EXPIRES_IN_SECS: u64 = 24 * 3600;
/// Longest lifetime accepted: thirty days.
const MAX_EXPIRES_IN_SECS: u64 = 30 * 24 * 3600;

#[derive(Serialize, ToSchema)]
pub(crate) struct EnrollmentTokenView {
    id: String,
    project_id: Option<String>,
    labels: BTreeMap<String, String>,
    created_at: i64,
    expires_at: i64,
    max_uses: i64,
    uses: i64,
    revoked_at: Option<i64>,
}

impl From<EnrolmentToken> for EnrollmentTokenView {
    fn from(t: EnrolmentToken) -> EnrollmentTokenView {
        EnrollmentTokenView {
            id: t.id,
            project_id: t.project_id,
            labels: t.labels,
            created_at: t.created_at,
            expires_at: t.expires_at,
            max_uses: t.max_uses,
            uses: t.uses,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEnrollmentToken {
    /// Project (id or name) the hosts are meant for.
    project: Option<String>,
    /// Labels every host enrolled with the token receives.
    #[serde(default)]
    #[schema(value_type = super::params::Labels)]
    labels: BTreeMap<String, String>,
    /// Lifetime in seconds (default one day, at most thirty).
    #[schema(minimum = 1, maximum = 2592000)]
    expires_in: Option<u64>,
    /// How many hosts may enrol with it (default 1).
    #[schema(minimum = 1, maximum = 1000000)]
    max_uses: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedEnrollmentToken {
    /// The token, shown this once: `rampart-agent enroll --token <token>`.
    token: String,
    #[serde(flatten)]
    record: EnrollmentTokenView,
}

/// Every enrolment token, newest first.
#[utoipa::path(get, path = "/", tag = "enrollment-tokens", params(("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<EnrollmentTokenView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_tokens(
    _auth: Authorized<EnrollmentTokensRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<EnrollmentTokenView>>> {
    let page = query.only(&[])?.page()?;
    let tokens = state.store().list_enrolment_tokens().await?;
    Ok(Json(List::paged(
        tokens.into_iter().map(EnrollmentTokenView::from).collect(),
        page,
    )))
}

/// Issues an enrolment token; the response holds the secret, shown once.
#[utoipa::path(post, path = "/", tag = "enrollment-tokens", request_body = CreateEnrollmentToken, responses(
    (status = 201, body = CreatedEnrollmentToken),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn create_token(
    auth: Authorized<EnrollmentTokensCreate>,
    State(state): State<AppState>,
    Json(req): Json<CreateEnrollmentToken>,
) -> ApiResult<(StatusCode, Json<CreatedEnrollmentToken>)> {
    let (token, record) = issue(
        &state,
        &auth.user.name,
        req.project,
        &req.labels,
        req.expires_in,
        req.max_uses,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEnrollmentToken {
            token,
            record: record.into(),
        }),
    ))
}

/// Validates and issues an enrolment token for `by`: the printed token (to show once)
/// and the stored record. Shared by the API and the web form.
pub(crate) async fn issue(
    state: &AppState,
    by: &str,
    project: Option<String>,
    labels: &BTreeMap<String, String>,
    expires_in: Option<u64>,
    max_uses: Option<u32>,
) -> ApiResult<(String, EnrolmentToken)> {
    super::hosts::check_labels(labels)?;
    let expires_in = expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS);
    if expires_in == 0 || expires_in > MAX_EXPIRES_IN_SECS {
        return Err(ApiError::bad_request(format!(
            "expires_in must be between 1 and {MAX_EXPIRES_IN_SECS} seconds"
        )));
    }
    let max_uses = max_uses.unwrap_or(1);
    if max_uses == 0 || max_uses > 1_000_000 {
        return Err(ApiError::bad_request(
            "max_uses must be between 1 and 1000000",
        ));
    }
    let project_id = super::hosts::project_id(state, project).await?;
    let now = state.now();
    let issued = state.enrollment_issuer().issue();
    let record = state
        .store()
        .create_enrolment_token(
            NewEnrolmentToken {
                token_hash: &issued.hash,
                project_id: project_id.as_deref(),
                labels,
                expires_at: now + expires_in as i64 * 1000,
                max_uses: i64::from(max_uses),
            },
            now,
        )
        .await?;
    tracing::info!(by = %by, token_id = %record.id, "enrolment token issued");
    Ok((issued.printed, record))
}
/// Revokes an enrolment token; hosts already enrolled stay.
#[utoipa::path(delete, path = "/{id}", tag = "enrollment-tokens", params(("id" = String, Path)), responses(
    (status = 204, description = "revoked"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn revoke_token(
    auth: Authorized<EnrollmentTokensDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state
        .store()
        .revoke_enrolment_token(&id, state.now())
        .await?;
    tracing::info!(by = %auth.user.name, token_id = %id, "enrolment token revoked");
    Ok(StatusCode::NO_CONTENT)
}
