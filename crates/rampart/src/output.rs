//! Rendering scan results: a table for people, JSON and CSV for scripts. The JSON shape
//! is a stable contract (see `ScanReport`); CSV carries the same columns.

use std::io::{self, Write};

use comfy_table::{Cell, Color, ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use rampart_core::matcher::Finding;
use rampart_core::severity::SeverityLevel;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

/// `rampart scan --format json`. Field names and meanings are a contract.
#[derive(Serialize)]
pub(crate) struct ScanReport {
    pub(crate) os: OsInfo,
    pub(crate) packages: usize,
    pub(crate) findings: Vec<FindingRow>,
}

#[derive(Serialize)]
pub(crate) struct OsInfo {
    pub(crate) id: String,
    pub(crate) version_id: Option<String>,
    pub(crate) ecosystem: String,
}

#[derive(Serialize)]
pub(crate) struct FindingRow {
    pub(crate) advisory: String,
    pub(crate) aliases: Vec<String>,
    pub(crate) package: String,
    pub(crate) source: String,
    pub(crate) installed: String,
    pub(crate) fixed: Option<String>,
    pub(crate) severity: SeverityRow,
    /// Not in the JSON contract: shown in the table to explain the match (formatted
    /// only there; a large scan has tens of thousands of rows).
    #[serde(skip)]
    pub(crate) reason: rampart_core::matcher::MatchReason,
}

#[derive(Serialize)]
pub(crate) struct SeverityRow {
    pub(crate) level: SeverityLevel,
    pub(crate) cvss: Option<f64>,
}

impl From<Finding> for FindingRow {
    fn from(f: Finding) -> Self {
        FindingRow {
            reason: f.reason,
            advisory: f.advisory,
            aliases: f.aliases,
            package: f.package,
            source: f.source,
            installed: f.installed,
            fixed: f.fixed,
            severity: SeverityRow {
                level: f.severity.level,
                cvss: f.severity.cvss,
            },
        }
    }
}

pub(crate) fn write(report: &ScanReport, format: Format, out: &mut impl Write) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Csv => write_csv(report, out),
        Format::Table => write_table(report, out),
    }
}

const CSV_HEADER: [&str; 8] = [
    "advisory",
    "aliases",
    "package",
    "source",
    "installed",
    "fixed",
    "severity",
    "cvss",
];

fn write_csv(report: &ScanReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{}", CSV_HEADER.join(","))?;
    for f in &report.findings {
        let fields = [
            f.advisory.clone(),
            f.aliases.join(" "),
            f.package.clone(),
            f.source.clone(),
            f.installed.clone(),
            f.fixed.clone().unwrap_or_default(),
            f.severity.level.to_string(),
            f.severity
                .cvss
                .map(|c| format!("{c:.1}"))
                .unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|s| csv_field(s)).collect();
        writeln!(out, "{}", line.join(","))?;
    }
    Ok(())
}

/// RFC 4180 quoting; a leading `=`, `+`, `-` or `@` is prefixed with `'` so a
/// spreadsheet never evaluates a feed-controlled string as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn level_color(level: SeverityLevel) -> Color {
    match level {
        SeverityLevel::Critical => Color::Red,
        SeverityLevel::High => Color::DarkRed,
        SeverityLevel::Medium => Color::Yellow,
        SeverityLevel::Low => Color::Blue,
        SeverityLevel::Unknown => Color::Grey,
    }
}

fn write_table(report: &ScanReport, out: &mut impl Write) -> io::Result<()> {
    writeln!(
        out,
        "{} ({}): {} packages, {} findings",
        report.os.ecosystem,
        report.os.id,
        report.packages,
        report.findings.len()
    )?;
    for level in SeverityLevel::ALL {
        let rows: Vec<&FindingRow> = report
            .findings
            .iter()
            .filter(|f| f.severity.level == level)
            .collect();
        if rows.is_empty() {
            continue;
        }
        writeln!(out, "\n{} ({})", level.as_str().to_uppercase(), rows.len())?;
        let mut table = Table::new();
        table
            .load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        table.set_header([
            "advisory",
            "package",
            "installed",
            "fixed",
            "cvss",
            "aliases",
            "matched",
        ]);
        for f in rows {
            let aliases = match f.aliases.len() {
                0..=2 => f.aliases.join(" "),
                n => format!("{} +{}", f.aliases[..2].join(" "), n - 2),
            };
            let package = if f.source == f.package {
                f.package.clone()
            } else {
                format!("{} (src {})", f.package, f.source)
            };
            table.add_row(vec![
                Cell::new(&f.advisory).fg(level_color(level)),
                Cell::new(package),
                Cell::new(&f.installed),
                Cell::new(f.fixed.as_deref().unwrap_or("(no fix)")),
                Cell::new(
                    f.severity
                        .cvss
                        .map(|c| format!("{c:.1}"))
                        .unwrap_or_default(),
                ),
                Cell::new(aliases),
                Cell::new(f.reason.to_string()),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    let mut summary = Vec::new();
    for level in SeverityLevel::ALL {
        let n = report
            .findings
            .iter()
            .filter(|f| f.severity.level == level)
            .count();
        if n > 0 {
            summary.push(format!("{level} {n}"));
        }
    }
    if summary.is_empty() {
        writeln!(out, "\nNo known vulnerabilities.")
    } else {
        writeln!(out, "\nSummary: {}", summary.join(", "))
    }
}

/// One column of a listing: its header and where its value sits in each item (a JSON
/// pointer), so listings of API answers need no per-resource structs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column {
    header: &'static str,
    pointer: &'static str,
    /// The value is Unix milliseconds (the API's timestamps): shown as UTC time in tables.
    time: bool,
}

impl Column {
    pub(crate) const fn new(header: &'static str, pointer: &'static str) -> Column {
        Column {
            header,
            pointer,
            time: false,
        }
    }

    pub(crate) const fn time(header: &'static str, pointer: &'static str) -> Column {
        Column {
            header,
            pointer,
            time: true,
        }
    }

    fn render(&self, item: &serde_json::Value, format: Format) -> String {
        let value = item.pointer(self.pointer);
        match value.and_then(|v| v.as_i64()) {
            Some(ms) if self.time && format == Format::Table => utc_minutes(ms),
            _ => cell(value),
        }
    }
}

/// `2026-11-29 03:12Z` from Unix milliseconds; out-of-range values print as they are.
fn utc_minutes(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_else(|_| ms.to_string())
}

/// A JSON value as one cell: strings bare, null empty, arrays space-separated, objects
/// as `k=v` pairs.
fn cell(v: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join(" "),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(Some(v))))
            .collect::<Vec<_>>()
            .join(" "),
        Some(other) => other.to_string(),
    }
}

