use super::*;
use rampart_core::package::PackageFormat;

fn state() -> HostState {
    HostState {
        host: HostFacts {
            hostname: "web-1".into(),
            os: OsFacts {
                id: "debian".into(),
                version_id: "12".into(),
                ecosystem: Some("Debian:12".into()),
                ..OsFacts::default()
            },
            ..HostFacts::default()
        },
        packages: vec![Package {
            name: "bash".into(),
            version: "5.2.15-2+b2".into(),
            arch: Some("amd64".into()),
            source_name: None,
            source_version: Some("5.2.15-2".into()),
            format: PackageFormat::Deb,
        }],
        ..HostState::default()
    }
}

#[test]
fn hash_ignores_volatile_facts_and_tracks_state() {
    let a = Inventory {
        protocol: PROTOCOL_VERSION,
        observed_at: 1,
        uptime_secs: Some(5),
        state: state(),
    };
    let mut b = a.clone();
    b.observed_at = 99;
    b.uptime_secs = Some(1000);
    assert_eq!(a.state.content_hash(), b.state.content_hash());
    b.state.packages[0].version = "5.2.15-2+b3".into();
    assert_ne!(a.state.content_hash(), b.state.content_hash());
    assert_eq!(a.state.content_hash().len(), 64);
}

#[test]
fn round_trips_and_tolerates_unknown_fields() {
    let inv = Inventory {
        protocol: PROTOCOL_VERSION,
        observed_at: 1,
        uptime_secs: None,
        state: state(),
    };
    let mut json: serde_json::Value = serde_json::to_value(&inv).unwrap();
    json["from_the_future"] = serde_json::json!({"x": 1});
    json["state"]["host"]["new_fact"] = serde_json::json!(true);
    let back: Inventory = serde_json::from_value(json).unwrap();
    assert_eq!(back, inv);
}

#[test]
fn package_set_hash_depends_only_on_packages() {
    let mut s = state();
    let h = package_set_hash(&s.packages);
    s.host.hostname = "web-2".into();
    assert_eq!(package_set_hash(&s.packages), h);
}
