//! Helpers shared by the binary's integration tests.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Runs `rampart` with `args`, feeding `stdin`.
pub(crate) fn rampart(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rampart binary starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("rampart finishes")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Whether a system tool is present. Under CI (`CI` set) a missing tool is a failure, so
/// a broken install step cannot turn the suite green; elsewhere the test is skipped with
/// a printed reason.
pub(crate) fn require_tool(tool: &str, why: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is required in CI ({why}); .ci/run installs it"
        );
        eprintln!("skipping: {tool} not installed ({why})");
    }
    found
}

/// `../shared/testdata` beside the workspace; a clear failure when it is missing.
pub(crate) fn shared_testdata() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    assert!(
        dir.is_dir(),
        "shared test data not found at {} (expected ../shared beside the checkout)",
        dir.display()
    );
    dir
}

/// A real `rampart server` process on a loopback port of the OS's choosing, over
/// HTTPS with the CA it writes into its data directory.
pub(crate) struct ServerProcess {
    pub(crate) child: std::process::Child,
    pub(crate) url: String,
    pub(crate) ca: PathBuf,
    /// Standard output (bootstrap instructions), read to its end by a thread.
    pub(crate) stdout: std::sync::mpsc::Receiver<String>,
    /// Every line logged (standard error) after the start-up line, as written.
    pub(crate) log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Starts the server on `data_dir` (SQLite) with `args` added, and waits until it
    /// logs its URL.
    pub(crate) fn start(data_dir: &std::path::Path, args: &[&str]) -> ServerProcess {
        ServerProcess::start_on(data_dir, "127.0.0.1:0", args)
    }

    /// [`ServerProcess::start`] on a given address (a restart on the same port, which
    /// enrolled agents have saved).
    pub(crate) fn start_on(
        data_dir: &std::path::Path,
        listen: &str,
        args: &[&str],
    ) -> ServerProcess {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(["server", "--listen", listen, "--log", "info", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env_remove("RAMPART_DATABASE")
            .env_remove("RAMPART_MASTER_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start rampart server");
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let _ = tx.send(line);
            }
        });
        let (out_tx, out_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = out_tx.send(line);
            }
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let mut seen = String::new();
        let url = loop {
            let line = rx
                .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
                .unwrap_or_else(|_| panic!("server logs its URL; it said:\n{seen}"));
            if let Some(rest) = line.split("listening on https://").nth(1) {
                // Text or JSON log: the URL ends at a space or a quote.
                let end = rest
                    .find(|c: char| c.is_whitespace() || c == '"')
                    .unwrap_or(rest.len());
                break format!("https://{}", &rest[..end]);
            }
            seen.push_str(&line);
            seen.push('\n');
        };
        // Keep draining the log so the server never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            while let Ok(line) = rx.recv() {
                sink.lock().unwrap().push(line);
            }
        });
        ServerProcess {
            child,
            url,
            ca: data_dir.join("ca.pem"),
            stdout: out_rx,
            log,
        }
    }

    /// Sends `signal` and waits (with a deadline) for the process to end.
    pub(crate) fn stop(mut self, signal: &str) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        wait_with_deadline(&mut self.child, std::time::Duration::from_secs(30))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for `child` to exit, failing the test after `limit`.
pub(crate) fn wait_with_deadline(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "process did not stop");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// One HTTPS request trusting only the CA in `ca`: (status, body).
pub(crate) fn https(
    url: &str,
    ca: &std::path::Path,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let pem = std::fs::read(ca).expect("read CA");
    let cert = Certificate::from_pem(&pem).expect("CA PEM").to_owned();
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::Specific(std::sync::Arc::new(vec![cert])))
        .build();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(120)))
        .build()
        .into();
    let target = format!("{url}{path}");
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let response = match (method, body) {
        ("GET", _) => {
            let mut req = agent.get(&target);
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.call()
        }
        (_, body) => {
            let mut req = agent
                .post(&target)
                .header("Content-Type", "application/json");
            if let Some(a) = &auth {
                req = req.header("Authorization", a);
            }
            req.send(body.unwrap_or(""))
        }
    };
    let mut response = response.unwrap_or_else(|e| panic!("{method} {target}: {e}"));
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, text)
}

/// The `rampart-agent` binary beside `rampart` in the target directory (`cargo test
/// --workspace` builds it; a test of this crate alone needs `cargo build -p
/// rampart-agent` first).
pub(crate) fn agent_bin() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_BIN_EXE_rampart")).with_file_name("rampart-agent");
    assert!(
        path.is_file(),
        "{} not found: build it with `cargo build -p rampart-agent` (cargo test --workspace does)",
        path.display()
    );
    path
}

/// Runs a command, failing the test with its output unless it succeeds; stdout.
pub(crate) fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("command starts");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Parses a command's standard output as JSON, showing it when it is not.
pub(crate) fn json_out(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// Creates user `name` with `role` offline in `data` (`rampart admin create-user`, the
/// password `correct horse battery staple`) and returns an API token for them
/// (`rampart admin create-token`).
pub(crate) fn offline_user_token(data: &std::path::Path, name: &str, role: &str) -> String {
    let pw = data.with_extension("pw");
    std::fs::write(&pw, "correct horse battery staple\n").unwrap();
    let data = data.to_str().unwrap();
    let out = rampart(
        &[
            "admin",
            "create-user",
            "--init",
            name,
            "--role",
            role,
            "--password-file",
            pw.to_str().unwrap(),
            "--data-dir",
            data,
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = rampart(
        &["admin", "create-token", "--user", name, "--data-dir", data],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_owned();
    assert!(token.starts_with("rpt_"), "{token}");
    token
}

/// A real `rampart server` with an admin `ada` created offline and logged in through
/// `rampart login`: what the CLI tests of the remote commands start from.
pub(crate) struct LoggedInAdmin {
    pub(crate) server: ServerProcess,
    xdg: PathBuf,
    _dir: tempfile::TempDir,
}

impl LoggedInAdmin {
    pub(crate) fn start() -> LoggedInAdmin {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "correct horse battery staple\n").unwrap();
        let out = rampart(
            &[
                "admin",
                "create-user",
                "--init",
                "ada",
                "--role",
                "admin",
                "--password-file",
                pw.to_str().unwrap(),
                "--data-dir",
                data.to_str().unwrap(),
            ],
            "",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        // The tests' webhook receivers and SMTP server listen on loopback, which the
        // server refuses to connect to unless its configuration allows it.
        let server = ServerProcess::start(&data, &["--outbound-allow", "127.0.0.0/8,::1"]);
        let admin = LoggedInAdmin {
            server,
            xdg: dir.path().join("xdg"),
            _dir: dir,
        };
        let out = admin.cli(&[
            "login",
            "--server",
            &admin.server.url,
            "--ca-cert",
            admin.server.ca.to_str().unwrap(),
            "--user",
            "ada",
            "--password-file",
            pw.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        admin
    }

    /// Runs the CLI with the saved login only (no `RAMPART_*` from the environment).
    pub(crate) fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_rampart"))
            .args(args)
            .env("XDG_CONFIG_HOME", &self.xdg)
            .env_remove("RAMPART_SERVER")
            .env_remove("RAMPART_TOKEN")
            .env_remove("RAMPART_CA_CERT")
            .output()
            .unwrap()
    }
}
