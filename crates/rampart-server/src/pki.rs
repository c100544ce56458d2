//! The server's private CA and HTTPS identity, kept in the data directory.
//!
//! On first start [`ServerPki::load_or_create`] generates the CA (rampart-pki), writes
//! its certificate to `DATA_DIR/ca.pem` (public: operators hand it to the CLI and
//! browsers) and its private key to `DATA_DIR/ca.key.sealed`, sealed with the master
//! key — the key is never written in plain text. Later starts open the sealed key with
//! the same master key, so the CA (and every agent certificate it signed) survives
//! restarts.
//!
//! The master key comes from the operator ([`MasterKeySource::Text`] from
//! `RAMPART_MASTER_KEY`, [`MasterKeySource::File`] from `--master-key-file`). Only when
//! neither is given is one generated into `DATA_DIR/master.key` (0600): convenient for
//! a first look, but a copy of the data directory then holds both the sealed key and
//! the key that opens it, so the caller warns to move it off the data disk.
//!
//! The HTTPS certificate is either the operator's (`--tls-cert/--tls-key`) or issued by
//! the CA at every start and kept only in memory, so no server private key rests on
//! disk either.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rampart_pki::{CertificateAuthority, MasterKey, Validity};

/// File names inside the data directory.
pub const CA_CERT_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca.key.sealed";
pub const MASTER_KEY_FILE: &str = "master.key";

/// Lifetime of the certificate the CA issues for the listener at each start.
const SERVER_CERT_LIFETIME: Duration = Duration::from_secs(397 * 86_400);

/// Where the master key comes from.
#[derive(Clone)]
pub enum MasterKeySource {
    /// The key as text (64 hex digits or base64), from the environment.
    Text(String),
    /// A file holding the key as text.
    File(PathBuf),
    /// `DATA_DIR/master.key`, generated on first start.
    DataDir,
}

impl std::fmt::Debug for MasterKeySource {
    // The key itself never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MasterKeySource::Text(_) => f.write_str("Text(<redacted>)"),
            MasterKeySource::File(p) => f.debug_tuple("File").field(p).finish(),
            MasterKeySource::DataDir => f.write_str("DataDir"),
        }
    }
}

/// Why the PKI could not be set up. Messages name files, never key material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the master key {origin} is unusable: {source}")]
    MasterKey {
        origin: String,
        #[source]
        source: rampart_pki::Error,
    },
    #[error(
        "the CA key in {path} does not open with this master key (wrong key, or the file was altered)"
    )]
    WrongMasterKey { path: PathBuf },
    #[error("{what}: {source}")]
    Pki {
        what: &'static str,
        #[source]
        source: rampart_pki::Error,
    },
    #[error("{0} exists but {1} is missing; restore both or neither")]
    HalfCa(PathBuf, PathBuf),
}

/// What [`ServerPki::load_or_create`] did, for the caller to report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PkiReport {
    pub ca_created: bool,
    /// The master key was generated into the data directory just now.
    pub master_key_generated: bool,
    /// The master key lives in the data directory (generated now or earlier).
    pub master_key_in_data_dir: bool,
}

/// The listener's certificate: from the operator's files, or issued by the CA.
#[derive(Clone, Debug)]
pub enum ServerCertSource {
    Issue {
        /// DNS names beside `localhost` (the listen host, `--tls-san`).
        dns_names: Vec<String>,
        /// Addresses beside the loopback ones.
        ip_addrs: Vec<IpAddr>,
    },
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
}

/// The CA and the listener's TLS configuration.
pub struct ServerPki {
    pub ca: Arc<CertificateAuthority>,
    /// The master key the CA key is sealed with; it seals the other secrets at rest
    /// too (notification channel credentials).
    pub master: rampart_pki::MasterKey,
    pub ca_cert_path: PathBuf,
    pub tls: Arc<rustls::ServerConfig>,
}

