//! Report downloads through the whole app on a seeded store (SQLite and PostgreSQL):
//! hosts enrolled with labels, inventories with pending updates, findings of every
//! severity. The CSV, JSON and PDF answers must carry the API's own numbers; the PDF is
//! read back with poppler's real `pdftotext` and rendered with `pdftoppm`.

use std::process::Command;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use rampart_core::authz::Role;
use rampart_core::matcher::{Finding, MatchReason};
use rampart_core::severity::{Severity, SeverityLevel};
use rampart_proto::{HostFacts, HostState, Inventory, OsFacts, PendingUpdate, UpdateCategory};
use rampart_store::{Labels, NewAgent, NewHost, NewProject, Store};
use serde_json::Value;
use tower::ServiceExt as _;

use crate::support::{Auth, TestApp, each_backend};

pub(crate) struct Download {
    pub(crate) status: StatusCode,
    headers: HeaderMap,
    bytes: Vec<u8>,
}

impl Download {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).expect("JSON body")
    }

    fn text(&self) -> String {
        String::from_utf8(self.bytes.clone()).expect("UTF-8 body")
    }
}

/// Bytes as they are, not as `TestApp::call` decodes them: a PDF is not text.
pub(crate) async fn download(t: &TestApp, path: &str, auth: &Auth) -> Download {
    let Auth::Bearer(token) = auth else {
        panic!("bearer tokens only")
    };
    let req = Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = t.app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Download {
        status,
        headers,
        bytes,
    }
}

async fn enrol(store: &Store, hostname: &str, labels: &[(&str, &str)], now: i64) -> String {
    let labels: Labels = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let id = rampart_store::new_id(now);
    store
        .enrol_host(
            NewHost {
                hostname,
                machine_id: None,
                labels: &labels,
            },
            NewAgent {
                id: &id,
                cert_serial: &id,
                cert_fingerprint: &id,
            },
            now,
        )
        .await
        .unwrap()
        .host
        .id
}

fn update(name: &str, category: UpdateCategory) -> PendingUpdate {
    PendingUpdate {
        name: name.to_owned(),
        arch: Some("amd64".to_owned()),
        installed: "1.0-1".to_owned(),
        candidate: "1.0-2".to_owned(),
        origin: "Debian-Security:bookworm-security".to_owned(),
        category,
    }
}

fn inventory(hostname: &str, updates: Vec<PendingUpdate>) -> Inventory {
    Inventory {
        protocol: rampart_proto::PROTOCOL_VERSION,
        observed_at: 0,
        uptime_secs: None,
        state: HostState {
            host: HostFacts {
                hostname: hostname.to_owned(),
                os: OsFacts {
                    id: "debian".to_owned(),
                    version_id: "12".to_owned(),
                    pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_owned()),
                    ecosystem: Some("Debian:12".to_owned()),
                },
                ..HostFacts::default()
            },
            updates,
            ..HostState::default()
        },
    }
}

fn finding(advisory: &str, package: &str, level: SeverityLevel) -> Finding {
    Finding {
        advisory: advisory.to_owned(),
        aliases: vec![format!("CVE-2026-{}", advisory.len() * 1000)],
        package: package.to_owned(),
        source: package.to_owned(),
        installed: "1.0-1".to_owned(),
        compared_version: "1.0-1".to_owned(),
        advisory_package: package.to_owned(),
        fixed: Some("1.0-2".to_owned()),
        severity: Severity {
            level,
            cvss: (level == SeverityLevel::Critical).then_some(9.8),
            vector: None,
        },
        ecosystem: "Debian:12".to_owned(),
        reason: MatchReason::Listed,
    }
}

