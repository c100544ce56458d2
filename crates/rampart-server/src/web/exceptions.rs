//! Risk exceptions: the list (filtered by status), the request form, and approve /
//! deny / revoke buttons. Every write goes through the API's own functions
//! (`api::exceptions::{request, decide}`), so the store's transaction and
//! `rampart_core::exceptions` rules — the four-eyes rule included — decide exactly as
//! for the API; a requester approving their own request gets a 403 page saying why.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_core::exceptions::{EffectiveStatus, ExceptionScope, ExceptionStatus};
use rampart_store::{ExceptionDecision, ExceptionFilter, ExceptionRecord};

use super::hosts::{PAGE_SIZE, Pager, page_window};
use super::text::{datetime, end_of_date};
use super::{Chrome, FormData, Html, QueryPairs, WebAuthorized, WebError, WebResult, see_other};
use crate::api::exceptions::{RequestException, ScopeView, decide, request};
use crate::auth::{ExceptionsDecide, ExceptionsRead, ExceptionsRequest, RequiredPermission};
use crate::{ApiError, AppState};

struct Row {
    id: String,
    advisory: String,
    scope: String,
    scope_href: Option<String>,
    reason: String,
    ticket: String,
    expires_at: String,
    /// The status now: `requested`, `approved`, `denied`, `revoked` or `expired`.
    status: &'static str,
    requested: String,
    decided: String,
    can_decide: bool,
    can_revoke: bool,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The request form's values: prefilled from the link that led here (a finding's
/// "request exception"), or echoed after a refused submission.
#[derive(Default)]
struct RequestForm {
    advisory: String,
    scope: String,
    host: String,
    project: String,
    reason: String,
    ticket: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "exceptions.html")]
struct ExceptionsPage {
    chrome: Chrome,
    notice: Option<String>,
    error: Option<String>,
    status: String,
    statuses: Vec<Choice>,
    rows: Vec<Row>,
    pager: Pager,
    may_request: bool,
    may_decide: bool,
    form: RequestForm,
    projects: Vec<Choice>,
}

/// The request form's default expiry, in days from today.
const DEFAULT_DAYS: i64 = 30;
const DAY: i64 = 86_400_000;

const STATUSES: [&str; 6] = [
    "requested",
    "approved",
    "active",
    "denied",
    "revoked",
    "expired",
];

async fn page(
    auth: &WebAuthorized<impl RequiredPermission>,
    state: &AppState,
    query: &QueryPairs,
    form: RequestForm,
    error: Option<String>,
) -> WebResult<ExceptionsPage> {
    let now = state.now();
    let store = state.store();
    let status = query
        .get("status")
        .filter(|s| STATUSES.contains(s))
        .unwrap_or("")
        .to_owned();
    // "active" = in force now; "expired" = approved but past its expiry (read in
    // Rust from the approved ones: expiry is a fact about `now`, not a stored status).
    let filter = ExceptionFilter {
        status: match status.as_str() {
            "" | "active" => None,
            "expired" => Some(ExceptionStatus::Approved),
            s => s.parse().ok(),
        },
        active_at: (status == "active").then_some(now),
        ..ExceptionFilter::default()
    };
    let number = query.page_number();
    let found = if status == "expired" {
        let all = store
            .list_exceptions(
                &filter,
                rampart_store::Page {
                    limit: u32::MAX,
                    offset: 0,
                },
            )
            .await?;
        let expired: Vec<ExceptionRecord> = all
            .items
            .into_iter()
            .filter(|r| r.exception.effective_status(now) == EffectiveStatus::Expired)
            .collect();
        let window = page_window(number, PAGE_SIZE);
        rampart_store::Paged {
            total: expired.len() as u64,
            items: expired
                .into_iter()
                .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
                .take(PAGE_SIZE as usize)
                .collect(),
        }
    } else {
        store
            .list_exceptions(&filter, page_window(number, PAGE_SIZE))
            .await?
    };
    let projects = store.list_projects().await?;
    let names: BTreeMap<String, String> = projects
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let may_decide = auth.may(state, ExceptionsDecide::PERMISSION);
    let rows = found
        .items
        .into_iter()
        .map(|r| {
            let e = r.exception;
            let effective = e.effective_status(now);
            let (scope, scope_href) = match &e.scope {
                ExceptionScope::Host { host_id } => {
                    (format!("host {host_id}"), Some(format!("/hosts/{host_id}")))
                }
                ExceptionScope::Project { project_id } => (
                    format!("project {}", names.get(project_id).unwrap_or(project_id)),
                    Some(format!("/projects/{project_id}")),
                ),
                ExceptionScope::Estate => ("estate".into(), None),
            };
            Row {
                can_decide: may_decide && effective == EffectiveStatus::Requested,
                can_revoke: may_decide
                    && matches!(
                        e.status,
                        ExceptionStatus::Requested | ExceptionStatus::Approved
                    )
                    && effective != EffectiveStatus::Expired,
                status: effective.as_str(),
                requested: format!("{}, {}", r.requested_by_name, datetime(e.requested_at)),
                decided: match (r.decided_by_name, e.decided_at) {
                    (Some(by), Some(at)) => format!("{by}, {}", datetime(at)),
                    _ => String::new(),
                },
                expires_at: datetime(e.expires_at),
                ticket: e.ticket.unwrap_or_default(),
                reason: e.reason,
                advisory: e.advisory,
                scope,
                scope_href,
                id: e.id,
            }
        })
        .collect();
    let pager = Pager::new(found.total, number, PAGE_SIZE, |n| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !status.is_empty() {
            q.append_pair("status", &status);
        }
        q.append_pair("page", &n.to_string());
        format!("/exceptions?{}", q.finish())
    });
    let notice = match (query.get("done"), query.get("id")) {
        (Some("requested"), Some(id)) => Some(format!(
            "Exception {id} requested. Another person must approve it before it applies."
        )),
        (Some(done @ ("approved" | "denied" | "revoked")), Some(id)) => {
            Some(format!("Exception {id} {done}."))
        }
        _ => None,
    };
    Ok(ExceptionsPage {
        chrome: auth.chrome(state, "/exceptions"),
        notice,
        error,
        statuses: STATUSES
            .iter()
            .map(|s| Choice {
                value: (*s).to_owned(),
                label: (*s).to_owned(),
                selected: *s == status,
            })
            .collect(),
        status,
        rows,
        pager,
        may_request: auth.may(state, ExceptionsRequest::PERMISSION),
        may_decide,
        projects: projects
            .into_iter()
            .map(|p| Choice {
                selected: p.id == form.project || p.name == form.project,
                value: p.id,
                label: p.name,
            })
            .collect(),
        form,
    })
}

