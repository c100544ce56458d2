//! The notifier: turns events into outbox rows and delivers them.
//!
//! - [`emit`] writes one delivery per enabled channel that takes the event (subscribed
//!   to its kind, or a ticketing webhook for change-request events; and, for a channel
//!   with a project filter, only events naming that project). Writing the outbox is all
//!   an emitter waits for; nothing is sent on the caller's path.
//! - [`run_dispatcher`] is the background task (one per server; several replicas on
//!   PostgreSQL share the outbox safely): every [`NotifyConfig::poll_interval`] it calls
//!   [`dispatch_due`], which claims due deliveries with a lease, sends each (mail or
//!   signed webhook, rampart-notify), and records success or the failure with the
//!   [`RetryPolicy`]'s next attempt, so failures are visible in the API meanwhile.
//!   Each round first runs the scheduled reports that are due
//!   ([`crate::report_schedules::run_due`]).
//! - [`open_or_update_change_request`] is the compliance engine's entry point for
//!   overdue updates: it records the project's change request and emits
//!   `change_request.opened` / `.updated`; a ticketing webhook's `external_ref` answer
//!   is stored on the request.
//! - [`after_findings`] is the findings engine's hook: critical findings that were not
//!   open before a recomputation become one `finding.critical` event per host.
//! - [`after_compliance`] turns the compliance engine's transitions into
//!   `host.non_compliant`, `host.stale` and `exception.expiring` events; the dispatcher
//!   task subscribes to them (`ComplianceEngine::subscribe`).
//!
//! Channel secrets (webhook signing key, SMTP password) are sealed with the server's
//! master key (rampart-pki `seal`, purpose [`SECRET_PURPOSE`]) before they reach the
//! store, opened only here to send, and never returned or logged.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use base64::Engine as _;
use rampart_core::change_request::ChangeRequestItem;
use rampart_core::exceptions::ExceptionScope;
use rampart_core::matcher::Finding;
use rampart_core::severity::SeverityLevel;
use rampart_notify::event::{self, CriticalFinding, CriticalFindings};
use rampart_notify::{EmailConfig, Event, EventKind, Next, Payload, RetryPolicy, WebhookConfig};
use rampart_store::{
    ChangeRequest, ChangeRequestChange, ClaimedDelivery, Delivery, Millis, NewDelivery,
    NotificationChannel, Project, Store,
};

use crate::{ApiError, AppState, ComplianceTransition};

/// Associated data of sealed channel secrets: a blob sealed for something else cannot
/// be passed off as one.
pub const SECRET_PURPOSE: &str = "rampart:notification-channel-secret";

/// The two channel kinds.
pub const KIND_EMAIL: &str = "email";
pub const KIND_WEBHOOK: &str = "webhook";

/// How the dispatcher runs; part of [`crate::ServerConfig`].
#[derive(Clone, Debug)]
pub struct NotifyConfig {
    pub retry: RetryPolicy,
    /// How often the dispatcher looks for due deliveries.
    pub poll_interval: Duration,
    /// How long a claimed delivery stays reserved for the dispatcher that claimed it
    /// (longer than any send may take: mail and webhook timeouts are below it).
    pub lease: Duration,
    /// Deliveries claimed per round.
    pub batch: u32,
    /// How long finished deliveries (delivered, or failed for good) stay in the
    /// history before the dispatcher purges them.
    pub retention: Duration,
}

