//! The dependency rules of ARCHITECTURE.md for this crate, checked on its manifest:
//! SQL stays in rampart-store (no driver here), and the server never reaches into the
//! agent or the inventory readers (agents report inventories over the wire).

fn section<'a>(manifest: &'a str, name: &str) -> &'a str {
    let start = manifest
        .find(&format!("[{name}]"))
        .unwrap_or_else(|| panic!("[{name}] missing"));
    let rest = &manifest[start + name.len() + 2..];
    &rest[..rest.find("\n[").unwrap_or(rest.len())]
}

#[test]
fn server_dependencies_point_one_way() {
    let manifest = include_str!("../../Cargo.toml");
    let deps = section(manifest, "dependencies");
    for forbidden in [
        "sqlx",
        "rampart-agent",
        "rampart-inventory",
        "openssl",
        "aws-lc",
        "utoipa-swagger-ui",
    ] {
        assert!(
            !deps.lines().any(|l| l.trim_start().starts_with(forbidden)),
            "rampart-server must not depend on {forbidden}"
        );
    }
    for required in ["rampart-core", "rampart-store", "rampart-proto"] {
        assert!(deps.contains(required), "{required} expected");
    }
}
