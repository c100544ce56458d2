//! `rampart-agent enroll` and `run --once`, the real binary, against the real-TLS
//! fixture server in `tls_server.rs`: what the agent sends, what it saves, how it spools.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use rampart_pki::EnrollmentToken;

use crate::tls_server::{Fixture, Pki, Received, TlsServer};

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rampart-agent"))
        .args(args)
        .env_remove("RAMPART_ENROLL_TOKEN")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A minimal root to collect from: os-release and a host name, so every run collects
/// the same state quickly.
fn fake_root(dir: &Path) {
    std::fs::create_dir_all(dir.join("etc")).unwrap();
    std::fs::write(
        dir.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("etc/hostname"), "fixture-host\n").unwrap();
}

fn checkins(fixture: &Mutex<Fixture>) -> Vec<rampart_proto::CheckIn> {
    fixture
        .lock()
        .unwrap()
        .received
        .iter()
        .filter_map(|r| match r {
            Received::CheckIn { identity, body } => {
                assert_eq!(identity.as_ref().unwrap().agent_id, "agt_test1");
                Some((**body).clone())
            }
            Received::Enroll(_) => None,
        })
        .collect()
}

#[test]
fn enroll_then_check_in_with_hash_dedup_inventory_wanted_and_spool() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let root = tmp.path().join("root");
    fake_root(&root);
    let (state_s, root_s) = (state.to_str().unwrap(), root.to_str().unwrap());
    let pki = Arc::new(Pki::new());
    let token = EnrollmentToken::generate(&pki.ca.fingerprint()).unwrap();
    let fixture = Arc::new(Mutex::new(Fixture {
        token_hash: token.secret_hash(),
        ..Fixture::default()
    }));
    let server = TlsServer::start("127.0.0.1:0", &pki, &fixture);
    let url = server.url();
    let token_text = token.encode();

    // Enrolment: a signed CSR goes out, the certificate and a 0600 key come back.
    let out = agent(&[
        "enroll",
        "--server",
        &url,
        "--token",
        &token_text,
        "--state-dir",
        state_s,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains(&token_text[70..]),
        "token secret printed"
    );
    {
        let f = fixture.lock().unwrap();
        let Received::Enroll(req) = &f.received[0] else {
            panic!()
        };
        assert!(req.csr_pem.contains("BEGIN CERTIFICATE REQUEST"));
        // The fixture signed it with `sign_agent_csr`, which verifies its signature.
        assert_eq!(req.protocol, rampart_proto::PROTOCOL_VERSION);
    }
    let mode = std::fs::metadata(state.join("key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let cert = std::fs::read_to_string(state.join("cert.pem")).unwrap();
    let der = rustls::pki_types::pem::PemObject::from_pem_slice(cert.as_bytes()).unwrap();
    let der: rustls::pki_types::CertificateDer<'_> = der;
    assert_eq!(
        rampart_pki::agent_identity(&der).unwrap().agent_id,
        "agt_test1"
    );
    assert_eq!(
        std::fs::read_to_string(state.join("ca.pem")).unwrap(),
        pki.ca.cert_pem()
    );
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("agent.json")).unwrap()).unwrap();
    assert_eq!(config["agent_id"], "agt_test1");
    assert_eq!(config["checkin_interval_secs"], 30);

    // A second enrolment is refused locally without --force (exit 2) ...
    let out = agent(&[
        "enroll",
        "--server",
        &url,
        "--token",
        &token_text,
        "--state-dir",
        state_s,
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--force"));
    // ... and with --force the server's refusal is printed, exit 2, state untouched.
    let out = agent(&[
        "enroll",
        "--server",
        &url,
        "--token",
        &token_text,
        "--state-dir",
        state_s,
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("this enrolment token has been used up"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(state.join("cert.pem")).unwrap(),
        cert
    );

    let run_once = || agent(&["run", "--once", "--state-dir", state_s, "--root", root_s]);

    // First check-in carries the inventory.
    let out = run_once();
    assert!(out.status.success(), "{}", text(&out));
    let sent = checkins(&fixture);
    assert_eq!(sent.len(), 1);
    let inventory = sent[0]
        .inventory
        .as_ref()
        .expect("inventory on first check-in");
    assert_eq!(inventory.state.host.hostname, "fixture-host");
    assert_eq!(sent[0].state_hash, inventory.state.content_hash());
    assert!(
        !state.join("spool/inventory.json").exists(),
        "acknowledged, so unspooled"
    );

    // Unchanged state: only the hash.
    let out = run_once();
    assert!(out.status.success(), "{}", text(&out));
    let sent = checkins(&fixture);
    assert_eq!(sent.len(), 2);
    assert!(sent[1].inventory.is_none());
    assert_eq!(sent[1].state_hash, sent[0].state_hash);

    // The server asks for the inventory: the next check-in carries it again.
    fixture.lock().unwrap().want_inventory = true;
    assert!(run_once().status.success());
    assert!(run_once().status.success());
    let sent = checkins(&fixture);
    assert_eq!(sent.len(), 4);
    assert!(sent[2].inventory.is_none());
    assert!(sent[3].inventory.is_some(), "inventory_wanted honoured");

    // The state changes while the server is down: the run fails (exit 1), and the
    // inventory waits in the spool.
    let addr = server.addr;
    drop(server);
    std::fs::write(root.join("etc/hostname"), "renamed-host\n").unwrap();
    let out = run_once();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot reach the server"),
        "{}",
        text(&out)
    );
    let spooled: rampart_proto::Inventory =
        serde_json::from_slice(&std::fs::read(state.join("spool/inventory.json")).unwrap())
            .unwrap();
    assert_eq!(spooled.state.host.hostname, "renamed-host");

    // The server is back on the same address: the spooled inventory arrives first.
    let _server = TlsServer::start(&addr.to_string(), &pki, &fixture);
    let out = run_once();
    assert!(out.status.success(), "{}", text(&out));
    let sent = checkins(&fixture);
    assert_eq!(
        sent.len(),
        5,
        "spooled inventory acknowledged, fresh state unchanged"
    );
    assert_eq!(sent[4].inventory.as_ref(), Some(&spooled));
    assert!(!state.join("spool/inventory.json").exists());
}

#[test]
fn enroll_refuses_a_server_that_is_not_the_pinned_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = Arc::new(Pki::new());
    let other = rampart_pki::CertificateAuthority::generate("other").unwrap();
    let token = EnrollmentToken::generate(&other.fingerprint()).unwrap();
    let fixture = Arc::new(Mutex::new(Fixture::default()));
    let server = TlsServer::start("127.0.0.1:0", &pki, &fixture);
    let state = tmp.path().join("state");
    let out = agent(&[
        "enroll",
        "--server",
        &server.url(),
        "--token",
        &token.encode(),
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out)
            .contains("server certificate does not match the pinned CA fingerprint in the token"),
        "{}",
        text(&out)
    );
    assert!(
        fixture.lock().unwrap().received.is_empty(),
        "nothing sent to an unpinned server"
    );
    assert!(!state.join("agent.json").exists());

    let out = agent(&[
        "enroll",
        "--server",
        &server.url(),
        "--token",
        "rpe1_nope",
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = agent(&["run", "--once", "--state-dir", state.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("rampart-agent enroll"),
        "{}",
        text(&out)
    );
}

/// `run` without `--once` keeps checking in and stops cleanly, exit 0, on SIGTERM.
#[test]
fn run_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let root = tmp.path().join("root");
    fake_root(&root);
    let pki = Arc::new(Pki::new());
    let token = EnrollmentToken::generate(&pki.ca.fingerprint()).unwrap();
    let fixture = Arc::new(Mutex::new(Fixture {
        token_hash: token.secret_hash(),
        ..Fixture::default()
    }));
    let server = TlsServer::start("127.0.0.1:0", &pki, &fixture);
    let state_s = state.to_str().unwrap();
    let out = agent(&[
        "enroll",
        "--server",
        &server.url(),
        "--token",
        &token.encode(),
        "--state-dir",
        state_s,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart-agent"))
        .args([
            "run",
            "--state-dir",
            state_s,
            "--root",
            root.to_str().unwrap(),
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while checkins(&fixture).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no check-in arrived");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "agent ignored SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(exit.success(), "{exit:?}");
    assert_eq!(
        checkins(&fixture).len(),
        1,
        "one check-in, then a 30 s sleep"
    );
}

/// The agent is killed with SIGKILL while its upload is in flight (the server has the
/// request but never answered): nothing was acknowledged, so the next run sends the
/// same inventory again from its spool, and the run after that only the hash.
#[test]
fn an_agent_killed_mid_upload_resends_its_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let root = tmp.path().join("root");
    fake_root(&root);
    let pki = Arc::new(Pki::new());
    let token = EnrollmentToken::generate(&pki.ca.fingerprint()).unwrap();
    let fixture = Arc::new(Mutex::new(Fixture {
        token_hash: token.secret_hash(),
        ..Fixture::default()
    }));
    let server = TlsServer::start("127.0.0.1:0", &pki, &fixture);
    let state_s = state.to_str().unwrap();
    let root_s = root.to_str().unwrap();
    let out = agent(&[
        "enroll",
        "--server",
        &server.url(),
        "--token",
        &token.encode(),
        "--state-dir",
        state_s,
    ]);
    assert!(out.status.success(), "{}", text(&out));

    fixture.lock().unwrap().hold_checkins = true;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart-agent"))
        .args(["run", "--once", "--state-dir", state_s, "--root", root_s])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while checkins(&fixture).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never arrived"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    fixture.lock().unwrap().hold_checkins = false;
    let first = checkins(&fixture).remove(0);
    assert!(
        first.inventory.is_some(),
        "the interrupted upload carried the inventory"
    );
    assert_eq!(
        fixture.lock().unwrap().stored_hash,
        None,
        "nothing was stored"
    );

    let out = agent(&["run", "--once", "--state-dir", state_s, "--root", root_s]);
    assert!(out.status.success(), "{}", text(&out));
    let sent = checkins(&fixture);
    assert_eq!(sent.len(), 2);
    assert!(sent[1].inventory.is_some(), "the inventory is sent again");
    assert_eq!(sent[1].state_hash, first.state_hash);
    assert_eq!(
        fixture.lock().unwrap().stored_hash.as_deref(),
        Some(first.state_hash.as_str())
    );

    let out = agent(&["run", "--once", "--state-dir", state_s, "--root", root_s]);
    assert!(out.status.success(), "{}", text(&out));
    let sent = checkins(&fixture);
    assert_eq!(sent.len(), 3);
    assert!(
        sent[2].inventory.is_none(),
        "acknowledged: only the hash now"
    );
}