impl Default for NotifyConfig {
    fn default() -> NotifyConfig {
        NotifyConfig {
            retry: RetryPolicy::default(),
            poll_interval: Duration::from_secs(5),
            lease: Duration::from_secs(15 * 60),
            batch: 20,
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

/// Why the notifier could not do something.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] rampart_store::Error),
    /// The server was started without a master key (tests of the API alone).
    #[error("notification secrets need the server's master key")]
    NoMasterKey,
    #[error("the channel's secret does not open with this master key")]
    Secret,
    /// A channel config that cannot be stored: what is wrong with it.
    #[error("{0}")]
    InvalidConfig(String),
}

impl From<NotifyError> for ApiError {
    fn from(e: NotifyError) -> ApiError {
        match e {
            NotifyError::Store(e) => e.into(),
            NotifyError::NoMasterKey => ApiError::Status {
                status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
                code: "master_key_unavailable",
                message: e.to_string(),
            },
            NotifyError::Secret => ApiError::internal(e),
            NotifyError::InvalidConfig(_) => ApiError::BadRequest(e.to_string()),
        }
    }
}

/// Seals a channel secret for the store (base64 of the seal envelope).
pub fn seal_secret(state: &AppState, secret: &str) -> Result<String, NotifyError> {
    let key = state
        .config()
        .master_key
        .as_ref()
        .ok_or(NotifyError::NoMasterKey)?;
    let sealed = rampart_pki::seal(key, SECRET_PURPOSE, secret.as_bytes())
        .map_err(|_| NotifyError::Secret)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

fn open_secret(state: &AppState, sealed: &str) -> Result<String, NotifyError> {
    let key = state
        .config()
        .master_key
        .as_ref()
        .ok_or(NotifyError::NoMasterKey)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|_| NotifyError::Secret)?;
    let plain = rampart_pki::open(key, SECRET_PURPOSE, &bytes).map_err(|_| NotifyError::Secret)?;
    String::from_utf8(plain).map_err(|_| NotifyError::Secret)
}

/// Where a webhook's full URL is kept, sealed, in its stored config. Webhook URLs often
/// are the credential (a token in the path or query, as chat and ticketing services
/// issue them), so the full URL is sealed like a secret and `url` keeps only what
/// [`redact_url`] leaves, which is all that views show.
const SEALED_URL: &str = "url_sealed";

/// `url` with its path, query and fragment replaced by `…` and any user info dropped:
/// enough to tell endpoints apart, nothing that could be a token.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "…".to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let tail = &rest[end..];
    if tail.is_empty() || tail == "/" {
        format!("{scheme}://{host}{tail}")
    } else {
        format!("{scheme}://{host}/…")
    }
}

/// Validates a channel's config (`ChannelConfig::parse`) and returns it as the store
/// keeps it: for a webhook, the full URL sealed under [`SEALED_URL`] and `url`
/// redacted. On an update (`previous`: the stored config) a `url` equal to the redacted
/// one shown keeps the stored URL, so a config read back, edited and sent again does
/// not lose it. The one way a config reaches the store, so none is stored unchecked.
pub fn config_for_store(
    state: &AppState,
    kind: &str,
    mut config: serde_json::Value,
    previous: Option<&serde_json::Value>,
) -> Result<serde_json::Value, NotifyError> {
    ChannelConfig::parse(kind, &config).map_err(NotifyError::InvalidConfig)?;
    if kind != KIND_WEBHOOK {
        return Ok(config);
    }
    let Some(url) = config
        .get("url")
        .and_then(|u| u.as_str())
        .map(str::to_owned)
    else {
        return Ok(config);
    };
    let kept = previous.and_then(|p| {
        let shown = redact_url(p.get("url")?.as_str()?);
        if shown != url {
            return None;
        }
        match p.get(SEALED_URL).and_then(|s| s.as_str()) {
            Some(sealed) => Some(Ok(sealed.to_owned())),
            // Stored before URLs were sealed: seal it now.
            None => Some(seal_secret(state, p.get("url")?.as_str()?)),
        }
    });
    let sealed = match kept {
        Some(sealed) => sealed?,
        None if url.ends_with("/…") => {
            return Err(NotifyError::InvalidConfig(format!(
                "webhook URL {url:?} is a redacted one that does not match this channel's; \
                 send the full URL"
            )));
        }
        None => seal_secret(state, &url)?,
    };
    config["url"] = serde_json::Value::String(redact_url(&url));
    config[SEALED_URL] = serde_json::Value::String(sealed);
    Ok(config)
}

/// A stored config as views show it: no sealed URL, the URL redacted.
pub fn config_for_view(kind: &str, mut config: serde_json::Value) -> serde_json::Value {
    if let Some(map) = config.as_object_mut() {
        map.remove(SEALED_URL);
        if kind == KIND_WEBHOOK
            && let Some(serde_json::Value::String(url)) = map.get_mut("url")
        {
            *url = redact_url(url);
        }
    }
    config
}

/// The typed settings of a stored channel.
#[derive(Clone, Debug)]
pub enum ChannelConfig {
    Email(EmailConfig),
    Webhook(WebhookConfig),
}

impl ChannelConfig {
    /// Parses and validates `config` for `kind` (also what the API checks on write).
    pub fn parse(kind: &str, config: &serde_json::Value) -> Result<ChannelConfig, String> {
        let parsed = match kind {
            KIND_EMAIL => ChannelConfig::Email(
                serde_json::from_value(config.clone()).map_err(|e| format!("config: {e}"))?,
            ),
            KIND_WEBHOOK => ChannelConfig::Webhook(
                serde_json::from_value(config.clone()).map_err(|e| format!("config: {e}"))?,
            ),
            other => {
                return Err(format!(
                    "unknown channel kind {other:?} (expected email or webhook)"
                ));
            }
        };
        match &parsed {
            ChannelConfig::Email(c) => c.validate(),
            ChannelConfig::Webhook(c) => c.validate(),
        }
        .map_err(|e| e.to_string())?;
        Ok(parsed)
    }

