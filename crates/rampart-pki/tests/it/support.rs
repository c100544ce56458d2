//! The test fixture: a one-thread rustls server that completes handshakes, reports what
//! it saw of each client, and answers `ping` with `pong`.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, SystemTime};

use rampart_pki::{
    AgentIdentity, AgentKey, CertificateAuthority, IssuedCertificate, Validity, agent_identity,
    issue_server_cert, sign_agent_csr,
};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, ServerConfig, ServerConnection, StreamOwned};

/// What the server saw of one connection: the agent identity of the client certificate
/// (`None` without one), or the handshake error.
pub(crate) type Seen = Result<Option<AgentIdentity>, rustls::Error>;

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) seen: Receiver<Seen>,
}

impl Server {
    pub(crate) fn start(config: Arc<ServerConfig>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, seen) = channel();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let result = serve(stream, config.clone());
                if tx.send(result).is_err() {
                    return;
                }
            }
        });
        Server { addr, seen }
    }

    /// The next connection's outcome, waiting at most ten seconds.
    pub(crate) fn next(&self) -> Seen {
        self.seen
            .recv_timeout(Duration::from_secs(10))
            .expect("the server saw no connection")
    }
}

fn serve(stream: TcpStream, config: Arc<ServerConfig>) -> Seen {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let conn = ServerConnection::new(config).unwrap();
    let mut tls = StreamOwned::new(conn, stream);
    while tls.conn.is_handshaking() {
        if let Err(e) = tls.conn.complete_io(&mut tls.sock) {
            return Err(rustls_error(&e).unwrap_or_else(|| rustls::Error::General(e.to_string())));
        }
    }
    let identity = tls
        .conn
        .peer_certificates()
        .and_then(|c| c.first())
        .map(|der| agent_identity(der).expect("a verified client certificate names an agent"));
    let mut line = String::new();
    let mut reader = BufReader::new(&mut tls);
    if let Err(e) = reader.read_line(&mut line) {
        return Err(rustls_error(&e).unwrap_or_else(|| rustls::Error::General(e.to_string())));
    }
    let _ = tls.write_all(b"pong\n");
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock);
    Ok(identity)
}

pub(crate) fn rustls_error(e: &std::io::Error) -> Option<rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned()
}

/// Connects, sends `ping`, expects `pong`. Returns the client-side error, if any.
pub(crate) fn ping(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    name: &str,
) -> Result<(), std::io::Error> {
    let name = ServerName::try_from(name.to_owned()).unwrap();
    let conn = ClientConnection::new(config, name).unwrap();
    let sock = TcpStream::connect(addr)?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut tls = StreamOwned::new(conn, sock);
    tls.write_all(b"ping\n")?;
    tls.flush()?;
    let mut line = String::new();
    BufReader::new(&mut tls).read_line(&mut line)?;
    assert_eq!(line, "pong\n");
    Ok(())
}

pub(crate) fn validity() -> Validity {
    Validity::from(SystemTime::now(), Duration::from_secs(86_400))
}

/// A CA and a server certificate for `localhost` issued by it.
pub(crate) fn ca_and_server() -> (CertificateAuthority, IssuedCertificate) {
    let ca = CertificateAuthority::generate("Rampart test CA").unwrap();
    let server = issue_server_cert(&ca, &[], &[], validity()).unwrap();
    (ca, server)
}

/// An agent key and a certificate for it signed by `ca`: (cert PEM, key PEM).
pub(crate) fn agent(ca: &CertificateAuthority, id: &str) -> (String, String) {
    let key = AgentKey::generate().unwrap();
    let cert = sign_agent_csr(ca, &key.csr_pem("host").unwrap(), id, validity()).unwrap();
    (cert.cert_pem, key.key_pem())
}
