//! The agent channel, mounted at `/agent/v1`, with its own body limit
//! ([`crate::ServerConfig::max_checkin_bytes`]).
//!
//! - `POST /agent/v1/enroll` (no client certificate; the enrolment token in the body is
//!   the credential): consumes the token atomically, signs the agent's CSR with the CA,
//!   creates the host with the token's labels and returns the certificate and the CA.
//! - `POST /agent/v1/checkin` (client certificate required, through [`AgentCaller`]):
//!   records the check-in on the server's clock, stores an attached inventory, lets the
//!   findings engine react, and tells the agent what the server holds.
//!
//! Bodies are read as bytes and decoded here, so an oversized body is a 413 naming the
//! limit and malformed JSON a 400 naming the problem — in both cases before anything is
//! stored. Every timestamp written comes from [`AppState::now`], never from the agent
//! (`Inventory::observed_at` is informational), so a skewed agent clock cannot reorder
//! or corrupt the host's timeline.

use std::time::{Duration, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use rampart_core::authz::{Action, Decision, Permission, Principal, Resource, decide};
use rampart_proto::{
    CheckIn, CheckInResponse, EnrollRequest, EnrollResponse, Inventory, PROTOCOL_VERSION,
};
use rampart_store::{Agent, Millis, NewAgent, NewHost};
use serde::de::DeserializeOwned;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::Json;
use crate::listener::PeerCertificate;
use crate::{ApiError, ApiResult, AppState};

/// The agent routes; [`crate::api`] nests them under `/agent/v1` in the route table.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        // Anyone may call enrol: its body (a token, a CSR, a few names) gets a small
        // limit of its own, inside the channel's larger one for check-ins.
        .routes(routes!(enroll))
        .layer(axum::extract::DefaultBodyLimit::max(ENROLL_BODY_BYTES))
        .routes(routes!(checkin))
}

/// Largest enrolment request: a CSR is under 1 KiB; the rest is a token and names.
pub(crate) const ENROLL_BODY_BYTES: usize = 64 * 1024;

/// The permission every check-in needs.
const CHECKIN: Permission = Permission::new(Resource::AgentChannel, Action::Create);

/// An enrolled, unrevoked agent, identified by the client certificate the TLS layer
/// verified, and allowed the agent channel by [`decide`].
///
/// Without a certificate: a person's credentials are authenticated as anywhere else
/// (unknown → 401) and then refused by the decision (403: people never use the agent
/// channel); no credentials at all is 401.
#[derive(Debug)]
pub struct AgentCaller {
    pub agent: Agent,
}

impl FromRequestParts<AppState> for AgentCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = state.now();
        let Some(PeerCertificate(cert)) = parts.extensions.get::<PeerCertificate>().cloned() else {
            // No certificate: maybe a person. Their credentials decide 401 vs 403.
            let person = crate::auth::Authenticated::from_request_parts(parts, state).await?;
            person.0.require(CHECKIN, now)?;
            return Err(ApiError::Forbidden(
                "only enrolled agents use the agent channel".into(),
            ));
        };
        let identity = rampart_pki::agent_identity(&cert).map_err(|e| ApiError::Status {
            status: StatusCode::UNAUTHORIZED,
            code: "not_an_agent_certificate",
            message: format!("the client certificate does not name a Rampart agent: {e}"),
        })?;
        let agent = match state
            .store()
            .active_agent_by_fingerprint(&identity.fingerprint)
            .await
        {
            Ok(agent) => agent,
            Err(rampart_store::Error::NotFound { .. }) => {
                return Err(refused_agent(state, &identity).await);
            }
            Err(e) => return Err(e.into()),
        };
        if agent.id != identity.agent_id {
            // The fingerprint pins the certificate; a mismatch means the row is wrong.
            return Err(ApiError::internal(format!(
                "agent row {} holds the certificate of {}",
                agent.id, identity.agent_id
            )));
        }
        tracing::Span::current().record("user", format!("agent:{}", agent.id).as_str());
        match decide(
            &Principal::agent(agent.id.clone()),
            CHECKIN,
            now.div_euclid(1000),
        ) {
            Decision::Allow => Ok(AgentCaller { agent }),
            Decision::Deny(reason) => Err(ApiError::Forbidden(reason)),
        }
    }
}

