//! The hosts list (filters — compliance among them —, search, sort, pages, a
//! compliance column) and one host's page (OS, labels, compliance with every reason,
//! exceptions in force, findings with the range that matched and the exception
//! accepting each, pending updates, packages, inventory timeline, agents).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use rampart_core::exceptions::ExceptionScope;
use rampart_core::severity::SeverityLevel;
use rampart_store::{ComplianceMatch, HostFilter, HostOrder, HostSort, Page, SeverityCounts};

use super::compliance::state_label;
use super::text::{ago, count, datetime};
use super::{Chrome, Html, QueryPairs, WebAuthorized, WebError, WebResult};
use crate::AppState;
use crate::auth::{ComplianceRead, ExceptionsRequest, HostsRead, RequiredPermission};

/// Hosts per page of the list.
pub(crate) const PAGE_SIZE: u32 = 50;

/// CSS class of a severity.
pub(crate) fn severity_class(level: SeverityLevel) -> &'static str {
    match level {
        SeverityLevel::Critical => "sev-critical",
        SeverityLevel::High => "sev-high",
        SeverityLevel::Medium => "sev-medium",
        SeverityLevel::Low => "sev-low",
        SeverityLevel::Unknown => "sev-unknown",
    }
}

/// A host as one row of a listing (hosts list, project and advisory pages).
pub(crate) struct HostRow {
    pub(crate) id: String,
    pub(crate) hostname: String,
    pub(crate) os: String,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) critical: u64,
    pub(crate) high: u64,
    pub(crate) total: u64,
    pub(crate) last_seen: String,
    pub(crate) last_updated: String,
    /// The last evaluation: `compliant`, `non-compliant`, `stale`, `not evaluated`.
    pub(crate) compliance: &'static str,
    pub(crate) compliance_class: &'static str,
}

fn os_name(h: &rampart_store::Host) -> String {
    match &h.os_pretty_name {
        Some(pretty) => pretty.clone(),
        None if h.os_id.is_empty() => "no inventory yet".into(),
        None => format!("{} {}", h.os_id, h.os_version),
    }
}

/// Rows for a page of hosts, with their finding counts and last compliance
/// evaluations in one query each.
pub(crate) async fn rows(
    state: &AppState,
    hosts: Vec<rampart_store::Host>,
) -> WebResult<Vec<HostRow>> {
    let now = state.now();
    let ids: Vec<String> = hosts.iter().map(|h| h.id.clone()).collect();
    let mut counts = state.store().severity_counts_for_hosts(&ids).await?;
    let snapshots = state.store().host_compliance_for(&ids).await?;
    Ok(hosts
        .into_iter()
        .map(|h| {
            let c: SeverityCounts = counts.remove(&h.id).unwrap_or_default();
            let (compliance, compliance_class) = state_label(snapshots.get(&h.id));
            HostRow {
                compliance,
                compliance_class,
                os: os_name(&h),
                last_seen: ago(now, h.last_seen),
                last_updated: h
                    .last_updated_at
                    .map_or_else(|| "never".into(), |t| ago(now, t)),
                critical: c.critical,
                high: c.high,
                total: c.total(),
                labels: h.labels.into_iter().collect(),
                id: h.id,
                hostname: h.hostname,
            }
        })
        .collect())
}

/// Links to the neighbouring pages of a listing.
pub(crate) struct Pager {
    pub(crate) first: u64,
    pub(crate) last: u64,
    pub(crate) total: String,
    pub(crate) page: u64,
    pub(crate) pages: u64,
    pub(crate) prev: Option<String>,
    pub(crate) next: Option<String>,
}

impl Pager {
    /// `href(n)` is the URL of page `n` (1-based).
    pub(crate) fn new(total: u64, page: u64, size: u32, href: impl Fn(u64) -> String) -> Pager {
        let size = u64::from(size);
        let pages = total.div_ceil(size).max(1);
        let first = if total == 0 { 0 } else { (page - 1) * size + 1 };
        Pager {
            first,
            last: (page * size).min(total),
            total: count(total),
            page,
            pages,
            prev: (page > 1).then(|| href(page - 1)),
            next: (page < pages).then(|| href(page + 1)),
        }
    }
}

/// `Page` for the 1-based `number`.
pub(crate) fn page_window(number: u64, size: u32) -> Page {
    Page {
        limit: size,
        offset: (number - 1).saturating_mul(u64::from(size)),
    }
}

/// The list's filters as submitted, echoed back into the form and the links.
#[derive(Default)]
struct Filters {
    project: String,
    label: String,
    os: String,
    critical: String,
    compliance: String,
    q: String,
    sort: &'static str,
    dir: &'static str,
}

