//! The web UI in a real browser: Debian's headless Chromium driven by its
//! `chromedriver` over the W3C WebDriver protocol (`webdriver.rs`), against the real
//! `rampart server` binary over HTTPS, with hosts enrolled by the real `rampart-agent`
//! from image roots built from this machine's dpkg database and findings from an OSV
//! feed imported through the CLI. Real processes because what is tested is what a
//! person sees: TLS, cookies, redirects, forms and the rendered pages.
//!
//! The browser trusts the server's private CA through
//! `--ignore-certificate-errors-spki-list=<SHA-256 of the CA's public key>` (with a
//! fresh `--user-data-dir`, which Chromium requires for that switch): only chains that
//! contain this test's CA are accepted, unlike `--ignore-certificate-errors`.
//!
//! Beyond reading pages: the dashboard's compliance numbers against the compliance
//! API, the compliance report's CSV and PDF downloaded from the dashboard's links with
//! the browser's session cookie (checked against the API, the PDF through
//! `pdftotext`), and an exception requested by one user, refused to that user's own
//! approval, then approved by a second user who logs in through the form.
//!
//! Screenshots of the dashboard and a host page are written under
//! `target/test-artefacts/` (the paths are printed).

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::support::{ServerProcess, agent_bin, https, require_tool, run_ok};
use crate::webdriver::{Driver, Session};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// base64(SHA-256(SubjectPublicKeyInfo)) of the certificate in `pem`: the form
/// Chromium's SPKI allow-list takes.
fn spki_hash(pem: &[u8]) -> String {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem).expect("CA PEM");
    let cert = pem.parse_x509().expect("CA certificate");
    let spki = cert.tbs_certificate.subject_pki.raw;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(spki))
}

/// `target/test-artefacts`, created.
fn artefacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An image root: this machine's dpkg database and os-release under another name.
fn image_root(dir: &Path, hostname: &str) -> PathBuf {
    let root = dir.join(hostname);
    std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(root.join("etc")).unwrap();
    std::fs::copy("/var/lib/dpkg/status", root.join("var/lib/dpkg/status")).unwrap();
    std::fs::copy("/etc/os-release", root.join("etc/os-release")).unwrap();
    std::fs::write(root.join("etc/hostname"), format!("{hostname}\n")).unwrap();
    root
}

/// OSV records for real source packages of `inventory`: the first ones affected
/// (fixed just above the installed version) with critical and high CVSS vectors.
fn feed(ecosystem: &str, inventory: &Value) -> Vec<Value> {
    const CRITICAL: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    const HIGH: &str = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N";
    let mut seen = std::collections::BTreeSet::new();
    let mut records = Vec::new();
    for p in inventory["state"]["packages"].as_array().unwrap() {
        let source = p["source_name"].as_str().or(p["name"].as_str()).unwrap();
        let version = p["source_version"]
            .as_str()
            .or(p["version"].as_str())
            .unwrap();
        if !seen.insert(source.to_owned()) || records.len() >= 6 {
            continue;
        }
        let n = records.len();
        records.push(json!({
            "id": format!("BROWSER-{n}"),
            "aliases": [format!("CVE-2026-{:04}", 100 + n)],
            "summary": format!("test advisory for {source}"),
            "modified": "2026-11-01T00:00:00Z",
            "severity": [{"type": "CVSS_V3", "score": if n % 2 == 0 { CRITICAL } else { HIGH }}],
            "affected": [{
                "package": {"ecosystem": ecosystem, "name": source},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": format!("{version}+fix1")}]}]
            }]
        }));
    }
    records
}

