//! End to end with real processes and real TLS: the `rampart server` binary on SQLite
//! in a temporary data directory, the real `rampart-agent` binary enrolling and checking
//! in for two roots — this machine (`/`) and a Debian image root built from this
//! machine's real dpkg database — and the real `rampart` CLI reading the result back
//! over HTTPS with the server's CA. The oracles are the system's own tools
//! (`dpkg-query`), the agent's own `inventory` output and `rampart scan` on the same
//! root. Also `rampart up` as a user runs it. Real processes because what is tested is
//! exactly the wiring between them: TLS, pinning, the CA file, exit codes, restarts.
//!
//! An agent killed mid-run is covered by rampart-agent's own tests (the spool keeps an
//! unacknowledged inventory and sends it first after a restart).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ServerProcess, agent_bin, https, require_tool, run_ok, wait_with_deadline};

fn rampart_cli(server: &ServerProcess, token: &str, args: &[&str]) -> Value {
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(args)
            .args(["-o", "json", "--server", &server.url, "--token", token])
            .arg("--ca-cert")
            .arg(&server.ca)
            .env("XDG_CONFIG_HOME", server.ca.parent().unwrap()),
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn enroll(server: &ServerProcess, token: &str, state: &Path) {
    run_ok(
        Command::new(agent_bin())
            .args(["enroll", "--server", &server.url, "--state-dir"])
            .arg(state)
            .env("RAMPART_ENROLL_TOKEN", token),
    );
}

fn run_once(state: &Path, root: &Path) {
    run_ok(
        Command::new(agent_bin())
            .args(["run", "--once", "--state-dir"])
            .arg(state)
            .arg("--root")
            .arg(root),
    );
}

/// Packages dpkg counts as installed (`ii`) or held (`hi`) in a status file.
fn dpkg_installed(admindir: &Path) -> usize {
    let out = run_ok(
        Command::new("dpkg-query")
            .arg(format!("--admindir={}", admindir.display()))
            .args(["-W", "-f", "${db:Status-Abbrev}\n"]),
    );
    out.lines()
        .filter(|l| l.starts_with("ii") || l.starts_with("hi"))
        .count()
}

fn host_by_name<'a>(hosts: &'a Value, name: &str) -> &'a Value {
    hosts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hostname"] == name)
        .unwrap_or_else(|| panic!("no host {name} in {hosts}"))
}

/// An OSV feed naming real source packages of this machine: one advisory per package
/// with a fix just above the installed version (affected) and one fixed long ago (not
/// affected), so the expected findings are known and non-empty.
fn write_feed(path: &Path, ecosystem: &str, inventory: &Value) {
    let mut seen = BTreeSet::new();
    let mut records = Vec::new();
    for p in inventory["state"]["packages"].as_array().unwrap() {
        let source = p["source_name"].as_str().or(p["name"].as_str()).unwrap();
        let version = p["source_version"]
            .as_str()
            .or(p["version"].as_str())
            .unwrap();
        if !seen.insert(source.to_owned()) || records.len() >= 8 {
            continue;
        }
        let n = records.len();
        let fixed = if n % 2 == 0 {
            format!("{version}+fix1")
        } else {
            "0:0.0.1-1".to_owned()
        };
        records.push(json!({
            "id": format!("TEST-{n}"),
            "modified": "2026-01-01T00:00:00Z",
            "affected": [{
                "package": {"ecosystem": ecosystem, "name": source},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
            }]
        }));
    }
    std::fs::write(path, serde_json::to_string(&records).unwrap()).unwrap();
}

