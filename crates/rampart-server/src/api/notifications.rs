//! Notification channels (CRUD, "send a test") and the delivery outbox (list, retry).
//! Channel secrets are write-only: sealed on the way in, never returned; a webhook
//! created without one gets a generated signing secret, shown once in the answer.

use std::str::FromStr as _;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use rampart_notify::EventKind;
use rampart_store::{
    ChannelUpdate, Delivery, DeliveryFilter, DeliveryStatus, NewChannel, NotificationChannel,
};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Json, List, Query};
use crate::admin::check_name;
use crate::auth::{
    Authorized, NotificationsCreate, NotificationsDelete, NotificationsRead, NotificationsUpdate,
};
use crate::notifier::{self, KIND_WEBHOOK};
use crate::{ApiError, ApiResult, AppState};

/// Prefix of generated webhook signing secrets.
pub(crate) const WEBHOOK_SECRET_PREFIX: &str = "whsec_";

pub(super) fn channels_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(test_channel))
}

pub(super) fn deliveries_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_deliveries))
        .routes(routes!(get_delivery))
        .routes(routes!(retry_delivery))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ChannelView {
    pub(crate) id: String,
    pub(crate) name: String,
    /// `email` or `webhook`.
    kind: String,
    /// The kind's settings, never the secret; a webhook's `url` shows its scheme and host
    /// only (the full URL is sealed at rest, and sending this value back keeps it).
    #[schema(value_type = Object)]
    config: serde_json::Value,
    /// Whether a secret (webhook signing key, SMTP password) is stored.
    has_secret: bool,
    /// Event kinds the channel receives.
    events: Vec<String>,
    /// Only events concerning this project.
    project_id: Option<String>,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<NotificationChannel> for ChannelView {
    fn from(c: NotificationChannel) -> ChannelView {
        ChannelView {
            config: notifier::config_for_view(
                &c.kind,
                serde_json::from_str(&c.config).unwrap_or(serde_json::Value::Null),
            ),
            has_secret: c.secret.is_some(),
            id: c.id,
            name: c.name,
            kind: c.kind,
            events: c.events,
            project_id: c.project_id,
            enabled: c.enabled,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A created channel; `generated_secret` only when the server made the webhook's
/// signing secret, and only in this answer.
#[derive(Serialize, ToSchema)]
pub(crate) struct CreatedChannel {
    #[serde(flatten)]
    pub(crate) channel: ChannelView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) generated_secret: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateChannel {
    #[schema(value_type = super::params::Name)]
    pub(crate) name: String,
    #[schema(value_type = super::params::ChannelKind)]
    pub(crate) kind: String,
    /// Email: `host`, `port`, `security` (`starttls` default, `tls`, `plain` for loopback
    /// only), `username`, `from`, `to`, `ca_pem`, `hello_name`, `timeout_secs`.
    /// Webhook: `url`, `ca_pem`, `ticketing`, `timeout_secs`.
    #[schema(value_type = Object)]
    pub(crate) config: serde_json::Value,
    /// SMTP password or webhook signing secret; a webhook without one gets a generated
    /// secret.
    pub(crate) secret: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<super::params::EventKind>)]
    pub(crate) events: Vec<String>,
    pub(crate) project_id: Option<String>,
    #[serde(default = "yes")]
    pub(crate) enabled: bool,
}

fn yes() -> bool {
    true
}

/// `null` (clear) is not the same as absent (keep).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateChannel {
    #[schema(value_type = Option<super::params::Name>)]
    name: Option<String>,
    #[schema(value_type = Option<Object>)]
    config: Option<serde_json::Value>,
    /// A new secret, or `null` to remove it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    secret: Option<Option<String>>,
    #[schema(value_type = Option<Vec<super::params::EventKind>>)]
    events: Option<Vec<String>>,
    /// A project, or `null` for every project.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    project_id: Option<Option<String>>,
    enabled: Option<bool>,
}

fn check_events(events: &[String]) -> ApiResult<()> {
    for e in events {
        EventKind::from_str(e).map_err(ApiError::bad_request)?;
    }
    Ok(())
}

/// Every channel.
#[utoipa::path(get, path = "/", tag = "notifications", params(("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query)), responses(
    (status = 200, body = List<ChannelView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_channels(
    _auth: Authorized<NotificationsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<ChannelView>>> {
    let page = query.only(&[])?.page()?;
    let channels = state.store().list_channels().await?;
    Ok(Json(List::paged(
        channels.into_iter().map(ChannelView::from).collect(),
        page,
    )))
}

/// Creates a channel.
#[utoipa::path(post, path = "/", tag = "notifications", request_body = CreateChannel, responses(
    (status = 201, body = CreatedChannel),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn create_channel(
    auth: Authorized<NotificationsCreate>,
    State(state): State<AppState>,
    Json(req): Json<CreateChannel>,
) -> ApiResult<(StatusCode, Json<CreatedChannel>)> {
    let created = create(&state, &auth.user.name, req).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Validates and stores a channel — what `POST /notification-channels` and the web
/// form both do: name, event kinds and the config checked (`notifier::config_for_store`), the secret (or a
/// generated `whsec_…` for a webhook without one) sealed before it reaches the store.
pub(crate) async fn create(
    state: &AppState,
    by: &str,
    req: CreateChannel,
) -> ApiResult<CreatedChannel> {
    check_name("channel name", &req.name)?;
    check_events(&req.events)?;
    let config = notifier::config_for_store(state, &req.kind, req.config, None)?;
    let config = serde_json::to_string(&config).map_err(ApiError::internal)?;
    let generated = (req.secret.is_none() && req.kind == KIND_WEBHOOK)
        .then(|| format!("{WEBHOOK_SECRET_PREFIX}{}", crate::secrets::random_secret()));
    let secret = req.secret.as_deref().or(generated.as_deref());
    let sealed = secret
        .map(|s| notifier::seal_secret(state, s))
        .transpose()?;
    let channel = state
        .store()
        .create_channel(
            NewChannel {
                name: &req.name,
                kind: &req.kind,
                config: &config,
                secret: sealed.as_deref(),
                events: &req.events,
                project_id: req.project_id.as_deref(),
                enabled: req.enabled,
            },
            state.now(),
        )
        .await?;
    tracing::info!(by = %by, channel = %channel.name, kind = %channel.kind, "notification channel created");
    Ok(CreatedChannel {
        channel: channel.into(),
        generated_secret: generated,
    })
}

/// One channel.
#[utoipa::path(get, path = "/{id}", tag = "notifications", params(("id" = String, Path)), responses(
    (status = 200, body = ChannelView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_channel(
    _auth: Authorized<NotificationsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ChannelView>> {
    Ok(Json(state.store().get_channel(&id).await?.into()))
}

/// Changes a channel.
#[utoipa::path(patch, path = "/{id}", tag = "notifications", params(("id" = String, Path)), request_body = UpdateChannel, responses(
    (status = 200, body = ChannelView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn update_channel(
    auth: Authorized<NotificationsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Json(req): Json<UpdateChannel>,
) -> ApiResult<Json<ChannelView>> {
    let current = state.store().get_channel(&id).await?;
    if let Some(name) = &req.name {
        check_name("channel name", name)?;
    }
    if let Some(events) = &req.events {
        check_events(events)?;
    }
    let config = match &req.config {
        Some(config) => {
            let previous: Option<serde_json::Value> = serde_json::from_str(&current.config).ok();
            let config = notifier::config_for_store(
                &state,
                &current.kind,
                config.clone(),
                previous.as_ref(),
            )?;
            Some(serde_json::to_string(&config).map_err(ApiError::internal)?)
        }
        None => None,
    };
    let sealed = match &req.secret {
        Some(Some(secret)) => Some(Some(notifier::seal_secret(&state, secret)?)),
        Some(None) => Some(None),
        None => None,
    };
    let channel = state
        .store()
        .update_channel(
            &id,
            ChannelUpdate {
                name: req.name.as_deref(),
                config: config.as_deref(),
                secret: sealed.as_ref().map(|s| s.as_deref()),
                events: req.events.as_deref(),
                project_id: req.project_id.as_ref().map(|p| p.as_deref()),
                enabled: req.enabled,
            },
            state.now(),
        )
        .await?;
    tracing::info!(by = %auth.user.name, channel = %channel.name, "notification channel updated");
    Ok(Json(channel.into()))
}

/// Deletes a channel and its deliveries.
#[utoipa::path(delete, path = "/{id}", tag = "notifications", params(("id" = String, Path)), responses(
    (status = 204, description = "deleted"),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn delete_channel(
    auth: Authorized<NotificationsDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    delete(&state, &auth.user.name, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes a channel and its deliveries (the API's `DELETE` and the web's button).
pub(crate) async fn delete(state: &AppState, by: &str, id: &str) -> ApiResult<()> {
    state.store().delete_channel(id).await?;
    tracing::info!(by = %by, channel_id = %id, "notification channel deleted");
    Ok(())
}

/// Turns a channel on or off (the web's button; the API's `PATCH {"enabled"}`).
pub(crate) async fn set_enabled(
    state: &AppState,
    by: &str,
    id: &str,
    enabled: bool,
) -> ApiResult<NotificationChannel> {
    let channel = state
        .store()
        .update_channel(
            id,
            ChannelUpdate {
                enabled: Some(enabled),
                ..ChannelUpdate::default()
            },
            state.now(),
        )
        .await?;
    tracing::info!(by = %by, channel = %channel.name, enabled, "notification channel updated");
    Ok(channel)
}

/// Sends a `test` event to the channel now and answers with the delivery as it stands
/// after that attempt (a failure shows in `last_error` and is retried like any other).
#[utoipa::path(post, path = "/{id}/test", tag = "notifications", params(("id" = String, Path)), responses(
    (status = 200, body = DeliveryView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn test_channel(
    auth: Authorized<NotificationsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryView>> {
    let channel = state.store().get_channel(&id).await?;
    let delivery = notifier::test_channel(&state, &channel, &auth.user.name).await?;
    Ok(Json(DeliveryView::new(delivery, Some(channel.name))))
}

#[derive(Serialize, ToSchema)]
pub(crate) struct DeliveryView {
    id: String,
    channel_id: String,
    channel_name: Option<String>,
    event_id: String,
    event_kind: String,
    /// `pending` (due at `next_attempt_at`), `delivered` or `failed` (given up).
    status: String,
    attempts: u32,
    /// When the next attempt is due; only for pending deliveries.
    next_attempt_at: Option<i64>,
    /// Why the last attempt failed.
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
    delivered_at: Option<i64>,
}

impl DeliveryView {
    fn new(d: Delivery, channel_name: Option<String>) -> DeliveryView {
        DeliveryView {
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            status: d.status.as_str().to_owned(),
            id: d.id,
            channel_id: d.channel_id,
            channel_name,
            event_id: d.event_id,
            event_kind: d.event_kind,
            attempts: d.attempts,
            last_error: d.last_error,
            created_at: d.created_at,
            updated_at: d.updated_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// Deliveries, newest first.
#[utoipa::path(get, path = "/", tag = "notifications", params(
    ("status" = Option<super::params::DeliveryStatus>, Query),
    ("channel" = Option<String>, Query, description = "channel id"),
    ("event" = Option<String>, Query, description = "event id"),
    ("limit" = Option<u32>, Query, maximum = 1000), ("offset" = Option<u64>, Query),
), responses(
    (status = 200, body = List<DeliveryView>),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn list_deliveries(
    _auth: Authorized<NotificationsRead>,
    State(state): State<AppState>,
    query: Query,
) -> ApiResult<Json<List<DeliveryView>>> {
    let query = query.only(&["status", "channel", "event"])?;
    let page = query.page()?;
    let filter = DeliveryFilter {
        status: query.parsed::<DeliveryStatus>("status")?,
        channel_id: query.one("channel")?,
        event_id: query.one("event")?,
    };
    let found = state.store().list_deliveries(&filter, page).await?;
    let names: std::collections::HashMap<String, String> = state
        .store()
        .list_channels()
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let items = found
        .items
        .into_iter()
        .map(|d| {
            let name = names.get(&d.channel_id).cloned();
            DeliveryView::new(d, name)
        })
        .collect();
    Ok(Json(List::new(items, found.total, page)))
}

/// One delivery.
#[utoipa::path(get, path = "/{id}", tag = "notifications", params(("id" = String, Path)), responses(
    (status = 200, body = DeliveryView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn get_delivery(
    _auth: Authorized<NotificationsRead>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryView>> {
    let d = state.store().get_delivery(&id).await?;
    let name = state
        .store()
        .get_channel(&d.channel_id)
        .await
        .ok()
        .map(|c| c.name);
    Ok(Json(DeliveryView::new(d, name)))
}

/// Makes a pending or failed delivery due now (the dispatcher sends it at its next
/// round); 409 for a delivered one.
#[utoipa::path(post, path = "/{id}/retry", tag = "notifications", params(("id" = String, Path)), responses(
    (status = 200, body = DeliveryView),
    (status = "4XX", description = "error", body = super::ErrorResponse),
))]
async fn retry_delivery(
    auth: Authorized<NotificationsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryView>> {
    let d = retry(&state, &auth.user.name, &id).await?;
    let name = state
        .store()
        .get_channel(&d.channel_id)
        .await
        .ok()
        .map(|c| c.name);
    Ok(Json(DeliveryView::new(d, name)))
}

/// Makes a pending or failed delivery due now; 409 for a delivered one. The API's
/// retry and the web's button.
pub(crate) async fn retry(state: &AppState, by: &str, id: &str) -> ApiResult<Delivery> {
    let d = match state.store().retry_delivery(id, state.now()).await {
        Err(rampart_store::Error::Conflict { .. }) => {
            return Err(ApiError::Conflict("the delivery already succeeded".into()));
        }
        other => other?,
    };
    tracing::info!(by = %by, delivery = %d.id, "notification retry requested");
    Ok(d)
}
