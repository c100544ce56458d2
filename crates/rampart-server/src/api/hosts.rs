//! Hosts: the estate list with filters, one host with its packages, pending updates
//! and findings, its labels, and deleting it.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_store::{Host, HostFilter, SeverityCounts};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::findings::FindingView;
use super::{Json, List, Query};
use crate::auth::{Authorized, HostsDelete, HostsRead, HostsUpdate};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_hosts))
        .routes(routes!(get_host, delete_host))
        .routes(routes!(host_packages))
        .routes(routes!(host_updates))
        .routes(routes!(host_findings))
        .routes(routes!(set_labels))
        .routes(routes!(host_agents))
        .routes(routes!(revoke_agent))
}

/// An agent enrolled for a host: the certificate it checks in with.
#[derive(Serialize, ToSchema)]
pub(crate) struct AgentView {
    id: String,
    host_id: String,
    /// Certificate serial number (hex).
    cert_serial: String,
    /// SHA-256 of the certificate (hex).
    cert_fingerprint: String,
    enrolled_at: i64,
    /// Set once revoked: the agent's check-ins are refused from then on.
    revoked_at: Option<i64>,
}

impl From<rampart_store::Agent> for AgentView {
    fn from(a: rampart_store::Agent) -> AgentView {
        AgentView {
            id: a.id,
            host_id: a.host_id,
            cert_serial: a.cert_serial,
            cert_fingerprint: a.cert_fingerprint,
            enrolled_at: a.enrolled_at,
            revoked_at: a.revoked_at,
        }
    }
}

/// The agents (certificates) enrolled for a host, revoked ones included.
#[utoipa::path(get, path = "/{id}/agents", tag = "hosts", params(("id" = String, Path), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<AgentView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn host_agents(
    _auth: Authorized<HostsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<List<AgentView>>> {
    let page = query.only(&[])?.page()?;
    state.store().get_host(&id).await?;
    let agents: Vec<AgentView> = state
        .store()
        .host_agents(&id)
        .await?
        .into_iter()
        .map(AgentView::from)
        .collect();
    Ok(Json(List::paged(agents, page)))
}