impl Filters {
    /// The query string for these filters with `sort`/`dir` and `page` replaced.
    fn href(&self, sort: &str, dir: &str, page: u64) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("project", self.project.as_str()),
            ("label", &self.label),
            ("os", &self.os),
            ("critical", &self.critical),
            ("compliance", &self.compliance),
            ("q", &self.q),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        if sort != "hostname" || dir != "asc" {
            s.append_pair("sort", sort);
            s.append_pair("dir", dir);
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        let q = s.finish();
        if q.is_empty() {
            "/hosts".into()
        } else {
            format!("/hosts?{q}")
        }
    }
}

/// A sortable column header.
struct SortLink {
    label: &'static str,
    href: String,
    /// `▲`/`▼` on the active column.
    mark: &'static str,
    class: &'static str,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "hosts.html")]
struct HostsPage {
    chrome: Chrome,
    filters: Filters,
    projects: Vec<Choice>,
    releases: Vec<Choice>,
    columns: Vec<SortLink>,
    hosts: Vec<HostRow>,
    pager: Pager,
    notice: Option<String>,
}

const SORTS: [(&str, HostSort, &str); 5] = [
    ("hostname", HostSort::Hostname, "Host"),
    ("os", HostSort::Os, "OS"),
    ("critical", HostSort::Critical, "Findings"),
    ("seen", HostSort::LastSeen, "Last seen"),
    ("updated", HostSort::LastUpdated, "Last updated"),
];

pub(super) async fn list(
    auth: WebAuthorized<HostsRead>,
    State(state): State<AppState>,
    query: QueryPairs,
) -> WebResult<Response> {
    let (sort_key, sort) = SORTS
        .iter()
        .find(|(key, ..)| Some(*key) == query.get("sort"))
        .map_or(("hostname", HostSort::Hostname), |(k, s, _)| (*k, *s));
    let descending = query.get("dir") == Some("desc");
    let mut f = Filters {
        project: query.get("project").unwrap_or("").to_owned(),
        label: query.get("label").unwrap_or("").to_owned(),
        os: query.get("os").unwrap_or("").to_owned(),
        critical: query.get("critical").unwrap_or("").to_owned(),
        compliance: query.get("compliance").unwrap_or("").to_owned(),
        q: query.get("q").unwrap_or("").to_owned(),
        sort: sort_key,
        dir: if descending { "desc" } else { "asc" },
    };
    let mut notice = None;
    let mut filter = HostFilter {
        text: (!f.q.is_empty()).then(|| f.q.clone()),
        has_critical: match f.critical.as_str() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        compliance: match f.compliance.as_str() {
            "compliant" => Some(ComplianceMatch::Compliant),
            "non_compliant" => Some(ComplianceMatch::NonCompliant),
            "stale" => Some(ComplianceMatch::Stale),
            _ => None,
        },
        ..HostFilter::default()
    };
    if filter.compliance.is_none() {
        f.compliance.clear();
    }
    // The compliance column and filter read the snapshots: refresh the due ones first,
    // as the API's compliance reads do.
    crate::api::compliance::refresh(&state).await?;
    if !f.project.is_empty() {
        match crate::api::hosts::project_id(&state, Some(f.project.clone())).await {
            Ok(id) => filter.project_id = id,
            Err(crate::ApiError::NotFound(_)) => {
                notice = Some(format!("No project {:?}; showing all hosts.", f.project));
                f.project.clear();
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !f.label.is_empty() {
        match f.label.split_once(['=', ':']) {
            Some((k, v)) if !k.is_empty() => {
                filter
                    .labels
                    .insert(k.trim().to_owned(), v.trim().to_owned());
            }
            _ => {
                notice = Some("A label filter reads key=value.".into());
            }
        }
    }
    if !f.os.is_empty() {
        match f.os.split_once(':') {
            Some((id, version)) => {
                filter.os_id = Some(id.to_owned());
                filter.os_version = Some(version.to_owned());
            }
            None => filter.os_id = Some(f.os.clone()),
        }
    }
    let number = query.page_number();
    let order = HostOrder { sort, descending };
    let found = state
        .store()
        .list_hosts_ordered(&filter, order, page_window(number, PAGE_SIZE))
        .await?;
    let hosts = rows(&state, found.items).await?;
    let pager = Pager::new(found.total, number, PAGE_SIZE, |n| f.href(f.sort, f.dir, n));

    let projects = state
        .store()
        .list_projects()
        .await?
        .into_iter()
        .map(|p| Choice {
            selected: p.id == f.project || p.name == f.project,
            value: p.id,
            label: p.name,
        })
        .collect();
    let releases = state
        .store()
        .os_releases()
        .await?
        .into_iter()
        .filter(|r| !r.os_id.is_empty())
        .map(|r| {
            let value = format!("{}:{}", r.os_id, r.os_version);
            Choice {
                selected: value == f.os,
                label: format!("{} {} ({})", r.os_id, r.os_version, count(r.hosts)),
                value,
            }
        })
        .collect();
    let columns = SORTS
        .iter()
        .map(|(key, _, label)| {
            let active = *key == f.sort;
            let dir = if active && !descending { "desc" } else { "asc" };
            SortLink {
                label,
                href: f.href(key, dir, 1),
                mark: match (active, descending) {
                    (false, _) => "",
                    (true, false) => "▲",
                    (true, true) => "▼",
                },
                class: if active { "sorted" } else { "" },
            }
        })
        .collect();
    Ok(Html(HostsPage {
        chrome: auth.chrome(&state, "/hosts"),
        filters: f,
        projects,
        releases,
        columns,
        hosts,
        pager,
        notice,
    })
    .into_response())
}

struct FindingRow {
    advisory: String,
    aliases: String,
    package: String,
    installed: String,
    fixed: String,
    severity: &'static str,
    class: &'static str,
    cvss: String,
    reason: String,
    first_seen: String,
    /// The exception in force that accepts this finding: (id, expiry).
    exception: Option<(String, String)>,
    /// The exceptions page with a request for this finding on this host prefilled.
    request_href: String,
}

/// An exception in force on the host.
struct ExceptionRow {
    id: String,
    advisory: String,
    scope: String,
    reason: String,
    ticket: String,
    expires_at: String,
}

/// The host's compliance panel.
struct CompliancePanel {
    state: &'static str,
    class: &'static str,
    reasons: Vec<String>,
    evaluated_at: String,
    state_since: String,
}

struct UpdateRow {
    name: String,
    installed: String,
    candidate: String,
    category: &'static str,
    /// Worst open finding on the package, if any: how urgent the update is.
    severity: &'static str,
    class: &'static str,
    origin: String,
}

struct PackageRow {
    name: String,
    version: String,
    arch: String,
    source: String,
}

struct TimelineRow {
    received_at: String,
    state: String,
    packages: String,
    package_change: bool,
}

struct AgentRow {
    id: String,
    serial: String,
    enrolled_at: String,
    revoked_at: Option<String>,
}

#[derive(Template)]
#[template(path = "host.html")]
struct HostPage {
    chrome: Chrome,
    hostname: String,
    os: String,
    ecosystem: String,
    machine_id: String,
    labels: Vec<(String, String)>,
    first_seen: String,
    last_seen: String,
    last_inventory: String,
    last_updated: String,
    counts: SeverityCounts,
    compliance: Option<CompliancePanel>,
    exceptions: Vec<ExceptionRow>,
    may_request: bool,
    findings: Vec<FindingRow>,
    updates: Vec<UpdateRow>,
    security_updates: usize,
    packages: Vec<PackageRow>,
    timeline: Vec<TimelineRow>,
    timeline_total: u64,
    agents: Vec<AgentRow>,
}

/// Inventory timeline entries shown on the host page.
const TIMELINE: u32 = 50;

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

pub(super) async fn show(
    auth: WebAuthorized<HostsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let store = state.store();
    let host = match store.get_host(&id).await {
        Ok(host) => host,
        Err(rampart_store::Error::NotFound { .. }) => {
            return Err(WebError::NotFound("host".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.now();
    let counts = store.host_severity_counts(&id).await?;
    let findings = store.cover(store.host_findings(&id).await?, now).await?;
    // The compliance panel, as `GET /api/v1/hosts/{id}/compliance` answers: evaluated
    // now, then read back.
    let compliance = if auth.may(&state, ComplianceRead::PERMISSION) {
        state.compliance().evaluate_host(&id, now).await?;
        store.host_compliance(&id).await?.map(|c| {
            let (state, class) = state_label(Some(&c));
            CompliancePanel {
                state,
                class,
                reasons: c.reasons.iter().map(ToString::to_string).collect(),
                evaluated_at: datetime(c.evaluated_at),
                state_since: datetime(c.state_since),
            }
        })
    } else {
        None
    };
    let projects = store
        .host_project_ids(std::slice::from_ref(&id))
        .await?
        .remove(&id)
        .unwrap_or_default();
    let exceptions = store
        .active_exceptions(now)
        .await?
        .into_iter()
        .filter(|e| match &e.scope {
            ExceptionScope::Host { host_id } => *host_id == id,
            ExceptionScope::Project { project_id } => projects.contains(project_id),
            ExceptionScope::Estate => true,
        })
        .map(|e| ExceptionRow {
            scope: match &e.scope {
                ExceptionScope::Host { .. } => "this host".into(),
                ExceptionScope::Project { project_id } => format!("project {project_id}"),
                ExceptionScope::Estate => "estate".into(),
            },
            expires_at: datetime(e.expires_at),
            ticket: e.ticket.unwrap_or_default(),
            reason: e.reason,
            advisory: e.advisory,
            id: e.id,
        })
        .collect();
    let updates = store.host_updates(&id).await?;
    let packages = store.host_packages(&id).await?;
    let history = store
        .inventory_history(
            &id,
            Page {
                limit: TIMELINE,
                offset: 0,
            },
        )
        .await?;
    let agents = store.host_agents(&id).await?;

    // An update's severity is that of the worst finding it fixes (the findings engine
    // records which; an update that closes nothing has none).
    let update_rows: Vec<UpdateRow> = updates
        .into_iter()
        .map(|u| {
            let level = u.severity;
            UpdateRow {
                category: u.update.category.as_str(),
                severity: level.map_or("", SeverityLevel::as_str),
                class: level.map_or("", severity_class),
                name: u.update.name,
                installed: u.update.installed,
                candidate: u.update.candidate,
                origin: u.update.origin,
            }
        })
        .collect();
    let security_updates = update_rows
        .iter()
        .filter(|u| u.category == "security")
        .count();
    let finding_rows = findings
        .into_iter()
        .map(|covered| {
            let h = covered.finding;
            let f = h.finding;
            FindingRow {
                exception: covered.exception.map(|e| (e.id, datetime(e.expires_at))),
                request_href: format!(
                    "/exceptions?{}#request",
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("advisory", &f.advisory)
                        .append_pair("scope", "host")
                        .append_pair("host", &id)
                        .finish()
                ),
                aliases: f.aliases.join(", "),
                package: if f.source != f.package {
                    format!("{} (source {})", f.package, f.source)
                } else {
                    f.package
                },
                installed: f.installed,
                fixed: f.fixed.unwrap_or_else(|| "no fix yet".into()),
                severity: f.severity.level.as_str(),
                class: severity_class(f.severity.level),
                cvss: f
                    .severity
                    .cvss
                    .map_or_else(String::new, |c| format!("{c:.1}")),
                reason: f.reason.to_string(),
                first_seen: datetime(h.first_seen),
                advisory: f.advisory,
            }
        })
        .collect();
    // A timeline entry changed the packages when its package set differs from the
    // entry before it (the list is newest first).
    let items = &history.items;
    let timeline = items
        .iter()
        .enumerate()
        .map(|(i, r)| TimelineRow {
            received_at: datetime(r.received_at),
            state: short(&r.state_hash),
            packages: short(&r.package_set_hash),
            package_change: items
                .get(i + 1)
                .is_none_or(|older| older.package_set_hash != r.package_set_hash),
        })
        .collect();
    Ok(Html(HostPage {
        chrome: auth.chrome(&state, "/hosts"),
        os: os_name(&host),
        ecosystem: host.ecosystem.clone().unwrap_or_default(),
        machine_id: host.machine_id.clone().unwrap_or_default(),
        labels: host.labels.clone().into_iter().collect(),
        first_seen: datetime(host.first_seen),
        last_seen: format!(
            "{} ({})",
            datetime(host.last_seen),
            ago(now, host.last_seen)
        ),
        last_inventory: host
            .last_inventory_at
            .map_or_else(|| "never".into(), datetime),
        last_updated: host.last_updated_at.map_or_else(
            || "never".into(),
            |t| format!("{} ({})", datetime(t), ago(now, t)),
        ),
        counts,
        compliance,
        exceptions,
        may_request: auth.may(&state, ExceptionsRequest::PERMISSION),
        findings: finding_rows,
        updates: update_rows,
        security_updates,
        packages: packages
            .into_iter()
            .map(|p| PackageRow {
                source: match (&p.source_name, &p.source_version) {
                    (Some(n), Some(v)) => format!("{n} {v}"),
                    (Some(n), None) => n.clone(),
                    _ => String::new(),
                },
                arch: p.arch.unwrap_or_default(),
                name: p.name,
                version: p.version,
            })
            .collect(),
        timeline,
        timeline_total: history.total,
        agents: agents
            .into_iter()
            .map(|a| AgentRow {
                id: a.id,
                serial: a.cert_serial,
                enrolled_at: datetime(a.enrolled_at),
                revoked_at: a.revoked_at.map(datetime),
            })
            .collect(),
        hostname: host.hostname,
    })
    .into_response())
}