/// Six hosts: four in project `web` (label role=web), two in `db`; each with findings of
/// a mix of severities and some security updates; one host (a formula-like name) with
/// no inventory at all.
pub(crate) async fn seed(t: &TestApp) {
    let s = &t.store;
    let now = t.now();
    for (project, role) in [("web", "web"), ("db", "db")] {
        let selector: Labels = [("role".to_owned(), role.to_owned())].into();
        s.create_project(
            NewProject {
                name: project,
                description: "",
                selector: &selector,
            },
            now,
        )
        .await
        .unwrap();
    }
    let levels = SeverityLevel::ALL;
    for i in 0..5 {
        let role = if i < 4 { "web" } else { "db" };
        let name = format!("{role}-{i}.example.com");
        let id = enrol(s, &name, &[("role", role)], now).await;
        let mut updates = vec![update("curl", UpdateCategory::Other)];
        for k in 0..i {
            updates.push(update(&format!("lib{k}"), UpdateCategory::Security));
        }
        s.record_inventory(&id, &inventory(&name, updates), now)
            .await
            .unwrap();
        let findings: Vec<Finding> = (0..=i)
            .map(|k| {
                finding(
                    &format!("DSA-{}-1", 5000 + k),
                    &format!("pkg{k}"),
                    levels[(i + k) % levels.len()],
                )
            })
            .collect();
        s.replace_findings(&id, &findings, now).await.unwrap();
    }
    enrol(s, "=cmd|' /C calc'!A0", &[("role", "db")], now).await;
}

/// The number after `label` on a `pdftotext -layout` line.
pub(crate) fn total(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|line| {
            let rest = line.trim_start().strip_prefix(label)?;
            rest.starts_with(' ').then_some(())?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no total for {label:?} in:\n{text}"))
}

/// Whether poppler's tools are installed (required under CI).
pub(crate) fn poppler() -> bool {
    let found = Command::new("pdftotext").arg("-v").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "pdftotext missing: install poppler-utils"
        );
        eprintln!("skipping the PDF checks: pdftotext not installed (poppler-utils)");
    }
    found
}

