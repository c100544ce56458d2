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
