//! The certificate authority and what it issues: the HTTPS listener's certificate and
//! agents' client certificates signed from their CSRs; plus the agent's side (its key
//! and CSR) and reading an agent's identity back out of a presented certificate.
//!
//! All keys are ECDSA P-256: rustls+ring, browsers, curl and every TLS library in use
//! handle it, signing is fast, and keys are small. Agents may send P-384 or Ed25519 CSRs
//! too; the CA always signs with P-256/SHA-256.
//!
//! The CA signs only what it decides: from a CSR it takes the public key (after checking
//! the CSR's self-signature) and nothing else, so an agent cannot ask for a CA
//! certificate, a server name or a longer lifetime.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateSigningRequestDer};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::{Error, MasterKey, hex, random_bytes, sha256_hex};

/// Prefix of the SAN URI that names an agent: `rampart:agent:<id>`. The server reads the
/// agent id from here (the subject CN carries the same id for people reading `openssl
/// x509 -text`).
const AGENT_URI_PREFIX: &str = "rampart:agent:";

/// Purpose bound into the sealed CA key, so a blob sealed for another secret can never be
/// opened as the CA key.
const CA_KEY_PURPOSE: &str = "rampart:ca-key";

/// The SAN URI for an agent id.
pub fn agent_uri(agent_id: &str) -> String {
    format!("{AGENT_URI_PREFIX}{agent_id}")
}

/// When a certificate is valid. Passed in rather than read from the clock so tests and
/// the server's own notion of time decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
}

impl Validity {
    /// From `now` minus five minutes (tolerates agents whose clocks run a little behind)
    /// for `lifetime`.
    pub fn from(now: SystemTime, lifetime: Duration) -> Validity {
        let skew = Duration::from_secs(300);
        Validity {
            not_before: now.checked_sub(skew).unwrap_or(now),
            not_after: now + lifetime,
        }
    }

    /// [`Validity::from`] the current system time.
    pub fn starting_now(lifetime: Duration) -> Validity {
        Validity::from(SystemTime::now(), lifetime)
    }
}

/// Rampart's private CA: a self-signed ECDSA P-256 certificate and its key.
pub struct CertificateAuthority {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    key: KeyPair,
}

impl std::fmt::Debug for CertificateAuthority {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// A new CA named `name` (subject CN and O), valid for 20 years: the CA outlives
    /// every certificate it signs, and rotating it means re-enrolling every agent.
    pub fn generate(name: &str) -> Result<CertificateAuthority, Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(Error::Generate)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationName, "Rampart");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial()?.0);
        let validity = Validity::starting_now(Duration::from_secs(20 * 365 * 86_400));
        params.not_before = validity.not_before.into();
        params.not_after = validity.not_after.into();
        let cert = params.self_signed(&key).map_err(Error::Generate)?;
        Ok(CertificateAuthority {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key,
        })
    }

    /// Loads a CA from its certificate and (opened) private key, both PEM. Fails when the
    /// key does not belong to the certificate.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<CertificateAuthority, Error> {
        let cert_der =
            CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|_| Error::Pem {
                expected: "a CERTIFICATE",
            })?;
        let key = KeyPair::from_pem(key_pem).map_err(|e| Error::Key(e.to_string()))?;
        let (_, parsed) =
            X509Certificate::from_der(&cert_der).map_err(|e| Error::Certificate(e.to_string()))?;
        if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(Error::Key(
                "the private key does not belong to the CA certificate".into(),
            ));
        }
        if !parsed.is_ca() {
            return Err(Error::Certificate("not a CA certificate".into()));
        }
        Ok(CertificateAuthority {
            cert_pem: pem_of(&cert_der),
            cert_der,
            key,
        })
    }

    /// The certificate and the private key as PEM. The key is plain text: seal it (see
    /// [`CertificateAuthority::seal_key`]) before it touches a disk or a database.
    pub fn to_pem(&self) -> (String, String) {
        (self.cert_pem.clone(), self.key.serialize_pem())
    }

    /// The private key sealed under `master` for the purpose `rampart:ca-key`: what the
    /// server stores.
    pub fn seal_key(&self, master: &MasterKey) -> Result<Vec<u8>, Error> {
        crate::seal(master, CA_KEY_PURPOSE, self.key.serialize_pem().as_bytes())
    }

    /// Loads a CA stored as its certificate PEM plus the output of
    /// [`CertificateAuthority::seal_key`].
    pub fn from_sealed(
        cert_pem: &str,
        sealed_key: &[u8],
        master: &MasterKey,
    ) -> Result<CertificateAuthority, Error> {
        let key_pem = crate::open(master, CA_KEY_PURPOSE, sealed_key)?;
        let key_pem = String::from_utf8(key_pem).map_err(|_| Error::Key("not PEM".into()))?;
        CertificateAuthority::from_pem(cert_pem, &key_pem)
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// SHA-256 of the CA certificate's DER encoding, 64 lowercase hex digits — the same
    /// value as `openssl x509 -noout -fingerprint -sha256` without the colons, lowercased.
    /// Enrolment tokens carry it so a new agent can pin the CA before trusting anything.
    pub fn fingerprint(&self) -> String {
        sha256_hex(&self.cert_der)
    }

    fn issuer(&self) -> Result<Issuer<'static, &KeyPair>, Error> {
        Issuer::from_ca_cert_der(&self.cert_der, &self.key).map_err(Error::Generate)
    }
}

