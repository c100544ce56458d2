//! Test fixture: a real HTTPS server (rustls with `rampart_pki::server_config`, std
//! threads) that implements `/agent/v1/enroll` and `/agent/v1/checkin` just enough to
//! record what the agent sends. It is not the Rampart server; it stands in for it so the
//! agent's real TLS, pinning and mTLS paths run end to end.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use rampart_pki::{
    AgentIdentity, CertificateAuthority, EnrollmentToken, Validity, agent_identity,
    issue_server_cert, server_config, sign_agent_csr,
};
use rampart_proto::{
    CheckIn, CheckInResponse, EnrollRequest, EnrollResponse, ErrorBody, ErrorDetail,
    PROTOCOL_VERSION,
};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// What the fixture was sent.
#[derive(Clone, Debug)]
pub(crate) enum Received {
    Enroll(EnrollRequest),
    CheckIn {
        identity: Option<AgentIdentity>,
        body: Box<CheckIn>,
    },
}

/// The fixture's state; tests read and steer it between agent runs.
#[derive(Debug, Default)]
pub(crate) struct Fixture {
    pub(crate) received: Vec<Received>,
    /// Hash of the token secret the fixture accepts (what a real server stores).
    pub(crate) token_hash: String,
    /// Answer the next enrolment with 403 `token_used_up`.
    pub(crate) token_used: bool,
    /// Answer the next check-in with `inventory_wanted`.
    pub(crate) want_inventory: bool,
    /// The state hash of the last inventory received.
    pub(crate) stored_hash: Option<String>,
    /// Record check-ins but never answer them, holding the connection open until this
    /// is cleared (an upload the agent is killed in the middle of).
    pub(crate) hold_checkins: bool,
}

pub(crate) struct Pki {
    pub(crate) ca: CertificateAuthority,
    pub(crate) config: Arc<ServerConfig>,
}

impl Pki {
    pub(crate) fn new() -> Pki {
        let ca = CertificateAuthority::generate("fixture CA").unwrap();
        let validity = Validity::from(SystemTime::now(), Duration::from_secs(3600));
        let cert = issue_server_cert(&ca, &[], &[], validity).unwrap();
        let config = server_config(&cert.cert_pem, &cert.key_pem, ca.cert_pem()).unwrap();
        Pki { ca, config }
    }
}

pub(crate) struct TlsServer {
    pub(crate) addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TlsServer {
    /// Listens on `addr` (port 0 for any) until dropped.
    pub(crate) fn start(addr: &str, pki: &Arc<Pki>, fixture: &Arc<Mutex<Fixture>>) -> TlsServer {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (pki, fixture, stopping) = (pki.clone(), fixture.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(stream) = stream {
                    // Failed handshakes are part of some tests; the agent reports them.
                    let _ = serve(stream, &pki, &fixture);
                }
            }
        });
        TlsServer {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, pki: &Pki, fixture: &Mutex<Fixture>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = ServerConnection::new(pki.config.clone()).unwrap();
    let mut tls = StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    let identity = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|der| agent_identity(der).unwrap());
    let (path, body) = read_request(&mut tls)?;
    if path == "/agent/v1/checkin" && fixture.lock().unwrap().hold_checkins {
        if let Ok(request) = serde_json::from_slice::<CheckIn>(&body) {
            fixture.lock().unwrap().received.push(Received::CheckIn {
                identity,
                body: Box::new(request),
            });
        }
        while fixture.lock().unwrap().hold_checkins {
            std::thread::sleep(Duration::from_millis(20));
        }
        return Ok(());
    }
    let (status, answer) = handle(&path, &body, identity, pki, fixture);
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    tls.write_all(head.as_bytes())?;
    tls.write_all(&answer)?;
    tls.flush()?;
    tls.conn.send_close_notify();
    tls.conn.complete_io(&mut tls.sock)?;
    Ok(())
}

fn read_request(tls: &mut impl Read) -> std::io::Result<(String, Vec<u8>)> {
    let mut reader = BufReader::new(tls);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split(' ').nth(1).unwrap_or_default().to_owned();
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok((path, body))
}

fn error(status: u16, code: &str, message: &str) -> (u16, Vec<u8>) {
    let body = ErrorBody {
        error: ErrorDetail {
            code: code.into(),
            message: message.into(),
        },
    };
    (status, serde_json::to_vec(&body).unwrap())
}

fn handle(
    path: &str,
    body: &[u8],
    identity: Option<AgentIdentity>,
    pki: &Pki,
    fixture: &Mutex<Fixture>,
) -> (u16, Vec<u8>) {
    let mut f = fixture.lock().unwrap();
    match path {
        "/agent/v1/enroll" => {
            let request: EnrollRequest = serde_json::from_slice(body).unwrap();
            f.received.push(Received::Enroll(request.clone()));
            let token = EnrollmentToken::parse(&request.token).unwrap();
            if token.secret_hash() != f.token_hash {
                return error(401, "token_invalid", "unknown enrolment token");
            }
            if f.token_used {
                return error(
                    403,
                    "token_used_up",
                    "this enrolment token has been used up; create a new one",
                );
            }
            f.token_used = true;
            let validity = Validity::from(SystemTime::now(), Duration::from_secs(3600));
            let cert = match sign_agent_csr(&pki.ca, &request.csr_pem, "agt_test1", validity) {
                Ok(c) => c,
                Err(e) => return error(400, "csr_invalid", &e.to_string()),
            };
            let answer = EnrollResponse {
                reenrolled: false,
                protocol: PROTOCOL_VERSION,
                agent_id: "agt_test1".into(),
                certificate_pem: cert.cert_pem,
                ca_pem: pki.ca.cert_pem().to_owned(),
                checkin_interval_secs: 30,
            };
            (200, serde_json::to_vec(&answer).unwrap())
        }
        "/agent/v1/checkin" => {
            if identity.is_none() {
                return error(
                    401,
                    "client_certificate_required",
                    "present the agent certificate",
                );
            }
            let request: CheckIn = serde_json::from_slice(body).unwrap();
            f.received.push(Received::CheckIn {
                identity,
                body: Box::new(request.clone()),
            });
            if let Some(inv) = &request.inventory {
                f.stored_hash = Some(inv.state.content_hash());
            }
            let acknowledged_hash = f.stored_hash.clone().filter(|h| *h == request.state_hash);
            let answer = CheckInResponse {
                protocol: PROTOCOL_VERSION,
                acknowledged_hash,
                inventory_wanted: std::mem::take(&mut f.want_inventory),
                next_checkin_secs: 30,
            };
            (200, serde_json::to_vec(&answer).unwrap())
        }
        _ => error(404, "not_found", "no such endpoint"),
    }
}
