//! JSON renderers. The shape is a contract for scripts, versioned by `format_version`
//! (fields may be added within a version, never renamed or removed):
//!
//! ```text
//! { "report": "compliance", "format_version": 1,
//!   "scope": {"kind": "estate"} | {"kind": "project", "id": "…", "name": "…"},
//!   "generated_at": "2026-11-29T14:03:00Z",
//!   "summary": { "hosts", "compliant", "non_compliant", "stale", "unknown",
//!                "findings": {"critical","high","medium","low","unknown"},
//!                "pending_security_updates", "hosts_with_exceptions" },
//!   "hosts": [ { "hostname", "host_id", "projects": [..], "os",
//!                "state": "compliant"|"non_compliant"|"stale"|"unknown", "reasons": [..],
//!                "findings": {..per severity..}, "pending_updates",
//!                "pending_security_updates", "last_seen", "last_updated" (time or null),
//!                "exceptions": [ {"id","advisory","approver","expires_at"} ] } ] }
//!
//! { "report": "findings", "format_version": 1, "scope": …,
//!   "severity": null | "critical"|"high"|"medium"|"low"|"unknown" (the filter applied),
//!   "generated_at": …,
//!   "summary": { "findings", "by_severity": {..}, "hosts", "advisories", "excepted" },
//!   "findings": [ { "hostname", "host_id", "advisory", "aliases": [..], "package",
//!                   "installed", "fixed" (or null), "severity", "cvss" (or null),
//!                   "first_seen", "exception": null | {"id","advisory","approver",
//!                   "expires_at"} } ] }
//! ```
//!
//! Times are RFC 3339 strings in UTC (`…Z`), counts are integers.

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{ComplianceReport, FindingsReport};

/// The version of the shapes above.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Envelope<'a, T> {
    report: &'static str,
    format_version: u32,
    #[serde(flatten)]
    body: &'a T,
}

/// Writes the compliance report as JSON.
pub fn write_compliance<W: Write>(report: &ComplianceReport, out: W) -> io::Result<()> {
    write("compliance", report, out)
}

/// Writes the findings report as JSON.
pub fn write_findings<W: Write>(report: &FindingsReport, out: W) -> io::Result<()> {
    write("findings", report, out)
}

fn write<T: Serialize, W: Write>(kind: &'static str, body: &T, out: W) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, out);
    let doc = Envelope {
        report: kind,
        format_version: FORMAT_VERSION,
        body,
    };
    serde_json::to_writer(&mut out, &doc).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests;
