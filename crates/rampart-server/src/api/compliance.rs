//! Compliance over the API: the estate and per-project summaries, each host's state and
//! reasons, the 30/90-day trend, unauthorized software, scans ("scan now"), and each
//! project's standard and software policy.
//!
//! Reads refresh the snapshots that are due first (at most
//! [`crate::compliance_engine::READ_REFRESH_LIMIT`] hosts; the scheduler does the rest),
//! so a change made a moment ago (an exception approved, a standard tightened, an
//! exception expired) shows without waiting for the next tick. A host's own compliance
//! is evaluated live.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_core::compliance::{DAY, Standard, State as ComplianceState};
use rampart_core::software_policy::SoftwarePolicy;
use rampart_store::{
    ComplianceFilter, ComplianceSummary, HostCompliance, Project, ProjectSoftwarePolicy,
    ProjectStandard, ScanRun, ScanTrigger, TrendPoint, UnauthorizedFilter, UnauthorizedPackage,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{
    Authorized, Caller, ComplianceRead, ComplianceScan, ProjectsRead, ProjectsUpdate,
};
use crate::compliance_engine::READ_REFRESH_LIMIT;
use crate::{ApiError, ApiResult, AppState};

/// `/api/v1/compliance`.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(summary))
        .routes(routes!(trend))
        .routes(routes!(list_host_compliance))
        .routes(routes!(list_unauthorized))
}

/// `/api/v1/scans`.
pub(super) fn scans_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_scans, scan_now))
        .routes(routes!(get_scan))
}

/// Routes under other resources' paths (`/api/v1/hosts/{id}/…`,
/// `/api/v1/projects/{id}/…`), merged with their full paths so those modules stay
/// untouched.
pub(super) fn nested_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(host_compliance))
        .routes(routes!(host_unauthorized))
        .routes(routes!(get_standard, put_standard))
        .routes(routes!(get_software_policy, put_software_policy))
}

/// Totals over a set of hosts, from their last evaluations.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub(crate) struct SummaryView {
    hosts: u64,
    /// Hosts evaluated at least once.
    evaluated: u64,
    compliant: u64,
    non_compliant: u64,
    /// Hosts whose agent stopped checking in (counted in `non_compliant` too).
    stale: u64,
    /// Open critical and high findings, exceptions excluded.
    critical: u64,
    high: u64,
    pending_security_updates: u64,
}

