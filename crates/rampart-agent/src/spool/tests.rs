use rampart_proto::{CheckInResponse, HostState, Inventory, PROTOCOL_VERSION};

use super::*;
use crate::run::apply_response;

fn inventory(hostname: &str, observed_at: i64) -> Inventory {
    let mut state = HostState::default();
    state.host.hostname = hostname.into();
    Inventory {
        protocol: PROTOCOL_VERSION,
        observed_at,
        uptime_secs: None,
        state,
    }
}

fn response(ack: Option<&str>, wanted: bool) -> CheckInResponse {
    CheckInResponse {
        protocol: PROTOCOL_VERSION,
        acknowledged_hash: ack.map(str::to_owned),
        inventory_wanted: wanted,
        next_checkin_secs: 60,
    }
}

#[test]
fn spooled_inventory_survives_until_its_hash_is_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path());
    let spool = Spool::new(&state);
    assert_eq!(spool.pending().unwrap(), None);

    let a = inventory("a", 1);
    spool.put(&a).unwrap();
    // A new Spool (a restarted agent) sees it.
    assert_eq!(Spool::new(&state).pending().unwrap(), Some(a.clone()));
    // Acknowledging another hash keeps it.
    assert!(!spool.acknowledge("0000").unwrap());
    apply_response(&state, &spool, &response(None, false)).unwrap();
    assert_eq!(spool.pending().unwrap(), Some(a.clone()));
    // The right hash removes it and becomes the baseline.
    let hash = a.state.content_hash();
    apply_response(&state, &spool, &response(Some(&hash), false)).unwrap();
    assert_eq!(spool.pending().unwrap(), None);
    assert_eq!(state.acknowledged().unwrap(), Some(hash));
}

#[test]
fn newer_inventory_replaces_the_spooled_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path());
    let spool = Spool::new(&state);
    spool.put(&inventory("a", 1)).unwrap();
    let b = inventory("b", 2);
    spool.put(&b).unwrap();
    assert_eq!(spool.pending().unwrap(), Some(b.clone()));
    // An acknowledgement of the superseded one does not drop the newer one.
    assert!(
        !spool
            .acknowledge(&inventory("a", 1).state.content_hash())
            .unwrap()
    );
    assert!(spool.acknowledge(&b.state.content_hash()).unwrap());
}

#[test]
fn inventory_wanted_forgets_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path());
    let spool = Spool::new(&state);
    state.set_acknowledged("abc").unwrap();
    apply_response(&state, &spool, &response(Some("abc"), true)).unwrap();
    assert_eq!(state.acknowledged().unwrap(), None);
}

#[test]
fn a_corrupt_spool_file_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path());
    std::fs::create_dir_all(dir.path().join("spool")).unwrap();
    std::fs::write(dir.path().join("spool/inventory.json"), b"{trunc").unwrap();
    let spool = Spool::new(&state);
    assert_eq!(spool.pending().unwrap(), None);
    assert!(!dir.path().join("spool/inventory.json").exists());
}

#[test]
fn spool_and_key_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::new(dir.path().join("state"));
    let creds = crate::state::Credentials {
        key_pem: "k".into(),
        cert_pem: "c".into(),
        ca_pem: "a".into(),
    };
    let config = crate::state::AgentConfig {
        server_url: "https://x".into(),
        agent_id: "a1".into(),
        checkin_interval_secs: 60,
    };
    state.save_enrolment(&creds, &config).unwrap();
    Spool::new(&state).put(&inventory("a", 1)).unwrap();
    let mode = |p: &str| {
        std::fs::metadata(dir.path().join("state").join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("key.pem"), 0o600);
    assert_eq!(mode("spool/inventory.json"), 0o600);
    assert_eq!(mode(""), 0o700);
    assert_eq!(state.load_config().unwrap(), config);
}
