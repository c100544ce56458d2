//! Notifications: the channels (kind, events, project filter, enabled, the last
//! delivery's outcome) and the delivery outbox filtered by status, with failures and
//! retries standing out — issue 4's "failures visible in the UI". Admins get the
//! channel form, "send test", enable/disable, delete and "retry" buttons. Every write
//! goes through the API's own functions (`api::notifications::{create, retry, delete,
//! set_enabled}`, `notifier::test_channel`), so validation and URL sealing (`config_for_store`),
//! sealing (`seal_secret`) and the permission rules are the API's. Secrets are never
//! rendered; a generated webhook signing secret is shown once, in the answer to the
//! form that created it.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rampart_notify::EventKind;
use rampart_store::{Delivery, DeliveryFilter, DeliveryStatus, NotificationChannel, Page};
use serde_json::json;

use super::hosts::{PAGE_SIZE, Pager, page_window};
use super::text::datetime;
use super::{Chrome, FormData, Html, QueryPairs, WebAuthorized, WebError, WebResult, see_other};
use crate::api::notifications::{CreateChannel, create, delete, retry, set_enabled};
use crate::auth::{
    NotificationsCreate, NotificationsDelete, NotificationsRead, NotificationsUpdate,
    RequiredPermission,
};
use crate::notifier::{self, KIND_EMAIL, KIND_WEBHOOK};
use crate::{ApiError, AppState};

/// The last delivery of a channel, as its row shows it.
struct LastDelivery {
    status: &'static str,
    at: String,
    error: String,
}

struct ChannelRow {
    id: String,
    name: String,
    kind: String,
    /// Where it goes: the recipients, or the webhook URL without its query.
    target: String,
    ticketing: bool,
    events: String,
    project: String,
    enabled: bool,
    last: Option<LastDelivery>,
}

