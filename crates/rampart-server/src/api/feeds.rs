//! Advisory feeds: import one (file, directory, zip or URL) and list what was imported.
//! An import parses on the blocking pool, upserts the advisories, records the import,
//! swaps in a rebuilt index and recomputes every host's findings.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{Authorized, FeedsCreate, FeedsRead};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_feeds))
        .routes(routes!(import_feed))
}

/// A feed's latest import.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    pub source: String,
    pub imported_at: i64,
    pub record_count: u64,
    pub problem_count: u64,
    pub generation: u64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportRequest {
    /// A path on the server (OSV file, directory or zip; Alpine secdb) or an http(s) URL.
    source: String,
}

/// What a feed import did (the answer of `POST /api/v1/feeds/import`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    pub feed: FeedView,
    /// Advisories inserted or changed by this import.
    pub changed: u64,
    /// The first problems met (records skipped), at most 20.
    pub problems: Vec<String>,
    pub hosts_recomputed: u64,
    pub findings: u64,
}

fn view(f: rampart_store::FeedStatus) -> FeedView {
    FeedView {
        source: f.source,
        imported_at: f.imported_at,
        record_count: f.record_count,
        problem_count: f.problem_count,
        generation: f.generation,
    }
}

/// Every imported feed with its latest import.
#[utoipa::path(get, path = "/", tag = "feeds", params(("limit" = Option<u32>, Query), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<FeedView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_feeds(
    _auth: Authorized<FeedsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<FeedView>>> {
    let page = query.only(&[])?.page()?;
    let feeds = state.store().list_feeds().await?;
    Ok(Json(List::paged(
        feeds.into_iter().map(view).collect(),
        page,
    )))
}

/// Imports a feed and recomputes findings.
#[utoipa::path(post, path = "/import", tag = "feeds", request_body = ImportRequest, responses(
    (status = 200, body = ImportResult),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn import_feed(
    auth: Authorized<FeedsCreate>,
    State(state): State<AppState>,
    Json(req): Json<ImportRequest>,
) -> ApiResult<Json<ImportResult>> {
    import(&state, &req.source, &auth.user.name).await.map(Json)
}

/// Imports a feed (a path on the server or an http(s) URL) and recomputes every host's
/// findings: the one import path, shared by the API handler and `rampart up`. `by`
/// names who asked, for the log. An unreadable source is a 400 naming the problem.
pub async fn import(state: &AppState, source: &str, by: &str) -> ApiResult<ImportResult> {
    let source = source.trim().to_owned();
    if source.is_empty() {
        return Err(ApiError::bad_request("source must name a path or URL"));
    }
    let cache_dir = state.config().feed_cache_dir.clone();
    let src = source.clone();
    let load = tokio::task::spawn_blocking(move || {
        let opts = rampart_feeds::LoadOptions {
            cache_dir,
            ..rampart_feeds::LoadOptions::default()
        };
        rampart_feeds::load(&src, &opts)
    })
    .await
    .map_err(ApiError::internal)?
    // The operator named the source; what went wrong reading it is theirs to fix.
    .map_err(|e| {
        ApiError::bad_request(format!(
            "cannot load feed: {}",
            crate::error::error_chain(&e)
        ))
    })?;
    let now = state.now();
    let changed = state
        .store()
        .upsert_advisories(&source, &load.advisories, now)
        .await?;
    let feed = state
        .store()
        .record_feed_import(
            rampart_store::FeedImport {
                source: &source,
                records: load.advisories.len() as u64,
                problems: load.problems.len() as u64,
            },
            now,
        )
        .await?;
    state.engine().reload_index().await?;
    let stats = state.engine().recompute_all(now).await?;
    state.compliance().evaluate_all(None, now).await?;
    tracing::info!(
        by = %by, source = %source, records = load.advisories.len(),
        problems = load.problems.len(), changed, findings = stats.findings, "feed imported"
    );
    Ok(ImportResult {
        feed: view(feed),
        changed,
        problems: load
            .problems
            .iter()
            .take(20)
            .map(|p| format!("{}: {}", p.location, p.reason))
            .collect(),
        hosts_recomputed: stats.hosts,
        findings: stats.findings,
    })
}
