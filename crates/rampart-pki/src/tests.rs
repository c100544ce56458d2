use std::time::{Duration, SystemTime};

use base64::Engine as _;
use proptest::prelude::*;

use super::*;

fn validity() -> Validity {
    Validity::from(SystemTime::now(), Duration::from_secs(86_400))
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    format!("-----BEGIN {label}-----\n{b64}\n-----END {label}-----\n")
}

fn pem_der(text: &str) -> Vec<u8> {
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

#[test]
fn seal_round_trips_and_binds_key_purpose_and_bytes() {
    let key = MasterKey::generate().unwrap();
    let sealed = seal(&key, "rampart:ca-key", b"secret key material").unwrap();
    assert_eq!(sealed[0], 1, "version byte");
    assert!(
        !sealed.windows(6).any(|w| w == b"secret"),
        "plaintext visible"
    );
    assert_eq!(
        open(&key, "rampart:ca-key", &sealed).unwrap(),
        b"secret key material"
    );

    // Tamper with every byte position in turn: each must fail, never succeed.
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        let err = open(&key, "rampart:ca-key", &bad).unwrap_err();
        assert!(
            matches!(err, Error::SealOpen | Error::SealFormat),
            "byte {i}: {err:?}"
        );
    }
    let other = MasterKey::generate().unwrap();
    assert!(matches!(
        open(&other, "rampart:ca-key", &sealed),
        Err(Error::SealOpen)
    ));
    assert!(matches!(
        open(&key, "rampart:job-key", &sealed),
        Err(Error::SealOpen)
    ));
    assert!(matches!(
        open(&key, "rampart:ca-key", &sealed[..20]),
        Err(Error::SealFormat)
    ));
    assert!(matches!(
        open(&key, "rampart:ca-key", &[]),
        Err(Error::SealFormat)
    ));
    // Two seals of the same plaintext differ (random nonce).
    assert_ne!(
        sealed,
        seal(&key, "rampart:ca-key", b"secret key material").unwrap()
    );
}

#[test]
fn master_key_text_forms() {
    let key = MasterKey::generate().unwrap();
    let hex = key.to_hex();
    assert_eq!(hex.len(), 64);
    let b64 = key.to_base64();
    let sealed = seal(&key, "p", b"x").unwrap();
    for k in [
        MasterKey::from_hex(&format!(" {}\n", hex.to_uppercase())).unwrap(),
        MasterKey::from_base64(&format!("{b64}\n")).unwrap(),
    ] {
        assert_eq!(open(&k, "p", &sealed).unwrap(), b"x");
    }
    assert!(matches!(
        MasterKey::from_bytes(&[0; 31]),
        Err(Error::MasterKey(_))
    ));
    assert!(matches!(
        MasterKey::from_hex("abc"),
        Err(Error::MasterKey(_))
    ));
    assert!(matches!(
        MasterKey::from_base64("!!"),
        Err(Error::MasterKey(_))
    ));
    assert_eq!(format!("{key:?}"), "MasterKey(..)");
}

#[test]
fn ca_round_trips_through_pem_and_sealed_storage() {
    let ca = CertificateAuthority::generate("Rampart test CA").unwrap();
    let fp = ca.fingerprint();
    assert_eq!(fp.len(), 64);
    assert_eq!(fp, sha256_hex(&pem_der(ca.cert_pem())));
    let (cert_pem, key_pem) = ca.to_pem();
    let again = CertificateAuthority::from_pem(&cert_pem, &key_pem).unwrap();
    assert_eq!(again.fingerprint(), fp);

    let master = MasterKey::generate().unwrap();
    let sealed = ca.seal_key(&master).unwrap();
    let restored = CertificateAuthority::from_sealed(&cert_pem, &sealed, &master).unwrap();
    assert_eq!(restored.fingerprint(), fp);
    // The restored CA signs certificates that chain to the original certificate.
    let agent = AgentKey::generate().unwrap();
    let cert = sign_agent_csr(&restored, &agent.csr_pem("h").unwrap(), "a1", validity()).unwrap();
    assert_eq!(
        agent_identity(&pem_der(&cert.cert_pem)).unwrap().agent_id,
        "a1"
    );

    let other = CertificateAuthority::generate("other").unwrap();
    let (_, other_key) = other.to_pem();
    assert!(matches!(
        CertificateAuthority::from_pem(&cert_pem, &other_key),
        Err(Error::Key(_))
    ));
    assert!(!format!("{ca:?}").contains("PRIVATE"));
}

#[test]
fn agent_certificate_names_the_agent_and_nothing_the_csr_asked_for() {
    let ca = CertificateAuthority::generate("ca").unwrap();
    let key = AgentKey::generate().unwrap();
    let csr = key.csr_pem("web-1.example.com").unwrap();
    let cert = sign_agent_csr(&ca, &csr, "agt_01HZX", validity()).unwrap();
    let der = pem_der(&cert.cert_pem);
    let id = agent_identity(&der).unwrap();
    assert_eq!(
        id,
        AgentIdentity {
            agent_id: "agt_01HZX".into(),
            serial_hex: cert.serial_hex.clone(),
            fingerprint: cert.fingerprint.clone(),
        }
    );
    assert_eq!(cert.serial_hex.len(), 32);
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
    assert!(!parsed.is_ca());
    let eku = parsed.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert!(!cert.cert_pem.contains("web-1"));
    // Serials are random.
    let second = sign_agent_csr(&ca, &csr, "agt_01HZX", validity()).unwrap();
    assert_ne!(second.serial_hex, cert.serial_hex);
}

