//! `rampart reports` as a real process against a real `rampart server` over HTTPS: the
//! downloaded files are the API's documents (PDF read back by poppler's `pdftotext`),
//! the format follows the file's extension, and a file without one is refused.

use serde_json::Value;

use crate::support::{ServerProcess, offline_user_token, require_tool, stderr};

#[test]
fn reports_download_to_files_and_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = offline_user_token(&data, "audrey", "auditor");

    let server = ServerProcess::start(&data, &[]);
    let ca = server.ca.to_str().unwrap().to_owned();
    let cli = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--server", &server.url, "--ca-cert", &ca, "--token", &token]);
        std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(&all)
            .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
            .output()
            .unwrap()
    };

    // CSV by extension: the header row of an empty estate.
    let csv = dir.path().join("compliance.csv");
    let out = cli(&["reports", "compliance", "-o", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("hostname,host_id,projects,os,state,reasons,"),
        "{text}"
    );

    // JSON to stdout with an explicit format.
    let out = cli(&[
        "reports",
        "findings",
        "--severity",
        "critical",
        "--format",
        "json",
        "-o",
        "-",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["report"], "findings");
    assert_eq!(doc["severity"], "critical");

    // PDF: a real document whose totals equal the API's.
    let pdf = dir.path().join("report.pdf");
    let out = cli(&[
        "reports",
        "compliance",
        "--format",
        "pdf",
        "-o",
        pdf.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let hosts = cli(&["hosts", "ls", "--output", "json"]);
    assert!(hosts.status.success(), "{}", stderr(&hosts));
    let hosts: Value = serde_json::from_slice(&hosts.stdout).unwrap();
    if require_tool("pdftotext", "reading the report PDF back") {
        let text = std::process::Command::new("pdftotext")
            .args(["-layout", pdf.to_str().unwrap(), "-"])
            .output()
            .unwrap();
        let text = String::from_utf8(text.stdout).unwrap();
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with("Hosts "))
            .unwrap_or_else(|| panic!("no Hosts total in:\n{text}"));
        assert_eq!(
            line.split_whitespace().nth(1).unwrap(),
            hosts["total"].to_string(),
            "{line}"
        );
    }

    // No format and no telling extension: refused before anything is fetched.
    let out = cli(&[
        "reports",
        "compliance",
        "-o",
        dir.path().join("report").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--format"), "{}", stderr(&out));
    // The API's refusals come through with their message.
    let out = cli(&["reports", "compliance", "--project", "nope", "-o", "-"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("project \"nope\""),
        "{}",
        stderr(&out)
    );
}
