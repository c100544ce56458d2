//! The PDFs read back by poppler (Debian's `poppler-utils`), the tools a reader's viewer
//! is built on: `pdftotext` must give back the totals, `pdfinfo` the page count the
//! footer claims, and `pdftoppm` must render pages to PNG.

use std::path::Path;
use std::process::Command;

use rampart_core::severity::SeverityLevel;
use rampart_reports::{
    ComplianceReport, ComplianceRow, FindingsReport, Format, HostState, Scope, SeverityCounts,
    render_compliance, render_findings,
};

use crate::sample;

/// Whether poppler's tools are here: under CI they must be; elsewhere a test without
/// them says so and passes.
fn poppler() -> bool {
    let found = Command::new("pdftotext").arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdftotext missing: install poppler-utils"
        );
        eprintln!("skipping: pdftotext not installed (poppler-utils)");
    }
    found
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// `pdftotext -layout` of the whole file.
pub(crate) fn pdf_text(pdf: &Path) -> String {
    run("pdftotext", &["-layout", pdf.to_str().unwrap(), "-"])
}

/// The number on the line where `label` is followed by whitespace and a number (the
/// summary's "label … value" layout).
pub(crate) fn total(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|line| {
            let rest = line.trim_start().strip_prefix(label)?;
            if !rest.starts_with("  ") && !rest.starts_with(' ') {
                return None;
            }
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no total for {label:?} in:\n{text}"))
}

fn pages(pdf: &Path) -> usize {
    let info = run("pdfinfo", &[pdf.to_str().unwrap()]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo Pages")
}

/// Renders pages `first..=last` at 30 dpi and checks each is a PNG.
fn renders(pdf: &Path, first: usize, last: usize) {
    let dir = pdf.parent().unwrap();
    let prefix = dir.join("page");
    run(
        "pdftoppm",
        &[
            "-png",
            "-r",
            "30",
            "-f",
            &first.to_string(),
            "-l",
            &last.to_string(),
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let pngs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert_eq!(pngs.len(), last - first + 1, "{pngs:?}");
    for png in pngs {
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{png:?} is no PNG");
        assert!(bytes.len() > 1000, "{png:?} is suspiciously small");
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Checks the summary on page 1 against the report's own.
pub(crate) fn check_compliance_totals(text: &str, report: &ComplianceReport) {
    let s = &report.summary;
    for (label, expected) in [
        ("Hosts", s.hosts),
        ("Compliant hosts", s.compliant),
        ("Non-compliant hosts", s.non_compliant),
        ("Stale hosts", s.stale),
        ("Hosts without a verdict", s.unknown),
        ("Critical findings", s.findings.critical),
        ("High findings", s.findings.high),
        ("Pending security updates", s.pending_security_updates),
        ("Hosts with active exceptions", s.hosts_with_exceptions),
    ] {
        assert_eq!(total(text, label), expected, "{label}");
    }
}

#[test]
fn a_ten_thousand_host_compliance_pdf_reads_back_with_its_totals_and_renders() {
    if !poppler() {
        return;
    }
    let report = sample::compliance(10_000);
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(
        dir.path(),
        "compliance.pdf",
        &render_compliance(&report, Format::Pdf).unwrap(),
    );
    let text = pdf_text(&pdf);
    check_compliance_totals(&text, &report);
    assert!(text.contains("Compliance report") && text.contains("Estate-wide"));
    assert!(text.contains("2026-11-29 12:00 UTC"), "generated_at shown");

    // The footer's "of M" is the real page count, and every page has its number.
    let n = pages(&pdf);
    assert!(n > 100, "10,000 rows on {n} pages?");
    for p in [1, 2, n / 2, n] {
        assert!(
            text.contains(&format!("Page {p} of {n}")),
            "page {p} of {n}"
        );
    }
    // The header row repeats on every page.
    assert_eq!(text.matches("Reasons").count(), n);
    renders(&pdf, n - 1, n);
}

/// Short hostnames that never wrap, so each row's presence can be read back.
fn small_compliance() -> ComplianceReport {
    let rows = (0..150)
        .map(|i| ComplianceRow {
            hostname: format!("host-{i:04}"),
            host_id: format!("id-{i}"),
            projects: vec!["web".into()],
            os: "Debian GNU/Linux 12 (bookworm)".into(),
            state: if i % 4 == 0 {
                HostState::NonCompliant
            } else {
                HostState::Compliant
            },
            reasons: if i % 4 == 0 {
                vec![
                    "2 critical findings open (the standard allows 0)".into(),
                    "a reason long enough to wrap over more than three lines of the reasons \
                     column, which must then end in an ellipsis rather than overflow the row \
                     or the page, however long the text given for it grows"
                        .into(),
                ]
            } else {
                Vec::new()
            },
            findings: SeverityCounts {
                critical: if i % 4 == 0 { 2 } else { 0 },
                high: 1,
                ..SeverityCounts::default()
            },
            pending_updates: 3,
            pending_security_updates: 1,
            last_seen: Some(sample::GENERATED_AT),
            last_updated: None,
            exceptions: Vec::new(),
        })
        .collect();
    ComplianceReport::new(
        Scope::Project {
            id: "p1".into(),
            name: "web".into(),
        },
        sample::GENERATED_AT,
        rows,
    )
}

#[test]
fn every_row_is_in_the_compliance_pdf_and_long_reasons_are_cut() {
    if !poppler() {
        return;
    }
    let report = small_compliance();
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(
        dir.path(),
        "c.pdf",
        &render_compliance(&report, Format::Pdf).unwrap(),
    );
    let text = pdf_text(&pdf);
    check_compliance_totals(&text, &report);
    assert!(text.contains("Project web"));
    for i in 0..150 {
        assert_eq!(
            text.matches(&format!("host-{i:04}")).count(),
            1,
            "row {i} once"
        );
    }
    assert!(
        text.contains('…'),
        "the long reason is cut with an ellipsis"
    );
    assert!(!text.contains("however long the text"));
    renders(&pdf, 1, pages(&pdf));
}

#[test]
fn the_findings_pdf_reads_back_with_its_totals() {
    if !poppler() {
        return;
    }
    let report = sample::findings(400, 5);
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(
        dir.path(),
        "f.pdf",
        &render_findings(&report, Format::Pdf).unwrap(),
    );
    let text = pdf_text(&pdf);
    let s = &report.summary;
    assert_eq!(total(&text, "Findings"), s.findings);
    assert_eq!(total(&text, "Critical findings"), s.by_severity.critical);
    assert_eq!(total(&text, "High findings"), s.by_severity.high);
    assert_eq!(total(&text, "Medium findings"), s.by_severity.medium);
    assert_eq!(total(&text, "Low findings"), s.by_severity.low);
    assert_eq!(
        total(&text, "Findings of unknown severity"),
        s.by_severity.unknown
    );
    assert_eq!(total(&text, "Hosts affected"), s.hosts);
    assert_eq!(total(&text, "Advisories"), s.advisories);
    assert_eq!(total(&text, "Covered by an exception"), s.excepted);
    assert!(s.excepted > 0 && s.by_severity.critical > 0);
    let n = pages(&pdf);
    assert!(text.contains(&format!("Page {n} of {n}")));
    renders(&pdf, 1, 2);
}

#[test]
fn an_empty_report_is_one_page_with_zero_totals_and_a_filter_in_its_title() {
    if !poppler() {
        return;
    }
    let report = FindingsReport::new(
        Scope::Estate,
        Some(SeverityLevel::Critical),
        sample::GENERATED_AT,
        Vec::new(),
    );
    let dir = tempfile::tempdir().unwrap();
    let pdf = write(
        dir.path(),
        "e.pdf",
        &render_findings(&report, Format::Pdf).unwrap(),
    );
    let text = pdf_text(&pdf);
    assert_eq!(total(&text, "Findings"), 0);
    assert!(text.contains("critical severity only"));
    assert_eq!(pages(&pdf), 1);
    renders(&pdf, 1, 1);
}
