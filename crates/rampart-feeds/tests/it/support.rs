//! Shared helpers: the shared test data, generated records, zips, and a real HTTP server
//! on 127.0.0.1.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Cursor, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rampart_feeds::{FeedLoad, LoadOptions};
use zip::write::SimpleFileOptions;

/// A file under the workspace's shared test data, which must be there.
pub(crate) fn testdata(rel: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    assert!(
        root.is_dir(),
        "shared test data not found at {} (the checkout expects `shared/` beside the repository)",
        root.display()
    );
    let path = root.join(rel);
    assert!(path.exists(), "missing test data file {}", path.display());
    path
}

pub(crate) fn load(source: impl AsRef<Path>) -> FeedLoad {
    let source = source.as_ref().to_str().expect("UTF-8 path");
    rampart_feeds::load(source, &LoadOptions::default()).unwrap_or_else(|e| panic!("{source}: {e}"))
}

/// A small valid Debian record.
pub(crate) fn debian_record(id: &str, package: &str, fixed: &str) -> String {
    format!(
        r#"{{"id":"{id}","summary":"{package} update","aliases":["CVE-{id}"],"modified":"2024-01-01T00:00:00Z",
        "affected":[{{"package":{{"ecosystem":"Debian:12","name":"{package}"}},
        "ranges":[{{"type":"ECOSYSTEM","events":[{{"introduced":"0"}},{{"fixed":"{fixed}"}}]}}]}}]}}"#
    )
}

/// A zip with `entries` (name, content) plus a folder entry, deflated as the OSV
/// project's are.
pub(crate) fn zip_bytes(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.add_directory("nested/", options).unwrap();
    for (name, content) in entries {
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A request as the server saw it.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) path: String,
    /// Header names lower-cased.
    pub(crate) headers: HashMap<String, String>,
}

/// A real HTTP/1.1 server on 127.0.0.1 answering from a fixed table, with ETag
/// validation, recording every request. Stopped on drop.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// One route: body, ETag and extra headers.
pub(crate) struct Route {
    pub(crate) body: Vec<u8>,
    pub(crate) etag: Option<String>,
    pub(crate) status: u16,
}

impl Server {
    pub(crate) fn start(routes: HashMap<String, Route>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (requests.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        serve(stream, &routes, &requests);
                    }
                }
            })
        };
        Server {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, routes: &HashMap<String, Route>, requests: &Mutex<Vec<Request>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut out = stream;
    let response = match routes.get(&path) {
        Some(route)
            if route.etag.is_some() && headers.get("if-none-match") == route.etag.as_ref() =>
        {
            format!(
                "HTTP/1.1 304 Not Modified\r\nETag: {}\r\nConnection: close\r\n\r\n",
                route.etag.as_ref().unwrap()
            )
            .into_bytes()
        }
        Some(route) => {
            let mut head = format!(
                "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
                route.status,
                route.body.len()
            );
            if let Some(etag) = &route.etag {
                head.push_str(&format!(
                    "ETag: {etag}\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
                ));
            }
            head.push_str("\r\n");
            let mut bytes = head.into_bytes();
            bytes.extend_from_slice(&route.body);
            bytes
        }
        None => {
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
        }
    };
    requests.lock().unwrap().push(Request { path, headers });
    let _ = out.write_all(&response);
    let _ = out.flush();
}
