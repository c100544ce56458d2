//! Change requests: the record Rampart keeps per project while security updates are
//! pending beyond its standard (opened and updated by the compliance engine through
//! `notifier::open_or_update_change_request`). List, read, close.

use axum::extract::{Path, State};
use rampart_core::change_request::ChangeRequestStatus;
use rampart_store::{ChangeRequest, ChangeRequestFilter};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{Authorized, ChangeRequestsRead, ChangeRequestsUpdate};
use crate::{ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_change_requests))
        .routes(routes!(get_change_request))
        .routes(routes!(close_change_request))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ChangeRequestView {
    id: String,
    project_id: String,
    project_name: String,
    /// `open` or `closed`.
    status: String,
    /// Per host: `host_id`, `hostname`, `updates` (`package`, `installed`, `candidate`,
    /// `pending_since`).
    #[schema(value_type = Vec<Object>)]
    items: Vec<rampart_core::change_request::ChangeRequestItem>,
    /// The ticketing system's reference, once one answered.
    external_ref: Option<String>,
    created_at: i64,
    updated_at: i64,
    closed_at: Option<i64>,
}

impl From<ChangeRequest> for ChangeRequestView {
    fn from(c: ChangeRequest) -> ChangeRequestView {
        ChangeRequestView {
            id: c.id,
            project_id: c.project_id,
            project_name: c.project_name,
            status: c.status.as_str().to_owned(),
            items: c.items,
            external_ref: c.external_ref,
            created_at: c.created_at,
            updated_at: c.updated_at,
            closed_at: c.closed_at,
        }
    }
}

/// Change requests, most recently updated first.
#[utoipa::path(get, path = "/", tag = "change-requests", params(
    ("status" = Option<super::params::ChangeRequestStatus>, Query),
    ("project" = Option<String>, Query, description = "project id"),
    ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<ChangeRequestView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_change_requests(
    _auth: Authorized<ChangeRequestsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<ChangeRequestView>>> {
    let query = query.only(&["status", "project"])?;
    let page = query.page()?;
    let filter = ChangeRequestFilter {
        status: query.parsed::<ChangeRequestStatus>("status")?,
        project_id: query.one("project")?,
    };
    let found = state.store().list_change_requests(&filter, page).await?;
    Ok(Json(List::new(
        found.items.into_iter().map(Into::into).collect(),
        found.total,
        page,
    )))
}

/// One change request.
#[utoipa::path(get, path = "/{id}", tag = "change-requests", params(("id" = String, Path)), responses(
    (status = 200, body = ChangeRequestView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_change_request(
    _auth: Authorized<ChangeRequestsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ChangeRequestView>> {
    Ok(Json(state.store().get_change_request(&id).await?.into()))
}

/// Closes a change request (the work is done or tracked elsewhere). Closing a closed
/// one changes nothing. If the updates are still overdue at the next evaluation, a
/// new request opens.
#[utoipa::path(post, path = "/{id}/close", tag = "change-requests", params(("id" = String, Path)), responses(
    (status = 200, body = ChangeRequestView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn close_change_request(
    auth: Authorized<ChangeRequestsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ChangeRequestView>> {
    Ok(Json(close(&state, &auth.user.name, &id).await?.into()))
}

/// Closes a change request: the API's `POST {id}/close` and the web's button.
pub(crate) async fn close(state: &AppState, by: &str, id: &str) -> ApiResult<ChangeRequest> {
    let cr = state.store().close_change_request(id, state.now()).await?;
    tracing::info!(by = %by, change_request = %cr.id, "change request closed");
    Ok(cr)
}
