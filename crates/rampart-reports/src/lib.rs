//! Rampart's reports: the compliance report (one row per host: state, reasons, counts,
//! exceptions) and the findings report (one row per vulnerable package per host), as
//! CSV, JSON and PDF.
//!
//! Pure rendering: no I/O besides the writer it is given, no clock (`generated_at` is
//! passed in), no store. The server maps its data into [`ComplianceReport`] and
//! [`FindingsReport`] and calls [`render_compliance`] / [`render_findings`]; the summary
//! of a report is computed from its rows, so every format shows the same totals.

pub mod csv;
pub mod json;
mod model;
pub mod pdf;

pub use model::{
    ComplianceReport, ComplianceRow, ComplianceSummary, ExceptionRef, FindingRow, FindingsReport,
    FindingsSummary, HostState, Millis, Scope, SeverityCounts, compact_timestamp, date, human_time,
    timestamp,
};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
    /// The PDF engine refused the document (it validates what it writes).
    #[error("building the PDF: {0}")]
    Pdf(String),
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Csv,
    Json,
    Pdf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Csv, Format::Json, Format::Pdf];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Pdf => "pdf",
        }
    }

    /// The file name extension (without the dot).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }

    /// The HTTP `Content-Type` of a rendered report.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Pdf => "application/pdf",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("unknown format {s:?} (expected csv, json or pdf)"))
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The compliance report in `format`.
pub fn render_compliance(report: &ComplianceReport, format: Format) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    match format {
        Format::Csv => csv::write_compliance(report, &mut out)?,
        Format::Json => json::write_compliance(report, &mut out)?,
        Format::Pdf => out = pdf::compliance(report)?,
    }
    Ok(out)
}

/// The findings report in `format`.
pub fn render_findings(report: &FindingsReport, format: Format) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    match format {
        Format::Csv => csv::write_findings(report, &mut out)?,
        Format::Json => json::write_findings(report, &mut out)?,
        Format::Pdf => out = pdf::findings(report)?,
    }
    Ok(out)
}

/// `rampart-compliance-estate-20261129T140300Z.pdf`: what a download is saved as.
pub fn file_name(kind: &str, scope: &Scope, generated_at: Millis, format: Format) -> String {
    format!(
        "rampart-{kind}-{}-{}.{}",
        scope.slug(),
        compact_timestamp(generated_at),
        format.extension()
    )
}
