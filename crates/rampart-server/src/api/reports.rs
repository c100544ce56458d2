//! Report downloads: the compliance report and the findings report, estate-wide or for
//! one project, as CSV, JSON or PDF (`rampart_reports` renders; this module maps the
//! store's data into its report types). Each answer is an attachment with a file name
//! naming the report, its scope and its time.
//!
//! Reports are whole, not paged: the store is read in a few estate-wide queries (hosts,
//! finding counts, update counts, projects) and rendering runs on the blocking pool, so
//! a 10,000-host PDF does not stall the async workers.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use rampart_core::compliance::State as ComplianceState;
use rampart_core::severity::SeverityLevel;
use rampart_reports::{
    ComplianceReport, ComplianceRow, ExceptionRef, FindingRow, FindingsReport, Format, HostState,
    Scope, SeverityCounts,
};
use rampart_store::{
    ComplianceFilter, CoveredFinding, ExceptionFilter, FindingFilter, Host, HostCompliance,
    HostFilter, Millis, Page, Project,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Query;
use crate::auth::{Authorized, ReportsRead};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(compliance_report))
        .routes(routes!(findings_report))
}

/// Everything: reports are one document, not pages.
const ALL: Page = Page {
    limit: u32::MAX,
    offset: 0,
};

/// The compliance report: one row per host in scope (hostname, id, projects, OS,
/// compliance state and reasons, open findings per severity, pending updates, last
/// check-in, last package change, exceptions in force) under a summary. `project` (id
/// or name) narrows it to the project's hosts; `format` is `csv`, `json` (default) or
/// `pdf`. The JSON shape is documented in `rampart_reports::json`.
#[utoipa::path(get, path = "/compliance", tag = "reports", params(
    ("project" = Option<String>, Query, description = "project id or name"),
    ("format" = Option<super::params::ReportFormat>, Query, description = "json by default"),
), responses(
    (status = 200, description = "the report, as an attachment", content(
        (String = "text/csv"), (Object = "application/json"), (Vec<u8> = "application/pdf")
    )),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn compliance_report(
    _auth: Authorized<ReportsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Response> {
    let query = query.only(&["project", "format"])?;
    let (scope, format) = scope_and_format(&state, &query).await?;
    let rendered = render_report(&state, ReportKind::Compliance, scope, None, format).await?;
    Ok(download(rendered))
}

/// The findings report: every open finding in scope (host, advisory, aliases, package,
/// installed and fixed version, severity, CVSS, first seen, the exception covering it)
/// worst first, under a summary by severity. `project` (id or name) and `severity`
/// (exact level) narrow it; `format` is `csv`, `json` (default) or `pdf`.
#[utoipa::path(get, path = "/findings", tag = "reports", params(
    ("project" = Option<String>, Query, description = "project id or name"),
    ("severity" = Option<super::params::Severity>, Query),
    ("format" = Option<super::params::ReportFormat>, Query, description = "json by default"),
), responses(
    (status = 200, description = "the report, as an attachment", content(
        (String = "text/csv"), (Object = "application/json"), (Vec<u8> = "application/pdf")
    )),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn findings_report(
    _auth: Authorized<ReportsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Response> {
    let query = query.only(&["project", "severity", "format"])?;
    let (scope, format) = scope_and_format(&state, &query).await?;
    let severity = query.parsed::<SeverityLevel>("severity")?;
    let rendered = render_report(&state, ReportKind::Findings, scope, severity, format).await?;
    Ok(download(rendered))
}

/// Which report: the two kinds a download or a schedule names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReportKind {
    Compliance,
    Findings,
}

impl ReportKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ReportKind::Compliance => "compliance",
            ReportKind::Findings => "findings",
        }
    }
}

impl std::str::FromStr for ReportKind {
    type Err = String;

    fn from_str(s: &str) -> Result<ReportKind, String> {
        match s {
            "compliance" => Ok(ReportKind::Compliance),
            "findings" => Ok(ReportKind::Findings),
            other => Err(format!(
                "unknown report {other:?} (expected compliance or findings)"
            )),
        }
    }
}

