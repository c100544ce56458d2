//! CSV renderers: RFC 4180 (comma separated, CRLF line ends, fields quoted when they hold
//! a comma, a quote or a line break, quotes doubled), one header row, UTF-8.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula, and
//! hostnames, package names and reasons come from agents and feeds, so such a cell is
//! written with a leading `'` (OWASP's CSV injection advice); tab and carriage return
//! starts are guarded the same way. List cells (projects, reasons, aliases, exceptions)
//! join their items with `; `.

use std::io::{self, Write};

use crate::model::{ComplianceReport, ExceptionRef, FindingsReport, date, timestamp};

/// Compliance report columns, in order.
pub const COMPLIANCE_COLUMNS: [&str; 16] = [
    "hostname",
    "host_id",
    "projects",
    "os",
    "state",
    "reasons",
    "critical",
    "high",
    "medium",
    "low",
    "unknown",
    "pending_updates",
    "pending_security_updates",
    "last_seen",
    "last_updated",
    "exceptions",
];

/// Findings report columns, in order.
pub const FINDINGS_COLUMNS: [&str; 13] = [
    "hostname",
    "host_id",
    "advisory",
    "aliases",
    "package",
    "installed",
    "fixed",
    "severity",
    "cvss",
    "first_seen",
    "exception_id",
    "exception_approver",
    "exception_expires",
];

/// Writes the compliance report as CSV.
pub fn write_compliance<W: Write>(report: &ComplianceReport, out: W) -> io::Result<()> {
    let mut w = CsvWriter::new(out);
    w.record(COMPLIANCE_COLUMNS)?;
    for h in &report.hosts {
        let f = &h.findings;
        w.record([
            h.hostname.as_str(),
            &h.host_id,
            &h.projects.join("; "),
            &h.os,
            h.state.as_str(),
            &h.reasons.join("; "),
            &f.critical.to_string(),
            &f.high.to_string(),
            &f.medium.to_string(),
            &f.low.to_string(),
            &f.unknown.to_string(),
            &h.pending_updates.to_string(),
            &h.pending_security_updates.to_string(),
            &h.last_seen.map(timestamp).unwrap_or_default(),
            &h.last_updated.map(timestamp).unwrap_or_default(),
            &h.exceptions
                .iter()
                .map(exception_text)
                .collect::<Vec<_>>()
                .join("; "),
        ])?;
    }
    w.finish()
}

/// Writes the findings report as CSV.
pub fn write_findings<W: Write>(report: &FindingsReport, out: W) -> io::Result<()> {
    let mut w = CsvWriter::new(out);
    w.record(FINDINGS_COLUMNS)?;
    for f in &report.findings {
        let e = f.exception.as_ref();
        w.record([
            f.hostname.as_str(),
            &f.host_id,
            &f.advisory,
            &f.aliases.join("; "),
            &f.package,
            &f.installed,
            f.fixed.as_deref().unwrap_or(""),
            f.severity.as_str(),
            &f.cvss.map(|c| format!("{c:.1}")).unwrap_or_default(),
            &timestamp(f.first_seen),
            e.map_or("", |e| e.id.as_str()),
            e.map_or("", |e| e.approver.as_str()),
            &e.map(|e| timestamp(e.expires_at)).unwrap_or_default(),
        ])?;
    }
    w.finish()
}

/// `EXC-1 (DSA-1-1, approved by alice, until 2026-12-31)`.
pub(crate) fn exception_text(e: &ExceptionRef) -> String {
    format!(
        "{} ({}, approved by {}, until {})",
        e.id,
        e.advisory,
        e.approver,
        date(e.expires_at)
    )
}

struct CsvWriter<W: Write> {
    out: io::BufWriter<W>,
    buf: String,
}

impl<W: Write> CsvWriter<W> {
    fn new(out: W) -> Self {
        CsvWriter {
            out: io::BufWriter::with_capacity(64 * 1024, out),
            buf: String::with_capacity(512),
        }
    }

    fn record<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) -> io::Result<()> {
        self.buf.clear();
        for (i, field) in fields.into_iter().enumerate() {
            if i > 0 {
                self.buf.push(',');
            }
            push_field(&mut self.buf, field);
        }
        self.buf.push_str("\r\n");
        self.out.write_all(self.buf.as_bytes())
    }

    fn finish(mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Appends one field: guarded against formula injection, then quoted if needed.
pub(crate) fn push_field(buf: &mut String, field: &str) {
    let guard = field.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quote = field.contains([',', '"', '\r', '\n']);
    if quote {
        buf.push('"');
    }
    if guard {
        buf.push('\'');
    }
    if quote {
        for c in field.chars() {
            if c == '"' {
                buf.push('"');
            }
            buf.push(c);
        }
        buf.push('"');
    } else {
        buf.push_str(field);
    }
}

#[cfg(test)]
mod tests;