/// A certificate with its freshly generated key, for the server's own HTTPS listener.
pub struct IssuedCertificate {
    pub cert_pem: String,
    /// The private key, PEM, plain text: seal it before storing.
    pub key_pem: String,
    pub serial_hex: String,
    pub fingerprint: String,
}

impl std::fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("serial_hex", &self.serial_hex)
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// Issues the HTTPS listener's certificate: serverAuth only, SANs for `localhost`,
/// `127.0.0.1` and `::1` (so a local agent and `rampart` CLI always verify) plus the
/// given names and addresses, valid for `validity`.
pub fn issue_server_cert(
    ca: &CertificateAuthority,
    dns_names: &[String],
    ip_addrs: &[IpAddr],
    validity: Validity,
) -> Result<IssuedCertificate, Error> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(Error::Generate)?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        dns_names.first().map_or("localhost", String::as_str),
    );
    params.distinguished_name = dn;
    let mut names: Vec<String> = vec!["localhost".into()];
    names.extend(dns_names.iter().filter(|n| *n != "localhost").cloned());
    for name in names {
        let ia5 = name
            .clone()
            .try_into()
            .map_err(|_| Error::Certificate(format!("invalid DNS name {name:?}")))?;
        params.subject_alt_names.push(SanType::DnsName(ia5));
    }
    let mut ips: Vec<IpAddr> = vec![
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ];
    ips.extend(ip_addrs.iter().filter(|ip| !ip.is_loopback()));
    params
        .subject_alt_names
        .extend(ips.into_iter().map(SanType::IpAddress));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let (serial, serial_hex) = random_serial()?;
    params.serial_number = Some(serial);
    params.not_before = validity.not_before.into();
    params.not_after = validity.not_after.into();
    let cert = params
        .signed_by(&key, &ca.issuer()?)
        .map_err(Error::Generate)?;
    Ok(IssuedCertificate {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        serial_hex,
        fingerprint: sha256_hex(cert.der()),
    })
}

/// An agent's client certificate as the server returns it and records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCertificate {
    pub cert_pem: String,
    /// Certificate serial, lowercase hex: the key the server revokes by.
    pub serial_hex: String,
    /// SHA-256 of the certificate DER, lowercase hex.
    pub fingerprint: String,
}

/// Signs an agent's CSR: subject CN = `agent_id`, SAN URI `rampart:agent:<agent_id>`,
/// clientAuth only, a random 128-bit serial, `validity`. Only the CSR's public key is
/// used; its requested subject and extensions are ignored.
///
/// Fails with [`Error::CsrSignature`] when the CSR's signature does not verify (the
/// sender does not hold the key), [`Error::UnsupportedKey`] for key types other than
/// ECDSA P-256/P-384 and Ed25519, [`Error::CsrMalformed`] otherwise.
pub fn sign_agent_csr(
    ca: &CertificateAuthority,
    csr_pem: &str,
    agent_id: &str,
    validity: Validity,
) -> Result<AgentCertificate, Error> {
    check_agent_id(agent_id)?;
    let der = CertificateSigningRequestDer::from_pem_slice(csr_pem.as_bytes())
        .map_err(|_| Error::CsrMalformed("no CERTIFICATE REQUEST PEM block".into()))?;
    check_csr_key_type(&der)?;
    let csr = CertificateSigningRequestParams::from_der(&der).map_err(|e| match e {
        rcgen::Error::InvalidCertificationRequestSignature => Error::CsrSignature,
        rcgen::Error::UnsupportedSignatureAlgorithm => {
            Error::UnsupportedKey("signature algorithm not supported".into())
        }
        other => Error::CsrMalformed(other.to_string()),
    })?;
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, agent_id);
    params.distinguished_name = dn;
    let uri = agent_uri(agent_id)
        .try_into()
        .map_err(|_| Error::AgentId(agent_id.into()))?;
    params.subject_alt_names = vec![SanType::URI(uri)];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let (serial, serial_hex) = random_serial()?;
    params.serial_number = Some(serial);
    params.not_before = validity.not_before.into();
    params.not_after = validity.not_after.into();
    let request = CertificateSigningRequestParams {
        params,
        public_key: csr.public_key,
    };
    let cert = request.signed_by(&ca.issuer()?).map_err(Error::Generate)?;
    Ok(AgentCertificate {
        cert_pem: cert.pem(),
        serial_hex,
        fingerprint: sha256_hex(cert.der()),
    })
}