#[test]
fn csr_with_a_broken_signature_is_refused() {
    let ca = CertificateAuthority::generate("ca").unwrap();
    let csr = AgentKey::generate().unwrap().csr_pem("hostname-x").unwrap();
    let mut der = pem_der(&csr);
    let at = der.windows(10).position(|w| w == b"hostname-x").unwrap();
    der[at] = b'j';
    let tampered = pem("CERTIFICATE REQUEST", &der);
    assert!(matches!(
        sign_agent_csr(&ca, &tampered, "a", validity()),
        Err(Error::CsrSignature)
    ));
    assert!(matches!(
        sign_agent_csr(&ca, "not a csr", "a", validity()),
        Err(Error::CsrMalformed(_))
    ));
}

#[test]
fn csr_with_an_unsupported_key_type_is_refused() {
    let ca = CertificateAuthority::generate("ca").unwrap();
    for file in ["rsa.csr.pem", "p521.csr.pem"] {
        let path = format!("{}/test_data/{file}", env!("CARGO_MANIFEST_DIR"));
        let csr = std::fs::read_to_string(path).unwrap();
        let err = sign_agent_csr(&ca, &csr, "a", validity()).unwrap_err();
        assert!(matches!(err, Error::UnsupportedKey(_)), "{file}: {err:?}");
    }
}

#[test]
fn agent_ids_are_restricted() {
    let ca = CertificateAuthority::generate("ca").unwrap();
    let csr = AgentKey::generate().unwrap().csr_pem("h").unwrap();
    for bad in ["", "a b", "a/b", "é", &"x".repeat(65)] {
        assert!(
            matches!(
                sign_agent_csr(&ca, &csr, bad, validity()),
                Err(Error::AgentId(_))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn server_certificate_is_not_an_agent() {
    let ca = CertificateAuthority::generate("ca").unwrap();
    let server = issue_server_cert(
        &ca,
        &["rampart.example.com".into()],
        &["192.0.2.7".parse().unwrap()],
        validity(),
    )
    .unwrap();
    let der = pem_der(&server.cert_pem);
    assert!(matches!(agent_identity(&der), Err(Error::NotAnAgent(_))));
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
    let san = parsed.subject_alternative_name().unwrap().unwrap().value;
    let names = format!("{:?}", san.general_names);
    for want in [
        "\"localhost\"",
        "rampart.example.com",
        "[127, 0, 0, 1]",
        "[192, 0, 2, 7]",
    ] {
        assert!(names.contains(want), "{want} missing from {names}");
    }
    assert!(matches!(
        agent_identity(b"junk"),
        Err(Error::Certificate(_))
    ));
}

#[test]
fn token_round_trips_and_hashes_only_the_secret() {
    let ca = CertificateAuthority::generate("ca").unwrap();
    let token = EnrollmentToken::generate(&ca.fingerprint()).unwrap();
    let text = token.encode();
    assert!(text.starts_with("rpe1_"));
    assert_eq!(text.len(), 5 + 64 + 1 + 43);
    let parsed = EnrollmentToken::parse(&format!("  {text}\n")).unwrap();
    assert_eq!(parsed, token);
    assert_eq!(parsed.ca_fingerprint, ca.fingerprint());
    assert_eq!(parsed.secret_hash().len(), 64);
    assert_ne!(
        parsed.secret_hash(),
        EnrollmentToken::generate(&ca.fingerprint())
            .unwrap()
            .secret_hash()
    );
    assert!(!format!("{token:?}").contains(&text[70..]));
}

#[test]
fn token_parse_errors_say_which_part_is_wrong() {
    let fp = "ab".repeat(32);
    let good = EnrollmentToken::generate(&fp).unwrap().encode();
    let check = |input: &str, want: fn(&Error) -> bool| {
        let err = EnrollmentToken::parse(input).unwrap_err();
        assert!(want(&err), "{input:?}: {err:?}");
    };
    check("", |e| matches!(e, Error::TokenPrefix));
    check(&good.replace("rpe1_", "rpe2_"), |e| {
        matches!(e, Error::TokenPrefix)
    });
    check(&good.replacen(&fp, &"ab".repeat(31), 1), |e| {
        matches!(e, Error::TokenFingerprint)
    });
    check(&good.replacen(&fp, &"zz".repeat(32), 1), |e| {
        matches!(e, Error::TokenFingerprint)
    });
    check(&good[..good.len() - 3], |e| matches!(e, Error::TokenSecret));
    check(&good[..70], |e| matches!(e, Error::TokenSecret));
    check(&good[..40], |e| matches!(e, Error::TokenFingerprint));
    check(&format!("{good}AAAA"), |e| matches!(e, Error::TokenSecret));
}

proptest! {
    #[test]
    fn token_parse_never_panics(s in ".{0,200}") {
        let _ = EnrollmentToken::parse(&s);
    }

    #[test]
    fn token_parse_never_panics_near_valid(
        fp in "[0-9a-fA-F_]{0,70}",
        secret in "[A-Za-z0-9_=+/-]{0,60}",
    ) {
        if let Ok(t) = EnrollmentToken::parse(&format!("rpe1_{fp}_{secret}")) {
            prop_assert_eq!(EnrollmentToken::parse(&t.encode()).unwrap(), t);
        }
    }

    #[test]
    fn open_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let key = MasterKey::from_bytes(&[7; 32]).unwrap();
        prop_assert!(open(&key, "p", &bytes).is_err());
    }
}