    /// The stored settings with the webhook URL as shown (redacted): enough to decide
    /// who takes an event, not to send it.
    fn of(channel: &NotificationChannel) -> Result<ChannelConfig, String> {
        let value: serde_json::Value =
            serde_json::from_str(&channel.config).map_err(|e| format!("stored config: {e}"))?;
        ChannelConfig::parse(&channel.kind, &config_for_view(&channel.kind, value))
    }

    /// The stored settings with the webhook's full URL opened: what a send needs.
    fn for_sending(
        state: &AppState,
        channel: &NotificationChannel,
    ) -> Result<ChannelConfig, String> {
        let mut value: serde_json::Value =
            serde_json::from_str(&channel.config).map_err(|e| format!("stored config: {e}"))?;
        if let Some(map) = value.as_object_mut()
            && let Some(sealed) = map.remove(SEALED_URL)
        {
            let url = sealed
                .as_str()
                .ok_or_else(|| "stored config: the sealed URL is not a string".to_owned())
                .and_then(|s| open_secret(state, s).map_err(|e| format!("the webhook URL: {e}")))?;
            map.insert("url".into(), serde_json::Value::String(url));
        }
        ChannelConfig::parse(&channel.kind, &value)
    }

    fn is_ticketing(&self) -> bool {
        matches!(self, ChannelConfig::Webhook(w) if w.ticketing)
    }
}

/// Whether `channel` takes `event`.
fn takes(channel: &NotificationChannel, event: &Event) -> bool {
    if !channel.enabled {
        return false;
    }
    if let Some(project) = &channel.project_id
        && !event.projects.contains(project)
    {
        return false;
    }
    let kind = event.kind();
    channel.events.iter().any(|k| k == kind.as_str())
        || (kind.is_change_request() && ChannelConfig::of(channel).is_ok_and(|c| c.is_ticketing()))
}

/// Writes one outbox row per channel that takes `event`; returns them. Mail deliveries
/// keep the attachments; webhook deliveries store the event without their bytes.
pub async fn emit(store: &Store, event: &Event, now: Millis) -> Result<Vec<Delivery>, NotifyError> {
    let channels: Vec<NotificationChannel> = store
        .list_channels()
        .await?
        .into_iter()
        .filter(|c| takes(c, event))
        .collect();
    enqueue(store, &channels, event, now).await
}

/// Writes one outbox row for each of `channel_ids`, whatever they subscribed to (a
/// scheduled report goes to the channels its schedule names). Disabled channels are
/// skipped; an unknown id is [`rampart_store::Error::NotFound`].
pub async fn emit_to(
    store: &Store,
    channel_ids: &[String],
    event: &Event,
    now: Millis,
) -> Result<Vec<Delivery>, NotifyError> {
    let mut channels = Vec::with_capacity(channel_ids.len());
    for id in channel_ids {
        let channel = store.get_channel(id).await?;
        if channel.enabled {
            channels.push(channel);
        }
    }
    enqueue(store, &channels, event, now).await
}

async fn enqueue(
    store: &Store,
    channels: &[NotificationChannel],
    event: &Event,
    now: Millis,
) -> Result<Vec<Delivery>, NotifyError> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let full = event.to_stored_json();
    let slim = if event.attachments.is_empty() {
        full.clone()
    } else {
        event.without_attachment_content().to_stored_json()
    };
    let kind = event.kind();
    let rows: Vec<NewDelivery<'_>> = channels
        .iter()
        .map(|c| NewDelivery {
            channel_id: &c.id,
            event_id: &event.id,
            event_kind: kind.as_str(),
            payload: if c.kind == KIND_EMAIL { &full } else { &slim },
        })
        .collect();
    let written = store.enqueue_deliveries(&rows, now).await?;
    tracing::info!(event = %event.id, kind = %kind, deliveries = written.len(), "notification queued");
    Ok(written)
}