pub(super) async fn list(
    auth: WebAuthorized<ExceptionsRead>,
    State(state): State<AppState>,
    query: QueryPairs,
) -> WebResult<Response> {
    let value = |k: &str| query.get(k).unwrap_or("").to_owned();
    let form = RequestForm {
        advisory: value("advisory"),
        scope: query.get("scope").unwrap_or("host").to_owned(),
        host: value("host"),
        project: value("project"),
        // A month ahead unless the link says otherwise: the form works without typing
        // a date, and no exception is requested open-ended.
        expires: query.get("expires").map_or_else(
            || crate::api::compliance::date_of_day(state.now().div_euclid(DAY) + DEFAULT_DAYS),
            str::to_owned,
        ),
        ..RequestForm::default()
    };
    Ok(Html(page(&auth, &state, &query, form, None).await?).into_response())
}

/// Submits a request through `api::exceptions::request`; a malformed one comes back
/// as the form with what was wrong (400).
pub(super) async fn request_form(
    auth: WebAuthorized<ExceptionsRequest>,
    State(state): State<AppState>,
    form: FormData,
) -> WebResult<Response> {
    let value = |k: &str| form.get(k).unwrap_or("").to_owned();
    let echo = RequestForm {
        advisory: value("advisory"),
        scope: value("scope"),
        host: value("host"),
        project: value("project"),
        reason: value("reason"),
        ticket: value("ticket"),
        expires: value("expires"),
    };
    let refused = |message: String, echo: RequestForm| {
        let auth = &auth;
        let state = &state;
        async move {
            let query = QueryPairs(Vec::new());
            let page = page(auth, state, &query, echo, Some(message)).await?;
            Ok::<Response, WebError>((StatusCode::BAD_REQUEST, Html(page)).into_response())
        }
    };
    let Some(expires_at) = end_of_date(&echo.expires) else {
        return refused("Give the expiry as a date (YYYY-MM-DD).".into(), echo).await;
    };
    let scope = match echo.scope.as_str() {
        "host" => ScopeView {
            kind: "host".into(),
            host_id: Some(echo.host.clone()),
            project_id: None,
        },
        "project" => ScopeView {
            kind: "project".into(),
            host_id: None,
            project_id: Some(echo.project.clone()),
        },
        "estate" => ScopeView {
            kind: "estate".into(),
            host_id: None,
            project_id: None,
        },
        _ => return refused("Choose where the exception applies.".into(), echo).await,
    };
    let req = RequestException {
        advisory: echo.advisory.clone(),
        scope,
        reason: echo.reason.clone(),
        ticket: (!echo.ticket.is_empty()).then(|| echo.ticket.clone()),
        expires_at,
    };
    match request(&state, &auth.caller, req).await {
        Ok(record) => Ok(see_other(&format!(
            "/exceptions?status=requested&done=requested&id={0}#{0}",
            record.exception.id
        ))),
        Err(ApiError::BadRequest(message)) => refused(capitalise(&message), echo).await,
        Err(ApiError::NotFound(what)) => {
            refused(format!("No such {what} for the scope."), echo).await
        }
        Err(e) => Err(e.into()),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
}

async fn decided(
    state: &AppState,
    auth: &WebAuthorized<ExceptionsDecide>,
    id: &str,
    decision: ExceptionDecision,
) -> WebResult<Response> {
    match decide(state, &auth.caller, id, decision).await {
        Ok(record) => {
            let done = match decision {
                ExceptionDecision::Approve => "approved",
                ExceptionDecision::Deny => "denied",
                ExceptionDecision::Revoke => "revoked",
            };
            Ok(see_other(&format!(
                "/exceptions?done={done}&id={0}#{0}",
                record.exception.id
            )))
        }
        Err(ApiError::Forbidden(reason)) => Err(WebError::Forbidden(format!(
            "You cannot approve exception {id}: {reason}. Ask someone else with the right \
             to approve exceptions."
        ))),
        Err(ApiError::Conflict(reason)) => Err(WebError::Status(
            StatusCode::CONFLICT,
            format!("Exception {id} cannot be changed: {reason}."),
        )),
        Err(ApiError::NotFound(_)) => Err(WebError::NotFound("exception".into())),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn approve(
    auth: WebAuthorized<ExceptionsDecide>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    decided(&state, &auth, &id, ExceptionDecision::Approve).await
}

pub(super) async fn deny(
    auth: WebAuthorized<ExceptionsDecide>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    decided(&state, &auth, &id, ExceptionDecision::Deny).await
}

pub(super) async fn revoke(
    auth: WebAuthorized<ExceptionsDecide>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    decided(&state, &auth, &id, ExceptionDecision::Revoke).await
}
