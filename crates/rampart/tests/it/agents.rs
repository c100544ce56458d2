//! End to end with real processes and real TLS: the `rampart server` binary on SQLite
//! in a temporary data directory, the real `rampart-agent` binary enrolling and checking
//! in for four roots — this machine (`/`), a Debian image root built from this
//! machine's real dpkg database, a Rocky-like RPM root with a real rpmdb and dnf
//! repodata, and an Alpine root with an apk database and APKINDEX cache (see
//! `roots.rs`) — and the real `rampart` CLI reading the result back over HTTPS with the
//! server's CA. The oracles are the system's own tools (`dpkg-query`, `rpm -qa`, the
//! `P:` records of apk's database), the agent's own `inventory` output and
//! `rampart scan` on the same root. Also `rampart up` as a user runs it. Real processes
//! because what is tested is exactly the wiring between them: TLS, pinning, the CA
//! file, exit codes, restarts.
//!
//! An agent killed mid-run is covered by rampart-agent's own tests (the spool keeps an
//! unacknowledged inventory and sends it first after a restart).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::roots::{ALPINE_TOOLS, ExpectedFacts, RPM_TOOLS, alpine_root, rpm_root};
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

/// Enrols an agent for the host under `root`: its machine id (none in the image roots)
/// is what makes it a host of its own.
fn enroll(server: &ServerProcess, token: &str, state: &Path, root: &Path) {
    run_ok(
        Command::new(agent_bin())
            .args(["enroll", "--server", &server.url, "--state-dir"])
            .arg(state)
            .arg("--root")
            .arg(root)
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

/// Packages in an RPM root's database, as `rpm -qa` lists them.
fn rpm_installed(root: &Path) -> usize {
    run_ok(
        Command::new("rpm")
            .arg("--root")
            .arg(root)
            .args(["--dbpath", "/var/lib/rpm", "-qa"]),
    )
    .lines()
    .filter(|l| !l.trim().is_empty())
    .count()
}

/// Packages in an Alpine root's database: its `P:` records.
fn apk_installed(root: &Path) -> usize {
    std::fs::read_to_string(root.join("lib/apk/db/installed"))
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("P:"))
        .count()
}

/// The agent's own inventory of `root`.
fn own_inventory(root: &Path) -> Value {
    let out = run_ok(
        Command::new(agent_bin())
            .arg("inventory")
            .arg("--root")
            .arg(root),
    );
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("inventory {}: {e}", root.display()))
}

/// Pending updates as (name, candidate, category), from an inventory or the API.
fn update_keys(updates: &Value) -> BTreeSet<(String, String, String)> {
    updates
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().into(),
                u["candidate"].as_str().unwrap().into(),
                u["category"].as_str().unwrap().into(),
            )
        })
        .collect()
}