/// Sends a `test` event to one channel (whatever it subscribed to, enabled or not) at
/// once, so the answer shows the attempt's outcome (a failure is then retried like any
/// other delivery).
pub async fn test_channel(
    state: &AppState,
    channel: &NotificationChannel,
    requested_by: &str,
) -> Result<Delivery, NotifyError> {
    let now = state.now();
    let event = Event::new(
        Payload::Test(event::TestEvent {
            channel: channel.name.clone(),
            requested_by: requested_by.to_owned(),
        }),
        channel.project_id.iter().cloned().collect(),
        now,
    );
    let written = enqueue(state.store(), std::slice::from_ref(channel), &event, now).await?;
    let delivery = written
        .into_iter()
        .next()
        .ok_or(rampart_store::Error::NotFound {
            entity: "test delivery",
        })?;
    let lease = i64::try_from(state.config().notifications.lease.as_millis()).unwrap_or(i64::MAX);
    if let Some(claim) = state
        .store()
        .claim_delivery(&delivery.id, state.now(), lease)
        .await?
    {
        deliver(state, claim).await?;
    }
    Ok(state.store().get_delivery(&delivery.id).await?)
}

/// The compliance engine's entry point: records `items` (the project's overdue
/// security updates now) as the project's open change request and emits the
/// matching event. Empty `items` close the open request (no event). Returns the
/// request as it now stands, `None` when there was nothing to record.
pub async fn open_or_update_change_request(
    state: &AppState,
    project_id: &str,
    items: &[ChangeRequestItem],
) -> Result<Option<ChangeRequest>, NotifyError> {
    let now = state.now();
    let Some((cr, change)) = state
        .store()
        .open_or_update_change_request(project_id, items, now)
        .await?
    else {
        return Ok(None);
    };
    let payload = |cr: &ChangeRequest| event::ChangeRequest {
        change_request_id: cr.id.clone(),
        project_id: cr.project_id.clone(),
        project_name: cr.project_name.clone(),
        status: cr.status.as_str().to_owned(),
        items: cr.items.clone(),
        external_ref: cr.external_ref.clone(),
    };
    let payload = match change {
        ChangeRequestChange::Opened => Payload::ChangeRequestOpened(payload(&cr)),
        ChangeRequestChange::Updated => Payload::ChangeRequestUpdated(payload(&cr)),
        ChangeRequestChange::Unchanged | ChangeRequestChange::Closed => return Ok(Some(cr)),
    };
    emit(
        state.store(),
        &Event::new(payload, vec![cr.project_id.clone()], now),
        now,
    )
    .await?;
    Ok(Some(cr))
}

/// The projects whose selector `labels` satisfy.
pub fn projects_of(projects: &[Project], labels: &rampart_store::Labels) -> Vec<String> {
    projects
        .iter()
        .filter(|p| p.selector.iter().all(|(k, v)| labels.get(k) == Some(v)))
        .map(|p| p.id.clone())
        .collect()
}

