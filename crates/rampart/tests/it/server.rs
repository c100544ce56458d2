//! `rampart admin` and `rampart server` as real processes: the admin CLI writes a user
//! and a token into a data directory, the server started on it accepts the token, and
//! SIGTERM stops it cleanly. Starts the real binary on a loopback port of the OS's
//! choosing, because graceful shutdown and the printed bootstrap secret only exist there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::rampart;

fn http_get(addr: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read reply");
    let status = reply
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

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

    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args([
            "server",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data,
            "--log",
            "info",
        ])
        .env_remove("RAMPART_DATABASE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start rampart server");
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("server logs its address");
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };

    let (status, _) = http_get(&addr, "/healthz", None);
    assert_eq!(status, 200);
    let (status, body) = http_get(&addr, "/api/v1/session", Some(&token));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"olga\""), "{body}");
    let (status, body) = http_get(&addr, "/api/v1/hosts", None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("\"code\":\"unauthenticated\""), "{body}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    // Users exist, so no bootstrap secret was printed.
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
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