/// Why a CA-signed certificate has no active agent: revoked (403, with what to do), or
/// unknown to this database (401: enrolled against another server sharing the CA, or
/// the host was deleted).
async fn refused_agent(state: &AppState, identity: &rampart_pki::AgentIdentity) -> ApiError {
    match state.store().agent_by_serial(&identity.serial_hex).await {
        Ok(agent) if agent.revoked_at.is_some() => {
            tracing::info!(agent_id = %agent.id, "refused a revoked agent");
            ApiError::Status {
                status: StatusCode::FORBIDDEN,
                code: "agent_revoked",
                message: format!(
                    "agent {} was revoked; enrol this host again with a new enrolment token \
                     (rampart-agent enroll --force)",
                    agent.id
                ),
            }
        }
        Ok(_) | Err(rampart_store::Error::NotFound { .. }) => ApiError::Status {
            status: StatusCode::UNAUTHORIZED,
            code: "unknown_agent",
            message: "this agent certificate is not enrolled here (host deleted?); enrol \
                      again with a new enrolment token"
                .into(),
        },
        Err(e) => e.into(),
    }
}

/// Decodes a JSON body read under the channel's limit: 413 naming the limit, 400
/// naming the problem.
fn decode<T: DeserializeOwned>(
    headers: &HeaderMap,
    limit: usize,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<T> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "the agent channel takes Content-Type: application/json".into(),
        ));
    }
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::Status {
                status: StatusCode::PAYLOAD_TOO_LARGE,
                code: "payload_too_large",
                message: format!("the body exceeds this route's limit of {limit} bytes"),
            }
        } else {
            ApiError::from_status(r.status())
        }
    })?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("malformed request body: {e}")))
}

fn system_time(now: Millis) -> std::time::SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(now).unwrap_or(0))
}

/// Enrols a new agent with an enrolment token (rampart-proto `EnrollRequest` →
/// `EnrollResponse`).
#[utoipa::path(post, path = "/enroll", tag = "agent", security(()),
    request_body(content = Object, description = "rampart_proto::EnrollRequest"),
    responses(
        (status = 200, body = Object, description = "rampart_proto::EnrollResponse"),
        (status = "4XX", description = "error: enrollment_token_invalid, enrollment_token_expired, enrollment_token_revoked, enrollment_token_used_up, bad_request", body = crate::api::ErrorResponse),
))]
async fn enroll(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<EnrollResponse>> {
    let req: EnrollRequest = decode(&headers, ENROLL_BODY_BYTES, body)?;
    check_protocol(req.protocol)?;
    let Some(ca) = state.ca() else {
        return Err(ApiError::Status {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "enrollment_unavailable",
            message: "this server has no CA configured".into(),
        });
    };
    let hostname = req.hostname.trim();
    check_hostname(hostname)?;
    let now = state.now();
    // The token is looked at before any signing, so a caller without a usable token
    // gets no work done by the CA; it is consumed only after the CSR was signed, so a
    // malformed CSR burns no use of it. (The certificate is discarded if the token
    // was used up in between.)
    let hash = state.enrollment_issuer().hash_presented(&req.token);
    match state.store().enrolment_token_by_hash(&hash).await {
        Ok(t) if t.revoked_at.is_none() && t.expires_at > now && t.uses < t.max_uses => {}
        Ok(_) | Err(rampart_store::Error::NotFound { .. }) => {
            return Err(unusable_token(&state, &hash, now).await);
        }
        Err(e) => return Err(e.into()),
    }
    let agent_id = rampart_store::new_id(now);
    let validity =
        rampart_pki::Validity::from(system_time(now), state.config().agent_cert_lifetime);
    let cert = rampart_pki::sign_agent_csr(ca, &req.csr_pem, &agent_id, validity)
        .map_err(|e| ApiError::bad_request(format!("certificate signing request refused: {e}")))?;
    let token = match state.store().consume_enrolment_token(&hash, now).await {
        Ok(token) => token,
        Err(rampart_store::Error::NotFound { .. }) => {
            return Err(unusable_token(&state, &hash, now).await);
        }
        Err(e) => return Err(e.into()),
    };
    let enrolled = state
        .store()
        .enrol_host(
            NewHost {
                hostname,
                machine_id: req.machine_id.as_deref().filter(|m| !m.is_empty()),
                labels: &token.labels,
            },
            NewAgent {
                id: &agent_id,
                cert_serial: &cert.serial_hex,
                cert_fingerprint: &cert.fingerprint,
            },
            now,
        )
        .await?;
    if enrolled.reenrolled {
        tracing::info!(
            agent_id = %agent_id, host_id = %enrolled.host.id, hostname,
            replaced_agents = ?enrolled.replaced_agents, serial = %cert.serial_hex,
            enrollment_token = %token.id, "known machine enrolled again: joined its host"
        );
    } else {
        tracing::info!(
            agent_id = %agent_id, host_id = %enrolled.host.id, hostname, serial = %cert.serial_hex,
            enrollment_token = %token.id, "agent enrolled"
        );
    }
    Ok(Json(EnrollResponse {
        protocol: PROTOCOL_VERSION,
        agent_id,
        certificate_pem: cert.cert_pem,
        ca_pem: ca.cert_pem().to_owned(),
        checkin_interval_secs: state.config().checkin_interval.as_secs(),
        reenrolled: enrolled.reenrolled,
    }))
}

/// Why a presented token could not be consumed. Only someone holding the token's
/// secret reaches a stored row, so naming the reason leaks nothing to a guesser.
async fn unusable_token(state: &AppState, hash: &str, now: Millis) -> ApiError {
    let (status, code, message) = match state.store().enrolment_token_by_hash(hash).await {
        Ok(t) if t.revoked_at.is_some() => (
            StatusCode::FORBIDDEN,
            "enrollment_token_revoked",
            "this enrolment token was revoked; ask an operator for a new one",
        ),
        Ok(t) if t.expires_at <= now => (
            StatusCode::UNAUTHORIZED,
            "enrollment_token_expired",
            "this enrolment token has expired; ask an operator for a new one",
        ),
        Ok(t) if t.uses >= t.max_uses => (
            StatusCode::FORBIDDEN,
            "enrollment_token_used_up",
            "this enrolment token has been used as often as it allows; ask an operator for a new one",
        ),
        Ok(_) | Err(rampart_store::Error::NotFound { .. }) => (
            StatusCode::UNAUTHORIZED,
            "enrollment_token_invalid",
            "unknown enrolment token; check it was copied whole, or ask an operator for a new one",
        ),
        Err(e) => return e.into(),
    };
    ApiError::Status {
        status,
        code,
        message: message.into(),
    }
}

/// Refuses a message in a protocol version this server does not speak.
fn check_protocol(protocol: u32) -> ApiResult<()> {
    if protocol == PROTOCOL_VERSION {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "unsupported agent protocol {protocol}; this server speaks protocol {PROTOCOL_VERSION}"
    )))
}

