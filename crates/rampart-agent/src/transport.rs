//! The agent's HTTPS client: POST a JSON body, read a JSON answer, over rustls with a
//! configuration from `rampart_pki` (the pinned bootstrap one for enrolment, the mTLS
//! one afterwards).
//!
//! Why not ureq: ureq 3's `TlsConfig` takes root certificates and a client certificate
//! but not a rustls `ClientConfig` or a custom certificate verifier, so the CA-pinning
//! verifier could only be plugged in through ureq's `unversioned` transport API, which
//! may change in any minor release. The protocol is two POST endpoints, so a minimal
//! HTTP/1.1 client (one request per connection, `Content-Length` or chunked answers,
//! bounded sizes and deadlines) is smaller than that glue and keeps the agent lean.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use rampart_proto::ErrorBody;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Largest response the agent reads; check-in answers are small.
const MAX_RESPONSE_BYTES: usize = 4 * 1024 * 1024;
const MAX_HEAD_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid server URL {url:?}: {reason}")]
    Url { url: String, reason: &'static str },
    /// No TCP connection, or it broke before an answer arrived: worth retrying later.
    #[error("cannot reach the server at {addr}: {source}")]
    Unreachable {
        addr: String,
        #[source]
        source: io::Error,
    },
    /// The server's chain lacks the CA the enrolment token pins.
    #[error("server certificate does not match the pinned CA fingerprint in the token")]
    PinMismatch,
    /// Any other TLS failure: untrusted or expired certificate, refused client
    /// certificate, protocol mismatch.
    #[error("TLS with the server failed: {0}")]
    Tls(#[source] rustls::Error),
    /// The server answered with an error status; `code` and `message` come from its
    /// `ErrorBody` (or describe the status when the body is not one).
    #[error("the server refused the request (HTTP {status}, {code}): {message}")]
    Http {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer is not HTTP/1.1 with the JSON we expect.
    #[error("invalid answer from the server: {0}")]
    Protocol(String),
}

impl Error {
    /// Whether retrying later may help without anyone changing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unreachable { .. } => true,
            Error::Http { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

/// `https://host[:port][/base]`, split once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl {
    /// Host without brackets, as TLS names it (a DNS name or an IP address).
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash (`""` for none).
    pub base_path: String,
    /// `host[:port]` as written, for the `Host` header.
    pub authority: String,
}

impl ServerUrl {
    pub fn parse(url: &str) -> Result<ServerUrl, Error> {
        let bad = |reason| Error::Url {
            url: url.to_owned(),
            reason,
        };
        let rest = url
            .get(..8)
            .filter(|s| s.eq_ignore_ascii_case("https://"))
            .map(|_| &url[8..])
            .ok_or_else(|| bad("only https:// URLs are supported"))?;
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if authority.is_empty() || authority.contains('@') {
            return Err(bad("no host"));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
            match after {
                "" => (host, None),
                p => (
                    host,
                    Some(p.strip_prefix(':').ok_or_else(|| bad("bad port"))?),
                ),
            }
        } else {
            match authority.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        let port = match port {
            None => 443,
            Some(p) => p.parse().map_err(|_| bad("bad port"))?,
        };
        if host.is_empty() || path.contains(['?', '#']) {
            return Err(bad("no host, or a query or fragment"));
        }
        Ok(ServerUrl {
            host: host.to_owned(),
            port,
            base_path: path.trim_end_matches('/').to_owned(),
            authority: authority.to_owned(),
        })
    }
}

/// One server, one TLS configuration.
#[derive(Clone, Debug)]
pub struct Client {
    url: ServerUrl,
    tls: Arc<ClientConfig>,
    timeout: Duration,
}

impl Client {
    pub fn new(url: &str, tls: Arc<ClientConfig>) -> Result<Client, Error> {
        Ok(Client {
            url: ServerUrl::parse(url)?,
            tls,
            timeout: Duration::from_secs(30),
        })
    }

    /// POSTs `body` as JSON to `path` (below the URL's base path) and decodes a 2xx
    /// answer as `R`.
    pub fn post_json<Q: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &Q,
    ) -> Result<R, Error> {
        let body = serde_json::to_vec(body).expect("wire types always encode");
        let (status, answer) = self.post(path, &body)?;
        if !(200..300).contains(&status) {
            return Err(http_error(status, &answer));
        }
        serde_json::from_slice(&answer).map_err(|e| {
            Error::Protocol(format!("HTTP {status} body is not the expected JSON: {e}"))
        })
    }

    fn post(&self, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), Error> {
        let addr = format!("{}:{}", self.url.host, self.url.port);
        let unreachable = |source| Error::Unreachable {
            addr: addr.clone(),
            source,
        };
        let sock = connect(&self.url.host, self.url.port, self.timeout).map_err(unreachable)?;
        sock.set_read_timeout(Some(self.timeout))
            .and_then(|()| sock.set_write_timeout(Some(self.timeout)))
            .map_err(unreachable)?;
        let name = ServerName::try_from(self.url.host.clone()).map_err(|_| Error::Url {
            url: self.url.authority.clone(),
            reason: "host is not a valid DNS name or IP address",
        })?;
        let conn = ClientConnection::new(self.tls.clone(), name).map_err(Error::Tls)?;
        let mut tls = StreamOwned::new(conn, sock);
        let classify = |e: io::Error| match tls_error(&e) {
            Some(t) if rampart_pki::is_pin_mismatch(&t) => Error::PinMismatch,
            Some(t) => Error::Tls(t),
            None => unreachable(e),
        };
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock).map_err(classify)?;
        }
        let head = format!(
            "POST {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rampart-agent/{}\r\n\
             Content-Type: application/json\r\nAccept: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.url.base_path,
            self.url.authority,
            env!("CARGO_PKG_VERSION"),
            body.len()
        );
        tls.write_all(head.as_bytes()).map_err(classify)?;
        tls.write_all(body).map_err(classify)?;
        tls.flush().map_err(classify)?;
        read_response(&mut tls).map_err(|e| match e {
            ReadError::Io(e) => classify(e),
            ReadError::Protocol(m) => Error::Protocol(m),
        })
    }
}

fn connect(host: &str, port: u16, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name resolves to nothing");
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn tls_error(e: &io::Error) -> Option<rustls::Error> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .cloned()
}

fn http_error(status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => Error::Http {
            status,
            code: b.error.code,
            message: b.error.message,
        },
        Err(_) => Error::Http {
            status,
            code: format!("http_{status}"),
            message: "the server gave no error details".into(),
        },
    }
}

