//! Notifications with real processes: a real `rampart server` (its dispatcher running,
//! channel secrets sealed with the master key in its data directory), the real CLI, and
//! a real HTTP receiver on a loopback port (a std TcpListener thread here) that answers
//! 500 to the first delivery and 200 afterwards.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{LoggedInAdmin, json_out, stderr, stdout};

/// One request the receiver got: its headers (lowercase names) and body.
type Request = (Vec<(String, String)>, Vec<u8>);

/// Serves `POST` requests on 127.0.0.1 until the test ends: 500 first, then 200.
fn receiver() -> (String, Arc<Mutex<Vec<Request>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got: Arc<Mutex<Vec<Request>>> = Arc::default();
    let record = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
                }
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let n = {
                let mut got = record.lock().unwrap();
                got.push((headers, body));
                got.len()
            };
            let status = if n == 1 {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (url, got)
}

#[test]
fn cli_manages_channels_and_the_server_retries_a_failed_webhook() {
    let admin = LoggedInAdmin::start();
    let cli = |args: &[&str]| admin.cli(args);

    let (url, got) = receiver();
    let out = cli(&[
        "notifications",
        "channels",
        "add",
        "hook",
        "--kind",
        "webhook",
        "--url",
        &url,
        "--event",
        "host.stale",
        "-o",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let channel = json_out(&out);
    let secret = stderr(&out)
        .split("shown once; give it to the receiver): ")
        .nth(1)
        .map(|s| s.trim().to_owned())
        .expect("the generated secret is printed once");
    assert_eq!(channel["generated_secret"], secret.as_str());
    let id = channel["id"].as_str().unwrap().to_owned();
    let table = stdout(&cli(&["notifications", "channels", "ls"]));
    assert!(
        table.contains("hook") && table.contains("host.stale"),
        "{table}"
    );
    assert!(!table.contains(&secret));
    // A plain-text SMTP channel to a remote host is refused with the reason.
    let out = cli(&[
        "notifications",
        "channels",
        "add",
        "mail",
        "--kind",
        "email",
        "--smtp-host",
        "smtp.example.com",
        "--security",
        "plain",
        "--from",
        "r@example.com",
        "--to",
        "s@example.com",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("loopback"), "{}", stderr(&out));

    // The test event meets the 500: exit 1, the failure visible in the listing.
    let out = cli(&["notifications", "channels", "test", &id, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let delivery = json_out(&out);
    assert_eq!(delivery["status"], "pending");
    assert_eq!(delivery["last_error"], "HTTP 500");
    let delivery_id = delivery["id"].as_str().unwrap().to_owned();
    let pending = json_out(&cli(&[
        "notifications",
        "deliveries",
        "ls",
        "--status",
        "pending",
        "-o",
        "json",
    ]));
    assert_eq!(pending["total"], 1);
    let csv = stdout(&cli(&["notifications", "deliveries", "ls", "-o", "csv"]));
    assert!(csv.starts_with("id,channel,event,status,attempts"), "{csv}");
    assert!(csv.contains("HTTP 500"), "{csv}");

    // Retry now; the server's own dispatcher sends it at its next round.
    let out = cli(&["notifications", "deliveries", "retry", &delivery_id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = json_out(&cli(&[
            "notifications",
            "deliveries",
            "ls",
            "--status",
            "delivered",
            "-o",
            "json",
        ]));
        if done["total"] == 1 {
            assert_eq!(done["items"][0]["attempts"], 2);
            break;
        }
        assert!(Instant::now() < deadline, "never delivered: {done}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let requests = got.lock().unwrap().clone();
    assert_eq!(requests.len(), 2);
    let (headers, body) = &requests[1];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    assert_eq!(header("x-rampart-event"), "test");
    assert_eq!(header("x-rampart-delivery-id"), delivery_id);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    rampart_notify::signature::verify(
        secret.as_bytes(),
        &header("x-rampart-signature"),
        body,
        now,
        300,
    )
    .expect("the signature verifies with the printed secret");

    // Change requests: none yet, listed in each format.
    let crs = json_out(&cli(&["change-requests", "ls", "-o", "json"]));
    assert_eq!(crs["total"], 0);
    let csv = stdout(&cli(&["change-requests", "ls", "-o", "csv"]));
    assert!(csv.starts_with("id,project,status"), "{csv}");

    assert!(
        cli(&["notifications", "channels", "rm", &id])
            .status
            .success()
    );
    assert_eq!(
        json_out(&cli(&["notifications", "channels", "ls", "-o", "json"]))["total"],
        0
    );
    // Graceful stop with the dispatcher running.
    assert!(admin.server.stop("-TERM").success());
}
