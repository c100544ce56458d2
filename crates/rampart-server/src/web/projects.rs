//! Projects (groups of hosts by label selector): the list with host counts, and one
//! project with its selector and hosts.
//!
//! EXTENSION POINT (compliance): each project's standard (pending-update limit,
//! critical findings allowed, last-updated threshold, freshness) and its compliant /
//! non-compliant counts belong on both pages; `ProjectRow` and `ProjectPage` are where
//! they go.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use rampart_store::{HostFilter, Page};

use super::hosts::{HostRow, PAGE_SIZE, Pager, page_window, rows};
use super::text::count;
use super::{Chrome, Html, QueryPairs, WebAuthorized, WebError, WebResult};
use crate::AppState;
use crate::auth::ProjectsRead;

struct ProjectRow {
    id: String,
    name: String,
    description: String,
    selector: String,
    hosts: String,
    with_critical: String,
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
    let mut projects = Vec::new();
    for p in state.store().list_projects().await? {
        let mut filter = HostFilter {
            project_id: Some(p.id.clone()),
            ..HostFilter::default()
        };
        let hosts = total(&state, &filter).await?;
        filter.has_critical = Some(true);
        let with_critical = total(&state, &filter).await?;
        projects.push(ProjectRow {
            selector: selector_text(&p.selector),
            hosts: count(hosts),
            with_critical: count(with_critical),
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

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    id: String,
    name: String,
    description: String,
    selector: String,
    with_critical: String,
    hosts: Vec<HostRow>,
    pager: Pager,
}

pub(super) async fn show(
    auth: WebAuthorized<ProjectsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryPairs,
) -> WebResult<Response> {
    let project = match state.store().get_project(&id).await {
        Ok(p) => p,
        Err(rampart_store::Error::NotFound { .. }) => {
            return Err(WebError::NotFound("project".into()));
        }
        Err(e) => return Err(e.into()),
    };
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
    let with_critical = total(&state, &filter).await?;
    let base = format!("/projects/{}", project.id);
    let pager = Pager::new(found.total, number, PAGE_SIZE, |n| {
        format!("{base}?page={n}")
    });
    Ok(Html(ProjectPage {
        chrome: auth.chrome(&state, "/projects"),
        selector: selector_text(&project.selector),
        with_critical: count(with_critical),
        hosts: rows(&state, found.items).await?,
        pager,
        id: project.id,
        name: project.name,
        description: project.description,
    })
    .into_response())
}