impl ServerPki {
    /// Loads the CA from `data_dir`, creating it (and, for [`MasterKeySource::DataDir`],
    /// the master key) on first start, then builds the listener's TLS configuration.
    pub fn load_or_create(
        data_dir: &Path,
        master: &MasterKeySource,
        cert: &ServerCertSource,
    ) -> Result<(ServerPki, PkiReport), PkiError> {
        let mut report = PkiReport::default();
        let master = master_key(data_dir, master, &mut report)?;
        let cert_path = data_dir.join(CA_CERT_FILE);
        let key_path = data_dir.join(CA_KEY_FILE);
        let ca = match (cert_path.exists(), key_path.exists()) {
            (true, true) => {
                let pem = read_to_string(&cert_path)?;
                let sealed = std::fs::read(&key_path).map_err(io("reading", &key_path))?;
                CertificateAuthority::from_sealed(&pem, &sealed, &master).map_err(|e| match e {
                    rampart_pki::Error::SealOpen | rampart_pki::Error::SealFormat => {
                        PkiError::WrongMasterKey {
                            path: key_path.clone(),
                        }
                    }
                    source => PkiError::Pki {
                        what: "loading the CA",
                        source,
                    },
                })?
            }
            (false, false) => {
                let ca = CertificateAuthority::generate("Rampart CA")
                    .map_err(pki("generating the CA"))?;
                let sealed = ca.seal_key(&master).map_err(pki("sealing the CA key"))?;
                // Key first: a crash in between leaves a key without a certificate,
                // which the next start reports instead of silently replacing the CA.
                write_private(&key_path, &sealed)?;
                write_atomic(&cert_path, ca.cert_pem().as_bytes(), 0o644)?;
                report.ca_created = true;
                ca
            }
            (true, false) => return Err(PkiError::HalfCa(cert_path, key_path)),
            (false, true) => return Err(PkiError::HalfCa(key_path, cert_path)),
        };
        let (cert_pem, key_pem) = match cert {
            ServerCertSource::Issue {
                dns_names,
                ip_addrs,
            } => {
                let issued = rampart_pki::issue_server_cert(
                    &ca,
                    dns_names,
                    ip_addrs,
                    Validity::starting_now(SERVER_CERT_LIFETIME),
                )
                .map_err(pki("issuing the server certificate"))?;
                (issued.cert_pem, issued.key_pem)
            }
            ServerCertSource::Files { cert, key } => (read_to_string(cert)?, read_to_string(key)?),
        };
        let tls = rampart_pki::server_config(&cert_pem, &key_pem, ca.cert_pem())
            .map_err(pki("building the TLS configuration"))?;
        Ok((
            ServerPki {
                ca: Arc::new(ca),
                master,
                ca_cert_path: cert_path,
                tls,
            },
            report,
        ))
    }
}

fn master_key(
    data_dir: &Path,
    source: &MasterKeySource,
    report: &mut PkiReport,
) -> Result<MasterKey, PkiError> {
    let parse = |text: &str, origin: String| {
        MasterKey::from_hex(text)
            .or_else(|_| MasterKey::from_base64(text))
            .map_err(|source| PkiError::MasterKey { origin, source })
    };
    match source {
        MasterKeySource::Text(text) => parse(text, "from RAMPART_MASTER_KEY".into()),
        MasterKeySource::File(path) => {
            parse(&read_to_string(path)?, format!("in {}", path.display()))
        }
        MasterKeySource::DataDir => {
            let path = data_dir.join(MASTER_KEY_FILE);
            report.master_key_in_data_dir = true;
            if path.exists() {
                return parse(&read_to_string(&path)?, format!("in {}", path.display()));
            }
            if data_dir.join(CA_KEY_FILE).exists() {
                // A sealed CA without its key: generating a new key would only make a
                // CA that can never be opened. The operator moved the key elsewhere.
                return Err(PkiError::WrongMasterKey {
                    path: data_dir.join(CA_KEY_FILE),
                });
            }
            let key = MasterKey::generate().map_err(pki("generating the master key"))?;
            write_private(&path, format!("{}\n", key.to_hex()).as_bytes())?;
            report.master_key_generated = true;
            Ok(key)
        }
    }
}

