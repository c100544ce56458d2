//! Change requests: per project, the record Rampart keeps while security updates stay
//! pending beyond its standard — each with its hosts and updates (installed →
//! candidate, pending since), the ticketing system's reference, and a "close" button
//! for those the API lets close them (`api::change_requests::close`).

use std::str::FromStr as _;

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use rampart_core::change_request::ChangeRequestStatus;
use rampart_store::ChangeRequestFilter;

use super::hosts::{PAGE_SIZE, Pager, page_window};
use super::text::datetime;
use super::{Chrome, Html, QueryPairs, WebAuthorized, WebResult, see_other};
use crate::AppState;
use crate::api::change_requests::close;
use crate::auth::{ChangeRequestsRead, ChangeRequestsUpdate, RequiredPermission};

struct UpdateRow {
    host_id: String,
    hostname: String,
    package: String,
    installed: String,
    candidate: String,
    pending_since: String,
}

struct RequestView {
    id: String,
    project_id: String,
    project: String,
    status: &'static str,
    external_ref: String,
    opened: String,
    updated: String,
    closed: String,
    hosts: usize,
    updates: Vec<UpdateRow>,
    can_close: bool,
}

struct Choice {
    value: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "change_requests.html")]
struct ChangeRequestsPage {
    chrome: Chrome,
    notice: Option<String>,
    status: String,
    statuses: Vec<Choice>,
    requests: Vec<RequestView>,
    pager: Pager,
}

const STATUSES: [ChangeRequestStatus; 2] = [ChangeRequestStatus::Open, ChangeRequestStatus::Closed];

pub(super) async fn list(
    auth: WebAuthorized<ChangeRequestsRead>,
    State(state): State<AppState>,
    query: QueryPairs,
) -> WebResult<Response> {
    let status = query
        .get("status")
        .and_then(|s| ChangeRequestStatus::from_str(s).ok());
    let filter = ChangeRequestFilter {
        status,
        project_id: query.get("project").map(str::to_owned),
    };
    let number = query.page_number();
    let found = state
        .store()
        .list_change_requests(&filter, page_window(number, PAGE_SIZE))
        .await?;
    let may_close = auth.may(&state, ChangeRequestsUpdate::PERMISSION);
    let requests = found
        .items
        .into_iter()
        .map(|c| RequestView {
            can_close: may_close && c.status == ChangeRequestStatus::Open,
            status: c.status.as_str(),
            external_ref: c.external_ref.unwrap_or_default(),
            opened: datetime(c.created_at),
            updated: datetime(c.updated_at),
            closed: c.closed_at.map(datetime).unwrap_or_default(),
            hosts: c.items.len(),
            updates: c
                .items
                .iter()
                .flat_map(|item| {
                    item.updates.iter().map(|u| UpdateRow {
                        host_id: item.host_id.clone(),
                        hostname: item.hostname.clone(),
                        package: u.package.clone(),
                        installed: u.installed.clone(),
                        candidate: u.candidate.clone(),
                        pending_since: datetime(u.pending_since),
                    })
                })
                .collect(),
            id: c.id,
            project_id: c.project_id,
            project: c.project_name,
        })
        .collect();
    let status = status.map_or("", ChangeRequestStatus::as_str).to_owned();
    let project = filter.project_id.clone();
    let pager = Pager::new(found.total, number, PAGE_SIZE, |n| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !status.is_empty() {
            q.append_pair("status", &status);
        }
        if let Some(project) = &project {
            q.append_pair("project", project);
        }
        q.append_pair("page", &n.to_string());
        format!("/change-requests?{}", q.finish())
    });
    let notice = match (query.get("done"), query.get("id")) {
        (Some("closed"), Some(id)) => Some(format!(
            "Change request {id} closed. If the updates are still overdue at the next \
             evaluation, a new one opens."
        )),
        _ => None,
    };
    Ok(Html(ChangeRequestsPage {
        chrome: auth.chrome(&state, "/change-requests"),
        notice,
        statuses: STATUSES
            .iter()
            .map(|s| Choice {
                value: s.as_str(),
                selected: s.as_str() == status,
            })
            .collect(),
        status,
        requests,
        pager,
    })
    .into_response())
}

/// "Close": through `api::change_requests::close`, as `POST /change-requests/{id}/close`.
pub(super) async fn close_request(
    auth: WebAuthorized<ChangeRequestsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let cr = close(&state, &auth.caller.user.name, &id).await?;
    Ok(see_other(&format!(
        "/change-requests?done=closed&id={0}#cr-{0}",
        cr.id
    )))
}
