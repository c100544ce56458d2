//! What each configuration accepts and refuses in a real handshake.

use std::sync::Arc;

use rampart_pki::{
    CertificateAuthority, agent_client_config, is_pin_mismatch, issue_server_cert,
    pinned_bootstrap_config, server_config,
};
use rustls::{CertificateError, ClientConfig, RootCertStore};

use crate::support::{Server, agent, ca_and_server, ping, rustls_error, validity};

fn server(ca: &CertificateAuthority, cert: &rampart_pki::IssuedCertificate) -> Server {
    Server::start(server_config(&cert.cert_pem, &cert.key_pem, ca.cert_pem()).unwrap())
}

#[test]
fn pinned_bootstrap_accepts_the_pinned_ca() {
    let (ca, cert) = ca_and_server();
    let server = server(&ca, &cert);
    let config = pinned_bootstrap_config(&ca.fingerprint()).unwrap();
    ping(server.addr, config.clone(), "localhost").unwrap();
    assert_eq!(server.next().unwrap(), None, "no client certificate");
    ping(server.addr, config, "127.0.0.1").unwrap();
    assert_eq!(server.next().unwrap(), None);
}

#[test]
fn pinned_bootstrap_refuses_another_ca_with_a_clear_error() {
    let (ca, cert) = ca_and_server();
    let server = server(&ca, &cert);
    let other = CertificateAuthority::generate("other").unwrap();
    let err = ping(
        server.addr,
        pinned_bootstrap_config(&other.fingerprint()).unwrap(),
        "localhost",
    )
    .unwrap_err();
    let tls = rustls_error(&err).expect("a TLS error");
    assert!(is_pin_mismatch(&tls), "{tls:?}");
    // rustls prints `Other` errors with Debug; callers detect the kind with
    // `is_pin_mismatch` and print `PinMismatch`'s message.
    assert_eq!(
        rampart_pki::PinMismatch.to_string(),
        "server certificate does not match the pinned CA fingerprint in the token"
    );
    assert!(server.next().is_err(), "the server saw the handshake fail");
}

/// An attacker can put the (public) pinned CA certificate into its chain; the leaf must
/// still verify against it.
#[test]
fn pinned_bootstrap_refuses_a_leaf_not_signed_by_the_pinned_ca() {
    let (ca, _) = ca_and_server();
    let attacker = CertificateAuthority::generate("attacker").unwrap();
    let forged = issue_server_cert(&attacker, &[], &[], validity()).unwrap();
    let server = server(&ca, &forged);
    let err = ping(
        server.addr,
        pinned_bootstrap_config(&ca.fingerprint()).unwrap(),
        "localhost",
    )
    .unwrap_err();
    let tls = rustls_error(&err).expect("a TLS error");
    assert!(!is_pin_mismatch(&tls));
    assert!(
        matches!(
            tls,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature
            )
        ),
        "{tls:?}"
    );
}

#[test]
fn pinned_bootstrap_checks_the_server_name() {
    let (ca, cert) = ca_and_server();
    let server = server(&ca, &cert);
    let err = ping(
        server.addr,
        pinned_bootstrap_config(&ca.fingerprint()).unwrap(),
        "rampart.example.com",
    )
    .unwrap_err();
    assert!(
        matches!(
            rustls_error(&err),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ),
        "{err:?}"
    );
}

#[test]
fn agent_certificate_is_seen_by_the_server() {
    let (ca, cert) = ca_and_server();
    let server = server(&ca, &cert);
    let (agent_cert, agent_key) = agent(&ca, "agt_42");
    let config = agent_client_config(ca.cert_pem(), &agent_cert, &agent_key).unwrap();
    ping(server.addr, config, "localhost").unwrap();
    let identity = server.next().unwrap().expect("a client certificate");
    assert_eq!(identity.agent_id, "agt_42");
    assert_eq!(identity.serial_hex.len(), 32);
}

#[test]
fn agent_certificate_from_another_ca_is_refused_at_handshake() {
    let (ca, cert) = ca_and_server();
    let server = server(&ca, &cert);
    let other = CertificateAuthority::generate("other").unwrap();
    let (agent_cert, agent_key) = agent(&other, "agt_evil");
    let config = agent_client_config(ca.cert_pem(), &agent_cert, &agent_key).unwrap();
    assert!(ping(server.addr, config, "localhost").is_err());
    let seen = server.next().unwrap_err();
    assert!(
        matches!(
            seen,
            rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer | CertificateError::BadSignature
            )
        ),
        "{seen:?}"
    );
}

#[test]
fn no_client_certificate_is_accepted_as_unauthenticated() {
    let (ca, cert) = ca_and_server();
    let server = server(&ca, &cert);
    let mut roots = RootCertStore::empty();
    roots.add(ca.cert_der().clone()).unwrap();
    let config = ClientConfig::builder_with_provider(rampart_pki::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    ping(server.addr, Arc::new(config), "localhost").unwrap();
    assert_eq!(server.next().unwrap(), None);
}

#[test]
fn agent_refuses_a_server_from_another_ca() {
    let (ca, _) = ca_and_server();
    let other = CertificateAuthority::generate("other").unwrap();
    let other_cert = issue_server_cert(&other, &[], &[], validity()).unwrap();
    let server = server(&other, &other_cert);
    let (agent_cert, agent_key) = agent(&ca, "agt_1");
    let config = agent_client_config(ca.cert_pem(), &agent_cert, &agent_key).unwrap();
    let err = ping(server.addr, config, "localhost").unwrap_err();
    assert!(
        matches!(
            rustls_error(&err),
            Some(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        ),
        "{err:?}"
    );
}
