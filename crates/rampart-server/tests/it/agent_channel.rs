//! The agent channel over real TLS: the app served by `listener::serve_tls` on a
//! loopback port with a real CA, driven by the real agent library (`rampart_agent`'s
//! `enroll` and `Agent::check_in`, the code the agent binary runs) and by a small raw
//! rustls client for what a well-behaved agent never sends. Real TLS because the client
//! certificate only exists after a handshake: in-process `oneshot` calls cannot prove
//! that a certificate from another CA is refused, or that the verified one reaches the
//! handler. Each case runs on SQLite and on PostgreSQL.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::http::StatusCode;
use rampart_core::authz::Role;
use rampart_pki::{CertificateAuthority, EnrollmentToken, Validity};
use rampart_proto::{CheckIn, Inventory, PROTOCOL_VERSION};
use rampart_server::{AppState, ServerConfig};
use rampart_store::{NewEnrolmentToken, Page, Store};
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::support::{Auth, each_backend};

/// A served app with its CA; the server stops when this is dropped.
struct Served {
    addr: SocketAddr,
    ca: Arc<CertificateAuthority>,
    state: AppState,
    store: Store,
    _stop: oneshot::Sender<()>,
    dir: tempfile::TempDir,
}

async fn serve(store: Store, config: ServerConfig) -> Served {
    let ca = Arc::new(CertificateAuthority::generate("test CA").unwrap());
    let (state, _) = AppState::with_ca(
        store.clone(),
        config,
        rampart_server::system_clock(),
        ca.clone(),
    )
    .await
    .unwrap();
    let issued = rampart_pki::issue_server_cert(
        &ca,
        &[],
        &[],
        Validity::starting_now(std::time::Duration::from_secs(3600)),
    )
    .unwrap();
    let tls = rampart_pki::server_config(&issued.cert_pem, &issued.key_pem, ca.cert_pem()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let app = rampart_server::app(state.clone());
    tokio::spawn(rampart_server::listener::serve_tls(
        listener,
        tls,
        app,
        async {
            let _ = stopped.await;
        },
    ));
    Served {
        addr,
        ca,
        state,
        store,
        _stop: stop,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Served {
    fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    /// A fresh pki token stored with these limits.
    async fn token(&self, expires_in_ms: i64, max_uses: i64) -> (String, String) {
        let token = EnrollmentToken::generate(&self.ca.fingerprint()).unwrap();
        let labels = [("env".to_owned(), "test".to_owned())].into();
        let row = self
            .store
            .create_enrolment_token(
                NewEnrolmentToken {
                    token_hash: &token.secret_hash(),
                    project_id: None,
                    labels: &labels,
                    expires_at: self.state.now() + expires_in_ms,
                    max_uses,
                },
                self.state.now(),
            )
            .await
            .unwrap();
        (token.encode(), row.id)
    }

    /// A fake Debian root with two packages, under this server's temp dir.
    fn root(&self, name: &str) -> PathBuf {
        let root = self.dir.path().join(name);
        write(&root, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n");
        write(&root, "etc/hostname", &format!("{name}\n"));
        write(
            &root,
            "var/lib/dpkg/status",
            "Package: openssl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u1\n\n\
             Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n",
        );
        root
    }

    /// Enrols the real agent library against this server: (state dir, result).
    async fn enroll(
        &self,
        name: &str,
        token: &str,
    ) -> (PathBuf, Result<rampart_agent::state::AgentConfig, String>) {
        let (state_dir, result) = self.enroll_full(name, token).await;
        (state_dir, result.map(|e| e.config))
    }

    /// [`Served::enroll`] with the whole answer (`reenrolled` too).
    async fn enroll_full(
        &self,
        name: &str,
        token: &str,
    ) -> (PathBuf, Result<rampart_agent::enroll::Enrolled, String>) {
        let state_dir = self.dir.path().join(format!("{name}-state"));
        let root = self.root(name);
        let (url, token, sd) = (self.url(), token.to_owned(), state_dir.clone());
        let result = tokio::task::spawn_blocking(move || {
            rampart_agent::enroll::enroll(&rampart_agent::enroll::Options {
                server_url: &url,
                token: &token,
                state_dir: &sd,
                force: false,
                root: &root,
            })
            .map_err(|e| e.to_string())
        })
        .await
        .unwrap();
        (state_dir, result)
    }

    async fn check_in(&self, name: &str) -> Result<rampart_agent::run::Outcome, String> {
        let state_dir = self.dir.path().join(format!("{name}-state"));
        let root = self.dir.path().join(name);
        tokio::task::spawn_blocking(move || {
            rampart_agent::run::Agent::open(&state_dir, &root)
                .and_then(|a| a.check_in())
                .map_err(|e| e.to_string())
        })
        .await
        .unwrap()
    }

    /// An mTLS client configuration from an enrolled agent's state directory.
    fn agent_tls(&self, state_dir: &Path) -> Arc<rustls::ClientConfig> {
        let read = |f: &str| std::fs::read_to_string(state_dir.join(f)).unwrap();
        rampart_pki::agent_client_config(&read("ca.pem"), &read("cert.pem"), &read("key.pem"))
            .unwrap()
    }

    /// One raw HTTPS POST; `Err` when TLS refuses the connection.
    async fn post(
        &self,
        tls: Arc<rustls::ClientConfig>,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(u16, Value), String> {
        let addr = self.addr;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || raw_post(addr, tls, &path, &body))
            .await
            .unwrap()
    }

    /// [`Served::post`] with another Content-Type.
    async fn post_as(
        &self,
        tls: Arc<rustls::ClientConfig>,
        path: &str,
        body: Vec<u8>,
        content_type: &'static str,
    ) -> Result<(u16, Value), String> {
        let addr = self.addr;
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || raw_post_as(addr, tls, &path, &body, content_type))
            .await
            .unwrap()
    }

    async fn host_of(&self, agent_id: &str) -> rampart_store::Host {
        let agent = self
            .store
            .agent_by_serial(&self.serial_of(agent_id).await)
            .await
            .unwrap();
        self.store.get_host(&agent.host_id).await.unwrap()
    }

    async fn serial_of(&self, agent_id: &str) -> String {
        let hosts = self
            .store
            .list_hosts(
                &Default::default(),
                Page {
                    limit: 100,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        for h in hosts.items {
            for a in self.store.host_agents(&h.id).await.unwrap() {
                if a.id == agent_id {
                    return a.cert_serial;
                }
            }
        }
        panic!("no agent {agent_id}");
    }
}

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn raw_post(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    path: &str,
    body: &[u8],
) -> Result<(u16, Value), String> {
    raw_post_as(addr, tls, path, body, "application/json")
}

fn raw_post_as(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    path: &str,
    body: &[u8],
    content_type: &str,
) -> Result<(u16, Value), String> {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(tls, name).map_err(|e| e.to_string())?;
    let tcp = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let mut s = rustls::StreamOwned::new(conn, tcp);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
    // The server may answer (413) before reading all of the body and close; keep what
    // it said. Read without rustls's `complete_io`, which would first try to write the
    // unsent rest of the body into the closed connection.
    let _ = s.write_all(body);
    let _ = s.flush();
    let mut reply = Vec::new();
    let mut failure = None;
    loop {
        match s.conn.read_tls(&mut s.sock) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        }
        if let Err(e) = s.conn.process_new_packets() {
            failure = Some(e.to_string());
            break;
        }
        let _ = s.conn.reader().read_to_end(&mut reply);
    }
    if reply.is_empty() {
        return Err(failure.unwrap_or_else(|| "connection closed without an answer".into()));
    }
    let text = String::from_utf8_lossy(&reply);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no HTTP answer: {text:?}"))?;
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    Ok((status, body))
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn checkin_body(inventory: Option<&Inventory>, state_hash: &str) -> Vec<u8> {
    serde_json::to_vec(&CheckIn {
        protocol: PROTOCOL_VERSION,
        agent_version: "test".into(),
        state_hash: state_hash.into(),
        inventory: inventory.cloned(),
    })
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_the_api_enrols_the_real_agent_which_checks_in() {
    each_backend(|store| async move {
        let s = serve(store, ServerConfig::default()).await;
        // The token an operator gets from the API is usable by the agent as is.
        let t = crate::support::TestApp::wrap(s.state.clone(), s.store.clone());
        let admin = Auth::Bearer(t.user_token("ada", Role::Admin).await);
        let created = t
            .call(
                axum::http::Method::POST,
                "/api/v1/enrollment-tokens",
                &admin,
                Some(json!({"labels": {"env": "prod"}})),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let token = created.body["token"].as_str().unwrap().to_owned();
        assert!(token.starts_with(&format!("rpe1_{}_", s.ca.fingerprint())));

        let (state_dir, enrolled) = s.enroll("web1", &token).await;
        let config = enrolled.expect("enrolment succeeds");
        // The certificate is signed by our CA for the agent id.
        let cert = std::fs::read_to_string(state_dir.join("cert.pem")).unwrap();
        let der = rustls::pki_types::pem::PemObject::from_pem_slice(cert.as_bytes())
            .map(|d: rustls::pki_types::CertificateDer<'_>| d.to_vec())
            .unwrap();
        assert_eq!(
            rampart_pki::agent_identity(&der).unwrap().agent_id,
            config.agent_id
        );
        let host = s.host_of(&config.agent_id).await;
        assert_eq!(host.hostname, "web1");
        assert_eq!(host.labels.get("env").map(String::as_str), Some("prod"));
        assert_eq!(host.state_hash, None);

        let outcome = s.check_in("web1").await.expect("check-in");
        assert_eq!(outcome.inventories_sent, 1);
        let host = s.host_of(&config.agent_id).await;
        assert_eq!(
            host.state_hash.as_deref(),
            Some(outcome.state_hash.as_str())
        );
        assert_eq!(host.ecosystem.as_deref(), Some("Debian:12"));
        assert_eq!(s.store.host_packages(&host.id).await.unwrap().len(), 2);
        // Unchanged: the next check-in sends no inventory and is acknowledged.
        let again = s.check_in("web1").await.expect("second check-in");
        assert_eq!(again.inventories_sent, 0);
        assert_eq!(again.next.as_secs(), 60);

        // The one-use token is spent: a second enrolment names why.
        let (_, second) = s.enroll("web2", &token).await;
        let err = second.expect_err("used-up token refused");
        assert!(err.contains("enrollment_token_used_up"), "{err}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_tokens_are_refused_with_their_reason() {
    each_backend(|store| async move {
        let s = serve(store, ServerConfig::default()).await;
        let (expired, _) = s.token(-1000, 1).await;
        let (revoked, id) = s.token(3_600_000, 5).await;
        s.store
            .revoke_enrolment_token(&id, s.state.now())
            .await
            .unwrap();
        let unknown = EnrollmentToken::generate(&s.ca.fingerprint())
            .unwrap()
            .encode();
        for (token, status, code) in [
            (expired, "401", "enrollment_token_expired"),
            (revoked, "403", "enrollment_token_revoked"),
            (unknown, "401", "enrollment_token_invalid"),
        ] {
            let (dir, result) = s.enroll("h", &token).await;
            let err = result.expect_err("refused");
            assert!(err.contains(code) && err.contains(status), "{code}: {err}");
            assert!(!dir.join("agent.json").exists(), "nothing saved");
        }
        let hosts = s
            .store
            .list_hosts(
                &Default::default(),
                Page {
                    limit: 10,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        assert_eq!(hosts.total, 0, "no host created by a refused enrolment");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkin_needs_a_valid_unrevoked_agent_certificate() {
    each_backend(|store| async move {
        let s = serve(store, ServerConfig::default()).await;
        let (token, _) = s.token(3_600_000, 1).await;
        let (state_dir, enrolled) = s.enroll("db1", &token).await;
        let config = enrolled.unwrap();
        let body = checkin_body(None, "x");

        // No client certificate: 401.
        let anonymous = rampart_pki::pinned_bootstrap_config(&s.ca.fingerprint()).unwrap();
        let (status, reply) = s
            .post(anonymous, "/agent/v1/checkin", body.clone())
            .await
            .unwrap();
        assert_eq!(status, 401, "{reply}");
        assert_eq!(code(&reply), "unauthenticated");

        // A certificate from another CA: the handshake itself fails.
        let other = CertificateAuthority::generate("other CA").unwrap();
        let key = rampart_pki::AgentKey::generate().unwrap();
        let forged = rampart_pki::sign_agent_csr(
            &other,
            &key.csr_pem("db1").unwrap(),
            &config.agent_id,
            Validity::starting_now(std::time::Duration::from_secs(3600)),
        )
        .unwrap();
        let tls =
            rampart_pki::agent_client_config(s.ca.cert_pem(), &forged.cert_pem, &key.key_pem())
                .unwrap();
        let refused = s.post(tls, "/agent/v1/checkin", body.clone()).await;
        assert!(refused.is_err(), "TLS must refuse another CA: {refused:?}");

        // The real agent works, until an operator revokes it through the API: then 403
        // agent_revoked. An auditor may list the host's agents but not revoke them.
        s.check_in("db1").await.expect("check-in");
        let t = crate::support::TestApp::wrap(s.state.clone(), s.store.clone());
        let operator = Auth::Bearer(t.user_token("olga", Role::Operator).await);
        let auditor = Auth::Bearer(t.user_token("audrey", Role::Auditor).await);
        let host = s.host_of(&config.agent_id).await;
        let listed = t
            .call(
                axum::http::Method::GET,
                &format!("/api/v1/hosts/{}/agents", host.id),
                &auditor,
                None,
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
        assert_eq!(listed.body["total"], 1);
        assert_eq!(listed.body["items"][0]["id"], config.agent_id.as_str());
        assert_eq!(
            listed.body["items"][0]["revoked_at"],
            serde_json::Value::Null
        );
        let revoke = format!(
            "/api/v1/hosts/{}/agents/{}/revoke",
            host.id, config.agent_id
        );
        let denied = t
            .call(axum::http::Method::POST, &revoke, &auditor, None)
            .await;
        assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.text);
        let missing = t
            .call(
                axum::http::Method::POST,
                &format!("/api/v1/hosts/{}/agents/nope/revoke", host.id),
                &operator,
                None,
            )
            .await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.text);
        let revoked = t
            .call(axum::http::Method::POST, &revoke, &operator, None)
            .await;
        assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
        assert!(revoked.body["revoked_at"].is_i64(), "{}", revoked.text);
        let err = s.check_in("db1").await.expect_err("revoked");
        assert!(
            err.contains("403") && err.contains("agent_revoked"),
            "{err}"
        );
        let (status, reply) = s
            .post(s.agent_tls(&state_dir), "/agent/v1/checkin", body)
            .await
            .unwrap();
        assert_eq!((status, code(&reply)), (403, "agent_revoked"), "{reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("enrol")
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_store_nothing_and_resends_store_once() {
    each_backend(|store| async move {
        let config = ServerConfig {
            max_checkin_bytes: 64 * 1024,
            ..ServerConfig::default()
        };
        let s = serve(store, config).await;
        let (token, _) = s.token(3_600_000, 1).await;
        let (state_dir, enrolled) = s.enroll("app1", &token).await;
        let agent_id = enrolled.unwrap().agent_id;
        let tls = s.agent_tls(&state_dir);
        let before = s.host_of(&agent_id).await;

        let mut inventory = rampart_agent::collect::collect(&s.dir.path().join("app1"), 0).unwrap();
        let hash = inventory.state.content_hash();

        // Oversized: 413 naming the limit, nothing stored.
        let mut big = inventory.clone();
        big.state.problems = (0..900)
            .map(|i| rampart_proto::CollectorProblem {
                collector: "padding".into(),
                message: format!("{i:0>60}"),
            })
            .collect();
        let big_hash = big.state.content_hash();
        let (status, reply) = s
            .post(
                tls.clone(),
                "/agent/v1/checkin",
                checkin_body(Some(&big), &big_hash),
            )
            .await
            .unwrap();
        assert_eq!(
            (status, code(&reply)),
            (413, "payload_too_large"),
            "{reply}"
        );
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("65536")
        );

        // Malformed JSON and a hash that does not match: 400 with the reason.
        let (status, reply) = s
            .post(
                tls.clone(),
                "/agent/v1/checkin",
                b"{\"protocol\": 1, ".to_vec(),
            )
            .await
            .unwrap();
        assert_eq!((status, code(&reply)), (400, "bad_request"), "{reply}");
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("malformed")
        );
        let (status, reply) = s
            .post(
                tls.clone(),
                "/agent/v1/checkin",
                checkin_body(Some(&inventory), "not-the-hash"),
            )
            .await
            .unwrap();
        assert_eq!(status, 400, "{reply}");

        let after = s.host_of(&agent_id).await;
        assert_eq!(after.state_hash, None, "nothing stored");
        assert_eq!(after.last_seen, before.last_seen, "not even the check-in");
        let history = s
            .store
            .inventory_history(
                &after.id,
                Page {
                    limit: 10,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        assert_eq!(history.total, 0);

        // A clock far off on the agent does not move the server's timestamps; the same
        // inventory sent twice is one history row.
        inventory.observed_at = 4_102_444_800; // 2100-01-01
        let t0 = s.state.now();
        for observed_at in [4_102_444_800, 0] {
            inventory.observed_at = observed_at;
            let (status, reply) = s
                .post(
                    tls.clone(),
                    "/agent/v1/checkin",
                    checkin_body(Some(&inventory), &hash),
                )
                .await
                .unwrap();
            assert_eq!(status, 200, "{reply}");
            assert_eq!(reply["acknowledged_hash"], json!(hash));
            assert_eq!(reply["inventory_wanted"], json!(false));
        }
        let t1 = s.state.now();
        let host = s.host_of(&agent_id).await;
        for (what, t) in [
            ("last_seen", Some(host.last_seen)),
            ("last_inventory_at", host.last_inventory_at),
            ("last_updated_at", host.last_updated_at),
        ] {
            let t = t.unwrap_or_else(|| panic!("{what} set"));
            assert!(
                (t0..=t1).contains(&t),
                "{what} {t} comes from the server clock [{t0}, {t1}]"
            );
        }
        let history = s
            .store
            .inventory_history(
                &host.id,
                Page {
                    limit: 10,
                    offset: 0,
                },
            )
            .await
            .unwrap();
        assert_eq!(history.total, 1, "a resent inventory is stored once");
        assert!((t0..=t1).contains(&history.items[0].received_at));

        // A different hash without an inventory: the server asks for it.
        let (status, reply) = s
            .post(
                tls,
                "/agent/v1/checkin",
                checkin_body(None, "something-else"),
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(reply["inventory_wanted"], json!(true));
        assert_eq!(reply["acknowledged_hash"], json!(hash));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_handshake_does_not_stop_the_server() {
    each_backend(|store| async move {
        let s = serve(store, ServerConfig::default()).await;
        // Garbage instead of a ClientHello, then a connection that says nothing.
        let addr = s.addr;
        tokio::task::spawn_blocking(move || {
            let mut tcp = std::net::TcpStream::connect(addr).unwrap();
            let _ = tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            let mut sink = Vec::new();
            let _ = tcp.read_to_end(&mut sink);
            drop(std::net::TcpStream::connect(addr).unwrap());
        })
        .await
        .unwrap();
        let (token, _) = s.token(3_600_000, 1).await;
        let (_, enrolled) = s.enroll("after", &token).await;
        enrolled.expect("still serving");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_identity_becomes_labels_without_overriding_the_operators() {
    each_backend(|store| async move {
        let s = serve(store, ServerConfig::default()).await;
        let (token, _) = s.token(3_600_000, 1).await;
        let (state_dir, enrolled) = s.enroll("vm1", &token).await;
        let agent_id = enrolled.unwrap().agent_id;
        let host = s.host_of(&agent_id).await;
        // The operator already placed it in a region of their own naming.
        let mut labels = host.labels.clone();
        labels.insert("region".into(), "eu-central".into());
        s.store.set_host_labels(&host.id, &labels).await.unwrap();

        let mut inventory = rampart_agent::collect::collect(&s.dir.path().join("vm1"), 0).unwrap();
        inventory.state.host.cloud = Some(rampart_proto::CloudIdentity {
            provider: "aws".into(),
            account: Some("123456789012".into()),
            region: Some("eu-central-1".into()),
            ..rampart_proto::CloudIdentity::default()
        });
        let hash = inventory.state.content_hash();
        let (status, reply) = s
            .post(
                s.agent_tls(&state_dir),
                "/agent/v1/checkin",
                checkin_body(Some(&inventory), &hash),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{reply}");
        // The agent's claim lands under `agent.`, marked as what the host asserts; the
        // operator's `region` stays, and no unprefixed key is invented.
        let labels = s.host_of(&agent_id).await.labels;
        assert_eq!(
            labels.get("agent.provider").map(String::as_str),
            Some("aws")
        );
        assert_eq!(
            labels.get("agent.account").map(String::as_str),
            Some("123456789012")
        );
        assert_eq!(
            labels.get("agent.region").map(String::as_str),
            Some("eu-central-1")
        );
        assert_eq!(labels.get("region").map(String::as_str), Some("eu-central"));
        assert_eq!(labels.get("provider"), None);

        // A value that is no plain identifier is ignored.
        inventory.state.host.cloud = Some(rampart_proto::CloudIdentity {
            provider: "aws".into(),
            account: Some("evil\naccount with spaces".into()),
            region: Some("us-east-1".into()),
            ..rampart_proto::CloudIdentity::default()
        });
        let hash = inventory.state.content_hash();
        let (status, reply) = s
            .post(
                s.agent_tls(&state_dir),
                "/agent/v1/checkin",
                checkin_body(Some(&inventory), &hash),
            )
            .await
            .unwrap();
        assert_eq!(status, 200, "{reply}");
        let labels = s.host_of(&agent_id).await.labels;
        assert_eq!(
            labels.get("agent.account").map(String::as_str),
            Some("123456789012")
        );
        assert_eq!(
            labels.get("agent.region").map(String::as_str),
            Some("us-east-1")
        );
    })
    .await;
}

/// What an agent sends is checked before anything is stored: protocol, media type,
/// host name, package count and duplicate entries; and inventories are rate-limited per
/// agent (the review grew the database by 45 MB per 200,000-package inventory, and
/// stored 884 packages sent twice as 1,768).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkins_are_validated_capped_and_rate_limited() {
    each_backend(|store| async move {
        let config = ServerConfig {
            max_inventory_packages: 40,
            inventory_interval: std::time::Duration::from_secs(3600),
            ..ServerConfig::default()
        };
        let s = serve(store, config).await;
        let (token, _) = s.token(3_600_000, 1).await;
        let (state_dir, enrolled) = s.enroll("vm1", &token).await;
        enrolled.unwrap();
        let tls = s.agent_tls(&state_dir);
        let base = rampart_agent::collect::collect(&s.dir.path().join("vm1"), 0).unwrap();
        let with_packages = |n: usize, dup: bool, hostname: &str| {
            let mut inv = base.clone();
            inv.state.host.hostname = hostname.into();
            inv.state.packages = (0..n)
                .map(|i| rampart_core::package::Package {
                    name: format!("pkg{i}"),
                    version: "1.0-1".into(),
                    arch: Some("amd64".into()),
                    source_name: None,
                    source_version: None,
                    format: rampart_core::package::PackageFormat::Deb,
                })
                .collect();
            if dup {
                let again = inv.state.packages.clone();
                inv.state.packages.extend(again);
            }
            let hash = inv.state.content_hash();
            checkin_body(Some(&inv), &hash)
        };
        let send = |body: Vec<u8>| s.post(tls.clone(), "/agent/v1/checkin", body);

        let (status, reply) = send(with_packages(10, true, "vm1")).await.unwrap();
        assert_eq!(status, 400, "{reply}");
        assert!(
            reply
                .to_string()
                .contains("10 package entries are listed more than once"),
            "{reply}"
        );

        let (status, reply) = send(with_packages(41, false, "vm1")).await.unwrap();
        assert_eq!(status, 413, "{reply}");
        assert_eq!(reply["error"]["code"], "inventory_too_large", "{reply}");

        let (status, reply) = send(with_packages(3, false, "vm1\0evil")).await.unwrap();
        assert_eq!(status, 400, "{reply}");
        assert!(reply.to_string().contains("control characters"), "{reply}");

        let mut wrong = serde_json::from_slice::<Value>(&checkin_body(None, "x")).unwrap();
        wrong["protocol"] = 99.into();
        let (status, reply) = send(wrong.to_string().into_bytes()).await.unwrap();
        assert_eq!(status, 400, "{reply}");
        assert!(
            reply.to_string().contains("unsupported agent protocol 99"),
            "{reply}"
        );

        let (status, reply) = s
            .post_as(
                tls.clone(),
                "/agent/v1/checkin",
                checkin_body(None, "x"),
                "text/plain",
            )
            .await
            .unwrap();
        assert_eq!(status, 415, "{reply}");

        // None of that was stored or counted: five inventories in a burst pass, the
        // sixth is refused until the interval has passed.
        for i in 0..5 {
            let (status, reply) = send(with_packages(5 + i, false, "vm1")).await.unwrap();
            assert_eq!(status, 200, "{i}: {reply}");
        }
        let (status, reply) = send(with_packages(20, false, "vm1")).await.unwrap();
        assert_eq!(status, 429, "{reply}");
        assert_eq!(reply["error"]["code"], "inventory_rate_limited", "{reply}");
        // A check-in without an inventory still goes through.
        let (status, reply) = send(checkin_body(None, "whatever")).await.unwrap();
        assert_eq!(status, 200, "{reply}");
        // Only the current package set is kept.
        assert_eq!(s.store.package_set_stats().await.unwrap().0, 1);
    })
    .await;
}

/// A machine is one host: the same machine enrolled again (re-installed, or another
/// state directory) joins its existing host, whose earlier agent is revoked, and the
/// answer says so; a machine with another id is another host (issue 11, point 3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_enrolling_a_machine_keeps_one_host() {
    each_backend(|store| async move {
        let s = serve(store, ServerConfig::default()).await;
        let enrol = async |name: &str, machine_id: &str| {
            write(&s.root(name), "etc/machine-id", &format!("{machine_id}\n"));
            let (token, _) = s.token(3_600_000, 1).await;
            let enrolled = s.enroll_full(name, &token).await.1.unwrap();
            (s.host_of(&enrolled.config.agent_id).await, enrolled)
        };
        let (first_host, first) = enrol("vm", "0123456789abcdef0123456789abcdef").await;
        assert!(!first.reenrolled);
        s.check_in("vm").await.unwrap();

        let (again_host, again) = enrol("vm-reinstalled", "0123456789abcdef0123456789abcdef").await;
        assert!(again.reenrolled, "the answer says so");
        assert_eq!(again_host.id, first_host.id, "one host");
        assert_eq!(again_host.hostname, "vm-reinstalled");
        assert_eq!(
            again_host.labels.get("env").map(String::as_str),
            Some("test")
        );
        let hosts = s
            .store
            .list_hosts(&Default::default(), Default::default())
            .await
            .unwrap();
        assert_eq!(hosts.total, 1, "re-enrolment made no second host");
        // The old agent is refused from now on; the new one checks in.
        let old = s.check_in("vm").await.unwrap_err();
        assert!(old.contains("revoked"), "{old}");
        s.check_in("vm-reinstalled").await.unwrap();

        let (other_host, other) = enrol("db", "fedcba9876543210fedcba9876543210").await;
        assert!(!other.reenrolled);
        assert_ne!(other_host.id, first_host.id);
    })
    .await;
}