/// The findings engine's hook: `before` is [`Store::critical_finding_keys`] taken
/// before the recomputation of `hosts` (one host, or all); every critical finding open
/// now and not before becomes part of one `finding.critical` event per host.
pub async fn after_findings(
    store: &Store,
    before: &HashSet<(String, String, String)>,
    host_filter: Option<&str>,
    now: Millis,
) -> Result<usize, NotifyError> {
    let after = store.critical_finding_keys(host_filter).await?;
    let mut new_by_host: BTreeMap<&str, Vec<&(String, String, String)>> = BTreeMap::new();
    for key in after.iter().filter(|k| !before.contains(*k)) {
        new_by_host.entry(key.0.as_str()).or_default().push(key);
    }
    if new_by_host.is_empty() {
        return Ok(0);
    }
    let projects = store.list_projects().await?;
    let mut events = 0;
    for (host_id, keys) in new_by_host {
        let host = store.get_host(host_id).await?;
        let wanted: HashSet<(&str, &str)> =
            keys.iter().map(|k| (k.1.as_str(), k.2.as_str())).collect();
        let mut seen = HashSet::new();
        let findings: Vec<CriticalFinding> = store
            .host_findings(host_id)
            .await?
            .into_iter()
            .map(|hf| hf.finding)
            .filter(|f: &Finding| {
                f.severity.level == SeverityLevel::Critical
                    && wanted.contains(&(f.advisory.as_str(), f.package.as_str()))
                    && seen.insert((f.advisory.clone(), f.package.clone()))
            })
            .map(|f| CriticalFinding {
                advisory: f.advisory,
                aliases: f.aliases,
                package: f.package,
                installed: f.installed,
                fixed: f.fixed,
                cvss: f.severity.cvss,
            })
            .collect();
        if findings.is_empty() {
            continue;
        }
        let event = Event::new(
            Payload::CriticalFindings(CriticalFindings {
                host_id: host.id.clone(),
                hostname: host.hostname.clone(),
                findings,
            }),
            projects_of(&projects, &host.labels),
            now,
        );
        emit(store, &event, now).await?;
        events += 1;
    }
    Ok(events)
}

/// The event a compliance transition announces: `host.non_compliant`, `host.stale`,
/// `exception.expiring`; `None` for a host that became compliant again (no event kind
/// for it yet). Host events name the host's projects, exception events the project of
/// a project-wide exception or the host's projects.
pub async fn event_for_transition(
    store: &Store,
    transition: &ComplianceTransition,
    now: Millis,
) -> Result<Option<Event>, NotifyError> {
    let host_projects = async |host_id: &str| -> Result<Vec<String>, NotifyError> {
        let host = store.get_host(host_id).await?;
        Ok(projects_of(&store.list_projects().await?, &host.labels))
    };
    let (payload, projects) = match transition {
        ComplianceTransition::BecameNonCompliant {
            host_id,
            hostname,
            reasons,
            ..
        } => (
            Payload::HostNonCompliant(event::HostNonCompliant {
                host_id: host_id.clone(),
                hostname: hostname.clone(),
                reasons: reasons.iter().map(ToString::to_string).collect(),
            }),
            host_projects(host_id).await?,
        ),
        ComplianceTransition::BecameStale {
            host_id,
            hostname,
            last_seen,
            ..
        } => (
            Payload::HostStale(event::HostStale {
                host_id: host_id.clone(),
                hostname: hostname.clone(),
                last_seen_at: Some(*last_seen),
            }),
            host_projects(host_id).await?,
        ),
        ComplianceTransition::ExceptionExpiring {
            exception_id,
            advisory,
            scope,
            expires_at,
            requested_by,
        } => {
            let (scope_name, host, project_id) = match scope {
                ExceptionScope::Host { host_id } => {
                    ("host", Some(store.get_host(host_id).await?), None)
                }
                ExceptionScope::Project { project_id } => {
                    ("project", None, Some(project_id.clone()))
                }
                ExceptionScope::Estate => ("estate", None, None),
            };
            let projects = match (&host, &project_id) {
                (Some(h), _) => projects_of(&store.list_projects().await?, &h.labels),
                (None, Some(p)) => vec![p.clone()],
                (None, None) => Vec::new(),
            };
            (
                Payload::ExceptionExpiring(event::ExceptionExpiring {
                    exception_id: exception_id.clone(),
                    advisory: advisory.clone(),
                    scope: scope_name.to_owned(),
                    host_id: host.as_ref().map(|h| h.id.clone()),
                    hostname: host.map(|h| h.hostname),
                    project_id,
                    requested_by: requested_by.clone(),
                    expires_at: *expires_at,
                }),
                projects,
            )
        }
        ComplianceTransition::BecameCompliant { .. } => return Ok(None),
    };
    Ok(Some(Event::new(payload, projects, now)))
}

/// Emits the events of `transitions` (what the compliance engine returned or
/// published). Returns how many events were emitted.
pub async fn after_compliance(
    store: &Store,
    transitions: &[ComplianceTransition],
    now: Millis,
) -> Result<usize, NotifyError> {
    let mut n = 0;
    for t in transitions {
        if let Some(event) = event_for_transition(store, t, now).await? {
            emit(store, &event, now).await?;
            n += 1;
        }
    }
    Ok(n)
}

