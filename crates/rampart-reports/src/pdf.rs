//! PDF renderers, on krilla (pure Rust). Landscape A4. Page 1: title, scope, time, the
//! summary totals and the summary chart; then the rows as a table with the header
//! repeated on every page. Every page carries "Page N of M".
//!
//! The text is real text in the one embedded font (subset by krilla), so `pdftotext`
//! gives back every number shown. The layout is computed before anything is drawn (cells
//! wrapped, rows cut into pages), which is what makes "of M" possible.

mod chart;
mod table;
mod text;

use krilla::Document;
use krilla::color::rgb;
use krilla::metadata::{DateTime, Metadata};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use rampart_core::severity::SeverityLevel;

use crate::Error;
use crate::csv::exception_text;
use crate::model::{ComplianceReport, FindingsReport, Millis, civil, date, human_time};
use chart::Bar;
use table::{Column, Table};
use text::Face;

const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const MARGIN: f32 = 36.0;
/// Where tables start on a page after the first, below the running head.
const BODY_TOP: f32 = 52.0;
/// Where tables must end, above the footer.
const BODY_BOTTOM: f32 = PAGE_H - 40.0;

type Rgb = (u8, u8, u8);
const TEXT: Rgb = (20, 24, 31);
const MUTED: Rgb = (88, 96, 110);
const GRID: Rgb = (150, 156, 166);
const HEADER_FILL: Rgb = (221, 226, 234);
const STRIPE: Rgb = (244, 246, 249);
const GREEN: Rgb = (46, 139, 87);
const RED: Rgb = (200, 40, 40);
const AMBER: Rgb = (230, 150, 20);
const GREY: Rgb = (150, 150, 150);
const ORANGE: Rgb = (235, 110, 30);
const YELLOW: Rgb = (215, 185, 40);
const BLUE: Rgb = (70, 120, 190);

fn fill(c: Rgb) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

fn stroke(c: Rgb, width: f32) -> Stroke {
    Stroke {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        width,
        ..Stroke::default()
    }
}

fn severity_color(level: SeverityLevel) -> Rgb {
    match level {
        SeverityLevel::Critical => RED,
        SeverityLevel::High => ORANGE,
        SeverityLevel::Medium => YELLOW,
        SeverityLevel::Low => BLUE,
        SeverityLevel::Unknown => GREY,
    }
}

fn severity_label(level: SeverityLevel) -> &'static str {
    match level {
        SeverityLevel::Critical => "Critical",
        SeverityLevel::High => "High",
        SeverityLevel::Medium => "Medium",
        SeverityLevel::Low => "Low",
        SeverityLevel::Unknown => "Unknown",
    }
}

const COMPLIANCE_COLUMNS: [Column; 13] = [
    Column::left("Host", 100.0, 2),
    Column::left("Projects", 70.0, 2),
    Column::left("OS", 84.0, 2),
    Column::left("State", 60.0, 1),
    Column::left("Reasons", 160.0, 3),
    Column::right("Crit.", 24.0),
    Column::right("High", 24.0),
    Column::right("Med.", 24.0),
    Column::right("Low", 24.0),
    Column::right("Sec. upd.", 30.0),
    Column::left("Last seen", 52.0, 2),
    Column::left("Last updated", 46.0, 2),
    Column::left("Exceptions", 72.0, 2),
];

const FINDINGS_COLUMNS: [Column; 10] = [
    Column::left("Host", 96.0, 2),
    Column::left("Advisory", 84.0, 2),
    Column::left("Aliases", 104.0, 2),
    Column::left("Package", 84.0, 2),
    Column::left("Installed", 84.0, 2),
    Column::left("Fixed", 84.0, 2),
    Column::left("Severity", 42.0, 1),
    Column::right("CVSS", 26.0),
    Column::left("First seen", 44.0, 1),
    Column::left("Exception", 122.0, 2),
];