/// `pdftotext -layout` of a PDF, after checking `pdftoppm` renders its first page.
pub(crate) fn pdf_text(bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("report.pdf");
    std::fs::write(&pdf, bytes).unwrap();
    let png = Command::new("pdftoppm")
        .args(["-png", "-r", "30", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(dir.path().join("page"))
        .status()
        .unwrap();
    assert!(png.success());
    let page = std::fs::read(dir.path().join("page.png")).unwrap();
    assert!(page.starts_with(b"\x89PNG\r\n\x1a\n"));
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

async fn api_total(t: &TestApp, auth: &Auth, path: &str) -> u64 {
    let r = t.get(path, auth).await;
    assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    r.body["total"].as_u64().unwrap()
}

#[tokio::test]
async fn reports_download_as_csv_json_and_pdf_with_the_apis_numbers() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        seed(&t).await;
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);

        // The API's own numbers.
        let hosts = api_total(&t, &auditor, "/api/v1/hosts").await;
        let web_hosts = api_total(&t, &auditor, "/api/v1/hosts?project=web").await;
        let findings = api_total(&t, &auditor, "/api/v1/findings").await;
        let critical = api_total(&t, &auditor, "/api/v1/findings?severity=critical").await;
        let high = api_total(&t, &auditor, "/api/v1/findings?severity=high").await;
        assert_eq!((hosts, web_hosts, findings), (6, 4, 15));

        // One critical finding (not on web-3) is accepted by an approved exception: it
        // leaves the open counts and shows, with its approver, in the findings report.
        let alice = Auth::Bearer(t.user_token("alice", Role::Operator).await);
        let bob = Auth::Bearer(t.user_token("bob", Role::Operator).await);
        let crit = t.get("/api/v1/findings?severity=critical", &auditor).await;
        let accepted = crit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["hostname"] != "web-3.example.com")
            .unwrap()
            .clone();
        let requested = t
            .call(
                Method::POST,
                "/api/v1/exceptions",
                &alice,
                Some(serde_json::json!({
                    "advisory": accepted["advisory"],
                    "scope": {"kind": "host", "host_id": accepted["host_id"]},
                    "reason": "compensating control: service not exposed",
                    "ticket": "SEC-42",
                    "expires_at": t.now() + 30 * 86_400_000i64,
                })),
            )
            .await;
        assert_eq!(requested.status, StatusCode::CREATED, "{}", requested.text);
        let id = requested.body["id"].as_str().unwrap().to_owned();
        let approved = t
            .call(
                Method::POST,
                &format!("/api/v1/exceptions/{id}/approve"),
                &bob,
                None,
            )
            .await;
        assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
        let open_critical = critical - 1;
        let api_compliance = t.get("/api/v1/compliance", &auditor).await.body["estate"].clone();
        assert_eq!(api_compliance["critical"], open_critical);

        // JSON: the documented envelope, the API's totals.
        let json = download(&t, "/api/v1/reports/compliance", &auditor).await;
        assert_eq!(json.status, StatusCode::OK);
        assert_eq!(json.header(header::CONTENT_TYPE), "application/json");
        let doc = json.json();
        assert_eq!(doc["report"], "compliance");
        assert_eq!(doc["scope"]["kind"], "estate");
        let summary = &doc["summary"];
        assert_eq!(summary["hosts"], hosts);
        assert_eq!(summary["findings"]["critical"], open_critical);
        assert_eq!(summary["findings"]["high"], high);
        // 0+1+2+3+4 security updates; the host without inventory has none.
        assert_eq!(summary["pending_security_updates"], 10);
        // Every host has the verdict the compliance API gives (the report counts stale
        // hosts apart; the API counts them among the non-compliant too).
        assert_eq!(summary["unknown"], 0);
        assert_eq!(summary["compliant"], api_compliance["compliant"]);
        assert_eq!(summary["stale"], api_compliance["stale"]);
        assert_eq!(
            summary["non_compliant"].as_u64().unwrap() + summary["stale"].as_u64().unwrap(),
            api_compliance["non_compliant"].as_u64().unwrap()
        );
        assert_eq!(summary["hosts_with_exceptions"], 1);
        let accepted_row = doc["hosts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["host_id"] == accepted["host_id"])
            .unwrap();
        assert_eq!(accepted_row["exceptions"][0]["id"], id.as_str());
        assert_eq!(accepted_row["exceptions"][0]["approver"], "bob");
        let host_api = t
            .get(
                &format!(
                    "/api/v1/hosts/{}/compliance",
                    accepted["host_id"].as_str().unwrap()
                ),
                &auditor,
            )
            .await;
        let reasons = host_api.body["reasons"].as_array().unwrap();
        assert_eq!(
            accepted_row["reasons"].as_array().unwrap().len(),
            reasons.len(),
            "{}",
            host_api.text
        );
        let findings_doc = download(&t, "/api/v1/reports/findings", &auditor)
            .await
            .json();
        let accepted_finding = findings_doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["host_id"] == accepted["host_id"] && f["advisory"] == accepted["advisory"])
            .unwrap();
        assert_eq!(accepted_finding["exception"]["approver"], "bob");
        assert_eq!(findings_doc["summary"]["excepted"], 1);
        let rows = doc["hosts"].as_array().unwrap();
        let web3 = rows
            .iter()
            .find(|r| r["hostname"] == "web-3.example.com")
            .unwrap();
        assert_eq!(web3["projects"], serde_json::json!(["web"]));
        assert_eq!(web3["os"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(web3["pending_updates"], 4);
        assert_eq!(web3["pending_security_updates"], 3);
        let web3_api = t
            .get(
                &format!("/api/v1/hosts/{}", web3["host_id"].as_str().unwrap()),
                &auditor,
            )
            .await;
        for level in ["critical", "high", "medium", "low", "unknown"] {
            assert_eq!(
                web3["findings"][level], web3_api.body["findings"][level],
                "{level}"
            );
        }

        // CSV: a header and one line per host; the formula-like hostname is guarded.
        let csv = download(&t, "/api/v1/reports/compliance?format=csv", &auditor).await;
        assert_eq!(csv.status, StatusCode::OK);
        assert_eq!(csv.header(header::CONTENT_TYPE), "text/csv; charset=utf-8");
        let disposition = csv.header(header::CONTENT_DISPOSITION);
        assert!(
            disposition.starts_with("attachment; filename=\"rampart-compliance-estate-2026")
                && disposition.ends_with(".csv\""),
            "{disposition}"
        );
        let text = csv.text();
        let lines: Vec<&str> = text.split_terminator("\r\n").collect();
        assert_eq!(lines.len() as u64, hosts + 1);
        assert!(lines[0].starts_with("hostname,host_id,projects,os,state,reasons,critical"));
        assert!(lines[1].starts_with("'=cmd|' /C calc'!A0,"), "{}", lines[1]);

        // Scoped to a project, by name.
        let web = download(
            &t,
            "/api/v1/reports/compliance?project=web&format=json",
            &auditor,
        )
        .await;
        let web = web.json();
        assert_eq!(web["scope"]["name"], "web");
        assert_eq!(web["summary"]["hosts"], web_hosts);
        let web_csv = download(
            &t,
            "/api/v1/reports/compliance?project=web&format=csv",
            &auditor,
        )
        .await;
        assert!(
            web_csv
                .header(header::CONTENT_DISPOSITION)
                .contains("rampart-compliance-project-web-")
        );

        // Findings: all of them, or one severity.
        let f = download(&t, "/api/v1/reports/findings?format=json", &auditor)
            .await
            .json();
        assert_eq!(f["summary"]["findings"], findings);
        assert_eq!(f["summary"]["by_severity"]["critical"], critical);
        assert_eq!(f["findings"][0]["severity"], "critical", "worst first");
        let f_csv = download(
            &t,
            "/api/v1/reports/findings?severity=critical&format=csv",
            &auditor,
        )
        .await;
        assert_eq!(
            f_csv.text().split_terminator("\r\n").count() as u64,
            critical + 1
        );

        // PDF: poppler reads back the same totals.
        let pdf = download(&t, "/api/v1/reports/compliance?format=pdf", &auditor).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.header(header::CONTENT_TYPE), "application/pdf");
        assert!(pdf.header(header::CONTENT_DISPOSITION).ends_with(".pdf\""));
        let fpdf = download(
            &t,
            "/api/v1/reports/findings?format=pdf&project=web",
            &auditor,
        )
        .await;
        assert_eq!(fpdf.status, StatusCode::OK);
        if poppler() {
            let text = pdf_text(&pdf.bytes);
            assert_eq!(total(&text, "Hosts"), hosts);
            assert_eq!(total(&text, "Critical findings"), open_critical);
            assert_eq!(total(&text, "High findings"), high);
            assert_eq!(total(&text, "Pending security updates"), 10);
            assert!(text.contains("web-3.example.com"));

            let web_findings = api_total(&t, &auditor, "/api/v1/findings?project=web").await;
            let text = pdf_text(&fpdf.bytes);
            assert!(text.contains("Project web"));
            assert_eq!(total(&text, "Findings"), web_findings);
        }
    })
    .await;
}