/// A uniformly random number in [0, 1) for the retry jitter.
fn jitter() -> f64 {
    let bytes = crate::secrets::random_bytes::<8>();
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// One round: claims due deliveries and sends them one after another. Returns how
/// many were attempted.
pub async fn dispatch_due(state: &AppState) -> Result<usize, NotifyError> {
    let config = &state.config().notifications;
    let lease = i64::try_from(config.lease.as_millis()).unwrap_or(i64::MAX);
    let claimed = state
        .store()
        .claim_due_deliveries(state.now(), lease, config.batch)
        .await?;
    let n = claimed.len();
    for claim in claimed {
        deliver(state, claim).await?;
    }
    Ok(n)
}

async fn deliver(state: &AppState, claim: ClaimedDelivery) -> Result<(), NotifyError> {
    let store = state.store();
    let d = &claim.delivery;
    let outcome = attempt(state, d).await;
    let now = state.now();
    match outcome {
        Ok(()) => {
            store
                .delivery_succeeded(&d.id, &claim.claim_token, now)
                .await?;
            tracing::info!(delivery = %d.id, event = %d.event_id, kind = %d.event_kind, attempt = d.attempts, "notification delivered");
        }
        Err(failure) => {
            let policy = state.config().notifications.retry;
            let retry_at = match policy.after_failure(d.attempts, &failure, jitter()) {
                Next::RetryAfter(wait) => {
                    Some(now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)))
                }
                Next::GiveUp => None,
            };
            store
                .delivery_failed(&d.id, &claim.claim_token, &failure.message, retry_at, now)
                .await?;
            tracing::warn!(delivery = %d.id, event = %d.event_id, attempt = d.attempts, error = %failure.message, retry_at = ?retry_at, "notification failed");
        }
    }
    Ok(())
}

fn config_failure(message: impl Into<String>) -> rampart_notify::Failure {
    rampart_notify::Failure {
        retryable: false,
        retry_after: None,
        message: message.into(),
    }
}

/// Sends one delivery; the error is already judged for the retry policy.
async fn attempt(state: &AppState, d: &Delivery) -> Result<(), rampart_notify::Failure> {
    let channel = state
        .store()
        .get_channel(&d.channel_id)
        .await
        .map_err(|e| rampart_notify::Failure {
            retryable: true,
            retry_after: None,
            message: format!("loading the channel: {e}"),
        })?;
    let event = Event::from_stored_json(&d.payload)
        .map_err(|e| config_failure(format!("stored event does not decode: {e}")))?;
    if !channel.enabled && event.kind() != EventKind::Test {
        return Err(config_failure("the channel is disabled"));
    }
    let config = ChannelConfig::for_sending(state, &channel).map_err(config_failure)?;
    let secret = channel
        .secret
        .as_deref()
        .map(|s| open_secret(state, s))
        .transpose()
        .map_err(|e| config_failure(e.to_string()))?;
    match config {
        ChannelConfig::Email(mail) => {
            rampart_notify::email::send(&mail, secret.as_deref(), &event, &state.config().egress)
                .await
                .map_err(|e| e.failure())
        }
        ChannelConfig::Webhook(hook) => {
            let body = event.wire_body();
            let response = rampart_notify::webhook::send(
                &hook,
                secret.as_deref().map(str::as_bytes),
                rampart_notify::webhook::WebhookRequest {
                    event_id: &event.id,
                    event_kind: event.kind().as_str(),
                    delivery_id: &d.id,
                    attempt: d.attempts,
                    timestamp: state.now().div_euclid(1000),
                    body: &body,
                },
                &state.config().egress,
            )
            .await
            .map_err(|e| e.failure())?;
            if hook.ticketing
                && let (
                    Some(reference),
                    Payload::ChangeRequestOpened(cr) | Payload::ChangeRequestUpdated(cr),
                ) = (response.external_ref(), &event.payload)
                && let Err(e) = state
                    .store()
                    .set_change_request_external_ref(&cr.change_request_id, &reference, state.now())
                    .await
            {
                tracing::warn!(change_request = %cr.change_request_id, error = %e, "could not record the ticket reference");
            }
            Ok(())
        }
    }
}