/// The compliance report as a PDF.
pub fn compliance(report: &ComplianceReport) -> Result<Vec<u8>, Error> {
    let face = Face::new()?;
    let s = &report.summary;
    let summary = vec![
        ("Hosts", s.hosts),
        ("Compliant hosts", s.compliant),
        ("Non-compliant hosts", s.non_compliant),
        ("Stale hosts", s.stale),
        ("Hosts without a verdict", s.unknown),
        ("Critical findings", s.findings.critical),
        ("High findings", s.findings.high),
        ("Pending security updates", s.pending_security_updates),
        ("Hosts with active exceptions", s.hosts_with_exceptions),
    ];
    let state_bars: Vec<Bar> = s
        .by_state()
        .into_iter()
        .map(|(state, value)| Bar {
            label: state.label(),
            value,
            color: match state {
                crate::HostState::Compliant => GREEN,
                crate::HostState::NonCompliant => RED,
                crate::HostState::Stale => AMBER,
                crate::HostState::Unknown => GREY,
            },
        })
        .collect();
    let severity_bars = severity_bars(|l| s.findings.get(l));
    let rows = report.hosts.iter().map(|h| {
        let f = &h.findings;
        vec![
            h.hostname.clone(),
            h.projects.join(", "),
            h.os.clone(),
            h.state.label().to_owned(),
            h.reasons.join("; "),
            f.critical.to_string(),
            f.high.to_string(),
            f.medium.to_string(),
            f.low.to_string(),
            h.pending_security_updates.to_string(),
            h.last_seen
                .map(short_time)
                .unwrap_or_else(|| "never".into()),
            h.last_updated.map(date).unwrap_or_else(|| "never".into()),
            h.exceptions
                .iter()
                .map(|e| format!("{} until {}", e.id, date(e.expires_at)))
                .collect::<Vec<_>>()
                .join("; "),
        ]
    });
    let table = Table::new(&face, &COMPLIANCE_COLUMNS, rows);
    render(
        &face,
        Layout {
            title: "Compliance report",
            subtitle: report.scope.label(),
            generated_at: report.generated_at,
            summary,
            charts: vec![
                ("Hosts by compliance state", state_bars),
                ("Open findings by severity", severity_bars),
            ],
            table_title: "Hosts",
            table,
        },
    )
}

/// The findings report as a PDF.
pub fn findings(report: &FindingsReport) -> Result<Vec<u8>, Error> {
    let face = Face::new()?;
    let s = &report.summary;
    let mut summary = vec![("Findings", s.findings)];
    for level in SeverityLevel::ALL {
        let label = match level {
            SeverityLevel::Critical => "Critical findings",
            SeverityLevel::High => "High findings",
            SeverityLevel::Medium => "Medium findings",
            SeverityLevel::Low => "Low findings",
            SeverityLevel::Unknown => "Findings of unknown severity",
        };
        summary.push((label, s.by_severity.get(level)));
    }
    summary.extend([
        ("Hosts affected", s.hosts),
        ("Advisories", s.advisories),
        ("Covered by an exception", s.excepted),
    ]);
    let mut subtitle = report.scope.label();
    if let Some(level) = report.severity {
        subtitle.push_str(&format!(", {} severity only", level.as_str()));
    }
    let rows = report.findings.iter().map(|f| {
        vec![
            f.hostname.clone(),
            f.advisory.clone(),
            f.aliases.join(", "),
            f.package.clone(),
            f.installed.clone(),
            f.fixed.clone().unwrap_or_else(|| "none".into()),
            severity_label(f.severity).to_owned(),
            f.cvss.map(|c| format!("{c:.1}")).unwrap_or_default(),
            date(f.first_seen),
            f.exception.as_ref().map(exception_text).unwrap_or_default(),
        ]
    });
    let table = Table::new(&face, &FINDINGS_COLUMNS, rows);
    render(
        &face,
        Layout {
            title: "Findings report",
            subtitle,
            generated_at: report.generated_at,
            summary,
            charts: vec![(
                "Open findings by severity",
                severity_bars(|l| s.by_severity.get(l)),
            )],
            table_title: "Findings",
            table,
        },
    )
}

fn severity_bars(count: impl Fn(SeverityLevel) -> u64) -> Vec<Bar> {
    SeverityLevel::ALL
        .into_iter()
        .map(|level| Bar {
            label: severity_label(level),
            value: count(level),
            color: severity_color(level),
        })
        .collect()
}

/// `2026-11-29 14:03`.
fn short_time(ms: Millis) -> String {
    let t = human_time(ms);
    t.trim_end_matches(" UTC").to_owned()
}

