//! The agent's state directory (`/var/lib/rampart-agent` by default):
//!
//! - `key.pem` — the agent's private key, mode 0600, never leaves the host;
//! - `cert.pem` — its client certificate; `ca.pem` — the only CA it trusts;
//! - `agent.json` — [`AgentConfig`]: server URL, agent id, check-in interval. Written
//!   last, so its presence means a complete enrolment;
//! - `acknowledged` — the state hash the server last acknowledged;
//! - `spool/` — see [`crate::spool`].
//!
//! Every file is replaced atomically (write a temporary file, fsync, rename), so a crash
//! or power loss leaves the old or the new version, never half of one.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Default check-in interval when the server names none.
pub const DEFAULT_INTERVAL_SECS: u64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error(
        "{} holds no enrolment (no agent.json): run `rampart-agent enroll` first",
        .0.display()
    )]
    NotEnrolled(PathBuf),
}

/// What `agent.json` holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentConfig {
    pub server_url: String,
    pub agent_id: String,
    pub checkin_interval_secs: u64,
}

/// The agent's credentials as read back from the state directory.
pub struct Credentials {
    pub key_pem: String,
    pub cert_pem: String,
    pub ca_pem: String,
}

#[derive(Clone, Debug)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    pub fn new(dir: impl Into<PathBuf>) -> StateDir {
        StateDir { dir: dir.into() }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Creates the directory (mode 0700) if missing.
    pub fn create(&self) -> Result<(), Error> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|source| Error::Io {
                path: self.dir.clone(),
                source,
            })
    }

    pub fn is_enrolled(&self) -> bool {
        self.file("agent.json").exists()
    }

    pub fn load_config(&self) -> Result<AgentConfig, Error> {
        let path = self.file("agent.json");
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::NotEnrolled(self.dir.clone()));
            }
            Err(source) => return Err(Error::Io { path, source }),
        };
        serde_json::from_slice(&text).map_err(|e| Error::Invalid {
            path,
            message: e.to_string(),
        })
    }

    pub fn load_credentials(&self) -> Result<Credentials, Error> {
        Ok(Credentials {
            key_pem: self.read_text("key.pem")?,
            cert_pem: self.read_text("cert.pem")?,
            ca_pem: self.read_text("ca.pem")?,
        })
    }

    /// Saves a new enrolment: the credentials first, `agent.json` last. The key gets mode
    /// 0600 from creation on (never briefly world-readable).
    pub fn save_enrolment(&self, creds: &Credentials, config: &AgentConfig) -> Result<(), Error> {
        self.create()?;
        write_atomic(&self.file("key.pem"), creds.key_pem.as_bytes(), 0o600)?;
        write_atomic(&self.file("cert.pem"), creds.cert_pem.as_bytes(), 0o644)?;
        write_atomic(&self.file("ca.pem"), creds.ca_pem.as_bytes(), 0o644)?;
        let json = serde_json::to_vec_pretty(config).expect("config encodes");
        write_atomic(&self.file("agent.json"), &json, 0o644)
    }

    /// Forgets what the server acknowledged and what is spooled: a new enrolment is a
    /// new agent to the server.
    pub fn reset_progress(&self) -> Result<(), Error> {
        self.clear_acknowledged()?;
        crate::spool::Spool::new(self).clear()
    }

    /// The state hash the server last acknowledged.
    pub fn acknowledged(&self) -> Result<Option<String>, Error> {
        match self.read_text("acknowledged") {
            Ok(t) => Ok(Some(t.trim().to_owned()).filter(|t| !t.is_empty())),
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn set_acknowledged(&self, hash: &str) -> Result<(), Error> {
        write_atomic(&self.file("acknowledged"), hash.as_bytes(), 0o644)
    }

    /// Makes the next check-in send the full inventory.
    pub fn clear_acknowledged(&self) -> Result<(), Error> {
        remove_if_present(&self.file("acknowledged"))
    }

    fn read_text(&self, name: &str) -> Result<String, Error> {
        let path = self.file(name);
        fs::read_to_string(&path).map_err(|source| Error::Io { path, source })
    }
}

pub(crate) fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory created with
/// `mode`, fsynced, then renamed over `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Error> {
    let io_err = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(io_err)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_err)?;
    drop(file);
    fs::rename(&tmp, path).map_err(io_err)
}