/// Writes an API list answer (`{"items": [...], "total": N}`, or a bare array): JSON
/// unchanged, table and CSV with `columns`.
pub(crate) fn write_items(
    answer: &serde_json::Value,
    columns: &[Column],
    format: Format,
    out: &mut impl Write,
) -> io::Result<()> {
    if format == Format::Json {
        serde_json::to_writer_pretty(&mut *out, answer)?;
        return writeln!(out);
    }
    let empty = Vec::new();
    let items = answer
        .get("items")
        .and_then(|i| i.as_array())
        .or_else(|| answer.as_array())
        .unwrap_or(&empty);
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| c.render(item, format)).collect())
        .collect();
    if format == Format::Csv {
        let header: Vec<String> = columns
            .iter()
            .map(|c| c.header.to_ascii_lowercase().replace(' ', "_"))
            .collect();
        writeln!(out, "{}", header.join(","))?;
        for row in rows {
            let fields: Vec<String> = row.iter().map(|s| csv_field(s)).collect();
            writeln!(out, "{}", fields.join(","))?;
        }
        return Ok(());
    }
    let mut table = Table::new();
    table
        .load_style(comfy_table::presets::NOTHING)
        .set_header(columns.iter().map(|c| c.header));
    for row in rows {
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    if let Some(total) = answer.get("total").and_then(|t| t.as_u64()) {
        let offset = answer.get("offset").and_then(|o| o.as_u64()).unwrap_or(0);
        writeln!(out, "{} of {total} shown (from {offset})", items.len())?;
    }
    Ok(())
}

/// Writes one object: JSON unchanged; table as `FIELD  value` lines (every top-level
/// field when `fields` is empty); CSV as a header line and one row.
pub(crate) fn write_object(
    answer: &serde_json::Value,
    fields: &[Column],
    format: Format,
    out: &mut impl Write,
) -> io::Result<()> {
    if format == Format::Json || fields.is_empty() && !answer.is_object() {
        serde_json::to_writer_pretty(&mut *out, answer)?;
        return writeln!(out);
    }
    let pairs: Vec<(String, String)> = if fields.is_empty() {
        answer
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), cell(Some(v))))
            .collect()
    } else {
        fields
            .iter()
            .map(|c| (c.header.to_owned(), c.render(answer, format)))
            .collect()
    };
    if format == Format::Csv {
        let header: Vec<String> = pairs
            .iter()
            .map(|(k, _)| csv_field(&k.to_ascii_lowercase().replace(' ', "_")))
            .collect();
        let row: Vec<String> = pairs.iter().map(|(_, v)| csv_field(v)).collect();
        writeln!(out, "{}", header.join(","))?;
        return writeln!(out, "{}", row.join(","));
    }
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in pairs {
        writeln!(out, "{k:width$}  {v}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting_and_formula_guard() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }

    fn render(answer: serde_json::Value, columns: &[Column], format: Format) -> String {
        let mut out = Vec::new();
        write_items(&answer, columns, format, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn listings_render_cells_times_and_totals() {
        let answer = serde_json::json!({
            "items": [{"id": "h1", "labels": {"env": "prod", "team": "web"},
                       "seen": 1795922001425_i64, "tags": ["a", "b"], "gone": null}],
            "total": 7, "offset": 0
        });
        let cols = [
            Column::new("ID", "/id"),
            Column::new("LABELS", "/labels"),
            Column::time("SEEN", "/seen"),
            Column::new("TAGS", "/tags"),
            Column::new("GONE", "/gone"),
        ];
        let table = render(answer.clone(), &cols, Format::Table);
        assert!(table.contains("env=prod team=web"), "{table}");
        assert!(table.contains("2026-11-29 03:13Z"), "{table}");
        assert!(table.contains("1 of 7 shown"), "{table}");
        let csv = render(answer.clone(), &cols, Format::Csv);
        assert_eq!(
            csv,
            "id,labels,seen,tags,gone\nh1,env=prod team=web,1795922001425,a b,\n"
        );
        // JSON is the API's answer unchanged.
        let json: serde_json::Value =
            serde_json::from_str(&render(answer.clone(), &cols, Format::Json)).unwrap();
        assert_eq!(json, answer);
    }

    #[test]
    fn csv_of_api_values_is_guarded_too() {
        let answer = serde_json::json!([{"name": "=HYPERLINK(\"x\")"}]);
        let csv = render(answer, &[Column::new("NAME", "/name")], Format::Csv);
        assert_eq!(csv, "name\n\"'=HYPERLINK(\"\"x\"\")\"\n");
    }
}