impl From<ComplianceSummary> for SummaryView {
    fn from(s: ComplianceSummary) -> SummaryView {
        SummaryView {
            hosts: s.hosts,
            evaluated: s.evaluated,
            compliant: s.compliant,
            non_compliant: s.non_compliant,
            stale: s.stale,
            critical: s.critical,
            high: s.high,
            pending_security_updates: s.pending_security,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ProjectSummaryView {
    project_id: String,
    name: String,
    #[serde(flatten)]
    summary: SummaryView,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ComplianceView {
    estate: SummaryView,
    projects: Vec<ProjectSummaryView>,
    evaluated_at: i64,
}

/// A project's standard.
#[derive(Serialize, Deserialize, ToSchema, Clone, Copy, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub(crate) struct StandardView {
    /// Longest a security update may stay pending after its release (days; default 7).
    #[schema(minimum = 0, maximum = 3650)]
    max_pending_security_days: u32,
    /// Open critical findings allowed, exceptions excluded (default 0).
    #[schema(minimum = 0, maximum = 1000000)]
    critical_findings_allowed: u32,
    /// Days without a package change before a host is flagged (default 90).
    #[schema(minimum = 1, maximum = 3650)]
    last_updated_alert_days: u32,
    /// Missed check-ins before a host is stale (default 3).
    #[schema(minimum = 1, maximum = 1000)]
    stale_after_checkins: u32,
    /// Expected check-in interval, seconds (default 60).
    #[schema(minimum = 1, maximum = 86400)]
    checkin_interval_secs: u32,
    /// Full re-evaluation interval, hours (default 168, weekly).
    #[schema(minimum = 1, maximum = 8784)]
    full_scan_interval_hours: u32,
}

impl From<Standard> for StandardView {
    fn from(s: Standard) -> StandardView {
        StandardView {
            max_pending_security_days: s.max_pending_security_days,
            critical_findings_allowed: s.critical_findings_allowed,
            last_updated_alert_days: s.last_updated_alert_days,
            stale_after_checkins: s.stale_after_checkins,
            checkin_interval_secs: s.checkin_interval_secs,
            full_scan_interval_hours: s.full_scan_interval_hours,
        }
    }
}

impl From<StandardView> for Standard {
    fn from(s: StandardView) -> Standard {
        Standard {
            max_pending_security_days: s.max_pending_security_days,
            critical_findings_allowed: s.critical_findings_allowed,
            last_updated_alert_days: s.last_updated_alert_days,
            stale_after_checkins: s.stale_after_checkins,
            checkin_interval_secs: s.checkin_interval_secs,
            full_scan_interval_hours: s.full_scan_interval_hours,
        }
    }
}

/// A project's standard as stored: the [`StandardView`] fields, spelled out rather
/// than flattened, because the request type refuses unknown fields and a flattened
/// copy would carry that refusal into this answer's schema.
#[derive(Serialize, ToSchema)]
pub(crate) struct ProjectStandardView {
    project_id: String,
    max_pending_security_days: u32,
    critical_findings_allowed: u32,
    last_updated_alert_days: u32,
    stale_after_checkins: u32,
    checkin_interval_secs: u32,
    full_scan_interval_hours: u32,
    /// `false`: the project uses the defaults.
    configured: bool,
    updated_at: Option<i64>,
}

impl ProjectStandardView {
    fn new(project_id: String, p: ProjectStandard) -> ProjectStandardView {
        let s = p.standard;
        ProjectStandardView {
            project_id,
            max_pending_security_days: s.max_pending_security_days,
            critical_findings_allowed: s.critical_findings_allowed,
            last_updated_alert_days: s.last_updated_alert_days,
            stale_after_checkins: s.stale_after_checkins,
            checkin_interval_secs: s.checkin_interval_secs,
            full_scan_interval_hours: s.full_scan_interval_hours,
            configured: p.configured,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SoftwarePolicyBody {
    /// Package-name globs (`*`, `?`, `[a-z]`, `[!a-z]`, `\x`); when non-empty, anything
    /// else is unauthorized.
    #[serde(default)]
    #[schema(value_type = Vec<super::params::Glob>)]
    allow: Vec<String>,
    /// Globs always unauthorized (deny wins over allow).
    #[serde(default)]
    #[schema(value_type = Vec<super::params::Glob>)]
    deny: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct SoftwarePolicyView {
    project_id: String,
    allow: Vec<String>,
    deny: Vec<String>,
    updated_at: Option<i64>,
}

impl From<ProjectSoftwarePolicy> for SoftwarePolicyView {
    fn from(p: ProjectSoftwarePolicy) -> SoftwarePolicyView {
        SoftwarePolicyView {
            project_id: p.project_id,
            allow: p.policy.allow,
            deny: p.policy.deny,
            updated_at: p.updated_at,
        }
    }
}

/// A host's compliance with every reason.
#[derive(Serialize, ToSchema)]
pub(crate) struct HostComplianceView {
    host_id: String,
    hostname: String,
    /// `compliant` or `non_compliant` (stale and never-inventoried hosts are
    /// non-compliant, with the reason).
    state: String,
    stale: bool,
    /// Every reason: `{"kind": "stale" | "never_inventoried" | "critical_findings" |
    /// "overdue_security_update" | "not_updated" | "unauthorized_package", …details}`,
    /// plus `message` in words.
    #[schema(value_type = Vec<Object>)]
    reasons: Vec<serde_json::Value>,
    /// Findings accepted by an exception in force.
    #[schema(value_type = Vec<Object>)]
    excepted: Vec<serde_json::Value>,
    critical: u64,
    high: u64,
    pending_security_updates: u64,
    evaluated_at: i64,
    /// When the state last changed.
    state_since: i64,
    /// When time alone changes the answer next (an update becomes overdue, the host
    /// goes stale, an exception expires).
    next_evaluation_at: Option<i64>,
}

impl From<HostCompliance> for HostComplianceView {
    fn from(c: HostCompliance) -> HostComplianceView {
        HostComplianceView {
            host_id: c.host_id,
            hostname: c.hostname,
            state: c.state.as_str().to_owned(),
            stale: c.stale,
            reasons: c
                .reasons
                .iter()
                .map(|r| {
                    let mut v = serde_json::to_value(r).unwrap_or_default();
                    if let Some(obj) = v.as_object_mut() {
                        obj.insert("message".into(), r.to_string().into());
                    }
                    v
                })
                .collect(),
            excepted: c
                .excepted
                .iter()
                .map(|e| serde_json::to_value(e).unwrap_or_default())
                .collect(),
            critical: c.critical,
            high: c.high,
            pending_security_updates: c.pending_security,
            evaluated_at: c.evaluated_at,
            state_since: c.state_since,
            next_evaluation_at: c.next_evaluation_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TrendPointView {
    /// Days since 1970-01-01, UTC.
    day: i64,
    /// `YYYY-MM-DD`.
    date: String,
    hosts: u64,
    non_compliant: u64,
    critical: u64,
    high: u64,
    pending_security_updates: u64,
}

impl From<TrendPoint> for TrendPointView {
    fn from(p: TrendPoint) -> TrendPointView {
        TrendPointView {
            day: p.day,
            date: date_of_day(p.day),
            hosts: p.hosts,
            non_compliant: p.non_compliant,
            critical: p.critical,
            high: p.high,
            pending_security_updates: p.pending_security,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct TrendView {
    /// `null` for the estate.
    project_id: Option<String>,
    days: u32,
    /// Oldest first; days the server did not record are absent.
    points: Vec<TrendPointView>,
}

/// A package a software policy refuses, on one host.
#[derive(Serialize, ToSchema)]
pub(crate) struct UnauthorizedView {
    host_id: String,
    hostname: String,
    package: String,
    version: String,
    project_id: Option<String>,
    /// Why it is refused.
    rule: String,
    /// When Rampart first found it (server clock, ms).
    first_seen: i64,
    /// When the agent observed the inventory that first contained it (agent clock, ms).
    observed_at: Option<i64>,
    /// `first_seen - observed_at`, ms.
    time_to_detect_ms: Option<i64>,
}

impl From<UnauthorizedPackage> for UnauthorizedView {
    fn from(u: UnauthorizedPackage) -> UnauthorizedView {
        UnauthorizedView {
            time_to_detect_ms: u.time_to_detect(),
            host_id: u.host_id,
            hostname: u.hostname,
            package: u.package,
            version: u.version,
            project_id: u.project_id,
            rule: u.rule,
            first_seen: u.first_seen,
            observed_at: u.observed_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ScanView {
    id: String,
    /// `null`: the whole estate.
    project_id: Option<String>,
    /// `schedule` or `manual`.
    trigger: String,
    requested_by: Option<String>,
    started_at: i64,
    finished_at: Option<i64>,
    hosts: u64,
    non_compliant: u64,
    error: Option<String>,
}

impl From<ScanRun> for ScanView {
    fn from(s: ScanRun) -> ScanView {
        ScanView {
            id: s.id,
            project_id: s.project_id,
            trigger: s.trigger.as_str().to_owned(),
            requested_by: s.requested_by,
            started_at: s.started_at,
            finished_at: s.finished_at,
            hosts: s.hosts,
            non_compliant: s.non_compliant,
            error: s.error,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanRequest {
    /// Project id or name; absent: the whole estate.
    #[serde(default)]
    project: Option<String>,
}

/// `YYYY-MM-DD` of a day number (inverse of Hinnant's days-from-civil).
pub(crate) fn date_of_day(day: i64) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Refreshes the snapshots that are due (at most [`READ_REFRESH_LIMIT`]) before a read,
/// as every compliance read does; returns the `now` it used.
pub(crate) async fn refresh(state: &AppState) -> ApiResult<i64> {
    let now = state.now();
    state
        .compliance()
        .refresh_due(now, READ_REFRESH_LIMIT)
        .await?;
    Ok(now)
}

/// The estate's compliance and each project's (`project`: only that one).
#[utoipa::path(get, path = "/", tag = "compliance", params(("project" = Option<String>, Query)), responses(
    (status = 200, body = ComplianceView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn summary(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<ComplianceView>> {
    let query = query.only(&["project"])?;
    let only = super::hosts::project_id(&state, query.one("project")?).await?;
    let summaries = summaries(&state, only.as_deref()).await?;
    Ok(Json(ComplianceView {
        estate: summaries.estate.into(),
        projects: summaries
            .projects
            .into_iter()
            .map(|(p, summary)| ProjectSummaryView {
                summary: summary.into(),
                project_id: p.id,
                name: p.name,
            })
            .collect(),
        evaluated_at: summaries.evaluated_at,
    }))
}

/// The estate's compliance totals and each project's (`only`: that project alone).
pub(crate) struct Summaries {
    pub(crate) estate: ComplianceSummary,
    pub(crate) projects: Vec<(Project, ComplianceSummary)>,
    pub(crate) evaluated_at: i64,
}

/// What `GET /api/v1/compliance` answers, after refreshing the due snapshots: the
/// web dashboard reads the same function, so its numbers are the API's.
pub(crate) async fn summaries(state: &AppState, only: Option<&str>) -> ApiResult<Summaries> {
    let now = refresh(state).await?;
    let store = state.store();
    let estate = store.compliance_summary(None).await?;
    let mut projects = Vec::new();
    for p in store.list_projects().await? {
        if only.is_some_and(|id| id != p.id) {
            continue;
        }
        let summary = store.compliance_summary(Some(&p.id)).await?;
        projects.push((p, summary));
    }
    Ok(Summaries {
        estate,
        projects,
        evaluated_at: now,
    })
}

/// Daily compliance figures of the estate or a project over the last `days` days
/// (default 30, at most 366), for trend charts.
#[utoipa::path(get, path = "/trend", tag = "compliance", params(
    ("days" = Option<u32>, Query, minimum = 1, maximum = 366), ("project" = Option<String>, Query),
), responses(
    (status = 200, body = TrendView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn trend(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<TrendView>> {
    let query = query.only(&["days", "project"])?;
    let days = query.parsed::<u32>("days")?.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::bad_request("days must be between 1 and 366"));
    }
    let project_id = super::hosts::project_id(&state, query.one("project")?).await?;
    let points = trend_points(&state, project_id.as_deref(), days).await?;
    Ok(Json(TrendView {
        project_id,
        days,
        points: points.into_iter().map(TrendPointView::from).collect(),
    }))
}

/// The daily figures of the last `days` days (today included), oldest first.
pub(crate) async fn trend_points(
    state: &AppState,
    project_id: Option<&str>,
    days: u32,
) -> ApiResult<Vec<TrendPoint>> {
    Ok(state
        .store()
        .trend(project_id, first_trend_day(state.now(), days))
        .await?)
}

/// The first day (days since 1970-01-01) of a `days`-day window ending today.
pub(crate) fn first_trend_day(now: i64, days: u32) -> i64 {
    now.div_euclid(DAY) - i64::from(days) + 1
}

/// Hosts with their last evaluation, non-compliant first. Filters: `project` (id or
/// name), `state` (`compliant`, `non_compliant`), `stale`, `limit`, `offset`.
#[utoipa::path(get, path = "/hosts", tag = "compliance", params(
    ("project" = Option<String>, Query), ("state" = Option<super::params::ComplianceState>, Query),
    ("stale" = Option<bool>, Query), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<HostComplianceView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_host_compliance(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<HostComplianceView>>> {
    let query = query.only(&["project", "state", "stale"])?;
    let page = query.page()?;
    let filter = ComplianceFilter {
        project_id: super::hosts::project_id(&state, query.one("project")?).await?,
        state: query.parsed::<ComplianceState>("state")?,
        stale: query.parsed::<bool>("stale")?,
    };
    refresh(&state).await?;
    let found = state.store().list_host_compliance(&filter, page).await?;
    Ok(Json(List::new(
        found
            .items
            .into_iter()
            .map(HostComplianceView::from)
            .collect(),
        found.total,
        page,
    )))
}

/// Unauthorized packages across the estate with time-to-detect. Filters: `host`,
/// `project` (id or name), `package`, `limit`, `offset`.
#[utoipa::path(get, path = "/unauthorized", tag = "compliance", params(
    ("host" = Option<String>, Query), ("project" = Option<String>, Query),
    ("package" = Option<String>, Query), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<UnauthorizedView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_unauthorized(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<UnauthorizedView>>> {
    let query = query.only(&["host", "project", "package"])?;
    let page = query.page()?;
    let filter = UnauthorizedFilter {
        host_id: query.one("host")?,
        project_id: super::hosts::project_id(&state, query.one("project")?).await?,
        package: query.one("package")?,
    };
    refresh(&state).await?;
    let found = state.store().list_unauthorized(&filter, page).await?;
    Ok(Json(List::new(
        found
            .items
            .into_iter()
            .map(UnauthorizedView::from)
            .collect(),
        found.total,
        page,
    )))
}

/// One host's compliance, evaluated now, with every reason.
#[utoipa::path(get, path = "/api/v1/hosts/{id}/compliance", tag = "compliance", params(("id" = String, Path)), responses(
    (status = 200, body = HostComplianceView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn host_compliance(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<HostComplianceView>> {
    let now = state.now();
    state.compliance().evaluate_host(&id, now).await?;
    let snapshot = state
        .store()
        .host_compliance(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound("host".into()))?;
    Ok(Json(snapshot.into()))
}

/// One host's unauthorized packages with time-to-detect.
#[utoipa::path(get, path = "/api/v1/hosts/{id}/unauthorized", tag = "compliance", params(
    ("id" = String, Path), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<UnauthorizedView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn host_unauthorized(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<List<UnauthorizedView>>> {
    let page = query.only(&[])?.page()?;
    state.store().get_host(&id).await?;
    let filter = UnauthorizedFilter {
        host_id: Some(id),
        ..Default::default()
    };
    let found = state.store().list_unauthorized(&filter, page).await?;
    Ok(Json(List::new(
        found
            .items
            .into_iter()
            .map(UnauthorizedView::from)
            .collect(),
        found.total,
        page,
    )))
}

/// A project's compliance standard (the defaults until one is set).
#[utoipa::path(get, path = "/api/v1/projects/{id}/standard", tag = "projects", params(("id" = String, Path)), responses(
    (status = 200, body = ProjectStandardView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_standard(
    _auth: Authorized<ProjectsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ProjectStandardView>> {
    let id = project(&state, id).await?;
    let standard = state.store().project_standard(&id).await?;
    Ok(Json(ProjectStandardView::new(id, standard)))
}

/// Sets a project's standard (every field); its hosts are re-evaluated.
#[utoipa::path(put, path = "/api/v1/projects/{id}/standard", tag = "projects", params(("id" = String, Path)), request_body = StandardView, responses(
    (status = 200, body = ProjectStandardView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn put_standard(
    auth: Authorized<ProjectsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<StandardView>,
) -> ApiResult<Json<ProjectStandardView>> {
    let id = project(&state, id).await?;
    let stored = set_standard(&state, &auth.caller, &id, Standard::from(body)).await?;
    Ok(Json(ProjectStandardView::new(id, stored)))
}

/// Validates and stores a project's standard, then marks its hosts for re-evaluation:
/// shared by the API and the web form.
pub(crate) async fn set_standard(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    standard: Standard,
) -> ApiResult<ProjectStandard> {
    standard
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let now = state.now();
    let stored = state
        .store()
        .set_project_standard(project_id, &standard, now)
        .await?;
    state
        .compliance()
        .mark_due(None, Some(project_id), now)
        .await?;
    tracing::info!(by = %caller.user.name, %project_id, ?standard, "compliance standard set");
    Ok(stored)
}

/// A project's software policy (empty until set).
#[utoipa::path(get, path = "/api/v1/projects/{id}/software-policy", tag = "projects", params(("id" = String, Path)), responses(
    (status = 200, body = SoftwarePolicyView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_software_policy(
    _auth: Authorized<ProjectsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<SoftwarePolicyView>> {
    let id = project(&state, id).await?;
    Ok(Json(state.store().software_policy(&id).await?.into()))
}

/// Replaces a project's software policy (patterns checked first); its hosts are
/// re-evaluated.
#[utoipa::path(put, path = "/api/v1/projects/{id}/software-policy", tag = "projects", params(("id" = String, Path)), request_body = SoftwarePolicyBody, responses(
    (status = 200, body = SoftwarePolicyView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn put_software_policy(
    auth: Authorized<ProjectsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<SoftwarePolicyBody>,
) -> ApiResult<Json<SoftwarePolicyView>> {
    let id = project(&state, id).await?;
    let policy = SoftwarePolicy {
        allow: body.allow,
        deny: body.deny,
    };
    Ok(Json(
        set_software_policy(&state, &auth.caller, &id, policy)
            .await?
            .into(),
    ))
}

/// Checks every pattern, stores a project's software policy, then marks its hosts for
/// re-evaluation: shared by the API and the web form.
pub(crate) async fn set_software_policy(
    state: &AppState,
    caller: &Caller,
    project_id: &str,
    policy: SoftwarePolicy,
) -> ApiResult<ProjectSoftwarePolicy> {
    policy
        .compile()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let now = state.now();
    let stored = state
        .store()
        .set_software_policy(project_id, &policy, now)
        .await?;
    state
        .compliance()
        .mark_due(None, Some(project_id), now)
        .await?;
    tracing::info!(by = %caller.user.name, %project_id, "software policy set");
    Ok(stored)
}

/// Recent scans, newest first.
#[utoipa::path(get, path = "/", tag = "scans", params(("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<ScanView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_scans(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<ScanView>>> {
    let page = query.only(&[])?.page()?;
    let found = state.store().list_scans(page).await?;
    Ok(Json(List::new(
        found.items.into_iter().map(ScanView::from).collect(),
        found.total,
        page,
    )))
}

/// One scan.
#[utoipa::path(get, path = "/{id}", tag = "scans", params(("id" = String, Path)), responses(
    (status = 200, body = ScanView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_scan(
    _auth: Authorized<ComplianceRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ScanView>> {
    Ok(Json(state.store().get_scan(&id).await?.into()))
}

/// Scan now: re-matches every host's findings against the current advisories and
/// re-evaluates compliance, for one project (`project`, id or name) or the estate.
/// Answers when done, with the run.
#[utoipa::path(post, path = "/", tag = "scans", request_body = ScanRequest, responses(
    (status = 201, body = ScanView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn scan_now(
    auth: Authorized<ComplianceScan>,
    State(state): State<AppState>,
    Json(req): Json<ScanRequest>,
) -> ApiResult<(StatusCode, Json<ScanView>)> {
    let run = scan(&state, &auth.caller, req.project).await?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

/// Scan now for `project` (id or name; `None`: the estate), as `caller`: shared by the
/// API and the web's button. Answers when done.
pub(crate) async fn scan(
    state: &AppState,
    caller: &Caller,
    project: Option<String>,
) -> ApiResult<ScanRun> {
    let project_id = super::hosts::project_id(state, project).await?;
    let (run, transitions) = state
        .compliance()
        .scan(
            state.engine(),
            project_id.as_deref(),
            ScanTrigger::Manual,
            Some(&caller.user.name),
            state.now(),
        )
        .await?;
    tracing::info!(by = %caller.user.name, scan = %run.id, hosts = run.hosts, transitions = transitions.len(), "scan run");
    Ok(run)
}

/// A project given by id or name, as its id (404 when neither).
async fn project(state: &AppState, id_or_name: String) -> ApiResult<String> {
    Ok(super::hosts::project_id(state, Some(id_or_name))
        .await?
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_of_days() {
        assert_eq!(super::date_of_day(0), "1970-01-01");
        assert_eq!(super::date_of_day(20_454), "2026-01-01");
        assert_eq!(super::date_of_day(19_782), "2024-02-29");
    }

    /// The document's ranges are the domain's (`Standard::LIMITS`), field by field.
    #[test]
    fn the_standard_schema_states_the_domain_limits() {
        let schema =
            serde_json::to_value(<super::StandardView as utoipa::PartialSchema>::schema()).unwrap();
        for (field, min, max) in super::Standard::LIMITS {
            let p = &schema["properties"][field];
            assert_eq!(p["minimum"], min, "{field}: {p}");
            assert_eq!(p["maximum"], max, "{field}: {p}");
        }
    }
}
