//! The CLI's side of the REST API: where the server is, how to authenticate, and one
//! small blocking HTTPS client.
//!
//! The server, token and CA certificate come from flags, then `RAMPART_SERVER`,
//! `RAMPART_TOKEN`, `RAMPART_CA_CERT`, then what `rampart login` saved in
//! `$XDG_CONFIG_HOME/rampart/credentials.json` (mode 0600). The CA certificate is the
//! only root trusted, so a private Rampart CA works without touching the system store.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// Flags shared by every command that talks to a server.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct ConnectArgs {
    /// Server URL (https://host:port); defaults to what `rampart login` saved.
    #[arg(long, env = "RAMPART_SERVER", global = true, value_name = "URL")]
    pub(crate) server: Option<String>,
    /// API token; defaults to what `rampart login` saved.
    #[arg(long, env = "RAMPART_TOKEN", global = true, hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// CA certificate (PEM) the server's certificate must chain to; the server writes
    /// its own to DATA_DIR/ca.pem.
    #[arg(long, env = "RAMPART_CA_CERT", global = true, value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
}

/// What `rampart login` keeps between commands.
#[derive(Serialize, Deserialize, Default, Debug)]
pub(crate) struct Credentials {
    pub(crate) server: String,
    pub(crate) token: String,
    /// The CA certificate itself, so the saved login keeps working if the file moves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ca_pem: Option<String>,
}

pub(crate) fn credentials_path() -> PathBuf {
    std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(std::env::temp_dir)
        .join("rampart")
        .join("credentials.json")
}