struct DeliveryRow {
    id: String,
    channel: String,
    event_kind: String,
    status: &'static str,
    attempts: u32,
    last_error: String,
    next_attempt: String,
    created: String,
    /// Failed, or pending after a failed attempt: the row stands out.
    trouble: bool,
    can_retry: bool,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The channel form's values, echoed after a refused submission (never the password
/// or secret).
struct ChannelForm {
    name: String,
    kind: String,
    host: String,
    port: String,
    security: String,
    username: String,
    from: String,
    to: String,
    url: String,
    ticketing: bool,
    events: Vec<String>,
    project: String,
}

impl Default for ChannelForm {
    fn default() -> ChannelForm {
        ChannelForm {
            name: String::new(),
            kind: KIND_WEBHOOK.into(),
            host: String::new(),
            port: String::new(),
            security: "starttls".into(),
            username: String::new(),
            from: String::new(),
            to: String::new(),
            url: String::new(),
            ticketing: false,
            events: Vec::new(),
            project: String::new(),
        }
    }
}

/// A secret the server generated for a channel just created: shown this once.
struct Generated {
    channel: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    chrome: Chrome,
    notice: Option<String>,
    error: Option<String>,
    generated: Option<Generated>,
    status: String,
    statuses: Vec<Choice>,
    channels: Vec<ChannelRow>,
    deliveries: Vec<DeliveryRow>,
    pager: Pager,
    may_create: bool,
    may_update: bool,
    may_delete: bool,
    form: ChannelForm,
    events: Vec<Choice>,
    securities: Vec<Choice>,
    projects: Vec<Choice>,
}

const STATUSES: [DeliveryStatus; 3] = [
    DeliveryStatus::Pending,
    DeliveryStatus::Delivered,
    DeliveryStatus::Failed,
];

const SECURITIES: [(&str, &str); 3] = [
    ("starttls", "STARTTLS (port 587)"),
    ("tls", "implicit TLS (port 465)"),
    ("plain", "plain (loopback only)"),
];

fn channel_row(c: NotificationChannel, projects: &BTreeMap<String, String>) -> ChannelRow {
    let config: serde_json::Value = serde_json::from_str(&c.config).unwrap_or_default();
    let target = match c.kind.as_str() {
        KIND_EMAIL => config["to"]
            .as_array()
            .map(|to| {
                to.iter()
                    .filter_map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default(),
        // The path or query may carry a token: scheme and host only.
        _ => crate::notifier::redact_url(config["url"].as_str().unwrap_or("")),
    };
    ChannelRow {
        ticketing: config["ticketing"].as_bool().unwrap_or(false),
        events: c.events.join(", "),
        project: c
            .project_id
            .as_ref()
            .map_or_else(String::new, |p| projects.get(p).unwrap_or(p).clone()),
        enabled: c.enabled,
        last: None,
        target,
        id: c.id,
        name: c.name,
        kind: c.kind,
    }
}

fn is_trouble(d: &Delivery) -> bool {
    d.status == DeliveryStatus::Failed
        || (d.status == DeliveryStatus::Pending && d.last_error.is_some())
}

async fn page(
    auth: &WebAuthorized<impl RequiredPermission>,
    state: &AppState,
    query: &QueryPairs,
    form: ChannelForm,
    error: Option<String>,
    generated: Option<Generated>,
) -> WebResult<NotificationsPage> {
    let store = state.store();
    let may_update = auth.may(state, NotificationsUpdate::PERMISSION);
    let projects = store.list_projects().await?;
    let project_names: BTreeMap<String, String> = projects
        .iter()
        .map(|p| (p.id.clone(), p.name.clone()))
        .collect();
    let stored = store.list_channels().await?;
    let names: BTreeMap<String, String> = stored
        .iter()
        .map(|c| (c.id.clone(), c.name.clone()))
        .collect();
    let mut channels = Vec::with_capacity(stored.len());
    for c in stored {
        let last = store
            .list_deliveries(
                &DeliveryFilter {
                    channel_id: Some(c.id.clone()),
                    ..DeliveryFilter::default()
                },
                Page {
                    limit: 1,
                    offset: 0,
                },
            )
            .await?
            .items
            .into_iter()
            .next();
        let mut row = channel_row(c, &project_names);
        row.last = last.map(|d| LastDelivery {
            status: if is_trouble(&d) && d.status == DeliveryStatus::Pending {
                "retrying"
            } else {
                d.status.as_str()
            },
            at: datetime(d.delivered_at.unwrap_or(d.updated_at)),
            error: d.last_error.unwrap_or_default(),
        });
        channels.push(row);
    }

    let status = query
        .get("status")
        .and_then(|s| s.parse::<DeliveryStatus>().ok());
    let number = query.page_number();
    let found = store
        .list_deliveries(
            &DeliveryFilter {
                status,
                ..DeliveryFilter::default()
            },
            page_window(number, PAGE_SIZE),
        )
        .await?;
    let status = status.map_or("", DeliveryStatus::as_str).to_owned();
    let deliveries = found
        .items
        .into_iter()
        .map(|d| DeliveryRow {
            trouble: is_trouble(&d),
            can_retry: may_update && d.status != DeliveryStatus::Delivered,
            channel: names
                .get(&d.channel_id)
                .cloned()
                .unwrap_or_else(|| d.channel_id.clone()),
            status: d.status.as_str(),
            attempts: d.attempts,
            next_attempt: if d.status == DeliveryStatus::Pending {
                datetime(d.next_attempt_at)
            } else {
                String::new()
            },
            created: datetime(d.created_at),
            last_error: d.last_error.unwrap_or_default(),
            event_kind: d.event_kind,
            id: d.id,
        })
        .collect();
    let pager = Pager::new(found.total, number, PAGE_SIZE, |n| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !status.is_empty() {
            q.append_pair("status", &status);
        }
        q.append_pair("page", &n.to_string());
        format!("/notifications?{}", q.finish())
    });
    let notice = notice(state, query).await;
    Ok(NotificationsPage {
        chrome: auth.chrome(state, "/notifications"),
        notice,
        error,
        generated,
        statuses: STATUSES
            .iter()
            .map(|s| Choice {
                value: s.as_str().to_owned(),
                label: s.as_str().to_owned(),
                selected: s.as_str() == status,
            })
            .collect(),
        status,
        channels,
        deliveries,
        pager,
        may_create: auth.may(state, NotificationsCreate::PERMISSION),
        may_update,
        may_delete: auth.may(state, NotificationsDelete::PERMISSION),
        events: EventKind::ALL
            .iter()
            .filter(|k| **k != EventKind::Test)
            .map(|k| Choice {
                value: k.as_str().to_owned(),
                label: k.as_str().to_owned(),
                selected: form.events.iter().any(|e| e == k.as_str()),
            })
            .collect(),
        securities: SECURITIES
            .iter()
            .map(|(value, label)| Choice {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                selected: *value == form.security,
            })
            .collect(),
        projects: projects
            .into_iter()
            .map(|p| Choice {
                selected: p.id == form.project,
                value: p.id,
                label: p.name,
            })
            .collect(),
        form,
    })
}

/// What the redirect after a button says happened.
async fn notice(state: &AppState, query: &QueryPairs) -> Option<String> {
    let id = query.get("id")?;
    match query.get("done")? {
        "created" => Some(format!("Channel {id} created.")),
        "deleted" => Some(format!("Channel {id} deleted with its deliveries.")),
        "enabled" => Some(format!("Channel {id} enabled.")),
        "disabled" => Some(format!("Channel {id} disabled.")),
        "retried" => Some(format!(
            "Delivery {id} is due again; the dispatcher sends it at its next round."
        )),
        "tested" => {
            let d = state.store().get_delivery(id).await.ok()?;
            Some(match d.status {
                DeliveryStatus::Delivered => format!("Test delivery {id} delivered."),
                _ => format!(
                    "Test delivery {id} failed: {}. It is retried like any other delivery.",
                    d.last_error.as_deref().unwrap_or("unknown error")
                ),
            })
        }
        _ => None,
    }
}

pub(super) async fn show(
    auth: WebAuthorized<NotificationsRead>,
    State(state): State<AppState>,
    query: QueryPairs,
) -> WebResult<Response> {
    let page = page(&auth, &state, &query, ChannelForm::default(), None, None).await?;
    Ok(Html(page).into_response())
}

/// Reads the channel form into the API's request; `Err` says what is wrong.
fn channel_request(form: &FormData, echo: &ChannelForm) -> Result<CreateChannel, String> {
    let (config, secret) = match echo.kind.as_str() {
        KIND_EMAIL => {
            let port = match echo.port.as_str() {
                "" => None,
                p => Some(
                    p.parse::<u16>()
                        .map_err(|_| "The port must be a number from 1 to 65535.".to_owned())?,
                ),
            };
            let to: Vec<&str> = echo
                .to
                .split([',', '\n', ' ', ';'])
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect();
            let mut config = json!({
                "host": echo.host, "security": echo.security, "from": echo.from, "to": to,
            });
            if let Some(port) = port {
                config["port"] = json!(port);
            }
            if !echo.username.is_empty() {
                config["username"] = json!(echo.username);
            }
            (config, form.raw("password"))
        }
        KIND_WEBHOOK => (
            json!({"url": echo.url, "ticketing": echo.ticketing}),
            form.raw("secret"),
        ),
        _ => return Err("Choose email or webhook.".into()),
    };
    Ok(CreateChannel {
        name: echo.name.clone(),
        kind: echo.kind.clone(),
        config,
        secret: secret.map(str::to_owned),
        events: echo.events.clone(),
        project_id: (!echo.project.is_empty()).then(|| echo.project.clone()),
        enabled: true,
    })
}

/// Creates a channel through `api::notifications::create`; a refused one comes back
/// as the form with what was wrong (400); a generated webhook secret is shown once.
pub(super) async fn create_channel(
    auth: WebAuthorized<NotificationsCreate>,
    State(state): State<AppState>,
    form: FormData,
) -> WebResult<Response> {
    let value = |k: &str| form.get(k).unwrap_or("").to_owned();
    let echo = ChannelForm {
        name: value("name"),
        kind: value("kind"),
        host: value("host"),
        port: value("port"),
        security: form.get("security").unwrap_or("starttls").to_owned(),
        username: value("username"),
        from: value("from"),
        to: value("to"),
        url: value("url"),
        ticketing: form.get("ticketing").is_some(),
        events: form.all("events"),
        project: value("project"),
    };
    let query = QueryPairs(Vec::new());
    let refused = |message: String, echo: ChannelForm| {
        let (auth, state, query) = (&auth, &state, &query);
        async move {
            let page = page(auth, state, query, echo, Some(message), None).await?;
            Ok::<Response, WebError>((StatusCode::BAD_REQUEST, Html(page)).into_response())
        }
    };
    let req = match channel_request(&form, &echo) {
        Ok(req) => req,
        Err(message) => return refused(message, echo).await,
    };
    match create(&state, &auth.caller.user.name, req).await {
        Ok(created) => match created.generated_secret {
            Some(secret) => {
                let generated = Generated {
                    channel: created.channel.name,
                    secret,
                };
                let page = page(
                    &auth,
                    &state,
                    &query,
                    ChannelForm::default(),
                    None,
                    Some(generated),
                )
                .await?;
                Ok((StatusCode::CREATED, Html(page)).into_response())
            }
            None => Ok(see_other(&format!(
                "/notifications?done=created&id={0}#c-{0}",
                created.channel.id
            ))),
        },
        Err(ApiError::BadRequest(message)) => refused(message, echo).await,
        Err(ApiError::Conflict(message)) => refused(message, echo).await,
        Err(e) => Err(e.into()),
    }
}

/// "Send test": a `test` event to the channel now (`notifier::test_channel`, as
/// `POST /notification-channels/{id}/test`); the page then says how it went.
pub(super) async fn test_channel(
    auth: WebAuthorized<NotificationsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let channel = state.store().get_channel(&id).await?;
    let delivery = notifier::test_channel(&state, &channel, &auth.caller.user.name)
        .await
        .map_err(ApiError::from)?;
    Ok(see_other(&format!(
        "/notifications?done=tested&id={0}#d-{0}",
        delivery.id
    )))
}

/// Enables or disables a channel (`enabled` = `1` or `0`).
pub(super) async fn toggle(
    auth: WebAuthorized<NotificationsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormData,
) -> WebResult<Response> {
    let enabled = form.get("enabled") == Some("1");
    let channel = set_enabled(&state, &auth.caller.user.name, &id, enabled).await?;
    let done = if enabled { "enabled" } else { "disabled" };
    Ok(see_other(&format!(
        "/notifications?done={done}&id={0}#c-{0}",
        channel.id
    )))
}

pub(super) async fn delete_channel(
    auth: WebAuthorized<NotificationsDelete>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    delete(&state, &auth.caller.user.name, &id).await?;
    Ok(see_other(&format!("/notifications?done=deleted&id={id}")))
}

/// "Retry": the delivery is due now (`api::notifications::retry`).
pub(super) async fn retry_delivery(
    auth: WebAuthorized<NotificationsUpdate>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> WebResult<Response> {
    let d = retry(&state, &auth.caller.user.name, &id).await?;
    Ok(see_other(&format!(
        "/notifications?done=retried&id={0}#d-{0}",
        d.id
    )))
}
