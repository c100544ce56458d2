//! Findings across the estate, filtered.

use axum::extract::State;
use rampart_core::severity::SeverityLevel;
use rampart_store::{CoveredFinding, FindingFilter, HostFinding};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{Authorized, FindingsRead};
use crate::{ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_findings))
        .routes(routes!(finding_counts))
}

/// One vulnerable package on one host, explained.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub(crate) struct FindingView {
    host_id: String,
    hostname: String,
    advisory: String,
    aliases: Vec<String>,
    package: String,
    source: String,
    installed: String,
    compared_version: String,
    advisory_package: String,
    fixed: Option<String>,
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    severity: String,
    cvss: Option<f64>,
    cvss_vector: Option<String>,
    ecosystem: String,
    /// Why it matched (the range or list from the advisory).
    reason: String,
    first_seen: i64,
    updated_at: i64,
    /// The risk exception that accepts this finding now (approved, unexpired; the most
    /// specific scope), if any.
    exception: Option<super::exceptions::ExceptionView>,
}

impl From<HostFinding> for FindingView {
    fn from(h: HostFinding) -> FindingView {
        let f = h.finding;
        FindingView {
            host_id: h.host_id,
            hostname: h.hostname,
            reason: f.reason.to_string(),
            advisory: f.advisory,
            aliases: f.aliases,
            package: f.package,
            source: f.source,
            installed: f.installed,
            compared_version: f.compared_version,
            advisory_package: f.advisory_package,
            fixed: f.fixed,
            severity: f.severity.level.as_str().to_owned(),
            cvss: f.severity.cvss,
            cvss_vector: f.severity.vector,
            ecosystem: f.ecosystem,
            first_seen: h.first_seen,
            updated_at: h.updated_at,
            exception: None,
        }
    }
}

impl FindingView {
    /// A finding with the exception covering it at `now`.
    pub(crate) fn covered(c: CoveredFinding, now: i64) -> FindingView {
        let mut view = FindingView::from(c.finding);
        view.exception = c
            .exception
            .map(|e| super::exceptions::ExceptionView::of(&e, now));
        view
    }
}

/// Counts of findings with exceptions applied now.
#[derive(Serialize, ToSchema, Debug, PartialEq)]
pub(crate) struct FindingCountsView {
    /// Accepted by an exception in force.
    excepted: u64,
    /// The others per severity.
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
    unknown: u64,
}

/// Open findings, worst first. Filters: `severity` (exact), `min_severity`,
/// `advisory` (id or alias), `package` (binary or source), `project` (id or name),
/// `host`, `limit`, `offset`.
#[utoipa::path(get, path = "/", tag = "findings", params(
    ("severity" = Option<super::params::Severity>, Query), ("min_severity" = Option<super::params::Severity>, Query),
    ("advisory" = Option<super::params::AdvisoryId>, Query), ("package" = Option<String>, Query),
    ("project" = Option<String>, Query), ("host" = Option<String>, Query),
    ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<FindingView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_findings(
    _auth: Authorized<FindingsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<FindingView>>> {
    let query = query.only(&[
        "severity",
        "min_severity",
        "advisory",
        "package",
        "project",
        "host",
    ])?;
    let page = query.page()?;
    let filter = filter(&state, &query).await?;
    let now = state.now();
    let found = state
        .store()
        .list_findings_covered(&filter, page, now)
        .await?;
    Ok(Json(List::new(
        found
            .items
            .into_iter()
            .map(|c| FindingView::covered(c, now))
            .collect(),
        found.total,
        page,
    )))
}

/// Finding counts for the same filters as the listing, with risk exceptions applied at
/// the time of the request: `excepted`, and the others per severity.
#[utoipa::path(get, path = "/counts", tag = "findings", params(
    ("severity" = Option<super::params::Severity>, Query), ("min_severity" = Option<super::params::Severity>, Query),
    ("advisory" = Option<super::params::AdvisoryId>, Query), ("package" = Option<String>, Query),
    ("project" = Option<String>, Query), ("host" = Option<String>, Query),
), responses(
    (status = 200, body = FindingCountsView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn finding_counts(
    _auth: Authorized<FindingsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<FindingCountsView>> {
    let query = query.only(&[
        "severity",
        "min_severity",
        "advisory",
        "package",
        "project",
        "host",
    ])?;
    let filter = filter(&state, &query).await?;
    let counts = state.store().finding_counts(&filter, state.now()).await?;
    Ok(Json(FindingCountsView {
        excepted: counts.excepted,
        critical: counts.open.critical,
        high: counts.open.high,
        medium: counts.open.medium,
        low: counts.open.low,
        unknown: counts.open.unknown,
    }))
}

async fn filter(state: &AppState, query: &Query) -> ApiResult<FindingFilter> {
    Ok(FindingFilter {
        severity: query.parsed::<SeverityLevel>("severity")?,
        min_severity: query.parsed::<SeverityLevel>("min_severity")?,
        advisory: super::advisory_filter(query)?,
        package: query.one("package")?,
        project_id: super::hosts::project_id(state, query.one("project")?).await?,
        host_id: query.one("host")?,
    })
}