fn api(server: &ServerProcess, token: &str, path: &str) -> Value {
    let (status, body) = https(&server.url, &server.ca, "GET", path, Some(token), None);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// GETs `path` as the browser would, with its session cookie: what following a
/// download link fetches. Returns the status and the body's bytes.
fn fetch_with_cookie(server: &ServerProcess, path: &str, session: &str) -> (u16, Vec<u8>) {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let pem = std::fs::read(&server.ca).unwrap();
    let cert = Certificate::from_pem(&pem).unwrap().to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::Specific(std::sync::Arc::new(vec![cert])))
                .build(),
        )
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(&format!("{}{path}", server.url))
        .header("Cookie", &format!("rampart_session={session}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (status, bytes)
}

/// A download link's target as a path on the server (WebDriver may answer the
/// resolved URL).
fn link_path(s: &Session<'_>, server: &ServerProcess, css: &str) -> String {
    let href = s.attr(&s.find(css), "href").expect("href");
    href.strip_prefix(&server.url).unwrap_or(&href).to_owned()
}

/// The number after `label` on a `pdftotext -layout` line.
fn pdf_total(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|line| {
            let rest = line.trim_start().strip_prefix(label)?;
            rest.starts_with(' ').then_some(())?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no total for {label:?} in:\n{text}"))
}

/// `data-value` of a dashboard stat.
fn stat(s: &Session<'_>, id: &str) -> u64 {
    let e = s.find(&format!("[data-stat=\"{id}\"]"));
    s.attr(&e, "data-value")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("stat {id}"))
}

#[test]
fn a_person_logs_in_reads_the_dashboard_and_drills_into_a_host_and_an_advisory() {
    if !require_tool("chromium", "the browser test")
        || !require_tool("chromedriver", "the browser test")
        || !require_tool("dpkg-query", "the image roots")
        || !Path::new("/var/lib/dpkg/status").is_file()
    {
        return;
    }
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = ServerProcess::start(&data, &[]);
    // The bootstrap secret is printed on standard output, inside a curl line.
    let secret = loop {
        let line = server
            .stdout
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("bootstrap instructions on stdout");
        if let Some(rest) = line.split("\"secret\":\"").nth(1) {
            break rest.split('"').next().unwrap().to_owned();
        }
    };

    let driver = Driver::start(Path::new(CHROMEDRIVER));
    let profile = dir.path().join("chromium-profile");
    let spki = spki_hash(&std::fs::read(&server.ca).unwrap());
    let s = driver.session(json!({
        "browserName": "chrome",
        "acceptInsecureCerts": false,
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1280,1400",
                format!("--user-data-dir={}", profile.display()),
                format!("--ignore-certificate-errors-spki-list={spki}"),
            ]
        }
    }));

    // First visit: no user yet, so the login form sends to the set-up form.
    s.goto(&format!("{}/hosts", server.url));
    s.wait_for_url("the login form", |u| u.contains("/setup"));
    s.fill("#secret", &secret);
    s.fill("#name", "root");
    s.fill("#password", "a long browser password");
    s.fill("#password_again", "a long browser password");
    s.click(&s.find("#create"));
    s.wait_for_url("the dashboard", |u| u.ends_with('/'));
    assert_eq!(s.title(), "Dashboard · Rampart");

    // Log out and back in through the login form, returning to the page asked for.
    s.click(&s.find("header form button"));
    s.wait_for_url("the login form", |u| u.ends_with("/login"));
    s.goto(&format!("{}/hosts?q=web", server.url));
    s.wait_for_url("a redirect to the login form", |u| {
        u.contains("/login?next=%2Fhosts%3Fq%3Dweb")
    });
    s.fill("#name", "root");
    s.fill("#password", "a long browser password");
    s.click(&s.find("#login"));
    s.wait_for_url("the page asked for", |u| u.ends_with("/hosts?q=web"));

    // Seed the estate: an API token (the admin CLI on the live data directory), two
    // hosts enrolled by real agents with different labels, a feed through the CLI.
    let data_s = data.to_str().unwrap();
    let token = run_ok(Command::new(env!("CARGO_BIN_EXE_rampart")).args([
        "admin",
        "create-token",
        "--user",
        "root",
        "--data-dir",
        data_s,
    ]))
    .trim()
    .to_owned();
    let roots = dir.path().join("roots");
    for (host, env) in [("web-1", "prod"), ("db-1", "staging")] {
        let (status, body) = https(
            &server.url,
            &server.ca,
            "POST",
            "/api/v1/enrollment-tokens",
            Some(&token),
            Some(&format!(r#"{{"labels": {{"env": "{env}"}}}}"#)),
        );
        assert_eq!(status, 201, "{body}");
        let enrol: Value = serde_json::from_str(&body).unwrap();
        let state = dir.path().join(format!("agent-{host}"));
        let root = image_root(&roots, host);
        run_ok(
            Command::new(agent_bin())
                .args(["enroll", "--server", &server.url, "--state-dir"])
                .arg(&state)
                .arg("--root")
                .arg(&root)
                .env("RAMPART_ENROLL_TOKEN", enrol["token"].as_str().unwrap()),
        );
        run_ok(
            Command::new(agent_bin())
                .args(["run", "--once", "--state-dir"])
                .arg(&state)
                .arg("--root")
                .arg(&root),
        );
    }
    let inventory: Value = serde_json::from_str(&run_ok(
        Command::new(agent_bin())
            .args(["inventory", "--root"])
            .arg(roots.join("web-1")),
    ))
    .unwrap();
    let ecosystem = inventory["state"]["host"]["os"]["ecosystem"]
        .as_str()
        .expect("this machine's release is known")
        .to_owned();
    let feed_file = dir.path().join("feed.json");
    std::fs::write(
        &feed_file,
        serde_json::to_string(&feed(&ecosystem, &inventory)).unwrap(),
    )
    .unwrap();
    run_ok(
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["feeds", "import"])
            .arg(&feed_file)
            .args(["--server", &server.url, "--token", &token, "--ca-cert"])
            .arg(&server.ca)
            .env("XDG_CONFIG_HOME", dir.path()),
    );

    // The dashboard's numbers are the API's.
    s.goto(&format!("{}/", server.url));
    let hosts = api(&server, &token, "/api/v1/hosts");
    let total = |path: &str| api(&server, &token, path)["total"].as_u64().unwrap();
    assert_eq!(stat(&s, "hosts"), hosts["total"].as_u64().unwrap());
    assert_eq!(stat(&s, "hosts"), 2);
    let critical = total("/api/v1/findings?severity=critical");
    assert!(critical > 0, "the feed was built to match");
    assert_eq!(stat(&s, "critical"), critical);
    assert_eq!(stat(&s, "high"), total("/api/v1/findings?severity=high"));
    assert_eq!(
        stat(&s, "hosts_with_critical"),
        total("/api/v1/hosts?has_critical=true")
    );
    let mut security = 0;
    for h in hosts["items"].as_array().unwrap() {
        let updates = api(
            &server,
            &token,
            &format!("/api/v1/hosts/{}/updates", h["id"].as_str().unwrap()),
        );
        security += updates["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["category"] == "security")
            .count() as u64;
    }
    assert_eq!(stat(&s, "security_updates"), security);
    // The compliance figures are the compliance API's (exceptions applied).
    let compliance = api(&server, &token, "/api/v1/compliance");
    let estate = &compliance["estate"];
    let non_compliant = stat(&s, "non_compliant");
    assert_eq!(non_compliant, estate["non_compliant"].as_u64().unwrap());
    assert!(
        non_compliant >= 1,
        "critical findings make hosts non-compliant"
    );
    let critical_before = stat(&s, "critical");
    assert_eq!(critical_before, estate["critical"].as_u64().unwrap());
    assert_eq!(stat(&s, "high"), estate["high"].as_u64().unwrap());
    assert_eq!(s.find_all("#trend_30, #trend_90").len(), 2, "both trends");

    // Download the compliance report's CSV and PDF from the dashboard's links, with
    // the browser's own session cookie.
    let session = s.cookie("rampart_session").expect("the browser's session");
    let csv_path = link_path(&s, &server, "a[data-report=\"compliance-csv\"]");
    assert!(
        csv_path.starts_with("/api/v1/reports/compliance?"),
        "{csv_path}"
    );
    let (status, csv) = fetch_with_cookie(&server, &csv_path, &session);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&csv));
    let csv = String::from_utf8(csv).unwrap();
    let host_rows = csv.split("\r\n").filter(|l| !l.is_empty()).count() - 1;
    assert_eq!(host_rows as u64, estate["hosts"].as_u64().unwrap(), "{csv}");
    let pdf_path = link_path(&s, &server, "a[data-report=\"compliance-pdf\"]");
    let (status, pdf) = fetch_with_cookie(&server, &pdf_path, &session);
    assert_eq!(status, 200);
    assert!(pdf.starts_with(b"%PDF-"));
    if require_tool("pdftotext", "the PDF report check") {
        let pdf_file = dir.path().join("compliance.pdf");
        std::fs::write(&pdf_file, &pdf).unwrap();
        let text = run_ok(
            Command::new("pdftotext")
                .arg("-layout")
                .arg(&pdf_file)
                .arg("-"),
        );
        assert_eq!(pdf_total(&text, "Hosts"), estate["hosts"].as_u64().unwrap());
        // The report tells stale hosts apart; the API counts them as non-compliant.
        assert_eq!(
            pdf_total(&text, "Non-compliant hosts") + pdf_total(&text, "Stale hosts"),
            non_compliant
        );
        assert_eq!(pdf_total(&text, "Critical findings"), critical_before);
        assert_eq!(
            pdf_total(&text, "High findings"),
            estate["high"].as_u64().unwrap()
        );
    }
    // The chart is drawn: one bar per age bucket, both hosts updated today.
    let bars = s.find_all("#update_age g.bar");
    assert_eq!(bars.len(), 6);
    assert_eq!(s.attr(&bars[0], "data-value").as_deref(), Some("2"));
    let shots = artefacts();
    let dashboard_png = shots.join("dashboard.png");
    s.screenshot(&dashboard_png);
    eprintln!("screenshot: {}", dashboard_png.display());

    // Filter the host list by label through the form.
    s.click(&s.find("nav a[href=\"/hosts\"]"));
    s.wait_for_url("the host list", |u| u.ends_with("/hosts"));
    assert_eq!(s.find_all("tr[data-host]").len(), 2);
    s.fill("#label", "env=prod");
    s.click(&s.find("#apply"));
    s.wait_for_url("the filtered list", |u| u.contains("label=env%3Dprod"));
    let rows = s.find_all("tr[data-host]");
    assert_eq!(rows.len(), 1);
    assert_eq!(s.attr(&rows[0], "data-host").as_deref(), Some("web-1"));

    // The host page lists what the API lists for it.
    s.click(&s.find("tr[data-host=\"web-1\"] a"));
    s.wait_for_url("the host page", |u| u.contains("/hosts/"));
    assert_eq!(s.text(&s.find("#hostname")), "web-1");
    let web1 = hosts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hostname"] == "web-1")
        .unwrap();
    let findings = api(
        &server,
        &token,
        &format!("/api/v1/hosts/{}/findings", web1["id"].as_str().unwrap()),
    );
    let finding_rows = s.find_all("#findings tr[data-advisory]");
    assert_eq!(
        finding_rows.len() as u64,
        findings["total"].as_u64().unwrap()
    );
    assert!(
        s.text(&s.find("#findings")).contains("fixed"),
        "the matched range is shown"
    );
    let host_png = shots.join("host.png");
    s.screenshot(&host_png);
    eprintln!("screenshot: {}", host_png.display());

    // The advisory page names every affected host.
    let first = s.attr(&finding_rows[0], "data-advisory").unwrap();
    s.click(&s.find(&format!("#findings tr[data-advisory=\"{first}\"] a")));
    s.wait_for_url("the advisory page", |u| u.contains("/advisories/"));
    assert_eq!(s.text(&s.find("#advisory")), first);
    let affected: Vec<String> = s
        .find_all("#hosts tr[data-host]")
        .iter()
        .filter_map(|r| s.attr(r, "data-host"))
        .collect();
    let mut affected_sorted = affected.clone();
    affected_sorted.sort();
    affected_sorted.dedup();
    assert_eq!(affected_sorted, ["db-1", "web-1"]);
    let api_view = api(&server, &token, &format!("/api/v1/advisories/{first}"));
    assert_eq!(
        s.text(&s.find("#affected-hosts")),
        api_view["affected_hosts"]["total"].to_string()
    );
    let advisory_png = shots.join("advisory.png");
    s.screenshot(&advisory_png);
    eprintln!("screenshot: {}", advisory_png.display());
    // The rows count host × package, the heading hosts: the page says which is which.
    let packages = s.text(&s.find("#affected-packages"));
    let unit = if affected.len() == 1 {
        "vulnerable installation "
    } else {
        "vulnerable installations "
    };
    assert!(
        packages.starts_with(&format!("{} {unit}", affected.len())),
        "{packages}"
    );

    // Request an exception for a critical finding of web-1 from its row, as root.
    let web1_id = web1["id"].as_str().unwrap();
    let critical_advisory = findings["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["severity"] == "critical")
        .and_then(|f| f["advisory"].as_str())
        .expect("a critical finding on web-1")
        .to_owned();
    s.goto(&format!("{}/hosts/{web1_id}", server.url));
    assert_eq!(
        s.text(&s.find("#compliance-state")),
        "non-compliant",
        "a critical finding"
    );
    s.click(&s.find(&format!(
        "#findings tr[data-advisory=\"{critical_advisory}\"] a.request"
    )));
    s.wait_for_url("the request form", |u| u.contains("/exceptions?"));
    assert_eq!(
        s.attr(&s.find("#req-advisory"), "value").as_deref(),
        Some(critical_advisory.as_str())
    );
    assert_eq!(
        s.attr(&s.find("#req-host"), "value").as_deref(),
        Some(web1_id)
    );
    s.fill("#req-reason", "vendor fix is scheduled for the next window");
    s.fill("#req-ticket", "CHG-7");
    s.click(&s.find("#req-submit"));
    let url = s.wait_for_url("the requested exception", |u| u.contains("done=requested"));
    let exception_id = url
        .split("id=")
        .nth(1)
        .and_then(|r| r.split(['#', '&']).next())
        .unwrap()
        .to_owned();
    // Approving one's own request is refused, with the reason.
    s.click(&s.find(&format!(
        "tr[data-exception=\"{exception_id}\"] button.approve"
    )));
    s.wait_for_url("the refusal", |u| u.ends_with("/approve"));
    assert!(
        s.text(&s.find("main"))
            .contains("the requester of an exception cannot approve it"),
        "{}",
        s.source()
    );
    let view = api(
        &server,
        &token,
        &format!("/api/v1/exceptions/{exception_id}"),
    );
    assert_eq!(view["status"], "requested");

    // A second person logs in through the form and approves it.
    let password_file = dir.path().join("olga.password");
    std::fs::write(&password_file, "olga's long browser password").unwrap();
    run_ok(Command::new(env!("CARGO_BIN_EXE_rampart")).args([
        "admin",
        "create-user",
        "olga",
        "--role",
        "operator",
        "--password-file",
        password_file.to_str().unwrap(),
        "--data-dir",
        data_s,
    ]));
    s.goto(&format!("{}/exceptions", server.url));
    s.click(&s.find("header form button"));
    s.wait_for_url("the login form", |u| u.ends_with("/login"));
    s.fill("#name", "olga");
    s.fill("#password", "olga's long browser password");
    s.click(&s.find("#login"));
    s.wait_for_url("the dashboard", |u| u.ends_with('/'));
    s.click(&s.find("nav a[href=\"/exceptions\"]"));
    s.wait_for_url("the exceptions page", |u| u.ends_with("/exceptions"));
    s.click(&s.find(&format!(
        "tr[data-exception=\"{exception_id}\"] button.approve"
    )));
    s.wait_for_url("the approval", |u| u.contains("done=approved"));
    let row = s.find(&format!("tr[data-exception=\"{exception_id}\"]"));
    assert_eq!(s.attr(&row, "data-status").as_deref(), Some("approved"));
    let view = api(
        &server,
        &token,
        &format!("/api/v1/exceptions/{exception_id}"),
    );
    assert_eq!(view["status"], "approved");
    assert_eq!(view["decided_by"], "olga");
    // The dashboard counts the accepted finding out, as the API does.
    s.goto(&format!("{}/", server.url));
    let estate = api(&server, &token, "/api/v1/compliance")["estate"].clone();
    assert_eq!(stat(&s, "critical"), estate["critical"].as_u64().unwrap());
    assert!(
        stat(&s, "critical") < critical_before,
        "one critical finding accepted"
    );
    assert_eq!(
        stat(&s, "non_compliant"),
        estate["non_compliant"].as_u64().unwrap()
    );
    s.goto(&format!("{}/hosts/{web1_id}", server.url));
    s.find(&format!(
        "#exceptions tr[data-exception=\"{exception_id}\"]"
    ));

    drop(s);
    drop(driver);
    let elapsed = started.elapsed();
    eprintln!("browser test took {elapsed:?}");
}
