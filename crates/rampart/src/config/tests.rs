use std::ffi::OsString;

use clap::{CommandFactory, Parser};

use super::with_config_file;

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

fn file(text: &str) -> tempfile::NamedTempFile {
    let f = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(f.path(), text).unwrap();
    f
}

#[test]
fn file_settings_fill_what_the_command_line_leaves_unset() {
    let f = file(
        r#"
listen = "127.0.0.1:9443"
data_dir = "/srv/rampart"
feeds = ["https://feeds.example/Debian/all.zip", "/srv/secdb"]
feed_sync_interval = "1h"
log_json = true
outbound_allow = ["10.20.0.0/16", "127.0.0.1"]
api_token_max_lifetime = "30d"
max_inventory_packages = 20000
"#,
    );
    let path = f.path().to_str().unwrap();
    let got = with_config_file(
        crate::Cli::command(),
        args(&[
            "rampart",
            "server",
            "--config",
            path,
            "--listen",
            "0.0.0.0:8443",
        ]),
    )
    .unwrap();
    // The command line's --listen wins; everything else comes from the file.
    let added: Vec<_> = got[6..].iter().map(|a| a.to_str().unwrap()).collect();
    assert_eq!(
        added,
        [
            "--data-dir=/srv/rampart",
            "--log-json",
            "--feed=https://feeds.example/Debian/all.zip,/srv/secdb",
            "--feed-sync-interval=1h",
            "--outbound-allow=10.20.0.0/16,127.0.0.1",
            "--api-token-max-lifetime=30d",
            "--max-inventory-packages=20000",
        ]
    );
    // And the result is something clap accepts.
    crate::Cli::try_parse_from(&got).unwrap();
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    let f = file("listen = \"127.0.0.1:1\"\nfeed = [\"x\"]\n");
    let err = with_config_file(
        crate::Cli::command(),
        args(&["rampart", "server", "--config", f.path().to_str().unwrap()]),
    )
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("unknown field `feed`"), "{msg}");
    assert!(msg.contains(f.path().to_str().unwrap()), "{msg}");

    // A value of the right type but wrong content is refused by clap's own parser.
    let f = file("listen = \"not an address\"\n");
    let got = with_config_file(
        crate::Cli::command(),
        args(&["rampart", "server", "--config", f.path().to_str().unwrap()]),
    )
    .unwrap();
    assert!(crate::Cli::try_parse_from(&got).is_err());

    let err = with_config_file(
        crate::Cli::command(),
        args(&["rampart", "server", "--config", "/nonexistent/rampart.toml"]),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("/nonexistent/rampart.toml"));
}

#[test]
fn other_commands_and_no_file_are_untouched() {
    let plain = args(&["rampart", "server", "--listen", "127.0.0.1:1"]);
    assert_eq!(
        with_config_file(crate::Cli::command(), plain.clone()).unwrap(),
        plain
    );
    let scan = args(&["rampart", "vercmp", "deb", "1", "2"]);
    assert_eq!(
        with_config_file(crate::Cli::command(), scan.clone()).unwrap(),
        scan
    );
}