/// OSV records for `ecosystem`: one per (package, fixed version).
fn osv_records(ecosystem: &str, prefix: &str, fixes: &[(&str, &str)]) -> Vec<Value> {
    fixes
        .iter()
        .enumerate()
        .map(|(n, (name, fixed))| {
            json!({
                "id": format!("{prefix}-{n}"),
                "modified": "2026-01-01T00:00:00Z",
                "affected": [{
                    "package": {"ecosystem": ecosystem, "name": name},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
                }]
            })
        })
        .collect()
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
fn debian_records(ecosystem: &str, inventory: &Value) -> Vec<Value> {
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
    records
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
    for tool in RPM_TOOLS {
        if !require_tool(tool, "building the RPM root") {
            return;
        }
    }
    for tool in ALPINE_TOOLS {
        if !require_tool(tool, "building the Alpine root") {
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "a very long password\n").unwrap();
    let data_s = data.to_str().unwrap();
    run_ok(Command::new(env!("CARGO_BIN_EXE_rampart")).args([
        "admin",
        "create-user",
        "--init",
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
        Some(r#"{"max_uses": 4, "labels": {"suite": "e2e"}}"#),
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

    // An RPM root and an Alpine root from real package-manager artefacts.
    let rpm_dir = dir.path().join("rpm");
    let rpm_facts = rpm_root(&rpm_dir);
    let rpm = rpm_dir.join("root");
    std::fs::write(rpm.join("etc/hostname"), "rocky-image\n").unwrap();
    let alpine_dir = dir.path().join("alpine");
    let alpine_facts = alpine_root(&alpine_dir);
    let alpine = alpine_dir.join("root");
    std::fs::write(alpine.join("etc/hostname"), "alpine-image\n").unwrap();

    let live = dir.path().join("agent-live");
    let img = dir.path().join("agent-image");
    let rpm_agent = dir.path().join("agent-rpm");
    let alpine_agent = dir.path().join("agent-alpine");
    for (state, root) in [
        (&live, Path::new("/")),
        (&img, image.as_path()),
        (&rpm_agent, rpm.as_path()),
        (&alpine_agent, alpine.as_path()),
    ] {
        enroll(&server, &enrol, state, root);
    }
    run_once(&live, Path::new("/"));
    run_once(&img, &image);
    run_once(&rpm_agent, &rpm);
    run_once(&alpine_agent, &alpine);

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
    assert_eq!(hosts["total"], 4, "{hosts}");
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

    // The RPM and Alpine hosts: release, package count by the native database, pending
    // updates as the agent itself collects them (and as the root was built to have).
    let mut other_ids = Vec::new();
    let mut other_ecosystems = Vec::new();
    for (name, root, facts, ecosystem_prefix, installed) in [
        (
            "rocky-image",
            rpm.as_path(),
            &rpm_facts,
            "Rocky Linux:",
            rpm_installed(&rpm),
        ),
        (
            "alpine-image",
            alpine.as_path(),
            &alpine_facts,
            "Alpine:v",
            apk_installed(&alpine),
        ),
    ] {
        let ExpectedFacts {
            os_id,
            packages,
            updates,
        } = facts;
        let host = host_by_name(&hosts, name);
        assert_eq!(host["labels"]["suite"], "e2e");
        assert_eq!(host["os_id"], json!(os_id), "{name}: {host}");
        let inventory = own_inventory(root);
        let host_ecosystem = inventory["state"]["host"]["os"]["ecosystem"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no ecosystem in {}", inventory["state"]["host"]))
            .to_owned();
        assert!(
            host_ecosystem.starts_with(ecosystem_prefix),
            "{name}: {host_ecosystem}"
        );
        assert_eq!(host["ecosystem"], json!(host_ecosystem), "{name}: {host}");
        let id = host["id"].as_str().unwrap().to_owned();

        let served_packages = rampart_cli(&server, &token, &["hosts", "show", &id, "--packages"]);
        assert_eq!(installed, packages.len(), "{name}: the root as built");
        assert_eq!(
            served_packages["total"], installed,
            "{name}: packages = the native package database"
        );

        let served = rampart_cli(&server, &token, &["hosts", "show", &id, "--updates"]);
        let own_updates = update_keys(&inventory["state"]["updates"]);
        // apk keeps no security metadata: the agent says `unknown`, and the server shows
        // `other` until an advisory says the update fixes something (checked below).
        let apk = name == "alpine-image";
        assert!(
            own_updates.iter().all(|(_, _, c)| (c == "unknown") == apk),
            "{name}: {own_updates:?}"
        );
        let own_shown: BTreeSet<(String, String, String)> = own_updates
            .iter()
            .map(|(n, v, c)| {
                let shown = if c == "unknown" { "other" } else { c };
                (n.clone(), v.clone(), shown.to_owned())
            })
            .collect();
        assert_eq!(served["total"], own_updates.len(), "{name}: {served}");
        assert_eq!(
            update_keys(&served["items"]),
            own_shown,
            "{name}: pending updates = the agent's inventory"
        );
        let built: BTreeSet<(String, String, String)> = updates
            .iter()
            .map(|u| {
                let category = if u.security { "security" } else { "other" };
                (u.name.clone(), u.candidate.clone(), category.to_owned())
            })
            .collect();
        assert_eq!(
            own_shown, built,
            "{name}: the updates the root was built with"
        );
        let detailed: BTreeSet<(String, String, String, String)> = served["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u["name"].as_str().unwrap().into(),
                    u["arch"].as_str().unwrap_or_default().into(),
                    u["installed"].as_str().unwrap().into(),
                    u["origin"].as_str().unwrap().into(),
                )
            })
            .collect();
        let expected_detail: BTreeSet<(String, String, String, String)> = updates
            .iter()
            .map(|u| {
                (
                    u.name.clone(),
                    u.arch.clone(),
                    u.installed.clone(),
                    u.origin.clone(),
                )
            })
            .collect();
        assert_eq!(detailed, expected_detail, "{name}: arch, installed, origin");
        other_ids.push(id);
        other_ecosystems.push(host_ecosystem);
    }

    // Findings after a feed import equal `rampart scan` on the same root. One feed for
    // the estate: the Debian records, and for the RPM and Alpine releases fixes above
    // what is installed (findings) and below it (none).
    let feed = dir.path().join("feed.json");
    let mut records = debian_records(&ecosystem, &own);
    records.extend(osv_records(
        &other_ecosystems[0],
        "TEST-RPM",
        &[
            ("hello", "1.1-1"),
            ("kernel", "6.3.0-1"),
            ("stable", "0.9-1"),
        ],
    ));
    records.extend(osv_records(
        &other_ecosystems[1],
        "TEST-APK",
        &[
            ("musl", "1.2.5-r1"),
            ("openssl", "3.3.2-r0"),
            ("busybox", "1.36.0-r0"),
        ],
    ));
    std::fs::write(&feed, serde_json::to_string(&records).unwrap()).unwrap();
    rampart_cli(
        &server,
        &token,
        &["feeds", "import", feed.to_str().unwrap()],
    );
    // The RPM and Alpine matches are also known in advance: the fixes above what is
    // installed, both installed kernels, and Alpine matched by origin (`openssl`).
    let known: [(&str, &[(&str, &str)]); 2] = [
        ("rpm", &[("TEST-RPM-0", "hello"), ("TEST-RPM-1", "kernel")]),
        (
            "alpine",
            &[("TEST-APK-0", "musl"), ("TEST-APK-1", "libcrypto3")],
        ),
    ];
    for (id, root) in [
        (&image_id, image.as_path()),
        (&live_id, Path::new("/")),
        (&other_ids[0], rpm.as_path()),
        (&other_ids[1], alpine.as_path()),
    ] {
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
        for (kind, pairs) in &known {
            if root.starts_with(dir.path().join(kind)) {
                let got: BTreeSet<(&str, &str)> = expected
                    .iter()
                    .map(|(a, p, _)| (a.as_str(), p.as_str()))
                    .collect();
                let want: BTreeSet<(&str, &str)> = pairs.iter().copied().collect();
                assert_eq!(got, want, "{kind}: the findings the feed was built for");
            }
        }
        assert_eq!(
            finding_keys(served["items"].as_array().unwrap()),
            expected,
            "server findings = rampart scan --root {}",
            root.display()
        );
    }

    // With the advisories known, the Alpine updates that reach a fix are security
    // updates (musl 1.2.5-r1 fixes TEST-APK-0; libcrypto3 3.3.2-r0 is openssl's fix
    // TEST-APK-1), the others stay `other`; the RPM host keeps its package manager's
    // classes and learns which advisories each update fixes.
    let served = rampart_cli(
        &server,
        &token,
        &["hosts", "show", &other_ids[1], "--updates"],
    );
    let classes: BTreeSet<(String, String, String, String)> = served["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap().into(),
                u["category"].as_str().unwrap().into(),
                u["reported_category"].as_str().unwrap().into(),
                u["fixes"].to_string(),
            )
        })
        .collect();
    let apk_class = |n: &str, c: &str, fixes: Value| {
        (
            n.to_owned(),
            c.to_owned(),
            "unknown".to_owned(),
            fixes.to_string(),
        )
    };
    assert_eq!(
        classes,
        BTreeSet::from([
            apk_class("musl", "security", json!(["TEST-APK-0"])),
            apk_class("libcrypto3", "security", json!(["TEST-APK-1"])),
        ]),
        "alpine: {served}"
    );
    let served = rampart_cli(
        &server,
        &token,
        &["hosts", "show", &other_ids[0], "--updates"],
    );
    for u in served["items"].as_array().unwrap() {
        assert_eq!(u["category"], u["reported_category"], "rpm: {u}");
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

    // Revoking the image host's agent with the CLI: its next check-in is refused with
    // a message that says so, and the host's agent list shows when.
    let agents = rampart_cli(&server, &token, &["hosts", "agents", &image_id]);
    assert_eq!(agents["total"], 1, "{agents}");
    let agent_id = agents["items"][0]["id"].as_str().unwrap().to_owned();
    let revoked = rampart_cli(
        &server,
        &token,
        &["hosts", "revoke-agent", &image_id, &agent_id],
    );
    assert!(revoked["revoked_at"].is_i64(), "{revoked}");
    let refused = Command::new(agent_bin())
        .args(["run", "--once", "--state-dir"])
        .arg(&img)
        .arg("--root")
        .arg(&image)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("agent_revoked") || said.contains("revoked"),
        "{said}"
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