struct Layout<'a> {
    title: &'static str,
    subtitle: String,
    generated_at: Millis,
    summary: Vec<(&'static str, u64)>,
    charts: Vec<(&'static str, Vec<Bar>)>,
    table_title: &'static str,
    table: Table<'a>,
}

/// Where the table starts on page 1, below the summary.
const FIRST_TABLE_TOP: f32 = 400.0;

fn render(face: &Face, layout: Layout<'_>) -> Result<Vec<u8>, Error> {
    let pages = layout
        .table
        .paginate(BODY_BOTTOM - FIRST_TABLE_TOP - 18.0, BODY_BOTTOM - BODY_TOP);
    let total = pages.len();
    let running_head = format!(
        "Rampart {} · {} · generated {}",
        layout.title.to_lowercase(),
        layout.subtitle,
        human_time(layout.generated_at)
    );

    let mut doc = Document::new();
    let (y, mo, d, h, mi, s) = civil(layout.generated_at);
    doc.set_metadata(
        Metadata::new()
            .title(format!("Rampart {}", layout.title.to_lowercase()))
            .creator("Rampart".to_owned())
            .creation_date(
                DateTime::new(u16::try_from(y).unwrap_or(1970))
                    .month(mo as u8)
                    .day(d as u8)
                    .hour(h as u8)
                    .minute(mi as u8)
                    .second(s as u8)
                    .utc_offset_hour(0),
            ),
    );
    let settings =
        || PageSettings::from_wh(PAGE_W, PAGE_H).ok_or(Error::Pdf("page size".to_owned()));
    for (n, rows) in pages.into_iter().enumerate() {
        let mut page = doc.start_page_with(settings()?);
        let mut surface = page.surface();
        let table_top = if n == 0 {
            title_block(&mut surface, face, &layout);
            surface.set_fill(Some(fill(TEXT)));
            face.draw(
                &mut surface,
                layout.table_title,
                MARGIN,
                FIRST_TABLE_TOP + 10.0,
                11.0,
            );
            FIRST_TABLE_TOP + 18.0
        } else {
            surface.set_fill(Some(fill(MUTED)));
            face.draw(&mut surface, &running_head, MARGIN, MARGIN + 4.0, 8.0);
            BODY_TOP
        };
        layout
            .table
            .draw(&mut surface, face, MARGIN, table_top, rows);
        footer(&mut surface, face, n + 1, total);
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| Error::Pdf(format!("{e:?}")))
}

fn title_block(surface: &mut Surface<'_>, face: &Face, layout: &Layout<'_>) {
    surface.set_fill(Some(fill(TEXT)));
    face.draw(surface, layout.title, MARGIN, MARGIN + 22.0, 24.0);
    surface.set_fill(Some(fill(MUTED)));
    face.draw(surface, &layout.subtitle, MARGIN, MARGIN + 44.0, 12.0);
    face.draw(
        surface,
        &format!("Generated {}", human_time(layout.generated_at)),
        MARGIN,
        MARGIN + 60.0,
        10.0,
    );

    // The totals: label left, value right-aligned, one per line.
    let top = MARGIN + 92.0;
    let size = 10.5;
    let value_right = MARGIN + 250.0;
    surface.set_fill(Some(fill(TEXT)));
    face.draw(surface, "Summary", MARGIN, top, 12.0);
    for (i, (label, value)) in layout.summary.iter().enumerate() {
        let y = top + 20.0 + i as f32 * 16.5;
        face.draw(surface, label, MARGIN, y, size);
        let v = value.to_string();
        face.draw(surface, &v, value_right - face.width(&v, size), y, size);
    }

    // The charts side by side to the right of the totals.
    let left = MARGIN + 290.0;
    let width = PAGE_W - MARGIN - left;
    let n = layout.charts.len().max(1) as f32;
    let gap = 24.0;
    let w = (width - gap * (n - 1.0)) / n;
    for (i, (title, bars)) in layout.charts.iter().enumerate() {
        let x = left + i as f32 * (w + gap);
        chart::bars(surface, face, (x, top - 12.0, w, 250.0), title, bars);
    }
}

fn footer(surface: &mut Surface<'_>, face: &Face, page: usize, pages: usize) {
    surface.set_fill(Some(fill(MUTED)));
    let text = format!("Page {page} of {pages}");
    let size = 8.0;
    let y = PAGE_H - MARGIN + 12.0;
    face.draw(surface, "Rampart", MARGIN, y, size);
    face.draw(
        surface,
        &text,
        PAGE_W - MARGIN - face.width(&text, size),
        y,
        size,
    );
}

#[cfg(test)]
mod tests;
