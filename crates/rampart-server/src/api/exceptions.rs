//! Risk exceptions: request, list, approve, deny, revoke.
//!
//! The four-eyes rule is `rampart_core::exceptions::can_approve`, applied by the store
//! inside the decision's transaction: a requester approving their own exception gets
//! 403 `forbidden` saying another person must approve; deciding an exception that is no
//! longer pending (or has expired) is 409 `conflict`. Every change marks the hosts it
//! touches for compliance re-evaluation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_core::exceptions::{
    EffectiveStatus, Exception, ExceptionScope, ExceptionStatus, Refusal, validate_request,
};
use rampart_store::{Actor, ExceptionDecision, ExceptionFilter, ExceptionRecord, NewException};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{Authorized, Caller, ExceptionsDecide, ExceptionsRead, ExceptionsRequest};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_exceptions, request_exception))
        .routes(routes!(get_exception))
        .routes(routes!(approve_exception))
        .routes(routes!(deny_exception))
        .routes(routes!(revoke_exception))
}

/// Where an exception applies.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeView {
    /// `host`, `project` or `estate`.
    pub(crate) kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) host_id: Option<String>,
    /// Project id (a name is accepted in requests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) project_id: Option<String>,
}

impl From<&ExceptionScope> for ScopeView {
    fn from(scope: &ExceptionScope) -> ScopeView {
        match scope {
            ExceptionScope::Host { host_id } => ScopeView {
                kind: "host".into(),
                host_id: Some(host_id.clone()),
                project_id: None,
            },
            ExceptionScope::Project { project_id } => ScopeView {
                kind: "project".into(),
                host_id: None,
                project_id: Some(project_id.clone()),
            },
            ExceptionScope::Estate => ScopeView {
                kind: "estate".into(),
                host_id: None,
                project_id: None,
            },
        }
    }
}

/// A risk exception as the API shows it, with its status at the time of the request
/// (`expired` once past `expires_at`).
#[derive(Serialize, ToSchema, Clone, Debug, PartialEq)]
pub(crate) struct ExceptionView {
    id: String,
    advisory: String,
    scope: ScopeView,
    reason: String,
    ticket: Option<String>,
    expires_at: i64,
    /// As decided: `requested`, `approved`, `denied`, `revoked`.
    status: String,
    /// At the time of this answer: the status, or `expired`.
    effective_status: String,
    /// Whether it accepts findings now.
    active: bool,
    requested_by: String,
    requested_by_id: String,
    requested_at: i64,
    decided_by: Option<String>,
    decided_at: Option<i64>,
}

impl ExceptionView {
    pub(crate) fn new(record: ExceptionRecord, now: i64) -> ExceptionView {
        let mut view = ExceptionView::of(&record.exception, now);
        view.requested_by = record.requested_by_name;
        view.decided_by = record.decided_by_name;
        view
    }

