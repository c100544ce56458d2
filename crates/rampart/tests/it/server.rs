//! `rampart admin` and `rampart server` as real processes: the admin CLI writes a user
//! and a token into a data directory, the server started on it accepts the token, and
//! SIGTERM stops it cleanly. Starts the real binary on a loopback port of the OS's
//! choosing, because graceful shutdown and the printed bootstrap secret only exist there.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::{ServerProcess, https, rampart, stderr};

#[test]
fn admin_cli_token_authenticates_against_the_served_app() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "a very long password\n").unwrap();

    let out = rampart(
        &[
            "admin",
            "create-user",
            "--init",
            "olga",
            "--role",
            "operator",
            "--password-file",
            pw.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = rampart(
        &[
            "admin",
            "create-user",
            "--init",
            "olga",
            "--role",
            "operator",
            "--password-file",
            pw.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(2), "a duplicate user is refused");
    let out = rampart(
        &[
            "admin",
            "create-token",
            "--user",
            "olga",
            "--expires",
            "24h",
            "--data-dir",
            data,
        ],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("rpt_"), "{token}");
    let out = rampart(
        &[
            "admin",
            "create-token",
            "--user",
            "olga",
            "--role",
            "admin",
            "--data-dir",
            data,
        ],
        "",
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a scope wider than the user's role is refused"
    );

    let mut server = ServerProcess::start(std::path::Path::new(data), &[]);
    let get = |path: &str, bearer: Option<&str>| {
        https(&server.url, &server.ca, "GET", path, bearer, None)
    };
    let (status, _) = get("/healthz", None);
    assert_eq!(status, 200);
    let (status, body) = get("/api/v1/session", Some(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"olga\""), "{body}");
    let (status, body) = get("/api/v1/hosts", None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"code\":\"unauthenticated\""), "{body}");

    let stdout_lines = std::mem::replace(&mut server.stdout, std::sync::mpsc::channel().1);
    let status = server.stop("-TERM");
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    // Users exist, so no bootstrap secret was printed.
    let stdout: String = stdout_lines.try_iter().collect::<Vec<_>>().join("\n");
    assert!(!stdout.contains("bootstrap"), "{stdout}");
}

#[test]
fn a_fresh_server_prints_the_bootstrap_secret_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .env_remove("RAMPART_DATABASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rampart server");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    while let Some(Ok(line)) = lines.next() {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("\"secret\":\"") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let secret = seen
        .split("\"secret\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect(&seen);
    assert_eq!(secret.len(), 43, "{seen}");
}

/// The review wrote a fake `INFO … logged in user=admin` line into the log through a
/// login name holding a newline and terminal escapes. Every event now stays one line
/// with its control characters escaped, in text and in JSON; starts the real binary
/// because the log writer is set up there.
#[test]
fn client_text_cannot_forge_log_lines() {
    let forged = "mallory\n2026-12-07T09:00:00.000000Z  INFO rampart_server::api::session: logged in user=\"admin\"\u{1b}[2J\r";
    for json in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let args: &[&str] = if json { &["--log-json"] } else { &[] };
        let server = ServerProcess::start(&dir.path().join("data"), args);
        let body = serde_json::json!({"name": forged, "password": "whatever-it-is"}).to_string();
        let (status, _) = https(
            &server.url,
            &server.ca,
            "POST",
            "/api/v1/session",
            None,
            Some(&body),
        );
        assert_eq!(status, 401);
        // The failed login is logged; wait for it, then read every line.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let lines = loop {
            let lines = server.log.lock().unwrap().clone();
            if lines.iter().any(|l| l.contains("failed login")) {
                break lines;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no failed-login line: {lines:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        for line in &lines {
            assert!(
                !line.starts_with("2026-12-07T09:00:00"),
                "forged line: {lines:#?}"
            );
            assert!(
                !line.contains('\u{1b}') && !line.contains('\r'),
                "raw escape: {line:?}"
            );
            if json {
                serde_json::from_str::<serde_json::Value>(line)
                    .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line:?}"));
            }
        }
        let failed = lines.iter().find(|l| l.contains("failed login")).unwrap();
        assert!(failed.contains("mallory"), "{failed}");
        assert!(
            failed.contains("logged in user="),
            "the name is kept, escaped: {failed}"
        );
    }
}

/// A mistyped `--data-dir` used to get an empty database and a user nobody could use:
/// a directory without a Rampart database is refused unless `--init` asks for one, and
/// nothing is created on the way.
#[test]
fn admin_refuses_a_data_dir_without_a_database_unless_asked_to_initialise() {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "a very long password\n").unwrap();
    let create = |data: &std::path::Path, name: &str, init: bool| {
        let mut args = vec![
            "admin",
            "create-user",
            name,
            "--role",
            "admin",
            "--password-file",
            pw.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
        ];
        if init {
            args.push("--init");
        }
        rampart(&args, "")
    };
    let typo = dir.path().join("rampart-dat");
    let out = create(&typo, "ada", false);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("holds no Rampart database") && err.contains("--init"),
        "{err}"
    );
    assert!(!typo.exists(), "nothing was created");

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(!create(&empty, "ada", false).status.success());

    let data = dir.path().join("data");
    let out = create(&data, "ada", true);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = create(&data, "bob", false);
    assert!(
        out.status.success(),
        "an initialised directory needs no --init: {}",
        stderr(&out)
    );
}
