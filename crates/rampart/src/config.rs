//! The server's configuration file (`rampart server --config FILE`, or
//! `RAMPART_CONFIG`): TOML whose keys are the long flags of `rampart server` with `_`
//! for `-` (`listen`, `data_dir`, `feeds`, `feed_sync_interval`, …).
//!
//! Precedence is file < environment (`RAMPART_*`) < command line. Rather than merging
//! three sources by hand, the file's values are appended to the arguments as flags for
//! exactly those options clap would otherwise fill from their defaults, so clap's own
//! parser validates every value and produces the one `Args` the server runs on.
//! Unknown keys are refused with the key's name, so a typo never silently does nothing.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::parser::ValueSource;
use serde::Deserialize;

/// Everything `rampart server` accepts from the file. Secrets are not among them on
/// purpose: the master key comes from `RAMPART_MASTER_KEY` or its own file, and a
/// PostgreSQL password belongs in the URL's environment variable or a `.pgpass`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFile {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database: Option<String>,
    session_ttl: Option<String>,
    request_timeout: Option<String>,
    log: Option<String>,
    log_json: Option<bool>,
    feeds: Option<Vec<String>>,
    feed_sync_interval: Option<String>,
    outbound_allow: Option<Vec<String>>,
    api_token_lifetime: Option<String>,
    api_token_max_lifetime: Option<String>,
    max_inventory_packages: Option<u64>,
    inventory_interval: Option<String>,
    notification_retention: Option<String>,
    master_key_file: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_san: Option<Vec<String>>,
}

impl ServerFile {
    fn load(path: &Path) -> anyhow::Result<ServerFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("in {}", path.display()))
    }

    /// (clap argument id, long flag, values) for every key the file sets.
    fn flags(self) -> Vec<(&'static str, &'static str, Vec<OsString>)> {
        let one = |v: Option<String>| v.map(|v| vec![OsString::from(v)]);
        let path = |v: Option<PathBuf>| v.map(|v| vec![v.into_os_string()]);
        let many = |v: Option<Vec<String>>| v.map(|v| vec![OsString::from(v.join(","))]);
        let candidates = [
            ("listen", "--listen", one(self.listen)),
            ("data_dir", "--data-dir", path(self.data_dir)),
            ("database", "--database", one(self.database)),
            ("session_ttl", "--session-ttl", one(self.session_ttl)),
            (
                "request_timeout",
                "--request-timeout",
                one(self.request_timeout),
            ),
            ("log", "--log", one(self.log)),
            // A flag without a value: present when true.
            (
                "log_json",
                "--log-json",
                self.log_json.filter(|on| *on).map(|_| vec![]),
            ),
            ("feeds", "--feed", many(self.feeds)),
            (
                "feed_sync_interval",
                "--feed-sync-interval",
                one(self.feed_sync_interval),
            ),
            (
                "outbound_allow",
                "--outbound-allow",
                many(self.outbound_allow),
            ),
            (
                "api_token_lifetime",
                "--api-token-lifetime",
                one(self.api_token_lifetime),
            ),
            (
                "api_token_max_lifetime",
                "--api-token-max-lifetime",
                one(self.api_token_max_lifetime),
            ),
            (
                "max_inventory_packages",
                "--max-inventory-packages",
                one(self.max_inventory_packages.map(|n| n.to_string())),
            ),
            (
                "inventory_interval",
                "--inventory-interval",
                one(self.inventory_interval),
            ),
            (
                "notification_retention",
                "--notification-retention",
                one(self.notification_retention),
            ),
            (
                "master_key_file",
                "--master-key-file",
                path(self.master_key_file),
            ),
            ("tls_cert", "--tls-cert", path(self.tls_cert)),
            ("tls_key", "--tls-key", path(self.tls_key)),
            ("tls_san", "--tls-san", many(self.tls_san)),
        ];
        candidates
            .into_iter()
            .filter_map(|(id, flag, values)| values.map(|v| (id, flag, v)))
            .collect()
    }
}

/// Returns `args` with the configuration file's settings appended, when the command is
/// `server` and a file was named. Arguments clap cannot parse are returned unchanged so
/// the real parse reports the error.
pub(crate) fn with_config_file(
    command: clap::Command,
    args: Vec<OsString>,
) -> anyhow::Result<Vec<OsString>> {
    let Ok(matches) = command.try_get_matches_from(&args) else {
        return Ok(args);
    };
    let Some(("server", sub)) = matches.subcommand() else {
        return Ok(args);
    };
    let Some(path) = sub.get_one::<PathBuf>("config") else {
        return Ok(args);
    };
    let mut args = args;
    for (id, flag, values) in ServerFile::load(path)?.flags() {
        if matches!(
            sub.value_source(id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        if values.is_empty() {
            args.push(flag.into());
        }
        for value in values {
            let mut arg = OsString::from(flag);
            arg.push("=");
            arg.push(value);
            args.push(arg);
        }
    }
    Ok(args)
}

#[cfg(test)]
mod tests;
