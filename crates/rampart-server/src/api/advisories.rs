//! One advisory with the hosts it affects.

use axum::extract::{Path, State};
use rampart_store::{HostFilter, Page};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::hosts::HostView;
use super::{Json, List, Query};
use crate::auth::{AdvisoriesRead, Authorized};
use crate::{ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_advisory))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct AdvisoryView {
    /// The advisory as imported (OSV's shape reduced to what matching needs).
    #[schema(value_type = Object)]
    advisory: serde_json::Value,
    /// Hosts with an open finding for it (paged by `limit`/`offset`).
    affected_hosts: List<HostView>,
}

/// An advisory by id and the hosts it affects.
#[utoipa::path(get, path = "/{id}", tag = "advisories", params(("id" = String, Path), ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = AdvisoryView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_advisory(
    _auth: Authorized<AdvisoriesRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<Json<AdvisoryView>> {
    let page: Page = query.only(&[])?.page()?;
    let advisory = state.store().get_advisory(&id).await?;
    let filter = HostFilter {
        advisory: Some(id),
        ..HostFilter::default()
    };
    let hosts = state.store().list_hosts(&filter, page).await?;
    let items = super::hosts::views(&state, hosts.items).await?;
    Ok(Json(AdvisoryView {
        advisory: serde_json::to_value(&advisory).map_err(crate::ApiError::internal)?,
        affected_hosts: List::new(items, hosts.total, page),
    }))
}