#[tokio::test]
async fn report_requests_are_checked() {
    each_backend(|store| async move {
        let t = TestApp::new(store).await;
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        for (path, status) in [
            ("/api/v1/reports/compliance?format=docx", StatusCode::BAD_REQUEST),
            ("/api/v1/reports/compliance?project=nope", StatusCode::NOT_FOUND),
            ("/api/v1/reports/compliance?limit=10", StatusCode::BAD_REQUEST),
            ("/api/v1/reports/compliance?severity=high", StatusCode::BAD_REQUEST),
            ("/api/v1/reports/findings?severity=dire", StatusCode::BAD_REQUEST),
        ] {
            let r = t.get(path, &admin).await;
            assert_eq!(r.status, status, "{path}: {}", r.text);
            assert!(r.body["error"]["code"].is_string(), "{path}: the one error shape");
        }
        // The document names the three content types of each report.
        let doc = t.get("/openapi.json", &Auth::None).await.body;
        for report in ["compliance", "findings"] {
            let content = &doc["paths"][format!("/api/v1/reports/{report}")]["get"]["responses"]
                ["200"]["content"];
            for ty in ["text/csv", "application/json", "application/pdf"] {
                assert!(content[ty].is_object(), "{report} {ty}: {content}");
            }
        }
        // An empty estate is still a report.
        let r = download(&t, "/api/v1/reports/findings?format=csv", &admin).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.text().split_terminator("\r\n").count(), 1);
    })
    .await;
}