    /// From the core value alone (names unknown: ids shown).
    pub(crate) fn of(e: &Exception, now: i64) -> ExceptionView {
        ExceptionView {
            id: e.id.clone(),
            advisory: e.advisory.clone(),
            scope: ScopeView::from(&e.scope),
            reason: e.reason.clone(),
            ticket: e.ticket.clone(),
            expires_at: e.expires_at,
            status: e.status.as_str().to_owned(),
            effective_status: e.effective_status(now).as_str().to_owned(),
            active: e.effective_status(now) == EffectiveStatus::Approved,
            requested_by: e.requested_by.clone(),
            requested_by_id: e.requested_by.clone(),
            requested_at: e.requested_at,
            decided_by: e.decided_by.clone(),
            decided_at: e.decided_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestException {
    /// Advisory id or alias (`CVE-2024-1234` covers the DSA that fixes it).
    #[schema(value_type = super::params::AdvisoryId)]
    pub(crate) advisory: String,
    pub(crate) scope: ScopeView,
    #[schema(value_type = super::params::Reason)]
    pub(crate) reason: String,
    #[serde(default)]
    #[schema(max_length = 256)]
    pub(crate) ticket: Option<String>,
    /// Unix milliseconds; the exception stops applying then, by itself.
    pub(crate) expires_at: i64,
}

/// Exceptions, newest request first. Filters: `status` (requested, approved, denied,
/// revoked), `active` (`true`: in force now), `advisory`, `host`, `project` (id or
/// name: exceptions scoped to it), `limit`, `offset`.
#[utoipa::path(get, path = "/", tag = "exceptions", params(
    ("status" = Option<super::params::ExceptionStatus>, Query), ("active" = Option<bool>, Query),
    ("advisory" = Option<super::params::AdvisoryId>, Query), ("host" = Option<String>, Query),
    ("project" = Option<String>, Query),
    ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<ExceptionView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_exceptions(
    _auth: Authorized<ExceptionsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<ExceptionView>>> {
    let query = query.only(&["status", "active", "advisory", "host", "project"])?;
    let page = query.page()?;
    let now = state.now();
    let filter = ExceptionFilter {
        status: query.parsed::<ExceptionStatus>("status")?,
        active_at: query.parsed::<bool>("active")?.filter(|a| *a).map(|_| now),
        advisory: super::advisory_filter(&query)?,
        host_id: query.one("host")?,
        project_id: super::hosts::project_id(&state, query.one("project")?).await?,
    };
    let found = state.store().list_exceptions(&filter, page).await?;
    Ok(Json(List::new(
        found
            .items
            .into_iter()
            .map(|r| ExceptionView::new(r, now))
            .collect(),
        found.total,
        page,
    )))
}

/// Requests an exception; another person must approve it.
#[utoipa::path(post, path = "/", tag = "exceptions", request_body = RequestException, responses(
    (status = 201, body = ExceptionView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn request_exception(
    auth: Authorized<ExceptionsRequest>,
    State(state): State<AppState>,
    Json(req): Json<RequestException>,
) -> ApiResult<(StatusCode, Json<ExceptionView>)> {
    let record = request(&state, &auth.caller, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(ExceptionView::new(record, state.now())),
    ))
}

/// Checks and records a request by `caller`: the one request path, shared by the API
/// and the web form. Malformed input is [`ApiError::BadRequest`]; an unknown host or
/// project [`ApiError::NotFound`].
pub(crate) async fn request(
    state: &AppState,
    caller: &Caller,
    req: RequestException,
) -> ApiResult<ExceptionRecord> {
    let now = state.now();
    validate_request(
        &req.advisory,
        &req.reason,
        req.ticket.as_deref(),
        req.expires_at,
        now,
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let scope = match (
        req.scope.kind.as_str(),
        req.scope.host_id,
        req.scope.project_id,
    ) {
        ("host", Some(host_id), None) => {
            state.store().get_host(&host_id).await?;
            ExceptionScope::Host { host_id }
        }
        ("project", None, Some(project)) => ExceptionScope::Project {
            project_id: super::hosts::project_id(state, Some(project))
                .await?
                .unwrap_or_default(),
        },
        ("estate", None, None) => ExceptionScope::Estate,
        _ => {
            return Err(ApiError::bad_request(
                "scope must be {\"kind\":\"host\",\"host_id\":…}, {\"kind\":\"project\",\"project_id\":…} or {\"kind\":\"estate\"}",
            ));
        }
    };
    let record = state
        .store()
        .request_exception(
            NewException {
                advisory: &req.advisory,
                scope: &scope,
                reason: req.reason.trim(),
                ticket: req.ticket.as_deref().filter(|t| !t.is_empty()),
                expires_at: req.expires_at,
            },
            actor(caller),
            now,
        )
        .await?;
    tracing::info!(by = %caller.user.name, exception = %record.exception.id, advisory = %record.exception.advisory, "exception requested");
    Ok(record)
}

/// One exception.
#[utoipa::path(get, path = "/{id}", tag = "exceptions", params(("id" = String, Path)), responses(
    (status = 200, body = ExceptionView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_exception(
    _auth: Authorized<ExceptionsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExceptionView>> {
    let record = state.store().get_exception(&id).await?;
    Ok(Json(ExceptionView::new(record, state.now())))
}

/// Approves a requested exception. Refused (403) for its requester: another person
/// must approve.
#[utoipa::path(post, path = "/{id}/approve", tag = "exceptions", params(("id" = String, Path)), responses(
    (status = 200, body = ExceptionView),
    (status = "4XX", description = "error: forbidden (own request), conflict (not pending or expired)", body = super::ErrorResponse),
))]
async fn approve_exception(
    auth: Authorized<ExceptionsDecide>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExceptionView>> {
    let record = decide(&state, &auth.caller, &id, ExceptionDecision::Approve).await?;
    Ok(Json(ExceptionView::new(record, state.now())))
}

/// Denies a requested exception (the requester may withdraw their own).
#[utoipa::path(post, path = "/{id}/deny", tag = "exceptions", params(("id" = String, Path)), responses(
    (status = 200, body = ExceptionView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn deny_exception(
    auth: Authorized<ExceptionsDecide>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExceptionView>> {
    let record = decide(&state, &auth.caller, &id, ExceptionDecision::Deny).await?;
    Ok(Json(ExceptionView::new(record, state.now())))
}

/// Revokes a requested or approved exception: it stops applying at once.
#[utoipa::path(post, path = "/{id}/revoke", tag = "exceptions", params(("id" = String, Path)), responses(
    (status = 200, body = ExceptionView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn revoke_exception(
    auth: Authorized<ExceptionsDecide>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExceptionView>> {
    let record = decide(&state, &auth.caller, &id, ExceptionDecision::Revoke).await?;
    Ok(Json(ExceptionView::new(record, state.now())))
}

fn actor(caller: &Caller) -> Actor<'_> {
    Actor {
        id: &caller.user.id,
        name: &caller.user.name,
    }
}

/// Applies `decision` by `caller` through the store's transaction (the four-eyes rule
/// included) and marks the hosts it touches for re-evaluation: the one decision path,
/// shared by the API and the web forms. Self-approval is [`ApiError::Forbidden`], any
/// other refusal [`ApiError::Conflict`].
pub(crate) async fn decide(
    state: &AppState,
    caller: &Caller,
    id: &str,
    decision: ExceptionDecision,
) -> ApiResult<ExceptionRecord> {
    let now = state.now();
    let record = match state
        .store()
        .decide_exception(id, decision, actor(caller), now)
        .await?
    {
        Ok(record) => record,
        Err(refusal @ Refusal::SelfApproval) => {
            return Err(ApiError::Forbidden(refusal.to_string()));
        }
        Err(refusal) => return Err(ApiError::Conflict(refusal.to_string())),
    };
    let (host, project) = match &record.exception.scope {
        ExceptionScope::Host { host_id } => (Some(host_id.as_str()), None),
        ExceptionScope::Project { project_id } => (None, Some(project_id.as_str())),
        ExceptionScope::Estate => (None, None),
    };
    state.compliance().mark_due(host, project, now).await?;
    tracing::info!(by = %caller.user.name, exception = %id, ?decision, "exception decided");
    Ok(record)
}
