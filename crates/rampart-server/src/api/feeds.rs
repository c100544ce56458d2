//! Advisory feeds: upload one, sync the sources the administrator configured, and list
//! what was imported.
//!
//! The server never opens a path or fetches a URL named in a request: a client uploads
//! the feed's bytes (`POST /api/v1/feeds/import`, an OSV zip, JSON record or array, or
//! an Alpine secdb file; `rampart feeds import` zips a directory and downloads a URL
//! itself), and the only server-side sources are those in the configuration
//! ([`crate::ServerConfig::feed_sources`]), synced on a schedule or on request
//! (`POST /api/v1/feeds/sync`). Downloads obey the server's egress policy, and no
//! error quotes a file's contents.
//!
//! An import parses on the blocking pool, upserts the advisories, records the import,
//! swaps in a rebuilt index and recomputes every host's findings.

use std::path::Path;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::auth::{Authorized, FeedsCreate, FeedsRead};
use crate::{ApiError, ApiResult, AppState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // The upload streams its body to disk under its own limit
        // (`ServerConfig::max_feed_upload_bytes`); this layer covers only it.
        .routes(routes!(import_feed))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .routes(routes!(list_feeds))
        .routes(routes!(list_sources))
        .routes(routes!(sync_feeds))
}

/// A feed's latest import.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedView {
    /// `upload:<name>` for an uploaded feed, else the configured source.
    pub source: String,
    pub imported_at: i64,
    pub record_count: u64,
    pub problem_count: u64,
    pub generation: u64,
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

/// One configured source's sync (an element of `POST /api/v1/feeds/sync`'s answer).
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncResult {
    pub source: String,
    /// The import, when the source could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportResult>,
    /// Why it could not, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A source the server syncs by itself (from its configuration).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SourceView {
    pub source: String,
    /// `url` or `path`.
    pub kind: String,
}

fn view(f: rampart_store::FeedStatus) -> FeedView {
    FeedView {
        source: redact(&f.source),
        imported_at: f.imported_at,
        record_count: f.record_count,
        problem_count: f.problem_count,
        generation: f.generation,
    }
}

/// Every imported feed with its latest import.
#[utoipa::path(get, path = "/", tag = "feeds", params(("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
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

/// The sources the server syncs by itself, from its configuration (`feeds` in
/// `rampart.toml`, `--feed`). They are changed there, by whoever administers the
/// server, never through the API.
#[utoipa::path(get, path = "/sources", tag = "feeds", responses(
    (status = 200, body = Vec<SourceView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_sources(
    _auth: Authorized<FeedsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<Vec<SourceView>>> {
    query.only(&[])?;
    Ok(Json(
        state
            .config()
            .feed_sources
            .iter()
            .map(|s| SourceView {
                source: redact(s),
                kind: if is_url(s) { "url" } else { "path" }.to_owned(),
            })
            .collect(),
    ))
}

/// A source as shown to API clients and written to logs: a URL without its user
/// information (`user:password@`) and with its query replaced by `?…` (feed providers
/// that need credentials often carry them there).
fn redact(source: &str) -> String {
    if !is_url(source) {
        return source.to_owned();
    }
    let (scheme, rest) = source.split_once("://").unwrap_or(("", source));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, _)) => (b, "?…"),
        None => (rest, ""),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => before_query.split_at(i),
        None => (before_query, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}://{host}{path}{query}")
}