/// A rendered report: what a download answers with and what a scheduled run mails.
pub(crate) struct Rendered {
    pub bytes: Vec<u8>,
    pub format: Format,
    /// `rampart-compliance-estate-20261129T140300Z.pdf`.
    pub file_name: String,
    /// `Compliance report: project web`.
    pub title: String,
    /// The report's totals as plain text, one per line (the body of a mailed report);
    /// the same numbers the rendered file's summary shows.
    pub summary: String,
}

/// Builds the `kind` report for `scope` from the store as it is now and renders it in
/// `format` (on the blocking pool). `severity` narrows a findings report.
pub(crate) async fn render_report(
    state: &AppState,
    kind: ReportKind,
    scope: Scope,
    severity: Option<SeverityLevel>,
    format: Format,
) -> ApiResult<Rendered> {
    match kind {
        ReportKind::Compliance => {
            let report = compliance(state, scope).await?;
            let file_name = rampart_reports::file_name(
                "compliance",
                &report.scope,
                report.generated_at,
                format,
            );
            let title = format!("Compliance report: {}", report.scope.label());
            let summary = compliance_summary(&report);
            let bytes = render(move || rampart_reports::render_compliance(&report, format)).await?;
            Ok(Rendered {
                bytes,
                format,
                file_name,
                title,
                summary,
            })
        }
        ReportKind::Findings => {
            let report = findings(state, scope, severity).await?;
            let file_name =
                rampart_reports::file_name("findings", &report.scope, report.generated_at, format);
            let mut title = format!("Findings report: {}", report.scope.label());
            if let Some(level) = report.severity {
                title.push_str(&format!(", {} severity only", level.as_str()));
            }
            let summary = findings_summary(&report);
            let bytes = render(move || rampart_reports::render_findings(&report, format)).await?;
            Ok(Rendered {
                bytes,
                format,
                file_name,
                title,
                summary,
            })
        }
    }
}

/// `label: value` lines under a heading naming the scope and time.
fn summary_lines(heading: &str, generated_at: Millis, lines: &[(&str, u64)]) -> String {
    let mut text = format!(
        "{heading}, generated {}\n\n",
        rampart_reports::timestamp(generated_at)
    );
    for (label, value) in lines {
        text.push_str(&format!("{label}: {value}\n"));
    }
    text
}

fn compliance_summary(report: &ComplianceReport) -> String {
    let s = &report.summary;
    summary_lines(
        &format!("Compliance report: {}", report.scope.label()),
        report.generated_at,
        &[
            ("Hosts", s.hosts),
            ("Compliant hosts", s.compliant),
            ("Non-compliant hosts", s.non_compliant),
            ("Stale hosts", s.stale),
            ("Hosts without a verdict", s.unknown),
            ("Critical findings", s.findings.critical),
            ("High findings", s.findings.high),
            ("Medium findings", s.findings.medium),
            ("Low findings", s.findings.low),
            ("Pending security updates", s.pending_security_updates),
            ("Hosts with active exceptions", s.hosts_with_exceptions),
        ],
    )
}

fn findings_summary(report: &FindingsReport) -> String {
    let s = &report.summary;
    let b = &s.by_severity;
    summary_lines(
        &format!("Findings report: {}", report.scope.label()),
        report.generated_at,
        &[
            ("Findings", s.findings),
            ("Critical findings", b.critical),
            ("High findings", b.high),
            ("Medium findings", b.medium),
            ("Low findings", b.low),
            ("Findings of unknown severity", b.unknown),
            ("Hosts affected", s.hosts),
            ("Advisories", s.advisories),
            ("Covered by an exception", s.excepted),
        ],
    )
}

