//! Mail against a real SMTP server: Debian's aiosmtpd (`test_data/smtp_server.py`, run
//! with /usr/bin/python3) requiring STARTTLS with a certificate from a Rampart CA and
//! AUTH after it. What the server received is read back with Python's MIME parser.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rampart_notify::email::{self, EmailConfig, SmtpSecurity};
use rampart_notify::event::{ReportReady, TestEvent};
use rampart_notify::{Attachment, Event, Payload, SendError};

const USER: &str = "rampart";
const PASSWORD: &str = "s3cret-smtp-password";

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
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/smtp_server.py");
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

fn report_event() -> (Event, Vec<u8>) {
    let pdf: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    let mut event = Event::new(
        Payload::ReportReady(ReportReady {
            report: "compliance".into(),
            title: "Weekly compliance, project web".into(),
            project_id: Some("p1".into()),
            summary: "Hosts: 12\nNon-compliant: 3\nCritical findings: 1\n".into(),
            url: None,
        }),
        vec!["p1".into()],
        1_750_000_000_000,
    );
    event.attachments = vec![
        Attachment {
            filename: "compliance.pdf".into(),
            content_type: "application/pdf".into(),
            content: pdf.clone(),
        },
        Attachment {
            filename: "compliance.csv".into(),
            content_type: "text/csv".into(),
            content: b"host,state\r\nweb-1,compliant\r\n=cmd,x\r\n".to_vec(),
        },
    ];
    (event, pdf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_auth_body_and_attachments_arrive() {
    let Some(server) = start_smtp() else { return };
    let (event, pdf) = report_event();
    email::send(&server.config(), Some(PASSWORD), &event)
        .await
        .expect("send");
    let m = server.message(1);
    assert_eq!(m["tls"], true, "STARTTLS was used");
    assert_eq!(m["auth_user"], USER);
    assert_eq!(m["mail_from"], "rampart@example.test");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["sec@example.test", "ops@example.test"])
    );
    assert_eq!(
        m["subject"],
        "[Rampart] Report ready: Weekly compliance, project web"
    );
    let text = m["text"].as_str().unwrap();
    assert!(text.contains("Non-compliant: 3"), "{text}");
    assert!(text.contains(&event.id), "{text}");
    let atts = m["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["filename"], "compliance.pdf");
    assert_eq!(atts[0]["content_type"], "application/pdf");
    assert_eq!(
        std::fs::read(PathBuf::from(atts[0]["path"].as_str().unwrap())).unwrap(),
        pdf
    );
    assert_eq!(atts[1]["filename"], "compliance.csv");
    assert_eq!(
        std::fs::read(PathBuf::from(atts[1]["path"].as_str().unwrap())).unwrap(),
        event.attachments[1].content
    );
}

fn test_event() -> Event {
    Event::new(
        Payload::Test(TestEvent {
            channel: "mail".into(),
            requested_by: "alice".into(),
        }),
        vec![],
        1_750_000_000_000,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_classified_and_nothing_is_delivered() {
    let Some(server) = start_smtp() else { return };

    // Wrong password: the server answers 535, a permanent refusal.
    let err = email::send(&server.config(), Some("wrong"), &test_event())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Smtp {
                permanent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.failure().retryable);

    // No CA configured: the private certificate does not verify; no clear-text fallback.
    let mut untrusted = server.config();
    untrusted.ca_pem = None;
    let err = email::send(&untrusted, Some(PASSWORD), &test_event())
        .await
        .unwrap_err();
    assert!(err.failure().retryable, "{err:?}");

    // Plain to a server that insists on STARTTLS: refused before any credential is sent.
    let mut plain = server.config();
    plain.security = SmtpSecurity::Plain;
    let err = email::send(&plain, Some(PASSWORD), &test_event())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Smtp { .. }), "{err:?}");

    // Implicit TLS against a STARTTLS port fails the handshake.
    let mut implicit = server.config();
    implicit.security = SmtpSecurity::Tls;
    email::send(&implicit, Some(PASSWORD), &test_event())
        .await
        .unwrap_err();

    assert_eq!(server.count(), 0, "nothing was accepted");

    // And the right settings still work on the same server.
    email::send(&server.config(), Some(PASSWORD), &test_event())
        .await
        .expect("send");
    assert_eq!(
        server.message(1)["subject"],
        "[Rampart] Test notification for channel mail"
    );
}
