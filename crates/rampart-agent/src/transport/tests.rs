use super::*;

#[test]
fn parses_server_urls() {
    let check = |url: &str, host: &str, port: u16, base: &str| {
        let u = ServerUrl::parse(url).unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.base_path.as_str()),
            (host, port, base),
            "{url}"
        );
    };
    check(
        "https://rampart.example.com",
        "rampart.example.com",
        443,
        "",
    );
    check("HTTPS://r.example:8443/", "r.example", 8443, "");
    check("https://10.0.0.1:9/rampart/", "10.0.0.1", 9, "/rampart");
    check("https://[::1]:8443", "::1", 8443, "");
    check("https://[::1]", "::1", 443, "");
    for bad in [
        "http://x",
        "x",
        "https://",
        "https://h:port",
        "https://u@h",
        "https://h/?q",
        "https://[::1",
    ] {
        assert!(ServerUrl::parse(bad).is_err(), "{bad}");
    }
}

fn read(bytes: &[u8]) -> Result<(u16, Vec<u8>), ReadError> {
    read_response(&mut &bytes[..])
}

#[test]
fn reads_content_length_chunked_and_until_close() {
    let (s, b) = read(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}extra").unwrap();
    assert_eq!((s, b.as_slice()), (200, &b"{}"[..]));
    let (s, b) = read(
        b"HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
    )
    .unwrap();
    assert_eq!((s, b.as_slice()), (401, &b"abcde"[..]));
    let (s, b) = read(b"HTTP/1.0 500 Oops\r\n\r\nbody").unwrap();
    assert_eq!((s, b.as_slice()), (500, &b"body"[..]));
}

#[test]
fn refuses_truncated_and_garbled_answers() {
    for bytes in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
        b"",
    ] {
        assert!(
            matches!(read(bytes), Err(ReadError::Protocol(_))),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn error_bodies_become_typed_errors() {
    let body =
        br#"{"error":{"code":"token_expired","message":"the token expired; ask for a new one"}}"#;
    match http_error(401, body) {
        Error::Http {
            status,
            code,
            message,
        } => {
            assert_eq!((status, code.as_str()), (401, "token_expired"));
            assert!(message.contains("expired"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(http_error(502, b"<html>"), Error::Http { status: 502, ref code, .. } if code == "http_502")
    );
    assert!(http_error(503, b"").is_transient());
    assert!(!http_error(401, b"").is_transient());
}