/// Reads `project` and `format` (and refuses paging).
async fn scope_and_format(state: &AppState, query: &Query) -> ApiResult<(Scope, Format)> {
    if query.one("limit")?.is_some() || query.one("offset")?.is_some() {
        return Err(ApiError::bad_request(
            "reports are not paged: limit and offset do not apply",
        ));
    }
    let format = query.parsed::<Format>("format")?.unwrap_or(Format::Json);
    let scope = match query.one("project")? {
        None => Scope::Estate,
        Some(p) => {
            let project = project(state, &p).await?;
            Scope::Project {
                id: project.id,
                name: project.name,
            }
        }
    };
    Ok((scope, format))
}

/// A project by id, else by name.
pub(crate) async fn project(state: &AppState, p: &str) -> ApiResult<Project> {
    match state.store().get_project(p).await {
        Err(rampart_store::Error::NotFound { .. }) => {
            match state.store().get_project_by_name(p).await {
                Err(rampart_store::Error::NotFound { .. }) => {
                    Err(ApiError::NotFound(format!("project {p:?}")))
                }
                other => Ok(other?),
            }
        }
        other => Ok(other?),
    }
}

/// Reads the hosts in scope and what is known about each: the compliance snapshot
/// (refreshed first for every host that is due, so a report never shows a verdict
/// older than what the API would answer now), open findings with exceptions applied,
/// pending updates, and the exceptions in force.
async fn compliance(state: &AppState, scope: Scope) -> ApiResult<ComplianceReport> {
    let store = state.store();
    let generated_at = state.now();
    state
        .compliance()
        .refresh_due(generated_at, u32::MAX)
        .await?;
    let project_id = match &scope {
        Scope::Estate => None,
        Scope::Project { id, .. } => Some(id.clone()),
    };
    let filter = HostFilter {
        project_id: project_id.clone(),
        ..HostFilter::default()
    };
    let hosts = store.list_hosts(&filter, ALL).await?.items;
    let mut counts = store.severity_counts_by_host().await?;
    let mut updates = store.pending_update_counts_by_host().await?;
    let projects = store.list_projects().await?;
    let snapshots = store
        .list_host_compliance(
            &ComplianceFilter {
                project_id,
                ..ComplianceFilter::default()
            },
            ALL,
        )
        .await?;
    let mut snapshots: BTreeMap<String, HostCompliance> = snapshots
        .items
        .into_iter()
        .map(|c| (c.host_id.clone(), c))
        .collect();
    let approvers = approvers(state, generated_at).await?;
    let rows = hosts
        .into_iter()
        .map(|h| {
            let mut c = counts.remove(&h.id).unwrap_or_default();
            let u = updates.remove(&h.id).unwrap_or_default();
            let snapshot = snapshots.remove(&h.id);
            let (state, reasons, exceptions) = match snapshot {
                None => (HostState::Unknown, Vec::new(), Vec::new()),
                Some(snap) => {
                    // Accepted findings are not open findings: counted out per level.
                    for e in &snap.excepted {
                        let level = match e.severity {
                            SeverityLevel::Critical => &mut c.critical,
                            SeverityLevel::High => &mut c.high,
                            SeverityLevel::Medium => &mut c.medium,
                            SeverityLevel::Low => &mut c.low,
                            SeverityLevel::Unknown => &mut c.unknown,
                        };
                        *level = level.saturating_sub(1);
                    }
                    let state = match (snap.state, snap.stale) {
                        (_, true) => HostState::Stale,
                        (ComplianceState::Compliant, false) => HostState::Compliant,
                        (ComplianceState::NonCompliant, false) => HostState::NonCompliant,
                    };
                    let mut exceptions: Vec<ExceptionRef> = Vec::new();
                    for e in &snap.excepted {
                        if exceptions.iter().any(|x| x.id == e.exception_id) {
                            continue;
                        }
                        exceptions.push(ExceptionRef {
                            id: e.exception_id.clone(),
                            advisory: e.advisory.clone(),
                            approver: approvers.get(&e.exception_id).cloned().unwrap_or_default(),
                            expires_at: e.expires_at,
                        });
                    }
                    let reasons = snap.reasons.iter().map(ToString::to_string).collect();
                    (state, reasons, exceptions)
                }
            };
            ComplianceRow {
                projects: member_of(&projects, &h.labels),
                os: os_name(&h),
                state,
                reasons,
                findings: SeverityCounts {
                    critical: c.critical,
                    high: c.high,
                    medium: c.medium,
                    low: c.low,
                    unknown: c.unknown,
                },
                pending_updates: u.total,
                pending_security_updates: u.security,
                last_seen: Some(h.last_seen),
                last_updated: h.last_updated_at,
                exceptions,
                hostname: h.hostname,
                host_id: h.id,
            }
        })
        .collect();
    Ok(ComplianceReport::new(scope, generated_at, rows))
}