#[derive(Debug)]
pub(crate) enum ReadError {
    Io(io::Error),
    Protocol(String),
}

/// Reads one HTTP/1.x response: status and body (by `Content-Length`, chunked, or up
/// to the end of the connection). A peer that closes without TLS close_notify after a
/// complete body is tolerated.
pub(crate) fn read_response(stream: &mut impl Read) -> Result<(u16, Vec<u8>), ReadError> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut eof = false;
    loop {
        if let Some(done) = try_parse(&buf, eof)? {
            return Ok(done);
        }
        if eof {
            return Err(ReadError::Protocol(
                "the connection closed mid-answer".into(),
            ));
        }
        match stream.read(&mut chunk) {
            Ok(0) => eof = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => eof = true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
        if buf.len() > MAX_RESPONSE_BYTES + MAX_HEAD_BYTES {
            return Err(ReadError::Protocol("answer too large".into()));
        }
    }
}

/// `Some` once `buf` holds a complete response.
fn try_parse(buf: &[u8], eof: bool) -> Result<Option<(u16, Vec<u8>)>, ReadError> {
    let bad = |m: &str| ReadError::Protocol(m.to_owned());
    let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buf.len() > MAX_HEAD_BYTES {
            return Err(bad("header too large"));
        }
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..head_end]).map_err(|_| bad("header is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad("not an HTTP/1.x answer"));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status code"))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| bad("bad Content-Length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let body = &buf[head_end + 4..];
    if chunked {
        return Ok(decode_chunked(body)?.map(|b| (status, b)));
    }
    match length {
        Some(n) if n > MAX_RESPONSE_BYTES => Err(bad("answer too large")),
        Some(n) if body.len() >= n => Ok(Some((status, body[..n].to_vec()))),
        Some(_) => Ok(None),
        None if eof => Ok(Some((status, body.to_vec()))),
        None => Ok(None),
    }
}

/// Decodes a chunked body; `None` while the final chunk has not arrived.
fn decode_chunked(mut rest: &[u8]) -> Result<Option<Vec<u8>>, ReadError> {
    let bad = |m: &str| ReadError::Protocol(m.to_owned());
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(&rest[..eol]).map_err(|_| bad("bad chunk size"))?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
        if size > MAX_RESPONSE_BYTES || out.len() + size > MAX_RESPONSE_BYTES {
            return Err(bad("answer too large"));
        }
        rest = &rest[eol + 2..];
        if size == 0 {
            // Trailers, if any, end with an empty line; we need none of them.
            return Ok(rest.windows(2).any(|w| w == b"\r\n").then_some(out));
        }
        if rest.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&rest[..size]);
        if &rest[size..size + 2] != b"\r\n" {
            return Err(bad("chunk not followed by CRLF"));
        }
        rest = &rest[size + 2..];
    }
}

#[cfg(test)]
mod tests;