impl Credentials {
    fn load() -> anyhow::Result<Option<Credentials>> {
        let path = credentials_path();
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!("{} is not valid; run `rampart login` again", path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the file readable by its owner only: it holds a bearer token.
    pub(crate) fn save(&self) -> anyhow::Result<PathBuf> {
        let path = credentials_path();
        let dir = path.parent().expect("credentials path has a parent");
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let tmp = dir.join(".credentials.json.tmp");
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        file.write_all(&serde_json::to_vec_pretty(self)?)?;
        file.sync_all()?;
        fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

/// An authenticated connection to one server.
pub(crate) struct Client {
    base: String,
    token: Option<String>,
    agent: ureq::Agent,
}

/// A failed call, with the server's stable error code when it sent one.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct ApiFailure {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) message: String,
}

impl Client {
    /// From flags, environment and the saved login, in that order.
    pub(crate) fn connect(args: &ConnectArgs) -> anyhow::Result<Client> {
        let saved = Credentials::load()?;
        let server = args
            .server
            .clone()
            .or_else(|| saved.as_ref().map(|c| c.server.clone()))
            .context("no server: pass --server URL, set RAMPART_SERVER, or run `rampart login`")?;
        let token = args
            .token
            .clone()
            .or_else(|| saved.as_ref().map(|c| c.token.clone()));
        let ca_pem = match &args.ca_cert {
            Some(path) => Some(read_ca(path)?),
            None => saved.and_then(|c| c.ca_pem),
        };
        Client::new(&server, token, ca_pem.as_deref())
    }

    pub(crate) fn new(
        server: &str,
        token: Option<String>,
        ca_pem: Option<&str>,
    ) -> anyhow::Result<Client> {
        let base = server.trim_end_matches('/').to_owned();
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            bail!(
                "server URL {server:?} must start with https:// (or http:// for a plain-HTTP test server)"
            );
        }
        let mut tls = TlsConfig::builder();
        if let Some(pem) = ca_pem {
            let cert = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| anyhow::anyhow!("the CA certificate is not a PEM certificate: {e}"))?;
            tls = tls.root_certs(RootCerts::Specific(Arc::new(vec![cert])));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .tls_config(tls.build())
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(300)))
            .build()
            .into();
        Ok(Client { base, token, agent })
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        let mut req = self.agent.get(&format!("{}{path}", self.base));
        for (k, v) in query {
            req = req.query(*k, v);
        }
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        self.finish(path, req.call())
    }

    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}", self.base);
        let auth = self.token.as_ref().map(|t| format!("Bearer {t}"));
        let with_auth = |mut b: ureq::RequestBuilder<ureq::typestate::WithBody>| {
            if let Some(a) = &auth {
                b = b.header("Authorization", a);
            }
            b.header("Content-Type", "application/json")
        };
        let payload = serde_json::to_vec(body.unwrap_or(&Value::Null))?;
        let result = match method {
            "POST" => with_auth(self.agent.post(&url)).send(&payload[..]),
            "PUT" => with_auth(self.agent.put(&url)).send(&payload[..]),
            "PATCH" => with_auth(self.agent.patch(&url)).send(&payload[..]),
            "DELETE" => {
                let mut b = self.agent.delete(&url);
                if let Some(a) = &auth {
                    b = b.header("Authorization", a);
                }
                b.call()
            }
            other => bail!("unsupported method {other}"),
        };
        self.finish(path, result)
    }

    /// POSTs `body` (a file of `len` bytes, streamed) to `path` with `query` and
    /// `content_type`, and returns the JSON answer: a feed upload.
    pub(crate) fn upload(
        &self,
        path: &str,
        query: &[(&str, String)],
        content_type: &str,
        body: &mut dyn std::io::Read,
    ) -> anyhow::Result<Value> {
        let mut req = self
            .agent
            .post(&format!("{}{path}", self.base))
            .header("Content-Type", content_type);
        for (k, v) in query {
            req = req.query(*k, v);
        }
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let result = req.send(ureq::SendBody::from_reader(body));
        self.finish(path, result)
    }

    /// GETs `path` and returns the body as it is (a report download: CSV, JSON or PDF).
    pub(crate) fn get_bytes(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> anyhow::Result<Vec<u8>> {
        let mut req = self.agent.get(&format!("{}{path}", self.base));
        for (k, v) in query {
            req = req.query(*k, v);
        }
        if let Some(t) = &self.token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        let mut response = self.reached(req.call())?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .with_context(|| format!("reading the answer to {path}"))?;
        if (200..300).contains(&status) {
            return Ok(bytes);
        }
        Err(failure(path, status, &String::from_utf8_lossy(&bytes)))
    }

    /// The response, or an error saying why the server could not be reached.
    fn reached(
        &self,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        result.map_err(|e| {
            // rustls errors surface wrapped in I/O errors, so look at the text too.
            let tls = matches!(e, ureq::Error::Tls(_) | ureq::Error::Rustls(_))
                || e.to_string().contains("certificate");
            if tls {
                anyhow::anyhow!(
                    "TLS with {} failed: {e} (pass the server's CA with --ca-cert DATA_DIR/ca.pem)",
                    self.base
                )
            } else {
                anyhow::anyhow!("cannot reach {}: {e}", self.base)
            }
        })
    }

    fn finish(
        &self,
        path: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> anyhow::Result<Value> {
        let mut response = self.reached(result)?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .with_context(|| format!("reading the answer to {path}"))?;
        if (200..300).contains(&status) {
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_str(&text)
                .with_context(|| format!("the answer to {path} is not JSON"));
        }
        Err(failure(path, status, &text))
    }
}

/// An error answer as an [`ApiFailure`] naming the API's code and message.
fn failure(path: &str, status: u16, text: &str) -> anyhow::Error {
    let (code, message) = serde_json::from_str::<rampart_proto::ErrorBody>(text)
        .map(|b| (b.error.code, b.error.message))
        .unwrap_or_else(|_| ("http_error".to_owned(), text.chars().take(300).collect()));
    let hint = match status {
        401 => " (log in with `rampart login` or pass --token)",
        _ => "",
    };
    ApiFailure {
        status,
        code,
        message: format!("{path}: {status}: {message}{hint}"),
    }
    .into()
}

impl Client {
    /// Logs in with a password, creates a personal API token for the CLI with the
    /// session (cookie + CSRF token, as a browser would), and ends the session.
    pub(crate) fn token_from_password(
        &self,
        name: &str,
        password: &str,
        token_name: &str,
        expires_in_secs: u64,
    ) -> anyhow::Result<String> {
        let url = format!("{}/api/v1/session", self.base);
        let body = serde_json::json!({"name": name, "password": password});
        let mut response = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .send(&serde_json::to_vec(&body)?[..])
            .map_err(|e| anyhow::anyhow!("cannot reach {}: {e}", self.base))?;
        let status = response.status().as_u16();
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()
                    .filter(|c| c.starts_with("rampart_session="))
            })
            .map(str::to_owned);
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if status == 401 {
            bail!("wrong user name or password for {name}");
        }
        if !(200..300).contains(&status) {
            bail!("logging in failed: {status}: {text}");
        }
        let session: Value = serde_json::from_str(&text).context("the login answer is not JSON")?;
        let csrf = session["csrf_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let cookie = cookie.context("the server did not set a session cookie")?;
        let with_session = |b: ureq::RequestBuilder<ureq::typestate::WithBody>| {
            b.header("Cookie", &cookie)
                .header("X-CSRF-Token", &csrf)
                .header("Content-Type", "application/json")
        };
        let create = serde_json::json!({"name": token_name, "expires_in": expires_in_secs});
        let created = self.finish(
            "/api/v1/api-tokens",
            with_session(self.agent.post(&format!("{}/api/v1/api-tokens", self.base)))
                .send(&serde_json::to_vec(&create)?[..]),
        )?;
        // Best effort: the token is what the CLI keeps; the session is not needed.
        let _ = self
            .agent
            .delete(&url)
            .header("Cookie", &cookie)
            .header("X-CSRF-Token", &csrf)
            .call();
        created["token"]
            .as_str()
            .map(str::to_owned)
            .context("the server did not return a token")
    }
}

pub(crate) fn read_ca(path: &Path) -> anyhow::Result<String> {
    fs::read_to_string(path)
        .with_context(|| format!("reading the CA certificate {}", path.display()))
}
