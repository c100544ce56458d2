//! Projects (groups of hosts by label selector): the list with host counts, each
//! project's standard and compliance counts; one project with its selector, standard
//! (an edit form for those allowed to update projects), software policy (allow/deny
//! globs, editable likewise), compliance figures, report downloads, "scan now" and its
//! hosts. Saving goes through the API's own functions
//! (`api::compliance::{set_standard, set_software_policy}`), so the same validation
//! and re-evaluation apply.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_core::compliance::Standard;
use rampart_core::software_policy::SoftwarePolicy;
use rampart_store::{ComplianceSummary, HostFilter, Page};

use super::compliance::{ReportLink, may_scan, report_links, scan_notice};
use super::hosts::{HostRow, PAGE_SIZE, Pager, page_window, rows};
use super::text::count;
use super::{Chrome, FormData, Html, QueryPairs, WebAuthorized, WebError, WebResult, see_other};
use crate::auth::{ProjectsRead, ProjectsUpdate, RequiredPermission};
use crate::{ApiError, AppState};

struct ProjectRow {
    id: String,
    name: String,
    description: String,
    selector: String,
    hosts: String,
    with_critical: String,
    compliant: String,
    non_compliant: String,
    stale: String,
    standard: String,
}

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    chrome: Chrome,
    projects: Vec<ProjectRow>,
}

