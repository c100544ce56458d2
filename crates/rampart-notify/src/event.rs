//! Events and their one JSON body.
//!
//! An [`Event`] is what happened (its [`Payload`]), when, which projects it concerns
//! (so a channel can filter by project) and, for reports, the files to attach to mail.
//! It has two serialised forms:
//! - the **stored** form (serde of [`Event`]): what the outbox keeps, attachment bytes
//!   included (base64), so a delivery can be retried after a restart;
//! - the **wire** form ([`Event::wire_body`]): the versioned JSON a webhook receives.
//!   Attachments appear there only as name, type, size and SHA-256.
//!
//! Wire body, version 1 (fields are only ever added within a version):
//! ```json
//! {"version":1,"id":"<uuid>","kind":"finding.critical",
//!  "occurred_at":"2025-06-15T14:13:20.000Z","projects":["<project id>"],
//!  "summary":"one line for people","data":{…kind-specific…},"attachments":[]}
//! ```
//! Times inside `data` are RFC 3339 UTC strings as well.

use rampart_core::change_request::ChangeRequestItem;
use serde::{Deserialize, Serialize};

/// Version of the wire body; bumped only for an incompatible change.
pub const WIRE_VERSION: u32 = 1;

/// The kinds of event a channel can subscribe to, with their stable wire names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventKind {
    #[serde(rename = "finding.critical")]
    CriticalFinding,
    #[serde(rename = "host.non_compliant")]
    HostNonCompliant,
    #[serde(rename = "host.stale")]
    HostStale,
    #[serde(rename = "exception.expiring")]
    ExceptionExpiring,
    #[serde(rename = "report.ready")]
    ReportReady,
    #[serde(rename = "change_request.opened")]
    ChangeRequestOpened,
    #[serde(rename = "change_request.updated")]
    ChangeRequestUpdated,
    /// Sent only by "test this channel"; every channel receives it, whatever it
    /// subscribed to.
    #[serde(rename = "test")]
    Test,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::CriticalFinding,
        EventKind::HostNonCompliant,
        EventKind::HostStale,
        EventKind::ExceptionExpiring,
        EventKind::ReportReady,
        EventKind::ChangeRequestOpened,
        EventKind::ChangeRequestUpdated,
        EventKind::Test,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CriticalFinding => "finding.critical",
            EventKind::HostNonCompliant => "host.non_compliant",
            EventKind::HostStale => "host.stale",
            EventKind::ExceptionExpiring => "exception.expiring",
            EventKind::ReportReady => "report.ready",
            EventKind::ChangeRequestOpened => "change_request.opened",
            EventKind::ChangeRequestUpdated => "change_request.updated",
            EventKind::Test => "test",
        }
    }

    /// Change-request events, which ticketing channels receive without subscribing.
    pub fn is_change_request(self) -> bool {
        matches!(
            self,
            EventKind::ChangeRequestOpened | EventKind::ChangeRequestUpdated
        )
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for EventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<EventKind, String> {
        EventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown event kind {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// What happened, per kind. Serialised as `"kind"` + `"data"`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "data")]
pub enum Payload {
    #[serde(rename = "finding.critical")]
    CriticalFindings(CriticalFindings),
    #[serde(rename = "host.non_compliant")]
    HostNonCompliant(HostNonCompliant),
    #[serde(rename = "host.stale")]
    HostStale(HostStale),
    #[serde(rename = "exception.expiring")]
    ExceptionExpiring(ExceptionExpiring),
    #[serde(rename = "report.ready")]
    ReportReady(ReportReady),
    #[serde(rename = "change_request.opened")]
    ChangeRequestOpened(ChangeRequest),
    #[serde(rename = "change_request.updated")]
    ChangeRequestUpdated(ChangeRequest),
    #[serde(rename = "test")]
    Test(TestEvent),
}

/// Findings of critical severity that were not open on the host before, one event
/// per host and recomputation (a feed import that adds one critical advisory affecting
/// 500 hosts makes 500 events, not 500 × packages).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriticalFindings {
    pub host_id: String,
    pub hostname: String,
    pub findings: Vec<CriticalFinding>,
}

/// One new critical finding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CriticalFinding {
    pub advisory: String,
    pub aliases: Vec<String>,
    pub package: String,
    pub installed: String,
    pub fixed: Option<String>,
    pub cvss: Option<f64>,
}

/// A host that was compliant (or new) and no longer is, with every reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostNonCompliant {
    pub host_id: String,
    pub hostname: String,
    pub reasons: Vec<String>,
}