/// Who a presented client certificate says it is. Call only on a certificate the TLS
/// layer has already verified against the CA (rustls's client verifier from
/// [`crate::server_config`]); this function parses, it does not verify signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentIdentity {
    pub agent_id: String,
    /// Lowercase hex; the server refuses revoked serials.
    pub serial_hex: String,
    pub fingerprint: String,
}

/// Reads the agent id (from the `rampart:agent:` SAN URI, which must agree with the CN),
/// serial and fingerprint from a client certificate's DER.
pub fn agent_identity(cert_der: &[u8]) -> Result<AgentIdentity, Error> {
    let (_, cert) =
        X509Certificate::from_der(cert_der).map_err(|e| Error::Certificate(e.to_string()))?;
    let san = cert
        .subject_alternative_name()
        .map_err(|e| Error::Certificate(e.to_string()))?
        .ok_or_else(|| Error::NotAnAgent("no subject alternative name".into()))?;
    let mut ids = san.value.general_names.iter().filter_map(|n| match n {
        GeneralName::URI(uri) => uri.strip_prefix(AGENT_URI_PREFIX),
        _ => None,
    });
    let agent_id = ids
        .next()
        .ok_or_else(|| Error::NotAnAgent("no rampart:agent: URI".into()))?;
    if ids.next().is_some() {
        return Err(Error::NotAnAgent("more than one agent URI".into()));
    }
    check_agent_id(agent_id).map_err(|_| Error::NotAnAgent("malformed agent id".into()))?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok());
    if cn != Some(agent_id) {
        return Err(Error::NotAnAgent(
            "common name differs from the agent URI".into(),
        ));
    }
    Ok(AgentIdentity {
        agent_id: agent_id.to_owned(),
        serial_hex: hex(cert.raw_serial()),
        fingerprint: sha256_hex(cert_der),
    })
}

/// The agent's own key pair and the CSR it sends at enrolment.
pub struct AgentKey {
    key: KeyPair,
}

impl std::fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentKey(..)")
    }
}

impl AgentKey {
    /// A fresh ECDSA P-256 key; it never leaves the host.
    pub fn generate() -> Result<AgentKey, Error> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(Error::Generate)?;
        Ok(AgentKey { key })
    }

    pub fn from_pem(key_pem: &str) -> Result<AgentKey, Error> {
        let key = KeyPair::from_pem(key_pem).map_err(|e| Error::Key(e.to_string()))?;
        Ok(AgentKey { key })
    }

    /// PKCS#8 PEM, plain text: the agent writes it with mode 0600.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A PKCS#10 CSR with the host name as CN. The server ignores the subject (it assigns
    /// the agent id); the CSR's value is its signature, proving possession of the key.
    pub fn csr_pem(&self, hostname: &str) -> Result<String, Error> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            if hostname.is_empty() {
                "rampart-agent"
            } else {
                hostname
            },
        );
        params.distinguished_name = dn;
        params
            .serialize_request(&self.key)
            .map_err(Error::Generate)?
            .pem()
            .map_err(Error::Generate)
    }
}

/// Refuses keys other than ECDSA P-256/P-384 and Ed25519 before the signature is
/// checked, so an unsupported key is reported as such rather than as a bad signature
/// (ring cannot verify P-521 or RSA-PSS CSRs at all).
fn check_csr_key_type(der: &[u8]) -> Result<(), Error> {
    use x509_parser::certification_request::X509CertificationRequest;
    const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
    const P256: &str = "1.2.840.10045.3.1.7";
    const P384: &str = "1.3.132.0.34";
    const ED25519: &str = "1.3.101.112";
    let (_, csr) =
        X509CertificationRequest::from_der(der).map_err(|e| Error::CsrMalformed(e.to_string()))?;
    let alg = &csr.certification_request_info.subject_pki.algorithm;
    let oid = alg.algorithm.to_id_string();
    let curve = alg
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    match (oid.as_str(), curve.as_deref()) {
        (EC_PUBLIC_KEY, Some(P256 | P384)) | (ED25519, _) => Ok(()),
        (EC_PUBLIC_KEY, curve) => Err(Error::UnsupportedKey(format!(
            "elliptic curve {}",
            curve.unwrap_or("unnamed")
        ))),
        (other, _) => Err(Error::UnsupportedKey(format!(
            "public key algorithm {other}"
        ))),
    }
}

/// 16 random bytes, top bit clear so the DER INTEGER is positive and bit 6 set so it
/// never has a leading zero byte: the hex of the bytes is exactly the serial as parsed
/// back from the certificate.
fn random_serial() -> Result<(SerialNumber, String), Error> {
    let mut bytes: [u8; 16] = random_bytes()?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok((SerialNumber::from_slice(&bytes), hex(&bytes)))
}

fn check_agent_id(id: &str) -> Result<(), Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::AgentId(format!(
            "{:?} (1 to 64 of A-Z a-z 0-9 . _ -)",
            id.chars().take(70).collect::<String>()
        )))
    }
}

fn pem_of(der: &CertificateDer<'_>) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}