/// A host name as shown on every screen and report: 1–253 characters, none of them a
/// control character or white space (a NUL or newline would corrupt logs, CSV and
/// terminals downstream).
fn check_hostname(hostname: &str) -> ApiResult<()> {
    if hostname.is_empty() || hostname.len() > 253 {
        return Err(ApiError::bad_request(
            "hostname must be between 1 and 253 characters",
        ));
    }
    if hostname
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(ApiError::bad_request(
            "hostname must not contain control characters or white space",
        ));
    }
    Ok(())
}

/// Checks an inventory before anything is stored: its protocol and hash, the host
/// name, the package count against the configured cap, and every package named,
/// versioned and listed once.
fn validate(state: &AppState, checkin: &CheckIn, inventory: &Inventory) -> ApiResult<()> {
    check_protocol(inventory.protocol)?;
    if inventory.state.content_hash() != checkin.state_hash {
        return Err(ApiError::bad_request(
            "state_hash does not match the attached inventory",
        ));
    }
    check_hostname(&inventory.state.host.hostname)?;
    let packages = &inventory.state.packages;
    let max = state.config().max_inventory_packages;
    if packages.len() > max {
        return Err(ApiError::Status {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "inventory_too_large",
            message: format!(
                "the inventory lists {} packages; this server accepts at most {max} \
                 (max_inventory_packages)",
                packages.len()
            ),
        });
    }
    if let Some(p) = packages
        .iter()
        .find(|p| p.name.is_empty() || p.version.is_empty())
    {
        return Err(ApiError::bad_request(format!(
            "a package without a name or version: {:?} {:?}",
            p.name, p.version
        )));
    }
    let mut seen = std::collections::HashSet::with_capacity(packages.len());
    let mut duplicates = 0usize;
    let mut first = None;
    for p in packages {
        if !seen.insert((p.name.as_str(), p.version.as_str(), p.arch.as_deref())) {
            duplicates += 1;
            first.get_or_insert(p);
        }
    }
    if let Some(p) = first {
        return Err(ApiError::bad_request(format!(
            "{duplicates} package entries are listed more than once (the first: {:?} {:?}{}); \
             a package manager lists each installed package once",
            p.name,
            p.version,
            p.arch
                .as_deref()
                .map(|a| format!(" {a}"))
                .unwrap_or_default()
        )));
    }
    Ok(())
}