/// Revokes one agent of a host: its certificate is refused from the next check-in on
/// (403 `agent_revoked`). To bring the host back, enrol it again with a new token.
#[utoipa::path(post, path = "/{id}/agents/{agent_id}/revoke", tag = "hosts", params(("id" = String, Path), ("agent_id" = String, Path)), responses(
    (status = 200, body = AgentView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn revoke_agent(
    auth: Authorized<HostsUpdate>,
    State(state): State<AppState>,
    Path((id, agent_id)): Path<(String, String)>,
) -> ApiResult<Json<AgentView>> {
    let agents = state.store().host_agents(&id).await?;
    let Some(agent) = agents.into_iter().find(|a| a.id == agent_id) else {
        return Err(rampart_store::Error::NotFound { entity: "agent" }.into());
    };
    if agent.revoked_at.is_none() {
        state.store().revoke_agent(&agent.id, state.now()).await?;
        tracing::info!(by = %auth.user.name, host_id = %id, agent_id = %agent.id, "agent revoked");
    }
    let revoked = state
        .store()
        .host_agents(&id)
        .await?
        .into_iter()
        .find(|a| a.id == agent_id)
        .ok_or(rampart_store::Error::NotFound { entity: "agent" })?;
    Ok(Json(AgentView::from(revoked)))
}

/// Open findings per severity.
#[derive(Serialize, ToSchema, Default)]
pub(crate) struct Counts {
    critical: u64,
    high: u64,
    medium: u64,
    low: u64,
    unknown: u64,
    total: u64,
}

impl From<SeverityCounts> for Counts {
    fn from(c: SeverityCounts) -> Counts {
        Counts {
            critical: c.critical,
            high: c.high,
            medium: c.medium,
            low: c.low,
            unknown: c.unknown,
            total: c.total(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct HostView {
    id: String,
    hostname: String,
    machine_id: Option<String>,
    os_id: String,
    os_version: String,
    os_pretty_name: Option<String>,
    /// OSV ecosystem of the host's release (`Debian:12`).
    ecosystem: Option<String>,
    labels: BTreeMap<String, String>,
    first_seen: i64,
    last_seen: i64,
    last_inventory_at: Option<i64>,
    last_updated_at: Option<i64>,
    findings: Counts,
}

impl HostView {
    pub(crate) fn new(h: Host, counts: SeverityCounts) -> HostView {
        HostView {
            id: h.id,
            hostname: h.hostname,
            machine_id: h.machine_id,
            os_id: h.os_id,
            os_version: h.os_version,
            os_pretty_name: h.os_pretty_name,
            ecosystem: h.ecosystem,
            labels: h.labels,
            first_seen: h.first_seen,
            last_seen: h.last_seen,
            last_inventory_at: h.last_inventory_at,
            last_updated_at: h.last_updated_at,
            findings: counts.into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct PackageView {
    name: String,
    version: String,
    arch: Option<String>,
    source_name: Option<String>,
    source_version: Option<String>,
    /// `deb`, `rpm` or `apk`.
    format: String,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct UpdateView {
    name: String,
    arch: Option<String>,
    installed: String,
    candidate: String,
    origin: String,
    /// `security` when the package manager says so or when the update fixes one of the
    /// host's findings, else `other`.
    category: String,
    /// What the package manager said: `security`, `other`, or `unknown` (apk keeps no
    /// security metadata).
    reported_category: String,
    /// Advisories whose fixed version the candidate reaches.
    fixes: Vec<String>,
    /// The worst severity among `fixes`.
    severity: Option<String>,
}

/// A page of hosts with their finding counts, in one query for the counts.
pub(crate) async fn views(state: &AppState, hosts: Vec<Host>) -> ApiResult<Vec<HostView>> {
    let ids: Vec<String> = hosts.iter().map(|h| h.id.clone()).collect();
    let mut counts = state.store().severity_counts_for_hosts(&ids).await?;
    Ok(hosts
        .into_iter()
        .map(|h| {
            let c = counts.remove(&h.id).unwrap_or_default();
            HostView::new(h, c)
        })
        .collect())
}

/// Resolves a `project` filter given as id or name.
pub(crate) async fn project_id(
    state: &AppState,
    project: Option<String>,
) -> ApiResult<Option<String>> {
    let Some(p) = project else { return Ok(None) };
    match state.store().get_project(&p).await {
        Ok(found) => Ok(Some(found.id)),
        Err(rampart_store::Error::NotFound { .. }) => {
            match state.store().get_project_by_name(&p).await {
                Ok(found) => Ok(Some(found.id)),
                Err(rampart_store::Error::NotFound { .. }) => {
                    Err(ApiError::NotFound(format!("project {p:?}")))
                }
                Err(e) => Err(e.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Hosts, filtered: `project` (id or name), `label=key:value` (repeatable, all must
/// match), `os` (`debian` or `debian:12`), `has_critical`, `q` (hostname or label
/// substring), `limit`, `offset`.
#[utoipa::path(get, path = "/", tag = "hosts", params(
    ("project" = Option<String>, Query), ("label" = Option<Vec<super::params::LabelFilter>>, Query),
    ("os" = Option<String>, Query), ("has_critical" = Option<bool>, Query),
    ("q" = Option<String>, Query), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<HostView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_hosts(
    _auth: Authorized<HostsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<HostView>>> {
    let query = query.only(&["project", "label", "os", "has_critical", "q"])?;
    let page = query.page()?;
    let mut filter = HostFilter {
        project_id: project_id(&state, query.one("project")?).await?,
        has_critical: query.parsed::<bool>("has_critical")?,
        text: query.one("q")?,
        ..HostFilter::default()
    };
    for label in query.all("label") {
        let (k, v) = label.split_once(':').ok_or_else(|| {
            ApiError::bad_request(format!("label filter {label:?} must be key:value"))
        })?;
        filter.labels.insert(k.to_owned(), v.to_owned());
    }
    if let Some(os) = query.one("os")? {
        match os.split_once(':') {
            Some((id, version)) => {
                filter.os_id = Some(id.to_owned());
                filter.os_version = Some(version.to_owned());
            }
            None => filter.os_id = Some(os),
        }
    }
    let hosts = state.store().list_hosts(&filter, page).await?;
    let items = views(&state, hosts.items).await?;
    Ok(Json(List::new(items, hosts.total, page)))
}

/// One host.
#[utoipa::path(get, path = "/{id}", tag = "hosts", params(("id" = String, Path)), responses(
    (status = 200, body = HostView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_host(
    _auth: Authorized<HostsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<HostView>> {
    let host = state.store().get_host(&id).await?;
    let counts = state.store().host_severity_counts(&id).await?;
    Ok(Json(HostView::new(host, counts)))
}

/// Deletes a host with its inventory and findings (its agent can no longer check in).
#[utoipa::path(delete, path = "/{id}", tag = "hosts", params(("id" = String, Path)), responses(
    (status = 204, description = "deleted"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn delete_host(
    auth: Authorized<HostsDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.store().delete_host(&id).await?;
    tracing::info!(by = %auth.user.name, host_id = %id, "host deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// The packages installed on a host.
#[utoipa::path(get, path = "/{id}/packages", tag = "hosts", params(("id" = String, Path), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<PackageView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn host_packages(
    _auth: Authorized<HostsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<List<PackageView>>> {
    let page = query.only(&[])?.page()?;
    let packages = state.store().host_packages(&id).await?;
    let views = packages
        .into_iter()
        .map(|p| PackageView {
            format: match p.format {
                rampart_core::package::PackageFormat::Deb => "deb",
                rampart_core::package::PackageFormat::Rpm => "rpm",
                rampart_core::package::PackageFormat::Apk => "apk",
            }
            .to_owned(),
            name: p.name,
            version: p.version,
            arch: p.arch,
            source_name: p.source_name,
            source_version: p.source_version,
        })
        .collect();
    Ok(Json(List::paged(views, page)))
}

/// Upgrades pending on a host, from its latest inventory.
#[utoipa::path(get, path = "/{id}/updates", tag = "hosts", params(("id" = String, Path), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<UpdateView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn host_updates(
    _auth: Authorized<HostsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<List<UpdateView>>> {
    let page = query.only(&[])?.page()?;
    state.store().get_host(&id).await?;
    let updates = state.store().host_updates(&id).await?;
    let views = updates
        .into_iter()
        .map(|u| UpdateView {
            category: u.update.category.as_str().to_owned(),
            reported_category: u.reported_category.as_str().to_owned(),
            name: u.update.name,
            arch: u.update.arch,
            installed: u.update.installed,
            candidate: u.update.candidate,
            origin: u.update.origin,
            fixes: u.fixes,
            severity: u.severity.map(|s| s.as_str().to_owned()),
        })
        .collect();
    Ok(Json(List::paged(views, page)))
}

/// A host's open findings, worst first.
#[utoipa::path(get, path = "/{id}/findings", tag = "hosts", params(("id" = String, Path), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<FindingView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn host_findings(
    _auth: Authorized<HostsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<List<FindingView>>> {
    let page = query.only(&[])?.page()?;
    state.store().get_host(&id).await?;
    let findings = state.store().host_findings(&id).await?;
    let now = state.now();
    let covered = state.store().cover(findings, now).await?;
    Ok(Json(List::paged(
        covered
            .into_iter()
            .map(|c| FindingView::covered(c, now))
            .collect(),
        page,
    )))
}

/// Checks labels (of a host, an enrolment token, a project selector) as the document's
/// `Labels` schema states them: keys of 1-128 characters, values of at most 256, no
/// control characters in either (they end up in logs, CSV and terminals).
pub(crate) fn check_labels(labels: &BTreeMap<String, String>) -> ApiResult<()> {
    let clean = |s: &str| !s.chars().any(char::is_control);
    for (k, v) in labels {
        if k.is_empty() || k.chars().count() > 128 || !clean(k) {
            return Err(ApiError::bad_request(format!(
                "label key {k:?} must be 1-128 characters without control characters"
            )));
        }
        if v.chars().count() > 256 || !clean(v) {
            return Err(ApiError::bad_request(format!(
                "label {k:?}: the value must be at most 256 characters without control characters"
            )));
        }
    }
    Ok(())
}

/// Replaces a host's labels.
#[utoipa::path(put, path = "/{id}/labels", tag = "hosts", params(("id" = String, Path)), request_body = super::params::Labels, responses(
    (status = 200, body = HostView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn set_labels(
    auth: Authorized<HostsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(labels): Json<BTreeMap<String, String>>,
) -> ApiResult<Json<HostView>> {
    check_labels(&labels)?;
    state.store().set_host_labels(&id, &labels).await?;
    tracing::info!(by = %auth.user.name, host_id = %id, "host labels replaced");
    let host = state.store().get_host(&id).await?;
    let counts = state.store().host_severity_counts(&id).await?;
    Ok(Json(HostView::new(host, counts)))
}