fn is_url(source: &str) -> bool {
    let lower = source.get(..8).unwrap_or(source).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Syncs every configured source now, one after the other; each element says what its
/// sync did or why it failed. 409 while another import or sync runs.
#[utoipa::path(post, path = "/sync", tag = "feeds", responses(
    (status = 200, body = Vec<SyncResult>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn sync_feeds(
    auth: Authorized<FeedsCreate>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<Vec<SyncResult>>> {
    query.only(&[])?;
    let Ok(guard) = state.feed_work().clone().try_lock_owned() else {
        return Err(ApiError::Conflict(
            "a feed import or sync is running; try again when it has finished".into(),
        ));
    };
    let by = auth.user.name.clone();
    // Detached, so a client that gives up (or the request timeout) cannot stop a sync
    // half way through.
    let task = tokio::spawn(async move {
        let _guard = guard;
        sync_locked(&state, &by).await
    });
    task.await.map(Json).map_err(ApiError::internal)
}

/// Syncs every configured source: the one path of the scheduled sync, `rampart up`
/// and `POST /api/v1/feeds/sync`. A source that fails is reported and the others still
/// sync. Waits for an import or sync already running.
pub async fn sync_configured(state: &AppState, by: &str) -> Vec<SyncResult> {
    let _guard = state.feed_work().lock().await;
    sync_locked(state, by).await
}

async fn sync_locked(state: &AppState, by: &str) -> Vec<SyncResult> {
    let mut results = Vec::new();
    for source in state.config().feed_sources.clone() {
        let result = sync_source(state, &source, by).await;
        let shown = redact(&source);
        let (import, error) = match result {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string().replace(&source, &shown))),
        };
        match (&import, &error) {
            (Some(r), _) => tracing::info!(
                feed = ?shown, changed = r.changed, findings = r.findings, "feed synced"
            ),
            (None, e) => tracing::warn!(feed = ?shown, error = ?e, "feed sync failed"),
        }
        results.push(SyncResult {
            source: shown,
            import,
            error,
        });
    }
    results
}

/// Loads one configured source (path or URL) under the server's egress policy.
async fn sync_source(state: &AppState, source: &str, by: &str) -> ApiResult<ImportResult> {
    let config = state.config();
    let cache_dir = config.feed_cache_dir.clone();
    let egress = config.egress.clone();
    let max_file_bytes = config.max_feed_upload_bytes;
    let src = source.to_owned();
    let load = tokio::task::spawn_blocking(move || {
        let opts = rampart_feeds::LoadOptions {
            cache_dir,
            egress,
            max_file_bytes,
            ..rampart_feeds::LoadOptions::default()
        };
        rampart_feeds::load(&src, &opts)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| {
        ApiError::bad_request(format!(
            "cannot load feed: {}",
            crate::error::error_chain(&e)
        ))
    })?;
    store_import(state, source, load, by).await
}

#[derive(Deserialize)]
struct UploadParams {
    name: Option<String>,
}

/// Imports an uploaded feed and recomputes findings. The body is the feed itself: an
/// OSV `all.zip`, one OSV record or a JSON array of them, or an Alpine secdb YAML
/// file, told apart by content (`Content-Type: application/octet-stream`,
/// `application/zip`, `application/json` or `application/yaml`). `name` labels it
/// (`upload:<name>` in the feed list; default `upload`); importing the same name again
/// replaces what it imported before.
#[utoipa::path(post, path = "/import", tag = "feeds",
    params(("name" = Option<String>, Query, description = "label of the uploaded feed (1-100 printable characters)", min_length = 1, max_length = 100, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$")),
    request_body(content = super::params::FeedFile, content_type = "application/octet-stream", description = "the feed file: OSV zip, OSV JSON, or Alpine secdb YAML"),
    responses(
        (status = 200, body = ImportResult),
        (status = "4XX", description = "error: bad_request (not a feed), payload_too_large, unsupported_media_type", body = super::ErrorResponse),
))]
async fn import_feed(
    auth: Authorized<FeedsCreate>,
    State(state): State<AppState>,
    query: Query,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ImportResult>> {
    let query = query.only(&["name"])?;
    let params = UploadParams {
        name: query.one("name")?,
    };
    let name = upload_name(params.name.as_deref())?;
    check_upload_type(&headers)?;
    let file = receive(&state, body).await?;
    let location = format!("upload:{name}");
    let by = auth.user.name.clone();
    // One import at a time, detached from the request: once the upload is complete, a
    // client that gives up (or the request timeout) cannot leave it half done.
    let guard = state.feed_work().clone().lock_owned().await;
    let task = tokio::spawn(async move {
        let _guard = guard;
        let loc = location.clone();
        let max_file_bytes = state.config().max_feed_upload_bytes;
        let load = tokio::task::spawn_blocking(move || {
            let opts = rampart_feeds::LoadOptions {
                max_file_bytes,
                ..rampart_feeds::LoadOptions::default()
            };
            let path: &Path = file.path();
            rampart_feeds::load_file_as(path, &loc, &opts)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::bad_request(format!("cannot load feed: {}", upload_error(&e))))?;
        store_import(&state, &location, load, &by).await
    });
    task.await.map_err(ApiError::internal)?.map(Json)
}

/// An uploaded feed's error, without the temporary path it was spooled to.
fn upload_error(e: &rampart_feeds::Error) -> String {
    match e {
        rampart_feeds::Error::Io { source, .. } => format!("cannot read the upload: {source}"),
        rampart_feeds::Error::TooLarge { limit, .. } => {
            format!("the feed is larger than the limit of {limit} bytes")
        }
        other => crate::error::error_chain(other),
    }
}

/// `name` as given, or `upload`; 1–100 characters, none of them control characters,
/// not only white space (what the document's pattern says, checked on the name as sent).
fn upload_name(name: Option<&str>) -> ApiResult<String> {
    let name = name.unwrap_or("upload");
    if name.trim().is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "name must be 1-100 printable characters",
        ));
    }
    Ok(name.to_owned())
}

/// The media types a feed arrives as; the content decides the format.
fn check_upload_type(headers: &HeaderMap) -> ApiResult<()> {
    let ty = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    match ty.as_deref() {
        Some(
            "application/octet-stream"
            | "application/zip"
            | "application/json"
            | "application/yaml"
            | "application/x-yaml"
            | "text/yaml",
        ) => Ok(()),
        _ => Err(ApiError::UnsupportedMediaType(
            "send the feed file as application/octet-stream (or application/zip, \
             application/json, application/yaml)"
                .into(),
        )),
    }
}

/// Streams the body into a temporary file (removed when dropped) in the feed cache
/// (the data directory), refusing more than the upload limit: a large `all.zip` never
/// sits in memory.
async fn receive(state: &AppState, body: Body) -> ApiResult<tempfile::NamedTempFile> {
    use http_body_util::BodyExt as _;
    use tokio::io::AsyncWriteExt as _;

    let limit = state.config().max_feed_upload_bytes;
    let dir = state.config().feed_cache_dir.clone();
    let file = tokio::task::spawn_blocking(move || match dir {
        Some(dir) => std::fs::create_dir_all(&dir)
            .and_then(|()| tempfile::Builder::new().prefix("upload-").tempfile_in(dir)),
        None => tempfile::Builder::new()
            .prefix("rampart-upload-")
            .tempfile(),
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let handle = file.reopen().map_err(ApiError::internal)?;
    let mut writer = tokio::io::BufWriter::new(tokio::fs::File::from_std(handle));
    let mut received = 0u64;
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::bad_request(format!("reading the upload: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        received += data.len() as u64;
        if received > limit {
            return Err(ApiError::Status {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "payload_too_large",
                message: format!("the feed exceeds the upload limit of {limit} bytes"),
            });
        }
        writer.write_all(&data).await.map_err(ApiError::internal)?;
    }
    writer.flush().await.map_err(ApiError::internal)?;
    if received == 0 {
        return Err(ApiError::bad_request(
            "the body is empty: send the feed file itself",
        ));
    }
    Ok(file)
}

/// Stores a loaded feed under `source` and recomputes findings and compliance.
async fn store_import(
    state: &AppState,
    source: &str,
    load: rampart_feeds::FeedLoad,
    by: &str,
) -> ApiResult<ImportResult> {
    let now = state.now();
    let changed = state
        .store()
        .upsert_advisories(source, &load.advisories, now)
        .await?;
    let feed = state
        .store()
        .record_feed_import(
            rampart_store::FeedImport {
                source,
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
        by = ?by, source = ?redact(source), records = load.advisories.len(),
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

#[cfg(test)]
mod tests {
    #[test]
    fn sources_are_shown_without_credentials() {
        for (source, shown) in [
            (
                "https://osv.example/Debian/all.zip",
                "https://osv.example/Debian/all.zip",
            ),
            (
                "https://user:s3cret@mirror.example:8443/all.zip",
                "https://mirror.example:8443/all.zip",
            ),
            (
                "https://feeds.example/all.zip?token=abc",
                "https://feeds.example/all.zip?…",
            ),
            ("https://a@b.example", "https://b.example"),
            ("/srv/feeds/osv", "/srv/feeds/osv"),
        ] {
            assert_eq!(super::redact(source), shown, "{source}");
        }
    }
}