fn finding_keys(findings: &[Value]) -> BTreeSet<(String, String, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f["advisory"].as_str().unwrap().to_owned(),
                f["package"].as_str().unwrap().to_owned(),
                f["installed"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The host's inventory timeline, newest first, as state hashes.
fn history(data: &Path, hostname: &str) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = rampart_store::Store::open_in_dir(data).await.unwrap();
        let hosts = store
            .list_hosts(
                &rampart_store::HostFilter::default(),
                rampart_store::Page {
                    limit: 100,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        let host = hosts
            .items
            .iter()
            .find(|h| h.hostname == hostname)
            .expect("host");
        let rows = store
            .inventory_history(
                &host.id,
                rampart_store::Page {
                    limit: 1000,
                    offset: 0,
                },
            )
            .await
            .unwrap()
            .items;
        store.close().await;
        rows.into_iter().map(|r| r.state_hash).collect()
    })
}

#[test]
fn real_agents_enrol_check_in_and_survive_a_server_crash() {
    if !require_tool("dpkg-query", "the package-count oracle")
        || !Path::new("/var/lib/dpkg/status").is_file()
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "a very long password\n").unwrap();
    let data_s = data.to_str().unwrap();
    run_ok(Command::new(env!("CARGO_BIN_EXE_rampart")).args([
        "admin",
        "create-user",
        "ops",
        "--role",
        "admin",
        "--password-file",
        pw.to_str().unwrap(),
        "--data-dir",
        data_s,
    ]));
    let token = run_ok(Command::new(env!("CARGO_BIN_EXE_rampart")).args([
        "admin",
        "create-token",
        "--user",
        "ops",
        "--data-dir",
        data_s,
    ]))
    .trim()
    .to_owned();

    let server = ServerProcess::start(&data, &[]);
    let (status, body) = https(
        &server.url,
        &server.ca,
        "POST",
        "/api/v1/enrollment-tokens",
        Some(&token),
        Some(r#"{"max_uses": 2, "labels": {"suite": "e2e"}}"#),
    );
    assert_eq!(status, 201, "{body}");
    let enrol: Value = serde_json::from_str(&body).unwrap();
    let enrol = enrol["token"].as_str().unwrap().to_owned();

    // The image root: this machine's real dpkg database and os-release, another name.
    let image = dir.path().join("image");
    std::fs::create_dir_all(image.join("var/lib/dpkg")).unwrap();
    std::fs::create_dir_all(image.join("etc")).unwrap();
    std::fs::copy("/var/lib/dpkg/status", image.join("var/lib/dpkg/status")).unwrap();
    std::fs::copy("/etc/os-release", image.join("etc/os-release")).unwrap();
    std::fs::write(image.join("etc/hostname"), "debian-image\n").unwrap();

    let live = dir.path().join("agent-live");
    let img = dir.path().join("agent-image");
    enroll(&server, &enrol, &live);
    enroll(&server, &enrol, &img);
    run_once(&live, Path::new("/"));
    run_once(&img, &image);

    // The agent's own view of this machine, for the oracle.
    let own: Value = serde_json::from_str(&run_ok(Command::new(agent_bin()).args([
        "inventory",
        "--root",
        "/",
    ])))
    .unwrap();
    let this_host = own["state"]["host"]["hostname"]
        .as_str()
        .unwrap()
        .to_owned();
    let ecosystem = own["state"]["host"]["os"]["ecosystem"]
        .as_str()
        .expect("this machine's release is known")
        .to_owned();

    let hosts = rampart_cli(&server, &token, &["hosts", "ls"]);
    assert_eq!(hosts["total"], 2, "{hosts}");
    let installed = dpkg_installed(Path::new("/var/lib/dpkg"));
    for name in [this_host.as_str(), "debian-image"] {
        let host = host_by_name(&hosts, name);
        assert_eq!(host["labels"]["suite"], "e2e");
        let id = host["id"].as_str().unwrap();
        let packages = rampart_cli(&server, &token, &["hosts", "show", id, "--packages"]);
        assert_eq!(
            packages["total"], installed,
            "{name}: packages = dpkg-query -W"
        );
    }
    let live_id = host_by_name(&hosts, &this_host)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let image_id = host_by_name(&hosts, "debian-image")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let updates = rampart_cli(&server, &token, &["hosts", "show", &live_id, "--updates"]);
    let own_updates: BTreeSet<(String, String)> = own["state"]["updates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().into(),
                u["candidate"].as_str().unwrap().into(),
            )
        })
        .collect();
    let served_updates: BTreeSet<(String, String)> = updates["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().into(),
                u["candidate"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(updates["total"], own_updates.len());
    assert_eq!(
        served_updates, own_updates,
        "pending updates = the agent's inventory"
    );

    // Findings after a feed import equal `rampart scan` on the same root.
    let feed = dir.path().join("feed.json");
    write_feed(&feed, &ecosystem, &own);
    rampart_cli(
        &server,
        &token,
        &["feeds", "import", feed.to_str().unwrap()],
    );
    for (id, root) in [(&image_id, image.as_path()), (&live_id, Path::new("/"))] {
        let served = rampart_cli(&server, &token, &["hosts", "show", id, "--findings"]);
        let scan: Value = serde_json::from_str(&run_ok(
            Command::new(env!("CARGO_BIN_EXE_rampart"))
                .args(["scan", "--format", "json", "--root"])
                .arg(root)
                .arg("--feed")
                .arg(&feed),
        ))
        .unwrap();
        let expected = finding_keys(scan["findings"].as_array().unwrap());
        assert!(!expected.is_empty(), "the feed was built to match");
        assert_eq!(
            finding_keys(served["items"].as_array().unwrap()),
            expected,
            "server findings = rampart scan --root {}",
            root.display()
        );
    }

    // A crash between check-ins loses and duplicates nothing.
    assert_eq!(history(&data, "debian-image").len(), 1);
    let port = server.url.rsplit(':').next().unwrap().to_owned();
    let killed = server.stop("-KILL");
    assert!(!killed.success());
    // The image changes while the server is down: one package fewer.
    let status = std::fs::read_to_string(image.join("var/lib/dpkg/status")).unwrap();
    let first_stanza_end = status.find("\n\n").unwrap() + 2;
    std::fs::write(
        image.join("var/lib/dpkg/status"),
        &status[first_stanza_end..],
    )
    .unwrap();
    let server = ServerProcess::start_on(&data, &format!("127.0.0.1:{port}"), &[]);
    run_once(&img, &image);
    run_once(&img, &image);
    run_once(&live, Path::new("/"));
    assert_eq!(
        history(&data, "debian-image").len(),
        2,
        "the changed inventory once, the resend not at all"
    );
    // The live host may really have changed (its listening sockets did: the server's
    // port); what must never happen is the same state stored twice in a row.
    let live_history = history(&data, &this_host);
    assert!(
        live_history.windows(2).all(|w| w[0] != w[1]),
        "{live_history:?}"
    );
    let packages = rampart_cli(&server, &token, &["hosts", "show", &image_id, "--packages"]);
    assert_eq!(
        packages["total"],
        dpkg_installed(&image.join("var/lib/dpkg"))
    );
    assert_eq!(server.stop("-TERM").code(), Some(0));
}

/// Starts `rampart up` on `data` and reads its summary from standard output.
fn start_up(data: &Path) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["up", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        // Unreachable: the first look must still start and say why the feed is missing.
        .args(["--feed", "/nonexistent/feed.zip"])
        .env_remove("RAMPART_MASTER_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rampart up");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut summary = String::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while !summary.contains("Press Ctrl-C") {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or_else(|_| panic!("rampart up prints its summary; so far:\n{summary}"));
        summary.push_str(&line);
        summary.push('\n');
    }
    (child, summary)
}

/// SIGINT, then the exit status and standard error.
fn interrupt(mut child: std::process::Child) -> (std::process::ExitStatus, String) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = wait_with_deadline(&mut child, Duration::from_secs(30));
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    (status, err)
}