/// A host whose agent has not checked in for longer than the standard allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostStale {
    pub host_id: String,
    pub hostname: String,
    #[serde(with = "rfc3339_opt")]
    pub last_seen_at: Option<i64>,
}

/// A risk exception that stops applying soon.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionExpiring {
    pub exception_id: String,
    pub advisory: String,
    /// `host`, `project` or `estate`.
    pub scope: String,
    pub host_id: Option<String>,
    pub hostname: Option<String>,
    /// The project of a project-wide exception.
    pub project_id: Option<String>,
    /// Who asked for it (the one to renew it or fix the finding).
    pub requested_by: String,
    #[serde(with = "rfc3339")]
    pub expires_at: i64,
}

/// A report was produced (on schedule or on request). Mail channels attach its files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportReady {
    /// `compliance` or `findings`.
    pub report: String,
    pub title: String,
    pub project_id: Option<String>,
    /// The report's summary, as plain text: the body of the mail.
    pub summary: String,
    /// Where to download it from the server, when it is kept there.
    pub url: Option<String>,
}

/// A change request as it stands after being opened or updated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRequest {
    pub change_request_id: String,
    pub project_id: String,
    pub project_name: String,
    pub status: String,
    pub items: Vec<ChangeRequestItem>,
    /// The ticketing system's reference, once it answered with one.
    pub external_ref: Option<String>,
}

/// "Test this channel".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEvent {
    pub channel: String,
    pub requested_by: String,
}

/// A file attached to mail (a rendered report).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    #[serde(with = "base64_bytes")]
    pub content: Vec<u8>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("bytes", &self.content.len())
            .finish()
    }
}

/// One event; see the module documentation for its serialised forms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7, unique per event; receivers deduplicate on it.
    pub id: String,
    /// Unix milliseconds on the server's clock.
    #[serde(with = "rfc3339")]
    pub occurred_at: i64,
    /// Projects the event concerns (a host's projects, a report's project); empty for
    /// estate-wide events. A channel with a project filter receives only events naming
    /// its project.
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(flatten)]
    pub payload: Payload,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// What a webhook receives about an attachment.
#[derive(Serialize)]
struct WireAttachment<'a> {
    filename: &'a str,
    content_type: &'a str,
    size: usize,
    sha256: String,
}

#[derive(Serialize)]
struct Wire<'a> {
    version: u32,
    id: &'a str,
    #[serde(with = "rfc3339")]
    occurred_at: i64,
    projects: &'a [String],
    summary: String,
    #[serde(flatten)]
    payload: &'a Payload,
    attachments: Vec<WireAttachment<'a>>,
}

impl Event {
    /// An event with a fresh UUIDv7 id made from `now`.
    pub fn new(payload: Payload, projects: Vec<String>, now: i64) -> Event {
        Event {
            id: new_event_id(now),
            occurred_at: now,
            projects,
            payload,
            attachments: Vec::new(),
        }
    }

    pub fn kind(&self) -> EventKind {
        match &self.payload {
            Payload::CriticalFindings(_) => EventKind::CriticalFinding,
            Payload::HostNonCompliant(_) => EventKind::HostNonCompliant,
            Payload::HostStale(_) => EventKind::HostStale,
            Payload::ExceptionExpiring(_) => EventKind::ExceptionExpiring,
            Payload::ReportReady(_) => EventKind::ReportReady,
            Payload::ChangeRequestOpened(_) => EventKind::ChangeRequestOpened,
            Payload::ChangeRequestUpdated(_) => EventKind::ChangeRequestUpdated,
            Payload::Test(_) => EventKind::Test,
        }
    }

    /// The stored form (attachments included), for the outbox.
    pub fn to_stored_json(&self) -> String {
        serde_json::to_string(self).expect("events always encode")
    }

    /// Reads the stored form back.
    pub fn from_stored_json(s: &str) -> Result<Event, serde_json::Error> {
        serde_json::from_str(s)
    }

    /// The same event without attachment bytes: what a webhook delivery stores.
    pub fn without_attachment_content(&self) -> Event {
        let mut e = self.clone();
        for a in &mut e.attachments {
            a.content = Vec::new();
        }
        e
    }

