//! A real SMTP server for tests: Debian's aiosmtpd (`test_data/smtp_server.py`, run with
//! /usr/bin/python3) requiring STARTTLS with a certificate from a fresh Rampart CA and
//! AUTH after it; what it accepted is read back through Python's MIME parser. Shared
//! with rampart-server's tests through `#[path]`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart_notify::email::{EmailConfig, SmtpSecurity};

pub(crate) const USER: &str = "rampart";
pub(crate) const PASSWORD: &str = "s3cret-smtp-password";

/// The running aiosmtpd; stopped (stdin closed, then killed) on drop.
pub(crate) struct SmtpServer {
    child: Child,
    pub(crate) port: u16,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) ca_pem: String,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Python with Debian's aiosmtpd, or `None` (skip, with the reason printed) outside CI.
fn python() -> Option<&'static str> {
    let ok = Command::new("/usr/bin/python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some("/usr/bin/python3");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs /usr/bin/python3 with python3-aiosmtpd"
    );
    eprintln!(
        "skipping: /usr/bin/python3 -c 'import aiosmtpd' failed (apt-get install python3-aiosmtpd)"
    );
    None
}

/// Starts aiosmtpd with STARTTLS and AUTH required, its certificate issued by a fresh
/// Rampart CA for 127.0.0.1.
pub(crate) fn start_smtp() -> Option<SmtpServer> {
    let python = python()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = rampart_pki::CertificateAuthority::generate("smtp test CA").expect("CA");
    let cert = rampart_pki::issue_server_cert(
        &ca,
        &[],
        &[],
        rampart_pki::Validity::starting_now(Duration::from_secs(3600)),
    )
    .expect("server cert");
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, &cert.cert_pem).unwrap();
    std::fs::write(&key_path, &cert.key_pem).unwrap();
    let mail_dir = dir.path().join("mail");
    std::fs::create_dir(&mail_dir).unwrap();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart-notify/test_data/smtp_server.py");
    let mut child = Command::new(python)
        .arg(script)
        .args(["--cert", cert_path.to_str().unwrap()])
        .args(["--key", key_path.to_str().unwrap()])
        .args(["--dir", mail_dir.to_str().unwrap()])
        .args(["--user", USER, "--password", PASSWORD])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start aiosmtpd");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the port");
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("aiosmtpd did not start: {line:?}"));
    // Keep stdin open: the script exits when it closes.
    child.stdin.as_mut().unwrap().flush().unwrap();
    Some(SmtpServer {
        child,
        port,
        dir,
        ca_pem: ca.cert_pem().to_owned(),
    })
}

impl SmtpServer {
    pub(crate) fn config(&self) -> EmailConfig {
        EmailConfig {
            host: "127.0.0.1".into(),
            port: Some(self.port),
            security: SmtpSecurity::Starttls,
            username: Some(USER.into()),
            from: "Rampart <rampart@example.test>".into(),
            to: vec!["sec@example.test".into(), "ops@example.test".into()],
            ca_pem: Some(self.ca_pem.clone()),
            hello_name: None,
            timeout_secs: 10,
        }
    }

    /// The metadata of message `n` (1-based), waiting for it with a deadline.
    pub(crate) fn message(&self, n: usize) -> serde_json::Value {
        let path = self.dir.path().join(format!("mail/{n}.json"));
        let eml = self.dir.path().join(format!("mail/{n}.eml"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !eml.exists() {
            assert!(Instant::now() < deadline, "message {n} never arrived");
            std::thread::sleep(Duration::from_millis(20));
        }
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    pub(crate) fn count(&self) -> usize {
        std::fs::read_dir(self.dir.path().join("mail"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml"))
            })
            .count()
    }
}
