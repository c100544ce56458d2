//! The admin CLI over the REST API and the server's feed sync, as real processes: a real
//! `rampart server` over HTTPS with its own CA, configured with `--feed`, and the real
//! `rampart` CLI logging in with a password and driving projects, tokens and feeds.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{ServerProcess, rampart, shared_testdata, stderr, stdout};

fn json(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn cli_logs_in_and_manages_the_server_which_syncs_its_configured_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let out = rampart(
        &[
            "admin",
            "create-user",
            "--init",
            "ada",
            "--role",
            "admin",
            "--password-file",
            pw.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let osv = shared_testdata().join("osv");
    let feeds = format!(
        "{},{}",
        osv.display(),
        dir.path().join("missing.zip").display()
    );
    let server = ServerProcess::start(&data, &["--feed", &feeds]);
    let xdg = dir.path().join("xdg");
    let cli = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(args)
            .env("XDG_CONFIG_HOME", &xdg)
            .env_remove("RAMPART_SERVER")
            .env_remove("RAMPART_TOKEN")
            .env_remove("RAMPART_CA_CERT")
            .output()
            .unwrap()
    };

    // A wrong password is refused with a message, and nothing is saved.
    let bad = dir.path().join("bad");
    std::fs::write(&bad, "nope\n").unwrap();
    let ca = server.ca.to_str().unwrap();
    let out = cli(&[
        "login",
        "--server",
        &server.url,
        "--ca-cert",
        ca,
        "--user",
        "ada",
        "--password-file",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("wrong user name or password"),
        "{}",
        stderr(&out)
    );
    let out = cli(&[
        "login",
        "--server",
        &server.url,
        "--ca-cert",
        ca,
        "--user",
        "ada",
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let creds = xdg.join("rampart/credentials.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&creds).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "credentials are private");
    }

    // The configured feed was imported at start; the missing one did not stop it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let feeds = loop {
        let feeds = json(&cli(&["feeds", "ls", "-o", "json"]));
        if feeds["total"] == 1 || Instant::now() > deadline {
            break feeds;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(feeds["total"], 1, "{feeds}");
    assert_eq!(feeds["items"][0]["source"], osv.display().to_string());
    assert_eq!(feeds["items"][0]["record_count"], 3);

    // The configured sources are listed; a sync reports each, the missing one failing.
    let sources = json(&cli(&["feeds", "sources", "-o", "json"]));
    assert_eq!(sources["items"].as_array().unwrap().len(), 2, "{sources}");
    let sync = cli(&["feeds", "sync", "-o", "json"]);
    assert!(!sync.status.success(), "a failed source fails the command");
    let sync: Value = serde_json::from_str(&stdout(&sync)).unwrap();
    assert_eq!(
        sync["items"][0]["import"]["feed"]["record_count"], 3,
        "{sync}"
    );
    assert!(
        sync["items"][1]["error"]
            .as_str()
            .unwrap()
            .contains("missing.zip"),
        "{sync}"
    );

    // A directory on this machine is zipped by the CLI and uploaded; the server never
    // sees the path.
    let upload = json(&cli(&[
        "feeds",
        "import",
        osv.to_str().unwrap(),
        "--name",
        "local-osv",
        "-o",
        "json",
    ]));
    assert_eq!(upload["feed"]["source"], "upload:local-osv", "{upload}");
    assert_eq!(upload["feed"]["record_count"], 3, "{upload}");
    let missing = cli(&["feeds", "import", "/no/such/feed.json"]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("/no/such/feed.json"),
        "{}",
        stderr(&missing)
    );

    // Projects: create, list as CSV, update, delete.
    let created = json(&cli(&[
        "projects",
        "create",
        "web",
        "--selector",
        "env=prod",
        "--description",
        "prod web",
        "-o",
        "json",
    ]));
    let id = created["id"].as_str().unwrap().to_owned();
    let csv = stdout(&cli(&["projects", "ls", "-o", "csv"]));
    assert_eq!(
        csv,
        format!("id,name,selector,description\n{id},web,env=prod,prod web\n")
    );
    let updated = json(&cli(&[
        "projects",
        "update",
        &id,
        "--selector",
        "env=stage",
        "-o",
        "json",
    ]));
    assert_eq!(updated["selector"]["env"], "stage");
    assert!(cli(&["projects", "rm", &id]).status.success());
    assert_eq!(json(&cli(&["projects", "ls", "-o", "json"]))["total"], 0);

    // Tokens: the login made one; a new one prints its secret once and works.
    let token = stdout(&cli(&[
        "tokens",
        "create",
        "--name",
        "ci",
        "--expires",
        "1h",
    ]));
    let token = token.trim();
    assert!(token.starts_with("rpt_"), "{token}");
    let me = cli(&[
        "hosts",
        "ls",
        "--server",
        &server.url,
        "--ca-cert",
        ca,
        "--token",
        token,
        "-o",
        "json",
    ]);
    assert_eq!(json(&me)["total"], 0);
    let tokens = json(&cli(&["tokens", "ls", "-o", "json"]));
    let names: Vec<&str> = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ci") && names.iter().any(|n| n.starts_with("rampart-cli@")));

    // Without the CA (none given, none saved) the CLI refuses the server's certificate
    // and says what to pass.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(["hosts", "ls", "--server", &server.url, "--token", token])
        .env("XDG_CONFIG_HOME", dir.path().join("empty"))
        .env_remove("RAMPART_CA_CERT")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--ca-cert"), "{}", stderr(&out));

    assert!(server.stop("-TERM").success());
}

/// Compliance from the command line against a real `rampart server`: a project's
/// standard and software policy, the four-eyes rule on exceptions (two users, two
/// saved logins), the summary and "scan now".
#[test]
fn cli_drives_standards_policies_exceptions_and_scans() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    for (user, role) in [("ada", "admin"), ("bob", "operator")] {
        let out = rampart(
            &[
                "admin",
                "create-user",
                "--init",
                user,
                "--role",
                role,
                "--password-file",
                pw.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            "",
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let server = ServerProcess::start(&data, &[]);
    let ca = server.ca.to_str().unwrap().to_owned();
    // One saved login per user.
    let as_user = |user: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(args)
            .env("XDG_CONFIG_HOME", dir.path().join(format!("xdg-{user}")))
            .env_remove("RAMPART_SERVER")
            .env_remove("RAMPART_TOKEN")
            .env_remove("RAMPART_CA_CERT")
            .output()
            .unwrap()
    };
    for user in ["ada", "bob"] {
        let out = as_user(
            user,
            &[
                "login",
                "--server",
                &server.url,
                "--ca-cert",
                &ca,
                "--user",
                user,
                "--password-file",
                pw.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let ada = |args: &[&str]| as_user("ada", args);
    let bob = |args: &[&str]| as_user("bob", args);

    json(&ada(&[
        "projects",
        "create",
        "web",
        "--selector",
        "env=prod",
        "-o",
        "json",
    ]));
    let shown = json(&ada(&["projects", "standard", "show", "web", "-o", "json"]));
    assert_eq!(shown["configured"], false);
    assert_eq!(shown["max_pending_security_days"], 7);
    let set = json(&ada(&[
        "projects",
        "standard",
        "set",
        "web",
        "--critical-findings-allowed",
        "2",
        "-o",
        "json",
    ]));
    assert_eq!(set["configured"], true);
    assert_eq!(set["critical_findings_allowed"], 2);
    assert_eq!(set["max_pending_security_days"], 7, "unchanged fields kept");
    let table = stdout(&ada(&["projects", "standard", "show", "web"]));
    assert!(table.contains("CRITICAL FINDINGS ALLOWED  2"), "{table}");

    let policy = json(&ada(&[
        "projects",
        "software-policy",
        "set",
        "web",
        "--deny",
        "telnet*",
        "--allow",
        "lib*",
        "-o",
        "json",
    ]));
    assert_eq!(policy["deny"], serde_json::json!(["telnet*"]));
    let bad = ada(&[
        "projects",
        "software-policy",
        "set",
        "web",
        "--deny",
        "[oops",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("unterminated"), "{}", stderr(&bad));

    // Ada requests; ada cannot approve; bob can.
    let requested = json(&ada(&[
        "exceptions",
        "request",
        "CVE-2099-0001",
        "--reason",
        "behind the WAF",
        "--ticket",
        "SEC-7",
        "--expires",
        "7d",
        "--project",
        "web",
        "-o",
        "json",
    ]));
    let id = requested["id"].as_str().unwrap().to_owned();
    assert_eq!(requested["status"], "requested");
    assert_eq!(requested["scope"]["kind"], "project");
    let own = ada(&["exceptions", "approve", &id]);
    assert_eq!(own.status.code(), Some(2));
    assert!(stderr(&own).contains("another person"), "{}", stderr(&own));
    let approved = json(&bob(&["exceptions", "approve", &id, "-o", "json"]));
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], "bob");
    let csv = stdout(&ada(&["exceptions", "ls", "--active", "-o", "csv"]));
    assert!(
        csv.starts_with("id,advisory,scope,status,expires,requested_by,decided_by,ticket,reason\n"),
        "{csv}"
    );
    assert!(csv.contains(&format!("{id},CVE-2099-0001,")), "{csv}");
    assert!(csv.contains(",approved,"), "{csv}");

    let summary = json(&ada(&["compliance", "-o", "json"]));
    assert_eq!(summary["estate"]["hosts"], 0);
    assert_eq!(summary["projects"][0]["name"], "web");
    let table = stdout(&ada(&["compliance"]));
    assert!(
        table.contains("(estate)") && table.contains("web"),
        "{table}"
    );

    let scan = json(&bob(&["scan-now", "--project", "web", "-o", "json"]));
    assert_eq!(scan["trigger"], "manual");
    assert_eq!(scan["requested_by"], "bob");
    assert_eq!(scan["hosts"], 0);
    assert!(scan["finished_at"].is_i64());

    let revoked = json(&bob(&["exceptions", "revoke", &id, "-o", "json"]));
    assert_eq!(revoked["status"], "revoked");
    let active = json(&ada(&["exceptions", "ls", "--active", "-o", "json"]));
    assert_eq!(active["total"], 0);

    assert!(server.stop("-TERM").success());
}