    /// The versioned JSON body a webhook receives (see the module documentation).
    pub fn wire_body(&self) -> Vec<u8> {
        let wire = Wire {
            version: WIRE_VERSION,
            id: &self.id,
            occurred_at: self.occurred_at,
            projects: &self.projects,
            summary: self.subject(),
            payload: &self.payload,
            attachments: self
                .attachments
                .iter()
                .map(|a| WireAttachment {
                    filename: &a.filename,
                    content_type: &a.content_type,
                    size: a.content.len(),
                    sha256: crate::hex(
                        ring::digest::digest(&ring::digest::SHA256, &a.content).as_ref(),
                    ),
                })
                .collect(),
        };
        serde_json::to_vec(&wire).expect("events always encode")
    }

    /// One line for people: the mail subject and the wire body's `summary`.
    pub fn subject(&self) -> String {
        match &self.payload {
            Payload::CriticalFindings(c) => match c.findings.as_slice() {
                [f] => format!(
                    "[Rampart] Critical finding {} on {} ({} {})",
                    f.advisory, c.hostname, f.package, f.installed
                ),
                many => format!(
                    "[Rampart] {} new critical findings on {}",
                    many.len(),
                    c.hostname
                ),
            },
            Payload::HostNonCompliant(h) => {
                format!("[Rampart] {} is no longer compliant", h.hostname)
            }
            Payload::HostStale(h) => format!("[Rampart] {} stopped checking in", h.hostname),
            Payload::ExceptionExpiring(e) => format!(
                "[Rampart] Exception for {} expires {}",
                e.advisory,
                format_millis(e.expires_at)
            ),
            Payload::ReportReady(r) => format!("[Rampart] Report ready: {}", r.title),
            Payload::ChangeRequestOpened(c) => format!(
                "[Rampart] Change request opened for {} ({} hosts)",
                c.project_name,
                c.items.len()
            ),
            Payload::ChangeRequestUpdated(c) => format!(
                "[Rampart] Change request updated for {} ({} hosts)",
                c.project_name,
                c.items.len()
            ),
            Payload::Test(t) => format!("[Rampart] Test notification for channel {}", t.channel),
        }
    }

    /// The plain-text mail body: the summary of what happened.
    pub fn text_body(&self) -> String {
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        match &self.payload {
            Payload::CriticalFindings(c) => {
                line(format!("New critical findings on {}:", c.hostname));
                for f in &c.findings {
                    line(String::new());
                    line(format!("Advisory:  {}", f.advisory));
                    if !f.aliases.is_empty() {
                        line(format!("Aliases:   {}", f.aliases.join(", ")));
                    }
                    line(format!("Package:   {} {}", f.package, f.installed));
                    line(format!(
                        "Fixed in:  {}",
                        f.fixed.as_deref().unwrap_or("no fix published yet")
                    ));
                    if let Some(cvss) = f.cvss {
                        line(format!("CVSS:      {cvss:.1}"));
                    }
                }
            }
            Payload::HostNonCompliant(h) => {
                line(format!("{} is no longer compliant:", h.hostname));
                for r in &h.reasons {
                    line(format!("- {r}"));
                }
            }
            Payload::HostStale(h) => line(format!(
                "{} has not checked in since {}.",
                h.hostname,
                h.last_seen_at
                    .map(format_millis)
                    .unwrap_or_else(|| "it enrolled".into())
            )),
            Payload::ExceptionExpiring(e) => {
                line(format!(
                    "The risk exception for {} ({}{}) expires {}.",
                    e.advisory,
                    e.scope,
                    e.hostname
                        .as_deref()
                        .map(|h| format!(" {h}"))
                        .unwrap_or_default(),
                    format_millis(e.expires_at)
                ));
                line(format!("Requested by: {}", e.requested_by));
            }
            Payload::ReportReady(r) => {
                line(r.summary.trim_end().to_owned());
                if let Some(url) = &r.url {
                    line(String::new());
                    line(format!("Download: {url}"));
                }
            }
            Payload::ChangeRequestOpened(c) | Payload::ChangeRequestUpdated(c) => {
                line(format!(
                    "Security updates are pending beyond the standard of project {}:",
                    c.project_name
                ));
                for item in &c.items {
                    line(format!("- {}:", item.hostname));
                    for u in &item.updates {
                        line(format!(
                            "    {} {} -> {} (pending since {})",
                            u.package,
                            u.installed,
                            u.candidate,
                            format_millis(u.pending_since)
                        ));
                    }
                }
            }
            Payload::Test(t) => line(format!(
                "This is a test of the notification channel {}, sent at the request of {}.",
                t.channel, t.requested_by
            )),
        }
        line(String::new());
        line(format!(
            "Event {} at {}",
            self.id,
            format_millis(self.occurred_at)
        ));
        out
    }
}

