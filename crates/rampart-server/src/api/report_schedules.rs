//! Scheduled reports: CRUD, their runs, and "send now". A schedule names a report
//! (`compliance` or `findings`), a scope (a project or the estate), a format, a cron
//! expression in an IANA time zone and the notification channels that receive it; the
//! runner (`crate::report_schedules`) renders and queues it when due. Everything is
//! validated on write (a bad cron or time zone is a 400 saying what is wrong), so the
//! runner only meets schedules that can run.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_reports::Format;
use rampart_store::{ReportRun, ReportSchedule, ReportScheduleSpec};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::reports::ReportKind;
use super::{Json, List, Query};
use crate::auth::{
    Authorized, ReportSchedulesCreate, ReportSchedulesDelete, ReportSchedulesUpdate, ReportsRead,
};
use crate::report_schedules::{next_run, send_now};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(get_schedule, replace_schedule, delete_schedule))
        .routes(routes!(list_runs))
        .routes(routes!(run_schedule))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ScheduleView {
    id: String,
    name: String,
    /// `compliance` or `findings`.
    report: String,
    /// The project the report covers; `null` for the whole estate.
    project_id: Option<String>,
    /// `csv`, `json` or `pdf`.
    format: String,
    /// Five-field cron expression, evaluated in `timezone`.
    cron: String,
    /// IANA time zone name.
    timezone: String,
    channel_ids: Vec<String>,
    enabled: bool,
    created_by: String,
    created_at: i64,
    updated_at: i64,
    /// When it next runs (Unix ms); `null` while disabled.
    next_run_at: Option<i64>,
}

impl From<ReportSchedule> for ScheduleView {
    fn from(s: ReportSchedule) -> ScheduleView {
        ScheduleView {
            id: s.id,
            name: s.name,
            report: s.report,
            project_id: s.project_id,
            format: s.format,
            cron: s.cron,
            timezone: s.timezone,
            channel_ids: s.channel_ids,
            enabled: s.enabled,
            created_by: s.created_by,
            created_at: s.created_at,
            updated_at: s.updated_at,
            next_run_at: s.next_run_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct RunView {
    id: String,
    schedule_id: String,
    started_at: i64,
    finished_at: Option<i64>,
    /// `running`, `queued` (rendered; its event is in the notification outbox, whose
    /// deliveries show whether each mail went out) or `failed`.
    status: String,
    /// Why it failed.
    error: Option<String>,
    /// The `report.ready` event queued (see `/api/v1/notification-deliveries`).
    event_id: Option<String>,
    /// Size of the attached report in bytes.
    bytes: Option<i64>,
    /// The summary sent in the message body.
    summary: Option<String>,
}

impl From<ReportRun> for RunView {
    fn from(r: ReportRun) -> RunView {
        RunView {
            id: r.id,
            schedule_id: r.schedule_id,
            started_at: r.started_at,
            finished_at: r.finished_at,
            status: r.status,
            error: r.error,
            event_id: r.event_id,
            bytes: r.bytes,
            summary: r.summary,
        }
    }
}

/// A schedule's settings, for create and replace.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScheduleRequest {
    /// Shown in the mail's subject.
    #[schema(value_type = super::params::Text100)]
    name: String,
    #[schema(value_type = super::params::ReportKind)]
    report: String,
    /// Project id or name; absent for the whole estate.
    project: Option<String>,
    /// `pdf` by default.
    #[serde(default = "pdf")]
    #[schema(value_type = super::params::ReportFormat)]
    format: String,
    /// Five-field cron expression (`0 7 * * MON`) or a nickname (`@weekly`).
    #[schema(min_length = 1)]
    cron: String,
    /// IANA time zone the cron expression is read in (default `UTC`).
    #[serde(default = "utc")]
    timezone: String,
    /// Notification channels that receive it (e-mail channels attach the file).
    channel_ids: Vec<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn pdf() -> String {
    "pdf".into()
}

fn utc() -> String {
    "UTC".into()
}

fn yes() -> bool {
    true
}

/// The request checked (each problem a 400 naming it), with the project resolved to
/// its id and the next run computed.
struct Checked {
    project_id: Option<String>,
    next_run_at: Option<i64>,
}

async fn check(state: &AppState, req: &ScheduleRequest) -> ApiResult<Checked> {
    let name = req.name.trim();
    if name.is_empty() || req.name.chars().count() > 100 || req.name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name must be 1-100 characters without control characters",
        ));
    }
    req.report
        .parse::<ReportKind>()
        .map_err(ApiError::bad_request)?;
    req.format
        .parse::<Format>()
        .map_err(ApiError::bad_request)?;
    let next = next_run(&req.cron, &req.timezone, state.now())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if req.channel_ids.is_empty() {
        return Err(ApiError::bad_request(
            "channel_ids must name at least one notification channel",
        ));
    }
    for id in &req.channel_ids {
        match state.store().get_channel(id).await {
            Err(rampart_store::Error::NotFound { .. }) => {
                return Err(ApiError::bad_request(format!(
                    "notification channel {id:?} does not exist"
                )));
            }
            other => {
                other?;
            }
        }
    }
    let project_id = match &req.project {
        None => None,
        Some(p) => match super::reports::project(state, p).await {
            Ok(project) => Some(project.id),
            Err(ApiError::NotFound(_)) => {
                return Err(ApiError::bad_request(format!(
                    "project {p:?} does not exist"
                )));
            }
            Err(e) => return Err(e),
        },
    };
    Ok(Checked {
        project_id,
        next_run_at: req.enabled.then_some(next),
    })
}