fn selector_text(selector: &rampart_store::Labels) -> String {
    if selector.is_empty() {
        return "every host".into();
    }
    selector
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A standard in one line, for the list.
fn standard_text(s: &Standard) -> String {
    format!(
        "updates ≤ {} d, {} critical allowed, alert after {} d",
        s.max_pending_security_days, s.critical_findings_allowed, s.last_updated_alert_days
    )
}

/// Hosts matching `filter`: only the count.
async fn total(state: &AppState, filter: &HostFilter) -> WebResult<u64> {
    Ok(state
        .store()
        .list_hosts(
            filter,
            Page {
                limit: 0,
                offset: 0,
            },
        )
        .await?
        .total)
}

pub(super) async fn list(
    auth: WebAuthorized<ProjectsRead>,
    State(state): State<AppState>,
) -> WebResult<Response> {
    let compliance = crate::api::compliance::summaries(&state, None).await?;
    let standards = state.store().project_standards().await?;
    let mut projects = Vec::new();
    for (p, c) in compliance.projects {
        let filter = HostFilter {
            project_id: Some(p.id.clone()),
            has_critical: Some(true),
            ..HostFilter::default()
        };
        let with_critical = total(&state, &filter).await?;
        projects.push(ProjectRow {
            selector: selector_text(&p.selector),
            hosts: count(c.hosts),
            with_critical: count(with_critical),
            compliant: count(c.compliant),
            non_compliant: count(c.non_compliant),
            stale: count(c.stale),
            standard: standard_text(&standards.get(&p.id).copied().unwrap_or_default()),
            id: p.id,
            name: p.name,
            description: p.description,
        });
    }
    Ok(Html(ProjectsPage {
        chrome: auth.chrome(&state, "/projects"),
        projects,
    })
    .into_response())
}

/// One field of the standard: form name, label, value.
struct StandardField {
    name: &'static str,
    label: &'static str,
    value: String,
}

fn standard_fields(s: &Standard) -> Vec<StandardField> {
    let f = |name, label, value: u32| StandardField {
        name,
        label,
        value: value.to_string(),
    };
    vec![
        f(
            "max_pending_security_days",
            "Longest a security update may stay pending after its release (days)",
            s.max_pending_security_days,
        ),
        f(
            "critical_findings_allowed",
            "Critical findings allowed (exceptions excluded)",
            s.critical_findings_allowed,
        ),
        f(
            "last_updated_alert_days",
            "Last-updated alert threshold (days without a package change)",
            s.last_updated_alert_days,
        ),
        f(
            "stale_after_checkins",
            "Stale after this many missed check-ins",
            s.stale_after_checkins,
        ),
        f(
            "checkin_interval_secs",
            "Expected check-in interval (seconds)",
            s.checkin_interval_secs,
        ),
        f(
            "full_scan_interval_hours",
            "Full re-evaluation every (hours)",
            s.full_scan_interval_hours,
        ),
    ]
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    notice: Option<String>,
    error: Option<String>,
    id: String,
    name: String,
    description: String,
    selector: String,
    with_critical: String,
    compliance: ComplianceSummary,
    over_threshold: u64,
    standard: Vec<StandardField>,
    standard_configured: bool,
    allow: String,
    deny: String,
    may_update: bool,
    may_scan: bool,
    reports: Vec<ReportLink>,
    hosts: Vec<HostRow>,
    pager: Pager,
}

/// What a refused form submission brings back to the page.
struct Echo {
    error: String,
    standard: Option<Vec<StandardField>>,
    policy: Option<(String, String)>,
}

async fn project_page(
    auth: &WebAuthorized<impl RequiredPermission>,
    state: &AppState,
    id: &str,
    query: &QueryPairs,
    echo: Option<Echo>,
) -> WebResult<ProjectPage> {
    let project = match state.store().get_project(id).await {
        Ok(p) => p,
        Err(rampart_store::Error::NotFound { .. }) => {
            return Err(WebError::NotFound("project".into()));
        }
        Err(e) => return Err(e.into()),
    };
    let compliance = crate::api::compliance::summaries(state, Some(&project.id))
        .await?
        .projects
        .pop()
        .map(|(_, c)| c)
        .unwrap_or_default();
    let over_threshold = state
        .store()
        .hosts_with_reason(Some(&project.id), "not_updated")
        .await?;
    let standard = state.store().project_standard(&project.id).await?;
    let policy = state.store().software_policy(&project.id).await?;
    let mut filter = HostFilter {
        project_id: Some(project.id.clone()),
        ..HostFilter::default()
    };
    let number = query.page_number();
    let found = state
        .store()
        .list_hosts(&filter, page_window(number, PAGE_SIZE))
        .await?;
    filter.has_critical = Some(true);
    let with_critical = total(state, &filter).await?;
    let base = format!("/projects/{}", project.id);
    let pager = Pager::new(found.total, number, PAGE_SIZE, |n| {
        format!("{base}?page={n}")
    });
    let (error, echo_standard, echo_policy) = match echo {
        Some(e) => (Some(e.error), e.standard, e.policy),
        None => (None, None, None),
    };
    let (allow, deny) = echo_policy.unwrap_or_else(|| {
        (
            policy.policy.allow.join("\n"),
            policy.policy.deny.join("\n"),
        )
    });
    Ok(ProjectPage {
        chrome: auth.chrome(state, "/projects"),
        notice: scan_notice(state, query).await,
        error,
        selector: selector_text(&project.selector),
        with_critical: count(with_critical),
        compliance,
        over_threshold,
        standard: echo_standard.unwrap_or_else(|| standard_fields(&standard.standard)),
        standard_configured: standard.configured,
        allow,
        deny,
        may_update: auth.may(state, ProjectsUpdate::PERMISSION),
        may_scan: may_scan(auth, state),
        reports: report_links(Some(&project.id)),
        hosts: rows(state, found.items).await?,
        pager,
        id: project.id,
        name: project.name,
        description: project.description,
    })
}

pub(super) async fn show(
    auth: WebAuthorized<ProjectsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> WebResult<Response> {
    Ok(Html(project_page(&auth, &state, &id, &query, None).await?).into_response())
}

/// The project page again with what was wrong with a submission (400).
async fn refused(
    auth: &WebAuthorized<ProjectsUpdate>,
    state: &AppState,
    id: &str,
    echo: Echo,
) -> WebResult<Response> {
    let page = project_page(auth, state, id, &QueryPairs(Vec::new()), Some(echo)).await?;
    Ok((StatusCode::BAD_REQUEST, Html(page)).into_response())
}

/// Saves the standard through `api::compliance::set_standard` (every field required,
/// the same validation as the API).
pub(super) async fn set_standard(
    auth: WebAuthorized<ProjectsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult<Response> {
    state.store().get_project(&id).await.map_err(|e| match e {
        rampart_store::Error::NotFound { .. } => WebError::NotFound("project".into()),
        e => e.into(),
    })?;
    let mut fields = standard_fields(&Standard::default());
    let mut bad = None;
    for field in &mut fields {
        field.value = form.get(field.name).unwrap_or("").to_owned();
        if field.value.parse::<u32>().is_err() && bad.is_none() {
            bad = Some(format!("{} must be a whole number.", field.label));
        }
    }
    if let Some(error) = bad {
        let echo = Echo {
            error,
            standard: Some(fields),
            policy: None,
        };
        return refused(&auth, &state, &id, echo).await;
    }
    let value = |name: &str| -> u32 {
        fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.parse().ok())
            .unwrap_or(0)
    };
    let standard = Standard {
        max_pending_security_days: value("max_pending_security_days"),
        critical_findings_allowed: value("critical_findings_allowed"),
        last_updated_alert_days: value("last_updated_alert_days"),
        stale_after_checkins: value("stale_after_checkins"),
        checkin_interval_secs: value("checkin_interval_secs"),
        full_scan_interval_hours: value("full_scan_interval_hours"),
    };
    match crate::api::compliance::set_standard(&state, &auth.caller, &id, standard).await {
        Ok(_) => Ok(see_other(&format!("/projects/{id}#standard"))),
        Err(ApiError::BadRequest(error)) => {
            let echo = Echo {
                error,
                standard: Some(fields),
                policy: None,
            };
            refused(&auth, &state, &id, echo).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Globs one per line (or comma-separated).
fn globs(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Saves the software policy through `api::compliance::set_software_policy`.
pub(super) async fn set_software_policy(
    auth: WebAuthorized<ProjectsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult<Response> {
    state.store().get_project(&id).await.map_err(|e| match e {
        rampart_store::Error::NotFound { .. } => WebError::NotFound("project".into()),
        e => e.into(),
    })?;
    let allow = form.get("allow").unwrap_or("").to_owned();
    let deny = form.get("deny").unwrap_or("").to_owned();
    let policy = SoftwarePolicy {
        allow: globs(&allow),
        deny: globs(&deny),
    };
    match crate::api::compliance::set_software_policy(&state, &auth.caller, &id, policy).await {
        Ok(_) => Ok(see_other(&format!("/projects/{id}#software-policy"))),
        Err(ApiError::BadRequest(error)) => {
            let echo = Echo {
                error,
                standard: None,
                policy: Some((allow, deny)),
            };
            refused(&auth, &state, &id, echo).await
        }
        Err(e) => Err(e.into()),
    }
}