/// An agent's check-in (rampart-proto `CheckIn` → `CheckInResponse`), mTLS only.
#[utoipa::path(post, path = "/checkin", tag = "agent",
    request_body(content = Object, description = "rampart_proto::CheckIn"),
    responses(
        (status = 200, body = Object, description = "rampart_proto::CheckInResponse"),
        (status = "4XX", description = "error: unauthenticated, agent_revoked, payload_too_large, bad_request", body = crate::api::ErrorResponse),
))]
async fn checkin(
    caller: AgentCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> ApiResult<Json<CheckInResponse>> {
    let req: CheckIn = decode(&headers, state.config().max_checkin_bytes, body)?;
    check_protocol(req.protocol)?;
    let host_id = &caller.agent.host_id;
    if let Some(inventory) = &req.inventory {
        validate(&state, &req, inventory)?;
        if let Err(wait) = state.inventory_limit().take(&caller.agent.id, state.now()) {
            // The host is alive even if its inventory waits: record the check-in so a
            // host whose state changes often never looks stale.
            state.store().record_checkin(host_id, state.now()).await?;
            let secs = (wait as u64).div_ceil(1000);
            tracing::warn!(agent_id = %caller.agent.id, "inventory refused: sent too often");
            return Err(ApiError::RateLimited {
                code: "inventory_rate_limited",
                message: format!(
                    "this agent sends inventories faster than the server accepts; retry in {secs} s"
                ),
                retry_after_secs: secs,
            });
        }
    }
    let now = state.now();
    state.store().record_checkin(host_id, now).await?;
    if let Some(inventory) = &req.inventory {
        let outcome = state
            .store()
            .record_inventory(host_id, inventory, now)
            .await?;
        if let Err(e) = state.engine().after_inventory(host_id, outcome, now).await {
            // The inventory is stored and acknowledged; the next feed import or
            // inventory recomputes. Refusing now would only make the agent resend.
            tracing::error!(host_id = %host_id, error = %e, "recomputing findings failed");
        }
        if let Err(e) = state
            .compliance()
            .after_inventory(host_id, outcome, now)
            .await
        {
            // Same reasoning: the scheduler re-evaluates hosts whose snapshot is due.
            tracing::error!(host_id = %host_id, error = %e, "evaluating compliance failed");
        }
        tracing::debug!(host_id = %host_id, ?outcome, "inventory received");
        if let Some(cloud) = &inventory.state.host.cloud {
            label_from_cloud(&state, host_id, cloud).await?;
        }
    }
    let stored = state.store().get_host(host_id).await?.state_hash;
    let inventory_wanted =
        req.inventory.is_none() && stored.as_deref() != Some(req.state_hash.as_str());
    Ok(Json(CheckInResponse {
        protocol: PROTOCOL_VERSION,
        acknowledged_hash: stored,
        inventory_wanted,
        next_checkin_secs: state.config().checkin_interval.as_secs(),
    }))
}

/// Where the agent says the host runs becomes its `agent.provider`, `agent.account` and
/// `agent.region` labels, so projects and filters can select by cloud account and
/// region without anyone typing them. The `agent.` prefix marks them as the host's own
/// claim: a compromised host can claim any account, so a project selecting on them
/// trusts its hosts; labels an operator sets (`provider`, `region`, …) are never
/// touched. Values that are not plain identifiers are ignored.
async fn label_from_cloud(
    state: &AppState,
    host_id: &str,
    cloud: &rampart_proto::CloudIdentity,
) -> ApiResult<()> {
    let host = state.store().get_host(host_id).await?;
    let mut labels = host.labels.clone();
    let facts = [
        ("agent.provider", Some(&cloud.provider)),
        ("agent.account", cloud.account.as_ref()),
        ("agent.region", cloud.region.as_ref()),
    ];
    for (key, value) in facts {
        if let Some(value) = value.filter(|v| plain_identifier(v)) {
            labels.insert(key.to_owned(), value.clone());
        }
    }
    if labels != host.labels {
        state.store().set_host_labels(host_id, &labels).await?;
    }
    Ok(())
}

/// 1–128 characters of letters, digits and `.-_:/`: what cloud providers use for
/// provider names, account ids and regions.
fn plain_identifier(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'/'))
}