fn spec<'a>(req: &'a ScheduleRequest, checked: &'a Checked) -> ReportScheduleSpec<'a> {
    ReportScheduleSpec {
        name: req.name.trim(),
        report: &req.report,
        project_id: checked.project_id.as_deref(),
        format: &req.format,
        cron: req.cron.trim(),
        timezone: &req.timezone,
        channel_ids: &req.channel_ids,
        enabled: req.enabled,
        next_run_at: checked.next_run_at,
    }
}

/// Every schedule, by name.
#[utoipa::path(get, path = "/", tag = "reports", params(("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<ScheduleView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_schedules(
    _auth: Authorized<ReportsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<ScheduleView>>> {
    let page = query.only(&[])?.page()?;
    let all = state.store().list_report_schedules().await?;
    Ok(Json(List::paged(
        all.into_iter().map(ScheduleView::from).collect(),
        page,
    )))
}

/// Creates a schedule; it first runs at the next occurrence of `cron` after now.
#[utoipa::path(post, path = "/", tag = "reports", request_body = ScheduleRequest, responses(
    (status = 201, body = ScheduleView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn create_schedule(
    auth: Authorized<ReportSchedulesCreate>,
    State(state): State<AppState>,
    Json(req): Json<ScheduleRequest>,
) -> ApiResult<(StatusCode, Json<ScheduleView>)> {
    let checked = check(&state, &req).await?;
    let schedule = state
        .store()
        .create_report_schedule(spec(&req, &checked), &auth.user.name, state.now())
        .await?;
    tracing::info!(by = %auth.user.name, schedule = %schedule.name, cron = %schedule.cron, timezone = %schedule.timezone, "report schedule created");
    Ok((StatusCode::CREATED, Json(schedule.into())))
}

/// One schedule.
#[utoipa::path(get, path = "/{id}", tag = "reports", params(("id" = String, Path)), responses(
    (status = 200, body = ScheduleView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_schedule(
    _auth: Authorized<ReportsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ScheduleView>> {
    Ok(Json(state.store().get_report_schedule(&id).await?.into()))
}

/// Replaces a schedule's settings; its next run is recomputed from now.
#[utoipa::path(put, path = "/{id}", tag = "reports", params(("id" = String, Path)), request_body = ScheduleRequest, responses(
    (status = 200, body = ScheduleView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn replace_schedule(
    auth: Authorized<ReportSchedulesUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<ScheduleRequest>,
) -> ApiResult<Json<ScheduleView>> {
    state.store().get_report_schedule(&id).await?;
    let checked = check(&state, &req).await?;
    let schedule = state
        .store()
        .update_report_schedule(&id, spec(&req, &checked), state.now())
        .await?;
    tracing::info!(by = %auth.user.name, schedule = %schedule.name, "report schedule updated");
    Ok(Json(schedule.into()))
}

/// Deletes a schedule and its runs.
#[utoipa::path(delete, path = "/{id}", tag = "reports", params(("id" = String, Path)), responses(
    (status = 204, description = "deleted"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn delete_schedule(
    auth: Authorized<ReportSchedulesDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.store().delete_report_schedule(&id).await?;
    tracing::info!(by = %auth.user.name, schedule_id = %id, "report schedule deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// A schedule's runs, newest first.
#[utoipa::path(get, path = "/{id}/runs", tag = "reports", params(("id" = String, Path), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<RunView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_runs(
    _auth: Authorized<ReportsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<List<RunView>>> {
    let page = query.only(&[])?.page()?;
    state.store().get_report_schedule(&id).await?;
    let runs = state.store().list_report_runs(&id, page).await?;
    Ok(Json(List::new(
        runs.items.into_iter().map(RunView::from).collect(),
        runs.total,
        page,
    )))
}

/// Sends the report now: renders it and queues it to the schedule's channels at once
/// (the dispatcher mails it), leaving the schedule's next run where it was. Answers
/// with the run: `queued` with its event id, or `failed` with the reason.
#[utoipa::path(post, path = "/{id}/run", tag = "reports", params(("id" = String, Path)), responses(
    (status = 200, body = RunView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn run_schedule(
    auth: Authorized<ReportSchedulesUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<RunView>> {
    let schedule = state.store().get_report_schedule(&id).await?;
    let run = send_now(&state, &schedule).await?;
    tracing::info!(by = %auth.user.name, schedule = %schedule.name, run = %run.id, status = %run.status, "report sent on request");
    Ok(Json(run.into()))
}
