//! Findings across the estate, filtered.

use axum::extract::State;
use rampart_core::severity::SeverityLevel;
use rampart_store::{FindingFilter, HostFinding};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{Authorized, FindingsRead};
use crate::{ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_findings))
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
        }
    }
}

/// Open findings, worst first. Filters: `severity` (exact), `min_severity`,
/// `advisory` (id or alias), `package` (binary or source), `project` (id or name),
/// `host`, `limit`, `offset`.
#[utoipa::path(get, path = "/", tag = "findings", params(
    ("severity" = Option<String>, Query), ("min_severity" = Option<String>, Query),
    ("advisory" = Option<String>, Query), ("package" = Option<String>, Query),
    ("project" = Option<String>, Query), ("host" = Option<String>, Query),
    ("limit" = Option<u32>, Query), ("offset" = Option<u64>, Query),
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
    let filter = FindingFilter {
        severity: query.parsed::<SeverityLevel>("severity")?,
        min_severity: query.parsed::<SeverityLevel>("min_severity")?,
        advisory: query.one("advisory")?,
        package: query.one("package")?,
        project_id: super::hosts::project_id(&state, query.one("project")?).await?,
        host_id: query.one("host")?,
    };
    let found = state.store().list_findings(&filter, page).await?;
    Ok(Json(List::new(
        found.items.into_iter().map(FindingView::from).collect(),
        found.total,
        page,
    )))
}