fn pki(what: &'static str) -> impl FnOnce(rampart_pki::Error) -> PkiError {
    move |source| PkiError::Pki { what, source }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PkiError {
    let path = path.to_owned();
    move |source| PkiError::Io {
        action,
        path,
        source,
    }
}

fn read_to_string(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(io("reading", path))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), PkiError> {
    write_atomic(path, bytes, 0o600)
}

/// Writes through a temporary file, fsync and rename, with `mode` set at creation so
/// the content is never readable by others, not even for an instant.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), PkiError> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp).map_err(io("writing", &tmp))?;
    file.write_all(bytes).map_err(io("writing", &tmp))?;
    file.sync_all().map_err(io("syncing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(io("renaming into", path))
}

/// Enrolment tokens in rampart-pki's format, `rpe1_<CA fingerprint>_<secret>`: the
/// agent pins the CA from the token itself, so its first connection is already
/// authenticated. Only the SHA-256 of the secret part is stored.
#[derive(Debug)]
pub struct PkiEnrollmentTokens {
    ca_fingerprint: String,
}

impl PkiEnrollmentTokens {
    pub fn new(ca: &CertificateAuthority) -> PkiEnrollmentTokens {
        PkiEnrollmentTokens {
            ca_fingerprint: ca.fingerprint(),
        }
    }
}

impl crate::EnrollmentTokenIssuer for PkiEnrollmentTokens {
    fn issue(&self) -> crate::secrets::IssuedSecret {
        let token = rampart_pki::EnrollmentToken::generate(&self.ca_fingerprint)
            .expect("the CA fingerprint is 64 hex digits and the OS RNG works");
        crate::secrets::IssuedSecret {
            hash: token.secret_hash(),
            printed: token.encode(),
        }
    }

    fn hash_presented(&self, presented: &str) -> String {
        match rampart_pki::EnrollmentToken::parse(presented) {
            Ok(token) => token.secret_hash(),
            // Cannot match any stored hash (those are of 32-byte secrets), and is not
            // the presented text itself.
            Err(_) => crate::secrets::sha256_hex(&format!("unparseable:{presented}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EnrollmentTokenIssuer as _;

    #[test]
    fn ca_survives_restart_and_refuses_another_master_key() {
        let dir = tempfile::tempdir().unwrap();
        let cert = ServerCertSource::Issue {
            dns_names: vec![],
            ip_addrs: vec![],
        };
        let (first, report) =
            ServerPki::load_or_create(dir.path(), &MasterKeySource::DataDir, &cert).unwrap();
        assert!(report.ca_created && report.master_key_generated);
        let sealed = std::fs::read(dir.path().join(CA_KEY_FILE)).unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("PRIVATE KEY"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for f in [CA_KEY_FILE, MASTER_KEY_FILE] {
                let mode = std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o077, 0, "{f} is private");
            }
        }
        let (again, report) =
            ServerPki::load_or_create(dir.path(), &MasterKeySource::DataDir, &cert).unwrap();
        assert!(!report.ca_created && !report.master_key_generated);
        assert_eq!(first.ca.fingerprint(), again.ca.fingerprint());
        let other = MasterKey::generate().unwrap().to_hex();
        let err = ServerPki::load_or_create(dir.path(), &MasterKeySource::Text(other), &cert)
            .err()
            .unwrap();
        assert!(matches!(err, PkiError::WrongMasterKey { .. }), "{err}");
    }

    #[test]
    fn pki_tokens_hash_their_secret() {
        let ca = CertificateAuthority::generate("t").unwrap();
        let issuer = PkiEnrollmentTokens::new(&ca);
        let issued = issuer.issue();
        assert!(
            issued
                .printed
                .starts_with(&format!("rpe1_{}_", ca.fingerprint()))
        );
        assert_eq!(issuer.hash_presented(&issued.printed), issued.hash);
        assert_ne!(issuer.hash_presented("rpe1_junk"), issued.hash);
    }
}