fn word_after<'a>(text: &'a str, marker: &str) -> &'a str {
    text.split(marker)
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{marker:?} not in:\n{text}"))
}

#[test]
fn rampart_up_serves_this_machine_until_interrupted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (child, summary) = start_up(&data);
    let url = word_after(&summary, "running at ").to_owned();
    assert!(url.starts_with("https://localhost:"), "{summary}");
    assert!(summary.contains("admin login:    admin / "), "{summary}");
    assert!(summary.contains("rampart login --server"), "{summary}");
    let token = word_after(&summary, "--token ").to_owned();
    let ca = data.join("ca.pem");

    let (status, body) = https(&url, &ca, "GET", "/healthz", None, None);
    assert_eq!((status, body.trim()), (200, "ok"));
    let (status, body) = https(&url, &ca, "GET", "/api/v1/hosts", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    let hosts: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(hosts["total"], 1, "this machine is enrolled: {body}");
    let id = hosts["items"][0]["id"].as_str().unwrap().to_owned();
    let (_, body) = https(
        &url,
        &ca,
        "GET",
        &format!("/api/v1/hosts/{id}/packages?limit=1"),
        Some(&token),
        None,
    );
    let packages: Value = serde_json::from_str(&body).unwrap();
    if Path::new("/var/lib/dpkg/status").is_file() {
        assert!(packages["total"].as_u64().unwrap() > 0, "{body}");
    }

    let (status, err) = interrupt(child);
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        err.contains("/nonexistent/feed.zip could not be imported"),
        "the unreachable feed is reported: {err}"
    );

    // Again on the same data directory (another port): the same CA, admin and host.
    let (child, summary) = start_up(&data);
    assert!(summary.contains("the existing users"), "{summary}");
    let url = word_after(&summary, "running at ").to_owned();
    let token = word_after(&summary, "--token ").to_owned();
    let (_, body) = https(&url, &ca, "GET", "/api/v1/hosts", Some(&token), None);
    let hosts: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(hosts["total"], 1, "still one host: {body}");
    assert_eq!(hosts["items"][0]["id"], json!(id));
    assert!(hosts["items"][0]["last_seen"].as_i64() >= hosts["items"][0]["first_seen"].as_i64());
    let (status, err) = interrupt(child);
    assert_eq!(status.code(), Some(0), "{err}");
}
