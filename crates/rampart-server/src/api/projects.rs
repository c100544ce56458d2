//! Projects: named label selectors over hosts. CRUD.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_store::{NewProject, Project, ProjectUpdate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::admin::check_name;
use crate::auth::{Authorized, ProjectsCreate, ProjectsDelete, ProjectsRead, ProjectsUpdate};
use crate::{ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, update_project, delete_project))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ProjectView {
    id: String,
    name: String,
    description: String,
    /// A host belongs when it carries every one of these labels.
    selector: BTreeMap<String, String>,
    created_at: i64,
    updated_at: i64,
}

impl From<Project> for ProjectView {
    fn from(p: Project) -> ProjectView {
        ProjectView {
            id: p.id,
            name: p.name,
            description: p.description,
            selector: p.selector,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProject {
    #[schema(value_type = super::params::Name)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    #[schema(value_type = super::params::Labels)]
    selector: BTreeMap<String, String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateProject {
    #[schema(value_type = Option<super::params::Name>)]
    name: Option<String>,
    description: Option<String>,
    #[schema(value_type = Option<super::params::Labels>)]
    selector: Option<BTreeMap<String, String>>,
}

/// Every project.
#[utoipa::path(get, path = "/", tag = "projects", params(("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<ProjectView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_projects(
    _auth: Authorized<ProjectsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<ProjectView>>> {
    let page = query.only(&[])?.page()?;
    let projects = state.store().list_projects().await?;
    Ok(Json(List::paged(
        projects.into_iter().map(ProjectView::from).collect(),
        page,
    )))
}

/// Creates a project.
#[utoipa::path(post, path = "/", tag = "projects", request_body = CreateProject, responses(
    (status = 201, body = ProjectView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn create_project(
    auth: Authorized<ProjectsCreate>,
    State(state): State<AppState>,
    Json(req): Json<CreateProject>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    check_name("project name", &req.name)?;
    super::hosts::check_labels(&req.selector)?;
    let project = state
        .store()
        .create_project(
            NewProject {
                name: &req.name,
                description: &req.description,
                selector: &req.selector,
            },
            state.now(),
        )
        .await?;
    tracing::info!(by = %auth.user.name, project = %project.name, "project created");
    Ok((StatusCode::CREATED, Json(ProjectView::from(project))))
}

/// One project.
#[utoipa::path(get, path = "/{id}", tag = "projects", params(("id" = String, Path)), responses(
    (status = 200, body = ProjectView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_project(
    _auth: Authorized<ProjectsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ProjectView>> {
    Ok(Json(ProjectView::from(
        state.store().get_project(&id).await?,
    )))
}

/// Changes a project's name, description or selector.
#[utoipa::path(patch, path = "/{id}", tag = "projects", params(("id" = String, Path)), request_body = UpdateProject, responses(
    (status = 200, body = ProjectView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn update_project(
    auth: Authorized<ProjectsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<UpdateProject>,
) -> ApiResult<Json<ProjectView>> {
    if let Some(name) = &req.name {
        check_name("project name", name)?;
    }
    if let Some(selector) = &req.selector {
        super::hosts::check_labels(selector)?;
    }
    let project = state
        .store()
        .update_project(
            &id,
            ProjectUpdate {
                name: req.name.as_deref(),
                description: req.description.as_deref(),
                selector: req.selector.as_ref(),
            },
            state.now(),
        )
        .await?;
    tracing::info!(by = %auth.user.name, project = %project.name, "project updated");
    Ok(Json(ProjectView::from(project)))
}

/// Deletes a project (its hosts stay).
#[utoipa::path(delete, path = "/{id}", tag = "projects", params(("id" = String, Path)), responses(
    (status = 204, description = "deleted"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn delete_project(
    auth: Authorized<ProjectsDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    state.store().delete_project(&id).await?;
    tracing::info!(by = %auth.user.name, project_id = %id, "project deleted");
    Ok(StatusCode::NO_CONTENT)
}