/// A fresh UUIDv7 from `now` (Unix milliseconds) and randomness.
pub fn new_event_id(now: i64) -> String {
    let ms = u64::try_from(now).unwrap_or(0);
    let mut rand = [0u8; 10];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut rand)
        .expect("the operating system's random source failed");
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6..].copy_from_slice(&rand);
    b[6] = 0x70 | (b[6] & 0x0f);
    b[8] = 0x80 | (b[8] & 0x3f);
    let h = crate::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Unix milliseconds as RFC 3339 UTC with milliseconds (`2025-06-15T14:13:20.000Z`).
pub fn format_millis(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn parse_millis(s: &str) -> Result<i64, String> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("invalid RFC 3339 time {s:?}: {e}"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(ms: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_millis(*ms))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_millis(&s).map_err(serde::de::Error::custom)
    }
}

mod rfc3339_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(ms: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => s.serialize_str(&super::format_millis(*ms)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| super::parse_millis(&s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

mod base64_bytes {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::change_request::OverdueUpdate;

    const T: i64 = 1_750_000_000_123;

    fn critical() -> Event {
        Event::new(
            Payload::CriticalFindings(CriticalFindings {
                host_id: "h1".into(),
                hostname: "web-1".into(),
                findings: vec![CriticalFinding {
                    advisory: "DSA-5555-1".into(),
                    aliases: vec!["CVE-2025-0001".into()],
                    package: "openssl".into(),
                    installed: "3.0.11-1".into(),
                    fixed: Some("3.0.11-2".into()),
                    cvss: Some(9.8),
                }],
            }),
            vec!["p1".into()],
            T,
        )
    }

    #[test]
    fn wire_body_is_versioned_and_stable() {
        let mut e = critical();
        e.id = "0197".into();
        let body: serde_json::Value = serde_json::from_slice(&e.wire_body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "version": 1,
                "id": "0197",
                "kind": "finding.critical",
                "occurred_at": "2025-06-15T15:06:40.123Z",
                "projects": ["p1"],
                "summary": "[Rampart] Critical finding DSA-5555-1 on web-1 (openssl 3.0.11-1)",
                "data": {
                    "host_id": "h1", "hostname": "web-1",
                    "findings": [{
                        "advisory": "DSA-5555-1", "aliases": ["CVE-2025-0001"],
                        "package": "openssl", "installed": "3.0.11-1",
                        "fixed": "3.0.11-2", "cvss": 9.8
                    }]
                },
                "attachments": []
            })
        );
    }

    #[test]
    fn stored_form_round_trips_with_attachments() {
        let mut e = Event::new(
            Payload::ChangeRequestOpened(ChangeRequest {
                change_request_id: "cr".into(),
                project_id: "p".into(),
                project_name: "web".into(),
                status: "open".into(),
                items: vec![ChangeRequestItem {
                    host_id: "h".into(),
                    hostname: "web-1".into(),
                    updates: vec![OverdueUpdate {
                        package: "openssl".into(),
                        installed: "1".into(),
                        candidate: "2".into(),
                        pending_since: T - 86_400_000,
                    }],
                }],
                external_ref: None,
            }),
            vec![],
            T,
        );
        e.attachments.push(Attachment {
            filename: "r.pdf".into(),
            content_type: "application/pdf".into(),
            content: vec![0, 1, 2, 255],
        });
        let back = Event::from_stored_json(&e.to_stored_json()).unwrap();
        assert_eq!(back, e);
        let wire: serde_json::Value = serde_json::from_slice(&e.wire_body()).unwrap();
        assert_eq!(wire["attachments"][0]["size"], 4);
        assert_eq!(wire["attachments"][0].get("content"), None);
        assert!(
            e.text_body()
                .contains("openssl 1 -> 2 (pending since 2025-06-14T15:06:40.123Z)")
        );
        assert!(
            e.without_attachment_content().attachments[0]
                .content
                .is_empty()
        );
    }

    #[test]
    fn kinds_parse_and_print() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert!("finding".parse::<EventKind>().is_err());
        assert_eq!(critical().kind(), EventKind::CriticalFinding);
    }

    #[test]
    fn ids_are_uuid_v7_in_time_order() {
        let a = new_event_id(1_000);
        let b = new_event_id(2_000);
        assert!(a < b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "7");
    }

    #[test]
    fn times_format_as_rfc3339_millis() {
        assert_eq!(format_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_millis("2025-06-15T15:06:40.123Z").unwrap(), T);
    }
}
