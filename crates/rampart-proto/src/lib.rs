//! The agent wire format, shared by the server and `rampart-agent`.
//!
//! Everything that crosses the wire between an agent and the server is declared here and
//! nowhere else, so the two sides cannot drift. The format is JSON; every message carries
//! [`PROTOCOL_VERSION`] and unknown fields are ignored on read, so a newer agent can talk to
//! an older server (and the other way round) as long as additions stay optional.

use std::collections::BTreeMap;

use rampart_core::package::Package;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Bumped only for changes an older peer cannot ignore.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest check-in body the server accepts, in bytes. A large host (10 000 packages,
/// hundreds of users and keys) encodes to a few MiB; anything beyond this is refused with
/// 413 rather than buffered.
pub const MAX_CHECKIN_BYTES: usize = 32 * 1024 * 1024;

/// What an agent observed on its host at one moment.
///
/// The facts that change on every collection (when, uptime) sit outside [`HostState`] so
/// that [`HostState::content_hash`] only changes when something worth storing changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    pub protocol: u32,
    /// The agent's clock at collection, Unix seconds. Informational only: the server
    /// orders inventories by its own receive time, so a skewed agent clock never
    /// corrupts timestamps.
    pub observed_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uptime_secs: Option<u64>,
    pub state: HostState,
}

/// The stable part of an inventory: the host's facts, its software and its access.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostState {
    pub host: HostFacts,
    /// Installed packages, sorted by (name, arch, version).
    #[serde(default)]
    pub packages: Vec<Package>,
    /// Upgrades the host's package manager would install, computed from its local
    /// metadata without network access.
    #[serde(default)]
    pub updates: Vec<PendingUpdate>,
    /// Local accounts that can log in (a shell that is not `nologin`/`false`).
    #[serde(default)]
    pub users: Vec<LocalUser>,
    #[serde(default)]
    pub ssh_keys: Vec<AuthorizedKey>,
    /// `sshd -T` output as keyword → values, one value per output line (the rest of the
    /// line after the keyword), so repeated keywords (`hostkey`, `subsystem`) keep each
    /// line whole; `None` where sshd is absent, `sshd -T` could not run, or the inventory
    /// is of an image rather than the running system.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sshd: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default)]
    pub listening: Vec<ListeningSocket>,
    /// What a collector could not read; the rest of the inventory stands.
    #[serde(default)]
    pub problems: Vec<CollectorProblem>,
}

impl HostState {
    /// SHA-256 over the canonical JSON encoding, lowercase hex. The agent sends an
    /// inventory only when this changed; the server keys package sets by it.
    pub fn content_hash(&self) -> String {
        hash_json(self)
    }
}

/// SHA-256 of a value's JSON encoding (struct fields in declaration order, maps sorted),
/// lowercase hex.
pub fn hash_json<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).expect("wire types always encode");
    hex(&Sha256::digest(&bytes))
}

/// Content hash of a package list, independent of the rest of the inventory, so hosts
/// built from one image share one stored package set.
pub fn package_set_hash(packages: &[Package]) -> String {
    hash_json(&packages)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostFacts {
    pub hostname: String,
    /// `/etc/machine-id` where present: stable across renames and re-enrolments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
    pub os: OsFacts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudIdentity>,
    /// `/var/run/reboot-required` (Debian/Ubuntu) or the newest installed kernel not
    /// running.
    #[serde(default)]
    pub reboot_required: bool,
    /// Packages that asked for the reboot, where the system records them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reboot_required_packages: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsFacts {
    /// os-release `ID` (`debian`, `rocky`, `alpine`, …).
    pub id: String,
    #[serde(default)]
    pub version_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// The OSV ecosystem advisories for this host are published under (`Debian:12`),
    /// `None` when Rampart does not know the distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
}

/// Where the host runs, as far as it can tell locally (DMI, cloud-init's cached
/// instance data); never blocks on a metadata service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloudIdentity {
    /// `aws`, `gcp`, `azure`, `hetzner`, … as cloud-init names them.
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
}

/// Whether an update fixes security problems, by where it comes from: the `-security`
/// suite for apt, `updateinfo` type security for dnf, category security for zypper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UpdateCategory {
    Security,
    Other,
    /// The package manager keeps no security metadata (apk): the server classes the
    /// update from its advisories (security when it reaches a finding's fixed version).
    Unknown,
}

impl UpdateCategory {
    /// The lowercase word used on the wire, in the database and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            UpdateCategory::Security => "security",
            UpdateCategory::Other => "other",
            UpdateCategory::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpdate {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    pub installed: String,
    pub candidate: String,
    /// Repository the candidate comes from, as the package manager names it. For apt,
    /// `Label:Codename` (`Debian-Security:bookworm-security`; the Suite where the Codename
    /// lacks the Suite's `-security`/`-updates` part, as on Ubuntu: `Ubuntu:jammy-security`),
    /// stable across Debian's suite renames; for dnf the repository id (`baseos`).
    #[serde(default)]
    pub origin: String,
    pub category: UpdateCategory,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    #[serde(default)]
    pub home: String,
    pub shell: String,
}

/// One line of an `authorized_keys` file. Only the public key's type, fingerprint and
/// comment leave the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizedKey {
    pub user: String,
    /// File relative to the root (`home/alice/.ssh/authorized_keys`).
    pub file: String,
    pub key_type: String,
    /// OpenSSH's `SHA256:…` fingerprint.
    pub fingerprint: String,
    #[serde(default)]
    pub comment: String,
    /// Option names (`from`, `command`, …) present on the line, without their values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListeningSocket {
    /// `tcp` or `tcp6`.
    pub protocol: String,
    pub address: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectorProblem {
    /// Collector name (`packages`, `updates`, `sshd`, …).
    pub collector: String,
    pub message: String,
}

/// `POST /agent/v1/enroll` over server-authenticated TLS (CA pinned by fingerprint).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollRequest {
    pub protocol: u32,
    /// The enrolment token as the operator got it.
    pub token: String,
    /// PKCS#10 certificate signing request for the agent's own key, PEM.
    pub csr_pem: String,
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrollResponse {
    pub protocol: u32,
    pub agent_id: String,
    /// Client certificate for mTLS, PEM.
    pub certificate_pem: String,
    /// The server's CA certificate, PEM: the only root the agent trusts from now on.
    pub ca_pem: String,
    /// Suggested check-in interval in seconds.
    pub checkin_interval_secs: u64,
    /// The server already knew this machine (by its machine id): the new agent was
    /// attached to the existing host and its earlier agents were revoked.
    #[serde(default)]
    pub reenrolled: bool,
}

/// `POST /agent/v1/checkin` over mTLS. The inventory is attached only when its hash
/// differs from what the server last acknowledged; the server answers
/// `inventory_wanted` when it needs the full inventory anyway (for example after a
/// restore).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckIn {
    pub protocol: u32,
    pub agent_version: String,
    /// [`HostState::content_hash`] of the agent's current state.
    pub state_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Inventory>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInResponse {
    pub protocol: u32,
    /// The server holds the inventory with this hash; the agent may drop it from its
    /// spool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_hash: Option<String>,
    /// Send the full inventory on the next check-in even if the hash did not change.
    #[serde(default)]
    pub inventory_wanted: bool,
    pub next_checkin_secs: u64,
}

/// The one error shape of the agent endpoints (the same as the REST API's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`token_expired`, `payload_too_large`, …).
    pub code: String,
    /// What went wrong and what to do about it, for people.
    pub message: String,
}

#[cfg(test)]
mod tests;