/// Who approved each exception in force at `now`, by exception id.
async fn approvers(state: &AppState, now: Millis) -> ApiResult<BTreeMap<String, String>> {
    let active = state
        .store()
        .list_exceptions(
            &ExceptionFilter {
                active_at: Some(now),
                ..ExceptionFilter::default()
            },
            ALL,
        )
        .await?;
    Ok(active
        .items
        .into_iter()
        .map(|r| (r.exception.id, r.decided_by_name.unwrap_or_default()))
        .collect())
}

/// Names of the projects whose selector `labels` satisfy (an empty selector selects
/// every host), as the store's project filter decides membership.
fn member_of(projects: &[Project], labels: &BTreeMap<String, String>) -> Vec<String> {
    projects
        .iter()
        .filter(|p| p.selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
        .map(|p| p.name.clone())
        .collect()
}

fn os_name(h: &Host) -> String {
    match &h.os_pretty_name {
        Some(name) if !name.is_empty() => name.clone(),
        _ => format!("{} {}", h.os_id, h.os_version).trim().to_owned(),
    }
}

async fn findings(
    state: &AppState,
    scope: Scope,
    severity: Option<SeverityLevel>,
) -> ApiResult<FindingsReport> {
    let generated_at = state.now();
    let filter = FindingFilter {
        severity,
        project_id: match &scope {
            Scope::Estate => None,
            Scope::Project { id, .. } => Some(id.clone()),
        },
        ..FindingFilter::default()
    };
    let found = state.store().list_findings(&filter, ALL).await?.items;
    let covered = state.store().cover(found, generated_at).await?;
    let approvers = approvers(state, generated_at).await?;
    let rows = covered
        .into_iter()
        .map(|c| finding_row(c, &approvers))
        .collect();
    Ok(FindingsReport::new(scope, severity, generated_at, rows))
}

/// One stored finding as a report row, with the exception in force that accepts it.
fn finding_row(c: CoveredFinding, approvers: &BTreeMap<String, String>) -> FindingRow {
    let h = c.finding;
    let f = h.finding;
    FindingRow {
        hostname: h.hostname,
        host_id: h.host_id,
        advisory: f.advisory,
        aliases: f.aliases,
        package: f.package,
        installed: f.installed,
        fixed: f.fixed,
        severity: f.severity.level,
        cvss: f.severity.cvss,
        first_seen: h.first_seen,
        exception: c.exception.map(|e| ExceptionRef {
            approver: approvers.get(&e.id).cloned().unwrap_or_default(),
            advisory: e.advisory,
            expires_at: e.expires_at,
            id: e.id,
        }),
    }
}

/// Runs a renderer on the blocking pool.
async fn render(
    job: impl FnOnce() -> Result<Vec<u8>, rampart_reports::Error> + Send + 'static,
) -> ApiResult<Vec<u8>> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

fn download(rendered: Rendered) -> Response {
    let Rendered {
        bytes,
        format,
        file_name,
        ..
    } = rendered;
    // The name is built from a slug of `[A-Za-z0-9._-]` and digits only, so it needs no
    // escaping inside the quotes.
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}
