//! Webhooks over real TLS: a receiver on a loopback port (std TcpListener + rustls, its
//! certificate from a fresh Rampart CA) reads one request and answers. The channel's
//! `ca_pem` makes the client trust that CA; without it the public roots refuse
//! it.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use rampart_core::egress::EgressPolicy;
use rampart_notify::event::TestEvent;
use rampart_notify::webhook::{self, WebhookConfig, WebhookRequest};
use rampart_notify::{Event, Payload, SendError, signature};

/// What the receiver read: header lines (lowercase names) and the body.
type Seen = (Vec<(String, String)>, Vec<u8>);

/// Serves `answers.len()` TLS connections, one request each, answering in order.
fn tls_receiver(answers: Vec<&'static str>) -> (u16, String, std::thread::JoinHandle<Vec<Seen>>) {
    let ca = rampart_pki::CertificateAuthority::generate("webhook test CA").unwrap();
    let cert = rampart_pki::issue_server_cert(
        &ca,
        &[],
        &[],
        rampart_pki::Validity::starting_now(Duration::from_secs(3600)),
    )
    .unwrap();
    let config: Arc<rustls::ServerConfig> =
        rampart_pki::server_config(&cert.cert_pem, &cert.key_pem, ca.cert_pem()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for answer in answers {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut reader = BufReader::new(&mut tls);
            let mut line = String::new();
            // A client that refused our certificate closes during the handshake.
            if reader.read_line(&mut line).is_err() || line.is_empty() {
                continue;
            }
            let mut headers = Vec::new();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                let (k, v) = line.trim_end().split_once(':').unwrap();
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            seen.push((headers, body));
            write!(
                tls,
                "HTTP/1.1 {answer}\r\nContent-Type: application/json\r\nContent-Length: 24\r\nConnection: close\r\n\r\n{{\"external_ref\":\"OPS-1\"}}"
            )
            .unwrap();
            tls.flush().unwrap();
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
        seen
    });
    (port, ca.cert_pem().to_owned(), handle)
}

fn event() -> Event {
    Event::new(
        Payload::Test(TestEvent {
            channel: "tls".into(),
            requested_by: "alice".into(),
        }),
        vec![],
        1_750_000_000_000,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_webhook_trusts_the_channel_ca_and_signs_the_body() {
    let (port, ca_pem, receiver) = tls_receiver(vec!["200 OK", "201 Created", "503 Unavailable"]);
    let mut config = WebhookConfig {
        url: format!("https://localhost:{port}/hooks/rampart"),
        ca_pem: None,
        ticketing: true,
        timeout_secs: 10,
    };
    let e = event();
    let body = e.wire_body();
    let request = |attempt| WebhookRequest {
        event_id: &e.id,
        event_kind: "test",
        delivery_id: "d1",
        attempt,
        timestamp: 1_750_000_000,
        body: &body,
    };

    // The public roots do not know a private CA: refused at the handshake, retryable.
    let err = webhook::send(&config, Some(b"s3cret"), request(1), &EgressPolicy::any())
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Transport(_)), "{err:?}");
    assert!(err.failure().retryable);

    // With the channel's CA: delivered, the answer's ticket reference readable.
    config.ca_pem = Some(ca_pem);
    let ok = webhook::send(&config, Some(b"s3cret"), request(2), &EgressPolicy::any())
        .await
        .unwrap();
    assert_eq!(ok.status, 201);
    assert_eq!(ok.external_ref().as_deref(), Some("OPS-1"));

    // The server's default egress policy refuses the loopback receiver, whatever the
    // URL spells: nothing is sent, and retrying cannot help.
    let err = webhook::send(
        &config,
        Some(b"s3cret"),
        request(3),
        &EgressPolicy::public_only(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, SendError::Config(_)), "{err:?}");
    assert!(err.to_string().contains("internal address"), "{err}");

    // A 503 is a retryable status error.
    let err = webhook::send(&config, Some(b"s3cret"), request(3), &EgressPolicy::any())
        .await
        .unwrap_err();
    assert!(
        matches!(err, SendError::Status { status: 503, .. }),
        "{err:?}"
    );
    assert!(err.failure().retryable);

    let seen = receiver.join().unwrap();
    assert_eq!(seen.len(), 2, "the refused handshake carried no request");
    let (headers, got) = &seen[0];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    };
    assert_eq!(got, &body);
    assert_eq!(header("x-rampart-delivery-attempt"), "2");
    assert_eq!(header("x-rampart-event-id"), e.id);
    assert_eq!(
        signature::verify(
            b"s3cret",
            header("x-rampart-signature"),
            got,
            1_750_000_100,
            300
        ),
        Ok(1_750_000_000)
    );
}
