//! `rampart-agent enroll`: trade an enrolment token for a client certificate.
//!
//! The token pins the server's CA by fingerprint, so the first connection is already
//! authenticated (no trust on first use). The agent generates its key locally, sends
//! only a CSR, checks that the CA the server returns is the pinned one, and saves its
//! credentials in the state directory. The token itself is never written to disk or
//! printed.

use std::path::{Path, PathBuf};

use rampart_pki::EnrollmentToken;
use rampart_proto::{EnrollRequest, EnrollResponse, PROTOCOL_VERSION};

use crate::collect::{self, Context, Problems};
use crate::state::{self, AgentConfig, Credentials, StateDir};
use crate::transport::{self, Client};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid enrolment token: {0}")]
    Token(#[source] rampart_pki::Error),
    #[error(
        "{} already holds an enrolment (agent id {agent_id}); pass --force to replace it",
        dir.display()
    )]
    AlreadyEnrolled { dir: PathBuf, agent_id: String },
    #[error(transparent)]
    Transport(#[from] transport::Error),
    #[error("the server returned a CA certificate other than the one the token pins")]
    CaMismatch,
    #[error("the server's answer is unusable: {0}")]
    Credentials(#[source] rampart_pki::Error),
    #[error(transparent)]
    State(#[from] state::Error),
}

impl Error {
    /// A refusal the operator must act on (bad or used token, existing enrolment) rather
    /// than a failure to retry: exit code 2.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::Token(_)
                | Error::AlreadyEnrolled { .. }
                | Error::Transport(transport::Error::Http { .. })
        )
    }
}

/// What an enrolment produced.
#[derive(Debug)]
pub struct Enrolled {
    pub config: AgentConfig,
    /// The server already knew this machine: the agent joined its existing host, whose
    /// earlier agents are revoked.
    pub reenrolled: bool,
}

pub struct Options<'a> {
    pub server_url: &'a str,
    pub token: &'a str,
    pub state_dir: &'a Path,
    pub force: bool,
    /// Root to read the host name and machine id from (`/` normally).
    pub root: &'a Path,
}

pub fn enroll(opts: &Options<'_>) -> Result<Enrolled, Error> {
    let token = EnrollmentToken::parse(opts.token).map_err(Error::Token)?;
    let state = StateDir::new(opts.state_dir);
    if state.is_enrolled() && !opts.force {
        let agent_id = state
            .load_config()
            .map(|c| c.agent_id)
            .unwrap_or_else(|_| "unreadable".into());
        return Err(Error::AlreadyEnrolled {
            dir: opts.state_dir.to_owned(),
            agent_id,
        });
    }
    let (hostname, machine_id) = host_identity(opts.root);
    let key = rampart_pki::AgentKey::generate().map_err(Error::Credentials)?;
    let tls = rampart_pki::pinned_bootstrap_config(&token.ca_fingerprint).map_err(Error::Token)?;
    let client = Client::new(opts.server_url, tls)?;
    let request = EnrollRequest {
        protocol: PROTOCOL_VERSION,
        token: opts.token.trim().to_owned(),
        csr_pem: key.csr_pem(&hostname).map_err(Error::Credentials)?,
        hostname,
        machine_id,
    };
    let answer: EnrollResponse = client.post_json("/agent/v1/enroll", &request)?;

    let ca_der = rustls::pki_types::pem::PemObject::from_pem_slice(answer.ca_pem.as_bytes())
        .map(|d: rustls::pki_types::CertificateDer<'_>| rampart_pki::sha256_hex(&d))
        .map_err(|_| Error::CaMismatch)?;
    if ca_der != token.ca_fingerprint {
        return Err(Error::CaMismatch);
    }
    let creds = Credentials {
        key_pem: key.key_pem(),
        cert_pem: answer.certificate_pem,
        ca_pem: answer.ca_pem,
    };
    // Proves the certificate parses, matches our key and chains to the pinned CA
    // before anything is saved.
    rampart_pki::agent_client_config(&creds.ca_pem, &creds.cert_pem, &creds.key_pem)
        .map_err(Error::Credentials)?;
    let identity = certificate_identity(&creds.cert_pem)?;
    if identity.agent_id != answer.agent_id {
        return Err(Error::Credentials(rampart_pki::Error::NotAnAgent(
            "the certificate names another agent than the answer".into(),
        )));
    }
    let config = AgentConfig {
        server_url: opts.server_url.trim_end_matches('/').to_owned(),
        agent_id: answer.agent_id,
        checkin_interval_secs: if answer.checkin_interval_secs == 0 {
            state::DEFAULT_INTERVAL_SECS
        } else {
            answer.checkin_interval_secs
        },
    };
    if opts.force {
        state.reset_progress()?;
    }
    state.save_enrolment(&creds, &config)?;
    Ok(Enrolled {
        config,
        reenrolled: answer.reenrolled,
    })
}

fn certificate_identity(cert_pem: &str) -> Result<rampart_pki::AgentIdentity, Error> {
    use rustls::pki_types::pem::PemObject;
    let der =
        rustls::pki_types::CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|_| {
            Error::Credentials(rampart_pki::Error::Pem {
                expected: "a CERTIFICATE",
            })
        })?;
    rampart_pki::agent_identity(&der).map_err(Error::Credentials)
}

/// Host name and machine id as the inventory reports them; the server shows them while
/// the operator approves or names the new agent.
fn host_identity(root: &Path) -> (String, Option<String>) {
    let Ok(ctx) = Context::new(root) else {
        return (String::new(), None);
    };
    let mut ignored = Vec::new();
    let os = collect::os::collect(&ctx, &mut Problems::new("os", &mut ignored));
    (os.hostname, os.machine_id)
}