/// How often the dispatcher purges the delivery history.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Purges finished deliveries older than [`NotifyConfig::retention`]; a failure is
/// logged and tried again at the next purge.
pub async fn purge_history(state: &AppState) {
    let retention =
        i64::try_from(state.config().notifications.retention.as_millis()).unwrap_or(i64::MAX);
    match state
        .store()
        .purge_deliveries(state.now().saturating_sub(retention))
        .await
    {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "old notification deliveries purged"),
        Err(e) => tracing::warn!(error = %e, "purging old notification deliveries failed"),
    }
}

/// The dispatcher task: a round every poll interval until `shutdown` completes, and the
/// compliance engine's transitions emitted as they are published. A round
/// in progress finishes first (its sends are bounded by the channels' timeouts), so no
/// claimed delivery is abandoned mid-send; one interrupted anyway (the process killed)
/// is sent again when its lease expires.
pub fn run_dispatcher(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    // Subscribed before the task first runs, so no transition published after this
    // call is missed.
    let transitions = state.compliance().subscribe();
    dispatcher_loop(state, shutdown, transitions)
}

async fn dispatcher_loop(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()>,
    transitions: tokio::sync::broadcast::Receiver<ComplianceTransition>,
) {
    let mut ticker = tokio::time::interval(state.config().notifications.poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut transitions = Some(transitions);
    let mut last_purge: Option<tokio::time::Instant> = None;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            // The compliance engine's transitions become events as they happen.
            received = async { transitions.as_mut().expect("guarded by the condition").recv().await },
                if transitions.is_some() =>
            {
                use tokio::sync::broadcast::error::RecvError;
                match received {
                    Ok(t) => {
                        if let Err(e) = after_compliance(state.store(), &[t], state.now()).await {
                            tracing::warn!(error = %e, "could not queue a compliance notification");
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "compliance transitions were dropped before they could be notified");
                    }
                    Err(RecvError::Closed) => transitions = None,
                }
                continue;
            }
            _ = ticker.tick() => {}
        }
        // Scheduled reports first, so a report queued this round is sent in it.
        if let Err(e) = crate::report_schedules::run_due(&state).await {
            tracing::warn!(error = %e, "scheduled reports could not run; retrying next round");
        }
        if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
            last_purge = Some(tokio::time::Instant::now());
            purge_history(&state).await;
        }
        loop {
            match dispatch_due(&state).await {
                // A full batch: more may be due, go again at once.
                Ok(n) if n as u32 >= state.config().notifications.batch => continue,
                Ok(_) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "notification dispatch failed; retrying next round");
                    break;
                }
            }
        }
    }
    tracing::info!("notification dispatcher stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }

    fn channel(
        events: &[&str],
        project: Option<&str>,
        enabled: bool,
        config: &str,
    ) -> NotificationChannel {
        NotificationChannel {
            id: "c".into(),
            name: "c".into(),
            kind: KIND_WEBHOOK.into(),
            config: config.into(),
            secret: None,
            events: events.iter().map(|s| s.to_string()).collect(),
            project_id: project.map(Into::into),
            enabled,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn channels_take_subscribed_events_of_their_project() {
        let hook = r#"{"url":"https://h/x"}"#;
        let ticketing = r#"{"url":"https://h/x","ticketing":true}"#;
        let stale = Event::new(
            Payload::HostStale(event::HostStale {
                host_id: "h".into(),
                hostname: "h".into(),
                last_seen_at: None,
            }),
            vec!["p1".into()],
            0,
        );
        assert!(takes(&channel(&["host.stale"], None, true, hook), &stale));
        assert!(takes(
            &channel(&["host.stale"], Some("p1"), true, hook),
            &stale
        ));
        assert!(!takes(
            &channel(&["host.stale"], Some("p2"), true, hook),
            &stale
        ));
        assert!(!takes(&channel(&["host.stale"], None, false, hook), &stale));
        assert!(!takes(
            &channel(&["report.ready"], None, true, hook),
            &stale
        ));
        let cr = Event::new(
            Payload::ChangeRequestOpened(event::ChangeRequest {
                change_request_id: "cr".into(),
                project_id: "p1".into(),
                project_name: "web".into(),
                status: "open".into(),
                items: vec![],
                external_ref: None,
            }),
            vec!["p1".into()],
            0,
        );
        assert!(takes(&channel(&[], None, true, ticketing), &cr));
        assert!(!takes(&channel(&[], None, true, hook), &cr));
        assert!(takes(
            &channel(&["change_request.opened"], None, true, hook),
            &cr
        ));
    }
}
